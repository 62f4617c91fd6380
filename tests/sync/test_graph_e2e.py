"""End to end: the Sales Calendar (real SQLite) ↔ the Graph test server, through
SyncEngine, GraphProvider and MSAL over real HTTPS.

One test (at least) per rule of SPEC §4 and §5 as Office 365 sees it, and one per
fault the test server can inject.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from calsync_desktop.accounts import office365
from calsync_desktop.accounts.base import Account, AccountState, MemorySecrets
from calsync_desktop.accounts.office365 import MsalSession
from calsync_desktop.model import (
    Appointment,
    InviteStatus,
    OccurrenceOverride,
    Participant,
    Recurrence,
    new_id,
)
from calsync_desktop.providers.base import Backoff
from calsync_desktop.providers.graph import LOCAL_ID_PROPERTY, GraphProvider, to_remote_event
from calsync_desktop.services import Services
from calsync_desktop.sync.engine import Decision, SyncEngine, SyncResult
from calsync_desktop.sync.runner import SyncRunner
from tests.fakes.graph_server import GraphError, GraphServer
from tests.providers.test_graph_provider import device_code_sign_in, env_for, session_config

OWNER = "sam@contoso.example"  # the test server's signed-in user
_FULL = (
    "$select=id,changeKey,subject,body,start,end,originalStartTimeZone,location,isAllDay,"
    "sensitivity,attendees,recurrence,type,iCalUId,lastModifiedDateTime,isOrganizer,"
    "isCancelled,cancelledOccurrences&$expand=exceptionOccurrences,"
    f"singleValueExtendedProperties($filter=id eq '{LOCAL_ID_PROPERTY}')"
)


class Crash(BaseException):
    """The process dies here (not an Exception: nothing may catch it)."""


class CrashingGraphProvider(GraphProvider):
    crash_after_write = False

    def write(self, writes):
        results = super().write(writes)
        if self.crash_after_write:
            self.crash_after_write = False
            raise Crash()
        return results


def _t(value: datetime) -> dict:
    return {"dateTime": value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"}


class GraphE2E:
    """A Sales Calendar and the Graph test server, linked by one Office 365 account."""

    def __init__(self, services: Services, server: GraphServer, sync_all_private=False):
        self.services = services
        self.store = services.store
        self.clock = services.clock
        self.server = server
        self.waits: list[float] = []
        self.backoff = Backoff(sleep=self.waits.append)
        self.session = MsalSession(session_config(server), device_code_sign_in(server))
        self.provider = self.new_provider()
        self.account = self.store.add_account(
            Account(
                id=str(uuid.uuid4()),
                kind="office365",
                name="Office 365",
                email=OWNER,
                sync_all_private=sync_all_private,
            )
        )
        self.decision = Decision.STOP
        self.guards = []

    def new_provider(self, timeout: float = 5) -> CrashingGraphProvider:
        return CrashingGraphProvider(
            self.session.token,
            endpoint=self.server.graph_url,
            ca_bundle=str(self.server.ca_bundle),
            backoff=self.backoff,
            timeout=timeout,
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

    def runner(self, timeout: float = 5) -> SyncRunner:
        return SyncRunner(self.services, open_provider=lambda account: self.new_provider(timeout))

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

    # -- remote side (read straight from the server's state, no HTTP)
    def remote_items(self) -> list[dict]:
        return self.server.events()

    def remote(self, remote_id):
        try:
            item = self.server.graph("GET", f"/me/events/{remote_id}?{_FULL}", {}, None)[2]
        except GraphError:  # the server's 404
            return None
        return to_remote_event(item)

    def remote_id_for(self, local_id) -> str | None:
        row = self.store.status_for(self.account.id, [local_id]).get(local_id)
        if row is not None:
            return row.remote_id
        for item in self.remote_items():
            if (item.get("singleValueExtendedProperties") or [{}])[0].get("value") == local_id:
                return item["id"]
        return None

    def remote_for(self, local_id):
        remote_id = self.remote_id_for(local_id)
        return self.remote(remote_id) if remote_id else None

    def occurrences(self, master_id) -> list[dict]:
        items = self.server.graph(
            "GET",
            f"/me/events/{master_id}/instances?startDateTime=2000-01-01T00:00:00Z"
            "&endDateTime=2100-01-01T00:00:00Z&$top=1000",
            {},
            None,
        )[2]["value"]
        return sorted(items, key=lambda i: i["originalStart"])

    def occurrence_at(self, master_id, original: datetime) -> str:
        for item in self.occurrences(master_id):
            if datetime.fromisoformat(item["originalStart"].replace("Z", "+00:00")) == original:
                return item["id"]
        raise KeyError(original)

    def add_remote(self, subject="Call with Globex", start=None, hours=1, **extra) -> str:
        start = start or self.clock() + timedelta(days=2)
        return self.server.add_event(
            subject=subject, start=_t(start), end=_t(start + timedelta(hours=hours)), **extra
        )

    def edit_remote(self, remote_id, **patch) -> dict:
        return self.server.edit_event(remote_id, **patch)

    def at(self, days: float, hour: int = 10):
        return (self.clock() + timedelta(days=days)).replace(hour=hour, minute=0)


@pytest.fixture
def server(clock):
    s = GraphServer(clock=clock).start()
    yield s
    s.stop()


@pytest.fixture
def h(services, server):
    harness = GraphE2E(services, server)
    yield harness
    harness.provider.close()


# --------------------------------------------------------------------------- basics and mapping


def test_new_local_appointment_is_created_on_office365(h):
    a = h.add_local("Demo at Initech\nBring the slides", location="Initech HQ")
    result = h.sync()
    assert result.counts == {"create remotely": 1}
    (item,) = h.remote_items()
    assert item["subject"] == "Demo at Initech"
    assert item["body"] == {"contentType": "text", "content": "Bring the slides"}
    assert item["location"]["displayName"] == "Initech HQ"
    assert item["originalStartTimeZone"] == "Europe/Berlin"
    assert item["singleValueExtendedProperties"] == [{"id": LOCAL_ID_PROPERTY, "value": a.id}]
    assert item["sensitivity"] == "normal" and item["isAllDay"] is False
    event = h.remote_for(a.id)
    assert event.start == a.start and event.end == a.end


def test_new_office365_event_is_imported_with_html_as_plain_text(h):
    made = h.add_remote(
        "Lunch with Bob",
        body={
            "contentType": "html",
            "content": '<html><body><p>At <b>Luigi&#39;s</b></p><p><a href="https://luigi.example">'
            "menu</a></p><script>alert(1)</script></body></html>",
        },
        location={"displayName": "Luigi's"},
    )
    h.sync()
    a = h.local_for(made)
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


def test_long_first_line_is_cut_to_255_for_the_subject(h):
    a = h.add_local("x" * 300 + "\nbody")
    h.sync()
    assert len(h.remote_for(a.id).subject) == 255
    h.sync()
    assert h.local(a.id).contents.startswith("x" * 300)


def test_a_field_changed_on_one_side_goes_to_the_other(h):
    a = h.add_local("Visit")
    h.sync()
    h.edit_local(a.id, location="Building 7")
    event = h.remote_for(a.id)
    later = event.start + timedelta(hours=2)
    h.clock.advance(minutes=1)
    h.edit_remote(event.remote_id, start=_t(later), end=_t(later + timedelta(hours=1)))
    h.sync()
    assert h.remote_for(a.id).location == "Building 7"
    assert h.local(a.id).start == later == h.remote_for(a.id).start


def test_dst_wall_time_is_kept_for_a_series(h):
    # weekly at 09:00 Berlin across the last Sunday of March (CET → CEST)
    start = h.clock().replace(year=2027, month=3, day=15, hour=8)  # 09:00 CET
    h.clock.now = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
    a = h.add_local(start=start, recurrence=Recurrence("FREQ=WEEKLY;COUNT=4"))
    h.sync()
    berlin = ZoneInfo("Europe/Berlin")
    starts = [
        datetime.fromisoformat(i["start"]["dateTime"][:19]).replace(tzinfo=UTC)
        for i in h.occurrences(h.remote_id_for(a.id))
    ]
    assert [s.astimezone(berlin).hour for s in starts] == [9, 9, 9, 9]
    assert [s.hour for s in starts] == [8, 8, 7, 7]


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
    h.clock.advance(minutes=1)
    h.server.set_response(event.remote_id, "ann@acme.example", "accepted")
    h.server.set_response(event.remote_id, "BO@acme.example", "tentativelyAccepted")
    attendees = h.server.event(event.remote_id)["attendees"] + [
        {"emailAddress": {"address": "eve@elsewhere.example", "name": "Eve"}}
    ]
    h.edit_remote(event.remote_id, attendees=attendees)
    h.sync()
    statuses = {p.key: p.status for p in h.local(a.id).participants if p.key}
    assert statuses == {
        "ann@acme.example": InviteStatus.ACCEPTED,
        "bo@acme.example": InviteStatus.TENTATIVE,
    }
    assert len(h.local(a.id).participants) == 3  # eve is not applied back; No Mail stays


def test_office365_attendees_are_imported_once_and_own_address_is_not_a_participant(h):
    made = h.add_remote(
        "Kick-off",
        attendees=[
            {"emailAddress": {"address": OWNER, "name": "Sam"}},
            {"emailAddress": {"address": "carl@customer.example", "name": "Carl"}},
        ],
    )
    h.sync()
    a = h.local_for(made)
    assert [p.email for p in a.participants] == ["carl@customer.example"]
    h.clock.advance(minutes=1)
    h.edit_remote(
        made,
        attendees=h.server.event(made)["attendees"]
        + [{"emailAddress": {"address": "dora@customer.example"}}],
    )
    h.sync()
    assert [p.email for p in h.local(a.id).participants] == ["carl@customer.example"]


def test_remote_changes_and_first_sync_links_never_mail(h):
    """What calsync can control: linking and pulling send nothing."""
    h.store.set_setting("sync.send_invitations", True)
    start = h.at(3)
    made = h.add_remote(
        "Board meeting",
        start=start,
        attendees=[{"emailAddress": {"address": "ann@acme.example"}}],
    )
    h.add_local(
        "Board meeting", start=start, participants=(Participant("Ann", "ann@acme.example"),)
    )
    mails = len(h.server.mails)
    h.sync()  # first sync: links, pushes nothing
    assert len(h.server.mails) == mails and len(h.remote_items()) == 1
    h.clock.advance(minutes=1)
    h.edit_remote(made, location={"displayName": "Changed in Outlook"})
    mails = len(h.server.mails)
    h.sync()
    h.sync()
    assert len(h.server.mails) == mails  # remote changes never mail


def test_graph_mails_new_attendees_whatever_the_setting(h):
    """The documented limitation: Graph has no way to add attendees without
    inviting them, so an appointment pushed with participants is mailed even
    with Settings › "Send invitations" off. A change that does not touch the
    participants, time or place mails nobody."""
    h.add_local("first")
    h.sync()
    a = h.add_local(participants=(Participant("Ann", "ann@acme.example"),))
    h.sync()
    remote_id = h.remote_id_for(a.id)
    assert [m["kind"] for m in h.server.mails if m["event"] == remote_id] == ["invitation"]
    h.edit_local(a.id, contents="Meeting with Acme\nnew agenda")
    h.sync()
    assert [m["kind"] for m in h.server.mails if m["event"] == remote_id] == ["invitation"]


# --------------------------------------------------------------------------- recurrence


def test_recurrence_is_pushed_one_way(h):
    a = h.add_local(recurrence=Recurrence("FREQ=WEEKLY;COUNT=10"))
    h.sync()
    event = h.remote_for(a.id)
    assert event.recurrence.rrule.startswith("FREQ=WEEKLY;BYDAY=")
    assert event.recurrence.rrule.endswith("COUNT=10")
    assert h.server.event(event.remote_id)["recurrence"]["range"]["numberOfOccurrences"] == 10
    h.clock.advance(minutes=1)
    rec = dict(h.server.event(event.remote_id)["recurrence"])
    rec["range"] = {**rec["range"], "numberOfOccurrences": 3}
    h.edit_remote(event.remote_id, recurrence=rec)
    h.sync()
    assert h.local(a.id).recurrence.rrule == "FREQ=WEEKLY;COUNT=10"
    h.edit_local(a.id, recurrence=Recurrence("FREQ=WEEKLY;COUNT=4"))
    h.sync()
    assert h.server.event(event.remote_id)["recurrence"]["range"]["numberOfOccurrences"] == 4


def test_outlook_series_is_imported_once_with_its_rule(h):
    start = h.at(2, 9)
    made = h.add_remote(
        "Standup",
        start=start,
        recurrence={
            "pattern": {"type": "daily", "interval": 1},
            "range": {
                "type": "numbered",
                "numberOfOccurrences": 5,
                "startDate": start.date().isoformat(),
                "recurrenceTimeZone": "UTC",
            },
        },
    )
    h.sync()
    assert h.local_for(made).recurrence.rrule == "FREQ=DAILY;COUNT=5"
    assert len(h.all_local()) == 1


def test_deleted_occurrence_becomes_an_exdate_both_ways(h):
    a = h.add_local(recurrence=Recurrence("FREQ=DAILY;COUNT=5"))
    h.sync()
    second = a.start + timedelta(days=1)
    h.edit_local(a.id, recurrence=Recurrence("FREQ=DAILY;COUNT=5", exdates=(second,)))
    h.sync()
    master = h.remote_id_for(a.id)
    assert h.remote(master).recurrence.exdates == (second,)
    assert len(h.occurrences(master)) == 4
    third = a.start + timedelta(days=2)
    h.clock.advance(minutes=1)
    h.server.delete_event(h.occurrence_at(master, third))
    h.sync()
    assert set(h.local(a.id).recurrence.exdates) == {second, third}


def test_moved_occurrence_becomes_an_override_both_ways(h):
    a = h.add_local(recurrence=Recurrence("FREQ=DAILY;COUNT=5"))
    h.sync()
    master = h.remote_id_for(a.id)
    original = a.start + timedelta(days=3)
    h.clock.advance(minutes=1)
    h.edit_remote(
        h.occurrence_at(master, original),
        subject="Meeting with Acme (moved)",
        location={"displayName": "Cafe"},
        start=_t(original + timedelta(hours=3)),
        end=_t(original + timedelta(hours=4)),
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
    assert set(h.remote(master).recurrence.overrides) == {moved, local_move}
    exceptions = [i for i in h.occurrences(master) if i["type"] == "exception"]
    assert sorted(i["subject"] for i in exceptions) == ["Meeting with Acme (moved)", "Shortened"]


# --------------------------------------------------------------------------- scope


def test_all_day_events_are_not_synced_in_either_direction(h):
    a = h.add_local(all_day=True)
    day = (h.clock() + timedelta(days=3)).date()
    made = h.server.add_event(
        subject="Holiday",
        isAllDay=True,
        start={"dateTime": f"{day}T00:00:00", "timeZone": "UTC"},
        end={"dateTime": f"{day + timedelta(days=1)}T00:00:00", "timeZone": "UTC"},
    )
    h.sync()
    assert h.remote_for(a.id) is None and h.local_for(made) is None
    assert len(h.remote_items()) == 1


def test_older_than_30_days_and_beyond_the_horizon_are_out_of_scope(h):
    old_local = h.add_local(start=h.clock() - timedelta(days=31))
    old_remote = h.add_remote(start=h.clock() - timedelta(days=31))
    far = h.add_local(start=h.clock() + timedelta(days=800))
    recent = h.add_local(start=h.clock() - timedelta(days=29))
    h.sync()
    assert h.remote_for(old_local.id) is None and h.local_for(old_remote) is None
    assert h.remote_for(far.id) is None and h.remote_for(recent.id) is not None


def test_leaving_scope_by_age_is_never_a_deletion(h):
    a = h.add_local()
    h.sync()
    h.clock.advance(days=40)
    h.server.delete_event(h.remote_id_for(a.id))
    h.sync()
    assert h.local(a.id) is not None


# --------------------------------------------------------------------------- identity


def test_crash_between_office365_write_and_local_commit_never_duplicates(h):
    a = h.add_local()
    h.provider.crash_after_write = True
    with pytest.raises(Crash):
        h.sync()
    assert len(h.remote_items()) == 1
    h.sync()
    assert len(h.remote_items()) == 1 and len(h.all_local()) == 1
    (item,) = h.remote_items()
    assert h.store.status_for(h.account.id, [a.id])[a.id].remote_id == item["id"]


def test_first_sync_links_the_same_events_instead_of_duplicating(h):
    start = h.at(3)
    a = h.add_local("Board meeting\nnotes", start=start)
    made = h.add_remote("Board meeting", start=start)
    h.sync()
    assert len(h.remote_items()) == 1 and len(h.all_local()) == 1
    assert h.local_for(made).id == a.id


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
    h.edit_remote(h.remote_id_for(a.id), location={"displayName": "Remote room"})
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
    h.edit_remote(h.remote_id_for(a.id), subject="Renamed elsewhere")
    engine.apply(plan, SyncResult())
    event = h.remote_for(a.id)
    assert event.subject == "Renamed elsewhere" and event.location == "Local room"
    h.sync()
    assert h.local(a.id).contents == "Renamed elsewhere"


# --------------------------------------------------------------------------- deletions


def test_deleting_locally_deletes_on_office365(h):
    a = h.add_local()
    h.sync()
    h.store.delete_appointment(a.id)
    h.sync()
    assert h.remote_items() == [] and h.store.tombstones(h.account.id) == []


def test_deleting_on_office365_deletes_locally(h):
    a = h.add_local()
    h.sync()
    h.server.delete_event(h.remote_id_for(a.id))
    h.sync()
    assert h.local(a.id) is None


def test_edited_locally_and_deleted_on_office365_the_edit_wins(h):
    a = h.add_local()
    h.sync()
    h.server.delete_event(h.remote_id_for(a.id))
    h.edit_local(a.id, contents="Still on")
    h.sync()
    assert h.remote_for(a.id).subject == "Still on" and len(h.remote_items()) == 1


def test_edited_on_office365_and_deleted_locally_the_edit_wins(h):
    a = h.add_local()
    h.sync()
    h.edit_remote(h.remote_id_for(a.id), subject="Still on")
    h.store.delete_appointment(a.id)
    h.sync()
    assert h.local(a.id).contents == "Still on"


def test_meeting_cancelled_by_its_organiser_is_deleted_locally(h):
    made = h.add_remote("Their meeting", organizer="boss@other.example")
    h.sync()
    local = h.local_for(made)
    assert local is not None
    h.clock.advance(minutes=1)
    h.server.cancel_meeting(made)
    h.sync()
    assert h.local(local.id) is None


def _many(h, n):
    items = [h.add_local(f"Visit {i}", start=h.at(1 + i % 20, 8 + i % 9)) for i in range(n)]
    h.sync()
    return items


def test_mass_deletion_guard_stops_then_restore_brings_them_back(h):
    items = _many(h, 40)
    for a in items[:15]:
        h.server.delete_event(h.remote_id_for(a.id))
    result = h.sync()
    assert result.stopped and len(h.guards[0].local_deletions) == 15
    assert len(h.all_local()) == 40
    h.decision = Decision.RESTORE
    h.sync()
    assert len(h.remote_items()) == 40 and len(h.all_local()) == 40


# --------------------------------------------------------------------------- privacy


def test_private_both_ways(h):
    made = h.add_remote("Doctor", sensitivity="private")
    confidential = h.add_remote("Lawyer", sensitivity="confidential")
    personal = h.add_remote("Gym", sensitivity="personal")
    a = h.add_local("Dentist", private=True)
    h.sync()
    assert h.local_for(made).private and h.local_for(confidential).private
    assert not h.local_for(personal).private
    assert h.server.event(h.remote_id_for(a.id))["sensitivity"] == "private"
    h.edit_local(a.id, private=False)
    h.sync()
    assert h.server.event(h.remote_id_for(a.id))["sensitivity"] == "normal"


def test_sync_all_as_private(services, server):
    h = GraphE2E(services, server, sync_all_private=True)
    made = h.add_remote("Team lunch")
    h.sync()
    assert h.local_for(made).private
    assert h.server.event(made)["sensitivity"] == "normal"


# --------------------------------------------------------------------------- incremental and faults


def test_expired_delta_link_resyncs_without_duplicates(h):
    h.add_local("One")
    h.add_remote("Two")
    h.sync()
    h.server.expire_delta_tokens()
    h.add_remote("Three")
    result = h.sync()
    assert result.full_listing
    assert len(h.remote_items()) == 3 and len(h.all_local()) == 3


@pytest.mark.parametrize(
    ("kind", "retry_after", "expected_wait"),
    [("rate_limit", 5, 5.0), ("server_busy", 2, 2.0), ("server_error", 1, None)],
)
def test_rate_limits_and_server_errors_are_retried(h, kind, retry_after, expected_wait):
    h.add_local()
    h.provider.account_email()
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
    h.server.fail_next("rate_limit", 1, retry_after=4, path="$batch")
    h.sync()
    assert len(h.remote_items()) == 4 and h.waits == [4.0]


def test_throttled_batch_members_are_retried(h):
    for _ in range(3):
        h.add_local()
    h.server.fail_next("rate_limit", 2, retry_after=3, path="$batch/item")
    result = h.sync()
    assert not result.errors and len(h.remote_items()) == 3 and h.waits == [3.0]


@pytest.mark.parametrize("kind", ["drop", "malformed"])
def test_a_broken_answer_ends_the_run_and_the_next_run_picks_up(h, kind):
    h.add_local()
    runner = h.runner()
    h.provider.account_email()
    h.server.fail_next(kind, 3)
    result = runner.sync_account(h.account.id)
    assert result.errors and h.store.get_account(h.account.id).state is AccountState.ERROR
    h.server.clear_faults()
    runner.sync_account(h.account.id)
    assert len(h.remote_items()) == 1
    assert h.store.get_account(h.account.id).state is AccountState.OK


def test_slow_answer_times_out_and_the_next_run_picks_up(h):
    h.add_local()
    h.provider.account_email()
    runner = h.runner(timeout=0.3)
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
    h.server.expire_access_tokens()
    h.add_local("after real expiry")
    assert not h.sync().errors and len(h.remote_items()) == 5


def test_revoked_sign_in_pauses_the_account_and_deletes_nothing(h):
    _many(h, 3)
    h.server.revoke_consent()
    runner = h.runner()
    result = runner.sync_account(h.account.id)
    account = h.store.get_account(h.account.id)
    assert account.state is AccountState.NEEDS_SIGN_IN and "sign" in result.errors[0].lower()
    assert runner.runnable_accounts() == []
    assert len(h.all_local()) == 3 and len(h.remote_items()) == 3


def test_saved_office365_account_syncs_through_its_account_module(tmp_path, clock, server):
    """The runner's own path: account kind module, token cache from the secret store,
    endpoints from the environment."""
    services = Services.create(
        home=tmp_path / "home", secrets=MemorySecrets(), env=env_for(server), clock=clock
    )
    try:
        pending = office365.PendingOffice365Account(
            services, OWNER, {}, device_code_sign_in(server)
        )
        account = pending.save("o1")
        a = services.store.add_appointment(
            Appointment(
                id=new_id(),
                contents="Through the runner",
                start=clock() + timedelta(days=1),
                end=clock() + timedelta(days=1, hours=1),
            )
        )
        first = services.secrets.get("o1", "token_cache")
        server.expire_access_tokens()
        result = SyncRunner(services).sync_account(account.id)
        assert not result.errors
        (item,) = server.events()
        assert item["subject"] == "Through the runner"
        assert item["singleValueExtendedProperties"][0]["value"] == a.id
        assert services.secrets.get("o1", "token_cache") != first  # refreshed, saved back
    finally:
        services.store.close()
