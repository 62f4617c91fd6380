"""An imported event's snapshot: both sides built once, the same as each side
read on its own (the appointment's fields and the event's)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from calsync_desktop.model import (
    InviteStatus,
    MyResponse,
    OccurrenceOverride,
    Organizer,
    Participant,
    Recurrence,
    ShowAs,
)
from calsync_desktop.providers.base import RemoteEvent
from calsync_desktop.store.links import snapshot_text
from calsync_desktop.sync import mapping as m
from calsync_desktop.sync.snapshot import LinkStatus, Snapshot

OWN = "me@example.com"
START = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)

people = st.builds(
    Participant,
    st.sampled_from(["", "Ann", "Bob Stone"]),
    st.sampled_from([None, "", "ann@example.com", "Bob@Example.com", OWN, "ME@example.com"]),
    st.sampled_from(list(InviteStatus)),
)
series = st.one_of(
    st.none(),
    st.builds(
        Recurrence,
        st.just("FREQ=WEEKLY;COUNT=5"),
        st.just((START + timedelta(days=7),)),
        st.lists(
            st.builds(
                OccurrenceOverride,
                st.just(START + timedelta(days=14)),
                st.sampled_from(["Visit", "Visit moved\nnew room"]),
                st.sampled_from(["", "Room 2"]),
                st.just(START + timedelta(days=14, hours=1)),
                st.just(START + timedelta(days=14, hours=2)),
            ),
            max_size=1,
        ).map(tuple),
    ),
)
events = st.builds(
    RemoteEvent,
    remote_id=st.just("r1"),
    version=st.just("v1"),
    subject=st.sampled_from(["Visit", ""]),
    start=st.just(START),
    end=st.just(START + timedelta(hours=1)),
    timezone=st.sampled_from(["UTC", "Europe/Berlin"]),
    body=st.sampled_from(["", "Agenda", "<p>Join https://meet.google.com/abc-defg-hij</p>"]),
    body_is_html=st.booleans(),
    location=st.sampled_from(["", "Office"]),
    private=st.booleans(),
    attendees=st.lists(people, max_size=3).map(tuple),
    recurrence=series,
    organizer_is_self=st.booleans(),
    show_as=st.sampled_from(list(ShowAs)),
    join_url=st.sampled_from(["", "https://teams.example.com/x"]),
    organizer=st.sampled_from([None, Organizer("Carol", "carol@example.com")]),
    my_response=st.sampled_from(list(MyResponse)),
)


@settings(max_examples=200, deadline=None)
@given(events, st.booleans())
def test_an_imports_two_sides_are_what_each_side_reads_on_its_own(event, all_private):
    appointment, _ = m.appointment_from(event, "l1", "acc", OWN, all_private, START)
    local, remote = m.imported_fields(event, appointment, OWN, all_private)
    assert local == m.local_fields(appointment)
    assert remote == m.remote_fields(event, OWN, all_private)


def imported(*attendees: Participant):
    event = RemoteEvent("r1", "v1", "Visit", START, START + timedelta(hours=1), attendees=attendees)
    appointment, _ = m.appointment_from(event, "l1", "acc", OWN, False, START)
    return m.imported_fields(event, appointment, OWN)


def test_the_shared_side_is_built_once_unless_an_attendee_has_no_name():
    local, remote = imported(Participant("Ann", "ann@example.com"))
    assert local is remote
    local, remote = imported(Participant("", "ann@example.com"))
    assert local.participants == (("ann@example.com", "ann@example.com"),)
    assert remote.participants == (("", "ann@example.com"),)


@settings(max_examples=100, deadline=None)
@given(events)
def test_a_snapshot_is_stored_as_the_json_it_always_was(event):
    appointment, _ = m.appointment_from(event, "l1", "acc", OWN, False, START)
    for snapshot in (
        Snapshot(*m.imported_fields(event, appointment, OWN)),
        Snapshot(m.local_fields(appointment), m.remote_fields(event, OWN)),
    ):
        row = LinkStatus("l1", "r1", "v1", snapshot, 1).to_row()
        text = snapshot_text(row.snapshot)
        assert text == json.dumps(snapshot.to_json(), sort_keys=True)
        assert snapshot_text(snapshot.to_json()) == text
        assert Snapshot.from_json(json.loads(text)) == snapshot
