"""The Sales Calendar window: week (default), day and month views.

The views draw what :class:`~calsync_desktop.gui.calendar_model.CalendarModel`
holds and never read the store. Appointments are positioned by their
wall-clock time in the display zone, so a 09:00 meeting sits at 09:00 on
either side of a daylight-saving change. Private appointments are a dark grey
box with an eye icon and no text; every text the views expose (tooltips,
accessible descriptions) comes from the model, which withholds private text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from PySide6.QtCore import QDate, QEvent, QPointF, QRect, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QColor,
    QFont,
    QFontMetrics,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QPixmap,
)
from PySide6.QtWidgets import (
    QDateEdit,
    QLabel,
    QMainWindow,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QStackedWidget,
    QToolBar,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from calsync_desktop.gui.calendar_model import (
    PRIVATE_BORDER,
    PRIVATE_FILL,
    CalendarModel,
    Roles,
    Row,
    local_midnight,
)
from calsync_desktop.gui.icons import app_icon, icon

GUTTER = 56
"""Width of the hour labels column."""
MIN_ITEM_MINUTES = 22
"""Shortest height an appointment box gets, so a 5-minute call is still clickable."""
SLOT_MINUTES = 30
DAY_START_HOUR = 8
"""The day and week views open scrolled to this hour (or to an earlier appointment)."""
EARLIEST_START_HOUR = 6
"""...but never earlier than this: one night-time item should not hide the working day."""
GRID_LINE = QColor("#dedede")
HALF_LINE = QColor("#efefef")
NOW_LINE = QColor("#e01b24")
TODAY_TINT = QColor(53, 132, 228, 18)
WEEKEND_TINT = QColor("#f7f7f6")
SELECTED = QColor("#1a5fb4")
TEXT = QColor("#1e1e1e")


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
            return True
        return super().event(event)


def paint_placed(painter: QPainter, font: QFont, placed, model, elided) -> None:
    """Draw every laid-out appointment box of a view."""
    normal = QFont(font)
    bold = QFont(normal)
    bold.setBold(True)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
    rows = model.rows()
    for item in placed:
        paint_box(painter, item.rect, model, rows[item.row_index], False, (normal, bold), elided)


def paint_box(
    painter: QPainter,
    rect: QRectF,
    model: CalendarModel,
    row: Row,
    selected: bool,
    fonts: tuple[QFont, QFont] | None = None,
    elided: dict | None = None,
) -> None:
    """One appointment box. Private: dark grey with the eye and no text at all.

    Drawn with plain fills and clipped text: a week of 500 boxes must redraw
    within a frame. ``fonts`` is (normal, bold), made once by the caller;
    ``elided`` caches shortened texts between redraws.
    """
    if row.private:
        painter.fillRect(rect, PRIVATE_BORDER)
        painter.fillRect(rect.adjusted(1, 1, -1, -1), PRIVATE_FILL)
        side = int(min(18 if rect.height() >= 30 else 16, rect.height() - 4, rect.width() - 4))
        if side >= 8:
            eye = QRect(int(rect.left()) + 4, int(rect.top()) + 3, side, side)
            icon("eye").paint(painter, eye)
    else:
        colour: QColor = row.colour
        painter.fillRect(rect, blend_on_white(colour))
        painter.fillRect(QRectF(rect.left(), rect.top(), 3, rect.height()), colour)
        text_rect = rect.adjusted(6, 1, -3, -1)
        if text_rect.height() >= 8 and text_rect.width() >= 10:
            if fonts is None:
                normal = QFont(painter.font())
                bold = QFont(normal)
                bold.setBold(True)
            else:
                normal, bold = fonts
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
            # the title takes the lines the time and location do not need, so a
            # long title in a tall or narrow box wraps instead of being cut short
            room = max(1, int((text_rect.height() - 1) // line_h))
            extras = []
            if rect.height() >= 34:
                when = model.row_data(row, Roles.TIME_TEXT)
                if metrics.horizontalAdvance(when) > width:
                    when = when.split("–")[0]  # a narrow box: the start time only
                extras.append(when)
            if row.occurrence.location and rect.height() >= 50:
                extras.append(row.occurrence.location)
            title_lines = _wrap(elide, metrics, title, width, max(1, room - len(extras)))
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
                    QPointF(text_rect.left(), y), _elide(elide, metrics, line, width, False)
                )
            painter.setClipping(False)
    if selected:
        draw_selection(painter, rect, row.private)


def draw_selection(painter: QPainter, rect: QRectF, private: bool) -> None:
    """The selection ring; on a private box's dark grey a blue ring alone would
    hardly show, so it gets a white inner line too."""
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.setPen(QPen(SELECTED, 2))
    painter.drawRoundedRect(rect.adjusted(1, 1, -1, -1), 3, 3)
    if private:
        painter.setPen(QPen(QColor("#ffffff"), 1))
        painter.drawRoundedRect(rect.adjusted(2.5, 2.5, -2.5, -2.5), 2, 2)


class _ItemsMixin:
    """Hit testing, tooltips and selection shared by the views' canvases."""

    _stale = True

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._stale:
            self.relayout()

    model: CalendarModel
    placed: list[Placed]
    selected_row: int | None

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


class TimeGridCanvas(_ItemsMixin, QWidget):
    """The scrolling part of the day and week views: hour gutter, day columns,
    appointment boxes side by side, the current-time line and a keyboard cursor."""

    activated = Signal(object)  # the occurrence
    newRequested = Signal(object)  # aware start datetime
    stepRequested = Signal(int)  # -1 / +1 period, when the cursor leaves the range
    selectionChanged = Signal()

    def __init__(self, model: CalendarModel, now: Callable[[], datetime], parent=None):
        super().__init__(parent)
        self.model = model
        self.now = now
        self.hour_height = 48
        self.placed: list[Placed] = []
        self.selected_row: int | None = None
        self.cursor_day = 0
        self.cursor_slot = 18  # 09:00
        self.keyboard_used = False  # the slot cursor shows once the keyboard moves it
        self._layout_width = -1
        self._cache: QPixmap | None = None
        self._cache_day: date | None = None
        self._elided: dict = {}
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(False)
        self.setMinimumHeight(24 * self.hour_height)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        model.modelReset.connect(self.relayout)
        self._tick = QTimer(self)
        self._tick.setInterval(60_000)
        self._tick.timeout.connect(self.update)
        self._tick.start()

    # ----------------------------------------------------------- geometry

    @property
    def days(self) -> int:
        return self.model.days

    def sizeHint(self) -> QSize:
        return QSize(GUTTER + 7 * 120, 24 * self.hour_height)

    def column_width(self) -> float:
        return max(10.0, (self.width() - GUTTER) / max(1, self.days))

    def minute_y(self, minute: float) -> float:
        return minute * self.hour_height / 60.0

    def slot_rect(self, day: int, slot: int) -> QRectF:
        w = self.column_width()
        return QRectF(
            GUTTER + day * w,
            self.minute_y(slot * SLOT_MINUTES),
            w,
            self.minute_y(SLOT_MINUTES),
        )

    def slot_at(self, pos: QPointF) -> tuple[int, int] | None:
        if pos.x() < GUTTER:
            return None
        day = int((pos.x() - GUTTER) // self.column_width())
        slot = int(pos.y() * 60 / self.hour_height // SLOT_MINUTES)
        if not (0 <= day < self.days and 0 <= slot < 24 * 60 // SLOT_MINUTES):
            return None
        return day, slot

    def slot_start(self, day: int, slot: int) -> datetime:
        """The aware start of a slot; wall-clock time, so correct on DST days."""
        midnight = local_midnight(self.model.first_day + timedelta(days=day), self.model.tz)
        wall = midnight.replace(hour=slot * SLOT_MINUTES // 60, minute=slot * SLOT_MINUTES % 60)
        # a wall time inside a spring-forward gap does not exist: move past it
        return wall.astimezone(UTC).astimezone(self.model.tz)

    def relayout(self) -> None:
        if not self.isVisible():
            self._stale = True  # laid out when shown: hidden views cost nothing
            return
        self._stale = False
        w = self.column_width()
        per_day: dict[int, list[tuple[int, int, int]]] = {}
        segments: dict[int, tuple[int, int, int]] = {}
        key = 0
        for index, row in enumerate(self.model.rows()):
            if row.all_day:
                continue
            for day, start, end in day_segments(row, self.model.first_day, self.days):
                per_day.setdefault(day, []).append((key, start, end))
                segments[key] = (index, day, start, end)
                key += 1
        placed = []
        for items in per_day.values():
            columns = side_by_side(items)
            for k, (column, count) in columns.items():
                index, day, start, end = segments[k]
                end = max(end, start + MIN_ITEM_MINUTES)
                col_w = (w - 4) / count
                rect = QRectF(
                    GUTTER + day * w + 1 + column * col_w,
                    self.minute_y(start) + 1,
                    col_w - 1,
                    self.minute_y(end - start) - 2,
                )
                placed.append(Placed(index, rect))
        placed.sort(key=lambda p: (p.rect.left(), p.rect.top()))
        self.placed = placed
        if self.selected_row is not None and self.selected_row >= self.model.rowCount():
            self.selected_row = None
        self._layout_width = self.width()
        self.invalidate()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self.width() != self._layout_width:
            self.relayout()

    # ----------------------------------------------------------- painting

    def invalidate(self) -> None:
        """Throw away the cached drawing (data, size or day changed)."""
        self._cache = None
        self.update()

    def _ensure_cache(self) -> QPixmap:
        ratio = self.devicePixelRatioF()
        today = self.now().astimezone(self.model.tz).date()
        size = QSize(int(self.width() * ratio), int(self.height() * ratio))
        if self._cache is None or self._cache.size() != size or self._cache_day != today:
            cache = QPixmap(size)
            cache.setDevicePixelRatio(ratio)
            painter = QPainter(cache)
            self._render_static(painter, QRectF(0, 0, self.width(), self.height()), today)
            painter.end()
            self._cache, self._cache_day = cache, today
        return self._cache

    def paintEvent(self, event: QPaintEvent) -> None:
        # Grid and boxes come from a cached pixmap, redrawn only when the data,
        # the size or the day changes; repaints (scrolling, selection, the
        # current-time line) then cost a blit and a few strokes.
        cache = self._ensure_cache()
        painter = QPainter(self)
        ratio = cache.devicePixelRatio()
        target = QRectF(event.rect())
        source = QRectF(
            target.x() * ratio, target.y() * ratio, target.width() * ratio, target.height() * ratio
        )
        painter.drawPixmap(target, cache, source)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        if self.hasFocus() and self.keyboard_used and self.selected_row is None:
            painter.setPen(QPen(SELECTED, 1, Qt.PenStyle.DashLine))
            painter.setBrush(QColor(26, 95, 180, 25))
            painter.drawRect(
                self.slot_rect(self.cursor_day, self.cursor_slot).adjusted(1, 1, -1, -1)
            )
        if self.selected_row is not None:
            rows = self.model.rows()
            for placed in self.placed:
                if placed.row_index == self.selected_row:
                    draw_selection(painter, placed.rect, rows[placed.row_index].private)
        y = self.now_line_y()
        if y is not None:
            w = self.column_width()
            now = self.now().astimezone(self.model.tz)
            x = GUTTER + (now.date() - self.model.first_day).days * w
            painter.setPen(QPen(NOW_LINE, 2))
            painter.drawLine(QPointF(x, y), QPointF(x + w, y))
            painter.setBrush(NOW_LINE)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.drawEllipse(QPointF(x, y), 4, 4)
        painter.end()

    def _render_static(self, painter: QPainter, clip: QRectF, today: date) -> None:
        """Background, hour grid, labels and every appointment box."""
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.fillRect(clip, QColor("#ffffff"))
        w = self.column_width()
        today_index = (today - self.model.first_day).days
        for d in range(self.days):
            if (self.model.first_day + timedelta(days=d)).weekday() >= 5:
                painter.fillRect(QRectF(GUTTER + d * w, 0, w, self.height()), WEEKEND_TINT)
        if 0 <= today_index < self.days:
            painter.fillRect(QRectF(GUTTER + today_index * w, 0, w, self.height()), TODAY_TINT)
        small = QFont(self.font())
        small.setPointSizeF(max(7.0, small.pointSizeF() * 0.85))
        painter.setFont(small)
        metrics = QFontMetrics(small)
        grid_pen = QPen(GRID_LINE, 1)
        half_pen = QPen(HALF_LINE, 1, Qt.PenStyle.DashLine)
        label_pen = QPen(QColor("#6e6e6e"))
        for hour in range(24):
            y = self.minute_y(hour * 60)
            painter.setPen(grid_pen)
            painter.drawLine(QPointF(GUTTER - 6, y + 0.5), QPointF(self.width(), y + 0.5))
            painter.setPen(half_pen)
            half = y + self.hour_height / 2
            painter.drawLine(QPointF(GUTTER, half + 0.5), QPointF(self.width(), half + 0.5))
            if hour:
                painter.setPen(label_pen)
                label = f"{hour:02d}:00"
                painter.drawText(
                    QPointF(
                        GUTTER - 10 - metrics.horizontalAdvance(label), y + metrics.ascent() / 2
                    ),
                    label,
                )
        painter.setPen(grid_pen)
        for d in range(self.days + 1):
            x = GUTTER + d * w
            painter.drawLine(QPointF(x + 0.5, 0), QPointF(x + 0.5, self.height()))
        paint_placed(painter, self.font(), self.placed, self.model, self._elided)

    def now_line_y(self) -> float | None:
        """Where the current-time line is drawn (None when today is not shown)."""
        now = self.now().astimezone(self.model.tz)
        if 0 <= (now.date() - self.model.first_day).days < self.days:
            return self.minute_y(now.hour * 60 + now.minute)
        return None

    # ----------------------------------------------------------- interaction

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

    def select(self, row_index: int | None) -> None:
        self.selected_row = row_index
        self.setAccessibleDescription(self.describe_selection())
        if row_index is not None:
            for placed in self.placed:
                if placed.row_index == row_index:
                    self.cursor_day, self.cursor_slot = self.slot_at(
                        placed.rect.topLeft() + QPointF(1, 1)
                    ) or (self.cursor_day, self.cursor_slot)
                    self._reveal(placed.rect)
                    break
        self.selectionChanged.emit()
        self.update()

    def _reveal(self, rect: QRectF) -> None:
        area = self.parent().parent() if self.parent() else None
        if isinstance(area, QScrollArea):
            area.ensureVisible(int(rect.center().x()), int(rect.top()), 10, 60)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        index = self.item_at(event.position())
        if index is None:
            slot = self.slot_at(event.position())
            if slot:
                self.cursor_day, self.cursor_slot = slot
        self.select(index)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        index = self.item_at(event.position())
        if index is not None:
            self.activated.emit(self.model.row(index).occurrence)
            return
        slot = self.slot_at(event.position())
        if slot:
            self.newRequested.emit(self.slot_start(*slot))

    def focusNextPrevChild(self, forward: bool) -> bool:
        # Tab walks through the appointments, then leaves the grid as usual.
        order = [p.row_index for p in self.placed]
        if order and self.hasFocus():
            if self.selected_row is None:
                target = 0 if forward else len(order) - 1
                self.select(order[target])
                return True
            positions = [i for i, r in enumerate(order) if r == self.selected_row]
            if positions:
                pos = positions[0] + (1 if forward else -1)
                if 0 <= pos < len(order):
                    self.select(order[pos])
                    return True
            self.select(None)
        return super().focusNextPrevChild(forward)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        slots = 24 * 60 // SLOT_MINUTES
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            if self.selected_row is not None:
                self.activated.emit(self.model.row(self.selected_row).occurrence)
            else:
                self.newRequested.emit(self.slot_start(self.cursor_day, self.cursor_slot))
            return
        if key == Qt.Key.Key_Escape and self.selected_row is not None:
            self.select(None)
            return
        if key in (Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_Left, Qt.Key.Key_Right):
            self.keyboard_used = True
        if key in (Qt.Key.Key_Up, Qt.Key.Key_Down):
            step = -1 if key == Qt.Key.Key_Up else 1
            self.cursor_slot = min(slots - 1, max(0, self.cursor_slot + step))
        elif key in (Qt.Key.Key_Left, Qt.Key.Key_Right):
            step = -1 if key == Qt.Key.Key_Left else 1
            day = self.cursor_day + step
            if 0 <= day < self.days:
                self.cursor_day = day
            else:
                self.cursor_day = (day + self.days) % self.days
                self.stepRequested.emit(step)
        else:
            super().keyPressEvent(event)
            return
        self.selected_row = None
        rect = self.slot_rect(self.cursor_day, self.cursor_slot)
        self._reveal(rect)
        start = self.slot_start(self.cursor_day, self.cursor_slot)
        self.setAccessibleDescription(f"{start:%A %d %B, %H:%M}, empty slot")
        self.update()


class DayHeader(AppointmentTooltips, _ItemsMixin, QWidget):
    """Day names above the time grid, with the all-day appointments of each day."""

    activated = Signal(object)

    def __init__(self, model: CalendarModel, now: Callable[[], datetime], parent=None):
        super().__init__(parent)
        self.model = model
        self.now = now
        self.placed: list[Placed] = []
        self.selected_row: int | None = None
        self.right_margin = 0
        self._elided: dict = {}
        model.modelReset.connect(self.relayout)

    def _all_day_rows(self) -> list[tuple[int, Row]]:
        return [(i, r) for i, r in enumerate(self.model.rows()) if r.all_day]

    def sizeHint(self) -> QSize:
        lanes = self._lanes()
        return QSize(400, 40 + max(0, lanes) * 20 + (6 if lanes else 0))

    def minimumSizeHint(self) -> QSize:
        return self.sizeHint()

    def _lanes(self) -> int:
        counts: dict[int, int] = {}
        for _, row in self._all_day_rows():
            for day, _, _ in day_segments(row, self.model.first_day, self.model.days):
                counts[day] = counts.get(day, 0) + 1
        return max(counts.values(), default=0)

    def column_width(self) -> float:
        return max(10.0, (self.width() - GUTTER - self.right_margin) / max(1, self.model.days))

    def relayout(self) -> None:
        if not self.isVisible():
            self._stale = True  # laid out when shown: hidden views cost nothing
            return
        self._stale = False
        w = self.column_width()
        lanes: dict[int, int] = {}
        placed = []
        for index, row in self._all_day_rows():
            for day, _, _ in day_segments(row, self.model.first_day, self.model.days):
                lane = lanes.get(day, 0)
                lanes[day] = lane + 1
                placed.append(
                    Placed(index, QRectF(GUTTER + day * w + 2, 40 + lane * 20, w - 4, 18))
                )
        self.placed = placed
        self.setMinimumHeight(self.sizeHint().height())
        self.updateGeometry()
        self.update()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.relayout()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.fillRect(self.rect(), QColor("#fafafa"))
        w = self.column_width()
        today = self.now().astimezone(self.model.tz).date()
        big = QFont(self.font())
        big.setPointSizeF(big.pointSizeF() * 1.35)
        for d in range(self.model.days):
            day = self.model.first_day + timedelta(days=d)
            x = GUTTER + d * w
            is_today = day == today
            painter.setPen(SELECTED if is_today else QColor("#5e5c64"))
            painter.setFont(self.font())
            painter.drawText(QRectF(x, 2, w, 16), Qt.AlignmentFlag.AlignCenter, f"{day:%a}")
            painter.setFont(big)
            if is_today:
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(SELECTED)
                painter.drawEllipse(QPointF(x + w / 2, 28), 11, 11)
                painter.setPen(QColor("#ffffff"))
            else:
                painter.setPen(TEXT)
            painter.drawText(QRectF(x, 17, w, 22), Qt.AlignmentFlag.AlignCenter, str(day.day))
            painter.setPen(QPen(GRID_LINE, 1))
            painter.drawLine(QPointF(x + 0.5, 0), QPointF(x + 0.5, self.height()))
        painter.setPen(QPen(GRID_LINE, 1))
        painter.drawLine(
            QPointF(0, self.height() - 0.5), QPointF(self.width(), self.height() - 0.5)
        )
        paint_placed(painter, self.font(), self.placed, self.model, self._elided)
        painter.end()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        index = self.item_at(event.position())
        if index is not None:
            self.activated.emit(self.model.row(index).occurrence)


class TimeGridView(QWidget):
    """Day or week view: the header above a scrolling time grid."""

    def __init__(self, model: CalendarModel, now: Callable[[], datetime], parent=None):
        super().__init__(parent)
        self.header = DayHeader(model, now, self)
        self.canvas = TimeGridCanvas(model, now)
        self.scroll = QScrollArea(self)
        self.scroll.setWidget(self.canvas)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.header)
        layout.addWidget(self.scroll, 1)
        self.header.right_margin = self.scroll.verticalScrollBar().sizeHint().width()
        self._opened = False

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._opened:
            # once laid out (the scroll range is known only then): open at work time
            self._opened = True
            QTimer.singleShot(0, self.scroll_to_working_hours)

    def first_hour(self) -> int:
        """Where the day starts on screen: 08:00, or the hour of an earlier
        appointment in view (from 06:00) so that it is not hidden above the fold."""
        model = self.canvas.model
        starts = [
            r.start.hour
            for r in model.rows()
            if not r.all_day and r.start.date() >= model.first_day
        ]
        return max(EARLIEST_START_HOUR, min([DAY_START_HOUR, *starts]))

    def scroll_to_working_hours(self) -> None:
        self.scroll_to_hour(self.first_hour())

    def label_room(self) -> int:
        """Space left above an hour's line so that its label is not cut off."""
        small = QFont(self.canvas.font())
        small.setPointSizeF(max(7.0, small.pointSizeF() * 0.85))
        return max(self.canvas.hour_height // 4, QFontMetrics(small).height())

    def scroll_to_hour(self, hour: int) -> None:
        """Scroll so that ``hour``'s line and label are the first thing in view."""
        y = int(self.canvas.minute_y(hour * 60)) - self.label_room()
        self.scroll.verticalScrollBar().setValue(max(0, y))


class MonthCanvas(AppointmentTooltips, _ItemsMixin, QWidget):
    """Six weeks of day cells listing each day's appointments."""

    activated = Signal(object)
    newRequested = Signal(object)
    dayOpened = Signal(object)  # a date: open it in the day view
    stepRequested = Signal(int)

    LINE = 17

    def __init__(self, model: CalendarModel, now: Callable[[], datetime], parent=None):
        super().__init__(parent)
        self.model = model
        self.now = now
        self.placed: list[Placed] = []
        self.more: dict[int, int] = {}
        self.selected_row: int | None = None
        self.month_start = date.today().replace(day=1)
        self.cursor = date.today()
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMinimumSize(500, 400)
        model.modelReset.connect(self.relayout)

    def cell_rect(self, index: int) -> QRectF:
        w = self.width() / 7
        h = (self.height() - 22) / 6
        return QRectF((index % 7) * w, 22 + (index // 7) * h, w, h)

    def day_of_cell(self, index: int) -> date:
        return self.model.first_day + timedelta(days=index)

    def cell_at(self, pos: QPointF) -> int | None:
        if pos.y() < 22:
            return None
        w = self.width() / 7
        h = (self.height() - 22) / 6
        col, line = int(pos.x() // w), int((pos.y() - 22) // h)
        if 0 <= col < 7 and 0 <= line < 6:
            return line * 7 + col
        return None

    def relayout(self) -> None:
        if not self.isVisible():
            self._stale = True  # laid out when shown: hidden views cost nothing
            return
        self._stale = False
        by_day: dict[int, list[int]] = {}
        for index, row in enumerate(self.model.rows()):
            for day, _, _ in day_segments(row, self.model.first_day, self.model.days):
                by_day.setdefault(day, []).append(index)
        placed = []
        self.more = {}
        for day, indexes in by_day.items():
            cell = self.cell_rect(day)
            room = max(0, int((cell.height() - 22) // self.LINE))
            shown = indexes if len(indexes) <= room else indexes[: max(0, room - 1)]
            for n, index in enumerate(shown):
                rect = QRectF(
                    cell.left() + 2, cell.top() + 20 + n * self.LINE, cell.width() - 4, 15
                )
                placed.append(Placed(index, rect))
            if len(shown) < len(indexes):
                self.more[day] = len(indexes) - len(shown)
        self.placed = placed
        self.update()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.relayout()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.fillRect(self.rect(), QColor("#ffffff"))
        today = self.now().astimezone(self.model.tz).date()
        w = self.width() / 7
        painter.setPen(QColor("#5e5c64"))
        for col in range(7):
            day = self.model.first_day + timedelta(days=col)
            painter.drawText(QRectF(col * w, 0, w, 22), Qt.AlignmentFlag.AlignCenter, f"{day:%a}")
        for index in range(42):
            cell = self.cell_rect(index)
            day = self.day_of_cell(index)
            in_month = day.month == self.month_start.month
            painter.fillRect(cell, QColor("#ffffff") if in_month else QColor("#f6f5f4"))
            if day == self.cursor and self.hasFocus():
                painter.fillRect(cell, QColor(26, 95, 180, 25))
            painter.setPen(QPen(GRID_LINE, 1))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(cell)
            number = QRectF(cell.left() + 4, cell.top() + 2, 24, 16)
            if day == today:
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(SELECTED)
                painter.drawRoundedRect(number, 8, 8)
                painter.setPen(QColor("#ffffff"))
            else:
                painter.setPen(TEXT if in_month else QColor("#9a9996"))
            painter.drawText(number, Qt.AlignmentFlag.AlignCenter, str(day.day))
            if index in self.more:
                painter.setPen(QColor("#5e5c64"))
                painter.drawText(
                    QRectF(cell.left() + 6, cell.bottom() - 17, cell.width() - 8, 15),
                    Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                    f"+{self.more[index]} more",
                )
        rows = self.model.rows()
        for placed in self.placed:
            row = rows[placed.row_index]
            selected = placed.row_index == self.selected_row
            if row.private:
                paint_box(painter, placed.rect, self.model, row, selected)
                continue
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(row.colour)
            painter.drawEllipse(QPointF(placed.rect.left() + 5, placed.rect.center().y()), 3.5, 3.5)
            painter.setPen(TEXT)
            label = self.model.row_data(row, Qt.ItemDataRole.DisplayRole)
            if not row.all_day:
                label = f"{row.start:%H:%M} {label}"
            text = painter.fontMetrics().elidedText(
                label, Qt.TextElideMode.ElideRight, int(placed.rect.width() - 14)
            )
            painter.drawText(
                placed.rect.adjusted(12, 0, 0, 0),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                text,
            )
            if selected:
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.setPen(QPen(SELECTED, 1.5))
                painter.drawRoundedRect(placed.rect, 3, 3)
        painter.end()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        self.selected_row = self.item_at(event.position())
        cell = self.cell_at(event.position())
        if cell is not None:
            self.cursor = self.day_of_cell(cell)
        self.setAccessibleDescription(self.describe_selection())
        self.update()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        index = self.item_at(event.position())
        if index is not None:
            self.activated.emit(self.model.row(index).occurrence)
            return
        cell = self.cell_at(event.position())
        if cell is None:
            return
        rect = self.cell_rect(cell)
        day = self.day_of_cell(cell)
        if event.position().y() < rect.top() + 20 or cell in self.more:
            self.dayOpened.emit(day)
        else:
            self.newRequested.emit(local_midnight(day, self.model.tz).replace(hour=9))

    def keyPressEvent(self, event: QKeyEvent) -> None:
        steps = {
            Qt.Key.Key_Left: -1,
            Qt.Key.Key_Right: 1,
            Qt.Key.Key_Up: -7,
            Qt.Key.Key_Down: 7,
        }
        key = event.key()
        if key in steps:
            self.cursor += timedelta(days=steps[key])
            if self.cursor.month != self.month_start.month:
                self.stepRequested.emit(1 if self.cursor > self.month_start else -1)
            self.setAccessibleDescription(f"{self.cursor:%A %d %B %Y}")
            self.update()
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.dayOpened.emit(self.cursor)
        else:
            super().keyPressEvent(event)


def week_start(day: date, first_weekday: int = 0) -> date:
    """The first day of ``day``'s week (``first_weekday`` 0 = Monday)."""
    return day - timedelta(days=(day.weekday() - first_weekday) % 7)


class CalendarWindow(QMainWindow):
    """The Sales Calendar window. Emits what the user asked for; the app decides.

    ``activated(occurrence)`` on double-click / Enter, ``newRequested(start)``
    for a new appointment, ``syncNowRequested`` from the status bar.
    """

    activated = Signal(object)
    newRequested = Signal(object)
    syncNowRequested = Signal()

    VIEWS = ("day", "week", "month")

    def __init__(
        self,
        model: CalendarModel,
        now: Callable[[], datetime],
        parent: QWidget | None = None,
        first_weekday: int = 0,
    ):
        super().__init__(parent)
        self.model = model
        self.now = now
        self.first_weekday = first_weekday
        self.view = "week"
        self.anchor = now().astimezone(model.tz).date()
        self.setWindowTitle("Sales Calendar")
        self.setWindowIcon(app_icon())
        self.resize(1100, 760)

        self.time_grid = TimeGridView(model, now)
        self.month = MonthCanvas(model, now)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.time_grid)
        self.stack.addWidget(self.month)
        self.setCentralWidget(self.stack)
        for source in (self.time_grid.canvas, self.time_grid.header, self.month):
            source.activated.connect(self.activated)
        for source in (self.time_grid.canvas, self.month):
            source.newRequested.connect(self.newRequested)
            source.stepRequested.connect(self.step)
        self.month.dayOpened.connect(self.open_day)

        self._build_toolbar()
        self._build_status_bar()
        self.set_view("week")

    # ----------------------------------------------------------- chrome

    def _build_toolbar(self) -> None:
        bar = QToolBar("Navigation", self)
        bar.setObjectName("navigation")
        bar.setMovable(False)
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.addToolBar(bar)
        self.today_action = QAction("Today", self, shortcut=QKeySequence("T"))
        self.today_action.setToolTip("Go to today (T)")
        self.today_action.triggered.connect(self.go_today)
        self.prev_action = QAction("‹", self, shortcut=QKeySequence(Qt.Key.Key_PageUp))
        self.prev_action.setToolTip("Previous (Page Up)")
        self.prev_action.triggered.connect(lambda: self.step(-1))
        self.next_action = QAction("›", self, shortcut=QKeySequence(Qt.Key.Key_PageDown))
        self.next_action.setToolTip("Next (Page Down)")
        self.next_action.triggered.connect(lambda: self.step(1))
        for action in (self.today_action, self.prev_action, self.next_action):
            bar.addAction(action)
        for action in (self.prev_action, self.next_action):
            button = bar.widgetForAction(action)
            font = button.font()
            font.setPointSizeF(font.pointSizeF() * 1.4)
            button.setFont(font)
        self.period_label = QLabel()
        font = self.period_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        font.setBold(True)
        self.period_label.setFont(font)
        self.period_label.setContentsMargins(10, 0, 10, 0)
        bar.addWidget(self.period_label)
        self.date_picker = QDateEdit(self)
        self.date_picker.setCalendarPopup(True)
        self.date_picker.setDisplayFormat("dd MMM yyyy")
        self.date_picker.setAccessibleName("Go to date")
        self.date_picker.setToolTip("Go to date")
        self.date_picker.dateChanged.connect(self._picked)
        bar.addWidget(self.date_picker)
        spacer = QWidget()
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        bar.addWidget(spacer)
        self.view_actions = QActionGroup(self)
        self.view_actions.setExclusive(True)
        for key, label, shortcut in (
            ("day", "Day", "D"),
            ("week", "Week", "W"),
            ("month", "Month", "M"),
        ):
            action = QAction(label, self, shortcut=QKeySequence(shortcut), checkable=True)
            action.setToolTip(f"{label} view ({shortcut})")
            action.setObjectName(f"view-{key}")
            action.setData(key)
            action.triggered.connect(lambda _=False, k=key: self.set_view(k))
            self.view_actions.addAction(action)
            bar.addAction(action)
            bar.widgetForAction(action).setMinimumWidth(60)
        bar.addSeparator()
        self.new_action = QAction("New appointment", self, shortcut=QKeySequence.StandardKey.New)
        self.new_action.triggered.connect(self._new_at_cursor)
        bar.addAction(self.new_action)

    def _build_status_bar(self) -> None:
        status = self.statusBar()
        self.last_sync_label = QLabel("Not synced yet")
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(220)
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.sync_button = QPushButton("Sync now")
        self.sync_button.setShortcut(QKeySequence("F5"))
        self.sync_button.setToolTip("Sync all accounts now (F5)")
        self.sync_button.clicked.connect(self.syncNowRequested)
        status.addWidget(self.last_sync_label, 1)
        status.addPermanentWidget(self.progress)
        status.addPermanentWidget(self.sync_button)

    # ----------------------------------------------------------- status

    def set_status(self, text: str) -> None:
        self.last_sync_label.setText(text)

    def set_progress(self, done: int, total: int) -> None:
        """Show the progress bar (total 0 = busy indicator)."""
        self.progress.show()
        self.progress.setRange(0, max(0, total))
        self.progress.setValue(min(done, total) if total else 0)

    def hide_progress(self) -> None:
        self.progress.hide()

    # ----------------------------------------------------------- navigation

    def set_view(self, view: str) -> None:
        self.view = view
        for action in self.view_actions.actions():
            action.setChecked(action.data() == view)
        self.stack.setCurrentWidget(self.month if view == "month" else self.time_grid)
        self._apply_range()
        (self.month if view == "month" else self.time_grid.canvas).setFocus()

    def go_today(self) -> None:
        self.go_to(self.now().astimezone(self.model.tz).date())

    def go_to(self, day: date) -> None:
        self.anchor = day
        self._apply_range()

    def open_day(self, day: date) -> None:
        self.anchor = day
        self.set_view("day")

    def step(self, direction: int) -> None:
        if self.view == "day":
            self.anchor += timedelta(days=direction)
        elif self.view == "week":
            self.anchor += timedelta(days=7 * direction)
        else:
            month = self.anchor.month - 1 + direction
            self.anchor = date(self.anchor.year + month // 12, month % 12 + 1, 1)
            self.month.cursor = self.anchor
        self._apply_range()

    def _picked(self, qdate: QDate) -> None:
        day = date(qdate.year(), qdate.month(), qdate.day())
        if day != self.anchor:
            self.go_to(day)

    def _apply_range(self) -> None:
        if self.view == "day":
            first, days = self.anchor, 1
            label = f"{self.anchor:%A %d %B %Y}"
        elif self.view == "week":
            first, days = week_start(self.anchor, self.first_weekday), 7
            last = first + timedelta(days=6)
            if first.month == last.month:
                label = f"{first.day} – {last.day} {last:%B %Y}"
            else:
                label = f"{first:%d %b} – {last:%d %b %Y}"
        else:
            month_start = self.anchor.replace(day=1)
            first, days = week_start(month_start, self.first_weekday), 42
            self.month.month_start = month_start
            if self.month.cursor.month != month_start.month:
                self.month.cursor = month_start
            label = f"{month_start:%B %Y}"
        self.period_label.setText(label)
        self.time_grid.canvas.selected_row = None
        self.month.selected_row = None
        self.model.set_range(first, days)
        self.time_grid.canvas.setAccessibleName(f"{self.view.title()} of {label}")
        self.month.setAccessibleName(label)
        self.date_picker.blockSignals(True)
        self.date_picker.setDate(QDate(self.anchor.year, self.anchor.month, self.anchor.day))
        self.date_picker.blockSignals(False)

    def _new_at_cursor(self) -> None:
        canvas = self.time_grid.canvas
        if self.view == "month":
            start = local_midnight(self.month.cursor, self.model.tz).replace(hour=9)
        else:
            start = canvas.slot_start(canvas.cursor_day, canvas.cursor_slot)
        self.newRequested.emit(start)


def display_zone() -> ZoneInfo:
    """The system's IANA time zone (Qt knows it on every platform)."""
    from PySide6.QtCore import QTimeZone

    name = bytes(QTimeZone.systemTimeZoneId().data()).decode() or "UTC"
    try:
        return ZoneInfo(name)
    except Exception:  # an unknown id: fall back to UTC, the view still works
        return ZoneInfo("UTC")
