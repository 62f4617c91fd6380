"""End to end: the Sales Calendar (real SQLite) ↔ the Graph test server, through
SyncEngine, GraphProvider and MSAL over real HTTPS.

The rules every service keeps run from :class:`EndToEndContract`; this module adds
what is particular to Office 365 (the extended property, mails Graph sends, $batch
throttling, delta links) and one test per fault the test server can inject.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from calsync_desktop.accounts import office365
from calsync_desktop.accounts.base import MemorySecrets
from calsync_desktop.accounts.office365 import MsalSession
from calsync_desktop.model import Participant, Recurrence
from calsync_desktop.providers.graph import LOCAL_ID_PROPERTY, GraphProvider
from calsync_desktop.services import Services
from calsync_desktop.sync.runner import SyncRunner
from tests.fakes.graph_server import GraphServer
from tests.providers.test_graph_provider import device_code_sign_in, env_for, session_config

from .e2e_contract import E2EHarness, EndToEndContract, add_tomorrow, e2e_fixtures
from .e2e_series import SeriesContract
from .harness import CrashAfterWrite

OWNER = "sam@contoso.example"  # the test server's signed-in user


class CrashingGraphProvider(CrashAfterWrite, GraphProvider):
    """GraphProvider whose next write can be followed by a crash."""


def _t(value: datetime) -> dict:
    return {"dateTime": value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"}


class GraphE2E(E2EHarness):
    """A Sales Calendar and the Graph test server, linked by one Office 365 account."""

    kind, name = "office365", "Office 365"

    def where_changes_are_read(self) -> dict:
        # a changed single event comes whole in the delta listing's page
        return {"path": "/calendarView/delta"}

    def connect(self) -> None:
        self.session = MsalSession(session_config(self.server), device_code_sign_in(self.server))

    def new_provider(self, timeout: float = 5, backoff=None) -> CrashingGraphProvider:
        return CrashingGraphProvider(
            self.session.token,
            endpoint=self.server.graph_url,
            ca_bundle=str(self.server.ca_bundle),
            backoff=backoff or self.backoff,
            timeout=timeout,
        )

    def warm_up(self) -> None:
        self.provider.account_email()


@pytest.fixture
def server(clock):
    s = GraphServer(clock=clock).start()
    yield s
    s.stop()


make_harness, h = e2e_fixtures(GraphE2E)


class TestOffice365Series(SeriesContract):
    """Cancelled occurrences and splits, as Office 365 keeps them (an exception with
    ``isCancelled``; the old range ended and a new series master)."""


class TestOffice365Rules(EndToEndContract):
    """The shared rules against the Graph test server, with Graph's own checks added."""

    retry_cases = (
        ("rate_limit", 5, 5.0),
        ("server_busy", 2, 2.0),
        ("server_error", 1, None),
    )

    # Graph cannot add attendees without mailing them: see
    # test_graph_mails_new_attendees_whatever_the_setting for what is checked instead.
    test_no_invitations_with_the_setting_off = None

    def test_moved_occurrence_becomes_an_override_both_ways(self, h):
        super().test_moved_occurrence_becomes_an_override_both_ways(h)
        (master,) = h.server.event_ids()
        exceptions = [i for i in h.server.occurrences(master) if i["type"] == "exception"]
        assert sorted(i["subject"] for i in exceptions) == [
            "Meeting with Acme (moved)",
            "Shortened",
        ]

    def test_expired_access_token_is_refreshed_mid_sync(self, h):
        super().test_expired_access_token_is_refreshed_mid_sync(h)
        h.server.expire_access_tokens()
        h.add_local("after real expiry")
        assert not h.sync().errors and len(h.server.events()) == 5


# --------------------------------------------------------------------------- basics and mapping


def test_new_local_appointment_is_created_on_office365(h):
    a = h.add_local("Demo at Initech\nBring the slides", location="Initech HQ")
    result = h.sync()
    assert result.counts == {"create remotely": 1}
    (item,) = h.server.events()
    assert item["subject"] == "Demo at Initech"
    assert item["body"] == {"contentType": "text", "content": "Bring the slides"}
    assert item["location"]["displayName"] == "Initech HQ"
    assert item["originalStartTimeZone"] == "Europe/Berlin"
    assert item["singleValueExtendedProperties"] == [{"id": LOCAL_ID_PROPERTY, "value": a.id}]
    assert item["sensitivity"] == "normal" and item["isAllDay"] is False
    event = h.remote_for(a.id)
    assert event.start == a.start and event.end == a.end


# ------------------------------------------------------------- participants and invitations


def test_remote_changes_and_first_sync_links_never_mail(h):
    """What calsync can control: linking and pulling send nothing."""
    h.store.set_setting("sync.send_invitations", True)
    start = h.at(3)
    made = h.add_remote("Board meeting", start=start, attendees=((None, "ann@acme.example"),))
    h.add_local(
        "Board meeting", start=start, participants=(Participant("Ann", "ann@acme.example"),)
    )
    mails = len(h.server.mails)
    h.sync()  # first sync: links, pushes nothing
    assert len(h.server.mails) == mails and len(h.server.events()) == 1
    h.clock.advance(minutes=1)
    h.server.patch_event(made, location={"displayName": "Changed in Outlook"})
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
    h.server.patch_event(event.remote_id, recurrence=rec)
    h.sync()
    assert h.local(a.id).recurrence.rrule == "FREQ=WEEKLY;COUNT=10"
    h.edit_local(a.id, recurrence=Recurrence("FREQ=WEEKLY;COUNT=4"))
    h.sync()
    assert h.server.event(event.remote_id)["recurrence"]["range"]["numberOfOccurrences"] == 4


def test_outlook_series_is_imported_once_with_its_rule(h):
    start = h.at(2, 9)
    made = h.server.add_event(
        subject="Standup",
        start=_t(start),
        end=_t(start + timedelta(hours=1)),
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


# --------------------------------------------------------------------------- privacy


def test_personal_sensitivity_is_not_private(h):
    """Outlook's "personal" is not "private" (the rest of the rule: the contract)."""
    personal = h.add_remote("Gym", sensitivity="personal")
    h.sync()
    assert not h.local_for(personal).private


# --------------------------------------------------------------------------- incremental and faults


def test_throttled_batch_members_are_retried(h):
    for _ in range(3):
        h.add_local()
    h.server.fail_next("rate_limit", 2, retry_after=3, on="batch_part")
    result = h.sync()
    assert not result.errors and len(h.server.events()) == 3 and h.waits == [3.0]


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
        a = add_tomorrow(services)
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


# --------------------------------------------------------------------------- requests


def _graph_paths(server: GraphServer, since: int) -> list[str]:
    return [path for _, path in server.requests[since:]]


def test_a_first_sync_into_an_empty_sales_calendar_reads_each_event_once(h):
    """Delta takes no $expand, so the local ids stamped on events need a pass over
    calendarView; with nothing in the Sales Calendar they could link, none is made."""
    for day in (2, 3, 4):
        h.add_remote(f"Visit {day}", start=h.at(day))
    h.warm_up()
    before = len(h.server.requests)
    assert h.sync().counts == {"create locally": 3}
    paths = _graph_paths(h.server, before)
    assert [p for p in paths if p.endswith("/calendarView/delta")]
    assert [p for p in paths if p.endswith(("/calendarView", "/$batch"))] == []


def test_a_full_listing_reads_the_local_ids_when_the_sales_calendar_holds_appointments(h):
    a = h.add_local("Made here first")
    h.add_remote("Made there", start=h.at(3))
    h.warm_up()
    before = len(h.server.requests)
    assert h.sync().counts == {"create locally": 1, "create remotely": 1}
    assert [p for p in _graph_paths(h.server, before) if p.endswith("/calendarView")]
    # and a crash-repair link still finds the event by the local id it carries
    assert h.remote_for(a.id).local_id == a.id


def test_the_echo_of_pushed_appointments_is_absorbed_by_change_key(h):
    """The next sync after pushing lists the new events back (their change keys
    are the ones the pushes answered) and reads none of them again."""
    for day in (1, 2, 3):
        h.add_local(f"Pushed {day}", start=h.at(day))
    assert h.sync().counts == {"create remotely": 3}
    before = len(h.server.requests)
    assert h.sync().counts == {}
    paths = _graph_paths(h.server, before)
    assert len(paths) == 1 and paths[0].endswith("/calendarView/delta")
