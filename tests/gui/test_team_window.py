"""The window on a team Sales Calendar, against a real PostgreSQL (tests/pg.py):
the calendar list with "My calendar" and each colleague, colleagues'
appointments in their colour and read-only, their private ones the grey box
with the time only (the database withholds the rest), and a meeting in
several members' calendars drawn once with each attending member marked."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QLineEdit, QPlainTextEdit

from calsync_desktop.gui.calendar_list import (
    COLLEAGUE_COLOURS,
    LOCAL_KEY,
    Role,
    member_key,
)
from calsync_desktop.gui.calendar_model import PRIVATE_FILL, PRIVATE_TEXT
from calsync_desktop.gui.colleague_dialog import ColleagueAppointmentDialog
from calsync_desktop.model import InviteStatus, Participant
from tests.gui.conftest import TEAM_MONDAY, make_appointment, team_at

ANN, BOB = "ann@team.example", "bob@team.example"
MONDAY = TEAM_MONDAY
SECRET = "Root canal at Dr Molar"
at = team_at


@pytest.fixture
def with_bob(team):
    """Ann's app and Bob's calendar with a visit and a private appointment."""
    ann, bob = team
    bob.add_appointment(
        make_appointment(
            "Bob's customer visit\nBring the price list",
            *at(0, 10),
            location="Acme, Hamburg",
            participants=[Participant("Cleo Client", "cleo@acme.example", InviteStatus.ACCEPTED)],
        )
    )
    bob.add_appointment(make_appointment(SECRET, *at(1, 11), location="Molar St 1", private=True))
    return ann, bob


def rows_named(app, text: str):
    return [r for r in app.model.rows() if r.occurrence.contents.startswith(text)]


def test_the_calendar_list_has_my_calendar_and_each_colleague_with_a_colour_and_a_check_box(
    qtbot, with_bob, make_app_for
):
    ann, _bob = with_bob
    app = make_app_for(ann)
    app.window.go_to(MONDAY.date())
    calendars = app.calendars
    heads = [calendars.item(r).text() for r in range(calendars.rowCount())]
    assert heads == ["My calendar", "Colleagues"]
    colleagues = calendars.item(1)
    assert [colleagues.child(i).text() for i in range(colleagues.rowCount())] == ["Bob Baker"]
    entry = calendars.entry(member_key(BOB))
    assert entry.read_only and entry.colour in COLLEAGUE_COLOURS
    assert entry.colour != calendars.colour(LOCAL_KEY)
    bob_item = colleagues.child(0)
    assert bob_item.isCheckable() and bob_item.data(Role.READ_ONLY)
    assert "Read-only" in bob_item.toolTip() and BOB in bob_item.toolTip()

    # Bob's appointments in his colour, read-only; the private one as the grey box
    visit, private = (
        rows_named(app, "Bob's customer visit")[0],
        next(r for r in app.model.rows() if r.private),
    )
    assert visit.colour == entry.colour and visit.read_only and visit.account_name == "Bob Baker"
    assert private.read_only and private.key == member_key(BOB)
    # the database gave the app nothing of it but its times
    assert private.occurrence.contents == "" and private.occurrence.location == ""
    assert private.appointment.participants == ()
    index = app.model.index_of_row(private)
    for role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
        assert app.model.data(index, role).startswith(PRIVATE_TEXT)
    assert "Bob Baker" in app.model.data(index, Qt.ItemDataRole.ToolTipRole)
    app.window.show()
    canvas = app.window.time_grid.canvas
    qtbot.waitUntil(lambda: bool(canvas.placed))
    box = next(p for p in canvas.placed if app.model.rows()[p.row_index] is private)
    image = canvas.grab().toImage()
    ratio = image.devicePixelRatio()
    r = box.rect
    assert image.pixelColor(int((r.right() - 4) * ratio), int((r.bottom() - 3) * ratio)) == (
        PRIVATE_FILL
    )
    assert image.pixelColor(int((r.left() + 1) * ratio), int(r.center().y() * ratio)) == (
        entry.colour
    )

    # hiding Bob hides his appointments, and it is remembered across a restart
    calendars.set_visible(member_key(BOB), False)
    assert not [r for r in app.model.rows() if r.key == member_key(BOB)]
    app.shutdown()
    again = make_app_for(ann)
    again.window.go_to(MONDAY.date())
    assert not again.calendars.is_visible(member_key(BOB))
    assert not [r for r in again.model.rows() if r.key == member_key(BOB)]
    again.calendars.set_visible(member_key(BOB), True)
    assert len([r for r in again.model.rows() if r.key == member_key(BOB)]) == 2


def _texts(dialog) -> str:
    parts = [w.text() for w in dialog.findChildren(QLabel)]
    parts += [w.toPlainText() for w in dialog.findChildren(QPlainTextEdit)]
    return "\n".join([*parts, dialog.windowTitle()])


def test_a_colleagues_appointment_opens_read_only_and_says_whose_it_is(
    qtbot, with_bob, make_app_for
):
    ann, _ = with_bob
    app = make_app_for(ann)
    app.window.go_to(MONDAY.date())
    opened = []
    app.editor.open_dialog = lambda d: opened.append(d) or False
    visit = rows_named(app, "Bob's customer visit")[0]
    app.window.activated.emit(visit.occurrence)
    dialog = app.dialogs["colleague"]
    assert isinstance(dialog, ColleagueAppointmentDialog) and not opened  # not the editor
    assert dialog.windowTitle() == "Bob Baker's appointment"
    assert dialog.fields["Title"] == "Bob's customer visit"
    assert dialog.fields["Location"] == "Acme, Hamburg"
    assert dialog.fields["Participants"] == "Cleo Client"
    assert dialog.notes.toPlainText() == "Bring the price list" and dialog.notes.isReadOnly()
    assert "only Bob Baker can change it" in dialog.note.text()
    assert not [e for e in dialog.findChildren(QLineEdit) if not e.isReadOnly()]
    dialog.close()

    private = next(r for r in app.model.rows() if r.private)
    app.window.activated.emit(private.occurrence)
    dialog = app.dialogs["colleague"]
    assert list(dialog.fields) == ["When"]  # the time, nothing else
    assert dialog.fields["When"] == "Tuesday, 24 March 2026, 11:00–12:00"
    text = _texts(dialog)
    assert PRIVATE_TEXT in text and "Only Bob Baker sees what it is about" in text
    for secret in (SECRET, "Root canal", "Molar"):
        assert secret not in text


def test_a_meeting_in_several_members_calendars_is_drawn_once_with_each_member_marked(
    qtbot, with_bob, make_app_for
):
    ann, bob = with_bob
    start, end = at(2, 14)
    for store in (ann.store, bob):
        store.add_appointment(
            make_appointment("Pipeline review\nQ2 numbers", start, end, ical_uid="review-q2@acme")
        )
    # the same meeting uid at another time is another occurrence, not this one
    bob.add_appointment(make_appointment("Pipeline review", *at(3, 14), ical_uid="review-q2@acme"))
    app = make_app_for(ann)
    app.window.go_to(MONDAY.date())
    reviews = rows_named(app, "Pipeline review")
    assert len(reviews) == 2
    meeting = next(r for r in reviews if r.occurrence.start == start)
    bob_colour = app.calendars.colour(member_key(BOB))
    mine = app.calendars.colour(LOCAL_KEY)
    assert meeting.members == (("You", mine), ("Bob Baker", bob_colour))
    assert not meeting.read_only and meeting.key == LOCAL_KEY  # my own copy, editable
    tip = app.model.data(app.model.index_of_row(meeting), Qt.ItemDataRole.ToolTipRole)
    assert "In the calendars of You, Bob Baker" in tip
    other = next(r for r in reviews if r is not meeting)
    assert other.members == () and other.read_only

    # drawn: one box, with a dot in each member's colour at its top right
    app.window.show()
    canvas = app.window.time_grid.canvas
    qtbot.waitUntil(lambda: bool(canvas.placed))
    boxes = [p for p in canvas.placed if app.model.rows()[p.row_index] is meeting]
    assert len(boxes) == 1
    image = canvas.grab().toImage()
    ratio = image.devicePixelRatio()
    r = boxes[0].rect
    from calsync_desktop.gui.boxes import member_dots

    dots = member_dots(r, meeting.members)
    assert [c for _, c in dots] == [bob_colour, mine]  # drawn from the right
    for dot, colour in dots:
        centre = dot.center()
        assert r.contains(dot)
        assert image.pixelColor(int(centre.x() * ratio), int(centre.y() * ratio)) == colour

    # with my calendar hidden the meeting still shows once, from Bob's copy, read-only
    app.calendars.set_visible(LOCAL_KEY, False)
    meeting = next(r for r in rows_named(app, "Pipeline review") if r.occurrence.start == start)
    assert meeting.read_only and meeting.key == member_key(BOB)
    assert [n for n, _ in meeting.members] == ["You", "Bob Baker"]
    assert len([r for r in rows_named(app, "Pipeline review") if r.occurrence.start == start]) == 1
