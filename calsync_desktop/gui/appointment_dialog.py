"""The appointment dialog (opened and saved by
:class:`~calsync_desktop.gui.appointment_editor.AppointmentEditor`).

Title and notes are separate fields; the Sales Calendar keeps them as one
text, the title, a newline and the notes (SPEC §4). Times are edited as
wall-clock times in the appointment's own zone, so a weekly 09:00 meeting
stays at 09:00 whatever the daylight-saving season.

An occurrence of a series opens as itself (its own day, time and text). When
it is saved or deleted the dialog asks, as Outlook and Google Calendar do,
"This appointment" or "All in the series"; one occurrence alone becomes an
override or an EXDATE (the rules are in :mod:`calsync_desktop.editing`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from PySide6.QtCore import QDate, QDateTime, QSize, Qt, QTime
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from calsync_desktop.editing import (
    Edit,
    apply_edit,
    change_occurrence,
    change_series_from,
    contents_of,
    delete_occurrence,
    series_only_changes,
    title_and_notes,
)
from calsync_desktop.gui import formats
from calsync_desktop.gui.icons import icon
from calsync_desktop.gui.meeting_fields import JoinRow, ShowAsChoice, open_link
from calsync_desktop.gui.meeting_panel import MeetingPanel
from calsync_desktop.gui.participants import NO_EMAIL_NOTE, ParticipantsTable
from calsync_desktop.gui.recurrence_editor import (  # re-exported for the dialog's users
    FREQUENCIES,
    WEEKDAYS,
    RecurrenceEditor,
    build_rule,
    parse_rule,
    same_repeat,
)
from calsync_desktop.gui.style import NOTE_STYLE, WARN_STYLE, DateTimeField
from calsync_desktop.meetings import check_edit, guests_may_edit, respond
from calsync_desktop.model import (
    Appointment,
    InvalidAppointment,
    Occurrence,
    Participant,
    validate,
)
from calsync_desktop.providers.kit.meetings import attendee_fields
from calsync_desktop.words import join_words

__all__ = [
    "FREQUENCIES",
    "WEEKDAYS",
    "AppointmentDialog",
    "RecurrenceEditor",
    "build_rule",
    "parse_rule",
    "same_repeat",
]

ALL_DAY_NOTE = (
    "All-day appointments stay in the Sales Calendar: they are not synced with "
    "your calendar account."
)
DEFAULT_ACCOUNT_SETTING = "app.default_account"
"""The account new appointments go to when there is more than one (an account id):
the one last chosen for a new appointment, or Settings' choice."""
LINKED_ACCOUNT_NOTE = (
    "An appointment stays with the calendar account it is synced with. To move it, "
    "create it again under the other account and delete this one."
)
THIS_ONE, ALL_IN_SERIES = "this", "all"
PREFERRED_SIZE = QSize(760, 760)


class NotesEdit(QPlainTextEdit):
    """The notes: six lines to begin with; a taller dialog gives them the rest."""

    def sizeHint(self) -> QSize:
        height = 6 * self.fontMetrics().lineSpacing() + 2 * self.frameWidth() + 8
        return QSize(super().sizeHint().width(), height)


def account_label(account) -> str:
    """How an account is named in the dialog: its name, and its address if that differs."""
    name = account.name or account.email
    if account.email and account.email != name:
        return f"{name} ({account.email})"
    return name


def colour_swatch(colour: QColor, size: int = 12) -> QIcon:
    """A square of the account's colour; on a selected row it is ringed white,
    so that a blue calendar does not vanish into the selection's blue."""
    pixmap = QPixmap(size, size)
    pixmap.fill(colour)
    swatch = QIcon(pixmap)
    ringed = QPixmap(size, size)
    ringed.fill(QColor("#ffffff"))
    painter = QPainter(ringed)
    painter.fillRect(1, 1, size - 2, size - 2, colour)
    painter.end()
    swatch.addPixmap(ringed, QIcon.Mode.Selected)
    return swatch


def choose_account(
    appointment: Appointment, accounts: Sequence, default_account_id: str | None
) -> str | None:
    """The account an appointment belongs to once saved: its own if it has one
    that still exists, else the default account (when it exists), else the first."""
    ids = [a.id for a in accounts]
    if appointment.account_id in ids:
        return appointment.account_id
    if default_account_id in ids:
        return default_account_id
    return ids[0] if ids else None


def to_qdatetime(value: datetime) -> QDateTime:
    return QDateTime(QDate(value.year, value.month, value.day), QTime(value.hour, value.minute))


def from_qdatetime(value: QDateTime, tz: ZoneInfo) -> datetime:
    d, t = value.date(), value.time()
    wall = datetime(d.year(), d.month(), d.day(), t.hour(), t.minute(), tzinfo=tz)
    return wall.astimezone(UTC).astimezone(tz)  # a time in a DST gap moves past it


def zone_words(zone: ZoneInfo, moment: datetime) -> str:
    """ "New York time (UTC−05:00)": a zone as people say it, not its database name."""
    key = getattr(zone, "key", "UTC")
    offset = moment.astimezone(zone).utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "−" if minutes < 0 else "+"
    hours, rest = divmod(abs(minutes), 60)
    utc = f"UTC{sign}{hours:02d}:{rest:02d}" if minutes else "UTC"
    if key in ("UTC", "Etc/UTC", "Etc/GMT", "GMT") or "/" not in key:
        return utc
    city = key.rsplit("/", 1)[-1].replace("_", " ")
    return f"{city} time ({utc})"


def heading(text: str, buddy: QWidget) -> QLabel:
    """A section's title above a full-width field (and its buddy for Alt+key)."""
    label = QLabel(text)
    label.setBuddy(buddy)
    return label


def ask_scope(parent: QWidget | None, action: str, series_only: Sequence[str]) -> str | None:
    """Outlook's and Google's question for an occurrence of a series:
    "This appointment" or "All in the series" (None: cancel). With changes only
    a whole series can take, "This appointment" is not offered, and why is said."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    if action == "delete":
        box.setWindowTitle("Delete a repeating appointment")
        box.setText("Delete only this appointment, or all appointments in the series?")
    else:
        box.setWindowTitle("Change a repeating appointment")
        box.setText("Change only this appointment, or all appointments in the series?")
    this = box.addButton("This appointment", QMessageBox.ButtonRole.AcceptRole)
    every = box.addButton("All in the series", QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    if series_only:
        this.setEnabled(False)
        box.setInformativeText(
            f"{join_words(list(series_only)).capitalize()} belong to the whole series: "
            "they cannot be changed for one appointment alone."
        )
        box.setDefaultButton(every)
    else:
        box.setDefaultButton(this)
    box.exec()
    clicked = box.clickedButton()
    if clicked is this:
        return THIS_ONE
    if clicked is every:
        return ALL_IN_SERIES
    return None


class AppointmentDialog(QDialog):
    """Read and edit one appointment: title, notes, location, start, end,
    all-day, private, participants (with invite statuses), repeat and calendar
    account.

    ``occurrence`` (an occurrence of ``appointment``'s series) opens that one
    occurrence; Save and Delete then ask this appointment or all in the series
    (``ask_scope(parent, "change" | "delete", series_only) -> "this" | "all" |
    None``, replaceable for tests). After ``exec()``: ``deleted`` and
    ``scope`` tell what was chosen; :meth:`appointment` is what to store.
    """

    def __init__(
        self,
        appointment: Appointment,
        is_new: bool,
        parent: QWidget | None = None,
        accounts: Sequence = (),
        default_account_id: str | None = None,
        colour_for: Callable[[str], QColor] | None = None,
        occurrence: Occurrence | None = None,
        display_tz: ZoneInfo | None = None,
        ask: Callable[[QWidget | None, str, Sequence[str]], str | None] = ask_scope,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        open_url: Callable[[str], object] = open_link,
    ):
        super().__init__(parent)
        self.original = appointment
        self.is_new = is_new
        self.deleted = False
        self.scope: str | None = None
        self.ask = ask
        series = appointment.recurrence is not None and not is_new
        self.occurrence = occurrence if series and occurrence is not None else None
        if self.occurrence is not None and self.occurrence.original_start is None:
            self.occurrence = None
        self.tz = ZoneInfo(appointment.timezone)
        self.setWindowTitle("New appointment" if is_new else "Appointment")
        shown = self.occurrence or Occurrence(
            appointment,
            appointment.start,
            appointment.end,
            appointment.contents,
            appointment.location,
        )
        title, notes = title_and_notes(shown.contents)
        self.title = QLineEdit(title)
        self.title.setPlaceholderText("Title")
        self.title.setAccessibleName("Title")
        self.notes = NotesEdit(notes)
        self.notes.setPlaceholderText("Notes: agenda, dial-in, anything the others should know")
        self.notes.setAccessibleName("Notes")
        self.notes.setTabChangesFocus(True)
        self.notes.setMinimumHeight(70)
        self.location = QLineEdit(shown.location)
        self.location.setPlaceholderText("Address, room or video link")
        self.location.setAccessibleName("Location")
        local_start = shown.start.astimezone(self.tz)
        local_end = shown.end.astimezone(self.tz)
        self._shown_start = shown.start
        self.start = DateTimeField(to_qdatetime(local_start))
        self.end = DateTimeField(to_qdatetime(local_end))
        for edit, name in ((self.start, "Start"), (self.end, "End")):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat(formats.date_time_edit_format())
            edit.calendarWidget().setFirstDayOfWeek(Qt.DayOfWeek(formats.first_weekday() + 1))
            edit.setAccessibleName(name)
        self.start.dateTimeChanged.connect(self._start_moved)
        self._duration = shown.end - shown.start
        self.zone_label = QLabel(f"Times are in {zone_words(self.tz, shown.start)}.")
        self.zone_label.setStyleSheet(NOTE_STYLE)
        self.all_day = QCheckBox("All day")
        self.all_day.setChecked(appointment.all_day)
        self.all_day_note = QLabel(ALL_DAY_NOTE)
        self.all_day_note.setWordWrap(True)
        self.all_day_note.setStyleSheet(WARN_STYLE)
        self.all_day.toggled.connect(self._all_day_toggled)
        self.private = QCheckBox("Private: others see a grey box without any details")
        self.private.setChecked(appointment.private)
        self.show_as = ShowAsChoice(appointment.show_as)
        self.join_row = JoinRow(appointment, shown, clock, open_url)
        self._build_account_choice(accounts, default_account_id, colour_for)

        self.participants = ParticipantsTable()
        for participant in appointment.participants:
            self.participants.add(participant)
        self.add_participant = add = QPushButton("Add participant")
        add.setAutoDefault(False)
        add.clicked.connect(self.participants.add_empty)
        self.remove_participant = remove = QPushButton("Remove")
        remove.setAccessibleName("Remove participant")
        remove.setAutoDefault(False)
        remove.clicked.connect(self.participants.remove_selected)
        note = QLabel(NO_EMAIL_NOTE)
        note.setWordWrap(True)
        note.setStyleSheet(NOTE_STYLE)

        self.recurrence = RecurrenceEditor(first_weekday=formats.first_weekday())
        rule = appointment.recurrence.rrule if appointment.recurrence else None
        self.recurrence.set_rule(rule, appointment.start.astimezone(self.tz))
        self.recurrence.start_moved(local_start.date())
        # one occurrence cannot take a repeat of its own: its ticks stay the series'
        self.recurrence.follow_start = self.occurrence is None
        self.series_note = QLabel()
        self.series_note.setObjectName("series-note")
        self.series_note.setWordWrap(True)
        self.series_note.setStyleSheet(NOTE_STYLE)
        if self.occurrence is not None:
            self.series_note.setText(
                "This is one appointment of a series. When you save or delete it, you "
                "choose: this appointment, or all in the series."
            )
        elif series:
            self.series_note.setText("This appointment repeats: changes apply to the series.")

        self.form = form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        form.addRow(self.series_note)  # across the whole dialog, above everything
        form.addRow("Title", self.title)
        times = QHBoxLayout()
        times.addWidget(self.start)
        times.addWidget(QLabel("to"))
        times.addWidget(self.end)
        times.addStretch(1)
        form.addRow("When", times)
        form.addRow("", self.zone_label)
        form.addRow("", self.all_day)
        form.addRow("", self.all_day_note)
        form.addRow("Repeat", self.recurrence)
        form.addRow("Location", self.location)
        if self.account_row is not None:
            form.addRow("Calendar account", self.account_row)
        form.addRow("Show as", self.show_as)
        form.addRow("", self.private)
        form.addRow("Online meeting", self.join_row)
        # participants and notes take the dialog's whole width: emails stay whole
        people = QVBoxLayout()
        people.setContentsMargins(0, 6, 0, 0)
        people.addWidget(heading("Participants", self.participants))
        people.addWidget(self.participants)
        buttons_row = QHBoxLayout()
        buttons_row.addWidget(add)
        buttons_row.addWidget(remove)
        buttons_row.addStretch(1)
        people.addLayout(buttons_row)
        people.addWidget(note)
        form.addRow(people)
        notes = QVBoxLayout()
        notes.setContentsMargins(0, 6, 0, 0)
        notes.addWidget(heading("Notes", self.notes))
        notes.addWidget(self.notes)
        form.addRow(notes)
        # someone else's meeting: who organises it and the answer, at the top
        self.kind = next(
            (a.kind for a in accounts if getattr(a, "id", None) == appointment.account_id), None
        )
        self.meeting: MeetingPanel | None = None
        if appointment.organised_by_someone_else and not is_new:
            self.meeting = MeetingPanel(appointment, self.kind)
            form.insertRow(0, self.meeting)
            if not guests_may_edit(appointment):
                self._lock_for_attendee(attendee_fields(self.kind))
        # hidden rows take no room (a hidden field alone would leave its spacing)
        form.setRowVisible(self.series_note, bool(self.series_note.text()))
        form.setRowVisible(self.join_row, bool(appointment.join_url))
        form.setRowVisible(self.zone_label, display_tz is None or display_tz.key != self.tz.key)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        for button in self.buttons.buttons():
            button.setIcon(QIcon())  # words, no floppy disk nor red cross
        self.buttons.accepted.connect(self._save)
        self.buttons.rejected.connect(self.reject)
        bottom = QHBoxLayout()
        self.delete_button: QPushButton | None = None
        if not is_new:
            # on the far left, away from Save: deleting is not the usual way out
            self.delete_button = QPushButton(icon("delete"), "Delete…")
            self.delete_button.setAutoDefault(False)
            self.delete_button.clicked.connect(self._delete)
            bottom.addWidget(self.delete_button)
        bottom.addStretch(1)
        bottom.addWidget(self.buttons)
        inner = QWidget()
        inner.setLayout(form)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setWidget(inner)
        self.scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Tab goes field to field; it follows
        layout = QVBoxLayout(self)
        layout.addWidget(self.scroll, 1)
        layout.addLayout(bottom)
        self._all_day_toggled(appointment.all_day)
        self._fit(inner)
        if self.meeting is not None:
            # the answer is what there is to do; the title cannot be edited
            self.meeting.buttons[next(iter(self.meeting.buttons))].setFocus()
        else:
            self.title.setFocus()

    def _lock_for_attendee(self, allowed: frozenset[str]) -> None:
        """Read-only but for what the service lets an attendee set on their copy.
        The read-only fields take the window's colour, so that none looks as if
        it could be typed in."""
        for field in (self.title, self.notes, self.location, self.start, self.end):
            field.setReadOnly(True)
            palette = field.palette()
            palette.setColor(QPalette.ColorRole.Base, palette.color(QPalette.ColorRole.Window))
            field.setPalette(palette)
        for widget in (
            self.all_day,
            self.recurrence,
            self.participants,
            self.add_participant,
            self.remove_participant,
        ):
            widget.setEnabled(False)
        if self.account_row is not None:
            self.account_row.setEnabled(False)
        self.private.setEnabled("private" in allowed)
        self.show_as.setEnabled("show_as" in allowed)

    def _fit(self, inner: QWidget) -> None:
        """As large as the form wants, within the screen (it scrolls beyond)."""
        screen = self.screen() or QGuiApplication.primaryScreen()
        area = screen.availableGeometry()
        wanted = inner.sizeHint() + QSize(40, 70)
        width = min(max(wanted.width(), 640), PREFERRED_SIZE.width(), area.width() - 24)
        height = min(wanted.height(), PREFERRED_SIZE.height(), area.height() - 48)
        self.resize(max(320, width), max(240, height))

    # ----------------------------------------------------------- account

    def _build_account_choice(
        self,
        accounts: Sequence,
        default_account_id: str | None,
        colour_for: Callable[[str], QColor] | None,
    ) -> None:
        """Which calendar account the appointment syncs with.

        One account: it is assigned without asking. More: a new (or not yet
        assigned) appointment offers the choice; one that already belongs to an
        account shows it, read-only, since the sync keeps it with that account.
        """
        self.account_id = choose_account(self.original, accounts, default_account_id)
        self.account_choice: QComboBox | None = None
        self.account_row: QWidget | None = None
        if len(accounts) < 2:
            return
        assigned = self.original.account_id in {a.id for a in accounts}
        if assigned:
            account = next(a for a in accounts if a.id == self.original.account_id)
            label = QLabel(account_label(account))
            label.setToolTip(LINKED_ACCOUNT_NOTE)
            label.setAccessibleName("Calendar account")
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            if colour_for is not None:
                swatch = QLabel()
                swatch.setPixmap(colour_swatch(colour_for(account.id)).pixmap(12, 12))
                row = QWidget()
                box = QHBoxLayout(row)
                box.setContentsMargins(0, 0, 0, 0)
                box.addWidget(swatch)
                box.addWidget(label, 1)
                self.account_row = row
            else:
                self.account_row = label
            return
        combo = QComboBox()
        combo.setAccessibleName("Calendar account")
        combo.setToolTip("The calendar this appointment is synced with")
        for account in accounts:
            if colour_for is not None:
                combo.addItem(colour_swatch(colour_for(account.id)), account_label(account))
            else:
                combo.addItem(account_label(account))
            combo.setItemData(combo.count() - 1, account.id)
        combo.setCurrentIndex(max(0, combo.findData(self.account_id)))
        combo.currentIndexChanged.connect(
            lambda _=0: setattr(self, "account_id", combo.currentData())
        )
        row = QWidget()
        box = QHBoxLayout(row)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(combo)
        box.addStretch(1)
        self.account_choice = combo
        self.account_row = row

    # ----------------------------------------------------------- participants

    def participant_list(self) -> tuple[Participant, ...]:
        return self.participants.participants(self.original.participants)

    # ----------------------------------------------------------- times

    def _start_moved(self, value: QDateTime) -> None:
        # moving the start keeps the duration, as calendars do
        start = from_qdatetime(value, self.tz)
        self.end.setDateTime(to_qdatetime((start + self._duration).astimezone(self.tz)))
        self.recurrence.start_moved(start.date())

    def _all_day_toggled(self, on: bool) -> None:
        # a date-only format drops the time: remember it to bring it back
        if on:
            self._times = (self.start.time(), self.end.time())
        fmt = (
            formats.medium_date_format(with_weekday=True)
            if on
            else (formats.date_time_edit_format())
        )
        self.start.blockSignals(True)
        self.start.setDisplayFormat(fmt)
        self.end.setDisplayFormat(fmt)
        if not on and getattr(self, "_times", None):
            self.start.setTime(self._times[0])
            self.end.setTime(self._times[1])
        self.start.blockSignals(False)
        self.form.setRowVisible(self.all_day_note, on)

    def times(self) -> tuple[datetime, datetime]:
        start = from_qdatetime(self.start.dateTime(), self.tz)
        end = from_qdatetime(self.end.dateTime(), self.tz)
        if self.all_day.isChecked():
            start = datetime.combine(start.date(), time(0), tzinfo=self.tz)
            end = datetime.combine(end.date(), time(0), tzinfo=self.tz)
            if end <= start:
                end = start + timedelta(days=1)
        return start.astimezone(UTC), end.astimezone(UTC)

    # ----------------------------------------------------------- result

    def contents(self) -> str:
        """Title, a newline and the notes: the Sales Calendar's contents."""
        return contents_of(self.title.text(), self.notes.toPlainText())

    def edit(self) -> Edit:
        """What the form says, before it is applied to the appointment or series."""
        start, end = self.times()
        return Edit(
            contents=self.contents(),
            location=self.location.text().strip(),
            start=start,
            end=end,
            all_day=self.all_day.isChecked(),
            private=self.private.isChecked(),
            participants=self.participant_list(),
            rule=self.recurrence.rule(start, self.tz),
            account_id=self.account_id,
            show_as=self.show_as.value(),
        )

    def unchanged(self) -> bool:
        """Nothing an occurrence shows was changed (saving it needs no question)."""
        occ, edit = self.occurrence, self.edit()
        return (
            occ is not None
            and edit.contents == occ.contents
            and edit.location == occ.location
            and edit.start == occ.start
            and edit.end == occ.end
            and not series_only_changes(self.original, edit)
        )

    def appointment(self) -> Appointment:
        """The appointment to store, as edited (validated): the appointment, or
        the series with this occurrence changed or left out, or the whole series."""
        edit = self.edit()
        series, occ = self.original, self.occurrence
        if occ is None:
            result = apply_edit(series, edit)
        elif self.deleted:
            result = delete_occurrence(series, occ.original_start)
        elif self.scope == THIS_ONE:
            result = change_occurrence(series, occ.original_start, edit)
        elif self.scope == ALL_IN_SERIES:
            result = change_series_from(series, occ.original_start, occ.start, edit)
        else:
            result = series  # an occurrence seen and left as it was
        if self.meeting is not None:
            check_edit(self.original, result, self.kind)
            if self.meeting.answer() is not self.original.my_response:
                result = respond(result, self.meeting.answer())  # the whole meeting's answer
        return validate(result)

    def _save(self) -> None:
        if self.occurrence is not None and not self.unchanged():
            scope = self.ask(self, "change", series_only_changes(self.original, self.edit()))
            if scope is None:
                return
            self.scope = scope
        try:
            self.appointment()
        except InvalidAppointment as exc:
            QMessageBox.warning(self, "Cannot save the appointment", str(exc))
            return
        self.accept()

    def _delete(self) -> None:
        if self.occurrence is not None:
            scope = self.ask(self, "delete", ())
            if scope is None:
                return
            self.scope = scope
        else:
            answer = QMessageBox.question(
                self,
                "Delete appointment",
                "Delete this appointment? It is also deleted from the synced calendar.",
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        self.deleted = True
        self.accept()
