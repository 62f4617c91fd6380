"""First-sync linking: which unlinked appointment and event are the same (SPEC §4)."""

from __future__ import annotations

from calsync_desktop.model import Appointment
from calsync_desktop.providers.base import RemoteEvent


def match(locals_: list[Appointment], events: list[RemoteEvent]) -> dict[str, RemoteEvent]:
    """First-sync linking: the same title, start and end on both sides."""
    pool: dict[tuple, list[RemoteEvent]] = {}
    for e in events:
        key = (e.subject.strip(), e.start, e.end)
        pool.setdefault(key, []).append(e)
    out = {}
    for a in locals_:
        candidates = pool.get((a.title.strip(), a.start, a.end))
        if candidates and not a.all_day:
            out[a.id] = candidates.pop(0)
    return out
