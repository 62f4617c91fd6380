"""End to end: the Sales Calendar (real SQLite) ↔ the Google Calendar test server,
through SyncEngine, GoogleProvider and google-api-python-client over real HTTP.

One test (at least) per rule of SPEC §4 and §5 as Google sees it, and one per
fault the test server can inject.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from google.oauth2.credentials import Credentials

from calsync_desktop.accounts import google as google_account
from calsync_desktop.accounts import save_account
from calsync_desktop.accounts.base import Account, AccountState, MemorySecrets
from calsync_desktop.model import (
    Appointment,
    InviteStatus,
    OccurrenceOverride,
    Participant,
    Recurrence,
    new_id,
)
from calsync_desktop.providers.base import Backoff
from calsync_desktop.providers.google import SCOPES, GoogleProvider, event_id_for, to_remote_event
from calsync_desktop.services import Services
from calsync_desktop.sync.engine import Decision, SyncEngine, SyncResult
from calsync_desktop.sync.runner import SyncRunner
from tests.fakes.google_calendar import GoogleCalendarServer

OWNER = "sales.person@example.com"


class Crash(BaseException):
    """The process dies here (not an Exception: nothing may catch it)."""


class CrashingGoogleProvider(GoogleProvider):
    crash_after_write = False

    def write(self, writes):
        results = super().write(writes)
        if self.crash_after_write:
            self.crash_after_write = False
            raise Crash()
        return results


class GoogleE2E:
    """A Sales Calendar and the Google test server, linked by one Google account."""

    def __init__(self, services: Services, server: GoogleCalendarServer, sync_all_private=False):
        self.services = services
        self.store = services.store
        self.clock = services.clock
        self.server = server
        self.waits: list[float] = []
        self.backoff = Backoff(sleep=self.waits.append)
        tokens = server.issue_tokens()
        self.credentials = Credentials(
            token=tokens["access_token"],
            refresh_token=tokens["refresh_token"],
            token_uri=server.token_uri,
            client_id=server.client_id,
            client_secret=server.client_secret,
            scopes=SCOPES,
        )
        self.provider = self.new_provider()
        self.account = self.store.add_account(
            Account(
                id=str(uuid.uuid4()),
                kind="google",
                name="Google",
                email=OWNER,
                sync_all_private=sync_all_private,
            )
        )
        self.decision = Decision.STOP
        self.guards = []

    def new_provider(self, **options) -> CrashingGoogleProvider:
        return CrashingGoogleProvider(
            self.credentials,
            api_endpoint=self.server.api_endpoint,
            backoff=self.backoff,
            timeout=options.pop("timeout", 5),
            **options,
        )

    def engine(self) -> SyncEngine:
        def confirm(guard):
            self.guards.append(guard)
            return self.decision

        return SyncEngine(
            self.store,
            self.store.get_account(self.account.id),
            self.provider,
            clock=self.clock,
            confirm=confirm,
        )

    def sync(self) -> SyncResult:
        return self.engine().run()

    def runner(self) -> SyncRunner:
        return SyncRunner(self.services, open_provider=lambda account: self.new_provider())

    # -- local side
    def add_local(self, contents="Meeting with Acme", start=None, hours=1, **kw) -> Appointment:
        start = start or self.clock() + timedelta(days=1)
        return self.store.add_appointment(
            Appointment(
                id=new_id(),
                contents=contents,
                start=start,
                end=start + timedelta(hours=hours),
                timezone=kw.pop("timezone", "Europe/Berlin"),
                **kw,
            )
        )

    def edit_local(self, appointment_id, **changes) -> Appointment:
        return self.store.update_appointment(
            self.store.get_appointment(appointment_id).with_changes(**changes)
        )

    def local(self, appointment_id) -> Appointment | None:
        return self.store.get_appointment(appointment_id)

    def all_local(self) -> list[Appointment]:
        far = timedelta(days=3650)
        return self.store.appointments_between(self.clock() - far, self.clock() + far)

    def local_for(self, remote_id) -> Appointment | None:
        rows = self.store.status_for_remote(self.account.id, [remote_id])
        return self.local(rows[remote_id].local_id) if remote_id in rows else None

    # -- remote side (read straight from the server's state)
    def remote_items(self) -> list[dict]:
        """Live single events and masters (not exceptions)."""
        return [e for e in self.server.events() if not e.get("recurringEventId")]

    def remote(self, remote_id):
        everything = self.server.events(include_cancelled=True)
        master = next(e for e in everything if e["id"] == remote_id)
        if master.get("status") == "cancelled":
            return None
        exceptions = [e for e in everything if e.get("recurringEventId") == remote_id]
        return to_remote_event(master, exceptions)

    def remote_for(self, local_id):
        row = self.store.status_for(self.account.id, [local_id]).get(local_id)
        remote_id = row.remote_id if row else event_id_for(local_id)
        try:
            return self.remote(remote_id)
        except StopIteration:
            return None

    def add_remote(
        self, subject="Call with Globex", start=None, hours=1, tz="UTC", **extra
    ) -> dict:
        start = start or self.clock() + timedelta(days=2)
        body = {
            "summary": subject,
            "start": {"dateTime": start.isoformat(), "timeZone": tz},
            "end": {"dateTime": (start + timedelta(hours=hours)).isoformat(), "timeZone": tz},
            **extra,
        }
        return self.server.insert_event(body)

    def edit_remote(self, remote_id, **patch) -> dict:
        return self.server.patch_event(remote_id, patch)

    def at(self, days: float, hour: int = 10):
        return (self.clock() + timedelta(days=days)).replace(hour=hour, minute=0)


@pytest.fixture
def server(clock):
    with GoogleCalendarServer(OWNER, clock=clock) as s:
        yield s


@pytest.fixture
def h(services, server):
    harness = GoogleE2E(services, server)
    yield harness
    harness.provider.close()


def _time(value):
    return {"dateTime": value.isoformat(), "timeZone": "UTC"}


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


def test_new_google_event_is_imported_with_html_as_plain_text(h):
    made = h.add_remote(
        "Lunch with Bob",
        description='<p>At <b>Luigi&#39;s</b></p><p><a href="https://luigi.example">menu</a></p>'
        "<script>alert(1)</script>",
        location="Luigi's",
    )
    h.sync()
    a = h.local_for(made["id"])
    assert a.contents == "Lunch with Bob\nAt Luigi's\nmenu (https://luigi.example)"
    assert a.location == "Luigi's"


def test_contents_round_trip_is_stable_and_nothing_changed_costs_one_request(h):
    a = h.add_local("Quarterly review\nLine one\n\nLine three")
    h.sync()
    h.sync()
    assert h.local(a.id).contents == "Quarterly review\nLine one\n\nLine three"
    before = h.server.count_requests()
    assert h.sync().counts == {}
    assert h.server.count_requests() - before == 1


def test_long_first_line_is_cut_to_255_for_the_summary(h):
    a = h.add_local("x" * 300 + "\nbody")
    h.sync()
    assert len(h.remote_for(a.id).subject) <= 255


def test_a_field_changed_on_one_side_goes_to_the_other(h):
    a = h.add_local("Visit")
    h.sync()
    h.edit_local(a.id, location="Building 7")
    event = h.remote_for(a.id)
    later = event.start + timedelta(hours=2)
    h.clock.advance(minutes=1)
    h.edit_remote(event.remote_id, start=_time(later), end=_time(later + timedelta(hours=1)))
    h.sync()
    assert h.remote_for(a.id).location == "Building 7"
    assert h.local(a.id).start == later == h.remote_for(a.id).start


def test_dst_wall_time_is_kept_for_a_series(h):
    # weekly at 09:00 Berlin across the last Sunday of March (CET → CEST)
    start = h.clock().replace(year=2027, month=3, day=15, hour=8)  # 09:00 CET
    a = h.add_local(start=start, recurrence=Recurrence("FREQ=WEEKLY;COUNT=4"))
    h.sync()
    service = h.provider._service  # the bare client: what Google itself would show
    items = service.events().instances(calendarId="primary", eventId=event_id_for(a.id)).execute()
    berlin = ZoneInfo("Europe/Berlin")
    hours = [
        datetime.fromisoformat(i["start"]["dateTime"]).astimezone(berlin).hour
        for i in items["items"]
    ]
    assert hours == [9, 9, 9, 9]
    utc_hours = [
        datetime.fromisoformat(i["start"]["dateTime"]).astimezone(UTC).hour for i in items["items"]
    ]
    assert utc_hours == [8, 8, 7, 7]


# ------------------------------------------------------------- participants and invitations


def test_participants_are_pushed_one_way_and_statuses_come_back(h):
    a = h.add_local(
        participants=(
            Participant("Ann", "Ann@Acme.example"),
            Participant("Bo", "bo@acme.example"),
            Participant("No Mail"),
        )
    )
    h.sync()
    assert any("No Mail" in s.reason for s in h.store.skipped(h.account.id))
    event = h.remote_for(a.id)
    assert sorted(p.email for p in event.attendees) == ["Ann@Acme.example", "bo@acme.example"]
    h.server.set_response(event.remote_id, "ann@acme.example", "accepted")
    h.server.set_response(event.remote_id, "BO@acme.example", "tentative")
    attendees = h.server.get_event(event.remote_id)["attendees"] + [
        {"email": "eve@elsewhere.example"}
    ]
    h.edit_remote(event.remote_id, attendees=attendees)
    h.sync()
    statuses = {p.key: p.status for p in h.local(a.id).participants if p.key}
    assert statuses == {
        "ann@acme.example": InviteStatus.ACCEPTED,
        "bo@acme.example": InviteStatus.TENTATIVE,
    }
    assert len(h.local(a.id).participants) == 3  # eve is not applied back; No Mail stays


def test_google_attendees_are_imported_once_and_own_address_is_not_a_participant(h):
    made = h.add_remote(
        "Kick-off",
        attendees=[{"email": OWNER}, {"email": "carl@customer.example", "displayName": "Carl"}],
    )
    h.sync()
    a = h.local_for(made["id"])
    assert [p.email for p in a.participants] == ["carl@customer.example"]


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


def test_no_invitations_with_the_setting_off(h):
    h.add_local("first")
    h.sync()
    h.add_local(participants=(Participant("Ann", "ann@acme.example"),))
    h.sync()
    assert h.server.emails_sent() == []


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
    assert h.local_for(made["id"]).recurrence.rrule == "FREQ=DAILY;COUNT=5"
    assert len(h.all_local()) == 1


def test_deleted_occurrence_becomes_an_exdate_both_ways(h):
    a = h.add_local(recurrence=Recurrence("FREQ=DAILY;COUNT=5"))
    h.sync()
    second = a.start + timedelta(days=1)
    h.edit_local(a.id, recurrence=Recurrence("FREQ=DAILY;COUNT=5", exdates=(second,)))
    h.sync()
    assert h.remote_for(a.id).recurrence.exdates == (second,)
    third = a.start + timedelta(days=2)
    h.clock.advance(minutes=1)
    h.server.delete_event(f"{event_id_for(a.id)}_{third.astimezone(UTC):%Y%m%dT%H%M%SZ}")
    h.sync()
    assert set(h.local(a.id).recurrence.exdates) == {second, third}


def test_moved_occurrence_becomes_an_override_both_ways(h):
    a = h.add_local(recurrence=Recurrence("FREQ=DAILY;COUNT=5"))
    h.sync()
    original = a.start + timedelta(days=3)
    h.clock.advance(minutes=1)
    h.edit_remote(
        f"{event_id_for(a.id)}_{original.astimezone(UTC):%Y%m%dT%H%M%SZ}",
        summary="Meeting with Acme (moved)",
        location="Cafe",
        start=_time(original + timedelta(hours=3)),
        end=_time(original + timedelta(hours=4)),
    )
    h.sync()
    moved = OccurrenceOverride(
        original,
        "Meeting with Acme (moved)",
        "Cafe",
        original + timedelta(hours=3),
        original + timedelta(hours=4),
    )
    assert h.local(a.id).recurrence.overrides == (moved,)
    other = a.start + timedelta(days=1)
    local_move = OccurrenceOverride(other, "Shortened", "", other, other + timedelta(minutes=30))
    h.edit_local(a.id, recurrence=Recurrence("FREQ=DAILY;COUNT=5", overrides=(local_move, moved)))
    h.sync()
    assert set(h.remote_for(a.id).recurrence.overrides) == {moved, local_move}


# --------------------------------------------------------------------------- scope


def test_all_day_events_are_not_synced_in_either_direction(h):
    a = h.add_local(all_day=True)
    day = (h.clock() + timedelta(days=3)).date()
    made = h.server.insert_event(
        {
            "summary": "Holiday",
            "start": {"date": day.isoformat()},
            "end": {"date": (day + timedelta(days=1)).isoformat()},
        }
    )
    h.sync()
    assert h.remote_for(a.id) is None and h.local_for(made["id"]) is None


def test_older_than_30_days_and_beyond_the_horizon_are_out_of_scope(h):
    old_local = h.add_local(start=h.clock() - timedelta(days=31))
    old_remote = h.add_remote(start=h.clock() - timedelta(days=31))
    far = h.add_local(start=h.clock() + timedelta(days=800))
    recent = h.add_local(start=h.clock() - timedelta(days=29))
    h.sync()
    assert h.remote_for(old_local.id) is None and h.local_for(old_remote["id"]) is None
    assert h.remote_for(far.id) is None and h.remote_for(recent.id) is not None


def test_leaving_scope_by_age_is_never_a_deletion(h):
    a = h.add_local()
    h.sync()
    h.clock.advance(days=40)
    h.server.delete_event(event_id_for(a.id))
    h.sync()
    assert h.local(a.id) is not None


# --------------------------------------------------------------------------- identity


def test_crash_between_google_write_and_local_commit_never_duplicates(h):
    a = h.add_local()
    h.provider.crash_after_write = True
    with pytest.raises(Crash):
        h.sync()
    assert len(h.remote_items()) == 1
    h.sync()
    assert len(h.remote_items()) == 1 and len(h.all_local()) == 1
    assert h.store.status_for(h.account.id, [a.id])[a.id].remote_id == event_id_for(a.id)


def test_first_sync_links_the_same_events_instead_of_duplicating(h):
    start = h.at(3)
    a = h.add_local("Board meeting\nnotes", start=start)
    made = h.add_remote("Board meeting", start=start)
    h.sync()
    assert len(h.remote_items()) == 1 and len(h.all_local()) == 1
    assert h.local_for(made["id"]).id == a.id
    assert not any(n["action"] == "insert" for n in h.server.notifications)


def test_removing_and_readding_the_account_duplicates_nothing(h, services):
    from dataclasses import replace

    from calsync_desktop.accounts import remove_account

    h.add_local("One")
    h.add_remote("Two")
    h.sync()
    remove_account(services, h.account.id, keep_appointments=True)
    h.account = h.store.add_account(
        replace(h.account, sync_state=None, local_seq=0, first_sync_done=False)
    )
    h.sync()
    assert len(h.remote_items()) == 2 and len(h.all_local()) == 2


# --------------------------------------------------------------------------- conflicts


def test_same_field_changed_on_both_sides_newer_wins_and_loser_is_logged(h):
    a = h.add_local("Pitch")
    h.sync()
    h.clock.advance(minutes=5)
    h.edit_local(a.id, location="Local room")
    h.clock.advance(minutes=5)
    h.edit_remote(event_id_for(a.id), location="Remote room")
    h.sync()
    assert h.local(a.id).location == "Remote room" == h.remote_for(a.id).location
    (conflict,) = h.store.conflicts(h.account.id)
    assert (conflict.field, conflict.lost_value, conflict.lost_side) == (
        "location",
        "Local room",
        "local",
    )


def test_412_means_fetch_merge_and_retry_never_overwrite(h):
    a = h.add_local("Pitch")
    h.sync()
    h.edit_local(a.id, location="Local room")
    engine = h.engine()
    plan = engine.plan()
    h.edit_remote(event_id_for(a.id), summary="Renamed elsewhere")
    engine.apply(plan, SyncResult())
    event = h.remote_for(a.id)
    assert event.subject == "Renamed elsewhere" and event.location == "Local room"
    h.sync()
    assert h.local(a.id).contents == "Renamed elsewhere"


# --------------------------------------------------------------------------- deletions


def test_deleting_locally_deletes_on_google(h):
    a = h.add_local()
    h.sync()
    h.store.delete_appointment(a.id)
    h.sync()
    assert h.remote_items() == [] and h.store.tombstones(h.account.id) == []


def test_deleting_on_google_deletes_locally(h):
    a = h.add_local()
    h.sync()
    h.server.delete_event(event_id_for(a.id))
    h.sync()
    assert h.local(a.id) is None


def test_edited_locally_and_deleted_on_google_the_edit_wins(h):
    a = h.add_local()
    h.sync()
    h.server.delete_event(event_id_for(a.id))
    h.edit_local(a.id, contents="Still on")
    h.sync()
    assert h.remote_for(a.id).subject == "Still on" and len(h.remote_items()) == 1


def test_edited_on_google_and_deleted_locally_the_edit_wins(h):
    a = h.add_local()
    h.sync()
    h.edit_remote(event_id_for(a.id), summary="Still on")
    h.store.delete_appointment(a.id)
    h.sync()
    assert h.local(a.id).contents == "Still on"


def test_meeting_cancelled_by_its_organiser_is_deleted_locally(h):
    made = h.add_remote("Their meeting", organizer={"email": "boss@other.example", "self": False})
    h.sync()
    local = h.local_for(made["id"])
    assert local is not None
    h.server.delete_event(made["id"])
    h.sync()
    assert h.local(local.id) is None


def _many(h, n):
    items = [h.add_local(f"Visit {i}", start=h.at(1 + i % 20, 8 + i % 9)) for i in range(n)]
    h.sync()
    return items


def test_mass_deletion_guard_stops_then_restore_brings_them_back(h):
    items = _many(h, 40)
    for a in items[:15]:
        h.server.delete_event(event_id_for(a.id))
    result = h.sync()
    assert result.stopped and len(h.guards[0].local_deletions) == 15
    assert len(h.all_local()) == 40
    h.decision = Decision.RESTORE
    h.sync()
    assert len(h.remote_items()) == 40 and len(h.all_local()) == 40


# --------------------------------------------------------------------------- privacy


def test_private_both_ways(h):
    made = h.add_remote("Doctor", visibility="private")
    confidential = h.add_remote("Lawyer", visibility="confidential")
    a = h.add_local("Dentist", private=True)
    h.sync()
    assert h.local_for(made["id"]).private and h.local_for(confidential["id"]).private
    assert h.server.get_event(event_id_for(a.id))["visibility"] == "private"


def test_sync_all_as_private(services, server):
    h = GoogleE2E(services, server, sync_all_private=True)
    made = h.add_remote("Team lunch")
    h.sync()
    assert h.local_for(made["id"]).private
    assert h.server.get_event(made["id"])["visibility"] == "default"


# --------------------------------------------------------------------------- incremental and faults


def test_expired_sync_token_resyncs_without_duplicates(h):
    h.add_local("One")
    h.add_remote("Two")
    h.sync()
    h.server.expire_sync_tokens()
    h.add_remote("Three")
    h.sync()
    assert len(h.remote_items()) == 3 and len(h.all_local()) == 3


def test_410_fault_resyncs_without_duplicates(h):
    h.add_local("One")
    h.sync()
    h.server.fail_next("sync_expired")
    h.add_remote("Two")
    h.sync()
    assert len(h.remote_items()) == 2 and len(h.all_local()) == 2


@pytest.mark.parametrize(
    ("kind", "retry_after", "expected_wait"),
    [
        ("rate_limit", 5, 5.0),
        ("rate_limit_403", 7, 7.0),
        ("server_busy", 2, 2.0),
        ("server_error", None, None),
    ],
)
def test_rate_limits_and_server_errors_are_retried(h, kind, retry_after, expected_wait):
    h.add_local()
    h.server.fail_next(kind, 2, retry_after=retry_after)
    h.sync()
    assert len(h.remote_items()) == 1
    assert len(h.waits) == 2
    if expected_wait is not None:
        assert min(h.waits) >= expected_wait


def test_rate_limited_writes_are_retried(h):
    h.add_local()
    h.sync()
    for _ in range(3):
        h.add_local()
    h.server.fail_next("rate_limit", 1, retry_after=4, path="/batch")
    h.sync()
    assert len(h.remote_items()) == 4 and h.waits == [4.0]


@pytest.mark.parametrize("kind", ["drop", "malformed"])
def test_a_broken_answer_ends_the_run_and_the_next_run_picks_up(h, kind):
    h.add_local()
    runner = h.runner()
    h.server.fail_next(kind, 3)
    result = runner.sync_account(h.account.id)
    assert result.errors and h.store.get_account(h.account.id).state is AccountState.ERROR
    h.server.clear_faults()
    runner.sync_account(h.account.id)
    assert len(h.remote_items()) == 1
    assert h.store.get_account(h.account.id).state is AccountState.OK


def test_slow_answer_times_out_and_the_next_run_picks_up(h):
    h.add_local()
    runner = SyncRunner(h.services, open_provider=lambda account: h.new_provider(timeout=0.3))
    h.server.fail_next("slow", 3, delay=0.6)
    result = runner.sync_account(h.account.id)
    assert result.errors and "in time" in result.errors[0]
    h.server.clear_faults()
    runner.sync_account(h.account.id)
    assert len(h.remote_items()) == 1


def test_expired_access_token_is_refreshed_mid_sync(h):
    _many(h, 3)
    h.add_local("after expiry")
    h.server.fail_next("expired_token")
    result = h.sync()
    assert not result.errors and len(h.remote_items()) == 4


def test_revoked_sign_in_pauses_the_account_and_deletes_nothing(h):
    _many(h, 3)
    h.server.revoke()
    h.server.expire_access_tokens()
    runner = h.runner()
    result = runner.sync_account(h.account.id)
    account = h.store.get_account(h.account.id)
    assert account.state is AccountState.NEEDS_SIGN_IN and "sign" in result.errors[0].lower()
    assert runner.runnable_accounts() == []
    assert len(h.all_local()) == 3 and len(h.remote_items()) == 3


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
        a = services.store.add_appointment(
            Appointment(
                id=new_id(),
                contents="Through the runner",
                start=clock() + timedelta(days=1),
                end=clock() + timedelta(days=1, hours=1),
            )
        )
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
