"""One test (at least) per rule of SPEC §4 and §5, over a real store (a SQLite
file, and a team PostgreSQL database as a member) and the memory calendar
service."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from itertools import islice

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calsync_desktop.model import (
    Appointment,
    InviteStatus,
    OccurrenceOverride,
    Participant,
    Recurrence,
    new_id,
)
from calsync_desktop.providers.base import Create, Unreachable, Update
from calsync_desktop.sync import mapping as m
from calsync_desktop.sync.conflicts import restore_conflict
from calsync_desktop.sync.engine import Decision, SyncResult

from .harness import Crash, Harness, engine_fixtures

services, h = engine_fixtures()


def writes_seen(h):
    """Record every write the engine sends to the service."""
    seen = []
    original = h.calendar.write_batch

    def spy(writes):
        seen.extend(writes)
        return original(writes)

    h.calendar.write_batch = spy
    return seen


# --------------------------------------------------------------------------- basics


def test_new_local_appointment_is_created_remotely(h):
    a = h.add_local("Demo at Initech\nBring the slides", location="Initech HQ")
    result = h.sync()
    event = h.remote_for(a.id)
    assert event.subject == "Demo at Initech" and event.body == "Bring the slides"
    assert event.location == "Initech HQ" and event.start == a.start and event.end == a.end
    assert event.local_id == a.id
    assert result.counts == {"create remotely": 1}
    assert h.local(a.id).account_id == h.account.id


def test_new_remote_event_is_imported(h):
    e = h.add_remote(
        "Lunch with Bob", body="<p>At <b>Luigi's</b></p>", body_is_html=True, location="Luigi's"
    )
    h.sync()
    a = h.local_for(e.remote_id)
    assert a.contents == "Lunch with Bob\nAt Luigi's"
    assert a.location == "Luigi's" and a.start == e.start and a.end == e.end
    assert a.account_id == h.account.id


def test_contents_round_trip_is_stable(h):
    a = h.add_local("Quarterly review\nLine one\n\nLine three")
    h.sync()
    h.sync()
    assert h.local(a.id).contents == "Quarterly review\nLine one\n\nLine three"
    before = h.calendar.requests
    assert h.sync().counts == {}
    assert h.calendar.requests - before == 1


# --------------------------------------------------------------------------- field directions


def test_a_field_changed_on_one_side_goes_to_the_other(h):
    a = h.add_local("Visit")
    h.sync()
    h.edit_local(a.id, location="Building 7")
    event = h.remote_for(a.id)
    h.calendar.edit(
        event.remote_id, start=event.start + timedelta(hours=2), end=event.end + timedelta(hours=2)
    )
    h.sync()
    assert h.remote_for(a.id).location == "Building 7"
    moved = (a.start + timedelta(hours=2), a.end + timedelta(hours=2))
    assert (h.local(a.id).start, h.local(a.id).end) == moved
    assert (h.remote_for(a.id).start, h.remote_for(a.id).end) == moved


def test_participants_are_pushed_one_way(h):
    a = h.add_local(participants=(Participant("Ann", "ann@acme.example"),))
    h.sync()
    event = h.remote_for(a.id)
    assert [p.email for p in event.attendees] == ["ann@acme.example"]
    h.calendar.edit(
        event.remote_id, attendees=(*event.attendees, Participant("Eve", "eve@elsewhere.example"))
    )
    h.sync()
    assert [p.email for p in h.local(a.id).participants] == ["ann@acme.example"]


def test_invite_statuses_come_back_matched_by_email_case_insensitively(h):
    a = h.add_local(
        participants=(Participant("Ann", "Ann@Acme.example"), Participant("Bo", "bo@acme.example"))
    )
    h.sync()
    event = h.remote_for(a.id)
    h.calendar.edit(
        event.remote_id,
        attendees=(
            Participant("Ann", "ann@ACME.example", InviteStatus.ACCEPTED),
            Participant("Bo", "bo@acme.example", InviteStatus.DECLINED),
        ),
    )
    h.sync()
    statuses = {p.name: p.status for p in h.local(a.id).participants}
    assert statuses == {"Ann": InviteStatus.ACCEPTED, "Bo": InviteStatus.DECLINED}


def test_participant_without_email_is_not_pushed_and_is_listed_as_skipped(h):
    a = h.add_local(participants=(Participant("Walk-in customer"), Participant("Ann", "a@x.io")))
    h.sync()
    assert [p.email for p in h.remote_for(a.id).attendees] == ["a@x.io"]
    assert any("Walk-in customer" in s.reason for s in h.store.skipped(h.account.id))
    assert len(h.local(a.id).participants) == 2


def test_remote_attendees_are_imported_once_and_name_only_ones_skipped(h):
    e = h.add_remote(
        attendees=(
            Participant("Ann", "ann@acme.example", InviteStatus.TENTATIVE),
            Participant("Only A Name", None),
            Participant("Me", "ME@example.com"),
        )
    )
    h.sync()
    a = h.local_for(e.remote_id)
    assert [(p.email, p.status) for p in a.participants] == [
        ("ann@acme.example", InviteStatus.TENTATIVE)
    ]
    assert any("Only A Name" in s.reason for s in h.store.skipped(h.account.id))


def test_the_accounts_own_address_is_not_a_participant(h):
    e = h.add_remote(attendees=(Participant("Me", "me@example.com", InviteStatus.ACCEPTED),))
    h.sync()
    assert h.local_for(e.remote_id).participants == ()


# --------------------------------------------------------------------------- invitations


def test_no_invitations_during_the_first_sync(h):
    h.store.set_setting("sync.send_invitations", True)
    h.add_local(participants=(Participant("Ann", "ann@acme.example"),))
    seen = writes_seen(h)
    h.sync()
    assert seen and not any(w.send_invitations for w in seen)


def test_invitations_sent_when_the_user_adds_participants_and_the_setting_is_on(h):
    h.store.set_setting("sync.send_invitations", True)
    a = h.add_local()
    h.sync()
    seen = writes_seen(h)
    h.edit_local(a.id, participants=(Participant("Ann", "ann@acme.example"),))
    h.sync()
    assert [type(w) for w in seen] == [Update] and seen[0].send_invitations


def test_no_invitations_when_the_setting_is_off(h):
    a = h.add_local()
    h.sync()
    seen = writes_seen(h)
    h.edit_local(a.id, participants=(Participant("Ann", "ann@acme.example"),))
    h.sync()
    assert seen and not seen[0].send_invitations


def test_no_invitations_for_changes_that_came_from_the_remote_side(h):
    h.store.set_setting("sync.send_invitations", True)
    e = h.add_remote(attendees=(Participant("Ann", "ann@acme.example"),))
    h.sync()
    seen = writes_seen(h)
    h.calendar.edit(e.remote_id, subject="Renamed remotely")
    h.sync()
    assert not any(w.send_invitations for w in seen)


# --------------------------------------------------------------------------- recurrence


def test_recurrence_is_pushed_one_way(h):
    a = h.add_local(recurrence=Recurrence("FREQ=WEEKLY;COUNT=10"))
    h.sync()
    event = h.remote_for(a.id)
    assert event.recurrence.rrule == "FREQ=WEEKLY;COUNT=10"
    h.calendar.edit(event.remote_id, recurrence=Recurrence("FREQ=DAILY;COUNT=3"))
    h.sync()
    assert h.local(a.id).recurrence.rrule == "FREQ=WEEKLY;COUNT=10"
    h.edit_local(a.id, recurrence=Recurrence("FREQ=WEEKLY;COUNT=4"))
    h.sync()
    assert h.remote_for(a.id).recurrence.rrule == "FREQ=WEEKLY;COUNT=4"


def test_remote_series_is_imported_once_with_its_rule(h):
    e = h.add_remote(recurrence=Recurrence("FREQ=DAILY;COUNT=5"))
    h.sync()
    assert h.local_for(e.remote_id).recurrence.rrule == "FREQ=DAILY;COUNT=5"


def test_deleted_occurrence_becomes_an_exdate_on_the_other_side(h):
    a = h.add_local(recurrence=Recurrence("FREQ=DAILY;COUNT=5"))
    h.sync()
    second = a.start + timedelta(days=1)
    h.edit_local(a.id, recurrence=Recurrence("FREQ=DAILY;COUNT=5", exdates=(second,)))
    h.sync()
    assert h.remote_for(a.id).recurrence.exdates == (second,)
    third = a.start + timedelta(days=2)
    event = h.remote_for(a.id)
    h.calendar.edit(event.remote_id, recurrence=replace(event.recurrence, exdates=(second, third)))
    h.sync()
    assert set(h.local(a.id).recurrence.exdates) == {second, third}


def test_moved_occurrence_becomes_an_override_on_the_other_side(h):
    a = h.add_local(recurrence=Recurrence("FREQ=DAILY;COUNT=5"))
    h.sync()
    original = a.start + timedelta(days=3)
    moved = OccurrenceOverride(
        original,
        "Meeting with Acme (moved)",
        "Cafe",
        original + timedelta(hours=3),
        original + timedelta(hours=4),
    )
    event = h.remote_for(a.id)
    h.calendar.edit(event.remote_id, recurrence=replace(event.recurrence, overrides=(moved,)))
    h.sync()
    assert h.local(a.id).recurrence.overrides == (moved,)
    other = a.start + timedelta(days=1)
    local_move = OccurrenceOverride(other, "Shortened", "", other, other + timedelta(minutes=30))
    h.edit_local(a.id, recurrence=replace(h.local(a.id).recurrence, overrides=(local_move, moved)))
    h.sync()
    assert set(h.remote_for(a.id).recurrence.overrides) == {moved, local_move}


def _shown_starts(h, now) -> list:
    """Every occurrence start the Sales Calendar shows (series expanded, deleted
    occurrences left out, moved ones at their new start), in the months around ``now``."""
    window = h.store.occurrences_between(now - timedelta(days=40), now + timedelta(days=200))
    return [o.start for o in window]


def _synced_series(h, rule: str, n: int = 6):
    """A series made in the Sales Calendar and synced, and its first ``n`` starts."""
    a = h.add_local(start=h.at(1), recurrence=Recurrence(rule))
    h.sync()
    return a, _first_starts(a, n)


def _first_starts(a, n: int) -> list:
    return [s.astimezone(UTC) for s in islice(a.recurrence.rule_set(a.start, a.timezone), n)]


def _with_end(rule: str, end: str | None) -> str:
    """``rule`` with its COUNT or UNTIL replaced by ``end`` (none when None)."""
    kept = [p for p in rule.split(";") if not p.startswith(("COUNT=", "UNTIL="))]
    return ";".join([*kept, end] if end else kept)


def split_remotely(
    h, remote_id: str, rule: str, starts: list, at: int, moved=timedelta(0), **fields
):
    """Another client changes "this and following" of a series from its
    occurrence ``at`` (of ``starts``): the old series ends before it, a new series
    (with ``fields``) takes the rest, ``moved`` by that much (to another day,
    say). Returns the new series."""
    cut = starts[at]
    count = next((int(p[6:]) for p in rule.split(";") if p.startswith("COUNT=")), None)
    until = cut - timedelta(seconds=1)
    h.calendar.edit(
        remote_id, recurrence=Recurrence(_with_end(rule, f"UNTIL={until:%Y%m%dT%H%M%SZ}"))
    )
    rest = _with_end(rule, f"COUNT={count - at}" if count else None)
    return h.add_remote(
        start=cut + moved, recurrence=Recurrence(rest), timezone="Europe/Berlin", **fields
    )


SPLIT_RULES = ["FREQ=DAILY;COUNT=6", "FREQ=DAILY", "FREQ=WEEKLY;BYDAY=MO,WE,FR;COUNT=6"]


@pytest.mark.parametrize("rule", SPLIT_RULES)
@pytest.mark.parametrize("at", [1, 3, 5])
def test_a_series_split_remotely_ends_the_sales_calendars_series_where_the_split_starts(
    h, rule, at
):
    a, starts = _synced_series(h, rule)
    now = h.clock()
    before = _shown_starts(h, now)
    h.clock.advance(minutes=1)
    remote_id = h.remote_for(a.id).remote_id
    new = split_remotely(h, remote_id, rule, starts, at, subject="Meeting with Acme (new room)")
    seen = writes_seen(h)
    h.sync()
    assert seen == []  # nothing goes back: the service holds both series already
    shown = _shown_starts(h, now)
    assert shown == before  # each occurrence once, none lost
    old = h.local(a.id)
    assert _first_starts(old, 10) == starts[:at]
    assert h.local_for(new.remote_id).contents == "Meeting with Acme (new room)"
    assert h.sync().counts == {}


@pytest.mark.parametrize("moved", [timedelta(days=1), timedelta(days=-1), timedelta(days=5)])
def test_a_split_whose_rest_moved_to_another_day_ends_the_series_where_the_split_starts(h, moved):
    # Outlook: the following occurrences moved from Tuesday to Wednesday (or to
    # the Monday before, or to the next week's Sunday): a new series that names
    # no other, after the old series' last occurrence, before the next one it dropped
    rule = "FREQ=WEEKLY;COUNT=6"
    a, starts = _synced_series(h, rule)
    now = h.clock()
    h.clock.advance(minutes=1)
    remote_id = h.remote_for(a.id).remote_id
    new = split_remotely(h, remote_id, rule, starts, 3, moved=moved, subject="Moved")
    seen = writes_seen(h)
    h.sync()
    assert seen == []  # nothing goes back: the service holds both series already
    assert _first_starts(h.local(a.id), 10) == starts[:3]
    assert _shown_starts(h, now) == starts[:3] + [s + moved for s in starts[3:]]
    assert h.local_for(new.remote_id).contents == "Moved"
    assert h.sync().counts == {}


def test_a_series_the_service_names_as_split_off_is_the_sign_wherever_it_starts(h):
    # Google: the new series is "<old id>_R<cut>", here a fortnight later
    rule = "FREQ=DAILY;COUNT=6"
    a, starts = _synced_series(h, rule)
    now = h.clock()
    h.clock.advance(minutes=1)
    remote_id = h.remote_for(a.id).remote_id
    later = timedelta(days=14)
    split_remotely(h, remote_id, rule, starts, 2, moved=later, split_from=remote_id)
    h.sync()
    assert _first_starts(h.local(a.id), 10) == starts[:2]
    assert _shown_starts(h, now) == starts[:2] + [s + later for s in starts[2:]]
    assert h.sync().counts == {}


@pytest.mark.parametrize(
    "fields",
    [
        {"moved": timedelta(days=8)},  # after the next occurrence the old series dropped
        {"moved": timedelta(days=1), "split_from": "evt-another-series"},
    ],
    ids=["too-late", "split-off-another"],
)
def test_a_new_series_that_is_not_the_sign_leaves_a_shortened_series_alone(h, fields):
    rule = "FREQ=WEEKLY;COUNT=6"
    a, starts = _synced_series(h, rule)
    h.clock.advance(minutes=1)
    split_remotely(h, h.remote_for(a.id).remote_id, rule, starts, 3, **fields)
    h.sync()
    assert h.local(a.id).recurrence.rrule == rule  # a rule change that does not flow back


def test_an_unrelated_series_after_a_shortened_one_does_not_shorten_the_sales_calendars(h):
    # Outlook: the weekly series' range ended early (not split), and the next
    # day a daily meeting of another client's comes: not the rest of this
    # series, so the Sales Calendar's series keeps its rule (which goes back)
    rule = "FREQ=WEEKLY;COUNT=6"
    a, starts = _synced_series(h, rule)
    h.clock.advance(minutes=1)
    until = f"UNTIL={starts[3] - timedelta(seconds=1):%Y%m%dT%H%M%SZ}"
    h.calendar.edit(h.remote_for(a.id).remote_id, recurrence=Recurrence(_with_end(rule, until)))
    h.add_remote(
        "Call with Globex",
        start=starts[3] + timedelta(days=1, hours=5),
        recurrence=Recurrence("FREQ=DAILY;COUNT=2"),
        timezone="Europe/Berlin",
    )
    h.sync()
    assert h.local(a.id).recurrence.rrule == rule
    assert _first_starts(h.local(a.id), 10) == starts


def test_a_remote_split_seen_by_an_interrupted_run_still_ends_the_series_on_the_next(h):
    """The run that sees a split imports the new series first; when it dies
    before it ends the old series, the next run lists the same changes with the
    new series linked already, and still takes it for the sign of the split."""
    rule = "FREQ=DAILY;COUNT=6"
    a = h.add_local(start=h.at(1), recurrence=Recurrence(rule))
    h.sync()
    for i in range(4):  # to push in the same run
        h.add_local(f"Visit {i}", start=h.at(10 + i))
    now = h.clock()
    before = _shown_starts(h, now)
    starts = _first_starts(a, 6)
    h.clock.advance(minutes=1)
    new = split_remotely(h, h.remote_for(a.id).remote_id, rule, starts, 2, subject="New room")
    h.kill_after_writes(1)
    with pytest.raises(Crash):
        h.sync()
    assert h.local_for(new.remote_id) is not None  # imported before the process died
    h.sync()
    assert _first_starts(h.local(a.id), 10) == starts[:2]
    assert _shown_starts(h, now) == before  # each occurrence once, none lost
    assert len(h.all_local()) == 6 and len(h.calendar.events) == 6
    assert h.sync().counts == {}


def test_a_split_off_series_carrying_the_old_series_local_id_comes_in_as_its_own(h):
    # Google copies extendedProperties (and so calsync's local id) into the new series
    a = h.add_local(start=h.at(1), recurrence=Recurrence("FREQ=DAILY;COUNT=6"))
    h.sync()
    now = h.clock()
    before = _shown_starts(h, now)
    starts = _first_starts(a, 6)
    h.clock.advance(minutes=1)
    remote_id = h.remote_for(a.id).remote_id
    new = split_remotely(
        h, remote_id, "FREQ=DAILY;COUNT=6", starts, 2, subject="New room", local_id=a.id
    )
    h.sync()
    assert h.store.status_for(h.account.id, [a.id])[a.id].remote_id == remote_id
    copy = h.local_for(new.remote_id)
    assert copy is not None and copy.id != a.id and copy.contents == "New room"
    assert _shown_starts(h, now) == before
    assert h.sync().counts == {}


def test_an_appointment_relinked_by_its_id_takes_its_own_series_not_a_split_off_copy(h):
    """When the links are gone (resync from scratch, an account added again,
    a crash), two unlinked events may carry the appointment's id: its own
    series and the copy Google made of it for a split. Its own began first."""
    from calsync_desktop.store.resync import forget_sync

    a = h.add_local(start=h.at(1), recurrence=Recurrence("FREQ=DAILY;COUNT=6"))
    h.sync()
    starts = _first_starts(a, 6)
    h.clock.advance(minutes=1)
    remote_id = h.remote_for(a.id).remote_id
    new = split_remotely(
        h, remote_id, "FREQ=DAILY;COUNT=6", starts, 2, subject="New room", local_id=a.id
    )
    forget_sync(h.store, h.account.id)
    h.sync()
    assert h.store.status_for(h.account.id, [a.id])[a.id].remote_id == remote_id
    copy = h.local_for(new.remote_id)
    assert copy is not None and copy.id != a.id and copy.contents == "New room"
    assert len(h.all_local()) == 2 and len(h.calendar.events) == 2
    assert h.sync().counts == {}


@pytest.mark.parametrize(
    "changed",
    [
        "FREQ=DAILY;COUNT=3",  # ended earlier, but no new series: not a split
        "FREQ=DAILY;COUNT=9",
        "FREQ=DAILY",
        "FREQ=WEEKLY;COUNT=2",
        "FREQ=DAILY;INTERVAL=2",
    ],
)
def test_a_remote_rule_change_other_than_a_split_does_not_flow_back(h, changed):
    a = h.add_local(start=h.at(1), recurrence=Recurrence("FREQ=DAILY;COUNT=6"))
    h.sync()
    h.clock.advance(minutes=1)
    h.calendar.edit(h.remote_for(a.id).remote_id, recurrence=Recurrence(changed))
    h.sync()
    assert h.local(a.id).recurrence.rrule == "FREQ=DAILY;COUNT=6"


def test_a_series_shortened_there_keeps_its_edited_and_deleted_occurrences_after_that_end(h):
    # the rule flows one way: a range ended early in Outlook is pushed back,
    # and the occurrences the service dropped with it (an edited one, a
    # deleted one) are no edit there; the user's own stay (SPEC §4)
    start = h.at(1)
    a = h.add_local(start=start, recurrence=Recurrence("FREQ=DAILY;COUNT=6"))
    starts = _first_starts(a, 6)
    review = OccurrenceOverride(
        starts[4], "Quarterly review with Acme", "Room 2", starts[4], starts[4] + timedelta(hours=2)
    )
    h.edit_local(a.id, recurrence=Recurrence("FREQ=DAILY;COUNT=6", (starts[5],), (review,)))
    h.sync()
    remote_id = h.remote_for(a.id).remote_id
    assert h.calendar.events[remote_id].recurrence.overrides == (review,)
    h.clock.advance(minutes=1)
    h.calendar.edit(remote_id, recurrence=Recurrence("FREQ=DAILY;COUNT=3"))  # dropped with it
    h.sync()
    for recurrence in (h.local(a.id).recurrence, h.calendar.events[remote_id].recurrence):
        assert recurrence.rrule == "FREQ=DAILY;COUNT=6"
        assert recurrence.overrides == (review,)
        assert recurrence.exdates == (starts[5],)
    assert h.store.conflicts(h.account.id) == []
    assert h.sync().counts == {}


def test_a_rule_changed_locally_while_the_series_was_split_remotely_ends_at_the_split(h):
    a = h.add_local(start=h.at(1), recurrence=Recurrence("FREQ=DAILY;COUNT=6"))
    h.sync()
    now = h.clock()
    starts = _first_starts(a, 6)
    h.clock.advance(minutes=1)
    remote_id = h.remote_for(a.id).remote_id
    split_remotely(h, remote_id, "FREQ=DAILY;COUNT=6", starts, 3, subject="Meeting with Acme")
    h.edit_local(a.id, recurrence=Recurrence("FREQ=DAILY;COUNT=10"))
    h.sync()
    old = h.local(a.id)
    assert _first_starts(old, 20) == starts[:3]
    remote = h.calendar.events[remote_id]
    assert [s.astimezone(UTC) for s in remote.recurrence.rule_set(remote.start, "UTC")] == (
        starts[:3]
    )
    shown = _shown_starts(h, now)
    assert shown == starts  # each occurrence once, none lost


def _remote_shown(h) -> list:
    """Every occurrence start the service holds, of every event."""
    out = []
    for e in h.calendar.events.values():
        if e.recurrence is None:
            out.append(e.start.astimezone(UTC))
            continue
        gone = set(e.recurrence.exdates)
        out += [
            s.astimezone(UTC) for s in e.recurrence.rule_set(e.start, e.timezone) if s not in gone
        ]
    return sorted(out)


@pytest.mark.parametrize(("here", "there"), [(2, 4), (4, 2), (3, 3)])
def test_a_series_split_on_both_sides_between_two_syncs_shows_each_occurrence_once(h, here, there):
    """Split "this and following" here at one occurrence and there at another:
    the old series ends at the earlier cut, the earlier split's new series at
    the later cut, whose new series has the rest; split at the same occurrence,
    the two new series are one (the newer edit wins, as for any field)."""
    rule = "FREQ=DAILY;COUNT=8"
    a = h.add_local("Standup", start=h.at(1), recurrence=Recurrence(rule))
    h.sync()
    now = h.clock()
    starts = _first_starts(a, 8)
    remote_id = h.remote_for(a.id).remote_id
    h.clock.advance(minutes=1)
    split_remotely(h, remote_id, rule, starts, there, subject="Standup there")
    h.clock.advance(minutes=1)
    until = starts[here] - timedelta(seconds=1)
    h.edit_local(a.id, recurrence=Recurrence(_with_end(rule, f"UNTIL={until:%Y%m%dT%H%M%SZ}")))
    mine = h.add_local(
        "Standup here", start=starts[here], recurrence=Recurrence(f"FREQ=DAILY;COUNT={8 - here}")
    )
    h.sync()
    assert _shown_starts(h, now) == starts  # each occurrence once, none lost
    assert _remote_shown(h) == starts
    first, later = min(here, there), max(here, there)
    assert _first_starts(h.local(a.id), 10) == starts[:first]
    by_start = {
        o.start: o for o in h.store.occurrences_between(starts[0], starts[-1] + timedelta(hours=2))
    }
    titles = [by_start[s].contents for s in starts]
    if here == there:  # the same split: one new series, the newer edit's
        assert titles == ["Standup"] * first + ["Standup here"] * (8 - first)
        assert len(h.all_local()) == 2 and len(h.calendar.events) == 2
        assert h.remote_for(mine.id).subject == "Standup here"
        lost = [(c.field, c.lost_value) for c in h.store.conflicts(h.account.id)]
        assert lost == [("contents", "Standup there")]
    else:
        earlier = "Standup here" if here < there else "Standup there"
        last = "Standup there" if here < there else "Standup here"
        assert titles == (["Standup"] * first + [earlier] * (later - first) + [last] * (8 - later))
        assert len(h.all_local()) == 3 and len(h.calendar.events) == 3
    assert h.sync().counts == {}


def test_occurrences_edited_after_a_remote_split_go_with_the_old_series(h):
    a = h.add_local(start=h.at(1), recurrence=Recurrence("FREQ=DAILY;COUNT=6"))
    starts = _first_starts(a, 6)
    later = OccurrenceOverride(
        starts[4], "Moved", "", starts[4] + timedelta(hours=2), starts[4] + timedelta(hours=3)
    )
    h.edit_local(a.id, recurrence=replace(a.recurrence, overrides=(later,), exdates=(starts[5],)))
    h.sync()
    now = h.clock()
    h.clock.advance(minutes=1)
    remote_id = h.remote_for(a.id).remote_id
    split_remotely(h, remote_id, "FREQ=DAILY;COUNT=6", starts, 2, subject="Meeting with Acme")
    h.sync()
    assert h.local(a.id).recurrence.overrides == ()
    assert _shown_starts(h, now) == starts  # the new series has them as the service does


def test_a_series_split_in_the_sales_calendar_ends_the_remote_series_and_adds_the_new_one(h):
    rule = "FREQ=WEEKLY;BYDAY=TU,TH;COUNT=8"
    a, starts = _synced_series(h, rule, 8)
    last = starts[4] - timedelta(seconds=1)
    h.edit_local(a.id, recurrence=Recurrence(_with_end(rule, f"UNTIL={last:%Y%m%dT%H%M%SZ}")))
    new = h.add_local(
        "Meeting with Acme (new room)",
        start=starts[4],
        recurrence=Recurrence(_with_end(rule, "COUNT=4")),
    )
    h.sync()
    remote_starts = []
    for event in h.calendar.events.values():
        remote_starts += [
            s.astimezone(UTC) for s in event.recurrence.rule_set(event.start, event.timezone)
        ]
    assert sorted(remote_starts) == starts
    assert h.remote_for(new.id).subject == "Meeting with Acme (new room)"
    assert h.sync().counts == {}


# --------------------------------------------------------------------------- scope


def test_all_day_appointments_are_not_synced_in_either_direction(h):
    a = h.add_local(all_day=True)
    e = h.add_remote(all_day=True)
    h.sync()
    assert h.remote_for(a.id) is None and h.local_for(e.remote_id) is None
    reasons = {s.reason for s in h.store.skipped(h.account.id)}
    assert "All-day appointments are not synced." in reasons


def test_appointments_older_than_30_days_are_not_synced(h):
    old_local = h.add_local(start=h.clock() - timedelta(days=31))
    old_remote = h.add_remote(start=h.clock() - timedelta(days=31))
    recent = h.add_local(start=h.clock() - timedelta(days=29))
    h.sync()
    assert h.remote_for(old_local.id) is None and h.local_for(old_remote.remote_id) is None
    assert h.remote_for(recent.id) is not None


def test_a_series_is_in_scope_while_its_last_occurrence_is(h):
    start = h.clock() - timedelta(days=60)
    a = h.add_local(start=start, recurrence=Recurrence("FREQ=WEEKLY;COUNT=20"))
    h.sync()
    assert h.remote_for(a.id) is not None


def test_leaving_scope_by_age_is_never_a_deletion(h):
    a = h.add_local()
    h.sync()
    event = h.remote_for(a.id)
    h.clock.advance(days=40)
    h.calendar.remove(event.remote_id)
    h.sync()
    assert h.local(a.id) is not None
    h.store.delete_appointment(a.id)
    h.calendar.store(event)  # it comes back remotely; the old local deletion must not touch it
    h.sync()
    assert event.remote_id in h.calendar.events


def test_made_all_day_freezes_the_appointment_and_keeps_its_link(h):
    a = h.add_local()
    h.sync()
    h.edit_local(a.id, all_day=True, contents="Now all day")
    h.sync()
    event = h.remote_for(a.id)
    assert event is not None and event.subject == "Meeting with Acme"
    assert h.store.status_for(h.account.id, [a.id])


def test_beyond_the_horizon_is_out_of_scope(h):
    far = h.add_local(start=h.clock() + timedelta(days=800))
    h.sync()
    assert h.remote_for(far.id) is None


# --------------------------------------------------------------------------- leaving scope, said


def frozen_entries(h) -> dict[str, str]:
    """item id -> reason of the account's skipped items that are linked and frozen."""
    return {s.item_id: s.reason for s in h.store.skipped(h.account.id) if s.frozen}


def _made_all_day_locally(h, a, event):
    h.edit_local(a.id, all_day=True)


def _made_all_day_remotely(h, a, event):
    h.calendar.edit(event.remote_id, all_day=True)


def _aged_past_30_days(h, a, event):
    h.clock.advance(days=40)


def _moved_beyond_the_horizon_locally(h, a, event):
    far = timedelta(days=800)
    h.edit_local(a.id, start=a.start + far, end=a.end + far)


def _moved_beyond_the_horizon_remotely(h, a, event):
    far = timedelta(days=800)
    h.calendar.edit(event.remote_id, start=event.start + far, end=event.end + far)


LEAVING_SCOPE = {
    "made all-day locally": (_made_all_day_locally, "local", "Made all-day"),
    "made all-day remotely": (_made_all_day_remotely, "remote", "Made all-day in Work calendar"),
    "aged past 30 days": (_aged_past_30_days, "local", "Ended more than 30 days ago"),
    "moved beyond the horizon locally": (
        _moved_beyond_the_horizon_locally,
        "local",
        "Starts beyond the sync horizon",
    ),
    "moved beyond the horizon remotely": (
        _moved_beyond_the_horizon_remotely,
        "remote",
        "Moved in Work calendar beyond the sync horizon",
    ),
}


@pytest.mark.parametrize("leave", LEAVING_SCOPE.values(), ids=LEAVING_SCOPE)
def test_every_way_of_leaving_scope_is_listed_as_skipped_with_its_reason(h, leave):
    how, side, words = leave
    a = h.add_local("Quarterly review")
    h.sync()
    event = h.remote_for(a.id)
    h.clock.advance(minutes=1)
    how(h, a, event)
    h.sync()
    (entry,) = [s for s in h.store.skipped(h.account.id) if s.item_id == a.id]
    assert entry.frozen and entry.side == side and entry.item == "Quarterly review"
    assert entry.reason.startswith(words) and "kept as it is" in entry.reason
    assert h.store.status_for(h.account.id, [a.id])  # still linked: frozen, not deleted
    # later syncs keep the entry as it was, and cost what they always did
    before = h.calendar.requests
    assert h.sync().counts == {}
    assert h.calendar.requests - before == 1
    assert [s for s in h.store.skipped(h.account.id) if s.item_id == a.id] == [entry]


REMOTELY_OUT = {k: v for k, v in LEAVING_SCOPE.items() if v[1] == "remote"}
LOCAL_TOUCHES = {
    "saved unchanged": {},
    "edited": {"location": "Room 7"},
}


@pytest.mark.parametrize("touch", LOCAL_TOUCHES.values(), ids=LOCAL_TOUCHES)
@pytest.mark.parametrize("leave", REMOTELY_OUT.values(), ids=REMOTELY_OUT)
def test_an_event_out_of_scope_on_the_service_stays_listed_when_only_its_appointment_changes(
    h, leave, touch
):
    how, _side, words = leave
    a = h.add_local("Quarterly review")
    h.sync()
    h.clock.advance(minutes=1)
    how(h, a, h.remote_for(a.id))
    h.sync()
    event = h.remote_for(a.id)
    h.edit_local(a.id, **touch)  # the service lists nothing new: its event is as it was
    h.sync()
    assert frozen_entries(h)[a.id].startswith(words)
    assert h.remote_for(a.id) == event  # frozen: never written
    h.sync()
    assert frozen_entries(h)[a.id].startswith(words)


def test_a_series_that_ages_out_is_listed_as_skipped(h):
    a = h.add_local(
        start=h.clock() - timedelta(days=20), recurrence=Recurrence("FREQ=DAILY;COUNT=3")
    )
    h.sync()
    h.clock.advance(days=20)
    h.sync()
    assert frozen_entries(h)[a.id].startswith("Its last occurrence ended more than 30 days ago")


def test_a_private_appointment_leaving_scope_is_listed_without_its_contents(h):
    a = h.add_local("Divorce lawyer", private=True)
    h.sync()
    h.edit_local(a.id, all_day=True)
    h.sync()
    (entry,) = [s for s in h.store.skipped(h.account.id) if s.item_id == a.id]
    assert entry.item == "Private appointment" and "lawyer" not in entry.reason


@pytest.mark.parametrize("side", ["locally", "remotely"])
def test_the_entry_goes_when_the_appointment_is_back_in_scope(h, side):
    a = h.add_local()
    h.sync()
    event = h.remote_for(a.id)
    if side == "locally":
        h.edit_local(a.id, all_day=True)
        h.sync()
        h.edit_local(a.id, all_day=False, location="Back in scope")
    else:
        h.calendar.edit(event.remote_id, all_day=True)
        h.sync()
        h.calendar.edit(event.remote_id, all_day=False, location="Back in scope")
    assert a.id in frozen_entries(h)
    h.sync()
    assert a.id not in frozen_entries(h)
    assert h.local(a.id).location == h.remote_for(a.id).location == "Back in scope"


def test_beyond_the_horizon_comes_back_in_scope_with_time_and_syncs_what_changed_meanwhile(h):
    a = h.add_local(start=h.at(20))
    h.sync()
    far = timedelta(days=715)  # 735 days ahead: beyond two years
    h.edit_local(a.id, start=a.start + far, end=a.end + far, location="Far ahead")
    h.sync()
    assert frozen_entries(h)[a.id].startswith("Starts beyond the sync horizon")
    assert h.remote_for(a.id).start == a.start  # frozen: the service still has the old time
    h.clock.advance(days=10)  # now within two years
    h.sync()
    assert a.id not in frozen_entries(h)
    event = h.remote_for(a.id)
    assert event.start == a.start + far and event.location == "Far ahead"


# --------------------------------------------------------------------------- identity


def test_crash_between_remote_write_and_local_commit_never_duplicates(h):
    a = h.add_local()
    h.provider.crash_after_write = True
    with pytest.raises(Crash):
        h.sync()
    assert len(h.calendar.events) == 1
    h.sync()
    assert len(h.calendar.events) == 1
    assert h.store.status_for(h.account.id, [a.id])[a.id].remote_id in h.calendar.events
    assert len(h.all_local()) == 1


# what each service takes in one write request (SPEC §4, Writes)
SERVICE_BATCHES = {"Google": 50, "Graph": 20, "Exchange": 100}


@pytest.mark.parametrize("batch", SERVICE_BATCHES.values(), ids=SERVICE_BATCHES)
@pytest.mark.parametrize("killed_after", ["one batch", "two batches and one more event"])
def test_links_are_recorded_with_each_write_batch(h, batch, killed_after):
    h.calendar.batch_size = batch
    n = 2 * batch + 5
    for i in range(n):
        h.add_local(f"Visit {i}", start=h.at(1 + i % 20, 8 + i % 9))
    kill_at = batch if killed_after == "one batch" else 2 * batch + 1
    h.provider.crash_after_written = kill_at
    with pytest.raises(Crash):
        h.sync()
    written = len(h.calendar.events)
    linked = h.store.linked_count(h.account.id)
    # a kill loses at most the links of the batch in flight, never an earlier one
    assert written >= kill_at and h.provider.last_call <= batch
    assert linked == written - h.provider.last_call
    h.sync()
    assert len(h.calendar.events) == n and len(h.all_local()) == n
    assert h.store.linked_count(h.account.id) == n


def test_a_kill_in_the_service_after_n_events_loses_no_earlier_link(h):
    h.calendar.batch_size = 50
    for i in range(230):
        h.add_local(f"Visit {i}", start=h.at(1 + i % 20, 8 + i % 9))
    h.kill_after_events(200)  # the service has stored 200 events when the process dies
    with pytest.raises(Crash):
        h.sync()
    assert len(h.calendar.events) == 200
    assert h.store.linked_count(h.account.id) >= 150
    h.sync()
    assert len(h.calendar.events) == 230 == h.store.linked_count(h.account.id)


def test_crash_repair_still_pushes_a_later_local_edit(h):
    a = h.add_local()
    h.provider.crash_after_write = True
    with pytest.raises(Crash):
        h.sync()
    h.edit_local(a.id, location="Changed after the crash")
    h.sync()
    assert len(h.calendar.events) == 1
    assert h.remote_for(a.id).location == "Changed after the crash"


def test_a_deletion_after_a_crash_that_kept_an_update_unrecorded_reaches_the_service(h):
    """The service got our update just before the crash; the user then deletes the
    appointment: the update listed next time is our own write, not an edit that
    beats the deletion."""
    a = h.add_local()
    h.sync()
    h.provider.crash_after_write = True
    h.edit_local(a.id, start=a.start + timedelta(hours=1), end=a.end + timedelta(hours=1))
    with pytest.raises(Crash):
        h.sync()
    h.store.delete_appointment(a.id)
    h.sync()
    assert h.local(a.id) is None and h.calendar.events == {}
    assert h.store.tombstones(h.account.id) == []


def test_a_deletion_after_a_crash_still_loses_to_an_edit_made_in_the_service(h):
    a = h.add_local()
    h.sync()
    h.provider.crash_after_write = True
    h.edit_local(a.id, location="Room 2")
    with pytest.raises(Crash):
        h.sync()
    h.calendar.edit(h.remote_for(a.id).remote_id, subject="Moved to Friday")
    h.store.delete_appointment(a.id)
    h.sync()
    assert h.local(a.id).contents == "Moved to Friday"


def test_first_sync_links_the_same_events_instead_of_duplicating(h):
    start = h.at(3)
    a = h.add_local(
        "Board meeting\nnotes", start=start, participants=(Participant("Ann", "ann@acme.example"),)
    )
    e = h.add_remote(
        "Board meeting",
        start=start,
        body="notes",  # the whole contents are the evidence, not the first line
        attendees=(Participant("Ann", "ann@acme.example", InviteStatus.ACCEPTED),),
    )
    seen = writes_seen(h)
    h.sync()
    assert len(h.calendar.events) == 1 and len(h.all_local()) == 1
    assert h.local_for(e.remote_id).id == a.id
    assert h.local(a.id).participants[0].status is InviteStatus.ACCEPTED
    assert not any(isinstance(w, Create) for w in seen)


def link_pairs(h) -> dict[str, str]:
    """local id -> remote id of every link of the account."""
    return {r.local_id: r.remote_id for r in h.store.all_status(h.account.id).values()}


def readd_account(h, services) -> None:
    from calsync_desktop.accounts import remove_account

    remove_account(services, h.account.id, keep_appointments=True)
    h.account = h.store.add_account(
        replace(h.account, sync_state=None, local_seq=0, first_sync_done=False)
    )


@pytest.mark.parametrize("google", [False, True], ids=["outlook", "google"])
@pytest.mark.parametrize("moved", [timedelta(0), timedelta(days=1)])
def test_a_series_split_there_while_the_account_was_away_ends_at_the_split_when_it_is_back(
    h, services, google, moved
):
    rule = "FREQ=WEEKLY;COUNT=6"
    a, starts = _synced_series(h, rule)
    now = h.clock()
    remote_id = h.remote_for(a.id).remote_id
    readd_account(h, services)
    h.clock.advance(minutes=1)
    # Google names the new series after the old one and copies its local id
    shape = {"split_from": remote_id, "local_id": a.id} if google else {}
    new = split_remotely(h, remote_id, rule, starts, 3, moved=moved, subject="New room", **shape)
    seen = writes_seen(h)
    h.sync()
    assert seen == []  # nothing goes back that brings the old occurrences back there
    assert _first_starts(h.local(a.id), 10) == starts[:3]
    assert _shown_starts(h, now) == starts[:3] + [s + moved for s in starts[3:]]
    assert h.local_for(new.remote_id).contents == "New room"
    assert link_pairs(h)[a.id] == remote_id
    assert len(h.all_local()) == 2 and len(h.calendar.events) == 2
    assert h.sync().counts == {}


def test_an_event_another_client_copied_with_our_id_comes_in_as_its_own(h):
    """Our event is still there, unchanged (not listed), when another client
    copies it with our extended property: the link stays with ours, and the copy
    is an appointment of its own, on any listing, so nothing is left unlinked."""
    a = h.add_local("Pitch", start=h.at(2))
    h.sync()
    ours = h.remote_for(a.id).remote_id
    copy = h.add_remote("Pitch (copy)", start=h.at(3), local_id=a.id)
    h.sync()
    assert link_pairs(h)[a.id] == ours
    imported = h.local_for(copy.remote_id)
    assert imported is not None and imported.id != a.id
    h.calendar.expire_sync_state()  # a full listing: both carry the id
    h.sync()
    assert len(h.all_local()) == 2 and len(h.calendar.events) == 2
    assert link_pairs(h) == {a.id: ours, imported.id: copy.remote_id}
    assert h.sync().counts == {}


def test_first_sync_links_the_same_ical_uid_whatever_the_title(h):
    start = h.at(2)
    locals_ = [
        h.add_local(f"Sales call {i}", start=start + timedelta(hours=i), ical_uid=f"uid-{i}@crm")
        for i in range(20)
    ]
    events = [
        h.add_remote(
            f"Call, renamed elsewhere {i}",
            start=start + timedelta(hours=i, minutes=30),
            ical_uid=f"uid-{i}@crm",
        )
        for i in range(20)
    ]
    h.sync()
    assert len(h.calendar.events) == 20 and len(h.all_local()) == 20
    assert link_pairs(h) == {a.id: e.remote_id for a, e in zip(locals_, events, strict=True)}


def test_the_sales_calendar_remembers_the_ical_uid_of_what_it_imports_and_exports(h, services):
    e = h.add_remote("Imported")
    a = h.add_local("Exported")
    h.sync()
    assert h.local_for(e.remote_id).ical_uid == e.ical_uid
    assert h.local(a.id).ical_uid == h.remote_for(a.id).ical_uid is not None
    readd_account(h, services)  # kept when the account is removed
    assert h.local_for(e.remote_id) is None
    assert {x.ical_uid for x in h.all_local()} == {e.ical_uid, h.remote_for(a.id).ical_uid}


@pytest.mark.parametrize("side", ["remotely", "locally"])
def test_removing_and_readding_the_account_after_a_title_changed_duplicates_nothing(
    h, services, side
):
    imported = h.add_remote("Kick-off with Initech")
    h.sync()
    a = h.local_for(imported.remote_id)
    readd_account(h, services)
    if side == "remotely":
        h.calendar.edit(imported.remote_id, subject="Kick-off with Initech (moved room)")
    else:
        h.edit_local(a.id, contents="Kick-off with Initech, renamed here")
    h.sync()
    assert len(h.calendar.events) == 1 and len(h.all_local()) == 1
    assert link_pairs(h) == {a.id: imported.remote_id}


def test_an_appointment_linked_by_its_contents_is_recognised_by_that_events_ical_uid(h, services):
    # imported once from an event the service no longer has; another event with
    # the same contents and time (its own iCalUID) is linked to it by them
    a = h.add_local("Weekly call", start=h.at(2), ical_uid="gone@other-client.example")
    e = h.add_remote("Weekly call", start=h.at(2), ical_uid="kept@other-client.example")
    h.sync()
    assert link_pairs(h) == {a.id: e.remote_id}
    readd_account(h, services)
    h.calendar.edit(e.remote_id, subject="Weekly call (renamed)")  # the title is no evidence now
    h.sync()
    assert len(h.calendar.events) == 1 and len(h.all_local()) == 1
    assert link_pairs(h) == {a.id: e.remote_id}


def test_an_event_back_in_scope_after_the_first_sync_links_to_the_appointment_with_its_ical_uid(
    h, services
):
    e = h.add_remote("Demo for Initech", start=h.at(5))
    h.sync()
    a = h.local_for(e.remote_id)
    h.calendar.edit(e.remote_id, all_day=True)  # out of scope on the service
    h.sync()
    readd_account(h, services)
    h.sync()  # the same item, out of scope there: neither linked nor copied
    h.calendar.edit(e.remote_id, all_day=False)  # back in scope: listed as changed
    h.sync()
    assert len(h.all_local()) == 1 and len(h.calendar.events) == 1
    assert link_pairs(h) == {a.id: e.remote_id}


# the order of evidence (SPEC §4): local id, then iCalUID, then the whole contents + start + end
EVIDENCE_CASES = {
    "the iCalUID beats the same contents and time": (
        [("A", "Pitch", 0, "uid-1"), ("B", "Demo", 0, None)],
        [("E", "Demo", 0, "uid-1", None)],
        {"A": "E"},
    ),
    "the local id beats the iCalUID": (
        [("A", "Pitch", 0, None), ("B", "Demo", 1, "uid-1")],
        [("E", "Other", 2, "uid-1", "A")],
        {"A": "E"},
    ),
    "one event, two appointments with its iCalUID: one link": (
        [("A", "Pitch", 0, "uid-1"), ("B", "Pitch copy", 1, "uid-1")],
        [("E", "Pitch", 0, "uid-1", None)],
        {"A": "E"},
    ),
    "one event, two appointments with its contents and time: one link": (
        [("A", "Call Bob", 0, None), ("B", "Call Bob", 0, None)],
        [("E", "Call Bob", 0, "uid-9", None)],
        {"A": "E"},
    ),
    "the whole contents, not only the first line": (
        [("A", "Board meeting\nagenda attached", 0, None)],
        [("E", "Board meeting", 0, "uid-2", None)],
        {},
    ),
    "the same whole contents and time link": (
        [("A", "Board meeting\nagenda attached", 0, None)],
        [("E", "Board meeting\nagenda attached", 0, "uid-2", None)],
        {"A": "E"},
    ),
    "the same contents at another time do not link": (
        [("A", "Call Bob", 0, None)],
        [("E", "Call Bob", 1, "uid-3", None)],
        {},
    ),
}


@pytest.mark.parametrize("case", EVIDENCE_CASES.values(), ids=EVIDENCE_CASES)
def test_first_sync_links_by_the_order_of_evidence(h, case):
    appointments, events, expected = case
    start = h.at(3)
    made = {}
    for name, contents, hour, uid in appointments:
        made[name] = h.add_local(contents, start=start + timedelta(hours=hour), ical_uid=uid).id
    for name, contents, hour, uid, carries in events:
        subject, _, body = contents.partition("\n")
        made[name] = h.add_remote(
            subject,
            start=start + timedelta(hours=hour),
            body=body,
            ical_uid=uid,
            local_id=made.get(carries),
        ).remote_id
    h.sync()
    pairs = link_pairs(h)
    mine = {made[a[0]] for a in appointments}
    theirs = {made[e[0]] for e in events}
    assert {k: v for k, v in pairs.items() if k in mine and v in theirs} == {
        made[a]: made[e] for a, e in expected.items()
    }
    # nothing linked twice; whatever did not link was copied, once
    assert len(set(pairs.values())) == len(pairs) == len(h.calendar.events) == len(h.all_local())


def test_removing_and_readding_the_account_duplicates_nothing(h, services):
    from calsync_desktop.accounts import remove_account

    h.add_local("One")
    h.add_remote("Two")
    h.sync()
    remove_account(services, h.account.id, keep_appointments=True)
    h.account = h.store.add_account(
        replace(h.account, sync_state=None, local_seq=0, first_sync_done=False)
    )
    h.sync()
    assert len(h.calendar.events) == 2 and len(h.all_local()) == 2


def test_expired_sync_state_resyncs_without_duplicates(h):
    h.add_local("One")
    h.add_remote("Two")
    h.sync()
    h.calendar.expire_sync_state()
    h.add_remote("Three")
    h.sync()
    assert len(h.calendar.events) == 3 and len(h.all_local()) == 3


# --------------------------------------------------------------------------- conflicts


def test_same_field_changed_on_both_sides_newer_wins_and_loser_is_logged(h):
    a = h.add_local("Pitch")
    h.sync()
    h.clock.advance(minutes=5)
    h.edit_local(a.id, location="Local room")
    h.clock.advance(minutes=5)
    h.calendar.edit(h.remote_for(a.id).remote_id, location="Remote room")
    h.sync()
    assert h.local(a.id).location == "Remote room" == h.remote_for(a.id).location
    (conflict,) = h.store.conflicts(h.account.id)
    assert (conflict.field, conflict.lost_value, conflict.lost_side) == (
        "location",
        "Local room",
        "local",
    )


@pytest.mark.parametrize("fault", ["crash", "dropped"])
def test_a_conflict_whose_winner_reached_the_service_before_a_fault_is_logged_once(h, fault):
    a = h.add_local("Pitch")
    h.sync()
    h.clock.advance(minutes=5)
    h.calendar.edit(h.remote_for(a.id).remote_id, location="Remote room")
    h.clock.advance(minutes=5)
    h.edit_local(a.id, location="Local room")
    if fault == "crash":  # the winner is written remotely, then the process dies
        h.provider.crash_after_write = True
        with pytest.raises(Crash):
            h.sync()
    else:  # the write fails: the next run merges the same conflict again
        write_batch = h.calendar.write_batch

        def failing(writes):
            h.calendar.write_batch = write_batch
            raise Unreachable("The connection to the calendar service was dropped.")

        h.calendar.write_batch = failing
        with pytest.raises(Unreachable):
            h.sync()
    h.sync()
    assert h.local(a.id).location == "Local room" == h.remote_for(a.id).location
    lost = [(c.field, c.lost_value, c.lost_side) for c in h.store.conflicts(h.account.id)]
    assert lost == [("location", "Remote room", "remote")]


def test_a_conflict_merged_again_after_a_changed_meanwhile_answer_counts_once(h):
    a = h.add_local("Pitch")
    h.sync()
    remote_id = h.remote_for(a.id).remote_id
    h.clock.advance(minutes=5)
    h.calendar.edit(remote_id, location="Remote room")
    h.clock.advance(minutes=5)
    h.edit_local(a.id, location="Local room")
    write_batch = h.calendar.write_batch

    def saved_again_first(writes):
        # another client saves the event again, unchanged, just before our write:
        # "changed meanwhile", so the item is fetched and merged once more
        h.calendar.write_batch = write_batch
        h.calendar.edit(remote_id)
        return write_batch(writes)

    h.calendar.write_batch = saved_again_first
    result = h.sync()
    assert h.local(a.id).location == "Local room" == h.remote_for(a.id).location
    assert len(h.store.conflicts(h.account.id)) == 1
    assert result.conflicts == 1  # the same loss, merged twice, is one conflict


def test_a_loss_already_in_the_conflict_log_is_not_counted_again(h):
    a = h.add_local("Pitch")
    h.sync()
    h.clock.advance(minutes=5)
    h.calendar.edit(h.remote_for(a.id).remote_id, location="Remote room")
    h.clock.advance(minutes=5)
    h.edit_local(a.id, location="Local room")
    write_batch = h.calendar.write_batch

    def failing(writes):  # logged, then the write fails: the next run merges it again
        h.calendar.write_batch = write_batch
        raise Unreachable("The connection to the calendar service was dropped.")

    h.calendar.write_batch = failing
    with pytest.raises(Unreachable):
        h.sync()
    assert len(h.store.conflicts(h.account.id)) == 1
    assert h.sync().conflicts == 0  # in the log already: nothing new to look at
    assert h.local(a.id).location == "Local room" == h.remote_for(a.id).location


def test_a_lost_conflict_value_can_be_restored(h):
    a = h.add_local("Pitch")
    h.sync()
    h.clock.advance(minutes=5)
    h.calendar.edit(h.remote_for(a.id).remote_id, location="Remote room")
    h.clock.advance(minutes=5)
    h.edit_local(a.id, location="Local room")
    h.sync()
    (conflict,) = h.store.conflicts(h.account.id)
    assert conflict.lost_side == "remote" and h.local(a.id).location == "Local room"
    restore_conflict(h.store, conflict.id)
    h.sync()
    assert h.local(a.id).location == "Remote room" == h.remote_for(a.id).location
    assert h.store.conflicts(h.account.id)[0].restored


def test_changed_meanwhile_means_fetch_merge_and_retry_never_overwrite(h):
    a = h.add_local("Pitch")
    h.sync()
    h.edit_local(a.id, location="Local room")
    engine = h.engine()
    plan = engine.plan()
    h.calendar.edit(h.remote_for(a.id).remote_id, subject="Renamed elsewhere")
    engine.apply(plan, SyncResult())
    event = h.remote_for(a.id)
    assert event.subject == "Renamed elsewhere" and event.location == "Local room"
    h.sync()
    assert h.local(a.id).contents == "Renamed elsewhere"


def test_an_edit_made_during_the_sync_is_not_lost(h):
    a = h.add_local("Pitch")
    h.sync()
    h.calendar.edit(h.remote_for(a.id).remote_id, location="Remote room")
    engine = h.engine()
    plan = engine.plan()
    h.edit_local(a.id, contents="Edited while syncing")
    engine.apply(plan, SyncResult())
    assert h.local(a.id).contents == "Edited while syncing"
    h.sync()
    assert h.local(a.id).location == "Remote room"
    assert h.remote_for(a.id).subject == "Edited while syncing"


# --------------------------------------------------------------------------- deletions


def test_deleting_locally_deletes_remotely(h):
    a = h.add_local()
    h.sync()
    h.store.delete_appointment(a.id)
    h.sync()
    assert h.calendar.events == {} and h.store.tombstones(h.account.id) == []


def test_deleting_remotely_deletes_locally(h):
    a = h.add_local()
    h.sync()
    h.calendar.remove(h.remote_for(a.id).remote_id)
    h.sync()
    assert h.local(a.id) is None


def test_edited_locally_and_deleted_remotely_the_edit_wins(h):
    a = h.add_local()
    h.sync()
    h.calendar.remove(h.remote_for(a.id).remote_id)
    h.edit_local(a.id, contents="Still on")
    h.sync()
    assert h.remote_for(a.id).subject == "Still on" and len(h.calendar.events) == 1


def test_edited_remotely_and_deleted_locally_the_edit_wins(h):
    a = h.add_local()
    h.sync()
    h.calendar.edit(h.remote_for(a.id).remote_id, subject="Still on")
    h.store.delete_appointment(a.id)
    h.sync()
    assert h.local(a.id).contents == "Still on"


@pytest.mark.parametrize("how", ["edited there", "kept at the deletion warning"])
def test_an_appointment_that_comes_back_keeps_its_participants_and_rule(h, how):
    """The participant list and the rule are the Sales Calendar's (SPEC §4): a
    deleted appointment brought back from the service has its own again, with
    the answers the service reports and the service's other values."""
    a = h.add_local(
        "Weekly review",
        participants=(Participant("Ann", "ann@x.example"),),
        recurrence=Recurrence("FREQ=WEEKLY;COUNT=4"),
    )
    others = [h.add_local(f"Visit {i}", start=h.at(2 + i)) for i in range(11)]
    h.sync()
    remote_id = h.remote_for(a.id).remote_id
    # another client changes the attendees and the rule (not applied back)
    h.calendar.edit(
        remote_id,
        attendees=(
            Participant("Ann", "ann@x.example", InviteStatus.ACCEPTED),
            Participant("Cy", "cy@x.example"),
        ),
        recurrence=Recurrence("FREQ=DAILY;COUNT=2"),
    )
    h.sync()
    if how == "edited there":
        h.calendar.edit(remote_id, subject="Weekly review (room 2)")
        h.store.delete_appointment(a.id)
    else:
        for x in [a, *others]:
            h.store.delete_appointment(x.id)
        h.decision = Decision.RESTORE
    h.sync()
    back = h.local(a.id)
    assert [(p.email, p.status) for p in back.participants] == [
        ("ann@x.example", InviteStatus.ACCEPTED)
    ]
    assert back.recurrence.rrule == "FREQ=WEEKLY;COUNT=4"
    if how == "edited there":
        assert back.contents == "Weekly review (room 2)"


def test_meeting_cancelled_by_its_organiser_is_deleted_locally(h):
    e = h.add_remote(organizer_is_self=False)
    h.sync()
    local = h.local_for(e.remote_id)
    h.calendar.edit(e.remote_id, cancelled=True)
    h.sync()
    assert h.local(local.id) is None


def _many(h, n):
    items = [h.add_local(f"Visit {i}", start=h.at(1 + i % 20, 8 + i % 9)) for i in range(n)]
    h.sync()
    return items


def test_mass_deletion_guard_stops_before_deleting_anything(h):
    items = _many(h, 40)
    for a in items[:15]:
        h.calendar.remove(h.remote_for(a.id).remote_id)
    result = h.sync()
    assert result.stopped and h.guards and len(h.guards[0].local_deletions) == 15
    assert len(h.all_local()) == 40


def test_mass_deletion_guard_apply_deletes(h):
    items = _many(h, 40)
    for a in items[:15]:
        h.store.delete_appointment(a.id)
    h.decision = Decision.APPLY
    h.sync()
    assert len(h.calendar.events) == 25


def test_mass_deletion_guard_restore_brings_them_back(h):
    items = _many(h, 40)
    for a in items[:15]:
        h.calendar.remove(h.remote_for(a.id).remote_id)
    h.decision = Decision.RESTORE
    h.sync()
    assert len(h.calendar.events) == 40 and len(h.all_local()) == 40
    h.decision = Decision.STOP
    assert not h.sync().stopped


def test_a_restore_killed_before_its_links_commit_links_the_events_it_made_again(h):
    items = _many(h, 3)
    for remote_id in list(h.calendar.events):
        h.calendar.remove(remote_id)
    h.calendar.expire_sync_state()
    h.decision = Decision.RESTORE
    h.provider.crash_after_write = True  # made again remotely, then the process dies
    with pytest.raises(Crash):
        h.sync()
    moved = h.local(items[0].id).start + timedelta(hours=3)
    h.edit_local(items[0].id, start=moved, end=moved + timedelta(hours=1))
    h.sync()
    assert len(h.calendar.events) == 3 and len(h.all_local()) == 3
    assert link_pairs(h) == {a.id: h.remote_for(a.id).remote_id for a in items}
    assert h.remote_for(items[0].id).start == moved
    seen = writes_seen(h)
    h.sync()
    assert seen == []


def test_a_few_deletions_do_not_trip_the_guard(h):
    items = _many(h, 40)
    for a in items[:5]:
        h.calendar.remove(h.remote_for(a.id).remote_id)
    assert not h.sync().stopped and len(h.all_local()) == 35


def test_a_side_that_suddenly_lists_nothing_trips_the_guard(h):
    _many(h, 5)
    h.calendar.events.clear()
    h.calendar.expire_sync_state()
    result = h.sync()
    assert result.stopped and len(h.all_local()) == 5


# --------------------------------------------------------------------------- incremental and faults


def test_a_sync_with_nothing_to_do_costs_one_request(h):
    _many(h, 30)
    before = h.calendar.requests
    assert h.sync().counts == {}
    assert h.calendar.requests - before == 1


def test_rate_limits_are_retried_with_the_wait_asked_for(h):
    h.add_local()
    h.calendar.fail_next("rate_limit", 2)
    h.sync()
    assert len(h.calendar.events) == 1 and h.backoff.waits and min(h.backoff.waits) >= 1.0


def test_a_network_error_ends_the_run_and_the_next_run_picks_up(h, services):
    from calsync_desktop.sync.runner import SyncRunner

    h.add_local()
    runner = SyncRunner(services, open_provider=lambda account: h.provider)
    h.calendar.fail_next("drop")
    result = runner.sync_account(h.account.id)
    assert result.errors and h.store.get_account(h.account.id).state.value == "error"
    runner.sync_account(h.account.id)
    assert len(h.calendar.events) == 1
    assert h.store.get_account(h.account.id).state.value == "ok"


def test_expired_credentials_pause_the_account_and_delete_nothing(h, services):
    from calsync_desktop.sync.runner import SyncRunner

    _many(h, 3)
    runner = SyncRunner(services, open_provider=lambda account: h.provider)
    h.calendar.fail_next("expired_token")
    result = runner.sync_account(h.account.id)
    account = h.store.get_account(h.account.id)
    assert account.state.value == "needs_sign_in" and "sign" in result.errors[0].lower()
    assert runner.runnable_accounts() == []
    assert len(h.all_local()) == 3 and len(h.calendar.events) == 3


def test_progress_is_reported(h):
    _many(h, 5)
    assert h.progress[-1][0] == h.progress[-1][1] and h.progress[0][0] == 0


# --------------------------------------------------------------------------- privacy


def test_remote_private_event_is_private_locally(h):
    e = h.add_remote("Doctor", private=True)
    h.sync()
    assert h.local_for(e.remote_id).private


def test_local_private_appointment_is_pushed_as_private(h):
    a = h.add_local("Doctor", private=True)
    h.sync()
    assert h.remote_for(a.id).private


def test_sync_all_as_private_stores_everything_brought_in_as_private(store, clock):
    h = Harness(store, clock, sync_all_private=True)
    e = h.add_remote("Team lunch", private=False)
    h.sync()
    assert h.local_for(e.remote_id).private
    assert h.calendar.events[e.remote_id].private is False
    h.calendar.edit(e.remote_id, subject="Team lunch moved")
    h.sync()
    assert h.local_for(e.remote_id).private


def test_private_contents_never_reach_logs_skipped_or_guard(h, caplog):
    caplog.set_level(logging.DEBUG)
    secret = "Divorce lawyer"
    h.add_local(secret, private=True, all_day=True)
    h.add_local(secret + " 2", private=True, participants=(Participant("Confidant"),))
    items = [h.add_local(f"{secret} {i}", private=True, start=h.at(2 + i)) for i in range(12)]
    h.sync()
    for a in items:
        h.calendar.remove(h.remote_for(a.id).remote_id)
    result = h.sync()
    texts = [r.getMessage() for r in caplog.records]
    texts += [s.item + s.reason for s in h.store.skipped()]
    texts += result.guard.local_deletions
    assert result.guard and not any(secret in t or "Confidant" in t for t in texts)


def test_a_remote_rule_change_does_not_bring_back_a_locally_deleted_series(h):
    a = h.add_local(recurrence=Recurrence("FREQ=WEEKLY;COUNT=4"))
    h.sync()
    event = h.remote_for(a.id)
    h.calendar.edit(event.remote_id, recurrence=Recurrence("FREQ=DAILY;COUNT=2"))
    h.store.delete_appointment(a.id)
    h.sync()
    assert h.local(a.id) is None and h.calendar.events == {}


def test_crash_repair_leaves_an_appointment_that_left_scope_alone(h):
    a = h.add_local()
    h.provider.crash_after_write = True
    with pytest.raises(Crash):
        h.sync()
    h.edit_local(a.id, all_day=True)
    before = h.local(a.id)
    h.sync()
    assert h.local(a.id) == before and len(h.calendar.events) == 1


def test_a_deleted_series_that_aged_out_of_the_window_is_left_alone(h):
    start = h.clock() - timedelta(days=34)
    a = h.add_local(start=start, recurrence=Recurrence("FREQ=WEEKLY;COUNT=3"))
    h.sync()
    h.clock.advance(days=11)
    h.store.delete_appointment(a.id)
    h.sync()
    assert len(h.calendar.events) == 1


def test_an_appointment_deleted_within_a_day_of_the_30_day_edge_is_deleted_remotely(h):
    # still in scope (it ended less than 30 days ago): its deletion reaches the
    # service, so a full listing later finds nothing to bring back
    a = h.add_local(start=h.clock() - timedelta(days=30))
    h.sync()
    h.store.delete_appointment(a.id)
    h.sync()
    assert h.calendar.events == {}
    h.calendar.expire_sync_state()
    h.sync()
    assert h.all_local() == []


def test_a_remote_event_that_cannot_be_stored_is_skipped_with_its_reason(h):
    start = h.at(2)
    bad = h.calendar.add(subject="Broken", start=start, end=start - timedelta(hours=1))
    good = h.add_remote("Fine")
    h.sync()
    assert h.local_for(good.remote_id) is not None and h.local_for(bad.remote_id) is None
    (entry,) = [s for s in h.store.skipped(h.account.id) if s.item_id == bad.remote_id]
    assert "ends before it starts" in entry.reason


def test_for_a_service_that_forgets_deleted_new_events_the_state_moves_past_our_creates(h):
    h.provider.reports_deleted_new_events = False
    a = h.add_local()
    h.sync()
    assert h.engine().plan().changes.events == []  # our create's echo already absorbed
    # with a service that does report them, the echo is read once by the next sync
    h.provider.reports_deleted_new_events = True
    b = h.add_local("Second")
    h.sync()
    assert [e.local_id for e in h.engine().plan().changes.events] == [b.id]
    assert h.local(a.id) is not None


# --------------------------------------------------------------------------- lossy mappings

# contents the service cannot hold as they are: subject + body read back differently
LOSSY_CONTENTS = {
    "first line over 255 characters": "x" * 300 + "\nbody",
    "first line of exactly 255 characters, then more": "y" * 255 + "\nmore",
    "body ending in blank lines": "Title\nBody\n\n",
    "body starting with spaces": "Title\n   indented",
    "only a first line and a newline": "Title\n",
}


@pytest.mark.parametrize("contents", LOSSY_CONTENTS.values(), ids=LOSSY_CONTENTS)
def test_a_lossy_mapping_never_causes_a_needless_write_back(h, contents):
    a = h.add_local(contents)
    h.sync()
    seen = writes_seen(h)
    event = h.remote_for(a.id)
    h.clock.advance(minutes=1)
    h.calendar.edit(event.remote_id, location="Room 7")
    h.sync()
    assert h.local(a.id).location == "Room 7"
    assert seen == []  # the location came in; nothing went back out
    h.edit_local(a.id, location="Room 8")
    h.sync()
    assert [w.fields for w in seen] == [frozenset({"location"})]  # only what changed
    before = h.calendar.requests
    assert h.sync().counts == {}
    assert h.calendar.requests - before == 1


def test_an_unchanged_event_with_a_new_version_is_only_recorded(h):
    a = h.add_local("z" * 400)
    h.sync()
    event = h.remote_for(a.id)
    h.calendar.store(event)  # another client saved it unchanged: a new version, same values
    seen = writes_seen(h)
    assert h.sync().counts == {}
    assert seen == []
    before = h.calendar.requests
    h.sync()
    assert h.calendar.requests - before == 1


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    contents=st.text(
        st.sampled_from(["a", "B", " ", "\n", "\t", "é", "🙂"]), min_size=1, max_size=600
    ).filter(lambda c: c.strip()),
    microsecond=st.integers(0, 999_999),
)
def test_the_stored_form_is_what_the_service_holds_after_a_push(h, contents, microsecond):
    start = h.at(3).replace(microsecond=microsecond)
    a = Appointment(
        new_id(),
        contents,
        start,
        start + timedelta(hours=1),
        participants=(Participant("Me", "ME@example.com"), Participant("Ann", "ann@x.example")),
    )
    day = a.start + timedelta(days=1)
    moved = OccurrenceOverride(
        day, contents, "Room 2", day + timedelta(hours=1), day + timedelta(hours=2)
    )
    a = replace(a, recurrence=Recurrence("FREQ=DAILY;COUNT=3", overrides=(moved,)))
    (written,) = h.provider.write([Create(m.draft_from(a))])
    held = replace(m.remote_fields(written.event, "me@example.com"), statuses={})
    mine, theirs = (
        replace(m.stored_form(f, "me@example.com"), statuses={})
        for f in (m.local_fields(a), m.remote_fields(written.event, "me@example.com"))
    )
    assert mine == theirs

    # and that form is what the service holds (to the second: the memory service
    # keeps microseconds, the real ones do not)
    def second(t):
        return datetime.fromisoformat(t).replace(microsecond=0).isoformat()

    assert mine.contents == held.contents
    assert mine.time == tuple(second(t) for t in held.time)
    ((occurrence, held_occurrence),) = mine.overrides.items()
    assert occurrence == second(m.iso(day))
    assert held_occurrence == (
        m.stored_contents(contents),
        "Room 2",
        second(m.iso(moved.start)),
        second(m.iso(moved.end)),
    )


# --------------------------------------------------------------------------- sync all as private


def test_with_sync_all_as_private_nothing_is_made_private_remotely_by_itself(store, clock):
    h = Harness(store, clock, sync_all_private=True)
    e = h.add_remote("Team lunch")
    h.sync()
    seen = writes_seen(h)
    h.clock.advance(minutes=1)
    h.calendar.edit(e.remote_id, location="Canteen")
    h.sync()
    assert h.local_for(e.remote_id).private and h.local_for(e.remote_id).location == "Canteen"
    assert seen == [] and not h.calendar.events[e.remote_id].private


def test_with_sync_all_as_private_a_local_change_of_private_is_pushed_once(store, clock):
    h = Harness(store, clock, sync_all_private=True)
    a = h.add_local("Pitch", private=False)
    h.sync()
    remote_id = h.remote_for(a.id).remote_id
    seen = writes_seen(h)
    h.clock.advance(minutes=1)
    h.calendar.edit(remote_id, location="Room 7")
    h.sync()
    assert seen == []  # the event's own visibility is not written back
    h.edit_local(a.id, private=True)
    h.sync()
    assert [w.fields for w in seen] == [frozenset({"private"})]
    assert h.calendar.events[remote_id].private  # a private appointment is pushed as private
    h.edit_local(a.id, private=False)
    h.sync()
    assert not h.calendar.events[remote_id].private
    before = len(seen)
    h.clock.advance(minutes=1)
    h.calendar.edit(remote_id, location="Room 8")
    h.sync()
    assert len(seen) == before


def test_a_service_series_ended_over_30_days_ago_is_out_of_scope_though_no_listing_says_so(h):
    """The rule flows one way, so the service's series may end long before the
    Sales Calendar's; once its last occurrence there ended more than 30 days ago,
    time alone took it out of scope: no listing carries it, and a local edit
    must not reach it."""
    a = h.add_local("Weekly pipeline", start=h.at(-2), recurrence=Recurrence("FREQ=DAILY;COUNT=60"))
    h.sync()
    event = h.remote_for(a.id)
    h.calendar.edit(event.remote_id, recurrence=Recurrence("FREQ=DAILY;COUNT=2"))
    h.sync()  # the shorter rule stays on the service: the rule flows one way
    ended = h.remote_for(a.id)
    assert ended.recurrence.rrule == "FREQ=DAILY;COUNT=2"
    h.clock.advance(days=40)
    h.edit_local(a.id, location="Room 4")
    h.sync()
    assert h.remote_for(a.id) == ended  # frozen: never changed
    assert frozen_entries(h)[a.id].startswith(
        "Its last occurrence in Work calendar ended more than 30 days ago"
    )
    assert h.store.status_for(h.account.id, [a.id])  # still linked


@pytest.mark.parametrize(
    "leave",
    [_made_all_day_remotely, _moved_beyond_the_horizon_remotely],
    ids=["made all-day remotely", "moved beyond the horizon remotely"],
)
def test_a_local_edit_after_the_service_took_an_item_out_of_scope_does_not_reach_it(h, leave):
    """The incremental listing that said the event left scope does not carry
    it again: a later edit in the Sales Calendar still finds it frozen."""
    a = h.add_local("Quarterly review")
    h.sync()
    leave(h, a, h.remote_for(a.id))
    h.sync()
    frozen = h.remote_for(a.id)
    reason = frozen_entries(h)[a.id]
    h.edit_local(a.id, location="Room 4")
    h.sync()
    assert h.remote_for(a.id) == frozen
    assert frozen_entries(h)[a.id] == reason
    assert h.local(a.id).location == "Room 4"  # the edit is kept, and waits


def test_a_create_that_finds_its_event_there_out_of_scope_leaves_it_alone(h):
    """A full listing of the window lacks an event whose series time took out
    of scope; when it lacks everything, nothing is asked by id before the
    guard's look, so the edited appointment is pushed as new: the service
    answers that its event exists, and that event, out of scope, is not
    overwritten."""
    a = h.add_local(
        "Weekly pipeline", start=h.at(-26), recurrence=Recurrence("FREQ=WEEKLY;COUNT=3")
    )
    h.sync()
    event = h.remote_for(a.id)
    h.calendar.edit(event.remote_id, recurrence=Recurrence("FREQ=DAILY;COUNT=2"))
    h.sync()
    ended = h.remote_for(a.id)
    h.clock.advance(days=10)  # the service's series ended 35 days ago, ours 12 days ago
    h.calendar.expire_sync_state()
    h.edit_local(a.id, location="Room 4")
    h.sync()
    assert list(h.calendar.events.values()) == [ended]  # neither changed nor copied
    assert frozen_entries(h)[a.id].startswith("Its last occurrence in Work calendar ended")
    assert h.local(a.id).location == "Room 4"


def test_a_deletion_made_here_reaches_the_service_through_a_full_listing(h):
    kept, gone = h.add_local("Kept"), h.add_local("Deleted here")
    h.sync()
    h.calendar.expire_sync_state()  # the next run lists everything
    h.store.delete_appointment(gone.id)
    result = h.sync()
    assert result.full_listing and result.counts == {"delete remotely": 1}
    assert h.remote_for(gone.id) is None and h.remote_for(kept.id) is not None
    assert h.store.tombstones(h.account.id) == []


def test_a_full_listing_asks_for_no_event_it_listed(h):
    _many(h, 12)
    h.calendar.expire_sync_state()
    before = h.calendar.requests
    result = h.sync()
    assert result.full_listing and result.counts == {}
    assert h.calendar.requests - before == 2  # the refused incremental request, the listing


def test_a_series_that_comes_back_ends_where_it_was_split_there(h):
    start = h.at(2, 9)
    a = h.add_local(
        "Weekly review",
        start=start,
        participants=(Participant("Ann", "ann@x.example"),),
        recurrence=Recurrence("FREQ=WEEKLY;COUNT=4"),
    )
    h.sync()
    remote_id = h.remote_for(a.id).remote_id
    # another client splits it "this and following" at the third occurrence, and
    # renames it; meanwhile it is deleted here: the edit wins, it comes back
    cut = start + timedelta(weeks=2)
    until = (cut - timedelta(seconds=1)).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    h.calendar.edit(
        remote_id,
        subject="Weekly review (old room)",
        recurrence=Recurrence(f"FREQ=WEEKLY;UNTIL={until}"),
    )
    h.add_remote(
        "Weekly review (new room)", start=cut, recurrence=Recurrence("FREQ=WEEKLY;COUNT=2")
    )
    h.store.delete_appointment(a.id)
    h.sync()
    back = h.local(a.id)
    assert back.contents == "Weekly review (old room)"
    assert back.participants[0].email == "ann@x.example"
    starts = list(back.recurrence.rule_set(back.start, back.timezone))
    assert len(starts) == 2 and max(starts) < cut
    assert sorted(x.contents for x in h.all_local()) == [
        "Weekly review (new room)",
        "Weekly review (old room)",
    ]
