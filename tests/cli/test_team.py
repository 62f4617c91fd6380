"""``calsync team …`` against a real PostgreSQL (tests/pg.py): an administrator
sets a team up and manages its members, a member connects this computer,
moves its own Sales Calendar in, and every other command then works on the
team Sales Calendar. Failures are one plain line and exit 1 (2 for bad input)."""

from __future__ import annotations

import io
import sys

import pytest

from calsync_desktop.services import Services
from tests.cli.helpers import Cli
from tests.pg import ADMIN_PASSWORD, MEMBERS

ANN = "ann@team.example"
ANN_PASSWORD = MEMBERS[ANN][1]


def _stdin(monkeypatch, text: str) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(text + "\n"))


@pytest.fixture
def local(cli):
    """This computer's app, before it is connected (a SQLite file)."""
    return cli


def _fails(result, fragment: str, code: int = 1) -> str:
    got, out, err = result
    assert got == code, (got, out, err)
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    # one line, after argparse's usage for a malformed command line
    assert len(lines) == 1 or lines[0].startswith("usage:"), err
    assert fragment.lower() in lines[-1].lower(), err
    return err


def _team_services(local: Cli) -> Services:
    """The app on this computer opened again, now on the team server."""
    services = Services.create(
        home=local.home,
        secrets=local.services.secrets,
        env={"TZ": "Europe/Berlin"},
        clock=local.services.clock,
    )
    services.extra = local.services.extra  # the memory kind's calendars live in the process
    return services


# --------------------------------------------------------------------------- administration


def test_init_sets_a_team_up_once_and_refuses_a_database_of_something_else(
    local, pg_cluster, monkeypatch
):
    pg_cluster.create_database("cli_team")
    pg_cluster.create_database("cli_crm")
    try:
        first = local.json("team", "init", pg_cluster.admin_url("cli_team"))
        assert first["created"] and first["group_role"] == "calsync_team_cli_team"
        out = local.ok("team", "init", pg_cluster.admin_url("cli_team"))
        assert "already set up" in out
        # the address is remembered without its password
        kept = (local.home / "data" / "team-admin.json").read_text()
        assert ADMIN_PASSWORD not in kept and "cli_team" in kept
        assert (local.home / "data" / "team-admin.json").stat().st_mode & 0o777 == 0o600
        monkeypatch.delenv("PGPASSWORD", raising=False)
        monkeypatch.setenv("PGPASSFILE", str(local.home / "no-pgpass"))
        err = _fails(local("team", "members"), "no password was given")
        assert "PGPASSWORD" in err and "administrator for a new one" not in err
        monkeypatch.setenv("PGPASSWORD", ADMIN_PASSWORD)  # as with psql
        assert local.json("team", "members") == []
        with pg_cluster.admin("cli_crm") as conn:
            conn.execute("CREATE TABLE customers (id int)")
        _fails(local("team", "init", pg_cluster.admin_url("cli_crm")), "customers")
    finally:
        pg_cluster.drop_database("cli_team")
        pg_cluster.drop_database("cli_crm")
        pg_cluster.drop_role("calsync_team_cli_team")


def test_administration_commands_without_a_known_server_ask_for_one(local):
    _fails(local("team", "members"), "--server", code=2)
    _fails(local("team", "add-member", "cy@team.example"), "--server", code=2)


def test_add_member_shows_a_generated_password_once_and_members_lists_them(
    local, team_db, pg_cluster, monkeypatch
):
    cy, dee = "cy@team.example", "dee@team.example"
    try:
        out = local.ok("team", "add-member", cy, "--name", "Cy", "--server", team_db.admin_url)
        password = out.split("not shown again): ")[1].split()[0]
        team_db.sql(cy, password).close()  # it logs in with it
        _stdin(monkeypatch, "dee-chosen-pw")
        out = local.ok("team", "add-member", dee, "--password-stdin", "--server", team_db.admin_url)
        assert "dee-chosen-pw" not in out and "password" not in out.lower()
        team_db.sql(dee, "dee-chosen-pw").close()
        listed = {
            m["email"]: m for m in local.json("team", "members", "--server", team_db.admin_url)
        }
        assert set(listed) == {*MEMBERS, cy, dee}
        assert listed[cy]["name"] == "Cy" and listed[cy]["can_log_in"]
        text = local.ok("team", "members", "--server", team_db.admin_url)
        assert "Cy <cy@team.example> · 0 appointments · 0 accounts" in text
        _fails(local("team", "add-member", cy, "--server", team_db.admin_url), "already")
        _fails(local("team", "add-member", "no-at-sign", "--server", team_db.admin_url), "email", 2)
    finally:
        pg_cluster.drop_role(cy)
        pg_cluster.drop_role(dee)


def test_remove_member_asks_what_becomes_of_their_appointments(
    local, team_db, pg_cluster, monkeypatch
):
    cy = "cy@team.example"
    try:
        _stdin(monkeypatch, "cy-pw-123")
        local.ok("team", "add-member", cy, "--password-stdin", "--server", team_db.admin_url)
        with team_db.sql(cy, "cy-pw-123") as conn:
            conn.execute(
                'INSERT INTO appointments (id, contents, start, "end", timezone, created,'
                " modified, seq) VALUES ('a1', 'Cy''s visit', '2026-11-24T09:00:00Z',"
                " '2026-11-24T10:00:00Z', 'UTC', '2026-11-01T00:00:00Z',"
                " '2026-11-01T00:00:00Z', 1)"
            )
        # not at a terminal and not said: nothing happens
        _stdin(monkeypatch, "")
        _fails(
            local("team", "remove-member", cy, "--server", team_db.admin_url),
            "--keep-appointments or --delete-appointments",
            code=2,
        )
        assert cy in {
            m["email"] for m in local.json("team", "members", "--server", team_db.admin_url)
        }
        # at a terminal it asks
        answers = io.StringIO("maybe\nkeep\n")
        answers.isatty = lambda: True
        monkeypatch.setattr(sys, "stdin", answers)
        out = local.ok("team", "remove-member", cy, "--server", team_db.admin_url)
        assert "1 appointment was kept, read-only" in out
        with team_db.sql() as conn:
            assert conn.execute("SELECT owner FROM appointments").fetchall() == [(cy,)]
        _fails(
            local(
                "team", "remove-member", cy, "--delete-appointments", "--server", team_db.admin_url
            ),
            "not a member",
        )
    finally:
        pg_cluster.drop_role(cy)


# --------------------------------------------------------------------------- this computer


def test_connect_then_every_command_works_on_the_team_and_disconnect_goes_back(
    local, team_db, monkeypatch, capsys
):
    local.add(
        "--contents",
        "Only on the laptop",
        "--start",
        "2026-11-24T09:00",
        "--end",
        "2026-11-24T10:00",
    )
    _stdin(monkeypatch, ANN_PASSWORD)
    out = local.ok("team", "connect", team_db.url, "--user", ANN, "--password-stdin")
    assert f"as {ANN}" in out and "calsync team move-in" in out
    assert ANN_PASSWORD not in (local.home / "data" / "team-server.json").read_text()
    team = Cli(_team_services(local), local.home, capsys)
    try:
        assert team.store.is_team
        made = team.add(
            "--contents", "Team visit", "--start", "2026-11-25T09:00", "--end", "2026-11-25T10:00"
        )
        listed = team.json("appointments", "list", "--from", "2026-11-20", "--to", "2026-11-30")
        assert [a["contents"] for a in listed] == ["Team visit"]
        assert team.json("status")["appointments"] == 1
        where = team_db.url.split("//", 1)[1].split("?")[0]
        assert team.json("status")["sales_calendar"] == f"team {where} as {ANN}"
        shown = team.ok("status")
        assert f"Sales Calendar: 1 appointment on the team server {where} as {ANN}" in shown
        assert "sqlite3" not in shown  # this computer's own file is not the one in use
        ics = team.ok("export", "--ics", "-", "--from", "2026-11-20", "--to", "2026-11-30")
        assert "Team visit" in ics and made["id"] in ics
    finally:
        team.services.store.close()
        team.services.store.engine.dispose()
    with team_db.sql() as conn:
        assert conn.execute("SELECT owner, contents FROM appointments").fetchall() == [
            (ANN, "Team visit")
        ]
    out = local.ok("team", "disconnect")
    assert "Disconnected from" in out
    back = Services.create(home=local.home, secrets=local.services.secrets, env={})
    try:
        assert not back.store.is_team and back.store.count_appointments() == 1
    finally:
        back.store.close()
    assert "not connected" in local.ok("team", "disconnect")


def test_a_refused_connection_says_why_in_one_line_and_keeps_nothing(
    local, team_db, pg_cluster, tmp_path, monkeypatch
):
    _stdin(monkeypatch, "wrong-password")
    _fails(
        local("team", "connect", team_db.url, "--user", ANN, "--password-stdin"),
        "did not accept the password",
    )
    _stdin(monkeypatch, ANN_PASSWORD)
    _fails(
        local(
            "team", "connect", "postgresql://127.0.0.1:1/sales", "--user", ANN, "--password-stdin"
        ),
        "cannot be reached",
    )
    by_name = f"postgresql://db.team.example:{pg_cluster.port}/{team_db.name}?hostaddr=127.0.0.1"
    _stdin(monkeypatch, ANN_PASSWORD)
    _fails(
        local(
            "team",
            "connect",
            by_name,
            "--user",
            ANN,
            "--password-stdin",
            "--ca-bundle",
            str(pg_cluster.other_ca),
        ),
        "does not trust",
    )
    _fails(
        local(
            "team",
            "connect",
            "postgresql://db.team.example/sales?sslmode=disable",
            "--user",
            ANN,
            "--password-stdin",
        ),
        "sslmode=verify-full",
        code=2,
    )
    _fails(
        local(
            "team", "connect", team_db.url, "--user", ANN, "--ca-bundle", str(tmp_path / "none.pem")
        ),
        "does not exist",
        code=2,
    )
    with team_db.sql() as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    _stdin(monkeypatch, ANN_PASSWORD)
    _fails(
        local("team", "connect", team_db.url, "--user", ANN, "--password-stdin"), "newer calsync"
    )
    assert local.services.secrets.values == {}
    assert not (local.home / "data" / "team-server.json").exists()


def test_a_team_server_that_cannot_be_reached_is_said_plainly_and_disconnect_still_works(
    local, team_db, monkeypatch, pg_cluster
):
    from calsync_desktop.cli import main
    from calsync_desktop.team.server import TeamServer

    # connected to a server that is gone (the address of a closed port)
    (local.home / "data").mkdir(parents=True, exist_ok=True)
    gone = TeamServer("postgresql://127.0.0.1:1/sales", ANN)
    gone.save(local.home / "data")
    local.services.secrets.set(gone.secret_key, "password", ANN_PASSWORD)
    monkeypatch.setattr(Services, "create", _with_secrets(local.services.secrets))
    code = main(["--home", str(local.home), "status"])
    err = local.capsys.readouterr().err
    assert code == 1 and "cannot be reached" in err and "Traceback" not in err
    assert main(["--home", str(local.home), "team", "disconnect"]) == 0
    assert main(["--home", str(local.home), "status"]) == 0


def _with_secrets(secrets):
    create = Services.create.__func__

    def opened(cls_or_home=None, *args, **kwargs):
        kwargs.setdefault("secrets", secrets)
        kwargs.setdefault("env", {})
        return create(Services, *args, **kwargs)

    return classmethod(lambda cls, *a, **k: opened(None, *a, **k))


# --------------------------------------------------------------------------- moving in


def test_move_in_of_2000_synced_appointments_makes_no_remote_write_and_no_duplicate(
    local, team_db, monkeypatch, capsys
):
    from datetime import UTC, datetime, timedelta

    from calsync_desktop.accounts.memory import calendar_for
    from tests.store.test_store import appt

    store = local.store
    start = datetime(2026, 11, 24, 7, tzinfo=UTC)
    with store.transaction():
        for i in range(2000):
            at = start + timedelta(minutes=30 * i)
            store.add_appointment(
                appt(contents=f"Visit {i}", start=at, end=at + timedelta(minutes=25))
            )
    local.json("accounts", "add", "memory", "--email", "ann@team.example")
    local.ok("sync")
    calendar = calendar_for(local.services, "ann@team.example")
    assert len(calendar.events) == 2000
    writes = calendar._seq
    before = local.json("status")
    _stdin(monkeypatch, ANN_PASSWORD)
    local.ok("team", "connect", team_db.url, "--user", ANN, "--password-stdin")
    moved = local.json("team", "move-in")
    assert moved["appointments"] == 2000 and moved["accounts"] == 1 and moved["links"] == 2000
    team = Cli(_team_services(local), local.home, capsys)
    try:
        assert team.store.count_appointments() == 2000
        result = team.ok("sync")
        assert calendar._seq == writes, result  # not one write to the service
        assert len(calendar.events) == 2000
        assert team.store.count_appointments() == 2000
        after = team.json("status")
        assert after["accounts"][0]["id"] == before["accounts"][0]["id"]
        # a change on either side afterwards syncs as usual, once
        first = next(iter(calendar.events.values()))
        calendar.edit(first.remote_id, location="Moved room")
        team.ok("sync")
        assert team.store.get_appointment(first.local_id).location == "Moved room"
        assert team.store.count_appointments() == 2000
        # a second move-in would put everything there twice: refused
        _fails(team("team", "move-in"), "only into an empty one")
    finally:
        team.services.store.close()
        team.services.store.engine.dispose()
    with team_db.sql() as conn:
        assert conn.execute(
            "SELECT count(*), min(owner), max(owner) FROM appointments"
        ).fetchone() == (
            2000,
            ANN,
            ANN,
        )
    # this computer's file was only read
    assert local.store.count_appointments() == 2000


def test_move_in_needs_a_connection_first(local):
    _fails(local("team", "move-in"), "not connected", code=2)
