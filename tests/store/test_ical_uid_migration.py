"""Upgrading to 0003: appointments remember their event's iCalUID, and every
account lists its calendar whole once so that linked appointments learn it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import create_engine, event

from calsync_desktop.model import Appointment, new_id
from calsync_desktop.store import Store, _on_connect, migrate


def test_upgrading_keeps_everything_and_makes_each_account_list_its_calendar_whole(tmp_path):
    path = tmp_path / "old.sqlite3"
    engine = create_engine(f"sqlite:///{path}")
    event.listen(engine, "connect", _on_connect)
    migrate(engine, path, revision="0002")
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO accounts (id, kind, name, sync_state, first_sync_done)"
            " VALUES ('acc', 'google', 'Work', 'token-42', 1)"
        )
        conn.exec_driver_sql(
            'INSERT INTO appointments (id, contents, start, "end", timezone, created, modified,'
            " seq, last_end, account_id) VALUES ('a1', 'Old appointment',"
            " '2026-11-01T09:00:00.000000Z', '2026-11-01T10:00:00.000000Z', 'UTC',"
            " '2026-10-01T09:00:00.000000Z', '2026-10-01T09:00:00.000000Z', 1,"
            " '2026-11-01T10:00:00.000000Z', 'acc')"
        )
    engine.dispose()

    store = Store.open(path)
    old = store.get_appointment("a1")
    assert old.contents == "Old appointment" and old.ical_uid is None
    account = store.get_account("acc")
    assert account.sync_state is None and account.first_sync_done  # a full listing, once
    store.close()


def test_an_appointment_keeps_its_ical_uid_through_edits_and_learns_it_only_once(tmp_path):
    store = Store.open(tmp_path / "cal.sqlite3")
    start = datetime(2026, 11, 24, 9, tzinfo=UTC)
    a = store.add_appointment(
        Appointment(new_id(), "Pitch", start, start + timedelta(hours=1), ical_uid="uid-1@x")
    )
    assert store.get_appointment(a.id).ical_uid == "uid-1@x"
    # an edit built afresh, without the UID, keeps it
    store.update_appointment(
        Appointment(a.id, "Pitch, moved", start, start + timedelta(hours=2), created=a.created)
    )
    assert store.get_appointment(a.id).ical_uid == "uid-1@x"
    b = store.add_appointment(Appointment(new_id(), "Demo", start, start + timedelta(hours=1)))
    seq = store.change_seq()
    store.remember_ical_uids({a.id: "uid-other@x", b.id: "uid-2@x"})
    assert store.get_appointment(a.id).ical_uid == "uid-1@x"  # the first one stays
    assert store.get_appointment(b.id).ical_uid == "uid-2@x"
    assert store.change_seq() == seq  # not an edit
    store.close()
