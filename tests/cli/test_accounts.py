"""``calsync accounts add | list | remove``."""

from __future__ import annotations

import io
import sys
from datetime import UTC, datetime

import pytest

from calsync_desktop.accounts.base import KeyringSecrets
from calsync_desktop.accounts.memory import calendar_for
from calsync_desktop.services import Services
from tests.cli.helpers import (
    Cli,
    _add_memory_account,
    _assert_usage_error,
)
from tests.fakes.ews_fixtures import ews_server_fixtures

ews_server_module, ews_server = ews_server_fixtures("ews_server")


def test_accounts_add_previews_the_first_sync(cli):
    cli.add("--contents", "Local one", "--start", "2026-11-24T09:00", "--end", "2026-11-24T10:00")
    cli.add("--contents", "Too old", "--start", "2026-09-01T09:00", "--end", "2026-09-01T10:00")
    remote = calendar_for(cli.services, "me@example.com")
    remote.add(
        subject="Remote one",
        start=datetime(2026, 11, 26, 9, tzinfo=UTC),
        end=datetime(2026, 11, 26, 10, tzinfo=UTC),
    )
    remote.add(
        subject="Local one",  # the same appointment on both sides: linked, not copied
        start=datetime(2026, 11, 24, 8, tzinfo=UTC),
        end=datetime(2026, 11, 24, 9, tzinfo=UTC),
    )
    added = _add_memory_account(cli, "--name", "Test calendar")
    assert added["first_sync"] == {"create locally": 1, "link": 1}
    assert added["account"]["name"] == "Test calendar"
    assert added["account"]["calendar"] == "primary"
    assert added["account"]["kind"] == "memory"
    assert len(remote.events) == 2  # previewing changed nothing
    assert cli.store.count_appointments() == 2


def test_accounts_add_text_warns_about_another_profile_email(cli):
    cli.ok("profile", "--email", "sales@example.com")
    code, out, err = cli("accounts", "add", "memory", "--email", "me@example.com", "--all-private")
    assert code == 0
    assert "Saved me@example.com" in out and "stored as private" in out
    assert "The first sync will: nothing" in out
    assert "Warning:" in err and "sales@example.com" in err
    assert cli.store.list_accounts()[0].sync_all_private


def test_accounts_add_calendar_choice(cli):
    out = cli.ok("accounts", "add", "memory", "--list-calendars")
    assert "primary  Calendar (primary)" in out
    assert cli.store.list_accounts() == []
    _assert_usage_error(
        cli("accounts", "add", "memory", "--calendar", "work"), "no calendar 'work'"
    )
    assert cli.store.list_accounts() == []
    _add_memory_account(cli, "--calendar", "primary")
    assert cli.store.list_accounts()[0].calendar_id == "primary"


def _add_exchange(cli, monkeypatch, server_url: str, password: str, user="sam@example.com"):
    """``calsync accounts add exchange`` with the password on standard input."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(password + "\n"))
    return cli(
        "accounts",
        "add",
        "exchange",
        "--server-url",
        server_url,
        "--username",
        user,
        "--password-stdin",
    )


@pytest.mark.parametrize(
    ("server", "password", "message"),
    [
        (
            "https://127.0.0.1:9/EWS/Exchange.asmx",
            "",
            "Failed to validate access to the server with your credentials, "
            "please review your details",
        ),
        (
            "https://outlook.office365.com/EWS/Exchange.asmx",
            "pw-very-secret-123",
            "Sign in with Microsoft",
        ),
    ],
)
def test_accounts_add_failure_is_plain_and_saves_nothing(
    cli, monkeypatch, server, password, message
):
    pytest.importorskip("calsync_desktop.accounts.exchange")
    code, out, err = _add_exchange(cli, monkeypatch, server, password)
    assert code == 1, (out, err)
    assert message in err and "Traceback" not in err
    assert "pw-very-secret" not in out + err
    assert cli.store.list_accounts() == []
    assert cli.services.secrets.values == {}


def test_an_office_365_address_for_exchange_says_how_to_add_it_instead(cli, monkeypatch):
    pytest.importorskip("calsync_desktop.accounts.exchange")
    code, _out, err = _add_exchange(
        cli, monkeypatch, "https://outlook.office365.com/EWS/Exchange.asmx", "pw"
    )
    assert code == 1
    fix = err.strip().splitlines()[-1]
    assert "calsync accounts add office365" in fix and "Sync now" not in fix, err


def test_a_server_out_of_reach_while_adding_says_to_try_again_not_to_wait_for_a_sync(
    cli, monkeypatch
):
    pytest.importorskip("calsync_desktop.accounts.exchange")
    code, _out, err = _add_exchange(cli, monkeypatch, "https://127.0.0.1:9/EWS/Exchange.asmx", "pw")
    assert code == 1 and "could not be reached" in err, err
    fix = err.strip().splitlines()[-1]
    assert "then try again" in fix and "next sync" not in fix, err  # nothing was saved


def test_no_keyring_says_to_add_the_account_again_once_there_is_one(
    home, clock, capsys, monkeypatch, ews_server
):
    pytest.importorskip("calsync_desktop.accounts.exchange")
    from keyring.backends import fail

    services = Services.create(
        home=home, secrets=KeyringSecrets(fail.Keyring()), env={"TZ": "Europe/Berlin"}, clock=clock
    )
    try:
        code, _out, err = _add_exchange(
            Cli(services, home, capsys),
            monkeypatch,
            ews_server.url,
            ews_server.password,
            ews_server.username,
        )
        assert code == 1 and "No OS keyring" in err
        fix = err.strip().splitlines()[-1]
        assert "add the account again" in fix and "Sync now" not in fix, err
        assert services.store.list_accounts() == []
    finally:
        services.store.close()


def test_accounts_add_when_the_preview_fails_still_saves(cli):
    calendar_for(cli.services, "me@example.com").fail_next("drop")
    code, out, _ = cli("accounts", "add", "memory", "--email", "me@example.com")
    assert code == 0
    assert "Could not preview the first sync: The server cannot be reached." in out
    assert len(cli.store.list_accounts()) == 1


def test_adding_the_same_account_twice_keeps_one(cli):
    _add_memory_account(cli)
    _add_memory_account(cli)
    assert len(cli.json("accounts", "list")) == 1


def test_signing_in_again_keeps_sync_all_as_private(cli):
    """``sync`` tells an account that needs a sign-in to be added again; doing
    so without ``--all-private`` must not start bringing its events in readable."""
    _add_memory_account(cli, "--all-private")
    out = cli.ok("accounts", "add", "memory", "--email", "me@example.com")
    assert "stored as private" in out
    (account,) = cli.json("accounts", "list")
    assert account["sync_all_private"]
    remote = calendar_for(cli.services, "me@example.com")
    remote.add(
        subject="Board meeting",
        start=datetime(2026, 11, 26, 9, tzinfo=UTC),
        end=datetime(2026, 11, 26, 10, tzinfo=UTC),
    )
    cli.ok("sync")
    (pulled,) = cli.store.appointments_between(
        datetime(2026, 11, 26, tzinfo=UTC), datetime(2026, 11, 27, tzinfo=UTC)
    )
    assert pulled.private


def test_signing_in_again_clears_the_sign_in_problem_it_solves(cli):
    _add_memory_account(cli)
    calendar_for(cli.services, "me@example.com").fail_next("expired_token")
    cli("sync")
    (account,) = cli.json("accounts", "list")
    assert account["state"] == "needs_sign_in" and account["last_error"]
    _add_memory_account(cli)  # as sync advises: calsync accounts add KIND …
    (account,) = cli.json("accounts", "list")
    assert account["state"] == "ok" and account["last_error"] == ""
    assert "last error" not in cli.ok("accounts", "list")


def test_accounts_remove_keeps_or_deletes_the_synced_appointments(cli):
    cli.add("--contents", "Synced", "--start", "2026-11-24T09:00", "--end", "2026-11-24T10:00")
    _add_memory_account(cli)
    cli.ok("sync")
    out = cli.ok("accounts", "remove", "me@example.com")
    assert "1 synced appointment stays in the Sales Calendar" in out
    assert cli.store.list_accounts() == [] and cli.store.count_appointments() == 1

    _add_memory_account(cli)
    cli.ok("sync")  # links the same appointment again
    report = cli.json("accounts", "remove", "me@example.com", "--delete-appointments")
    assert report["appointments_deleted"] and report["synced_appointments"] == 1
    assert cli.store.count_appointments() == 0
    _assert_usage_error(cli("accounts", "remove", "me@example.com"), "No account")
