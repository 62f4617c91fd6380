"""The sync engine: find changes on both sides, plan, then apply (SPEC §4, §5).

One run for one account:

1. **Find.** The provider lists what changed remotely since the saved sync
   state (or everything in the window on the first run and after the state
   expired). The store lists appointments changed since the account's change
   counter, and tombstones of deleted ones.
2. **Plan.** Each touched item becomes one action, decided by a three-way
   merge per field against the snapshot both sides agreed on last time. The
   plan is what a preview shows and what the mass-deletion guard inspects.
3. **Apply.** Remote writes go out in batches; each batch's local writes and
   status rows are committed together right after its remote results, so a
   crash at any point leaves a state the next run completes: an event created
   remotely carries the local id and is re-linked, never duplicated.

Where each part lives:

============  ===============================================================
module        what it holds
============  ===============================================================
engine        :class:`SyncEngine`: one run, plan then apply
run           :class:`~.run.SyncRun`: one run's context and bookkeeping
planner       finding the changes and pairing each item with its link
decide        the action one linked item needs; scope freezes
linking       first-sync linking by SPEC §4's order of evidence
merge         the three-way merge of one item's fields
actions       one class per action kind: its remote write, its local commit
apply         batches, retries, and the account's new state
history       the journal of what a run changed (SPEC §9)
snapshot      the merge fields, the snapshot, the typed status row
mapping       appointment ↔ event fields
plan          the plan, the guard, the result (plain data)
conflicts     restoring from the conflict log
scope         what the sync may touch
============  ===============================================================

The engine never raises for one item's failure; it leaves that item for the
next run. It raises the provider's errors that end the run (sign-in needed,
unreachable) so the caller can set the account's state.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from calsync_desktop.accounts.base import Account
from calsync_desktop.providers.base import CalendarProvider, ProviderError
from calsync_desktop.store import Store
from calsync_desktop.store.journal import Journal
from calsync_desktop.sync import apply as applying
from calsync_desktop.sync.actions import Action, Kind
from calsync_desktop.sync.gc_pause import gc_paused
from calsync_desktop.sync.history import RunJournal
from calsync_desktop.sync.plan import (
    Confirm,
    Decision,
    MassDeletionGuard,
    Plan,
    Progress,
    SyncResult,
)
from calsync_desktop.sync.planner import Planner
from calsync_desktop.sync.run import SyncRun
from calsync_desktop.sync.scope import DEFAULT_HORIZON_DAYS, Scope

__all__ = [
    "Action",
    "Confirm",
    "Decision",
    "Kind",
    "MassDeletionGuard",
    "Plan",
    "Progress",
    "SyncEngine",
    "SyncResult",
]


class SyncEngine:
    """Two-way sync of the Sales Calendar with one account's calendar.

    Holds only what every run shares (the store, the account, the service, the
    clock and the callbacks); each :meth:`plan` starts a fresh
    :class:`~calsync_desktop.sync.run.SyncRun` that its plan carries to
    :meth:`apply`.
    """

    def __init__(
        self,
        store: Store,
        account: Account,
        provider: CalendarProvider,
        clock: Callable[[], datetime] | None = None,
        progress: Progress | None = None,
        confirm: Confirm | None = None,
        horizon_days: int = DEFAULT_HORIZON_DAYS,
        trigger: str = "sync now",
    ):
        self.store = store
        self.account = account
        self.provider = provider
        self.clock = clock or (lambda: datetime.now(UTC))
        self.progress = progress or (lambda done, total, message: None)
        self.confirm = confirm
        self.horizon_days = horizon_days
        self.trigger = trigger  # what started the runs (their history names it)

    def new_run(self) -> SyncRun:
        """The context of one run, its window fixed now."""
        return SyncRun(
            store=self.store,
            account=self.account,
            provider=self.provider,
            scope=Scope(self.clock(), self.horizon_days),
            clock=self.clock,
            progress=self.progress,
            journal=RunJournal(Journal(self.store), self.account.id, self.trigger, self.clock),
        )

    def plan(self) -> Plan:
        """Find the changes on both sides and decide what each item needs;
        writes nothing."""
        with gc_paused():
            return Planner(self.new_run()).plan()

    def run(self, result: SyncResult | None = None) -> SyncResult:
        """Plan and apply one sync; what it did goes into ``result`` (a new one
        when None), which keeps what was done before an error that ends the
        run. Raises only errors that end the run."""
        plan = self.plan()
        run = plan.run
        if result is not None:
            run.result = result
        result = run.result
        result.skipped, result.guard, result.full_listing = len(plan.skipped), plan.guard, plan.full
        if plan.guard is not None:
            decision = self.confirm(plan.guard) if self.confirm else Decision.STOP
            if decision is Decision.STOP:
                result.stopped = True
                applying.finish(run, plan, advance=False)
                self.account = run.account
                return result
            if decision is Decision.RESTORE:
                plan.actions = [a.instead_of_deleting(run) for a in plan.actions]
        self.apply(plan, result)
        return result

    def apply(self, plan: Plan, result: SyncResult | None = None) -> None:
        """Apply a plan made by :meth:`plan`; what it did goes into ``result``
        (the run's own result when None)."""
        run = plan.run
        if result is not None:
            run.result = result
        try:
            with gc_paused():
                applying.apply(run, plan)
        except ProviderError:
            # what the batches before wrote is committed: the history says so
            if run.journal is not None:
                run.journal.end("failed", run.result.counts)
            raise
        self.account = run.account
