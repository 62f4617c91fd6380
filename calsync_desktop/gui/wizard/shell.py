"""The wizard itself: its pages in order, the account being set up, saving it,
and the first sync (run here, or handed to the window's scheduler)."""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QWidget, QWizard, QWizardPage

from calsync_desktop.accounts.base import Account
from calsync_desktop.accounts.kinds import KINDS, Connect, Interaction
from calsync_desktop.gui.background import Task, run_in_background
from calsync_desktop.gui.icons import app_icon
from calsync_desktop.gui.wizard.choose import ChoosePage
from calsync_desktop.gui.wizard.common import (
    PAGE_CHOOSE,
    PAGE_DETAILS,
    PAGE_FOR,
    PAGE_OPTIONS,
    PAGE_SIGN_IN,
    PAGE_SUMMARY,
    PAGE_SYNC,
    PROFILE_SETTING,
    failure_message,
)
from calsync_desktop.gui.wizard.details import DetailsPage
from calsync_desktop.gui.wizard.first_sync import OptionsPage, SummaryPage, SyncPage
from calsync_desktop.gui.wizard.sign_in import SignInPage
from calsync_desktop.sync.preview import describe_first_sync

log = logging.getLogger(__package__)  # one logger for the whole wizard


class AccountWizard(QWizard):
    """Connects a calendar account (or signs an existing one in again).

    ``scheduler`` (the app's :class:`~calsync_desktop.gui.worker.SyncScheduler`)
    runs the first sync so that one account never syncs twice at once; without
    it (tests, the CLI) the wizard runs the first sync on a thread of its own.
    ``open_browser(url)`` replaces the system browser for sign-in.
    Emits ``accountSaved(Account)``.
    """

    accountSaved = Signal(object)
    deviceCode = Signal(str)

    def __init__(
        self,
        services,
        parent: QWidget | None = None,
        start_kind: str | None = None,
        scheduler=None,
        open_browser=None,
        show_test_kind: bool | None = None,
        edit_account: Account | None = None,
    ):
        super().__init__(parent)
        self.services = services
        self.scheduler = scheduler
        self.open_browser = open_browser
        self.edit_account = edit_account
        if show_test_kind is None:
            show_test_kind = services.env.get("CALSYNC_TEST_CALENDAR") == "1"
        self.show_test_kind = show_test_kind or (
            start_kind in KINDS and not KINDS[start_kind].offered
        )
        self.profile_email = services.store.get_setting("profile.email", "") or ""
        self.pending = None
        self.saved: Account | None = None
        self._task_services = None
        self.sync_task: Task | None = None
        self._watching = False
        self.setWindowTitle("Add calendar account")
        self.setWindowIcon(app_icon())
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage, True)
        self.setOption(QWizard.WizardOption.NoCancelButtonOnLastPage, True)
        self.setMinimumSize(640, 480)

        self.choose = ChoosePage(self)
        self.sign_in = SignInPage(self)
        self.details = DetailsPage(self)
        self.options = OptionsPage(self)
        self.summary = SummaryPage(self)
        self.first_sync = SyncPage(self)
        self.progressFromThread.connect(self.first_sync.on_progress)
        for page_id, page in (
            (PAGE_CHOOSE, self.choose),
            (PAGE_SIGN_IN, self.sign_in),
            (PAGE_DETAILS, self.details),
            (PAGE_OPTIONS, self.options),
            (PAGE_SUMMARY, self.summary),
            (PAGE_SYNC, self.first_sync),
        ):
            self.setPage(page_id, page)
        if edit_account is not None:
            self.setWindowTitle(f"Sign in again: {edit_account.name}")
            start_kind = edit_account.kind
        if start_kind:
            self.choose.choose(start_kind)
            if edit_account is not None:
                self.setStartId(PAGE_FOR[KINDS[start_kind].connect])

    # ------------------------------------------------------------------ state

    @property
    def kind(self) -> str:
        chosen = self.choose.kind() or (self.edit_account.kind if self.edit_account else None)
        return chosen or next(iter(KINDS))

    def kind_page(self) -> QWizardPage:
        """The page that connects the chosen kind (sign-in or details)."""
        return self.sign_in if KINDS[self.kind].connect is Connect.SIGN_IN else self.details

    def task_services(self):
        """The wizard's own Store connection for its background calls (one at a time)."""
        if self._task_services is None:
            self._task_services = self.services.for_thread()
        return self._task_services

    def device_code_relay(self, message: str, _flow: Any = None) -> None:
        self.deviceCode.emit(message)  # from the sign-in thread to the page

    def interaction(self) -> Interaction:
        """How a sign-in reaches the person: the browser given (or the system's),
        and messages (a device code) shown on the sign-in page."""
        return Interaction(open_browser=self.open_browser, show=self.device_code_relay)

    def switch_kind(self, kind: str) -> None:
        """From the details page to another kind the details belong to (an Office
        365 address entered as an Exchange server)."""
        self.pending = None
        self.choose.choose(kind)
        self.restart()
        self.choose.choose(kind)
        self.next()

    # ------------------------------------------------------------------ saving

    def save(self) -> bool:
        from calsync_desktop.accounts import save_account

        if self.pending is None:
            return False
        if self.kind_page().profile_offer.accepted():
            self.services.store.set_setting(PROFILE_SETTING, self.pending.email)
            self.profile_email = self.pending.email
        self.saved = save_account(
            self.services,
            self.pending,
            calendar_id=self.options.calendar_id(),
            sync_all_private=self.options.private.isChecked(),
        )
        log.info("Account %s saved (%s)", self.saved.id, self.saved.kind)
        self.accountSaved.emit(self.saved)
        return True

    def start_first_sync(self) -> None:
        account = self.saved
        if account is None:
            return
        if self.scheduler is not None:
            self.scheduler.progress.connect(self.first_sync.on_progress)
            self.scheduler.syncFinished.connect(self._scheduler_finished)
            self._watching = True
            self.scheduler.request("first sync", account.id, manual=True)
            return
        from calsync_desktop.sync.runner import SyncRunner

        services = self.task_services()
        relay = self.first_sync

        def call():
            runner = SyncRunner(services, progress=self._progress_from_thread)
            return runner.sync_account(account.id)

        self.sync_task = run_in_background(
            call,
            self._finished,
            lambda e: relay.on_finished(failure_message(e), False),
            parent=self,
        )

    progressFromThread = Signal(int, int, str)

    def _progress_from_thread(self, done: int, total: int, message: str) -> None:
        self.progressFromThread.emit(done, total, message)

    def _finished(self, result) -> None:
        ok = not result.errors
        text = ("Done. " if ok else "The first sync had problems. ") + describe_first_sync(
            result, self.saved.name if self.saved else "the account"
        )
        if not ok:
            text += "\n" + "\n".join(result.errors)
        self.first_sync.on_finished(text, ok)

    def _scheduler_finished(self, summary) -> None:
        outcomes = [o for o in summary.outcomes if self.saved and o.account_id == self.saved.id]
        if not outcomes:
            return  # another run finished; ours is queued after it
        self._stop_watching()
        outcome = outcomes[0]
        if outcome.result is not None and outcome.state == "ok":
            self._finished(outcome.result)
        else:
            self.first_sync.on_finished(f"The first sync failed: {outcome.error}", False)

    def _stop_watching(self) -> None:
        if self._watching:
            self._watching = False
            self.scheduler.progress.disconnect(self.first_sync.on_progress)
            self.scheduler.syncFinished.disconnect(self._scheduler_finished)

    def done(self, result: int) -> None:
        # finished early: the first sync goes on, shown in the Sales Calendar window
        self._stop_watching()
        if self._task_services is not None:
            running = [
                t
                for t in (
                    self.sign_in.task,
                    self.details.task,
                    self.options.task,
                    self.summary.task,
                    self.sync_task,
                )
                if t is not None and not t.finished
            ]
            if not running:
                self._task_services.store.close()
                self._task_services = None
        super().done(result)
