"""End to end: the Sales Calendar (real SQLite) ↔ the Google Calendar test server,
through SyncEngine, GoogleProvider and google-api-python-client over real HTTP.

The rules every service keeps run from :class:`EndToEndContract`; this module adds
what is particular to Google (event ids, sendUpdates, 410/409, batch faults) and
one test per fault the test server can inject.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from google.oauth2.credentials import Credentials

from calsync_desktop.accounts import google as google_account
from calsync_desktop.accounts import save_account
from calsync_desktop.accounts.base import MemorySecrets
from calsync_desktop.model import InviteStatus, Participant, Recurrence
from calsync_desktop.providers.google import SCOPES, GoogleProvider, event_id_for, to_remote_event
from calsync_desktop.services import Services
from calsync_desktop.sync.runner import SyncRunner
from tests.fakes.google_calendar import GoogleCalendarServer

from .e2e_contract import E2EHarness, EndToEndContract, add_tomorrow, e2e_fixtures
from .harness import CrashAfterWrite

OWNER = "sales.person@example.com"
_VISIBILITY = {"normal": "default", "private": "private", "confidential": "confidential"}
_RESPONSE = {InviteStatus.ACCEPTED: "accepted", InviteStatus.TENTATIVE: "tentative"}


class CrashingGoogleProvider(CrashAfterWrite, GoogleProvider):
    """GoogleProvider whose next write can be followed by a crash."""


def _time(value: datetime) -> dict:
    return {"dateTime": value.isoformat(), "timeZone": "UTC"}


def _instance_id(master_id: str, original: datetime) -> str:
    return f"{master_id}_{original.astimezone(UTC):%Y%m%dT%H%M%SZ}"


class GoogleE2E(E2EHarness):
    """A Sales Calendar and the Google test server, linked by one Google account."""

    kind, name, owner = "google", "Google", OWNER
    responses = _RESPONSE
    write_path = "/batch"

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

    def new_provider(self, timeout: float = 5) -> CrashingGoogleProvider:
        return CrashingGoogleProvider(
            self.credentials,
            api_endpoint=self.server.api_endpoint,
            backoff=self.backoff,
            timeout=timeout,
        )

    # -- remote side (read straight from the server's state)
    def remote_items(self) -> list[dict]:
        """Live single events and masters (not exceptions)."""
        return [e for e in self.server.events() if not e.get("recurringEventId")]

    def remote_ids(self) -> list[str]:
        return [e["id"] for e in self.remote_items()]

    def remote(self, remote_id):
        everything = self.server.events(include_cancelled=True)
        master = next((e for e in everything if e["id"] == remote_id), None)
        if master is None or master.get("status") == "cancelled":
            return None
        exceptions = [e for e in everything if e.get("recurringEventId") == remote_id]
        return to_remote_event(master, exceptions)

    def remote_id_for(self, local_id) -> str:
        return super().remote_id_for(local_id) or event_id_for(local_id)

    def create_remote(
        self,
        subject,
        start,
        end,
        *,
        html_body=None,
        sensitivity="normal",
        attendees=(),
        organizer=None,
        tz="UTC",
        **extra,
    ) -> str:
        if html_body is not None:
            extra["description"] = html_body  # Google keeps HTML in the description
        body = {
            "summary": subject,
            "start": {"dateTime": start.isoformat(), "timeZone": tz},
            "end": {"dateTime": end.isoformat(), "timeZone": tz},
            **extra,
        }
        if sensitivity != "normal":
            body["visibility"] = _VISIBILITY[sensitivity]
        if attendees:
            body["attendees"] = [
                {"email": email, "displayName": name} if name else {"email": email}
                for name, email in attendees
            ]
        if organizer:
            body["organizer"] = {"email": organizer, "self": False}
        return self.server.insert_event(body)["id"]

    def add_remote_all_day(self, subject: str, day: date) -> str:
        return self.server.insert_event(
            {
                "summary": subject,
                "start": {"date": day.isoformat()},
                "end": {"date": (day + timedelta(days=1)).isoformat()},
            }
        )["id"]

    def edit_remote(self, remote_id, **patch) -> dict:
        """Patch the raw Google resource."""
        return self.server.patch_event(remote_id, patch)

    def edit_remotely(self, remote_id, **fields) -> None:
        self.edit_remote(remote_id, **_patch(fields))

    def add_remote_attendee(self, remote_id, email) -> None:
        attendees = [*self.server.get_event(remote_id).get("attendees", []), {"email": email}]
        self.edit_remote(remote_id, attendees=attendees)

    def delete_remotely(self, remote_id) -> None:
        self.server.delete_event(remote_id)

    cancel_remotely = delete_remotely  # the organiser's delete reaches us as cancelled

    def occurrence_starts(self, master_id) -> list[datetime]:
        service = self.provider._service  # the bare client: what Google itself would show
        items = service.events().instances(calendarId="primary", eventId=master_id).execute()
        return [datetime.fromisoformat(i["start"]["dateTime"]) for i in items["items"]]

    def delete_occurrence_remotely(self, master_id, original: datetime) -> None:
        self.server.delete_event(_instance_id(master_id, original))

    def move_occurrence_remotely(self, master_id, original: datetime, **fields) -> None:
        self.edit_remote(_instance_id(master_id, original), **_patch(fields))

    def remote_sensitivity(self, remote_id) -> str:
        visibility = self.server.get_event(remote_id)["visibility"]
        return {v: k for k, v in _VISIBILITY.items()}[visibility]

    def invitations_sent(self) -> int:
        return len(self.server.emails_sent())

    def expire_sync_state(self) -> None:
        self.server.expire_sync_tokens()

    def revoke_sign_in(self) -> None:
        self.server.revoke()
        self.server.expire_access_tokens()


def _patch(fields: dict) -> dict:
    """Neutral fields (subject, location, start, end) as a Google patch."""
    names = {"subject": "summary"}
    return {names.get(k, k): _time(v) if isinstance(v, datetime) else v for k, v in fields.items()}


@pytest.fixture
def server(clock):
    with GoogleCalendarServer(OWNER, clock=clock) as s:
        yield s


make_harness, h = e2e_fixtures(GoogleE2E)


class TestGoogleRules(EndToEndContract):
    """The shared rules against the Google test server, with Google's own checks added."""

    retry_cases = (
        ("rate_limit", 5, 5.0),
        ("rate_limit_403", 7, 7.0),
        ("server_busy", 2, 2.0),
        ("server_error", None, None),
    )

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
    (item,) = h.remote_items()
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
    h.edit_remote(event_id_for(a.id), location="Changed on Google")
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
    h.edit_remote(event.remote_id, recurrence=["RRULE:FREQ=DAILY;COUNT=3"])
    h.sync()
    assert h.local(a.id).recurrence.rrule == "FREQ=WEEKLY;COUNT=10"
    h.edit_local(a.id, recurrence=Recurrence("FREQ=WEEKLY;COUNT=4"))
    h.sync()
    assert h.remote_for(a.id).recurrence.rrule == "FREQ=WEEKLY;COUNT=4"


def test_google_series_is_imported_once_with_its_rule(h):
    made = h.add_remote("Standup", recurrence=["RRULE:FREQ=DAILY;COUNT=5"])
    h.sync()
    assert h.local_for(made).recurrence.rrule == "FREQ=DAILY;COUNT=5"
    assert len(h.all_local()) == 1


# --------------------------------------------------------------------------- faults


def test_410_fault_resyncs_without_duplicates(h):
    h.add_local("One")
    h.sync()
    h.server.fail_next("sync_expired")
    h.add_remote("Two")
    h.sync()
    assert len(h.remote_items()) == 2 and len(h.all_local()) == 2


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
    h.edit_remote(f"{event_id_for(a.id)}_{second.astimezone(UTC):%Y%m%dT%H%M%SZ}", summary="one")
    h.sync()
    h.edit_local(a.id, recurrence=None)
    h.sync()
    assert h.remote_for(a.id).recurrence is None
    assert h.local(a.id).recurrence is None
    assert [e["id"] for e in h.server.events()] == [event_id_for(a.id)]
    assert h.sync().counts == {}
