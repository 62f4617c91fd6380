"""The three-way merge of one item, field by field (SPEC §4, Changes and conflicts).

Each side's current fields are compared with the snapshot both sides agreed on
last time. A field changed on one side goes to the other; the same field
changed on both sides to different values is a conflict that the newer side
wins, and the losing value is kept for the conflict log. One-way fields only
ever flow their own way. Pure functions: no store, no service.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime

from calsync_desktop.sync.series_end import NewSeries, dropped_with_the_rule, ended_at, split_at
from calsync_desktop.sync.snapshot import (
    ALL_FIELDS,
    LOCAL_TO_REMOTE,
    REMOTE_TO_LOCAL,
    TWO_WAY,
    Fields,
    Snapshot,
)


@dataclass(frozen=True, slots=True)
class Conflict:
    """A field both sides changed: the value kept, the value lost, and whose it was."""

    field: str
    kept: object
    lost: object
    lost_side: str  # "local" or "remote"


@dataclass(frozen=True, slots=True)
class Merged:
    """What both sides end with: ``fields``; which fields go to the service
    (``push``) and which to the Sales Calendar (``pull``); the conflicts."""

    fields: Fields
    push: frozenset[str] = frozenset()
    pull: frozenset[str] = frozenset()
    conflicts: tuple[Conflict, ...] = field(default=())


def remote_wins(local: Fields, remote: Fields) -> Merged:
    """What an item ends with when the service refuses the Sales Calendar's
    changes (a meeting only its organiser may change): every field the service
    holds as the service has it; the one-way fields the Sales Calendar sends
    stay as they are. Nothing is pushed."""
    values = {name: remote.get(name) for name in (*TWO_WAY, *REMOTE_TO_LOCAL)}
    pull = frozenset(name for name, value in values.items() if value != local.get(name))
    return Merged(local.with_values(values), frozenset(), pull)


def attendee_only(
    merged: Merged, local: Fields, remote: Fields, allowed: Collection[str]
) -> tuple[Merged, tuple[str, ...]]:
    """A merge of someone else's meeting (SPEC §10): only what the service lets
    an attendee set on their own copy (``allowed``) and the user's answer go to
    the service; every other field the merge would push stays the organiser's,
    the service's value coming back to the Sales Calendar. Returns the merge
    and the fields so kept from being pushed."""
    keep = {*allowed, "my_response"}
    refused = tuple(sorted(name for name in merged.push if name not in keep))
    if not refused:
        return merged, ()
    fields = merged.fields.with_values({name: remote.get(name) for name in refused})
    pull = set(merged.pull) | {name for name in refused if remote.get(name) != local.get(name)}
    push = merged.push - set(refused)
    # a refused edit is no conflict to restore: it is reported as read-only instead
    conflicts = tuple(c for c in merged.conflicts if c.field not in refused)
    return Merged(fields, frozenset(push), frozenset(pull), conflicts), refused


def merge(
    base: Snapshot,
    local: Fields,
    remote: Fields,
    local_newer: bool,
    stored: Callable[[Fields], Fields] = lambda f: f,
    remote_private: bool | None = None,
    private_one_way: bool = False,
    tz: str = "UTC",
    new_series: Collection[NewSeries] = (),
    remote_id: str | None = None,
) -> Merged:
    """Merge the current ``local`` and ``remote`` fields against ``base``.

    ``local_newer`` decides conflicts: the side changed last wins. ``stored``
    maps fields to what the service holds once they are pushed (see
    :func:`~calsync_desktop.sync.mapping.stored_form`): a field is pushed only
    when the merged value, so mapped, differs from the remote one, and two
    changes that the service would hold alike are no conflict.

    With ``private_one_way`` (the account stores everything it brings in as
    private, so the remote's own visibility is not read) "private" flows only
    from the Sales Calendar: pushed when it changed there and differs from
    ``remote_private``, the service's own value (None: not known).

    The rule flows one way, except for a "this and following" split on the
    service (see :mod:`~calsync_desktop.sync.series_end`; ``tz`` is the zone the
    series repeats in, ``new_series`` the series new in this listing,
    ``remote_id`` the event's id): the Sales Calendar's series then ends where
    the split starts.
    """
    base_l, base_r = base.local, base.remote
    stored_l, stored_r = stored(local), stored(remote)
    values: dict[str, object] = {}
    push: set[str] = set()
    pull: set[str] = set()
    conflicts: list[Conflict] = []
    last = None
    if local.rrule and local.time:
        last = split_at(base_r, remote, tz, new_series, remote_id)
        if last is None:  # the rule goes back, and what it took away there with it
            remote = dropped_with_the_rule(base_r, remote, tz)

    for name in ALL_FIELDS:
        cur_l, cur_r = local.get(name), remote.get(name)
        lc = cur_l != base_l.get(name)
        rc = cur_r != base_r.get(name)
        differ = stored_l.get(name) != stored_r.get(name)
        if name == "private" and private_one_way:
            if lc and (remote_private is None or cur_l != remote_private):
                push.add(name)
            continue
        if name == "rrule" and last is not None:
            value = ended_at(cur_l, local.time[0], tz, last)
            if value != cur_l:
                values[name] = value
                pull.add(name)
            if lc and value != cur_r:
                push.add(name)
            continue
        if name in LOCAL_TO_REMOTE:
            if lc and differ:
                push.add(name)
            continue
        if name in REMOTE_TO_LOCAL:
            if rc and cur_r != cur_l:
                values[name] = cur_r
                pull.add(name)
            continue
        if name == "exdates":
            value = _merge_set(base_l.exdates, cur_l, base_r.exdates, cur_r)
        elif name == "overrides":
            value = _merge_map(
                base_l.overrides,
                cur_l,
                base_r.overrides,
                cur_r,
                local_newer,
                lambda key, kept, lost, side: conflicts.append(
                    Conflict("overrides", {key: kept}, {key: lost}, side)
                ),
            )
        elif lc and rc and differ:
            value = cur_l if local_newer else cur_r
            lost, side = (cur_r, "remote") if local_newer else (cur_l, "local")
            conflicts.append(Conflict(name, value, lost, side))
        elif rc and not lc:
            value = cur_r
        else:
            value = cur_l  # unchanged remotely, or changed on both sides alike
        if name == "overrides" and last is not None:
            # the occurrences after the end are the new series' now
            value = {k: v for k, v in value.items() if datetime.fromisoformat(k) <= last}
        values[name] = value
        if value != cur_l:
            pull.add(name)
    merged = local.with_values(values)
    stored_m = stored(merged)
    for name in TWO_WAY:
        if name in values and stored_m.get(name) != stored_r.get(name):
            push.add(name)
    return Merged(merged, frozenset(push), frozenset(pull), tuple(conflicts))


def _merge_set(base_l, cur_l, base_r, cur_r) -> tuple[str, ...]:
    """Deleted occurrences: added on either side stays added, removed on either side goes."""
    added = (set(cur_l) - set(base_l)) | (set(cur_r) - set(base_r))
    removed = (set(base_l) - set(cur_l)) | (set(base_r) - set(cur_r))
    return tuple(sorted((set(cur_l) | set(cur_r) | added) - (removed - added)))


def _merge_map(
    base_l: dict,
    cur_l: dict,
    base_r: dict,
    cur_r: dict,
    local_newer: bool,
    on_conflict: Callable[[str, object, object, str], None],
) -> dict:
    """Occurrence overrides, merged per occurrence like fields are."""
    out = {}
    for key in set(cur_l) | set(cur_r) | set(base_l) | set(base_r):
        bl, l_, br, r_ = base_l.get(key), cur_l.get(key), base_r.get(key), cur_r.get(key)
        lc, rc = l_ != bl, r_ != br
        if lc and rc and l_ != r_:
            value = l_ if local_newer else r_
            on_conflict(key, value, r_ if local_newer else l_, "remote" if local_newer else "local")
        elif rc:
            value = r_
        else:
            value = l_
        if value is not None:
            out[key] = value
    return out
