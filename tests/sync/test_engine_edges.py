"""The sync's rules at their edges, where a fault by one (a day, a deletion,
a comparison) would go unnoticed by the tests of the middle ground; each edge
found by a mutation run (scripts/mutate) that a test of the middle let pass."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from calsync_desktop.model import Recurrence
from calsync_desktop.sync.engine import Decision, SyncEngine
from calsync_desktop.sync.scope import Scope

from .harness import Harness


@pytest.fixture
def h(store, clock):
    return Harness(store, clock)


def linked(h, n):
    items = [h.add_local(f"Visit {i}", start=h.at(1 + i % 20, 8 + i % 9)) for i in range(n)]
    h.sync()
    return items


def delete_in_the_service(h, items):
    for a in items:
        h.calendar.remove(h.remote_for(a.id).remote_id)


def delete_in_the_sales_calendar(h, items):
    for a in items:
        h.store.delete_appointment(a.id)


# --------------------------------------------------------------------------- the guard's thresholds


@pytest.mark.parametrize(
    ("in_scope", "deleted", "asks"),
    [
        (40, 10, False),  # ten is not "more than ten"
        (40, 11, True),
        (48, 12, False),  # a quarter is not "more than a quarter"
        (48, 13, True),
    ],
    ids=["10 of 40", "11 of 40", "12 of 48", "13 of 48"],
)
@pytest.mark.parametrize("side", ["service", "sales calendar"])
def test_the_guard_asks_for_more_than_ten_deletions_and_more_than_a_quarter(
    h, in_scope, deleted, asks, side
):
    items = linked(h, in_scope)
    if side == "service":
        delete_in_the_service(h, items[:deleted])
        where = "the Sales Calendar"
    else:
        delete_in_the_sales_calendar(h, items[:deleted])
        where = "Work calendar"
    result = h.sync()
    assert result.stopped is asks
    assert bool(h.guards) is asks
    if asks:
        (guard,) = h.guards
        assert guard.reason == (
            f"this sync would delete {deleted} of {in_scope} appointments in {where}."
        )
        assert guard.in_scope == in_scope
        # stopped: nothing deleted anywhere
        assert len(h.all_local()) + len(h.calendar.events) == 2 * in_scope - deleted
    else:
        assert len(h.all_local()) == len(h.calendar.events) == in_scope - deleted


def test_restore_after_deletions_in_the_sales_calendar_brings_them_back_from_the_service(h):
    items = linked(h, 40)
    delete_in_the_sales_calendar(h, items[:15])
    h.decision = Decision.RESTORE
    result = h.sync()
    assert not result.stopped and len(h.guards) == 1
    assert len(h.calendar.events) == 40
    assert sorted(a.contents for a in h.all_local()) == sorted(a.contents for a in items)
    # restored and linked again: the next sync has nothing to ask or do
    h.decision = Decision.STOP
    again = h.sync()
    assert not again.stopped and again.counts == {} and len(h.guards) == 1


def test_a_stopped_sync_keeps_its_skipped_list_and_leaves_the_account_where_it_was(h):
    items = linked(h, 40)
    before = h.store.get_account(h.account.id)
    h.add_local("No address", participants=(), all_day=True)
    delete_in_the_service(h, items[:15])
    result = h.sync()
    assert result.stopped and result.skipped == 1
    skipped = h.store.skipped(h.account.id)
    assert [s.reason for s in skipped] == ["All-day appointments are not synced."]
    after = h.store.get_account(h.account.id)
    assert after.sync_state == before.sync_state and after.local_seq == before.local_seq
    # the next sync asks again, as nothing was applied
    assert h.sync().stopped and len(h.guards) == 2


# --------------------------------------------------------------------------- the 30-day edge


EDGE = timedelta(days=30)


@pytest.mark.parametrize(
    ("ended_before_the_edge", "synced"),
    [(timedelta(minutes=-1), True), (timedelta(minutes=1), False), (timedelta(days=-1), True)],
    ids=["a minute younger", "a minute older", "a day younger"],
)
@pytest.mark.parametrize("side", ["local", "remote"])
def test_an_appointment_is_synced_until_it_ended_more_than_30_days_ago(
    h, ended_before_the_edge, synced, side
):
    end = h.clock() - EDGE - ended_before_the_edge
    start = end - timedelta(hours=1)
    if side == "local":
        a = h.add_local("At the edge", start=start)
        h.sync()
        assert (h.remote_for(a.id) is not None) is synced
    else:
        e = h.add_remote("At the edge", start=start)
        h.sync()
        assert (h.local_for(e.remote_id) is not None) is synced


def test_an_appointment_that_ended_exactly_30_days_ago_is_still_synced(h):
    # (a service lists an event only when it ends after the window's start:
    # Google's timeMin is "exclusive" for the end, so the edge is the Sales Calendar's)
    a = h.add_local("On the edge", start=h.clock() - EDGE - timedelta(hours=1))
    h.sync()
    assert h.remote_for(a.id) is not None


@pytest.mark.parametrize("side", ["local", "remote"])
def test_an_appointment_a_day_older_than_the_edge_is_not_synced(h, side):
    start = h.clock() - EDGE - timedelta(days=1, hours=-2)  # ended 30 days and 23 h ago
    if side == "local":
        a = h.add_local("A day too old", start=start)
        h.sync()
        assert h.remote_for(a.id) is None
    else:
        e = h.add_remote("A day too old", start=start)
        h.sync()
        assert h.local_for(e.remote_id) is None


@pytest.mark.parametrize(
    ("last_ended_days_ago", "hours", "imported"),
    [(29, 1, True), (31, 1, False)],
    ids=["last ended 29 days ago", "last ended 31 days ago"],
)
def test_a_remote_series_is_imported_while_its_last_occurrence_is_in_scope(
    h, last_ended_days_ago, hours, imported
):
    last_start = h.clock() - timedelta(days=last_ended_days_ago, hours=hours)
    e = h.add_remote(
        "Weekly call",
        start=last_start - timedelta(weeks=9),
        hours=hours,
        recurrence=Recurrence("FREQ=WEEKLY;COUNT=10"),
    )
    h.sync()
    assert (h.local_for(e.remote_id) is not None) is imported


def test_a_remote_series_whose_last_occurrence_still_runs_at_the_edge_is_in_scope(h):
    # the last occurrence started 30 days and 1 hour ago and lasts 3 hours
    last_start = h.clock() - EDGE - timedelta(hours=1)
    e = h.add_remote(
        "Long workshop",
        start=last_start - timedelta(days=4),
        hours=3,
        recurrence=Recurrence("FREQ=DAILY;COUNT=5"),
    )
    h.sync()
    assert h.local_for(e.remote_id) is not None


def test_an_endless_remote_series_is_imported_however_long_ago_it_began(h):
    e = h.add_remote(
        "Monday stand-up",
        start=h.clock() - timedelta(days=400),
        recurrence=Recurrence("FREQ=WEEKLY"),
    )
    h.sync()
    assert h.local_for(e.remote_id) is not None


@pytest.mark.parametrize("side", ["local", "remote"])
def test_a_series_is_expanded_in_its_own_zone_at_the_30_day_edge(h, side):
    # daily at 10:00 in Berlin from 1 October; the last one, on 26 October, after
    # the clocks went back, is 09:00-09:30 UTC (in UTC it would be 08:00-08:30)
    h.clock.now = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)  # the edge: 26 Oct 09:00 UTC
    start = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
    rule = Recurrence("FREQ=DAILY;COUNT=26")
    if side == "local":
        a = h.add_local("Berlin daily", start=start, hours=0.5, recurrence=rule)
        assert a.last_end() == datetime(2026, 10, 26, 9, 30, tzinfo=UTC)
        h.sync()
        assert h.remote_for(a.id) is not None
    else:
        e = h.add_remote(
            "Berlin daily", start=start, hours=0.5, recurrence=rule, timezone="Europe/Berlin"
        )
        h.sync()
        assert h.local_for(e.remote_id) is not None


# --------------------------------------------------------------------------- the horizon


HORIZON = timedelta(days=730)


@pytest.mark.parametrize(
    ("local_start", "remote_start", "synced"),
    [
        # a service lists what starts before the window's end, the Sales Calendar
        # what starts on it too
        (HORIZON, HORIZON - timedelta(minutes=1), True),
        (HORIZON + timedelta(minutes=1), HORIZON + timedelta(minutes=1), False),
    ],
    ids=["starts on the horizon", "a minute beyond"],
)
def test_an_appointment_is_synced_up_to_the_two_year_horizon(h, local_start, remote_start, synced):
    a = h.add_local("Far ahead", start=h.clock() + local_start)
    e = h.add_remote("Far ahead remotely", start=h.clock() + remote_start)
    h.sync()
    assert (h.remote_for(a.id) is not None) is synced
    assert (h.local_for(e.remote_id) is not None) is synced


@pytest.mark.parametrize(("horizon_days", "words"), [(730, "two years"), (90, "90 days")])
def test_the_reason_for_beyond_the_horizon_names_the_horizon(h, horizon_days, words):
    a = h.add_local("Far ahead", start=h.clock() + timedelta(days=horizon_days + 1))
    account = h.store.get_account(h.account.id)
    SyncEngine(h.store, account, h.provider, clock=h.clock, horizon_days=horizon_days).run()
    (entry,) = [s for s in h.store.skipped(h.account.id) if s.item_id == a.id]
    assert entry.reason == f"Starts beyond the sync horizon of {words}."
    assert Scope(h.clock(), horizon_days).horizon == words


def test_a_linked_appointment_moved_in_the_service_to_long_ago_says_so(h):
    a = h.add_local("Review")
    h.sync()
    event = h.remote_for(a.id)
    back = timedelta(days=60)
    h.calendar.edit(event.remote_id, start=event.start - back, end=event.end - back)
    h.sync()
    (entry,) = [s for s in h.store.skipped(h.account.id) if s.item_id == a.id]
    assert entry.frozen and entry.side == "remote"
    assert entry.reason == (
        "Moved in Work calendar to more than 30 days ago, so no longer synced; "
        "kept as it is on both sides until it is back in scope."
    )


# --------------------------------------------------------------------------- times in a zone


def test_an_event_given_in_its_own_zone_is_the_same_time_as_in_utc(h):
    # Exchange and CalDAV hand times in the event's zone; the Sales Calendar
    # keeps UTC. The same instant is the same time: never written back.
    berlin = ZoneInfo("Europe/Berlin")
    start = h.at(3, 9).astimezone(berlin)
    event = h.add_remote("Workshop in Berlin", start=start, timezone="Europe/Berlin")
    assert event.start.tzinfo is berlin
    assert h.sync().counts == {"create locally": 1}
    (local,) = h.all_local()
    assert local.start == start and local.start.tzinfo is UTC
    # an edit there merges with what the import stored: the time is no change
    h.edit_remote(event.remote_id, location="Hall 4")
    edited = h.calendar.events[event.remote_id]
    assert h.sync().counts == {"update": 1}
    assert h.calendar.events[event.remote_id].version == edited.version  # nothing pushed
    (local,) = h.all_local()
    assert local.location == "Hall 4" and local.start == start
    assert h.store.conflicts(h.account.id) == []
