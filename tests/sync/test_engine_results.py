"""What a sync reports (counts, conflicts, skipped items, progress) and what
it repairs after a crash, checked where a mutation run (scripts/mutate) found
that a fault would pass unnoticed."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from calsync_desktop.model import OccurrenceOverride, Participant, Recurrence
from calsync_desktop.sync.conflicts import restore_conflict
from calsync_desktop.sync.engine import SyncResult

from .harness import Crash, Harness


@pytest.fixture
def h(store, clock):
    return Harness(store, clock)


def test_the_result_counts_each_kind_of_change_conflicts_and_skipped_items(h):
    a = h.add_local("Kick-off")
    b = h.add_local("Pricing call")
    h.add_remote("Supplier visit")
    h.add_local("Offsite", all_day=True)
    first = h.sync()
    assert first.counts == {"create remotely": 2, "create locally": 1}
    assert first.skipped == 1 and first.conflicts == 0 and not first.errors
    assert first.describe() == "1 create locally, 2 create remotely; 1 item(s) skipped"
    # the same field on both sides: one conflict, the newer wins
    event = h.remote_for(a.id)
    h.edit_local(a.id, location="Room 1")
    h.clock.advance(minutes=1)
    h.calendar.edit(event.remote_id, location="Room 2")
    h.store.delete_appointment(b.id)
    second = h.sync()
    assert second.counts == {"update": 1, "delete remotely": 1}
    assert second.conflicts == 1
    assert "1 conflict(s) resolved" in second.describe()


def test_a_planned_sync_applied_later_reports_into_the_result_it_is_given(h):
    h.add_local("One")
    h.add_local("Two")
    engine = h.engine()
    plan = engine.plan()
    assert plan.summary() == {"create remotely": 2}
    result = SyncResult()
    engine.apply(plan, result)
    assert result.counts == {"create remotely": 2}
    assert len(h.calendar.events) == 2


def test_a_planned_sync_applied_without_a_result_reports_into_its_own(h):
    h.add_local("One")
    engine = h.engine()
    plan = engine.plan()
    engine.apply(plan)
    assert plan.run.result.counts == {"create remotely": 1}


def test_one_engine_run_twice_goes_on_from_where_its_last_run_ended(h):
    h.add_local("One")
    engine = h.engine()
    assert engine.run().full_listing  # the first sync lists everything
    assert engine.account.first_sync_done and engine.account.sync_state
    before = h.calendar.requests
    again = engine.run()
    assert not again.full_listing and again.counts == {}
    assert h.calendar.requests - before == 1


def test_progress_counts_up_to_the_number_of_items_and_names_them(h):
    for i in range(4):
        h.add_local(f"Visit {i}")
    h.sync()
    done = [d for d, _t, _m in h.progress]
    totals = {t for _d, t, _m in h.progress}
    assert done[0] == 0 and done[-1] == 4 and totals == {4}
    assert done == sorted(done)


def test_an_already_exists_answer_to_a_create_links_the_event_it_names(h):
    a = h.add_local("Demo", participants=(Participant("Ann", "ann@x.example"),))
    h.provider.crash_after_write = True
    with pytest.raises(Crash):
        h.sync()
    (event,) = h.calendar.events.values()
    assert event.local_id == a.id
    # the service's change listing lags behind its writes (Graph's delta query is
    # eventually consistent): the next run does not see the event it created
    listing = h.provider.changes

    def lagging(window, state, **options):
        found = listing(window, state, **options)
        return replace(found, events=[e for e in found.events if e.remote_id != event.remote_id])

    h.provider.changes = lagging
    h.sync()
    assert list(h.calendar.events) == [event.remote_id]  # linked, not created twice
    link = h.store.status_for(h.account.id, [a.id])[a.id]
    assert link.remote_id == event.remote_id
    # linked for good: an edit made later reaches that event
    h.provider.changes = listing
    h.clock.advance(minutes=1)
    h.edit_local(a.id, location="Room 2")
    h.sync()
    assert h.calendar.events[event.remote_id].location == "Room 2"
    assert len(h.calendar.events) == 1


def test_an_occurrence_changed_on_both_sides_keeps_the_newer_and_logs_the_other(h):
    a = h.add_local("Daily check", recurrence=Recurrence("FREQ=DAILY;COUNT=5"))
    h.sync()
    day = a.start + timedelta(days=2)
    mine = OccurrenceOverride(day, "Daily check", "Room 1", day, day + timedelta(minutes=30))
    h.edit_local(a.id, recurrence=replace(a.recurrence, overrides=(mine,)))
    h.clock.advance(minutes=1)
    event = h.remote_for(a.id)
    theirs = OccurrenceOverride(day, "Daily check", "Room 2", day, day + timedelta(hours=2))
    h.calendar.edit(event.remote_id, recurrence=replace(event.recurrence, overrides=(theirs,)))
    result = h.sync()
    assert result.conflicts == 1
    assert h.local(a.id).recurrence.overrides == (theirs,)
    assert h.remote_for(a.id).recurrence.overrides == (theirs,)
    (conflict,) = h.store.conflicts(h.account.id)
    assert conflict.field == "overrides" and conflict.lost_side == "local"
    assert "Room 1" in conflict.lost_value and "Room 2" in conflict.kept_value
    # the lost occurrence can be had back, and the next sync takes it to the service
    restore_conflict(h.store, conflict.id)
    h.sync()
    assert h.local(a.id).recurrence.overrides == (mine,)
    assert h.remote_for(a.id).recurrence.overrides == (mine,)


def test_an_imported_attendee_without_a_name_is_named_by_the_address(h):
    e = h.add_remote(
        "Review",
        attendees=(Participant("", "dana@x.example"), Participant("Eve", "eve@x.example")),
    )
    h.sync()
    names = sorted(p.name for p in h.local_for(e.remote_id).participants)
    assert names == ["Eve", "dana@x.example"]


@pytest.mark.parametrize(
    "attendees",
    [
        (Participant("", "dana@x.example"),),
        (Participant("", "dana@x.example"), Participant("", "me@example.com")),
        (Participant("", "dana@x.example"), Participant("Eve", "eve@x.example")),
    ],
    ids=["one without a name", "and the user", "and one named"],
)
def test_an_attendee_named_by_the_address_on_import_is_no_change_later(h, attendees):
    # the import names them here, the service still has no name: an edit there
    # later neither renames them nor sends the attendees back
    e = h.add_remote("Review", attendees=attendees)
    h.sync()
    before = h.local_for(e.remote_id).participants
    h.edit_remote(e.remote_id, location="Room 7")
    edited = h.calendar.events[e.remote_id]
    assert h.sync().counts == {"update": 1}
    assert h.calendar.events[e.remote_id].version == edited.version  # nothing pushed
    after = h.local_for(e.remote_id)
    assert after.location == "Room 7" and after.participants == before
    assert h.store.conflicts(h.account.id) == []


@pytest.mark.parametrize(("zone", "kept"), [("Europe/Berlin", "Europe/Berlin"), ("", "UTC")])
def test_an_imported_event_keeps_its_time_zone(h, zone, kept):
    e = h.add_remote("Visit", timezone=zone)
    h.sync()
    assert h.local_for(e.remote_id).timezone == kept


def test_an_event_made_private_in_the_service_is_private_in_the_sales_calendar(h):
    a = h.add_local("Visit")
    h.sync()
    remote_id = h.remote_for(a.id).remote_id
    h.calendar.edit(remote_id, private=True)
    h.sync()
    assert h.local(a.id).private
    h.clock.advance(minutes=1)
    h.calendar.edit(remote_id, private=False)
    h.sync()
    assert not h.local(a.id).private
