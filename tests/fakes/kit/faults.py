"""Injected faults: what :meth:`RemoteCalendar.fail_next` arms and a server takes.

A server asks :meth:`FaultQueue.take` once for every request it answers (and
once for every call inside a batch, with ``part=True``) and answers a fault it
gets in its own wire format. The transport-level kinds are the same for every
HTTP service, so :func:`drop_connection` and :func:`delay` live here too.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler

FAULT_KINDS = (
    "rate_limit",  # "too many requests": 429 with Retry-After, or the service's equivalent
    "server_busy",  # "busy, come back later": 503 with Retry-After, or the equivalent
    "server_error",  # a 5xx that names no wait
    "drop",  # the connection closes without an answer
    "malformed",  # a success status with a body that breaks off
    "slow",  # the answer comes ``delay`` seconds late (then normally)
    "expired_token",  # the access token expires now: 401 until the client refreshes it
)
TARGETS = ("request", "write", "batch_part")


@dataclass(frozen=True)
class Fault:
    """One armed failure. ``retry_after`` None: the service's own default (or none)."""

    kind: str
    retry_after: float | None = None
    delay: float = 0.5
    field: str | None = None  # bad_value: where the value goes (tests/fakes/kit/hostile.py)
    value: str | None = None  # bad_value: what goes there
    depth: int = 200_000  # deep_nesting: how deep the answer is nested

    def retry_after_or(self, default: float | None) -> float | None:
        return default if self.retry_after is None else self.retry_after


@dataclass
class _Armed:
    fault: Fault
    count: int
    on: str
    path: str | None
    after: int


class FaultQueue:
    """Faults waiting for requests, in the order they were armed. Thread-safe.

    While :meth:`held`, no request takes a fault (the test is looking at the
    service through a client of its own, see :meth:`RemoteCalendar.looking`).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._armed: list[_Armed] = []
        self._holds = 0

    def arm(
        self,
        kind: str,
        count: int = 1,
        *,
        retry_after: float | None = None,
        delay: float = 0.5,
        on: str = "request",
        path: str | None = None,
        after: int = 0,
        field: str | None = None,
        value: str | None = None,
        depth: int = 200_000,
    ) -> None:
        if on not in TARGETS:
            raise ValueError(f"on={on!r}; one of {TARGETS}")
        if count < 1:
            raise ValueError("count must be at least 1")
        with self._lock:
            self._armed.append(
                _Armed(Fault(kind, retry_after, delay, field, value, depth), count, on, path, after)
            )

    def take(self, path: str = "", *, write: bool = False, part: bool = False) -> Fault | None:
        """The fault for this request, if one is armed for it (it is used up)."""
        with self._lock:
            if self._holds:
                return None
            for armed in self._armed:
                if not _matches(armed, path, write, part):
                    continue
                if armed.after > 0:
                    armed.after -= 1
                    return None
                armed.count -= 1
                if armed.count <= 0:
                    self._armed.remove(armed)
                return armed.fault
        return None

    def put_back(self, fault: Fault) -> None:
        """Arm ``fault`` again, first in line (a request it could not hit took it)."""
        with self._lock:
            self._armed.insert(0, _Armed(fault, 1, "request", None, 0))

    def clear(self) -> None:
        with self._lock:
            self._armed.clear()

    @contextmanager
    def held(self) -> Iterator[None]:
        """No request takes a fault inside; the armed ones wait for the next."""
        with self._lock:
            self._holds += 1
        try:
            yield
        finally:
            with self._lock:
                self._holds -= 1

    @property
    def is_held(self) -> bool:
        return self._holds > 0

    @property
    def pending(self) -> int:
        """How many failures are still waiting for a request."""
        with self._lock:
            return sum(a.count for a in self._armed)


def _matches(armed: _Armed, path: str, write: bool, part: bool) -> bool:
    if armed.path is not None and armed.path not in path:
        return False
    if armed.on == "batch_part":
        return part
    if part:
        return False  # a whole-request fault never hides inside a batch
    return armed.on == "request" or write


def drop_connection(handler: BaseHTTPRequestHandler) -> None:
    """Close the connection without an answer (the client sees it reset or closed)."""
    handler.close_connection = True
    try:
        handler.connection.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def delay(fault: Fault) -> None:
    """Keep the client waiting, as a slow answer does."""
    time.sleep(fault.delay)
