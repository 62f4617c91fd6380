"""First-sync linking: which unlinked appointment and event are the same (SPEC §4).

A calendar may already hold the Sales Calendar's events (an account added
again, a calendar filled by another tool). They are linked, not copied, by
this order of evidence:

1. the local id the event carries (calsync stamps it on every event it
   creates); the planner links those before anything here;
2. the same iCalUID (the Sales Calendar remembers the UID of every
   appointment it imported or exported);
3. the same whole contents, start and end (contents compared as the service
   holds them, so a first line longer than a subject still matches).

A weaker match never wins over a stronger one: an event whose iCalUID names an
unlinked appointment goes to that appointment or to none, never to another by
its contents. One event is linked to at most one appointment, and one
appointment to at most one event.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from calsync_desktop.model import Appointment
from calsync_desktop.providers.base import RemoteEvent
from calsync_desktop.sync import mapping as m
from calsync_desktop.sync.scope import Scope


def match(
    locals_: Iterable[Appointment],
    events: Iterable[RemoteEvent],
    scope: Scope,
    seqs: Mapping[str, int] | None = None,
) -> dict[str, RemoteEvent]:
    """Appointment id → the event it is the same as, by iCalUID, then by contents.

    Where several appointments could take one event, the oldest does (by
    creation, then change counter ``seqs``). A pair by iCalUID is returned
    even when one side is out of scope (it is the same item: the caller
    neither links nor copies it); a pair by contents only when both sides
    are in scope.
    """
    seqs = seqs or {}
    locals_ = sorted(locals_, key=lambda a: (a.created, seqs.get(a.id, 0), a.id))
    if not locals_:
        return {}  # nothing to link (a first sync into an empty Sales Calendar)
    events = list(events)
    out: dict[str, RemoteEvent] = {}

    # 2. the same iCalUID; among several with one UID, those that also agree
    # on contents and time pair first
    uids = {a.ical_uid for a in locals_ if a.ical_uid}
    reserved: set[str] = set()  # events whose UID names an appointment here
    for uid in uids:
        group_l = [a for a in locals_ if a.ical_uid == uid]
        group_e = [e for e in events if e.ical_uid == uid]
        if not group_e:
            continue
        reserved.update(e.remote_id for e in group_e)
        for a, e in _pairs(group_l, group_e, strict=False):
            out[a.id] = e

    # 3. the same whole contents, start and end, both in scope
    taken = {e.remote_id for e in out.values()}
    rest_l = [a for a in locals_ if a.id not in out and scope.local_reason(a) is None]
    rest_e = [
        e
        for e in events
        if e.remote_id not in reserved
        and e.remote_id not in taken
        and scope.remote_reason(e) is None
    ]
    for a, e in _pairs(rest_l, rest_e, strict=True):
        out[a.id] = e
    return out


def _pairs(locals_: list[Appointment], events: list[RemoteEvent], strict: bool):
    """Pairs of an appointment and an event with the same contents key, each
    used once, in order; without ``strict`` the rest then pair in order too."""
    pool: dict[tuple, list[RemoteEvent]] = {}
    for e in events:
        pool.setdefault(_event_key(e), []).append(e)
    used: set[str] = set()
    left: list[Appointment] = []
    for a in locals_:
        candidates = pool.get(_local_key(a))
        if candidates:
            e = candidates.pop(0)
            used.add(e.remote_id)
            yield a, e
        else:
            left.append(a)
    if strict:
        return
    rest = [e for e in events if e.remote_id not in used]
    yield from zip(left, rest, strict=False)


def _local_key(a: Appointment) -> tuple:
    return (m.stored_contents(a.contents).strip(), a.start, a.end)


def _event_key(e: RemoteEvent) -> tuple:
    contents = m.join_contents(e.subject, e.body, e.body_is_html)
    return (m.stored_contents(contents).strip(), e.start, e.end)
