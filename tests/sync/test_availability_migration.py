"""The first sync after the migrations that added show-as and the meeting fields
(SPEC §10), and later whether an organiser lets the guests modify the meeting,
fills them from the service and writes nothing to any service."""

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


def without_meetings(side: dict) -> None:
    for name in NEW_FIELDS:
        side.pop(name)


def without_guests_may_modify(side: dict) -> None:
    if side["organizer"] is not None:
        side["organizer"] = side["organizer"][:2]


def as_before_the_migration(path, revision="0007", dropped=("show_as", "join_url")) -> None:
    """The file as calsync left it before availability and meetings (or before
    ``revision``'s successor): that schema, and snapshots as they were then."""
    forget = without_meetings if revision == "0007" else without_guests_may_modify
    engine = create_engine(f"sqlite:///{path}")
    event.listen(engine, "connect", _on_connect)
    config = _alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, revision)
        columns = [r[1] for r in conn.exec_driver_sql("PRAGMA table_info(appointments)")]
        assert not set(dropped) & set(columns)
        for local_id, snapshot in conn.exec_driver_sql(
            "SELECT local_id, snapshot FROM sync_status"
        ).fetchall():
            old = json.loads(snapshot)
            for side in old.values():
                forget(side)
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


def test_the_first_sync_after_it_knows_which_organisers_let_guests_modify(tmp_path, clock):
    path = tmp_path / "cal.sqlite3"
    h = Harness(Store.open(path, clock), clock)
    lets = h.add_remote("Team offsite planning")
    keeps = h.add_remote("Quarterly review")
    events = h.calendar.events
    for made, may in ((lets, True), (keeps, False)):
        events[made.remote_id] = replace(
            events[made.remote_id],
            organizer_is_self=False,
            organizer=Organizer("Dana Boss", "dana@acme.example"),
            guests_can_modify=may,
        )
    h.sync()
    versions = {rid: e.version for rid, e in events.items()}
    h.store.close()
    h.store.engine.dispose()
    as_before_the_migration(path, "0008", dropped=("guests_can_modify",))

    h.store = Store.open(path, clock)
    assert not h.local_for(lets.remote_id).organizer.guests_can_modify  # not known yet
    h.batches.clear()
    h.sync()
    assert h.batches == [], "nothing is written to the service"
    assert {rid: e.version for rid, e in events.items()} == versions
    assert h.local_for(lets.remote_id).organizer == Organizer(
        "Dana Boss", "dana@acme.example", guests_can_modify=True
    )
    assert not h.local_for(keeps.remote_id).organizer.guests_can_modify
    seq = h.store.change_seq()
    h.sync()
    assert h.batches == [] and h.store.change_seq() == seq
