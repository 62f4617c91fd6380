"""The appointment dialog's Repeat row: none, daily, weekly (on chosen weekdays),
monthly or yearly, every N, ending never, on a date or after N occurrences.

It shows the rules it can show and keeps any other rule exactly as it came.
Choosing Weekly ticks the start's weekday; moving the start to another day
moves a lone tick with it (as Outlook and Google Calendar do).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from calsync_desktop.gui import formats
from calsync_desktop.gui.style import DateField
from calsync_desktop.words import noun

WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
FREQUENCIES = (
    ("", "Does not repeat", ""),
    ("DAILY", "Daily", "day"),
    ("WEEKLY", "Weekly", "week"),
    ("MONTHLY", "Monthly", "month"),
    ("YEARLY", "Yearly", "year"),
)
SIMPLE_KEYS = {"FREQ", "INTERVAL", "BYDAY", "COUNT", "UNTIL", "WKST"}


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


class RecurrenceEditor(QWidget):
    """None / daily / weekly / monthly / yearly, interval, weekdays and end.

    ``follow_start`` (on by default) lets the weekday follow the start: off for
    one occurrence of a series, whose repeat belongs to the whole series.
    """

    def __init__(self, parent: QWidget | None = None, first_weekday: int = 0):
        # a row of the dialog's form, labelled "Repeat" there
        super().__init__(parent)
        self.kept_rule: str | None = None
        self.initial_rule: str | None = None
        self.start_day: date | None = None
        self.follow_start = True
        self.frequency = QComboBox()
        for freq, label, _ in FREQUENCIES:
            self.frequency.addItem(label, freq)
        self.frequency.setAccessibleName("Repeat")
        self.every_label = QLabel("every")
        self.interval = QSpinBox()
        self.interval.setRange(1, 99)
        self.interval.setAccessibleName("Repeat every")
        self.unit = QLabel()
        short, long = formats.weekday_names(True), formats.weekday_names(False)
        order = [(first_weekday + i) % 7 for i in range(7)]
        self.weekdays = [QCheckBox(short[i]) for i in range(7)]  # Monday first, as WEEKDAYS
        for i, box in enumerate(self.weekdays):
            box.setAccessibleName(long[i])
            box.setObjectName(f"weekday-{WEEKDAYS[i]}")
        self.on_label = QLabel("On")
        self.never = QRadioButton("Never")
        self.on_date = QRadioButton("On")
        self.after = QRadioButton("After")
        for button, name in (
            (self.never, "Never ends"),
            (self.on_date, "Ends on a date"),
            (self.after, "Ends after a number of occurrences"),
        ):
            button.setAccessibleName(name)
        self.ends = QButtonGroup(self)
        for button in (self.never, self.on_date, self.after):
            self.ends.addButton(button)
        self.until = DateField()
        self.until.setCalendarPopup(True)
        self.until.setDisplayFormat(formats.date_edit_format())
        self.until.setAccessibleName("Last day")
        self.count = QSpinBox()
        self.count.setRange(1, 999)
        self.count.setAccessibleName("Number of occurrences")
        self.count_unit = QLabel()
        self.custom = QLabel()
        self.custom.setWordWrap(True)
        self.custom.hide()  # only for a rule this editor cannot show
        self.never.setChecked(True)

        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.frequency)
        top.addWidget(self.every_label)
        top.addWidget(self.interval)
        top.addWidget(self.unit)
        top.addStretch(1)
        self.days_row = QWidget()
        days = QHBoxLayout(self.days_row)
        days.setContentsMargins(0, 0, 0, 0)
        days.addWidget(self.on_label)
        for index in order:
            days.addWidget(self.weekdays[index])
        days.addStretch(1)
        # one line per way to end, so none of them is squeezed
        self.end_row = QWidget()
        end = QGridLayout(self.end_row)
        end.setContentsMargins(0, 0, 0, 0)
        end.addWidget(QLabel("Ends"), 0, 0)
        end.addWidget(self.never, 0, 1)
        end.addWidget(self.on_date, 1, 1)
        end.addWidget(self.until, 1, 2)
        end.addWidget(self.after, 2, 1)
        after = QHBoxLayout()
        after.setContentsMargins(0, 0, 0, 0)
        after.addWidget(self.count)
        after.addWidget(self.count_unit)
        after.addStretch(1)
        end.addLayout(after, 2, 2)
        end.setColumnStretch(3, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.days_row)
        layout.addWidget(self.end_row)
        layout.addWidget(self.custom)
        self.frequency.currentIndexChanged.connect(self._update)
        self.interval.valueChanged.connect(self._words)
        self.count.valueChanged.connect(self._words)
        self.until.dateChanged.connect(lambda *_: self.on_date.setChecked(True))
        self.count.valueChanged.connect(lambda *_: self.after.setChecked(True))
        self._update()

    def _words(self) -> None:
        unit = dict((f, u) for f, _, u in FREQUENCIES)[self.frequency.currentData()]
        self.unit.setText(noun(self.interval.value(), unit) if unit else "")
        self.count_unit.setText(noun(self.count.value(), "occurrence"))

    def _update(self) -> None:
        freq = self.frequency.currentData()
        repeating = bool(freq)
        if freq:
            self.kept_rule = None
            self.custom.hide()
        for widget in (self.every_label, self.interval, self.unit, self.end_row):
            widget.setVisible(repeating)
        self.days_row.setVisible(freq == "WEEKLY")
        loading = getattr(self, "_loading", False)
        if freq == "WEEKLY" and self.start_day is not None and not self.ticked() and not loading:
            # weekly starts on the start's weekday, as calendars do
            self.weekdays[self.start_day.weekday()].setChecked(True)
        self._words()

    def ticked(self) -> list[str]:
        return [c for c, b in zip(WEEKDAYS, self.weekdays, strict=True) if b.isChecked()]

    def start_moved(self, day: date) -> None:
        """The appointment's start moved to ``day``: a lone tick on the old start's
        weekday moves to the new one."""
        old, self.start_day = self.start_day, day
        if not self.follow_start or old is None or old.weekday() == day.weekday():
            return
        if self.ticked() == [WEEKDAYS[old.weekday()]]:
            self.weekdays[old.weekday()].setChecked(False)
            self.weekdays[day.weekday()].setChecked(True)

    def set_rule(self, rule: str | None, start: datetime) -> None:
        self.initial_rule = rule
        self.start_day = start.date()
        self.until.blockSignals(True)
        self.until.setDate(QDate(start.year, start.month, start.day).addMonths(3))
        self.until.blockSignals(False)
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
        days = parts.get("BYDAY", "").split(",")
        for code, box in zip(WEEKDAYS, self.weekdays, strict=True):
            box.setChecked(code in days)
        # showing a rule as it is: no weekday ticked for it (that would change it)
        self._loading = True
        self.frequency.setCurrentIndex([f for f, _, _ in FREQUENCIES].index(parts["FREQ"]))
        self._loading = False
        self.interval.setValue(int(parts.get("INTERVAL", 1)))
        for widget in (self.count, self.until):
            widget.blockSignals(True)
        if "COUNT" in parts:
            self.after.setChecked(True)
            self.count.setValue(int(parts["COUNT"]))
        elif "UNTIL" in parts:
            self.on_date.setChecked(True)
            value = parts["UNTIL"][:8]
            self.until.setDate(QDate(int(value[:4]), int(value[4:6]), int(value[6:8])))
        for widget in (self.count, self.until):
            widget.blockSignals(False)
        self._words()

    def rule(self, start: datetime, tz: ZoneInfo) -> str | None:
        """The RRULE for the editor's state (None: does not repeat)."""
        freq = self.frequency.currentData()
        if not freq:
            return self.kept_rule
        until = None
        if self.on_date.isChecked():
            d = self.until.date()
            until = datetime.combine(
                date(d.year(), d.month(), d.day()), time(23, 59, 59), tzinfo=tz
            )
        count = self.count.value() if self.after.isChecked() else None
        rule = build_rule(freq, self.interval.value(), self.ticked(), count, until)
        # the rule as it came, when the controls still show it: rebuilding it
        # (an end time at 23:59:59, INTERVAL=1 left out) would make it another
        # rule, and a new rule drops the series' deleted and changed occurrences
        if self.initial_rule and same_repeat(rule, self.initial_rule):
            return self.initial_rule
        return rule
