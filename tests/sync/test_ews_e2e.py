"""End to end: the Sales Calendar (real SQLite) ↔ the strict EWS test server,
through SyncEngine, ExchangeProvider and exchangelib over real HTTP.

Every request the client sends is validated against Microsoft's EWS schema by
the server; a test fails if one does not validate. The rules every service keeps
run from :class:`EndToEndContract`; this module adds what is particular to
Exchange (SendToNone, change keys, basic auth, schema validation).
"""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
from exchangelib import DELEGATE, Account, Configuration, Credentials, EWSDateTime, EWSTimeZone
from exchangelib.items import CalendarItem

from calsync_desktop.accounts import exchange as exchange_account
from calsync_desktop.accounts import save_account
from calsync_desktop.accounts.base import AccountState
from calsync_desktop.model import Participant, Recurrence
from calsync_desktop.providers.ews import ConnectionSettings, ExchangeProvider
from calsync_desktop.sync.runner import SyncRunner
from tests.fakes.ews_fixtures import ews_server_fixtures
from tests.fakes.ews_server import EwsServer

from .e2e_contract import E2EHarness, EndToEndContract, add_tomorrow, e2e_fixtures
from .e2e_series import SeriesContract
from .harness import CrashAfterWrite

OWNER = "alice@example.com"


class CrashingExchangeProvider(CrashAfterWrite, ExchangeProvider):
    """ExchangeProvider whose next write can be followed by a crash."""


class EwsE2E(E2EHarness):
    """A Sales Calendar and the EWS test server, linked by one Exchange account."""

    kind, name = "exchange", "Exchange"
    slow_faults = 6  # exchangelib retries a timed-out request more often than the others
    start_field, end_field = "Start", "End"

    def connect(self) -> None:
        self.settings: dict = {}

    def new_provider(self, timeout: float = 5.0, backoff=None) -> CrashingExchangeProvider:
        connection = ConnectionSettings(self.server.url, "alice", "secret", OWNER, timeout=timeout)
        return CrashingExchangeProvider(
            connection, settings=self.settings, backoff=backoff or self.backoff
        )

    def warm_up(self) -> None:
        self.provider.list_calendars()


server_module, server = ews_server_fixtures("server", clock=True)
make_harness, h = e2e_fixtures(EwsE2E)


class TestExchangeSeries(SeriesContract):
    """Cancelled occurrences and splits, as Exchange keeps them (an exception with
    IsCancelled; the old range ended and a new RecurringMaster)."""


class TestExchangeRules(EndToEndContract):
    """The shared rules against the EWS test server, with Exchange's own checks added."""

    # Exchange has no 429: "rate_limit" and "server_busy" are both ErrorServerBusy
    # with BackOffMilliseconds; "server_error" is an HTTP 503 (no wait named)
    retry_cases = (
        ("rate_limit", 5, 5.0),
        ("server_busy", 3, 3.0),
        ("server_error", 3, None),
    )

    # Exchange signs in with a password (basic/NTLM): there is no access token to
    # refresh, and a 401 means the password changed; that case is
    # test_revoked_sign_in_pauses_the_account_and_deletes_nothing (revoke_sign_in).
    test_expired_access_token_is_refreshed_mid_sync = None

    def test_contents_round_trip_is_stable_and_nothing_changed_costs_one_request(self, h):
        super().test_contents_round_trip_is_stable_and_nothing_changed_costs_one_request(h)
        assert h.server.log[-1] == "SyncFolderItems"


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


# ------------------------------------------------------------- participants and invitations


def test_remote_attendees_imported_once_name_only_skipped_and_own_address_dropped(h):
    start = h.clock() + timedelta(days=2)
    made = h.server.add_event(  # Exchange's own form: an attendee may have a name only
        "Kick-off",
        start,
        start + timedelta(hours=1),
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
    assert h.server.invitations_sent() == 0
    h.add_local("second", participants=(Participant("Bo", "bo@acme.example"),))
    h.sync()
    assert h.server.invitations_sent() == 1


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
    made = h.server.add_event(
        "Standup",
        start,
        start + timedelta(hours=1),
        recurrence="<t:DailyRecurrence><t:Interval>1</t:Interval></t:DailyRecurrence>"
        f"<t:NumberedRecurrence><t:StartDate>{start.date().isoformat()}</t:StartDate>"
        "<t:NumberOfOccurrences>5</t:NumberOfOccurrences></t:NumberedRecurrence>",
    )
    h.sync()
    assert h.local_for(made).recurrence.rrule == "FREQ=DAILY;INTERVAL=1;COUNT=5"
    assert len(h.all_local()) == 1


# --------------------------------------------------------------------------- conflicts


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


# --------------------------------------------------------------------------- incremental and faults


@pytest.mark.parametrize("kind", ["drop", "malformed"])
def test_a_broken_answer_ends_the_run_and_the_next_run_picks_up(h, kind):
    """Exchange's variant of the contract test: the fault hits a provider that has
    already connected (version and auth known), and the next run opens a new one."""
    h.add_local()
    h.provider.list_calendars()
    runner = SyncRunner(h.services, open_provider=lambda account: h.provider)
    h.server.fail_next(kind, 1)
    result = runner.sync_account(h.account.id)
    assert result.errors and h.store.get_account(h.account.id).state is AccountState.ERROR
    h.server.clear_faults()
    h.provider = h.new_provider()
    runner = h.runner()
    runner.sync_account(h.account.id)
    assert len(h.server.event_ids()) == 1
    assert h.store.get_account(h.account.id).state is AccountState.OK


def test_saved_exchange_account_syncs_through_its_account_module(services, server):
    pending = exchange_account.validate(services, server.url, "alice", "secret", email=OWNER)
    account = save_account(services, pending)
    assert services.secrets.get(account.id, "password") == "secret"
    assert "secret" not in str(services.store.get_account(account.id).settings)
    a = add_tomorrow(services)
    before = server.count_requests()
    result = SyncRunner(services).sync_account(account.id)
    assert not result.errors
    assert [i.text("Subject") for i in server.items()] == ["Through the runner"]
    assert a.start.astimezone(UTC) == server.items()[0].start
    # stored auth type and version: no guessing requests on later runs
    assert "ConvertId" not in server.log[-(server.count_requests() - before) :]


# --------------------------------------------------------------------------- Exchange's limits


def _outlook(server: EwsServer) -> Account:
    """Another Exchange client (exchangelib as Outlook would set things) on the same mailbox."""
    config = Configuration(
        service_endpoint=server.url,
        credentials=Credentials("alice", "secret"),
        auth_type="basic",
    )
    return Account(
        primary_smtp_address=OWNER,
        config=config,
        autodiscover=False,
        access_type=DELEGATE,
        default_timezone=EWSTimeZone("UTC"),
    )


@pytest.mark.parametrize(
    ("first", "rest"),
    [("x" * 256, ""), ("y" * 300, "bring samples"), ("Z" * 200 + " ü " * 200, "a\n\nb")],
    ids=["one-over", "with-body", "non-ascii"],
)
def test_a_first_line_longer_than_a_subject_keeps_255_on_exchange_and_the_rest_in_the_body(
    h, first, rest
):
    contents = first + ("\n" + rest if rest else "")
    a = h.add_local(contents)
    h.sync()
    (item,) = h.server.items()
    assert item.text("Subject") == first[:255]  # all Exchange keeps of a subject
    assert item.text("Body") == first[255:] + ("\n" + rest if rest else "")
    h.sync()  # what Exchange holds reads back as the same contents
    assert h.local(a.id).contents == contents
    before = h.server.count_requests()
    assert h.sync().counts == {}  # nothing loops
    assert h.server.count_requests() - before == 1
    h.edit_local(a.id, contents=first[:255] + "more" + first[259:] + "\nnew body")
    h.sync()
    (item,) = h.server.items()
    assert item.text("Subject") == first[:255]
    assert item.text("Body") == "more" + first[259:] + "\nnew body"
    assert h.sync().counts == {}  # our own write read back: nothing to write
    before = h.server.count_requests()
    assert h.sync().counts == {}
    assert h.server.count_requests() - before == 1


def test_an_appointment_made_elsewhere_with_false_booleans_imports_as_a_timed_appointment(h):
    outlook = _outlook(h.server)
    start = h.clock() + timedelta(days=2)
    made = CalendarItem(
        account=outlook,
        folder=outlook.calendar,
        subject="Visit",
        body="agenda",
        start=EWSDateTime.from_datetime(start.astimezone(UTC)),
        end=EWSDateTime.from_datetime((start + timedelta(hours=1)).astimezone(UTC)),
        is_all_day=False,
        reminder_is_set=False,
        is_response_requested=False,
        allow_new_time_proposal=False,
        sensitivity="Private",
    ).save()
    h.sync()
    a = h.local_for(made.id)
    assert a is not None and a.contents == "Visit\nagenda" and a.private and not a.all_day
    before = h.server.count_requests()
    assert h.sync().counts == {}
    assert h.server.count_requests() - before == 1


def test_booleans_set_elsewhere_survive_the_products_writes(h):
    a = h.add_local("Visit\nagenda", location="Room 2")
    h.sync()
    outlook = _outlook(h.server)
    item = outlook.calendar.get(id=h.remote_id_for(a.id))
    # false as exchangelib writes it on create; true as Exchange answers when unset
    assert (item.is_all_day, item.reminder_is_set, item.is_response_requested) == (
        False,
        False,
        True,
    )
    item.reminder_is_set = True
    item.is_response_requested = False
    item.allow_new_time_proposal = False
    item.save(update_fields=["reminder_is_set", "is_response_requested", "allow_new_time_proposal"])
    h.clock.advance(minutes=1)
    later = a.start + timedelta(hours=2)
    h.edit_local(
        a.id, contents="Visit (moved)\nagenda", start=later, end=later + timedelta(hours=1)
    )
    h.edit_local(a.id, location="Room 7", private=True)
    h.sync()
    item.refresh()
    assert (item.subject, item.location, item.sensitivity) == ("Visit (moved)", "Room 7", "Private")
    assert (
        item.is_all_day,
        item.reminder_is_set,
        item.is_response_requested,
        item.allow_new_time_proposal,
    ) == (False, True, False, False)


def test_an_appointment_made_all_day_elsewhere_is_frozen_not_deleted(h):
    a = h.add_local("Visit")
    h.sync()
    outlook = _outlook(h.server)
    item = outlook.calendar.get(id=h.remote_id_for(a.id))
    item.is_all_day = True
    item.save(update_fields=["is_all_day"])
    assert outlook.calendar.get(id=item.id).is_all_day is True  # the update sticks
    h.clock.advance(minutes=1)
    h.sync()
    assert h.local(a.id) is not None and h.local(a.id).contents == "Visit"
    assert h.server.event_ids() == [item.id]
    before = h.server.count_requests()
    assert h.sync().counts == {}
    assert h.server.count_requests() - before == 1
