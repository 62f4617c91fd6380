"""What one item of a plan needs, one class per kind (SPEC §4).

Each action owns its work: :meth:`Action.write` is its remote half (None when
it writes nothing remotely), :meth:`Action.commit` its local half with its
status row, run in one transaction right after the remote result, and what it
does when the remote write failed (:meth:`Action.write_failed`). A failed
action rolls back only its own local half; the rest of the run goes on and the
item is tried again next run.

=================  ===========================================================
kind               what happens
=================  ===========================================================
create remotely    a new appointment becomes an event carrying its local id
create locally     a new event becomes an appointment (imported in bulk)
link               an appointment and an event that are the same are linked;
                   the Sales Calendar's values are pushed where they differ
update             the merged fields go to whichever side lacks them
delete remotely    an appointment deleted here is deleted there
delete locally     an event deleted there is deleted here
restore locally    deleted here, edited there: the edit wins, it comes back
forget             gone on both sides, or left scope: the link is dropped
keep declined      someone else's meeting declined on the service itself, which
                   took it off the calendar: kept here, declined, unlinked
=================  ===========================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import ClassVar
from zoneinfo import ZoneInfo

from calsync_desktop import meetings
from calsync_desktop.meetings import organiser_named
from calsync_desktop.model import Appointment, InvalidAppointment, MyResponse, validate
from calsync_desktop.providers.base import (
    AlreadyExists,
    ChangedMeanwhile,
    Create,
    Delete,
    NeedsSignIn,
    NotFound,
    ProviderError,
    ReadOnlyEvent,
    RemoteEvent,
    Respond,
    Update,
    Write,
    WriteResult,
)
from calsync_desktop.providers.kit.meetings import attendee_fields, read_only_reason
from calsync_desktop.store import ConcurrentEdit
from calsync_desktop.sync import mapping as m
from calsync_desktop.sync.history import change_of
from calsync_desktop.sync.merge import Merged, attendee_only, merge, remote_wins
from calsync_desktop.sync.run import SyncRun, name_of
from calsync_desktop.sync.series_end import ended_at, split_at
from calsync_desktop.sync.snapshot import LinkStatus, Snapshot


class Kind(StrEnum):
    """The kinds of action, by the name plans and results count them under."""

    CREATE_REMOTE = "create remotely"
    CREATE_LOCAL = "create locally"
    LINK = "link"
    UPDATE = "update"
    DELETE_REMOTE = "delete remotely"
    DELETE_LOCAL = "delete locally"
    RESTORE_LOCAL = "restore locally"
    FORGET = "forget"


@dataclass
class Action:
    """One item's part of a plan.

    ``local`` and ``local_seq`` are the appointment as planned (with its change
    counter), ``event`` the remote event as listed, ``link`` the item's status
    row. ``from_local`` marks a change that started in the Sales Calendar
    (only those may send invitations).
    """

    local_id: str
    local: Appointment | None = None
    local_seq: int = 0
    event: RemoteEvent | None = None
    link: LinkStatus | None = None
    from_local: bool = False

    #: the kind's name in plan summaries and results
    kind: ClassVar[Kind]
    #: whether the action writes nothing remotely
    local_only: ClassVar[bool] = False
    #: a first link of an existing event: never sends invitations
    first_link: ClassVar[bool] = False

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

    @property
    def remote_id(self) -> str | None:
        if self.event is not None:
            return self.event.remote_id
        return self.link.remote_id if self.link is not None else None

    @property
    def remote_version(self) -> str:
        if self.event is not None:
            return self.event.version
        return self.link.version if self.link is not None else ""

    # ------------------------------------------------------------------ the remote half

    def write(self, run: SyncRun) -> Write | None:
        """The remote write, or None when there is nothing to write remotely."""
        return None

    def must_retry(self, outcome: WriteResult) -> bool:
        """Whether the write met a change made meanwhile: fetch, merge, try again."""
        return isinstance(outcome.error, ChangedMeanwhile) or (
            isinstance(outcome.error, NotFound) and isinstance(outcome.write, Update)
        )

    def write_failed(self, run: SyncRun, error: ProviderError) -> bool:
        """Handle a failed remote write; True when the local half still commits."""
        run.failed(self, error)
        return False

    def instead_of_deleting(self, run: SyncRun) -> Action:
        """What the action becomes when the user answers the guard with "restore"."""
        return self

    def log_conflicts(self, run: SyncRun) -> None:
        """Write the values the action's merge lost to the conflict log (once)."""

    # ------------------------------------------------------------------ the local half

    def commit(self, run: SyncRun, outcome: WriteResult | None = None) -> None:
        """The local half with its status row, in one transaction, after the remote
        result (``outcome``; None when nothing was written remotely)."""
        event = self.event
        if outcome is not None:
            if outcome.error is not None:
                if not self.write_failed(run, outcome.error):
                    return
            else:
                event = outcome.event
        try:
            with run.store.transaction():
                after = self.commit_local(run, event)
                if run.journal is not None:  # the history, with the change itself
                    change = change_of(run, self, after, outcome)
                    run.journal.record([change] if change is not None else [])
        except ConcurrentEdit:
            # the user edited it while we synced: the remote part is done, the
            # local part is merged again next run (status row left as it was)
            run.edited_meanwhile()
            return
        except InvalidAppointment as error:
            unstorable(run, self, error)
            return
        if self.counted:
            run.result.add(self.kind)

    def commit_local(self, run: SyncRun, event: RemoteEvent | None) -> Appointment | None:
        """The store writes of the local half (inside the caller's transaction);
        the appointment as the Sales Calendar now holds it (None: none)."""
        return self.local

    @property
    def counted(self) -> bool:
        """Whether the result counts this action as done."""
        return True


def unstorable(run: SyncRun, action: Action, error: InvalidAppointment) -> None:
    """A remote event the Sales Calendar cannot hold (say, it ends before it
    starts): listed as skipped with the reason; nothing else changes."""
    item_id = action.event.remote_id if action.event else action.local_id
    run.skip_late("remote", item_id, action.title, f"Not stored: {error}")


def _has_guests(appointment: Appointment) -> bool:
    return any(p.key for p in appointment.participants)


def _organised_by_someone_else(local: Appointment, event: RemoteEvent | None) -> bool:
    """A meeting the user was invited to, as either side knows it."""
    return local.organised_by_someone_else or (event is not None and not event.organizer_is_self)


def _guests_may_modify(local: Appointment, event: RemoteEvent | None) -> bool:
    """Whether the organiser lets guests change the meeting itself (Google's
    ``guestsCanModify``): as listed now, else as the last sync read it (a change
    of it is a new version of the event, so it would have been listed)."""
    if event is not None:
        return event.guests_can_modify
    return meetings.guests_may_edit(local)


def _refusal(error: ProviderError) -> bool:
    """An answer the service will not take however often it is sent (not a
    fault that passes, not a change made meanwhile, not a sign-in to renew)."""
    return not error.transient and not isinstance(error, ChangedMeanwhile | NeedsSignIn)


# --------------------------------------------------------------------------- kinds


@dataclass
class CreateRemotely(Action):
    """A new appointment becomes an event that carries its local id."""

    #: ``local`` is the new series of a split here, ended where a split made there
    #: later in the same series starts (see :func:`end_at_split`): saved so
    ended_at_split: bool = False

    kind: ClassVar[Kind] = Kind.CREATE_REMOTE

    def write(self, run: SyncRun) -> Write:
        invite = run.send_invitations and self.from_local
        return Create(m.draft_from(self.local), send_invitations=invite and _has_guests(self.local))

    def write_failed(self, run: SyncRun, error: ProviderError) -> bool:
        if not isinstance(error, AlreadyExists):
            return super().write_failed(run, error)
        try:  # our event exists already (an earlier run crashed): link it
            event = (
                run.provider.get(error.remote_id)
                if error.remote_id
                else run.provider.find_by_local_id(self.local_id)
            )
        except ProviderError as exc:
            run.failed(self, exc)
            return False
        if event is None:
            run.failed(self, error)
            return False
        if run.scope.remote_reason(event):
            # it is there, out of scope (a listing of the window cannot show it):
            # frozen, never changed; linked once it is back in scope
            run.freeze(self.local_id, self.local, event, linked=self.link is not None)
            return False
        link = LinkExisting.between(run, self.local, self.local_seq, event)
        write = link.write(run, invite=False)
        link.commit(run, run.provider.write([write])[0] if write else None)
        return False

    def commit_local(self, run: SyncRun, event: RemoteEvent | None) -> Appointment | None:
        local, seq = self.local, self.local_seq
        if local.account_id != run.account.id or self.ended_at_split:
            local = local.with_changes(account_id=run.account.id)
            seq = run.save(local, self.local_seq)
        run.put_link(
            LinkStatus(
                self.local_id, event.remote_id, event.version, run.snapshot(self.local, event), seq
            ),
            event,
        )
        return local


@dataclass
class CreateLocally(Action):
    """A new event becomes an appointment; imported in bulk (:meth:`import_all`)."""

    kind: ClassVar[Kind] = Kind.CREATE_LOCAL
    local_only: ClassVar[bool] = True

    def commit(self, run: SyncRun, outcome: WriteResult | None = None) -> None:
        with run.store.transaction():
            self.import_all(run, [self])

    @staticmethod
    def import_all(run: SyncRun, actions: list[CreateLocally]) -> None:
        """New appointments for events first created remotely, stored in one go
        (inside the caller's transaction)."""
        account, now = run.account, run.clock()
        items = []
        for action in actions:
            appointment, no_email = m.appointment_from(
                action.event,
                action.local_id,
                account.id,
                account.email,
                account.sync_all_private,
                now,
            )
            try:
                validate(appointment)
            except InvalidAppointment as error:
                unstorable(run, action, error)
                continue
            items.append((action, appointment, run.import_snapshot(appointment, action.event)))
            if no_email:
                names = ", ".join(
                    "an attendee" if appointment.private else (p.name or "?") for p in no_email
                )
                run.skip_late(
                    "remote",
                    action.event.remote_id,
                    name_of(appointment),
                    f"Attendee without an email address was not imported: {names}.",
                )
                run.result.skipped += 1
        seqs = run.store.insert_appointments([a for _, a, _ in items], validated=True)
        run.own_seqs.update(seqs)
        # the snapshot and the journal's fields after are encoded together
        texts = [snapshot.texts() for _, _, snapshot in items]
        run.store.add_statuses(
            account.id,
            [
                LinkStatus(
                    action.local_id, action.event.remote_id, action.event.version, snapshot, seq
                ).to_row(stored)
                for (action, _, snapshot), seq, (stored, _) in zip(items, seqs, texts, strict=True)
            ],
        )
        if items:
            run.result.add(CreateLocally.kind, len(items))
        if run.journal is not None:  # the history, in the same transaction
            run.journal.record_imports(
                [action.local_id for action, _, _ in items],
                [action.event for action, _, _ in items],
                [local_after for _, local_after in texts],
            )


@dataclass
class UpdateBothSides(Action):
    """The merged fields go to whichever side lacks them (``merged`` says which)."""

    merged: Merged | None = None
    #: fields of someone else's meeting the merge would have pushed: the
    #: organiser's, so the service's values come back instead (said once)
    refused: tuple[str, ...] = ()
    #: the merge's losing values are in the conflict log already
    conflicts_logged: bool = field(default=False, repr=False, compare=False)

    kind: ClassVar[Kind] = Kind.UPDATE

    @classmethod
    def merging(
        cls,
        run: SyncRun,
        local: Appointment,
        seq: int,
        event: RemoteEvent | None,
        link: LinkStatus,
    ) -> UpdateBothSides:
        """The three-way merge of an item's two sides against its snapshot."""
        cur_l = m.local_fields(local)
        cur_r = run.remote_fields(event) if event is not None else link.snapshot.remote
        local_newer = (
            event is None or event.last_modified is None or (local.modified >= event.last_modified)
        )
        account = run.account
        merged = merge(
            link.snapshot,
            cur_l,
            cur_r,
            local_newer,
            stored=lambda f: m.stored_form(f, account.email, run.provider.show_as_kept),
            remote_private=event.private if event is not None else None,
            private_one_way=account.sync_all_private,
            tz=local.timezone,
            new_series=run.new_series,
            remote_id=link.remote_id,
        )
        refused: tuple[str, ...] = ()
        allowed = attendee_fields(run.provider.kind) | {"my_response"}
        theirs = _organised_by_someone_else(local, event) and bool(merged.push - allowed)
        if theirs and not _guests_may_modify(local, event):
            merged, refused = attendee_only(merged, cur_l, cur_r, allowed)
        return cls(local.id, local, seq, event, link, bool(merged.push), merged, refused)

    def write_failed(self, run: SyncRun, error: ProviderError) -> bool:
        if "my_response" in self.push and _refusal(error):
            # the service would not take the answer: it keeps its own, the Sales
            # Calendar shows that, and the refusal is said once (never retried)
            return self._take_the_services(run, error, "Answer not sent")
        if not isinstance(error, ReadOnlyEvent):
            return super().write_failed(run, error)
        return self._take_the_services(run, error, "Read-only")

    def _take_the_services(self, run: SyncRun, error: ProviderError, what: str) -> bool:
        # someone else's meeting, which the service keeps as its organiser has it
        # (SPEC §10): the Sales Calendar takes the organiser's version and says
        # so once; nothing is left to push, so nothing is tried again
        if self.event is None:  # unchanged remotely, so not listed this run
            try:
                self.event = run.provider.get(self.link.remote_id)
            except ProviderError as exc:
                return super().write_failed(run, exc)
        self.merged = remote_wins(m.local_fields(self.local), run.remote_fields(self.event))
        self.refused = ()
        run.skip_late("local", self.local_id, self.title, f"{what}: {error}")
        return True

    @property
    def push(self) -> frozenset[str]:
        return self.merged.push

    @property
    def pull(self) -> frozenset[str]:
        return self.merged.pull

    def target(self) -> Appointment:
        """The appointment as it is once the merged fields are in."""
        return m.apply_fields(self.local, self.merged.fields, self.merged.pull)

    def write(self, run: SyncRun, invite: bool | None = None) -> Write | None:
        if not self.push:
            return None
        if invite is None:
            invite = run.send_invitations and self.from_local and not self.first_link
        target = self.target()
        edited = self.push - {"my_response"}
        fields = frozenset(set().union(*(m.PROVIDER_FIELDS[f] for f in edited)))
        organiser = self.event is None or self.event.organizer_is_self
        update = Update(
            self.link.remote_id,
            self.remote_version,
            m.draft_from(target),
            fields,
            send_invitations=invite and organiser and _has_guests(target),
        )
        if "my_response" not in self.push:
            return update
        # the answer goes as a response, the attendee's own copy's fields with it
        return Respond(
            self.link.remote_id,
            self.remote_version,
            target.my_response,
            own_copy=update if edited else None,
        )

    def commit_local(self, run: SyncRun, event: RemoteEvent | None) -> Appointment | None:
        target = self.target()
        seq = self.local_seq
        if self.refused:
            reason = read_only_reason(run.provider.kind, organiser_named(self.local))
            run.skip_late("local", self.local_id, self.title, f"Read-only: {reason}")
        if event is None and "my_response" in self.push and meetings.declined(target):
            # declined, and the service took it off the calendar (Exchange, Office
            # 365): it stays in the Sales Calendar, linked to nothing any more
            run.store.drop_status(run.account.id, self.local_id)
            return target
        if self.pull or target.account_id != run.account.id:
            target = target.with_changes(account_id=run.account.id)
            seq = run.save(target, self.local_seq)
        remote = run.remote_fields(event) if event is not None else self.link.snapshot.remote
        version = event.version if event is not None else self.link.version
        run.put_link(
            LinkStatus(
                self.local_id,
                self.link.remote_id,
                version,
                Snapshot(m.local_fields(target), remote),
                seq,
            ),
            event,
        )
        self.log_conflicts(run)
        return target

    def log_conflicts(self, run: SyncRun) -> None:
        if not self.conflicts_logged:
            run.log_conflicts(self.local_id, self.merged.conflicts)
            self.conflicts_logged = True

    @property
    def counted(self) -> bool:
        # a new remote version with nothing we map changed is only recorded
        return bool(self.push or self.pull)


@dataclass
class LinkExisting(UpdateBothSides):
    """An appointment and an event that are the same are linked: the Sales
    Calendar's values are pushed where they differ; invite statuses come back."""

    kind: ClassVar[Kind] = Kind.LINK
    first_link: ClassVar[bool] = True

    @classmethod
    def between(
        cls, run: SyncRun, local: Appointment, seq: int, event: RemoteEvent
    ) -> LinkExisting:
        cur_r = run.remote_fields(event)
        own = m.local_fields(local)
        base = replace(cur_r, statuses=own.statuses)
        if own.rrule and split_at(
            replace(cur_r, rrule=own.rrule), cur_r, local.timezone, run.new_series, event.remote_id
        ):
            # the series was split there since the Sales Calendar's rule was pushed
            # (the account away meanwhile): the Sales Calendar's series was theirs
            # before the split, so the merge ends it where the split starts
            base = replace(base, rrule=own.rrule)
        link = LinkStatus(local.id, event.remote_id, event.version, Snapshot.agreed(base), -1)
        return cls.merging(run, local, seq, event, link)

    def commit_local(self, run: SyncRun, event: RemoteEvent | None) -> Appointment | None:
        after = super().commit_local(run, event)
        if event is not None and event.ical_uid:
            # the appointment is this event now (linked by its contents, say, while
            # the UID it remembers is another event's): its UID is the evidence
            # that links them when the account is added again (SPEC §4)
            run.store.remember_ical_uids({self.local_id: event.ical_uid}, replace=True)
        found = self.event
        if run.journal is not None and found is not None and found.local_id == self.local_id:
            # our own event: created by a run killed before its commit
            run.journal.record_found(
                self.local_id, found, run.remote_fields(found), m.local_fields(self.local)
            )
        return after

    @property
    def counted(self) -> bool:
        return True


@dataclass
class DeleteRemotely(Action):
    """An appointment deleted in the Sales Calendar is deleted from the service."""

    #: the appointment as it was when deleted here, if known (an undo brings it back)
    deleted: Appointment | None = None

    kind: ClassVar[Kind] = Kind.DELETE_REMOTE

    def write(self, run: SyncRun) -> Write:
        return Delete(self.remote_id, self.remote_version, send_invitations=run.send_invitations)

    def write_failed(self, run: SyncRun, error: ProviderError) -> bool:
        if isinstance(error, NotFound):
            return True  # already gone: the deletion is done
        return super().write_failed(run, error)

    def commit_local(self, run: SyncRun, event: RemoteEvent | None) -> Appointment | None:
        run.store.drop_status(run.account.id, self.local_id)
        run.store.drop_tombstone(run.account.id, self.local_id)
        return None

    def instead_of_deleting(self, run: SyncRun) -> Action:
        if self.link is None:
            return self
        event = self.event
        if event is None:
            try:
                event = run.provider.get(self.link.remote_id)
            except NotFound:
                return ForgetLink(self.local_id, link=self.link)
        return RestoreLocally(self.local_id, event=event, link=self.link)


@dataclass
class DeleteLocally(Action):
    """An event deleted on the service is deleted from the Sales Calendar."""

    kind: ClassVar[Kind] = Kind.DELETE_LOCAL
    local_only: ClassVar[bool] = True

    def commit_local(self, run: SyncRun, event: RemoteEvent | None) -> Appointment | None:
        run.store.delete_appointment(self.local_id, tombstone=False, expect_seq=self.local_seq)
        run.store.drop_status(run.account.id, self.local_id)
        return None

    def instead_of_deleting(self, run: SyncRun) -> Action:
        if self.local is not None and self.local.organised_by_someone_else:
            # kept, but never made again as the user's own meeting (SPEC §10)
            return ForgetLink(self.local_id, self.local, self.local_seq, None, self.link)
        return CreateRemotely(self.local_id, self.local, self.local_seq, None, self.link)


@dataclass
class RestoreLocally(Action):
    """Deleted in the Sales Calendar, edited on the service (or kept at the
    deletion warning): the appointment comes back with the service's values,
    and with its own participants and rule, which the Sales Calendar owns."""

    kind: ClassVar[Kind] = Kind.RESTORE_LOCAL
    local_only: ClassVar[bool] = True

    def commit_local(self, run: SyncRun, event: RemoteEvent | None) -> Appointment | None:
        account = run.account
        appointment, _ = m.appointment_from(
            event,
            self.local_id,
            account.id,
            account.email,
            account.sync_all_private,
            run.clock(),
        )
        tombstones = run.store.tombstones(account.id)
        deleted = next((t.appointment for t in tombstones if t.local_id == self.local_id), None)
        if deleted is not None:  # one-way fields never flow back (SPEC §4) …
            remote = run.remote_fields(event)
            own = m.local_fields(deleted)
            if own.rrule and own.time and self.link is not None:
                # … but a split made there ends the series here too
                tz = deleted.timezone
                last = split_at(
                    self.link.snapshot.remote, remote, tz, run.new_series, event.remote_id
                )
                if last is not None:
                    own = replace(own, rrule=ended_at(own.rrule, own.time[0], tz, last))
            appointment = m.apply_fields(
                appointment.with_changes(participants=deleted.participants), own, ("rrule",)
            )
            appointment = m.apply_fields(appointment, remote, ("statuses",))
        seq = run.save(appointment, 0)
        run.put_link(
            LinkStatus(
                self.local_id,
                event.remote_id,
                event.version,
                run.snapshot(appointment, event),
                seq,
            )
        )
        return appointment


@dataclass
class ForgetLink(Action):
    """Gone on both sides (or deleted on one side while out of scope): the link
    and any tombstone are dropped; nothing else changes."""

    kind: ClassVar[Kind] = Kind.FORGET
    local_only: ClassVar[bool] = True

    def commit_local(self, run: SyncRun, event: RemoteEvent | None) -> Appointment | None:
        run.store.drop_status(run.account.id, self.local_id)
        run.store.drop_tombstone(run.account.id, self.local_id)
        return self.local


@dataclass
class KeepDeclined(Action):
    """Someone else's meeting that the user declined on the service itself (in
    Outlook): Exchange and Office 365 take it to Deleted Items, so the listing
    reports it deleted. It stays in the Sales Calendar with the answer, struck
    through, linked to nothing any more (SPEC §10), as a meeting declined here
    does once the service has the answer."""

    kind: ClassVar[Kind] = Kind.UPDATE
    local_only: ClassVar[bool] = True

    def commit_local(self, run: SyncRun, event: RemoteEvent | None) -> Appointment | None:
        kept = self.local.with_changes(my_response=MyResponse.DECLINED)
        run.save(kept, self.local_seq)
        run.store.drop_status(run.account.id, self.local_id)
        return kept


@dataclass
class EndImportedSeries(Action):
    """The new series of a split made on the service, imported in this run, ends
    where a split made here later in the same series starts (see
    :func:`end_at_split`): its appointment, just imported, takes the shorter
    rule, which goes to the service as the Sales Calendar's rule does."""

    #: the start of the other split's new series: this one ends before it
    before: datetime | None = None
    update: UpdateBothSides | None = field(default=None, repr=False, compare=False)

    kind: ClassVar[Kind] = Kind.UPDATE

    def write(self, run: SyncRun) -> Write | None:
        local = run.store.get_appointment(self.local_id)
        row = run.store.status_for(run.account.id, [self.local_id]).get(self.local_id)
        if local is None or local.recurrence is None or row is None:
            return None  # not imported (it could not be stored): nothing to end
        ended = end_at_split(local, self.before)
        if ended is None:
            return None
        link = LinkStatus.from_row(row)
        seq = run.store.appointment_seqs([self.local_id]).get(self.local_id, 0)
        fields = m.local_fields(local)
        merged = Merged(
            fields.with_values({"rrule": ended.recurrence.rrule}),
            push=frozenset({"rrule"}),
            pull=frozenset({"rrule"}),
        )
        self.update = UpdateBothSides(self.local_id, local, seq, self.event, link, False, merged)
        return self.update.write(run)

    def must_retry(self, outcome: WriteResult) -> bool:
        return False  # changed there meanwhile: left as it is (the update fails)

    def commit(self, run: SyncRun, outcome: WriteResult | None = None) -> None:
        if self.update is not None:
            self.update.commit(run, outcome)


def end_at_split(local: Appointment, before: datetime) -> Appointment | None:
    """``local``, a series, ending with its last occurrence before ``before``
    (its overrides and deleted occurrences from then on dropped); None when it
    has no occurrence before it or ends by then already."""
    rec = local.recurrence
    last = rec.rule_set(local.start, local.timezone).before(
        before.astimezone(ZoneInfo(local.timezone))
    )
    if last is None:
        return None
    rrule = ended_at(rec.rrule, local.start.isoformat(), local.timezone, last)
    if rrule == rec.rrule:
        return None
    return local.with_changes(
        recurrence=replace(
            rec,
            rrule=rrule,
            exdates=tuple(x for x in rec.exdates if x <= last),
            overrides=tuple(o for o in rec.overrides if o.original_start <= last),
        )
    )
