"""A local Microsoft Graph v1.0 calendar service and Microsoft identity platform, over HTTPS.

What it promises
----------------
* A stateful calendar store reached through the Graph v1.0 URL shapes calsync
  uses: ``/me``, ``/me/calendars``, ``calendarView`` and ``calendarView/delta``
  (paging through ``@odata.nextLink``, ``@odata.deltaLink``, ``@removed``),
  ``/me/events`` POST / PATCH / DELETE with change keys and ``If-Match``,
  recurring series (master, occurrences, exceptions, cancelled occurrences),
  attendees with ``status.response``, ``sensitivity``, HTML bodies,
  single-value extended properties and ``$batch`` (at most 20 requests).
* Errors in Graph's JSON error format; injectable faults (429 with Retry-After,
  503, 500, 401 expired token, malformed JSON, slow answers, dropped
  connections).
* The identity platform endpoints MSAL uses: tenant discovery
  (``/{tenant}/v2.0/.well-known/openid-configuration``), instance discovery,
  ``authorize`` (PKCE S256, ``response_mode=form_post`` back to the loopback
  redirect), ``token`` (authorization code, refresh token, device code) and
  ``devicecode``; ``interaction_required`` / ``invalid_grant`` with a
  ``suberror`` once consent is revoked.
* A self-signed CA made at start (``cryptography``); clients trust it through
  a CA bundle path, as a user behind a TLS-inspecting proxy would.

Sources for the behaviour copied here (checked with the search tool):
* Error body shape: https://learn.microsoft.com/graph/errors
* Delta for calendarView: https://learn.microsoft.com/graph/api/event-delta and
  https://learn.microsoft.com/graph/delta-query-events (startDateTime/endDateTime
  only on the first call, ``$skiptoken`` pages, ``$deltatoken`` link, the delta
  function takes no ``$select``/``$expand``/``$filter``).
* Expired delta tokens: the Outlook delta-token cache evicts old tokens and the
  service answers ``410 Gone`` asking for a full resync
  (https://learn.microsoft.com/answers/questions/649481 ;
  https://learn.microsoft.com/graph/delta-query-overview#synchronization-reset),
  with the error code ``syncStateNotFound`` and the message "The sync state
  generation is not found..." quoted in
  https://devblogs.microsoft.com/microsoft365dev/duration-of-change-tracking-tokens-for-identity-and-education-resources/
* ``cancelledOccurrences`` ("OID.<seriesMasterId>.<yyyy-MM-dd>") and
  ``exceptionOccurrences`` are returned only on ``$select`` / ``$expand`` of a
  series master: https://learn.microsoft.com/graph/api/resources/event
* Extended properties, ``$expand=singleValueExtendedProperties($filter=id eq '…')``
  and ``$filter=singleValueExtendedProperties/Any(ep: ep/id eq '…' and ep/value eq '…')``:
  https://learn.microsoft.com/graph/api/singlevaluelegacyextendedproperty-get
* ``$batch`` limit of 20: https://learn.microsoft.com/graph/json-batching
* Graph has no switch to stop invitation mails when attendees are added
  (microsoftgraph/msgraph-sdk-dotnet#1549, microsoftgraph/microsoft-graph-docs#2309);
  this server records the mails it "sends" in :attr:`GraphServer.mails`.
* ``transactionId`` "for the server to avoid redundant POST operations in case of
  client retries" (event resource, v1.0). How Graph answers the repeated POST is not
  documented; this server answers ``200 OK`` with the event made first (a fresh
  create is ``201 Created``), and the provider maps that to AlreadyExists.
* MSAL resolves endpoints from ``{authority}/v2.0/.well-known/openid-configuration``
  when instance discovery is off (msal/authority.py ``_initialize_entra_authority``).
"""

from __future__ import annotations

import argparse
import base64
import copy
import datetime as dt
import hashlib
import html
import json
import re
import secrets
import sys
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, quote, urlencode, urlsplit
from zoneinfo import ZoneInfo

import requests
from dateutil import rrule as du

from tests.fakes import graph_csdl
from tests.fakes.kit import (
    CLIENT_GONE,
    FAULT_KINDS,
    HOSTILE_KINDS,
    BackgroundServer,
    Fault,
    FaultQueue,
    NewEvent,
    RemoteCalendar,
    SeriesEdits,
    TestCA,
    delay,
    drop_connection,
    neutral_changes,
    response_word,
)
from tests.fakes.kit.hostile import bad_value_answer, deep_json

GRAPH_PREFIX = "/v1.0"
DEFAULT_CLIENT_ID = "00000000-0000-0000-0000-00000000ca15"
TENANT_ID = "72f988bf-0000-4000-8000-00000000cafe"
MAX_BATCH = 20
DEFAULT_DELTA_PAGE = 10  # Graph's default page size for calendarView delta
MAX_PAGE = 1000
KEEP_DELTA_TOKENS = 500  # older delta tokens fall out of the cache, as in Exchange Online

# Windows zone names Graph reports for events made in Outlook (a few common ones).
WINDOWS_ZONES = {
    "UTC": "UTC",
    "W. Europe Standard Time": "Europe/Berlin",
    "Romance Standard Time": "Europe/Paris",
    "GMT Standard Time": "Europe/London",
    "Central Europe Standard Time": "Europe/Budapest",
    "FLE Standard Time": "Europe/Helsinki",
    "Eastern Standard Time": "America/New_York",
    "Central Standard Time": "America/Chicago",
    "Mountain Standard Time": "America/Denver",
    "Pacific Standard Time": "America/Los_Angeles",
    "Tokyo Standard Time": "Asia/Tokyo",
    "AUS Eastern Standard Time": "Australia/Sydney",
}

# The attendee's answers (event-accept, event-tentativelyaccept, event-decline):
# each action's parameters and their JSON types.
RESPONSE_ACTIONS = {
    "accept": {"comment": str, "sendResponse": bool},
    "tentativelyAccept": {"comment": str, "sendResponse": bool, "proposedNewTime": dict},
    "decline": {"comment": str, "sendResponse": bool, "proposedNewTime": dict},
}
RESPONSE_OF_ACTION = {
    "accept": "accepted",
    "tentativelyAccept": "tentativelyAccepted",
    "decline": "declined",
}

RESPONSE_WORDS = {
    "no_response": "none",
    "accepted": "accepted",
    "tentative": "tentativelyAccepted",
    "declined": "declined",
}

_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_INDEX = {"first": 1, "second": 2, "third": 3, "fourth": 4, "last": -1}
# What a POST or PATCH of an event may set: the writable properties of the event
# resource page (https://learn.microsoft.com/graph/api/resources/event, "Update
# event" request body), plus transactionId on create and the extended properties.
WRITABLE = frozenset(
    {
        "allowNewTimeProposals", "attendees", "body", "categories", "end", "hideAttendees",
        "iCalUId", "importance", "isAllDay", "isOnlineMeeting", "isReminderOn", "location",
        "locations", "onlineMeetingProvider", "recurrence", "reminderMinutesBeforeStart",
        "responseRequested", "sensitivity", "showAs", "start", "subject", "transactionId",
        "singleValueExtendedProperties",
    }
)  # fmt: skip
_WRITABLE_NAVIGATION = frozenset({"singleValueExtendedProperties"})
# The delta function as the SDKs spell it: Kiota's msgraph-sdk requests
# ``.../calendarView/delta()``, the OData-qualified name is ``microsoft.graph.delta()``
# (https://learn.microsoft.com/graph/api/event-delta, HTTP request).
DELTA_SEGMENTS = frozenset({"delta", "delta()", "microsoft.graph.delta", "microsoft.graph.delta()"})
_EXT_ID = re.compile(r"^String (\{[0-9a-fA-F-]{36}\} Name \S+|0x[0-9a-fA-F]{4})$")


class GraphError(Exception):
    """An answer in Graph's error format."""

    def __init__(self, status: int, code: str, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


class OAuthError(Exception):
    """An answer in the identity platform's OAuth error format."""

    def __init__(self, error: str, description: str, status: int = 400, **extra):
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status
        self.extra = extra


# --------------------------------------------------------------------------- helpers


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _new_id(prefix: str = "AAMkAGI2") -> str:
    return prefix + _b64url(secrets.token_bytes(30))


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(WINDOWS_ZONES.get(name, name))
    except Exception as exc:
        raise GraphError(
            400,
            "TimeZoneNotSupportedException",
            f"A valid TimeZone value must be specified. {name}",
        ) from exc


def _parse_local(value: dict) -> datetime:
    """A dateTimeTimeZone object as an aware datetime."""
    if not isinstance(value, dict) or "dateTime" not in value:
        raise GraphError(400, "ErrorInvalidRequest", "dateTimeTimeZone requires dateTime.")
    text = str(value["dateTime"]).rstrip("Z")
    if "." in text:
        head, frac = text.split(".", 1)
        text = head + "." + frac[:6]
    try:
        naive = datetime.fromisoformat(text)
    except ValueError as exc:
        raise GraphError(
            400, "ErrorInvalidRequest", f"Cannot parse {value['dateTime']!r}."
        ) from exc
    return naive.replace(tzinfo=_zone(value.get("timeZone") or "UTC"))


def _fmt_local(moment: datetime, tz: str) -> dict:
    local = moment.astimezone(_zone(tz))
    return {"dateTime": local.strftime("%Y-%m-%dT%H:%M:%S.0000000"), "timeZone": tz}


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _parse_query_time(text: str | None, name: str) -> datetime:
    if not text:
        raise GraphError(
            400,
            "ErrorInvalidParameter",
            f"This request requires a time window specified by {name}.",
        )
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise GraphError(400, "ErrorInvalidParameter", f"Invalid {name}.") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _html_to_preview(content: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", content))).strip()[:255]


def _occurrence_id(master_id: str, original_start: datetime) -> str:
    raw = f"{master_id}/{original_start.astimezone(UTC):%Y%m%dT%H%M%S}".encode()
    return "AAMkOcc" + _b64url(hashlib.sha256(raw).digest()) + _b64url(raw[-15:])


# --------------------------------------------------------------------------- recurrence


def expand_pattern(recurrence: dict, first_start: datetime, tz: str, until: datetime):
    """Occurrence starts of a patternedRecurrence, up to ``until`` (aware datetimes).

    Written here independently of the provider's converter, so a bug there is
    not mirrored by the server.
    """
    pattern = recurrence.get("pattern") or {}
    rng = recurrence.get("range") or {}
    zone = _zone(rng.get("recurrenceTimeZone") or tz)
    local = first_start.astimezone(zone).replace(tzinfo=None)
    if rng.get("startDate"):
        start_date = dt.date.fromisoformat(rng["startDate"])
        local = datetime.combine(start_date, local.time())
    kind = pattern.get("type")
    interval = int(pattern.get("interval") or 1)
    kwargs: dict = {"dtstart": local, "interval": interval}
    days = [du.weekdays[_WEEKDAYS.index(d.lower())] for d in pattern.get("daysOfWeek") or []]
    index = _INDEX.get((pattern.get("index") or "first").lower(), 1)
    if kind == "daily":
        freq = du.DAILY
    elif kind == "weekly":
        freq = du.WEEKLY
        kwargs["byweekday"] = days or [du.weekdays[local.weekday()]]
        kwargs["wkst"] = du.weekdays[_WEEKDAYS.index(pattern.get("firstDayOfWeek") or "sunday")]
    elif kind == "absoluteMonthly":
        freq = du.MONTHLY
        kwargs["bymonthday"] = int(pattern.get("dayOfMonth") or local.day)
    elif kind == "relativeMonthly":
        freq = du.MONTHLY
        kwargs["byweekday"] = days
        kwargs["bysetpos"] = index
    elif kind == "absoluteYearly":
        freq = du.YEARLY
        kwargs["bymonth"] = int(pattern.get("month") or local.month)
        kwargs["bymonthday"] = int(pattern.get("dayOfMonth") or local.day)
    elif kind == "relativeYearly":
        freq = du.YEARLY
        kwargs["bymonth"] = int(pattern.get("month") or local.month)
        kwargs["byweekday"] = days
        kwargs["bysetpos"] = index
    else:
        raise GraphError(400, "ErrorInvalidRecurrence", f"Unknown recurrence type {kind!r}.")
    range_type = rng.get("type", "noEnd")
    if range_type == "numbered":
        kwargs["count"] = int(rng.get("numberOfOccurrences") or 1)
    elif range_type == "endDate":
        end_date = dt.date.fromisoformat(rng["endDate"])
        kwargs["until"] = datetime.combine(end_date, dt.time(23, 59, 59))
    elif range_type != "noEnd":
        raise GraphError(400, "ErrorInvalidRecurrence", f"Unknown range type {range_type!r}.")
    limit = until.astimezone(zone).replace(tzinfo=None)
    out = []
    for start in du.rrule(freq, **kwargs):
        if start > limit:
            break
        out.append(start.replace(tzinfo=zone).astimezone(UTC))
        if len(out) > 5000:
            break
    return out


def _pattern_for(rrule: str, start: datetime, tz: str) -> dict:
    """The patternedRecurrence another client (Outlook) makes for a simple RFC 5545
    rule: DAILY or WEEKLY (BYDAY), INTERVAL, COUNT or UNTIL."""
    parts = dict(p.split("=", 1) for p in rrule.upper().split(";") if p)
    local = start.astimezone(_zone(tz))
    days = {"MO": 0, "TU": 1, "WE": 2, "TH": 3, "FR": 4, "SA": 5, "SU": 6}
    pattern: dict = {"type": parts["FREQ"].lower(), "interval": int(parts.get("INTERVAL", 1))}
    if pattern["type"] == "weekly":
        byday = parts.get("BYDAY", list(days)[local.weekday()]).split(",")
        pattern.update(daysOfWeek=[_WEEKDAYS[days[d]] for d in byday], firstDayOfWeek="monday")
    elif pattern["type"] != "daily":
        raise ValueError(f"the test server makes only daily and weekly series, not {rrule!r}")
    rng: dict = {"startDate": local.date().isoformat(), "recurrenceTimeZone": tz}
    if "COUNT" in parts:
        rng.update(type="numbered", numberOfOccurrences=int(parts["COUNT"]))
    elif "UNTIL" in parts:
        until = datetime.strptime(parts["UNTIL"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        rng.update(type="endDate", endDate=until.astimezone(_zone(tz)).date().isoformat())
    else:
        rng["type"] = "noEnd"
    return {"pattern": pattern, "range": rng}


def _validate_recurrence(recurrence: dict) -> None:
    pattern = recurrence.get("pattern")
    rng = recurrence.get("range")
    if not isinstance(pattern, dict) or not isinstance(rng, dict):
        raise GraphError(400, "ErrorInvalidRecurrence", "Recurrence needs a pattern and a range.")
    if pattern.get("type") in ("weekly", "relativeMonthly", "relativeYearly") and not pattern.get(
        "daysOfWeek"
    ):
        raise GraphError(400, "ErrorInvalidRecurrence", "daysOfWeek is required for this pattern.")
    for day in pattern.get("daysOfWeek") or []:
        if str(day).lower() not in _WEEKDAYS:
            raise GraphError(400, "ErrorInvalidRecurrence", f"Invalid day of week {day!r}.")
    if rng.get("type") == "endDate" and not rng.get("endDate"):
        raise GraphError(400, "ErrorInvalidRecurrence", "endDate range needs an endDate.")
    if not rng.get("startDate"):
        raise GraphError(400, "ErrorInvalidRecurrence", "The recurrence range needs a startDate.")


# --------------------------------------------------------------------------- state


@dataclass
class _DeltaState:
    calendar_id: str
    start: datetime
    end: datetime
    seen: dict[str, str]
    seq: int = 0  # deletions logged after this are reported, known or not


@dataclass
class _Pages:
    items: list[dict]
    pos: int
    page_size: int
    then: _DeltaState | None  # the delta state to link to at the end (None for plain lists)
    base: str
    expanded: frozenset = frozenset()  # the navigation properties the first request expanded


@dataclass
class _AuthCode:
    client_id: str
    redirect_uri: str
    challenge: str
    scope: str
    nonce: str | None


@dataclass
class _DeviceCode:
    client_id: str
    scope: str
    user_code: str
    expires: float
    approved: bool = False
    denied: bool = False


@dataclass
class User:
    id: str = "f1c2b3a4-0000-4000-8000-000000000001"
    display_name: str = "Sam Seller"
    mail: str = "sam@contoso.example"


@dataclass
class GraphState:
    """Everything the fake Graph keeps. Guarded by ``lock``."""

    user: User = field(default_factory=User)
    calendars: dict[str, dict] = field(default_factory=dict)
    events: dict[str, dict] = field(default_factory=dict)
    by_txn: dict[tuple[str, str], str] = field(default_factory=dict)
    deltas: OrderedDict[str, _DeltaState] = field(default_factory=OrderedDict)
    pages: dict[str, _Pages] = field(default_factory=dict)
    # Deleted Items: immutable id -> event (a declined meeting, moved there)
    deleted_items: dict[str, dict] = field(default_factory=dict)
    # (seq, calendar id, instance id, start, end) of every deleted instance
    removed: list[tuple[int, str, str, datetime, datetime]] = field(default_factory=list)
    seq: int = 0
    lock: threading.RLock = field(default_factory=threading.RLock)


class GraphServer(BackgroundServer, RemoteCalendar, SeriesEdits):
    """A stateful Graph + identity platform server on 127.0.0.1 over HTTPS.

    In-process API for tests: :meth:`start` / :meth:`stop`; the shared
    :class:`RemoteCalendar` vocabulary (another client's acts on the default
    calendar, :meth:`expire_sync_state`, :meth:`revoke_sign_in`,
    :meth:`fail_next`); and Graph's own wire-level helpers for the tests of this
    service (:meth:`add_event` and :meth:`patch_event` with Graph JSON,
    :meth:`event`, :meth:`events`, :meth:`cancel_meeting`,
    :meth:`expire_access_tokens`, :meth:`revoke_consent`). ``clock`` gives the
    server's notion of now. ``ca_bundle`` is the CA file clients trust it through.
    """

    def __init__(
        self,
        port: int = 0,
        client_id: str = DEFAULT_CLIENT_ID,
        clock: Callable[[], datetime] | None = None,
    ):
        self.client_id = client_id
        self.clock = clock or (lambda: datetime.now(UTC))
        self.state = GraphState()
        self._port = port
        # made now, so that a client can be configured before the server starts
        self._ca = TestCA("calsync test Graph CA")
        self.ca_bundle = self._ca.ca_bundle
        self.faults = FaultQueue()
        self.requests: list[tuple[str, str]] = []  # (method, path)
        self.mails: list[dict] = []  # invitations / updates / cancellations "sent"
        self.responses: list[dict] = []  # the owner's answers to others' meetings
        self.access_tokens: dict[str, float] = {}
        self.refresh_tokens: dict[str, str] = {}  # token -> scope
        self.auth_codes: dict[str, _AuthCode] = {}
        self.device_codes: dict[str, _DeviceCode] = {}
        self.consent = True
        self.mfa_required = False  # conditional access asks for an interactive sign-in
        self.access_token_lifetime = 3600
        self.device_interval = 1
        self.user_denies = False
        self.token_requests: list[dict] = []  # grant types seen at the token endpoint
        self._counter_lock = threading.Lock()
        self.answer_problems: list[str] = []  # answers that broke the Graph metadata
        default = self.add_calendar("Calendar", default=True)
        self.default_calendar_id = default

    # ------------------------------------------------------------------ life

    @property
    def base_url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def graph_url(self) -> str:
        return self.base_url + GRAPH_PREFIX

    @property
    def authority(self) -> str:
        return self.base_url + "/organizations"

    @property
    def owner(self) -> str:
        return self.state.user.mail

    def start(self) -> GraphServer:
        handler = type("Handler", (_Handler,), {"server_state": self})
        self._serve(handler, "graph-server", port=self._port, tls=True)
        return self

    def stop(self) -> None:
        super().stop()
        if self.answer_problems:  # a server bug: fail the test that met it
            found, self.answer_problems = self.answer_problems, []
            raise AssertionError("answers outside the Graph metadata: " + "; ".join(found))

    # ------------------------------------------------------------------ Graph's own test API

    def count_requests(self, which: str = "graph") -> int:
        """HTTP requests received so far: "graph" (the calendar API), "identity" or "all"."""
        with self._counter_lock:
            if which == "all":
                return len(self.requests)
            graph = sum(1 for _, p in self.requests if p.startswith(GRAPH_PREFIX))
            return graph if which == "graph" else len(self.requests) - graph

    def expire_access_tokens(self) -> None:
        with self._counter_lock:
            for token in self.access_tokens:
                self.access_tokens[token] = 0.0

    def revoke_consent(self) -> None:
        """The user (or an admin) withdrew consent: refresh tokens stop working."""
        self.consent = False
        self.expire_access_tokens()

    def grant_consent(self) -> None:
        self.consent = True

    def add_calendar(self, name: str, default: bool = False, can_edit: bool = True) -> str:
        with self.state.lock:
            cid = _new_id("AAMkCal")
            self.state.calendars[cid] = {
                "id": cid,
                "name": name,
                "color": "auto",
                "hexColor": "",
                "changeKey": _b64url(secrets.token_bytes(12)),
                "canShare": True,
                "canViewPrivateItems": True,
                "canEdit": can_edit,
                "isDefaultCalendar": default,
                # The default calendar cannot be deleted (calendar resource page).
                "isRemovable": not default,
                "isTallyingResponses": True,
                "allowedOnlineMeetingProviders": ["teamsForBusiness"],
                "defaultOnlineMeetingProvider": "teamsForBusiness",
                "owner": {"name": self.state.user.display_name, "address": self.state.user.mail},
            }
            return cid

    def add_event(
        self, calendar_id: str | None = None, organizer: str | None = None, **body
    ) -> str:
        """Create an event from Graph JSON as another client (Outlook, a colleague's invitation)."""
        with self.state.lock:
            event = self._create(calendar_id or self.default_calendar_id, body, organizer=organizer)
            return event["id"]

    def event(self, event_id: str) -> dict:
        """The stored event (or occurrence) as Graph would answer it, with extended properties."""
        with self.state.lock:
            return self._render(self._find(event_id), select=None, expand_ext=True)

    def events(self, calendar_id: str | None = None) -> list[dict]:
        """Stored single events and series masters of a calendar."""
        cid = calendar_id or self.default_calendar_id
        with self.state.lock:
            return [
                self._render(e, select=None, expand_ext=True)
                for e in self.state.events.values()
                if e["_calendar"] == cid and e["type"] in ("singleInstance", "seriesMaster")
            ]

    def patch_event(self, event_id: str, **fields) -> dict:
        """PATCH as another client (fields in Graph JSON shape)."""
        with self.state.lock:
            return self._render(self._patch(event_id, fields, None), select=None)

    def cancel_meeting(self, event_id: str) -> None:
        """The organiser (someone else) cancelled the meeting."""
        with self.state.lock:
            event = self._find(event_id)
            event["isCancelled"] = True
            event["subject"] = "Canceled: " + event.get("subject", "")
            self._touch(event)

    def occurrences(self, master_id: str) -> list[dict]:
        """Every occurrence and exception of a series, by original start."""
        with self.state.lock:
            master = self._find(master_id)
            items = self._instances(
                master, datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
            )
            rendered = [self._render(i, select=None) for i in items]
        return sorted(rendered, key=lambda i: i["originalStart"])

    def occurrence_id(self, master_id: str, original_start: datetime) -> str:
        for item in self.occurrences(master_id):
            original = datetime.fromisoformat(item["originalStart"].replace("Z", "+00:00"))
            if original == original_start:
                return item["id"]
        raise KeyError(original_start)

    # ------------------------------------------------------------------ the shared vocabulary

    def _create_event(self, new: NewEvent) -> str:
        event_id = self.add_event(organizer=new.organizer, **self._event_fields(new))
        if new.join_url:
            # the Teams meeting its organiser made: onlineMeeting is read-only
            # (onlineMeetingInfo, set by the service once isOnlineMeeting is on)
            with self.state.lock:
                self._find(event_id).update(
                    isOnlineMeeting=True,
                    onlineMeetingProvider="teamsForBusiness",
                    onlineMeeting={"joinUrl": new.join_url},
                )
        return event_id

    def create_series(
        self, subject: str, start: datetime, end: datetime, rrule: str, **fields
    ) -> str:
        new = NewEvent(subject, start, end, **fields)
        recurrence = _pattern_for(rrule, start, new.timezone)
        return self.add_event(
            organizer=new.organizer, recurrence=recurrence, **self._event_fields(new)
        )

    def cancel_occurrence(self, master_id: str, original_start: datetime) -> None:
        """The organiser cancels one occurrence: in the attendee's calendar it stays
        as an exception with ``isCancelled: true`` (the meeting request's
        cancellation is applied to that occurrence; event resource: "isCancelled:
        Set to true if the event has been canceled"), its subject "Canceled: …"
        and shown as free, until the attendee removes it. calendarView lists it,
        and the master's ``exceptionOccurrences`` carry it."""
        with self.state.lock:
            event = self._find(self.occurrence_id(master_id, original_start))
            if event["type"] == "occurrence":
                event = self._make_exception(event)
            event.update(
                isCancelled=True, subject="Canceled: " + event.get("subject", ""), showAs="free"
            )
            self._touch(event)

    def split_series(self, master_id: str, original_start: datetime, **changes) -> str:
        """Outlook's "this and following" (there is no Graph call for it): the old
        series' range ends with the last occurrence before ``original_start``
        (``range.type`` endDate), its exceptions and deleted occurrences from then
        on go, the earlier ones stay; a new series master (an event of its own: new
        id and iCalUId) repeats by the same pattern from that occurrence on, for
        what was left of a numbered range, with ``changes`` applied. A ``start``
        among them moves the rest as Outlook does: the new series' range starts on
        that day, and a weekly pattern repeats on its weekday instead of the cut's."""
        with self.state.lock:
            master = self._find(master_id)
            at = original_start.astimezone(UTC)
            rng = master["recurrence"]["range"]
            zone = _zone(rng.get("recurrenceTimeZone") or master["originalStartTimeZone"] or "UTC")
            far = self.clock() + timedelta(days=5 * 365)
            tz = master["originalStartTimeZone"] or "UTC"
            originals = expand_pattern(master["recurrence"], master["_start"], tz, far)
            if at not in originals:
                raise ValueError(f"{master_id} has no occurrence at {original_start}")
            earlier = [o for o in originals if o < at]
            if not earlier:
                raise ValueError("splitting at the first occurrence changes the whole series")
            new_range = {**rng, "startDate": at.astimezone(zone).date().isoformat()}
            if rng.get("type") == "numbered":
                new_range["numberOfOccurrences"] = int(rng["numberOfOccurrences"]) - len(earlier)
            old_range = {k: v for k, v in rng.items() if k != "numberOfOccurrences"}
            old_range.update(
                type="endDate", endDate=earlier[-1].astimezone(zone).date().isoformat()
            )
            master["recurrence"] = {**master["recurrence"], "range": old_range}
            for original in [o for o in master["_exceptions"] if o >= at]:
                self.state.events.pop(master["_exceptions"].pop(original), None)
            master["_cancelled"] = {o for o in master["_cancelled"] if o < at}
            self._touch(master)
            duration = master["_end"] - master["_start"]
            pattern = copy.deepcopy(master["recurrence"]["pattern"])
            first = changes.pop("start", at).astimezone(UTC)
            duration = changes.pop("end", first + duration) - first
            new_range["startDate"] = first.astimezone(zone).date().isoformat()
            cut_day = _WEEKDAYS[at.astimezone(zone).weekday()]
            if pattern.get("daysOfWeek") == [cut_day]:
                pattern["daysOfWeek"] = [_WEEKDAYS[first.astimezone(zone).weekday()]]
            body = {
                "subject": master["subject"],
                "body": copy.deepcopy(master["body"]),
                "location": {"displayName": master["location"]["displayName"]},
                "sensitivity": master["sensitivity"],
                "start": _fmt_local(first, tz),
                "end": _fmt_local(first + duration, tz),
                "recurrence": {"pattern": pattern, "range": new_range},
            }
            if master["attendees"]:
                body["attendees"] = [
                    {"emailAddress": dict(a["emailAddress"]), "type": a.get("type", "required")}
                    for a in master["attendees"]
                ]
            organizer = None if master["isOrganizer"] else master["organizer"]["emailAddress"]
            new = self._create(
                master["_calendar"], body, organizer=organizer and organizer["address"]
            )
            if changes:
                self._patch(new["id"], self._patch_for(changes), None)
            return new["id"]

    def _event_fields(self, new: NewEvent) -> dict:
        fields: dict = {
            "subject": new.subject,
            "start": _fmt_local(new.start, new.timezone),
            "end": _fmt_local(new.end, new.timezone),
            "sensitivity": new.sensitivity,
            "showAs": new.show_as,  # freeBusyStatus: the neutral words are Graph's
        }
        if new.body:
            # as Outlook sends HTML: a whole document
            fields["body"] = (
                {"contentType": "html", "content": f"<html><body>{new.body}</body></html>"}
                if new.html
                else {"contentType": "text", "content": new.body}
            )
        if new.location:
            fields["location"] = {"displayName": new.location}
        people = [
            {"emailAddress": {"address": email, "name": name} if name else {"address": email}}
            for name, email in new.attendees
        ]
        if people:
            fields["attendees"] = people
        return fields

    def create_all_day_event(self, subject: str, day: dt.date, days: int = 1) -> str:
        return self.add_event(
            subject=subject,
            isAllDay=True,
            start={"dateTime": f"{day}T00:00:00", "timeZone": "UTC"},
            end={"dateTime": f"{day + timedelta(days=days)}T00:00:00", "timeZone": "UTC"},
        )

    def _patch_for(self, changes: dict) -> dict:
        changes = neutral_changes(changes)
        html_body = changes.pop("html", False)
        patch: dict = {}
        for name, value in changes.items():
            if name in ("start", "end"):
                patch[name] = _fmt_local(value, "UTC")
            elif name == "location":
                patch[name] = {"displayName": value}
            elif name == "body":
                patch[name] = {"contentType": "html" if html_body else "text", "content": value}
            elif name == "show_as":
                patch["showAs"] = value
            else:
                patch[name] = value
        return patch

    def edit_event(self, remote_id: str, **changes) -> None:
        self.patch_event(remote_id, **self._patch_for(changes))

    def delete_event(self, remote_id: str) -> None:
        with self.state.lock:
            self._delete(remote_id, None)

    def cancel_event(self, remote_id: str) -> None:
        self.cancel_meeting(remote_id)

    def add_attendee(self, remote_id: str, email: str, name: str | None = None) -> None:
        address = {"address": email, "name": name} if name else {"address": email}
        attendees = [*self.event(remote_id)["attendees"], {"emailAddress": address}]
        self.patch_event(remote_id, attendees=attendees)

    def set_response(self, remote_id: str, email: str, response: str) -> None:
        word = response_word(response, RESPONSE_WORDS)
        with self.state.lock:
            event = self._find(remote_id)
            target = self._stored_target(event)
            for attendee in target.get("attendees", []):
                if attendee["emailAddress"]["address"].lower() == email.lower():
                    attendee["status"] = {"response": word, "time": _iso(self.clock())}
                    break
            else:
                raise KeyError(email)
            self._touch(target)

    def decline_elsewhere(self, remote_id: str) -> None:
        # Outlook declines on the owner's behalf: as /decline does, the meeting
        # leaves the calendar for Deleted Items
        with self.state.lock:
            event = self._find(remote_id)
            assert not event.get("isOrganizer", True), "only someone else's meeting is declined"
            now = _iso(self.clock())
            event["responseStatus"] = {"response": "declined", "time": now}
            own = self.state.user.mail.lower()
            for attendee in event["attendees"]:
                if attendee["emailAddress"]["address"].lower() == own:
                    attendee["status"] = {"response": "declined", "time": now}
            self._to_deleted_items(event)

    def answer_occurrence(
        self, master_id: str, original_start: datetime, email: str, response: str
    ) -> None:
        # Exchange tracks an answer to one occurrence on that occurrence, which
        # then is an exception of the series (event type "exception": "an
        # occurrence of a recurring series that has been changed",
        # learn.microsoft.com/graph/api/resources/event), the rest as the series.
        word = response_word(response, RESPONSE_WORDS)
        with self.state.lock:
            event = self._find(self.occurrence_id(master_id, original_start))
            if event["type"] == "occurrence":
                event = self._make_exception(event)
            for attendee in event.get("attendees", []):
                if attendee["emailAddress"]["address"].lower() == email.lower():
                    attendee["status"] = {"response": word, "time": _iso(self.clock())}
                    break
            else:
                raise KeyError(email)
            self._touch(event)

    def occurrence_starts(self, master_id: str) -> list[datetime]:
        # a cancelled occurrence still shows in Outlook, struck through: it is not live
        live = [i for i in self.occurrences(master_id) if not i.get("isCancelled")]
        return sorted(_parse_local(i["start"]) for i in live)

    def delete_occurrence(self, master_id: str, original_start: datetime) -> None:
        self.delete_event(self.occurrence_id(master_id, original_start))

    def edit_occurrence(self, master_id: str, original_start: datetime, **changes) -> None:
        self.edit_event(self.occurrence_id(master_id, original_start), **changes)

    def event_ids(self) -> list[str]:
        return [item["id"] for item in self.events()]

    def sensitivity(self, remote_id: str) -> str:
        return self.event(remote_id)["sensitivity"]  # Graph's words are the neutral ones

    def show_as(self, remote_id: str) -> str:
        return self.event(remote_id)["showAs"]  # so are its freeBusyStatus words

    def invitations_sent(self) -> int:
        return len(self.mails)

    def own_response(self, remote_id: str) -> str | None:
        with self.state.lock:
            event = self.state.events.get(remote_id)
            if event is None:
                return None
            word = event["responseStatus"]["response"]
        neutral = {v: k for k, v in RESPONSE_WORDS.items()}
        return neutral.get(word, "no_response")  # "notResponded" and "organizer" alike

    def expire_sync_state(self) -> None:
        """Every delta link handed out so far answers 410 syncStateNotFound."""
        with self.state.lock:
            self.state.deltas.clear()

    def revoke_sign_in(self) -> None:
        self.revoke_consent()

    def restore_sign_in(self) -> None:
        self.grant_consent()

    # ------------------------------------------------------------------ faults / auth

    fault_kinds = (*FAULT_KINDS, *HOSTILE_KINDS)  # tests/fakes/kit/hostile.py

    def fail_next(self, kind: str, count: int = 1, **options) -> None:
        """The kit's :meth:`RemoteCalendar.fail_next`; ``on="batch_part"`` throttles
        single requests inside a ``$batch`` (each answered 429 in the batch's
        responses, https://learn.microsoft.com/graph/json-batching)."""
        if options.get("on") == "batch_part" and kind in ("drop", "slow", "malformed"):
            raise ValueError(f"{kind!r} cannot hit a single request of a batch")
        super().fail_next(kind, count, **options)

    def _take_fault(self, method: str, path: str) -> Fault | None:
        write = method in ("POST", "PATCH", "DELETE")  # $batch is a POST, and carries writes
        return self.faults.take(path, write=write)

    def _check_token(self, header: str | None) -> None:
        if not header or not header.startswith("Bearer "):
            raise GraphError(
                401,
                "InvalidAuthenticationToken",
                "Access token is empty.",
                {"WWW-Authenticate": 'Bearer realm="", error="invalid_token"'},
            )
        token = header[len("Bearer ") :]
        with self._counter_lock:
            expires = self.access_tokens.get(token)
        if expires is None or expires < time.time():
            raise GraphError(
                401,
                "InvalidAuthenticationToken",
                "Access token has expired or is not yet valid.",
                {
                    "WWW-Authenticate": 'Bearer realm="", error="invalid_token", '
                    'error_description="The access token has expired"'
                },
            )

    # ------------------------------------------------------------------ events

    def _stored_target(self, event: dict) -> dict:
        """Occurrences are virtual; their data lives on the master."""
        if event.get("type") == "occurrence":
            return self.state.events[event["seriesMasterId"]]
        return event

    def _touch(self, event: dict) -> None:
        event["changeKey"] = _b64url(secrets.token_bytes(12))
        event["lastModifiedDateTime"] = _iso(self.clock())
        if event.get("type") == "exception":
            # Exchange keeps exceptions inside the master item: it changes too.
            master = self.state.events.get(event["seriesMasterId"])
            if master is not None:
                master["changeKey"] = _b64url(secrets.token_bytes(12))
                master["lastModifiedDateTime"] = event["lastModifiedDateTime"]

    def _find(self, event_id: str) -> dict:
        event = self.state.events.get(event_id)
        if event is not None:
            return event
        occurrence = self._occurrences_index().get(event_id)
        if occurrence is not None:
            return occurrence
        raise GraphError(
            404, "ErrorItemNotFound", "The specified object was not found in the store."
        )

    def _occurrences_index(self) -> dict[str, dict]:
        """Occurrence ids of every series, within a broad span (for id look-ups)."""
        now = self.clock()
        out = {}
        for master in list(self.state.events.values()):
            if master["type"] != "seriesMaster":
                continue
            for occ in self._instances(
                master, now - timedelta(days=3 * 365), now + timedelta(days=5 * 365)
            ):
                out[occ["id"]] = occ
        return out

    def _create(self, calendar_id: str, body: dict, organizer: str | None = None) -> dict:
        if calendar_id not in self.state.calendars:
            raise GraphError(
                404, "ErrorItemNotFound", "The specified object was not found in the store."
            )
        if not self.state.calendars[calendar_id]["canEdit"]:
            raise GraphError(
                403, "ErrorAccessDenied", "Access is denied. Check credentials and try again."
            )
        for key in ("start", "end"):
            if key not in body:
                raise GraphError(400, "ErrorInvalidRequest", f"The {key} time must be specified.")
        now = self.clock()
        eid = _new_id()
        user = self.state.user
        own = organizer is None or organizer.lower() == user.mail.lower()
        org_address = user.mail if own else organizer
        event = {
            "id": eid,
            # its immutable id (Prefer: IdType="ImmutableId"), which no move changes
            "_immutable": _new_id("AAkALgAAAAAAHYQDEapmEc2byACqAC-EWg0A"),
            "createdDateTime": _iso(now),
            "lastModifiedDateTime": _iso(now),
            "changeKey": _b64url(secrets.token_bytes(12)),
            "categories": [],
            "transactionId": body.get("transactionId"),
            "originalStartTimeZone": None,
            "originalEndTimeZone": None,
            "iCalUId": body.get("iCalUId")
            or ("040000008200E00074C5B7101A82E008" + secrets.token_hex(28)),
            "reminderMinutesBeforeStart": 15,
            "isReminderOn": True,
            "subject": "",
            "bodyPreview": "",
            "importance": "normal",
            "sensitivity": "normal",
            "isAllDay": False,
            "isCancelled": False,
            "isOrganizer": own,
            "responseRequested": True,
            # The signed-in user's own response: "organizer" for their own meetings.
            "responseStatus": {
                "response": "organizer" if own else "notResponded",
                "time": "0001-01-01T00:00:00Z",
            },
            "webLink": "https://outlook.office365.com/owa/?itemid="
            + quote(eid, safe="")
            + "&exvsurl=1&path=/calendar/item",
            "hasAttachments": False,
            "isDraft": False,
            "hideAttendees": False,
            "allowNewTimeProposals": True,
            "isOnlineMeeting": False,
            "onlineMeetingProvider": "unknown",
            "onlineMeeting": None,
            "onlineMeetingUrl": None,
            "seriesMasterId": None,
            "showAs": "busy",
            "type": "singleInstance",
            "body": {"contentType": "text", "content": ""},
            "location": {
                "displayName": "",
                "locationType": "default",
                "uniqueIdType": "unknown",
                "address": {},
                "coordinates": {},
            },
            "locations": [],
            "recurrence": None,
            "attendees": [],
            "organizer": {
                "emailAddress": {"name": org_address.split("@")[0], "address": org_address}
            },
            "_calendar": calendar_id,
            "_ext": {},
            "_cancelled": set(),
            "_exceptions": {},
        }
        self._apply(event, body, creating=True)
        self.state.events[eid] = event
        if body.get("transactionId"):
            self.state.by_txn[(calendar_id, body["transactionId"])] = eid
        if own and event["attendees"]:
            self._mail(
                "invitation", event, [a["emailAddress"]["address"] for a in event["attendees"]]
            )
        return event

    def _mail(self, kind: str, event: dict, recipients: list[str]) -> None:
        if recipients:
            self.mails.append({"kind": kind, "event": event["id"], "to": sorted(recipients)})

    def _apply(self, event: dict, body: dict, creating: bool) -> None:
        """Merge a POST/PATCH body into a stored event, validating like Graph does."""
        found = graph_csdl.problems(body, "event", "event", expanded=_WRITABLE_NAVIGATION)
        if found:
            # Graph's OData reader refuses a body that breaks the metadata.
            raise GraphError(400, "RequestBodyRead", found[0])
        unknown = {k for k in body if not graph_csdl.is_control(k)} - WRITABLE
        if unknown:
            raise GraphError(
                400,
                "ErrorInvalidPropertySet",
                f"The property '{sorted(unknown)[0]}' is read-only and cannot be set.",
            )
        if not creating and "transactionId" in body:
            raise GraphError(400, "ErrorInvalidRequest", "transactionId cannot be changed.")
        if "subject" in body:
            if len(body["subject"] or "") > 255:
                raise GraphError(400, "ErrorInvalidRequest", "The subject is too long.")
            event["subject"] = body["subject"] or ""
        if "body" in body:
            content_type = (body["body"] or {}).get("contentType", "text").lower()
            if content_type not in ("text", "html"):
                raise GraphError(400, "ErrorInvalidRequest", "contentType must be text or html.")
            content = (body["body"] or {}).get("content") or ""
            event["body"] = {"contentType": content_type, "content": content}
            event["bodyPreview"] = (
                _html_to_preview(content) if content_type == "html" else content[:255]
            )
        if "locations" in body:
            # Several locations: ``location`` shows their names joined by "; "
            # (event resource page, "locations"; create-event example with several).
            places = [_location(p) for p in body["locations"] or []]
            event["locations"] = places
            event["location"] = _location(
                {"displayName": "; ".join(p["displayName"] for p in places if p["displayName"])}
            )
        if "location" in body:
            # Setting ``location`` replaces what ``locations`` held (event resource page).
            event["location"] = _location(body["location"] or {})
            event["locations"] = [event["location"]] if event["location"]["displayName"] else []
        if "sensitivity" in body:
            if body["sensitivity"] not in ("normal", "personal", "private", "confidential"):
                raise GraphError(400, "ErrorInvalidRequest", "Invalid sensitivity.")
            event["sensitivity"] = body["sensitivity"]
        if "isAllDay" in body:
            event["isAllDay"] = bool(body["isAllDay"])
        for key in ("start", "end"):
            if key in body:
                moment = _parse_local(body[key])
                tz = body[key].get("timeZone") or "UTC"
                event["_" + key] = moment.astimezone(UTC)
                event["original" + key.capitalize() + "TimeZone"] = tz
        if event["_end"] < event["_start"]:
            raise GraphError(
                400, "ErrorInvalidRequest", "The end time must be after the start time."
            )
        if event["isAllDay"]:
            tz = _zone(event["originalStartTimeZone"])
            for key in ("_start", "_end"):
                if event[key].astimezone(tz).time() != dt.time(0):
                    raise GraphError(
                        400,
                        "ErrorInvalidRequest",
                        "All-day events must start and end at midnight.",
                    )
        if "attendees" in body:
            attendees = []
            for item in body["attendees"] or []:
                address = ((item or {}).get("emailAddress") or {}).get("address")
                if not address or "@" not in address:
                    raise GraphError(
                        400, "ErrorInvalidRecipients", "At least one recipient is not valid."
                    )
                old = next(
                    (
                        a
                        for a in event["attendees"]
                        if a["emailAddress"]["address"].lower() == address.lower()
                    ),
                    None,
                )
                attendees.append(
                    {
                        "type": item.get("type", "required"),
                        "status": old["status"]
                        if old
                        else {"response": "none", "time": "0001-01-01T00:00:00Z"},
                        "emailAddress": {
                            "name": item["emailAddress"].get("name") or address,
                            "address": address,
                        },
                    }
                )
            event["attendees"] = attendees
        if "recurrence" in body:
            recurrence = body["recurrence"]
            if recurrence is not None:
                if event["type"] in ("occurrence", "exception"):
                    raise GraphError(
                        400, "ErrorInvalidRequest", "An occurrence cannot have a recurrence."
                    )
                _validate_recurrence(recurrence)
                event["type"] = "seriesMaster"
            elif event["type"] == "seriesMaster":
                event["type"] = "singleInstance"
            if not creating and recurrence != event.get("recurrence"):
                # Exchange drops exceptions and deleted occurrences when the pattern changes.
                for exc_id in list(event["_exceptions"].values()):
                    self.state.events.pop(exc_id, None)
                event["_exceptions"] = {}
                event["_cancelled"] = set()
            event["recurrence"] = copy.deepcopy(recurrence)
        if "singleValueExtendedProperties" in body:
            for prop in body["singleValueExtendedProperties"] or []:
                if not _EXT_ID.match(str(prop.get("id", ""))):
                    raise GraphError(
                        400,
                        "ErrorInvalidProperty",
                        f"Invalid extended property id {prop.get('id')!r}.",
                    )
                event["_ext"][prop["id"].lower()] = (prop["id"], str(prop.get("value", "")))
        for key in (
            "showAs", "importance", "categories", "isReminderOn", "reminderMinutesBeforeStart",
            "responseRequested", "allowNewTimeProposals", "hideAttendees",
        ):  # fmt: skip
            if key in body and body[key] is not None:
                event[key] = body[key]
        if "onlineMeetingProvider" in body and body["onlineMeetingProvider"] is not None:
            event["onlineMeetingProvider"] = body["onlineMeetingProvider"]
        if "isOnlineMeeting" in body and body["isOnlineMeeting"] is not None:
            event["isOnlineMeeting"] = bool(body["isOnlineMeeting"])
            if event["isOnlineMeeting"]:
                if event["onlineMeetingProvider"] == "unknown":
                    calendar = self.state.calendars[event["_calendar"]]
                    event["onlineMeetingProvider"] = calendar["defaultOnlineMeetingProvider"]
                if not event["onlineMeeting"]:
                    event["onlineMeeting"] = {
                        "joinUrl": "https://teams.microsoft.com/l/meetup-join/19%3ameeting_"
                        + secrets.token_urlsafe(24)
                        + "%40thread.v2/0"
                    }
            else:
                event["onlineMeeting"] = None

    def _patch(self, event_id: str, body: dict, if_match: str | None) -> dict:
        event = self._find(event_id)
        self._check_match(event, if_match)
        if event.get("isCancelled"):
            raise GraphError(400, "ErrorInvalidRequest", "The meeting was cancelled.")
        if event["type"] == "occurrence":
            event = self._make_exception(event)
        before = (event["_start"], event["_end"], event["location"]["displayName"])
        old_attendees = {a["emailAddress"]["address"].lower() for a in event["attendees"]}
        self._apply(event, body, creating=False)
        self._touch(event)
        if event.get("isOrganizer", True):
            new = [a["emailAddress"]["address"] for a in event["attendees"]]
            added = [a for a in new if a.lower() not in old_attendees]
            self._mail("invitation", event, added)
            after = (event["_start"], event["_end"], event["location"]["displayName"])
            kept = [a for a in new if a.lower() in old_attendees]
            if after != before:
                self._mail("update", event, kept)
        return event

    def _respond(self, event_id: str, action: str, body) -> None:
        """The signed-in attendee answers a meeting: ``POST /me/events/{id}/accept``,
        ``/tentativelyAccept`` or ``/decline`` (learn.microsoft.com/graph/api/event-accept,
        event-tentativelyaccept, event-decline): parameters ``comment``,
        ``sendResponse`` (default true) and, for the last two, ``proposedNewTime``;
        ``202 Accepted`` with no body. The organiser cannot answer their own
        meeting ("It's expected that meeting organizer can't accept or reject
        their own meeting", microsoftgraph/microsoft-graph-docs#560); a response
        sent to a meeting whose organiser asked for none is refused
        (``responseRequested`` false, microsoft/botframework-components#1374).
        A declined meeting leaves the calendar for Deleted Items, as Outlook
        does (its event then reads as empty, microsoftgraph/microsoft-graph-docs#2284):
        the delta reports it ``@removed``."""
        if body is None:
            body = {}
        if not isinstance(body, dict):
            raise GraphError(400, "BadRequest", "Empty Payload. JSON content expected.")
        allowed = RESPONSE_ACTIONS[action]
        for name, value in body.items():
            if name not in allowed:
                raise GraphError(
                    400,
                    "RequestBodyRead",
                    f"The parameter '{name}' in the request payload is not a valid "
                    f"parameter for the operation '{action}'.",
                )
            kind = allowed[name]
            if value is not None and not isinstance(value, kind):
                raise GraphError(
                    400,
                    "RequestBodyRead",
                    f"Cannot convert the literal '{value}' to the expected type of "
                    f"the parameter '{name}'.",
                )
        event = self._find(event_id)
        if event.get("isCancelled"):
            raise GraphError(400, "ErrorInvalidRequest", "The meeting was cancelled.")
        if event.get("isOrganizer", True):
            raise GraphError(
                400,
                "ErrorInvalidRequest",
                "Your request can't be completed. You can't respond to a meeting you organized.",
            )
        send = body.get("sendResponse")
        send = True if send is None else send
        if send and not event.get("responseRequested", True):
            raise GraphError(
                400,
                "ErrorInvalidRequest",
                "Your request can't be completed. The meeting organizer didn't request a "
                "response, so sendResponse must be false.",
            )
        if event["type"] == "occurrence":
            event = self._make_exception(event)
        word = RESPONSE_OF_ACTION[action]
        now = _iso(self.clock())
        event["responseStatus"] = {"response": word, "time": now}
        own = self.state.user.mail.lower()
        for attendee in event["attendees"]:
            if attendee["emailAddress"]["address"].lower() == own:
                attendee["status"] = {"response": word, "time": now}
        # a response mail goes to the organiser only, not counted as an invitation
        self.responses.append({"event": event["id"], "response": word, "sent": bool(send)})
        if action == "decline":
            self._to_deleted_items(event)
            return
        self._touch(event)

    def _to_deleted_items(self, event: dict) -> None:
        """A declined meeting leaves the calendar for Deleted Items, as Outlook
        does: the delta reports it ``@removed``; its REST id changes with the
        folder, its immutable id does not ("immutable ID will NOT change if the
        item is moved to a different folder in the mailbox",
        learn.microsoft.com/graph/outlook-immutable-id), so an event there is
        read by its immutable id alone. Microsoft keeps deleted events there
        14 days by default (developer.nylas.com, "Deleted events")."""
        self._delete(event["id"], None)
        if event.get("_immutable") and event["type"] in ("singleInstance", "seriesMaster"):
            moved = dict(event, id=_new_id(), _calendar="deleteditems")
            self.state.deleted_items[event["_immutable"]] = moved

    def _find_immutable(self, immutable_id: str) -> dict:
        """A single event or series master by its immutable id, on a calendar
        or in Deleted Items."""
        for event in self.state.events.values():
            single = event["type"] in ("singleInstance", "seriesMaster")
            if single and event.get("_immutable") == immutable_id:
                return event
        if immutable_id in self.state.deleted_items:
            return self.state.deleted_items[immutable_id]
        raise GraphError(
            404, "ErrorItemNotFound", "The specified object was not found in the store."
        )

    def _translate_ids(self, body) -> dict:
        """``POST /me/translateExchangeIds`` (learn.microsoft.com/graph/api/
        user-translateexchangeids): ``inputIds`` (at most 1000), ``sourceIdType``
        and ``targetIdType`` of exchangeIdFormat; the answer lists a
        convertIdResult per id, ``targetId`` or ``errorDetails``. This server
        translates the REST ids of events into immutable ones only."""
        formats = ("entryId", "ewsId", "immutableEntryId", "restId", "restImmutableEntryId")
        if not isinstance(body, dict) or not isinstance(body.get("inputIds"), list):
            raise GraphError(400, "BadRequest", "The parameter 'inputIds' is required.")
        for name in ("sourceIdType", "targetIdType"):
            if body.get(name) not in formats:
                raise GraphError(
                    400, "BadRequest", f"The parameter '{name}' must be an exchangeIdFormat."
                )
        if (body["sourceIdType"], body["targetIdType"]) != ("restId", "restImmutableEntryId"):
            raise GraphError(400, "BadRequest", "This test server translates restId only.")
        if len(body["inputIds"]) > 1000:
            raise GraphError(400, "BadRequest", "At most 1000 ids can be translated at once.")
        out = []
        for source in body["inputIds"]:
            event = self.state.events.get(source) if isinstance(source, str) else None
            if event is None or not event.get("_immutable"):
                out.append(
                    {
                        "sourceId": source,
                        "errorDetails": {
                            "code": "ErrorItemNotFound",
                            "message": "The specified object was not found in the store.",
                        },
                    }
                )
            else:
                out.append({"sourceId": source, "targetId": event["_immutable"]})
        return {"value": out}

    def _make_exception(self, occurrence: dict) -> dict:
        master = self.state.events[occurrence["seriesMasterId"]]
        exception = {
            k: copy.deepcopy(v) for k, v in master.items() if k not in ("_exceptions", "_cancelled")
        }
        exception.update(
            id=occurrence["id"],
            type="exception",
            seriesMasterId=master["id"],
            recurrence=None,
            originalStart=occurrence["originalStart"],
            _original=occurrence["_original"],
            _start=occurrence["_start"],
            _end=occurrence["_end"],
            _exceptions={},
            _cancelled=set(),
        )
        self.state.events[exception["id"]] = exception
        master["_exceptions"][occurrence["_original"]] = exception["id"]
        return exception

    def _check_match(self, event: dict, if_match: str | None) -> None:
        if not if_match or if_match == "*":
            return
        value = if_match.strip()
        if value.startswith("W/"):
            value = value[2:]
        value = value.strip('"')
        if value != event["changeKey"]:
            raise GraphError(
                412,
                "ErrorIrresolvableConflict",
                "The send or update operation could not be performed because the change key "
                "passed in the request does not match the current change key for the item.",
            )

    def _log_removed(self, calendar_id: str, instances: list[dict]) -> None:
        # Outlook's delta reports deletions after the token even for items the
        # client never listed (created after the token), so they are logged.
        self.state.seq += 1
        for item in instances:
            self.state.removed.append(
                (self.state.seq, calendar_id, item["id"], item["_start"], item["_end"])
            )

    def _delete(self, event_id: str, if_match: str | None) -> None:
        event = self._find(event_id)
        self._check_match(event, if_match)
        if event["type"] == "seriesMaster":
            now = self.clock()
            span = (now - timedelta(days=3 * 365), now + timedelta(days=5 * 365))
            self._log_removed(event["_calendar"], self._instances(event, *span))
        else:
            self._log_removed(event["_calendar"], [event])
        if event["type"] in ("occurrence", "exception"):
            master = self.state.events[event["seriesMasterId"]]
            master["_cancelled"].add(event["_original"])
            exc_id = master["_exceptions"].pop(event["_original"], None)
            if exc_id:
                self.state.events.pop(exc_id, None)
            self._touch(master)
            return
        if event["type"] == "seriesMaster":
            for exc_id in event["_exceptions"].values():
                self.state.events.pop(exc_id, None)
        self.state.events.pop(event["id"], None)
        if event.get("isOrganizer", True) and event["attendees"]:
            self._mail(
                "cancellation", event, [a["emailAddress"]["address"] for a in event["attendees"]]
            )

    # ------------------------------------------------------------------ instances

    def _instances(self, master: dict, start: datetime, end: datetime) -> list[dict]:
        """Occurrences and exceptions of a series overlapping [start, end)."""
        duration = master["_end"] - master["_start"]
        tz = master["originalStartTimeZone"] or "UTC"
        out = []
        exceptions = master["_exceptions"]
        for original in expand_pattern(master["recurrence"], master["_start"], tz, end):
            if original + duration <= start and original not in exceptions:
                continue
            if original in master["_cancelled"]:
                continue
            if original in exceptions:
                continue
            occ = {k: v for k, v in master.items() if k not in ("_exceptions", "_cancelled")}
            occ.update(
                id=_occurrence_id(master["id"], original),
                type="occurrence",
                seriesMasterId=master["id"],
                recurrence=None,
                originalStart=_iso(original),
                _original=original,
                _start=original,
                _end=original + duration,
            )
            out.append(occ)
        for exc_id in exceptions.values():
            exc = self.state.events[exc_id]
            if exc["_end"] > start and exc["_start"] < end:
                out.append(exc)
        return out

    def _view(self, calendar_id: str, start: datetime, end: datetime) -> list[dict]:
        """calendarView: single instances, occurrences and exceptions in the window.

        Never a series master: calendarView "get[s] the occurrences, exceptions,
        and single instances of events in a calendar view" (calendar-list-
        calendarview), and for calendarView/delta "the events returned may include
        single instances or occurrences and exceptions of a recurring series"
        (https://learn.microsoft.com/graph/delta-query-events). A client learns a
        series' rule, its cancelled occurrences and exceptions from the master
        (``seriesMasterId``), read on its own; an occurrence cancelled by its
        organiser is listed as an exception with ``isCancelled: true``; the
        occurrences a split ends come back ``@removed``, the new series' as new."""
        out = []
        for event in list(self.state.events.values()):
            if event["_calendar"] != calendar_id:
                continue
            if event["type"] == "singleInstance":
                # A zero-length event at the window start still shows.
                if (event["_end"] > start and event["_start"] < end) or event["_start"] == start:
                    out.append(event)
            elif event["type"] == "seriesMaster":
                out.extend(self._instances(event, start, end))
        out.sort(key=lambda e: (e["_start"], e["id"]))
        return out

    # ------------------------------------------------------------------ rendering

    def _render(
        self,
        event: dict,
        select: set[str] | None,
        expand_ext: str | bool | None = None,
        expand_exceptions: bool = False,
        tz: str | None = None,
    ) -> dict:
        out_tz = tz or "UTC"
        data = {
            "@odata.etag": f'W/"{event["changeKey"]}"',
            **{k: copy.deepcopy(v) for k, v in event.items() if not k.startswith("_")},
        }
        data["start"] = _fmt_local(event["_start"], out_tz)
        data["end"] = _fmt_local(event["_end"], out_tz)
        if not data.get("transactionId"):
            data.pop("transactionId", None)  # "only returned if an app has set it"
        if event["type"] not in ("occurrence", "exception"):
            data.pop("originalStart", None)
        if event["type"] == "seriesMaster" and select and "cancelledoccurrences" in select:
            zone = _zone(event["recurrence"]["range"].get("recurrenceTimeZone") or "UTC")
            data["cancelledOccurrences"] = [
                f"OID.{event['id']}.{moment.astimezone(zone):%Y-%m-%d}"
                for moment in sorted(event["_cancelled"])
            ]
        if expand_exceptions and event["type"] == "seriesMaster":
            data["exceptionOccurrences"] = [
                self._render(self.state.events[i], select=None, tz=tz)
                for _, i in sorted(event["_exceptions"].items())
            ]
        if select:
            keep = {"id", "@odata.etag", "cancelledoccurrences", "exceptionoccurrences"} | select
            data = {k: v for k, v in data.items() if k.lower() in keep}
        if expand_ext:
            source = self._stored_target(event)
            if event["type"] == "exception":
                source = self.state.events.get(event["seriesMasterId"], event)
            props = list(source["_ext"].values())
            if isinstance(expand_ext, str):
                props = [p for p in props if p[0].lower() == expand_ext.lower()]
            if props:
                data["singleValueExtendedProperties"] = [{"id": i, "value": v} for i, v in props]
        return data

    # ------------------------------------------------------------------ Graph routes

    def graph(self, method: str, url: str, headers: dict, body) -> tuple[int, dict, object]:
        """One Graph request (also a $batch member). Returns (status, headers, body)."""
        parts = urlsplit(url)
        path = parts.path
        if path.startswith(GRAPH_PREFIX):
            path = path[len(GRAPH_PREFIX) :]
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        tz = None
        prefer = headers.get("prefer", "")
        match = re.search(r'outlook\.timezone="([^"]+)"', prefer)
        if match:
            tz = match.group(1)
            _zone(tz)
        page = re.search(r"odata\.maxpagesize=(\d+)", prefer)
        page_size = min(MAX_PAGE, int(page.group(1))) if page else None
        seg = [s for s in path.split("/") if s]
        if seg and seg[-1] in DELTA_SEGMENTS:
            seg[-1] = "delta"
        with self.state.lock:
            expanded = _expanded(query)
            if "$skiptoken" in query and query["$skiptoken"] in self.state.pages:
                expanded = self.state.pages[query["$skiptoken"]].expanded
            status, out_headers, data = self._route(
                method, seg, query, headers, body, tz, page_size
            )
        if isinstance(data, dict):
            data = self._answer(seg, data, expanded)
        return status, out_headers, data

    def _answer(self, seg: list[str], data: dict, expanded: frozenset) -> dict:
        """An answer with its @odata.context, checked against the Graph metadata."""
        user = f"users('{self.state.user.id}')"
        rest = seg[1:]
        single = "value" not in data
        if seg == ["me"]:
            context, type_name = "users/$entity", "user"
        elif rest == ["translateExchangeIds"]:
            # convertIdResult is not in the calendar subset of the metadata
            return {
                "@odata.context": f"{self.graph_url}/$metadata#Collection(convertIdResult)",
                **data,
            }
        elif rest and rest[-1] == "delta":
            context, type_name = "Collection(event)", "event"
        else:
            named = [s if s in _COLLECTIONS else f"('{s}')" for s in rest]
            if single and named and named[-1].startswith("("):
                named = [*named[:-1], "$entity"]
            elif single:
                named.append("$entity")  # a POST answers the entity it made
            context = user + "/" + "/".join(named).replace("/(", "(")
            on_calendar = rest and (rest[-1] == "calendars" or rest[-2:-1] == ["calendars"])
            type_name = "calendar" if on_calendar else "event"
        data = {"@odata.context": f"{self.graph_url}/$metadata#{context}", **data}
        found = graph_csdl.answer_problems(data, type_name, expanded)
        if found:
            with self._counter_lock:
                self.answer_problems.extend(found)
            raise GraphError(
                500, "InternalServerError", "The test server's answer breaks $metadata."
            )
        return data

    def _route(self, method, seg, query, headers, body, tz, page_size):
        st = self.state
        if seg == ["me"] and method == "GET":
            return (
                200,
                {},
                {
                    "@odata.context": f"{self.graph_url}/$metadata#users/$entity",
                    "id": st.user.id,
                    "displayName": st.user.display_name,
                    "mail": st.user.mail,
                    "userPrincipalName": st.user.mail,
                },
            )
        if seg == ["me", "calendars"] and method == "GET":
            return 200, {}, {"value": list(st.calendars.values())}
        if seg == ["me", "translateExchangeIds"] and method == "POST":
            return 200, {}, self._translate_ids(body)
        if seg[:2] == ["me", "calendar"]:
            seg = ["me", "calendars", self.default_calendar_id, *seg[2:]]
        if seg[:2] == ["me", "calendarView"]:
            seg = ["me", "calendars", self.default_calendar_id, *seg[1:]]
        cid = None
        if len(seg) >= 3 and seg[:2] == ["me", "calendars"]:
            cid = seg[2]
            if cid not in st.calendars:
                raise GraphError(
                    404, "ErrorItemNotFound", "The specified object was not found in the store."
                )
            if len(seg) == 3 and method == "GET":
                return 200, {}, st.calendars[cid]
            seg = ["me", *seg[3:]]
        if seg == ["me", "calendarView", "delta"] and method == "GET":
            return self._delta(cid or self.default_calendar_id, query, page_size, tz)
        if seg == ["me", "calendarView"] and method == "GET":
            if "$skiptoken" in query:
                return self._page(query["$skiptoken"], tz)
            start = _parse_query_time(query.get("startDateTime"), "startDateTime")
            end = _parse_query_time(query.get("endDateTime"), "endDateTime")
            items = self._view(cid or self.default_calendar_id, start, end)
            return self._list(items, query, page_size, tz, "calendarView")
        if seg == ["me", "events"]:
            target = cid or self.default_calendar_id
            if method == "POST":
                return self._post_event(target, body)
            if method == "GET":
                items = [
                    e
                    for e in st.events.values()
                    if e["_calendar"] == target and e["type"] in ("singleInstance", "seriesMaster")
                ]
                if "$filter" in query:
                    items = self._filter(items, query["$filter"])
                items.sort(key=lambda e: e["createdDateTime"])
                return self._list(items, query, page_size, tz, "events")
        if len(seg) >= 3 and seg[:2] == ["me", "events"]:
            event_id = seg[2]
            if len(seg) == 4 and seg[3] == "instances" and method == "GET":
                master = self._find(event_id)
                if master["type"] != "seriesMaster":
                    raise GraphError(
                        400, "ErrorInvalidRequest", "The event is not a series master."
                    )
                start = _parse_query_time(query.get("startDateTime"), "startDateTime")
                end = _parse_query_time(query.get("endDateTime"), "endDateTime")
                items = sorted(self._instances(master, start, end), key=lambda e: e["_start"])
                return self._list(items, query, page_size, tz, "instances")
            if len(seg) == 3:
                if method == "GET" and _immutable_ids(headers):
                    event = self._find_immutable(event_id)
                    select, ext, exc = self._shape(query)
                    rendered = self._render(event, select, ext, exc, tz)
                    return (
                        200,
                        {"ETag": f'W/"{event["changeKey"]}"'},
                        {
                            **rendered,
                            "id": event["_immutable"],
                        },
                    )
                if method == "GET":
                    event = self._find(event_id)
                    if cid and event["_calendar"] != cid:
                        raise GraphError(
                            404,
                            "ErrorItemNotFound",
                            "The specified object was not found in the store.",
                        )
                    select, ext, exc = self._shape(query)
                    return (
                        200,
                        {"ETag": f'W/"{event["changeKey"]}"'},
                        self._render(event, select, ext, exc, tz),
                    )
                if method == "PATCH":
                    if not isinstance(body, dict):
                        raise GraphError(400, "BadRequest", "Empty Payload. JSON content expected.")
                    event = self._patch(event_id, body, headers.get("if-match"))
                    return 200, {}, self._render(event, None, tz=tz)
                if method == "DELETE":
                    self._delete(event_id, headers.get("if-match"))
                    return 204, {}, None
            if len(seg) == 4 and seg[3] in RESPONSE_ACTIONS and method == "POST":
                self._respond(event_id, seg[3], body)
                return 202, {}, None
        raise GraphError(
            400, "BadRequest", f"Resource not found for the segment '{'/'.join(seg)}'."
        )

    def _post_event(self, calendar_id: str, body) -> tuple[int, dict, object]:
        if not isinstance(body, dict):
            raise GraphError(400, "BadRequest", "Empty Payload. JSON content expected.")
        txn = body.get("transactionId")
        if txn and (calendar_id, txn) in self.state.by_txn:
            existing = self.state.events.get(self.state.by_txn[(calendar_id, txn)])
            if existing is not None:
                return 200, {}, self._render(existing, None)
        event = self._create(calendar_id, body)
        return (
            201,
            {"Location": f"{self.graph_url}/me/events/{event['id']}"},
            self._render(event, None),
        )

    def _shape(self, query: dict) -> tuple[set[str] | None, str | bool | None, bool]:
        select = None
        if query.get("$select"):
            select = {s.strip().lower() for s in query["$select"].split(",") if s.strip()}
        ext: str | bool | None = None
        exceptions = False
        expand = query.get("$expand", "")
        for item in _split_expand(expand):
            name = item.split("(", 1)[0].strip()
            if name.lower() == "singlevalueextendedproperties":
                m = re.search(r"\$filter=id eq '([^']+)'", item)
                ext = m.group(1) if m else True
            elif name.lower() == "exceptionoccurrences":
                exceptions = True
            elif name:
                raise GraphError(400, "BadRequest", f"Could not find a property named '{name}'.")
        return select, ext, exceptions

    def _filter(self, items: list[dict], expression: str) -> list[dict]:
        m = re.fullmatch(
            r"singleValueExtendedProperties/any\(ep:\s*ep/id eq '([^']+)' and ep/value eq '([^']*)'\)",  # noqa: E501 - the service's own wording
            expression.strip(),
            flags=re.IGNORECASE,
        )
        if not m:
            raise GraphError(
                400,
                "ErrorInvalidUrlQueryFilter",
                "The query filter contains one or more invalid nodes.",
            )
        prop, value = m.group(1).lower(), m.group(2)
        return [e for e in items if e["_ext"].get(prop, (None, None))[1] == value]

    def _list(self, items, query, page_size, tz, name) -> tuple[int, dict, object]:
        select, ext, exc = self._shape(query)
        top = int(query.get("$top") or page_size or 10)
        rendered = [self._render(e, select, ext, exc, tz) for e in items]
        token = secrets.token_urlsafe(16)
        self.state.pages[token] = _Pages(
            rendered, 0, min(top, MAX_PAGE), None, name, _expanded(query)
        )
        return self._page(token, tz)

    def _page(self, token: str, tz) -> tuple[int, dict, object]:
        pages = self.state.pages.get(token)
        if pages is None:
            raise GraphError(400, "ErrorInvalidUrlQuery", "The skip token is not valid.")
        chunk = pages.items[pages.pos : pages.pos + pages.page_size]
        pages.pos += len(chunk)
        out: dict = {"value": chunk}
        path = f"{self.graph_url}/me/{pages.base}"
        if pages.pos < len(pages.items):
            out["@odata.nextLink"] = f"{path}?$skiptoken={token}"
        else:
            del self.state.pages[token]
            if pages.then is not None:
                delta = secrets.token_urlsafe(24)
                self.state.deltas[delta] = pages.then
                while len(self.state.deltas) > KEEP_DELTA_TOKENS:
                    self.state.deltas.popitem(last=False)
                out["@odata.deltaLink"] = f"{path}?$deltatoken={delta}"
        return 200, {}, out

    def _delta(self, calendar_id, query, page_size, tz) -> tuple[int, dict, object]:
        # The delta function takes no $select/$expand/$filter (event-delta docs).
        for unsupported in ("$select", "$expand", "$filter", "$orderby", "$search"):
            if unsupported in query:
                raise GraphError(
                    400,
                    "ErrorInvalidUrlQuery",
                    f"The query parameter '{unsupported}' is not supported with delta.",
                )
        base = f"calendars/{calendar_id}/calendarView/delta"
        if "$skiptoken" in query:
            return self._page(query["$skiptoken"], tz)
        if "$deltatoken" in query:
            previous = self.state.deltas.get(query["$deltatoken"])
            if previous is None:
                raise GraphError(
                    410,
                    "SyncStateNotFound",
                    "The sync state generation is not found. The delta token is expired and "
                    "data must be synchronized again.",
                )
            calendar_id, start, end, seen = (
                previous.calendar_id,
                previous.start,
                previous.end,
                previous.seen,
            )
            since = previous.seq
        else:
            start = _parse_query_time(query.get("startDateTime"), "startDateTime")
            end = _parse_query_time(query.get("endDateTime"), "endDateTime")
            seen = {}
            since = self.state.seq
        current = self._view(calendar_id, start, end)
        now_seen = {e["id"]: e["changeKey"] for e in current}
        items = [
            self._render(e, None, tz=tz) for e in current if seen.get(e["id"]) != e["changeKey"]
        ]
        gone_ids = seen.keys() - now_seen.keys()
        for seq, cal, iid, i_start, i_end in self.state.removed:
            in_window = cal == calendar_id and i_end > start and i_start < end
            if seq > since and in_window and iid not in now_seen:
                gone_ids.add(iid)
        for gone in sorted(gone_ids):
            items.append(
                {
                    "@odata.type": "#microsoft.graph.event",
                    "id": gone,
                    "@removed": {"reason": "deleted"},
                }
            )
        token = secrets.token_urlsafe(16)
        self.state.pages[token] = _Pages(
            items,
            0,
            page_size or DEFAULT_DELTA_PAGE,
            _DeltaState(calendar_id, start, end, now_seen, self.state.seq),
            base,
        )
        return self._page(token, tz)

    def batch(self, body, headers: dict) -> tuple[int, dict, object]:
        if not isinstance(body, dict) or not isinstance(body.get("requests"), list):
            raise GraphError(400, "BadRequest", "Invalid batch payload format.")
        requests = body["requests"]
        if len(requests) > MAX_BATCH:
            raise GraphError(
                400, "BadRequest", f"Batch request exceeds the limit of {MAX_BATCH} requests."
            )
        ids = [str(r.get("id")) for r in requests]
        if len(set(ids)) != len(ids):
            raise GraphError(400, "BadRequest", "Batch request ids must be unique.")
        responses = []
        for request in requests:
            sub_headers = {k.lower(): v for k, v in (request.get("headers") or {}).items()}
            if "prefer" not in sub_headers and "prefer" in headers:
                sub_headers["prefer"] = headers["prefer"]
            url = request.get("url", "")
            if not url.startswith("/"):
                url = "/" + url
            method = request.get("method", "GET").upper()
            fault = self.faults.take(url, write=method != "GET", part=True)
            try:
                if fault is not None and fault.kind != "bad_value":
                    raise _fault_error(fault)
                status, resp_headers, resp_body = self.graph(
                    request.get("method", "GET").upper(), url, sub_headers, request.get("body")
                )
                if fault is not None:
                    resp_body = bad_value_answer(self.faults, fault, resp_body, part=True)
            except GraphError as err:
                status, resp_headers, resp_body = err.status, err.headers, _error_body(err)
            entry = {"id": request.get("id"), "status": status, "headers": resp_headers}
            if resp_body is not None:
                entry["headers"] = {**resp_headers, "Content-Type": "application/json"}
                entry["body"] = resp_body
            responses.append(entry)
        return 200, {}, {"responses": responses}

    # ------------------------------------------------------------------ identity platform

    def openid_configuration(self, tenant: str) -> dict:
        base = f"{self.base_url}/{tenant}"
        return {
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt"],
            "jwks_uri": f"{base}/discovery/v2.0/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": f"{self.base_url}/{TENANT_ID}/v2.0",
            "request_uri_parameter_supported": False,
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
            "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
            "tenant_region_scope": "EU",
        }

    def authorize(self, tenant: str, query: dict) -> tuple[int, dict, str]:
        """The sign-in page. The test user is signed in already and consents at once,
        so the page is the form_post hand-back to the loopback redirect."""
        if query.get("client_id") != self.client_id:
            raise OAuthError(
                "unauthorized_client",
                f"AADSTS700016: Application with identifier '{query.get('client_id')}' was not found.",  # noqa: E501 - the service's own wording
            )
        redirect = query.get("redirect_uri", "")
        host = urlsplit(redirect).hostname
        if urlsplit(redirect).scheme != "http" or host not in ("localhost", "127.0.0.1"):
            raise OAuthError(
                "invalid_request", "AADSTS50011: The redirect URI is not a loopback address."
            )
        if query.get("response_type") != "code":
            raise OAuthError(
                "unsupported_response_type", "AADSTS70005: response_type must be code."
            )
        if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            raise OAuthError(
                "invalid_request", "AADSTS9002325: Proof Key for Code Exchange is required."
            )
        fields = {"state": query.get("state", "")}
        if self.user_denies:
            fields |= {
                "error": "access_denied",
                "error_description": "AADSTS65004: User declined to consent.",
            }
        else:
            code = secrets.token_urlsafe(32)
            self.auth_codes[code] = _AuthCode(
                self.client_id,
                redirect,
                query["code_challenge"],
                query.get("scope", ""),
                query.get("nonce"),
            )
            fields |= {
                "code": code,
                "client_info": self._client_info(),
                "session_state": str(uuid.uuid4()),
            }
        mode = query.get("response_mode", "query")
        if mode == "form_post":
            inputs = "".join(
                f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}"/>'
                for k, v in fields.items()
            )
            page = (
                '<html><head><title>Working...</title></head><body onload="document.forms[0].submit()">'  # noqa: E501 - the service's own wording
                f'<form method="POST" name="hiddenform" action="{html.escape(redirect)}">{inputs}'
                "<noscript><p>Script is disabled. Click Submit to continue.</p>"
                '<input type="submit" value="Submit"/></noscript></form></body></html>'
            )
            return 200, {"Content-Type": "text/html; charset=utf-8"}, page
        return 302, {"Location": redirect + "?" + urlencode(fields)}, ""

    def _client_info(self) -> str:
        return _b64url(json.dumps({"uid": self.state.user.id, "utid": TENANT_ID}).encode())

    def _id_token(self, nonce: str | None) -> str:
        now = int(time.time())
        claims = {
            "aud": self.client_id,
            "iss": f"{self.base_url}/{TENANT_ID}/v2.0",
            "iat": now,
            "nbf": now,
            "exp": now + 3600,
            "name": self.state.user.display_name,
            "oid": self.state.user.id,
            "preferred_username": self.state.user.mail,
            "sub": "sub-" + self.state.user.id,
            "tid": TENANT_ID,
            "ver": "2.0",
        }
        if nonce:
            claims["nonce"] = nonce
        header = _b64url(json.dumps({"typ": "JWT", "alg": "RS256", "kid": "test"}).encode())
        # Unsigned on purpose: MSAL no longer validates ID tokens (msal/oauth2cli/oidc.py).
        return f"{header}.{_b64url(json.dumps(claims).encode())}.{_b64url(b'not-signed')}"

    def _tokens(self, scope: str, nonce: str | None = None) -> dict:
        access = "eyJ0eXAi." + secrets.token_urlsafe(32)
        refresh = "0.AAAA" + secrets.token_urlsafe(48)
        with self._counter_lock:
            self.access_tokens[access] = time.time() + self.access_token_lifetime
        self.refresh_tokens[refresh] = scope
        granted = " ".join(
            s for s in scope.split() if s not in ("openid", "profile", "offline_access")
        )
        return {
            "token_type": "Bearer",
            "scope": granted or "https://graph.microsoft.com/Calendars.ReadWrite",
            "expires_in": self.access_token_lifetime,
            "ext_expires_in": self.access_token_lifetime,
            "access_token": access,
            "refresh_token": refresh,
            "id_token": self._id_token(nonce),
            "client_info": self._client_info(),
        }

    def _consent_error(self) -> OAuthError:
        return OAuthError(
            "invalid_grant",
            "AADSTS65001: The user or administrator has not consented to use the application. "
            "Send an interactive authorization request for this user and resource.",
            error_codes=[65001],
            suberror="consent_required",
        )

    def token(self, tenant: str, form: dict) -> dict:
        grant = form.get("grant_type")
        self.token_requests.append({"grant_type": grant})
        if form.get("client_id") != self.client_id:
            raise OAuthError(
                "unauthorized_client",
                f"AADSTS700016: Application with identifier '{form.get('client_id')}' was not found.",  # noqa: E501 - the service's own wording
            )
        if "client_secret" in form:
            raise OAuthError(
                "invalid_request",
                "AADSTS700025: Client is public so neither 'client_assertion' nor 'client_secret' should be presented.",  # noqa: E501 - the service's own wording
            )
        if grant == "authorization_code":
            code = self.auth_codes.pop(form.get("code", ""), None)
            if code is None:
                raise OAuthError(
                    "invalid_grant",
                    "AADSTS70008: The provided authorization code is expired or invalid.",
                    error_codes=[70008],
                )
            if form.get("redirect_uri") != code.redirect_uri:
                raise OAuthError(
                    "invalid_grant",
                    "AADSTS50148: The redirect_uri does not match.",
                    error_codes=[50148],
                )
            verifier = form.get("code_verifier", "")
            if _b64url(hashlib.sha256(verifier.encode()).digest()) != code.challenge:
                raise OAuthError(
                    "invalid_grant",
                    "AADSTS501481: The Code_Verifier does not match the code_challenge supplied in the authorization request.",  # noqa: E501 - the service's own wording
                    error_codes=[501481],
                )
            return self._tokens(form.get("scope", code.scope), code.nonce)
        if grant == "refresh_token":
            scope = self.refresh_tokens.get(form.get("refresh_token", ""))
            if scope is None:
                raise OAuthError(
                    "invalid_grant",
                    "AADSTS700082: The refresh token has expired due to inactivity.",
                    error_codes=[700082],
                    suberror="bad_token",
                )
            if not self.consent:
                raise self._consent_error()
            if self.mfa_required:
                raise OAuthError(
                    "interaction_required",
                    "AADSTS50076: Due to a configuration change made by your administrator, "
                    "or because you moved to a new location, you must use multi-factor "
                    "authentication to access the resource.",
                    error_codes=[50076],
                    suberror="basic_action",
                )
            return self._tokens(form.get("scope", scope))
        if grant in ("urn:ietf:params:oauth:grant-type:device_code", "device_code"):
            device = self.device_codes.get(form.get("device_code", ""))
            if device is None or device.expires < time.time():
                raise OAuthError(
                    "expired_token",
                    "AADSTS70020: The provided value for the input parameter 'device_code' is not valid.",  # noqa: E501 - the service's own wording
                    error_codes=[70020],
                )
            if device.denied:
                raise OAuthError(
                    "authorization_declined",
                    "AADSTS70000: The user denied the authorization request.",
                )
            if not device.approved:
                raise OAuthError(
                    "authorization_pending",
                    "AADSTS70016: OAuth 2.0 device flow error. Authorization is pending. Continue polling.",  # noqa: E501 - the service's own wording
                    error_codes=[70016],
                )
            del self.device_codes[form["device_code"]]
            return self._tokens(device.scope)
        raise OAuthError(
            "unsupported_grant_type",
            f"AADSTS70003: The app requested an unsupported grant type '{grant}'.",
        )

    def devicecode(self, tenant: str, form: dict) -> dict:
        if form.get("client_id") != self.client_id:
            raise OAuthError("unauthorized_client", "AADSTS700016: Application was not found.")
        user_code = "".join(secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(9))
        device_code = "DAQABAAEAAA" + secrets.token_urlsafe(40)
        self.device_codes[device_code] = _DeviceCode(
            self.client_id, form.get("scope", ""), user_code, time.time() + 900
        )
        uri = f"{self.base_url}/devicelogin"
        return {
            "user_code": user_code,
            "device_code": device_code,
            "verification_uri": uri,
            "expires_in": 900,
            "interval": self.device_interval,
            "message": f"To sign in, use a web browser to open the page {uri} and enter the code "
            f"{user_code} to authenticate.",
        }

    def device_login(self, user_code: str, deny: bool = False) -> bool:
        """The user typed ``user_code`` on the verification page (and consented)."""
        for device in self.device_codes.values():
            if device.user_code == user_code.strip().upper():
                if deny:
                    device.denied = True
                else:
                    device.approved = True
                return True
        return False


_COLLECTIONS = frozenset({"calendars", "events", "calendarView", "instances"})


def _immutable_ids(headers: dict) -> bool:
    """Whether the request asks for immutable ids (Prefer: IdType="ImmutableId")."""
    return 'idtype="immutableid"' in headers.get("prefer", "").lower()


def _expanded(query: dict) -> frozenset:
    names = {item.split("(", 1)[0].strip() for item in _split_expand(query.get("$expand", ""))}
    return frozenset(n for n in names if n)


def _location(value: dict) -> dict:
    """A location as Graph answers it (empty address and coordinates included)."""
    return {
        "displayName": value.get("displayName") or "",
        "locationType": value.get("locationType") or "default",
        "uniqueIdType": value.get("uniqueIdType") or "unknown",
        "address": copy.deepcopy(value.get("address") or {}),
        "coordinates": copy.deepcopy(value.get("coordinates") or {}),
        **{
            k: value[k]
            for k in ("uniqueId", "locationUri", "locationEmailAddress")
            if value.get(k) is not None
        },
    }


def _split_expand(expand: str) -> list[str]:
    """Split "$expand=a($filter=x),b" at top-level commas."""
    items, depth, current = [], 0, ""
    for ch in expand:
        if ch == "," and depth == 0:
            items.append(current)
            current = ""
            continue
        depth += ch == "("
        depth -= ch == ")"
        current += ch
    if current:
        items.append(current)
    return [i for i in items if i.strip()]


def _error_body(err: GraphError) -> dict:
    return {
        "error": {
            "code": err.code,
            "message": err.message,
            "innerError": {
                "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
                "request-id": str(uuid.uuid4()),
                "client-request-id": str(uuid.uuid4()),
            },
        }
    }


def _fault_error(fault: Fault) -> GraphError:
    retry = {"Retry-After": f"{fault.retry_after_or(1.0):g}"}
    if fault.kind == "rate_limit":
        return GraphError(
            429, "ApplicationThrottled", "Application is over its MailboxConcurrency limit.", retry
        )
    if fault.kind == "server_busy":
        return GraphError(
            503, "ServiceUnavailable", "The service is temporarily unavailable.", retry
        )
    if fault.kind == "expired_token":
        return GraphError(
            401,
            "InvalidAuthenticationToken",
            "Access token has expired or is not yet valid.",
            {"WWW-Authenticate": 'Bearer realm="", error="invalid_token"'},
        )
    return GraphError(500, "generalException", "An unspecified error has occurred.")


# --------------------------------------------------------------------------- HTTP plumbing


class _Handler(BaseHTTPRequestHandler):
    server_state: GraphServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        pass

    def _send(self, status: int, headers: dict, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("request-id", str(uuid.uuid4()))
        for key, value in headers.items():
            if key.lower() != "content-type":
                self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, headers: dict, data) -> None:
        body = b"" if data is None else json.dumps(data).encode()
        self._send(status, headers, body, "application/json; odata.metadata=minimal")

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_PATCH(self):
        self._dispatch("PATCH")

    def do_DELETE(self):
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        srv = self.server_state
        parts = urlsplit(self.path)
        if not srv.is_looking:  # a test's look is not the product talking
            with srv._counter_lock:
                srv.requests.append((method, parts.path))
        raw = self._read_body()
        try:
            if parts.path.startswith(GRAPH_PREFIX):
                self._graph(method, raw)
            else:
                self._identity(method, parts, raw)
        except CLIENT_GONE:
            self.close_connection = True

    def _graph(self, method: str, raw: bytes) -> None:
        srv = self.server_state
        headers = {k.lower(): v for k, v in self.headers.items()}
        fault = srv._take_fault(method, self.path)
        rewrite = None
        if fault is not None:
            if fault.kind == "slow":
                delay(fault)
            elif fault.kind == "drop":
                drop_connection(self)
                return
            elif fault.kind == "malformed":
                self._send(200, {}, b'{"value": [{"id": "AAMk', "application/json")
                return
            elif fault.kind == "deep_nesting":
                self._send(200, {}, deep_json("value", fault.depth), "application/json")
                return
            elif fault.kind == "bad_value":
                rewrite = fault
                if urlsplit(self.path).path == GRAPH_PREFIX + "/$batch":
                    srv.faults.arm(
                        "bad_value", on="batch_part", field=fault.field, value=fault.value
                    )
                    rewrite = None
            else:
                err = _fault_error(fault)
                self._json(err.status, err.headers, _error_body(err))
                return
        try:
            srv._check_token(headers.get("authorization"))
            body = None
            if raw:
                try:
                    body = json.loads(raw)
                except ValueError as exc:
                    raise GraphError(
                        400, "BadRequest", "Unable to read JSON request payload."
                    ) from exc
            path = urlsplit(self.path).path
            if path == GRAPH_PREFIX + "/$batch" and method == "POST":
                status, resp_headers, data = srv.batch(body, headers)
            else:
                status, resp_headers, data = srv.graph(method, self.path, headers, body)
        except GraphError as err:
            self._json(err.status, err.headers, _error_body(err))
            return
        if rewrite is not None:
            data = bad_value_answer(srv.faults, rewrite, data)
        self._json(status, resp_headers, data)

    def _identity(self, method: str, parts, raw: bytes) -> None:
        srv = self.server_state
        seg = [s for s in parts.path.split("/") if s]
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        form = {k: v[-1] for k, v in parse_qs(raw.decode()).items()} if raw else {}
        try:
            if seg[-3:] == ["v2.0", ".well-known", "openid-configuration"] and len(seg) == 4:
                self._json(200, {}, srv.openid_configuration(seg[0]))
            elif seg == ["common", "discovery", "instance"]:
                tenant = urlsplit(query.get("authorization_endpoint", "")).path.split("/")[1:2]
                disco = f"{srv.base_url}/{(tenant or ['common'])[0]}/v2.0/.well-known/openid-configuration"  # noqa: E501 - the service's own wording
                host = urlsplit(srv.base_url).netloc
                self._json(
                    200,
                    {},
                    {
                        "tenant_discovery_endpoint": disco,
                        "api-version": "1.1",
                        "metadata": [
                            {"preferred_network": host, "preferred_cache": host, "aliases": [host]}
                        ],
                    },
                )
            elif seg[1:] == ["oauth2", "v2.0", "authorize"] and method == "GET":
                status, headers, page = srv.authorize(seg[0], query)
                self._send(status, headers, page.encode(), headers.get("Content-Type", "text/html"))
            elif seg[1:] == ["oauth2", "v2.0", "token"] and method == "POST":
                self._json(200, {"Cache-Control": "no-store"}, srv.token(seg[0], form))
            elif seg[1:] == ["oauth2", "v2.0", "devicecode"] and method == "POST":
                self._json(200, {}, srv.devicecode(seg[0], form))
            elif seg == ["devicelogin"]:
                code = form.get("otc") or query.get("otc") or ""
                if code and srv.device_login(code):
                    page = "<html><body>You have signed in. You may now close this window.</body></html>"  # noqa: E501 - the service's own wording
                else:
                    page = (
                        '<html><body><form method="POST"><label>Code <input name="otc"/></label>'
                        "<button>Next</button></form></body></html>"
                    )
                self._send(200, {}, page.encode(), "text/html; charset=utf-8")
            else:
                self._json(404, {}, {"error": "not_found", "error_description": parts.path})
        except OAuthError as err:
            now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
            body = {
                "error": err.error,
                "error_description": f"{err.description}\r\nTrace ID: {uuid.uuid4()}\r\n"
                f"Correlation ID: {uuid.uuid4()}\r\nTimestamp: {now}",
                "error_codes": err.extra.get("error_codes", []),
                "timestamp": now,
                "trace_id": str(uuid.uuid4()),
                "correlation_id": str(uuid.uuid4()),
                "error_uri": f"{srv.base_url}/error?code="
                + str((err.extra.get("error_codes") or [0])[0]),
            }
            if "suberror" in err.extra:
                body["suberror"] = err.extra["suberror"]
            if seg[1:] == ["oauth2", "v2.0", "authorize"]:
                # Errors on the sign-in page are shown to the user, not redirected.
                self._send(err.status, {}, html.escape(json.dumps(body)).encode(), "text/html")
            else:
                self._json(err.status, {}, body)


# --------------------------------------------------------------------------- scripted browser


class _Form(HTMLParser):
    def __init__(self):
        super().__init__()
        self.action = None
        self.method = "GET"
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.action = a.get("action")
            self.method = (a.get("method") or "GET").upper()
        elif tag == "input" and a.get("type") == "hidden":
            self.fields[a["name"]] = a.get("value") or ""


class ScriptedBrowser:
    """Plays the user's browser: opens the sign-in page, submits its form_post
    hand-back to the loopback redirect, and remembers what happened."""

    def __init__(self, ca_bundle):
        self.ca_bundle = str(ca_bundle)
        self.visited: list[str] = []
        self.final_page = ""
        self.done = threading.Event()
        self.error: Exception | None = None

    def __call__(self, url: str) -> None:
        try:
            self.visited.append(url)
            page = requests.get(url, verify=self.ca_bundle, timeout=10)
            page.raise_for_status()
            form = _Form()
            form.feed(page.text)
            assert form.action and form.method == "POST", page.text[:200]
            self.visited.append(form.action)
            answer = requests.post(form.action, data=form.fields, timeout=10)
            self.final_page = answer.text
        except Exception as exc:  # reported to the test
            self.error = exc
        finally:
            self.done.set()


def quoted(value: str) -> str:
    """URL-quote a value for a Graph query string."""
    return quote(value, safe="")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="A local Microsoft Graph + identity test server.")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--client-id", default=DEFAULT_CLIENT_ID)
    parser.add_argument("--events", type=int, default=0, help="seed this many events")
    args = parser.parse_args(argv)
    server = GraphServer(port=args.port, client_id=args.client_id).start()
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    for i in range(args.events):
        start = now + timedelta(hours=3 * i - 24)
        server.add_event(
            subject=f"Seeded meeting {i}",
            start={"dateTime": start.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"},
            end={
                "dateTime": (start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S"),
                "timeZone": "UTC",
            },
        )
    print(server.base_url, flush=True)
    print(server.ca_bundle, flush=True)
    print(
        f"# CALSYNC_GRAPH_ENDPOINT={server.graph_url} CALSYNC_MS_AUTHORITY={server.authority} "
        f"CALSYNC_CA_BUNDLE={server.ca_bundle} CALSYNC_MS_CLIENT_ID={server.client_id}",
        flush=True,
    )
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
