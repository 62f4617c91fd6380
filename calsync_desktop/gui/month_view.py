"""The month view: six weeks of day cells listing each day's appointments,
one line each: a dot in the calendar's colour, the time and the title. A free
or tentative line is drawn lighter as its box is (:func:`boxes.paint_fill`:
pale, outlined with dashes or hatched) with a ring for its dot; a private one
is its box."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
)
from PySide6.QtWidgets import QWidget

from calsync_desktop import meetings
from calsync_desktop.gui import formats
from calsync_desktop.gui.boxes import (
    GRID_LINE,
    LIGHT,
    SELECTED,
    TEXT,
    AppointmentTooltips,
    ItemsMixin,
    Placed,
    day_segments,
    joinable,
    line_join_rect,
    paint_box,
    paint_fill,
)
from calsync_desktop.gui.calendar_model import CalendarModel, local_midnight

DECLINED_TEXT = QColor("#77767b")
"""A declined meeting's line: grey, struck through."""


class MonthCanvas(AppointmentTooltips, ItemsMixin, QWidget):
    """Six weeks of day cells listing each day's appointments."""

    activated = Signal(object)
    newRequested = Signal(object)
    dayOpened = Signal(object)  # a date: open it in the day view
    stepRequested = Signal(int)
    joinRequested = Signal(str)  # an entry's "Join": the online meeting's link

    LINE = 17

    def __init__(self, model: CalendarModel, now: Callable[[], datetime], parent=None):
        super().__init__(parent)
        self.model = model
        self.now = now
        self.placed: list[Placed] = []
        self.more: dict[int, int] = {}
        self.selected_row: int | None = None
        today = now().astimezone(model.tz).date()  # the app's clock, not the computer's
        self.month_start = today.replace(day=1)
        self.cursor = today
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMinimumSize(280, 240)
        model.modelReset.connect(self.relayout)
        # "Join" comes ten minutes before a start and goes at its end
        self._tick = QTimer(self)
        self._tick.setInterval(60_000)
        self._tick.timeout.connect(self.update)
        self._tick.start()

    def join_chip(self, rect: QRectF, metrics: QFontMetrics) -> QRectF | None:
        return line_join_rect(rect, metrics)

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
        if self.defer_while_hidden():
            return
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
            painter.drawText(
                QRectF(col * w, 0, w, 22), Qt.AlignmentFlag.AlignCenter, formats.day_name(day)
            )
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
        now = self.now()
        for placed in self.placed:
            row = rows[placed.row_index]
            selected = placed.row_index == self.selected_row
            painter.setFont(self.font())
            if row.private:
                paint_box(painter, placed.rect, self.model, row, selected)
                continue
            # a declined meeting stays, paler and struck through, as on its box
            declined = meetings.declined(row.occurrence.appointment)
            light = row.appointment.show_as in LIGHT and not declined
            dot = QPointF(placed.rect.left() + 5, placed.rect.center().y())
            if light:
                # free or tentative: the line pale (free outlined with dashes,
                # tentative hatched) and its dot a ring, as the boxes are drawn
                paint_fill(painter, placed.rect, row.colour, row.appointment.show_as)
                painter.setPen(QPen(row.colour, 1.5))
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawEllipse(dot, 3, 3)
            else:
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(row.colour)
                painter.drawEllipse(dot, 3.5, 3.5)
            painter.setPen(DECLINED_TEXT if declined else TEXT)
            if declined:
                font = QFont(self.font())
                font.setStrikeOut(True)
                painter.setFont(font)
            label = self.model.row_data(row, Qt.ItemDataRole.DisplayRole)
            if not row.all_day:
                label = f"{formats.time_text(row.start)} {label}"
            room = placed.rect.width() - 14
            chip = line_join_rect(placed.rect, painter.fontMetrics())
            if chip is not None and joinable(row, now):
                room -= chip.width() + 2  # the title ends before its "Join"
            text = painter.fontMetrics().elidedText(label, Qt.TextElideMode.ElideRight, int(room))
            painter.drawText(
                placed.rect.adjusted(12, 0, 0, 0),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                text,
            )
            if selected:
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.setPen(QPen(SELECTED, 1.5))
                painter.drawRoundedRect(placed.rect, 3, 3)
        painter.setFont(self.font())
        self.paint_joins(painter, now)
        painter.end()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        link = self.join_at(event.position(), self.now())
        if link:
            self.joinRequested.emit(link)
            return
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
            self.setAccessibleDescription(formats.long_date_text(self.cursor))
            self.update()
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.dayOpened.emit(self.cursor)
        else:
            super().keyPressEvent(event)
