"""The first sync after the migration that added show-as and the meeting fields
(SPEC §10) fills them from the service and writes nothing to any service."""

from __future__ import annotations

import json
from dataclasses import replace

from alembic import command
from sqlalchemy import create_engine, event

from calsync_desktop.model import MyResponse, Organizer, ShowAs
from calsync_desktop.store import Store, _on_connect
from calsync_desktop.store.upgrade import _alembic_config
from calsync_desktop.sync.snapshot import ALL_FIELDS

from .harness import Harness

NEW_FIELDS = ("show_as", "join_url", "organizer", "my_response")
JOIN = "https://meet.google.com/abc-defg-hij"


def as_before_the_migration(path) -> None:
    """The file as calsync left it before availability and meetings: schema
    0007, and snapshots without the new fields."""
    engine = create_engine(f"sqlite:///{path}")
    event.listen(engine, "connect", _on_connect)
    config = _alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0007")
        columns = [r[1] for r in conn.exec_driver_sql("PRAGMA table_info(appointments)")]
        assert "show_as" not in columns and "join_url" not in columns
        for local_id, snapshot in conn.exec_driver_sql(
            "SELECT local_id, snapshot FROM sync_status"
        ).fetchall():
            old = json.loads(snapshot)
            for side in old.values():
                for name in NEW_FIELDS:
                    side.pop(name)
            conn.exec_driver_sql(
                "UPDATE sync_status SET snapshot = ? WHERE local_id = ?",
                (json.dumps(old), local_id),
            )
    engine.dispose()


def test_the_first_sync_after_the_migration_fills_them_without_a_write_to_the_service(
    tmp_path, clock
):
    path = tmp_path / "cal.sqlite3"
    h = Harness(Store.open(path, clock), clock)
    mine = h.add_local("Pipeline review")
    plain = h.add_local("Call Initech")
    theirs = h.add_remote("Quarterly review")
    h.sync()
    assert len(h.calendar.events) == 3
    # what the service held all along, and calsync before 0008 did not read:
    # the same events at the same versions
    events = h.calendar.events
    pushed = h.remote_for(mine.id)
    events[pushed.remote_id] = replace(pushed, show_as=ShowAs.FREE)
    events[theirs.remote_id] = replace(
        events[theirs.remote_id],
        show_as=ShowAs.TENTATIVE,
        join_url=JOIN,
        organizer_is_self=False,
        organizer=Organizer("Dana Boss", "dana@acme.example"),
        my_response=MyResponse.TENTATIVE,
    )
    versions = {rid: e.version for rid, e in events.items()}
    h.store.close()
    h.store.engine.dispose()
    as_before_the_migration(path)

    h.store = Store.open(path, clock)
    h.batches.clear()
    result = h.sync()
    assert h.batches == [], "nothing is written to the service"
    assert {rid: e.version for rid, e in events.items()} == versions
    assert h.local(mine.id).show_as is ShowAs.FREE
    assert h.local(plain.id).show_as is ShowAs.BUSY
    pulled = h.local_for(theirs.remote_id)
    assert pulled.show_as is ShowAs.TENTATIVE
    assert pulled.join_url == JOIN
    assert pulled.organizer == Organizer("Dana Boss", "dana@acme.example")
    assert pulled.my_response is MyResponse.TENTATIVE
    assert result.errors == [] if hasattr(result, "errors") else True
    # the links know the fields now: the next sync has nothing to do
    status = h.store.all_status(h.account.id)
    assert all(set(ALL_FIELDS) <= set(row.snapshot["remote"]) for row in status.values())
    seq = h.store.change_seq()
    h.sync()
    assert h.batches == [] and h.store.change_seq() == seq
    assert h.store.count_appointments() == 3
