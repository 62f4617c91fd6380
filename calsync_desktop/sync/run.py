"""One sync run of one account: what it works on and what it has learnt so far.

A :class:`SyncRun` is made when a run starts planning and is passed to every
step after it (the planner, each action, the applier); nothing of one run is
kept on the engine, so two runs never share state by accident.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from calsync_desktop.accounts.base import Account
from calsync_desktop.model import Appointment
from calsync_desktop.providers.base import CalendarProvider, RemoteEvent
from calsync_desktop.store import SkippedEntry, Store
from calsync_desktop.sync import mapping as m
from calsync_desktop.sync.plan import Progress, SyncResult
from calsync_desktop.sync.scope import Scope
from calsync_desktop.sync.series_end import NewSeries
from calsync_desktop.sync.snapshot import Fields, LinkStatus, Snapshot

if TYPE_CHECKING:
    from calsync_desktop.sync.actions import Action
    from calsync_desktop.sync.history import RunJournal
    from calsync_desktop.sync.merge import Conflict

log = logging.getLogger(__name__)


def name_of(appointment: Appointment) -> str:
    """An appointment as the skipped log names it: never private contents."""
    return "Private appointment" if appointment.private else (appointment.title or "(no title)")


def name_of_event(event: RemoteEvent) -> str:
    return "Private appointment" if event.private else (event.subject or "(no title)")


@dataclass
class SyncRun:
    """The context and the bookkeeping of one run.

    Bookkeeping that decides how the run ends:

    - ``failed_local_seq``: the lowest change counter of an appointment whose
      push failed; the account's counter is not moved past it, so the next run
      tries again;
    - ``keep_remote_state``: something remote was not fully taken in (a failed
      item, an edit made meanwhile); the sync state read at the start is kept
      so the next run lists it again;
    - ``reread``: the service sent events that could not be read; the sync
      state read at the start is kept (even none: everything is listed again)
      so the next run reads them again;
    - ``own_seqs``: change counters the run itself wrote (not user edits);
    - ``created_remote``: the run created events (some services then need the
      state moved past those creates);
    - ``late_skipped``: items skipped while applying (not storable, attendees
      without an email);
    - ``frozen``: the skipped-log entry of each linked item out of scope, by
      local id; ``skipped_before`` the account's skipped log as the run found it.
    """

    store: Store
    account: Account
    provider: CalendarProvider
    scope: Scope
    clock: Callable[[], datetime]
    progress: Progress = lambda done, total, message: None
    result: SyncResult = field(default_factory=SyncResult)
    send_invitations: bool = False
    failed_local_seq: int | None = None
    keep_remote_state: bool = False
    reread: bool = False
    #: iCalUIDs of meetings declined on the service itself, which took them off
    #: the calendar (``ChangeSet.declined``): kept here, declined
    declined_uids: frozenset[str] = frozenset()
    own_seqs: set[int] = field(default_factory=set)
    created_remote: bool = False
    late_skipped: list[SkippedEntry] = field(default_factory=list)
    #: iCalUIDs of linked appointments learnt while planning (stored at the end)
    learnt_uids: dict[str, str] = field(default_factory=dict)
    frozen: dict[str, SkippedEntry] = field(default_factory=dict)
    skipped_before: list[SkippedEntry] = field(default_factory=list)
    #: the run's history (None: not journalled)
    journal: RunJournal | None = None
    #: the series this listing brings that are linked to nothing yet (the new
    #: half of a "this and following" split, see sync/series_end.py)
    new_series: tuple[NewSeries, ...] = ()

    # ------------------------------------------------------------------ reading

    def remote_fields(self, event: RemoteEvent) -> Fields:
        """An event's merge fields as this account reads them."""
        return m.remote_fields(event, self.account.email, self.account.sync_all_private)

    def snapshot(self, local: Appointment, event: RemoteEvent) -> Snapshot:
        """The snapshot of an item both sides hold now."""
        return Snapshot(m.local_fields(local), self.remote_fields(event))

    def import_snapshot(self, appointment: Appointment, event: RemoteEvent) -> Snapshot:
        """The snapshot of an appointment just made from ``event``
        (:func:`~calsync_desktop.sync.mapping.imported_fields`)."""
        account = self.account
        return Snapshot(
            *m.imported_fields(event, appointment, account.email, account.sync_all_private)
        )

    # ------------------------------------------------------------------ writing locally

    def save(self, appointment: Appointment, expect_seq: int) -> int:
        """Store an appointment the sync changed; its new counter is the sync's own."""
        seq = self.store.save_appointment(appointment, expect_seq=expect_seq)
        self.own_seqs.add(seq)
        return seq

    def put_link(self, link: LinkStatus, event: RemoteEvent | None = None) -> None:
        """Record a link; with the event, the appointment learns its iCalUID."""
        self.store.put_status(self.account.id, link.to_row())
        if event is not None and event.ical_uid:
            self.store.remember_ical_uids({link.local_id: event.ical_uid})

    def learn_uid(self, local_id: str, event: RemoteEvent) -> None:
        """A linked event was listed: its appointment remembers its iCalUID."""
        if event.ical_uid:
            self.learnt_uids[local_id] = event.ical_uid

    def log_conflicts(self, local_id: str, conflicts: tuple[Conflict, ...]) -> None:
        """Log the losing values; the run counts the losses new to the log (one
        merged again, after a changed-meanwhile answer or a run that ended
        before its write, is the same conflict)."""
        for c in conflicts:
            store = self.store
            if store.log_conflict(self.account.id, local_id, c.field, c.kept, c.lost, c.lost_side):
                self.result.conflicts += 1

    # ------------------------------------------------------------------ bookkeeping

    def skip(self, side: str, item_id: str, item: str, reason: str) -> SkippedEntry:
        """A skipped-log entry of this account, dated now."""
        return SkippedEntry(self.account.id, side, item_id, item, reason, self.clock())

    def freeze(
        self,
        local_id: str,
        local: Appointment | None,
        event: RemoteEvent | None,
        linked: bool = True,
        aged: str | None = None,
    ) -> None:
        """An item out of scope is left as it is: say so in the skipped log,
        with the way it left scope (the Sales Calendar's side first); ``aged``
        is how the service's side, not listed, went out of scope with time."""
        scope = self.scope
        if local is not None and (how := scope.local_out_by(local)):
            side, reason = "local", scope.frozen_reason(how, local.recurrence is not None)
        elif event is not None and (how := scope.remote_out_by(event)):
            side = "remote"
            reason = scope.frozen_reason(how, event.recurrence is not None, self.account.name)
        elif aged is not None and local is not None:
            side = "remote"
            reason = scope.frozen_reason(
                aged, local.recurrence is not None, self.account.name, moved=False
            )
        else:
            return
        name = name_of(local) if local is not None else name_of_event(event)
        entry = SkippedEntry(self.account.id, side, local_id, name, reason, self.clock(), linked)
        self.frozen[local_id] = entry

    def skip_late(self, side: str, item_id: str, item: str, reason: str) -> None:
        self.late_skipped.append(self.skip(side, item_id, item, reason))

    def failed(self, action: Action, error: Exception) -> None:
        """One item failed: it is tried again next run; the rest goes on."""
        self.result.errors.append(f"{action.title}: {error}")
        log.warning("Sync of one item failed: %s", error)
        if action.local_seq:
            low = action.local_seq - 1
            self.failed_local_seq = (
                low if self.failed_local_seq is None else min(self.failed_local_seq, low)
            )
        self.keep_remote_state = True

    def edited_meanwhile(self) -> None:
        """The user edited an item while the run wrote it: merged again next run."""
        self.keep_remote_state = True
