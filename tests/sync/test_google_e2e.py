"""End to end: the Sales Calendar (real SQLite) ↔ the Google Calendar test server,
through SyncEngine, GoogleProvider and google-api-python-client over real HTTP.

The rules every service keeps run from :class:`EndToEndContract`; this module adds
what is particular to Google (event ids, sendUpdates, 410/409, batch faults) and
one test per fault the test server can inject.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from google.oauth2.credentials import Credentials

from calsync_desktop.accounts import google as google_account
from calsync_desktop.accounts import save_account
from calsync_desktop.accounts.base import MemorySecrets
from calsync_desktop.model import Participant, Recurrence
from calsync_desktop.providers.google import SCOPES, GoogleProvider, event_id_for
from calsync_desktop.services import Services
from calsync_desktop.sync.runner import SyncRunner
from tests.fakes.google_calendar import GoogleCalendarServer

from .e2e_contract import E2EHarness, EndToEndContract, add_tomorrow, e2e_fixtures
from .e2e_series import SeriesContract, remote_starts, shown_starts
from .harness import CrashAfterWrite

OWNER = "sales.person@example.com"


class CrashingGoogleProvider(CrashAfterWrite, GoogleProvider):
    """GoogleProvider whose next write can be followed by a crash."""


def _time(value: datetime) -> dict:
    return {"dateTime": value.isoformat(), "timeZone": "UTC"}


def _instance_id(master_id: str, original: datetime) -> str:
    return f"{master_id}_{original.astimezone(UTC):%Y%m%dT%H%M%SZ}"


class GoogleE2E(E2EHarness):
    """A Sales Calendar and the Google test server, linked by one Google account."""

    kind, name = "google", "Google"

    def connect(self) -> None:
        tokens = self.server.issue_tokens()
        self.credentials = Credentials(
            token=tokens["access_token"],
            refresh_token=tokens["refresh_token"],
            token_uri=self.server.token_uri,
            client_id=self.server.client_id,
            client_secret=self.server.client_secret,
            scopes=SCOPES,
        )

    def new_provider(self, timeout: float = 5, backoff=None) -> CrashingGoogleProvider:
        return CrashingGoogleProvider(
            self.credentials,
            api_endpoint=self.server.api_endpoint,
            backoff=backoff or self.backoff,
            timeout=timeout,
        )


def remote_items(server: GoogleCalendarServer) -> list[dict]:
    """Live single events and masters (not exceptions), as Google stores them."""
    return [e for e in server.events() if not e.get("recurringEventId")]


@pytest.fixture
def server(clock):
    with GoogleCalendarServer(OWNER, clock=clock) as s:
        yield s


make_harness, h = e2e_fixtures(GoogleE2E)


class TestGoogleSeries(SeriesContract):
    """Cancelled occurrences and splits, as Google keeps them (cancelled instances,
    ``<id>_R<stamp>`` masters)."""

    # On Google the organiser's cancellation is already the attendee's deleted
    # instance: there is nothing left for the user to remove afterwards (the
    # cancelled instance is test_an_occurrence_cancelled_by_its_organiser_becomes_an_exdate).
    test_a_cancelled_occurrence_the_user_then_removes_stays_deleted = None

    def test_a_split_is_known_by_the_new_series_id_however_far_the_rest_moved(self, h):
        # the rest moved to the week after: only Google's "<id>_R<cut>" tells
        start = (h.clock() + timedelta(days=2)).replace(microsecond=0)
        starts = [start + timedelta(days=d) for d in range(5)]
        made = h.server.create_series(
            "Standup", start, start + timedelta(minutes=30), "FREQ=DAILY;COUNT=5"
        )
        h.sync()
        now = h.clock()
        h.clock.advance(minutes=1)
        later = starts[2] + timedelta(days=9)
        new = h.server.split_series(made, starts[2], start=later, end=later + timedelta(hours=1))
        assert new == f"{made}_R{starts[2].astimezone(UTC):%Y%m%dT%H%M%S}"
        assert h.sync().errors == []
        expected = starts[:2] + [s + timedelta(days=9) for s in starts[2:]]
        assert shown_starts(h, now) == remote_starts(h) == expected
        assert h.sync().counts == {}


class TestGoogleRules(EndToEndContract):
    """The shared rules against the Google test server, with Google's own checks added."""

    join_url = "https://meet.google.com/abc-defg-hij"  # a Meet conference's video entry point

    retry_cases = (
        ("rate_limit", 5, 5.0),
        ("rate_limit_403", 7, 7.0),
        ("server_busy", 2, 2.0),
        ("server_error", None, None),
    )

    # Google refuses an event that names one attendee twice in any letter case
    # (400 "Duplicate attendee", as the test server answers): Google cannot send
    # that shape; the letter-case rule is covered by
    # test_addresses_that_differ_only_in_letter_case_are_one_person.
    test_an_event_naming_one_address_twice_is_imported_with_one_participant = None

    def test_first_sync_links_the_same_events_instead_of_duplicating(self, h):
        super().test_first_sync_links_the_same_events_instead_of_duplicating(h)
        assert not any(n["action"] == "insert" for n in h.server.notifications)

    def test_crash_between_remote_write_and_local_commit_never_duplicates(self, h):
        super().test_crash_between_remote_write_and_local_commit_never_duplicates(h)
        (a,) = h.all_local()
        assert h.store.status_for(h.account.id, [a.id])[a.id].remote_id == event_id_for(a.id)


# --------------------------------------------------------------------------- basics and mapping


def test_new_local_appointment_is_created_on_google(h):
    a = h.add_local("Demo at Initech\nBring the slides", location="Initech HQ")
    result = h.sync()
    assert result.counts == {"create remotely": 1}
    (item,) = remote_items(h.server)
    assert item["id"] == event_id_for(a.id)
    assert item["summary"] == "Demo at Initech" and item["description"] == "Bring the slides"
    assert item["location"] == "Initech HQ"
    assert item["start"]["timeZone"] == "Europe/Berlin"
    assert item["extendedProperties"]["private"]["calsyncLocalId"] == a.id
    event = h.remote_for(a.id)
    assert event.start == a.start and event.end == a.end


# ------------------------------------------------------------- participants and invitations


def test_no_invitations_during_the_first_sync(h):
    h.store.set_setting("sync.send_invitations", True)
    h.add_local(participants=(Participant("Ann", "ann@acme.example"),))
    h.sync()
    assert h.server.emails_sent() == []
    assert [n["sendUpdates"] for n in h.server.notifications] == ["none"]


def test_invitations_only_for_local_changes_with_the_setting_on(h):
    h.store.set_setting("sync.send_invitations", True)
    h.add_local("first")
    h.sync()
    a = h.add_local(participants=(Participant("Ann", "ann@acme.example"),))
    h.sync()
    assert [n["id"] for n in h.server.emails_sent()] == [event_id_for(a.id)]
    h.clock.advance(minutes=1)
    h.server.patch_event(event_id_for(a.id), {"location": "Changed on Google"})
    sent_before = len(h.server.emails_sent())
    h.sync()
    h.sync()
    assert len(h.server.emails_sent()) == sent_before  # remote changes never mail


# --------------------------------------------------------------------------- recurrence


def test_recurrence_is_pushed_one_way(h):
    a = h.add_local(recurrence=Recurrence("FREQ=WEEKLY;COUNT=10"))
    h.sync()
    event = h.remote_for(a.id)
    assert event.recurrence.rrule == "FREQ=WEEKLY;COUNT=10"
    h.clock.advance(minutes=1)
    h.server.patch_event(event.remote_id, {"recurrence": ["RRULE:FREQ=DAILY;COUNT=3"]})
    h.sync()
    assert h.local(a.id).recurrence.rrule == "FREQ=WEEKLY;COUNT=10"
    h.edit_local(a.id, recurrence=Recurrence("FREQ=WEEKLY;COUNT=4"))
    h.sync()
    assert h.remote_for(a.id).recurrence.rrule == "FREQ=WEEKLY;COUNT=4"


def test_google_series_is_imported_once_with_its_rule(h):
    start = h.clock() + timedelta(days=2)
    made = h.server.insert_event(
        {
            "summary": "Standup",
            "start": _time(start),
            "end": _time(start + timedelta(hours=1)),
            "recurrence": ["RRULE:FREQ=DAILY;COUNT=5"],
        }
    )["id"]
    h.sync()
    assert h.local_for(made).recurrence.rrule == "FREQ=DAILY;COUNT=5"
    assert len(h.all_local()) == 1


def _local_starts(h) -> list[datetime]:
    """Every occurrence start the Sales Calendar shows, series expanded."""
    starts = []
    for a in h.all_local():
        if a.recurrence is None:
            starts.append(a.start)
            continue
        for start in a.recurrence.rule_set(a.start, a.timezone):
            start = start.astimezone(UTC)
            if start not in a.recurrence.exdates:
                starts.append(start)
    return sorted(starts)


def test_a_series_split_this_and_following_on_google_shows_each_occurrence_once(h):
    start = (h.clock() + timedelta(days=2)).replace(microsecond=0)
    made = h.server.insert_event(
        {
            "summary": "Standup",
            "start": _time(start),
            "end": _time(start + timedelta(minutes=30)),
            "recurrence": ["RRULE:FREQ=DAILY;COUNT=5"],
        }
    )["id"]
    h.sync()
    h.clock.advance(minutes=1)
    new_id = h.server.split_series(made, start + timedelta(days=2), subject="Standup (new room)")
    assert new_id == f"{made}_R{start + timedelta(days=2):%Y%m%dT%H%M%S}"
    result = h.sync()
    assert not result.errors
    assert len(h.all_local()) == 2  # two masters, as on Google
    assert h.local_for(new_id).contents == "Standup (new room)"
    assert _local_starts(h) == [start + timedelta(days=d) for d in range(5)]


# --------------------------------------------------------------------------- meetings of others


def test_an_edit_of_someone_elses_meeting_keeps_the_organisers_version_and_never_loops(h):
    made = h.add_remote(
        "Their review",
        organizer="boss@customer.example",
        attendees=(("Boss", "boss@customer.example"), (None, OWNER)),
    )
    h.sync()
    a = h.local_for(made)
    h.clock.advance(minutes=1)
    h.edit_local(a.id, location="My office")
    result = h.sync()
    assert result.errors == []  # not an error: the service decides who may change it
    assert h.local(a.id).location == "" and "location" not in h.server.get_event(made)
    (entry,) = [s for s in h.store.skipped(h.account.id) if s.item_id == a.id]
    assert entry.reason.startswith("Read-only") and "organiser" in entry.reason
    before = h.server.count_requests()
    again = h.sync()
    assert again.counts == {} and again.errors == []
    assert h.server.count_requests() - before == 1  # the listing only: no retry


def test_an_edit_of_a_meeting_whose_guests_may_modify_it_goes_through(h):
    made = h.add_remote(
        "Their review",
        organizer="boss@customer.example",
        attendees=(("Boss", "boss@customer.example"), (None, OWNER)),
    )
    h.server.patch_event(made, {"guestsCanModify": True})
    h.sync()
    a = h.local_for(made)
    assert a.organizer.guests_can_modify  # kept: the window and the command line offer it all
    h.clock.advance(minutes=1)
    h.edit_local(a.id, location="My office")
    assert h.sync().errors == []
    assert h.server.get_event(made)["location"] == "My office"
    # the organiser takes it back: read again, and a guest's edit is theirs no more
    h.server.patch_event(made, {"guestsCanModify": False})
    h.sync()
    assert not h.local(a.id).organizer.guests_can_modify
    h.clock.advance(minutes=1)
    h.edit_local(a.id, location="Somewhere else")
    assert h.sync().errors == []
    assert h.server.get_event(made)["location"] == "My office"
    assert h.local(a.id).location == "My office"


# --------------------------------------------------------------------------- faults


def test_410_fault_resyncs_without_duplicates(h):
    h.add_local("One")
    h.sync()
    h.server.fail_next("sync_expired")
    h.add_remote("Two")
    h.sync()
    assert len(remote_items(h.server)) == 2 and len(h.all_local()) == 2


def test_saved_google_account_syncs_through_its_account_module(tmp_path, clock, server):
    """The runner's own path: account kind module, token from the secret store, env endpoints."""
    env = {
        "CALSYNC_GOOGLE_API_ENDPOINT": server.api_endpoint,
        "CALSYNC_GOOGLE_TOKEN_URI": server.token_uri,
    }
    services = Services.create(
        home=tmp_path / "home", secrets=MemorySecrets(), env=env, clock=clock
    )
    try:
        pending = google_account.PendingGoogleAccount(services, OWNER, {}, _token_json(server))
        account = save_account(services, pending)
        a = add_tomorrow(services)
        server.expire_access_tokens()
        result = SyncRunner(services).sync_account(account.id)
        assert not result.errors
        assert server.get_event(event_id_for(a.id))["summary"] == "Through the runner"
        assert services.secrets.get(account.id, "token") != _token_json(
            server
        )  # refreshed, saved back
    finally:
        services.store.close()


def _token_json(server, _cache={}):  # noqa: B006 - one token per server, on purpose
    if id(server) not in _cache:
        tokens = server.issue_tokens()
        _cache[id(server)] = json.dumps(
            {
                "token": tokens["access_token"],
                "refresh_token": tokens["refresh_token"],
                "client_id": server.client_id,
                "client_secret": server.client_secret,
                "scopes": SCOPES,
            }
        )
    return _cache[id(server)]


def test_a_series_made_single_again_is_one_event_on_google(h):
    a = h.add_local(recurrence=Recurrence("FREQ=DAILY;COUNT=3"))
    h.sync()
    second = a.start + timedelta(days=1)
    h.clock.advance(minutes=1)
    h.server.patch_event(_instance_id(event_id_for(a.id), second), {"summary": "one"})
    h.sync()
    h.edit_local(a.id, recurrence=None)
    h.sync()
    assert h.remote_for(a.id).recurrence is None
    assert h.local(a.id).recurrence is None
    assert [e["id"] for e in h.server.events()] == [event_id_for(a.id)]
    assert h.sync().counts == {}


@pytest.mark.parametrize(
    ("rule", "reason"),
    [
        ("FREQ=SECONDLY", "it repeats every second"),
        ("FREQ=MINUTELY;COUNT=500", "it repeats every minute"),
        ("FREQ=DAILY;COUNT=1000000000", "it repeats 1,000,000,000 times"),
    ],
)
def test_a_series_repeating_beyond_what_the_sales_calendar_holds_is_skipped_with_its_reason(
    h, rule, reason
):
    # issue 10 #10: such rules once kept a sync busy for minutes; they are
    # listed as skipped before they are expanded, and the rest still syncs
    start = h.clock() + timedelta(days=1)
    master = h.server.insert_event(
        {
            "summary": "Hostile series",
            "start": _time(start),
            "end": _time(start + timedelta(hours=1)),
            "recurrence": ["RRULE:" + rule],
        }
    )
    kept = h.add_remote("Next to it")
    result = h.sync()
    assert not result.errors, result.errors
    assert [a.contents for a in h.all_local()] == ["Next to it"] and h.local_for(kept)
    (skipped,) = h.store.skipped(h.account.id)
    assert skipped.item_id == master["id"] and reason in skipped.reason
    assert "daily, weekly, monthly or yearly, at most 999 times" in skipped.reason
