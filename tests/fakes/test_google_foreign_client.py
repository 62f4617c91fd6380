"""The Google test server driven by gcsa (https://github.com/kuzmoyev/google-calendar-simple-api),
a Calendar client nobody on this project wrote, the ways it uses the API: its
own event serialiser (a whole event on insert and on update, reminders,
attendees, visibility, transparency, colour, guest permissions), its listings
(time window in a named zone, singleEvents ordered by start, free text),
instances of a series, import, move, delete, the calendar list, settings and
colours, and a refresh of an expired token at the server's token endpoint.

gcsa builds its service for googleapis.com; only that service is pointed at the
test google_server (``client_options.api_endpoint``, as the product does). Every answer
is checked against the discovery document when the google_server stops.

Knowingly not served (gcsa can call them, the product never does): quickAdd
(Google's natural-language parsing), acl, freeBusy, watch.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from gcsa.attendee import Attendee, ResponseStatus
from gcsa.event import Event, Transparency, Visibility
from gcsa.google_calendar import GoogleCalendar
from gcsa.recurrence import DAILY, Recurrence
from gcsa.reminders import EmailReminder, PopupReminder
from google.oauth2.credentials import Credentials
from googleapiclient import discovery
from googleapiclient.errors import HttpError

from tests.fakes.conftest import GOOGLE_OWNER as OWNER
from tests.fakes.google_calendar import GoogleCalendarServer

ZONE = "Europe/Berlin"
START = datetime(2026, 12, 1, 9, 0, tzinfo=ZoneInfo(ZONE))
WINDOW = {"time_min": datetime(2026, 11, 1), "time_max": datetime(2027, 1, 1), "timezone": ZONE}


def _client(google_server: GoogleCalendarServer, *, expired: bool = False) -> GoogleCalendar:
    tokens = google_server.issue_tokens(lifetime=0 if expired else None)
    credentials = Credentials(
        token=tokens["access_token"],
        refresh_token=tokens["refresh_token"],
        token_uri=google_server.token_uri,
        client_id=google_server.client_id,
        client_secret=google_server.client_secret,
        expiry=datetime(2000, 1, 1) if expired else None,
    )
    calendar = GoogleCalendar(credentials=credentials)  # refreshes an expired token
    calendar.service = discovery.build(
        "calendar",
        "v3",
        credentials=calendar.credentials,
        static_discovery=True,
        client_options={"api_endpoint": google_server.api_endpoint},
    )
    return calendar


@pytest.fixture
def gc(google_server):
    return _client(google_server)


def _visit(**extra) -> Event:
    return Event("Visit", start=START, end=START + timedelta(hours=1), timezone=ZONE, **extra)


def test_an_event_with_every_field_gcsa_writes_reads_back_whole(gc):
    made = gc.add_event(
        _visit(
            description="<b>Agenda</b>",
            location="Room 2",
            attendees=[Attendee("ann@customer.example", display_name="Ann", optional=True)],
            reminders=[PopupReminder(10), EmailReminder(60)],
            visibility=Visibility.PRIVATE,
            transparency=Transparency.TRANSPARENT,
            color_id="3",
            guests_can_modify=True,
            guests_can_invite_others=False,
            extendedProperties={"private": {"calsync": "1"}},
        )
    )
    back = gc.get_event(made.id)
    assert (back.summary, back.description, back.location) == ("Visit", "<b>Agenda</b>", "Room 2")
    assert back.start == START and back.end == START + timedelta(hours=1)
    assert back.timezone == ZONE
    assert [(a.email, a.display_name, a.optional) for a in back.attendees] == [
        ("ann@customer.example", "Ann", True)
    ]
    assert back.attendees[0].response_status == ResponseStatus.NEEDS_ACTION
    assert [(type(r), r.minutes_before_start) for r in back.reminders] == [
        (PopupReminder, 10),
        (EmailReminder, 60),
    ]
    assert back.default_reminders is False
    assert (back.visibility, back.transparency, back.color_id) == ("private", "transparent", "3")
    assert (back.guests_can_modify, back.guests_can_invite_others) == (True, False)
    assert back.other["extendedProperties"] == {"private": {"calsync": "1"}}


def test_an_update_replaces_the_whole_event(gc):
    made = gc.add_event(_visit(description="Old", location="Room 2"))
    made.summary, made.description, made.location = "Visit (moved)", None, None
    made.attendees.append(Attendee("bob@customer.example"))
    updated = gc.update_event(made)
    back = gc.get_event(made.id)
    assert back.summary == "Visit (moved)" and updated.summary == "Visit (moved)"
    assert back.description is None and back.location is None  # update is a replace
    assert [a.email for a in back.attendees] == ["bob@customer.example"]
    assert back.other["sequence"] == 1


def test_an_all_day_event_keeps_its_dates(gc):
    made = gc.add_event(Event("Fair", start=date(2026, 12, 2), end=date(2026, 12, 4)))
    back = gc.get_event(made.id)
    assert (back.start, back.end) == (date(2026, 12, 2), date(2026, 12, 4))


def test_a_series_lists_its_instances_without_the_excluded_one(gc):
    series = gc.add_event(
        _visit(
            recurrence=[
                Recurrence.rule(freq=DAILY, count=4),
                Recurrence.exclude_times([START + timedelta(days=1)], timezone=ZONE),
            ]
        )
    )
    expected = [START + timedelta(days=d) for d in (0, 2, 3)]
    instances = list(gc.get_instances(series, **WINDOW))
    assert [i.start for i in instances] == expected
    assert {i.recurring_event_id for i in instances} == {series.id}
    assert all(i.id.startswith(series.id + "_") for i in instances)
    single = list(gc.get_events(order_by="startTime", single_events=True, **WINDOW))
    assert [e.start for e in single] == expected
    (master,) = gc.get_events(**WINDOW)
    assert master.id == series.id and len(master.recurrence) == 2


def test_listings_keep_to_the_window_and_the_search_text(gc):
    gc.add_event(_visit())
    gc.add_event(Event("Fair", start=date(2026, 12, 2), end=date(2026, 12, 3)))
    gc.add_event(Event("Later", start=date(2027, 3, 1), end=date(2027, 3, 2)))
    assert sorted(e.summary for e in gc.get_events(**WINDOW)) == ["Fair", "Visit"]
    assert [e.summary for e in gc.get_events(query="fair", **WINDOW)] == ["Fair"]
    by_update = [e.summary for e in gc.get_events(order_by="updated", **WINDOW)]
    assert by_update == ["Visit", "Fair"]


def test_an_import_keeps_the_ical_uid_it_names(gc):
    imported = gc.import_event(_visit(iCalUID="meeting-42@crm.example"))
    assert imported.other["iCalUID"] == "meeting-42@crm.example"
    (found,) = gc.get_events(iCalUID="meeting-42@crm.example", **WINDOW)
    assert found.id == imported.id


def test_an_import_without_ical_uid_is_refused(gc):
    with pytest.raises(HttpError) as refused:
        gc.import_event(_visit())
    assert refused.value.status_code == 400 and "iCalUID" in str(refused.value)


def test_a_moved_event_leaves_its_calendar_and_keeps_its_id(google_server, gc):
    google_server.add_calendar("team@group.calendar.google.com", "Team")
    made = gc.add_event(_visit())
    moved = gc.move_event(made, "team@group.calendar.google.com")
    assert moved.id == made.id
    assert list(gc.get_events(**WINDOW)) == []
    assert gc.get_event(made.id).other["status"] == "cancelled"
    there = gc.get_event(made.id, calendar_id="team@group.calendar.google.com")
    assert there.summary == "Visit" and there.other["status"] == "confirmed"


def test_a_deleted_event_is_still_fetched_as_cancelled(gc):
    made = gc.add_event(_visit())
    gc.delete_event(made)
    assert list(gc.get_events(**WINDOW)) == []
    assert gc.get_event(made.id).other["status"] == "cancelled"
    with pytest.raises(HttpError) as gone:
        gc.delete_event(made)
    assert gone.value.status_code == 410


def test_the_calendar_list_settings_and_colours_read(google_server, gc):
    google_server.add_calendar("team@group.calendar.google.com", "Team", access_role="reader")
    entries = {c.id: c for c in gc.get_calendar_list()}
    assert set(entries) == {OWNER, "team@group.calendar.google.com"}
    assert entries["team@group.calendar.google.com"].access_role == "reader"
    assert gc.get_calendar().id == OWNER
    settings = gc.get_settings()
    assert (settings.timezone, settings.locale) == ("UTC", "en")
    assert set(gc.list_event_colors()) == {str(n) for n in range(1, 12)}


def test_an_expired_token_is_refreshed_at_the_token_endpoint(google_server):
    before = google_server.count_all_requests()
    gc = _client(google_server, expired=True)
    assert google_server.count_all_requests() == before + 1  # POST /token
    assert gc.add_event(_visit()).id
