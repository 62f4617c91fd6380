"""The journal keeps every merge field of a change (SPEC §9): an undo compares
and restores show-as, the join link, the organiser and the answer too."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from calsync_desktop.model import MyResponse, Organizer, ShowAs
from calsync_desktop.sync import mapping as m
from calsync_desktop.sync.history import fields_from, fields_json
from calsync_desktop.sync.snapshot import Fields

from .harness import engine_fixtures
from .test_import_snapshot import events
from .test_undo import last_run, undo

OWN = "me@example.com"


services, h = engine_fixtures()


@settings(max_examples=200, deadline=None)
@given(events, st.booleans())
def test_fields_read_back_from_the_journal_as_they_were_written(event, all_private):
    fields = m.remote_fields(event, OWN, all_private)
    assert fields_from(fields_json(fields)) == fields


def test_empty_fields_stay_empty():
    assert fields_json(Fields()) == "{}"
    assert fields_from("{}") == Fields()


def test_undoing_the_import_of_a_free_event_deletes_it(h, clock):
    free = h.add_remote("Focus time", show_as=ShowAs.FREE)
    h.sync()
    assert undo(h, last_run(h).id).counts == {"delete": 1}
    assert h.local_for(free.remote_id) is None


def test_undoing_the_import_of_someone_elses_answered_meeting_deletes_it(h, clock):
    meeting = h.add_remote(
        "Quarterly review",
        organizer_is_self=False,
        organizer=Organizer("Carol", "carol@example.com"),
        my_response=MyResponse.ACCEPTED,
        join_url="https://meet.example.com/abc",
    )
    h.sync()
    assert h.local_for(meeting.remote_id).organised_by_someone_else
    assert undo(h, last_run(h).id).counts == {"delete": 1}
    assert h.local_for(meeting.remote_id) is None


def test_undoing_a_pushed_show_as_puts_back_the_one_before(h, clock):
    a = h.add_local("Focus time", show_as=ShowAs.FREE)
    h.sync()
    h.edit_local(a.id, show_as=ShowAs.OUT_OF_OFFICE)
    h.sync()
    assert h.remote_for(a.id).show_as is ShowAs.OUT_OF_OFFICE
    undo(h, last_run(h).id)
    assert h.remote_for(a.id).show_as is ShowAs.FREE
