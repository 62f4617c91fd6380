"""Every service speaks the one test vocabulary (tests/fakes/kit/remote.py) alike.

The contract suites rely on these words meaning the same thing on every
server; what each service then does with them is checked by the suites
through the product's own providers.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tests.fakes.ews_server import EwsServer
from tests.fakes.google_calendar import GoogleCalendarServer
from tests.fakes.graph_server import GraphServer
from tests.fakes.kit import (
    FAULT_KINDS,
    HOSTILE_KINDS,
    IMPOSSIBLE_DATE,
    RESPONSES,
    RemoteCalendar,
    SeriesEdits,
)
from tests.fakes.memory import MemoryRemote

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


SERVERS = {"google": GoogleCalendarServer, "graph": GraphServer, "exchange": EwsServer}


def _running(name: str):
    """The test server ``name``, started; stopped when the test is done."""
    server = SERVERS[name]()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["memory", *SERVERS])
def remote(request):
    if request.param == "memory":
        yield MemoryRemote()
        return
    yield from _running(request.param)


def pending(remote: RemoteCalendar) -> int:
    if isinstance(remote, MemoryRemote):
        return remote.calendar.pending_faults
    return remote.faults.pending


def test_every_server_is_a_remote_calendar(remote):
    assert isinstance(remote, RemoteCalendar) and "@" in remote.owner


def test_created_edited_and_deleted_events_show_in_the_listing(remote):
    first = remote.create_event("Call with Globex", START, START + timedelta(hours=1))
    second = remote.create_event(
        "Doctor",
        START + timedelta(days=1),
        START + timedelta(days=1, hours=1),
        body="<p>bring <b>card</b></p>",
        html=True,
        location="Practice",
        sensitivity="private",
        attendees=(("Ann", "ann@customer.example"),),
    )
    all_day = remote.create_all_day_event("Holiday", date(2026, 12, 24), days=2)
    assert remote.event_ids() == [first, second, all_day]
    assert remote.sensitivity(first) == "normal" and remote.sensitivity(second) == "private"
    later = START + timedelta(hours=2)
    remote.edit_event(
        first, subject="Moved", private=True, start=later, end=later + timedelta(hours=1)
    )
    assert remote.sensitivity(first) == "private"
    remote.edit_event(first, sensitivity="normal")
    assert remote.sensitivity(first) == "normal"
    remote.delete_event(second)
    assert remote.event_ids() == [first, all_day]


def test_answers_and_attendees_use_the_neutral_words(remote):
    made = remote.create_event(
        "Kick-off", START, START + timedelta(hours=1), attendees=((None, "bo@customer.example"),)
    )
    for response in RESPONSES:
        remote.set_response(made, "BO@customer.example", response)
    remote.add_attendee(made, "dora@customer.example", "Dora")
    remote.set_response(made, "dora@customer.example", "accepted")
    with pytest.raises(KeyError):
        remote.set_response(made, "nobody@customer.example", "accepted")
    with pytest.raises(ValueError):
        remote.set_response(made, "bo@customer.example", "maybe")


def test_words_outside_the_vocabulary_are_refused(remote):
    made = remote.create_event("Visit", START, START + timedelta(hours=1))
    with pytest.raises(ValueError):
        remote.edit_event(made, colour="red")
    with pytest.raises(ValueError):
        remote.edit_event(made, sensitivity="secret")
    with pytest.raises(ValueError):
        remote.fail_next("earthquake")


def test_another_clients_acts_are_not_requests_and_meet_no_fault(remote):
    remote.fail_next("server_error")
    before = remote.count_requests()
    made = remote.create_event("Visit", START, START + timedelta(hours=1))
    remote.edit_event(made, location="Room 2")
    remote.expire_sync_state()
    remote.event_ids()
    remote.sensitivity(made)
    assert remote.count_requests() == before and pending(remote) == 1
    remote.clear_faults()
    assert pending(remote) == 0


def test_a_look_is_neither_counted_nor_faulted_and_looks_nest(remote):
    remote.fail_next("server_error")
    assert not remote.is_looking
    with remote.looking():
        with remote.looking():
            assert remote.is_looking
        assert remote.is_looking
    assert not remote.is_looking and pending(remote) == 1


@pytest.mark.parametrize("kind", FAULT_KINDS)
def test_every_service_takes_the_shared_fault_kinds(remote, kind):
    if isinstance(remote, MemoryRemote) and kind == "slow":
        # an in-process service answers at once; its faults are raised errors
        with pytest.raises(ValueError):
            remote.fail_next(kind)
        return
    remote.fail_next(kind, 2)
    assert pending(remote) == 2


@pytest.mark.parametrize("kind", HOSTILE_KINDS)
def test_every_http_service_takes_the_hostile_fault_kinds(remote, kind):
    if isinstance(remote, MemoryRemote):
        # an in-process service hands over objects: there is no answer to spoil
        with pytest.raises(ValueError):
            remote.fail_next(kind)
        return
    remote.fail_next(kind, 2, field="start.dateTime", value=IMPOSSIBLE_DATE)
    assert pending(remote) == 2


@pytest.fixture(params=list(SERVERS))
def series_remote(request):
    """The services that have cancelled occurrences and splits (SeriesEdits)."""
    yield from _running(request.param)


@pytest.mark.parametrize("rrule", ["FREQ=DAILY;COUNT=6", "FREQ=WEEKLY;BYDAY=TU,TH;COUNT=6"])
def test_series_words_cancel_and_split_keep_every_occurrence_once(series_remote, rrule):
    remote = series_remote
    assert isinstance(remote, SeriesEdits)
    made = remote.create_series(
        "Standup",
        START,
        START + timedelta(minutes=30),
        rrule,
        organizer="boss@customer.example",
        attendees=((None, remote.owner),),
    )
    starts = remote.occurrence_starts(made)
    assert len(starts) == 6 and starts[0] == START
    remote.cancel_occurrence(made, starts[1])
    assert remote.occurrence_starts(made) == [starts[0], *starts[2:]]
    new = remote.split_series(made, starts[3], subject="Standup (new room)")
    assert remote.occurrence_starts(made) == [starts[0], starts[2]]
    assert remote.occurrence_starts(new) == starts[3:]
    assert remote.event_ids() == [made, new]
