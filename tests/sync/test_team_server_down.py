"""The team server killed in the middle of a sync (``pg_ctl stop -m immediate``,
a crash: every connection cut, no shutdown) and started again: the sync says
so in plain words, nothing is lost, and the next sync converges without a
duplicate on either side. Against a real PostgreSQL (tests/pg.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from calsync_desktop.accounts import memory, save_account
from calsync_desktop.sync.runner import SyncRunner
from tests.store.test_store import appt

ANN = "ann@team.example"
COUNT = 60


def _durable(team_db) -> None:
    """Commits that survive a crash: the test cluster turns synchronous_commit
    off for speed, which may lose the last commits when the server dies (as
    PostgreSQL documents); a team server keeps the default."""
    with team_db.sql() as conn:
        conn.execute(f'ALTER DATABASE "{team_db.name}" SET synchronous_commit = on')


def _crash_after_first_write(services, cluster):
    """open_provider whose first batch reaches the service, then the team
    server crashes before the sync can record what it wrote."""
    crashed = []

    def open_provider(account):
        provider = memory.open_provider(account, services)
        write = provider.write

        def writing(writes):
            results = write(writes)
            if not crashed:
                crashed.append(True)
                cluster.stop("immediate")
            return results

        provider.write = writing
        return provider

    return open_provider


@pytest.fixture
def ann(team_db, tmp_path, secrets, clock):
    """Ann's app on the team server (commits durable), with a memory account."""
    _durable(team_db)
    services = team_db.connect_services(tmp_path / "ann", secrets, clock, ANN)
    account = save_account(services, memory.connect(services, ANN), calendar_id="", name=ANN)
    yield services, account, memory.calendar_for(services, ANN, ANN)
    services.store.close()
    services.store.engine.dispose()


def test_a_team_server_crash_mid_sync_loses_nothing_and_the_next_sync_converges(ann, pg_cluster):
    ann, account, calendar = ann
    calendar.batch_size = 20  # three batches: the crash comes after the first
    start = datetime(2026, 11, 24, 8, tzinfo=UTC)
    made = {}
    with ann.store.transaction():
        for i in range(COUNT):
            at = start + timedelta(hours=i)
            a = ann.store.add_appointment(
                appt(contents=f"Visit {i}", start=at, end=at + timedelta(minutes=30))
            )
            made[a.id] = a.contents
    try:
        result = SyncRunner(ann, _crash_after_first_write(ann, pg_cluster)).sync_account(account.id)
    finally:
        pg_cluster.restart()
        pg_cluster.wait_ready()
    [error] = result.errors
    assert "team server cannot be reached" in error and "Nothing was lost" in error
    assert 0 < len(calendar.events) < COUNT  # some reached the service, unrecorded
    # the app goes on with the same store: it reconnects by itself
    again = SyncRunner(ann).sync_account(account.id)
    assert not again.errors
    assert len(calendar.events) == COUNT
    assert {e.local_id for e in calendar.events.values()} == set(made)
    assert {
        a.id: a.contents for a in ann.store.appointments_between(start, start + timedelta(days=30))
    } == made
    assert ann.store.linked_count(account.id) == COUNT
    writes = calendar._seq
    assert not SyncRunner(ann).sync_account(account.id).errors
    assert calendar._seq == writes  # converged: nothing more to do


def test_a_sync_while_the_team_server_is_down_says_so_and_changes_nothing(ann, pg_cluster):
    ann, account, calendar = ann
    at = datetime(2026, 11, 24, 8, tzinfo=UTC)
    ann.store.add_appointment(appt(contents="Visit", start=at, end=at + timedelta(hours=1)))
    pg_cluster.stop("immediate")
    try:
        [error] = SyncRunner(ann).sync_account(account.id).errors
    finally:
        pg_cluster.restart()
        pg_cluster.wait_ready()
    assert "cannot be reached" in error
    assert calendar.events == {}
    after = SyncRunner(ann).sync_account(account.id)
    assert not after.errors, after
    assert len(calendar.events) == 1, (after, ann.store.count_appointments())
