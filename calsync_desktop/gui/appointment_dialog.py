"""The appointment dialog, and the small editor that opens it and saves the result.

Times are edited as wall-clock times in the appointment's own zone, so a
weekly 09:00 meeting stays at 09:00 whatever the daylight-saving season.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from PySide6.QtCore import QDate, QDateTime, Qt, QTime
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QStyle,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from calsync_desktop.editing import edit_recurrence
from calsync_desktop.gui.icons import INVITE_LABELS, invite_icon
from calsync_desktop.model import (
    Appointment,
    InvalidAppointment,
    InviteStatus,
    Participant,
    new_id,
    validate,
)

ALL_DAY_NOTE = (
    "All-day appointments stay in the Sales Calendar: they are not synced with "
    "your calendar account."
)
NO_EMAIL_NOTE = "Participants without an email address cannot be invited and are not synced."
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
WEEKDAY_LABELS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
FREQUENCIES = (
    ("", "Does not repeat", ""),
    ("DAILY", "Daily", "day(s)"),
    ("WEEKLY", "Weekly", "week(s)"),
    ("MONTHLY", "Monthly", "month(s)"),
    ("YEARLY", "Yearly", "year(s)"),
)
SIMPLE_KEYS = {"FREQ", "INTERVAL", "BYDAY", "COUNT", "UNTIL", "WKST"}
DEFAULT_ACCOUNT_SETTING = "app.default_account"
"""The account new appointments go to when there is more than one (an account id)."""
LINKED_ACCOUNT_NOTE = (
    "An appointment stays with the calendar account it is synced with. To move it, "
    "create it again under the other account and delete this one."
)


def account_label(account) -> str:
    """How an account is named in the dialog: its name, and its address if that differs."""
    name = account.name or account.email
    if account.email and account.email != name:
        return f"{name} ({account.email})"
    return name


def colour_swatch(colour: QColor, size: int = 12) -> QIcon:
    pixmap = QPixmap(size, size)
    pixmap.fill(colour)
    return QIcon(pixmap)


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


def parse_rule(rule: str) -> dict[str, str] | None:
    """The parts of an RRULE this editor can show, or None for a rule it cannot
    represent (which is then kept exactly as it is)."""
    parts = dict(p.split("=", 1) for p in rule.split(";") if "=" in p)
    if not set(parts) <= SIMPLE_KEYS or parts.get("FREQ") not in {f for f, _, _ in FREQUENCIES[1:]}:
        return None
    if "BYDAY" in parts:
        days = parts["BYDAY"].split(",")
        if parts["FREQ"] != "WEEKLY" or not set(days) <= set(WEEKDAYS):
            return None
    return parts


def build_rule(
    freq: str, interval: int, weekdays: list[str], count: int | None, until: datetime | None
) -> str:
    parts = [f"FREQ={freq}"]
    if interval > 1:
        parts.append(f"INTERVAL={interval}")
    if freq == "WEEKLY" and weekdays:
        parts.append("BYDAY=" + ",".join(weekdays))
    if count:
        parts.append(f"COUNT={count}")
    elif until is not None:
        parts.append("UNTIL=" + until.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ"))
    return ";".join(parts)


def same_repeat(rule: str, other: str) -> bool:
    """Whether two rules this editor can show repeat alike as the editor shows
    them: INTERVAL=1 is the default, weekdays in any order, an end date by day."""

    def shown(text: str) -> dict[str, str] | None:
        parts = parse_rule(text)
        if parts is None:
            return None
        parts = dict(parts)
        if parts.get("INTERVAL") == "1":
            del parts["INTERVAL"]
        if "BYDAY" in parts:
            parts["BYDAY"] = ",".join(sorted(parts["BYDAY"].split(",")))
        if "UNTIL" in parts:
            parts["UNTIL"] = parts["UNTIL"][:8]
        return parts

    mine = shown(rule)
    return mine is not None and mine == shown(other)


def to_qdatetime(value: datetime) -> QDateTime:
    return QDateTime(QDate(value.year, value.month, value.day), QTime(value.hour, value.minute))


def from_qdatetime(value: QDateTime, tz: ZoneInfo) -> datetime:
    d, t = value.date(), value.time()
    wall = datetime(d.year(), d.month(), d.day(), t.hour(), t.minute(), tzinfo=tz)
    return wall.astimezone(UTC).astimezone(tz)  # a time in a DST gap moves past it


class RecurrenceEditor(QWidget):
    """None / daily / weekly / monthly / yearly, interval, weekdays and end."""

    def __init__(self, parent: QWidget | None = None):
        # a row of the dialog's form, labelled "Repeat" there
        super().__init__(parent)
        self.kept_rule: str | None = None
        self.initial_rule: str | None = None
        self.frequency = QComboBox()
        for freq, label, _ in FREQUENCIES:
            self.frequency.addItem(label, freq)
        self.frequency.setAccessibleName("Repeat")
        self.interval = QSpinBox()
        self.interval.setRange(1, 99)
        self.interval.setAccessibleName("Repeat every")
        self.unit = QLabel()
        self.weekdays = [QCheckBox(label) for label in WEEKDAY_LABELS]
        self.never = QRadioButton("Never ends")
        self.on_date = QRadioButton("Ends on")
        self.after = QRadioButton("Ends after")
        self.until = QDateEdit()
        self.until.setCalendarPopup(True)
        self.until.setDisplayFormat("dd MMM yyyy")
        self.count = QSpinBox()
        self.count.setRange(1, 999)
        self.count.setSuffix(" occurrences")
        self.custom = QLabel()
        self.custom.setWordWrap(True)
        self.custom.hide()  # only for a rule this editor cannot show
        self.never.setChecked(True)

        top = QHBoxLayout()
        top.addWidget(self.frequency)
        self.every_label = QLabel("every")
        top.addWidget(self.every_label)
        top.addWidget(self.interval)
        top.addWidget(self.unit)
        top.addStretch(1)
        self.days_row = QWidget()
        days = QHBoxLayout(self.days_row)
        days.setContentsMargins(0, 0, 0, 0)
        days.addWidget(QLabel("On"))
        for box in self.weekdays:
            days.addWidget(box)
        days.addStretch(1)
        self.end_row = QWidget()
        end = QHBoxLayout(self.end_row)
        end.setContentsMargins(0, 0, 0, 0)
        end.addWidget(self.never)
        end.addWidget(self.on_date)
        end.addWidget(self.until)
        end.addWidget(self.after)
        end.addWidget(self.count)
        end.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.days_row)
        layout.addWidget(self.end_row)
        layout.addWidget(self.custom)
        self.frequency.currentIndexChanged.connect(self._update)
        self._update()

    def _update(self) -> None:
        freq = self.frequency.currentData()
        repeating = bool(freq)
        if freq:
            self.kept_rule = None
            self.custom.hide()
        for widget in (self.every_label, self.interval, self.unit, self.end_row):
            widget.setVisible(repeating)
        self.days_row.setVisible(freq == "WEEKLY")
        self.unit.setText(dict((f, u) for f, _, u in FREQUENCIES)[freq])

    def set_rule(self, rule: str | None, start: datetime) -> None:
        self.initial_rule = rule
        self.until.setDate(QDate(start.year, start.month, start.day).addMonths(3))
        if not rule:
            self.frequency.setCurrentIndex(0)
            return
        parts = parse_rule(rule)
        if parts is None:
            self.frequency.setCurrentIndex(0)
            self.kept_rule = rule
            self.custom.setText(
                f"Repeats by a custom rule ({rule}); it is kept as it is unless you choose "
                "another repeat above."
            )
            self.custom.show()
            return
        self.frequency.setCurrentIndex([f for f, _, _ in FREQUENCIES].index(parts["FREQ"]))
        self.interval.setValue(int(parts.get("INTERVAL", 1)))
        days = parts.get("BYDAY", "").split(",")
        for code, box in zip(WEEKDAYS, self.weekdays, strict=True):
            box.setChecked(code in days)
        if "COUNT" in parts:
            self.after.setChecked(True)
            self.count.setValue(int(parts["COUNT"]))
        elif "UNTIL" in parts:
            self.on_date.setChecked(True)
            value = parts["UNTIL"][:8]
            self.until.setDate(QDate(int(value[:4]), int(value[4:6]), int(value[6:8])))

    def rule(self, start: datetime, tz: ZoneInfo) -> str | None:
        """The RRULE for the editor's state (None: does not repeat)."""
        freq = self.frequency.currentData()
        if not freq:
            return self.kept_rule
        weekdays = [c for c, b in zip(WEEKDAYS, self.weekdays, strict=True) if b.isChecked()]
        until = None
        if self.on_date.isChecked():
            d = self.until.date()
            until = datetime.combine(
                date(d.year(), d.month(), d.day()), time(23, 59, 59), tzinfo=tz
            )
        count = self.count.value() if self.after.isChecked() else None
        rule = build_rule(freq, self.interval.value(), weekdays, count, until)
        # the rule as it came, when the controls still show it: rebuilding it
        # (an end time at 23:59:59, INTERVAL=1 left out) would make it another
        # rule, and a new rule drops the series' deleted and changed occurrences
        if self.initial_rule and same_repeat(rule, self.initial_rule):
            return self.initial_rule
        return rule


class AppointmentDialog(QDialog):
    """Read and edit one appointment: contents, location, start, end, all-day,
    private, participants (with invite statuses) and recurrence.

    After ``exec()``: ``deleted`` tells whether the user deleted it, otherwise
    :meth:`appointment` is the edited appointment.
    """

    def __init__(
        self,
        appointment: Appointment,
        is_new: bool,
        parent: QWidget | None = None,
        accounts: Sequence = (),
        default_account_id: str | None = None,
        colour_for: Callable[[str], QColor] | None = None,
    ):
        super().__init__(parent)
        self.original = appointment
        self.is_new = is_new
        self.deleted = False
        self.tz = ZoneInfo(appointment.timezone)
        self.setWindowTitle("New appointment" if is_new else "Appointment")
        self.setMinimumWidth(620)

        self.contents = QPlainTextEdit(appointment.contents)
        self.contents.setPlaceholderText("What is it about? The first line is the title.")
        self.contents.setAccessibleName("Contents")
        self.contents.setTabChangesFocus(True)
        self.contents.setFixedHeight(90)
        self.location = QLineEdit(appointment.location)
        self.location.setPlaceholderText("Address, room or video link")
        self.location.setAccessibleName("Location")
        local_start = appointment.start.astimezone(self.tz)
        local_end = appointment.end.astimezone(self.tz)
        self.start = QDateTimeEdit(to_qdatetime(local_start))
        self.end = QDateTimeEdit(to_qdatetime(local_end))
        for edit, name in ((self.start, "Start"), (self.end, "End")):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("ddd dd MMM yyyy  HH:mm")
            edit.setAccessibleName(name)
        self.start.dateTimeChanged.connect(self._start_moved)
        self._duration = appointment.end - appointment.start
        self.zone_label = QLabel(f"Time zone: {appointment.timezone}")
        self.zone_label.setStyleSheet("color: #5e5c64;")
        self.all_day = QCheckBox("All day")
        self.all_day.setChecked(appointment.all_day)
        self.all_day_note = QLabel(ALL_DAY_NOTE)
        self.all_day_note.setWordWrap(True)
        self.all_day_note.setStyleSheet("color: #9c6500;")
        self.all_day.toggled.connect(self._all_day_toggled)
        self.private = QCheckBox("Private: others see a grey box without any details")
        self.private.setChecked(appointment.private)
        self._build_account_choice(accounts, default_account_id, colour_for)

        self.participants = QTableWidget(0, 3)
        self.participants.setHorizontalHeaderLabels(["Name", "Email", "Invite status"])
        self.participants.verticalHeader().hide()
        header = self.participants.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.participants.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.participants.setAccessibleName("Participants")
        self.participants.setMinimumHeight(120)
        for participant in appointment.participants:
            self._add_participant_row(participant)
        add = QPushButton("Add participant")
        add.clicked.connect(self._add_empty_participant)
        remove = QPushButton("Remove")
        remove.clicked.connect(self._remove_participant)
        note = QLabel(NO_EMAIL_NOTE)
        note.setWordWrap(True)
        note.setStyleSheet("color: #5e5c64;")

        self.recurrence = RecurrenceEditor()
        rule = appointment.recurrence.rrule if appointment.recurrence else None
        self.recurrence.set_rule(rule, local_start)
        self.series_note = QLabel(
            "This appointment repeats: changes here apply to every occurrence."
        )

        self.form = form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Contents", self.contents)
        form.addRow("Location", self.location)
        times = QHBoxLayout()
        times.addWidget(self.start)
        times.addWidget(QLabel("to"))
        times.addWidget(self.end)
        times.addStretch(1)
        form.addRow("When", times)
        form.addRow("", self.zone_label)
        form.addRow("", self.all_day)
        form.addRow("", self.all_day_note)
        form.addRow("", self.private)
        if self.account_row is not None:
            form.addRow("Calendar account", self.account_row)
        people = QVBoxLayout()
        people.addWidget(self.participants)
        buttons_row = QHBoxLayout()
        buttons_row.addWidget(add)
        buttons_row.addWidget(remove)
        buttons_row.addStretch(1)
        people.addLayout(buttons_row)
        people.addWidget(note)
        form.addRow("Participants", people)
        form.addRow("Repeat", self.recurrence)
        form.addRow("", self.series_note)
        # hidden rows take no room (a hidden field alone would leave its spacing)
        form.setRowVisible(self.series_note, appointment.recurrence is not None and not is_new)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self._save)
        self.buttons.rejected.connect(self.reject)
        bottom = QHBoxLayout()
        self.delete_button: QPushButton | None = None
        if not is_new:
            # on the far left, away from Save: deleting is not the usual way out
            self.delete_button = QPushButton(
                self.style().standardIcon(QStyle.StandardPixmap.SP_TrashIcon), "Delete…"
            )
            self.delete_button.setAutoDefault(False)
            self.delete_button.clicked.connect(self._delete)
            bottom.addWidget(self.delete_button)
        bottom.addStretch(1)
        bottom.addWidget(self.buttons)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addSpacing(4)
        layout.addLayout(bottom)
        self._all_day_toggled(appointment.all_day)

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

    def _add_participant_row(self, participant: Participant) -> None:
        row = self.participants.rowCount()
        self.participants.insertRow(row)
        self.participants.setItem(row, 0, QTableWidgetItem(participant.name))
        self.participants.setItem(row, 1, QTableWidgetItem(participant.email or ""))
        status = QTableWidgetItem(
            invite_icon(participant.status), INVITE_LABELS[participant.status]
        )
        status.setData(Qt.ItemDataRole.UserRole, participant.status.value)
        status.setFlags(status.flags() & ~Qt.ItemFlag.ItemIsEditable)
        status.setToolTip("Invite statuses come from the participants' answers.")
        self.participants.setItem(row, 2, status)

    def _add_empty_participant(self) -> None:
        self._add_participant_row(Participant(""))
        row = self.participants.rowCount() - 1
        self.participants.setCurrentCell(row, 0)
        self.participants.editItem(self.participants.item(row, 0))

    def _remove_participant(self) -> None:
        rows = sorted({i.row() for i in self.participants.selectedIndexes()}, reverse=True)
        for row in rows:
            self.participants.removeRow(row)

    def participant_list(self) -> tuple[Participant, ...]:
        known = {p.key: p.status for p in self.original.participants if p.key}
        out = []
        for row in range(self.participants.rowCount()):
            name = self.participants.item(row, 0).text().strip()
            email = self.participants.item(row, 1).text().strip() or None
            if not name and not email:
                continue
            key = email.lower() if email else None
            status = known.get(key, InviteStatus.NO_RESPONSE) if key else InviteStatus.NO_RESPONSE
            out.append(Participant(name or email or "", email, status))
        return tuple(out)

    # ----------------------------------------------------------- times

    def _start_moved(self, value: QDateTime) -> None:
        # moving the start keeps the duration, as calendars do
        start = from_qdatetime(value, self.tz)
        self.end.setDateTime(to_qdatetime((start + self._duration).astimezone(self.tz)))

    def _all_day_toggled(self, on: bool) -> None:
        # a date-only format drops the time: remember it to bring it back
        if on:
            self._times = (self.start.time(), self.end.time())
        fmt = "ddd dd MMM yyyy" if on else "ddd dd MMM yyyy  HH:mm"
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

    def appointment(self) -> Appointment:
        """The appointment as edited (validated)."""
        start, end = self.times()
        # the same rule keeps the series' deleted and changed occurrences, moved
        # along when the series moves; a new rule starts afresh
        recurrence = edit_recurrence(
            self.original, self.recurrence.rule(start, self.tz), start, self.tz
        )
        return validate(
            self.original.with_changes(
                contents=self.contents.toPlainText().strip(),
                location=self.location.text().strip(),
                start=start,
                end=end,
                all_day=self.all_day.isChecked(),
                private=self.private.isChecked(),
                participants=self.participant_list(),
                recurrence=recurrence,
                account_id=self.account_id,
            )
        )

    def _save(self) -> None:
        try:
            self.appointment()
        except InvalidAppointment as exc:
            QMessageBox.warning(self, "Cannot save the appointment", str(exc))
            return
        self.accept()

    def _delete(self) -> None:
        answer = QMessageBox.question(
            self,
            "Delete appointment",
            "Delete this appointment? It is also deleted from the synced calendar.",
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.deleted = True
            self.accept()


class AppointmentEditor:
    """Opens the appointment dialog for the window and writes the outcome to the store.

    ``changed()`` is called after every saved change (the app refreshes the
    model and schedules the sync ~10 s later). ``open_dialog`` runs a dialog
    and returns whether it was accepted (tests replace it).
    """

    def __init__(
        self,
        store,
        tz: ZoneInfo,
        changed: Callable[[], None],
        parent: QWidget | None = None,
        open_dialog: Callable[[AppointmentDialog], bool] | None = None,
        confirm_private: Callable[[QWidget | None], bool] | None = None,
        colour_for: Callable[[str], QColor] | None = None,
    ):
        self.store = store
        self.colour_for = colour_for
        self.tz = tz
        self.changed = changed
        self.parent = parent
        self.open_dialog = open_dialog or (lambda d: d.exec() == QDialog.DialogCode.Accepted)
        self.confirm_private = confirm_private or self._confirm_private

    @staticmethod
    def _confirm_private(parent: QWidget | None) -> bool:
        answer = QMessageBox.question(
            parent,
            "Private appointment",
            "This appointment is private. Show its details?",
        )
        return answer == QMessageBox.StandardButton.Yes

    def dialog_for(self, appointment: Appointment, is_new: bool) -> AppointmentDialog:
        """The dialog for ``appointment``, offering the accounts the store has."""
        return AppointmentDialog(
            appointment,
            is_new=is_new,
            parent=self.parent,
            accounts=self.store.list_accounts(),
            default_account_id=self.store.get_setting(DEFAULT_ACCOUNT_SETTING),
            colour_for=self.colour_for,
        )

    def open(self, occurrence) -> None:
        appointment = self.store.get_appointment(occurrence.appointment.id)
        if appointment is None:
            return
        if appointment.private and not self.confirm_private(self.parent):
            return
        dialog = self.dialog_for(appointment, is_new=False)
        if not self.open_dialog(dialog):
            return
        if dialog.deleted:
            self.store.delete_appointment(appointment.id)
        else:
            self.store.update_appointment(dialog.appointment())
        self.changed()

    def create(self, start: datetime) -> Appointment | None:
        start = start.astimezone(self.tz)
        draft = Appointment(
            id=new_id(),
            contents="",
            start=start.astimezone(UTC),
            end=(start + timedelta(hours=1)).astimezone(UTC),
            timezone=getattr(self.tz, "key", "UTC"),
        )
        dialog = self.dialog_for(draft, is_new=True)
        if not self.open_dialog(dialog):
            return None
        saved = self.store.add_appointment(dialog.appointment())
        self.changed()
        return saved
