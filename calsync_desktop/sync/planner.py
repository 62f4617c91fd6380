"""Find what changed on both sides and decide what each item needs (SPEC §4).

:class:`Planner` lists the remote changes since the saved sync state (or
everything in the window on a first sync and after the state expired) and
the appointments changed since the account's change counter, pairs each item
with its link, and turns it into an :class:`~calsync_desktop.sync.actions.Action`
(through :func:`~calsync_desktop.sync.decide.decide`). On a full listing it
links what is the same on both sides (:mod:`~calsync_desktop.sync.linking`),
asks for linked events the listing lacks, and the plan ends with the
mass-deletion guard's look.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from calsync_desktop.meetings import NOT_ON_CALENDAR
from calsync_desktop.model import Appointment, new_id
from calsync_desktop.providers.base import ChangeSet, NotFound, RemoteEvent, SyncStateExpired
from calsync_desktop.store import OutsideRow, SkippedEntry
from calsync_desktop.sync import mapping as m
from calsync_desktop.sync.actions import (
    Action,
    CreateLocally,
    CreateRemotely,
    DeleteLocally,
    DeleteRemotely,
    EndImportedSeries,
    ForgetLink,
    LinkExisting,
    UpdateBothSides,
    end_at_split,
)
from calsync_desktop.sync.decide import decide
from calsync_desktop.sync.linking import match
from calsync_desktop.sync.plan import MassDeletionGuard, Plan, too_many
from calsync_desktop.sync.run import SyncRun, name_of, name_of_event
from calsync_desktop.sync.series_end import NewSeries, split_sign
from calsync_desktop.sync.snapshot import LinkStatus

log = logging.getLogger(__name__)


def _carriers(
    events: dict[str, RemoteEvent], by_remote: dict[str, LinkStatus], copies: set[str]
) -> dict[str, RemoteEvent]:
    """Local id -> the unlinked event that carries it. Several carry one when the
    links are gone (resync from scratch, an account added again, a crash) and the
    service copied the id into a split's new series (Google): the appointment's
    own series began first, the copy at the split; the others are new events."""
    out: dict[str, RemoteEvent] = {}
    for e in events.values():
        if e.local_id and e.remote_id not in by_remote and e.remote_id not in copies:
            held = out.get(e.local_id)
            if held is None or (e.start, e.remote_id) < (held.start, held.remote_id):
                out[e.local_id] = e
    return out


class Planner:
    """Makes the plan of one run; ``suspects`` are linked events a full listing
    lacked (deleted, or moved out of the window: asked for by id), ``tombstones``
    the deletions made here still to reach the service."""

    def __init__(self, run: SyncRun):
        self.run = run
        self.suspects: set[str] = set()
        self.tombstones: dict = {}

    def _list_remote(self) -> ChangeSet:
        run = self.run
        if run.account.sync_state:
            try:
                return run.provider.changes(run.scope.window, run.account.sync_state)
            except SyncStateExpired:
                log.info("Sync state of %s expired; listing everything again", run.account.name)
        # an event's local id links it only to something the Sales Calendar holds
        store, account = run.store, run.account.id
        needed = bool(
            store.count_appointments() or store.linked_count(account) or store.tombstones(account)
        )
        return run.provider.changes(run.scope.window, None, local_ids=needed)

    def _mine(self, appointment: Appointment) -> bool:
        return appointment.account_id in (None, self.run.account.id)

    def plan(self) -> Plan:
        """Find the changes on both sides and decide what each item needs."""
        run = self.run
        store, account, account_id = run.store, run.account, run.account.id
        seq_at_start = store.change_seq()
        changes = self._list_remote()
        full = changes.complete
        skipped: list[SkippedEntry] = []

        events = {e.remote_id: e for e in changes.events if not e.cancelled}
        remote_gone = set(changes.deleted) | {e.remote_id for e in changes.events if e.cancelled}
        remote_gone -= set(events)
        # events the service sent that could not be read: left as they are, and
        # read again next run (the sync state is kept); never taken for deleted
        unreadable = {u.remote_id: u.reason for u in changes.unreadable}
        remote_gone -= set(unreadable)
        run.reread = bool(unreadable)
        run.declined_uids = changes.declined

        # local side
        every_link = full or not account.first_sync_done  # all the account's links read
        if every_link:
            rows = store.all_status(account_id)
            candidate_ids = (
                set(store.in_scope_ids(run.scope.window.start, run.scope.window.end))
                | set(rows)
                | {a.id for a, _ in store.changed_since(account.local_seq)}
            )
            locals_ = store.get_appointments(candidate_ids)
            seqs = store.appointment_seqs(locals_)
        else:
            changed = store.changed_since(account.local_seq)
            locals_ = {a.id: a for a, _ in changed}
            seqs = {a.id: s for a, s in changed}
            rows = {}
        tombstones = {t.local_id: t for t in store.tombstones(account_id)}
        self.tombstones = tombstones
        locals_ = {k: a for k, a in locals_.items() if self._mine(a) or k in rows}

        # links of everything touched
        rows.update(store.status_for(account_id, set(locals_) | set(tombstones)))
        links = {lid: LinkStatus.from_row(r) for lid, r in rows.items()}
        by_remote = {s.remote_id: s for s in links.values() if s.remote_id}
        need = (
            set() if every_link else (set(events) | remote_gone | set(unreadable)) - set(by_remote)
        )
        for rid, row in store.status_for_remote(account_id, need).items():
            links[row.local_id] = by_remote[rid] = LinkStatus.from_row(row)

        # series new in this listing, the sign of a split (sync/series_end.py):
        # also one linked at the version listed, which an interrupted run of this
        # same listing imported before it could end the old series
        run.new_series = tuple(
            NewSeries(rid, e.start, e.split_from, e.recurrence.rrule)
            for rid, e in events.items()
            if e.recurrence is not None
            and (rid not in by_remote or by_remote[rid].version == e.version)
        )

        # the echo of our own writes, and anything else already synced at this version
        for rid in [r for r, e in events.items() if r in by_remote]:
            run.learn_uid(by_remote[rid].local_id, events[rid])
            if by_remote[rid].version == events[rid].version:
                del events[rid]

        # linked items that need their appointment loaded
        missing_locals = [lid for lid in links if lid not in locals_ and lid not in tombstones]
        if missing_locals:
            loaded = store.get_appointments(missing_locals)
            locals_.update(loaded)
            seqs.update(store.appointment_seqs(loaded))

        # a full listing that lacks a linked event: deleted, or moved out of the window?
        if full:
            # what the listing carried, the echoes of our own writes among them
            listed = {e.remote_id for e in changes.events}
            for link in links.values():
                if (
                    link.remote_id
                    and link.remote_id not in listed
                    and link.remote_id not in remote_gone
                    and link.remote_id not in unreadable
                ):
                    remote_gone.add(link.remote_id)  # verified below, after the guard's first look
            self.suspects = remote_gone - set(changes.deleted)
        else:
            self.suspects = set()

        actions: list[Action] = []
        touched: set[str] = set()
        claimed_remote: set[str] = set()
        for rid, reason in unreadable.items():
            link = by_remote.get(rid)
            local = locals_.get(link.local_id) if link is not None else None
            name = name_of(local) if local is not None else "An event that cannot be read"
            item_id = link.local_id if link is not None else rid
            skipped.append(run.skip("remote", item_id, name, reason))
            touched.add(item_id)  # a linked appointment waits as it is

        # remote events: linked, carrying our local id, or new
        unlinked_events: list[RemoteEvent] = []
        copies: set[str] = set()
        for rid, event in events.items():
            link = by_remote.get(rid)
            if link is None and event.local_id and event.local_id in links:
                if links[event.local_id].remote_id in events:
                    # its event is listed too: a copy the service made, carrying our
                    # local id (Google's new series of a split): a new event
                    copies.add(rid)
                else:
                    link = links[event.local_id]  # our event under a new remote id
            if link is not None:
                continue  # decided with its local item below
        remote_by_local = _carriers(events, by_remote, copies)
        for rid, event in events.items():
            if rid in by_remote or (event.local_id in links and rid not in copies):
                continue
            local_id = event.local_id if rid not in copies else None
            if (
                local_id
                and (local_id in locals_ or local_id in tombstones)
                and remote_by_local[local_id] is event
            ):
                continue  # crash repair / re-added account: linked below by local id
            unlinked_events.append(event)

        item_ids = (set(links) | set(tombstones) | set(locals_)) - touched
        unlinked_locals: list[Appointment] = []
        for local_id in item_ids:
            local = locals_.get(local_id)
            link = links.get(local_id)
            event = None
            if link is not None and link.remote_id in events:
                event = events[link.remote_id]
            elif local_id in remote_by_local:
                found = remote_by_local[local_id]
                if link is not None and self._still_there(link, remote_gone):
                    # our event is there, unchanged: the one listed is a copy another
                    # client made with our id, an event of its own (as on a full listing)
                    unlinked_events.append(found)
                else:
                    event = found
                    if link is not None:
                        # our event under a new remote id (made again by a run that
                        # died before its links committed): the link follows it
                        link = replace(link, remote_id=event.remote_id)
            if link is None and event is None:
                if local is not None:
                    unlinked_locals.append(local)
                continue
            if event is not None:
                claimed_remote.add(event.remote_id)
            action = decide(
                run,
                local_id,
                local,
                seqs.get(local_id, 0),
                event,
                link,
                tombstone=local_id in tombstones,
                remote_deleted=bool(link and link.remote_id in remote_gone and event is None),
                deleted=tombstones[local_id].appointment if local_id in tombstones else None,
            )
            touched.add(local_id)
            if action is not None:
                actions.append(action)

        # first sync: link unlinked events and appointments that are the same
        matches = match(unlinked_locals, unlinked_events, run.scope, seqs) if full else {}
        if not full:
            self._link_by_uid(unlinked_events, touched, claimed_remote, actions, skipped)
        for local in unlinked_locals:
            touched.add(local.id)
            event = matches.get(local.id)
            reason = run.scope.local_reason(local)
            if event is not None:
                claimed_remote.add(event.remote_id)
                reason = reason or run.scope.remote_reason(event)
                if reason is None:
                    actions.append(LinkExisting.between(run, local, seqs.get(local.id, 0), event))
                else:
                    # the same item, out of scope on one side: neither linked nor copied
                    skipped.append(run.skip("local", local.id, name_of(local), reason))
                continue
            if reason:
                if local.all_day or seqs.get(local.id, 0) > account.local_seq:
                    skipped.append(run.skip("local", local.id, name_of(local), reason))
                continue
            if unreadable and not account.first_sync_done:
                continue  # it may be one the service sent unreadably: linked first
            if local.organised_by_someone_else:
                # someone else's meeting no longer on the calendar (declined, say):
                # kept here, never made again as the user's own (SPEC §10)
                skipped.append(run.skip("local", local.id, name_of(local), NOT_ON_CALENDAR))
                continue
            actions.append(CreateRemotely(local.id, local, seqs.get(local.id, 0), from_local=True))
            self._skip_participants(local, skipped)

        for event in unlinked_events:
            if event.remote_id in claimed_remote:
                continue
            touched.add(event.remote_id)
            reason = run.scope.remote_reason(event)
            if reason:
                skipped.append(run.skip("remote", event.remote_id, name_of_event(event), reason))
                continue
            actions.append(CreateLocally(new_id(), event=event))

        self._split_on_both_sides(actions)
        plan = Plan(actions, changes, full, seq_at_start, skipped, touched, run=run)
        self._verify_suspects(plan)
        self._frozen(plan)
        plan.guard = self._guard(plan)
        return plan

    def _still_there(self, link: LinkStatus, gone: set[str]) -> bool:
        """Whether a linked event this listing does not carry is still on the
        service (asked for by id; one request, only when another event carries
        the appointment's id)."""
        if link.remote_id in gone:
            return False
        try:
            return not self.run.provider.get(link.remote_id).cancelled
        except NotFound:
            return False

    def _split_on_both_sides(self, actions: list[Action]) -> None:
        """A series split "this and following" here and on the service between two
        syncs, at different occurrences: the merge ends the old series at the
        earlier cut; the earlier split's new series then ends where the later one's
        starts, which keeps the rest (each occurrence once, each split's edit where
        it is the only one). Split at the same occurrence, the two new series are
        one item: linked, merged as the old series' fields were agreed (SPEC §4:
        the newer edit of a field wins, the other goes to the conflict log)."""
        run = self.run
        mine = {
            a.local_id: a
            for a in actions
            if type(a) is CreateRemotely and a.link is None and a.local.recurrence is not None
        }
        theirs = {
            a.event.remote_id: a
            for a in actions
            if type(a) is CreateLocally and a.event.recurrence is not None
        }
        if not mine or not theirs:
            return
        for update in [a for a in actions if type(a) is UpdateBothSides]:
            local, event, link = update.local, update.event, update.link
            if event is None or local.recurrence is None:
                continue
            tz, snap = local.timezone, link.snapshot
            there = split_sign(
                snap.remote, run.remote_fields(event), tz, run.new_series, event.remote_id
            )
            here = split_sign(
                snap.local,
                m.local_fields(local),
                tz,
                [
                    NewSeries(a.local_id, a.local.start, rrule=a.local.recurrence.rrule)
                    for a in mine.values()
                ],
            )
            if there is None or here is None or there[1].remote_id not in theirs:
                continue
            new_here, new_there = mine.pop(here[1].remote_id), theirs.pop(there[1].remote_id)
            if new_here.local.start < new_there.event.start:
                ended = end_at_split(new_here.local, new_there.event.start)
                if ended is not None:
                    new_here.local, new_here.ended_at_split = ended, True
            elif new_there.event.start < new_here.local.start:
                actions.append(
                    EndImportedSeries(
                        new_there.local_id, event=new_there.event, before=new_here.local.start
                    )
                )
            else:  # one split, made on both sides
                actions.remove(new_here)
                actions.remove(new_there)
                agreed = LinkStatus(new_here.local_id, new_there.event.remote_id, "", snap, -1)
                actions.append(
                    UpdateBothSides.merging(
                        run, new_here.local, new_here.local_seq, new_there.event, agreed
                    )
                )

    def _link_by_uid(
        self,
        events: list[RemoteEvent],
        touched: set[str],
        claimed: set[str],
        actions: list[Action],
        skipped: list[SkippedEntry],
    ) -> None:
        """A new event in a listing of changes that an unlinked appointment here
        knows by its iCalUID (one the first sync left alone, out of scope then
        on one side) is that appointment's: linked, never copied (SPEC §4)."""
        run = self.run
        store, account_id = run.store, run.account.id
        by_uid = {e.ical_uid: e for e in events if e.ical_uid and e.remote_id not in claimed}
        if not by_uid:
            return
        ids = [i for i in store.ids_with_ical_uids(by_uid) if i not in touched]
        linked = store.status_for(account_id, ids)
        found = store.get_appointments([i for i in ids if i not in linked])
        seqs = store.appointment_seqs(found)
        mine = [a for a in found.values() if self._mine(a)]
        for local_id, event in match(mine, by_uid.values(), run.scope, seqs).items():
            local = found[local_id]
            if event.ical_uid != local.ical_uid:
                continue  # only the iCalUID is evidence here
            touched.add(local_id)
            claimed.add(event.remote_id)
            reason = run.scope.local_reason(local) or run.scope.remote_reason(event)
            if reason is None:
                actions.append(LinkExisting.between(run, local, seqs.get(local_id, 0), event))
            else:
                skipped.append(run.skip("local", local_id, name_of(local), reason))

    def _frozen(self, plan: Plan) -> None:
        """Linked items out of scope are listed as skipped, however they left
        (time passing changes nothing either side lists); an item whose entry
        says it left scope here but that is back in scope (time brought it
        within the horizon) is decided again, with what changed meanwhile."""
        run = self.run
        store, account_id, window = run.store, run.account.id, run.scope.window
        run.skipped_before = store.skipped(account_id)
        outside = {r.id: r for r in store.linked_outside(account_id, window.start, window.end)}
        for local_id, row in outside.items():
            if local_id not in plan.touched:
                run.frozen[local_id] = self._frozen_entry(row)
                plan.touched.add(local_id)
        back = [
            e.item_id
            for e in run.skipped_before
            if e.frozen and e.side == "local" and e.item_id not in outside.keys() | plan.touched
        ]
        if back:
            self._decide_again(plan, back)
        self._still_out_remotely(plan)
        # a change of the way an item is out of scope is news; the same entry is not
        before = {e.item_id: e.reason for e in run.skipped_before if e.frozen}
        plan.skipped.extend(e for e in run.frozen.values() if before.get(e.item_id) != e.reason)

    def _still_out_remotely(self, plan: Plan) -> None:
        """An item whose event left scope on the service (made all-day there,
        say) stays listed as frozen when only its appointment was looked at:
        the service did not list the event again, so it is as it was when it
        left scope (an edit of the appointment alone never brings it back)."""
        run = self.run
        acted = {a.local_id for a in plan.actions}
        kept = [
            e
            for e in run.skipped_before
            if e.frozen
            and e.side == "remote"
            and e.item_id in plan.touched
            and e.item_id not in run.frozen
            and e.item_id not in acted
        ]
        if not kept:
            return
        changes = plan.changes
        listed = {e.remote_id for e in changes.events} | set(changes.deleted)
        listed |= {u.remote_id for u in changes.unreadable}
        rows = run.store.status_for(run.account.id, [e.item_id for e in kept])
        for e in kept:
            row = rows.get(e.item_id)
            if row is not None and row.remote_id not in listed:
                run.frozen[e.item_id] = e

    def _frozen_entry(self, row: OutsideRow) -> SkippedEntry:
        run = self.run
        how = run.scope.out_by(row.start, row.last_end, row.all_day)
        title = row.contents.split("\n", 1)[0]
        name = "Private appointment" if row.private else (title or "(no title)")
        reason = run.scope.frozen_reason(how, row.recurring)
        return SkippedEntry(run.account.id, "local", row.id, name, reason, run.clock(), True)

    def _decide_again(self, plan: Plan, local_ids: list[str]) -> None:
        """Items back in scope with nothing listed for them: read both sides and decide."""
        run = self.run
        store = run.store
        rows = store.status_for(run.account.id, local_ids)
        locals_ = store.get_appointments(local_ids)
        seqs = store.appointment_seqs(locals_)
        for local_id in local_ids:
            plan.touched.add(local_id)  # its old entry goes, whatever follows
            row = rows.get(local_id)
            local = locals_.get(local_id)
            if row is None or local is None:
                continue  # unlinked or deleted meanwhile: decided elsewhere, if at all
            link = LinkStatus.from_row(row)
            try:
                event = run.provider.get(link.remote_id)
            except NotFound:
                event = None
            action = decide(
                run,
                local_id,
                local,
                seqs.get(local_id, 0),
                event,
                link,
                tombstone=False,
                remote_deleted=event is None,
            )
            if action is not None:
                plan.actions.append(action)

    def _verify_suspects(self, plan: Plan) -> None:
        """A linked event missing from a full listing is asked for by id: gone
        means deleted, found means it moved out of the window (frozen)."""
        run = self.run
        suspects = [
            a
            for a in plan.actions
            if isinstance(a, DeleteLocally | CreateRemotely | ForgetLink)
            and a.link
            and a.link.remote_id in self.suspects
        ]
        if not suspects:
            return
        # when everything vanished at once the guard asks before any further request
        linked = run.store.linked_count(run.account.id)
        if len(plan.changes.events) == 0 and linked and len(suspects) >= linked:
            return
        for action in suspects:
            try:
                event = run.provider.get(action.link.remote_id)
            except NotFound:
                continue
            gone = self.tombstones.get(action.local_id)  # deleted here meanwhile?
            replacement = decide(
                run,
                action.local_id,
                action.local,
                action.local_seq,
                event,
                action.link,
                tombstone=gone is not None,
                remote_deleted=False,
                deleted=gone.appointment if gone is not None else None,
            )
            plan.actions.remove(action)
            if replacement is not None:
                plan.actions.append(replacement)

    def _skip_participants(self, local: Appointment, skipped: list[SkippedEntry]) -> None:
        for p in local.participants:
            if not p.key:
                who = "a participant" if local.private else p.name
                skipped.append(
                    self.run.skip(
                        "local",
                        local.id,
                        name_of(local),
                        f"Participant without an email address cannot be invited: {who}.",
                    )
                )

    def _guard(self, plan: Plan) -> MassDeletionGuard | None:
        run = self.run
        local_del = [a.title for a in plan.actions if isinstance(a, DeleteLocally)]
        remote_del = [a.title for a in plan.actions if isinstance(a, DeleteRemotely)]
        in_scope = max(run.store.linked_count(run.account.id), 1)
        reason = None
        for side, deletions in (
            ("the Sales Calendar", local_del),
            (run.account.name, remote_del),
        ):
            if too_many(len(deletions), in_scope):
                reason = (
                    f"this sync would delete {len(deletions)} of {in_scope} appointments in {side}."
                )
        if plan.full and not plan.changes.events and local_del:
            reason = f"{run.account.name} suddenly lists no appointments at all."
        if reason is None:
            return None
        return MassDeletionGuard(run.account.name, local_del, remote_del, in_scope, reason)
