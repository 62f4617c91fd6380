"""SyncRunner's Troubleshooting checks on a real store and the memory calendar."""

from __future__ import annotations

from calsync_desktop.accounts import memory, save_account
from calsync_desktop.accounts.base import AccountState
from calsync_desktop.sync.runner import SyncRunner


def add_account(services, email: str = "me@example.com"):
    account = save_account(services, memory.connect(services, email), calendar_id="", name=email)
    return account, memory.calendar_for(services, email, email)


def last_sync_check(checks):
    return next(c for c in checks if c.name == "Last sync")


def test_a_failed_first_sync_shows_its_error_and_fix(services):
    account, calendar = add_account(services)
    runner = SyncRunner(services)
    calendar.fail_next("drop")
    runner.sync_account(account.id)
    failed = services.store.get_account(account.id)
    assert failed.state is AccountState.ERROR and failed.last_sync is None
    assert failed.last_error

    check = last_sync_check(runner.check_account(account.id))
    assert check.ok is False
    assert failed.last_error in check.explanation
    assert "not synced yet" not in check.explanation
    # the fix the runner gives for an unreachable server, not a generic one
    assert "network connection" in check.fix


def test_a_failed_first_sync_with_an_unknown_error_still_says_what_to_do(services):
    account, _calendar = add_account(services)
    stored = services.store.get_account(account.id)
    stored.state, stored.last_error = AccountState.ERROR, "Something nobody expected."
    services.store.update_account(stored)

    check = last_sync_check(SyncRunner(services).check_account(account.id))
    assert check.ok is False
    assert "Something nobody expected." in check.explanation
    assert "Sync now" in check.fix


def test_an_account_that_never_synced_and_never_failed_is_not_synced_yet(services):
    account, _calendar = add_account(services)
    check = last_sync_check(SyncRunner(services).check_account(account.id))
    assert check.ok is None
    assert check.explanation == "This account has not synced yet."


def test_after_a_good_sync_the_last_sync_check_passes(services):
    account, _calendar = add_account(services)
    runner = SyncRunner(services)
    runner.sync_account(account.id)
    check = last_sync_check(runner.check_account(account.id))
    assert check.ok is True
