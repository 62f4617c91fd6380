"""The Sales Calendar views: slots across DST changes, privacy, navigation."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QFontMetrics, QImage
from PySide6.QtWidgets import QAbstractButton, QLabel, QLineEdit, QToolTip, QWidget

from calsync_desktop.gui.calendar_model import PRIVATE_FILL, PRIVATE_TEXT, CalendarModel, Roles
from calsync_desktop.gui.calendar_view import GUTTER, CalendarWindow, side_by_side
from calsync_desktop.model import Participant, Recurrence

from .conftest import BERLIN, make_appointment


def berlin(*args) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


@pytest.fixture
def window(qtbot, gui_store, gui_clock):
    model = CalendarModel(gui_store, BERLIN, poll_ms=0)
    win = CalendarWindow(model, gui_clock)
    qtbot.addWidget(win)
    win.resize(1100, 800)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.close()
    win.deleteLater()


def placed_for(canvas, contents: str):
    rows = canvas.model.rows()
    return [p for p in canvas.placed if rows[p.row_index].occurrence.contents == contents]


def test_week_view_is_default_and_shows_the_current_week(window):
    assert window.view == "week"
    assert window.model.first_day == date(2026, 3, 23)  # the Monday of the clock's week
    assert window.model.days == 7
    assert window.period_label.text() == "March 2026"  # the header names each day
    assert window.period_label.accessibleName() == "23 Mar 2026 to 29 Mar 2026"


def test_appointments_keep_their_wall_clock_slot_across_the_spring_dst_change(window, gui_store):
    # Europe/Berlin springs forward on Sunday 29 March 2026, 02:00 -> 03:00.
    gui_store.add_appointment(
        make_appointment("Before", berlin(2026, 3, 27, 9), berlin(2026, 3, 27, 10))
    )
    gui_store.add_appointment(
        make_appointment("After", berlin(2026, 3, 29, 9), berlin(2026, 3, 29, 10))
    )
    gui_store.add_appointment(
        make_appointment(
            "Standup",
            berlin(2026, 3, 26, 8, 30),
            berlin(2026, 3, 26, 8, 45),
            recurrence=Recurrence("FREQ=DAILY;COUNT=6"),
        )
    )
    window.model.refresh()
    canvas = window.time_grid.canvas
    hour = canvas.hour_height
    col = canvas.column_width()
    (before,) = placed_for(canvas, "Before")
    (after,) = placed_for(canvas, "After")
    assert before.rect.top() == pytest.approx(9 * hour + 1)
    assert after.rect.top() == pytest.approx(9 * hour + 1)
    assert before.rect.height() == pytest.approx(hour - 2)
    assert int((before.rect.left() - GUTTER) // col) == 4  # Friday
    assert int((after.rect.left() - GUTTER) // col) == 6  # Sunday
    standups = placed_for(canvas, "Standup")
    assert len(standups) == 4  # Thu..Sun in this week
    assert [p.rect.top() for p in standups] == [8.5 * hour + 1] * 4
    window.step(1)  # the following week: the series continues at 08:30 CEST
    assert [p.rect.top() for p in placed_for(canvas, "Standup")] == [8.5 * hour + 1] * 2


def test_autumn_dst_change_and_a_slot_double_click_creates_at_wall_time(window, gui_store, qtbot):
    # Europe/Berlin falls back on Sunday 25 October 2026, 03:00 -> 02:00.
    window.go_to(date(2026, 10, 25))
    gui_store.add_appointment(
        make_appointment("Late", berlin(2026, 10, 25, 18), berlin(2026, 10, 25, 19))
    )
    window.model.refresh()
    canvas = window.time_grid.canvas
    (late,) = placed_for(canvas, "Late")
    assert late.rect.top() == pytest.approx(18 * canvas.hour_height + 1)
    x = GUTTER + 6.5 * canvas.column_width()
    y = 14.25 * canvas.hour_height
    with qtbot.waitSignal(window.newRequested) as blocker:
        qtbot.mouseDClick(canvas, Qt.MouseButton.LeftButton, pos=QPoint(int(x), int(y)))
    start = blocker.args[0]
    assert start == berlin(2026, 10, 25, 14, 0)
    assert start.utcoffset() == timedelta(hours=1)


def test_overlapping_appointments_sit_side_by_side(window, gui_store):
    gui_store.add_appointment(
        make_appointment("A", berlin(2026, 3, 24, 9), berlin(2026, 3, 24, 11))
    )
    gui_store.add_appointment(
        make_appointment("B", berlin(2026, 3, 24, 10), berlin(2026, 3, 24, 12))
    )
    gui_store.add_appointment(
        make_appointment("C", berlin(2026, 3, 24, 13), berlin(2026, 3, 24, 14))
    )
    window.model.refresh()
    canvas = window.time_grid.canvas
    (a,), (b,), (c,) = (placed_for(canvas, n) for n in "ABC")
    assert a.rect.right() <= b.rect.left() + 0.01
    assert a.rect.width() == pytest.approx(b.rect.width())
    assert c.rect.width() > 1.8 * a.rect.width()
    assert side_by_side([(1, 0, 60), (2, 30, 90), (3, 60, 120)]) == {
        1: (0, 2),
        2: (1, 2),
        3: (0, 2),
    }


SECRET = "Divorce lawyer Dr. Strangelove"
SECRET_PLACE = "Hidden Street 7"
SECRET_PERSON = "secret.person@example.com"


def all_widget_texts(root: QWidget) -> list[str]:
    texts = []
    for widget in [root, *root.findChildren(QWidget)]:
        texts += [
            widget.toolTip(),
            widget.accessibleName(),
            widget.accessibleDescription(),
            widget.windowTitle(),
            widget.statusTip(),
            widget.whatsThis(),
        ]
        if isinstance(widget, QLabel | QAbstractButton | QLineEdit):
            texts.append(widget.text())
    return texts


@pytest.mark.parametrize("view", ["day", "week", "month"])
def test_private_appointments_are_grey_boxes_with_an_eye_and_no_text(
    window, gui_store, qtbot, view
):
    private = make_appointment(
        f"{SECRET}\nbring papers",
        berlin(2026, 3, 26, 14),
        berlin(2026, 3, 26, 16),
        location=SECRET_PLACE,
        private=True,
        participants=(Participant("Secret Person", SECRET_PERSON),),
    )
    gui_store.add_appointment(private)
    gui_store.add_appointment(
        make_appointment("Visible call", berlin(2026, 3, 26, 9), berlin(2026, 3, 26, 10))
    )
    window.set_view(view)
    canvas = window.month if view == "month" else window.time_grid.canvas
    window.model.refresh()
    rows = window.model.rows()
    (box,) = [p for p in canvas.placed if rows[p.row_index].private]
    # every role of the model
    index = window.model.index(box.row_index, 0)
    for role in range(0, 40):
        value = window.model.data(index, role)
        if isinstance(value, str):
            assert SECRET not in value and SECRET_PLACE not in value and "Secret" not in value
    assert window.model.data(index, Qt.ItemDataRole.DisplayRole) == PRIVATE_TEXT
    # the tooltip really shown over the box
    centre = box.rect.center().toPoint()
    assert canvas.tooltip_for(QPointF(centre)).startswith(PRIVATE_TEXT)
    qtbot.mouseMove(canvas, centre)
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QHelpEvent
    from PySide6.QtWidgets import QApplication

    QApplication.sendEvent(
        canvas, QHelpEvent(QEvent.Type.ToolTip, centre, canvas.mapToGlobal(centre))
    )
    assert QToolTip.text().startswith(PRIVATE_TEXT)
    # drawn dark grey, its calendar's colour as the edge, the white eye at its
    # top left, then its time and nothing else
    image: QImage = canvas.grab().toImage()
    ratio = image.devicePixelRatio()
    r = box.rect
    sample = image.pixelColor(int((r.right() - 4) * ratio), int((r.bottom() - 3) * ratio))
    assert sample == PRIVATE_FILL
    edge = image.pixelColor(int((r.left() + 1) * ratio), int(r.center().y() * ratio))
    assert edge == rows[box.row_index].colour
    eye_side = min(16, r.height() - 4)
    eye_pixels = [
        image.pixelColor(int((r.left() + 6 + dx) * ratio), int((r.top() + 2 + dy) * ratio))
        for dx in range(int(eye_side))
        for dy in range(int(eye_side))
    ]
    assert any(c.lightness() > 200 for c in eye_pixels)  # the eye's white
    when = window.model.data(index, Roles.TIME_TEXT)
    assert when == "14:00–16:00"
    text_end = r.left() + 6 + eye_side + 5 + QFontMetrics(canvas.font()).horizontalAdvance(when)
    beside = [
        image.pixelColor(int(x * ratio), int(y * ratio))
        for x in range(int(r.left() + 6 + eye_side + 5), int(min(text_end, r.right() - 3)))
        for y in range(int(r.top() + 2), int(r.top() + 2 + eye_side))
    ]
    assert any(c.lightness() > 180 for c in beside)  # the time, light on the grey
    # nothing past the time: no title, no location
    interior = [
        image.pixelColor(int(x * ratio), int(y * ratio))
        for x in range(int(text_end + 3), int(r.right() - 2), 2)
        for y in range(int(r.top() + 2), int(r.bottom() - 2), 2)
    ] + [
        image.pixelColor(int(x * ratio), int(y * ratio))
        for x in range(int(r.left() + 4), int(r.right() - 2), 2)
        for y in range(int(r.top() + eye_side + 6), int(r.bottom() - 2), 2)
    ]
    assert all(c == PRIVATE_FILL for c in interior)
    # selecting it (the accessible description follows the selection)
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=centre)
    assert canvas.accessibleDescription().startswith(PRIVATE_TEXT)
    for text in all_widget_texts(window):
        assert SECRET not in text and SECRET_PLACE not in text and SECRET_PERSON not in text


def test_current_time_line_is_drawn_on_today(window, gui_clock):
    canvas = window.time_grid.canvas
    # clock: Thursday 26 March 2026, 10:30 UTC = 11:30 CET
    assert canvas.now_line_y() == pytest.approx(11.5 * canvas.hour_height)
    image = canvas.grab().toImage()
    x = int(GUTTER + 3.5 * canvas.column_width())
    y = int(11.5 * canvas.hour_height)
    assert image.pixelColor(x, y).red() > 200 and image.pixelColor(x, y).green() < 80
    window.step(1)
    assert canvas.now_line_y() is None


def test_navigation_and_keyboard(window, gui_store, qtbot):
    gui_store.add_appointment(
        make_appointment("First", berlin(2026, 3, 24, 9), berlin(2026, 3, 24, 10))
    )
    gui_store.add_appointment(
        make_appointment("Second", berlin(2026, 3, 25, 9), berlin(2026, 3, 25, 10))
    )
    window.model.refresh()
    canvas = window.time_grid.canvas
    canvas.setFocus()
    qtbot.keyClick(canvas, Qt.Key.Key_PageDown)
    assert window.model.first_day == date(2026, 3, 30)
    qtbot.keyClick(canvas, Qt.Key.Key_PageUp)
    qtbot.keyClick(canvas, Qt.Key.Key_PageUp)
    assert window.model.first_day == date(2026, 3, 16)
    qtbot.keyClick(canvas, Qt.Key.Key_T)
    assert window.model.first_day == date(2026, 3, 23)
    canvas.setFocus()
    qtbot.keyClick(canvas, Qt.Key.Key_Tab)
    assert window.model.row(canvas.selected_row).occurrence.contents == "First"
    qtbot.keyClick(canvas, Qt.Key.Key_Tab)
    assert window.model.row(canvas.selected_row).occurrence.contents == "Second"
    with qtbot.waitSignal(window.activated) as blocker:
        qtbot.keyClick(canvas, Qt.Key.Key_Return)
    assert blocker.args[0].contents == "Second"
    qtbot.keyClick(canvas, Qt.Key.Key_D)
    assert window.view == "day" and window.model.days == 1
    qtbot.keyClick(window.time_grid.canvas, Qt.Key.Key_M)
    assert window.view == "month" and window.model.first_day == date(2026, 2, 23)
    qtbot.keyClick(window.month, Qt.Key.Key_PageDown)
    assert window.period_label.text() == "April 2026"
    qtbot.keyClick(window.month, Qt.Key.Key_W)
    assert window.view == "week"
    window.date_picker.setDate(date(2026, 7, 15))
    assert window.model.first_day == date(2026, 7, 13)


def test_double_click_an_appointment_activates_it(window, gui_store, qtbot):
    gui_store.add_appointment(
        make_appointment("Client", berlin(2026, 3, 24, 9), berlin(2026, 3, 24, 10))
    )
    window.model.refresh()
    canvas = window.time_grid.canvas
    (box,) = placed_for(canvas, "Client")
    with qtbot.waitSignal(window.activated) as blocker:
        qtbot.mouseDClick(canvas, Qt.MouseButton.LeftButton, pos=box.rect.center().toPoint())
    assert blocker.args[0].contents == "Client"


def test_accounts_get_their_own_colours(window, gui_store):
    from calsync_desktop.accounts.base import Account

    gui_store.add_account(Account(id="a1", kind="memory", name="Work", email="me@work.example"))
    gui_store.add_account(Account(id="a2", kind="memory", name="Zoo", email="me@zoo.example"))
    gui_store.add_appointment(
        make_appointment("W", berlin(2026, 3, 24, 9), berlin(2026, 3, 24, 10), account_id="a1")
    )
    gui_store.add_appointment(
        make_appointment("Z", berlin(2026, 3, 25, 9), berlin(2026, 3, 25, 10), account_id="a2")
    )
    gui_store.add_appointment(
        make_appointment("L", berlin(2026, 3, 26, 9), berlin(2026, 3, 26, 10))
    )
    window.model.refresh()
    colours = {r.occurrence.contents: QColor(r.colour).name() for r in window.model.rows()}
    assert len(set(colours.values())) == 3


def test_an_account_keeps_its_colour_when_another_is_added(window, gui_store):
    from calsync_desktop.accounts.base import Account

    gui_store.add_account(Account(id="a1", kind="memory", name="Work", email="me@work.example"))
    gui_store.add_appointment(
        make_appointment("W", berlin(2026, 3, 24, 9), berlin(2026, 3, 24, 10), account_id="a1")
    )
    window.model.refresh()
    before = QColor(window.model.rows()[0].colour).name()
    # "Alpha" sorts before "Work": with colours by list position, Work's would change
    gui_store.add_account(Account(id="a0", kind="memory", name="Alpha", email="a@x.example"))
    window.model.refresh()
    assert QColor(window.model.rows()[0].colour).name() == before
    assert window.model.account_colour("a0").name() != before


def test_the_week_opens_at_working_hours_with_the_hour_label_in_view(window, qtbot):
    view = window.time_grid
    bar = view.scroll.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.value() > 0)
    line = view.canvas.minute_y(8 * 60)
    # 08:00 is near the top, and its label (drawn across the line) is not cut off
    assert line - view.label_room() == bar.value()
    assert view.label_room() >= QFontMetrics(view.canvas.font()).ascent()
    assert bar.value() < line < bar.value() + view.scroll.viewport().height() / 4


def test_the_week_opens_at_an_earlier_appointment(qtbot, gui_store, gui_clock):
    gui_store.add_appointment(
        make_appointment("Flight", berlin(2026, 3, 25, 6, 15), berlin(2026, 3, 25, 7))
    )
    model = CalendarModel(gui_store, BERLIN, poll_ms=0)
    win = CalendarWindow(model, gui_clock)
    qtbot.addWidget(win)
    win.resize(1100, 800)
    win.show()
    bar = win.time_grid.scroll.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.value() > 0)
    assert bar.value() == win.time_grid.canvas.minute_y(6 * 60) - win.time_grid.label_room()
    win.close()


def test_the_week_opens_at_its_first_appointment_even_at_night(qtbot, gui_store, gui_clock):
    gui_store.add_appointment(
        make_appointment("Red-eye", berlin(2026, 3, 25, 0, 30), berlin(2026, 3, 25, 1, 30))
    )
    model = CalendarModel(gui_store, BERLIN, poll_ms=0)
    win = CalendarWindow(model, gui_clock)
    qtbot.addWidget(win)
    win.resize(1100, 800)
    win.show()
    # the earlier of the week's first appointment and the working day's start
    assert win.time_grid.first_hour() == 0
    win.step(1)  # a week without it opens at the working day again
    assert win.time_grid.first_hour() == 8
    win.close()


def test_a_long_status_ends_in_an_ellipsis_and_keeps_the_whole_text(window):
    problem = (
        "The team server cannot be reached, so the Sales Calendar cannot be read or saved "
        "right now. Nothing was lost; Calendar Sync reconnects by itself. (connection failed: "
        "connection to server at 127.0.0.1, port 5432 failed: Connection refused)"
    )
    window.set_status(problem)
    label = window.last_sync_label
    assert label.width() < label.fontMetrics().horizontalAdvance(problem)
    # what shows ends in "…" rather than being cut off mid-word at the bar's edge
    from PySide6.QtWidgets import QLabel

    shown = QLabel.text(label)
    assert shown.endswith("…") and problem.startswith(shown[:-1])
    assert label.text() == problem and label.toolTip() == problem
    window.set_status("Last sync 11:40")
    assert QLabel.text(label) == "Last sync 11:40"
