"""What PostgreSQL itself lets a member do on a team server (SPEC §8): raw SQL
under the member's own login role, as psql would send it, and the same through
the app's store API. Each refusal here fails if a policy, a view's redaction or
a revoked right goes missing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from calsync_desktop.accounts.base import Account
from calsync_desktop.model import (
    Appointment,
    OccurrenceOverride,
    Participant,
    Recurrence,
    new_id,
)
from calsync_desktop.store import NotYours, StatusRow
from calsync_desktop.team import security

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
ANN, BOB = "ann@team.example", "bob@team.example"
SECRET = "Divorce lawyer\nabout the house"


@pytest.fixture
def team(team_db, clock):
    """Ann's and Bob's apps on one team database: Bob has a private and a
    public appointment, an account with settings, status, a conflict and a
    skipped item."""
    ann = team_db.open_store(ANN, clock)
    bob = team_db.open_store(BOB, clock)
    account = bob.add_account(
        Account(
            id="bob-acc",
            kind="exchange",
            name="Bob at work",
            email=BOB,
            settings={"server_url": "https://mail.bob.example/EWS/Exchange.asmx"},
            sync_state="bob-sync-state",
        )
    )
    private = bob.add_appointment(
        Appointment(
            id=new_id(),
            contents=SECRET,
            start=T0,
            end=T0 + timedelta(hours=1),
            location="Lawyer's office",
            private=True,
            participants=(Participant("Lawyer", "lawyer@law.example"),),
            account_id=account.id,
        )
    )
    public = bob.add_appointment(
        Appointment(
            id=new_id(),
            contents="Demo at Acme",
            start=T0 + timedelta(hours=3),
            end=T0 + timedelta(hours=4),
            location="Acme HQ",
            participants=(Participant("Cy", "cy@acme.example"),),
            account_id=account.id,
        )
    )
    bob.put_status(account.id, StatusRow(private.id, "remote-private", "v1", {"x": 1}, 1))
    bob.log_conflict(account.id, public.id, "location", "Acme HQ", "Acme Annex", "remote")
    bob.set_setting("profile.email", BOB)
    yield team_db, ann, bob, private, public
    for s in (ann, bob):
        s.close()
        s.engine.dispose()


def rows(conn, query, *params):
    return conn.execute(query, params).fetchall()


# --------------------------------------------------------------------------- reading


def test_a_colleagues_private_appointment_yields_only_owner_times_and_flag(team):
    db, _, _, private, _ = team
    with db.sql(ANN) as conn:
        (row,) = rows(
            conn,
            'SELECT owner, start, "end", private, contents, location, account_id, ical_uid'
            " FROM team_appointments WHERE id = %s",
            private.id,
        )
        assert row[:4] == (BOB, "2026-11-24T09:00:00.000000Z", "2026-11-24T10:00:00.000000Z", True)
        assert row[4:] == (None, None, None, None)
        assert (
            rows(conn, "SELECT * FROM team_participants WHERE appointment_id = %s", private.id)
            == []
        )
        # not even by way of a function that sees every row it is handed
        everything = rows(conn, "SELECT t::text FROM team_appointments t")
        assert not any("Divorce" in r[0] or "Lawyer" in r[0] for r in everything)


def test_a_colleagues_private_contents_are_not_in_the_tables_either(team):
    db, _, _, private, _ = team
    with db.sql(ANN) as conn:
        assert rows(conn, "SELECT contents FROM appointments WHERE id = %s", private.id) == []
        assert rows(conn, "SELECT * FROM participants WHERE appointment_id = %s", private.id) == []
        assert rows(conn, "SELECT * FROM recurrence_overrides WHERE owner = %s", BOB) == []
        seen = rows(conn, "SELECT count(*) FROM appointments WHERE contents LIKE %s", "%Divorce%")
        assert seen == [(0,)]


def test_a_colleagues_other_appointments_are_readable_whole(team):
    db, _, _, _, public = team
    with db.sql(ANN) as conn:
        (row,) = rows(
            conn, "SELECT contents, location FROM team_appointments WHERE id = %s", public.id
        )
        assert row == ("Demo at Acme", "Acme HQ")
        assert rows(
            conn, "SELECT name, email FROM team_participants WHERE appointment_id = %s", public.id
        ) == [("Cy", "cy@acme.example")]


def test_a_colleagues_accounts_show_only_name_and_kind(team):
    db, *_ = team
    with db.sql(ANN) as conn:
        assert rows(conn, "SELECT * FROM team_accounts") == [
            ("bob-acc", BOB, "exchange", "Bob at work")
        ]
        assert rows(conn, "SELECT * FROM accounts") == []
        for table in ("sync_status", "conflicts", "skipped", "tombstones", "settings"):
            assert rows(conn, f"SELECT * FROM {table}") == [], table


def test_a_member_sees_all_of_their_own(team):
    db, *_ = team
    with db.sql(BOB) as conn:
        assert rows(conn, "SELECT contents FROM appointments ORDER BY start")[0] == (SECRET,)
        assert rows(conn, "SELECT settings FROM accounts")[0][0].startswith('{"server_url"')
        assert len(rows(conn, "SELECT * FROM sync_status")) == 1
        assert len(rows(conn, "SELECT * FROM conflicts")) == 1


# --------------------------------------------------------------------------- writing


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE appointments SET contents = 'hacked' WHERE owner = 'bob@team.example'",
        "DELETE FROM appointments WHERE owner = 'bob@team.example'",
        "UPDATE accounts SET settings = '{}'",
        "DELETE FROM sync_status",
        "UPDATE counters SET value = 0",
    ],
)
def test_a_member_cannot_change_or_delete_a_colleagues_rows(team, statement):
    db, *_ = team
    with db.sql(ANN) as conn:
        assert conn.execute(statement).rowcount == 0
    with db.sql() as admin:
        assert rows(admin, "SELECT count(*) FROM appointments WHERE owner = %s", BOB) == [(2,)]
        assert rows(admin, "SELECT count(*) FROM sync_status") == [(1,)]
        assert (
            rows(admin, "SELECT contents FROM appointments WHERE owner = %s", BOB)[0][0] != "hacked"
        )


@pytest.mark.parametrize(
    "statement",
    [
        # a row in a colleague's name
        'INSERT INTO appointments (id, owner, contents, start, "end", timezone, created,'
        " modified, seq) VALUES ('x', 'bob@team.example', 'fake', '2026-11-24T09:00:00.000000Z',"
        " '2026-11-24T10:00:00.000000Z', 'UTC', '2026-11-24T09:00:00.000000Z',"
        " '2026-11-24T09:00:00.000000Z', 1)",
        # giving one's own row away
        "UPDATE settings SET owner = 'bob@team.example'",
    ],
)
def test_a_member_cannot_write_in_a_colleagues_name(team, statement):
    db, ann, *_ = team
    ann.set_setting("profile.name", "Ann")
    with db.sql(ANN) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute(statement)


def test_a_member_cannot_attach_rows_to_a_colleagues_appointment_or_account(team):
    db, _, _, _, public = team
    with db.sql(ANN) as conn:
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            conn.execute(
                "INSERT INTO participants (appointment_id, position, name, email)"
                " VALUES (%s, 9, 'Intruder', 'x@evil.example')",
                (public.id,),
            )
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            conn.execute(
                "INSERT INTO sync_status (account_id, local_id, remote_id) VALUES"
                " ('bob-acc', 'l', 'remote-of-ann')"
            )


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE team_appointments SET start = start",
        "DELETE FROM team_appointments",
        "INSERT INTO team_members (role, email) VALUES ('x', 'x@y.z')",
        "UPDATE alembic_version SET version_num = '9999'",
        "DROP POLICY own_rows ON appointments",
        "ALTER TABLE appointments DISABLE ROW LEVEL SECURITY",
        "ALTER TABLE appointments NO FORCE ROW LEVEL SECURITY",
        'GRANT "bob@team.example" TO "ann@team.example"',
        'GRANT calsync_team_calsync_template TO "bob@team.example"',
        "CREATE ROLE mallory LOGIN PASSWORD 'x'",
        "CREATE TABLE stash (x text)",
        "CREATE TEMP TABLE stash (x text)",
        "CREATE OR REPLACE VIEW team_appointments AS SELECT * FROM appointments",
        'ALTER ROLE "ann@team.example" BYPASSRLS',
        'SET ROLE "bob@team.example"',
        "TRUNCATE appointments",
    ],
)
def test_a_member_cannot_change_the_rules(team, statement):
    db, *_ = team
    with db.sql(ANN) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute(statement)


def test_a_member_cannot_grant_rights_on_the_tables(team):
    db, *_ = team
    acl = (
        "SELECT relname, relacl::text FROM pg_class"
        " WHERE relnamespace = 'public'::regnamespace ORDER BY 1"
    )
    with db.sql() as admin:
        before = rows(admin, acl)
    with db.sql(ANN) as conn:
        for statement in (
            "GRANT SELECT ON appointments TO PUBLIC",
            "GRANT ALL ON team_appointments TO PUBLIC",
            'GRANT SELECT ON settings TO "bob@team.example"',
        ):
            try:  # PostgreSQL answers a grant without grant option with a warning
                conn.execute(statement)
            except psycopg.errors.InsufficientPrivilege:
                pass
    with db.sql() as admin:
        assert rows(admin, acl) == before


def test_someone_outside_the_team_cannot_even_connect(team, pg_cluster):
    db, *_ = team
    with db.sql() as admin:
        admin.execute("CREATE ROLE \"eve@else.example\" LOGIN PASSWORD 'eve-password'")
    try:
        with pytest.raises(psycopg.OperationalError, match="permission denied"):
            db.sql("eve@else.example", "eve-password")
    finally:
        pg_cluster.drop_role("eve@else.example")


def test_every_table_of_the_schema_has_its_rule():
    from calsync_desktop.store.schema import metadata

    assert set(metadata.tables) == set(security.OWNED)
    for table in metadata.tables.values():
        assert "owner" in table.c, table.name


# --------------------------------------------------------------------------- the store API


def test_through_the_store_a_colleagues_private_appointment_is_a_bare_busy_box(team):
    _, ann, _, private, public = team
    shown = {t.appointment.id: t for t in ann.team_appointments_between(T0, T0 + timedelta(days=1))}
    box = shown[private.id]
    assert (box.owner, box.mine, box.redacted) == (BOB, False, True)
    assert (box.appointment.contents, box.appointment.location) == ("", "")
    assert box.appointment.participants == () and box.appointment.account_id is None
    assert (box.appointment.start, box.appointment.end) == (private.start, private.end)
    assert shown[public.id].appointment.contents == "Demo at Acme"
    assert not shown[public.id].redacted
    # the member's own calendar holds none of it
    assert ann.get_appointment(private.id) is None
    assert ann.appointments_between(T0, T0 + timedelta(days=1)) == []


def test_through_the_store_a_colleagues_series_comes_whole_and_a_private_one_as_times(team):
    _, ann, bob, *_ = team
    week = timedelta(days=7)

    def weekly(first: datetime, moved_to: str) -> Recurrence:
        third = first + 2 * week
        hour = timedelta(hours=1)
        return Recurrence(
            "FREQ=WEEKLY;COUNT=4",
            exdates=(first + week,),
            overrides=(
                OccurrenceOverride(third, moved_to, "Room 2", third + hour, third + 2 * hour),
            ),
        )

    people = (Participant("Cy", "cy@acme.example"), Participant("Di", "di@acme.example"))
    review = bob.add_appointment(
        Appointment(
            new_id(),
            "Pipeline review",
            T0,
            T0 + timedelta(hours=1),
            participants=people,
            recurrence=weekly(T0, "Pipeline review, later"),
        )
    )
    later = T0 + timedelta(hours=5)
    therapy = bob.add_appointment(
        Appointment(
            new_id(),
            SECRET,
            later,
            later + timedelta(hours=1),
            location="Lawyer's office",
            private=True,
            participants=people,
            recurrence=weekly(later, "Lawyer, moved"),
        )
    )
    third_week = T0 + 2 * week
    shown = {
        t.appointment.id: t
        for t in ann.team_appointments_between(third_week, third_week + timedelta(days=1))
    }
    assert shown[review.id].appointment == bob.get_appointment(review.id)
    assert not shown[review.id].redacted
    box = shown[therapy.id].appointment
    assert shown[therapy.id].redacted
    assert (box.contents, box.location, box.participants) == ("", "", ())
    assert box.recurrence.rrule == therapy.recurrence.rrule
    assert box.recurrence.exdates == therapy.recurrence.exdates
    (moved,) = box.recurrence.overrides
    original = therapy.recurrence.overrides[0]
    assert (moved.original_start, moved.start, moved.end) == (
        original.original_start,
        original.start,
        original.end,
    )
    assert (moved.contents, moved.location) == ("", "")


def test_through_the_store_a_colleagues_appointment_cannot_be_changed(team):
    _, ann, bob, _, public = team
    with pytest.raises(NotYours, match=r"belongs to bob@team\.example"):
        ann.update_appointment(public.with_changes(contents="mine now"))
    with pytest.raises(NotYours):
        ann.save_appointment(public.with_changes(contents="mine now"))
    with pytest.raises(NotYours):
        ann.delete_appointment(public.id)
    assert bob.get_appointment(public.id) == public


def test_through_the_store_a_member_sees_only_their_own_bookkeeping(team):
    _, ann, bob, *_ = team
    assert ann.list_accounts() == [] and ann.conflicts() == [] and ann.skipped() == []
    assert ann.all_status("bob-acc") == {}
    assert ann.get_setting("profile.email") == ""
    assert bob.get_setting("profile.email") == BOB
    assert len(bob.conflicts()) == 1


def test_a_colleagues_change_moves_the_team_change_token(team):
    _, ann, bob, _, public = team
    before = ann.team_change_token()
    bob.update_appointment(public.with_changes(location="Acme Annex"))
    assert ann.team_change_token() != before


def test_a_colleagues_sync_history_is_not_readable_nor_writable(team):
    """The journal holds what appointments were before and after each sync,
    private ones too: a colleague reads none of it, under their own role."""
    from calsync_desktop.store.journal import Entry, Journal

    db, ann, bob, private, _ = team
    journal = Journal(bob)
    run = journal.start("bob-acc", "interval", T0)
    with bob.transaction():
        journal.add(
            run,
            [Entry(private.id, "update", "local", "r1", None, "v2", None, None, None, None)],
        )
    journal.finish(run, "done", {"update": 1}, T0)
    with db.sql(ANN) as conn:
        assert rows(conn, "SELECT * FROM journal") == []
        assert rows(conn, "SELECT * FROM sync_runs") == []
        assert conn.execute("DELETE FROM journal").rowcount == 0
        assert conn.execute("UPDATE sync_runs SET state = 'x'").rowcount == 0
    with db.sql(BOB) as conn:
        assert rows(conn, "SELECT local_id FROM journal") == [(private.id,)]
    assert Journal(ann).runs() == [] and Journal(ann).entries(run) == []
    assert [r.id for r in Journal(bob).runs()] == [run]
