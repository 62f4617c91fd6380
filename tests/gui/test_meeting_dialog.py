"""A meeting someone else organises in the window (SPEC §10): the dialog names
the organiser, offers Accept / Tentative / Decline and keeps the organiser's
fields read-only; a declined meeting is drawn struck through, and Settings ›
Calendar can hide it."""

from __future__ import annotations

from datetime import datetime, timedelta

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter

from calsync_desktop.accounts.base import Account
from calsync_desktop.gui.appointment_dialog import AppointmentDialog
from calsync_desktop.gui.boxes import paint_box
from calsync_desktop.gui.calendar_model import CalendarModel
from calsync_desktop.gui.meeting_panel import HIDE_DECLINED_SETTING, hide_declined
from calsync_desktop.model import Appointment, MyResponse, Organizer, new_id

from .conftest import BERLIN

BOSS = Organizer("Beth Boss", "boss@customer.example")
GOOGLE = Account(id="acc-google", kind="google", name="Work", email="me@example.com")
EXCHANGE = Account(id="acc-ews", kind="exchange", name="Office", email="me@example.com")


def _meeting(account: Account, **kw) -> Appointment:
    start = datetime(2026, 4, 2, 10, tzinfo=BERLIN)
    kw.setdefault("account_id", account.id)
    kw.setdefault("organizer", BOSS)
    return Appointment(
        new_id(),
        "Quarterly review\nAgenda from Beth",
        start,
        start + timedelta(hours=1),
        "Europe/Berlin",
        location="Room 4",
        **kw,
    )


def _dialog(qtbot, appointment, account) -> AppointmentDialog:
    dialog = AppointmentDialog(appointment, False, accounts=[account])
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def test_the_dialog_names_the_organiser_and_keeps_their_fields_read_only(qtbot, tmp_path):
    dialog = _dialog(qtbot, _meeting(GOOGLE), GOOGLE)
    assert dialog.meeting is not None
    assert dialog.meeting.organiser.text() == "Organised by Beth Boss <boss@customer.example>"
    assert "Only the organiser can change this meeting on Google" in dialog.meeting.note.text()
    assert dialog.title.isReadOnly() and dialog.location.isReadOnly() and dialog.start.isReadOnly()
    assert not dialog.recurrence.isEnabled() and not dialog.participants.isEnabled()
    assert not dialog.private.isEnabled()  # Google keeps visibility the organiser's
    dialog.grab().save(str(tmp_path / "meeting-dialog.png"))


def test_a_meeting_whose_organiser_lets_guests_modify_it_is_editable(qtbot):
    lets = Organizer(BOSS.name, BOSS.email, guests_can_modify=True)
    dialog = _dialog(qtbot, _meeting(GOOGLE, organizer=lets), GOOGLE)
    assert "lets the guests change this meeting" in dialog.meeting.note.text()
    assert dialog.meeting.buttons[MyResponse.ACCEPTED].isEnabled()  # still answered
    assert not dialog.title.isReadOnly() and not dialog.location.isReadOnly()
    assert dialog.recurrence.isEnabled() and dialog.participants.isEnabled()
    dialog.location.setText("Room 5")
    assert dialog.appointment().location == "Room 5"  # not refused as the organiser's


def test_exchange_lets_the_attendee_mark_their_copy_private(qtbot):
    dialog = _dialog(qtbot, _meeting(EXCHANGE), EXCHANGE)
    assert dialog.private.isEnabled()
    assert "whether it is private" in dialog.meeting.note.text()


def test_an_answer_from_the_dialog_is_kept_for_the_sync_to_send(qtbot):
    dialog = _dialog(qtbot, _meeting(GOOGLE), GOOGLE)
    assert dialog.meeting.state.text() == "You have not answered yet."
    dialog.meeting.buttons[MyResponse.DECLINED].click()
    assert dialog.meeting.buttons[MyResponse.DECLINED].isChecked()
    assert "next sync sends your answer" in dialog.meeting.state.text()
    saved = dialog.appointment()
    assert saved.my_response is MyResponse.DECLINED
    assert (saved.contents, saved.location) == ("Quarterly review\nAgenda from Beth", "Room 4")


def test_ones_own_appointment_has_no_answer_buttons(qtbot):
    start = datetime(2026, 4, 2, 10, tzinfo=BERLIN)
    own = Appointment(new_id(), "My call", start, start + timedelta(hours=1), "Europe/Berlin")
    dialog = _dialog(qtbot, own, GOOGLE)
    assert dialog.meeting is None and not dialog.title.isReadOnly()


def test_a_declined_meeting_is_struck_through_and_the_setting_hides_it(qtbot, store, tmp_path):
    declined = _meeting(GOOGLE, my_response=MyResponse.DECLINED, account_id=None)
    accepted = _meeting(GOOGLE, my_response=MyResponse.ACCEPTED, account_id=None).with_changes(
        start=declined.start + timedelta(hours=2), end=declined.end + timedelta(hours=2)
    )
    store.add_appointment(declined)
    store.add_appointment(accepted)
    model = CalendarModel(store, BERLIN, poll_ms=0)
    model.set_range(declined.start.date(), 1)
    assert len(model.rows()) == 2
    rows = {r.occurrence.appointment.my_response: r for r in model.rows()}
    pictures = {}
    for answer, row in rows.items():
        image = QImage(220, 60, QImage.Format.Format_ARGB32)
        image.fill(QColor("white"))
        painter = QPainter(image)
        paint_box(painter, QRectF(0, 0, 220, 60), model, row, False)
        painter.end()
        image.save(str(tmp_path / f"box-{answer.value}.png"))
        pictures[answer] = image
    # paler than an accepted one, and different (the title struck through)
    assert pictures[MyResponse.DECLINED] != pictures[MyResponse.ACCEPTED]
    fill = pictures[MyResponse.DECLINED].pixelColor(100, 55).lightness()
    assert fill > pictures[MyResponse.ACCEPTED].pixelColor(100, 55).lightness()
    tip = model.row_data(rows[MyResponse.DECLINED], Qt.ItemDataRole.ToolTipRole)
    assert "You declined this meeting" in tip
    assert "declined" not in model.row_data(rows[MyResponse.ACCEPTED], Qt.ItemDataRole.ToolTipRole)
    store.set_setting(HIDE_DECLINED_SETTING, True)
    model.set_hide_declined(hide_declined(store))
    assert [r.occurrence.appointment.my_response for r in model.rows()] == [MyResponse.ACCEPTED]


def test_someone_elses_meeting_looks_read_only_and_fits_without_scrolling(qtbot):
    from PySide6.QtGui import QPalette

    from calsync_desktop.model import InviteStatus, Participant

    people = tuple(
        Participant(name, f"{name.lower()}@customer.example", InviteStatus.ACCEPTED)
        for name in ("Beth", "Bob", "Cy")
    )
    dialog = _dialog(qtbot, _meeting(EXCHANGE, participants=people), EXCHANGE)
    for field in (dialog.title, dialog.location, dialog.notes):
        palette = field.palette()
        # no white field to type in: the window's colour
        assert palette.color(QPalette.ColorRole.Base) == palette.color(QPalette.ColorRole.Window)
    # the answer is what there is to do; the read-only title is not focused
    assert dialog.focusWidget() is dialog.meeting.buttons[MyResponse.ACCEPTED]
    # the organiser's panel, the fields, three participants and the notes: no scrolling
    assert dialog.scroll.verticalScrollBar().maximum() == 0
    # one's own appointment keeps white fields to type in
    own = _dialog(qtbot, _meeting(EXCHANGE).with_changes(organizer=None), EXCHANGE)
    palette = own.title.palette()
    assert palette.color(QPalette.ColorRole.Base) != palette.color(QPalette.ColorRole.Window)
