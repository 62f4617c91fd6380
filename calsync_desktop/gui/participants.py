"""The participants of an appointment: name, email and invite status.

A participant without an email address cannot be invited and is not synced:
the table marks the empty email cell and says so in the status column,
instead of leaving a blank the user has to guess about.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QIcon, QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from calsync_desktop.editing import keep_answers
from calsync_desktop.gui.icons import INVITE_LABELS, icon, invite_icon
from calsync_desktop.gui.style import WARNING_COLOUR
from calsync_desktop.model import InviteStatus, Participant

NO_EMAIL_NOTE = "Participants without an email address cannot be invited and are not synced."
NO_EMAIL_STATUS = "Not invited"
NO_EMAIL_HINT = "no email address"
"""What the empty email cell says, in amber beside the marker."""


class EmailDelegate(QStyledItemDelegate):
    """Draws an empty email cell as the marker and "no email address" in amber
    (the cell stays empty to edit: typing an address replaces the hint)."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index) -> None:
        super().paint(painter, option, index)
        if str(index.data() or "").strip():
            return
        painter.save()
        rect = option.rect.adjusted(4, 0, -4, 0)
        side = min(16, rect.height() - 4)
        icon("no-email").paint(
            painter, QRect(rect.left(), rect.center().y() - side // 2, side, side)
        )
        font = QFont(option.font)
        font.setItalic(True)
        painter.setFont(font)
        painter.setPen(QColor(WARNING_COLOUR))
        text_rect = rect.adjusted(side + 6, 0, 0, 0)
        painter.drawText(
            text_rect, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, NO_EMAIL_HINT
        )
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index) -> QSize:
        hint = super().sizeHint(option, index)
        if str(index.data() or "").strip():
            return hint
        font = QFont(option.font)
        font.setItalic(True)
        width = QFontMetrics(font).horizontalAdvance(NO_EMAIL_HINT) + 16 + 18
        return QSize(max(hint.width(), width), hint.height())


class ParticipantsTable(QTableWidget):
    """Name, email and invite status of each participant. A participant without
    an email address is marked in the email cell, and the status says why they
    are not invited. Emails are shown whole."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(0, 3, parent)
        self.setHorizontalHeaderLabels(["Name", "Email", "Invite status"])
        self.verticalHeader().hide()
        header = self.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        header.setMinimumSectionSize(90)
        self.setWordWrap(False)
        self.setTabKeyNavigation(False)  # Tab goes on to the next control; arrows move in it
        self.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setAccessibleName("Participants")
        self.setMinimumHeight(110)
        self.setItemDelegateForColumn(1, EmailDelegate(self))
        self.itemChanged.connect(self._changed)

    def sizeHint(self) -> QSize:
        """As tall as its participants and one row more (three to six rows), so
        that a short list leaves the dialog's room to the notes."""
        hint = super().sizeHint()
        rows = min(max(self.rowCount() + 1, 3), 6)
        height = self.horizontalHeader().sizeHint().height() + 2 * self.frameWidth()
        height += rows * self.verticalHeader().defaultSectionSize()
        return QSize(hint.width(), max(self.minimumHeight(), height))

    def add(self, participant: Participant) -> int:
        row = self.rowCount()
        self.blockSignals(True)
        self.insertRow(row)
        self.setItem(row, 0, QTableWidgetItem(participant.name))
        self.setItem(row, 1, QTableWidgetItem(participant.email or ""))
        status = QTableWidgetItem()
        status.setFlags(status.flags() & ~Qt.ItemFlag.ItemIsEditable)
        status.setData(Qt.ItemDataRole.UserRole, participant.status.value)
        self.setItem(row, 2, status)
        self.blockSignals(False)
        self._mark(row)
        return row

    def _changed(self, item: QTableWidgetItem) -> None:
        if item.column() == 1:
            self._mark(item.row())

    def _mark(self, row: int) -> None:
        """The email cell and the status of one row, with or without an address."""
        email_item, status_item = self.item(row, 1), self.item(row, 2)
        self.blockSignals(True)
        if email_item.text().strip():
            email_item.setIcon(QIcon())
            email_item.setToolTip(email_item.text())
            state = InviteStatus(status_item.data(Qt.ItemDataRole.UserRole))
            status_item.setIcon(invite_icon(state))
            status_item.setText(INVITE_LABELS[state])
            status_item.setForeground(self.palette().text())
            status_item.setToolTip("Invite statuses come from the participants' answers.")
        else:
            email_item.setIcon(QIcon())  # the delegate draws the marker and the hint
            email_item.setToolTip(f"No email address. {NO_EMAIL_NOTE}")
            status_item.setIcon(icon("warning"))
            status_item.setText(NO_EMAIL_STATUS)
            status_item.setForeground(QColor(WARNING_COLOUR))
            status_item.setToolTip(NO_EMAIL_NOTE)
        status_item.setData(Qt.ItemDataRole.AccessibleTextRole, status_item.text())
        self.blockSignals(False)

    def add_empty(self) -> None:
        row = self.add(Participant(""))
        self.setCurrentCell(row, 0)
        self.editItem(self.item(row, 0))

    def remove_selected(self) -> None:
        for row in sorted({i.row() for i in self.selectedIndexes()}, reverse=True):
            self.removeRow(row)

    def participants(self, old: Sequence[Participant] = ()) -> tuple[Participant, ...]:
        """Who is listed, with the answers the same people already gave."""
        out = []
        for row in range(self.rowCount()):
            name = self.item(row, 0).text().strip()
            email = self.item(row, 1).text().strip() or None
            if name or email:
                out.append(Participant(name or email or "", email))
        return keep_answers(out, old)
