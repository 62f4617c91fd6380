"""The Google test server against Google's documented behaviour, driven with raw
HTTP requests as the Calendar API's reference pages and guides write them
(https://developers.google.com/calendar/api/v3/reference/events, the guides on
sync, batch and performance): no client library of ours or Google's, so no
client can paper over what the server answers.

Every request body and answer is also checked against the discovery document
inside google-api-python-client (tests/fakes/google_discovery.py).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests

from tests.fakes import google_discovery
from tests.fakes.conftest import GOOGLE_OWNER as OWNER

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def api(google_server):
    """requests with the signed-in user's bearer token, rooted at calendar/v3/."""
    token = google_server.issue_tokens()["access_token"]
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"

    def call(method: str, path: str, **kwargs) -> requests.Response:
        return session.request(method, google_server.api_endpoint + path, timeout=10, **kwargs)

    yield call
    session.close()


def _event(at=START, **extra) -> dict:
    return {
        "summary": "Visit",
        "start": {"dateTime": at.isoformat(), "timeZone": "Europe/Berlin"},
        "end": {"dateTime": (at + timedelta(hours=1)).isoformat(), "timeZone": "Europe/Berlin"},
        **extra,
    }


def _reason(answer: requests.Response) -> str:
    return answer.json()["error"]["errors"][0]["reason"]


EVENTS = "calendars/primary/events"

# --------------------------------------------------------------------------- the schema


def test_the_discovery_document_is_the_installed_clients():
    doc = google_discovery.document()
    assert doc["id"] == "calendar:v3" and "Event" in doc["schemas"]


@pytest.mark.parametrize(
    "extra",
    [
        {"sumary": "typo"},  # a name the Event schema does not have
        {"summary": 5},  # a string property given a number
        {"attendees": {"email": "a@b.example"}},  # an array given an object
        {"guestsCanModify": "yes"},  # a boolean given a string
        {"start": {"dateTime": "tomorrow at nine", "timeZone": "UTC"}},  # not RFC 3339
        {"start": {"date": "2026-13-01"}, "end": {"date": "2026-13-02"}},  # not a date
        {"reminders": {"overrides": [{"method": "popup", "minutes": 2**40}]}},  # past int32
    ],
)
def test_a_body_outside_the_schema_is_refused(api, extra):
    answer = api("POST", EVENTS, json=_event(**extra))
    assert answer.status_code == 400 and _reason(answer) == "invalid"


def test_insert_requires_start_and_end_and_patch_does_not(api):
    body = _event()
    del body["end"]
    assert api("POST", EVENTS, json=body).status_code == 400
    made = api("POST", EVENTS, json=_event()).json()
    assert api("PATCH", f"{EVENTS}/{made['id']}", json={"location": "Room 2"}).ok


def test_an_answer_outside_the_schema_fails_the_test(google_server, api):
    broken = google_server.insert_event({**_event(), "summary": 5})  # no schema check on this path
    answer = api("GET", f"{EVENTS}/{broken['id']}")
    assert answer.status_code == 500
    with pytest.raises(AssertionError, match="summary"):
        google_server.stop()


def test_every_answer_the_server_gives_fits_the_schema(google_server, api):
    made = api("POST", EVENTS, json=_event(recurrence=["RRULE:FREQ=DAILY;COUNT=3"])).json()
    answers = [
        made,
        api("GET", f"{EVENTS}/{made['id']}").json(),
        api("GET", EVENTS).json(),
        api("GET", f"{EVENTS}/{made['id']}/instances").json(),
        api("GET", "users/me/calendarList").json(),
        api("GET", "users/me/calendarList/primary").json(),
        api("GET", "users/me/settings").json(),
        api("GET", "colors").json(),
    ]
    for answer in answers:
        assert google_discovery.answer_problems(answer) == [], answer
    assert google_server.answer_problems == []


# --------------------------------------------------------------------------- times and zones


@pytest.mark.parametrize("date_time", ["2026-12-01T09:00:00+01:00", "2026-12-01T09:00:00"])
def test_an_unknown_time_zone_is_refused_and_the_server_keeps_answering(api, date_time):
    body = {
        "summary": "Visit",
        "start": {"dateTime": date_time, "timeZone": "Mars/Olympus_Mons"},
        "end": {"dateTime": "2026-12-01T10:00:00+01:00", "timeZone": "Europe/Berlin"},
    }
    answer = api("POST", EVENTS, json=body)
    assert answer.status_code == 400 and _reason(answer) == "invalid"
    assert answer.json()["error"]["message"] == "Invalid time zone definition for start time."
    assert api("GET", EVENTS).ok


def test_a_date_time_without_offset_is_answered_with_one(api):
    body = _event()
    body["start"] = {"dateTime": "2026-12-01T09:00:00", "timeZone": "Europe/Berlin"}
    body["end"] = {"dateTime": "2026-12-01T10:00:00", "timeZone": "Europe/Berlin"}
    made = api("POST", EVENTS, json=body).json()  # the calendar's zone is UTC
    assert made["start"] == {"dateTime": "2026-12-01T08:00:00Z", "timeZone": "Europe/Berlin"}
    assert made["end"]["dateTime"] == "2026-12-01T09:00:00Z"


@pytest.mark.parametrize(
    ("calendar_zone", "asked", "answered"),
    [
        ("UTC", None, "2026-12-01T14:00:00Z"),
        ("Europe/Berlin", None, "2026-12-01T15:00:00+01:00"),
        ("Europe/Berlin", "Asia/Tokyo", "2026-12-01T23:00:00+09:00"),
    ],
)
def test_times_are_answered_in_the_response_zone_beside_the_events_own(
    google_server, api, calendar_zone, asked, answered
):
    google_server.set_time_zone(calendar_zone)
    body = _event()
    body["start"] = {"dateTime": "2026-12-01T09:00:00", "timeZone": "America/New_York"}
    body["end"] = {"dateTime": "2026-12-01T10:00:00", "timeZone": "America/New_York"}
    made = api("POST", EVENTS, json=body).json()  # insert has no timeZone parameter
    in_calendar = datetime.fromisoformat(made["start"]["dateTime"])
    assert (
        in_calendar.utcoffset() == datetime(2026, 12, 1, tzinfo=ZoneInfo(calendar_zone)).utcoffset()
    )
    params = {"timeZone": asked} if asked else {}
    got = api("GET", f"{EVENTS}/{made['id']}", params=params).json()
    (listed,) = api("GET", EVENTS, params=params).json()["items"]
    for event in (got, listed):
        assert event["start"] == {"dateTime": answered, "timeZone": "America/New_York"}
    assert api("GET", EVENTS, params={"timeZone": "Mars/Olympus_Mons"}).status_code == 400


def test_a_series_needs_a_time_zone(api):
    body = {
        "summary": "Daily",
        "start": {"dateTime": START.isoformat()},
        "end": {"dateTime": (START + timedelta(hours=1)).isoformat()},
        "recurrence": ["RRULE:FREQ=DAILY;COUNT=2"],
    }
    answer = api("POST", EVENTS, json=body)
    assert answer.status_code == 400 and _reason(answer) == "required"


# --------------------------------------------------------------------------- patch semantics


def test_patch_merges_nested_objects_and_null_removes_a_key(api):
    made = api(
        "POST",
        EVENTS,
        json=_event(extendedProperties={"private": {"keep": "1", "drop": "2"}}),
    ).json()
    earlier = (START - timedelta(hours=1)).isoformat()
    patched = api(
        "PATCH",
        f"{EVENTS}/{made['id']}",
        json={"start": {"dateTime": earlier}, "extendedProperties": {"private": {"drop": None}}},
    ).json()
    assert patched["start"]["timeZone"] == "Europe/Berlin"  # kept beside the new dateTime
    assert patched["start"]["dateTime"] == "2026-12-01T08:00:00Z"
    assert patched["extendedProperties"]["private"] == {"keep": "1"}


def test_patch_replaces_arrays_whole(api):
    made = api(
        "POST",
        EVENTS,
        json=_event(attendees=[{"email": "a@x.example"}, {"email": "b@x.example"}]),
    ).json()
    patched = api(
        "PATCH", f"{EVENTS}/{made['id']}", json={"attendees": [{"email": "c@x.example"}]}
    ).json()
    assert [a["email"] for a in patched["attendees"]] == ["c@x.example"]


# --------------------------------------------------------------------------- resource shapes


def test_events_carry_reminders_and_an_event_type(api):
    made = api("POST", EVENTS, json=_event()).json()
    assert made["reminders"] == {"useDefault": True} and made["eventType"] == "default"
    listed = api("GET", EVENTS).json()["items"][0]
    assert listed["reminders"] == {"useDefault": True} and listed["eventType"] == "default"


@pytest.mark.parametrize(
    ("reminders", "reason"),
    [
        ({"useDefault": True, "overrides": [{"method": "popup", "minutes": 5}]},
         "cannotUseDefaultRemindersAndSpecifyOverride"),
        ({"useDefault": False, "overrides": [{"method": "popup", "minutes": m} for m in range(6)]},
         "invalid"),
        ({"useDefault": False, "overrides": [{"minutes": 5}]}, "required"),
        ({"useDefault": False, "overrides": [{"method": "popup", "minutes": 40321}]}, "invalid"),
    ],
)  # fmt: skip
def test_reminders_outside_their_documented_bounds_are_refused(api, reminders, reason):
    answer = api("POST", EVENTS, json=_event(reminders=reminders))
    assert answer.status_code == 400 and _reason(answer) == reason
    five = [{"method": "email", "minutes": m} for m in (0, 10, 60, 1440, 40320)]
    made = api("POST", EVENTS, json=_event(reminders={"useDefault": False, "overrides": five}))
    assert made.json()["reminders"]["overrides"] == five


def test_the_calendar_list_has_default_reminders_and_a_sync_token(google_server, api):
    first = api("GET", "users/me/calendarList").json()
    (entry,) = first["items"]
    assert entry["primary"] is True and entry["defaultReminders"] == []
    again = api("GET", "users/me/calendarList", params={"syncToken": first["nextSyncToken"]})
    assert again.json()["items"] == []
    google_server.add_calendar("team@group.calendar.google.com", "Team", access_role="reader")
    changed = api("GET", "users/me/calendarList", params={"syncToken": first["nextSyncToken"]})
    assert [e["id"] for e in changed.json()["items"]] == ["team@group.calendar.google.com"]
    assert "defaultReminders" not in changed.json()["items"][0]  # a reader has none


def test_settings_and_colors_are_served(api):
    settings = api("GET", "users/me/settings").json()
    assert settings["kind"] == "calendar#settings"
    assert {s["id"] for s in settings["items"]} >= {"timezone", "locale", "weekStart"}
    zone = api("GET", "users/me/settings/timezone").json()
    assert zone == {**zone, "kind": "calendar#setting", "id": "timezone", "value": "UTC"}
    assert api("GET", "users/me/settings/nonsense").status_code == 404
    colors = api("GET", "colors").json()
    assert colors["kind"] == "calendar#colors" and colors["event"]["11"]["background"]


def test_if_none_match_with_the_current_etag_is_304(api):
    made = api("POST", EVENTS, json=_event()).json()
    same = api("GET", f"{EVENTS}/{made['id']}", headers={"If-None-Match": made["etag"]})
    assert same.status_code == 304 and same.content == b""
    other = api("GET", f"{EVENTS}/{made['id']}", headers={"If-None-Match": '"0"'})
    assert other.status_code == 200


def test_a_batch_part_without_http_version_is_answered(google_server, api):
    boundary = "batch_" + uuid.uuid4().hex
    part = (
        f"--{boundary}\r\nContent-Type: application/http\r\nContent-ID: <1>\r\n\r\n"
        f"GET /calendar/v3/{EVENTS}\r\n\r\n"
        f"--{boundary}--\r\n"
    )
    token = google_server.issue_tokens()["access_token"]
    answer = requests.post(
        google_server.base_url + "/batch/calendar/v3",
        data=part.encode(),
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": f"multipart/mixed; boundary={boundary}",
        },
        timeout=10,
    )
    assert answer.status_code == 200 and "HTTP/1.1 200 OK" in answer.text


# --------------------------------------------------------------------------- ids and series


def test_ids_of_a_split_series_are_accepted_and_produced(google_server, api):
    made = api("POST", EVENTS, json=_event(id="abcdef12345_R20261201T080000")).json()
    assert made["id"] == "abcdef12345_R20261201T080000"
    bad = api("POST", EVENTS, json=_event(id="abcdef12345_X20261201T080000"))
    assert bad.status_code == 400
    series = api("POST", EVENTS, json=_event(recurrence=["RRULE:FREQ=DAILY;COUNT=5"])).json()
    third = START + timedelta(days=2)
    new_id = google_server.split_series(series["id"], third, subject="Visit (new room)")
    assert new_id == f"{series['id']}_R{third:%Y%m%dT%H%M%S}"
    old = api("GET", f"{EVENTS}/{series['id']}").json()
    new = api("GET", f"{EVENTS}/{new_id}").json()
    assert old["recurrence"] == ["RRULE:FREQ=DAILY;UNTIL=20261203T085959Z"]
    assert (
        new["recurrence"] == ["RRULE:FREQ=DAILY;COUNT=3"] and new["summary"] == "Visit (new room)"
    )
    assert new["iCalUID"] != old["iCalUID"]
    starts = google_server.occurrence_starts(series["id"]) + google_server.occurrence_starts(new_id)
    assert starts == [START + timedelta(days=d) for d in range(5)]


# --------------------------------------------------------------------------- guests


def _their_meeting(google_server, **extra) -> dict:
    return google_server.insert_event(
        {
            **_event(),
            "organizer": {"email": "boss@customer.example", "self": False},
            "attendees": [
                {"email": "boss@customer.example", "organizer": True},
                {"email": OWNER, "self": True},
            ],
            **extra,
        }
    )


def test_a_guest_cannot_change_the_organisers_meeting(google_server, api):
    meeting = _their_meeting(google_server)
    answer = api("PATCH", f"{EVENTS}/{meeting['id']}", json={"location": "My office"})
    assert answer.status_code == 403 and _reason(answer) == "forbiddenForNonOrganizer"
    assert answer.json()["error"]["errors"][0]["domain"] == "calendar"
    assert google_server.get_event(meeting["id"]).get("location") is None


def test_a_guest_changes_their_own_copy_and_answer(google_server, api):
    meeting = _their_meeting(google_server)
    own = {
        "reminders": {"useDefault": False, "overrides": [{"method": "popup", "minutes": 5}]},
        "colorId": "3",
        "extendedProperties": {"private": {"mine": "1"}},
        "attendees": [
            {"email": "boss@customer.example", "organizer": True},
            {"email": OWNER, "self": True, "responseStatus": "accepted"},
        ],
    }
    assert api("PATCH", f"{EVENTS}/{meeting['id']}", json=own).ok


def test_a_guest_may_change_what_the_organiser_lets_guests_modify(google_server, api):
    meeting = _their_meeting(google_server, guestsCanModify=True)
    answer = api("PATCH", f"{EVENTS}/{meeting['id']}", json={"location": "My office"})
    assert answer.ok and answer.json()["location"] == "My office"


def test_one_address_twice_in_the_guest_list_is_refused(api):
    guests = [{"email": "ann@x.example"}, {"email": "ANN@x.example"}]
    answer = api("POST", EVENTS, json=_event(attendees=guests))
    assert answer.status_code == 400 and json.loads(answer.text)["error"]["code"] == 400
