"""The team server's change notifications (LISTEN/NOTIFY) against a real
PostgreSQL: every committed change of an appointment is told to a listening
app with its owner; the listener survives the server going away and listens
again by itself once it is back."""

from __future__ import annotations

import queue
from datetime import UTC, datetime, timedelta

import pytest

from calsync_desktop.model import Appointment, new_id
from calsync_desktop.team.live import ChangeListener

ANN, BOB = "ann@team.example", "bob@team.example"
START = datetime(2026, 3, 23, 9, tzinfo=UTC)


def appointment(contents: str) -> Appointment:
    return Appointment(new_id(), contents, START, START + timedelta(hours=1), "Europe/Berlin")


def next_of(q: queue.Queue, wanted, timeout: float = 15.0):
    """The next item equal to ``wanted`` (earlier ones are skipped)."""
    while True:
        item = q.get(timeout=timeout)
        if item == wanted:
            return item


@pytest.fixture
def listening(team_db):
    """Ann's store, and a listener on her connection parameters that puts
    every owner it is told of in ``changes`` and each start or stop in
    ``states``."""
    ann = team_db.open_store(ANN)
    changes: queue.Queue = queue.Queue()
    states: queue.Queue = queue.Queue()
    listener = ChangeListener(ann.engine, changes.put, states.put, retry_s=0.2)
    listener.start()
    yield ann, listener, changes, states
    listener.stop()
    ann.close()
    ann.engine.dispose()


def test_every_committed_change_is_told_to_listeners_with_its_owner(team_db, listening):
    ann, _listener, changes, states = listening
    bob = team_db.open_store(BOB)
    try:
        assert states.get(timeout=15) is True
        visit = bob.add_appointment(appointment("Bob's visit"))
        assert changes.get(timeout=15) == BOB
        with bob.transaction():  # nothing is told before the commit
            bob.delete_appointment(visit.id)
            assert changes.empty()
        assert changes.get(timeout=15) == BOB
        ann.add_appointment(appointment("Ann's own"))
        assert changes.get(timeout=15) == ANN
    finally:
        bob.close()
        bob.engine.dispose()


def test_the_listener_listens_again_by_itself_after_the_server_was_away(
    team_db, pg_cluster, listening
):
    _ann, listener, changes, states = listening
    assert states.get(timeout=15) is True
    pg_cluster.stop("immediate")
    try:
        assert next_of(states, False) is False and not listener.listening
    finally:
        pg_cluster.start()
        pg_cluster.wait_ready()
    assert next_of(states, True) is True
    bob = team_db.open_store(BOB)
    bob.add_appointment(appointment("After the restart"))
    assert next_of(changes, BOB) == BOB
    bob.close()
    bob.engine.dispose()
