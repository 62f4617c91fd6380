"""The appointment dialog as a user works with it: title and notes, weekly on
the start's weekday, ends never / on a date / after N, participants shown
whole and marked when they have no email, the account used last, one
occurrence of a series changed or deleted alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtCore import QPoint, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QPushButton, QWidget

from calsync_desktop.gui.appointment_dialog import (
    ALL_IN_SERIES,
    THIS_ONE,
    AppointmentDialog,
    ask_scope,
    to_qdatetime,
)
from calsync_desktop.gui.appointment_editor import AppointmentEditor
from calsync_desktop.gui.participants import NO_EMAIL_STATUS
from calsync_desktop.model import (
    Appointment,
    InviteStatus,
    Participant,
    Recurrence,
    new_id,
    occurrences,
)

from .conftest import BERLIN, add_memory_account


def berlin(*args) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


def dialog_for(qtbot, appointment, **kwargs) -> AppointmentDialog:
    dialog = AppointmentDialog(appointment, kwargs.pop("is_new", False), **kwargs)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def inside(widget: QWidget, top: QWidget) -> bool:
    """The widget's whole rectangle lies within ``top`` (nothing cut off)."""
    a = widget.mapTo(top, QPoint(0, 0))
    b = widget.mapTo(top, QPoint(widget.width() - 1, widget.height() - 1))
    return top.rect().contains(a) and top.rect().contains(b)


# --------------------------------------------------------------------------- item 11


def test_title_and_notes_are_separate_and_make_the_contents(qtbot, services):
    appt = Appointment(
        new_id(),
        "Demo for Globex\nShow the reporting module\nBring the laptop",
        berlin(2026, 4, 2, 10),
        berlin(2026, 4, 2, 11),
        "Europe/Berlin",
    )
    dialog = dialog_for(qtbot, appt)
    assert dialog.title.text() == "Demo for Globex"
    assert dialog.notes.toPlainText() == "Show the reporting module\nBring the laptop"
    assert dialog.title.accessibleName() == "Title" and dialog.notes.accessibleName() == "Notes"
    dialog.title.setText("Demo for Globex Ltd")
    dialog.notes.setPlainText("")
    assert dialog.appointment().contents == "Demo for Globex Ltd"
    dialog.notes.setPlainText("Agenda:\n1. Reports\n")
    assert dialog.appointment().contents == "Demo for Globex Ltd\nAgenda:\n1. Reports"


def test_weekly_ticks_the_starts_weekday_and_moves_it_with_the_start(qtbot, services):
    appt = Appointment(
        new_id(), "Review", berlin(2026, 4, 2, 10), berlin(2026, 4, 2, 11), "Europe/Berlin"
    )  # a Thursday
    dialog = dialog_for(qtbot, appt)
    rec = dialog.recurrence
    rec.frequency.setCurrentIndex(rec.frequency.findData("WEEKLY"))
    assert rec.ticked() == ["TH"]
    assert rec.unit.text() == "week"
    rec.interval.setValue(2)
    assert rec.unit.text() == "weeks"
    dialog.start.setDateTime(to_qdatetime(berlin(2026, 4, 3, 10)))  # to Friday
    assert rec.ticked() == ["FR"]
    rec.weekdays[0].setChecked(True)  # Monday too: the person chose, so nothing moves now
    dialog.start.setDateTime(to_qdatetime(berlin(2026, 4, 7, 10)))
    assert rec.ticked() == ["MO", "FR"]
    assert dialog.appointment().recurrence.rrule == "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,FR"


def test_ends_after_shows_its_number_and_unit_whole(qtbot, services):
    appt = Appointment(
        new_id(),
        "Review",
        berlin(2026, 4, 2, 10),
        berlin(2026, 4, 2, 11),
        "Europe/Berlin",
        recurrence=Recurrence("FREQ=WEEKLY;BYDAY=TH;COUNT=1"),
    )
    dialog = dialog_for(qtbot, appt)
    rec = dialog.recurrence
    assert rec.after.isChecked() and rec.count.value() == 1
    assert rec.count_unit.text() == "occurrence"
    rec.count.setValue(12)
    assert rec.count_unit.text() == "occurrences"
    QApplication.processEvents()  # the layout makes room for the longer word
    for widget in (rec.never, rec.on_date, rec.until, rec.after, rec.count, rec.count_unit):
        assert widget.isVisibleTo(dialog)
        assert widget.width() >= widget.sizeHint().width(), widget
        assert inside(widget, dialog.scroll.viewport()), widget
    rec.until.setDate(rec.until.date().addDays(7))  # picking a date chooses "On"
    assert rec.on_date.isChecked()


def test_participants_emails_are_whole_and_one_without_email_is_marked(qtbot, services):
    long_email = "carla.chief-procurement@customer-with-a-long-name.example"
    appt = Appointment(
        new_id(),
        "QBR",
        berlin(2026, 4, 2, 10),
        berlin(2026, 4, 2, 11),
        "Europe/Berlin",
        participants=(
            Participant("Carla", long_email, InviteStatus.TENTATIVE),
            Participant("Nameless Norbert"),
        ),
    )
    dialog = dialog_for(qtbot, appt)
    table = dialog.participants
    metrics = table.fontMetrics()
    assert table.columnWidth(1) >= metrics.horizontalAdvance(long_email)
    assert table.item(0, 2).text() == "Tentative"
    # the one without an address: a marker in the email cell, the reason as status
    assert table.item(1, 1).text() == ""  # empty to type into, drawn as the marker:
    image = table.viewport().grab().toImage()
    cell = table.visualItemRect(table.item(1, 1))
    amber = [
        image.pixelColor(x, y)
        for x in range(cell.left(), cell.right())
        for y in range(cell.top(), cell.bottom())
    ]
    assert any(c.red() > 120 and c.blue() < 60 and c.green() > 60 for c in amber)
    assert table.columnWidth(1) >= table.fontMetrics().horizontalAdvance("no email address")
    assert "No email address" in table.item(1, 1).toolTip()
    assert table.item(1, 2).text() == NO_EMAIL_STATUS
    table.item(1, 1).setText("norbert@customer.example")  # typing an address clears it
    assert table.item(1, 2).text() == "No response yet"
    assert not table.horizontalScrollBar().isVisible()  # every column in view
    saved = dialog.appointment()
    assert [p.email for p in saved.participants] == [long_email, "norbert@customer.example"]
    assert saved.participants[0].status is InviteStatus.TENTATIVE


def test_dialog_buttons_are_words_and_icons_are_current(qtbot, services):
    from calsync_desktop.gui.icons import icon_path

    appt = Appointment(
        new_id(), "QBR", berlin(2026, 4, 2, 10), berlin(2026, 4, 2, 11), "Europe/Berlin"
    )
    dialog = dialog_for(qtbot, appt)
    for button in dialog.buttons.buttons():
        assert button.icon().isNull(), button.text()  # no floppy disk, no red cross
    assert not dialog.delete_button.icon().isNull()  # our outline bin
    for status in ("accepted", "declined", "tentative", "no-response"):
        svg = icon_path(f"invite-{status}").read_text()
        assert "<circle" not in svg or 'fill="none"' in svg  # outlines, no coloured balls


def test_the_time_zone_shows_only_when_it_differs_and_in_plain_words(qtbot, services):
    berlin_appt = Appointment(
        new_id(), "QBR", berlin(2026, 4, 2, 10), berlin(2026, 4, 2, 11), "Europe/Berlin"
    )
    same = dialog_for(qtbot, berlin_appt, display_tz=BERLIN)
    assert not same.zone_label.isVisibleTo(same)
    other = dialog_for(
        qtbot, berlin_appt.with_changes(timezone="America/New_York"), display_tz=BERLIN
    )
    assert other.zone_label.isVisibleTo(other)
    assert other.zone_label.text() == "Times are in New York time (UTC−04:00)."
    utc = dialog_for(qtbot, berlin_appt.with_changes(timezone="Etc/UTC"), display_tz=BERLIN)
    assert utc.zone_label.text() == "Times are in UTC."


def test_a_new_appointment_goes_to_the_account_used_last(qtbot, services):
    from calsync_desktop.gui.appointment_dialog import DEFAULT_ACCOUNT_SETTING

    work, _ = add_memory_account(services, "work@example.com", "Work")
    home, _ = add_memory_account(services, "home@example.com", "Home")
    offered = []

    def run(dialog):
        offered.append(dialog.account_choice.currentData())
        dialog.title.setText("Call")
        if len(offered) == 1:  # the person picks the account not suggested
            other = home.id if offered[0] == work.id else work.id
            dialog.account_choice.setCurrentIndex(dialog.account_choice.findData(other))
        return True

    editor = AppointmentEditor(services.store, BERLIN, lambda: None, open_dialog=run)
    first = editor.create(berlin(2026, 4, 2, 10))
    assert first.account_id != offered[0]
    assert services.store.get_setting(DEFAULT_ACCOUNT_SETTING) == first.account_id
    second = editor.create(berlin(2026, 4, 3, 10))
    assert offered[1] == first.account_id  # the second one suggests the one used last
    assert second.account_id == first.account_id


# --------------------------------------------------------------------------- item 7


def standup(services) -> Appointment:
    """Mondays 09:00 Berlin from 16 March 2026, across the change to summer time."""
    return services.store.add_appointment(
        Appointment(
            new_id(),
            "Standup\nWhat's blocked?",
            berlin(2026, 3, 16, 9),
            berlin(2026, 3, 16, 9, 30),
            "Europe/Berlin",
            location="Room 4",
            recurrence=Recurrence("FREQ=WEEKLY;BYDAY=MO;COUNT=6"),
        )
    )


def occurrence_on(appointment, day: int, month: int = 3):
    (occ,) = [
        o for o in occurrences(appointment, berlin(2026, month, day), berlin(2026, month, day, 23))
    ]
    return occ


def shown(store, appointment_id) -> list[tuple[int, int, str, str]]:
    appointment = store.get_appointment(appointment_id)
    if appointment is None:
        return []
    return [
        (o.start.astimezone(BERLIN).day, o.start.astimezone(BERLIN).hour, o.title, o.location)
        for o in occurrences(appointment, berlin(2026, 3, 1), berlin(2026, 5, 1))
    ]


class Scripted:
    """The editor's dialog run: the person's edits, and their answer to the question."""

    def __init__(self, edit, answer):
        self.edit, self.answer, self.asked, self.dialogs = edit, answer, [], []

    def ask(self, parent, action, series_only):
        self.asked.append((action, list(series_only)))
        return self.answer

    def run(self, dialog):
        self.dialogs.append(dialog)
        self.edit(dialog)
        if getattr(self, "delete", False):
            dialog._delete()
        else:
            dialog._save()
        return dialog.result() == dialog.DialogCode.Accepted


def editor_for(services, script: Scripted) -> AppointmentEditor:
    return AppointmentEditor(
        services.store, BERLIN, lambda: None, open_dialog=script.run, ask=script.ask
    )


def test_an_occurrence_opens_as_itself(qtbot, services):
    series = standup(services)
    occ = occurrence_on(series, 30)  # after the clocks changed: still 09:00
    script = Scripted(lambda d: None, None)
    editor_for(services, script).open(occ)
    (dialog,) = script.dialogs
    assert dialog.start.dateTime().date().day() == 30
    assert dialog.start.dateTime().time().hour() == 9
    assert "one appointment of a series" in dialog.series_note.text()
    assert script.asked == []  # nothing changed: nothing to ask


def test_this_appointment_changes_one_occurrence_as_an_override(qtbot, services):
    series = standup(services)

    def edit(dialog):
        dialog.title.setText("Standup (short)")
        dialog.start.setDateTime(to_qdatetime(berlin(2026, 3, 30, 11)))

    script = Scripted(edit, THIS_ONE)
    editor_for(services, script).open(occurrence_on(series, 30))
    assert script.asked == [("change", [])]
    assert shown(services.store, series.id) == [
        (16, 9, "Standup", "Room 4"),
        (23, 9, "Standup", "Room 4"),
        (30, 11, "Standup (short)", "Room 4"),
        (6, 9, "Standup", "Room 4"),
        (13, 9, "Standup", "Room 4"),
        (20, 9, "Standup", "Room 4"),
    ]
    stored = services.store.get_appointment(series.id)
    (override,) = stored.recurrence.overrides
    assert override.original_start == berlin(2026, 3, 30, 9).astimezone(UTC)
    assert override.contents == "Standup (short)\nWhat's blocked?"


def test_all_in_the_series_changes_every_occurrence(qtbot, services):
    series = standup(services)

    def edit(dialog):
        dialog.location.setText("Video call")
        dialog.start.setDateTime(to_qdatetime(berlin(2026, 3, 30, 10)))

    script = Scripted(edit, ALL_IN_SERIES)
    editor_for(services, script).open(occurrence_on(series, 30))
    assert {(h, loc) for _d, h, _t, loc in shown(services.store, series.id)} == {(10, "Video call")}
    assert [d for d, *_ in shown(services.store, series.id)] == [16, 23, 30, 6, 13, 20]


def test_a_change_only_a_series_can_take_offers_only_all(qtbot, services):
    series = standup(services)

    def edit(dialog):
        dialog.participants.add(Participant("Bob", "bob@example.com"))

    script = Scripted(edit, ALL_IN_SERIES)
    editor_for(services, script).open(occurrence_on(series, 30))
    assert script.asked == [("change", ["participants"])]
    assert services.store.get_appointment(series.id).participants[0].email == "bob@example.com"


def test_cancelling_the_question_keeps_the_dialog_open_and_changes_nothing(qtbot, services):
    series = standup(services)
    script = Scripted(lambda d: d.location.setText("Elsewhere"), None)
    editor_for(services, script).open(occurrence_on(series, 30))
    assert script.dialogs[0].result() != script.dialogs[0].DialogCode.Accepted
    assert services.store.get_appointment(series.id) == series


def test_deleting_this_appointment_leaves_the_series(qtbot, services):
    series = standup(services)
    script = Scripted(lambda d: None, THIS_ONE)
    script.delete = True
    editor_for(services, script).open(occurrence_on(series, 23))
    assert script.asked == [("delete", [])]
    assert [d for d, *_ in shown(services.store, series.id)] == [16, 30, 6, 13, 20]
    assert services.store.get_appointment(series.id).recurrence.exdates == (
        berlin(2026, 3, 23, 9).astimezone(UTC),
    )


def test_deleting_all_in_the_series_deletes_it(qtbot, services):
    series = standup(services)
    script = Scripted(lambda d: None, ALL_IN_SERIES)
    script.delete = True
    editor_for(services, script).open(occurrence_on(series, 23))
    assert services.store.get_appointment(series.id) is None


def test_one_occurrence_changed_alone_syncs_as_an_exception(qtbot, make_app, services, clock):
    """Through the real sync: the override reaches the calendar as one changed
    occurrence, the EXDATE as one deleted occurrence."""
    account, calendar = add_memory_account(services)
    start = (clock() + timedelta(days=1)).astimezone(BERLIN).replace(hour=9, minute=0)
    series = services.store.add_appointment(
        Appointment(
            new_id(),
            "Standup",
            start.astimezone(UTC),
            (start + timedelta(minutes=30)).astimezone(UTC),
            "Europe/Berlin",
            recurrence=Recurrence("FREQ=DAILY;COUNT=4"),
            account_id=account.id,
        )
    )
    app = make_app()
    app.start(sync_at_start=False)
    with qtbot.waitSignal(app.scheduler.syncFinished, timeout=20_000):
        app.sync_now()
    (event,) = calendar.events.values()
    window = occurrences(series, start - timedelta(hours=1), start + timedelta(days=5))
    second, third = window[1], window[2]
    move = Scripted(lambda d: d.location.setText("Room 9"), THIS_ONE)
    editor_for(services, move).open(second)
    drop = Scripted(lambda d: None, THIS_ONE)
    drop.delete = True
    editor_for(services, drop).open(third)
    with qtbot.waitSignal(app.scheduler.syncFinished, timeout=20_000):
        app.sync_now()
    (event,) = calendar.events.values()
    exdates = {x.astimezone(UTC) for x in event.recurrence.exdates}
    assert third.original_start in exdates
    (override,) = [o for o in event.recurrence.overrides]
    assert override.original_start == second.original_start and override.location == "Room 9"


# --------------------------------------------------------------------------- the question


@pytest.mark.parametrize(
    ("series_only", "click", "expected"),
    [
        ((), "This appointment", THIS_ONE),
        ((), "All in the series", ALL_IN_SERIES),
        ((), "Cancel", None),
        (("participants", "repeat"), "All in the series", ALL_IN_SERIES),
    ],
)
def test_the_question_offers_this_or_all(qtbot, series_only, click, expected):
    seen = {}

    def answer():
        box = next(
            w
            for w in QApplication.topLevelWidgets()
            if isinstance(w, QMessageBox) and w.isVisible()
        )
        buttons = {b.text().replace("&", ""): b for b in box.findChildren(QPushButton)}
        seen["enabled"] = buttons["This appointment"].isEnabled()
        seen["text"] = box.informativeText()
        buttons[click].click()

    QTimer.singleShot(50, answer)
    assert ask_scope(None, "change", series_only) == expected
    assert seen["enabled"] is (not series_only)
    if series_only:
        assert seen["text"].startswith("Participants and repeat belong to the whole series")


def test_a_dialog_for_another_zone_keeps_wall_times(qtbot, services):
    ny = ZoneInfo("America/New_York")
    appt = Appointment(
        new_id(),
        "Call",
        datetime(2026, 4, 2, 9, tzinfo=ny),
        datetime(2026, 4, 2, 10, tzinfo=ny),
        "America/New_York",
    )
    dialog = dialog_for(qtbot, appt, display_tz=BERLIN)
    assert dialog.start.dateTime().time().hour() == 9
    assert dialog.appointment().start == appt.start.astimezone(UTC)


def test_an_account_colour_stays_visible_on_a_selected_row(qtbot):
    from PySide6.QtGui import QColor, QIcon

    from calsync_desktop.gui.appointment_dialog import colour_swatch

    blue = QColor("#3584e4")  # a calendar as blue as the selection
    swatch = colour_swatch(blue)
    normal = swatch.pixmap(12, 12).toImage()
    selected = swatch.pixmap(12, 12, QIcon.Mode.Selected).toImage()
    assert normal.pixelColor(0, 0) == blue and normal.pixelColor(6, 6) == blue
    # ringed white where the row is blue, the colour inside
    assert selected.pixelColor(0, 0) == QColor("#ffffff")
    assert selected.pixelColor(6, 6) == blue
