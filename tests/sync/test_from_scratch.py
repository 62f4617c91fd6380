"""Resync from scratch (SPEC §9): an account forgets its sync state and links,
lists both sides whole and links them again by SPEC §4's evidence; nothing
that exists on both sides is created again. Over a real store (a SQLite file,
and a team PostgreSQL database as a member) and the memory calendar service."""

from __future__ import annotations

from datetime import timedelta

from calsync_desktop.store.journal import Journal
from calsync_desktop.store.resync import forget_sync
from calsync_desktop.sync.runner import SyncRunner

from .harness import engine_fixtures

services, h = engine_fixtures()


def test_resync_from_scratch_of_500_linked_creates_and_deletes_nothing(h, clock):
    for i in range(500):
        h.add_local(f"Meeting {i}", start=h.at(1 + i % 60, 8 + i % 9))
    h.sync()
    links = {k: r.remote_id for k, r in h.store.all_status(h.account.id).items()}
    assert len(links) == 500
    assert forget_sync(h.store, h.account.id) == 500
    assert h.store.all_status(h.account.id) == {}
    result = h.sync()
    assert result.counts == {"link": 500} and result.errors == []
    assert {k: r.remote_id for k, r in h.store.all_status(h.account.id).items()} == links
    assert len(h.calendar.events) == 500 and len(h.all_local()) == 500


def test_resync_from_scratch_links_by_the_evidence_and_copies_only_what_is_new(h, clock):
    a = h.add_local("Demo at Initech")
    h.sync()
    b = h.add_remote("Call Globex")  # another client's event, linked by iCalUID
    h.sync()
    forget_sync(h.store, h.account.id)
    h.calendar.edit(h.remote_for(a.id).remote_id, subject="Demo at Initech (renamed)")
    new_here = h.add_local("New pitch")
    new_there = h.add_remote("From the phone", start=clock() + timedelta(days=3))
    result = h.sync()
    assert result.counts == {"link": 2, "create remotely": 1, "create locally": 1}
    assert h.local(a.id).contents == "Demo at Initech"  # the Sales Calendar's values win
    assert h.remote_for(a.id).subject == "Demo at Initech"
    assert h.local_for(b.remote_id) is not None
    assert h.remote_for(new_here.id) is not None and h.local_for(new_there.remote_id) is not None
    assert len(h.calendar.events) == len(h.all_local()) == 4


def test_the_runner_resyncs_an_account_from_scratch_under_its_lock(services, h):
    runner = SyncRunner(services, open_provider=lambda account: h.provider)
    for i in range(3):
        h.add_local(f"Meeting {i}")
    runner.sync_account(h.account.id)
    result = runner.sync_account(h.account.id, from_scratch=True)
    assert result.counts == {"link": 3}
    assert len(h.calendar.events) == 3
    assert Journal(h.store).runs()[0].trigger == "sync now"  # linking again changes nothing
