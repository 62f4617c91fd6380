"""Colleagues' changes as they happen: PostgreSQL LISTEN/NOTIFY on a thread of
its own.

Every change of an appointment bumps its owner's change counter, and a trigger
on the counters (:data:`calsync_desktop.team.security.NOTIFY_TRIGGER`) tells
every listening app on commit, with the owner as the payload. A
:class:`ChangeListener` holds one plain psycopg connection (not the store's:
a listening connection waits, it never runs the app's statements), calls
``on_change(owner)`` for each notification and ``on_state(listening)`` when
it starts or stops listening. A lost server is retried by itself; meanwhile
the app's cheap change-counter poll (:meth:`Store.team_change_token`) is the
fallback. Qt-free: the window wraps the callbacks in signals.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import psycopg
from psycopg import sql
from sqlalchemy.engine import Engine

from calsync_desktop.team.security import NOTIFY_CHANNEL

log = logging.getLogger(__name__)

WAIT_S = 0.5
"""How long one wait for notifications lasts: how soon :meth:`stop` is heard."""
RETRY_S = 2.0
"""After a lost connection, how long until the next try."""


def connect_args(engine: Engine) -> dict:
    """The engine's own connection parameters (address, TLS, member, password),
    for a psycopg connection of the listener's own."""
    _, kwargs = engine.dialect.create_connect_args(engine.url)
    kwargs.pop("context", None)
    return kwargs


class ChangeListener:
    """Listens for the team's change notifications until :meth:`stop`."""

    def __init__(
        self,
        engine: Engine,
        on_change: Callable[[str], None],
        on_state: Callable[[bool], None] | None = None,
        retry_s: float = RETRY_S,
    ):
        self.params = connect_args(engine)
        self.on_change = on_change
        self.on_state = on_state or (lambda _listening: None)
        self.retry_s = retry_s
        self.listening = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="calsync-team-listen", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _state(self, listening: bool) -> None:
        if listening != self.listening:
            self.listening = listening
            self.on_state(listening)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(**self.params, autocommit=True) as conn:
                    conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(NOTIFY_CHANNEL)))
                    self._state(True)
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=WAIT_S):
                            self.on_change(note.payload)
            except psycopg.Error as exc:
                log.info("Not listening to the team server: %s", type(exc).__name__)
            except Exception:  # the listener must not die of a callback's error
                log.exception("The team change listener failed")
            self._state(False)
            self._stop.wait(self.retry_s)
