"""The appointment dialog's part for a meeting someone else organises (SPEC §10):
who organises it, the user's answer (Accept, Tentative, Decline) and why the
rest cannot be changed (or that it can, when the organiser lets the guests).
The rules are :mod:`calsync_desktop.meetings`'."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from calsync_desktop.gui.style import NOTE_STYLE
from calsync_desktop.meetings import editing_note, organiser_named
from calsync_desktop.model import Appointment, MyResponse

HIDE_DECLINED_SETTING = "calendar.hide_declined"
"""Settings › Calendar: hide the meetings the user declined (they show struck through)."""


def hide_declined(store) -> bool:
    """Whether the calendar hides declined meetings (Settings › Calendar)."""
    return bool(store.get_setting(HIDE_DECLINED_SETTING, False))


ANSWER_BUTTONS = (
    (MyResponse.ACCEPTED, "Accept"),
    (MyResponse.TENTATIVE, "Tentative"),
    (MyResponse.DECLINED, "Decline"),
)
ANSWER_WORDS = {
    MyResponse.NONE: "You have not answered yet.",
    MyResponse.ACCEPTED: "You accepted.",
    MyResponse.TENTATIVE: "You answered tentative.",
    MyResponse.DECLINED: "You declined: the meeting stays in your calendar, struck through, "
    "and does not count as busy.",
}


class MeetingPanel(QWidget):
    """Organiser, answer buttons and the read-only note of someone else's meeting.

    :meth:`answer` is the answer chosen (the appointment's own until a button
    is pressed); ``answered`` is emitted when a button changes it. The next sync
    sends the answer as a response to the organiser."""

    answered = Signal(object)

    def __init__(self, appointment: Appointment, kind: str | None, parent: QWidget | None = None):
        super().__init__(parent)
        self._answer = appointment.my_response
        who = organiser_named(appointment)
        self.organiser = QLabel(f"Organised by {who}")
        self.organiser.setObjectName("meeting-organiser")
        self.organiser.setWordWrap(True)
        self.organiser.setStyleSheet("font-weight: bold")
        self.state = QLabel(ANSWER_WORDS[self._answer])
        self.state.setObjectName("meeting-answer")
        self.state.setWordWrap(True)
        self.group = QButtonGroup(self)
        self.group.setExclusive(True)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        self.buttons: dict[MyResponse, QPushButton] = {}
        for value, text in ANSWER_BUTTONS:
            button = QPushButton(text)
            button.setCheckable(True)
            button.setAutoDefault(False)
            button.setChecked(value is self._answer)
            button.setAccessibleName(f"Answer: {text}")
            button.clicked.connect(lambda _=False, v=value: self._choose(v))
            self.group.addButton(button)
            self.buttons[value] = button
            row.addWidget(button)
        row.addStretch(1)
        self.note = QLabel(editing_note(appointment, kind))
        self.note.setObjectName("meeting-read-only")
        self.note.setWordWrap(True)
        self.note.setStyleSheet(NOTE_STYLE)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 6)
        layout.addWidget(self.organiser)
        layout.addLayout(row)
        layout.addWidget(self.state)
        layout.addWidget(self.note)

    def answer(self) -> MyResponse:
        return self._answer

    def _choose(self, value: MyResponse) -> None:
        if value is self._answer:
            return
        self._answer = value
        self.state.setText(ANSWER_WORDS[value] + " The next sync sends your answer.")
        self.answered.emit(value)
