"""How the Google and Graph test servers answer an attendee's response to
someone else's meeting, driven by each service's real client: google-api-python-client
(the attendee's own ``responseStatus``, with ``attendeesOmitted``) and plain
HTTP as the Graph reference pages write it (``/accept``, ``/tentativelyAccept``,
``/decline``). Exchange's response objects are driven by exchangelib in
``test_ews_foreign_client.py``.

Each server refuses what its service refuses: Google a guest's change to the
organiser's meeting (403 forbiddenForNonOrganizer unless guests may modify it),
Graph an organiser answering their own meeting. Office 365 takes a declined
meeting off the calendar; Google keeps it.
"""

from __future__ import annotations

import datetime as dt

import pytest
import requests
from google.oauth2.credentials import Credentials as GoogleCredentials
from googleapiclient import discovery
from googleapiclient.errors import HttpError

from tests.fakes.conftest import GOOGLE_OWNER

START = dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC)
END = START + dt.timedelta(hours=1)
BOSS = "boss@customer.example"

# --------------------------------------------------------------------------- Google


@pytest.fixture
def google(google_server):
    tokens = google_server.issue_tokens()
    credentials = GoogleCredentials(token=tokens["access_token"])
    return discovery.build(
        "calendar",
        "v3",
        credentials=credentials,
        static_discovery=True,
        client_options={"api_endpoint": google_server.api_endpoint},
    )


def _google_invitation(google_server) -> str:
    return google_server.create_event(
        "Review", START, END, organizer=BOSS, attendees=(("Carl", "carl@customer.example"),)
    )


def _own(event: dict) -> dict:
    (me,) = [a for a in event["attendees"] if a.get("self")]
    return me


def test_google_an_invitation_lists_the_owner_as_a_guest_who_has_not_answered(
    google, google_server
):
    event = google.events().get(calendarId="primary", eventId=_google_invitation(google_server))
    event = event.execute()
    assert event["organizer"] == {"email": BOSS, "self": False}
    me = _own(event)
    assert me["email"] == GOOGLE_OWNER and me["responseStatus"] == "needsAction"
    assert "organizer" not in me


def test_google_the_guest_answers_with_their_own_response_status_only(google, google_server):
    event_id = _google_invitation(google_server)
    body = {
        "attendeesOmitted": True,
        "attendees": [{"email": GOOGLE_OWNER, "responseStatus": "declined"}],
    }
    answer = google.events().patch(calendarId="primary", eventId=event_id, body=body).execute()
    assert _own(answer)["responseStatus"] == "declined"
    # everyone else is still invited, with their own answers
    others = sorted(a["email"] for a in answer["attendees"] if not a.get("self"))
    assert others == [BOSS, "carl@customer.example"]
    assert google_server.own_response(event_id) == "declined"  # still on the calendar


def test_google_a_guest_may_not_change_the_organisers_meeting_nor_others_answers(
    google, google_server
):
    event_id = _google_invitation(google_server)
    with pytest.raises(HttpError) as refused:
        google.events().patch(
            calendarId="primary", eventId=event_id, body={"summary": "My review"}
        ).execute()
    assert refused.value.resp.status == 403
    assert refused.value.error_details[0]["reason"] == "forbiddenForNonOrganizer"
    body = {
        "attendeesOmitted": True,
        "attendees": [{"email": "carl@customer.example", "responseStatus": "accepted"}],
    }
    with pytest.raises(HttpError) as refused:
        google.events().patch(calendarId="primary", eventId=event_id, body=body).execute()
    assert refused.value.resp.status == 403
    assert google_server.own_response(event_id) == "no_response"


def test_google_a_guest_sets_how_their_own_copy_shows_their_time(google, google_server):
    # transparency is the copy's own ("Show me as", Event resource): not shared
    event_id = _google_invitation(google_server)
    answer = (
        google.events()
        .patch(calendarId="primary", eventId=event_id, body={"transparency": "transparent"})
        .execute()
    )
    assert answer["transparency"] == "transparent"


# --------------------------------------------------------------------------- Graph


@pytest.fixture
def graph(graph_server):
    token = graph_server._tokens("https://graph.microsoft.com/Calendars.ReadWrite")["access_token"]
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"

    def call(method: str, path: str, **kwargs) -> requests.Response:
        return session.request(
            method,
            graph_server.graph_url + path,
            timeout=10,
            verify=str(graph_server.ca_bundle),
            **kwargs,
        )

    return call


def _graph_invitation(graph_server) -> str:
    return graph_server.create_event("Review", START, END, organizer=BOSS)


@pytest.mark.parametrize(
    ("action", "word", "neutral"),
    [("accept", "accepted", "accepted"), ("tentativelyAccept", "tentativelyAccepted", "tentative")],
)
def test_graph_the_attendee_answers_with_the_response_action(
    graph, graph_server, action, word, neutral
):
    event_id = _graph_invitation(graph_server)
    before = graph("GET", f"/me/events/{event_id}").json()
    assert before["isOrganizer"] is False
    assert before["responseStatus"]["response"] == "notResponded"
    answer = graph("POST", f"/me/events/{event_id}/{action}", json={"sendResponse": True})
    assert answer.status_code == 202 and answer.content == b""
    after = graph("GET", f"/me/events/{event_id}").json()
    assert after["responseStatus"]["response"] == word
    assert after["changeKey"] != before["changeKey"]
    assert graph_server.own_response(event_id) == neutral
    assert graph_server.responses[-1]["sent"] is True
    assert graph_server.invitations_sent() == 0  # an answer is not an invitation


def test_graph_a_declined_meeting_leaves_the_calendar_and_the_delta_says_so(graph, graph_server):
    event_id = _graph_invitation(graph_server)
    window = "startDateTime=2026-11-01T00:00:00Z&endDateTime=2027-01-01T00:00:00Z"
    first = graph("GET", f"/me/calendarView/delta?{window}").json()
    assert [e["id"] for e in first["value"]] == [event_id]
    answer = graph("POST", f"/me/events/{event_id}/decline", json={"sendResponse": False})
    assert answer.status_code == 202
    assert graph("GET", f"/me/events/{event_id}").status_code == 404
    assert graph_server.own_response(event_id) is None
    later = graph("GET", first["@odata.deltaLink"].removeprefix(graph_server.graph_url)).json()
    assert [(e["id"], "@removed" in e) for e in later["value"]] == [(event_id, True)]


def test_graph_the_organiser_cannot_answer_their_own_meeting(graph, graph_server):
    own = graph_server.create_event("Mine", START, END)
    answer = graph("POST", f"/me/events/{own}/accept", json={})
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "ErrorInvalidRequest"


@pytest.mark.parametrize(
    "body",
    [
        {"sendResponse": "yes"},  # a boolean given a string
        {"proposedNewTime": {"start": None}},  # accept takes no proposal
        {"response": "accepted"},  # not a parameter of the action
    ],
)
def test_graph_a_response_with_bad_parameters_is_refused(graph, graph_server, body):
    event_id = _graph_invitation(graph_server)
    answer = graph("POST", f"/me/events/{event_id}/accept", json=body)
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "RequestBodyRead"
    assert graph_server.own_response(event_id) == "no_response"


def test_graph_no_response_is_sent_where_the_organiser_asked_for_none(graph, graph_server):
    event_id = _graph_invitation(graph_server)
    graph_server.patch_event(event_id, responseRequested=False)
    refused = graph("POST", f"/me/events/{event_id}/accept", json={})
    assert refused.status_code == 400
    quiet = graph("POST", f"/me/events/{event_id}/accept", json={"sendResponse": False})
    assert quiet.status_code == 202 and graph_server.own_response(event_id) == "accepted"
