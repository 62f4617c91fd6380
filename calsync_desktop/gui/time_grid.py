"""The day and week views: a header with the days and their all-day
appointments above a scrolling time grid.

Appointments are positioned by their wall-clock time in the display zone, so
a 09:00 meeting sits at 09:00 on either side of a daylight-saving change. The
grid opens at the start of the working day, or earlier when the week has an
appointment before it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QPixmap,
)
from PySide6.QtWidgets import QScrollArea, QSizePolicy, QVBoxLayout, QWidget

from calsync_desktop.gui import formats
from calsync_desktop.gui.boxes import (
    DAY_END_HOUR,
    DAY_START_HOUR,
    GRID_LINE,
    GUTTER,
    HALF_LINE,
    MIN_ITEM_MINUTES,
    NOW_LINE,
    SELECTED,
    SLOT_MINUTES,
    TEXT,
    TODAY_TINT,
    WEEKEND_TINT,
    AppointmentTooltips,
    ItemsMixin,
    Placed,
    day_segments,
    draw_selection,
    paint_placed,
    side_by_side,
)
from calsync_desktop.gui.calendar_model import CalendarModel, Row, local_midnight

OFF_HOURS_TINT = QColor(0, 0, 0, 7)
"""Hours outside the working day, slightly darker (as Outlook does)."""


def small_font(font: QFont) -> QFont:
    """The hour labels' font."""
    small = QFont(font)
    small.setPointSizeF(max(7.0, small.pointSizeF() * 0.85))
    return small


def gutter_width(font: QFont) -> int:
    """Width of the hour labels column: room for the widest label in the locale's clock."""
    metrics = QFontMetrics(small_font(font))
    widest = max(metrics.horizontalAdvance(formats.hour_text(h)) for h in range(24))
    return max(GUTTER, widest + 18)


class TimeGridCanvas(AppointmentTooltips, ItemsMixin, QWidget):
    """The scrolling part of the day and week views: hour gutter, day columns,
    appointment boxes side by side, the current-time line and a keyboard cursor."""

    activated = Signal(object)  # the occurrence
    joinRequested = Signal(str)  # the online meeting's link, from a box's "Join"
    newRequested = Signal(object)  # aware start datetime
    stepRequested = Signal(int)  # -1 / +1 period, when the cursor leaves the range
    selectionChanged = Signal()

    def __init__(self, model: CalendarModel, now: Callable[[], datetime], parent=None):
        super().__init__(parent)
        self.model = model
        self.now = now
        self.hour_height = 48
        self.gutter = gutter_width(self.font())
        self.working_hours = (DAY_START_HOUR, DAY_END_HOUR)
        self.placed: list[Placed] = []
        self.selected_row: int | None = None
        self.cursor_day = 0
        self.cursor_slot = 18  # 09:00
        self.keyboard_used = False  # the slot cursor shows once the keyboard moves it
        self._layout_width = -1
        self._cache: QPixmap | None = None
        self._cache_day: date | None = None
        self._cache_joins: frozenset[int] = frozenset()
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
        return QSize(self.gutter + 7 * 120, 24 * self.hour_height)

    def minimumSizeHint(self) -> QSize:
        return QSize(self.gutter + 7 * 30, 24 * self.hour_height)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self.gutter = gutter_width(self.font())
            self.relayout()

    def column_width(self) -> float:
        return max(10.0, (self.width() - self.gutter) / max(1, self.days))

    def minute_y(self, minute: float) -> float:
        return minute * self.hour_height / 60.0

    def slot_rect(self, day: int, slot: int) -> QRectF:
        w = self.column_width()
        return QRectF(
            self.gutter + day * w,
            self.minute_y(slot * SLOT_MINUTES),
            w,
            self.minute_y(SLOT_MINUTES),
        )

    def slot_at(self, pos: QPointF) -> tuple[int, int] | None:
        if pos.x() < self.gutter:
            return None
        day = int((pos.x() - self.gutter) // self.column_width())
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
        if self.defer_while_hidden():
            return
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
                    self.gutter + day * w + 1 + column * col_w,
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
        # a box whose "Join" came or went is drawn again: its title makes room for it
        chips = self.join_chips(self.now())
        if (
            self._cache is None
            or self._cache.size() != size
            or self._cache_day != today
            or self._cache_joins != frozenset(chips)
        ):
            cache = QPixmap(size)
            cache.setDevicePixelRatio(ratio)
            painter = QPainter(cache)
            self._render_static(painter, QRectF(0, 0, self.width(), self.height()), today, chips)
            painter.end()
            self._cache, self._cache_day, self._cache_joins = cache, today, frozenset(chips)
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
        self.paint_joins(painter, self.now())
        y = self.now_line_y()
        if y is not None:
            w = self.column_width()
            now = self.now().astimezone(self.model.tz)
            x = self.gutter + (now.date() - self.model.first_day).days * w
            painter.setPen(QPen(NOW_LINE, 2))
            painter.drawLine(QPointF(x, y), QPointF(x + w, y))
            painter.setBrush(NOW_LINE)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.drawEllipse(QPointF(x, y), 4, 4)
        painter.end()

    def _render_static(
        self, painter: QPainter, clip: QRectF, today: date, chips: dict | None = None
    ) -> None:
        """Background, hour grid, labels and every appointment box."""
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.fillRect(clip, QColor("#ffffff"))
        w = self.column_width()
        today_index = (today - self.model.first_day).days
        gutter = self.gutter
        first, last = self.working_hours
        for d in range(self.days):
            x = gutter + d * w
            if (self.model.first_day + timedelta(days=d)).weekday() >= 5:
                painter.fillRect(QRectF(x, 0, w, self.height()), WEEKEND_TINT)
            else:
                painter.fillRect(QRectF(x, 0, w, self.minute_y(first * 60)), OFF_HOURS_TINT)
                bottom = self.minute_y(last * 60)
                painter.fillRect(QRectF(x, bottom, w, self.height() - bottom), OFF_HOURS_TINT)
        if 0 <= today_index < self.days:
            painter.fillRect(QRectF(gutter + today_index * w, 0, w, self.height()), TODAY_TINT)
        small = small_font(self.font())
        painter.setFont(small)
        metrics = QFontMetrics(small)
        grid_pen = QPen(GRID_LINE, 1)
        half_pen = QPen(HALF_LINE, 1, Qt.PenStyle.DashLine)
        label_pen = QPen(QColor("#6e6e6e"))
        for hour in range(24):
            y = self.minute_y(hour * 60)
            painter.setPen(grid_pen)
            painter.drawLine(QPointF(gutter - 6, y + 0.5), QPointF(self.width(), y + 0.5))
            painter.setPen(half_pen)
            half = y + self.hour_height / 2
            painter.drawLine(QPointF(gutter, half + 0.5), QPointF(self.width(), half + 0.5))
            if hour:
                painter.setPen(label_pen)
                label = formats.hour_text(hour)
                painter.drawText(
                    QPointF(
                        gutter - 10 - metrics.horizontalAdvance(label), y + metrics.ascent() / 2
                    ),
                    label,
                )
        painter.setPen(grid_pen)
        for d in range(self.days + 1):
            x = gutter + d * w
            painter.drawLine(QPointF(x + 0.5, 0), QPointF(x + 0.5, self.height()))
        paint_placed(painter, self.font(), self.placed, self.model, self._elided, chips)

    def now_line_y(self) -> float | None:
        """Where the current-time line is drawn (None when today is not shown)."""
        now = self.now().astimezone(self.model.tz)
        if 0 <= (now.date() - self.model.first_day).days < self.days:
            return self.minute_y(now.hour * 60 + now.minute)
        return None

    # ----------------------------------------------------------- interaction

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
        link = self.join_at(event.position(), self.now())
        if link:
            self.joinRequested.emit(link)
            return
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
        self.setAccessibleDescription(
            f"{formats.date_text(start.date(), weekday=True)}, {formats.time_text(start)}, "
            "empty slot"
        )
        self.update()


class DayHeader(AppointmentTooltips, ItemsMixin, QWidget):
    """Day names above the time grid, with the all-day appointments of each day."""

    activated = Signal(object)

    def __init__(self, model: CalendarModel, now: Callable[[], datetime], parent=None):
        super().__init__(parent)
        self.model = model
        self.now = now
        self.placed: list[Placed] = []
        self.selected_row: int | None = None
        self.right_margin = 0
        self.gutter = GUTTER  # the time grid's, set by the view
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
        return max(10.0, (self.width() - self.gutter - self.right_margin) / max(1, self.model.days))

    def relayout(self) -> None:
        if self.defer_while_hidden():
            return
        w = self.column_width()
        lanes: dict[int, int] = {}
        placed = []
        for index, row in self._all_day_rows():
            for day, _, _ in day_segments(row, self.model.first_day, self.model.days):
                lane = lanes.get(day, 0)
                lanes[day] = lane + 1
                placed.append(
                    Placed(index, QRectF(self.gutter + day * w + 2, 40 + lane * 20, w - 4, 18))
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
            x = self.gutter + d * w
            is_today = day == today
            painter.setPen(SELECTED if is_today else QColor("#5e5c64"))
            painter.setFont(self.font())
            painter.drawText(
                QRectF(x, 2, w, 16), Qt.AlignmentFlag.AlignCenter, formats.day_name(day)
            )
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
    """Day or week view: the header above a scrolling time grid.

    Each time it shows a new range it opens at the start of the working day,
    or at the hour of the range's first appointment when that is earlier.
    """

    def __init__(self, model: CalendarModel, now: Callable[[], datetime], parent=None):
        super().__init__(parent)
        self.header = DayHeader(model, now, self)
        self.canvas = TimeGridCanvas(model, now)
        self.header.gutter = self.canvas.gutter
        self.scroll = QScrollArea(self)
        self.scroll.setWidget(self.canvas)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        self.scroll.setAccessibleName("Time grid")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.header)
        layout.addWidget(self.scroll, 1)
        self.header.right_margin = self.scroll.verticalScrollBar().sizeHint().width()
        self._open_pending = True
        model.rangeChanged.connect(self._range_changed)

    def set_working_hours(self, first: int, last: int) -> None:
        """The working day, e.g. (8, 17): shaded around, and where the view opens."""
        self.canvas.working_hours = (first, last)
        self.canvas.invalidate()

    def _range_changed(self) -> None:
        self.header.gutter = self.canvas.gutter
        self._open_pending = True
        if self.isVisible():
            QTimer.singleShot(0, self, self._open_at_working_hours)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._open_pending:
            # once laid out (the scroll range is known only then): open at work time
            QTimer.singleShot(0, self, self._open_at_working_hours)

    def _open_at_working_hours(self) -> None:
        if self._open_pending and self.isVisible():
            self._open_pending = False
            self.scroll_to_working_hours()

    def first_hour(self) -> int:
        """Where the day starts on screen: the start of the working day, or the
        hour of the range's first appointment when that is earlier."""
        model = self.canvas.model
        starts = [
            r.start.hour
            for r in model.rows()
            if not r.all_day and model.first_day <= r.start.date()
        ]
        return min([self.canvas.working_hours[0], *starts])

    def scroll_to_working_hours(self) -> None:
        self.scroll_to_hour(self.first_hour())

    def label_room(self) -> int:
        """Space left above an hour's line so that its label is not cut off."""
        return max(
            self.canvas.hour_height // 4, QFontMetrics(small_font(self.canvas.font())).height()
        )

    def scroll_to_hour(self, hour: int) -> None:
        """Scroll so that ``hour``'s line and label are the first thing in view."""
        y = int(self.canvas.minute_y(hour * 60)) - self.label_room()
        self.scroll.verticalScrollBar().setValue(max(0, y))
