"""The sync engine: find changes on both sides, plan, then apply (SPEC §4, §5).

One run for one account:

1. **Find.** The provider lists what changed remotely since the saved sync
   state (or everything in the window on the first run and after the state
   expired). The store lists appointments changed since the account's change
   counter, and tombstones of deleted ones.
2. **Plan.** Each touched item becomes one :class:`Action`, decided by a
   three-way merge per field against the snapshot both sides agreed on last
   time. The plan is what a preview shows and what the mass-deletion guard
   inspects.
3. **Apply.** Remote writes go out in batches; each item's local write and its
   status row are committed together right after its remote result, so a
   crash at any point leaves a state the next run completes: an event created
   remotely carries the local id and is re-linked, never duplicated.

The engine never raises for one item's failure; it leaves that item for the
next run. It raises the provider's errors that end the run (sign-in needed,
unreachable) so the caller can set the account's state.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from calsync_desktop.accounts.base import Account, AccountState
from calsync_desktop.model import Appointment, InvalidAppointment, Recurrence, validate
from calsync_desktop.providers.base import (
    AlreadyExists,
    CalendarProvider,
    ChangedMeanwhile,
    ChangeSet,
    Create,
    Delete,
    NotFound,
    ProviderError,
    RemoteEvent,
    SyncStateExpired,
    Update,
    Write,
    WriteResult,
)
from calsync_desktop.store import ConcurrentEdit, SkippedEntry, StatusRow, Store
from calsync_desktop.sync import mapping as m
from calsync_desktop.sync.scope import DEFAULT_HORIZON_DAYS, Scope

log = logging.getLogger(__name__)

GUARD_MIN_DELETIONS = 10
GUARD_SHARE = 0.25
WRITE_CHUNK = 200  # remote writes per provider call: progress and commit granularity
IMPORT_CHUNK = 1000  # local-only writes per transaction


class Kind(StrEnum):
    CREATE_REMOTE = "create remotely"
    CREATE_LOCAL = "create locally"
    LINK = "link"
    UPDATE = "update"
    DELETE_REMOTE = "delete remotely"
    DELETE_LOCAL = "delete locally"
    RESTORE_LOCAL = "restore locally"
    FORGET = "forget"


LOCAL_ONLY = frozenset({Kind.CREATE_LOCAL, Kind.DELETE_LOCAL, Kind.RESTORE_LOCAL, Kind.FORGET})


class Decision(StrEnum):
    APPLY = "apply"
    RESTORE = "restore"
    STOP = "stop"


@dataclass
class Action:
    """What one item needs. ``merged`` holds the fields both sides end with."""

    kind: Kind
    local_id: str
    local: Appointment | None = None
    local_seq: int = 0
    event: RemoteEvent | None = None
    status: StatusRow | None = None
    push: set[str] = field(default_factory=set)
    pull: set[str] = field(default_factory=set)
    merged: dict | None = None
    conflicts: list[tuple[str, object, object, str]] = field(default_factory=list)
    from_local: bool = False
    first_link: bool = False

    @property
    def title(self) -> str:
        """How the item is named in logs, reports and the guard: never private contents."""
        private = (self.local and self.local.private) or (self.event and self.event.private)
        if private:
            return "Private appointment"
        if self.local is not None:
            return self.local.title or "(no title)"
        if self.event is not None:
            return self.event.subject or "(no title)"
        return "(deleted appointment)"


@dataclass
class MassDeletionGuard:
    """A sync that would delete much more than usual stops and asks."""

    account_name: str
    local_deletions: list[str]
    remote_deletions: list[str]
    in_scope: int
    reason: str


@dataclass
class Plan:
    actions: list[Action]
    changes: ChangeSet
    full: bool
    seq_at_start: int
    skipped: list[SkippedEntry]
    touched: set[str]
    guard: MassDeletionGuard | None = None

    def summary(self) -> dict[str, int]:
        """Counts per kind of action, for previews."""
        out: dict[str, int] = {}
        for action in self.actions:
            out[action.kind.value] = out.get(action.kind.value, 0) + 1
        return out


@dataclass
class SyncResult:
    """What a run did, in counts a person can read."""

    counts: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    conflicts: int = 0
    skipped: int = 0
    guard: MassDeletionGuard | None = None
    stopped: bool = False
    full_listing: bool = False

    def add(self, kind: Kind) -> None:
        self.counts[kind.value] = self.counts.get(kind.value, 0) + 1

    def describe(self) -> str:
        if self.stopped and self.guard:
            return f"Stopped before deleting: {self.guard.reason}"
        done = ", ".join(f"{n} {k}" for k, n in sorted(self.counts.items()) if n)
        parts = [done or "nothing to do"]
        if self.conflicts:
            parts.append(f"{self.conflicts} conflict(s) resolved")
        if self.skipped:
            parts.append(f"{self.skipped} item(s) skipped")
        if self.errors:
            parts.append(f"{len(self.errors)} error(s)")
        return "; ".join(parts)


Progress = Callable[[int, int, str], None]
Confirm = Callable[[MassDeletionGuard], Decision]


class SyncEngine:
    """Two-way sync of the Sales Calendar with one account's calendar."""

    def __init__(
        self,
        store: Store,
        account: Account,
        provider: CalendarProvider,
        clock: Callable[[], datetime] | None = None,
        progress: Progress | None = None,
        confirm: Confirm | None = None,
        horizon_days: int = DEFAULT_HORIZON_DAYS,
    ):
        self.store = store
        self.account = account
        self.provider = provider
        self.clock = clock or (lambda: datetime.now(UTC))
        self.progress = progress or (lambda done, total, message: None)
        self.confirm = confirm
        self.horizon_days = horizon_days
        self.scope = Scope(self.clock(), horizon_days)
        self._suspects: set[str] = set()
        self._failed_local_seq: int | None = None
        self._keep_remote_state = False
        self._late_skipped: list[SkippedEntry] = []
        self._own_seqs: set[int] = set()
        self._created_remote = False

    # ------------------------------------------------------------------ find

    def _list_remote(self) -> ChangeSet:
        if self.account.sync_state:
            try:
                return self.provider.changes(self.scope.window, self.account.sync_state)
            except SyncStateExpired:
                log.info("Sync state of %s expired; listing everything again", self.account.name)
        return self.provider.changes(self.scope.window, None)

    def _remote_fields(self, event: RemoteEvent) -> dict:
        return m.remote_fields(event, self.account.email, self.account.sync_all_private)

    def _mine(self, appointment: Appointment) -> bool:
        return appointment.account_id in (None, self.account.id)

    def plan(self) -> Plan:
        """Find the changes on both sides and decide what each item needs."""
        self.scope = Scope(self.clock(), self.horizon_days)
        store, account_id = self.store, self.account.id
        seq_at_start = store.change_seq()
        changes = self._list_remote()
        full = changes.complete
        skipped: list[SkippedEntry] = []
        now = self.clock()

        events = {e.remote_id: e for e in changes.events if not e.cancelled}
        remote_gone = set(changes.deleted) | {e.remote_id for e in changes.events if e.cancelled}
        remote_gone -= set(events)

        # local side
        if full or not self.account.first_sync_done:
            linked = store.all_status(account_id)
            candidate_ids = (
                set(store.in_scope_ids(self.scope.window.start, self.scope.window.end))
                | set(linked)
                | {a.id for a, _ in store.changed_since(self.account.local_seq)}
            )
            locals_ = store.get_appointments(candidate_ids)
            seqs = store.appointment_seqs(locals_)
        else:
            changed = store.changed_since(self.account.local_seq)
            locals_ = {a.id: a for a, _ in changed}
            seqs = {a.id: s for a, s in changed}
            linked = {}
        tombstones = {t.local_id: t for t in store.tombstones(account_id)}
        locals_ = {k: a for k, a in locals_.items() if self._mine(a) or k in linked}

        # status rows of everything touched
        status = dict(linked)
        status.update(store.status_for(account_id, set(locals_) | set(tombstones)))
        by_remote = {s.remote_id: s for s in status.values() if s.remote_id}
        need = (set(events) | remote_gone) - set(by_remote)
        for rid, row in store.status_for_remote(account_id, need).items():
            status[row.local_id] = row
            by_remote[rid] = row

        # the echo of our own writes, and anything else already synced at this version
        for rid in [r for r, e in events.items() if r in by_remote]:
            if by_remote[rid].version == events[rid].version:
                del events[rid]

        # linked items that need their appointment loaded
        missing_locals = [lid for lid in status if lid not in locals_ and lid not in tombstones]
        if missing_locals:
            loaded = store.get_appointments(missing_locals)
            locals_.update(loaded)
            seqs.update(store.appointment_seqs(loaded))

        # a full listing that lacks a linked event: deleted, or moved out of the window?
        if full:
            listed = set(events)
            for row in status.values():
                if (
                    row.remote_id
                    and row.remote_id not in listed
                    and row.remote_id not in remote_gone
                ):
                    remote_gone.add(row.remote_id)  # verified below, after the guard's first look
            self._suspects = remote_gone - set(changes.deleted)
        else:
            self._suspects = set()

        actions: list[Action] = []
        touched: set[str] = set()
        claimed_remote: set[str] = set()

        # remote events: linked, carrying our local id, or new
        unlinked_events: list[RemoteEvent] = []
        for rid, event in events.items():
            row = by_remote.get(rid)
            if row is None and event.local_id and event.local_id in status:
                row = status[event.local_id]  # our event under a new remote id
            if row is not None:
                continue  # decided with its local item below
            if event.local_id and (event.local_id in locals_ or event.local_id in tombstones):
                continue  # crash repair / re-added account: linked below by local id
            unlinked_events.append(event)

        remote_by_local = {
            e.local_id: e for e in events.values() if e.local_id and e.remote_id not in by_remote
        }

        item_ids = set(status) | set(tombstones) | set(locals_)
        unlinked_locals: list[Appointment] = []
        for local_id in item_ids:
            local = locals_.get(local_id)
            row = status.get(local_id)
            event = None
            if row is not None and row.remote_id in events:
                event = events[row.remote_id]
            elif local_id in remote_by_local:
                event = remote_by_local[local_id]
            if row is None and event is None:
                if local is not None:
                    unlinked_locals.append(local)
                continue
            if event is not None:
                claimed_remote.add(event.remote_id)
            action = self._decide(
                local_id,
                local,
                seqs.get(local_id, 0),
                event,
                row,
                tombstone=local_id in tombstones,
                remote_deleted=bool(row and row.remote_id in remote_gone and event is None),
                skipped=skipped,
            )
            touched.add(local_id)
            if action is not None:
                actions.append(action)

        # first sync: match unlinked events and appointments that are the same
        matches = self._match(unlinked_locals, unlinked_events) if full else {}
        for local in unlinked_locals:
            touched.add(local.id)
            event = matches.get(local.id)
            if event is not None:
                claimed_remote.add(event.remote_id)
                actions.append(self._link(local, seqs.get(local.id, 0), event))
                continue
            reason = self.scope.local_reason(local)
            if reason:
                if local.all_day or seqs.get(local.id, 0) > self.account.local_seq:
                    skipped.append(self._skip("local", local.id, _name(local), reason, now))
                continue
            actions.append(
                Action(Kind.CREATE_REMOTE, local.id, local, seqs.get(local.id, 0), from_local=True)
            )
            self._skip_participants(local, skipped, now)

        for event in unlinked_events:
            if event.remote_id in claimed_remote:
                continue
            touched.add(event.remote_id)
            reason = self.scope.remote_reason(event)
            if reason:
                skipped.append(self._skip("remote", event.remote_id, _ename(event), reason, now))
                continue
            actions.append(Action(Kind.CREATE_LOCAL, str(uuid.uuid4()), event=event))

        plan = Plan(actions, changes, full, seq_at_start, skipped, touched)
        self._verify_suspects(plan)
        plan.guard = self._guard(plan)
        return plan

    def _verify_suspects(self, plan: Plan) -> None:
        """A linked event missing from a full listing is asked for by id: gone
        means deleted, found means it moved out of the window (frozen)."""
        suspects = [
            a
            for a in plan.actions
            if a.kind in (Kind.DELETE_LOCAL, Kind.CREATE_REMOTE, Kind.FORGET)
            and a.status
            and a.status.remote_id in self._suspects
        ]
        if not suspects:
            return
        # when everything vanished at once the guard asks before any further request
        linked = self.store.linked_count(self.account.id)
        if len(plan.changes.events) == 0 and linked and len(suspects) >= linked:
            return
        for action in suspects:
            try:
                event = self.provider.get(action.status.remote_id)
            except NotFound:
                continue
            replacement = self._decide(
                action.local_id,
                action.local,
                action.local_seq,
                event,
                action.status,
                tombstone=False,
                remote_deleted=False,
                skipped=plan.skipped,
            )
            plan.actions.remove(action)
            if replacement is not None:
                plan.actions.append(replacement)

    # ------------------------------------------------------------------ decide

    def _skip(self, side: str, item_id: str, item: str, reason: str, now: datetime) -> SkippedEntry:
        return SkippedEntry(self.account.id, side, item_id, item, reason, now)

    def _skip_participants(self, local: Appointment, skipped: list, now: datetime) -> None:
        for p in local.participants:
            if not p.key:
                who = "a participant" if local.private else p.name
                skipped.append(
                    self._skip(
                        "local",
                        local.id,
                        _name(local),
                        f"Participant without an email address cannot be invited: {who}.",
                        now,
                    )
                )

    def _match(
        self, locals_: list[Appointment], events: list[RemoteEvent]
    ) -> dict[str, RemoteEvent]:
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

    def _link(self, local: Appointment, seq: int, event: RemoteEvent) -> Action:
        """Link an appointment to an existing event: the Sales Calendar's values
        are pushed where they differ; invite statuses come back."""
        cur_r = self._remote_fields(event)
        base = dict(cur_r, statuses=m.local_fields(local)["statuses"])
        row = StatusRow(
            local.id, event.remote_id, event.version, {"local": base, "remote": base}, -1
        )
        action = self._merge(local.id, local, seq, event, row)
        action.kind = Kind.LINK
        action.first_link = True
        return action

    def _decide(
        self,
        local_id: str,
        local: Appointment | None,
        seq: int,
        event: RemoteEvent | None,
        row: StatusRow | None,
        tombstone: bool,
        remote_deleted: bool,
        skipped: list,
    ) -> Action | None:
        if row is None:
            # our own event (crash between remote write and local commit, or a
            # re-added account): link it, never create a second copy
            if local is not None and event is not None:
                if self.scope.local_reason(local) or self.scope.remote_reason(event):
                    return None  # out of scope: linked once it is back in scope
                return self._link(local, seq, event)
            if tombstone and event is not None:
                return Action(Kind.DELETE_REMOTE, local_id, None, 0, event, None, from_local=True)
            return None

        snap = row.snapshot
        local_out = local is not None and self.scope.local_reason(local) is not None
        remote_out = event is not None and self.scope.remote_reason(event) is not None
        snap_out = local is None and event is None and self._snapshot_out(snap.get("remote", {}))
        if local_out or remote_out or snap_out:
            # frozen: out of scope is never changed or deleted; leaving scope keeps the link
            if tombstone or (remote_deleted and local is None):
                return Action(Kind.FORGET, local_id, local, seq, event, row)
            return None

        local_changed = (
            local is not None and seq != row.local_seq and m.local_fields(local) != snap["local"]
        )
        remote_changed = (
            event is not None
            and event.version != row.version
            and self._remote_fields(event) != snap["remote"]
        )
        if tombstone:
            if remote_deleted:
                return Action(Kind.FORGET, local_id, None, 0, None, row)
            # only an edit that would flow to the Sales Calendar beats its deletion
            if remote_changed and any(
                self._remote_fields(event)[f] != snap["remote"].get(f) for f in m.TWO_WAY
            ):
                # edited on one side, deleted on the other: the edit wins
                return Action(Kind.RESTORE_LOCAL, local_id, None, 0, event, row)
            return Action(Kind.DELETE_REMOTE, local_id, None, 0, event, row, from_local=True)
        if remote_deleted:
            if local is None:
                return Action(Kind.FORGET, local_id, None, 0, None, row)
            if local_changed:
                return Action(Kind.CREATE_REMOTE, local_id, local, seq, None, row, from_local=True)
            return Action(Kind.DELETE_LOCAL, local_id, local, seq, None, row)
        if local is None:
            return Action(Kind.FORGET, local_id, None, 0, event, row)
        if not local_changed and not remote_changed:
            if event is not None and event.version != row.version:
                # a new version with nothing we map changed: remember it
                action = self._merge(local_id, local, seq, event, row)
                return action
            return None
        return self._merge(local_id, local, seq, event, row)

    def _snapshot_out(self, fields: dict) -> bool:
        """Whether an item known only by its last-synced fields is out of scope.

        The snapshot keeps UTC times without the zone, so a series is expanded
        in UTC; at the 30-day edge a day's margin errs towards leaving it alone.
        """
        if not fields.get("time"):
            return False
        start, end = (datetime.fromisoformat(x) for x in fields["time"])
        if fields.get("rrule"):
            try:
                last = Recurrence(fields["rrule"]).last_start(start, "UTC")
            except (ValueError, TypeError):
                return True
            if last is None:
                return start > self.scope.window.end
            end = last + (end - start)
        return end < self.scope.window.start + timedelta(days=1) or start > self.scope.window.end

    def _merge(
        self,
        local_id: str,
        local: Appointment,
        seq: int,
        event: RemoteEvent | None,
        row: StatusRow,
    ) -> Action:
        """Three-way merge per field (SPEC §4, Changes and conflicts)."""
        base_l, base_r = row.snapshot["local"], row.snapshot["remote"]
        cur_l = m.local_fields(local)
        cur_r = self._remote_fields(event) if event is not None else base_r
        merged = dict(cur_l)
        push: set[str] = set()
        pull: set[str] = set()
        conflicts: list = []
        local_newer = (
            event is None or event.last_modified is None or (local.modified >= event.last_modified)
        )

        for name in m.ALL_FIELDS:
            lc = cur_l[name] != base_l.get(name)
            rc = cur_r[name] != base_r.get(name)
            if name in m.LOCAL_TO_REMOTE:
                if lc and cur_l[name] != cur_r[name]:
                    push.add(name)
                continue
            if name in m.REMOTE_TO_LOCAL:
                if rc and cur_r[name] != cur_l[name]:
                    merged[name] = cur_r[name]
                    pull.add(name)
                continue
            if name == "exdates":
                value = _merge_set(
                    base_l.get(name, []), cur_l[name], base_r.get(name, []), cur_r[name]
                )
            elif name == "overrides":
                value = _merge_map(
                    base_l.get(name, {}),
                    cur_l[name],
                    base_r.get(name, {}),
                    cur_r[name],
                    local_newer,
                    lambda k, kept, lost, side: conflicts.append(
                        ("overrides", {k: kept}, {k: lost}, side)
                    ),
                )
            elif lc and rc and cur_l[name] != cur_r[name]:
                value = cur_l[name] if local_newer else cur_r[name]
                lost, side = (cur_r[name], "remote") if local_newer else (cur_l[name], "local")
                conflicts.append((name, value, lost, side))
            elif rc:
                value = cur_r[name]
            else:
                value = cur_l[name]
            merged[name] = value
            if value != cur_l[name]:
                pull.add(name)
            if value != cur_r[name]:
                push.add(name)
        return Action(
            Kind.UPDATE,
            local_id,
            local,
            seq,
            event,
            row,
            push,
            pull,
            merged,
            conflicts,
            from_local=bool(push),
        )

    def _guard(self, plan: Plan) -> MassDeletionGuard | None:
        local_del = [a.title for a in plan.actions if a.kind is Kind.DELETE_LOCAL]
        remote_del = [a.title for a in plan.actions if a.kind is Kind.DELETE_REMOTE]
        in_scope = max(self.store.linked_count(self.account.id), 1)
        reason = None
        for side, deletions in (("the Sales Calendar", local_del), (self.account.name, remote_del)):
            if len(deletions) > GUARD_MIN_DELETIONS and len(deletions) > GUARD_SHARE * in_scope:
                reason = (
                    f"this sync would delete {len(deletions)} of {in_scope} appointments in {side}."
                )
        if plan.full and not plan.changes.events and local_del:
            reason = f"{self.account.name} suddenly lists no appointments at all."
        if reason is None:
            return None
        return MassDeletionGuard(self.account.name, local_del, remote_del, in_scope, reason)

    # ------------------------------------------------------------------ apply

    def run(self) -> SyncResult:
        """Plan and apply one sync. Raises only errors that end the run."""
        plan = self.plan()
        result = SyncResult(skipped=len(plan.skipped), guard=plan.guard, full_listing=plan.full)
        if plan.guard is not None:
            decision = self.confirm(plan.guard) if self.confirm else Decision.STOP
            if decision is Decision.STOP:
                result.stopped = True
                self._finish(plan, result, advance=False)
                return result
            if decision is Decision.RESTORE:
                self._restore_deletions(plan)
        self.apply(plan, result)
        return result

    def _restore_deletions(self, plan: Plan) -> None:
        """Undo what the deletions would do: bring the items back on the side that lost them."""
        for i, action in enumerate(plan.actions):
            if action.kind is Kind.DELETE_LOCAL:
                plan.actions[i] = Action(
                    Kind.CREATE_REMOTE,
                    action.local_id,
                    action.local,
                    action.local_seq,
                    None,
                    action.status,
                )
            elif action.kind is Kind.DELETE_REMOTE and action.status is not None:
                event = action.event
                if event is None:
                    try:
                        event = self.provider.get(action.status.remote_id)
                    except NotFound:
                        plan.actions[i] = Action(
                            Kind.FORGET, action.local_id, None, 0, None, action.status
                        )
                        continue
                plan.actions[i] = Action(
                    Kind.RESTORE_LOCAL, action.local_id, None, 0, event, action.status
                )

    def apply(self, plan: Plan, result: SyncResult) -> None:
        total = len(plan.actions)
        self.progress(0, total, "Syncing")
        self._failed_local_seq = None
        self._keep_remote_state = False
        self._late_skipped = []
        self._own_seqs = set()
        self._created_remote = False
        send_ok = (
            bool(self.store.get_setting("sync.send_invitations")) and self.account.first_sync_done
        )

        local_only = [a for a in plan.actions if a.kind in LOCAL_ONLY]
        remote = [a for a in plan.actions if a.kind not in LOCAL_ONLY]
        done = 0
        # a group of local writes commits together: a crash rolls back the
        # group, and the next run (its sync state not yet advanced) redoes it
        for start in range(0, len(local_only), IMPORT_CHUNK):
            group = local_only[start : start + IMPORT_CHUNK]
            with self.store.transaction():
                self._import([a for a in group if a.kind is Kind.CREATE_LOCAL], result)
                for action in group:
                    if action.kind is not Kind.CREATE_LOCAL:
                        self._apply_local(action, result)
            done += len(local_only[start : start + WRITE_CHUNK])
            self.progress(done, total, "Updating the Sales Calendar")

        retry: list[Action] = []
        for start in range(0, len(remote), WRITE_CHUNK):
            chunk = remote[start : start + WRITE_CHUNK]
            writes = [self._write_for(a, send_ok) for a in chunk]
            pairs = [(a, w) for a, w in zip(chunk, writes, strict=True) if w is not None]
            results = self.provider.write([w for _, w in pairs]) if pairs else []
            self._created_remote = self._created_remote or any(
                r.ok and isinstance(r.write, Create) for r in results
            )
            # the remote writes are done; their local halves commit together
            # (a crash before this commit is repaired by re-linking on local ids)
            with self.store.transaction():
                for action, write in zip(chunk, writes, strict=True):
                    if write is None:
                        self._commit(action, None, result)
                for (action, _), outcome in zip(pairs, results, strict=True):
                    if isinstance(outcome.error, ChangedMeanwhile) or (
                        isinstance(outcome.error, NotFound) and isinstance(outcome.write, Update)
                    ):
                        # changed or deleted meanwhile: fetch, merge, try again
                        retry.append(action)
                    else:
                        self._commit(action, outcome, result)
            done += len(chunk)
            self.progress(min(done, total), total, f"Writing to {self.account.name}")

        for action in retry:  # changed meanwhile: fetch, merge and try once more
            self._retry(action, result, send_ok)
        self._finish(plan, result, advance=True)
        self.progress(total, total, "Done")

    def _write_for(self, action: Action, send_ok: bool) -> Write | None:
        invite = send_ok and action.from_local and not action.first_link
        if action.kind is Kind.CREATE_REMOTE:
            local = action.local
            return Create(m.draft_from(local), send_invitations=invite and _has_guests(local))
        if action.kind in (Kind.UPDATE, Kind.LINK):
            if not action.push:
                return None
            target = m.apply_fields(action.local, action.merged, action.pull)
            fields = frozenset(set().union(*(m.PROVIDER_FIELDS[f] for f in action.push)))
            version = action.event.version if action.event else action.status.version
            organiser = action.event is None or action.event.organizer_is_self
            return Update(
                action.status.remote_id,
                version,
                m.draft_from(target),
                fields,
                send_invitations=invite and organiser and _has_guests(target),
            )
        if action.kind is Kind.DELETE_REMOTE:
            remote_id = action.event.remote_id if action.event else action.status.remote_id
            version = action.event.version if action.event else action.status.version
            return Delete(remote_id, version, send_invitations=send_ok)
        raise AssertionError(action.kind)

    def _retry(self, action: Action, result: SyncResult, send_ok: bool) -> None:
        remote_id = action.event.remote_id if action.event else action.status.remote_id
        try:
            event = self.provider.get(remote_id)
        except NotFound:
            event = None
        local = self.store.get_appointment(action.local_id)
        seq = self.store.appointment_seqs([action.local_id]).get(action.local_id, 0)
        fresh = self._decide(
            action.local_id,
            local,
            seq,
            event,
            action.status,
            tombstone=local is None and action.kind is Kind.DELETE_REMOTE,
            remote_deleted=event is None,
            skipped=[],
        )
        if fresh is None:
            return
        if fresh.kind in LOCAL_ONLY:
            self._apply_local(fresh, result)
            return
        write = self._write_for(fresh, send_ok)
        if write is None:
            self._commit(fresh, None, result)
            return
        (outcome,) = self.provider.write([write])
        self._commit(fresh, outcome, result)

    # ------------------------------------------------------------------ commit one item

    def _snapshot(
        self, local: Appointment | None, event: RemoteEvent | None, fallback=None
    ) -> dict:
        remote = self._remote_fields(event) if event is not None else fallback
        return {"local": m.local_fields(local) if local else remote, "remote": remote}

    def _failed(self, action: Action, result: SyncResult, error: Exception) -> None:
        result.errors.append(f"{action.title}: {error}")
        log.warning("Sync of one item failed: %s", error)
        if action.local_seq:
            low = action.local_seq - 1
            self._failed_local_seq = (
                low if self._failed_local_seq is None else min(self._failed_local_seq, low)
            )
        self._keep_remote_state = True

    def _log_conflicts(self, action: Action, result: SyncResult) -> None:
        for name, kept, lost, side in action.conflicts:
            self.store.log_conflict(self.account.id, action.local_id, name, kept, lost, side)
            result.conflicts += 1

    def _unstorable(self, action: Action, error: InvalidAppointment, now: datetime) -> None:
        """A remote event the Sales Calendar cannot hold (say, it ends before it
        starts): listed as skipped with the reason; nothing else changes."""
        item_id = action.event.remote_id if action.event else action.local_id
        self._late_skipped.append(
            self._skip("remote", item_id, action.title, f"Not stored: {error}", now)
        )

    def _import(self, actions: list[Action], result: SyncResult) -> None:
        """New appointments for events first created remotely, stored in bulk."""
        now = self.clock()
        items = []
        for action in actions:
            appointment, no_email = m.appointment_from(
                action.event,
                action.local_id,
                self.account.id,
                self.account.email,
                self.account.sync_all_private,
                now,
            )
            try:
                validate(appointment)
            except InvalidAppointment as error:
                self._unstorable(action, error, now)
                continue
            items.append((action, appointment))
            if no_email:
                names = ", ".join(
                    "an attendee" if appointment.private else (p.name or "?") for p in no_email
                )
                self._late_skipped.append(
                    self._skip(
                        "remote",
                        action.event.remote_id,
                        _name(appointment),
                        f"Attendee without an email address was not imported: {names}.",
                        now,
                    )
                )
                result.skipped += 1
        seqs = self.store.insert_appointments([a for _, a in items])
        self._own_seqs.update(seqs)
        self.store.add_statuses(
            self.account.id,
            [
                StatusRow(
                    action.local_id,
                    action.event.remote_id,
                    action.event.version,
                    self._snapshot(appointment, action.event),
                    seq,
                )
                for (action, appointment), seq in zip(items, seqs, strict=True)
            ],
        )
        for _ in items:
            result.add(Kind.CREATE_LOCAL)

    def _apply_local(self, action: Action, result: SyncResult) -> None:
        store, account_id = self.store, self.account.id
        now = self.clock()
        try:
            with store.transaction():
                if action.kind is Kind.CREATE_LOCAL:
                    self._import([action], result)
                    return
                if action.kind is Kind.RESTORE_LOCAL:
                    # deleted here, edited there: the edit wins, the appointment returns
                    appointment, _ = m.appointment_from(
                        action.event,
                        action.local_id,
                        account_id,
                        self.account.email,
                        self.account.sync_all_private,
                        now,
                    )
                    seq = store.save_appointment(appointment, expect_seq=0)
                    self._own_seqs.add(seq)
                    store.put_status(
                        account_id,
                        StatusRow(
                            action.local_id,
                            action.event.remote_id,
                            action.event.version,
                            self._snapshot(appointment, action.event),
                            seq,
                        ),
                    )
                elif action.kind is Kind.DELETE_LOCAL:
                    store.delete_appointment(
                        action.local_id, tombstone=False, expect_seq=action.local_seq
                    )
                    store.drop_status(account_id, action.local_id)
                elif action.kind is Kind.FORGET:
                    store.drop_status(account_id, action.local_id)
                    store.drop_tombstone(account_id, action.local_id)
        except ConcurrentEdit:
            self._keep_remote_state = True  # edited meanwhile: merge it next run
            return
        except InvalidAppointment as error:
            self._unstorable(action, error, now)
            return
        result.add(action.kind)

    def _commit(self, action: Action, outcome: WriteResult | None, result: SyncResult) -> None:
        """The local half of one item, with its status row, in one transaction."""
        store, account_id = self.store, self.account.id
        error = outcome.error if outcome is not None else None
        event = outcome.event if outcome is not None and outcome.ok else action.event

        if isinstance(error, AlreadyExists) and action.kind is Kind.CREATE_REMOTE:
            try:  # our event exists already (an earlier run crashed): link it
                event = (
                    self.provider.get(error.remote_id)
                    if error.remote_id
                    else (self.provider.find_by_local_id(action.local_id))
                )
            except ProviderError as exc:
                self._failed(action, result, exc)
                return
            if event is None:
                self._failed(action, result, error)
                return
            link = self._link(action.local, action.local_seq, event)
            write = self._write_for(link, send_ok=False)
            self._commit(link, self.provider.write([write])[0] if write else None, result)
            return
        if isinstance(error, NotFound) and action.kind is Kind.DELETE_REMOTE:
            error = None  # already gone: the deletion is done
        if error is not None:
            self._failed(action, result, error)
            return

        try:
            with store.transaction():
                if action.kind is Kind.DELETE_REMOTE:
                    store.drop_status(account_id, action.local_id)
                    store.drop_tombstone(account_id, action.local_id)
                elif action.kind is Kind.CREATE_REMOTE:
                    local = action.local
                    seq = action.local_seq
                    if local.account_id != account_id:
                        local = local.with_changes(account_id=account_id)
                        seq = store.save_appointment(local, expect_seq=action.local_seq)
                        self._own_seqs.add(seq)
                    store.put_status(
                        account_id,
                        StatusRow(
                            action.local_id,
                            event.remote_id,
                            event.version,
                            self._snapshot(action.local, event),
                            seq,
                        ),
                    )
                else:  # UPDATE or LINK
                    target = m.apply_fields(action.local, action.merged, action.pull)
                    seq = action.local_seq
                    if action.pull or target.account_id != account_id:
                        target = target.with_changes(account_id=account_id)
                        seq = store.save_appointment(target, expect_seq=action.local_seq)
                        self._own_seqs.add(seq)
                    remote_snap = (
                        self._remote_fields(event)
                        if event is not None
                        else action.status.snapshot["remote"]
                    )
                    version = event.version if event is not None else action.status.version
                    store.put_status(
                        account_id,
                        StatusRow(
                            action.local_id,
                            action.status.remote_id,
                            version,
                            {"local": m.local_fields(target), "remote": remote_snap},
                            seq,
                        ),
                    )
                    self._log_conflicts(action, result)
        except ConcurrentEdit:
            # the user edited it while we synced: the remote part is done, the
            # local part is merged again next run (status row left as it was)
            self._keep_remote_state = True
            return
        except InvalidAppointment as error:
            self._unstorable(action, error, self.clock())
            return
        if action.kind is Kind.UPDATE and not (action.push or action.pull):
            return  # only a new remote version recorded
        result.add(action.kind)

    def _state_past_own_writes(self, state: str | None) -> str | None:
        """The sync state to keep after this run's remote writes.

        The state listed at the start predates them, and some services (Exchange)
        never report deleting an item created after a state. So list once more:
        when that listing holds only the echo of our own writes, its state is
        kept; anything else is left for the next run to list again.
        """
        if not self._created_remote or state is None or self.provider.reports_deleted_new_events:
            return state
        try:
            after = self.provider.changes(self.scope.window, state)
        except ProviderError:
            return state
        linked = self.store.status_for_remote(self.account.id, [e.remote_id for e in after.events])
        only_echo = not after.deleted and all(
            e.remote_id in linked and linked[e.remote_id].version == e.version and not e.cancelled
            for e in after.events
        )
        return after.state if only_echo else state

    def _finish(self, plan: Plan, result: SyncResult, advance: bool) -> None:
        account = self.store.get_account(self.account.id) or self.account
        # what the provider learnt meanwhile (server version, sign-in method)
        account.settings = {**account.settings, **self.account.settings}
        if advance:
            if not self._keep_remote_state or not account.sync_state:
                account.sync_state = self._state_past_own_writes(plan.changes.state)
            # an item whose push failed stays "changed" for the next run; the
            # sync's own writes are not changes, edits made meanwhile are
            account.local_seq = plan.seq_at_start
            for seq in self.store.seqs_since(plan.seq_at_start):
                if seq not in self._own_seqs:
                    break
                account.local_seq = seq
            if self._failed_local_seq is not None:
                account.local_seq = min(account.local_seq, self._failed_local_seq)
            account.first_sync_done = True
            account.last_sync = self.clock()
            account.state = AccountState.OK if not result.errors else AccountState.ERROR
            account.last_error = "; ".join(result.errors[:3])
        self.store.update_skipped(account.id, plan.touched, plan.skipped + self._late_skipped)
        self.store.update_account(account)
        self.account = account


def _merge_set(base_l: list, cur_l: list, base_r: list, cur_r: list) -> list:
    """Deleted occurrences: added on either side stays added, removed on either side goes."""
    added = (set(cur_l) - set(base_l)) | (set(cur_r) - set(base_r))
    removed = (set(base_l) - set(cur_l)) | (set(base_r) - set(cur_r))
    return sorted((set(cur_l) | set(cur_r) | added) - (removed - added))


def _merge_map(
    base_l: dict, cur_l: dict, base_r: dict, cur_r: dict, local_newer: bool, on_conflict
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


def _has_guests(appointment: Appointment) -> bool:
    return any(p.key for p in appointment.participants)


def _name(appointment: Appointment) -> str:
    return "Private appointment" if appointment.private else (appointment.title or "(no title)")


def _ename(event: RemoteEvent) -> str:
    return "Private appointment" if event.private else (event.subject or "(no title)")
