"""The Google provider against the Google Calendar test server, over real HTTP."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from google.auth.exceptions import RefreshError
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError
from googleapiclient.http import BatchHttpRequest

from calsync_desktop.model import InviteStatus, OccurrenceOverride, Participant, Recurrence
from calsync_desktop.providers.base import (
    Backoff,
    ChangedMeanwhile,
    Create,
    Delete,
    MalformedResponse,
    NeedsSignIn,
    NotFound,
    RateLimited,
    SyncStateExpired,
    TimedOut,
    Unreachable,
    Update,
)
from calsync_desktop.providers.google import (
    SCOPES,
    GoogleProvider,
    batch_uri_for,
    event_id_for,
    to_remote_event,
)
from tests.fakes.google_calendar import GoogleCalendarServer

from .contract import NOW, WINDOW, ProviderContract, create, draft
from .meeting_contract import MeetingContract


def credentials_for(server: GoogleCalendarServer, tokens: dict | None = None) -> Credentials:
    tokens = tokens or server.issue_tokens()
    return Credentials(
        token=tokens["access_token"],
        refresh_token=tokens["refresh_token"],
        token_uri=server.token_uri,
        client_id=server.client_id,
        client_secret=server.client_secret,
        scopes=SCOPES,
    )


class GoogleHarness:
    """A Google provider on the test server's primary calendar (the contract's harness)."""

    def __init__(self, server: GoogleCalendarServer, **provider_options):
        self.server = server
        self.waits: list[float] = []
        self.backoff = Backoff(sleep=self.waits.append, rand=lambda: 0.5)
        self.saved: list[str] = []
        self.credentials = credentials_for(server)
        self.provider = GoogleProvider(
            self.credentials,
            api_endpoint=server.api_endpoint,
            backoff=self.backoff,
            timeout=5,
            on_credentials_changed=lambda c: self.saved.append(c.to_json()),
            **provider_options,
        )


@pytest.fixture
def server():
    with GoogleCalendarServer() as s:
        yield s


@pytest.fixture
def harness(server):
    h = GoogleHarness(server)
    yield h
    h.provider.close()


class TestGoogleProvider(ProviderContract, MeetingContract):
    """The shared provider contract, against the Google test server."""

    join_url = "https://meet.google.com/abc-defg-hij"  # a Meet conference's video entry point
    show_as_unknown = ("tentative",)  # transparency and eventType have none


# --------------------------------------------------------------------------- Google specifics


def test_event_ids_are_base32hex_and_stable():
    local = str(uuid.uuid4())
    eid = event_id_for(local)
    assert eid == event_id_for(local)
    assert 5 <= len(eid) <= 1024 and set(eid) <= set("0123456789abcdefghijklmnopqrstuv")


def test_batch_uri_follows_the_endpoint():
    assert (
        batch_uri_for("http://127.0.0.1:5/calendar/v3/") == "http://127.0.0.1:5/batch/calendar/v3"
    )
    assert (
        batch_uri_for("https://www.googleapis.com/calendar/v3/")
        == "https://www.googleapis.com/batch/calendar/v3"
    )


def test_created_event_carries_local_id_and_client_id(harness):
    d = draft()
    event = create(harness.provider, d)
    stored = harness.server.get_event(event.remote_id)
    assert stored["id"] == event_id_for(d.local_id)
    assert stored["extendedProperties"]["private"]["calsyncLocalId"] == d.local_id
    assert stored["start"]["timeZone"] == "Europe/Berlin"


def test_writes_go_in_batches_of_50(harness):
    before = harness.server.count_requests()
    results = harness.provider.write([Create(draft(subject=f"n{i}")) for i in range(120)])
    assert all(r.ok for r in results)
    assert harness.server.count_requests() - before == 3  # 50 + 50 + 20
    assert len(harness.server.events()) == 120


def test_full_listing_uses_pages_of_2500(harness):
    for i in range(2600):
        start = NOW + timedelta(days=1, minutes=i)
        harness.server.insert_event(
            {
                "summary": f"e{i}",
                "start": {"dateTime": start.isoformat()},
                "end": {"dateTime": (start + timedelta(minutes=30)).isoformat()},
            }
        )
    before = harness.server.count_requests()
    listing = harness.provider.changes(WINDOW, None)
    assert len(listing.events) == 2600
    assert harness.server.count_requests() - before == 2


def test_send_updates_follows_the_write(harness):
    people = (Participant("Ann", "ann@customer.example"),)
    quiet = create(harness.provider, draft(attendees=people))
    (loud,) = harness.provider.write([Create(draft(attendees=people), send_invitations=True)])
    sent = {n["id"]: n["sendUpdates"] for n in harness.server.notifications}
    assert sent[quiet.remote_id] == "none"
    assert sent[loud.event.remote_id] == "all"


def test_update_sends_if_match_and_412_is_changed_meanwhile(harness):
    d = draft()
    event = create(harness.provider, d)
    harness.server.edit_event(event.remote_id, location="Other room")
    (result,) = harness.provider.write(
        [Update(event.remote_id, event.version, d, frozenset({"subject"}))]
    )
    assert isinstance(result.error, ChangedMeanwhile)
    fresh = harness.provider.get(event.remote_id)
    (result,) = harness.provider.write(
        [
            Update(
                fresh.remote_id,
                fresh.version,
                d.__class__(**{**_fields(d), "subject": "X"}),
                frozenset({"subject"}),
            )
        ]
    )
    assert result.ok and result.event.subject == "X" and result.event.location == "Other room"


def _fields(d):
    return {name: getattr(d, name) for name in d.__dataclass_fields__}


def test_deleted_then_recreated_comes_back_with_the_same_id(harness):
    d = draft()
    event = create(harness.provider, d)
    harness.server.delete_event(event.remote_id)
    (result,) = harness.provider.write([Create(d)])
    assert result.ok, result.error
    assert result.event.remote_id == event.remote_id
    assert harness.provider.get(event.remote_id).subject == d.subject


def test_attendee_without_email_is_not_pushed_and_self_is_not_a_participant(harness):
    people = (
        Participant("No Mail"),
        Participant("Me", harness.server.owner_email),
        Participant("Ann", "ann@customer.example"),
    )
    event = create(harness.provider, draft(attendees=people))
    stored = harness.server.get_event(event.remote_id)
    assert [a["email"] for a in stored["attendees"]] == [
        harness.server.owner_email,
        "ann@customer.example",
    ]
    fetched = harness.provider.get(event.remote_id)
    assert [p.email for p in fetched.attendees] == ["ann@customer.example"]


def test_pushing_attendees_again_keeps_their_answers(harness):
    people = (Participant("Ann", "ann@customer.example"),)
    d = draft(attendees=people)
    event = create(harness.provider, d)
    harness.server.set_response(event.remote_id, "ann@customer.example", InviteStatus.DECLINED)
    current = harness.provider.get(event.remote_id)
    more = (*people, Participant("Bob", "bob@customer.example"))
    d2 = d.__class__(**{**_fields(d), "attendees": more})
    (result,) = harness.provider.write(
        [Update(current.remote_id, current.version, d2, frozenset({"attendees"}))]
    )
    statuses = {p.key: p.status for p in result.event.attendees}
    assert statuses == {
        "ann@customer.example": InviteStatus.DECLINED,
        "bob@customer.example": InviteStatus.NO_RESPONSE,
    }


def test_series_with_override_and_deleted_occurrence_round_trips(harness):
    start = NOW + timedelta(days=3)
    moved = OccurrenceOverride(
        original_start=start + timedelta(weeks=1),
        contents="Moved visit\nbring samples",
        location="Lobby",
        start=start + timedelta(weeks=1, hours=2),
        end=start + timedelta(weeks=1, hours=3),
    )
    rule = Recurrence(
        "FREQ=WEEKLY;COUNT=5", exdates=(start + timedelta(weeks=3),), overrides=(moved,)
    )
    event = create(harness.provider, draft(start=start, recurrence=rule))
    assert event.recurrence.overrides == (moved,)
    assert event.recurrence.exdates == (start + timedelta(weeks=3),)
    listing = harness.provider.changes(WINDOW, None)
    (series,) = [e for e in listing.events if e.remote_id == event.remote_id]
    assert series.recurrence == event.recurrence


def test_remote_occurrence_changes_become_overrides_and_exdates(harness):
    start = NOW + timedelta(days=3)
    event = create(
        harness.provider, draft(start=start, recurrence=Recurrence("FREQ=DAILY;COUNT=4"))
    )
    state = harness.provider.changes(WINDOW, None).state
    second = f"{event.remote_id}_{(start + timedelta(days=1)).astimezone(UTC):%Y%m%dT%H%M%SZ}"
    third = f"{event.remote_id}_{(start + timedelta(days=2)).astimezone(UTC):%Y%m%dT%H%M%SZ}"
    harness.server.patch_event(second, {"summary": "Only this one"})
    harness.server.delete_event(third)
    listing = harness.provider.changes(WINDOW, state)
    (series,) = listing.events
    assert series.recurrence.exdates == (start + timedelta(days=2),)
    (override,) = series.recurrence.overrides
    assert override.original_start == start + timedelta(days=1)
    assert override.contents.startswith("Only this one")


def test_remote_series_is_listed_once_with_its_exceptions(harness):
    start = (NOW + timedelta(days=2)).replace(hour=9)
    master = harness.server.insert_event(
        {
            "summary": "Weekly sales",
            "start": {
                "dateTime": start.replace(tzinfo=None).isoformat(),
                "timeZone": "America/New_York",
            },
            "end": {
                "dateTime": (start + timedelta(hours=1)).replace(tzinfo=None).isoformat(),
                "timeZone": "America/New_York",
            },
            "recurrence": ["RRULE:FREQ=WEEKLY;COUNT=30"],
        }
    )
    instances = (
        harness.provider._service.events()
        .instances(calendarId="primary", eventId=master["id"])
        .execute()
    )
    assert len(instances["items"]) == 30
    # DST: every instance is at 09:00 New York wall time
    hours = {
        datetime.fromisoformat(i["start"]["dateTime"])
        .astimezone(ZoneInfo(i["start"]["timeZone"]))
        .hour
        for i in instances["items"]
    }
    assert hours == {start.hour}
    listing = harness.provider.changes(WINDOW, None)
    (series,) = listing.events
    assert series.recurrence.rrule == "FREQ=WEEKLY;COUNT=30"
    assert series.timezone == "America/New_York"


def test_html_description_is_flagged(harness):
    start = NOW + timedelta(days=1)
    made = harness.server.insert_event(
        {
            "summary": "Web",
            "description": "<p>Hello<br>there</p>",
            "start": {"dateTime": start.isoformat()},
            "end": {"dateTime": (start + timedelta(hours=1)).isoformat()},
        }
    )
    assert harness.provider.get(made["id"]).body_is_html is True


def test_all_day_events_are_flagged(harness):
    day = (NOW + timedelta(days=5)).date()
    made = harness.server.insert_event(
        {
            "summary": "Holiday",
            "start": {"date": day.isoformat()},
            "end": {"date": (day + timedelta(days=1)).isoformat()},
        }
    )
    assert harness.provider.get(made["id"]).all_day is True


# --------------------------------------------------------------------------- faults


@pytest.mark.parametrize("kind", ["rate_limit", "rate_limit_403", "server_busy", "server_error"])
def test_transient_faults_are_retried_against_the_server(harness, kind):
    harness.server.fail_next(kind, 2, retry_after=7)
    before = harness.server.count_requests()
    listing = harness.provider.changes(WINDOW, None)
    assert listing.complete
    assert harness.server.count_requests() - before == 3  # two refused, the third answered
    assert len(harness.waits) == 2


def test_retry_after_is_honoured(harness):
    harness.server.fail_next("rate_limit", 1, retry_after=30)
    harness.provider.changes(WINDOW, None)
    assert harness.waits == [30.0]


def test_without_retry_after_waits_grow_with_jitter(harness):
    harness.server.fail_next("rate_limit_403", 3)
    harness.provider.changes(WINDOW, None)
    assert harness.waits == [0.5, 1.0, 2.0]  # base 1 s doubling, rand fixed at 0.5


def test_rate_limit_that_never_ends_gives_up_within_the_bound(harness):
    harness.server.fail_next("rate_limit", 50, retry_after=100)
    with pytest.raises(RateLimited):
        harness.provider.changes(WINDOW, None)
    assert sum(harness.waits) <= harness.backoff.max_total_wait


def test_rate_limited_batch_is_retried(harness):
    harness.server.fail_next("rate_limit", 1, retry_after=3, path="/batch")
    results = harness.provider.write([Create(draft()) for _ in range(3)])
    assert all(r.ok for r in results)
    assert harness.waits == [3.0]
    assert len(harness.server.events()) == 3


def test_expired_sync_token_fault(harness):
    state = harness.provider.changes(WINDOW, None).state
    harness.server.fail_next("sync_expired")
    with pytest.raises(SyncStateExpired):
        harness.provider.changes(WINDOW, state)


def test_sync_token_refuses_time_bounds_at_the_server(harness):
    state = harness.provider.changes(WINDOW, None).state
    events = harness.provider._service.events()
    with pytest.raises(HttpError) as info:
        events.list(calendarId="primary", syncToken=state, timeMin="2020-01-01T00:00:00Z").execute()
    assert info.value.resp.status == 400
    with pytest.raises(HttpError) as info:
        events.list(calendarId="primary", syncToken=state, showDeleted=False).execute()
    assert info.value.resp.status == 400


def test_expired_access_token_is_refreshed_and_saved(harness):
    old = harness.credentials.token
    harness.server.fail_next("expired_token")
    assert harness.provider.changes(WINDOW, None).complete
    assert harness.credentials.token != old
    assert harness.saved and json.loads(harness.saved[-1])["token"] == harness.credentials.token


def test_revoked_grant_is_needs_sign_in(harness):
    harness.server.revoke()
    with pytest.raises(NeedsSignIn):
        harness.provider.changes(WINDOW, None)


def test_revoked_grant_during_writes_is_needs_sign_in(harness):
    harness.server.revoke()
    with pytest.raises(NeedsSignIn):
        harness.provider.write([Create(draft())])


def test_dropped_connection_is_unreachable(harness):
    # httplib2 retries a dropped connection once by itself; drop both tries.
    harness.server.fail_next("drop", 3)
    with pytest.raises(Unreachable):
        harness.provider.changes(WINDOW, None)


def test_malformed_answer(harness):
    harness.server.fail_next("malformed")
    with pytest.raises(MalformedResponse):
        harness.provider.changes(WINDOW, None)


def test_slow_answer_times_out(server):
    h = GoogleHarness(server)
    h.provider = GoogleProvider(
        h.credentials, api_endpoint=server.api_endpoint, backoff=h.backoff, timeout=0.3
    )
    server.fail_next("slow", 2, delay=0.8)
    with pytest.raises(TimedOut):
        h.provider.changes(WINDOW, None)


def test_slow_answer_within_the_timeout_is_fine(harness):
    harness.server.fail_next("slow", 1, delay=0.2)
    assert harness.provider.changes(WINDOW, None).complete


def test_deleting_twice_is_not_found(harness):
    event = create(harness.provider, draft())
    (first,) = harness.provider.write([Delete(event.remote_id, event.version)])
    assert first.ok
    (second,) = harness.provider.write([Delete(event.remote_id, "")])
    assert isinstance(second.error, NotFound)


def test_bare_client_against_the_server(server):
    """The discovery-built client talks to the test server unmodified."""
    service = build(
        "calendar",
        "v3",
        credentials=credentials_for(server),
        static_discovery=True,
        client_options={"api_endpoint": server.api_endpoint},
    )
    start = NOW + timedelta(days=1)
    made = (
        service.events()
        .insert(
            calendarId="primary",
            body={
                "summary": "x",
                "start": {"dateTime": start.isoformat()},
                "end": {"dateTime": (start + timedelta(hours=1)).isoformat()},
            },
        )
        .execute()
    )
    listing = service.events().list(calendarId="primary").execute()
    assert [i["id"] for i in listing["items"]] == [made["id"]]
    assert "nextSyncToken" in listing
    assert to_remote_event(made).subject == "x"


def test_rate_limited_parts_of_a_batch_are_retried_alone(harness):
    harness.server.fail_next("rate_limit_403", 2, retry_after=6, on="batch_part")
    before = harness.server.count_requests()
    results = harness.provider.write([Create(draft(subject=f"p{i}")) for i in range(5)])
    assert all(r.ok for r in results), [r.error for r in results]
    # the batch, then one batch of the 2 refused
    assert harness.server.count_requests() - before == 2
    assert harness.waits == [6.0]
    assert sorted(e["summary"] for e in harness.server.events()) == [f"p{i}" for i in range(5)]


def test_server_refuses_batches_over_50(server):
    service = build(
        "calendar",
        "v3",
        credentials=credentials_for(server),
        static_discovery=True,
        client_options={"api_endpoint": server.api_endpoint},
    )
    batch = BatchHttpRequest(batch_uri=batch_uri_for(server.api_endpoint))
    for _ in range(51):
        batch.add(service.events().get(calendarId="primary", eventId="nothere"))
    with pytest.raises(HttpError) as info:
        batch.execute()
    assert info.value.resp.status == 400


# --------------------------------------------------------------------------- the test server itself


def _bare(server):
    return build(
        "calendar",
        "v3",
        credentials=credentials_for(server),
        static_discovery=True,
        client_options={"api_endpoint": server.api_endpoint},
    ).events()


def _insert(events, start, **extra):
    body = {
        "summary": "s",
        "start": {"dateTime": start.isoformat(), "timeZone": "UTC"},
        "end": {"dateTime": (start + timedelta(hours=1)).isoformat(), "timeZone": "UTC"},
        **extra,
    }
    return events.insert(calendarId="primary", body=body).execute()


def test_server_pages_250_by_default_and_gives_the_sync_token_last(server):
    for i in range(260):
        server.insert_event(
            {
                "summary": f"e{i}",
                "start": {"dateTime": (NOW + timedelta(hours=i)).isoformat()},
                "end": {"dateTime": (NOW + timedelta(hours=i + 1)).isoformat()},
            }
        )
    events = _bare(server)
    first = events.list(calendarId="primary").execute()
    assert len(first["items"]) == 250 and "nextSyncToken" not in first
    second = events.list(calendarId="primary", pageToken=first["nextPageToken"]).execute()
    assert len(second["items"]) == 10 and second["nextSyncToken"]
    big = events.list(calendarId="primary", maxResults=5000).execute()
    assert len(big["items"]) == 260  # capped at 2500, so one page here


def test_server_ids_etags_and_preconditions(server):
    events = _bare(server)
    start = NOW + timedelta(days=1)
    with pytest.raises(HttpError) as info:
        _insert(events, start, id="UPPER_case")
    assert info.value.resp.status == 400
    made = _insert(events, start, id="abcdefv0123")
    with pytest.raises(HttpError) as info:
        _insert(events, start, id="abcdefv0123")
    assert info.value.resp.status == 409
    assert json.loads(info.value.content)["error"]["errors"][0]["reason"] == "duplicate"
    patch = events.patch(calendarId="primary", eventId=made["id"], body={"summary": "new"})
    patch.headers["If-Match"] = made["etag"]
    changed = patch.execute()
    assert changed["etag"] != made["etag"]
    stale = events.patch(calendarId="primary", eventId=made["id"], body={"summary": "again"})
    stale.headers["If-Match"] = made["etag"]
    with pytest.raises(HttpError) as info:
        stale.execute()
    assert info.value.resp.status == 412
    events.delete(calendarId="primary", eventId=made["id"]).execute()
    assert events.get(calendarId="primary", eventId=made["id"]).execute()["status"] == "cancelled"
    with pytest.raises(HttpError) as info:
        events.delete(calendarId="primary", eventId=made["id"]).execute()
    assert info.value.resp.status == 410


def test_server_recurring_instances_and_exceptions(server):
    events = _bare(server)
    start = NOW + timedelta(days=1)
    master = _insert(events, start, recurrence=["RRULE:FREQ=DAILY;COUNT=3"])
    instances = events.instances(calendarId="primary", eventId=master["id"]).execute()["items"]
    assert [i["recurringEventId"] for i in instances] == [master["id"]] * 3
    events.delete(calendarId="primary", eventId=instances[1]["id"]).execute()
    listed = events.list(calendarId="primary").execute()["items"]
    cancelled = [i for i in listed if i.get("status") == "cancelled"]
    assert [c["id"] for c in cancelled] == [instances[1]["id"]]  # listed without showDeleted
    single = events.list(calendarId="primary", singleEvents=True, orderBy="startTime").execute()
    assert [i["id"] for i in single["items"]] == [instances[0]["id"], instances[2]["id"]]
    with pytest.raises(HttpError) as info:
        events.list(calendarId="primary", orderBy="startTime").execute()
    assert info.value.resp.status == 400


def test_server_incremental_list_reports_deletions_as_cancelled(server):
    events = _bare(server)
    made = _insert(events, NOW + timedelta(days=1))
    token = events.list(calendarId="primary").execute()["nextSyncToken"]
    events.delete(calendarId="primary", eventId=made["id"]).execute()
    changes = events.list(calendarId="primary", syncToken=token).execute()
    assert changes["items"] == [
        {
            "kind": "calendar#event",
            "etag": changes["items"][0]["etag"],
            "id": made["id"],
            "status": "cancelled",
            "updated": changes["items"][0]["updated"],
        }
    ]
    server.expire_sync_state()
    with pytest.raises(HttpError) as info:
        events.list(calendarId="primary", syncToken=changes["nextSyncToken"]).execute()
    assert info.value.resp.status == 410
    assert json.loads(info.value.content)["error"]["errors"][0]["reason"] == "fullSyncRequired"


def test_server_requires_a_valid_access_token(server):
    creds = credentials_for(server)
    server.revoke()
    service = build(
        "calendar",
        "v3",
        credentials=creds,
        static_discovery=True,
        client_options={"api_endpoint": server.api_endpoint},
    )
    with pytest.raises((HttpError, RefreshError)):
        service.events().list(calendarId="primary").execute()


@pytest.mark.parametrize("in_batch", [False, True])
def test_access_token_expiring_during_writes_is_refreshed(harness, in_batch):
    old = harness.credentials.token
    if in_batch:
        harness.server.fail_next("expired_token", on="batch_part")
    else:
        harness.server.fail_next("expired_token", path="/batch")
    results = harness.provider.write([Create(draft()) for _ in range(3)])
    assert all(r.ok for r in results), [r.error for r in results]
    assert harness.credentials.token != old
    assert len(harness.server.events()) == 3
    assert json.loads(harness.saved[-1])["token"] == harness.credentials.token


def test_many_changed_series_are_read_back_in_one_batch(harness):
    start = NOW + timedelta(days=3)
    made = [
        create(harness.provider, draft(start=start, recurrence=Recurrence("FREQ=DAILY;COUNT=3")))
        for _ in range(5)
    ]
    state = harness.provider.changes(WINDOW, None).state
    for event in made:
        second = f"{event.remote_id}_{(start + timedelta(days=1)).astimezone(UTC):%Y%m%dT%H%M%SZ}"
        harness.server.patch_event(second, {"summary": "changed"})
    before = harness.server.count_requests()
    listing = harness.provider.changes(WINDOW, state)
    assert harness.server.count_requests() - before == 2  # the incremental page + one batch
    assert sorted(e.remote_id for e in listing.events) == sorted(e.remote_id for e in made)
    assert all(len(e.recurrence.overrides) == 1 for e in listing.events)


# --------------------------------------------------------------------------- show-as and Meet links


def test_out_of_office_is_an_event_type_made_only_on_a_primary_calendar(server, harness):
    from calsync_desktop.model import ShowAs

    typed = create(harness.provider, draft(show_as=ShowAs.OUT_OF_OFFICE))
    stored = server.get_event(typed.remote_id)
    assert (stored["eventType"], stored["transparency"]) == ("outOfOffice", "opaque")
    # another calendar of the account has no status events: a busy event there
    server.state.add_calendar("team@group.calendar.google.com", "Team")
    other = GoogleProvider(
        harness.credentials,
        calendar_id="team@group.calendar.google.com",
        api_endpoint=server.api_endpoint,
        backoff=harness.backoff,
        timeout=5,
    )
    try:
        plain = create(other, draft(show_as=ShowAs.OUT_OF_OFFICE))
        stored = server.get_event(plain.remote_id, "team@group.calendar.google.com")
        assert (stored["eventType"], stored["transparency"]) == ("default", "opaque")
        assert other.get(plain.remote_id).show_as is ShowAs.BUSY
    finally:
        other.close()


def test_the_server_refuses_what_google_refuses(server, harness):
    """The type "cannot be modified after the event is created"; status events
    exist on primary calendars only; transparency is opaque or transparent
    (calendar v3 discovery document)."""
    events = build(
        "calendar",
        "v3",
        credentials=harness.credentials,
        static_discovery=True,
        client_options={"api_endpoint": server.api_endpoint},
    ).events()
    start = {"dateTime": (NOW + timedelta(days=2)).isoformat(), "timeZone": "UTC"}
    end = {"dateTime": (NOW + timedelta(days=2, hours=1)).isoformat(), "timeZone": "UTC"}
    made = events.insert(calendarId="primary", body={"start": start, "end": end}).execute()
    for body in ({"eventType": "outOfOffice"}, {"transparency": "see-through"}):
        with pytest.raises(HttpError) as refused:
            events.patch(calendarId="primary", eventId=made["id"], body=body).execute()
        assert refused.value.resp.status == 400
    server.state.add_calendar("team@group.calendar.google.com", "Team")
    with pytest.raises(HttpError) as refused:
        events.insert(
            calendarId="team@group.calendar.google.com",
            body={"start": start, "end": end, "eventType": "outOfOffice"},
        ).execute()
    assert refused.value.resp.status == 400
    # the Meet link is read-only: what a client sends is not kept
    patched = events.patch(
        calendarId="primary", eventId=made["id"], body={"hangoutLink": "https://x.example"}
    ).execute()
    assert "hangoutLink" not in patched


def test_a_meet_link_comes_from_the_conference_or_the_hangout_link(server, harness):
    from calsync_desktop.model import ShowAs

    start = NOW + timedelta(days=2)
    rid = server.create_event(
        "Weekly", start, start + timedelta(hours=1), join_url="https://meet.google.com/kkk-llll-mmm"
    )
    assert server.get_event(rid)["hangoutLink"] == "https://meet.google.com/kkk-llll-mmm"
    event = harness.provider.get(rid)
    assert event.join_url == "https://meet.google.com/kkk-llll-mmm"
    # a show-as change by calsync leaves the conference alone
    (result,) = harness.provider.write(
        [
            Update(
                rid,
                event.version,
                draft(local_id="x", show_as=ShowAs.FREE),
                frozenset({"show_as"}),
            )
        ]
    )
    assert result.ok, result.error
    assert harness.provider.get(rid).join_url == "https://meet.google.com/kkk-llll-mmm"
    assert to_remote_event({**server.get_event(rid), "conferenceData": None}).join_url == (
        "https://meet.google.com/kkk-llll-mmm"
    )
