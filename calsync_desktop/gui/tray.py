"""The tray icon: its state, tooltip, menu and notifications (SPEC §6).

The tray reads account states from the list the app hands it (never the
database) and turns the user's clicks into signals the app acts on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from calsync_desktop.gui import formats
from calsync_desktop.gui.icons import icon, tray_icon
from calsync_desktop.words import PRODUCT_NAME, join_words

MENU_TEXTS = (
    "Open Sales Calendar",
    "Sync now",
    "Pause sync",
    "Add calendar account…",
    "Settings…",
    "Troubleshooting…",
    "Quit",
)
APP_TITLE = PRODUCT_NAME


@dataclass(frozen=True)
class TrayStatus:
    """What the icon and tooltip show."""

    state: str  # idle, syncing, error, attention, paused
    tooltip: str


def tray_status(
    accounts: Sequence,
    running: bool,
    paused: bool,
    asking: bool,
    tz,
    progress: str = "",
) -> TrayStatus:
    """The icon state and tooltip for the current situation, most urgent first."""
    if asking:
        return TrayStatus("attention", "Waiting for your decision about deleting appointments")
    needs = [a for a in accounts if str(a.state) == "needs_sign_in"]
    if needs:
        names = join_words([a.name for a in needs])
        return TrayStatus("attention", f"Sign in to {names} again to resume syncing")
    if paused:
        return TrayStatus("paused", "Sync is paused")
    if running:
        return TrayStatus("syncing", f"Syncing… {progress}".strip())
    failing = [a for a in accounts if str(a.state) == "error"]
    if failing:
        first = failing[0]
        return TrayStatus("error", f"{first.name}: {first.last_error or 'the last sync failed'}")
    if not accounts:
        return TrayStatus("attention", "No calendar account connected yet")
    times = [a.last_sync for a in accounts if a.last_sync]
    if not times:
        return TrayStatus("idle", "Not synced yet")
    return TrayStatus("idle", f"Last sync {last_sync_text(max(times), tz)}")


def last_sync_text(when: datetime, tz, now: datetime | None = None) -> str:
    """ "09:41" today, else "yesterday 17:03" or "2 Dec 09:41" (the locale's formats)."""
    local = when.astimezone(tz)
    if now is None or local.date() == now.astimezone(tz).date():
        return formats.time_text(local)
    return formats.moment_text(local, now.astimezone(tz))


class Tray(QObject):
    """The system tray icon and its menu.

    Signals carry what the user chose; :meth:`show_status` sets icon and tooltip;
    :meth:`notify` shows a notification when notifications are on (clicking
    it does what the notification offers, e.g. sign in again);
    :meth:`set_sign_in_needed` puts "Sign in again to …" at the top of the menu.
    """

    openRequested = Signal()
    syncNowRequested = Signal()
    pauseToggled = Signal(bool)  # True: pause
    addAccountRequested = Signal()
    settingsRequested = Signal()
    troubleshootingRequested = Signal()
    quitRequested = Signal()
    messageClicked = Signal()
    signInRequested = Signal(str)  # account id

    def __init__(self, notifications_on: Callable[[], bool], parent: QObject | None = None):
        super().__init__(parent)
        self.notifications_on = notifications_on
        self.icon = QSystemTrayIcon(tray_icon("idle"), self)
        self.menu = QMenu()
        self.menu.setObjectName("tray-menu")
        self.actions: dict[str, QAction] = {}
        handlers = (
            self.openRequested.emit,
            self.syncNowRequested.emit,
            self._toggle_pause,
            self.addAccountRequested.emit,
            self.settingsRequested.emit,
            self.troubleshootingRequested.emit,
            self.quitRequested.emit,
        )
        for text, handler in zip(MENU_TEXTS, handlers, strict=True):
            if text in ("Sync now", "Add calendar account…", "Quit"):
                self.menu.addSeparator()
            action = self.menu.addAction(text)
            action.triggered.connect(lambda _=False, h=handler: h())
            self.actions[text] = action
        self.pause_action = self.actions["Pause sync"]
        self.paused = False
        self.menu.setDefaultAction(self.actions["Open Sales Calendar"])
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._activated)
        self.icon.messageClicked.connect(self._message_clicked)
        self.status = TrayStatus("idle", APP_TITLE)
        self.notifications: list[tuple[str, str]] = []
        self.on_click: Callable[[], None] | None = None
        self.sign_in_actions: list[QAction] = []
        self._sign_in_separator: QAction | None = None

    def show(self) -> None:
        self.icon.show()

    def hide(self) -> None:
        self.icon.hide()

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (
            QSystemTrayIcon.ActivationReason.Trigger,
            QSystemTrayIcon.ActivationReason.DoubleClick,
        ):
            self.openRequested.emit()

    def _toggle_pause(self) -> None:
        self.pauseToggled.emit(not self.paused)

    def set_paused(self, paused: bool) -> None:
        self.paused = paused
        self.pause_action.setText("Resume" if paused else "Pause sync")
        self.actions["Sync now"].setEnabled(not paused)

    def show_status(self, status: TrayStatus) -> None:
        self.status = status
        self.icon.setIcon(tray_icon(status.state))
        self.icon.setToolTip(f"{APP_TITLE}\n{status.tooltip}")

    def set_sign_in_needed(self, accounts: Sequence[tuple[str, str]]) -> None:
        """``accounts``: (id, name) of each account that must sign in again; each
        gets "Sign in again to NAME…" at the top of the menu."""
        for action in self.sign_in_actions:
            self.menu.removeAction(action)
            action.deleteLater()
        self.sign_in_actions = []
        if self._sign_in_separator is not None:
            self.menu.removeAction(self._sign_in_separator)
            self._sign_in_separator = None
        if not accounts:
            return
        first = self.actions["Open Sales Calendar"]
        for account_id, name in accounts:
            action = QAction(icon("warning"), f"Sign in again to {name}…", self.menu)
            action.triggered.connect(lambda _=False, a=account_id: self.signInRequested.emit(a))
            self.menu.insertAction(first, action)
            self.sign_in_actions.append(action)
        self._sign_in_separator = self.menu.insertSeparator(first)

    def menu_texts(self) -> list[str]:
        return [a.text() for a in self.menu.actions() if not a.isSeparator()]

    def notify(
        self,
        title: str,
        message: str,
        critical: bool = False,
        on_click: Callable[[], None] | None = None,
    ) -> None:
        """A notification; never pass private contents here (callers name items by
        account and count only). ``on_click`` runs when the user clicks it (by
        default the Sales Calendar window opens)."""
        if not self.notifications_on():
            return
        self.notifications.append((title, message))
        self.on_click = on_click
        kind = (
            QSystemTrayIcon.MessageIcon.Warning
            if critical
            else QSystemTrayIcon.MessageIcon.Information
        )
        if QSystemTrayIcon.supportsMessages() and self.icon.isVisible():
            self.icon.showMessage(title, message, kind, 10_000)

    def _message_clicked(self) -> None:
        action, self.on_click = self.on_click, None
        if action is not None:
            action()
        else:
            self.messageClicked.emit()
