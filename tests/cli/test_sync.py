"""``calsync sync`` and ``calsync status``."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from calsync_desktop.accounts.base import MemorySecrets
from calsync_desktop.accounts.memory import calendar_for
from calsync_desktop.cli import main
from calsync_desktop.services import Services
from tests.cli.helpers import (
    _add_memory_account,
    _assert_usage_error,
    _linked_appointments,
)


def test_sync_then_status_and_accounts_list(cli):
    cli.add("--contents", "Push me", "--start", "2026-11-24T09:00", "--end", "2026-11-24T10:00")
    _add_memory_account(cli)
    remote = calendar_for(cli.services, "me@example.com")

    out = cli.ok("sync")
    assert out.strip() == "me@example.com: 1 appointment copied to me@example.com"
    assert [e.subject for e in remote.events.values()] == ["Push me"]

    remote.add(
        subject="Pulled",
        start=datetime(2026, 11, 27, 9, tzinfo=UTC),
        end=datetime(2026, 11, 27, 10, tzinfo=UTC),
    )
    report = cli.json("sync", "--account", "me@example.com")
    (account,) = report["accounts"]
    assert account["counts"] == {"create locally": 1} and account["errors"] == []
    assert account["state"] == "ok" and not account["stopped"]

    status = cli.json("status")
    assert status["appointments"] == 2
    assert status["conflicts"] == 0 and status["skipped"] == 0
    (view,) = status["accounts"]
    assert view["kind"] == "memory" and view["email"] == "me@example.com"
    assert view["state"] == "ok" and view["paused"] is False and view["linked"] == 2
    assert view["last_sync"] == "2026-11-23T09:00:00+00:00"
    text = cli.ok("status")
    assert "2 appointments in" in text and "me@example.com" in text and "state: ok" in text

    assert cli.json("accounts", "list")[0]["linked"] == 2
    assert "Local test calendar" in cli.ok("accounts", "list")


def test_sync_dry_run_changes_nothing(cli):
    cli.add("--contents", "Local", "--start", "2026-11-24T09:00", "--end", "2026-11-24T10:00")
    _add_memory_account(cli)
    remote = calendar_for(cli.services, "me@example.com")
    remote.add(
        subject="Remote",
        start=datetime(2026, 11, 26, 9, tzinfo=UTC),
        end=datetime(2026, 11, 26, 10, tzinfo=UTC),
    )
    store = cli.store

    def state():
        account = store.list_accounts()[0]
        return (
            store.change_seq(),
            store.count_appointments(),
            store.linked_count(account.id),
            account.sync_state,
            account.last_sync,
            account.first_sync_done,
            dict(remote.events),
        )

    before = state()
    out = cli.ok("sync", "--dry-run")
    assert "dry run, nothing written" in out
    assert "create 1 in me@example.com" in out and "create 1 in the Sales Calendar" in out
    report = cli.json("sync", "--dry-run")
    assert report["dry_run"] and report["accounts"][0]["plan"] == {
        "create remotely": 1,
        "create locally": 1,
    }
    assert state() == before


def test_mass_deletion_guard_stops_and_says_how_to_go_on(cli):
    _linked_appointments(cli, 12)
    remote = calendar_for(cli.services, "me@example.com")
    for remote_id in list(remote.events):
        remote.remove(remote_id)

    code, out, _ = cli("sync", "--dry-run")
    assert code == 3 and "would stop before deleting" in out
    assert cli.store.count_appointments() == 12

    code, out, _ = cli("sync")
    assert code == 3
    assert "stopped before deleting anything" in out
    assert "Meeting 0" in out  # the list to review
    assert "calsync sync --account me@example.com --yes-delete" in out
    assert "--restore-deleted" in out
    assert cli.store.count_appointments() == 12  # nothing deleted

    code, out, _ = cli("--json", "sync")
    report = json.loads(out)
    assert code == 3 and report["accounts"][0]["stopped"] is True
    assert len(report["accounts"][0]["guard"]["delete_locally"]) == 12

    code, out, _ = cli("sync", "--yes-delete")
    assert code == 0, out
    assert cli.store.count_appointments() == 0


def test_mass_deletion_guard_restore_brings_them_back(cli):
    _linked_appointments(cli, 12)
    remote = calendar_for(cli.services, "me@example.com")
    for remote_id in list(remote.events):
        remote.remove(remote_id)
    code, out, _ = cli("sync", "--restore-deleted")
    assert code == 0, out
    assert cli.store.count_appointments() == 12
    assert len(remote.events) == 12


def test_failed_sync_exits_1_and_the_account_needs_sign_in(cli):
    _add_memory_account(cli)
    calendar_for(cli.services, "me@example.com").fail_next("expired_token")
    code, out, _ = cli("sync")
    assert code == 1
    assert "expired" in out and "Sign in again" in out
    assert cli.json("status")["accounts"][0]["state"] == "needs_sign_in"
    # the next plain sync leaves it out and says why
    code, out, _ = cli("sync")
    assert code == 0 and "needs sign-in; not synced" in out


def test_sync_unknown_account_and_no_accounts(cli):
    _assert_usage_error(cli("sync", "--account", "nobody"), "No account 'nobody'")
    assert "No calendar accounts" in cli.ok("sync")


def test_a_memory_calendar_from_another_process_is_not_synced(cli, home, clock, capsys):
    cli.add("--contents", "Keep me", "--start", "2026-11-24T09:00", "--end", "2026-11-24T10:00")
    _add_memory_account(cli)
    cli.ok("sync")
    # another process: same Sales Calendar file, but the test calendar is gone
    other = Services.create(home=home, secrets=MemorySecrets(), env={}, clock=clock)
    try:
        capsys.readouterr()
        code = main(["sync"], services=other)
        out = capsys.readouterr().out
    finally:
        other.store.close()
    assert code == 0 and "not synced" in out
    assert cli.store.count_appointments() == 1
