"""What one linked (or self-identifying) item needs (SPEC §4).

:func:`decide` looks at an item's appointment, its remote event and its link
and picks the action: nothing, a merge, a deletion on one side, the edit that
beats a deletion, or forgetting the link. Out of scope is frozen: never
changed or deleted, and leaving scope is never a deletion.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from calsync_desktop import meetings
from calsync_desktop.model import Appointment, Recurrence
from calsync_desktop.providers.base import RemoteEvent
from calsync_desktop.sync import mapping as m
from calsync_desktop.sync.actions import (
    Action,
    CreateRemotely,
    DeleteLocally,
    DeleteRemotely,
    ForgetLink,
    KeepDeclined,
    LinkExisting,
    RestoreLocally,
    UpdateBothSides,
)
from calsync_desktop.sync.run import SyncRun
from calsync_desktop.sync.scope import BEYOND, ENDED, Scope
from calsync_desktop.sync.snapshot import TWO_WAY, Fields, LinkStatus


def decide(
    run: SyncRun,
    local_id: str,
    local: Appointment | None,
    seq: int,
    event: RemoteEvent | None,
    link: LinkStatus | None,
    tombstone: bool,
    remote_deleted: bool,
    deleted: Appointment | None = None,
) -> Action | None:
    """The action one item needs, or None when it needs nothing.

    ``local`` is the appointment (None when deleted; ``tombstone`` tells whether
    that deletion still has to reach the service), ``seq`` its change counter,
    ``event`` its remote event as listed (None when not listed this run;
    ``remote_deleted`` tells whether the service deleted it); ``deleted`` is
    what a deleted appointment was when it was deleted, if known.
    """
    scope = run.scope
    if link is None:
        # our own event (crash between remote write and local commit, or a
        # re-added account): link it, never create a second copy
        if local is not None and event is not None:
            if scope.local_reason(local) or scope.remote_reason(event):
                run.freeze(local_id, local, event, linked=False)
                return None  # out of scope: linked once it is back in scope
            return LinkExisting.between(run, local, seq, event)
        if tombstone and event is not None:
            return DeleteRemotely(local_id, event=event, from_local=True, deleted=deleted)
        return None

    snap = link.snapshot
    local_out = local is not None and scope.local_reason(local) is not None
    remote_out = event is not None and scope.remote_reason(event) is not None
    # not listed: the service's side is as it was at the last sync, where time
    # alone may have taken it out of scope (the rule flows one way, so its series
    # may end long before the Sales Calendar's)
    if event is not None:
        aged = None
    elif local is None and deleted is None:
        aged = snapshot_out_by(scope, snap.remote)
    elif local is None or (
        snap.remote.rrule and snap.remote.rrule != (local.recurrence and local.recurrence.rrule)
    ):
        # exactly as Scope judges it: expanded in the series' own zone, no margin
        # (a deletion judged with a margin would not be synced, and its event,
        # still in scope, would come back as a new appointment)
        zone = (local if local is not None else deleted).timezone
        aged = snapshot_out_by(scope, snap.remote, zone, margin=timedelta(0))
    else:
        aged = None  # the same times and rule as the appointment: local_out says it
    snap_out = aged is not None and (local is None or not remote_deleted)
    if local_out or remote_out or snap_out:
        # frozen: out of scope is never changed or deleted; leaving scope keeps the link
        if tombstone or (remote_deleted and local is None):
            return ForgetLink(local_id, local, seq, event, link)
        run.freeze(local_id, local, event, aged=aged)
        return None

    local_changed = (
        local is not None and seq != link.local_seq and m.local_fields(local) != snap.local
    )
    remote_fields = run.remote_fields(event) if event is not None else None
    remote_changed = (
        event is not None and event.version != link.version and remote_fields != snap.remote
    )
    if tombstone:
        if remote_deleted:
            return ForgetLink(local_id, link=link)
        # only an edit that would flow to the Sales Calendar beats its deletion;
        # one that the service shows with the values the appointment had when it
        # was deleted is our own write, answered just before a crash: no edit
        gone = m.local_fields(deleted) if deleted is not None else None
        if remote_changed and any(
            remote_fields.get(f) != snap.remote.get(f)
            and (gone is None or remote_fields.get(f) != gone.get(f))
            for f in TWO_WAY
        ):
            # edited on one side, deleted on the other: the edit wins
            return RestoreLocally(local_id, event=event, link=link)
        return DeleteRemotely(local_id, event=event, link=link, from_local=True, deleted=deleted)
    if remote_deleted:
        if local is None:
            return ForgetLink(local_id, link=link)
        if local.organised_by_someone_else:
            # never made again as the user's own (SPEC §10): declined, it stays
            # here, unlinked (Exchange and Office 365 take a declined meeting
            # off the calendar); otherwise it is gone from the calendar here too
            if meetings.declined(local):
                return ForgetLink(local_id, local, seq, None, link)
            if local.ical_uid and local.ical_uid in run.declined_uids:
                # declined on the service itself (in Outlook), which took it
                # to Deleted Items: it stays here, declined
                return KeepDeclined(local_id, local, seq, None, link)
            return DeleteLocally(local_id, local, seq, None, link)
        if local_changed:
            return CreateRemotely(local_id, local, seq, None, link, from_local=True)
        return DeleteLocally(local_id, local, seq, None, link)
    if local is None:
        # taken out of the Sales Calendar by an undo (no tombstone: the deletion
        # is not for the service): kept out while its event is unchanged, so no
        # listing imports it again; an edit there brings it back (SPEC §9)
        if not remote_changed:
            return None
        return RestoreLocally(local_id, event=event, link=link)
    if not local_changed and not remote_changed:
        if event is not None and event.version != link.version:
            # a new version with nothing we map changed: remember it
            return UpdateBothSides.merging(run, local, seq, event, link)
        return None
    return UpdateBothSides.merging(run, local, seq, event, link)


def snapshot_out_by(
    scope: Scope, fields: Fields, tz: str = "UTC", margin: timedelta = timedelta(days=1)
) -> str | None:
    """How an item known only by its last-synced fields is out of scope
    (:data:`~calsync_desktop.sync.scope.ENDED` or ``BEYOND``), None when in scope.

    The snapshot keeps UTC times without the zone, so a series is expanded in
    ``tz`` (UTC unless the zone is known); at the 30-day edge ``margin`` errs
    towards leaving it alone. A rule that cannot be read is taken for out of
    scope: left alone.
    """
    if not fields.time:
        return None
    start, end = (datetime.fromisoformat(x) for x in fields.time)
    if fields.rrule:
        try:
            last = Recurrence(fields.rrule).last_start(start, tz)
        except (ValueError, TypeError):
            return ENDED
        if last is not None:
            end = last + (end - start)
        elif start <= scope.window.end:
            return None
    if start > scope.window.end:
        return BEYOND
    return ENDED if end < scope.window.start + margin else None
