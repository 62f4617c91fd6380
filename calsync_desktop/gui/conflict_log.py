"""The conflict log of Troubleshooting (SPEC §6): the list of conflicts beside
the selected one's two versions, in plain words ("Your version", "Google's
version"), with "Use this one" always in view. A private appointment's
versions are hidden."""

from __future__ import annotations

from datetime import datetime
from html import escape

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from calsync_desktop.accounts.kinds import KINDS
from calsync_desktop.gui import formats
from calsync_desktop.gui.calendar_model import PRIVATE_TEXT
from calsync_desktop.gui.style import NOTE_STYLE
from calsync_desktop.words import FIELD_WORDS


def _html(text: str) -> str:
    return escape(text, quote=False)


def remote_version_title(kind: str | None) -> str:
    entry = KINDS.get(kind or "")
    return entry.remote_version if entry else "The calendar's version"


def value_text(field_name: str, text: str) -> str:
    """A logged value as a person reads it: times in the locale's format."""
    if field_name == "time" and " – " in text:
        try:
            start, end = (datetime.fromisoformat(p).astimezone() for p in text.split(" – ", 1))
        except ValueError:
            return text
        today = datetime.now().astimezone().date()
        if start.date() == end.date():
            day = formats.date_text(start.date(), today, weekday=True)
            return f"{day}, {formats.time_range_text(start, end)}"
        return formats.time_range_text(start, end, today)
    if field_name == "private":
        # the log's "private", or the history's words for it already
        return "Private" if text.lower() == "private" else "Not private"
    return text if text.strip() else "(empty)"


class VersionCard(QFrame):
    """One side of a conflict: whose version, its value, and "Use this one"
    (or "In use")."""

    def __init__(self, title: str, where: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setObjectName("version-card")
        self.title = QLabel(f"<b>{_html(title)}</b>")
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.where = QLabel(where)
        self.where.setStyleSheet(NOTE_STYLE)
        self.value = QLabel()
        self.value.setWordWrap(True)
        self.value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.value.setTextFormat(Qt.TextFormat.PlainText)
        self.value.setObjectName("version-value")
        self.use = QPushButton("Use this one")
        self.use.setAccessibleName(f"Use {title.lower()}")
        self.in_use = QLabel("✔ In use")
        self.in_use.setStyleSheet("color: #26a269; font-weight: bold;")
        heading = QHBoxLayout()
        heading.addWidget(self.title)
        heading.addWidget(self.where)
        heading.addStretch(1)
        action = QHBoxLayout()
        action.addStretch(1)
        action.addWidget(self.in_use)
        action.addWidget(self.use)
        layout = QVBoxLayout(self)
        layout.addLayout(heading)
        layout.addWidget(self.value)
        layout.addLayout(action)

    def show_version(self, value: str, in_use: bool, can_use: bool, note: str = "") -> None:
        self.value.setText(value)
        self.in_use.setText(f"✔ In use{note}")
        self.in_use.setVisible(in_use)
        self.use.setVisible(not in_use)
        self.use.setEnabled(can_use)


class ConflictLog(QWidget):
    """The conflict log: the list of conflicts beside the selected one's two versions.

    Emits ``restoreRequested(conflict id)`` when the user picks the version
    that lost; the dialog restores it and calls :meth:`refresh`.
    """

    restoreRequested = Signal(int)

    def __init__(self, store, parent: QWidget | None = None):
        super().__init__(parent)
        self.store = store
        self.entries: list = []
        self.appointments: dict = {}
        self.intro = QLabel(
            "When the same detail of an appointment changed in both calendars, the newer "
            "change was kept. Choose the other version here if it was the right one: the "
            "next sync sends it on."
        )
        self.intro.setWordWrap(True)
        self.list = QTreeWidget()
        self.list.setObjectName("conflict-list")
        self.list.setAccessibleName("Conflicts")
        self.list.setHeaderLabels(["Appointment", "Changed", "When"])
        self.list.setRootIsDecorated(False)
        self.list.setUniformRowHeights(True)
        self.list.setAllColumnsShowFocus(True)
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        header = self.list.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.list.currentItemChanged.connect(lambda *_: self._show_selected())
        self.heading = QLabel()
        self.heading.setObjectName("conflict-heading")
        self.heading.setWordWrap(True)
        self.heading.setTextFormat(Qt.TextFormat.RichText)
        self.explain = QLabel()
        self.explain.setWordWrap(True)
        self.explain.setStyleSheet(NOTE_STYLE)
        self.yours = VersionCard("Your version", "in the Sales Calendar")
        self.theirs = VersionCard("The calendar's version", "")
        self.yours.use.clicked.connect(lambda: self._use("local"))
        self.theirs.use.clicked.connect(lambda: self._use("remote"))
        detail = QWidget()
        detail_layout = QVBoxLayout(detail)
        detail_layout.setContentsMargins(8, 0, 0, 0)
        detail_layout.addWidget(self.heading)
        detail_layout.addWidget(self.explain)
        detail_layout.addWidget(self.yours)
        detail_layout.addWidget(self.theirs)
        detail_layout.addStretch(1)
        self.detail = QScrollArea()
        self.detail.setWidgetResizable(True)
        self.detail.setFrameShape(QScrollArea.Shape.NoFrame)
        self.detail.setWidget(detail)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.list)
        self.splitter.addWidget(self.detail)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(False)
        self.empty = QLabel(
            "No conflicts. If the same detail of an appointment is changed in both "
            "calendars before they sync, both versions are listed here."
        )
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setStyleSheet(NOTE_STYLE)
        self.pages = QStackedWidget()
        self.pages.addWidget(self.empty)
        self.pages.addWidget(self.splitter)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addWidget(self.pages, 1)
        self.refresh()

    def _names(self) -> dict:
        return {a.id: a for a in self.store.list_accounts()}

    def refresh(self, keep: int | None = None) -> None:
        current = keep if keep is not None else self.current_id()
        self.accounts = self._names()
        self.entries = self.store.conflicts()
        self.appointments = self.store.get_appointments({c.appointment_id for c in self.entries})
        self.list.blockSignals(True)
        self.list.clear()
        today = datetime.now().astimezone()
        chosen = None
        for entry in self.entries:
            item = QTreeWidgetItem(
                [
                    self.title_of(entry),
                    FIELD_WORDS.get(entry.field, entry.field),
                    formats.moment_text(entry.at.astimezone(), today),
                ]
            )
            item.setData(0, Qt.ItemDataRole.UserRole, entry.id)
            if entry.restored:
                item.setToolTip(0, "You chose the other version")
            self.list.addTopLevelItem(item)
            if entry.id == current:
                chosen = item
        self.list.blockSignals(False)
        self.pages.setCurrentWidget(self.splitter if self.entries else self.empty)
        if self.entries:
            self.list.setCurrentItem(chosen or self.list.topLevelItem(0))
        self._show_selected()

    def title_of(self, entry) -> str:
        appointment = self.appointments.get(entry.appointment_id)
        if appointment is None:
            return "(deleted appointment)"
        if appointment.private:
            return PRIVATE_TEXT
        return appointment.title or "(no title)"

    def current_id(self) -> int | None:
        item = self.list.currentItem()
        return item.data(0, Qt.ItemDataRole.UserRole) if item is not None else None

    def current(self):
        wanted = self.current_id()
        return next((e for e in self.entries if e.id == wanted), None)

    def _show_selected(self) -> None:
        entry = self.current()
        if entry is None:
            return
        appointment = self.appointments.get(entry.appointment_id)
        account = self.accounts.get(entry.account_id)
        private = appointment is not None and appointment.private
        field = FIELD_WORDS.get(entry.field, entry.field).lower()
        self.heading.setText(f"<b>{_html(self.title_of(entry))}</b>")
        where = account.name if account else "the calendar"
        when = formats.moment_text(entry.at.astimezone(), datetime.now().astimezone())
        self.explain.setText(
            f"The {field} changed both in the Sales Calendar and in {where} before they "
            f"synced ({when}). The newer change was kept."
        )
        self.theirs.title.setText(
            f"<b>{_html(remote_version_title(account.kind if account else None))}</b>"
        )
        self.theirs.use.setAccessibleName(
            f"Use {remote_version_title(account.kind if account else None).lower()}"
        )
        self.theirs.where.setText(f"in {account.name}" if account else "")
        local_lost = entry.lost_side == "local"
        if private:
            hidden = "Hidden: the appointment is private."
            yours = theirs = hidden
        else:
            mine, other = (
                (entry.lost_value, entry.kept_value)
                if local_lost
                else (entry.kept_value, entry.lost_value)
            )
            yours, theirs = value_text(entry.field, mine), value_text(entry.field, other)
        # which version is in the appointment now: the kept one, or the lost one once chosen
        local_in_use = local_lost == entry.restored
        can_use = appointment is not None and not entry.restored
        note = " (you chose it)" if entry.restored else ""
        self.yours.show_version(
            yours, local_in_use, can_use and local_lost, note if local_lost else ""
        )
        self.theirs.show_version(
            theirs, not local_in_use, can_use and not local_lost, "" if local_lost else note
        )
        if appointment is None:
            self.explain.setText(self.explain.text() + " The appointment has since been deleted.")

    def _use(self, side: str) -> None:
        entry = self.current()
        if entry is not None and entry.lost_side == side and not entry.restored:
            self.restoreRequested.emit(entry.id)
