"""The pattern model Exchange and Office 365 share (calsync_desktop/providers/kit/pattern.py).

Each provider maps the model to its wire form (tests/providers/test_ews_provider.py and
test_graph_provider.py check those, against their test servers); the reading and
writing of RRULE text is checked here once, for both services' dialects.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from calsync_desktop.providers.base import InvalidEvent, UnsupportedRecurrence
from calsync_desktop.providers.kit.pattern import (
    ABSOLUTE_MONTHLY,
    ABSOLUTE_YEARLY,
    DAILY,
    EXCHANGE,
    OFFICE365,
    RELATIVE_MONTHLY,
    RELATIVE_YEARLY,
    WEEKLY,
    Pattern,
    Range,
    pattern_from_rrule,
    rrule_from_pattern,
)
from calsync_desktop.providers.kit.rrule import occurrence_starts

BERLIN = "Europe/Berlin"
START = datetime(2027, 3, 2, 9, 30, tzinfo=ZoneInfo(BERLIN))  # a Tuesday
FIRST = START.date()
DIALECTS = pytest.mark.parametrize("dialect", [EXCHANGE, OFFICE365], ids=lambda d: d.name)

READINGS = [
    ("FREQ=DAILY;INTERVAL=2;COUNT=10", Pattern(DAILY, 2), Range(FIRST, count=10)),
    ("FREQ=WEEKLY", Pattern(WEEKLY, 1, ("TU",)), Range(FIRST)),
    ("FREQ=WEEKLY;BYDAY=FR,MO;WKST=SU", Pattern(WEEKLY, 1, ("FR", "MO"), "SU"), Range(FIRST)),
    ("FREQ=MONTHLY", Pattern(ABSOLUTE_MONTHLY, day_of_month=2), Range(FIRST)),
    ("FREQ=MONTHLY;BYMONTHDAY=15", Pattern(ABSOLUTE_MONTHLY, day_of_month=15), Range(FIRST)),
    ("FREQ=MONTHLY;BYDAY=2TU", Pattern(RELATIVE_MONTHLY, 1, ("TU",), index=2), Range(FIRST)),
    (
        "FREQ=MONTHLY;BYDAY=TU;BYSETPOS=2",
        Pattern(RELATIVE_MONTHLY, 1, ("TU",), index=2),
        Range(FIRST),
    ),
    (
        "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
        Pattern(RELATIVE_MONTHLY, 1, ("MO", "TU", "WE", "TH", "FR"), index=-1),
        Range(FIRST),
    ),
    ("FREQ=YEARLY", Pattern(ABSOLUTE_YEARLY, day_of_month=2, month=3), Range(FIRST)),
    (
        "FREQ=YEARLY;BYMONTH=11;BYDAY=4TH",
        Pattern(RELATIVE_YEARLY, 1, ("TH",), month=11, index=4),
        Range(FIRST),
    ),
    # UNTIL ends on its day in the series' zone, that day's occurrence included
    ("FREQ=DAILY;UNTIL=20270310T083000Z", Pattern(DAILY), Range(FIRST, end=date(2027, 3, 10))),
    ("FREQ=DAILY;UNTIL=20270310", Pattern(DAILY), Range(FIRST, end=date(2027, 3, 10))),
    # 00:59 on the 11th in Berlin is before the 09:30 meeting: the 10th ends it
    ("FREQ=DAILY;UNTIL=20270310T235959Z", Pattern(DAILY), Range(FIRST, end=date(2027, 3, 10))),
    ("FREQ=DAILY;UNTIL=20270310T082959Z", Pattern(DAILY), Range(FIRST, end=date(2027, 3, 9))),
]


@DIALECTS
@pytest.mark.parametrize(("rule", "pattern", "rng"), READINGS)
def test_an_rrule_reads_into_the_shared_pattern_model(dialect, rule, pattern, rng):
    assert pattern_from_rrule(rule, START, BERLIN, dialect) == (pattern, rng)


WRITINGS = [
    # pattern, range, Exchange's spelling, Office 365's spelling
    (Pattern(DAILY), Range(FIRST), "FREQ=DAILY;INTERVAL=1", "FREQ=DAILY"),
    (Pattern(DAILY, 3), Range(FIRST, count=4), "FREQ=DAILY;INTERVAL=3;COUNT=4", None),
    (
        Pattern(WEEKLY, 1, ("TU",), "SU"),
        Range(FIRST),
        "FREQ=WEEKLY;INTERVAL=1;BYDAY=TU;WKST=SU",
        "FREQ=WEEKLY;BYDAY=TU",  # the week's start matters only every other week or more
    ),
    (
        Pattern(WEEKLY, 2, ("MO",), "SU"),
        Range(FIRST),
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO;WKST=SU",
        None,
    ),
    (
        Pattern(ABSOLUTE_MONTHLY, day_of_month=15),
        Range(FIRST),
        "FREQ=MONTHLY;INTERVAL=1;BYMONTHDAY=15",
        "FREQ=MONTHLY;BYMONTHDAY=15",
    ),
    (
        Pattern(RELATIVE_MONTHLY, 1, ("TU",), index=2),
        Range(FIRST),
        "FREQ=MONTHLY;INTERVAL=1;BYDAY=2TU",
        "FREQ=MONTHLY;BYDAY=TU;BYSETPOS=2",
    ),
    (
        Pattern(RELATIVE_MONTHLY, 1, ("SA", "SU"), index=-1),
        Range(FIRST),
        "FREQ=MONTHLY;INTERVAL=1;BYDAY=SA,SU;BYSETPOS=-1",
        "FREQ=MONTHLY;BYDAY=SA,SU;BYSETPOS=-1",
    ),
    (
        Pattern(ABSOLUTE_YEARLY, day_of_month=29, month=2),
        Range(FIRST, count=4),
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;COUNT=4",
        None,
    ),
    (
        Pattern(RELATIVE_YEARLY, 1, ("TH",), month=11, index=4),
        Range(FIRST),
        "FREQ=YEARLY;BYMONTH=11;BYDAY=4TH",
        "FREQ=YEARLY;BYMONTH=11;BYDAY=TH;BYSETPOS=4",
    ),
    (
        Pattern(DAILY),
        Range(FIRST, end=date(2027, 3, 10)),
        "FREQ=DAILY;INTERVAL=1;UNTIL=20270310T083000Z",
        "FREQ=DAILY;UNTIL=20270310T083000Z",
    ),
]


@pytest.mark.parametrize(("pattern", "rng", "exchange", "office365"), WRITINGS)
def test_the_pattern_model_is_written_in_each_services_spelling_of_one_rule(
    pattern, rng, exchange, office365
):
    office365 = office365 or exchange
    assert rrule_from_pattern(pattern, rng, START, BERLIN, EXCHANGE) == exchange
    assert rrule_from_pattern(pattern, rng, START, BERLIN, OFFICE365) == office365
    # the two spellings are one rule: the same occurrences
    assert occurrence_starts(exchange, START, BERLIN, 60) == occurrence_starts(
        office365, START, BERLIN, 60
    )


ROUND_TRIPS = [
    "FREQ=DAILY;COUNT=5",
    "FREQ=DAILY;INTERVAL=2;UNTIL=20270401T083000Z",
    "FREQ=WEEKLY;BYDAY=MO,WE,FR;COUNT=9",
    "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU;WKST=SU;COUNT=6",
    "FREQ=MONTHLY;BYMONTHDAY=31;COUNT=6",
    "FREQ=MONTHLY;BYDAY=-1FR;COUNT=6",
    "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=1;COUNT=6",
    "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;COUNT=3",
    "FREQ=YEARLY;BYMONTH=5;BYDAY=SU;BYSETPOS=2;COUNT=3",
    "FREQ=WEEKLY",
]


@DIALECTS
@pytest.mark.parametrize("rule", ROUND_TRIPS)
def test_read_and_written_again_a_rule_keeps_every_occurrence_and_then_its_text(dialect, rule):
    back = rrule_from_pattern(
        *pattern_from_rrule(rule, START, BERLIN, dialect), START, BERLIN, dialect
    )
    assert occurrence_starts(back, START, BERLIN, 40) == occurrence_starts(rule, START, BERLIN, 40)
    again = pattern_from_rrule(back, START, BERLIN, dialect)
    assert rrule_from_pattern(*again, START, BERLIN, dialect) == back


REFUSALS = [
    # rule, words of the sentence (the service's name comes first)
    ("FREQ=HOURLY", "cannot repeat an appointment hourly"),
    ("FREQ=MINUTELY", "cannot repeat an appointment minutely"),
    ("FREQ=DAILY;BYHOUR=9,10", "cannot repeat an appointment by BYHOUR"),
    ("FREQ=DAILY;BYDAY=MO", "cannot repeat a daily appointment on chosen days"),
    ("FREQ=WEEKLY;BYMONTHDAY=3", "repeats a weekly appointment on weekdays only"),
    ("FREQ=WEEKLY;BYDAY=XX", "cannot repeat on 'XX'"),
    ("FREQ=MONTHLY;BYMONTHDAY=1,15", "one day of the month"),
    ("FREQ=MONTHLY;BYMONTHDAY=-1", "cannot count days from the end of the month"),
    ("FREQ=MONTHLY;BYDAY=5MO", "first to fourth or the last weekday"),
    ("FREQ=MONTHLY;BYDAY=TU", "first to fourth or the last weekday"),
    ("FREQ=MONTHLY;BYDAY=1MO,2TU", "several positions"),
    ("FREQ=WEEKLY;BYDAY=MO;BYSETPOS=1,2", "several positions"),
    ("FREQ=MONTHLY;BYSETPOS=2", "without a weekday"),
    ("FREQ=YEARLY;BYMONTH=1,7", "one date or one weekday of one month"),
    ("FREQ=DAILY;COUNT=5000", "at most 999 times"),
    ("FREQ=DAILY;INTERVAL=x", "cannot read the number 'X'"),
]


@DIALECTS
@pytest.mark.parametrize(("rule", "words"), REFUSALS)
def test_a_rule_neither_service_holds_is_refused_in_one_sentence_naming_the_service(
    dialect, rule, words
):
    with pytest.raises(UnsupportedRecurrence) as info:
        pattern_from_rrule(rule, START, BERLIN, dialect)
    assert isinstance(info.value, InvalidEvent)
    assert str(info.value).startswith(dialect.name + " ") and words in str(info.value)


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        ("FREQ=DAILY;INTERVAL=100", "at most every 99 days"),
        ("FREQ=YEARLY;INTERVAL=2", "every year only"),
    ],
)
def test_exchanges_own_limits_are_exchanges_only(rule, words):
    with pytest.raises(UnsupportedRecurrence, match=words):
        pattern_from_rrule(rule, START, BERLIN, EXCHANGE)
    assert pattern_from_rrule(rule, START, BERLIN, OFFICE365)[0].interval in (2, 100)
