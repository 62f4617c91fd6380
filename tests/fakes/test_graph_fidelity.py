"""The Graph test server against Microsoft's documented behaviour, driven with raw
HTTP requests as the Graph reference pages write them
(https://learn.microsoft.com/graph/api/resources/event, .../calendar,
.../event-delta): no client of ours in between.

Every request body and answer is checked against the Graph v1.0 metadata in
tests/fakes/graph_schemas/ (tests/fakes/graph_csdl.py).
"""

from __future__ import annotations

import pytest
import requests

from tests.fakes import graph_csdl
from tests.fakes.graph_server import GraphServer

START = {"dateTime": "2026-12-01T09:00:00", "timeZone": "UTC"}
END = {"dateTime": "2026-12-01T10:00:00", "timeZone": "UTC"}
WINDOW = {"startDateTime": "2026-11-01T00:00:00Z", "endDateTime": "2027-01-01T00:00:00Z"}
# Properties the event resource page lists that a test server once left out.
EVENT_PROPERTIES = (
    "responseStatus", "webLink", "locations", "hasAttachments", "isOnlineMeeting",
    "onlineMeeting", "onlineMeetingProvider", "isDraft", "hideAttendees",
    "allowNewTimeProposals",
)  # fmt: skip


@pytest.fixture
def api(graph_server):
    token = graph_server._tokens("https://graph.microsoft.com/Calendars.ReadWrite")["access_token"]
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    base = graph_server.graph_url

    def call(method: str, path: str, **kwargs) -> requests.Response:
        # verify per request: a session's own is overridden by REQUESTS_CA_BUNDLE
        return session.request(
            method, base + path, timeout=10, verify=str(graph_server.ca_bundle), **kwargs
        )

    return call


def _event(api, **extra) -> dict:
    answer = api(
        "POST", "/me/events", json={"subject": "Call", "start": START, "end": END, **extra}
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


def test_the_metadata_is_read_from_the_copy_in_the_repository():
    sch = graph_csdl.schema()
    assert graph_csdl.SCHEMA_FILE.is_file()
    assert "tests/fakes/graph_schemas" in graph_csdl.SCHEMA_FILE.as_posix()
    # event inherits outlookItem and entity members
    assert {"id", "changeKey", "subject", "cancelledOccurrences"} <= set(sch.structured["event"])
    assert "teamsForBusiness" in sch.enums["onlineMeetingProviderType"]


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ({"Subject": "x"}, "no such property"),  # names are case-sensitive
        ({"subject": 5}, "is not Edm.String"),
        ({"isAllDay": "false"}, "is not Edm.Boolean"),
        ({"reminderMinutesBeforeStart": 2**31}, "is not Edm.Int32"),
        ({"showAs": "Busy"}, "is not a member of freeBusyStatus"),
        ({"sensitivity": "secret"}, "is not a member of sensitivity"),
        ({"start": {"dateTime": None, "timeZone": "UTC"}}, "must not be null"),
        ({"location": {"displayName": "A", "room": "B"}}, "no such property of location"),
        ({"attendees": {"emailAddress": {"address": "a@example.com"}}}, "must be an array"),
        ({"instances": []}, "navigation property"),
    ],
)
def test_a_body_outside_the_metadata_is_refused(api, graph_server, body, why):
    created = _event(api)
    answer = api("PATCH", f"/me/events/{created['id']}", json=body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["code"] == "RequestBodyRead"
    assert why in answer.json()["error"]["message"]


def test_read_only_properties_are_refused(api):
    created = _event(api)
    answer = api("PATCH", f"/me/events/{created['id']}", json={"webLink": "https://x"})
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "ErrorInvalidPropertySet"


def test_documented_writable_properties_are_accepted_and_kept(api):
    created = _event(
        api,
        allowNewTimeProposals=False,
        hideAttendees=True,
        locations=[{"displayName": "Room 1"}, {"displayName": "Café Nord"}],
        isOnlineMeeting=True,
        onlineMeetingProvider="teamsForBusiness",
        responseRequested=False,
    )
    got = api("GET", f"/me/events/{created['id']}").json()
    assert got["allowNewTimeProposals"] is False
    assert got["hideAttendees"] is True
    assert got["responseRequested"] is False
    assert [p["displayName"] for p in got["locations"]] == ["Room 1", "Café Nord"]
    # several locations show in ``location`` as their names joined by "; "
    assert got["location"]["displayName"] == "Room 1; Café Nord"
    assert got["isOnlineMeeting"] is True
    assert got["onlineMeetingProvider"] == "teamsForBusiness"
    assert got["onlineMeeting"]["joinUrl"].startswith("https://teams.microsoft.com/")
    # setting ``location`` replaces ``locations``
    api("PATCH", f"/me/events/{created['id']}", json={"location": {"displayName": "Hall"}})
    got = api("GET", f"/me/events/{created['id']}").json()
    assert [p["displayName"] for p in got["locations"]] == ["Hall"]


def test_events_carry_every_documented_property(api):
    got = _event(api)
    missing = [name for name in EVENT_PROPERTIES if name not in got]
    assert missing == []
    assert got["responseStatus"]["response"] == "organizer"
    assert got["isDraft"] is False and got["hasAttachments"] is False
    assert got["onlineMeetingProvider"] == "unknown" and got["onlineMeeting"] is None
    assert graph_csdl.problems(got, "event") == []


def test_calendars_carry_colour_removability_tallying_and_meeting_providers(api):
    answer = api("GET", "/me/calendars").json()
    (calendar,) = answer["value"]
    assert calendar["hexColor"] == ""
    assert calendar["isRemovable"] is False  # the default calendar
    assert calendar["isTallyingResponses"] is True
    assert calendar["allowedOnlineMeetingProviders"] == ["teamsForBusiness"]
    assert calendar["defaultOnlineMeetingProvider"] == "teamsForBusiness"
    assert graph_csdl.answer_problems(answer, "calendar") == []


@pytest.mark.parametrize(
    "path",
    [
        "/me/calendarView/delta",
        "/me/calendarView/delta()",
        "/me/calendarView/microsoft.graph.delta()",
        "/me/calendar/calendarView/delta()",
    ],
)
def test_the_sdk_forms_of_the_delta_url_are_accepted(api, path):
    _event(api)
    answer = api("GET", path, params=WINDOW)
    assert answer.status_code == 200, answer.text
    data = answer.json()
    assert [e["subject"] for e in data["value"]] == ["Call"]
    assert data["@odata.context"].endswith("$metadata#Collection(event)")


def test_a_delta_link_from_the_sdk_form_is_followed(graph_server, api):
    _event(api)
    first = api("GET", "/me/calendarView/delta()", params=WINDOW).json()
    link = first["@odata.deltaLink"]
    assert link.startswith(graph_server.graph_url)
    follow = api("GET", link.removeprefix(graph_server.graph_url))
    assert follow.status_code == 200
    assert follow.json()["value"] == []


def test_every_answer_names_its_odata_context(graph_server, api):
    created = _event(api)
    eid = created["id"]
    answers = {
        "/me": api("GET", "/me").json(),
        "/me/calendars": api("GET", "/me/calendars").json(),
        "/me/calendars/{id}": api(
            "GET", f"/me/calendars/{graph_server.default_calendar_id}"
        ).json(),
        "/me/events": api("GET", "/me/events").json(),
        "/me/events/{id}": api("GET", f"/me/events/{eid}").json(),
        "/me/calendarView": api("GET", "/me/calendarView", params=WINDOW).json(),
        "POST /me/events": created,
        "PATCH /me/events/{id}": api("PATCH", f"/me/events/{eid}", json={"subject": "B"}).json(),
    }
    user = f"users('{graph_server.state.user.id}')"
    contexts = {k: v.get("@odata.context", "").split("$metadata#")[-1] for k, v in answers.items()}
    assert contexts == {
        "/me": "users/$entity",
        "/me/calendars": f"{user}/calendars",
        "/me/calendars/{id}": f"{user}/calendars/$entity",
        "/me/events": f"{user}/events",
        "/me/events/{id}": f"{user}/events/$entity",
        "/me/calendarView": f"{user}/calendarView",
        "POST /me/events": f"{user}/events/$entity",
        "PATCH /me/events/{id}": f"{user}/events/$entity",
    }
    assert graph_server.answer_problems == []


def test_an_answer_outside_the_metadata_fails_the_test_that_met_it():
    server = GraphServer().start()
    token = server._tokens("https://graph.microsoft.com/Calendars.ReadWrite")["access_token"]
    created = server.state.calendars[server.default_calendar_id]
    created["colour"] = "blue"  # a server bug: no such property of calendar
    answer = requests.get(
        server.graph_url + "/me/calendars",
        headers={"Authorization": f"Bearer {token}"},
        verify=str(server.ca_bundle),
        timeout=10,
    )
    assert answer.status_code == 500
    with pytest.raises(AssertionError, match=r"value\[0\]\.colour: no such property of calendar"):
        server.stop()
