"""Undo a sync run: both sides back as they were before it (SPEC §9).

For each appointment the run changed (its journal, :mod:`.history`), both
sides are compared with what the run left: an appointment changed since, on
either side, is listed and left alone. The others go back:

==============================  ============================================
the run …                       the undo …
==============================  ============================================
changed it here                 puts its earlier values back here
changed it there                re-pushes the earlier values, If-Match
created it here (an import)     deletes it here; the event stays linked to
                                it, so it is not imported again until it
                                changes there
created it there                deletes it there (unchanged since only)
deleted it here (gone there)    brings it back here with its id,
                                participants and recurrence, and there too,
                                linked once
took a deletion made here       recreates the event, linked once, and the
there                           appointment comes back here as it was
==============================  ============================================

Afterwards each item that exists on both sides is linked with a snapshot of
what both sides now hold, so the next sync does not repeat what was undone.
The undo is a journalled run of its own (trigger "undo"), so it can itself be
undone. It sends no invitation mails, asks through the mass-deletion guard
before deleting much, and carries each appointment's private flag as it was.

Costs: one full listing of the account's window, then the writes in the
batches the service takes (so at most the run's own requests plus one
listing). Local halves that make an interrupted undo safe are committed
before the remote writes (an appointment brought back, a link dropped before
its event is deleted); everything else commits with its remote result. A kill
anywhere leaves a state that the next sync or undo completes: an event
recreated carries the local id and is linked by it, never copied. Undoing
the run again right after a kill completes the killed undo (the same run):
an event it deleted is put back, not changed since, by its journal or (killed
before the commit) by the link it dropped first.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from calsync_desktop.accounts.base import Account
from calsync_desktop.model import Appointment
from calsync_desktop.providers.base import (
    FIELDS,
    AlreadyExists,
    CalendarProvider,
    Cancelled,
    ChangedMeanwhile,
    Create,
    Delete,
    NotFound,
    ProviderError,
    RemoteEvent,
    Update,
    Write,
    WriteResult,
)
from calsync_desktop.store import ConcurrentEdit, Store
from calsync_desktop.store.journal import Journal, RunRecord
from calsync_desktop.sync import mapping as m
from calsync_desktop.sync.history import Change, RunJournal
from calsync_desktop.sync.plan import Confirm, Decision, MassDeletionGuard, too_many
from calsync_desktop.sync.scope import DEFAULT_HORIZON_DAYS, Scope
from calsync_desktop.sync.snapshot import ALL_FIELDS, TWO_WAY, Fields, LinkStatus, Snapshot


class UndoRefused(Exception):
    """The run cannot be undone (not in the history, already undone, …)."""


@dataclass
class UndoItem:
    """One appointment of the run, and what the undo does with it.

    ``local`` is what happens here (restore, update, delete, or "" for
    nothing), ``remote`` there (create, update, delete, or ""); ``left_alone``
    says why it is left as it is, when it is.
    """

    change: Change
    title: str
    local: str = ""
    remote: str = ""
    left_alone: str = ""
    # planned: the appointment and event as they are now, and the targets
    current: Appointment | None = None
    current_seq: int = 0
    event: RemoteEvent | None = None
    target: Appointment | None = None
    target_remote: Fields | None = None
    #: brought back here before the remote writes
    done: bool = False
    #: the appointment and the event as the plan found them
    original: Appointment | None = None
    original_event: RemoteEvent | None = None
    #: deleted there by the interrupted undo this one completes, which was
    #: killed before it journalled that: journalled now
    deleted_unjournalled: bool = False

    @property
    def put_back(self) -> bool:
        return not self.left_alone


@dataclass
class UndoPlan:
    run: RunRecord
    items: list[UndoItem]
    guard: MassDeletionGuard | None = None
    #: the interrupted undo of this run that this one completes
    resumes: int | None = None

    @property
    def put_back(self) -> list[UndoItem]:
        return [i for i in self.items if i.put_back]

    @property
    def left_alone(self) -> list[UndoItem]:
        return [i for i in self.items if not i.put_back]


@dataclass
class UndoResult:
    run_id: int | None = None
    counts: dict[str, int] = field(default_factory=dict)
    left_alone: list[UndoItem] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    stopped: bool = False

    def add(self, kind: str) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + 1


def title_of(change: Change) -> str:
    """How an item is named: never private contents."""
    if change.private:
        return "Private appointment"
    for source in (change.local_before, change.local_after, change.remote_before):
        if source is not None and source.contents:
            return source.contents.split("\n", 1)[0]
    return "(no title)"


def _same_remote(event: RemoteEvent, fields: Fields, run_fields, own: str) -> bool:
    return m.stored_form(run_fields(event), own) == m.stored_form(fields, own)


def _same_two_way(remote: Fields, local: Fields, own: str) -> bool:
    """Whether an event holds an appointment's two-way values and answers."""
    a, b = m.stored_form(remote, own), m.stored_form(local, own)
    return all(a.get(f) == b.get(f) for f in (*TWO_WAY, "statuses"))


def _kind(item: UndoItem) -> str:
    """The name the undo's own history gives what it did to an item."""
    if "delete" in (item.local, item.remote) and "restore" not in (item.local,):
        return "delete"
    if item.local == "restore" or item.remote == "create":
        return "restore"
    return "update"


class Undo:
    """Undoes recorded runs of one account."""

    def __init__(
        self,
        store: Store,
        account: Account,
        provider: CalendarProvider,
        clock: Callable[[], datetime] | None = None,
        confirm: Confirm | None = None,
        horizon_days: int = DEFAULT_HORIZON_DAYS,
        stop: threading.Event | None = None,
    ):
        self.store = store
        self.account = account
        self.provider = provider
        self.clock = clock or (lambda: datetime.now(UTC))
        self.confirm = confirm
        self.horizon_days = horizon_days
        self.journal = Journal(store)
        # a preview the user cancels stops: between the listing's requests,
        # after it, and while it weighs the run's appointments
        self.stop = stop
        provider.stop_when(stop)

    def _check_stop(self) -> None:
        if self.stop is not None and self.stop.is_set():
            raise Cancelled("Stopped.")

    def remote_fields(self, event: RemoteEvent) -> Fields:
        return m.remote_fields(event, self.account.email, self.account.sync_all_private)

    # ------------------------------------------------------------------ planning

    def plan(self, run_id: int) -> UndoPlan:
        """What undoing run ``run_id`` puts back and what it leaves alone;
        writes nothing. Raises :class:`Cancelled` once ``stop`` is set."""
        record = self.journal.run(run_id)
        if record is None or record.account_id != self.account.id:
            raise UndoRefused(
                f"There is no sync run {run_id} of {self.account.name} in the history."
            )
        if record.undone_by is not None:
            raise UndoRefused(
                f"Run {run_id} was undone already, by run {record.undone_by}; "
                f"undo run {record.undone_by} to have it back."
            )
        changes = [Change.from_entry(e) for e in self.journal.entries(run_id)]
        scope = Scope(self.clock(), self.horizon_days)
        listing = self.provider.changes(scope.window, None)  # the one listing
        self._check_stop()
        events = {e.remote_id: e for e in listing.events if not e.cancelled}
        by_local = {e.local_id: e for e in events.values() if e.local_id}
        ids = [c.local_id for c in changes]
        locals_ = self.store.get_appointments(ids)
        seqs = self.store.appointment_seqs(locals_)
        resumes = self.journal.interrupted_undo(self.account.id, run_id)
        undone_there = self._undone_there(resumes, ids)
        items = []
        for n, c in enumerate(changes):
            if n % 200 == 0:
                self._check_stop()
            items.append(
                self._item(
                    c,
                    locals_.get(c.local_id),
                    seqs.get(c.local_id, 0),
                    events,
                    by_local,
                    scope,
                    undone_there.get(c.local_id, ""),
                )
            )
        plan = UndoPlan(record, items, resumes=resumes)
        plan.guard = self._guard(plan)
        return plan

    def _undone_there(self, resumes: int | None, ids: list[str]) -> dict[str, str]:
        """The run's appointments whose event the interrupted undo ``resumes``
        deleted: "journalled", or "dropped" (killed after the deletion reached
        the service, before its commit: only the link it dropped first says
        so). An event another client deleted keeps its link until a sync."""
        if resumes is None:
            return {}
        undone = {
            e.local_id: "journalled"
            for e in self.journal.entries(resumes)
            if e.sides != "local" and e.version_after is None
        }
        linked = self.store.status_for(self.account.id, ids)
        return {i: "dropped" for i in ids if i not in linked} | undone

    def _item(self, c, current, seq, events, by_local, scope, undone_there="") -> UndoItem:
        own = self.account.email
        item = UndoItem(c, title_of(c), current=current, current_seq=seq)
        event = events.get(c.remote_id) if c.remote_id else None
        if event is None:
            event = by_local.get(c.local_id)
        item.event = item.original_event = event
        item.original = current

        # the targets: each side as it was before the run
        target = c.local_before if c.local_changed or c.deleted_here else current
        remote_target = c.remote_before if c.remote_changed else None
        # deleted there before the run, here by it: it comes back there too
        deleted_here_by_run = c.local_before is not None and c.local_after is None
        recreated = deleted_here_by_run and not c.remote_changed and c.version_after is None
        if recreated:
            remote_target = m.local_fields(target)
        item.target, item.target_remote = target, remote_target

        # as the run left it, or already put back by an undo that was interrupted?
        now_local = m.local_fields(current) if current is not None else None
        local_left = now_local == c.local_after
        # (gone here since is not "put back": a deletion made since stays pending)
        local_back = target is not None and now_local == m.local_fields(target)
        if c.version_after is None:
            remote_left = event is None
        else:  # the version the run left, or (recreated since) the values it left
            remote_left = event is not None and (
                (event.remote_id == c.remote_id and event.version == c.version_after)
                or (
                    c.remote_after is not None
                    and _same_remote(event, c.remote_after, self.remote_fields, own)
                )
                or (
                    # a run that changed only this side left both alike: a new
                    # version with the same values (another client saved it as
                    # it was) is no change
                    c.remote_after is None
                    and c.local_after is not None
                    and _same_two_way(self.remote_fields(event), c.local_after, own)
                )
            )
        if remote_target is None:
            # gone there since: a deletion the next sync takes in; unless the
            # interrupted undo of this run deleted it (:meth:`_undone_there`)
            remote_back = event is None and bool(undone_there)
        else:
            remote_back = event is not None and _same_remote(
                event, remote_target, self.remote_fields, own
            )
        # only a side the undo moves may already be where it goes
        local_moves = c.local_changed or c.deleted_here
        remote_moves = c.remote_changed or recreated
        local_back = local_moves and local_back
        remote_back = remote_moves and remote_back
        if not (local_left or local_back):
            item.left_alone = "changed in the Sales Calendar since"
        elif not (remote_left or remote_back):
            item.left_alone = f"changed in {self.account.name} since"
        elif (target or current) is not None and scope.local_reason(target or current):
            item.left_alone = "out of the sync window now"
        if item.left_alone:
            return item
        item.deleted_unjournalled = (
            remote_moves and remote_back and remote_target is None and undone_there == "dropped"
        )

        # what each side needs
        if local_moves and not local_back:
            if target is None:
                item.local = "delete"
            elif current is None:
                item.local = "restore"
            else:
                item.local = "update"
        if remote_moves and not remote_back:
            if remote_target is None:
                item.remote = "delete"
            elif event is None:
                # someone else's meeting gone from the calendar comes back here
                # only: it is never made again as the user's own (SPEC §10)
                if not (target is not None and target.organised_by_someone_else):
                    item.remote = "create"
            else:
                item.remote = "update"
        return item

    def _guard(self, plan: UndoPlan) -> MassDeletionGuard | None:
        local_del = [i.title for i in plan.put_back if i.local == "delete"]
        remote_del = [i.title for i in plan.put_back if i.remote == "delete"]
        in_scope = max(self.store.linked_count(self.account.id), 1)
        reason = None
        for side, deletions in (("the Sales Calendar", local_del), (self.account.name, remote_del)):
            if too_many(len(deletions), in_scope):
                reason = (
                    f"undoing this sync would delete {len(deletions)} of {in_scope} "
                    f"appointments in {side}."
                )
        if reason is None:
            return None
        return MassDeletionGuard(self.account.name, local_del, remote_del, in_scope, reason)

    # ------------------------------------------------------------------ applying

    def run(self, run_id: int) -> UndoResult:
        """Plan and apply the undo of run ``run_id``."""
        return self.apply(self.plan(run_id))

    def apply(self, plan: UndoPlan) -> UndoResult:
        result = UndoResult(left_alone=list(plan.left_alone))
        items = plan.put_back
        if plan.guard is not None:
            decision = self.confirm(plan.guard) if self.confirm else Decision.STOP
            if decision is Decision.STOP:
                result.stopped = True
                return result
            if decision is Decision.RESTORE:  # keep what would be deleted
                for item in items:
                    if "delete" in (item.local, item.remote):
                        item.left_alone = "kept, as you chose at the deletion warning"
                        result.left_alone.append(item)
                items = [i for i in items if i.put_back]
        journal = RunJournal(self.journal, self.account.id, "undo", self.clock, plan.run.id)
        journal.run_id = plan.resumes  # an interrupted undo of the run is completed
        result.run_id = journal.begin()
        batch = max(1, self.provider.write_batch_size)
        for start in range(0, len(items), batch):
            chunk = items[start : start + batch]
            self._prepare(chunk, result, journal)
            chunk = [i for i in chunk if i.put_back]
            writes = [(i, w) for i in chunk if (w := self._write(i)) is not None]
            outcomes = self.provider.write([w for _, w in writes]) if writes else []
            answered = {id(i): o for (i, _), o in zip(writes, outcomes, strict=True)}
            with self.store.transaction():
                changes = []
                for item in chunk:
                    change = self._commit(item, answered.get(id(item)), result)
                    if change is not None:
                        changes.append(change)
                journal.rewrite(changes)
        if plan.resumes is not None:  # with what it put back before it was interrupted
            result.counts = self.journal.run(plan.resumes).counts
        if not journal.end("done", result.counts):
            result.run_id = None  # it put nothing back: no run of its own
        return result

    def _prepare(self, chunk: list[UndoItem], result: UndoResult, journal: RunJournal) -> None:
        """The local halves that keep an interrupted undo safe, committed before
        the remote writes: an appointment brought back (its event, recreated,
        is then linked by the local id it carries, and the creation joins this
        entry: :meth:`RunJournal.record_found`) and a link dropped before its
        event is deleted (the appointment is then not deleted after it)."""
        with self.store.transaction():
            for item in chunk:
                try:
                    if item.local == "restore":
                        self._save(item)
                        item.local = ""
                        item.done = True
                        journal.record([self._change(item, True, False)])
                    if item.remote == "delete" and item.current is not None:
                        self.store.drop_status(self.account.id, item.change.local_id)
                except ConcurrentEdit:
                    item.left_alone = "changed in the Sales Calendar meanwhile"
                    result.left_alone.append(item)

    def _save(self, item: UndoItem) -> None:
        restored = item.target.with_changes(account_id=self.account.id, modified=self.clock())
        expect = 0 if item.current is None else item.current_seq
        item.current_seq = self.store.save_appointment(restored, expect_seq=expect)
        item.current = restored

    def _draft(self, item: UndoItem):
        base = item.target or item.current or item.change.local_before
        fields = item.target_remote
        if base is None:
            base = Appointment(
                id=item.change.local_id,
                contents="",
                start=datetime.fromisoformat(fields.time[0]),
                end=datetime.fromisoformat(fields.time[1]),
                timezone="UTC",
            )
        pushed = [f for f in ALL_FIELDS if f != "statuses"]
        base = base.with_changes(id=item.change.local_id)
        return m.draft_from(m.apply_fields(base, fields, pushed))

    def _write(self, item: UndoItem) -> Write | None:
        """The remote half; an undo never sends invitation mails."""
        event = item.event
        if item.remote == "delete":
            return Delete(event.remote_id, event.version, send_invitations=False)
        if item.remote == "create":
            return Create(self._draft(item), send_invitations=False)
        if item.remote == "update":
            return Update(
                event.remote_id,
                event.version,
                self._draft(item),
                frozenset(FIELDS),
                send_invitations=False,
            )
        return None

    def _outcome(self, item: UndoItem, outcome: WriteResult | None) -> bool:
        """Take in the remote result; False when the item is to be left alone."""
        if outcome is None:
            return True
        if outcome.ok:
            item.event = outcome.event
            return True
        error = outcome.error
        if isinstance(error, NotFound) and isinstance(outcome.write, Delete):
            item.event = None  # gone already
            return True
        if isinstance(error, AlreadyExists):  # recreated before an interruption
            try:
                found = (
                    self.provider.get(error.remote_id)
                    if error.remote_id
                    else self.provider.find_by_local_id(item.change.local_id)
                )
            except ProviderError:
                found = None
            if found is not None:
                item.event = found
                return True
        if isinstance(error, ChangedMeanwhile | NotFound):
            item.left_alone = f"changed in {self.account.name} meanwhile"
        else:
            item.left_alone = f"not put back ({error}); undo again to try once more"
        return False

    def _commit(self, item: UndoItem, outcome: WriteResult | None, result: UndoResult):
        """The local half and the link after the remote result, and the item's
        journal entry (None: nothing written)."""
        c = item.change
        remote_ok = self._outcome(item, outcome)
        wrote_remote = outcome is not None and remote_ok
        if item.deleted_unjournalled:
            result.add("delete")
            return replace(
                c,
                kind="delete",
                local_changed=False,
                remote_changed=True,
                version_before=c.version_after,
                version_after=None,
                local_before=None,
                local_after=m.local_fields(item.current) if item.current else None,
                remote_before=c.remote_after,
                remote_after=None,
            )
        if not remote_ok:
            result.left_alone.append(item)
            if not item.done:
                return None
            # brought back here already: it stays, and the next sync takes it there
            return self._change(item, True, False)
        wrote_local = item.done
        try:
            with self.store.transaction():
                if item.local == "delete" and item.current is not None:
                    self.store.delete_appointment(
                        c.local_id, tombstone=False, expect_seq=item.current_seq
                    )
                    item.current = None
                    wrote_local = True
                elif item.local == "update":
                    self._save(item)
                    wrote_local = True
                self._link(item)
        except ConcurrentEdit:  # nothing of it written: the store checks first
            item.left_alone = "changed in the Sales Calendar meanwhile"
            result.left_alone.append(item)
        if not (wrote_local or wrote_remote):
            return None
        if item.put_back:
            result.add(_kind(item))
        return self._change(item, wrote_local, wrote_remote)

    def _change(self, item: UndoItem, wrote_local: bool, wrote_remote: bool) -> Change:
        """What the undo changed of an item, as its own history keeps it."""
        c, before, event = item.change, item.original_event, item.event
        return Change(
            c.local_id,
            _kind(item),
            local_changed=wrote_local,
            remote_changed=wrote_remote,
            remote_id=event.remote_id if event is not None else c.remote_id,
            version_before=before.version if wrote_remote and before is not None else None,
            version_after=event.version if event is not None else None,
            local_before=item.original if wrote_local else None,
            local_after=m.local_fields(item.current) if item.current is not None else None,
            remote_before=(
                self.remote_fields(before) if wrote_remote and before is not None else None
            ),
            remote_after=(
                self.remote_fields(event) if wrote_remote and event is not None else None
            ),
        )

    def _link(self, item: UndoItem) -> None:
        """Both sides there: linked with what both now hold, so the next sync
        repeats nothing; the event only: linked to the appointment taken out;
        the appointment only: no link."""
        account_id, local_id = self.account.id, item.change.local_id
        local, event = item.current, item.event
        if event is None:
            self.store.drop_status(account_id, local_id)
            return
        if local is None:
            # taken out here and left there (an import undone): the link stays,
            # so that no listing imports the event again while it is unchanged
            # (an edit there brings it back: sync/decide.py)
            snapshot = Snapshot.agreed(self.remote_fields(event))
            link = LinkStatus(local_id, event.remote_id, event.version, snapshot, 0)
            self.store.put_status(account_id, link.to_row())
            return
        seq = item.current_seq or self.store.appointment_seqs([local_id]).get(local_id, 0)
        snapshot = Snapshot(m.local_fields(local), self.remote_fields(event))
        self.store.put_status(
            account_id, LinkStatus(local_id, event.remote_id, event.version, snapshot, seq).to_row()
        )
        if event.ical_uid:
            self.store.remember_ical_uids({local_id: event.ical_uid})
