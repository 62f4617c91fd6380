"""The editing rules every way of editing shares (calsync_desktop.editing), without Qt."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from calsync_desktop.editing import (
    edit_recurrence,
    keep_answers,
    leave_out,
    move_series,
    occurrence_named,
)
from calsync_desktop.model import (
    Appointment,
    InviteStatus,
    OccurrenceOverride,
    Participant,
    Recurrence,
    new_id,
    occurrences,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def at(day: int, hour: int, month: int = 3, zone: ZoneInfo = BERLIN) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=zone).astimezone(UTC)


def series(rule: str = "FREQ=DAILY;COUNT=8") -> Appointment:
    # 09:00 Berlin from Friday 27 March 2026, across the change to summer time on the 29th
    return Appointment(
        new_id(),
        "Standup",
        at(27, 9),
        at(27, 9) + timedelta(minutes=15),
        "Europe/Berlin",
        recurrence=Recurrence(
            rule,
            exdates=(at(30, 9),),
            overrides=(OccurrenceOverride(at(31, 9), "Longer", "Room 2", at(31, 14), at(31, 15)),),
        ),
    )


def starts(a: Appointment) -> list[tuple[int, int]]:
    found = occurrences(a, at(26, 0), at(10, 0, month=4))
    return [(o.start.astimezone(BERLIN).day, o.start.astimezone(BERLIN).hour) for o in found]


def test_moving_a_series_moves_its_deleted_and_changed_occurrences_by_wall_clock():
    old = series()
    moved = old.with_changes(start=at(27, 10), end=at(27, 10) + timedelta(minutes=15))
    moved = moved.with_changes(recurrence=move_series(old, at(27, 10)))
    assert starts(old) == [(27, 9), (28, 9), (29, 9), (31, 14), (1, 9), (2, 9), (3, 9)]
    assert starts(moved) == [(27, 10), (28, 10), (29, 10), (31, 14), (1, 10), (2, 10), (3, 10)]
    assert moved.recurrence.overrides[0].original_start == at(31, 10)


def test_moving_a_series_to_another_day_and_zone_keeps_its_exceptions():
    old = series()
    start = datetime(2026, 3, 28, 8, tzinfo=NEW_YORK).astimezone(UTC)
    recurrence = move_series(old, start, "America/New_York")
    # one day later at 08:00 New York: the deleted Monday becomes the deleted Tuesday
    assert recurrence.exdates == (datetime(2026, 3, 31, 8, tzinfo=NEW_YORK).astimezone(UTC),)
    moved = old.with_changes(start=start, timezone="America/New_York", recurrence=recurrence)
    names = {o.original_start for o in occurrences(moved, start, start + timedelta(days=9))}
    assert recurrence.exdates[0] not in names
    assert recurrence.overrides[0].original_start in names


def test_moving_something_that_does_not_repeat_is_refused():
    single = series().with_changes(recurrence=None)
    with pytest.raises(ValueError):
        move_series(single, at(27, 10))


@pytest.mark.parametrize(
    ("rule", "start", "zone", "expected"),
    [
        ("FREQ=DAILY;COUNT=8", at(27, 9), None, "kept"),
        ("FREQ=DAILY;COUNT=8", at(27, 10), None, "moved"),
        ("RRULE:FREQ=DAILY;COUNT=8", at(27, 10), "Europe/Berlin", "moved"),
        ("FREQ=DAILY;COUNT=8", at(27, 9), "Europe/London", "moved"),
        ("FREQ=DAILY;COUNT=5", at(27, 9), None, "afresh"),
        ("FREQ=WEEKLY", at(27, 10), None, "afresh"),
        ("", at(27, 9), None, None),
        (None, at(27, 10), None, None),
    ],
)
def test_an_edit_keeps_moves_or_drops_the_series_exceptions(rule, start, zone, expected):
    old = series()
    result = edit_recurrence(old, rule, start, zone)
    if expected is None:
        assert result is None
    elif expected == "kept":
        assert result is old.recurrence
    elif expected == "moved":
        assert result == move_series(old, start, zone)
    else:
        assert result == Recurrence(rule.removeprefix("RRULE:"))


def test_an_edit_that_adds_a_rule_to_a_single_appointment_starts_a_series():
    single = series().with_changes(recurrence=None)
    assert edit_recurrence(single, "FREQ=WEEKLY", at(27, 9)) == Recurrence("FREQ=WEEKLY")


@pytest.mark.parametrize(
    ("moment", "whole_day", "expected"),
    [
        (at(28, 9), False, at(28, 9)),
        (at(28, 10), False, None),
        (at(29, 0), True, at(29, 9)),  # the day after the clocks change
        (at(10, 0, month=4), True, None),  # after the last occurrence
    ],
)
def test_an_occurrence_is_named_by_its_start_or_its_day(moment, whole_day, expected):
    a = series()
    assert occurrence_named(a.recurrence, a.start, a.timezone, moment, whole_day) == expected


def test_leaving_out_occurrences_adds_to_the_deleted_ones_once():
    recurrence = leave_out(series().recurrence, [at(28, 9), at(30, 9)])
    assert recurrence.exdates == (at(28, 9), at(30, 9))
    assert recurrence.overrides == series().recurrence.overrides


def test_listing_participants_again_keeps_their_answers():
    old = (Participant("Ann", "ann@example.com", InviteStatus.ACCEPTED),)
    new = (Participant("Ann Lee", "ANN@example.com"), Participant("Bob", "bob@example.com"))
    kept = keep_answers(new, old)
    assert [p.status for p in kept] == [InviteStatus.ACCEPTED, InviteStatus.NO_RESPONSE]
    assert kept[0].name == "Ann Lee"


# --------------------------------------------------------------------------- participants

_PEOPLE = st.lists(
    st.builds(
        Participant,
        st.sampled_from(["", "Ann", "Ann Smith", "Bo"]),
        st.one_of(
            st.none(),
            st.sampled_from(["ann@acme.example", "bo@acme.example", "x@y.example"]).flatmap(
                lambda a: st.lists(st.booleans(), min_size=len(a), max_size=len(a)).map(
                    lambda up: "".join(c.upper() if u else c for c, u in zip(a, up, strict=True))
                )
            ),
        ),
        st.sampled_from(list(InviteStatus)),
    ),
    max_size=8,
)


@given(_PEOPLE)
def test_an_appointment_holds_one_participant_per_address_in_any_letter_case(people):
    start = datetime(2026, 3, 2, 9, tzinfo=UTC)
    held = Appointment(new_id(), "Visit", start, start + timedelta(hours=1), participants=people)
    keys = [p.key for p in held.participants if p.key]
    assert len(keys) == len(set(keys)) and set(keys) == {p.key for p in people if p.key}
    # nobody without an address is lost, and the order of first mentions is kept
    assert [p for p in held.participants if not p.key] == [p for p in people if not p.key]
    firsts, seen = [], set()
    for p in people:
        if not p.key or p.key not in seen:
            firsts.append(p.key or "-")
            seen.add(p.key)
    assert [p.key or "-" for p in held.participants] == firsts
    for p in held.participants:
        same = [q for q in people if p.key and q.key == p.key]
        if same:
            assert p.email == same[0].email  # the first spelling
            answered = [q.status for q in same if q.status is not InviteStatus.NO_RESPONSE]
            assert p.status == (answered[0] if answered else InviteStatus.NO_RESPONSE)
    again = held.with_changes(participants=held.participants)
    assert again.participants == held.participants
