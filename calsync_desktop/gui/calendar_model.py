"""The Qt model behind the Sales Calendar views.

The model asks a :class:`CalendarSource` (the store, in the app) for the
occurrences of the visible range; the views only ever read the model. It is
also the one place that decides what a private appointment may show: for a
private row every text role answers "Private appointment" and the time, never
contents, location or participants.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import IntEnum
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QColor

PRIVATE_TEXT = "Private appointment"
PRIVATE_FILL = QColor("#4d4d4d")
"""The dark grey of a private appointment box (the article's "darker grey box")."""
PRIVATE_BORDER = QColor("#2e2e2e")
LOCAL_COLOUR = QColor("#6a5acd")
"""Appointments not linked to any account."""
ACCOUNT_COLOURS = tuple(
    QColor(c) for c in ("#3584e4", "#2ec27e", "#e66100", "#c061cb", "#e01b24", "#1c71d8", "#986a44")
)
COLOURS_SETTING = "app.account_colours"
"""{account id: index into ACCOUNT_COLOURS}: an account keeps its colour when
others are added, renamed or removed."""


def assign_colours(account_ids: Sequence[str], saved: dict[str, int]) -> dict[str, int]:
    """Colour indexes for ``account_ids``: the saved ones kept, each new account
    the first colour no other account uses (colours repeat past the palette)."""
    result = {a: saved[a] for a in account_ids if isinstance(saved.get(a), int)}
    for account_id in account_ids:
        if account_id in result:
            continue
        used = set(result.values())
        free = [i for i in range(len(ACCOUNT_COLOURS)) if i not in used]
        result[account_id] = free[0] if free else len(result) % len(ACCOUNT_COLOURS)
    return result


class CalendarSource(Protocol):
    """What the model reads: the store's public API (never SQL)."""

    def occurrences_between(self, start: datetime, end: datetime) -> list: ...

    def list_accounts(self) -> list: ...

    def change_seq(self) -> int: ...


class Roles(IntEnum):
    """The model's own data roles, beside Qt's display, tooltip and accessible text."""

    OCCURRENCE = Qt.ItemDataRole.UserRole + 1
    PRIVATE = Qt.ItemDataRole.UserRole + 2
    COLOUR = Qt.ItemDataRole.UserRole + 3
    START = Qt.ItemDataRole.UserRole + 4
    END = Qt.ItemDataRole.UserRole + 5
    ALL_DAY = Qt.ItemDataRole.UserRole + 6
    TIME_TEXT = Qt.ItemDataRole.UserRole + 7
    ACCOUNT_NAME = Qt.ItemDataRole.UserRole + 8


@dataclass(frozen=True, slots=True)
class Row:
    """One occurrence as the views see it, its times in the display zone."""

    occurrence: Any
    start: datetime
    end: datetime
    private: bool
    all_day: bool
    colour: QColor
    account_name: str

    @property
    def appointment(self):
        return self.occurrence.appointment


def time_range_text(start: datetime, end: datetime, all_day: bool) -> str:
    if all_day:
        return "All day"
    if start.date() == end.date() or end - start <= timedelta(0):
        return f"{start:%H:%M}–{end:%H:%M}"
    return f"{start:%a %d %b %H:%M} – {end:%a %d %b %H:%M}"


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """Midnight at the start of ``day`` in ``tz`` (as an aware datetime)."""
    return datetime.combine(day, time(0), tzinfo=tz)


class CalendarModel(QAbstractListModel):
    """The occurrences of one date range, in display time zone ``tz``.

    ``refresh()`` reloads from the source; the model also polls the source's
    change counter (cheap) so edits made by the sync worker show up on their
    own. Emits ``rangeChanged`` after :meth:`set_range`.
    """

    rangeChanged = Signal()

    def __init__(
        self,
        source: CalendarSource,
        tz: ZoneInfo,
        parent: QObject | None = None,
        poll_ms: int = 2000,
    ):
        super().__init__(parent)
        self.source = source
        self.tz = tz
        self.first_day = date.today()
        self.days = 7
        self._rows: list[Row] = []
        self._seq: int | None = None
        self._colours: dict[str | None, tuple[QColor, str]] = {}
        self._poll = QTimer(self)
        self._poll.setInterval(max(poll_ms, 0))
        self._poll.timeout.connect(self.refresh_if_changed)
        if poll_ms > 0:
            self._poll.start()

    def stop_polling(self) -> None:
        self._poll.stop()

    def start_polling(self) -> None:
        if self._poll.interval() > 0:
            self._poll.start()

    # ---------------------------------------------------------------- range

    @property
    def range_start(self) -> datetime:
        return local_midnight(self.first_day, self.tz)

    @property
    def range_end(self) -> datetime:
        return local_midnight(self.first_day + timedelta(days=self.days), self.tz)

    def set_range(self, first_day: date, days: int) -> None:
        self.first_day = first_day
        self.days = days
        self.refresh()
        self.rangeChanged.emit()

    # ---------------------------------------------------------------- loading

    def _account_colours(self) -> None:
        self._colours = {None: (LOCAL_COLOUR, "Sales Calendar")}
        accounts = self.source.list_accounts()
        get = getattr(self.source, "get_setting", None)
        saved = (get(COLOURS_SETTING, None) or {}) if get else {}
        indexes = assign_colours([a.id for a in accounts], saved)
        if get and indexes != saved:
            self.source.set_setting(COLOURS_SETTING, indexes)
        for account in accounts:
            colour = ACCOUNT_COLOURS[indexes[account.id] % len(ACCOUNT_COLOURS)]
            self._colours[account.id] = (colour, account.name or account.email)

    def account_colour(self, account_id: str | None) -> QColor:
        return self._colours.get(account_id, (LOCAL_COLOUR, ""))[0]

    def refresh(self) -> None:
        """Reload the visible range from the source."""
        self._seq = self.source.change_seq()
        self._account_colours()
        occurrences = self.source.occurrences_between(self.range_start, self.range_end)
        rows = []
        for occ in occurrences:
            appt = occ.appointment
            colour, account_name = self._colours.get(appt.account_id, (LOCAL_COLOUR, ""))
            rows.append(
                Row(
                    occurrence=occ,
                    start=occ.start.astimezone(self.tz),
                    end=occ.end.astimezone(self.tz),
                    private=appt.private,
                    all_day=appt.all_day,
                    colour=colour,
                    account_name=account_name,
                )
            )
        self.beginResetModel()
        self._rows = rows
        self.endResetModel()

    def refresh_if_changed(self) -> None:
        if self.source.change_seq() != self._seq:
            self.refresh()

    def set_rows_for_test(self, rows: Sequence[Row]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    # ---------------------------------------------------------------- model API

    def rows(self) -> list[Row]:
        return self._rows

    def row(self, index: int) -> Row:
        return self._rows[index]

    def rowCount(self, parent: QModelIndex | None = None) -> int:
        if parent is not None and parent.isValid():
            return 0
        return len(self._rows)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        return self.row_data(self._rows[index.row()], role)

    @staticmethod
    def row_data(row: Row, role: int) -> Any:
        """Every role of one row; private rows never give their text away."""
        when = time_range_text(row.start, row.end, row.all_day)
        occ = row.occurrence
        if role == Qt.ItemDataRole.DisplayRole:
            return PRIVATE_TEXT if row.private else (occ.contents.split("\n", 1)[0] or "(no title)")
        if role in (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.AccessibleTextRole):
            if row.private:
                return f"{PRIVATE_TEXT}, {when}"
            parts = [occ.contents.split("\n", 1)[0] or "(no title)", when]
            if occ.location:
                parts.append(occ.location)
            if row.account_name:
                parts.append(row.account_name)
            return "\n".join(parts) if role == Qt.ItemDataRole.ToolTipRole else ", ".join(parts)
        if role == Roles.OCCURRENCE:
            return occ
        if role == Roles.PRIVATE:
            return row.private
        if role == Roles.COLOUR:
            return PRIVATE_FILL if row.private else row.colour
        if role == Roles.START:
            return row.start
        if role == Roles.END:
            return row.end
        if role == Roles.ALL_DAY:
            return row.all_day
        if role == Roles.TIME_TEXT:
            return when
        if role == Roles.ACCOUNT_NAME:
            return row.account_name
        return None

    def index_of_row(self, row: Row) -> QModelIndex:
        return self.index(self._rows.index(row), 0)


ClockFn = Callable[[], datetime]
