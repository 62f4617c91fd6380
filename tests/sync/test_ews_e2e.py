"""End to end: the Sales Calendar (real SQLite) ↔ the strict EWS test server,
through SyncEngine, ExchangeProvider and exchangelib over real HTTP.

Every request the client sends is validated against Microsoft's EWS schema by
the server; a test fails if one does not validate.
"""

from __future__ import annotations

import uuid
from datetime import UTC, timedelta

import pytest

from calsync_desktop.accounts import exchange as exchange_account
from calsync_desktop.accounts import save_account
from calsync_desktop.accounts.base import Account, AccountState
from calsync_desktop.model import (
    Appointment,
    InviteStatus,
    OccurrenceOverride,
    Participant,
    Recurrence,
    new_id,
)
from calsync_desktop.providers.base import Backoff
from calsync_desktop.providers.ews import ConnectionSettings, ExchangeProvider
from calsync_desktop.services import Services
from calsync_desktop.sync.engine import Decision, SyncEngine, SyncResult
from calsync_desktop.sync.runner import SyncRunner
from tests.fakes.ews_server import EwsServer

OWNER = "alice@example.com"


class Crash(BaseException):
    """The process dies here (not an Exception: nothing may catch it)."""


class CrashingExchangeProvider(ExchangeProvider):
    crash_after_write = False

    def write(self, writes):
        results = super().write(writes)
        if self.crash_after_write:
            self.crash_after_write = False
            raise Crash()
        return results


class EwsE2E:
    """A Sales Calendar and the EWS test server, linked by one Exchange account."""

    def __init__(self, services: Services, server: EwsServer, sync_all_private=False):
        self.services = services
        self.store = services.store
        self.clock = services.clock
        self.server = server
        self.waits: list[float] = []
        self.settings: dict = {}
        self.provider = self.new_provider()
        self.account = self.store.add_account(
            Account(
                id=str(uuid.uuid4()),
                kind="exchange",
                name="Exchange",
                email=OWNER,
                sync_all_private=sync_all_private,
            )
        )
        self.decision = Decision.STOP
        self.guards = []

    def new_provider(self, timeout: float = 5.0) -> CrashingExchangeProvider:
        connection = ConnectionSettings(self.server.url, "alice", "secret", OWNER, timeout=timeout)
        return CrashingExchangeProvider(
            connection, settings=self.settings, backoff=Backoff(sleep=self.waits.append)
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

    def runner(self, **kw) -> SyncRunner:
        return SyncRunner(self.services, open_provider=lambda account: self.new_provider(**kw))

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

    # -- remote side
    def remote_ids(self) -> list[str]:
        return [i.id for i in self.server.items()]

    def remote_for(self, local_id):
        row = self.store.status_for(self.account.id, [local_id]).get(local_id)
        if row is None or row.remote_id not in self.server.mailbox.items:
            return None
        return self.provider.get(row.remote_id)

    def add_remote(self, subject="Call with Globex", start=None, hours=1, **kw) -> str:
        start = start or self.clock() + timedelta(days=2)
        return self.server.add_event(subject, start, start + timedelta(hours=hours), **kw)


@pytest.fixture(scope="module")
def module_server():
    server = EwsServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def server(module_server, clock):
    s = module_server
    s.mailbox.__init__(s.mailbox.email, clock=clock)
    s.faults.clear()
    s.password = "secret"
    s.invitations_sent = 0
    yield s
    errors, bugs = list(s.validation_errors), list(s.server_errors)
    s.validation_errors.clear()
    s.server_errors.clear()
    assert not errors, f"requests that failed EWS schema validation: {errors}"
    assert not bugs, f"EWS test server bugs: {bugs}"


@pytest.fixture
def h(services, server):
    harness = EwsE2E(services, server)
    yield harness
    harness.provider.close()


# --------------------------------------------------------------------------- mapping


def test_new_local_appointment_is_created_on_exchange(h):
    a = h.add_local("Demo at Initech\nBring the slides", location="Initech HQ")
    result = h.sync()
    assert result.counts == {"create remotely": 1}
    (item,) = h.server.items()
    assert item.text("Subject") == "Demo at Initech" and item.text("Body") == "Bring the slides"
    assert item.text("Location") == "Initech HQ"
    assert item.props["StartTimeZone"].get("Id") == "W. Europe Standard Time"
    event = h.remote_for(a.id)
    assert event.local_id == a.id and event.start == a.start and event.end == a.end


def test_html_body_is_imported_as_plain_text(h):
    made = h.add_remote(
        "Lunch with Bob",
        body='<p>At <b>Luigi&#39;s</b></p><p><a href="https://luigi.example">menu</a></p>'
        "<script>alert(1)</script>",
        html=True,
        location="Luigi's",
    )
    h.sync()
    a = h.local_for(made)
    assert a.contents.startswith("Lunch with Bob\nAt Luigi's")
    assert "menu (https://luigi.example)" in a.contents and "alert" not in a.contents


def test_round_trip_is_stable_and_nothing_changed_costs_one_request(h):
    a = h.add_local("Quarterly review\nLine one\n\nLine three")
    h.sync()
    h.sync()
    assert h.local(a.id).contents == "Quarterly review\nLine one\n\nLine three"
    before = h.server.count_requests()
    assert h.sync().counts == {}
    assert h.server.count_requests() - before == 1
    assert h.server.log[-1] == "SyncFolderItems"


def test_a_field_changed_on_one_side_goes_to_the_other(h):
    a = h.add_local("Visit")
    h.sync()
    h.edit_local(a.id, location="Building 7")
    event = h.remote_for(a.id)
    later = event.start + timedelta(hours=2)
    h.clock.advance(minutes=1)
    h.server.edit(event.remote_id, start=later, end=later + timedelta(hours=1))
    h.sync()
    assert h.remote_for(a.id).location == "Building 7"
    assert h.local(a.id).start == later == h.remote_for(a.id).start


# ------------------------------------------------------------- participants and invitations


def test_participants_pushed_one_way_and_response_types_come_back(h):
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
    h.server.set_response(event.remote_id, "ann@acme.example", "Accept")
    h.server.set_response(event.remote_id, "BO@acme.example", "Tentative")
    h.sync()
    statuses = {p.key: p.status for p in h.local(a.id).participants if p.key}
    assert statuses == {
        "ann@acme.example": InviteStatus.ACCEPTED,
        "bo@acme.example": InviteStatus.TENTATIVE,
    }
    assert len(h.local(a.id).participants) == 3


def test_remote_attendees_imported_once_name_only_skipped_and_own_address_dropped(h):
    made = h.add_remote(
        "Kick-off",
        attendees=(("Alice", OWNER), ("Carl", "carl@customer.example"), ("Room 5", None)),
    )
    h.sync()
    a = h.local_for(made)
    assert [p.email for p in a.participants] == ["carl@customer.example"]
    assert any("Room 5" in s.reason for s in h.store.skipped(h.account.id))


def test_no_invitations_during_first_sync_and_only_with_the_setting_on(h):
    h.store.set_setting("sync.send_invitations", True)
    h.add_local(participants=(Participant("Ann", "ann@acme.example"),))
    h.sync()
    assert h.server.invitations_sent == 0
    h.add_local("second", participants=(Participant("Bo", "bo@acme.example"),))
    h.sync()
    assert h.server.invitations_sent == 1


def test_no_invitations_with_the_setting_off(h):
    h.add_local("first")
    h.sync()
    h.add_local(participants=(Participant("Ann", "ann@acme.example"),))
    h.sync()
    assert h.server.invitations_sent == 0


# --------------------------------------------------------------------------- recurrence


def test_recurrence_is_pushed_one_way(h):
    a = h.add_local(recurrence=Recurrence("FREQ=WEEKLY;COUNT=10"))
    h.sync()
    event = h.remote_for(a.id)
    assert "FREQ=WEEKLY" in event.recurrence.rrule and "COUNT=10" in event.recurrence.rrule
    h.edit_local(a.id, recurrence=Recurrence("FREQ=WEEKLY;COUNT=4"))
    h.sync()
    assert "COUNT=4" in h.remote_for(a.id).recurrence.rrule


def test_a_pushed_series_settles_nothing_changed_costs_one_request(h):
    a = h.add_local(recurrence=Recurrence("FREQ=WEEKLY;BYDAY=MO,TH;UNTIL=20270301T090000Z"))
    h.sync()
    h.sync()
    before = h.server.count_requests()
    assert h.sync().counts == {}
    assert h.server.count_requests() - before == 1
    assert h.local(a.id).recurrence.rrule == "FREQ=WEEKLY;BYDAY=MO,TH;UNTIL=20270301T090000Z"


def test_exchange_series_is_imported_once_with_its_rule(h):
    start = h.clock() + timedelta(days=2)
    made = h.add_remote(
        "Standup",
        start=start,
        recurrence="<t:DailyRecurrence><t:Interval>1</t:Interval></t:DailyRecurrence>"
        f"<t:NumberedRecurrence><t:StartDate>{start.date().isoformat()}</t:StartDate>"
        "<t:NumberOfOccurrences>5</t:NumberOfOccurrences></t:NumberedRecurrence>",
    )
    h.sync()
    assert h.local_for(made).recurrence.rrule == "FREQ=DAILY;INTERVAL=1;COUNT=5"
    assert len(h.all_local()) == 1


def test_deleted_occurrence_becomes_deleted_occurrence_and_exdate(h):
    a = h.add_local(recurrence=Recurrence("FREQ=DAILY;COUNT=5"))
    h.sync()
    second = a.start + timedelta(days=1)
    h.edit_local(a.id, recurrence=Recurrence("FREQ=DAILY;COUNT=5", exdates=(second,)))
    h.sync()
    assert h.remote_for(a.id).recurrence.exdates == (second,)
    h.clock.advance(minutes=1)
    h.server.delete_occurrence(h.remote_for(a.id).remote_id, 3)
    h.sync()
    assert set(h.local(a.id).recurrence.exdates) == {second, a.start + timedelta(days=2)}


def test_moved_occurrence_becomes_an_override_both_ways(h):
    a = h.add_local(recurrence=Recurrence("FREQ=DAILY;COUNT=5"))
    h.sync()
    original = a.start + timedelta(days=3)
    h.clock.advance(minutes=1)
    h.server.edit_occurrence(
        h.remote_for(a.id).remote_id,
        4,
        subject="Meeting with Acme (moved)",
        location="Cafe",
        start=original + timedelta(hours=3),
        end=original + timedelta(hours=4),
    )
    h.sync()
    (override,) = h.local(a.id).recurrence.overrides
    assert override.original_start == original and override.location == "Cafe"
    assert override.start == original + timedelta(hours=3)
    other = a.start + timedelta(days=1)
    local_move = OccurrenceOverride(other, "Shortened", "", other, other + timedelta(minutes=30))
    h.edit_local(
        a.id, recurrence=Recurrence("FREQ=DAILY;COUNT=5", overrides=(local_move, override))
    )
    h.sync()
    starts = {o.original_start for o in h.remote_for(a.id).recurrence.overrides}
    assert starts == {original, other}


# --------------------------------------------------------------------------- scope


def test_all_day_events_are_not_synced_in_either_direction(h):
    a = h.add_local(all_day=True)
    day = (h.clock() + timedelta(days=3)).replace(hour=0, minute=0)
    made = h.add_remote("Holiday", start=day, hours=24, all_day=True)
    h.sync()
    assert h.remote_for(a.id) is None and h.local_for(made) is None


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
    h.server.delete(h.remote_for(a.id).remote_id)
    h.sync()
    assert h.local(a.id) is not None


# --------------------------------------------------------------------------- identity, conflicts


def test_crash_between_exchange_write_and_local_commit_never_duplicates(h):
    a = h.add_local()
    h.provider.crash_after_write = True
    with pytest.raises(Crash):
        h.sync()
    assert len(h.remote_ids()) == 1
    h.sync()
    assert len(h.remote_ids()) == 1 and h.remote_for(a.id).local_id == a.id


def test_first_sync_links_the_same_events_instead_of_duplicating(h):
    start = h.clock() + timedelta(days=2)
    h.add_remote("Same meeting", start=start)
    h.add_local("Same meeting", start=start)
    h.sync()
    assert len(h.remote_ids()) == 1 and len(h.all_local()) == 1


def test_same_field_changed_on_both_sides_newer_wins_and_loser_is_logged(h):
    a = h.add_local("Visit")
    h.sync()
    h.edit_local(a.id, location="Local room")
    h.clock.advance(minutes=5)
    h.server.edit(h.remote_for(a.id).remote_id, location="Remote room")
    h.sync()
    assert h.local(a.id).location == "Remote room" == h.remote_for(a.id).location
    assert any("Local room" in str(c.__dict__) for c in h.store.conflicts(h.account.id))


def test_stale_change_key_means_fetch_merge_and_retry_never_overwrite(h):
    a = h.add_local("Visit")
    h.sync()
    remote_id = h.remote_for(a.id).remote_id
    h.edit_local(a.id, location="Local room")
    # another client edits between our listing and our write
    original = h.provider.write

    def write_after_someone_else(writes):
        h.server.edit(remote_id, subject="Renamed elsewhere")
        h.provider.write = original
        return original(writes)

    h.provider.write = write_after_someone_else
    h.sync()
    h.sync()
    event = h.remote_for(a.id)
    assert event.subject == "Renamed elsewhere" and event.location == "Local room"


# --------------------------------------------------------------------------- deletions


def test_deleting_on_either_side_deletes_on_the_other(h):
    a = h.add_local("Local one")
    made = h.add_remote("Remote one")
    h.sync()
    h.store.delete_appointment(a.id)
    h.clock.advance(minutes=1)
    h.server.delete(made)
    h.sync()
    assert h.remote_ids() == [] and h.all_local() == []


def test_edited_locally_and_deleted_on_exchange_the_edit_wins(h):
    a = h.add_local("Keep me")
    h.sync()
    # (a second run moves the sync state past our own create; an item created and
    # deleted after a state is, as in Exchange, not reported at all)
    h.sync()
    h.server.delete(h.remote_for(a.id).remote_id)
    h.edit_local(a.id, location="Edited")
    h.sync()
    assert h.local(a.id) is not None and len(h.remote_ids()) == 1


def test_meeting_cancelled_by_its_organiser_is_deleted_locally(h):
    made = h.add_remote("Their meeting", organizer=("Carl", "carl@customer.example"))
    h.sync()
    assert h.local_for(made) is not None
    h.clock.advance(minutes=1)
    h.server.edit(made, cancelled=True)
    h.sync()
    assert h.all_local() == []


def test_mass_deletion_guard_stops_before_deleting(h):
    for i in range(12):
        h.add_local(f"Visit {i}")
    h.sync()
    h.sync()  # the state now includes our own creates (see the edit-wins test)
    for remote_id in h.remote_ids():
        h.server.delete(remote_id)
    result = h.sync()
    assert result.stopped and len(h.all_local()) == 12


# --------------------------------------------------------------------------- private


def test_private_both_ways(h):
    a = h.add_local("Doctor", private=True)
    made = h.add_remote("Secret", sensitivity="Confidential")
    h.sync()
    assert h.server.item(h.remote_for(a.id).remote_id).text("Sensitivity") == "Private"
    assert h.local_for(made).private


def test_sync_all_as_private(services, server):
    h = EwsE2E(services, server, sync_all_private=True)
    made = h.add_remote("Team lunch")
    h.sync()
    assert h.local_for(made).private
    assert h.server.item(made).text("Sensitivity") == "Normal"


# --------------------------------------------------------------------------- incremental and faults


def test_invalid_sync_state_resyncs_without_duplicates(h):
    h.add_local("One")
    h.add_remote("Two")
    h.sync()
    h.server.expire_sync_state()
    h.add_remote("Three")
    h.sync()
    assert len(h.remote_ids()) == 3 and len(h.all_local()) == 3


@pytest.mark.parametrize(("kind", "wait"), [("server_busy", 3.0), ("server_error", None)])
def test_busy_and_503_are_retried(h, kind, wait):
    h.provider.list_calendars()  # first contact done; the faults hit sync calls
    h.add_local()
    h.server.fail_next(kind, 2, back_off_ms=3000)
    h.sync()
    assert len(h.remote_ids()) == 1 and len(h.waits) == 2
    if wait:
        assert min(h.waits) >= wait


@pytest.mark.parametrize("kind", ["drop", "malformed"])
def test_a_broken_answer_ends_the_run_and_the_next_run_picks_up(h, kind):
    h.add_local()
    h.provider.list_calendars()
    runner = SyncRunner(h.services, open_provider=lambda account: h.provider)
    h.server.fail_next(kind, 1)
    result = runner.sync_account(h.account.id)
    assert result.errors and h.store.get_account(h.account.id).state is AccountState.ERROR
    h.server.faults.clear()
    h.provider = h.new_provider()
    runner = h.runner()
    runner.sync_account(h.account.id)
    assert len(h.remote_ids()) == 1
    assert h.store.get_account(h.account.id).state is AccountState.OK


def test_slow_answer_times_out_and_the_next_run_picks_up(h):
    h.add_local()
    runner = h.runner(timeout=0.3)
    h.server.fail_next("slow", 6, delay=0.6)
    result = runner.sync_account(h.account.id)
    assert result.errors and "in time" in result.errors[0]
    h.server.faults.clear()
    runner.sync_account(h.account.id)
    assert len(h.remote_ids()) == 1


def test_password_changed_on_the_server_pauses_the_account_and_deletes_nothing(h):
    for i in range(3):
        h.add_local(f"Visit {i}")
    h.sync()
    h.server.set_password("changed")
    runner = h.runner()
    result = runner.sync_account(h.account.id)
    account = h.store.get_account(h.account.id)
    assert account.state is AccountState.NEEDS_SIGN_IN and result.errors
    assert runner.runnable_accounts() == []
    assert len(h.all_local()) == 3 and len(h.remote_ids()) == 3


def test_saved_exchange_account_syncs_through_its_account_module(services, server):
    pending = exchange_account.validate(services, server.url, "alice", "secret", email=OWNER)
    account = save_account(services, pending)
    assert services.secrets.get(account.id, "password") == "secret"
    assert "secret" not in str(services.store.get_account(account.id).settings)
    a = services.store.add_appointment(
        Appointment(
            id=new_id(),
            contents="Through the runner",
            start=services.clock() + timedelta(days=1),
            end=services.clock() + timedelta(days=1, hours=1),
        )
    )
    before = server.count_requests()
    result = SyncRunner(services).sync_account(account.id)
    assert not result.errors
    assert [i.text("Subject") for i in server.items()] == ["Through the runner"]
    assert a.start.astimezone(UTC) == server.items()[0].start
    # stored auth type and version: no guessing requests on later runs
    assert "ConvertId" not in server.log[-(server.count_requests() - before) :]


def test_own_create_deleted_in_outlook_before_the_next_sync_is_deleted_locally(h):
    a = h.add_local("Pushed, then deleted in Outlook")
    h.sync()
    h.server.delete(h.remote_for(a.id).remote_id)
    h.sync()
    assert h.local(a.id) is None
