"""One test (at least) per rule of SPEC §10 the engine keeps, over a real store
(a SQLite file, and a team PostgreSQL database as a member) and the memory
calendar service: show-as both ways; the join link, the organiser of another
person's meeting and the user's answer from the service only."""

from __future__ import annotations

from calsync_desktop.model import MyResponse, Organizer, ShowAs
from calsync_desktop.providers.base import Update

from .harness import engine_fixtures

JOIN = "https://acme.zoom.us/j/5551234567?pwd=abc"


services, h = engine_fixtures()


def writes(h) -> list:
    return [w for batch, _ in h.batches for w in batch]


def test_show_as_set_in_the_sales_calendar_goes_to_the_service(h):
    a = h.add_local("Focus time", show_as=ShowAs.FREE)
    h.sync()
    assert h.remote_for(a.id).show_as is ShowAs.FREE
    h.batches.clear()
    h.edit_local(a.id, show_as=ShowAs.OUT_OF_OFFICE)
    h.sync()
    (update,) = writes(h)
    assert isinstance(update, Update) and update.fields == {"show_as"}
    assert h.remote_for(a.id).show_as is ShowAs.OUT_OF_OFFICE


def test_show_as_changed_on_the_service_comes_to_the_sales_calendar(h):
    e = h.add_remote("Offsite")
    h.sync()
    assert h.local_for(e.remote_id).show_as is ShowAs.BUSY
    h.batches.clear()
    h.calendar.edit(e.remote_id, show_as=ShowAs.WORKING_ELSEWHERE)
    h.sync()
    assert h.local_for(e.remote_id).show_as is ShowAs.WORKING_ELSEWHERE
    assert writes(h) == []


def test_show_as_changed_on_both_sides_the_newer_wins_and_the_loser_is_logged(h, clock):
    a = h.add_local("Dentist")
    h.sync()
    rid = h.remote_for(a.id).remote_id
    h.calendar.edit(rid, show_as=ShowAs.TENTATIVE)
    clock.advance(minutes=5)
    h.edit_local(a.id, show_as=ShowAs.OUT_OF_OFFICE)
    h.sync()
    assert h.local(a.id).show_as is ShowAs.OUT_OF_OFFICE
    assert h.calendar.events[rid].show_as is ShowAs.OUT_OF_OFFICE
    (conflict,) = h.store.conflicts(h.account.id)
    assert conflict.field == "show_as"
    assert conflict.lost_value == "Tentative"  # the conflict log speaks words


def test_an_event_first_created_on_the_service_brings_its_show_as_link_and_organiser(h):
    e = h.add_remote(
        "Board meeting",
        show_as=ShowAs.TENTATIVE,
        join_url=JOIN,
        organizer_is_self=False,
        organizer=Organizer("Dana Boss", "dana@acme.example"),
        my_response=MyResponse.ACCEPTED,
    )
    h.sync()
    a = h.local_for(e.remote_id)
    assert (a.show_as, a.join_url, a.my_response) == (ShowAs.TENTATIVE, JOIN, MyResponse.ACCEPTED)
    assert a.organizer == Organizer("Dana Boss", "dana@acme.example")
    assert a.organised_by_someone_else


def test_the_join_link_organiser_and_answer_flow_only_from_the_service(h):
    e = h.add_remote("Weekly sync", organizer_is_self=False, organizer=Organizer("", "x@acme.ex"))
    h.sync()
    a = h.local_for(e.remote_id)
    assert a.join_url == "" and a.organizer == Organizer("", "x@acme.ex")
    # the service gives the meeting a link and learns the user's answer
    h.calendar.edit(e.remote_id, join_url=JOIN, my_response=MyResponse.DECLINED)
    h.sync()
    a = h.local_for(e.remote_id)
    assert (a.join_url, a.my_response) == (JOIN, MyResponse.DECLINED)
    # a link changed in the Sales Calendar alone is no edit for the service
    h.batches.clear()
    h.edit_local(a.id, join_url="https://meet.google.com/zzz-zzzz-zzz")
    h.sync()
    assert writes(h) == []
    assert h.calendar.events[e.remote_id].join_url == JOIN


def test_the_users_own_appointment_has_no_organiser_or_answer_whatever_the_service_says(h):
    e = h.add_remote("Own call", organizer=Organizer("Me", "me@example.com"))
    h.calendar.edit(e.remote_id, my_response=MyResponse.ACCEPTED)
    h.sync()
    a = h.local_for(e.remote_id)
    assert a.organizer is None and a.my_response is MyResponse.NONE
