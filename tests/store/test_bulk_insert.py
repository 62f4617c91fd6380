"""Bulk inserts store exactly what SQLAlchemy's own INSERT stores, on SQLite and
on a team's PostgreSQL alike (the ``store`` fixture runs on both engines)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from calsync_desktop.accounts.base import Account
from calsync_desktop.model import Appointment, Participant, new_id
from calsync_desktop.store import StatusRow
from calsync_desktop.store import schema as t
from calsync_desktop.store.bulk import insert_many, insert_tuples

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def rows(n: int, owner: str, prefix: str = "id") -> list[dict]:
    zones = (UTC, ZoneInfo("Europe/Berlin"), timezone(timedelta(hours=-5, minutes=-30)))
    out = []
    for i in range(n):
        start = (T0 + timedelta(hours=i, microseconds=i)).astimezone(zones[i % 3])
        # one object in two time columns of a row (processed once), or not
        end = start if i % 6 == 5 else start + timedelta(hours=1)
        out.append(
            {
                "id": f"{prefix}-{i:03d}",
                "owner": owner,
                "contents": f"Visit {i}\n'quoted' \"text\" ; DROP TABLE x; -- %s %(x)s ?",
                "location": "" if i % 2 else "Room ü",
                "start": start,
                "end": end,
                "timezone": "Europe/Berlin",
                "all_day": i % 4 == 0,
                "private": i % 3 == 0,
                "rrule": None if i % 5 else "FREQ=DAILY;COUNT=3",
                "exdates": "[]",
                "last_end": None if i % 7 == 0 else end if i % 2 else start + timedelta(hours=1),
                "created": T0,
                "modified": T0,
                "account_id": None,
                "seq": i + 1,
                "ical_uid": None if i % 2 else f"uid-{i}@x",
            }
        )
    return out


def stored(store, prefix: str) -> list[tuple]:
    a = t.appointments.c
    query = select(t.appointments).where(a.id.like(f"{prefix}-%")).order_by(a.id)
    return [tuple(r)[1:] for r in store.conn.execute(query)]  # all but the id


def test_the_same_rows_as_sqlalchemys_insert(store):
    with store.transaction() as conn:
        insert_many(conn, t.appointments, rows(40, store.owner, "ours"))
        conn.execute(insert(t.appointments), rows(40, store.owner, "theirs"))
    ours = stored(store, "ours")
    assert len(ours) == 40
    assert ours == stored(store, "theirs")
    assert store.get_appointment("ours-001").start == T0 + timedelta(hours=1, microseconds=1)


def test_columns_in_any_order(store):
    data = rows(6, store.owner)
    shuffled = [dict(reversed(list(r.items()))) for r in data[3:]]
    with store.transaction() as conn:
        insert_many(conn, t.appointments, data[:3] + shuffled)
        insert_many(conn, t.counters, [])
    assert len(store.get_appointments([r["id"] for r in data])) == 6


def test_rows_as_tuples_store_what_mappings_store_in_any_column_order(store):
    data = rows(12, store.owner, "tuples")
    columns = tuple(reversed(list(data[0])))  # not the statement's order
    with store.transaction() as conn:
        insert_tuples(conn, t.appointments, columns, [tuple(r[c] for c in columns) for r in data])
        conn.execute(insert(t.appointments), rows(12, store.owner, "theirs"))
        insert_tuples(conn, t.counters, ("name",), [])
    ours = stored(store, "tuples")
    assert len(ours) == 12
    assert ours == stored(store, "theirs")


def test_a_failing_row_rolls_back_the_whole_insert(store):
    data = rows(5, store.owner)
    data[3]["id"] = data[1]["id"]  # a duplicate primary key
    with pytest.raises(IntegrityError), store.transaction() as conn:
        insert_many(conn, t.appointments, data)
    assert store.count_appointments() == 0


def test_a_naive_time_is_refused(store):
    data = rows(2, store.owner)
    data[1]["start"] = datetime(2026, 1, 1, 9)
    with pytest.raises(ValueError, match="naive"), store.transaction() as conn:
        insert_many(conn, t.appointments, data)
    assert store.count_appointments() == 0


def test_imported_appointments_and_links_read_back_whole(store):
    account = store.add_account(Account(id=new_id(), kind="google", name="G", email="me@x"))
    items = [
        Appointment(
            new_id(),
            f"Visit {i}\nnotes",
            T0 + timedelta(days=i),
            T0 + timedelta(days=i, hours=1),
            "Europe/Berlin",
            participants=(Participant("Ann", f"ann{i}@x.example"), Participant("No mail")),
            created=T0,
            modified=T0,
        )
        for i in range(3)
    ]
    seqs = store.insert_appointments(items)
    snapshot = {"local": {"contents": "x"}, "remote": {"contents": "x"}}
    store.add_statuses(
        account.id,
        [
            StatusRow(a.id, f"r{i}", "v1", snapshot, s)
            for i, (a, s) in enumerate(zip(items, seqs, strict=True))
        ],
    )
    assert store.get_appointments([a.id for a in items]) == {a.id: a for a in items}
    status = store.all_status(account.id)
    assert {s.remote_id for s in status.values()} == {"r0", "r1", "r2"}
    assert all(s.snapshot == snapshot for s in status.values())
    assert store.appointment_seqs([a.id for a in items]) == dict(
        zip([a.id for a in items], seqs, strict=True)
    )


def test_an_appointment_inserted_again_is_no_longer_deleted(store):
    account = store.add_account(Account(id=new_id(), kind="google", name="G", email="me@x"))
    gone = Appointment(
        new_id(), "Visit", T0, T0 + timedelta(hours=1), "UTC", created=T0, modified=T0
    )
    store.insert_appointments([gone])
    store.add_statuses(account.id, [StatusRow(gone.id, "r0", "v1", {}, 1)])
    store.delete_appointment(gone.id)
    assert [x.local_id for x in store.tombstones(account.id)] == [gone.id]
    fresh = Appointment(
        new_id(), "Other", T0, T0 + timedelta(hours=1), "UTC", created=T0, modified=T0
    )
    store.insert_appointments([fresh])
    assert [x.local_id for x in store.tombstones(account.id)] == [gone.id]
    store.insert_appointments([gone])
    assert store.tombstones(account.id) == []
