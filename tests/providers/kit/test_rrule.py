"""Recurrence rules read one way (calsync_desktop/providers/kit/rrule.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from calsync_desktop.model import Recurrence
from calsync_desktop.providers.base import Create
from calsync_desktop.providers.kit.rrule import (
    MAX_COUNT,
    MAX_EXPANSION,
    last_start,
    occurrence_starts,
    repetition_problem,
    rule_parts,
    rule_set,
    until_instant,
)
from tests.providers import contract
from tests.providers import test_ews_provider as ews_tests
from tests.providers import test_graph_provider as graph_tests

BERLIN = "Europe/Berlin"
ZONE = ZoneInfo(BERLIN)
START = datetime(2027, 1, 11, 9, 0, tzinfo=ZONE)  # a Monday, 08:00 UTC


@pytest.mark.parametrize(
    ("rule", "parts"),
    [
        ("FREQ=DAILY;COUNT=3", {"FREQ": "DAILY", "COUNT": "3"}),
        ("RRULE:freq=weekly;byday=mo,we", {"FREQ": "WEEKLY", "BYDAY": "MO,WE"}),
        ("FREQ=DAILY;UNTIL=20270115t090000z", {"FREQ": "DAILY", "UNTIL": "20270115t090000z"}),
        (" FREQ=MONTHLY ; ;BYSETPOS=-1 ", {"FREQ": "MONTHLY", "BYSETPOS": "-1"}),
        ("", {}),
    ],
)
def test_a_rule_reads_into_its_parts_by_upper_case_name(rule, parts):
    assert rule_parts(rule) == parts


@pytest.mark.parametrize(
    ("until", "instant"),
    [
        ("20270115T080000Z", datetime(2027, 1, 15, 8, 0, tzinfo=UTC)),
        ("20270115T090000", datetime(2027, 1, 15, 9, 0, tzinfo=ZONE)),
        ("20270115", datetime(2027, 1, 15, 23, 59, 59, tzinfo=ZONE)),
        ("20270115t080000z", datetime(2027, 1, 15, 8, 0, tzinfo=UTC)),
    ],
)
def test_until_is_utc_a_local_time_or_a_whole_day_in_the_series_zone(until, instant):
    assert until_instant(until, BERLIN) == instant


@pytest.mark.parametrize("until", ["2027-01-15", "tomorrow", "20271315"])
def test_an_unreadable_until_is_a_value_error(until):
    with pytest.raises(ValueError):
        until_instant(until, BERLIN)


@pytest.mark.parametrize(
    ("rule", "problem"),
    [
        ("FREQ=DAILY", None),
        ("FREQ=WEEKLY;BYDAY=MO,FR;COUNT=999", None),
        ("FREQ=YEARLY;UNTIL=20300101", None),
        ("FREQ=SECONDLY", "it repeats every second"),
        ("FREQ=MINUTELY;COUNT=10", "it repeats every minute"),
        ("FREQ=HOURLY", "it repeats every hour"),
        ("COUNT=3", "it repeats in an unknown way"),
        ("FREQ=DAILY;COUNT=1000", "it repeats 1,000 times"),
        ("FREQ=DAILY;COUNT=1000000000", "it repeats 1,000,000,000 times"),
        ("FREQ=DAILY;COUNT=-1", "it repeats '-1' times"),
        ("FREQ=DAILY;COUNT=0", "it repeats 0 times"),
        ("FREQ=WEEKLY;INTERVAL=0", "it repeats at an interval of '0'"),
        ("FREQ=WEEKLY;INTERVAL=-1", "it repeats at an interval of '-1'"),
        ("FREQ=WEEKLY;INTERVAL=2", None),
    ],
)
def test_the_sales_calendar_holds_daily_to_yearly_series_of_at_most_999(rule, problem):
    assert MAX_COUNT == 999
    assert repetition_problem(rule) == problem


def _local_days(starts) -> list[date]:
    return [s.astimezone(ZONE).date() for s in starts]


@pytest.mark.parametrize(
    ("rule", "days"),
    [
        ("FREQ=DAILY;COUNT=3", [11, 12, 13]),
        ("FREQ=DAILY;UNTIL=20270113", [11, 12, 13]),  # the UNTIL day included
        ("FREQ=DAILY;UNTIL=20270113T090000", [11, 12, 13]),
        ("FREQ=DAILY;UNTIL=20270113T075959Z", [11, 12]),
        ("FREQ=DAILY;UNTIL=20270113T080000Z", [11, 12, 13]),
        ("FREQ=WEEKLY;BYDAY=MO,WE;COUNT=3", [11, 13, 18]),
    ],
)
def test_a_series_expands_at_its_wall_time_up_to_its_until_or_count(rule, days):
    starts = list(rule_set(rule, START, BERLIN))
    assert _local_days(starts) == [date(2027, 1, d) for d in days]
    assert {s.astimezone(ZONE).hour for s in starts} == {9}
    assert last_start(rule, START, BERLIN) == starts[-1].astimezone(UTC)
    assert occurrence_starts(rule, START, BERLIN) == [s.astimezone(UTC) for s in starts]


def test_a_series_keeps_its_wall_time_across_daylight_saving():
    starts = occurrence_starts("FREQ=WEEKLY;COUNT=4", datetime(2027, 3, 15, 8, tzinfo=UTC), BERLIN)
    assert [s.hour for s in starts] == [8, 8, 7, 7]


@pytest.mark.parametrize(
    ("rule", "last"),
    [
        ("FREQ=DAILY", None),
        ("FREQ=WEEKLY;BYDAY=MO", None),
        # further than the expansion walks: the UNTIL stands for the last start
        ("FREQ=DAILY;UNTIL=99991231T000000Z", datetime(9999, 12, 31, tzinfo=UTC)),
    ],
)
def test_a_series_without_an_end_in_reach_has_no_last_start(rule, last):
    assert last_start(rule, START, BERLIN) == last


def test_no_expansion_walks_further_than_its_bound():
    assert len(occurrence_starts("FREQ=DAILY", START, BERLIN, limit=10**9)) == MAX_EXPANSION
    assert len(occurrence_starts("FREQ=DAILY", START, BERLIN, limit=5)) == 5


def test_the_model_expands_with_the_same_rule():
    rec = Recurrence("FREQ=DAILY;UNTIL=20270113")
    assert list(rec.rule_set(START, BERLIN)) == list(rule_set(rec.rrule, START, BERLIN))
    assert rec.last_start(START, BERLIN) == datetime(2027, 1, 13, 8, tzinfo=UTC)


# ------------------------------------------------------- one meaning on every service


@pytest.fixture(params=["office365", "exchange"])
def service(request):
    """A provider and its test server: Office 365 (Graph) or Exchange (EWS)."""
    if request.param == "office365":
        server = graph_tests.GraphServer().start()
        harness = graph_tests.GraphHarness(server, graph_tests.device_code_sign_in(server))
    else:
        server = ews_tests.EwsServer()
        server.start()
        harness = ews_tests.EwsHarness(server)
    yield harness
    harness.provider.close()
    server.stop()


def test_a_date_only_until_includes_that_day_on_every_service(service):
    # it read as 00:00 on Office 365 (the day's occurrence lost) and as
    # 23:59:59 on Exchange
    d = contract.draft(start=START, recurrence=Recurrence("FREQ=DAILY;UNTIL=20270115"))
    (result,) = service.provider.write([Create(d)])
    assert result.ok, result.error
    starts = service.server.occurrence_starts(result.event.remote_id)
    assert _local_days(starts) == [date(2027, 1, 11) + timedelta(days=n) for n in range(5)]
