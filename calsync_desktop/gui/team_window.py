"""What a team Sales Calendar adds to the running window (SPEC §8).

- **Live.** Colleagues' changes appear without a restart: a
  :class:`~calsync_desktop.team.live.ChangeListener` (LISTEN/NOTIFY on a
  thread of its own) tells the model at once; the model's poll of the team's
  change counter stays as the fallback, slower while the listener is heard.
- **Out of reach.** When the team server cannot be reached the window says so
  in a bar above the calendar, shows what it last loaded, and refuses edits it
  could not save (the editor asks :attr:`TeamWindow.offline`); the model's
  poll reconnects by itself and the bar goes.
- **Preview as a colleague.** One's own week as colleagues see it.
- **At start**, a team server that cannot be opened is said, with Try again
  and Quit (:func:`open_services`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMessageBox

from calsync_desktop.gui.calendar_model import CalendarModel
from calsync_desktop.words import PRODUCT_NAME

LISTENING_POLL_MS = 30_000
"""The fallback poll while notifications arrive (they are the fast path)."""
OFFLINE_TEXT = (
    "The team server cannot be reached. Your calendar shows what was last loaded, and "
    f"changes cannot be saved until the team server is back; {PRODUCT_NAME} reconnects "
    "by itself."
)
UNREACHABLE = "The team server cannot be reached"
NOT_SAVED = (
    "Your calendar shows what was last loaded; nothing can be changed until this is put "
    "right (Settings › Sales Calendar)."
)
PREVIEW_TEXT = (
    "Preview: your week as colleagues see it. Private appointments show as a grey box "
    "with the time only, and nothing opens for editing."
)


class TeamWindow(QObject):
    """Wires a team Sales Calendar's live updates, its outages and the preview
    into the window. ``listen=False`` leaves LISTEN/NOTIFY out (the poll alone)."""

    _changed = Signal(str)
    _listening = Signal(bool)

    def __init__(self, model: CalendarModel, window, listen: bool = True, parent=None):
        super().__init__(parent)
        self.model = model
        self.window = window
        self.listen = listen
        self.listener = None
        self.poll_ms = model.poll_interval()
        self.preview_action = QAction("Preview as a colleague", window, checkable=True)
        self.preview_action.setObjectName("preview-as-colleague")
        self.preview_action.setToolTip("Your week as colleagues see it")
        self.preview_action.toggled.connect(self.set_preview)
        window.preview_banner.actionClicked.connect(lambda: self.preview_action.setChecked(False))
        model.availabilityChanged.connect(self._availability)
        self._changed.connect(self._on_change, Qt.ConnectionType.QueuedConnection)
        self._listening.connect(self._on_listening, Qt.ConnectionType.QueuedConnection)

    @property
    def offline(self) -> str:
        """Why the Sales Calendar cannot be saved to now ("" when it can)."""
        return self.model.offline

    def use(self, store) -> None:
        """Start (or stop) what a team Sales Calendar needs, for ``store``."""
        self.stop()
        team = bool(getattr(store, "is_team", False))
        menu = self.window.menu
        # in the window's menu only with colleagues to preview for
        if team and self.preview_action not in menu.actions():
            menu.insertAction(self.window.sidebar_action, self.preview_action)
        elif not team:
            self.preview_action.setChecked(False)
            menu.removeAction(self.preview_action)
        self.preview_action.setVisible(team)
        self.model.explain = str
        if team:
            from calsync_desktop.team.server import explain_lost

            url, user = store.engine.url, store.owner
            self.model.explain = lambda error: explain_lost(error, url, user)
        if team and self.listen:
            from calsync_desktop.team.live import ChangeListener

            self.listener = ChangeListener(store.engine, self._changed.emit, self._listening.emit)
            self.listener.start()

    def stop(self) -> None:
        if self.listener is not None:
            self.listener.stop()
            self.listener = None
        self.model.set_poll_interval(self.poll_ms)

    # ------------------------------------------------------------------ live

    def _on_change(self, owner: str) -> None:
        if self.listener is None:
            return  # stopped (the store may be closed): what the listener said last is moot
        if owner == getattr(self.model.source, "owner", None) and not self.model.polling():
            return  # this app's own sync is writing: the window reloads once it ends
        self.model.refresh_if_changed()

    def _on_listening(self, listening: bool) -> None:
        if self.listener is None:
            return  # its "no longer listening" as it stops, queued after the store closed
        self.model.set_poll_interval(LISTENING_POLL_MS if listening else self.poll_ms)
        # heard again or lost: look now (a change may have come meanwhile)
        self.model.refresh_if_changed()

    # ------------------------------------------------------------------ out of reach

    def _availability(self, problem: str) -> None:
        window = self.window
        if problem.startswith(UNREACHABLE):
            window.offline_banner.show_message(OFFLINE_TEXT, warning=True)
            window.offline_banner.setToolTip(problem)  # with the server's own detail
        elif problem:  # it answered and refused: its own words say what to do
            window.offline_banner.show_message(f"{problem} {NOT_SAVED}", warning=True)
            window.offline_banner.setToolTip("")
        else:
            window.offline_banner.clear()
        window.new_action.setEnabled(not problem)

    # ------------------------------------------------------------------ preview

    def set_preview(self, preview: bool) -> None:
        if self.preview_action.isChecked() != preview:
            self.preview_action.setChecked(preview)  # comes back here
            return
        self.model.set_preview(preview)
        if preview:
            self.window.preview_banner.show_message(PREVIEW_TEXT, action="End preview")
        else:
            self.window.preview_banner.clear()


def open_services(
    create: Callable[[], Any],
    try_again: Callable[[str], bool],
    cannot_open: Callable[[str], None] | None = None,
):
    """The app's services; when this computer's team server cannot be opened
    at start (out of reach, the password refused, …), ``try_again(message)``
    says so and is asked whether to try again (None: the user gave up). A
    Sales Calendar file that is not a database is said by ``cannot_open``
    (a message box by default), and the app does not start (None).
    Nothing is changed meanwhile: not the connection, not the local file."""
    from calsync_desktop.store.errors import NotASalesCalendar
    from calsync_desktop.team.server import TeamError

    while True:
        try:
            return create()
        except TeamError as exc:
            if not try_again(str(exc)):
                return None
        except NotASalesCalendar as exc:
            (cannot_open or say_cannot_open)(str(exc))
            return None


def say_cannot_open(message: str) -> None:
    box = QMessageBox()
    box.setIcon(QMessageBox.Icon.Critical)
    box.setWindowTitle(PRODUCT_NAME)
    box.setText("The Sales Calendar cannot be opened.")
    box.setInformativeText(message)
    box.exec()


def ask_try_again(message: str) -> bool:
    box = QMessageBox()
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle(PRODUCT_NAME)
    box.setText("The team Sales Calendar cannot be opened.")
    box.setInformativeText(
        f"{message}\n\nNothing was changed. Try again, or quit and run "
        "'calsync team disconnect' to use this computer's own Sales Calendar."
    )
    again = box.addButton("Try again", QMessageBox.ButtonRole.AcceptRole)
    box.addButton("Quit", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(again)
    box.exec()
    return box.clickedButton() is again
