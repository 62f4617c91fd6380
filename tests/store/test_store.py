"""The Sales Calendar store, on real SQLite files and on a real PostgreSQL team
database (as a member): every test that takes ``store`` runs on both."""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, event

from calsync_desktop.accounts.base import Account
from calsync_desktop.model import (
    MAX_CONTENTS,
    Appointment,
    InvalidAppointment,
    InviteStatus,
    OccurrenceOverride,
    Participant,
    Recurrence,
    new_id,
)
from calsync_desktop.store import StatusRow, Store, head_revision, migrate
from calsync_desktop.store import _on_connect as on_connect

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def appt(**kw) -> Appointment:
    values = dict(
        id=new_id(),
        contents="Call\nwith notes",
        start=T0,
        end=T0 + timedelta(hours=1),
        timezone="Europe/Berlin",
    )
    values.update(kw)
    return Appointment(**values)


def every_field() -> Appointment:
    return appt(
        location="HQ",
        private=True,
        participants=(
            Participant("Ann", "ann@x.example", InviteStatus.ACCEPTED),
            Participant("No Mail"),
        ),
        recurrence=Recurrence(
            "FREQ=WEEKLY;BYDAY=MO,WE;COUNT=8",
            exdates=(T0 + timedelta(days=7),),
            overrides=(
                OccurrenceOverride(
                    T0 + timedelta(days=14),
                    "Moved",
                    "Cafe",
                    T0 + timedelta(days=14, hours=2),
                    T0 + timedelta(days=14, hours=3),
                ),
            ),
        ),
        account_id=None,
        ical_uid="uid-1@example",
    )


def test_round_trip_of_every_field(store):
    a = every_field()
    saved = store.add_appointment(a)
    assert store.get_appointment(a.id) == saved


@pytest.mark.sqlite_only
def test_file_is_wal_with_foreign_keys(services):
    conn = sqlite3.connect(services.db_path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
    assert services.store.conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_every_change_bumps_the_change_counter(store):
    before = store.change_seq()
    a = store.add_appointment(appt())
    store.update_appointment(a.with_changes(location="x"))
    store.delete_appointment(a.id)
    assert store.change_seq() == before + 3
    assert [x.id for x, _ in store.changed_since(before)] == []


def test_deleting_a_linked_appointment_leaves_a_tombstone(store):
    account = store.add_account(Account(id="acc", kind="memory", name="A", email="a@x"))
    a = store.add_appointment(appt())
    unlinked = store.add_appointment(appt())
    store.put_status(account.id, StatusRow(a.id, "remote-1", "v1", {}, 1))
    store.delete_appointment(a.id)
    store.delete_appointment(unlinked.id)
    assert [t.local_id for t in store.tombstones(account.id)] == [a.id]


def test_a_tombstone_remembers_the_appointment_as_it_was_when_deleted(store):
    account = store.add_account(Account(id="acc", kind="memory", name="A", email="a@x"))
    a = store.add_appointment(every_field())
    store.put_status(account.id, StatusRow(a.id, "remote-1", "v1", {}, 1))
    store.delete_appointment(a.id)
    [tombstone] = store.tombstones(account.id)
    assert tombstone.appointment == a


def test_occurrences_apply_exdates_and_overrides_across_dst(store):
    berlin = ZoneInfo("Europe/Berlin")
    start = datetime(2026, 10, 19, 9, 0, tzinfo=berlin)  # a week before the change to winter time
    a = store.add_appointment(
        appt(
            start=start,
            end=start + timedelta(hours=1),
            timezone="Europe/Berlin",
            recurrence=Recurrence("FREQ=WEEKLY;COUNT=3", exdates=(), overrides=()),
        )
    )
    shown = store.occurrences_between(start - timedelta(days=1), start + timedelta(days=30))
    assert [o.start.astimezone(berlin).hour for o in shown] == [9, 9, 9]
    assert shown[1].start - shown[0].start == timedelta(days=7, hours=1)  # 25-hour Sunday
    assert shown[0].appointment.id == a.id


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (dict(recurrence=Recurrence("FREQ=SOMETIMES")), "Invalid recurrence rule"),
        (dict(end=T0 - timedelta(minutes=1)), "ends before it starts"),
        (dict(timezone="Mars/Olympus_Mons"), "Unknown time zone"),
        (dict(contents="x" * (MAX_CONTENTS + 1)), "too long"),
        (dict(start=datetime(2026, 11, 23, 9, 0)), "time zone"),
    ],
)
def test_bad_input_gets_a_clear_error_and_nothing_is_stored(store, change, message):
    with pytest.raises(InvalidAppointment, match=message):
        store.add_appointment(appt(**change))
    assert store.count_appointments() == 0


def test_huge_but_allowed_contents_are_kept_whole(store):
    text = "Title\n" + "é" * (MAX_CONTENTS - 10)
    a = store.add_appointment(appt(contents=text))
    assert store.get_appointment(a.id).contents == text


def test_a_store_per_thread_sees_the_others_writes(store):
    a = store.add_appointment(appt())
    seen = {}

    def worker():
        other = store.reopen()
        seen["a"] = other.get_appointment(a.id)
        other.update_appointment(seen["a"].with_changes(location="from the worker"))
        other.close()

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert seen["a"].id == a.id
    assert store.get_appointment(a.id).location == "from the worker"


def test_settings_have_defaults_and_keep_types(store):
    assert store.get_setting("sync.interval_minutes") == 5
    store.set_setting("sync.interval_minutes", 15)
    store.set_setting("profile.email", "me@x.example")
    assert store.get_setting("sync.interval_minutes") == 15
    assert store.get_setting("profile.email") == "me@x.example"


def test_removing_an_account_can_keep_or_delete_its_appointments(store):
    for keep in (True, False):
        account = store.add_account(Account(id=new_id(), kind="memory", name="A", email="a@x"))
        a = store.add_appointment(appt(account_id=account.id))
        store.put_status(account.id, StatusRow(a.id, "r-" + a.id, "v", {}, 1))
        store.remove_account(account.id, keep_appointments=keep)
        kept = store.get_appointment(a.id)
        assert (kept is not None) is keep
        if keep:
            assert kept.account_id is None
        assert store.all_status(account.id) == {}


# --------------------------------------------------------------------------- migrations


def _engine(path):
    engine = create_engine(f"sqlite:///{path}")
    event.listen(engine, "connect", on_connect)
    return engine


def test_a_database_of_the_first_schema_upgrades_cleanly_with_a_backup(tmp_path):
    path = tmp_path / "old.sqlite3"
    engine = _engine(path)
    migrate(engine, path, revision="0001")
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO accounts (id, kind, name) VALUES ('acc', 'google', 'Work')"
        )
        conn.exec_driver_sql(
            'INSERT INTO appointments (id, contents, start, "end", timezone, created, modified,'
            " seq, last_end) VALUES ('a1', 'Old appointment', '2026-11-01T09:00:00.000000Z',"
            " '2026-11-01T10:00:00.000000Z', 'UTC', '2026-10-01T09:00:00.000000Z',"
            " '2026-10-01T09:00:00.000000Z', 1, '2026-11-01T10:00:00.000000Z')"
        )
        conn.exec_driver_sql(
            "INSERT INTO conflicts (account_id, appointment_id, field, kept_value, lost_value,"
            " lost_side, at) VALUES ('acc', 'a1', 'location', 'A', 'B', 'local',"
            " '2026-10-02T09:00:00.000000Z')"
        )
    engine.dispose()

    store = Store.open(path)
    assert store.get_appointment("a1").contents == "Old appointment"
    assert store.get_account("acc").name == "Work"
    (conflict,) = store.conflicts()
    assert conflict.lost_value == "B" and conflict.restored is False
    assert store.skipped() == []
    store.close()
    backups = list(tmp_path.glob("old.sqlite3.before-*.bak"))
    assert len(backups) == 1
    backup = sqlite3.connect(backups[0])
    assert backup.execute("SELECT version_num FROM alembic_version").fetchone()[0] == "0001"
    backup.close()


def test_opening_a_current_database_makes_no_backup(tmp_path):
    path = tmp_path / "cal.sqlite3"
    Store.open(path).close()
    Store.open(path).close()
    assert list(tmp_path.glob("*.bak")) == []
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] == head_revision()
    conn.close()


def test_the_newest_migration_matches_the_schema_module(tmp_path):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from calsync_desktop.store.schema import metadata

    path = tmp_path / "cal.sqlite3"
    Store.open(path).close()
    engine = _engine(path)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    engine.dispose()
    assert diff == []


@pytest.mark.parametrize("rule", ["FREQ=DAILY;COUNT=100000", "FREQ=SECONDLY;COUNT=5", "COUNT=3"])
def test_rules_calendars_cannot_hold_are_refused(store, rule):
    with pytest.raises(InvalidAppointment, match="Invalid recurrence rule"):
        store.add_appointment(appt(recurrence=Recurrence(rule)))


def test_a_store_can_be_opened_from_an_engine_url(tmp_path):
    url = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    store = Store.open_url(url)
    a = store.add_appointment(appt(participants=(Participant("Ann", "ann@x.example"),)))
    store.close()
    again = Store.open_url(url)
    assert again.get_appointment(a.id) == a
    assert again.conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    again.close()
