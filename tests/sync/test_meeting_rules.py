"""The sync's rules for meetings someone else organises (SPEC §10), one test per
rule, over a real store (a SQLite file, and a team PostgreSQL database as a
member) and the memory calendar service, which keeps a guest to their own copy
as Google does (a change of the organiser's meeting is refused)."""

from __future__ import annotations

from calsync_desktop import meetings
from calsync_desktop.model import MyResponse, Organizer, Participant, ShowAs
from calsync_desktop.providers.base import Respond, Update

from .harness import engine_fixtures

BOSS = Organizer("Beth Boss", "boss@customer.example")


services, h = engine_fixtures()


def _writes(h) -> list:
    return [w for writes, _ in h.batches for w in writes]


def _invitation(h, **kw):
    event = h.add_remote(
        "Quarterly review",
        organizer_is_self=False,
        organizer=BOSS,
        attendees=(Participant("Carl", "carl@customer.example"),),
        **kw,
    )
    h.sync()
    return event, h.local_for(event.remote_id)


def _skipped(h) -> list[str]:
    return [s.reason for s in h.store.skipped(h.account.id)]


def test_someone_elses_meeting_comes_in_with_its_organiser_and_the_users_answer(h):
    _, local = _invitation(h, my_response=MyResponse.TENTATIVE)
    assert local.organizer == BOSS and local.organised_by_someone_else
    assert local.my_response is MyResponse.TENTATIVE
    assert _writes(h) == []  # importing it wrote nothing


def test_an_answer_given_in_the_calendar_app_comes_back(h):
    event, local = _invitation(h)
    h.calendar.edit(event.remote_id, my_response=MyResponse.ACCEPTED)
    h.sync()
    assert h.local(local.id).my_response is MyResponse.ACCEPTED
    assert _writes(h) == []


def test_an_edit_of_someone_elses_meeting_is_never_pushed(h):
    event, local = _invitation(h)
    h.edit_local(local.id, contents="My own title", location="My office")
    h.sync()
    assert _writes(h) == []  # not even tried: the service would refuse it
    again = h.local(local.id)
    assert (again.contents, again.location) == ("Quarterly review", "")  # the organiser's
    assert h.calendar.events[event.remote_id].subject == "Quarterly review"
    reasons = [r for r in _skipped(h) if r.startswith("Read-only")]
    assert len(reasons) == 1 and "Beth Boss" in reasons[0]
    h.sync()
    assert _writes(h) == []  # nothing left to push: no loop


def test_what_an_attendee_may_set_on_their_copy_is_pushed_alone(h):
    event, local = _invitation(h)
    h.edit_local(local.id, show_as=ShowAs.FREE, location="My office")
    h.sync()
    (write,) = _writes(h)
    assert isinstance(write, Update) and write.fields == {"show_as"}
    assert h.calendar.events[event.remote_id].show_as is ShowAs.FREE
    assert h.local(local.id).location == ""


def test_an_answer_is_sent_as_a_response_not_as_an_edit(h):
    event, local = _invitation(h)
    h.store.update_appointment(meetings.respond(h.local(local.id), MyResponse.ACCEPTED))
    h.sync()
    (write,) = _writes(h)
    assert isinstance(write, Respond) and write.response is MyResponse.ACCEPTED
    assert write.own_copy is None
    assert h.calendar.events[event.remote_id].my_response is MyResponse.ACCEPTED
    assert h.sync().counts == {} and len(_writes(h)) == 1  # sent once


def test_an_answer_and_the_copys_show_as_go_together(h):
    event, local = _invitation(h)
    changed = meetings.respond(h.local(local.id), MyResponse.DECLINED)
    h.store.update_appointment(changed.with_changes(show_as=ShowAs.FREE))
    h.sync()
    (write,) = _writes(h)
    assert isinstance(write, Respond) and write.own_copy.fields == {"show_as"}
    remote = h.calendar.events[event.remote_id]
    assert (remote.my_response, remote.show_as) == (MyResponse.DECLINED, ShowAs.FREE)


def test_a_refused_answer_is_reported_once_and_not_sent_again(h):
    event, local = _invitation(h)
    h.calendar.refuse_answers(event.remote_id)
    h.store.update_appointment(meetings.respond(h.local(local.id), MyResponse.ACCEPTED))
    h.sync()
    assert len(_writes(h)) == 1
    assert h.local(local.id).my_response is MyResponse.NONE  # the service's own again
    refused = [r for r in _skipped(h) if r.startswith("Answer not sent")]
    assert len(refused) == 1 and "no answers" in refused[0]
    h.sync()
    h.sync()
    assert len(_writes(h)) == 1  # never retried


def test_a_declined_meeting_the_service_takes_away_stays_and_is_never_made_again(h):
    event, local = _invitation(h)
    h.store.update_appointment(meetings.respond(h.local(local.id), MyResponse.DECLINED))
    h.sync()
    # as Exchange and Office 365 do: the declined meeting goes to Deleted Items
    h.calendar.remove(event.remote_id)
    h.sync()
    kept = h.local(local.id)
    assert kept is not None and kept.my_response is MyResponse.DECLINED
    assert h.store.status_for(h.account.id, [local.id]) == {}
    h.edit_local(local.id, show_as=ShowAs.FREE)
    h.sync()
    assert not any(w for w in _writes(h) if not isinstance(w, Respond))  # no create
    assert h.calendar.events == {}
    assert meetings.NOT_ON_CALENDAR in _skipped(h)


def test_someone_elses_meeting_gone_from_the_calendar_goes_even_when_edited_here(h):
    event, local = _invitation(h)
    h.edit_local(local.id, show_as=ShowAs.FREE)
    h.calendar.remove(event.remote_id)  # the organiser took the user off the meeting
    h.sync()
    assert h.local(local.id) is None
    assert not [w for w in _writes(h) if not isinstance(w, Update)]  # nothing created


def test_a_declined_meeting_is_not_busy_and_a_setting_hides_it():
    from datetime import UTC, datetime, timedelta

    from calsync_desktop.model import Appointment

    start = datetime(2026, 12, 1, 9, tzinfo=UTC)
    meeting = Appointment("m", "Review", start, start + timedelta(hours=1), organizer=BOSS)
    declined = meeting.with_changes(my_response=MyResponse.DECLINED, account_id="a")
    assert meetings.counts_as_busy(meeting) and not meetings.counts_as_busy(declined)
    assert meetings.shown(declined, hide_declined=False)
    assert not meetings.shown(declined, hide_declined=True)
    assert meetings.shown(meeting, hide_declined=True)
