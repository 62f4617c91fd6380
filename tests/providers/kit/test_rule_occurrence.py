"""Whether a repeat rule gives any date (``has_occurrence``), told without
walking to the year 9999 as dateutil does for a rule that gives none: it
agrees with dateutil's own expansion, so a rule that has an occurrence is
never refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import rrulestr
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from calsync_desktop.model import InvalidAppointment, validate_rrule
from calsync_desktop.providers.kit.rrule import has_occurrence

DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_signed = lambda top: st.integers(-top, top).filter(bool)  # noqa: E731 - a strategy maker


def _some(values, most: int = 2):
    return st.lists(values, max_size=most, unique=True).map(lambda v: ",".join(map(str, v)))


@st.composite
def rules(draw) -> str:
    """Rules of BY parts that often fit no day at all (a 30 February, a ninth
    Monday, a set position past the period's dates), or fit only with their
    interval now and then."""
    freq = draw(st.sampled_from(("YEARLY", "MONTHLY", "WEEKLY", "DAILY")))
    parts = {"FREQ": freq}
    parts["INTERVAL"] = draw(st.sampled_from((1, 1, 2, 3, 4, 5, 7, 12, 100)))
    parts["BYMONTH"] = draw(_some(st.integers(1, 12)))
    parts["BYMONTHDAY"] = draw(_some(_signed(31)))
    nth = (
        st.sampled_from(("",))
        if freq in ("WEEKLY", "DAILY")
        else st.sampled_from(("", "", "1", "2", "4", "5", "-1", "-5"))
    )
    parts["BYDAY"] = draw(_some(st.tuples(nth, st.sampled_from(DAYS)).map("".join)))
    if freq == "YEARLY":
        parts["BYYEARDAY"] = draw(_some(_signed(366), 1))
        parts["BYWEEKNO"] = draw(_some(_signed(53), 1))
    if draw(st.booleans()):
        parts["BYHOUR"] = draw(_some(st.integers(0, 23)))
    parts["BYSETPOS"] = draw(_some(_signed(40), 1))
    parts["WKST"] = draw(st.sampled_from(("", "", "SU", "TH")))
    if draw(st.integers(0, 5)) == 0:
        parts["UNTIL"] = f"{draw(st.integers(9000, 9998))}0301T000000Z"
    elif draw(st.integers(0, 5)) == 0:
        parts["COUNT"] = str(draw(st.integers(1, 5)))
    return ";".join(f"{k}={v}" for k, v in parts.items() if v)


_starts = st.builds(
    datetime,
    st.integers(8990, 9400),  # dateutil's own search then ends soon enough to compare with
    st.integers(1, 12),
    st.integers(1, 28),
    st.integers(0, 23),
    st.sampled_from((0, 30)),
    tzinfo=st.sampled_from((ZoneInfo("Europe/Berlin"), ZoneInfo("UTC"))),
)


@settings(max_examples=200)
@given(rules(), _starts)
def test_the_check_agrees_with_dateutils_expansion(rule, start):
    try:
        expanded = rrulestr("RRULE:" + rule, dtstart=start)
    except ValueError:  # a rule dateutil does not read is refused before this check
        assume(False)
    assert has_occurrence(expanded) == (next(iter(expanded), None) is not None)


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",
        "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30",
        "FREQ=WEEKLY;BYMONTH=4,6,9,11;BYMONTHDAY=31",
        "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=-30;UNTIL=20301231T000000Z",
        "FREQ=MONTHLY;BYDAY=MO;BYSETPOS=6",
        "FREQ=YEARLY;BYMONTH=1;BYYEARDAY=366",
        "FREQ=YEARLY;INTERVAL=4;BYMONTH=2;BYMONTHDAY=29",  # 2026, 2030, …: never a leap year
        "FREQ=MONTHLY;INTERVAL=12;BYMONTH=3",  # every November
        "FREQ=DAILY;INTERVAL=7;BYDAY=MO",  # every Tuesday
    ],
)
def test_a_rule_that_gives_no_date_is_refused(rule):
    start = datetime(2026, 11, 24, 9, tzinfo=ZoneInfo("Europe/Berlin"))  # a Tuesday
    with pytest.raises(InvalidAppointment, match="no occurrence"):
        validate_rrule(rule, start, "Europe/Berlin")


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29",  # 2028
        "FREQ=YEARLY;INTERVAL=2;BYMONTH=2;BYMONTHDAY=29",  # 2028 too
        "FREQ=MONTHLY;BYDAY=MO;BYSETPOS=5",  # a month of five Mondays
        "FREQ=YEARLY;BYWEEKNO=53;BYDAY=TH",  # a year of 53 weeks
        "FREQ=YEARLY;INTERVAL=2;BYMONTH=2;BYMONTHDAY=29;BYDAY=SU",  # 2032
    ],
)
def test_a_rule_that_gives_a_date_however_rarely_is_kept(rule):
    start = datetime(2026, 11, 24, 9, tzinfo=ZoneInfo("Europe/Berlin"))
    validate_rrule(rule, start, "Europe/Berlin")


def _fall_back(year: int, zone: ZoneInfo) -> datetime:
    """The instant (UTC) the clocks of ``zone`` go back in the autumn of ``year``."""
    instant = datetime(year, 9, 1, tzinfo=UTC)
    offset = instant.astimezone(zone).utcoffset()
    while instant.astimezone(zone).utcoffset() == offset:
        instant += timedelta(hours=1)
    return instant


@settings(max_examples=100)
@given(
    st.sampled_from(("FREQ=DAILY", "FREQ=WEEKLY", "FREQ=MONTHLY", "FREQ=YEARLY")),
    st.integers(8990, 9190),  # dateutil's own search ends soon enough to compare with
    st.sampled_from((ZoneInfo("America/New_York"), ZoneInfo("Europe/Berlin"))),
    st.integers(-90, 90),
    st.integers(-90, 90),
)
def test_an_until_near_a_start_in_the_hour_the_clocks_go_back_is_read_as_an_instant(
    freq, year, zone, start_minutes, until_minutes
):
    start = _fall_back(year, zone) + timedelta(minutes=start_minutes)
    until = start + timedelta(minutes=until_minutes)
    rule = f"{freq};UNTIL={until:%Y%m%dT%H%M%SZ}"
    expanded = rrulestr("RRULE:" + rule, dtstart=start.astimezone(zone))
    assert has_occurrence(expanded) == (next(iter(expanded), None) is not None)


def test_a_series_of_one_occurrence_in_the_repeated_hour_is_kept():
    # 01:30 EDT (05:30Z), until 01:15 EST (06:15Z): earlier on the clock, later in time
    start = datetime(2026, 11, 1, 5, 30, tzinfo=UTC)
    validate_rrule("FREQ=DAILY;UNTIL=20261101T061500Z", start, "America/New_York")
