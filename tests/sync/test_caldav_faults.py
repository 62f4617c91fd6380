"""Faults on the way to real CalDAV servers (Radicale and Xandikos, behind the
fault proxy of tests/fakes/caldav_proxy.py), end to end through SyncEngine,
CalDAVProvider and the ``caldav`` library over https.

What the shared contract (tests/sync/test_caldav_e2e.py) does not already
cover for every service: an answer lost after the server applied the write,
a 412 that the server itself answers because another client edited the event,
the servers' own refusal of a sync token, a server without sync-collection,
answers that say "not supported here" (501, 405), and an event the answer
spoils.
"""

from __future__ import annotations

import pytest

from calsync_desktop.accounts.base import AccountState
from calsync_desktop.sync.engine import SyncResult
from tests.fakes.kit import IMPOSSIBLE_DATE

from .e2e_contract import e2e_fixtures
from .test_caldav_e2e import CalDAVE2E

make_harness, h = e2e_fixtures(CalDAVE2E)


@pytest.fixture
def server(caldav_server):
    return caldav_server


def answered(h, method: str) -> list[int]:
    """The statuses the server itself gave the product's requests of ``method``."""
    return [status for sent, status in h.server.proxy.traffic if sent == method]


def remote_subjects(h) -> list[str]:
    with h.server.looking():
        return sorted(h.remote(path).subject for path in h.server.event_ids())


# ------------------------------------------------------------------ busy server


def test_503_with_retry_after_is_waited_out_as_long_as_the_server_asks(h):
    h.add_local("Pitch")
    h.provider.calendar_url()
    h.server.fail_next("server_busy", 2, retry_after=7)
    h.server.fail_next("server_busy", 1, retry_after=11, on="write")
    result = h.sync()
    assert not result.errors
    assert len(h.waits) == 3 and sorted(h.waits)[:2] == [7.0, 7.0] and max(h.waits) >= 11
    assert remote_subjects(h) == ["Pitch"]


def test_a_write_refused_while_the_server_is_locked_is_sent_again_and_made_once(h):
    """Xandikos answers 423 while another write holds its repository's lock, as
    the product's own parallel writes can make it do."""
    h.add_local("One", start=h.at(1))
    h.add_local("Two", start=h.at(2))
    h.provider.calendar_url()
    h.server.fail_next("locked", 2, on="write")
    result = h.sync()
    assert not result.errors and len(h.waits) == 2
    assert remote_subjects(h) == ["One", "Two"]
    assert h.sync().counts == {}


# ---------------------------------------------------------------- lost answers


def test_a_create_whose_answer_is_lost_after_the_server_stored_it_is_linked_not_duplicated(h):
    made = [h.add_local(f"Visit {i}", start=h.at(1 + i)) for i in range(3)]
    runner = h.runner()
    h.provider.calendar_url()
    h.server.fail_next("lost_answer", on="write", after=1)
    first = runner.sync_account(h.account.id)
    assert first.errors and h.store.get_account(h.account.id).state is AccountState.ERROR
    assert answered(h, "PUT")[:2] == [201, 201]  # the second PUT was applied all the same
    runner.sync_account(h.account.id)
    assert remote_subjects(h) == ["Visit 0", "Visit 1", "Visit 2"]
    assert sorted(a.contents for a in h.all_local()) == ["Visit 0", "Visit 1", "Visit 2"]
    assert all(h.remote_id_for(a.id) for a in made)
    assert h.store.get_account(h.account.id).state is AccountState.OK
    again = h.sync()
    assert not again.errors and answered(h, "PUT").count(201) == 3


def test_an_update_whose_answer_is_lost_is_recognised_as_our_own_write(h):
    a = h.add_local("Pitch", location="Room 1")
    h.sync()
    h.edit_local(a.id, location="Room 2")
    runner = h.runner()
    h.server.fail_next("lost_answer", on="write")
    assert runner.sync_account(h.account.id).errors
    assert h.remote_for(a.id).location == "Room 2"  # the server applied it
    puts = len(answered(h, "PUT"))
    result = runner.sync_account(h.account.id)
    assert not result.errors and h.store.conflicts(h.account.id) == []
    assert h.local(a.id).location == "Room 2" and len(answered(h, "PUT")) == puts
    assert remote_subjects(h) == ["Pitch"]


def test_a_delete_whose_answer_is_lost_is_done_and_nothing_comes_back(h):
    a = h.add_local("Cancelled visit")
    h.add_local("Kept visit")
    h.sync()
    h.store.delete_appointment(a.id)
    runner = h.runner()
    h.server.fail_next("lost_answer", on="write")
    assert runner.sync_account(h.account.id).errors
    result = runner.sync_account(h.account.id)
    assert not result.errors
    assert remote_subjects(h) == ["Kept visit"]
    assert [x.contents for x in h.all_local()] == ["Kept visit"]


# ------------------------------------------------- another client edits meanwhile


def apply_with_an_edit_meanwhile(h, remote_id: str, **changes) -> None:
    """Plan a sync, let another client edit ``remote_id`` five minutes later, apply."""
    engine = h.engine()
    plan = engine.plan()
    h.clock.advance(minutes=5)
    h.server.edit_event(remote_id, **changes)
    engine.apply(plan, SyncResult())


def test_another_clients_edit_between_read_and_write_is_the_servers_412_and_merged(h):
    a = h.add_local("Pitch", location="Room 1")
    h.sync()
    h.edit_local(a.id, location="Local room")
    apply_with_an_edit_meanwhile(h, h.remote_id_for(a.id), subject="Renamed elsewhere")
    assert 412 in answered(h, "PUT")  # If-Match on the old ETag, refused by the server
    event = h.remote_for(a.id)
    assert (event.subject, event.location) == ("Renamed elsewhere", "Local room")
    h.sync()
    assert h.local(a.id).contents == "Renamed elsewhere"
    assert h.store.conflicts(h.account.id) == []


def test_the_same_field_edited_meanwhile_elsewhere_is_a_conflict_the_newer_wins(h):
    a = h.add_local("Pitch", location="Room 1")
    h.sync()
    h.edit_local(a.id, location="Local room")
    apply_with_an_edit_meanwhile(h, h.remote_id_for(a.id), location="Remote room")
    h.sync()
    assert 412 in answered(h, "PUT")
    assert h.local(a.id).location == "Remote room" == h.remote_for(a.id).location
    lost = [(c.field, c.lost_value, c.lost_side) for c in h.store.conflicts(h.account.id)]
    assert lost == [("location", "Local room", "local")]


def test_a_delete_refused_because_another_client_edited_brings_the_edit_back(h):
    a = h.add_local("Pitch", location="Room 1")
    h.sync()
    remote_id = h.remote_id_for(a.id)
    h.store.delete_appointment(a.id)
    apply_with_an_edit_meanwhile(h, remote_id, location="Moved elsewhere")
    assert 412 in answered(h, "DELETE")
    h.sync()
    (back,) = h.all_local()
    assert (back.contents, back.location) == ("Pitch", "Moved elsewhere")
    assert remote_subjects(h) == ["Pitch"]


# ------------------------------------------------------------------ the server's lock


def test_writes_in_flight_at_once_all_reach_the_real_server(h):
    """Xandikos answers 423 when two writes meet at its git index lock; the
    write is sent again and the writes take turns from then on, so none is
    lost or doubled (the backoff here does not wait: turns, not time, end it)."""
    items = [h.add_local(f"Visit {i}", start=h.at(1 + i % 20, 8 + i % 9)) for i in range(24)]
    result = h.sync()
    assert not result.errors
    h.sync()  # past our own creates
    h.clock.advance(minutes=5)
    for a in items:
        h.edit_local(a.id, location="Room 2")
    assert not h.sync().errors
    with h.server.looking():
        assert {h.remote(h.remote_id_for(a.id)).location for a in items} == {"Room 2"}
    h.sync()  # past our own updates
    h.clock.advance(minutes=5)
    for a in items[:4]:  # a few: deleting many at once waits for a confirmation
        h.store.delete_appointment(a.id)
    gone = h.sync()
    assert not gone.errors
    assert remote_subjects(h) == sorted(f"Visit {i}" for i in range(4, 24))
    locked = answered(h, "PUT").count(423) + answered(h, "DELETE").count(423)
    assert len(h.waits) >= locked  # each 423 waited out, then sent again


# ---------------------------------------------------------------- sync tokens


def test_a_sync_token_the_server_refuses_is_followed_by_a_full_listing_without_duplicates(h):
    kept = h.add_local("Kept")
    gone = h.add_remote("Deleted elsewhere")
    h.sync()
    h.server.expire_sync_state()
    h.server.delete_event(gone)
    h.add_remote("Made elsewhere")
    result = h.sync()
    refusal = {"radicale": 403, "xandikos": 412}[h.server.name]
    assert refusal in answered(h, "REPORT")  # the server's own DAV:valid-sync-token
    assert result.full_listing and not result.errors and h.waits == []
    assert sorted(a.contents for a in h.all_local()) == ["Kept", "Made elsewhere"]
    assert remote_subjects(h) == ["Kept", "Made elsewhere"]
    assert h.local(kept.id) is not None
    before = h.server.count_requests()
    h.sync()
    assert h.server.count_requests() - before == 1


def test_a_server_without_sync_collection_is_listed_by_its_ctag(h):
    h.server.proxy.refuse_sync_collection = True  # every sync-collection REPORT: 501
    a = h.add_local("Ours")
    theirs = h.add_remote("Theirs")
    h.sync()
    assert h.waits == []  # 501 is "not supported here", never retried
    assert sorted(x.contents for x in h.all_local()) == ["Ours", "Theirs"]
    before = h.server.count_requests()
    assert not h.sync().errors
    assert h.server.count_requests() - before == 1  # one PROPFIND of the ctag
    h.clock.advance(minutes=5)
    h.server.edit_event(theirs, location="Room 9")
    h.server.delete_event(h.remote_id_for(a.id))
    h.sync()
    (left,) = h.all_local()
    assert (left.contents, left.location) == ("Theirs", "Room 9")
    assert answered(h, "REPORT").count(501) == 0  # refused at the proxy, asked once
    assert h.waits == []


# ------------------------------------------------------- "not supported here"


@pytest.mark.parametrize("kind", ["not_implemented", "not_allowed"])
def test_a_write_the_server_does_not_support_is_not_retried_and_fails_alone(h, kind):
    h.add_local("One", start=h.at(1))
    h.add_local("Two", start=h.at(2))
    h.provider.calendar_url()
    h.server.fail_next(kind, on="write")
    result = h.sync()
    assert h.waits == [] and len(result.errors) == 1
    assert len(remote_subjects(h)) == 1  # the other write went through
    assert not h.sync().errors
    assert remote_subjects(h) == ["One", "Two"]


@pytest.mark.parametrize("kind", ["not_implemented", "not_allowed"])
def test_an_incremental_listing_the_server_does_not_support_falls_back_unretried(h, kind):
    h.add_remote("There")
    h.sync()
    h.server.fail_next(kind, path=h.server.calendar_path)
    result = h.sync()
    assert h.waits == [] and not result.errors and result.full_listing
    assert [a.contents for a in h.all_local()] == ["There"]
    assert remote_subjects(h) == ["There"]


# ---------------------------------------------------------------- spoiled answers


def test_an_event_with_an_impossible_date_is_skipped_and_the_others_arrive(h):
    for subject in ("First", "Second", "Third"):
        h.add_remote(subject)
    h.provider.calendar_url()
    h.server.fail_next("bad_value", field="DTSTART", value=IMPOSSIBLE_DATE.replace("-", ""))
    result = h.sync()
    assert not result.errors and h.server.faults.pending == 0
    assert len(h.all_local()) == 2
    h.server.expire_sync_state()  # the next full listing reads the spoiled one again
    h.sync()
    assert sorted(a.contents for a in h.all_local()) == ["First", "Second", "Third"]


def test_an_impossible_date_in_a_full_listing_deletes_nothing(h):
    for subject in ("First", "Second", "Third"):
        h.add_remote(subject)
    h.sync()
    h.server.expire_sync_state()
    h.server.fail_next("bad_value", field="DTSTART", value=IMPOSSIBLE_DATE.replace("-", ""))
    result = h.sync()
    assert result.full_listing and not result.errors
    assert sorted(a.contents for a in h.all_local()) == ["First", "Second", "Third"]
    assert len(h.server.event_ids()) == 3
