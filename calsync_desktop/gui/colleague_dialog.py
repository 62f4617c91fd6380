"""A colleague's appointment, read-only (SPEC §8).

It says whose it is and that only they can change it. A private one shows
"Private appointment" and its time only: the team server gave the app
nothing else of it, and nothing else is asked for. In "Preview as a
colleague" one's own appointments open here too, exactly as colleagues see
them.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from calsync_desktop.editing import title_and_notes
from calsync_desktop.gui import formats
from calsync_desktop.gui.calendar_model import (
    PRIVATE_FILL,
    PRIVATE_TEXT,
    PRIVATE_TEXT_COLOUR,
    Row,
    time_range_text,
)
from calsync_desktop.gui.icons import INVITE_LABELS, icon, invite_icon
from calsync_desktop.gui.style import NOTE_STYLE


def whose(row: Row) -> str:
    """ "Bob Baker's appointment" (or "Your appointment, as colleagues see it")."""
    if not row.key.startswith("member:"):
        return "Your appointment, as colleagues see it"
    return f"{row.account_name}'s appointment"


def _swatch(colour: QColor) -> QLabel:
    label = QLabel()
    label.setFixedSize(12, 12)
    label.setStyleSheet(f"background: {colour.name()}; border-radius: 2px;")
    return label


class ColleagueAppointmentDialog(QDialog):
    """Shows one row of the team view without any way to change it."""

    def __init__(self, row: Row, parent: QWidget | None = None):
        super().__init__(parent)
        self.row = row
        occ = row.occurrence
        self.setWindowTitle(whose(row))
        self.setMinimumWidth(420)
        owner = row.account_name if row.key.startswith("member:") else "you"
        header = QHBoxLayout()
        header.addWidget(_swatch(row.colour))
        self.owner_label = QLabel(whose(row))
        self.owner_label.setObjectName("whose")
        bold = QFont(self.owner_label.font())
        bold.setBold(True)
        self.owner_label.setFont(bold)
        header.addWidget(self.owner_label, 1)
        when = time_range_text(row.start, row.end, row.all_day)
        day = formats.long_date_text(row.start.date())
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.fields: dict[str, str] = {}

        def add(label: str, text: str) -> QLabel:
            value = QLabel(text)
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            form.addRow(label, value)
            self.fields[label] = text
            return value

        self.notes: QPlainTextEdit | None = None
        self.private_box: QWidget | None = None
        if row.private:
            # the box as the calendar draws it: dark grey, the eye, the time
            self.private_box = QWidget()
            self.private_box.setObjectName("private-box")
            self.private_box.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
            self.private_box.setStyleSheet(
                f"#private-box {{ background: {PRIVATE_FILL.name()}; border-left: 3px solid "
                f"{row.colour.name()}; border-radius: 2px; }} #private-box QLabel "
                f"{{ color: {PRIVATE_TEXT_COLOUR.name()}; }}"
            )
            eye = QLabel()
            eye.setPixmap(icon("eye").pixmap(16, 16))
            inside = QHBoxLayout(self.private_box)
            inside.setContentsMargins(8, 6, 8, 6)
            inside.addWidget(eye)
            inside.addWidget(QLabel(f"{PRIVATE_TEXT} · {when}"), 1)
            form.addRow(self.private_box)
            add("When", f"{day}, {when}")
            sees = "see" if owner == "you" else "sees"
            note = (
                f"Only {owner} {sees} what it is about; the team server gives colleagues "
                "its time and nothing else."
            )
        else:
            title, notes = title_and_notes(occ.contents)
            add("Title", title or "(no title)")
            add("When", f"{day}, {when}")
            if occ.location:
                add("Location", occ.location)
            people = occ.appointment.participants
            if people:
                box = QVBoxLayout()
                for person in people:
                    line = QHBoxLayout()
                    mark = QLabel()
                    mark.setPixmap(invite_icon(person.status).pixmap(14, 14))
                    mark.setToolTip(INVITE_LABELS[person.status])
                    line.addWidget(mark)
                    name = person.name or person.email
                    email = f" <{person.email}>" if person.email and person.name else ""
                    line.addWidget(QLabel(f"{name}{email}"), 1)
                    box.addLayout(line)
                form.addRow("Participants", box)
                self.fields["Participants"] = ", ".join(p.name or p.email for p in people)
            if row.members:
                add("In the calendars of", ", ".join(name for name, _ in row.members))
            if notes:
                self.notes = QPlainTextEdit(notes)
                self.notes.setReadOnly(True)
                self.notes.setAccessibleName("Notes")
                lines = min(6, max(2, notes.count("\n") + 1))
                self.notes.setFixedHeight(self.notes.fontMetrics().lineSpacing() * lines + 12)
                form.addRow("Notes", self.notes)
            note = (
                f"Read-only: only {owner} can change it, from their own app."
                if owner != "you"
                else "This is what colleagues see of it; end the preview to change it."
            )
        self.note = QLabel(note)
        self.note.setObjectName("read-only-note")
        self.note.setWordWrap(True)
        self.note.setStyleSheet(NOTE_STYLE)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addLayout(form)
        layout.addWidget(self.note)
        layout.addWidget(buttons)
