"""Show-as and online meetings in the window (SPEC §10): free and tentative
boxes drawn lighter, out of office distinctly, "Join" on a box and in the
dialog from ten minutes before the start (by the app's clock), never on a
private box; the dialog sets show-as."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QFontMetrics

from calsync_desktop.accounts.base import Account
from calsync_desktop.gui.appointment_dialog import AppointmentDialog
from calsync_desktop.gui.boxes import (
    JOIN_FILL,
    OUT_OF_OFFICE,
    blend_on_white,
    join_rect,
    line_join_rect,
)
from calsync_desktop.gui.calendar_model import PRIVATE_FILL, Roles
from calsync_desktop.model import MyResponse, Organizer, ShowAs

from . import test_calendar_view as views
from .conftest import make_appointment

berlin = views.berlin
window = views.window  # the calendar views' window fixture, shared

JOIN = "https://teams.microsoft.com/l/meetup-join/19%3ameeting_abc%40thread.v2/0"


def box_of(canvas, contents: str):
    rows = canvas.model.rows()
    (placed,) = [p for p in canvas.placed if rows[p.row_index].occurrence.contents == contents]
    return placed, rows[placed.row_index]


def inside(canvas, rect) -> QColor:
    """A pixel of the box away from its text, edge and outline."""
    image = canvas.grab().toImage()
    ratio = image.devicePixelRatio()
    return image.pixelColor(int((rect.right() - 6) * ratio), int((rect.bottom() - 4) * ratio))


def test_free_and_tentative_are_lighter_and_out_of_office_is_purple(window, gui_store):
    # Thursday 26 March 2026 (the clock's day), one box a day apart each
    for hour, show in ((8, ShowAs.BUSY), (10, ShowAs.FREE), (13, ShowAs.TENTATIVE)):
        gui_store.add_appointment(
            make_appointment(show.label, berlin(2026, 3, 26, hour), berlin(2026, 3, 26, hour + 2),
                             show_as=show)
        )  # fmt: skip
    gui_store.add_appointment(
        make_appointment(
            "Holiday", berlin(2026, 3, 27, 8), berlin(2026, 3, 27, 17), show_as=ShowAs.OUT_OF_OFFICE
        )
    )
    window.model.refresh()
    canvas = window.time_grid.canvas
    busy, row = box_of(canvas, "Busy")
    colour = row.colour
    assert inside(canvas, busy.rect) == blend_on_white(colour)
    free, _ = box_of(canvas, "Free")
    tentative, _ = box_of(canvas, "Tentative")
    assert inside(canvas, free.rect).lightness() > blend_on_white(colour).lightness()
    # tentative: pale, with the hatching in the calendar's colour across it
    image = canvas.grab().toImage()
    ratio = image.devicePixelRatio()
    r = tentative.rect
    strip = {
        image.pixelColor(int(x * ratio), int((r.bottom() - 4) * ratio)).name()
        for x in range(int(r.left() + 40), int(r.right() - 4))
    }
    assert len(strip) >= 2  # hatched, not a flat fill
    shades = [
        image.pixelColor(int(x * ratio), int(y * ratio)).lightness()
        for x in range(int(r.left() + 40), int(r.right() - 4))
        for y in range(int(r.bottom() - 20), int(r.bottom() - 3))
    ]
    assert sum(shades) / len(shades) > blend_on_white(colour).lightness()  # lighter overall
    oof, _ = box_of(canvas, "Holiday")
    assert inside(canvas, oof.rect) == blend_on_white(OUT_OF_OFFICE, 70)
    # the tooltip says it in words
    index = window.model.index(row_index(window, "Tentative"), 0)
    assert "(tentative)" in window.model.data(index, Qt.ItemDataRole.ToolTipRole)


def test_the_month_view_draws_free_and_tentative_lines_lighter_as_the_boxes(window, gui_store):
    # one line a day, at the same place in each day's cell
    for day, show in ((24, ShowAs.BUSY), (25, ShowAs.FREE), (26, ShowAs.TENTATIVE)):
        gui_store.add_appointment(
            make_appointment(show.label, berlin(2026, 3, day, 9), berlin(2026, 3, day, 10),
                             show_as=show)
        )  # fmt: skip
    window.resize(1600, 800)  # cells wide enough for a stretch of each line past its title
    window.set_view("month")
    window.model.refresh()
    canvas = window.month
    image = canvas.grab().toImage()
    ratio = image.devicePixelRatio()

    def pixel(x: float, y: float) -> QColor:
        return image.pixelColor(int(x * ratio), int(y * ratio))

    lines = {
        show: box_of(canvas, show.label) for show in (ShowAs.BUSY, ShowAs.FREE, ShowAs.TENTATIVE)
    }
    colour = lines[ShowAs.BUSY][1].colour
    assert {row.colour.name() for _, row in lines.values()} == {colour.name()}

    def dot(show: ShowAs) -> QColor:
        rect = lines[show][0].rect
        return pixel(rect.left() + 5, rect.center().y())

    def strip(show: ShowAs) -> list[QColor]:
        """The line's background past its title."""
        rect = lines[show][0].rect
        return [
            pixel(x, rect.center().y())
            for x in range(int(rect.right() - 40), int(rect.right() - 4))
        ]

    # busy: a dot in the calendar's colour on the cell's white
    assert dot(ShowAs.BUSY) == colour
    assert {c.name() for c in strip(ShowAs.BUSY)} == {"#ffffff"}
    # free: the line pale in the calendar's colour, the dot a ring (its middle pale)
    assert {c.name() for c in strip(ShowAs.FREE)} == {blend_on_white(colour, 22).name()}
    assert dot(ShowAs.FREE) != colour and dot(ShowAs.FREE).lightness() > colour.lightness()
    # tentative: pale and hatched, lighter than the colour, darker than a white cell
    hatched = strip(ShowAs.TENTATIVE)
    assert len({c.name() for c in hatched}) >= 2
    shade = sum(c.lightness() for c in hatched) / len(hatched)
    assert colour.lightness() < shade < 255
    assert dot(ShowAs.TENTATIVE) != colour


def row_index(window, contents: str) -> int:
    rows = window.model.rows()
    return next(i for i, r in enumerate(rows) if r.occurrence.contents == contents)


def test_a_private_free_appointment_is_a_lighter_grey_box(window, gui_store):
    gui_store.add_appointment(
        make_appointment(
            "Secret", berlin(2026, 3, 26, 14), berlin(2026, 3, 26, 16), private=True,
            show_as=ShowAs.FREE,
        )
    )  # fmt: skip
    window.model.refresh()
    canvas = window.time_grid.canvas
    rows = window.model.rows()
    (box,) = [p for p in canvas.placed if rows[p.row_index].private]
    shade = inside(canvas, box.rect)
    assert shade != PRIVATE_FILL and shade.lightness() > PRIVATE_FILL.lightness()
    index = window.model.index(box.row_index, 0)
    assert "Secret" not in window.model.data(index, Qt.ItemDataRole.ToolTipRole)


@pytest.mark.parametrize("view", ["week", "month"])
def test_join_shows_on_the_box_from_ten_minutes_before_and_opens_the_link(
    window, gui_store, gui_clock, qtbot, view
):
    # the clock: 26 March 2026, 10:30 UTC = 11:30 in Berlin
    gui_store.add_appointment(
        make_appointment(
            "Weekly sync", berlin(2026, 3, 26, 11, 45), berlin(2026, 3, 26, 13), join_url=JOIN
        )
    )
    gui_store.add_appointment(
        make_appointment(
            "Lawyer", berlin(2026, 3, 26, 11, 35), berlin(2026, 3, 26, 12, 30),
            private=True, join_url=JOIN,
        )
    )  # fmt: skip
    window.set_view(view)
    window.model.refresh()
    canvas = window.month if view == "month" else window.time_grid.canvas
    placed, _ = box_of(canvas, "Weekly sync")
    # a box's button (day, week), or one at the end of a month view's line
    where = line_join_rect if view == "month" else join_rect
    chip = where(placed.rect, QFontMetrics(canvas.font()))
    assert chip is not None

    def chip_colour() -> QColor:
        image = canvas.grab().toImage()
        ratio = image.devicePixelRatio()
        return image.pixelColor(int((chip.left() + 2) * ratio), int(chip.center().y() * ratio))

    # 15 minutes before: no button; a click there selects the box
    assert chip_colour() != JOIN_FILL
    with qtbot.assertNotEmitted(window.joinRequested):
        qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=chip.center().toPoint())
    assert canvas.selected_row == placed.row_index
    # 10 minutes before: the button is there and the window opens the meeting
    gui_clock.now = datetime(2026, 3, 26, 10, 35, tzinfo=UTC)
    canvas.update()
    assert chip_colour() == JOIN_FILL
    with qtbot.waitSignal(window.joinRequested) as joined:
        qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=chip.center().toPoint())
    assert joined.args == [JOIN]
    # never on a private box, even one's own
    rows = window.model.rows()
    (private,) = [p for p in canvas.placed if rows[p.row_index].private]
    corner = private.rect.topRight() + QPointF(-6, 7)
    assert canvas.join_at(corner, gui_clock()) == ""
    # over once the meeting has ended
    gui_clock.now = datetime(2026, 3, 26, 12, 0, tzinfo=UTC)
    assert canvas.join_at(QPointF(chip.center()), gui_clock()) == ""


def test_the_dialog_sets_show_as_and_offers_join_by_the_clock(qtbot, gui_clock):
    opened = []
    meeting = make_appointment(
        "Board meeting",
        datetime(2026, 3, 26, 10, 45, tzinfo=UTC),
        datetime(2026, 3, 26, 11, 30, tzinfo=UTC),
        join_url=JOIN,
        organizer=Organizer("Dana Boss", "dana@acme.example"),
        my_response=MyResponse.TENTATIVE,
        show_as=ShowAs.TENTATIVE,
        account_id="work",
    )
    work = Account("work", "google", "Work", "me@example.com")
    dialog = AppointmentDialog(
        meeting, False, accounts=[work], clock=gui_clock, open_url=opened.append
    )
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.show_as.currentText() == "Tentative"
    # someone else's meeting on Google: show-as is the attendee's own to set
    assert dialog.show_as.isEnabled() and dialog.title.isReadOnly()
    assert not dialog.join_row.join.isVisible()  # 15 minutes before
    assert "ten minutes before" in dialog.join_row.when.text()
    gui_clock.now = datetime(2026, 3, 26, 10, 36, tzinfo=UTC)
    dialog.join_row.refresh()
    assert dialog.join_row.join.isVisible()
    qtbot.mouseClick(dialog.join_row.join, Qt.MouseButton.LeftButton)
    assert opened == [JOIN]
    dialog.show_as.set_value(ShowAs.OUT_OF_OFFICE)
    assert dialog.appointment().show_as is ShowAs.OUT_OF_OFFICE
    # an appointment without link or organiser has no meeting row at all
    plain = AppointmentDialog(make_appointment("Call", meeting.start, meeting.end), False)
    qtbot.addWidget(plain)
    assert not plain.form.isRowVisible(plain.join_row)
    assert plain.appointment().show_as is ShowAs.BUSY


def test_time_text_role_is_unchanged_by_show_as(window, gui_store):
    gui_store.add_appointment(
        make_appointment(
            "Focus", berlin(2026, 3, 26, 9), berlin(2026, 3, 26, 10), show_as=ShowAs.FREE
        )
    )
    window.model.refresh()
    index = window.model.index(row_index(window, "Focus"), 0)
    assert window.model.data(index, Roles.TIME_TEXT) == "09:00–10:00"


def _text_end(canvas, x0: float, x1: float, y0: float, y1: float) -> int:
    """The rightmost column between x0 and x1 with text (a dark pixel) in it."""
    image = canvas.grab().toImage()
    ratio = image.devicePixelRatio()
    columns = [
        x
        for x in range(int(x0), int(x1))
        if any(
            image.pixelColor(int(x * ratio), int(y * ratio)).lightness() < 90
            for y in range(int(y0), int(y1))
        )
    ]
    return max(columns, default=-1)


TIGHT_TITLE = "MWMWMWMWMWMWMWMWMWMWMWMW"
"""Letters without gaps between them: the title's last column of ink is where it ends."""


def test_a_box_title_ends_before_its_join_button(window, gui_store, gui_clock):
    # the clock: 11:30 in Berlin, a quarter of an hour before the meeting
    gui_store.add_appointment(
        make_appointment(
            TIGHT_TITLE,
            berlin(2026, 3, 26, 11, 45),
            berlin(2026, 3, 26, 12, 30),
            join_url=JOIN,
        )
    )
    window.model.refresh()
    canvas = window.time_grid.canvas
    placed, _ = box_of(canvas, TIGHT_TITLE)
    box = placed.rect
    chip = join_rect(box, QFontMetrics(canvas.font()))
    assert chip is not None and chip.top() < box.top() + 10  # beside the title

    # no Join yet: the title runs on into where the button will be
    assert _text_end(canvas, box.left(), box.right(), chip.top(), chip.bottom()) > chip.left()
    # from ten minutes before: the title ends before the button (drawn again for it)
    gui_clock.now = datetime(2026, 3, 26, 10, 35, tzinfo=UTC)
    canvas.update()
    end = _text_end(canvas, box.left(), chip.left(), chip.top(), chip.bottom())
    assert 0 < end <= chip.left() - 4


def test_the_month_view_strikes_a_declined_meeting_through_and_greys_it(window, gui_store):
    from calsync_desktop.gui.month_view import DECLINED_TEXT

    for title, answer in (
        ("Declined one", MyResponse.DECLINED),
        ("Accepted one", MyResponse.ACCEPTED),
    ):
        gui_store.add_appointment(
            make_appointment(
                title, berlin(2026, 3, 24, 9), berlin(2026, 3, 24, 10),
                organizer=Organizer("Beth Boss", "beth@customer.example"), my_response=answer,
            )
        )  # fmt: skip
    window.resize(1600, 800)  # cells wide enough for a stretch of each line past its title
    window.set_view("month")
    window.model.refresh()
    canvas = window.month
    image = canvas.grab().toImage()
    ratio = image.devicePixelRatio()

    def darkest(title: str) -> int:
        placed, _ = box_of(canvas, title)
        r = placed.rect
        return min(
            image.pixelColor(int(x * ratio), int(y * ratio)).lightness()
            for x in range(int(r.left() + 12), int(r.right()))
            for y in range(int(r.top()), int(r.bottom()))
        )

    assert darkest("Accepted one") < 60  # black text
    assert darkest("Declined one") >= QColor(DECLINED_TEXT).lightness() - 10  # grey text


def test_the_month_view_opens_on_the_apps_day(window):
    # the app's clock says 26 March 2026, whatever the computer's date
    window.set_view("month")
    assert window.month.cursor == window.now().astimezone(window.model.tz).date()
    assert window.month.month_start.month == 3
