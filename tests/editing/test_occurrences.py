"""One occurrence of a series changed or deleted alone, or the whole series
changed from one of its occurrences; title and notes (calsync_desktop.editing)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from calsync_desktop.editing import (
    Edit,
    apply_edit,
    change_occurrence,
    change_series_from,
    contents_of,
    delete_occurrence,
    series_only_changes,
    title_and_notes,
)
from calsync_desktop.model import (
    Appointment,
    InviteStatus,
    OccurrenceOverride,
    Participant,
    Recurrence,
    new_id,
    occurrences,
    validate,
)

BERLIN = ZoneInfo("Europe/Berlin")


def at(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=BERLIN).astimezone(UTC)


def weekly(rule: str = "FREQ=WEEKLY;BYDAY=MO;COUNT=6") -> Appointment:
    # Mondays 09:00 Berlin from 16 March 2026, across the change to summer time on the 29th
    return Appointment(
        new_id(),
        "Pipeline review\nBring the numbers",
        at(16, 9),
        at(16, 10),
        "Europe/Berlin",
        location="Room 4",
        participants=(Participant("Bob", "bob@example.com", InviteStatus.ACCEPTED),),
        recurrence=Recurrence(rule),
    )


def shown(appointment: Appointment) -> list[tuple[str, str, str, str]]:
    """Each occurrence as a person sees it: day and time in Berlin, title, location."""
    return [
        (
            f"{o.start.astimezone(BERLIN):%d %H:%M}",
            f"{o.end.astimezone(BERLIN):%H:%M}",
            o.title,
            o.location,
        )
        for o in occurrences(appointment, at(1, 0), at(30, 0, month=5))
    ]


def edit_of(appointment: Appointment, occurrence_start: datetime, **changes) -> Edit:
    """What the dialog hands over for an occurrence nobody changed, then ``changes``."""
    occurrence = next(
        o
        for o in occurrences(appointment, at(1, 0), at(30, 0, month=5))
        if o.original_start == occurrence_start
    )
    values = dict(
        contents=occurrence.contents,
        location=occurrence.location,
        start=occurrence.start,
        end=occurrence.end,
        all_day=appointment.all_day,
        private=appointment.private,
        participants=appointment.participants,
        rule=appointment.recurrence.rrule if appointment.recurrence else None,
        account_id=appointment.account_id,
    )
    values.update(changes)
    return Edit(**values)


# --------------------------------------------------------------------------- this appointment


def test_one_occurrence_moved_and_retitled_alone_is_an_override():
    series = weekly()
    third = at(30, 9)  # after the change to summer time, still 09:00
    edit = edit_of(
        series,
        third,
        contents="Pipeline review (short)",
        location="Video call",
        start=at(30, 11),
        end=at(30, 11, 30),
    )
    changed = validate(change_occurrence(series, third, edit))
    assert shown(changed) == [
        ("16 09:00", "10:00", "Pipeline review", "Room 4"),
        ("23 09:00", "10:00", "Pipeline review", "Room 4"),
        ("30 11:00", "11:30", "Pipeline review (short)", "Video call"),
        ("06 09:00", "10:00", "Pipeline review", "Room 4"),
        ("13 09:00", "10:00", "Pipeline review", "Room 4"),
        ("20 09:00", "10:00", "Pipeline review", "Room 4"),
    ]
    (override,) = changed.recurrence.overrides
    assert override.original_start == third
    assert changed.start == series.start and changed.recurrence.rrule == series.recurrence.rrule
    assert changed.contents == series.contents  # the series itself is unchanged


def test_changing_the_same_occurrence_again_replaces_its_override():
    series = weekly()
    third = at(30, 9)
    once = change_occurrence(series, third, edit_of(series, third, location="Room 1"))
    twice = change_occurrence(once, third, edit_of(once, third, location="Room 2"))
    assert [o.location for o in twice.recurrence.overrides] == ["Room 2"]


def test_an_occurrence_put_back_as_the_series_makes_it_needs_no_override():
    series = weekly()
    third = at(30, 9)
    moved = change_occurrence(
        series, third, edit_of(series, third, start=at(30, 14), end=at(30, 15))
    )
    back = change_occurrence(moved, third, edit_of(moved, third, start=at(30, 9), end=at(30, 10)))
    assert back.recurrence.overrides == ()
    assert shown(back) == shown(series)


def test_deleting_one_occurrence_is_an_exdate_and_forgets_its_override():
    series = weekly()
    third = at(30, 9)
    moved = change_occurrence(series, third, edit_of(series, third, location="Room 1"))
    deleted = delete_occurrence(moved, third)
    assert deleted.recurrence.exdates == (third,)
    assert deleted.recurrence.overrides == ()
    assert [d for d, *_ in shown(deleted)] == [
        "16 09:00",
        "23 09:00",
        "06 09:00",
        "13 09:00",
        "20 09:00",
    ]


def test_a_moved_occurrence_is_deleted_by_its_original_name():
    series = weekly()
    third = at(30, 9)
    moved = change_occurrence(
        series, third, edit_of(series, third, start=at(31, 9), end=at(31, 10))
    )
    assert "31 09:00" in [d for d, *_ in shown(moved)]
    assert "31 09:00" not in [d for d, *_ in shown(delete_occurrence(moved, third))]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"contents": "Other", "location": "Elsewhere"}, []),
        ({"all_day": True}, ["all day"]),
        ({"private": True}, ["private"]),
        ({"participants": ()}, ["participants"]),
        ({"rule": "FREQ=WEEKLY;BYDAY=TU;COUNT=6"}, ["repeat"]),
        ({"account_id": "other"}, ["calendar account"]),
        ({"private": True, "rule": None}, ["private", "repeat"]),
    ],
)
def test_what_only_a_whole_series_can_take(changes, expected):
    series = weekly()
    assert series_only_changes(series, edit_of(series, at(30, 9), **changes)) == expected


def test_participants_in_another_order_or_with_answers_are_no_change():
    series = weekly().with_changes(
        participants=(Participant("Bob", "bob@example.com"), Participant("Cy", "cy@example.com"))
    )
    again = (
        Participant("Cy", "CY@example.com", InviteStatus.DECLINED),
        Participant("Bob", "bob@example.com"),
    )
    assert series_only_changes(series, edit_of(series, at(30, 9), participants=again)) == []


# --------------------------------------------------------------------------- all in the series


def test_all_in_the_series_from_one_occurrence_moves_every_occurrence_by_its_step():
    series = weekly()
    third = at(30, 9)
    # looking at the 30th (summer time), the person moves it from 09:00 to 10:00
    edit = edit_of(series, third, start=at(30, 10), end=at(30, 11, 30), location="Room 9")
    changed = validate(change_series_from(series, third, at(30, 9), edit))
    assert [(d, e, loc) for d, e, _t, loc in shown(changed)] == [
        ("16 10:00", "11:30", "Room 9"),
        ("23 10:00", "11:30", "Room 9"),
        ("30 10:00", "11:30", "Room 9"),
        ("06 10:00", "11:30", "Room 9"),
        ("13 10:00", "11:30", "Room 9"),
        ("20 10:00", "11:30", "Room 9"),
    ]


def test_all_in_the_series_keeps_the_other_exceptions_and_drops_this_ones():
    series = weekly()
    second, third = at(23, 9), at(30, 9)
    with_exceptions = delete_occurrence(series, second)
    with_exceptions = change_occurrence(
        with_exceptions, third, edit_of(with_exceptions, third, location="Room 1")
    )
    fourth = at(6, 9, month=4)
    with_exceptions = change_occurrence(
        with_exceptions, fourth, edit_of(with_exceptions, fourth, location="Room 2")
    )
    edit = edit_of(with_exceptions, third, contents="Pipeline review")
    changed = change_series_from(with_exceptions, third, at(30, 9), edit)
    assert changed.recurrence.exdates == (second,)
    assert [o.location for o in changed.recurrence.overrides] == ["Room 2"]
    assert changed.contents == "Pipeline review"  # the notes removed for all
    # what the person saw on this occurrence (Room 1) now holds for the series;
    # the fourth keeps its own room
    assert [loc for *_, loc in shown(changed)] == [
        "Room 1",
        "Room 1",
        "Room 2",
        "Room 1",
        "Room 1",
    ]


def test_a_weekly_series_moved_to_another_day_repeats_on_that_day():
    series = weekly()
    third = at(30, 9)
    edit = edit_of(series, third, start=at(31, 9), end=at(31, 10))  # Monday → Tuesday
    changed = validate(change_series_from(series, third, at(30, 9), edit))
    assert "BYDAY=TU" in changed.recurrence.rrule
    assert [d for d, *_ in shown(changed)] == [
        "17 09:00",
        "24 09:00",
        "31 09:00",
        "07 09:00",
        "14 09:00",
        "21 09:00",
    ]


def test_all_in_the_series_with_a_new_rule_starts_it_afresh():
    series = delete_occurrence(weekly(), at(23, 9))
    edit = edit_of(series, at(30, 9), rule="FREQ=DAILY;COUNT=3")
    changed = change_series_from(series, at(30, 9), at(30, 9), edit)
    assert changed.recurrence == Recurrence("FREQ=DAILY;COUNT=3")


def test_participants_listed_again_keep_their_answers():
    series = weekly()
    edit = edit_of(series, at(30, 9), participants=(Participant("Bob B.", "BOB@example.com"),))
    changed = change_series_from(series, at(30, 9), at(30, 9), edit)
    assert changed.participants[0].status is InviteStatus.ACCEPTED
    plain = apply_edit(series, edit_of(series, at(16, 9), participants=edit.participants))
    assert plain.participants[0].status is InviteStatus.ACCEPTED


def test_apply_edit_moves_a_series_with_its_exceptions():
    series = change_occurrence(weekly(), at(30, 9), edit_of(weekly(), at(30, 9), location="R"))
    edit = edit_of(series, at(16, 9), start=at(16, 10), end=at(16, 11))
    moved = apply_edit(series, edit)
    assert moved.start == at(16, 10)
    (override,) = moved.recurrence.overrides
    assert override.original_start == at(30, 10)  # its name moved with the series


# --------------------------------------------------------------------------- title and notes


@pytest.mark.parametrize(
    ("title", "notes", "contents"),
    [
        ("Demo", "", "Demo"),
        ("Demo", "Bring the laptop", "Demo\nBring the laptop"),
        ("Demo", "line 1\nline 2\n\n", "Demo\nline 1\nline 2"),
        ("  Demo  for\nGlobex ", "", "Demo for Globex"),
        ("", "Only notes", "\nOnly notes"),
        ("Demo", "   ", "Demo"),
    ],
)
def test_contents_are_the_title_a_newline_and_the_notes(title, notes, contents):
    assert contents_of(title, notes) == contents


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60))
def test_title_and_notes_round_trip(contents):
    title, notes = title_and_notes(contents)
    assert "\n" not in title
    normal = contents_of(title, notes)
    assert contents_of(*title_and_notes(normal)) == normal  # stable after one pass


def test_an_override_the_store_keeps(store):
    """Saved and read back: the override and the EXDATE survive the Sales Calendar."""
    series = store.add_appointment(weekly())
    third = at(30, 9)
    changed = change_occurrence(
        series,
        third,
        edit_of(series, third, location="Video call", start=at(30, 11), end=at(30, 12)),
    )
    changed = delete_occurrence(changed, at(23, 9))
    store.update_appointment(changed)
    again = store.get_appointment(series.id)
    assert again.recurrence.exdates == (at(23, 9),)
    assert again.recurrence.overrides == (
        OccurrenceOverride(third, series.contents, "Video call", at(30, 11), at(30, 12)),
    )
    assert shown(again) == shown(changed)
    assert timedelta(0) < again.end - again.start
