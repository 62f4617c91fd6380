"""Undoing a sync run (SPEC §9): both sides back as they were before it, for
every appointment not changed since; the undo is a run of its own that can be
undone; no invitations; the mass-deletion guard; private stays private; a
kill during an undo is completed by the next sync or undo. Over a real store
(a SQLite file, and a team PostgreSQL database as a member) and the memory
calendar service."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from calsync_desktop.model import Appointment, InviteStatus, Participant, Recurrence, new_id
from calsync_desktop.providers.base import Update
from calsync_desktop.store.journal import Journal
from calsync_desktop.sync import mapping as m
from calsync_desktop.sync.engine import Decision
from calsync_desktop.sync.history_words import item_words
from calsync_desktop.sync.undo import Undo, UndoRefused

from .harness import (
    Crash,
    assert_no_duplicates,
    both_sides,
    engine_fixtures,
    last_run,
    undo,
)

services, h = engine_fixtures()


def busy_run(h, clock):
    """One run of every kind: pushed, pulled, deleted here, deleted there,
    created there, created here. Returns the ids involved."""
    ids = {
        "pushed": h.add_local("Demo at Initech", location="HQ").id,
        "pulled": h.add_local("Call Globex").id,
        "gone_here": h.add_local(
            "Lunch with Ann", participants=(Participant("Ann", "ann@x.example"),)
        ).id,
        "gone_there": h.add_local(
            "Weekly",
            participants=(Participant("Bob", "bob@x.example"),),
            recurrence=Recurrence("FREQ=WEEKLY;COUNT=4"),
        ).id,
    }
    h.sync()
    clock.advance(minutes=5)
    h.edit_local(ids["pushed"], location="Room 2")
    h.calendar.edit(h.remote_for(ids["pulled"]).remote_id, subject="Call Globex (moved)")
    h.store.delete_appointment(ids["gone_here"])
    h.calendar.remove(h.remote_for(ids["gone_there"]).remote_id)
    h.add_remote("From the phone")
    ids["created_here"] = h.add_local("New pitch").id
    return ids


def test_undo_puts_both_sides_back_as_they_were_before_the_run(h, clock):
    ids = busy_run(h, clock)
    before = both_sides(h)
    weekly = h.store.get_appointments([ids["gone_there"]])  # gone there: here it still is
    h.sync()
    assert both_sides(h) != before
    clock.advance(minutes=5)
    result = undo(h)
    assert result.left_alone == [] and result.errors == []
    local, remote = both_sides(h)
    # the Sales Calendar as it was, except that what the run deleted here is back
    assert local == before[0] | {ids["gone_here"]: before[1][ids["gone_here"]]}
    # the service as it was, except that what the run deleted here is back there too
    expected_remote = dict(before[1])
    expected_remote[ids["gone_there"]] = before[0][ids["gone_there"]]
    assert remote == expected_remote
    back = h.local(ids["gone_there"])  # its id, participants and recurrence
    assert back.participants == weekly[ids["gone_there"]].participants
    assert back.recurrence == weekly[ids["gone_there"]].recurrence
    assert h.local(ids["gone_here"]).participants[0].email == "ann@x.example"
    # each is linked once: one event per appointment, one appointment per event
    assert_no_duplicates(h)


def test_the_next_sync_does_not_repeat_what_was_undone(h, clock):
    busy_run(h, clock)
    h.sync()
    undo(h)
    after_undo = both_sides(h)
    clock.advance(minutes=5)
    result = h.sync()
    assert result.counts == {} and result.errors == []
    assert both_sides(h) == after_undo


def test_what_changed_since_the_run_is_listed_and_left_alone(h, clock):
    a = h.add_local("Demo", location="HQ")
    b = h.add_local("Call", location="Room 1")
    h.sync()
    h.edit_local(a.id, location="Room 2")
    h.edit_local(b.id, location="Room 3")
    h.sync()
    run = last_run(h).id
    h.edit_local(a.id, contents="Demo (edited since)")
    h.calendar.edit(h.remote_for(b.id).remote_id, location="Annex")
    plan = undo(h, run, dry_run=True)
    assert {i.change.local_id: i.left_alone for i in plan.left_alone} == {
        a.id: "changed in the Sales Calendar since",
        b.id: "changed in Work calendar since",
    }
    result = undo(h, run)
    assert len(result.left_alone) == 2 and result.counts == {}
    assert h.local(a.id).contents == "Demo (edited since)"
    assert h.remote_for(b.id).location == "Annex"


def test_an_undo_can_itself_be_undone_back_to_the_state_after_the_run(h, clock):
    busy_run(h, clock)
    h.sync()
    after_run = both_sides(h)
    first = undo(h)
    second = undo(h, first.run_id)
    assert second.left_alone == [] and second.errors == []
    assert both_sides(h) == after_run
    runs = Journal(h.store).runs()
    assert runs[0].undoes == first.run_id and runs[1].undoes == runs[2].id


def test_a_run_is_undone_once(h, clock):
    h.add_local("Demo")
    h.sync()
    run = last_run(h).id
    done = undo(h, run)
    with pytest.raises(UndoRefused, match=f"undone already, by run {done.run_id}"):
        undo(h, run)
    undo(h, done.run_id)  # undoing the undo makes the run undoable again
    assert undo(h, run).counts == {"delete": 1}


def test_an_undo_sends_no_invitations_and_keeps_private_appointments_private(h, clock):
    h.store.set_setting("sync.send_invitations", True)
    seen = []
    original = h.calendar.write_batch
    h.calendar.write_batch = lambda writes: (seen.extend(writes), original(writes))[1]
    secret = h.add_local(
        "Lawyer\nabout the house", private=True, participants=(Participant("L", "l@x.example"),)
    )
    h.sync()
    h.edit_local(secret.id, location="Office")
    h.store.delete_appointment(h.add_local("Other").id)
    h.sync()
    seen.clear()
    plan = undo(h, dry_run=True)
    assert "Lawyer" not in " ".join(i.title + item_words(i, "Work") for i in plan.items)
    undo(h)
    assert seen and not any(w.send_invitations for w in seen)
    assert all(w.draft.private for w in seen if isinstance(w, Update))
    assert h.remote_for(secret.id).private and h.local(secret.id).private


def test_an_undo_that_would_delete_many_asks_first(h, clock):
    for i in range(3):
        h.add_local(f"Kept {i}")
    h.sync()
    for i in range(12):
        h.add_remote(f"Imported {i}")
    h.sync()
    run = last_run(h).id
    stopped = undo(h, run)
    assert stopped.stopped and stopped.run_id is None
    assert len(h.all_local()) == 15
    kept = undo(h, run, decision=Decision.RESTORE)
    assert len(kept.left_alone) == 12 and len(h.all_local()) == 15
    assert undo(h, run, decision=Decision.APPLY).counts == {"delete": 12}
    assert sorted(a.contents for a in h.all_local()) == ["Kept 0", "Kept 1", "Kept 2"]


def test_an_undo_costs_one_listing_and_the_batches_of_its_writes(h, clock):
    h.calendar.batch_size = 10
    ids = [h.add_local(f"Meeting {i}", location="HQ").id for i in range(30)]
    h.sync()
    for a in ids:
        h.edit_local(a, location="Room 2")
    requests = h.calendar.requests
    h.sync()
    run_cost = h.calendar.requests - requests
    requests = h.calendar.requests
    undo(h)
    assert h.calendar.requests - requests <= run_cost + 1
    assert all(h.remote_for(a).location == "HQ" for a in ids)


@pytest.mark.parametrize("then", ["undo", "sync"])
@pytest.mark.parametrize("writes", [1, 3, 4])
def test_a_kill_during_an_undo_is_completed_without_loss_or_duplicate(h, clock, then, writes):
    ids = busy_run(h, clock)
    h.sync()
    run = last_run(h).id
    h.calendar.batch_size = 2
    h.kill_after_writes(writes)
    with pytest.raises(Crash):
        undo(h, run)
    h.store.close()
    h.store = h.store.reopen()
    if then == "undo":
        result = undo(h, run)
        assert result.errors == []
    else:
        h.sync()
    h.sync()
    local, _ = both_sides(h)
    assert_no_duplicates(h)
    # nothing lost: what the run left here is still here; a finished undo
    # brought back what the run deleted
    kept = ["pushed", "pulled", "created_here"]
    if then == "undo":
        kept += ["gone_here", "gone_there"]
    assert {ids[k] for k in kept} <= set(local)


def test_an_appointment_deleted_here_since_the_run_is_left_alone_and_its_deletion_syncs(h, clock):
    made = h.add_remote("From the phone")
    h.sync()
    run = last_run(h).id
    local = h.local_for(made.remote_id)
    h.store.delete_appointment(local.id)  # since the run: a deletion still to sync
    result = undo(h, run)
    assert [i.left_alone for i in result.left_alone] == ["changed in the Sales Calendar since"]
    h.sync()
    assert made.remote_id not in h.calendar.events


def test_an_event_deleted_there_since_the_run_is_left_alone_and_its_deletion_syncs(h, clock):
    a = h.add_local("Pushed")
    h.sync()
    run = last_run(h).id
    h.calendar.remove(h.remote_for(a.id).remote_id)  # since the run: a deletion still to sync
    result = undo(h, run)
    assert [i.left_alone for i in result.left_alone] == ["changed in Work calendar since"]
    h.sync()
    assert h.local(a.id) is None


def reopened(h) -> None:
    """The process died: the Sales Calendar is opened again."""
    h.store.close()
    h.store = h.store.reopen()


def test_an_event_made_by_a_run_killed_before_its_commit_is_undone_with_that_run(h, clock):
    a = h.add_local("Demo at Initech")
    h.kill_after_writes(1)  # the event is made; the run dies before its link commits
    with pytest.raises(Crash):
        h.sync()
    reopened(h)
    killed = last_run(h)
    assert killed.state == "running"
    h.sync()  # links the event it finds carrying the appointment's id
    assert h.remote_for(a.id) is not None and len(h.calendar.events) == 1
    result = undo(h, killed.id)
    assert result.counts == {"delete": 1} and result.left_alone == []
    assert h.calendar.events == {} and h.local(a.id).contents == "Demo at Initech"
    assert h.store.all_status(h.account.id) == {}


def test_an_undo_killed_after_bringing_an_event_back_can_itself_be_undone(h, clock):
    a = h.add_local("Lunch with Ann", participants=(Participant("Ann", "ann@x.example"),))
    h.sync()
    h.store.delete_appointment(a.id)
    h.sync()
    run = last_run(h).id
    after_run = both_sides(h)
    h.kill_after_writes(1)  # the event is made again; the undo dies before its commit
    with pytest.raises(Crash):
        undo(h, run)
    reopened(h)
    killed = last_run(h)
    assert killed.undoes == run and killed.state == "running"
    h.sync()  # links the event brought back, by the id it carries
    assert h.local(a.id) is not None and len(h.calendar.events) == 1
    assert_no_duplicates(h)
    result = undo(h, killed.id)
    assert result.counts == {"delete": 1} and result.left_alone == []
    assert both_sides(h) == after_run == ({}, {})


def test_an_undo_that_puts_nothing_back_is_no_run_and_names_none(h, clock):
    a = h.add_local("Demo", location="HQ")
    h.sync()
    run = last_run(h).id
    h.edit_local(a.id, location="Room 2")  # changed since: left alone
    result = undo(h, run)
    assert result.counts == {} and len(result.left_alone) == 1
    assert result.run_id is None
    assert [r.id for r in Journal(h.store).runs(h.account.id)] == [run]


def test_an_undone_import_is_not_imported_again_until_its_event_changes(h, clock):
    e = h.add_remote("From the phone")
    h.sync()
    run = last_run(h).id
    assert undo(h, run).counts == {"delete": 1}
    assert h.local_for(e.remote_id) is None
    h.sync()  # nothing listed: nothing imported
    h.calendar.expire_sync_state()
    result = h.sync()  # a full listing: the event is known, and stays out
    assert result.full_listing and result.counts == {} and h.all_local() == []
    h.calendar.edit(e.remote_id, subject="From the phone (moved)")
    h.sync()  # changed there since: it comes back, once
    (back,) = h.all_local()
    assert back.contents == "From the phone (moved)"
    assert_no_duplicates(h)


def test_an_event_saved_again_as_it_was_is_not_changed_since(h, clock):
    e = h.add_remote("From the phone", location="HQ")
    h.sync()
    run = last_run(h).id
    version = h.calendar.events[e.remote_id].version
    h.calendar.edit(e.remote_id, location="HQ")  # another client saves it unchanged
    assert h.calendar.events[e.remote_id].version != version
    result = undo(h, run)
    assert result.left_alone == [] and result.counts == {"delete": 1}
    assert h.local_for(e.remote_id) is None


def test_a_run_undone_brought_back_and_undone_again_reads_as_undone_by_the_last_undo(h, clock):
    h.add_local("Demo")
    h.sync()
    run = last_run(h).id
    first = undo(h, run)
    undo(h, first.run_id)  # brought back
    last = undo(h, run)  # and undone again
    journal = Journal(h.store)
    listed = {r.id: r for r in journal.runs(h.account.id)}
    assert listed[run].undone_by == journal.run(run).undone_by == last.run_id
    with pytest.raises(UndoRefused, match=f"by run {last.run_id}"):
        undo(h, run)


def test_an_undo_preview_stops_when_asked_even_while_it_waits_to_retry(h):
    """The window's Cancel of a preview: ``stop`` set while the service keeps
    answering "busy" ends the wait at once, with nothing more asked of the
    service, and nothing written on either side."""
    import threading
    import time

    from calsync_desktop.providers.base import Backoff, Cancelled
    from calsync_desktop.providers.memory import MemoryProvider

    h.add_remote("Pulled")
    h.sync()
    run = last_run(h)
    stop = threading.Event()
    account = h.store.get_account(h.account.id)
    provider = MemoryProvider(h.calendar, Backoff())  # the real waits: 2 s and more each
    h.calendar.fail_next("server_busy", 8)
    requests = h.calendar.requests

    def cancel_once_asked():  # the user's Cancel, once the service said "busy"
        while h.calendar.requests == requests:
            time.sleep(0.01)
        stop.set()

    threading.Thread(target=cancel_once_asked, daemon=True).start()
    with pytest.raises(Cancelled):
        Undo(h.store, account, provider, clock=h.clock, stop=stop).plan(run.id)
    assert h.calendar.requests == requests + 1 and h.calendar.pending_faults == 7
    # set before it starts: not one request
    with pytest.raises(Cancelled):
        Undo(h.store, account, provider, clock=h.clock, stop=stop).plan(run.id)
    assert h.calendar.requests == requests + 1
    assert Journal(h.store).runs(h.account.id) == [run]
    h.calendar.clear_faults()
    assert undo(h, run.id, dry_run=True).put_back  # without stop it plans as ever


def test_an_undo_puts_back_an_attendees_name_as_it_was_there(h, clock):
    a = h.add_local("Demo", participants=(Participant("Bob", "bob@x.example"),))
    h.sync()
    h.edit_local(a.id, participants=(Participant("Robert", "bob@x.example"),))
    h.sync()  # the same address under another name
    assert [p.name for p in h.remote_for(a.id).attendees] == ["Robert"]
    result = undo(h)
    assert result.left_alone == [] and result.counts == {"update": 1}
    assert [(p.name, p.email) for p in h.remote_for(a.id).attendees] == [("Bob", "bob@x.example")]
    assert [p.name for p in h.local(a.id).participants] == ["Robert"]  # here as before the run


@pytest.mark.parametrize("gone", ["taken off by its organiser", "deleted here"])
def test_undo_never_makes_someone_elses_meeting_again_as_the_users_own(h, clock, gone):
    """Someone else's meeting the run deleted (here, as its organiser took it
    off the calendar; or there, as the user had deleted it here): the undo
    brings it back in the Sales Calendar only, never as a new event of the
    user's own on the service (SPEC §10), and the next sync keeps it here,
    unlinked, without making it either."""
    from calsync_desktop.model import Organizer

    dana = Organizer("Dana Boss", "dana@acme.example")
    e = h.add_remote("Board meeting", organizer_is_self=False, organizer=dana)
    h.sync()
    local = h.local_for(e.remote_id)
    clock.advance(minutes=5)
    if gone == "deleted here":
        h.store.delete_appointment(local.id)
    else:
        h.calendar.remove(e.remote_id)
    h.sync()
    assert h.local(local.id) is None and h.calendar.events == {}
    clock.advance(minutes=5)
    plan = undo(h, dry_run=True)
    assert [(i.local, i.remote) for i in plan.put_back] == [("restore", "")]
    result = undo(h)
    assert result.errors == [] and result.left_alone == []
    assert h.calendar.events == {}, "nothing is made on the service"
    back = h.local(local.id)
    assert back.organizer == dana and back.contents == "Board meeting"
    h.sync()
    assert h.calendar.events == {}
    assert h.local(local.id).organizer == dana


def test_the_participants_an_undo_puts_back_keep_their_answers_and_those_without_an_address():
    # the fields an undo re-sends are applied to the appointment as it is now:
    # each participant with an address takes the name the fields give and keeps
    # the answer known here; one without an address (never synced) stays, once
    start = datetime(2026, 12, 2, 9, tzinfo=UTC)
    bob = Participant("Bob", "Bob@Initech.example", InviteStatus.ACCEPTED)
    desk = Participant("Reception desk")
    a = Appointment(new_id(), "Demo", start, start + timedelta(hours=1), participants=(bob, desk))
    fields = m.local_fields(a).with_values(
        {"participants": [["Robert", "bob@initech.example"], ["Ann", "ann@initech.example"]]}
    )
    back = m.apply_fields(a, fields, ["participants"])
    assert back.participants == (
        Participant("Robert", "Bob@Initech.example", InviteStatus.ACCEPTED),
        Participant("Ann", "ann@initech.example"),
        desk,
    )


@pytest.mark.parametrize("writes", [2, 4, 6])
def test_an_undo_killed_part_way_and_run_again_completes_that_undo(h, clock, writes):
    """An undo killed after some of its deletions reached the service (the
    last of them before their commit), then the same undo again: what the
    first one deleted counts as put back, not as changed since; the rest goes
    now; the killed undo is completed and the run reads as undone by it; what
    another client changed or deleted since the run is still left alone."""
    ids = [h.add_local(f"Pitch {i}").id for i in range(8)]
    h.sync()
    run = last_run(h).id
    gone, edited = ids[0], ids[1]  # by another client, since the run
    h.calendar.remove(h.remote_for(gone).remote_id)
    h.calendar.edit(h.remote_for(edited).remote_id, location="Annex")
    h.calendar.batch_size = 2
    h.kill_after_writes(writes)
    with pytest.raises(Crash):
        undo(h, run, decision=Decision.APPLY)
    reopened(h)
    killed = last_run(h)
    assert killed.undoes == run and killed.state == "running"
    assert len(h.calendar.events) == 7 - writes
    result = undo(h, run, decision=Decision.APPLY)
    assert result.errors == []
    assert {i.change.local_id: i.left_alone for i in result.left_alone} == {
        gone: "changed in Work calendar since",
        edited: "changed in Work calendar since",
    }
    assert result.counts == {"delete": 6} and result.run_id == killed.id
    journal = Journal(h.store)
    assert journal.run(run).undone_by == killed.id
    done = journal.run(killed.id)
    assert done.state == "done" and done.counts == {"delete": 6}
    assert [e.local_id for e in h.calendar.events.values()] == [edited]
    assert h.remote_for(edited).location == "Annex"
    assert {a.id for a in h.all_local()} == set(ids)
    assert_no_duplicates(h, synced=False)  # the deletion made there is still to sync
    # the completed undo can itself be undone: the six events come back, once
    back = undo(h, killed.id, decision=Decision.APPLY)
    assert back.counts == {"restore": 6} and back.left_alone == []
    assert {h.remote_for(a).subject for a in ids[2:]} == {f"Pitch {i}" for i in range(2, 8)}
    assert_no_duplicates(h, synced=False)
