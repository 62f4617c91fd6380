"""Reaching a team server, setting one up and managing its members, against a
real PostgreSQL (with TLS): every failure a member or an administrator can meet
gets its own plain message, and nothing is saved when it fails."""

from __future__ import annotations

import psycopg
import pytest

from calsync_desktop.accounts.base import MemorySecrets
from calsync_desktop.services import Services
from calsync_desktop.team import admin
from calsync_desktop.team.member import NoPassword, connect, disconnect
from calsync_desktop.team.server import (
    BadAddress,
    CertificateUntrusted,
    NotAMember,
    NotATeamDatabase,
    SchemaTooNew,
    SchemaTooOld,
    TeamServer,
    Unreachable,
    WrongPassword,
    open_store,
    secure_url,
)
from tests.pg import MEMBERS

ANN = "ann@team.example"


def test_a_plain_connection_to_another_computer_is_refused_before_anything_is_sent():
    for mode in ("disable", "allow", "prefer", "require", "verify-ca"):
        with pytest.raises(BadAddress, match="sslmode=verify-full"):
            secure_url(f"postgresql://db.team.example/sales?sslmode={mode}")
    url = secure_url("postgresql://db.team.example/sales")
    assert url.query["sslmode"] == "verify-full" and url.query["sslrootcert"] == "system"
    # this computer itself may be reached without TLS
    assert "sslmode" not in secure_url("postgresql://127.0.0.1:5432/sales").query
    assert "sslmode" not in secure_url("postgresql:///sales?host=/run/postgresql").query


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://db/sales", "not a PostgreSQL address"),
        ("postgresql://db.team.example", "names no database"),
        ("postgresql://ann:secret@db.team.example/sales", "Leave the password out"),
    ],
)
def test_bad_addresses_get_a_plain_message(tmp_path, url, message):
    with pytest.raises(BadAddress, match=message):
        connect(tmp_path, MemorySecrets(), url, ANN, "pw")


def test_tls_with_the_right_ca_works_by_name_and_an_untrusted_one_is_refused(team_db, pg_cluster):
    # db.team.example is "another computer" to calsync (verify-full against that name);
    # hostaddr keeps the traffic on this machine
    url = f"postgresql://db.team.example:{pg_cluster.port}/{team_db.name}?hostaddr=127.0.0.1"
    password = MEMBERS[ANN][1]
    store = open_store(TeamServer(url, ANN, str(pg_cluster.ca)), password)
    assert store.conn.exec_driver_sql(
        "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
    ).scalar()
    store.close()
    store.engine.dispose()
    with pytest.raises(CertificateUntrusted, match="does not trust"):
        open_store(TeamServer(url, ANN, str(pg_cluster.other_ca)), password)
    # the system's authorities do not know the test CA either
    with pytest.raises(CertificateUntrusted):
        open_store(TeamServer(url, ANN), password)
    # a certificate made out to other names
    wrong_name = f"postgresql://wrong.example:{pg_cluster.port}/{team_db.name}?hostaddr=127.0.0.1"
    with pytest.raises(CertificateUntrusted):
        open_store(TeamServer(wrong_name, ANN, str(pg_cluster.ca)), password)


def test_wrong_password_unreachable_and_not_a_member_each_say_so(tmp_path, team_db, pg_cluster):
    secrets = MemorySecrets()
    with pytest.raises(WrongPassword, match="did not accept the password for ann"):
        connect(tmp_path, secrets, team_db.url, ANN, "not-the-password")
    with pytest.raises(WrongPassword):
        connect(tmp_path, secrets, team_db.url, "nobody@team.example", "whatever")
    with pytest.raises(Unreachable, match="cannot be reached"):
        connect(tmp_path, secrets, "postgresql://127.0.0.1:1/sales", ANN, "pw")
    with team_db.sql() as conn:
        conn.execute("CREATE ROLE \"eve@else.example\" LOGIN PASSWORD 'eve-pw'")
        conn.execute(f'GRANT CONNECT ON DATABASE "{team_db.name}" TO "eve@else.example"')
    try:
        with pytest.raises(NotAMember, match="not a member"):
            connect(tmp_path, secrets, team_db.url, "eve@else.example", "eve-pw")
    finally:
        pg_cluster.drop_role("eve@else.example")
    # nothing was kept of any of these
    assert secrets.values == {} and TeamServer.load(tmp_path) is None


def test_a_database_that_is_not_a_team_calendar(tmp_path, pg_cluster):
    pg_cluster.create_database("plain_db")
    try:
        with pg_cluster.admin("plain_db") as conn:
            conn.execute("GRANT CONNECT ON DATABASE plain_db TO calsync_team_calsync_template")
        with pytest.raises(NotATeamDatabase, match="not a calsync team Sales Calendar"):
            connect(tmp_path, MemorySecrets(), pg_cluster.url("plain_db"), ANN, MEMBERS[ANN][1])
        with pytest.raises(NotATeamDatabase):
            connect(tmp_path, MemorySecrets(), pg_cluster.url("no_such_db"), ANN, MEMBERS[ANN][1])
    finally:
        pg_cluster.drop_database("plain_db")


@pytest.mark.parametrize(("revision", "error"), [("9999", SchemaTooNew), ("0002", SchemaTooOld)])
def test_a_schema_of_another_version_is_named_and_left_alone(tmp_path, team_db, revision, error):
    with team_db.sql() as conn:
        conn.execute("UPDATE alembic_version SET version_num = %s", (revision,))
    with pytest.raises(error):
        connect(tmp_path, MemorySecrets(), team_db.url, ANN, MEMBERS[ANN][1])
    if error is SchemaTooNew:
        with pytest.raises(SchemaTooNew):
            admin.init(team_db.admin_url)
    with team_db.sql() as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] == revision


def test_connect_keeps_the_password_in_the_keyring_and_disconnect_goes_back(
    tmp_path, team_db, clock
):
    secrets = MemorySecrets()
    home = tmp_path / "home"
    local = Services.create(home=home, secrets=secrets, env={}, clock=clock)
    local.store.set_setting("profile.name", "Ann on her laptop")
    local.store.close()
    connect(home / "data", secrets, team_db.url, ANN.upper(), MEMBERS[ANN][1]).close()
    saved = (home / "data" / "team-server.json").read_text()
    assert MEMBERS[ANN][1] not in saved
    assert (home / "data" / "team-server.json").stat().st_mode & 0o777 == 0o600
    assert list(secrets.values.values()) == [MEMBERS[ANN][1]]
    team = Services.create(home=home, secrets=secrets, env={}, clock=clock)
    assert team.store.is_team and team.store.owner == ANN
    assert team.store.get_setting("profile.name") == ""
    team.store.close()
    team.store.engine.dispose()
    assert disconnect(home / "data", secrets).user == ANN
    assert secrets.values == {}
    back = Services.create(home=home, secrets=secrets, env={}, clock=clock)
    assert not back.store.is_team
    assert back.store.get_setting("profile.name") == "Ann on her laptop"
    back.store.close()


def test_a_missing_keyring_password_is_explained(tmp_path, team_db):
    (tmp_path / "data").mkdir()
    TeamServer(team_db.url, ANN).save(tmp_path / "data")
    with pytest.raises(NoPassword, match="holds no team server password"):
        Services.create(home=tmp_path, secrets=MemorySecrets(), env={})


# --------------------------------------------------------------------------- administration


def test_init_is_idempotent_and_refuses_a_database_of_something_else(pg_cluster):
    pg_cluster.create_database("fresh_team")
    pg_cluster.create_database("crm_db")
    try:
        first = admin.init(pg_cluster.admin_url("fresh_team"))
        again = admin.init(pg_cluster.admin_url("fresh_team"))
        assert first.created and not again.created
        assert first.group_role == again.group_role == "calsync_team_fresh_team"
        with pg_cluster.admin("crm_db") as conn:
            conn.execute("CREATE TABLE customers (id int)")
        with pytest.raises(admin.ForeignTables, match="customers"):
            admin.init(pg_cluster.admin_url("crm_db"))
        with pg_cluster.admin("crm_db") as conn:
            assert conn.execute("SELECT to_regclass('appointments')").fetchone()[0] is None
    finally:
        pg_cluster.drop_database("fresh_team")
        pg_cluster.drop_database("crm_db")
        pg_cluster.drop_role("calsync_team_fresh_team")


def test_members_are_added_listed_and_removed(team_db, pg_cluster, clock):
    email = "cy.new@team.example"
    password = admin.add_member(team_db.admin_url, email, name="Cy New")
    try:
        assert len(password) >= 20
        with pytest.raises(admin.MemberExists):
            admin.add_member(team_db.admin_url, email)
        listed = {m.email: m for m in admin.members(team_db.admin_url)}
        assert set(listed) == {*MEMBERS, email}
        assert listed[email].name == "Cy New" and listed[email].can_log_in
        # the password never reached the server in clear: it keeps a SCRAM verifier
        with team_db.sql() as conn:
            (verifier,) = conn.execute(
                "SELECT rolpassword FROM pg_authid WHERE rolname = %s", (email,)
            ).fetchone()
        assert verifier.startswith("SCRAM-SHA-256$") and password not in verifier
        cy = open_store(TeamServer(team_db.url, email), password, clock)
        from tests.store.test_store import appt

        cy.add_appointment(appt())
        cy.close()
        cy.engine.dispose()
        assert admin.remove_member(team_db.admin_url, email, keep_appointments=True) == 1
        with team_db.sql() as conn:
            assert conn.execute(
                "SELECT count(*) FROM appointments WHERE owner = %s", (email,)
            ).fetchone() == (1,)
        with pytest.raises(psycopg.OperationalError):
            team_db.sql(email, password)
        assert email not in {m.email for m in admin.members(team_db.admin_url)}
        with pytest.raises(admin.NoSuchMember):
            admin.remove_member(team_db.admin_url, email, keep_appointments=False)
    finally:
        pg_cluster.drop_role(email)


def test_a_member_given_a_password_on_stdin_keeps_it(team_db, pg_cluster):
    email = "dee@team.example"
    try:
        assert admin.add_member(team_db.admin_url, email, password="chosen-by-dee") == (
            "chosen-by-dee"
        )
        team_db.sql(email, "chosen-by-dee").close()
        with pytest.raises(BadAddress):
            admin.add_member(team_db.admin_url, "not-an-email")
    finally:
        pg_cluster.drop_role(email)
