"""The Exchange provider against the strict EWS test server, through the real exchangelib.

- the shared provider contract;
- the RRULE ↔ Exchange recurrence converter, both directions;
- faults, retries and error translation (401, TLS, 404, timeouts, drops);
- the account validation messages of accounts/exchange.py.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from exchangelib import CalendarItem
from exchangelib.recurrence import (
    AbsoluteMonthlyPattern,
    AbsoluteYearlyPattern,
    DailyPattern,
    EndDatePattern,
    NoEndPattern,
    NumberedPattern,
    RelativeMonthlyPattern,
    RelativeYearlyPattern,
    WeeklyPattern,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calsync_desktop.accounts import exchange as exchange_account
from calsync_desktop.accounts.base import Account, MemorySecrets
from calsync_desktop.model import OccurrenceOverride, Participant, Recurrence
from calsync_desktop.providers.base import (
    Backoff,
    BadCredentials,
    CertificateUntrusted,
    Create,
    Delete,
    InvalidEvent,
    MalformedResponse,
    NeedsSignIn,
    NotACalendarService,
    RateLimited,
    TimedOut,
    Unreachable,
    UnsupportedRecurrence,
    Update,
)
from calsync_desktop.providers.ews import (
    LOCAL_ID_FIELD,
    CalsyncLocalId,
    ConnectionSettings,
    ExchangeProvider,
    ews_to_rrule,
    register_local_id_property,
    rrule_to_ews,
)
from tests.fakes.ews_fixtures import ews_server_fixtures
from tests.fakes.ews_server import EwsServer

from .contract import NOW, WINDOW, ProviderContract, create, draft
from .meeting_contract import MeetingContract

ews_server_module, ews_server = ews_server_fixtures("ews_server")


def make_provider(server: EwsServer, sleeps: list | None = None, **kw) -> ExchangeProvider:
    connection = ConnectionSettings(
        server_url=server.url,
        username=kw.pop("username", "alice"),
        password=kw.pop("password", "secret"),
        email=kw.pop("email", "alice@example.com"),
        ca_bundle=kw.pop("ca_bundle", None),
        timeout=kw.pop("timeout", 10.0),
    )
    waits = sleeps if sleeps is not None else []
    return ExchangeProvider(
        connection,
        settings=kw.pop("settings", {}),
        backoff=Backoff(sleep=waits.append, rand=lambda: 0.5),
        **kw,
    )


class EwsHarness:
    def __init__(self, server: EwsServer):
        self.server = server
        self.sleeps: list[float] = []
        self.provider = make_provider(server, self.sleeps)
        # First contact (auth detection, version) happens here, so that the
        # contract's injected faults hit real EWS calls and exercise the retries.
        self.provider.list_calendars()


@pytest.fixture
def harness(ews_server):
    h = EwsHarness(ews_server)
    yield h
    h.provider.close()


class TestEwsContract(ProviderContract, MeetingContract):
    """The provider contract, against the EWS test server."""


# --------------------------------------------------------------------------- provider specifics


def test_first_contact_stores_auth_type_and_version_so_later_runs_skip_guessing(ews_server):
    settings: dict = {}
    first = make_provider(ews_server, settings=settings)
    state = first.changes(WINDOW, None).state
    assert settings["ews_auth_type"] == "basic"
    assert settings["ews_version"]["api_version"] == "Exchange2016"
    # a new process: a fresh provider on the stored settings costs one request
    second = make_provider(ews_server, settings=dict(settings))
    before = ews_server.count_requests()
    listing = second.changes(WINDOW, state)
    assert listing.events == [] and ews_server.count_requests() - before == 1
    assert ews_server.log[-1] == "SyncFolderItems"


def test_server_busy_honours_back_off_milliseconds(harness):
    harness.server.fail_next("server_busy", retry_after=4)
    listing = harness.provider.changes(WINDOW, None)
    assert listing.complete
    assert harness.sleeps and harness.sleeps[0] >= 4.0


def test_persistent_busy_gives_up_with_rate_limited(ews_server):
    waits: list[float] = []
    provider = make_provider(ews_server, waits)
    provider.backoff.max_attempts = 3
    ews_server.fail_next("server_busy", 5, retry_after=1)
    with pytest.raises(RateLimited):
        provider.changes(WINDOW, None)
    assert len(waits) == 2


def test_503_is_retried(harness):
    harness.server.fail_next("server_error", 2)
    assert harness.provider.changes(WINDOW, None).complete
    assert len(harness.sleeps) == 2


def test_wrong_password_is_needs_sign_in_without_retrying(ews_server):
    provider = make_provider(ews_server, password="wrong")
    before = ews_server.count_requests()
    with pytest.raises(NeedsSignIn):
        provider.changes(WINDOW, None)
    # auth detection (1) + the refused request; never an hour of retries
    assert ews_server.count_requests() - before <= 3


def test_password_changed_on_the_server_is_needs_sign_in(harness):
    create(harness.provider, draft())
    state = harness.provider.changes(WINDOW, None).state
    harness.server.set_password("new-secret")
    with pytest.raises(NeedsSignIn):
        harness.provider.changes(WINDOW, state)


def test_dropped_connection_is_unreachable(harness):
    harness.provider.changes(WINDOW, None)
    harness.server.fail_next("drop")
    with pytest.raises(Unreachable):
        harness.provider.changes(WINDOW, None)


def test_malformed_answer_is_reported(harness):
    harness.provider.changes(WINDOW, None)
    harness.server.fail_next("malformed")
    with pytest.raises(MalformedResponse):
        harness.provider.changes(WINDOW, None)


def test_slow_answer_times_out(harness, ews_server):
    provider = make_provider(ews_server, timeout=0.5)
    provider.changes(WINDOW, None)
    ews_server.fail_next("slow", delay=1.5)
    with pytest.raises(TimedOut):
        provider.changes(WINDOW, None)


def test_a_non_ews_server_is_not_a_calendar_service(ews_server):
    ews_server.not_ews = True
    with pytest.raises(NotACalendarService):
        make_provider(ews_server).changes(WINDOW, None)


def test_full_listing_pages_through_sync_folder_items(harness):
    harness.server.max_sync_changes = 7
    try:
        made = harness.provider.write([Create(draft(subject=f"Visit {i}")) for i in range(20)])
        listing = harness.provider.changes(WINDOW, None)
        assert {e.remote_id for e in listing.events} == {r.event.remote_id for r in made}
        assert harness.server.operations["SyncFolderItems"] >= 3
    finally:
        harness.server.max_sync_changes = 512


def test_expired_state_then_full_listing_has_no_duplicates(harness):
    d = draft()
    create(harness.provider, d)
    state = harness.provider.changes(WINDOW, None).state
    harness.server.expire_sync_state()
    listing = harness.provider.changes(WINDOW, None)
    assert [e.local_id for e in listing.events] == [d.local_id]
    assert listing.state != state


def test_html_body_is_reported_as_html(harness):
    start = NOW + timedelta(days=1)
    item_id = harness.server.add_event(
        "Lunch", start, start + timedelta(hours=1), body="<p>Hello <b>there</b></p>", html=True
    )
    event = harness.provider.get(item_id)
    assert event.body_is_html and "<b>there</b>" in event.body
    assert event.local_id is None


def test_sensitivity_confidential_is_private(harness):
    start = NOW + timedelta(days=1)
    item_id = harness.server.add_event(
        "Secret", start, start + timedelta(hours=1), sensitivity="Confidential"
    )
    assert harness.provider.get(item_id).private is True


def test_attendees_with_only_a_name_come_back_without_email(harness):
    start = NOW + timedelta(days=1)
    item_id = harness.server.add_event(
        "Meeting",
        start,
        start + timedelta(hours=1),
        attendees=(("Room Bob", None), ("Ann", "ann@x.example")),
        organizer=("Carl", "carl@x.example"),
    )
    event = harness.provider.get(item_id)
    assert {p.name: p.email for p in event.attendees} == {"Room Bob": None, "Ann": "ann@x.example"}
    assert event.organizer_is_self is False


def test_invitations_only_when_asked(harness):
    people = (Participant("Ann", "ann@x.example"),)
    harness.provider.write([Create(draft(attendees=people))])
    assert harness.server.invitations_sent() == 0
    harness.provider.write([Create(draft(attendees=people), send_invitations=True)])
    assert harness.server.invitations_sent() == 1


def test_stale_delete_is_changed_meanwhile(harness):
    event = create(harness.provider, draft())
    harness.server.edit(event.remote_id, subject="Edited")
    (result,) = harness.provider.write([Delete(event.remote_id, event.version)])
    assert result.error is not None and type(result.error).__name__ == "ChangedMeanwhile"
    assert harness.provider.get(event.remote_id).subject == "Edited"


def test_1000_creates_use_at_most_10_create_item_requests(harness):
    before = harness.server.operations["CreateItem"]
    results = harness.provider.write([Create(draft(subject=f"Visit {i}")) for i in range(1000)])
    assert all(r.ok for r in results)
    assert harness.server.operations["CreateItem"] - before <= 10


def test_series_with_overrides_and_deleted_occurrences_round_trips(harness):
    start = NOW + timedelta(days=3)
    moved = start + timedelta(days=7)
    rule = Recurrence(
        "FREQ=DAILY;INTERVAL=7;COUNT=5",
        exdates=(start + timedelta(days=14),),
        overrides=(
            OccurrenceOverride(
                original_start=moved,
                contents="Moved visit\nbring samples",
                location="Lobby",
                start=moved + timedelta(hours=2),
                end=moved + timedelta(hours=3),
            ),
        ),
    )
    event = create(harness.provider, draft(start=start, recurrence=rule))
    fetched = harness.provider.get(event.remote_id)
    assert fetched.recurrence.exdates == (start + timedelta(days=14),)
    (override,) = fetched.recurrence.overrides
    assert override.original_start == moved
    assert override.start == moved + timedelta(hours=2)
    assert override.contents == "Moved visit\nbring samples"
    assert override.location == "Lobby"


def test_remote_occurrence_edit_and_delete_show_on_the_series(harness):
    start = NOW + timedelta(days=3)
    event = create(
        harness.provider, draft(start=start, recurrence=Recurrence("FREQ=DAILY;COUNT=4"))
    )
    state = harness.provider.changes(WINDOW, None).state
    harness.server.edit_occurrence_at(
        event.remote_id,
        2,
        subject="Only this one",
        start=start + timedelta(days=1, hours=1),
        end=start + timedelta(days=1, hours=2),
    )
    harness.server.delete_occurrence_at(event.remote_id, 3)
    listing = harness.provider.changes(WINDOW, state)
    (series,) = listing.events
    assert series.recurrence.exdates == (start + timedelta(days=2),)
    (override,) = series.recurrence.overrides
    assert override.contents.startswith("Only this one")


def test_unsupported_rule_is_a_clear_invalid_event(harness):
    (result,) = harness.provider.write(
        [Create(draft(recurrence=Recurrence("FREQ=HOURLY;COUNT=3")))]
    )
    assert isinstance(result.error, InvalidEvent)
    assert "hourly" in str(result.error)


def test_update_of_time_keeps_the_zone(harness):
    d = draft()
    event = create(harness.provider, d)
    later = d.start + timedelta(hours=3)
    changed = draft(local_id=d.local_id, start=later, end=later + timedelta(hours=1))
    (result,) = harness.provider.write(
        [Update(event.remote_id, event.version, changed, frozenset({"time"}))]
    )
    assert result.ok, result.error
    assert result.event.start == later and result.event.timezone == "Europe/Berlin"


def test_register_local_id_property_is_idempotent():
    register_local_id_property()
    register_local_id_property()
    registered = [f for f in CalendarItem.FIELDS if f.name == LOCAL_ID_FIELD]
    assert len(registered) == 1
    assert registered[0].value_cls is CalsyncLocalId


# --------------------------------------------------------------------------- TLS


@pytest.fixture(scope="module")
def tls_server():
    server = EwsServer(tls=True)
    server.start()
    yield server
    server.stop()


def test_self_signed_certificate_is_untrusted(tls_server):
    with pytest.raises(CertificateUntrusted) as info:
        make_provider(tls_server).changes(WINDOW, None)
    assert "CA bundle" in str(info.value)


def test_ca_bundle_makes_it_trusted(tls_server):
    provider = make_provider(tls_server, ca_bundle=tls_server.ca_bundle)
    assert provider.changes(WINDOW, None).complete


def test_ca_bundle_wins_over_requests_env(tls_server, monkeypatch, tmp_path):
    # An unrelated bundle in the environment must not replace the user's choice.
    other = tmp_path / "other.pem"
    import certifi

    other.write_text(Path(certifi.where()).read_text())
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(other))
    provider = make_provider(tls_server, ca_bundle=tls_server.ca_bundle)
    assert provider.changes(WINDOW, None).complete


# --------------------------------------------------------------------------- converter

BERLIN = "Europe/Berlin"
START = datetime(2031, 3, 4, 8, 30, tzinfo=UTC)  # a Tuesday


@pytest.mark.parametrize(
    ("rule", "pattern_type", "expected"),
    [
        ("FREQ=DAILY;INTERVAL=2;COUNT=10", DailyPattern, "FREQ=DAILY;INTERVAL=2;COUNT=10"),
        (
            "FREQ=WEEKLY;BYDAY=MO,WE,FR;COUNT=6",
            WeeklyPattern,
            "FREQ=WEEKLY;INTERVAL=1;BYDAY=MO,WE,FR;COUNT=6",
        ),
        ("FREQ=WEEKLY;INTERVAL=2", WeeklyPattern, "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU"),
        (
            "FREQ=WEEKLY;BYDAY=TU;WKST=SU;COUNT=3",
            WeeklyPattern,
            "FREQ=WEEKLY;INTERVAL=1;BYDAY=TU;WKST=SU;COUNT=3",
        ),
        (
            "FREQ=MONTHLY;BYMONTHDAY=15",
            AbsoluteMonthlyPattern,
            "FREQ=MONTHLY;INTERVAL=1;BYMONTHDAY=15",
        ),
        ("FREQ=MONTHLY", AbsoluteMonthlyPattern, "FREQ=MONTHLY;INTERVAL=1;BYMONTHDAY=4"),
        ("FREQ=MONTHLY;BYDAY=2TU", RelativeMonthlyPattern, "FREQ=MONTHLY;INTERVAL=1;BYDAY=2TU"),
        ("FREQ=MONTHLY;BYDAY=-1FR", RelativeMonthlyPattern, "FREQ=MONTHLY;INTERVAL=1;BYDAY=-1FR"),
        (
            "FREQ=MONTHLY;BYDAY=TH;BYSETPOS=3",
            RelativeMonthlyPattern,
            "FREQ=MONTHLY;INTERVAL=1;BYDAY=3TH",
        ),
        ("FREQ=YEARLY", AbsoluteYearlyPattern, "FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=4"),
        (
            "FREQ=YEARLY;BYMONTH=11;BYDAY=4TH",
            RelativeYearlyPattern,
            "FREQ=YEARLY;BYMONTH=11;BYDAY=4TH",
        ),
    ],
)
def test_rrule_to_ews_and_back(rule, pattern_type, expected):
    rec = rrule_to_ews(rule, START, BERLIN)
    assert isinstance(rec.pattern, pattern_type)
    assert ews_to_rrule(rec, START, BERLIN) == expected


def test_count_and_until_boundaries():
    rec = rrule_to_ews("FREQ=DAILY;COUNT=3", START, BERLIN)
    assert isinstance(rec.boundary, NumberedPattern) and rec.boundary.number == 3
    rec = rrule_to_ews("FREQ=DAILY;UNTIL=20310310T083000Z", START, BERLIN)
    assert isinstance(rec.boundary, EndDatePattern)
    assert str(rec.boundary.end)[:10] == "2031-03-10"
    back = ews_to_rrule(rec, START, BERLIN)
    assert back == "FREQ=DAILY;INTERVAL=1;UNTIL=20310310T083000Z"
    rec = rrule_to_ews("FREQ=DAILY", START, BERLIN)
    assert isinstance(rec.boundary, NoEndPattern)


def test_ews_patterns_to_rrule():
    from exchangelib.recurrence import Recurrence as R

    day = START.date()
    cases = [
        (
            R(pattern=RelativeMonthlyPattern(interval=1, weekday=9, week_number=1), start=day),
            "FREQ=MONTHLY;INTERVAL=1;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=1",
        ),
        (
            R(pattern=RelativeYearlyPattern(weekday=10, week_number=5, month=6), start=day),
            "FREQ=YEARLY;BYMONTH=6;BYDAY=SA,SU;BYSETPOS=-1",
        ),
        (
            R(pattern=AbsoluteYearlyPattern(day_of_month=29, month=2), number=4, start=day),
            "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;COUNT=4",
        ),
    ]
    for rec, expected in cases:
        assert ews_to_rrule(rec, START, BERLIN) == expected


@pytest.mark.parametrize(
    ("rule", "reason"),
    [
        ("FREQ=HOURLY", "hourly"),
        ("FREQ=MINUTELY", "minutely"),
        ("FREQ=DAILY;BYHOUR=9,10", "BYHOUR"),
        ("FREQ=YEARLY;INTERVAL=2", "every year"),
        ("FREQ=MONTHLY;BYMONTHDAY=1,15", "one day"),
        ("FREQ=MONTHLY;BYDAY=5MO", "first to fourth"),
        ("FREQ=MONTHLY;BYMONTHDAY=-1", "end of the month"),
        ("FREQ=WEEKLY;BYDAY=MO;BYSETPOS=1,2", "several positions"),
        ("FREQ=DAILY;COUNT=5000", "999"),
    ],
)
def test_unsupported_rules_are_explained(rule, reason):
    with pytest.raises(UnsupportedRecurrence) as info:
        rrule_to_ews(rule, START, BERLIN)
    assert reason in str(info.value)
    assert isinstance(info.value, InvalidEvent)


# --------------------------------------------------------------------------- account validation


def services(**extra):
    return SimpleNamespace(secrets=MemorySecrets(), env={}, store=None, clock=lambda: NOW, **extra)


def test_validate_bad_credentials_has_the_exact_message(ews_server):
    with pytest.raises(BadCredentials) as info:
        exchange_account.validate(services(), ews_server.url, "alice", "nope")
    assert str(info.value) == (
        "Failed to validate access to the server with your credentials, please review your details"
    )


def test_validate_ok_keeps_the_password_out_of_settings(ews_server):
    pending = exchange_account.validate(
        services(), ews_server.url, "alice", "secret", email="alice@example.com"
    )
    assert pending.email == "alice@example.com"
    assert "secret" not in repr(pending) and "secret" not in str(pending.settings)
    assert pending.settings["server_url"] == ews_server.url
    assert pending.settings["ews_version"]["api_version"] == "Exchange2016"


def test_validate_finds_the_email_of_a_plain_user_name(ews_server):
    pending = exchange_account.validate(services(), ews_server.url, "alice", "secret")
    assert pending.email == "alice@example.com"


def test_validate_unreachable(ews_server):
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    with pytest.raises(Unreachable) as info:
        exchange_account.validate(
            services(),
            f"http://127.0.0.1:{port}/EWS/Exchange.asmx",
            "alice",
            "secret",
            email="alice@example.com",
        )
    assert "could not be reached" in str(info.value)


def test_validate_not_ews(ews_server):
    ews_server.not_ews = True
    with pytest.raises(NotACalendarService) as info:
        exchange_account.validate(
            services(), ews_server.url, "alice", "secret", email="alice@example.com"
        )
    assert "EWS" in str(info.value)


def test_validate_tls_untrusted_suggests_a_ca_bundle(tls_server):
    with pytest.raises(CertificateUntrusted) as info:
        exchange_account.validate(
            services(), tls_server.url, "alice", "secret", email="alice@example.com"
        )
    assert "CA bundle" in str(info.value)
    pending = exchange_account.validate(
        services(),
        tls_server.url,
        "alice",
        "secret",
        email="alice@example.com",
        ca_bundle=tls_server.ca_bundle,
    )
    assert pending.settings["ca_bundle"] == tls_server.ca_bundle


def test_validate_timeout(ews_server):
    ews_server.fail_next("slow", 6, delay=1.2)
    with pytest.raises(TimedOut) as info:
        exchange_account.validate(
            services(), ews_server.url, "alice", "secret", email="alice@example.com", timeout=0.5
        )
    assert "did not answer in time" in str(info.value)


def test_validate_office365_is_explained():
    with pytest.raises(exchange_account.NeedsMicrosoftSignIn) as info:
        exchange_account.validate(
            services(), "https://outlook.office365.com/EWS/Exchange.asmx", "a@b.com", "pw"
        )
    assert "Sign in with Microsoft" in str(info.value)


def test_saved_account_stores_password_only_in_secrets(ews_server):
    svc = services()
    pending = exchange_account.validate(
        svc, ews_server.url, "alice", "secret", email="alice@example.com"
    )
    account = Account(
        id="acc-1",
        kind="exchange",
        name="Work",
        email=pending.email,
        settings=dict(pending.settings),
    )
    exchange_account.save_secrets(pending, account.id, svc)
    assert svc.secrets.get("acc-1", "password") == "secret"
    assert "secret" not in repr(account)
    provider = exchange_account.open_provider(account, svc)
    assert provider.changes(WINDOW, None).complete


def test_cli_add(ews_server, monkeypatch):
    import argparse

    from calsync_desktop.accounts.kinds import KINDS
    from calsync_desktop.cli.accounts import connect
    from calsync_desktop.cli.kinds import add_field_options

    parser = argparse.ArgumentParser()
    add_field_options(parser, KINDS["exchange"])
    parser.set_defaults(kind="exchange")
    args = parser.parse_args(
        [
            "--server-url",
            ews_server.url,
            "--username",
            "alice",
            "--email",
            "alice@example.com",
            "--password-stdin",
        ]
    )
    monkeypatch.setattr("sys.stdin", io.StringIO("secret\n"))
    pending = connect(args, services())
    assert pending.email == "alice@example.com"
    args = parser.parse_args(
        ["--server-url", ews_server.url, "--username", "alice", "--password-stdin"]
    )
    monkeypatch.setattr("sys.stdin", io.StringIO("wrong\n"))
    with pytest.raises(BadCredentials):
        connect(args, services())


# --------------------------------------------------------------------------- NTLM


@pytest.fixture(scope="module")
def ntlm_server():
    server = EwsServer(auth_methods=("NTLM", "Basic"))
    server.start()
    yield server
    server.stop()


def test_ntlm_is_chosen_when_offered_and_works(ntlm_server):
    settings: dict = {}
    provider = make_provider(ntlm_server, settings=settings)
    event = create(provider, draft())
    assert settings["ews_auth_type"] == "NTLM"
    state = provider.changes(WINDOW, None).state
    before = ntlm_server.count_requests()
    assert provider.changes(WINDOW, state).events == []
    # NTLM authenticates the kept-alive connection once: one request per sync after that
    assert ntlm_server.count_requests() - before == 1
    assert provider.get(event.remote_id).subject == draft().subject
    assert not ntlm_server.validation_errors


def test_ntlm_wrong_or_changed_password_is_needs_sign_in(ntlm_server):
    with pytest.raises(NeedsSignIn):
        make_provider(ntlm_server, password="wrong").changes(WINDOW, None)
    provider = make_provider(ntlm_server)
    provider.changes(WINDOW, None)
    ntlm_server.set_password("changed")
    try:
        with pytest.raises(NeedsSignIn):
            provider.changes(WINDOW, None)
        with pytest.raises(BadCredentials):
            exchange_account.validate(
                services(), ntlm_server.url, "alice", "secret", email="alice@example.com"
            )
    finally:
        ntlm_server.set_password("secret")


# --------------------------------------------------------------------------- the test server itself


def test_server_rejects_and_records_a_request_that_breaks_the_schema(ews_server):
    import requests

    bad = (
        '<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"'
        ' xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"'
        ' xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types">'
        '<s:Header><t:RequestServerVersion Version="Exchange2016"/></s:Header>'
        "<s:Body><m:GetItem><m:ItemIds/></m:GetItem></s:Body></s:Envelope>"
    )
    r = requests.post(ews_server.url, data=bad, auth=("alice", "secret"), timeout=5)
    assert r.status_code == 500 and b"ErrorSchemaValidation" in r.content
    assert ews_server.validation_errors
    ews_server.validation_errors.clear()


def test_server_answers_calendar_view_with_occurrences(ews_server):
    from exchangelib import EWSDateTime, EWSTimeZone

    provider = make_provider(ews_server)
    start = NOW + timedelta(days=3)
    series = create(provider, draft(start=start, recurrence=Recurrence("FREQ=DAILY;COUNT=3")))
    ews_server.delete_occurrence_at(series.remote_id, 2)
    create(provider, draft(start=start + timedelta(hours=5)))
    _, folder = provider._ready()
    utc = EWSTimeZone("UTC")
    lo = EWSDateTime.from_datetime(start - timedelta(days=1)).astimezone(utc)
    hi = EWSDateTime.from_datetime(start + timedelta(days=5)).astimezone(utc)
    found = list(folder.view(start=lo, end=hi).only("subject", "start", "type"))
    assert sorted(i.type for i in found) == ["Occurrence", "Occurrence", "Single"]


def test_server_runs_standalone_and_prints_its_url_first():
    import subprocess
    import sys

    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.ews_server", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        first = proc.stdout.readline().strip()
        assert first.startswith("http://127.0.0.1:") and first.endswith("/EWS/Exchange.asmx")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_password_never_reaches_the_logs_even_at_debug(ews_server, caplog):
    import base64
    import logging

    caplog.set_level(logging.DEBUG)
    provider = make_provider(ews_server)
    create(provider, draft())
    provider.changes(WINDOW, None)
    with pytest.raises(NeedsSignIn) as info:
        make_provider(ews_server, password="wrong-pw").changes(WINDOW, None)
    encoded = base64.b64encode(b"alice:secret").decode()
    assert caplog.records is not None
    assert "secret" not in caplog.text and encoded not in caplog.text
    assert "wrong-pw" not in str(info.value) and "wrong-pw" not in caplog.text


def test_connection_settings_never_show_the_password():
    c = ConnectionSettings("https://x/EWS/Exchange.asmx", "alice", "hunter2", "a@x.example")
    provider = ExchangeProvider(c)
    assert "hunter2" not in repr(c) and "hunter2" not in repr(provider)


def test_other_calendars_are_listed_and_can_be_synced(ews_server):
    team = ews_server.mailbox.add_calendar("Team visits")
    start = NOW + timedelta(days=1)
    ews_server.add_event("In the default calendar", start, start + timedelta(hours=1))
    in_team = ews_server.add_event(
        "In the team calendar", start, start + timedelta(hours=1), calendar=team
    )
    calendars = make_provider(ews_server).list_calendars()
    assert [(c.name, c.primary) for c in calendars] == [("Calendar", True), ("Team visits", False)]
    provider = make_provider(ews_server, calendar_id=calendars[1].id)
    listing = provider.changes(WINDOW, None)
    assert [e.remote_id for e in listing.events] == [in_team]
    made = create(provider, draft(subject="Pushed to team"))
    assert ews_server.item(made.remote_id).folder_id == team
    assert make_provider(ews_server).changes(WINDOW, None).events[0].subject == (
        "In the default calendar"
    )


# --------------------------------------------------------------------------- converter properties


_DAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]


@st.composite
def supported_rules(draw) -> str:
    freq = draw(st.sampled_from(["DAILY", "WEEKLY", "MONTHLY", "MONTHLY_BYDAY", "YEARLY"]))
    interval = draw(st.integers(1, 4))
    count = draw(st.integers(1, 12))
    if freq == "DAILY":
        return f"FREQ=DAILY;INTERVAL={interval};COUNT={count}"
    if freq == "WEEKLY":
        days = draw(st.lists(st.sampled_from(_DAYS), min_size=1, max_size=4, unique=True))
        return f"FREQ=WEEKLY;INTERVAL={interval};BYDAY={','.join(days)};COUNT={count}"
    if freq == "MONTHLY":
        # Exchange moves day 29-31 to a short month's last day; RFC 5545 skips the month
        day = draw(st.integers(1, 28))
        return f"FREQ=MONTHLY;INTERVAL={interval};BYMONTHDAY={day};COUNT={count}"
    if freq == "MONTHLY_BYDAY":
        n = draw(st.sampled_from([1, 2, 3, 4, -1]))
        day = draw(st.sampled_from(_DAYS))
        return f"FREQ=MONTHLY;INTERVAL={interval};BYDAY={n}{day};COUNT={count}"
    month = draw(st.integers(1, 12))
    day = draw(st.integers(1, 28))
    return f"FREQ=YEARLY;BYMONTH={month};BYMONTHDAY={day};COUNT={count}"


@settings(max_examples=60, deadline=None)
@given(
    rule=supported_rules(),
    day_offset=st.integers(0, 400),
    zone=st.sampled_from(["Europe/Berlin", "America/New_York", "UTC", "Asia/Kolkata"]),
)
def test_converter_round_trip_keeps_every_occurrence(rule, day_offset, zone):
    from calsync_desktop.providers.kit.rrule import occurrence_starts

    start = datetime(2031, 1, 1, 9, 30, tzinfo=UTC) + timedelta(days=day_offset)
    converted = ews_to_rrule(rrule_to_ews(rule, start, zone), start, zone)
    assert occurrence_starts(converted, start, zone) == occurrence_starts(rule, start, zone)
    # and the canonical form is a fixed point
    assert ews_to_rrule(rrule_to_ews(converted, start, zone), start, zone) == converted


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rule=supported_rules(), day_offset=st.integers(1, 200))
def test_exchange_expands_a_pushed_rule_like_the_rrule(ews_server, rule, day_offset):
    """The server expands the Exchange pattern on its own; occurrence indexes
    (used for deleted and moved occurrences) must match the RRULE's."""
    from calsync_desktop.providers.kit.rrule import occurrence_starts

    provider = make_provider(ews_server, settings={"ews_auth_type": "basic"})
    start = NOW + timedelta(days=day_offset)
    first = occurrence_starts(rule, start, "Europe/Berlin")[0]
    event = create(provider, draft(start=first, recurrence=Recurrence(rule)))
    expected = occurrence_starts(rule, first, "Europe/Berlin")
    assert ews_server.mailbox.occurrences(ews_server.item(event.remote_id)) == expected


def test_busy_server_at_first_contact_is_retried_not_mistaken_for_a_non_ews_server(ews_server):
    waits: list[float] = []
    provider = make_provider(ews_server, waits)
    ews_server.fail_next("server_busy", retry_after=2.5)
    assert provider.list_calendars()[0].primary
    assert waits == [2.5]


def test_a_monthly_repetition_on_the_first_weekday_reaches_exchange_as_its_weekday_group(harness):
    # Exchange names "weekday" (Monday to Friday) as one day value (DayOfWeekType
    # "Weekday"): the rule was refused before the shared pattern model
    rule = "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=1;COUNT=3"
    rec = rrule_to_ews(rule, START, BERLIN)
    assert isinstance(rec.pattern, RelativeMonthlyPattern) and rec.pattern.weekday == 9
    assert ews_to_rrule(rec, START, BERLIN) == "FREQ=MONTHLY;INTERVAL=1;" + rule[13:]
    start = NOW + timedelta(days=3)
    event = create(harness.provider, draft(start=start, recurrence=Recurrence(rule)))
    from calsync_desktop.providers.kit.rrule import occurrence_starts

    expected = occurrence_starts(rule, start, "Europe/Berlin")
    assert harness.server.occurrence_starts(event.remote_id) == expected


# ------------------------------------------------------------------------- an Exchange 2010 server

TEAMS_LINK = "https://teams.microsoft.com/l/meetup-join/19%3ameeting_MjAxMA%40thread.v2/0"


# An Exchange 2010 SP3 server: it knows no JoinOnlineMeetingUrl and no
# WorkingElsewhere, and refuses a request that names either
exchange_2010_module, exchange_2010 = ews_server_fixtures("exchange_2010", "Exchange2010_SP2")


def _get_item_with_join_link(server: EwsServer, schema: str):
    import requests

    envelope = (
        '<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"'
        ' xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"'
        ' xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types">'
        f'<s:Header><t:RequestServerVersion Version="{schema}"/></s:Header>'
        "<s:Body><m:GetItem><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape>"
        '<t:AdditionalProperties><t:FieldURI FieldURI="calendar:JoinOnlineMeetingUrl"/>'
        "</t:AdditionalProperties></m:ItemShape>"
        '<m:ItemIds><t:ItemId Id="AAMkADAwATM0MDAAMS1"/></m:ItemIds></m:GetItem>'
        "</s:Body></s:Envelope>"
    )
    return requests.post(server.url, data=envelope, auth=("alice", "secret"), timeout=5)


def test_exchange_2010_refuses_the_join_link_property_and_newer_schemas(exchange_2010):
    # what Exchange 2010 does: its schema has no calendar:JoinOnlineMeetingUrl
    # (introduced in Exchange 2013), and it knows no request schema after its own
    answer = _get_item_with_join_link(exchange_2010, "Exchange2010_SP2")
    assert answer.status_code == 500 and b"ErrorSchemaValidation" in answer.content
    assert b"calendar:JoinOnlineMeetingUrl" in answer.content
    assert exchange_2010.validation_errors
    exchange_2010.validation_errors.clear()
    newer = _get_item_with_join_link(exchange_2010, "Exchange2013")
    assert newer.status_code == 500 and b"ErrorInvalidServerVersion" in newer.content


def test_exchange_2016_answers_the_join_link_property_even_for_a_2013_request(ews_server):
    # the same request is fine where the schema has the property
    answer = _get_item_with_join_link(ews_server, "Exchange2013")
    assert b"ErrorSchemaValidation" not in answer.content, answer.text
    assert b"ErrorInvalidServerVersion" not in answer.content, answer.text
    # and Exchange 2016 holds working elsewhere as itself
    provider = make_provider(ews_server)
    try:
        provider.list_calendars()
        assert dict(provider.show_as_kept) == {}
    finally:
        provider.close()


def test_on_exchange_2010_the_join_link_comes_from_the_location_or_body(exchange_2010):
    from calsync_desktop.sync.mapping import join_url_of

    settings: dict = {}
    provider = make_provider(exchange_2010, settings=settings)
    start = NOW + timedelta(days=3)
    in_body = exchange_2010.create_event(
        "Weekly sync",
        start,
        start + timedelta(hours=1),
        body=f"Join the meeting: {TEAMS_LINK}",
        location="Microsoft Teams Meeting",
        join_url=TEAMS_LINK,
    )
    in_location = exchange_2010.create_event(
        "Zoom demo",
        start,
        start + timedelta(hours=1),
        location="https://acme.zoom.us/j/5551234567",
    )
    try:
        listed = provider.changes(WINDOW, None).events
        by_id = {e.remote_id: e for e in listed}
        assert set(by_id) == {in_body, in_location}
        # the provider never asks Exchange 2010 for JoinOnlineMeetingUrl ...
        assert by_id[in_body].join_url == ""
        # ... and the Sales Calendar takes the link in the body or location instead
        assert join_url_of(by_id[in_body]) == TEAMS_LINK
        assert join_url_of(provider.get(in_location)) == "https://acme.zoom.us/j/5551234567"
        assert settings["ews_version"]["api_version"] == "Exchange2010_SP2"
    finally:
        provider.close()


def test_on_exchange_2010_working_elsewhere_is_written_as_busy(exchange_2010):
    from calsync_desktop.model import ShowAs

    provider = make_provider(exchange_2010)
    try:
        event = create(provider, draft(show_as=ShowAs.WORKING_ELSEWHERE))
        assert exchange_2010.show_as(event.remote_id) == "busy"
        # the merge compares what Exchange 2010 holds: busy is not pushed again
        assert dict(provider.show_as_kept) == {ShowAs.WORKING_ELSEWHERE: ShowAs.BUSY}
        (result,) = provider.write(
            [
                Update(
                    event.remote_id,
                    event.version,
                    draft(local_id=event.local_id, show_as=ShowAs.FREE),
                    fields=frozenset({"show_as"}),
                )
            ]
        )
        assert result.ok, result.error
        assert exchange_2010.show_as(event.remote_id) == "free"
    finally:
        provider.close()


def test_on_exchange_2010_an_edited_occurrence_keeps_its_notes(exchange_2010):
    # TextBody is Exchange 2013's: on 2010 an exception's text comes from its Body
    provider = make_provider(exchange_2010)
    try:
        start = NOW + timedelta(days=3)
        event = create(provider, draft(start=start, recurrence=Recurrence("FREQ=DAILY;COUNT=3")))
        exchange_2010.edit_occurrence_at(
            event.remote_id, 2, subject="Moved visit", body="<p>bring <b>samples</b></p>",
            html=True,
        )  # fmt: skip
        (override,) = provider.get(event.remote_id).recurrence.overrides
        assert override.contents == "Moved visit\nbring samples"
    finally:
        provider.close()


class TestEwsContractOnExchange2010(TestEwsContract):
    """The same contract against Exchange 2010, which has no working elsewhere
    (it keeps busy) and no JoinOnlineMeetingUrl (the link is the body's)."""

    show_as_unknown = ("workingElsewhere",)

    @pytest.fixture
    def harness(self, exchange_2010):
        h = EwsHarness(exchange_2010)
        yield h
        h.provider.close()

    def test_the_join_link_of_an_online_meeting_is_read(self, harness):
        from calsync_desktop.sync.mapping import join_url_of

        start = NOW + timedelta(days=3)
        rid = harness.server.create_event(
            "Online review", start, start + timedelta(hours=1),
            body=f"Join: {self.join_url}", join_url=self.join_url,
        )  # fmt: skip
        event = harness.provider.get(rid)
        assert event.join_url == "" and join_url_of(event) == self.join_url
