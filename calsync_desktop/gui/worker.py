"""The sync worker (a QThread with its own store connection) and its scheduler.

The worker runs :class:`~calsync_desktop.sync.runner.SyncRunner` off the GUI
thread and reports through signals. When the sync needs the user (the
mass-deletion guard asks; an account needs signing in again) it goes through
an injected :class:`UserPrompts`; a question blocks the worker, never the
window, until the user answers.

The scheduler decides when to sync: at start, every N minutes, on "Sync now",
about 10 s after a local edit, after the computer wakes and when the network
comes back. "Sync now" during a sync queues exactly one more run.

The same worker runs the history's jobs (SPEC §9): an undo's preview, an
undo, and a resync from scratch of one account. A job asked for during a run
waits for it and goes before any queued sync. At start, before anything else
(paused or not), it prunes the history to its retention.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from PySide6.QtCore import QObject, Qt, QThread, QTimer, Signal, Slot

log = logging.getLogger(__name__)

EDIT_DELAY_MS = 10_000
"""A local edit is synced this long after the last edit (edits in a row coalesce)."""
WAKE_PROBE_MS = 30_000
WAKE_GAP_S = 90.0
"""Wall-clock time running this far ahead of the monotonic clock means the computer slept."""


class UserPrompts(Protocol):
    """How the worker asks the user. Called from the worker thread."""

    def confirm_deletions(self, guard: Any) -> Any:
        """The mass-deletion guard's question: returns a ``Decision``; blocks until answered."""

    def sign_in_needed(self, account: Any) -> None:
        """Tell the user an account needs signing in again (does not block)."""


TRIGGERS = {
    "interval": "interval",
    "local edit": "edit",
    "start": "start",
    "wake": "wake",
    "network back": "wake",
}
"""The trigger a run's history names, by the reason it was requested (else "sync now")."""


SYNC, UNDO, UNDO_PREVIEW, FROM_SCRATCH = "sync", "undo", "undo preview", "from scratch"
"""The jobs the worker runs (:attr:`SyncRequest.job`)."""


@dataclass(eq=False)
class SyncRequest:
    """One requested run: all accounts, or one; ``reason`` is for the log.
    ``job`` is a sync, an undo of the history's run ``run_id`` (or only its
    preview), or a resync from scratch of ``account_id``."""

    reason: str
    account_id: str | None = None
    job: str = SYNC
    run_id: int | None = None
    #: set by :meth:`SyncScheduler.cancel`: an undo's preview stops
    stop: threading.Event = field(default_factory=threading.Event, repr=False)


@dataclass
class AccountOutcome:
    """How one account's run ended, in words fit for the window and the tray.
    An undo's ``result`` is its UndoResult (None for a preview) and ``plan``
    its UndoPlan; ``state`` "refused" is an undo the history does not allow,
    "cancelled" a preview the user cancelled."""

    account_id: str
    account_name: str
    result: Any = None
    state: str = "ok"
    error: str = ""
    plan: Any = None


@dataclass
class RunSummary:
    """What one worker run did across the accounts it synced."""

    request: SyncRequest
    outcomes: list[AccountOutcome] = field(default_factory=list)
    thread_name: str = ""
    finished_at: datetime | None = None

    @property
    def ok(self) -> bool:
        return all(o.state == "ok" for o in self.outcomes)


RunnerFactory = Callable[..., Any]
"""``make_runner(services, progress=..., confirm=...)`` -> an object with
``sync_account(account_id)`` (a SyncRunner); called in the worker thread."""


class SyncWorker(QObject):
    """Runs syncs in its own thread, with its own Store connection.

    ``open_services()`` is called once, in the worker thread, on the first run
    (SQLite connections belong to the thread that made them); in the app it is
    ``services.for_thread``.
    """

    started = Signal(object)  # SyncRequest
    progress = Signal(int, int, str)  # done, total, message
    accountStarted = Signal(str)  # account name
    finished = Signal(object)  # RunSummary

    def __init__(
        self,
        open_services: Callable[[], Any],
        make_runner: RunnerFactory,
        prompts: UserPrompts,
        clock: Callable[[], datetime],
    ):
        super().__init__()
        self.open_services = open_services
        self.make_runner = make_runner
        self.prompts = prompts
        self.clock = clock
        self.services = None

    def _services(self):
        if self.services is None:
            self.services = self.open_services()
        return self.services

    @Slot()
    def prune_history(self) -> None:
        """Drop the history's runs beyond its retention (Settings › History),
        here, off the window's thread: the app does it as it starts."""
        from calsync_desktop.store.journal import Journal

        try:
            dropped = Journal(self._services().store).prune(self.clock())
        except Exception:  # the app starts all the same; the next sync prunes again
            log.exception("Could not prune the sync history")
            return
        if dropped:
            log.info("The sync history dropped %d run(s) beyond its retention", dropped)

    @Slot(object)
    def run(self, request: SyncRequest) -> None:
        summary = RunSummary(request, thread_name=threading.current_thread().name)
        self.started.emit(request)
        try:
            self._services()
            runner = self.make_runner(
                self.services, progress=self._progress, confirm=self.prompts.confirm_deletions
            )
            if request.job in (UNDO, UNDO_PREVIEW):
                summary.outcomes.append(self._undo(runner, request))
            elif request.job == FROM_SCRATCH:
                summary.outcomes.append(self._from_scratch(runner, request.account_id))
            # the runner leaves out paused accounts and those waiting for a sign-in
            for account in runner.runnable_accounts() if request.job == SYNC else []:
                if request.account_id and account.id != request.account_id:
                    continue
                self.accountStarted.emit(account.name)
                trigger = TRIGGERS.get(request.reason, "sync now")
                summary.outcomes.append(self._sync_one(runner, account, trigger))
        except Exception as exc:  # the worker must survive and report
            log.exception("Sync run failed")
            summary.outcomes.append(AccountOutcome("", "", state="error", error=str(exc)))
        summary.finished_at = self.clock()
        self.finished.emit(summary)

    def _undo(self, runner, request: SyncRequest) -> AccountOutcome:
        from calsync_desktop.providers.base import Cancelled, ProviderError
        from calsync_desktop.store.journal import Journal
        from calsync_desktop.sync.runner import explain
        from calsync_desktop.sync.undo import UndoRefused

        store = self.services.store
        record = Journal(store).run(request.run_id)
        account = store.get_account(record.account_id) if record is not None else None
        outcome = AccountOutcome(account.id if account else "", account.name if account else "")
        if request.stop.is_set():  # cancelled before its turn came
            outcome.state = "cancelled"
            return outcome
        if account is not None:
            self.accountStarted.emit(account.name)
        try:
            outcome.plan, outcome.result = runner.undo_run(
                request.run_id, dry_run=request.job == UNDO_PREVIEW, stop=request.stop
            )
        except Cancelled:
            outcome.state = "cancelled"
        except UndoRefused as refused:
            outcome.state, outcome.error = "refused", str(refused)
        except ProviderError as error:
            outcome.state, outcome.error = "error", explain(error).problem
        except Exception as exc:  # the worker must survive and report
            log.warning("Undo of run %s failed: %s", request.run_id, type(exc).__name__)
            outcome.state, outcome.error = "error", str(exc) or type(exc).__name__
        return outcome

    def _from_scratch(self, runner, account_id: str | None) -> AccountOutcome:
        account = self.services.store.get_account(account_id) if account_id else None
        if account is None:
            return AccountOutcome("", "", state="refused", error="That account was removed.")
        if str(account.state) == "needs_sign_in":
            return AccountOutcome(
                account.id,
                account.name,
                state="refused",
                error=f"Sign in again to {account.name} first: then it can resync.",
            )
        self.accountStarted.emit(account.name)
        return self._sync_one(runner, account, "from scratch", from_scratch=True)

    def _sync_one(
        self, runner, account, trigger: str, from_scratch: bool = False
    ) -> AccountOutcome:
        outcome = AccountOutcome(account.id, account.name)
        extra = {"from_scratch": True} if from_scratch else {}
        try:
            outcome.result = runner.sync_account(account.id, trigger=trigger, **extra)
        except Exception as exc:  # one account's failure never stops the others
            log.warning("Sync of account %s failed: %s", account.id, type(exc).__name__)
            outcome.error = str(exc)
        after = self.services.store.get_account(account.id)
        if after is not None:
            outcome.state = str(after.state)
            outcome.error = outcome.error or after.last_error
            if outcome.state == "needs_sign_in" and account.state != after.state:
                self.prompts.sign_in_needed(after)
        elif outcome.error:
            outcome.state = "error"
        if outcome.error and outcome.state == "ok":
            outcome.state = "error"
        return outcome

    def _progress(self, done: int, total: int, message: str) -> None:
        self.progress.emit(done, total, message)

    @Slot()
    def close_store(self) -> None:
        if self.services is not None:
            self.services.store.close()
            self.services = None


class SyncScheduler(QObject):
    """Decides when the worker runs; lives in the GUI thread.

    Signals: ``syncStarted``, ``progress(done, total, message)``,
    ``accountStarted(name)``, ``syncFinished(RunSummary)``; ``running`` tells
    whether a run is under way, ``current`` which.
    """

    syncStarted = Signal()
    progress = Signal(int, int, str)
    accountStarted = Signal(str)  # the account name, as each account's sync begins
    syncFinished = Signal(object)
    _requested = Signal(object)
    _prune = Signal()
    _closeStore = Signal()

    def __init__(
        self,
        worker: SyncWorker,
        interval_minutes: int = 5,
        parent: QObject | None = None,
        edit_delay_ms: int = EDIT_DELAY_MS,
        watch_network: bool = True,
    ):
        super().__init__(parent)
        self.worker = worker
        self.thread = QThread()
        self.thread.setObjectName("calsync-sync")
        worker.moveToThread(self.thread)
        self._requested.connect(worker.run)
        self._prune.connect(worker.prune_history)
        # blocking: stop() returns only once the worker closed its connection
        self._closeStore.connect(worker.close_store, Qt.ConnectionType.BlockingQueuedConnection)
        worker.finished.connect(self._on_finished)
        worker.progress.connect(self.progress)
        worker.accountStarted.connect(self.accountStarted)
        self.running = False
        self.paused = False
        self.pending: SyncRequest | None = None
        self.jobs: list[SyncRequest] = []  # undos and resyncs asked for during a run
        self.current: SyncRequest | None = None  # the run under way
        self.runs_started = 0

        self.interval = QTimer(self)
        self.interval.timeout.connect(lambda: self.request("interval"))
        self.set_interval(interval_minutes)
        self.after_edit = QTimer(self)
        self.after_edit.setSingleShot(True)
        self.after_edit.setInterval(edit_delay_ms)
        self.after_edit.timeout.connect(lambda: self.request("local edit"))
        self.wake_probe = QTimer(self)
        self.wake_probe.setInterval(WAKE_PROBE_MS)
        self.wake_probe.timeout.connect(self._check_wake)
        self._last_probe = (time.time(), time.monotonic())
        self.network = None
        if watch_network:
            self._watch_network()

    # ------------------------------------------------------------------ life

    def start(self, sync_at_start: bool = True) -> None:
        self.thread.start()
        self.wake_probe.start()
        self._prune.emit()  # queued first: the worker prunes before any run
        if sync_at_start:
            self.request("start")

    def stop(self, timeout_ms: int = 30_000) -> None:
        """Stop timers and the thread (after the current run ends; answer open
        questions first, see :meth:`GuiPrompts.close`)."""
        for timer in (self.interval, self.after_edit, self.wake_probe):
            timer.stop()
        self.pending = None
        self.jobs.clear()
        if self.thread.isRunning():
            self._closeStore.emit()
            self.thread.quit()
            self.thread.wait(timeout_ms)

    def release_store(self) -> None:
        """The worker closes its connection (call between runs): its next run
        opens the services' store anew, after the app switched Sales Calendars."""
        if self.thread.isRunning():
            self._closeStore.emit()

    # ------------------------------------------------------------------ triggers

    def set_interval(self, minutes: int) -> None:
        self.interval.setInterval(max(1, int(minutes)) * 60_000)
        if not self.paused:
            self.interval.start()

    def sync_now(self, account_id: str | None = None) -> None:
        self.request("sync now", account_id, manual=True)

    def undo(self, run_id: int, preview: bool = False) -> SyncRequest:
        """Undo the history's run ``run_id`` (or only find out what that would
        do); the request comes back in ``syncFinished``'s summary."""
        return self.run_job(
            SyncRequest("undo", job=UNDO_PREVIEW if preview else UNDO, run_id=run_id)
        )

    def cancel(self, request: SyncRequest) -> None:
        """Stop an undo's preview: one still waiting for its turn is dropped
        (no summary comes back for it); the one under way stops at its next
        request to the service, or at once while it waits to retry, and comes
        back with the outcome "cancelled"."""
        request.stop.set()
        if request in self.jobs:
            self.jobs.remove(request)

    def resync_from_scratch(self, account_id: str) -> SyncRequest:
        return self.run_job(SyncRequest("from scratch", account_id, job=FROM_SCRATCH))

    def run_job(self, request: SyncRequest) -> SyncRequest:
        """Run a job now, or right after the run under way (even while paused:
        the user asked for it)."""
        if self.running:
            self.jobs.append(request)
        else:
            self._start(request)
        return request

    def local_edit(self) -> None:
        """Call after the user changed an appointment: syncs once the edits settle."""
        if not self.paused:
            self.after_edit.start()

    def request(self, reason: str, account_id: str | None = None, manual: bool = False) -> bool:
        """Run now, or queue one more run if a run is under way. Returns whether
        anything was started or queued (nothing while paused, unless manual)."""
        if self.paused and not manual:
            return False
        request = SyncRequest(reason, account_id)
        if self.running:
            if self.pending is None:
                self.pending = request
            elif self.pending.account_id != account_id:
                self.pending = SyncRequest(reason)  # two different asks: sync everything
            return True
        self._start(request)
        return True

    def _start(self, request: SyncRequest) -> None:
        self.current = request
        self.running = True
        self.runs_started += 1
        if request.job == SYNC:
            self.after_edit.stop()
        self.syncStarted.emit()  # at once, in the GUI thread: the window shows progress now
        self._requested.emit(request)

    def set_paused(self, paused: bool) -> None:
        self.paused = paused
        if paused:
            self.interval.stop()
            self.after_edit.stop()
            self.pending = None
        else:
            self.interval.start()
            self.request("resumed")

    def _on_finished(self, summary: RunSummary) -> None:
        self.running = False
        self.current = None
        self.syncFinished.emit(summary)
        if self.jobs and not self.running:
            self._start(self.jobs.pop(0))
        elif self.pending is not None and not self.running:
            pending, self.pending = self.pending, None
            self.request(pending.reason, pending.account_id, manual=True)

    # ------------------------------------------------------------------ wake, network

    def _check_wake(self) -> None:
        # CLOCK_MONOTONIC does not advance while the computer sleeps; the wall clock does.
        wall, mono = time.time(), time.monotonic()
        last_wall, last_mono = self._last_probe
        self._last_probe = (wall, mono)
        if (wall - last_wall) - (mono - last_mono) > WAKE_GAP_S:
            log.info("The computer woke up: syncing")
            self.request("wake")

    def _watch_network(self) -> None:
        try:
            from PySide6.QtNetwork import QNetworkInformation
        except ImportError:  # pragma: no cover - part of PySide6-Essentials
            return
        if not QNetworkInformation.loadBackendByFeatures(QNetworkInformation.Feature.Reachability):
            return  # no backend on this system: the interval timer still syncs
        self.network = QNetworkInformation.instance()
        self._online = self.network.reachability() == QNetworkInformation.Reachability.Online
        self.network.reachabilityChanged.connect(self._reachability)

    def _reachability(self, reachability) -> None:
        from PySide6.QtNetwork import QNetworkInformation

        online = reachability == QNetworkInformation.Reachability.Online
        if online and not self._online:
            log.info("The network is back: syncing")
            self.request("network back")
        self._online = online


class Question(QObject):
    """One question from the worker thread, answered in the GUI thread."""

    def __init__(self, payload: Any, default: Any):
        super().__init__()
        self.payload = payload
        self.answer = default
        self.done = threading.Event()

    def reply(self, answer: Any) -> None:
        self.answer = answer
        self.done.set()


class GuiPrompts(QObject):
    """:class:`UserPrompts` for the app: questions become dialogs in the GUI thread.

    ``decide(guard) -> Decision`` shows the mass-deletion question (injected so
    tests answer it); ``notify(kind, title, message)`` shows a notification.
    Unanswered questions are answered STOP when the app quits.
    """

    _ask = Signal(object)
    signInNeeded = Signal(object)  # Account

    def __init__(
        self,
        decide: Callable[[Any], Any],
        stop_answer: Any,
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self.decide = decide
        self.stop_answer = stop_answer
        self._open: list[Question] = []
        self._lock = threading.Lock()
        self._closed = False
        self._ask.connect(self._on_ask)

    def confirm_deletions(self, guard: Any) -> Any:
        question = Question(guard, self.stop_answer)
        with self._lock:
            if self._closed:
                return self.stop_answer
            self._open.append(question)
        self._ask.emit(question)  # queued into the GUI thread
        question.done.wait()
        with self._lock:
            self._open.remove(question)
        return question.answer

    def sign_in_needed(self, account: Any) -> None:
        self.signInNeeded.emit(account)

    @Slot(object)
    def _on_ask(self, question: Question) -> None:
        if question.done.is_set():
            return
        try:
            question.reply(self.decide(question.payload))
        except Exception:  # never leave the worker waiting
            log.exception("Asking the user failed")
            question.reply(self.stop_answer)

    def close(self) -> None:
        """Answer every open question with STOP so the worker can finish."""
        with self._lock:
            self._closed = True
            open_questions = list(self._open)
        for question in open_questions:
            question.reply(self.stop_answer)
