"""The sync history (SPEC §9): every appointment a run changes, on either side,
is journalled with both sides before and after, in the transaction of the
change itself; runs carry time, account, trigger and counts; the history
keeps its retention and its bound. Over a real store (a SQLite file, and a
team PostgreSQL database as a member) and the memory calendar service."""

from __future__ import annotations

from datetime import timedelta

import pytest

from calsync_desktop.model import Participant, Recurrence
from calsync_desktop.store.journal import Journal
from calsync_desktop.sync import mapping as m
from calsync_desktop.sync.engine import Decision
from calsync_desktop.sync.history import Change

from .harness import Crash, engine_fixtures

services, h = engine_fixtures()


def changes_of(h, run_id) -> dict[str, Change]:
    return {c.local_id: c for c in map(Change.from_entry, Journal(h.store).entries(run_id))}


def last_run(h):
    return Journal(h.store).runs(h.account.id)[0]


def test_each_appointment_a_run_changes_is_journalled_with_both_sides_before_and_after(h, clock):
    pushed = h.add_local("Demo at Initech", location="HQ")
    pulled = h.add_local("Call Globex")
    gone_here = h.add_local("Lunch")
    gone_there = h.add_local(
        "Weekly",
        participants=(Participant("Ann", "ann@x.example"),),
        recurrence=Recurrence("FREQ=WEEKLY;COUNT=4"),
    )
    h.sync()
    events = {a.id: h.remote_for(a.id) for a in (pushed, pulled, gone_here, gone_there)}
    clock.advance(minutes=5)
    h.edit_local(pushed.id, location="Room 2")
    h.calendar.edit(events[pulled.id].remote_id, subject="Call Globex (moved)")
    h.store.delete_appointment(gone_here.id)
    h.calendar.remove(events[gone_there.id].remote_id)
    new_remote = h.add_remote("From the phone")
    before = {a.id: h.local(a.id) for a in (pushed, pulled, gone_there)}
    h.sync()

    run = last_run(h)
    found = changes_of(h, run.id)
    new_local = h.local_for(new_remote.remote_id)
    assert set(found) == {pushed.id, pulled.id, gone_here.id, gone_there.id, new_local.id}

    c = found[pushed.id]  # pushed: the remote side changed, the local one did not
    assert (c.kind, c.sides) == ("update", "remote")
    assert c.remote_before.location == "HQ" and c.remote_after.location == "Room 2"
    assert c.version_before == events[pushed.id].version
    assert c.version_after == h.remote_for(pushed.id).version != c.version_before
    assert c.local_after == m.local_fields(h.local(pushed.id))

    c = found[pulled.id]  # pulled: the Sales Calendar changed
    assert c.sides == "local"
    assert c.local_before == before[pulled.id]
    assert c.local_after.contents == "Call Globex (moved)"
    assert c.version_after == h.remote_for(pulled.id).version

    c = found[gone_here.id]  # deleted here, the run deleted it there
    assert (c.kind, c.sides, c.remote_after, c.version_after) == (
        "delete remotely",
        "remote",
        None,
        None,
    )
    assert c.remote_before.contents == "Lunch"
    assert c.deleted_here and c.local_before.contents == "Lunch"

    c = found[gone_there.id]  # deleted there, the run deleted it here: kept whole
    assert (c.kind, c.sides, c.local_after) == ("delete locally", "local", None)
    assert c.local_before == before[gone_there.id]
    assert c.local_before.participants and c.local_before.recurrence.rrule

    c = found[new_local.id]
    assert (c.kind, c.local_before, c.remote_id) == ("create locally", None, new_remote.remote_id)
    assert c.local_after == m.local_fields(new_local)


def test_runs_carry_time_account_trigger_and_counts(h, clock):
    h.add_local("One")
    h.add_local("Two")
    engine = h.engine()
    engine.trigger = "interval"
    engine.run()
    run = last_run(h)
    assert (run.account_id, run.trigger, run.state) == (h.account.id, "interval", "done")
    assert run.counts == {"create remotely": 2} and run.changes == 2
    assert run.started == clock() and run.finished == clock()


def test_a_run_that_changes_nothing_leaves_no_history(h):
    h.add_local("One")
    h.sync()
    h.sync()
    h.sync()
    assert len(Journal(h.store).runs()) == 1


def test_a_run_the_guard_stopped_is_in_the_history_with_nothing_changed(h):
    ids = [h.add_local(f"Meeting {i}").id for i in range(12)]
    h.sync()
    for a in ids:
        h.calendar.remove(h.remote_for(a).remote_id)
    h.decision = Decision.STOP
    h.sync()
    run = last_run(h)
    assert run.state == "stopped" and run.changes == 0
    assert Journal(h.store).entries(run.id) == []


def test_a_journal_entry_commits_with_its_change_and_not_without_it(h):
    """A kill between the remote writes and their local commit leaves neither
    the links nor their journal entries; the next run re-links what reached the
    service (no change on either side) and journals what it does itself."""
    ids = [h.add_local(f"Meeting {i}").id for i in range(5)]
    h.calendar.batch_size = 2
    h.kill_after_writes(3)
    with pytest.raises(Crash):
        h.sync()
    h.store.close()
    store = h.store = h.store.reopen()
    killed = Journal(store).runs()[0]
    assert killed.state == "running"
    linked = set(store.all_status(h.account.id))
    assert {c.local_id for c in changes_of(h, killed.id).values()} == linked
    reached = {e.local_id for e in h.calendar.events.values()}
    h.sync()
    again = last_run(h)
    assert set(changes_of(h, again.id)) == set(ids) - reached
    assert len(h.calendar.events) == 5


def test_history_older_than_its_retention_goes_when_a_run_starts(h, clock):
    h.store.set_setting("history.days", 7)
    a = h.add_local("Old")
    h.sync()
    clock.advance(days=6)
    h.edit_local(a.id, location="Room 1")
    h.sync()
    assert len(Journal(h.store).runs()) == 2
    clock.advance(days=2)
    h.edit_local(a.id, location="Room 2")
    h.sync()
    runs = Journal(h.store).runs()
    assert [r.started for r in runs] == [clock(), clock() - timedelta(days=2)]


def test_history_beyond_its_bound_loses_its_oldest_runs_whole(h):
    h.store.set_setting("history.max_changes", 5)
    journal = Journal(h.store)
    for n in range(4):
        for i in range(2):
            h.add_local(f"Batch {n} item {i}")
        h.sync()
    runs = journal.runs()
    assert journal.count() <= 5 + 2  # the bound, plus the run that started after pruning
    assert all(r.changes == 2 for r in runs)
    assert [len(journal.entries(r.id)) for r in runs] == [2] * len(runs)
    assert runs[0].id - runs[-1].id == len(runs) - 1  # the newest kept, in order


def test_the_runner_names_what_started_a_run(services, h):
    from calsync_desktop.sync.runner import SyncRunner

    runner = SyncRunner(services, open_provider=lambda account: h.provider)
    h.add_local("Woken up")
    runner.sync_account(h.account.id, trigger="wake")
    assert last_run(h).trigger == "wake"
    h.add_local("Asked for")
    runner.sync_account(h.account.id)
    assert last_run(h).trigger == "sync now"


def test_every_kind_the_journal_keeps_has_words_of_its_own():
    """Settings › History and ``calsync history show`` say what happened to an
    appointment, and where, for every kind a sync or an undo journals."""
    from calsync_desktop.sync.actions import Kind
    from calsync_desktop.sync.history_words import CHANGE_WORDS, change_heading

    for kind in [*Kind, "delete", "restore", "update"]:
        assert kind in CHANGE_WORDS
    pulled = Change("a1", "create locally", True, False)
    assert change_heading(pulled, "Work") == "Added to the Sales Calendar: (no title)"
    pushed = Change("a1", "delete remotely", False, True)
    assert change_heading(pushed, "Work") == "Deleted from Work: (no title)"
    both = Change("a1", "restore", True, True)
    assert change_heading(both, "Work") == "Brought back in the Sales Calendar and Work: (no title)"
    unknown = Change("a1", "merge_both", True, False)
    assert change_heading(unknown, "Work") == "Merge both in the Sales Calendar: (no title)"
