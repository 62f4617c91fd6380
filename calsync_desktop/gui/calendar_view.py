"""The Sales Calendar window: week (default), day and month views, the
calendar list beside them, and a status bar that says how the sync is doing.

The views draw what :class:`~calsync_desktop.gui.calendar_model.CalendarModel`
holds and never read the store; the boxes are laid out and drawn in
:mod:`~calsync_desktop.gui.boxes`, the day and week grid lives in
:mod:`~calsync_desktop.gui.time_grid`, the month in
:mod:`~calsync_desktop.gui.month_view`. The window emits what the user asked
for (sync now, pause, sign in again, settings …); the app decides.

The window fits the screen it opens on, at any scale: it never opens larger
than the screen's free area, and it comes back where and as large as the
user left it (:meth:`CalendarWindow.window_state`).
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from PySide6.QtCore import QByteArray, QDate, QRect, QSize, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeySequence, QTextCharFormat
from PySide6.QtWidgets import (
    QCalendarWidget,
    QLabel,
    QMainWindow,
    QMenu,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from calsync_desktop.gui import formats
from calsync_desktop.gui.banner import Banner
from calsync_desktop.gui.boxes import (  # re-exported: the views' shared vocabulary
    GUTTER,
    Placed,
    day_segments,
    side_by_side,
)
from calsync_desktop.gui.calendar_list import CalendarListView
from calsync_desktop.gui.calendar_model import CalendarModel, local_midnight
from calsync_desktop.gui.icons import app_icon, icon
from calsync_desktop.gui.month_view import MonthCanvas
from calsync_desktop.gui.screen_fit import available_area, fit_rect
from calsync_desktop.gui.style import DateField
from calsync_desktop.gui.time_grid import DayHeader, TimeGridCanvas, TimeGridView
from calsync_desktop.words import count

__all__ = [
    "GUTTER",
    "CalendarWindow",
    "DayHeader",
    "MonthCanvas",
    "Placed",
    "TimeGridCanvas",
    "TimeGridView",
    "day_segments",
    "display_zone",
    "fit_rect",
    "side_by_side",
    "week_start",
]

PREFERRED_SIZE = QSize(1180, 780)
"""The window's size on first start, when the screen has room for it."""
SIDEBAR_WIDTH = 210
SIDEBAR_FITS = 900
"""Narrower windows leave the side panel out, so that a week's days keep room."""
MINI_MONTH_STYLE = """
QCalendarWidget QWidget#qt_calendar_navigationbar { background: transparent; }
QCalendarWidget QToolButton { color: palette(text); font-weight: bold; padding: 2px; }
QCalendarWidget QToolButton::menu-indicator { image: none; width: 0; }
QCalendarWidget QAbstractItemView { selection-background-color: #1a5fb4;
    selection-color: white; outline: 0; }
"""


def week_start(day: date, first_weekday: int = 0) -> date:
    """The first day of ``day``'s week (``first_weekday`` 0 = Monday)."""
    return day - timedelta(days=(day.weekday() - first_weekday) % 7)


class StatusLabel(QLabel):
    """The status bar's text on one line: where the bar is too narrow for it, it
    ends in "…" (the whole text is its tooltip and what :meth:`text` gives)."""

    def __init__(self, text: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self._whole = ""
        self.setText(text)

    def text(self) -> str:
        return self._whole

    def setText(self, text: str) -> None:
        self._whole = text
        self.setAccessibleName(text)
        self._fit()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        shown = self.fontMetrics().elidedText(
            self._whole, Qt.TextElideMode.ElideRight, max(self.width(), 1)
        )
        super().setText(shown)


class Sidebar(QWidget):
    """Beside the view: a month to pick a day from, and the calendar list."""

    def __init__(self, model: CalendarModel, first_weekday: int, parent: QWidget | None = None):
        super().__init__(parent)
        self.month = QCalendarWidget()
        self.month.setObjectName("mini-month")
        self.month.setAccessibleName("Go to date")
        self.month.setGridVisible(False)
        self.month.setVerticalHeaderFormat(QCalendarWidget.VerticalHeaderFormat.NoVerticalHeader)
        self.month.setHorizontalHeaderFormat(
            QCalendarWidget.HorizontalHeaderFormat.SingleLetterDayNames
        )
        self.month.setFirstDayOfWeek(Qt.DayOfWeek(first_weekday + 1))
        self.month.setLocale(formats.locale())
        self.month.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        # quiet, like the views beside it: no red weekends, no blue title bar
        plain = QTextCharFormat()
        plain.setForeground(self.palette().text())
        for day in (Qt.DayOfWeek.Saturday, Qt.DayOfWeek.Sunday):
            self.month.setWeekdayTextFormat(day, plain)
        self.month.setStyleSheet(MINI_MONTH_STYLE)
        self.calendars = CalendarListView(model.calendars)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 0, 4)
        layout.setSpacing(6)
        layout.addWidget(self.month)
        layout.addWidget(self.calendars, 1)

    def sizeHint(self) -> QSize:
        return QSize(SIDEBAR_WIDTH, super().sizeHint().height())


class CalendarWindow(QMainWindow):
    """The Sales Calendar window. Emits what the user asked for; the app decides.

    ``activated(occurrence)`` on double-click / Enter, ``newRequested(start)``
    for a new appointment, ``syncNowRequested`` from the status bar or the
    menu, ``pauseRequested(bool)`` (True: pause), ``signInRequested(account
    id)``, and ``addAccountRequested``, ``settingsRequested``,
    ``troubleshootingRequested``, ``quitRequested`` from the window's menu.
    """

    activated = Signal(object)
    newRequested = Signal(object)
    syncNowRequested = Signal()
    pauseRequested = Signal(bool)
    signInRequested = Signal(str)
    addAccountRequested = Signal()
    settingsRequested = Signal()
    troubleshootingRequested = Signal()
    quitRequested = Signal()
    joinRequested = Signal(str)  # a box's "Join": the online meeting's link

    VIEWS = ("day", "week", "month")

    def __init__(
        self,
        model: CalendarModel,
        now: Callable[[], datetime],
        parent: QWidget | None = None,
        first_weekday: int | None = None,
    ):
        super().__init__(parent)
        self.model = model
        self.now = now
        self.first_weekday = formats.first_weekday() if first_weekday is None else first_weekday
        self.view = "week"
        self.paused = False
        self.sign_in_accounts: list[tuple[str, str]] = []
        self._placed = False
        self._sidebar_forced = False
        self.anchor = now().astimezone(model.tz).date()
        self.setWindowTitle("Sales Calendar")
        self.setWindowIcon(app_icon())
        self.resize(PREFERRED_SIZE)

        self.time_grid = TimeGridView(model, now)
        self.month = MonthCanvas(model, now)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.time_grid)
        self.stack.addWidget(self.month)
        self.sidebar = Sidebar(model, self.first_weekday)
        self.sidebar.month.clicked.connect(self._picked)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("main-splitter")
        self.splitter.addWidget(self.sidebar)
        self.splitter.addWidget(self.stack)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setCollapsible(1, False)
        self.splitter.setSizes([SIDEBAR_WIDTH, PREFERRED_SIZE.width() - SIDEBAR_WIDTH])
        # above the calendar: what holds for the whole window (see gui/team_window.py)
        self.offline_banner = Banner("Team server status")
        self.preview_banner = Banner("Preview")
        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.offline_banner)
        column.addWidget(self.preview_banner)
        column.addWidget(self.splitter, 1)
        self.setCentralWidget(central)
        for source in (self.time_grid.canvas, self.time_grid.header, self.month):
            source.activated.connect(self.activated)
        for source in (self.time_grid.canvas, self.month):
            source.joinRequested.connect(self.joinRequested)
        for source in (self.time_grid.canvas, self.month):
            source.newRequested.connect(self.newRequested)
            source.stepRequested.connect(self.step)
        self.month.dayOpened.connect(self.open_day)

        self._build_actions()
        self._build_toolbar()
        self._build_status_bar()
        self._show_sidebar(self.sidebar_action.isChecked())
        self.set_view("week")

    # ----------------------------------------------------------- chrome

    def _build_actions(self) -> None:
        self.sync_action = QAction(icon("sync"), "Sync now", self)
        self.sync_action.setShortcut(QKeySequence("F5"))
        self.sync_action.triggered.connect(self.syncNowRequested)
        self.pause_action = QAction(icon("pause"), "Pause sync", self)
        self.pause_action.triggered.connect(lambda: self.pauseRequested.emit(not self.paused))
        self.add_account_action = QAction("Add calendar account…", self)
        self.add_account_action.triggered.connect(self.addAccountRequested)
        self.settings_action = QAction("Settings…", self)
        self.settings_action.setShortcut(QKeySequence("Ctrl+,"))
        self.settings_action.triggered.connect(self.settingsRequested)
        self.troubleshooting_action = QAction("Troubleshooting…", self)
        self.troubleshooting_action.triggered.connect(self.troubleshootingRequested)
        self.sidebar_action = QAction("Show calendar list", self, checkable=True)
        self.sidebar_action.setShortcut(QKeySequence("F9"))
        self.sidebar_action.setChecked(True)
        self.sidebar_action.toggled.connect(self._show_sidebar)
        self.quit_action = QAction("Quit", self)
        self.quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        self.quit_action.triggered.connect(self.quitRequested)
        for action in (self.sync_action, self.settings_action, self.sidebar_action):
            self.addAction(action)  # their shortcuts work with the menu closed
        self.addAction(self.quit_action)

    def _show_sidebar(self, shown: bool) -> None:
        self._sidebar_forced = shown and not self._sidebar_fits()
        self._place_sidebar()

    def _sidebar_fits(self) -> bool:
        return self.width() >= SIDEBAR_FITS

    def _place_sidebar(self) -> None:
        """The side panel shows when chosen and when the window is wide enough
        for it and a readable week (or when asked for anyway, with F9)."""
        shown = self.sidebar_action.isChecked() and (self._sidebar_fits() or self._sidebar_forced)
        self.sidebar.setVisible(shown)
        # the side panel has its month to pick a day from; without it, the toolbar's
        self.date_picker_action.setVisible(not shown)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        fits = self._sidebar_fits()
        if fits != getattr(self, "_fitted", None):
            self._fitted = fits
            self._sidebar_forced = False
            self._place_sidebar()

    def _build_toolbar(self) -> None:
        bar = QToolBar("Navigation", self)
        bar.setObjectName("navigation")
        bar.setMovable(False)
        bar.setFloatable(False)
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        bar.setIconSize(QSize(16, 16))
        self.addToolBar(bar)
        self.toolbar = bar
        self.today_action = QAction("Today", self, shortcut=QKeySequence("T"))
        self.today_action.setToolTip("Go to today (T)")
        self.today_action.triggered.connect(self.go_today)
        self.prev_action = QAction(
            icon("go-previous"), "Previous", self, shortcut=QKeySequence(Qt.Key.Key_PageUp)
        )
        self.prev_action.setToolTip("Previous (Page Up)")
        self.prev_action.triggered.connect(lambda: self.step(-1))
        self.next_action = QAction(
            icon("go-next"), "Next", self, shortcut=QKeySequence(Qt.Key.Key_PageDown)
        )
        self.next_action.setToolTip("Next (Page Down)")
        self.next_action.triggered.connect(lambda: self.step(1))
        bar.addAction(self.today_action)
        for action in (self.prev_action, self.next_action):
            bar.addAction(action)
            bar.widgetForAction(action).setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        self.period_label = QLabel()
        self.period_label.setObjectName("period")
        font = self.period_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        font.setBold(True)
        self.period_label.setFont(font)
        self.period_label.setContentsMargins(8, 0, 8, 0)
        bar.addWidget(self.period_label)
        self.date_picker = DateField(self)
        self.date_picker.setCalendarPopup(True)
        self.date_picker.setDisplayFormat(formats.date_edit_format())
        self.date_picker.calendarWidget().setFirstDayOfWeek(Qt.DayOfWeek(self.first_weekday + 1))
        self.date_picker.setAccessibleName("Go to date")
        self.date_picker.setToolTip("Go to date")
        self.date_picker.dateChanged.connect(self._picked)
        self.date_picker_action = bar.addWidget(self.date_picker)
        spacer = QWidget()
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        bar.addWidget(spacer)
        self.view_actions = QActionGroup(self)
        self.view_actions.setExclusive(True)
        for key, label, shortcut in (
            ("day", "Day", "D"),
            ("week", "Week", "W"),
            ("month", "Month", "M"),
        ):
            action = QAction(label, self, shortcut=QKeySequence(shortcut), checkable=True)
            action.setToolTip(f"{label} view ({shortcut})")
            action.setObjectName(f"view-{key}")
            action.setData(key)
            action.triggered.connect(lambda _=False, k=key: self.set_view(k))
            self.view_actions.addAction(action)
            bar.addAction(action)
            bar.widgetForAction(action).setMinimumWidth(52)
        bar.addSeparator()
        self.new_action = QAction("New appointment", self, shortcut=QKeySequence.StandardKey.New)
        self.new_action.setIconText("New")  # short in the toolbar, so it fits small screens
        self.new_action.setToolTip("New appointment (Ctrl+N)")
        self.new_action.triggered.connect(self._new_at_cursor)
        bar.addAction(self.new_action)
        bar.widgetForAction(self.new_action).setAccessibleName("New appointment")
        self.menu = QMenu(self)
        self.menu.setObjectName("main-menu")
        self.menu.addAction(self.sync_action)
        self.menu.addAction(self.pause_action)
        self.menu.addSeparator()
        self.menu.addAction(self.add_account_action)
        self.menu.addAction(self.settings_action)
        self.menu.addAction(self.troubleshooting_action)
        self.menu.addSeparator()
        self.menu.addAction(self.sidebar_action)
        self.menu.addSeparator()
        self.menu.addAction(self.quit_action)
        self.menu_button = QToolButton()
        self.menu_button.setObjectName("main-menu-button")
        self.menu_button.setIcon(icon("open-menu"))
        self.menu_button.setAccessibleName("Main menu")
        self.menu_button.setToolTip("Main menu: sync, accounts, settings, troubleshooting")
        self.menu_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.menu_button.setMenu(self.menu)
        bar.addWidget(self.menu_button)
        extension = bar.findChild(QToolButton, "qt_toolbar_ext_button")
        if extension is not None:  # Qt's » for what does not fit
            extension.setAccessibleName("More tools")

    def _build_status_bar(self) -> None:
        status = self.statusBar()
        status.setSizeGripEnabled(False)
        self.last_sync_label = StatusLabel("Not synced yet")
        self.last_sync_label.setObjectName("sync-status")
        self.last_sync_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # a long problem must not widen the window beyond the screen: the label may
        # get narrower than its text (the whole text is its tooltip, and in
        # Troubleshooting)
        self.last_sync_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.last_sync_label.setMinimumWidth(120)
        self.sign_in_button = QPushButton("Sign in again…")
        self.sign_in_button.setObjectName("status-sign-in")
        self.sign_in_button.clicked.connect(self._sign_in_clicked)
        self.sign_in_button.hide()
        self.sign_in_menu = QMenu(self.sign_in_button)
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(180)
        self.progress.setTextVisible(False)
        self.progress.setAccessibleName("Sync progress")
        self.progress.hide()
        self.resume_button = QPushButton(icon("resume"), "Resume sync")
        self.resume_button.setObjectName("status-resume")
        self.resume_button.clicked.connect(lambda: self.pauseRequested.emit(False))
        self.resume_button.hide()
        self.sync_button = QPushButton("Sync now")
        self.sync_button.setObjectName("status-sync-now")
        self.sync_button.setToolTip("Sync all accounts now (F5)")
        self.sync_button.clicked.connect(self.syncNowRequested)
        status.addWidget(self.last_sync_label, 1)
        status.addPermanentWidget(self.sign_in_button)
        status.addPermanentWidget(self.progress)
        status.addPermanentWidget(self.resume_button)
        status.addPermanentWidget(self.sync_button)

    # ----------------------------------------------------------- status

    def set_status(self, text: str) -> None:
        self.last_sync_label.setText(text)
        self.last_sync_label.setToolTip(text)

    def set_progress(self, done: int, total: int) -> None:
        """Show the progress bar (total 0 = busy indicator)."""
        self.progress.show()
        self.progress.setRange(0, max(0, total))
        self.progress.setValue(min(done, total) if total else 0)
        self.progress.setAccessibleDescription(
            f"{min(done, total)} of {count(total, 'appointment')}" if total else "Starting"
        )

    def hide_progress(self) -> None:
        self.progress.hide()

    def set_paused(self, paused: bool) -> None:
        """While paused nothing syncs: Sync now is off and Resume is at hand."""
        self.paused = paused
        self.resume_button.setVisible(paused)
        self.sync_button.setEnabled(not paused)
        self.sync_action.setEnabled(not paused)
        self.sync_button.setToolTip(
            "Sync is paused: resume it first" if paused else "Sync all accounts now (F5)"
        )
        self.pause_action.setText("Resume sync" if paused else "Pause sync")
        self.pause_action.setIcon(icon("resume" if paused else "pause"))

    def set_sign_in_needed(self, accounts: Sequence[tuple[str, str]]) -> None:
        """``accounts``: (id, name) of each account that must sign in again.
        The status bar offers "Sign in again…" for it (a menu when several)."""
        self.sign_in_accounts = list(accounts)
        self.sign_in_menu.clear()
        if len(accounts) == 1:
            account_id, name = accounts[0]
            self.sign_in_button.setText("Sign in again…")
            self.sign_in_button.setAccessibleName(f"Sign in again to {name}")
            self.sign_in_button.setToolTip(f"Sign in to {name} again to resume syncing it")
            self.sign_in_button.setMenu(None)
        elif accounts:
            self.sign_in_button.setText("Sign in again…")
            self.sign_in_button.setAccessibleName("Sign in again")
            self.sign_in_button.setToolTip("Some accounts must sign in again to resume syncing")
            for account_id, name in accounts:
                action = self.sign_in_menu.addAction(name)
                action.triggered.connect(lambda _=False, a=account_id: self.signInRequested.emit(a))
            self.sign_in_button.setMenu(self.sign_in_menu)
        self.sign_in_button.setVisible(bool(accounts))

    def _sign_in_clicked(self) -> None:
        if len(self.sign_in_accounts) == 1:
            self.signInRequested.emit(self.sign_in_accounts[0][0])

    # ----------------------------------------------------------- size and place

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._placed:
            # the window frame is known only once shown: check the fit with it
            self._placed = True
            self.keep_on_screen()

    def available_area(self) -> QRect:
        return available_area(self)

    def fit_to_screen(self) -> None:
        """The preferred size, or as much of the screen as there is, centred."""
        area = self.available_area()
        extra = self.frameGeometry().size() - self.geometry().size()
        wanted = QRect(
            0, 0, PREFERRED_SIZE.width() + extra.width(), PREFERRED_SIZE.height() + extra.height()
        )
        wanted.moveCenter(area.center())
        rect = fit_rect(wanted, area)
        self.resize(rect.width() - extra.width(), rect.height() - extra.height())
        self.move(rect.topLeft())

    def keep_on_screen(self) -> None:
        """Move and shrink the window until it lies within the screen's free area
        (after a restore on a smaller screen, or a screen that went away)."""
        area = self.available_area()
        frame = self.frameGeometry()
        if area.contains(frame):
            return
        rect = fit_rect(frame, area)
        extra = frame.size() - self.geometry().size()
        self.resize(rect.width() - extra.width(), rect.height() - extra.height())
        self.move(rect.topLeft())

    def window_state(self) -> dict:
        """Where the window is, how large, and how it was laid out (to restore later)."""
        return {
            "geometry": base64.b64encode(bytes(self.saveGeometry().data())).decode(),
            "splitter": base64.b64encode(bytes(self.splitter.saveState().data())).decode(),
            "calendar_list": self.sidebar_action.isChecked(),
            "view": self.view,
        }

    def restore_window_state(self, state: dict | None) -> bool:
        """Back where the user left it, within the screen; False (and fitted to
        the screen) when nothing was saved or it cannot be read."""
        restored = False
        if isinstance(state, dict):
            try:
                geometry = QByteArray(base64.b64decode(state.get("geometry", "")))
                restored = bool(geometry.size()) and self.restoreGeometry(geometry)
                splitter = QByteArray(base64.b64decode(state.get("splitter", "")))
                if splitter.size():
                    self.splitter.restoreState(splitter)
            except (ValueError, TypeError):
                restored = False
            self.sidebar_action.setChecked(bool(state.get("calendar_list", True)))
            if state.get("view") in self.VIEWS:
                self.set_view(state["view"])
        if restored:
            self.keep_on_screen()
        else:
            self.fit_to_screen()
        return restored

    # ----------------------------------------------------------- navigation

    def set_working_hours(self, first: int, last: int) -> None:
        self.time_grid.set_working_hours(first, last)

    def set_view(self, view: str) -> None:
        if view == "month" and self.view != "month":
            self.month.cursor = self.anchor  # the keyboard goes on from the day shown
        self.view = view
        for action in self.view_actions.actions():
            action.setChecked(action.data() == view)
        self.stack.setCurrentWidget(self.month if view == "month" else self.time_grid)
        self._apply_range()
        (self.month if view == "month" else self.time_grid.canvas).setFocus()

    def go_today(self) -> None:
        self.go_to(self.now().astimezone(self.model.tz).date())

    def go_to(self, day: date) -> None:
        self.anchor = day
        if self.view == "month":
            self.month.cursor = day
        self._apply_range()

    def open_day(self, day: date) -> None:
        self.anchor = day
        self.set_view("day")

    def step(self, direction: int) -> None:
        if self.view == "day":
            self.anchor += timedelta(days=direction)
        elif self.view == "week":
            self.anchor += timedelta(days=7 * direction)
        else:
            month = self.anchor.month - 1 + direction
            self.anchor = date(self.anchor.year + month // 12, month % 12 + 1, 1)
            self.month.cursor = self.anchor
        self._apply_range()

    def _picked(self, qdate: QDate) -> None:
        day = date(qdate.year(), qdate.month(), qdate.day())
        if day != self.anchor:
            self.go_to(day)

    def _apply_range(self) -> None:
        if self.view == "day":
            first, days = self.anchor, 1
            label = formats.date_text(self.anchor, weekday=True)
            spoken = formats.long_date_text(self.anchor)
        elif self.view == "week":
            first, days = week_start(self.anchor, self.first_weekday), 7
            last = first + timedelta(days=6)
            label = formats.period_title(first, last)
            spoken = f"{formats.date_text(first)} to {formats.date_text(last)}"
        else:
            month_start = self.anchor.replace(day=1)
            first, days = week_start(month_start, self.first_weekday), 42
            self.month.month_start = month_start
            if self.month.cursor.month != month_start.month:
                self.month.cursor = month_start
            label = formats.month_title(month_start)
            spoken = label
        self.period_label.setText(label)
        self.period_label.setAccessibleName(spoken)
        self.time_grid.canvas.selected_row = None
        self.month.selected_row = None
        self.model.set_range(first, days)
        self.time_grid.canvas.setAccessibleName(f"{self.view.title()} of {spoken}")
        self.month.setAccessibleName(spoken)
        qdate = QDate(self.anchor.year, self.anchor.month, self.anchor.day)
        for picker in (self.date_picker, self.sidebar.month):
            picker.blockSignals(True)
        self.date_picker.setDate(qdate)
        self.sidebar.month.setSelectedDate(qdate)
        for picker in (self.date_picker, self.sidebar.month):
            picker.blockSignals(False)

    def _new_at_cursor(self) -> None:
        canvas = self.time_grid.canvas
        if self.view == "month":
            start = local_midnight(self.month.cursor, self.model.tz).replace(hour=9)
        else:
            start = canvas.slot_start(canvas.cursor_day, canvas.cursor_slot)
        self.newRequested.emit(start)


def display_zone() -> ZoneInfo:
    """The system's IANA time zone (Qt knows it on every platform)."""
    from PySide6.QtCore import QTimeZone

    name = bytes(QTimeZone.systemTimeZoneId().data()).decode() or "UTC"
    try:
        return ZoneInfo(name)
    except Exception:  # an unknown id: fall back to UTC, the view still works
        return ZoneInfo("UTC")
