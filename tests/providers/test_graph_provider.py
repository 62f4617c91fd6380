"""The Graph provider against the Graph test server, over real HTTPS with tokens
from a real MSAL sign-in: the provider contract, the RRULE ↔ patternedRecurrence
converter, series, paging, batching and faults.

``GraphHarness``, ``device_code_sign_in`` and ``env_for`` are used by the sign-in
and end-to-end tests too.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import rrulestr

from calsync_desktop.accounts.office365 import MsalSession
from calsync_desktop.model import InviteStatus, OccurrenceOverride, Participant, Recurrence
from calsync_desktop.providers.base import (
    Backoff,
    CertificateUntrusted,
    Create,
    InvalidEvent,
    MalformedResponse,
    NeedsSignIn,
    ServerError,
    SyncStateExpired,
    TimedOut,
    TimeWindow,
    Unreachable,
    UnsupportedRecurrence,
    Update,
)
from calsync_desktop.providers.graph import (
    LOCAL_ID_PROPERTY,
    GraphProvider,
    graph_to_rrule,
    rrule_to_graph,
)
from tests.fakes.graph_server import GraphServer

from .contract import NOW, WINDOW, ProviderContract, create, draft
from .meeting_contract import MeetingContract


def env_for(server: GraphServer) -> dict[str, str]:
    """The environment a user sets to point calsync at this server."""
    return {
        "CALSYNC_GRAPH_ENDPOINT": server.graph_url,
        "CALSYNC_MS_AUTHORITY": server.authority,
        "CALSYNC_CA_BUNDLE": str(server.ca_bundle),
        "CALSYNC_MS_CLIENT_ID": server.client_id,
    }


def session_config(server: GraphServer) -> dict[str, str]:
    return {
        "graph_endpoint": server.graph_url,
        "authority": server.authority,
        "ca_bundle": str(server.ca_bundle),
        "client_id": server.client_id,
    }


def device_code_sign_in(server: GraphServer) -> str:
    """Sign in through MSAL's device code flow against the server; the token cache text."""
    session = MsalSession(session_config(server))
    flow = session.app.initiate_device_flow(
        scopes=["https://graph.microsoft.com/Calendars.ReadWrite"]
    )
    assert server.device_login(flow["user_code"])
    result = session.app.acquire_token_by_device_flow(flow)
    assert "access_token" in result, result.get("error")
    return session.cache.serialize()


class GraphHarness:
    """The contract's harness: a provider on a fresh calendar of the server."""

    def __init__(self, server: GraphServer, cache_text: str):
        self.server = server
        self.calendar_id = server.add_calendar("Sales test calendar")
        self.session = MsalSession(session_config(server), cache_text)
        self.backoff = Backoff(sleep=lambda _s: None)
        self.provider = GraphProvider(
            self.session.token,
            calendar_id=self.calendar_id,
            endpoint=server.graph_url,
            ca_bundle=str(server.ca_bundle),
            backoff=self.backoff,
            timeout=5,
        )


@pytest.fixture(scope="module")
def graph_server():
    server = GraphServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def token_cache(graph_server):
    return device_code_sign_in(graph_server)


@pytest.fixture
def harness(graph_server, token_cache):
    h = GraphHarness(graph_server, token_cache)
    yield h
    h.provider.close()


class TestGraphProvider(ProviderContract, MeetingContract):
    """The shared contract (uses the module's ``harness`` fixture)."""


# --------------------------------------------------------------------------- converter

BERLIN = "Europe/Berlin"
SERIES_START = datetime(2027, 3, 1, 9, 30, tzinfo=ZoneInfo(BERLIN))  # a Monday


def _starts(rule: str, start: datetime, tz: str, limit: int = 60) -> list[datetime]:
    rules = rrulestr("RRULE:" + rule, dtstart=start.astimezone(ZoneInfo(tz)))
    return [d.astimezone(UTC) for d in itertools.islice(rules, limit)]


ROUND_TRIPS = [
    "FREQ=DAILY;INTERVAL=2;COUNT=5",
    "FREQ=WEEKLY;BYDAY=MO,WE,FR;UNTIL=20270430T073000Z",
    "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO;WKST=SU;COUNT=8",
    "FREQ=WEEKLY;COUNT=6",
    "FREQ=MONTHLY;BYMONTHDAY=15;COUNT=12",
    "FREQ=MONTHLY;BYDAY=2TU;COUNT=6",
    "FREQ=MONTHLY;BYDAY=FR;BYSETPOS=-1;COUNT=6",
    "FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=5;COUNT=3",
    "FREQ=YEARLY;BYMONTH=11;BYDAY=4TH;COUNT=3",
    "FREQ=DAILY",
]


@pytest.mark.parametrize("rule", ROUND_TRIPS)
def test_rrule_to_graph_and_back_keeps_every_occurrence(rule):
    graph = rrule_to_graph(rule, SERIES_START, BERLIN)
    back = graph_to_rrule(graph, SERIES_START, BERLIN)
    assert _starts(back, SERIES_START, BERLIN) == _starts(rule, SERIES_START, BERLIN)
    # and the second trip is stable text
    assert graph_to_rrule(rrule_to_graph(back, SERIES_START, BERLIN), SERIES_START, BERLIN) == back


def test_rrule_to_graph_shapes():
    weekly = rrule_to_graph("FREQ=WEEKLY;BYDAY=TU,TH;COUNT=10", SERIES_START, BERLIN)
    assert weekly == {
        "pattern": {
            "interval": 1,
            "type": "weekly",
            "daysOfWeek": ["tuesday", "thursday"],
            "firstDayOfWeek": "monday",
        },
        "range": {
            "startDate": "2027-03-01",
            "recurrenceTimeZone": BERLIN,
            "type": "numbered",
            "numberOfOccurrences": 10,
        },
    }
    monthly = rrule_to_graph("FREQ=MONTHLY;BYDAY=-1FR;UNTIL=20271231T235959Z", SERIES_START, BERLIN)
    assert monthly["pattern"] == {
        "interval": 1,
        "type": "relativeMonthly",
        "daysOfWeek": ["friday"],
        "index": "last",
    }
    assert monthly["range"]["type"] == "endDate"
    # 23:59:59 UTC is 00:59 on Jan 1 in Berlin, before the 09:30 meeting: Dec 31 ends it
    assert monthly["range"]["endDate"] == "2027-12-31"
    assert rrule_to_graph("FREQ=YEARLY", SERIES_START, BERLIN)["pattern"] == {
        "interval": 1,
        "month": 3,
        "type": "absoluteYearly",
        "dayOfMonth": 1,
    }
    assert rrule_to_graph("FREQ=DAILY", SERIES_START, BERLIN)["range"]["type"] == "noEnd"


def test_graph_patterns_become_rrules():
    # The shapes of Graph's documentation examples (patternedRecurrence resource).
    start = datetime(2027, 6, 1, 8, 0, tzinfo=UTC)
    relative = {
        "pattern": {
            "type": "relativeMonthly",
            "interval": 1,
            "daysOfWeek": ["monday", "tuesday", "wednesday", "thursday", "friday"],
            "index": "first",
        },
        "range": {"type": "numbered", "startDate": "2027-06-01", "numberOfOccurrences": 4},
    }
    assert graph_to_rrule(relative, start, "UTC") == (
        "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=1;COUNT=4"
    )
    end_date = {
        "pattern": {
            "type": "weekly",
            "interval": 1,
            "daysOfWeek": ["thursday"],
            "firstDayOfWeek": "sunday",
        },
        "range": {
            "type": "endDate",
            "startDate": "2027-06-03",
            "endDate": "2027-06-24",
            "recurrenceTimeZone": "Pacific Standard Time",
        },
    }
    rule = graph_to_rrule(end_date, datetime(2027, 6, 3, 19, 0, tzinfo=UTC), "America/Los_Angeles")
    assert rule == "FREQ=WEEKLY;BYDAY=TH;UNTIL=20270624T190000Z"
    # the end date's occurrence is included
    assert _starts(rule, datetime(2027, 6, 3, 19, 0, tzinfo=UTC), "America/Los_Angeles")[-1] == (
        datetime(2027, 6, 24, 19, 0, tzinfo=UTC)
    )
    yearly = {
        "pattern": {
            "type": "relativeYearly",
            "interval": 1,
            "month": 5,
            "daysOfWeek": ["sunday"],
            "index": "second",
        },
        "range": {"type": "noEnd", "startDate": "2027-05-09"},
    }
    assert graph_to_rrule(yearly, start, "UTC") == "FREQ=YEARLY;BYMONTH=5;BYDAY=SU;BYSETPOS=2"


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=HOURLY",
        "FREQ=DAILY;BYHOUR=9",
        "FREQ=MONTHLY;BYDAY=1MO,2TU",
        "FREQ=MONTHLY;BYDAY=5MO",
        "FREQ=MONTHLY;BYMONTHDAY=1,15",
        "FREQ=YEARLY;BYMONTH=1,7",
    ],
)
def test_rules_graph_cannot_hold_are_refused_plainly(rule):
    with pytest.raises(UnsupportedRecurrence) as info:
        rrule_to_graph(rule, SERIES_START, BERLIN)
    assert "Office 365" in str(info.value)


def test_server_expands_pushed_rules_like_dateutil(harness):
    # The test server expands patterns with its own code: both directions meet.
    for rule in ROUND_TRIPS[:-1]:
        start = NOW + timedelta(days=3)
        event = create(harness.provider, draft(start=start, recurrence=Recurrence(rule)))
        items = harness.server.graph(
            "GET",
            f"/me/events/{event.remote_id}/instances?startDateTime="
            f"{start - timedelta(days=1):%Y-%m-%dT%H:%M:%SZ}&endDateTime="
            f"{start + timedelta(days=800):%Y-%m-%dT%H:%M:%SZ}&$top=1000",
            {},
            None,
        )[2]["value"]
        got = sorted(
            datetime.fromisoformat(i["start"]["dateTime"][:19]).replace(tzinfo=UTC) for i in items
        )
        want = [
            s for s in _starts(rule, start, "Europe/Berlin", 200) if s < start + timedelta(days=800)
        ]
        assert got == want, rule


# --------------------------------------------------------------------------- Graph specifics


def _outlook_series(server: GraphServer, calendar_id: str, start: datetime) -> str:
    """A weekly series made in Outlook (Windows zone name), 6 occurrences."""
    local = start.astimezone(ZoneInfo("Europe/Berlin"))
    return server.add_event(
        calendar_id,
        subject="Team sync",
        body={"contentType": "html", "content": "<p>Weekly <b>sync</b><br>bring numbers</p>"},
        start={
            "dateTime": local.strftime("%Y-%m-%dT%H:%M:%S"),
            "timeZone": "W. Europe Standard Time",
        },
        end={
            "dateTime": (local + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S"),
            "timeZone": "W. Europe Standard Time",
        },
        recurrence={
            "pattern": {
                "type": "weekly",
                "interval": 1,
                "daysOfWeek": [_DAY[local.weekday()]],
                "firstDayOfWeek": "sunday",
            },
            "range": {
                "type": "numbered",
                "numberOfOccurrences": 6,
                "startDate": local.date().isoformat(),
                "recurrenceTimeZone": "W. Europe Standard Time",
            },
        },
    )


_DAY = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


def _occurrences(server, master_id):
    return sorted(
        server.graph(
            "GET",
            f"/me/events/{master_id}/instances?startDateTime=2000-01-01T00:00:00Z"
            "&endDateTime=2100-01-01T00:00:00Z&$top=1000",
            {},
            None,
        )[2]["value"],
        key=lambda i: i["start"]["dateTime"],
    )


def test_outlook_series_is_assembled_with_exceptions_and_cancellations(harness):
    server = harness.server
    start = NOW + timedelta(days=2)
    master = _outlook_series(server, harness.calendar_id, start)
    occ = _occurrences(server, master)
    moved = datetime.fromisoformat(occ[1]["start"]["dateTime"][:19]).replace(tzinfo=UTC)
    server.patch_event(
        occ[1]["id"],
        subject="Team sync (moved)",
        start={"dateTime": f"{moved + timedelta(hours=2):%Y-%m-%dT%H:%M:%S}", "timeZone": "UTC"},
        end={"dateTime": f"{moved + timedelta(hours=3):%Y-%m-%dT%H:%M:%S}", "timeZone": "UTC"},
    )
    server.delete_event(occ[3]["id"])
    listing = harness.provider.changes(WINDOW, None)
    (series,) = listing.events
    assert series.remote_id == master
    assert series.timezone == "Europe/Berlin"
    assert series.body_is_html and "<b>sync</b>" in series.body
    rec = series.recurrence
    assert rec.rrule.startswith("FREQ=WEEKLY;BYDAY=") and rec.rrule.endswith("COUNT=6")
    third = datetime.fromisoformat(occ[3]["start"]["dateTime"][:19]).replace(tzinfo=UTC)
    assert rec.exdates == (third,)
    (override,) = rec.overrides
    assert override.original_start == moved
    assert override.start == moved + timedelta(hours=2)
    assert override.contents.startswith("Team sync (moved)\nWeekly sync")


def test_incremental_sees_a_deleted_occurrence_and_a_deleted_series(harness):
    server = harness.server
    master = _outlook_series(server, harness.calendar_id, NOW + timedelta(days=1))
    single = create(harness.provider, draft())
    state = harness.provider.changes(WINDOW, None).state
    occ = _occurrences(server, master)
    server.delete_event(occ[0]["id"])
    listing = harness.provider.changes(WINDOW, state)
    (series,) = listing.events
    assert len(series.recurrence.exdates) == 1 and listing.deleted == []
    server.delete_event(master)  # the whole series, reported by its occurrences' ids only
    listing = harness.provider.changes(WINDOW, listing.state)
    assert listing.deleted == [master] and listing.events == []
    assert harness.provider.get(single.remote_id).subject == single.subject


def test_event_moved_out_of_the_window_is_not_reported_deleted(harness):
    event = create(harness.provider, draft())
    state = harness.provider.changes(WINDOW, None).state
    far = NOW + timedelta(days=1500)
    harness.server.edit_event(event.remote_id, start=far, end=far + timedelta(hours=1))
    listing = harness.provider.changes(WINDOW, state)
    assert listing.deleted == []
    (moved,) = listing.events
    assert moved.start == far


def test_delta_pages_are_followed(harness):
    harness.provider.page_size = 3
    made = harness.provider.write([Create(draft(subject=f"Visit {i}")) for i in range(10)])
    before = harness.server.count_requests()
    listing = harness.provider.changes(WINDOW, None)
    assert sorted(e.subject for e in listing.events) == sorted(r.event.subject for r in made)
    assert all(e.local_id for e in listing.events)
    # 4 delta pages + 4 calendarView pages (for the local ids)
    assert harness.server.count_requests() - before == 8
    edit = made[0].event.remote_id
    harness.server.edit_event(edit, subject="Changed")
    listing = harness.provider.changes(WINDOW, listing.state)
    assert [e.subject for e in listing.events] == ["Changed"]


def test_a_full_listing_without_local_ids_reads_the_delta_pages_alone(harness):
    harness.provider.page_size = 3
    made = harness.provider.write([Create(draft(subject=f"Visit {i}")) for i in range(10)])
    before = harness.server.count_requests()
    listing = harness.provider.changes(WINDOW, None, local_ids=False)
    assert sorted(e.remote_id for e in listing.events) == sorted(r.event.remote_id for r in made)
    assert harness.server.count_requests() - before == 4  # the delta pages


def test_writes_go_in_batches_of_twenty(harness):
    harness.provider.account_email()  # sign-in and discovery requests out of the way
    before = harness.server.count_requests()
    results = harness.provider.write([Create(draft(subject=f"Visit {i}")) for i in range(45)])
    assert all(r.ok for r in results)
    assert harness.server.count_requests() - before == 3


def test_html_body_sensitivity_and_statuses_are_read(harness):
    event_id = harness.server.add_event(
        harness.calendar_id,
        organizer="boss@customer.example",
        subject="Quarterly review",
        body={"contentType": "html", "content": "<p>Hi &amp; welcome</p>"},
        sensitivity="confidential",
        start={"dateTime": f"{NOW + timedelta(days=1):%Y-%m-%dT%H:%M:%S}", "timeZone": "UTC"},
        end={
            "dateTime": f"{NOW + timedelta(days=1, hours=1):%Y-%m-%dT%H:%M:%S}",
            "timeZone": "UTC",
        },
        attendees=[
            {"emailAddress": {"address": "ann@customer.example", "name": "Ann"}},
            {"emailAddress": {"address": "sam@contoso.example", "name": "Sam"}},
        ],
    )
    harness.server.set_response(event_id, "ann@customer.example", "tentative")
    event = harness.provider.get(event_id)
    assert event.private is True and event.organizer_is_self is False
    assert event.body_is_html and "&amp;" in event.body
    assert {p.key: p.status for p in event.attendees}["ann@customer.example"] is (
        InviteStatus.TENTATIVE
    )
    assert event.local_id is None
    harness.server.cancel_meeting(event_id)
    assert harness.provider.get(event_id).cancelled is True


def test_series_pushed_with_an_override_and_a_deleted_occurrence(harness):
    start = NOW + timedelta(days=3)
    moved = start + timedelta(days=1)
    rule = Recurrence(
        "FREQ=DAILY;COUNT=5",
        exdates=(start + timedelta(days=3),),
        overrides=(
            OccurrenceOverride(
                moved,
                "Moved visit\nnew room",
                "Room 1",
                moved + timedelta(hours=1),
                moved + timedelta(hours=2),
            ),
        ),
    )
    event = create(harness.provider, draft(start=start, recurrence=rule))
    assert event.recurrence.exdates == rule.exdates
    assert event.recurrence.overrides == rule.overrides
    fetched = harness.provider.get(event.remote_id)
    assert fetched.recurrence.overrides == rule.overrides
    assert len(_occurrences(harness.server, event.remote_id)) == 4
    # The rule changes: Graph drops exceptions; the provider puts them back.
    changed = draft(
        local_id=event.local_id,
        start=start,
        recurrence=Recurrence("FREQ=DAILY;COUNT=6", rule.exdates, rule.overrides),
    )
    (result,) = harness.provider.write(
        [Update(event.remote_id, event.version, changed, frozenset({"recurrence"}))]
    )
    assert result.ok, result.error
    assert result.event.recurrence.rrule == "FREQ=DAILY;COUNT=6"
    assert result.event.recurrence.overrides == rule.overrides
    assert result.event.recurrence.exdates == rule.exdates


def test_throttled_batch_member_is_sent_again_after_retry_after(harness):
    harness.server.fail_next("rate_limit", count=2, retry_after=7, on="batch_part")
    results = harness.provider.write([Create(draft(subject=f"Visit {i}")) for i in range(3)])
    assert all(r.ok for r in results), [r.error for r in results]
    assert harness.backoff.waits and harness.backoff.waits[0] >= 7
    assert len(harness.server.events(harness.calendar_id)) == 3


def test_server_busy_waits_what_the_service_asked(harness):
    harness.server.fail_next("server_busy", count=2, retry_after=4)
    harness.provider.changes(WINDOW, None)
    assert len(harness.backoff.waits) == 2 and all(w >= 4 for w in harness.backoff.waits)


def test_expired_access_token_is_refreshed_through_msal(harness):
    harness.provider.account_email()
    refreshes = sum(r["grant_type"] == "refresh_token" for r in harness.server.token_requests)
    harness.server.expire_access_tokens()
    assert harness.provider.list_calendars()
    after = sum(r["grant_type"] == "refresh_token" for r in harness.server.token_requests)
    assert after == refreshes + 1
    harness.server.fail_next("expired_token")
    assert harness.provider.list_calendars()


def test_revoked_consent_needs_sign_in(harness, graph_server):
    harness.provider.account_email()
    graph_server.revoke_consent()
    try:
        with pytest.raises(NeedsSignIn) as info:
            harness.provider.list_calendars()
        assert "sign in again" in str(info.value)
        assert "eyJ" not in str(info.value) and "0.AAAA" not in str(info.value)
    finally:
        graph_server.grant_consent()


@pytest.mark.parametrize(
    ("kind", "error"),
    [("malformed", MalformedResponse), ("drop", Unreachable), ("slow", TimedOut)],
)
def test_broken_answers_become_provider_errors(harness, kind, error):
    harness.provider.timeout = 0.3
    harness.server.fail_next(kind, delay=1.0)
    with pytest.raises(error):
        harness.provider.changes(WINDOW, None)
    harness.provider.timeout = 5
    assert harness.provider.changes(WINDOW, None).complete


def test_untrusted_certificate_is_reported_never_ignored(graph_server, token_cache):
    h = GraphHarness(graph_server, token_cache)
    provider = GraphProvider(h.session.token, endpoint=graph_server.graph_url, backoff=h.backoff)
    with pytest.raises(CertificateUntrusted) as info:
        provider.account_email()
    assert "CA bundle" in str(info.value)


def test_invitations_follow_graph_not_the_flag(harness):
    """Graph mails attendees when they are added, whatever send_invitations says
    (the documented limitation); edits that don't name attendees send none."""
    people = (Participant("Ann", "ann@customer.example"),)
    d = draft(attendees=people)
    event = create(harness.provider, d)
    mails = [m for m in harness.server.mails if m["event"] == event.remote_id]
    assert [m["kind"] for m in mails] == ["invitation"]
    changed = draft(local_id=d.local_id, subject="New title", attendees=people)
    (result,) = harness.provider.write(
        [Update(event.remote_id, event.version, changed, frozenset({"subject", "body"}))]
    )
    assert result.ok
    assert len([m for m in harness.server.mails if m["event"] == event.remote_id]) == 1


def test_local_id_is_in_the_extended_property(harness):
    d = draft()
    event = create(harness.provider, d)
    stored = harness.server.event(event.remote_id)
    assert stored["singleValueExtendedProperties"] == [
        {"id": LOCAL_ID_PROPERTY, "value": d.local_id}
    ]
    assert stored["sensitivity"] == "normal"
    assert stored["body"] == {"contentType": "text", "content": d.body}
    assert stored["start"]["timeZone"] == "UTC" and stored["originalStartTimeZone"] == BERLIN


def test_batch_of_more_than_twenty_is_refused_by_the_server(graph_server, token_cache):
    h = GraphHarness(graph_server, token_cache)
    with pytest.raises(InvalidEvent):
        h.provider._send(
            "POST",
            "/$batch",
            body={"requests": [{"id": str(i), "method": "GET", "url": "/me"} for i in range(21)]},
        )


def test_a_failed_batch_keeps_the_answers_of_the_batches_before(harness):
    harness.provider.account_email()
    harness.server.fail_next("server_error", count=50, path="$batch", after=1)
    try:
        results = harness.provider.write([Create(draft(subject=f"Visit {i}")) for i in range(25)])
    finally:
        harness.server.clear_faults()
    assert all(r.ok for r in results[:20])
    assert all(isinstance(r.error, ServerError) for r in results[20:])
    assert len(harness.server.events(harness.calendar_id)) == 20


def test_an_override_dropped_locally_is_put_back_to_the_series(harness):
    start = NOW + timedelta(days=3)
    moved = start + timedelta(days=1)
    override = OccurrenceOverride(
        moved, "Moved visit", "Room 1", moved + timedelta(hours=1), moved + timedelta(hours=2)
    )
    d = draft(start=start, recurrence=Recurrence("FREQ=DAILY;COUNT=3", overrides=(override,)))
    event = create(harness.provider, d)
    assert event.recurrence.overrides == (override,)
    back = draft(local_id=d.local_id, start=start, recurrence=Recurrence("FREQ=DAILY;COUNT=3"))
    (result,) = harness.provider.write(
        [Update(event.remote_id, event.version, back, frozenset({"recurrence"}))]
    )
    assert result.ok, result.error
    # Graph keeps an exception, but it now says what the series says: no override.
    assert result.event.recurrence.overrides == ()
    assert harness.provider.get(event.remote_id).recurrence.overrides == ()
    starts = sorted(
        i["start"]["dateTime"][:16] for i in _occurrences(harness.server, event.remote_id)
    )
    assert starts == [f"{start + timedelta(days=k):%Y-%m-%dT%H:%M}" for k in range(3)]


def test_a_window_moved_on_by_more_than_a_week_lists_again(harness):
    state = harness.provider.changes(WINDOW, None).state
    later = TimeWindow(WINDOW.start + timedelta(days=3), WINDOW.end + timedelta(days=3))
    assert harness.provider.changes(later, state).complete is False
    moved = TimeWindow(WINDOW.start + timedelta(days=8), WINDOW.end + timedelta(days=8))
    with pytest.raises(SyncStateExpired):
        harness.provider.changes(moved, state)
