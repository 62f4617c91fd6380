"""Two computers of one member syncing the same account on a team server
(SPEC §8 "Several computers, one member"): the account's lock in the database
lets one sync at a time, and nothing is duplicated on either side.

Both computers are real apps on a real PostgreSQL (tests/pg.py), each with a
connection of its own; the service is one memory calendar both reach. The
second sync is started from inside the first one (while it lists the
service's changes), so that the two overlap at a known point instead of by
timing.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from calsync_desktop.accounts import memory, save_account
from calsync_desktop.store import AccountBusy
from calsync_desktop.sync.runner import SyncRunner
from tests.store.test_store import appt

ANN = "ann@team.example"
COUNT = 60


@pytest.fixture
def computers(team_db, tmp_path, secrets, clock):
    """Ann's laptop and desktop, both connected to the team, one service."""
    laptop = team_db.connect_services(tmp_path / "laptop", secrets, clock, ANN)
    desktop = team_db.connect_services(tmp_path / "desktop", secrets, clock, ANN)
    desktop.extra = laptop.extra  # the same service calendar
    yield laptop, desktop
    for s in (laptop, desktop):
        s.store.close()
        s.store.engine.dispose()


def _setup(laptop):
    account = save_account(laptop, memory.connect(laptop, ANN), calendar_id="", name=ANN)
    start = datetime(2026, 11, 24, 8, tzinfo=UTC)
    with laptop.store.transaction():
        for i in range(COUNT):
            at = start + timedelta(hours=i)
            laptop.store.add_appointment(appt(contents=f"Visit {i}", start=at, end=at))
    return account, memory.calendar_for(laptop, ANN, ANN)


def _during_listing(services, hook, closed=None):
    """open_provider for ``services`` whose first listing runs ``hook`` first
    (and that calls ``closed`` when the sync lets go of the service)."""
    ran = []

    def open_provider(account):
        provider = memory.open_provider(account, services)
        listing, close = provider.changes, provider.close

        def changes(*args, **kwargs):
            if not ran:
                ran.append(True)
                hook(account)
            return listing(*args, **kwargs)

        def closing():
            close()
            if closed:
                closed()

        provider.changes, provider.close = changes, closing
        return provider

    return open_provider


def _no_duplicates(calendar, *stores):
    assert len(calendar.events) == COUNT
    assert len({e.local_id for e in calendar.events.values()}) == COUNT
    for store in stores:
        assert store.count_appointments() == COUNT


def test_a_second_computer_does_not_sync_an_account_the_first_is_syncing(computers):
    laptop, desktop = computers
    account, calendar = _setup(laptop)
    refused = []

    def desktop_syncs(acc):
        refused.append(SyncRunner(desktop, lock_wait=0).sync_account(acc.id))

    result = SyncRunner(laptop, _during_listing(laptop, desktop_syncs)).sync_account(account.id)
    assert not result.errors
    [busy] = refused
    assert busy.errors and "Another computer is syncing" in busy.errors[0]
    _no_duplicates(calendar, laptop.store, desktop.store)
    # refused is not failed: the account is not marked as in error
    assert desktop.store.get_account(account.id).last_error == ""
    # and the desktop's next sync has nothing to do
    writes = calendar._seq
    again = SyncRunner(desktop).sync_account(account.id)
    assert not again.errors and calendar._seq == writes
    _no_duplicates(calendar, laptop.store, desktop.store)


def test_two_computers_syncing_one_account_at_once_take_turns_and_duplicate_nothing(computers):
    laptop, desktop = computers
    account, calendar = _setup(laptop)
    results = {}
    threads = []
    laptop_done = threading.Event()
    desktop_listed_after_laptop = []

    def desktop_lists(_acc):
        desktop_listed_after_laptop.append(laptop_done.is_set())

    def desktop_syncs(acc):
        # the desktop starts while the laptop is in the middle of its sync
        def run():
            runner = SyncRunner(desktop, _during_listing(desktop, desktop_lists), lock_wait=120)
            results["desktop"] = runner.sync_account(acc.id)

        thread = threading.Thread(target=run)
        thread.start()
        threads.append(thread)

    laptop_runner = SyncRunner(laptop, _during_listing(laptop, desktop_syncs, laptop_done.set))
    results["laptop"] = laptop_runner.sync_account(account.id)
    for thread in threads:
        thread.join()
    assert not results["laptop"].errors and not results["desktop"].errors
    # the desktop waited: it read the service only once the laptop was done with it
    assert desktop_listed_after_laptop == [True]
    _no_duplicates(calendar, laptop.store, desktop.store)
    assert laptop.store.linked_count(account.id) == COUNT


def test_the_lock_of_one_account_leaves_other_accounts_free(computers):
    laptop, desktop = computers
    with laptop.store.account_lock("account-a"):
        with desktop.store.account_lock("account-b", wait=0):
            pass
        with (
            pytest.raises(AccountBusy, match="Another computer is syncing Ann's Google"),
            desktop.store.account_lock("account-a", wait=0, name="Ann's Google"),
        ):
            pass
    with desktop.store.account_lock("account-a", wait=0):
        pass  # let go when the laptop's sync ended
