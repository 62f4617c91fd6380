"""The contract for meetings someone else organises (SPEC §10), kept by every
provider that can answer them: the organiser and the user's own answer are
read, and an answer is sent as a response (never an edit of the meeting).

Mix :class:`MeetingContract` into a module's ``ProviderContract`` subclass; the
``harness`` fixture is the same (``provider`` and ``server``, the service as a
:class:`~tests.fakes.kit.RemoteCalendar`).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from calsync_desktop.model import MyResponse
from calsync_desktop.providers.base import NotFound, ProviderError, Respond
from tests.providers.contract import NOW, create, draft

BOSS = "boss@customer.example"


def _invitation(harness, subject: str = "Quarterly review") -> str:
    start = NOW + timedelta(days=3, hours=2)
    return harness.server.create_event(
        subject,
        start,
        start + timedelta(hours=1),
        organizer=BOSS,
        attendees=(("Carl", "carl@customer.example"),),
    )


def _answer(harness, remote_id: str, response: MyResponse):
    event = harness.provider.get(remote_id)
    (result,) = harness.provider.write([Respond(remote_id, event.version, response)])
    return event, result


class MeetingContract:
    """What the engine relies on for someone else's meetings, whatever the service."""

    def test_someone_elses_meeting_names_its_organiser_and_is_not_answered(self, harness):
        event = harness.provider.get(_invitation(harness))
        assert event.organizer_is_self is False
        assert event.organizer is not None and event.organizer.email.lower() == BOSS
        assert event.my_response is MyResponse.NONE

    @pytest.mark.parametrize("response", [MyResponse.ACCEPTED, MyResponse.TENTATIVE])
    def test_an_answer_is_sent_as_a_response(self, harness, response):
        remote_id = _invitation(harness)
        before, result = _answer(harness, remote_id, response)
        assert result.ok, result.error
        assert harness.server.own_response(remote_id) == response.value
        assert result.event is not None and result.event.my_response is response
        assert result.event.version != before.version
        # the meeting itself is the organiser's, as it was
        again = harness.provider.get(remote_id)
        assert (again.subject, again.start, again.end) == (before.subject, before.start, before.end)
        assert harness.server.invitations_sent() == 0

    def test_a_declined_meeting_is_answered_and_may_leave_the_calendar(self, harness):
        remote_id = _invitation(harness)
        _, result = _answer(harness, remote_id, MyResponse.DECLINED)
        assert result.ok, result.error
        if result.event is None:
            # Exchange and Office 365 move a declined meeting to Deleted Items
            assert harness.server.own_response(remote_id) is None
            with pytest.raises(NotFound):
                harness.provider.get(remote_id)
        else:
            assert result.event.my_response is MyResponse.DECLINED
            assert harness.server.own_response(remote_id) == "declined"

    def test_an_answer_to_ones_own_appointment_is_refused_and_changes_nothing(self, harness):
        own = create(harness.provider, draft(subject="My own call"))
        (result,) = harness.provider.write(
            [Respond(own.remote_id, own.version, MyResponse.ACCEPTED)]
        )
        assert isinstance(result.error, ProviderError) and not result.error.transient, result
        assert str(result.error)  # a sentence a person can read
        assert harness.provider.get(own.remote_id).subject == "My own call"
