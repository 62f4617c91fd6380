"""The Qt model behind the Sales Calendar views.

The model asks a :class:`CalendarSource` (the store, in the app) for the
occurrences of the visible range; the views only ever read the model. It is
also the one place that decides what a private appointment may show: for a
private row every text role answers "Private appointment" and the time, never
contents, location or participants.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from enum import IntEnum
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QColor

from calsync_desktop import meetings
from calsync_desktop.gui import formats
from calsync_desktop.gui.calendar_list import (
    AccountsSection,
    CalendarList,
    account_key,
)
from calsync_desktop.model import MyResponse, ShowAs, occurrences
from calsync_desktop.store import StoreUnavailable

PRIVATE_TEXT = "Private appointment"
PRIVATE_FILL = QColor("#4d4d4d")
"""The dark grey of a private appointment box (the article's "darker grey box")."""
PRIVATE_BORDER = QColor("#2e2e2e")
PRIVATE_TEXT_COLOUR = QColor("#f6f5f4")
"""The time on a private box: light on the dark grey."""


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
    EDGE = Qt.ItemDataRole.UserRole + 9
    """The calendar's own colour, also for a private box (its edge)."""
    CALENDAR_KEY = Qt.ItemDataRole.UserRole + 10
    READ_ONLY = Qt.ItemDataRole.UserRole + 11
    MEMBERS = Qt.ItemDataRole.UserRole + 12
    """((name, colour), …) of the members a meeting is in, when more than one."""


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
    key: str = ""
    """The calendar list entry it belongs to (see :mod:`calendar_list`)."""
    read_only: bool = False
    """A colleague's (or, in the preview, one's own as colleagues see it): it
    opens read-only."""
    members: tuple[tuple[str, QColor], ...] = ()
    """A meeting in several members' calendars (one iCalUID), drawn once: the
    name and colour of each member it is in ("You" for oneself)."""

    @property
    def appointment(self):
        return self.occurrence.appointment


def time_range_text(start: datetime, end: datetime, all_day: bool) -> str:
    """ "09:00–10:30" in the locale's clock; "All day"; dates when it spans days."""
    if all_day:
        return "All day"
    return formats.time_range_text(start, end)


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """Midnight at the start of ``day`` in ``tz`` (as an aware datetime)."""
    return datetime.combine(day, time(0), tzinfo=tz)


def as_colleagues_see_it(appointment):
    """One's own private appointment as the team view gives it to colleagues:
    its times and show-as and nothing of its contents, location, participants,
    join link or organiser (the database's rule, for the preview)."""
    recurrence = appointment.recurrence
    if recurrence is not None and recurrence.overrides:
        recurrence = replace(
            recurrence,
            overrides=tuple(replace(o, contents="", location="") for o in recurrence.overrides),
        )
    return appointment.with_changes(
        contents="",
        location="",
        participants=(),
        recurrence=recurrence,
        join_url="",
        organizer=None,
        my_response=MyResponse.NONE,
    )


class CalendarModel(QAbstractListModel):
    """The occurrences of one date range, in display time zone ``tz``.

    ``refresh()`` reloads from the source; the model also polls the source's
    change counter (cheap) so edits made by the sync worker show up on their
    own. Emits ``rangeChanged`` after :meth:`set_range`, and
    ``availabilityChanged(problem)`` when the team server stops or starts
    answering.

    ``calendars`` (the calendar list) names each occurrence's calendar, gives
    its colour and says whether it is shown; without one the model makes
    its own with the user's accounts.
    """

    rangeChanged = Signal()
    availabilityChanged = Signal(str)

    def __init__(
        self,
        source: CalendarSource,
        tz: ZoneInfo,
        parent: QObject | None = None,
        poll_ms: int = 2000,
        calendars: CalendarList | None = None,
    ):
        super().__init__(parent)
        self.source = source
        self.tz = tz
        self.first_day = date.today()
        self.days = 7
        self._rows: list[Row] = []
        self._seq: object = None
        self.preview = False
        self.hide_declined = False
        """Settings › Calendar › "Hide declined meetings" (they show struck through)."""
        self.offline = ""
        """Why the Sales Calendar cannot be read or saved now ("" when it can)."""
        self.explain: Callable[[BaseException], str] = str
        """Puts a lost Sales Calendar's error in words (the team window's)."""
        self.calendars = calendars or CalendarList(source, [AccountsSection(source)], parent=self)
        self.calendars.visibilityChanged.connect(self.refresh)
        self.calendars.entriesChanged.connect(self.refresh)
        self._poll = QTimer(self)
        self._poll.setInterval(max(poll_ms, 0))
        self._poll.timeout.connect(self.refresh_if_changed)
        if poll_ms > 0:
            self._poll.start()

    def use_source(self, source: CalendarSource) -> None:
        """Show another Sales Calendar (the app switched to a team server, or back)."""
        self.source = source
        self._seq = None
        self.refresh()

    def poll_interval(self) -> int:
        return self._poll.interval()

    def set_poll_interval(self, ms: int) -> None:
        """How often the change counter is polled (the fallback when change
        notifications arrive; the only way when they do not)."""
        self._poll.setInterval(max(ms, 0))

    def polling(self) -> bool:
        return self._poll.isActive()

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

    def account_colour(self, account_id: str | None) -> QColor:
        """The colour of an account's appointments (the calendar list's)."""
        return self.calendars.colour(account_key(account_id) if account_id else "local")

    @property
    def is_team(self) -> bool:
        return bool(getattr(self.source, "is_team", False))

    def change_token(self):
        """What changes whenever an appointment shown here may have: one's own
        change counter, on a team server everyone's (one cheap query)."""
        return self.source.team_change_token() if self.is_team else self.source.change_seq()

    def set_preview(self, preview: bool) -> None:
        """ "Preview as a colleague": one's own week only, as colleagues see it
        (private appointments the grey box, nothing opens for editing)."""
        if preview != self.preview:
            self.preview = preview
            self.refresh()

    def set_hide_declined(self, hide: bool) -> None:
        """Hide the meetings the user declined, or show them struck through."""
        if hide != self.hide_declined:
            self.hide_declined = hide
            self.refresh()

    def refresh(self) -> None:
        """Reload the visible range from the source. When the team server cannot
        be reached, the rows stay as last loaded and ``availabilityChanged``
        says why (then "" once it answers again)."""
        try:
            self._seq = self.change_token()
            if self.calendars.refresh_if_changed():
                self._available("")
                return  # the list's entriesChanged has reloaded the rows with the new colours
            rows = self._rows_of(self._items())
        except StoreUnavailable as exc:
            self._available(self.explain(exc))
            return
        self.beginResetModel()
        self._rows = rows
        self.endResetModel()
        self._available("")

    def _available(self, problem: str) -> None:
        if problem != self.offline:
            self.offline = problem
            self.availabilityChanged.emit(problem)

    def _items(self) -> list[tuple[Any, str, bool]]:
        """(occurrence, calendar key, a colleague's) of the visible range, by start."""
        start, end = self.range_start, self.range_end
        calendars = self.calendars
        hide = self.hide_declined
        if not self.is_team:
            return [
                (occ, calendars.key_for(occ.appointment), False)
                for occ in self.source.occurrences_between(start, end)
                if meetings.shown(occ.appointment, hide)
            ]
        items = []
        for shown in self.source.team_appointments_between(start, end):
            key = calendars.key_for(shown.appointment if shown.mine else shown)
            appointment = shown.appointment
            # a colleague's declined meeting is not their busy time: it is not shown
            if not meetings.shown(appointment, hide or not shown.mine):
                continue
            if self.preview and appointment.private:
                appointment = as_colleagues_see_it(appointment)
            items.extend((o, key, not shown.mine) for o in occurrences(appointment, start, end))
        items.sort(key=lambda item: (item[0].start, item[0].end))
        return items

    def _rows_of(self, items: list[tuple[Any, str, bool]]) -> list[Row]:
        """One row per occurrence; a meeting in several members' calendars (the
        same iCalUID at the same time) once, one's own copy first."""
        calendars = self.calendars
        groups: dict[object, list[tuple[Any, str, bool]]] = {}
        for item in items:
            uid = item[0].appointment.ical_uid
            together = (uid, item[0].start, item[0].end) if uid and self.is_team else id(item[0])
            groups.setdefault(together, []).append(item)
        rows = []
        for group in groups.values():
            # the preview draws one's own only (with a meeting's other members marked)
            shown = sorted(
                (i for i in group if calendars.is_visible(i[1]) and not (self.preview and i[2])),
                key=lambda i: i[2],
            )
            if not shown:
                continue
            occ, key, colleague = shown[0]
            members: dict[str, QColor] = {}
            for _, k, other in group:
                members.setdefault(calendars.name(k) if other else "You", calendars.colour(k))
            rows.append(
                Row(
                    occurrence=occ,
                    start=occ.start.astimezone(self.tz),
                    end=occ.end.astimezone(self.tz),
                    private=occ.appointment.private,
                    all_day=occ.appointment.all_day,
                    colour=calendars.colour(key),
                    account_name=calendars.name(key),
                    key=key,
                    read_only=colleague or self.preview,
                    members=tuple(members.items()) if len(members) > 1 else (),
                )
            )
        return rows

    def row_for(self, occurrence) -> Row | None:
        """The row showing ``occurrence`` (the object the views handed out)."""
        return next((r for r in self._rows if r.occurrence is occurrence), None)

    def refresh_if_changed(self) -> None:
        try:
            changed = self.change_token() != self._seq
        except StoreUnavailable as exc:
            self._available(self.explain(exc))
            return
        if changed or self.offline:
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
            # how it shows the time, when not plainly busy (colleagues see that too)
            shows = occ.appointment.show_as
            when_shown = when if shows is ShowAs.BUSY else f"{when} ({shows.label.lower()})"
            if row.private:
                # the time and whose calendar it is; never what it is about
                whose = [row.account_name] if row.account_name else []
                parts = [PRIVATE_TEXT, when_shown, *whose]
                return "\n".join(parts) if role == Qt.ItemDataRole.ToolTipRole else ", ".join(parts)
            parts = [occ.contents.split("\n", 1)[0] or "(no title)", when_shown]
            if occ.location:
                parts.append(occ.location)
            if meetings.declined(occ.appointment):
                parts.append("You declined this meeting")  # struck through is not enough
            if row.members:
                parts.append("In the calendars of " + ", ".join(n for n, _ in row.members))
            elif row.account_name:
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
        if role == Roles.EDGE:
            return row.colour
        if role == Roles.CALENDAR_KEY:
            return row.key
        if role == Roles.READ_ONLY:
            return row.read_only
        if role == Roles.MEMBERS:
            return row.members
        return None

    def index_of_row(self, row: Row) -> QModelIndex:
        return self.index(self._rows.index(row), 0)


ClockFn = Callable[[], datetime]
