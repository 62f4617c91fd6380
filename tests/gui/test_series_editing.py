"""The appointment dialog applies the core's series rules (calsync_desktop.editing)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from calsync_desktop.gui.appointment_dialog import AppointmentDialog, to_qdatetime
from calsync_desktop.model import Appointment, OccurrenceOverride, Recurrence, new_id

from .conftest import BERLIN


def _series(rule: str) -> Appointment:
    # 09:00 Berlin from Friday 27 March 2026: the clocks change on Sunday the 29th
    start = datetime(2026, 3, 27, 9, tzinfo=BERLIN)
    return Appointment(
        new_id(),
        "Standup",
        start,
        start + timedelta(minutes=15),
        "Europe/Berlin",
        recurrence=Recurrence(
            rule,
            exdates=(datetime(2026, 3, 30, 9, tzinfo=BERLIN).astimezone(UTC),),
            overrides=(
                OccurrenceOverride(
                    datetime(2026, 3, 31, 9, tzinfo=BERLIN).astimezone(UTC),
                    "Standup, longer",
                    "Room 2",
                    datetime(2026, 3, 31, 14, tzinfo=BERLIN).astimezone(UTC),
                    datetime(2026, 3, 31, 15, tzinfo=BERLIN).astimezone(UTC),
                ),
            ),
        ),
    )


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=DAILY;COUNT=8",
        "FREQ=DAILY",
        # an end time the editor would write differently, and an explicit INTERVAL=1
        "FREQ=DAILY;INTERVAL=1;UNTIL=20260403T070000Z",
    ],
)
def test_moving_a_daily_series_in_the_dialog_keeps_its_deleted_and_changed_occurrences(
    qtbot, services, rule
):
    series = services.store.add_appointment(_series(rule))
    dialog = AppointmentDialog(series, is_new=False)
    qtbot.addWidget(dialog)
    dialog.start.setDateTime(to_qdatetime(datetime(2026, 3, 27, 10, tzinfo=BERLIN)))
    saved = services.store.update_appointment(dialog.appointment())

    found = services.store.occurrences_between(
        datetime(2026, 3, 27, tzinfo=BERLIN), datetime(2026, 4, 3, tzinfo=BERLIN)
    )
    starts = [o.start.astimezone(BERLIN) for o in found]
    assert saved.recurrence.rrule == rule
    # the deleted Monday stays deleted, across the daylight-saving change
    assert [s.day for s in starts] == [27, 28, 29, 31, 1, 2]
    assert all(s.hour == 10 for s in starts if s.day != 31)
    # the changed Tuesday keeps its own time and contents
    (moved,) = [o for o in found if o.start.astimezone(BERLIN).day == 31]
    assert (moved.contents, moved.start.astimezone(BERLIN).hour) == ("Standup, longer", 14)


def test_choosing_another_repeat_in_the_dialog_starts_the_series_afresh(qtbot, services):
    series = services.store.add_appointment(_series("FREQ=DAILY;COUNT=8"))
    dialog = AppointmentDialog(series, is_new=False)
    qtbot.addWidget(dialog)
    dialog.recurrence.count.setValue(5)
    edited = dialog.appointment()
    assert edited.recurrence == Recurrence("FREQ=DAILY;COUNT=5")
