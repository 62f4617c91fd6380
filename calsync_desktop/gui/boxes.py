"""Appointment boxes: where they go on a day, and how they are drawn.

Shared by the day, week and month views. Private appointments are a dark
grey box with the eye, their time and their calendar's colour as the edge:
never their contents, location or participants.

Show-as (SPEC §10): a free appointment is a pale box with a dashed outline, a
tentative one pale and hatched, out of office purple, the rest (busy, working
elsewhere) in the calendar's colour; a private box is a lighter grey when free
or tentative. An online meeting that can be joined now (from ten minutes
before its start) carries a "Join" button at its top right; a private box
never does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from PySide6.QtCore import QEvent, QPointF, QRect, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetrics, QPainter, QPen
from PySide6.QtWidgets import QToolTip

from calsync_desktop import meetings
from calsync_desktop.gui.calendar_model import (
    PRIVATE_BORDER,
    PRIVATE_FILL,
    PRIVATE_TEXT_COLOUR,
    CalendarModel,
    Roles,
    Row,
)
from calsync_desktop.gui.icons import icon
from calsync_desktop.model import ShowAs, can_join

GUTTER = 56
"""Narrowest the hour labels column gets (the locale's clock may need more)."""
MIN_ITEM_MINUTES = 22
"""Shortest height an appointment box gets, so a 5-minute call is still clickable."""
SLOT_MINUTES = 30
DAY_START_HOUR = 8
"""The working day starts here unless Settings say otherwise; the day and week
views open at it, or at the week's first appointment when that is earlier."""
DAY_END_HOUR = 17
GRID_LINE = QColor("#dedede")
HALF_LINE = QColor("#efefef")
NOW_LINE = QColor("#e01b24")
TODAY_TINT = QColor(53, 132, 228, 18)
WEEKEND_TINT = QColor("#f7f7f6")
SELECTED = QColor("#1a5fb4")
TEXT = QColor("#1e1e1e")
OUT_OF_OFFICE = QColor("#813d9c")
"""Out of office: purple, as calendar apps draw it, whatever the calendar's colour."""
PRIVATE_LIGHT_FILL = QColor("#707070")
"""A private appointment shown as free or tentative: a lighter grey (the light
time text stays readable on it)."""
JOIN_FILL = QColor("#26a269")
LIGHT = (ShowAs.FREE, ShowAs.TENTATIVE)


@dataclass(slots=True)
class Placed:
    """An appointment's box on screen (one per day it covers)."""

    row_index: int
    rect: QRectF


def day_segments(row: Row, first_day: date, days: int) -> list[tuple[int, int, int]]:
    """(day index, start minute, end minute) for each visible day the row covers,
    in wall-clock minutes of the display zone."""
    out = []
    for d in range(days):
        day = first_day + timedelta(days=d)
        if row.start.date() > day or row.end.date() < day:
            continue
        start = row.start.hour * 60 + row.start.minute if row.start.date() == day else 0
        end = row.end.hour * 60 + row.end.minute if row.end.date() == day else 24 * 60
        if row.end.date() == day and row.start.date() < day and end == 0:
            continue  # ends exactly at midnight: nothing of it on this day
        out.append((d, start, max(end, start)))
    return out


def side_by_side(items: list[tuple[int, int, int]]) -> dict[int, tuple[int, int]]:
    """Columns for overlapping boxes of one day: {key: (column, columns)}.

    ``items`` are (key, start, end) minutes. Boxes that overlap, directly or
    through others, form a cluster sharing the day's width.
    """
    result: dict[int, tuple[int, int]] = {}
    cluster: list[tuple[int, int]] = []  # (key, column)
    column_ends: list[int] = []
    cluster_end = -1

    def close() -> None:
        for key, column in cluster:
            result[key] = (column, len(column_ends))

    for key, start, end in sorted(items, key=lambda i: (i[1], -i[2])):
        end = max(end, start + MIN_ITEM_MINUTES)
        if cluster and start >= cluster_end:
            close()
            cluster, column_ends, cluster_end = [], [], -1
        for column, column_end in enumerate(column_ends):
            if column_end <= start:
                column_ends[column] = end
                break
        else:
            column = len(column_ends)
            column_ends.append(end)
        cluster.append((key, column))
        cluster_end = max(cluster_end, end)
    if cluster:
        close()
    return result


def blend_on_white(colour: QColor, alpha: int = 60) -> QColor:
    """The opaque colour of ``colour`` at ``alpha`` over white (one fill instead of two)."""
    a = alpha / 255
    return QColor(
        round(colour.red() * a + 255 * (1 - a)),
        round(colour.green() * a + 255 * (1 - a)),
        round(colour.blue() * a + 255 * (1 - a)),
    )


def _elide(cache: dict, metrics: QFontMetrics, text: str, width: int, bold: bool) -> str:
    key = (text, width, bold)
    found = cache.get(key)
    if found is None:
        if len(cache) > 5000:
            cache.clear()
        found = cache[key] = metrics.elidedText(text, Qt.TextElideMode.ElideRight, width)
    return found


def _wrap(cache: dict, metrics: QFontMetrics, text: str, width: int, lines: int) -> tuple[str, ...]:
    """``text`` broken at spaces into at most ``lines`` lines of ``width``; the
    last one elided if the text does not fit. Cached like :func:`_elide`."""
    key = ("wrap", text, width, lines)
    found = cache.get(key)
    if found is not None:
        return found
    out: list[str] = []
    rest = text.split()
    while rest and len(out) < lines:
        line = rest.pop(0)
        while rest and metrics.horizontalAdvance(f"{line} {rest[0]}") <= width:
            line = f"{line} {rest.pop(0)}"
        out.append(line)
    if rest:
        out[-1] = " ".join([out[-1], *rest])
    out = [metrics.elidedText(line, Qt.TextElideMode.ElideRight, width) for line in out]
    if len(cache) > 5000:
        cache.clear()
    found = cache[key] = tuple(out) or ("",)
    return found


class AppointmentTooltips:
    """Shows ``tooltip_for(point)`` as the tooltip of a calendar widget
    (a mixin for QWidget subclasses that define ``tooltip_for``)."""

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            text = self.tooltip_for(QPointF(event.pos()))
            if text:
                QToolTip.showText(event.globalPos(), text, self)
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().event(event)


def paint_placed(painter: QPainter, font: QFont, placed, model, elided, chips=None) -> None:
    """Draw every laid-out appointment box of a view. ``chips`` maps the index
    in ``placed`` of each box showing "Join" now to where that button goes: the
    box's text keeps clear of it."""
    normal = QFont(font)
    bold = QFont(normal)
    bold.setBold(True)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
    rows = model.rows()
    chips = chips or {}
    for n, item in enumerate(placed):
        paint_box(
            painter,
            item.rect,
            model,
            rows[item.row_index],
            False,
            (normal, bold),
            elided,
            chips.get(n),
        )


def paint_box(
    painter: QPainter,
    rect: QRectF,
    model: CalendarModel,
    row: Row,
    selected: bool,
    fonts: tuple[QFont, QFont] | None = None,
    elided: dict | None = None,
    chip: QRectF | None = None,
) -> None:
    """One appointment box. Private: dark grey with the eye and no text at all.

    Drawn with plain fills and clipped text: a week of 500 boxes must redraw
    within a frame. ``fonts`` is (normal, bold), made once by the caller;
    ``elided`` caches shortened texts between redraws; ``chip`` is where its
    "Join" button goes, when it has one now: a line of text beside it ends
    before it.
    """
    if row.private:
        paint_private(painter, rect, model, row, fonts)
    else:
        colour: QColor = row.colour
        # a declined meeting stays, paler and struck through (SPEC §10)
        declined = meetings.declined(row.occurrence.appointment)
        if declined:
            painter.fillRect(rect, blend_on_white(colour, DECLINED_ALPHA))
        else:
            paint_fill(painter, rect, colour, row.appointment.show_as)
        painter.fillRect(QRectF(rect.left(), rect.top(), 3, rect.height()), colour)
        marks = paint_members(painter, rect, row.members)
        text_rect = rect.adjusted(6, 1, -3 - marks, -1)
        if text_rect.height() >= 8 and text_rect.width() >= 10:
            if fonts is None:
                normal = QFont(painter.font())
                bold = QFont(normal)
                bold.setBold(True)
            else:
                normal, bold = fonts
            if declined:
                normal, bold = QFont(normal), QFont(bold)
                normal.setStrikeOut(True)
                bold.setStrikeOut(True)
            elide = elided or {}
            width = int(text_rect.width())
            painter.setPen(TEXT)
            painter.setClipRect(rect)
            painter.setFont(bold)
            metrics = painter.fontMetrics()
            line_h = metrics.height()
            if text_rect.height() < line_h + 2:
                # a short box: one line, centred, so the text is not cut off
                y = rect.center().y() + (metrics.ascent() - metrics.descent()) / 2
            else:
                y = text_rect.top() + 1 + metrics.ascent()
            title = model.row_data(row, Qt.ItemDataRole.DisplayRole)

            def width_at(baseline: float) -> int:
                """The line's width: narrower where it runs beside the Join button."""
                if chip is None:
                    return width
                top, bottom = baseline - metrics.ascent(), baseline + metrics.descent()
                if bottom < chip.top() or top > chip.bottom():
                    return width
                return max(10, int(chip.left() - 4 - text_rect.left()))

            # the title takes the lines the time and location do not need, so a
            # long title in a tall or narrow box wraps instead of being cut short
            room = max(1, int((text_rect.height() - 1) // line_h))
            extras = []
            if rect.height() >= 34:
                when = model.row_data(row, Roles.TIME_TEXT)
                if metrics.horizontalAdvance(when) > width:
                    when = when.split("–")[0]  # a narrow box: the start time only
                extras.append(when)
            shows = row.appointment.show_as
            if shows in (ShowAs.OUT_OF_OFFICE, ShowAs.WORKING_ELSEWHERE) and rect.height() >= 50:
                extras.append(shows.label)  # in words too, whatever the calendar's colour
            if row.occurrence.location and rect.height() >= 50:
                extras.append(row.occurrence.location)
            title_lines_room = max(1, room - len(extras))
            title_width = min(width_at(y + n * line_h) for n in range(title_lines_room))
            title_lines = _wrap(elide, metrics, title, title_width, title_lines_room)
            for n, line in enumerate(title_lines):
                painter.drawText(QPointF(text_rect.left(), y + n * line_h), line)
            y += (len(title_lines) - 1) * line_h
            painter.setFont(normal)
            metrics = painter.fontMetrics()
            for line in extras:
                y += line_h
                if y + metrics.descent() > text_rect.bottom() + 1:
                    break
                painter.drawText(
                    QPointF(text_rect.left(), y),
                    _elide(elide, metrics, line, width_at(y), False),
                )
            painter.setClipping(False)
    if selected:
        draw_selection(painter, rect, row.private)


DECLINED_ALPHA = 25
"""How much of its calendar's colour a declined meeting's box keeps (60 normally)."""

MEMBER_DOT = 9
"""The diameter of one attending member's dot on a meeting box."""


def member_dots(rect: QRectF, members) -> list[tuple[QRectF, QColor]]:
    """Where the attending members' dots go on a meeting's box: in a row at its
    bottom right when the box is tall enough to keep them off the title, else
    at its top right (the title then ends before them)."""
    if not members or rect.width() < 40 or rect.height() < MEMBER_DOT + 2:
        return []
    step = MEMBER_DOT + 2
    shown = members[: max(1, int((rect.width() - 30) // step))]
    top = rect.bottom() - 3 - MEMBER_DOT if rect.height() >= 34 else rect.top() + 3
    right = rect.right() - 3
    return [
        (QRectF(right - MEMBER_DOT - n * step, top, MEMBER_DOT, MEMBER_DOT), colour)
        for n, (_, colour) in enumerate(reversed(shown))
    ]


def paint_members(painter: QPainter, rect: QRectF, members) -> float:
    """A meeting in several members' calendars: one dot in each member's colour,
    white-ringed so neighbours stay apart. Returns the width the title must
    leave them (0 when they sit below it, or there are none)."""
    dots = member_dots(rect, members)
    if not dots:
        return 0.0
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setPen(QPen(QColor("#ffffff"), 1.5))
    for dot, colour in dots:
        painter.setBrush(colour)
        painter.drawEllipse(dot)
    painter.restore()
    below = dots[0][0].top() > rect.top() + 3
    return 0.0 if below else float(len(dots) * (MEMBER_DOT + 2))


def paint_fill(painter: QPainter, rect: QRectF, colour: QColor, show_as: ShowAs) -> None:
    """A box's background as its show-as says (see the module docstring)."""
    if show_as is ShowAs.OUT_OF_OFFICE:
        painter.fillRect(rect, blend_on_white(OUT_OF_OFFICE, 70))
        return
    if show_as not in LIGHT:
        painter.fillRect(rect, blend_on_white(colour))
        return
    painter.fillRect(rect, blend_on_white(colour, 22))
    if show_as is ShowAs.TENTATIVE:
        painter.fillRect(rect, QBrush(blend_on_white(colour, 75), Qt.BrushStyle.BDiagPattern))
    else:
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(QPen(blend_on_white(colour, 170), 1, Qt.PenStyle.DashLine))
        painter.drawRect(rect.adjusted(0.5, 0.5, -0.5, -0.5))


def join_rect(rect: QRectF, metrics: QFontMetrics) -> QRectF | None:
    """Where a box's "Join" button goes: its bottom right, below the title and
    time, in a box tall enough; else its top right. None when the box is too
    small to hold one."""
    width = metrics.horizontalAdvance("Join") + 12
    height = metrics.height() + 2
    if rect.width() < width + 12 or rect.height() < height + 2:
        return None
    top = rect.bottom() - height - 2 if rect.height() >= 3.5 * height else rect.top() + 2
    return QRectF(rect.right() - width - 2, top, width, height)


def line_join_rect(rect: QRectF, metrics: QFontMetrics) -> QRectF | None:
    """Where the "Join" button goes on a one-line entry (the month view's): its
    right end, the line's height. None when the line is too short to keep
    some of its title beside one."""
    width = metrics.horizontalAdvance("Join") + 8
    if rect.width() < width + 40:
        return None
    return QRectF(rect.right() - width, rect.top(), width, rect.height())


def joinable(row: Row, now: datetime) -> str:
    """The link a box's "Join" button opens now, or "" (never on a private box)."""
    if row.private:
        return ""
    url = row.appointment.join_url
    return url if can_join(url, row.occurrence.start, row.occurrence.end, now) else ""


def paint_join(painter: QPainter, rect: QRectF, metrics: QFontMetrics) -> None:
    """The "Join" button on a box, at :func:`join_rect`."""
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(JOIN_FILL)
    painter.drawRoundedRect(rect, 3, 3)
    painter.setPen(QColor("#ffffff"))
    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, "Join")


def paint_private(
    painter: QPainter,
    rect: QRectF,
    model: CalendarModel,
    row: Row,
    fonts: tuple[QFont, QFont] | None = None,
) -> None:
    """A private box: dark grey, its calendar's colour as the left edge, the eye
    and the time. Nothing of what it is about."""
    painter.fillRect(rect, PRIVATE_BORDER)
    light = row.appointment.show_as in LIGHT
    painter.fillRect(rect.adjusted(1, 1, -1, -1), PRIVATE_LIGHT_FILL if light else PRIVATE_FILL)
    painter.fillRect(QRectF(rect.left(), rect.top(), 3, rect.height()), row.colour)
    side = int(min(16, rect.height() - 4, rect.width() - 8))
    if side < 8:
        return
    top = rect.top() + 2 if rect.height() >= 20 else rect.center().y() - side / 2
    eye = QRect(int(rect.left()) + 6, int(top), side, side)
    icon("eye").paint(painter, eye)
    font = QFont(fonts[0]) if fonts else QFont(painter.font())
    painter.setFont(font)
    metrics = painter.fontMetrics()
    when = model.row_data(row, Roles.TIME_TEXT)
    left = eye.right() + 5
    width = int(rect.right() - 3 - left)
    if metrics.horizontalAdvance(when) > width:
        when = when.split("–")[0]  # a narrow box: the start time only
    if metrics.horizontalAdvance(when) > width:
        if rect.height() < side + metrics.height() + 4:
            return
        # too narrow beside the eye: below it
        left, width = rect.left() + 6, int(rect.width() - 9)
        baseline = eye.bottom() + 2 + metrics.ascent()
    else:
        baseline = eye.center().y() + (metrics.ascent() - metrics.descent()) / 2 + 1
    painter.setPen(PRIVATE_TEXT_COLOUR)
    painter.setClipRect(rect)
    painter.drawText(
        QPointF(left, baseline), metrics.elidedText(when, Qt.TextElideMode.ElideRight, width)
    )
    painter.setClipping(False)


def draw_selection(painter: QPainter, rect: QRectF, private: bool) -> None:
    """The selection ring; on a private box's dark grey a blue ring alone would
    hardly show, so it gets a white inner line too."""
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.setPen(QPen(SELECTED, 2))
    painter.drawRoundedRect(rect.adjusted(1, 1, -1, -1), 3, 3)
    if private:
        painter.setPen(QPen(QColor("#ffffff"), 1))
        painter.drawRoundedRect(rect.adjusted(2.5, 2.5, -2.5, -2.5), 2, 2)


class ItemsMixin:
    """Hit testing, tooltips and selection shared by the views' canvases."""

    _stale = True

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._stale:
            self.relayout()

    model: CalendarModel
    placed: list[Placed]
    selected_row: int | None

    def defer_while_hidden(self) -> bool:
        """True (and laid out when shown) while hidden: hidden views cost nothing."""
        self._stale = not self.isVisible()
        return self._stale

    def join_chip(self, rect: QRectF, metrics: QFontMetrics) -> QRectF | None:
        """Where a placed item's "Join" button goes (a box's, :func:`join_rect`)."""
        return join_rect(rect, metrics)

    def join_at(self, pos: QPointF, now: datetime) -> str:
        """The link of the "Join" button at ``pos``, or "" (none there now)."""
        rows = self.model.rows()
        metrics = QFontMetrics(self.font())
        for placed in reversed(self.placed):
            chip = self.join_chip(placed.rect, metrics)
            if chip is not None and chip.contains(pos):
                return joinable(rows[placed.row_index], now)
        return ""

    def join_chips(self, now: datetime) -> dict[int, QRectF]:
        """Where the "Join" buttons go now: {index in ``placed``: rect}."""
        rows = self.model.rows()
        metrics = QFontMetrics(self.font())
        chips = {}
        for n, placed in enumerate(self.placed):
            if joinable(rows[placed.row_index], now):
                chip = self.join_chip(placed.rect, metrics)
                if chip is not None:
                    chips[n] = chip
        return chips

    def paint_joins(self, painter: QPainter, now: datetime) -> None:
        """The "Join" buttons of the boxes that can be joined now (drawn over the
        cached boxes: they come and go with the time)."""
        metrics = QFontMetrics(self.font())
        painter.setFont(self.font())
        for chip in self.join_chips(now).values():
            paint_join(painter, chip, metrics)

    def item_at(self, pos: QPointF) -> int | None:
        for placed in reversed(self.placed):
            if placed.rect.contains(pos):
                return placed.row_index
        return None

    def tooltip_for(self, pos: QPointF) -> str | None:
        """The tooltip shown at ``pos`` (the model's text; private rows give none away)."""
        index = self.item_at(pos)
        if index is None:
            return None
        return self.model.data(self.model.index(index, 0), Qt.ItemDataRole.ToolTipRole)

    def describe_selection(self) -> str:
        if self.selected_row is None or self.selected_row >= self.model.rowCount():
            return ""
        return self.model.data(
            self.model.index(self.selected_row, 0), Qt.ItemDataRole.AccessibleTextRole
        )
