"""The composition root of the desktop app.

:class:`CalsyncApp` builds everything once (model, window, editor, worker,
scheduler, tray, prompts) and passes the parts to each other through
constructors: no singletons, no module state. Starting the process (one
instance per user, the tray icon first, then the event loop) is :mod:`.launch`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QApplication, QWidget

from calsync_desktop.accounts.kinds import kind_label
from calsync_desktop.gui.appointment_editor import AppointmentEditor
from calsync_desktop.gui.calendar_list import CalendarList, sections_for
from calsync_desktop.gui.calendar_model import CalendarModel
from calsync_desktop.gui.calendar_view import CalendarWindow, display_zone
from calsync_desktop.gui.deletion_warning import GUARD_WORDS, DeletionWarning
from calsync_desktop.gui.meeting_fields import open_link
from calsync_desktop.gui.meeting_panel import hide_declined
from calsync_desktop.gui.settings_dialog import working_hours
from calsync_desktop.gui.team_window import TeamWindow
from calsync_desktop.gui.tray import Tray, last_sync_text, tray_status
from calsync_desktop.gui.worker import (
    FROM_SCRATCH,
    SYNC,
    UNDO,
    UNDO_PREVIEW,
    GuiPrompts,
    RunSummary,
    SyncScheduler,
    SyncWorker,
)
from calsync_desktop.store import StoreUnavailable
from calsync_desktop.sync.runner import SyncRunner
from calsync_desktop.words import PRODUCT_NAME, count

log = logging.getLogger(__name__)

REPEATED_FAILURES = 3
"""Notify when an account's sync failed this many times in a row."""
JOB_WORDS = {
    SYNC: "Syncing {}…",
    UNDO: "Undoing a sync of {}…",
    UNDO_PREVIEW: "Reading {} for the undo…",
    FROM_SCRATCH: "Resyncing {} from scratch…",
}
"""The status bar while the worker runs a job, with the account's name."""
WINDOW_STATE_SETTING = "window.state"
"""Where the window was, how large, the calendar list shown or not, the view."""


# --------------------------------------------------------------------------- the app


class SalesCalendarWindow(CalendarWindow):
    """The calendar window of the tray app: closing it hides it to the tray.
    ``hidden`` is emitted whenever it goes (to remember where it was)."""

    hidden = Signal()

    def __init__(self, *args, hide_on_close: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.hide_on_close = hide_on_close

    def hideEvent(self, event) -> None:
        if not event.spontaneous():
            self.hidden.emit()
        super().hideEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.hide_on_close:
            event.ignore()
            self.hide()
        else:
            super().closeEvent(event)


def default_runner(services, progress=None, confirm=None):
    return SyncRunner(services, progress=progress, confirm=confirm)


class CalsyncApp(QObject):
    """Everything the running app is made of, wired together.

    ``decide(guard)`` answers the mass-deletion guard (default: a dialog);
    ``make_runner(services, progress, confirm)`` builds the sync runner in the
    worker thread (default: :class:`~calsync_desktop.sync.runner.SyncRunner`);
    ``listen=False`` leaves a team server's change notifications out (the
    window then polls the change counter alone); ``tray`` is one already shown
    (the launch shows it before the store opens), else the app makes its own.
    """

    def __init__(
        self,
        services,
        tz: ZoneInfo | None = None,
        decide: Callable[[Any], Any] | None = None,
        make_runner: Callable[..., Any] | None = None,
        autostart=None,
        watch_network: bool = True,
        edit_delay_ms: int | None = None,
        listen: bool = True,
        tray: Tray | None = None,
    ):
        super().__init__()
        from calsync_desktop.gui.autostart import Autostart, launch_command
        from calsync_desktop.sync.engine import Decision

        self.services = services
        self.store = services.store
        self.tz = tz or display_zone()
        self.autostart = autostart or Autostart(launch_command(services.extra.get("home")))
        self.failures: dict[str, int] = {}
        self.asking = False
        self.last_progress = ""
        self.syncing_account = ""
        self.run_error = ""  # a run that failed as a whole (not one account)
        self._shut_down = False
        self.dialogs: dict[str, QWidget] = {}
        self._markers: dict[str, object] = {}
        self.wizard_options: dict[str, Any] = {}  # e.g. open_browser for tests
        self._next_store = None  # a Sales Calendar to switch to after this sync

        self.calendars = CalendarList(self.store, sections_for(self.store, kind_label), parent=self)
        self.model = CalendarModel(self.store, self.tz, parent=self, calendars=self.calendars)
        self.window = SalesCalendarWindow(self.model, services.clock)
        self.window.set_working_hours(*working_hours(self.store))
        self.model.set_hide_declined(hide_declined(self.store))
        self.window.restore_window_state(self.store.get_setting(WINDOW_STATE_SETTING, None))
        self.window.hidden.connect(self.save_window_state)
        self.editor = AppointmentEditor(
            self.store,
            self.tz,
            self.local_edit,
            parent=self.window,
            colour_for=self.model.account_colour,
            unavailable=lambda: self.model.offline,
        )
        self.team = TeamWindow(self.model, self.window, listen=listen, parent=self)
        self.team.use(self.store)
        self.window.activated.connect(self.open_occurrence)
        self.window.joinRequested.connect(open_link)
        self.window.newRequested.connect(self.editor.create)

        self.prompts = GuiPrompts(decide or self.ask_about_deletions, Decision.STOP, parent=self)
        self.prompts.signInNeeded.connect(self._sign_in_needed)
        worker = SyncWorker(
            services.for_thread, make_runner or default_runner, self.prompts, services.clock
        )
        kwargs = {} if edit_delay_ms is None else {"edit_delay_ms": edit_delay_ms}
        self.scheduler = SyncScheduler(
            worker,
            self.store.get_setting("sync.interval_minutes", 5),
            parent=self,
            watch_network=watch_network,
            **kwargs,
        )
        self.scheduler.syncStarted.connect(self._sync_started)
        self.scheduler.progress.connect(self._progress)
        self.scheduler.accountStarted.connect(self._account_started)
        self.scheduler.syncFinished.connect(self._sync_finished)
        self.window.syncNowRequested.connect(self.sync_now)
        self.window.pauseRequested.connect(self.set_paused)
        self.window.signInRequested.connect(self.sign_in_again)
        self.window.addAccountRequested.connect(self.open_wizard)
        self.window.settingsRequested.connect(self.open_settings)
        self.window.troubleshootingRequested.connect(self.open_troubleshooting)
        self.window.quitRequested.connect(self.quit)

        self.tray = tray or Tray(lambda: True)  # the launch shows one before the store opens
        self.tray.setParent(self)
        self.tray.notifications_on = lambda: bool(self.store.get_setting("app.notifications", True))
        self.tray.openRequested.connect(self.show_window)
        self.tray.syncNowRequested.connect(self.sync_now)
        self.tray.pauseToggled.connect(self.set_paused)
        self.tray.addAccountRequested.connect(self.open_wizard)
        self.tray.settingsRequested.connect(self.open_settings)
        self.tray.troubleshootingRequested.connect(self.open_troubleshooting)
        self.tray.quitRequested.connect(self.quit)
        self.tray.messageClicked.connect(self.show_window)
        self.tray.signInRequested.connect(self.sign_in_again)
        paused = bool(self.store.get_setting("sync.paused", False))
        self.scheduler.paused = paused
        self.tray.set_paused(paused)
        self.window.set_paused(paused)

    # ------------------------------------------------------------------ life

    def start(self, sync_at_start: bool = True, show_window: bool = False) -> None:
        self.tray.show()
        self.scheduler.start(sync_at_start=sync_at_start and not self.scheduler.paused)
        self.refresh_status()
        if show_window:
            self.show_window()
        if not self.store.list_accounts():
            QTimer.singleShot(0, self, self.open_wizard)

    def quit(self) -> None:
        self.shutdown()
        app = QApplication.instance()
        if app is not None:
            app.quit()

    def shutdown(self) -> None:
        """Answer open questions, let the worker finish and close the window (once)."""
        if self._shut_down:
            return
        self._shut_down = True
        self.prompts.close()
        self.team.stop()
        self.model.stop_polling()
        self.scheduler.stop()
        self.tray.hide()
        for dialog in list(self.dialogs.values()):
            dialog.close()
        self.save_window_state()
        self.window.hidden.disconnect(self.save_window_state)
        self.window.hide_on_close = False
        self.window.close()

    def save_window_state(self) -> None:
        """Remember where the window is and how it is laid out."""
        try:
            self.store.set_setting(WINDOW_STATE_SETTING, self.window.window_state())
        except Exception:  # a closed store at exit must not stop the app from quitting
            log.warning("Could not remember the window's place", exc_info=True)

    def show_window(self) -> None:
        self.window.show()
        self.window.setWindowState(
            self.window.windowState() & ~Qt.WindowState.WindowMinimized
            | Qt.WindowState.WindowActive
        )
        self.window.raise_()
        self.window.activateWindow()

    # ------------------------------------------------------------------ sync

    def sync_now(self) -> None:
        self.scheduler.sync_now()

    def local_edit(self) -> None:
        self.model.refresh()
        self.scheduler.local_edit()

    def set_paused(self, paused: bool) -> None:
        self.store.set_setting("sync.paused", paused)
        self.tray.set_paused(paused)
        self.window.set_paused(paused)
        self.scheduler.set_paused(paused)
        self.refresh_status()

    def set_interval(self, minutes: int) -> None:
        self.store.set_setting("sync.interval_minutes", minutes)
        self.scheduler.set_interval(minutes)

    def _sync_started(self) -> None:
        # the worker writes many rows: reload once at the end, not on every poll
        self.model.stop_polling()
        self.last_progress = ""
        self.syncing_account = ""
        self.window.set_progress(0, 0)
        self.window.set_status("Syncing…")
        self.refresh_status()

    def _account_started(self, name: str) -> None:
        if self.scheduler.running:
            self.syncing_account = name
            self.last_progress = ""
            self.window.set_progress(0, 0)
            self.window.set_status(self.syncing_text(0, 0))

    def _progress(self, done: int, total: int, message: str) -> None:
        # a report that arrives after the run ended must not bring the bar back
        if not self.scheduler.running:
            return
        self.last_progress = f"{min(done, total)} of {total}" if total else ""
        self.window.set_progress(done, total)
        self.window.set_status(self.syncing_text(done, total))

    def syncing_text(self, done: int, total: int) -> str:
        """The status bar while syncing: which account, and how far (an undo
        or a resync says so)."""
        current = self.scheduler.current
        words = JOB_WORDS.get(current.job if current is not None else SYNC, JOB_WORDS[SYNC])
        text = words.format(self.syncing_account) if self.syncing_account else "Syncing…"
        if total:
            text += f" {min(done, total)} of {total}"
        return text

    def _sync_finished(self, summary: RunSummary) -> None:
        self.window.hide_progress()
        self.last_progress = ""
        self.syncing_account = ""
        self.run_error = next(
            (o.error or "unknown error" for o in summary.outcomes if not o.account_id), ""
        )
        if self._next_store is not None:
            self.window.hide_progress()
            self.use_store(self._next_store)
            return
        self.model.refresh()
        if not self.scheduler.running:
            self.model.start_polling()
        for outcome in summary.outcomes:
            if not outcome.account_id:
                continue
            result = outcome.result
            if outcome.state == "error":
                failures = self.failures.get(outcome.account_id, 0) + 1
                self.failures[outcome.account_id] = failures
                if failures == REPEATED_FAILURES:
                    self.tray.notify(
                        f"{outcome.account_name} keeps failing to sync",
                        f"{outcome.error} Click here for what to do.",
                        critical=True,
                        on_click=self.open_troubleshooting,
                    )
            else:
                self.failures.pop(outcome.account_id, None)
            conflicts = getattr(result, "conflicts", 0) if result is not None else 0
            if conflicts:
                changes = count(conflicts, "appointment")
                self.tray.notify(
                    "Sync conflicts resolved",
                    f"{outcome.account_name}: {changes} changed on both sides; the newer "
                    "change was kept. Click here to see both versions and choose.",
                    on_click=self.open_conflicts,
                )
        self.refresh_status()

    def _sign_in_needed(self, account) -> None:
        self.tray.notify(
            "Sign in again to keep syncing",
            f"{account.name}: the sign-in has expired or was changed, so syncing is paused. "
            "Nothing was deleted. Click here to sign in again.",
            critical=True,
            on_click=lambda a=account.id: self.sign_in_again(a),
        )
        self.refresh_status()

    def sign_in_again(self, account_id: str) -> QWidget | None:
        """Open the account's sign-in (the wizard at its sign-in page)."""
        account = self.store.get_account(account_id)
        if account is None:
            return None
        return self.open_wizard(account.kind, edit_account=account)

    def ask_about_deletions(self, guard) -> Any:
        """The mass-deletion guard's question as a dialog (runs in the GUI thread)."""
        self.asking = True
        self.refresh_status()
        total = len(guard.local_deletions) + len(guard.remote_deletions)
        current = self.scheduler.current
        undoing = current is not None and current.job == UNDO
        self.tray.notify(
            f"{PRODUCT_NAME} needs your decision",
            f"{guard.account_name}: {GUARD_WORDS[undoing][0]} {count(total, 'appointment')}. "
            "Nothing has been deleted yet.",
            critical=True,
            on_click=self.show_window,
        )
        box = DeletionWarning(guard, undoing, self.window if self.window.isVisible() else None)
        self.dialogs["guard"] = box
        box.exec()
        self.dialogs.pop("guard", None)
        self.asking = False
        self.refresh_status()
        return box.decision()

    # ------------------------------------------------------------------ status

    def refresh_status(self) -> None:
        settings = self.dialogs.get("settings")
        if settings is not None and hasattr(settings, "refresh_accounts"):
            settings.refresh_accounts()  # states and last sync times changed
        try:
            accounts = self.store.list_accounts()
        except StoreUnavailable as exc:  # the window's bar says so too
            self.window.set_status(self.model.explain(exc))
            return
        needs = [(a.id, a.name) for a in accounts if str(a.state) == "needs_sign_in"]
        self.tray.set_sign_in_needed(needs)
        self.window.set_sign_in_needed(needs)
        status = tray_status(
            accounts,
            running=self.scheduler.running,
            paused=self.scheduler.paused,
            asking=self.asking,
            tz=self.tz,
            progress=self.last_progress,
        )
        self.tray.show_status(status)
        if not self.scheduler.running:
            self.window.set_status(self.status_text(accounts, status))

    def status_text(self, accounts, status) -> str:
        """The status bar between syncs: the last sync time, or the problem."""
        if status.state == "error":
            return f"{status.tooltip} See Troubleshooting for what to do."
        if status.state == "paused":
            return "Sync is paused: nothing is synced until you resume."
        if status.state == "attention":
            return status.tooltip
        if self.model.offline:  # the team server: in its own words, not the sync's
            return self.model.offline
        if self.run_error:
            return f"The last sync failed: {self.run_error}"
        times = [a.last_sync for a in accounts if a.last_sync]
        if not times:
            return "Not synced yet"
        return f"Last sync {last_sync_text(max(times), self.tz, self.services.clock())}"

    # ------------------------------------------------------------------ Sales Calendar

    def use_store(self, store) -> None:
        """Go on with another Sales Calendar (Settings › Sales Calendar switched
        to a team server or back to this computer's file), without a restart.
        A sync under way finishes on the old one first."""
        if self.scheduler.running:
            self._next_store = store
            self.window.set_status("The Sales Calendar changes when this sync is done…")
            return
        self._next_store = None
        old = self.store
        self.scheduler.release_store()
        self.services.store = store
        self.store = store
        for key in ("troubleshooting",):  # built on the old one
            dialog = self.dialogs.get(key)
            if dialog is not None:
                dialog.close()
        self.calendars.use(store, sections_for(store, kind_label))
        self.model.use_source(store)
        self.team.use(store)
        self.editor.store = store
        self.window.set_working_hours(*working_hours(store))
        self.model.set_hide_declined(hide_declined(store))
        if old is not store:
            old.close()
            old.engine.dispose()
        self.failures.clear()
        self.run_error = ""
        self.refresh_status()
        self.scheduler.request("Sales Calendar changed")

    def open_occurrence(self, occurrence) -> None:
        """Double-click or Enter on an appointment: one's own opens to edit, a
        colleague's (and everything in the preview) read-only."""
        row = self.model.row_for(occurrence)
        if row is None or not row.read_only:
            self.editor.open(occurrence)
            return
        from calsync_desktop.gui.colleague_dialog import ColleagueAppointmentDialog

        dialog = ColleagueAppointmentDialog(row, self.window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        self.dialogs["colleague"] = dialog
        dialog.finished.connect(lambda _=0: self.dialogs.pop("colleague", None))
        dialog.show()

    # ------------------------------------------------------------------ dialogs

    def _show_dialog(self, key: str, make: Callable[[], QWidget]) -> QWidget:
        dialog = self.dialogs.get(key)
        if dialog is None:
            dialog = make()
            dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
            marker = object()
            self._markers[key] = marker
            # a replaced dialog's late "destroyed" must not forget its successor
            dialog.destroyed.connect(lambda _=None, k=key, m=marker: self._forget(k, m))
            # a dialog that is done is forgotten at once: Qt deletes it only later,
            # and opening it again meanwhile must build a new one, not show the old
            finished = getattr(dialog, "finished", None)
            if finished is not None:
                finished.connect(lambda _=0, k=key, m=marker: self._forget(k, m))
            self.dialogs[key] = dialog
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()
        return dialog

    def _forget(self, key: str, marker: object) -> None:
        if self._markers.get(key) is marker:
            self._markers.pop(key, None)
            self.dialogs.pop(key, None)

    def open_wizard(self, kind: str | None = None, edit_account=None) -> QWidget:
        from calsync_desktop.gui.wizard import AccountWizard

        errand = f"sign-in:{edit_account.id}" if edit_account is not None else "add"

        def make() -> QWidget:
            wizard = AccountWizard(
                self.services,
                parent=None,
                start_kind=kind,
                scheduler=self.scheduler,
                edit_account=edit_account,
                **self.wizard_options,
            )
            wizard.key_for_app = errand
            wizard.accountSaved.connect(self._account_saved)
            # setup ends in the Sales Calendar, where the first sync goes on
            wizard.finished.connect(
                lambda _result, w=wizard: self.show_window() if w.saved is not None else None
            )
            return wizard

        existing = self.dialogs.get("wizard")
        if existing is not None and getattr(existing, "key_for_app", errand) != errand:
            # another errand (adding vs. signing in again): start afresh
            existing.close()
            self.dialogs.pop("wizard", None)
        wizard = self._show_dialog("wizard", make)
        wizard.key_for_app = errand
        return wizard

    def _account_saved(self, _account) -> None:
        self.calendars.refresh()
        self.refresh_status()

    def open_settings(self) -> QWidget:
        from calsync_desktop.gui.settings_dialog import SettingsDialog

        def make() -> QWidget:
            dialog = SettingsDialog(
                self.services,
                self.autostart,
                parent=None,
                colour_for=self.model.account_colour,
                scheduler=self.scheduler,
            )
            dialog.syncNowRequested.connect(self.scheduler.sync_now)
            dialog.addAccountRequested.connect(self.open_wizard)
            dialog.editAccountRequested.connect(
                lambda account: self.open_wizard(account.kind, edit_account=account)
            )
            dialog.intervalChanged.connect(self.scheduler.set_interval)
            dialog.accountsChanged.connect(self._account_saved)
            dialog.signInRequested.connect(self.sign_in_again)
            dialog.workingHoursChanged.connect(self.window.set_working_hours)
            dialog.hideDeclinedChanged.connect(self.model.set_hide_declined)
            dialog.salesCalendarChanged.connect(self.use_store)
            return dialog

        return self._show_dialog("settings", make)

    def open_troubleshooting(self) -> QWidget:
        from calsync_desktop.gui.troubleshooting import TroubleshootingDialog

        def make() -> QWidget:
            dialog = TroubleshootingDialog(self.services, parent=None, scheduler=self.scheduler)
            dialog.conflictRestored.connect(self.local_edit)
            dialog.signInRequested.connect(self.sign_in_again)
            return dialog

        return self._show_dialog("troubleshooting", make)

    def open_conflicts(self) -> QWidget:
        dialog = self.open_troubleshooting()
        dialog.show_conflicts()
        return dialog
