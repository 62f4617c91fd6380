"""Reading a listing one event at a time (SPEC §7, hostile answers).

A service can send one event that cannot be read: an impossible date such as
``2026-13-45T99:99:99Z`` or February 30th, a year beyond 9999, an end before
its start, a value of the wrong kind. That event is set aside as
:class:`~calsync_desktop.providers.base.Unreadable` with a reason in words;
the other events of the same answer are read and synced as usual. The engine
leaves a set-aside event as it is (neither changed nor deleted, on either
side), lists it as skipped with its reason and reads it again at the next sync.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from calsync_desktop.providers.base import RemoteEvent, Unreadable

log = logging.getLogger(__name__)

T = TypeVar("T")

# What the standard library and the client libraries raise for a value they
# cannot take: fromisoformat, datetime(), zone and arithmetic on dates.
UNREADABLE_ERRORS = (ValueError, OverflowError, TypeError, KeyError, AttributeError)
ENDS_BEFORE_START = "it ends before it starts"


class Readings:
    """The events of one listing read one by one; ``unreadable`` collects those
    that could not be. ``service`` names the service in the reason."""

    def __init__(self, service: str):
        self.service = service
        self.unreadable: list[Unreadable] = []

    def read(self, remote_id: str, convert: Callable[[], T]) -> T | None:
        """``convert()``, or None when the event cannot be read (set aside)."""
        try:
            value = convert()
        except UNREADABLE_ERRORS as exc:
            self.set_aside(remote_id, exc)
            return None
        # (an all-day event is out of scope whatever its times say)
        if isinstance(value, RemoteEvent) and value.end < value.start and not value.all_day:
            self.set_aside(remote_id, ValueError(ENDS_BEFORE_START))
            return None
        return value

    def set_aside(self, remote_id: str, exc: BaseException) -> None:
        # the reason names the kind of fault, never the event's contents
        log.warning("%s sent an event that cannot be read (%s)", self.service, type(exc).__name__)
        if any(u.remote_id == remote_id for u in self.unreadable):
            return
        what = (
            "ends before it starts"
            if str(exc) == ENDS_BEFORE_START
            else "has a date, time or other value that cannot be read"
        )
        self.unreadable.append(
            Unreadable(
                remote_id,
                # the service's name starts the sentence ("The CalDAV server …")
                f"{self.service} sent this event as one that {what}; it is left as it "
                "is on both sides and read again at the next sync.",
            )
        )
