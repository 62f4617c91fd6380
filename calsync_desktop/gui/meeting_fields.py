"""The appointment dialog's availability fields (SPEC §10): how it shows (free,
tentative, busy, out of office, working elsewhere), and "Join" for an online
meeting from ten minutes before its start (who organises someone else's
meeting and the answer are :mod:`calsync_desktop.gui.meeting_panel`'s).

The time comes from the app's clock (``clock``), so "Join" appears on time in
tests as on the desk; the link opens through ``open_url`` (the system's
browser or meeting app by default).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import QTimer, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QWidget,
)

from calsync_desktop.model import Appointment, Occurrence, ShowAs, can_join


def open_link(url: str) -> None:
    QDesktopServices.openUrl(QUrl(url))


class ShowAsChoice(QComboBox):
    """Free, tentative, busy, out of office or working elsewhere."""

    def __init__(self, value: ShowAs, parent: QWidget | None = None):
        super().__init__(parent)
        self.setAccessibleName("Show as")
        self.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
        for choice in ShowAs:
            self.addItem(choice.label, choice.value)
        self.set_value(value)

    def value(self) -> ShowAs:
        return ShowAs(self.currentData())

    def set_value(self, value: ShowAs) -> None:
        self.setCurrentIndex(self.findData(value.value))


class JoinRow(QWidget):
    """The online meeting's link and its "Join" button, shown from ten minutes
    before the start until the end."""

    def __init__(
        self,
        appointment: Appointment,
        shown: Occurrence,
        clock: Callable[[], datetime],
        open_url: Callable[[str], object] = open_link,
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.url = appointment.join_url
        self.start, self.end = shown.start, shown.end
        self.clock = clock
        self.when = QLabel()
        self.when.setObjectName("join-when")
        self.when.setWordWrap(True)
        self.join = QPushButton("Join")
        self.join.setObjectName("join")
        self.join.setAutoDefault(False)
        self.join.setToolTip(self.url)
        self.join.setAccessibleName("Join the online meeting")
        # the colour of the boxes' "Join" (gui/boxes.py)
        self.join.setStyleSheet(
            "QPushButton { background: #26a269; color: white; border-radius: 3px;"
            " padding: 4px 14px; } QPushButton:hover { background: #2ec27e; }"
        )
        self.join.clicked.connect(lambda: open_url(self.url))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.when, 1)
        layout.addWidget(self.join)
        self.timer = QTimer(self)
        self.timer.setInterval(30_000)
        self.timer.timeout.connect(self.refresh)
        self.timer.start()
        self.refresh()

    def refresh(self) -> None:
        """Show "Join" when the meeting can be joined now, else say when it can."""
        now = self.clock()
        open_now = can_join(self.url, self.start, self.end, now)
        self.join.setVisible(open_now)
        if open_now:
            self.when.setText("The meeting can be joined now.")
        elif now < self.start:
            self.when.setText("Join opens ten minutes before the start.")
        else:
            self.when.setText("The meeting is over.")
