"""``calsync accounts add caldav`` against real CalDAV servers (Radicale and
Xandikos): the options come from the registry entry, the password only from
standard input, nothing saved on failure."""

from __future__ import annotations

import io
import sys

import pytest


def _add(cli, monkeypatch, server, *extra, password=None):
    monkeypatch.setattr(sys, "stdin", io.StringIO((password or server.password) + "\n"))
    return cli(
        "accounts",
        "add",
        "caldav",
        "--url",
        server.url,
        "--username",
        server.owner,
        "--password-stdin",
        "--ca-bundle",
        server.ca_bundle,
        *extra,
    )


def test_accounts_add_caldav_saves_the_account_and_its_password_in_the_secret_store(
    cli, monkeypatch, caldav_server
):
    code, out, err = _add(cli, monkeypatch, caldav_server, "--calendar", "Calendar")
    assert code == 0, (out, err)
    assert "Saved alice@example.com (Other (CalDAV), calendar" in out
    (account,) = cli.store.list_accounts()
    assert account.kind == "caldav" and account.calendar_id == caldav_server.calendar_url
    assert caldav_server.password not in repr(account) + out + err
    assert cli.services.secrets.get(account.id, "password") == caldav_server.password


def test_accounts_add_caldav_lists_the_calendars(cli, monkeypatch, caldav_server):
    code, out, err = _add(cli, monkeypatch, caldav_server, "--list-calendars")
    assert code == 0, err
    assert f"{caldav_server.calendar_url}  Calendar (primary)" in out
    assert cli.store.list_accounts() == []


@pytest.mark.parametrize(
    ("change", "message", "exit_code"),
    [
        ({"password": "wrong"}, "refused the username or password", 1),
        ({"ca_bundle": None}, "certificate is not trusted", 1),
        ({"url": "http://caldav.example.com/"}, "unencrypted", 2),
        ({"calendar": "Holidays"}, "no calendar 'Holidays'", 2),
    ],
    ids=["wrong-password", "untrusted-certificate", "plain-http", "unknown-calendar"],
)
def test_accounts_add_caldav_failure_is_one_plain_line_and_saves_nothing(
    cli, monkeypatch, caldav_server, change, message, exit_code
):
    argv = ["accounts", "add", "caldav", "--username", caldav_server.owner, "--password-stdin"]
    argv += ["--url", change.get("url", caldav_server.url)]
    if change.get("ca_bundle", caldav_server.ca_bundle):
        argv += ["--ca-bundle", caldav_server.ca_bundle]
    if "calendar" in change:
        argv += ["--calendar", change["calendar"]]
    password = change.get("password", caldav_server.password)
    monkeypatch.setattr(sys, "stdin", io.StringIO(password + "\n"))
    code, out, err = cli(*argv)
    assert code == exit_code, (out, err)
    assert message in err and "Traceback" not in err
    assert password not in out + err
    assert cli.store.list_accounts() == [] and cli.services.secrets.values == {}


def test_a_refused_caldav_password_is_answered_with_caldav_advice(cli, monkeypatch, caldav_server):
    """The fix under the message speaks of app passwords, not of Exchange's
    Office 365 portal (the article's advice, for Exchange accounts)."""
    code, _out, err = _add(cli, monkeypatch, caldav_server, password="wrong")
    assert code == 1
    assert "Office 365" not in err and "Outlook" not in err, err
    assert "app password" in err.splitlines()[-1], err
