"""A strict, stateful Exchange Web Services test server.

It speaks SOAP at ``/EWS/Exchange.asmx`` for the operations exchangelib uses
to sync one calendar: GetFolder, FindFolder, SyncFolderItems, GetItem,
FindItem (plain, restricted and CalendarView), CreateItem, UpdateItem,
DeleteItem, plus ConvertId (exchangelib's version probe) and ResolveNames.

Strictness: the SOAP ``Body`` child of every request is validated against
Microsoft's ``messages.xsd`` (``tests/fakes/ews_schemas``). A request that does
not validate gets the SOAP fault Exchange sends (ErrorSchemaValidation) and is
recorded in :attr:`EwsServer.validation_errors`; the ``ews_server`` fixture
fails the test when that list is not empty. Every response body is validated
too, and a response that does not validate raises: it is a bug here.

How Exchange answers, and where that is documented:

- SyncFolderItems returns at most ``MaxChangesReturned`` (at most 512) changes
  per call, ``IncludesLastItemInRange`` says whether more wait, and the first
  call (no SyncState) lists every item as a Create. Only single items and
  recurring masters are listed; a changed exception shows as an Update of its
  master.
  https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/syncfolderitems-operation
- A rejected sync state answers ResponseClass="Error" with
  ErrorInvalidSyncStateData, an empty SyncState and IncludesLastItemInRange.
  https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/syncfolderitemsresponsemessage
- UpdateItem with ConflictResolution NeverOverwrite/AutoResolve and a stale
  ChangeKey fails with ErrorIrresolvableConflict.
  https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/updateitem
- Throttling is a SOAP fault (HTTP 500) with ResponseCode ErrorServerBusy and
  ``<t:Value Name="BackOffMilliseconds">`` in MessageXml (EWS throttling in
  Exchange, https://learn.microsoft.com/en-us/exchange/client-developer/exchange-web-services/ews-throttling-in-exchange;
  the exact fault body as captured in github.com/mguessan/davmail/issues/161).
- Recurring masters carry ModifiedOccurrences (Occurrence: ItemId, Start,
  End, OriginalStart) and DeletedOccurrences (DeletedOccurrence: Start);
  occurrences are addressed with OccurrenceItemId (RecurringMasterId +
  1-based InstanceIndex).
  https://learn.microsoft.com/en-us/exchange/client-developer/exchange-web-services/how-to-access-a-recurring-series-by-using-ews
- Each response carries ``ServerVersionInfo`` in the SOAP header; Exchange
  2016 reports Version="V2017_07_11", which exchangelib maps back to the
  version it asked for (``Version.from_soap_header``).
- ``EwsServer(exchange_version="Exchange2010_SP2")`` pretends an older
  Exchange. A request asking for a newer schema (RequestServerVersion) is
  refused with ErrorInvalidServerVersion, which is how exchangelib finds the
  version to use; each request is held to the schema it names or the
  server's, whichever is older, and what that schema lacks (the properties
  ``calendar:JoinOnlineMeetingUrl`` and ``item:TextBody``, the show-as
  ``WorkingElsewhere``, all from Exchange 2013 on) fails schema validation
  and is never answered.
  https://learn.microsoft.com/en-us/previous-versions/office/developer/exchange-server-2010/bb856547(v=exchg.140)
  (the version header names the schema a request is validated against),
  https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/joinonlinemeetingurl
  and https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/textbody
  (each "introduced in Exchange Server 2013"); an Exchange 2010 SP3 server
  reports build 14.3.123.4 and the schema Exchange2010_SP2.
- A wrong password is an HTTP 401 with ``WWW-Authenticate`` naming the
  methods on offer, before any SOAP is read.

Run it by hand: ``python -m tests.fakes.ews_server --port 0`` prints its EWS
URL on the first line (user ``alice`` / password ``secret`` unless told
otherwise).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import copy
import datetime as dt
import functools
import itertools
import os
import re
import secrets
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from zoneinfo import ZoneInfo

from dateutil import rrule as du
from lxml import etree

from tests.fakes.kit import (
    FAULT_KINDS,
    HOSTILE_KINDS,
    BackgroundServer,
    FaultQueue,
    NewEvent,
    RemoteCalendar,
    SeriesEdits,
    delay,
    drop_connection,
    neutral_changes,
    response_word,
)
from tests.fakes.kit.hostile import deep_xml, rewrite_xml

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
M = "http://schemas.microsoft.com/exchange/services/2006/messages"
T = "http://schemas.microsoft.com/exchange/services/2006/types"
E = "http://schemas.microsoft.com/exchange/services/2006/errors"
XS = "http://www.w3.org/2001/XMLSchema"
NSMAP = {"m": M, "t": T}
SCHEMA_DIR = Path(__file__).parent / "ews_schemas"
UTC = dt.UTC


def m(tag: str) -> str:
    return f"{{{M}}}{tag}"


def t(tag: str) -> str:
    return f"{{{T}}}{tag}"


# --------------------------------------------------------------------------- schema

_schema_lock = threading.Lock()
_schema: etree.XMLSchema | None = None
_orders: dict[str, list[str]] = {}


def schema() -> etree.XMLSchema:
    """messages.xsd compiled once per process (it takes about a second)."""
    global _schema
    with _schema_lock:
        if _schema is None:
            _schema = etree.XMLSchema(etree.parse(str(SCHEMA_DIR / "messages.xsd")))
        return _schema


def element_order(type_name: str) -> list[str]:
    """Child element names of a types.xsd complex type, in schema order
    (base type first), so answers list properties in the order Exchange does."""
    with _schema_lock:
        if not _orders:
            doc = etree.parse(str(SCHEMA_DIR / "types.xsd"))
            for ct in doc.iter(f"{{{XS}}}complexType"):
                if ct.get("name"):
                    _orders[ct.get("name")] = [
                        e.get("name") for e in ct.iter(f"{{{XS}}}element") if e.get("name")
                    ]
    return _orders[type_name]


MAX_SUBJECT = 255


@functools.cache
def boolean_elements() -> frozenset[str]:
    """Names of the ItemType and CalendarItemType elements typed xs:boolean."""
    doc = etree.parse(str(SCHEMA_DIR / "types.xsd"))
    names = set()
    for ct in doc.iter(f"{{{XS}}}complexType"):
        if ct.get("name") in ("ItemType", "CalendarItemType"):
            for e in ct.iter(f"{{{XS}}}element"):
                if e.get("type") == "xs:boolean":
                    names.add(e.get("name"))
    return frozenset(names)


# What Exchange answers for a requested property the client never set (a new
# appointment in Outlook: no all-day, a reminder 15 minutes before, responses
# requested, new time proposals allowed).
DEFAULTS = {
    "IsAllDayEvent": "false",
    "ReminderIsSet": "true",
    "ReminderMinutesBeforeStart": "15",
    "IsResponseRequested": "true",
    "AllowNewTimeProposal": "true",
    "IsOnlineMeeting": "false",
    "MeetingRequestWasSent": "false",
    "IsDraft": "false",
    # what Exchange gives an appointment made without one (LegacyFreeBusyType)
    "LegacyFreeBusyStatus": "Busy",
}
# LegacyFreeBusyStatus (types.xsd, LegacyFreeBusyType) in the neutral words
SHOW_AS_WORDS = {
    "free": "Free",
    "tentative": "Tentative",
    "busy": "Busy",
    "oof": "OOF",
    "workingElsewhere": "WorkingElsewhere",
}


# The request schemas (RequestServerVersion, types.xsd ExchangeVersionType), oldest first.
SCHEMAS = (
    "Exchange2007",
    "Exchange2007_SP1",
    "Exchange2010",
    "Exchange2010_SP1",
    "Exchange2010_SP2",
    "Exchange2013",
    "Exchange2013_SP1",
    "Exchange2015",
    "Exchange2016",
)
# What a pretended server reports in ServerVersionInfo: major, minor, builds, Version.
SERVER_VERSION_INFO = {
    "Exchange2010_SP2": ("14", "3", "123", "4", "Exchange2010_SP2"),  # Exchange 2010 SP3
    "Exchange2013": ("15", "0", "1497", "2", "Exchange2013"),
    "Exchange2016": ("15", "1", "2507", "6", "V2017_07_11"),
}
# What the schemas before Exchange 2013 do not have: a FieldURI, and a value of
# LegacyFreeBusyStatus (LegacyFreeBusyType gained WorkingElsewhere in 2013).
NEWER_FIELD_URIS = {
    "calendar:JoinOnlineMeetingUrl": "Exchange2013",
    "item:TextBody": "Exchange2013",
}
NEWER_ELEMENTS = {"JoinOnlineMeetingUrl": "Exchange2013", "TextBody": "Exchange2013"}
NEWER_FREE_BUSY = {"WorkingElsewhere": "Exchange2013"}


def older_schema_lacks(request: etree._Element, schema_version: str) -> str:
    """What of ``request`` the schema ``schema_version`` does not know, as
    Exchange's schema validation says it, or "" when it knows it all."""
    rank = SCHEMAS.index(schema_version)
    for node in request.iter(etree.Element):
        uri = node.get("FieldURI")
        if uri in NEWER_FIELD_URIS and rank < SCHEMAS.index(NEWER_FIELD_URIS[uri]):
            return (
                f"The 'FieldURI' attribute is invalid - The value '{uri}' is invalid according "
                f"to its datatype '{T}:UnindexedFieldURIType' - The Enumeration constraint failed."
            )
        name = etree.QName(node).localname
        if name in NEWER_ELEMENTS and rank < SCHEMAS.index(NEWER_ELEMENTS[name]):
            return f"The element '{name}' in namespace '{T}' is not expected."
        text = (node.text or "").strip()
        if (
            name == "LegacyFreeBusyStatus"
            and text in NEWER_FREE_BUSY
            and rank < SCHEMAS.index(NEWER_FREE_BUSY[text])
        ):
            return (
                f"The '{T}:LegacyFreeBusyStatus' element is invalid - The value '{text}' is "
                f"invalid according to its datatype '{T}:LegacyFreeBusyType' - The Enumeration "
                "constraint failed."
            )
    return ""


def item_order() -> list[str]:
    return element_order("ItemType") + element_order("CalendarItemType")


# --------------------------------------------------------------------------- helpers


def parse_time(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def fmt_time(value: dt.datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def sub(parent: etree._Element, tag: str, text: str | None = None, **attrs) -> etree._Element:
    el = etree.SubElement(parent, tag, {k: str(v) for k, v in attrs.items()})
    if text is not None:
        el.text = text
    return el


def ext_key(uri: etree._Element) -> tuple:
    """What identifies an extended property (ExtendedFieldURI attributes)."""
    # property set GUIDs compare case-insensitively; names and types as given
    return tuple(
        (k, (uri.get(k) or "").lower() if k == "PropertySetId" else (uri.get(k) or ""))
        for k in (
            "DistinguishedPropertySetId",
            "PropertySetId",
            "PropertyTag",
            "PropertyName",
            "PropertyId",
            "PropertyType",
        )
    )


def html_to_text(html: str) -> str:
    text = re.sub(r"(?is)<(script|style).*?</\1>", "", html)
    text = re.sub(r"(?i)<br\s*/?>|</p>", "\n", text)
    text = re.sub(r"<[^>]+>", "", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


WINDOWS_ZONES: dict[str, str] = {}


def iana_zone(ms_id: str | None) -> ZoneInfo:
    if not WINDOWS_ZONES:
        from exchangelib.winzone import MS_TIMEZONE_TO_IANA_MAP  # data table only

        WINDOWS_ZONES.update(MS_TIMEZONE_TO_IANA_MAP)
    try:
        return ZoneInfo(WINDOWS_ZONES.get(ms_id or "", "UTC"))
    except Exception:
        return ZoneInfo("UTC")


class EwsError(Exception):
    """An error answered inside a ResponseMessage (ResponseClass="Error")."""

    def __init__(self, code: str, text: str):
        super().__init__(text)
        self.code = code
        self.text = text


class SoapFault(Exception):
    """A SOAP-level fault (the whole request fails)."""

    def __init__(self, code: str, text: str, status: int = 500, values: dict | None = None):
        super().__init__(text)
        self.code = code
        self.text = text
        self.status = status
        self.values = values or {}


# --------------------------------------------------------------------------- the mailbox

RESPONSE_TYPES = ("Unknown", "Organizer", "Tentative", "Accept", "Decline", "NoResponseReceived")
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
INDEXES = {"First": 1, "Second": 2, "Third": 3, "Fourth": 4, "Last": -1}
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


@dataclass
class Item:
    """One calendar item. ``props`` holds the client-settable properties as
    the XML elements the client sent (keyed by local name), so what goes in
    comes back out byte for byte; the rest is computed."""

    id: str
    props: dict[str, etree._Element]
    version: int = 1
    created_seq: int = 0
    seq: int = 0
    created: dt.datetime = field(default_factory=lambda: dt.datetime.now(UTC))
    modified: dt.datetime = field(default_factory=lambda: dt.datetime.now(UTC))
    extended: dict[tuple, etree._Element] = field(default_factory=dict)
    responses: dict[str, str] = field(default_factory=dict)
    uid: str = field(default_factory=lambda: uuid.uuid4().hex.upper())
    kind: str = "Single"  # Single, RecurringMaster, Exception
    master_id: str | None = None
    original_start: dt.datetime | None = None
    exceptions: dict[dt.datetime, str] = field(default_factory=dict)  # original start -> item id
    deleted_occurrences: list[dt.datetime] = field(default_factory=list)
    organizer: tuple[str, str] | None = None  # (name, email) when someone else organises
    # the owner's answer to someone else's meeting (MyResponseType)
    my_response: str = "NoResponseReceived"
    cancelled: bool = False
    folder_id: str = ""

    @property
    def changekey(self) -> str:
        return base64.b64encode(f"DwAAABYA{self.id[-6:]}:{self.version}".encode()).decode()

    def text(self, name: str, default: str = "") -> str:
        el = self.props.get(name)
        return el.text or "" if el is not None else default

    @property
    def start(self) -> dt.datetime:
        return parse_time(self.text("Start"))

    @property
    def end(self) -> dt.datetime:
        return parse_time(self.text("End"))

    def zone(self) -> ZoneInfo:
        el = self.props.get("StartTimeZone")
        return iana_zone(el.get("Id") if el is not None else None)


class Mailbox:
    """The server's state: one mailbox with a root, the default calendar and
    optionally more calendars (subfolders of the default one, as Outlook makes them)."""

    def __init__(self, email: str, display_name: str = "Alice Seller", clock=None):
        self.clock = clock or (lambda: dt.datetime.now(UTC))
        self.email = email
        self.display_name = display_name
        self.items: dict[str, Item] = {}
        # id -> (created seq, deleted seq, folder id)
        self.tombstones: dict[str, tuple[int, int, str]] = {}
        self.seq = 0
        self.generation = 1
        self.calendar_id = base64.b64encode(b"AQMkADAwATM0MDAAMS1calendar").decode()
        self.root_id = base64.b64encode(b"AQMkADAwATM0MDAAMS1msgroot").decode()
        # Sent Items: where Exchange files the invitations a meeting sends.
        self.sent_id = base64.b64encode(b"AQMkADAwATM0MDAAMS1sentitems").decode()
        # Deleted Items: where Outlook and Exchange move a declined meeting.
        self.deleted_id = base64.b64encode(b"AQMkADAwATM0MDAAMS1deleteditems").decode()
        self.calendars: dict[str, str] = {self.calendar_id: "Calendar"}  # id -> display name
        self._ids = itertools.count(1)

    def add_calendar(self, name: str) -> str:
        folder_id = base64.b64encode(f"AQMkADAwATM0MDAAMS1cal-{name}".encode()).decode()
        self.calendars[folder_id] = name
        return folder_id

    def new_id(self) -> str:
        raw = f"AAMkAGI2TG93AAA{next(self._ids):08d}{uuid.uuid4().hex[:12]}".encode()
        return base64.b64encode(raw).decode()

    def touch(self, item: Item) -> None:
        self.seq += 1
        item.seq = self.seq
        item.version += 1
        item.modified = self.clock()

    def add(self, item: Item) -> Item:
        self.seq += 1
        item.created_seq = item.seq = self.seq
        item.created = item.modified = self.clock()
        item.folder_id = item.folder_id or self.calendar_id
        self.items[item.id] = item
        return item

    def remove(self, item_id: str) -> None:
        item = self.items.pop(item_id)
        for exception_id in item.exceptions.values():
            self.items.pop(exception_id, None)
        self.seq += 1
        self.tombstones[item_id] = (item.created_seq, self.seq, item.folder_id)

    def listed(self, folder_id: str | None = None) -> list[Item]:
        """Items a folder listing shows: singles and masters, not exceptions
        (without a folder: those of every calendar, not Deleted Items')."""
        return [
            i
            for i in self.items.values()
            if i.kind != "Exception"
            and (
                i.folder_id == folder_id
                if folder_id is not None
                else i.folder_id != self.deleted_id
            )
        ]

    def move_to_deleted_items(self, item_id: str) -> str:
        """Move a calendar item (a series with its exceptions) to Deleted Items,
        as Outlook and Exchange do with a declined meeting; its new id.

        An Outlook item's id changes when the item moves to another folder
        (learn.microsoft.com/graph/outlook-immutable-id: "their IDs change ...
        only if the item is moved"), so the calendar's SyncFolderItems reports
        the old id deleted (a tombstone) and the item lives on under a new one.
        OWA and Exchange keep deleted events in Deleted Items, listed with the
        mail there (mustang-im/mustang#1437, #1438); Microsoft keeps them 14
        days by default (developer.nylas.com, "Deleted events")."""
        item = self.items[item_id]
        exceptions = {o: self.items[e] for o, e in item.exceptions.items() if e in self.items}
        self.remove(item_id)
        item.id = self.new_id()
        item.folder_id = self.deleted_id
        self.seq += 1
        item.seq = item.created_seq = self.seq
        item.version += 1
        item.modified = self.clock()
        self.items[item.id] = item
        for original, exception in exceptions.items():
            exception.id = self.new_id()
            exception.folder_id = self.deleted_id
            exception.master_id = item.id
            item.exceptions[original] = exception.id
            self.items[exception.id] = exception
        return item.id

    # -- recurrence: expand the stored pattern (independently of the client's converter)

    def occurrences(self, master: Item, limit: int = 3000) -> list[dt.datetime]:
        """Original starts (UTC) of every occurrence the pattern generates."""
        rec = master.props.get("Recurrence")
        if rec is None:
            return []
        zone = master.zone()
        local_start = master.start.astimezone(zone)
        pattern, rng = rec[0], rec[1]
        kind = etree.QName(pattern).localname
        get = lambda name: pattern.findtext(t(name))  # noqa: E731
        interval = int(get("Interval") or 1)
        kwargs: dict = {"interval": interval}
        freq = du.DAILY
        days = (get("DaysOfWeek") or "").split()

        def weekday_set(names: list[str]) -> list:
            out = []
            for name in names:
                if name == "Day":
                    out += [du.weekdays[i] for i in range(7)]
                elif name == "Weekday":
                    out += [du.weekdays[i] for i in range(5)]
                elif name == "WeekendDay":
                    out += [du.weekdays[5], du.weekdays[6]]
                else:
                    out.append(du.weekdays[WEEKDAYS.index(name)])
            return out

        if kind == "DailyRecurrence":
            freq = du.DAILY
        elif kind == "WeeklyRecurrence":
            freq = du.WEEKLY
            kwargs["byweekday"] = weekday_set(days)
            first = pattern.findtext(t("FirstDayOfWeek"))
            if first:
                kwargs["wkst"] = WEEKDAYS.index(first)
        elif kind == "AbsoluteMonthlyRecurrence":
            freq = du.MONTHLY
            kwargs["bymonthday"] = int(get("DayOfMonth"))
        elif kind == "RelativeMonthlyRecurrence":
            freq = du.MONTHLY
            kwargs["byweekday"] = weekday_set(days)
            kwargs["bysetpos"] = INDEXES[get("DayOfWeekIndex")]
        elif kind == "AbsoluteYearlyRecurrence":
            freq = du.YEARLY
            kwargs.pop("interval")
            kwargs["bymonthday"] = int(get("DayOfMonth"))
            kwargs["bymonth"] = MONTHS.index(get("Month")) + 1
        elif kind == "RelativeYearlyRecurrence":
            freq = du.YEARLY
            kwargs.pop("interval")
            kwargs["byweekday"] = weekday_set(days)
            kwargs["bysetpos"] = INDEXES[get("DayOfWeekIndex")]
            kwargs["bymonth"] = MONTHS.index(get("Month")) + 1
        else:
            raise EwsError("ErrorCalendarInvalidRecurrence", f"Unsupported pattern {kind}.")
        start_date = dt.date.fromisoformat(rng.findtext(t("StartDate"))[:10])
        dtstart = dt.datetime.combine(start_date, local_start.time())
        range_kind = etree.QName(rng).localname
        if range_kind == "NumberedRecurrence":
            kwargs["count"] = int(rng.findtext(t("NumberOfOccurrences")))
        elif range_kind == "EndDateRecurrence":
            end_date = dt.date.fromisoformat(rng.findtext(t("EndDate"))[:10])
            kwargs["until"] = dt.datetime.combine(end_date, dt.time(23, 59, 59))
        rule = du.rrule(freq, dtstart=dtstart, **kwargs)
        out = []
        for naive in rule:
            out.append(naive.replace(tzinfo=zone).astimezone(UTC))
            if len(out) >= limit:
                break
        return out


# --------------------------------------------------------------------------- faults


# The shared kinds (tests/fakes/kit) as Exchange answers them: Exchange has no
# 429, so "rate_limit" and "server_busy" are both the ErrorServerBusy SOAP fault
# with BackOffMilliseconds (default 2 s); "server_error" is an HTTP 503 page;
# "malformed" is 200 with XML that breaks off; "expired_token" is a 401, as for a
# password changed meanwhile. And one of its own:
EWS_FAULT_KINDS = (
    *FAULT_KINDS,
    *HOSTILE_KINDS,  # tests/fakes/kit/hostile.py: a deep XML body, a value replaced
    "not_ews",  # a 404 HTML page
)
# The response objects an attendee sends (types.xsd NonEmptyArrayOfResponseObjectsType)
# and the MyResponseType each leaves on the calendar item.
RESPONSE_ITEMS = {
    "AcceptItem": "Accept",
    "TentativelyAcceptItem": "Tentative",
    "DeclineItem": "Decline",
}
WRITE_OPERATIONS = ("CreateItem", "UpdateItem", "DeleteItem")
_OPERATION = re.compile(rb"<(?:\w+:)?Body\b[^>]*>\s*<(?:\w+:)?(\w+)")
RESPONSE_WORDS = {
    "no_response": "NoResponseReceived",
    "accepted": "Accept",
    "tentative": "Tentative",
    "declined": "Decline",
}
SENSITIVITY_WORDS = {
    "normal": "Normal",
    "private": "Private",
    "confidential": "Confidential",
    "personal": "Personal",
}


# --------------------------------------------------------------------------- the server


class EwsServer(BackgroundServer, RemoteCalendar, SeriesEdits):
    """A local EWS endpoint with an in-process API for tests.

    ``start()`` binds 127.0.0.1 on a free port and returns the EWS URL (HTTPS
    with ``tls``, trusted through ``ca_bundle``). It is a :class:`RemoteCalendar`
    (another client's acts on the default calendar, expiring sync states,
    revoking the sign-in by changing the password, faults); Exchange's own
    helpers (:meth:`add_event`, :meth:`edit`, :meth:`edit_occurrence_at` with
    1-based occurrence indexes, :meth:`set_password`, :meth:`item`) serve the
    tests of this one service.
    """

    fault_kinds = EWS_FAULT_KINDS

    def __init__(
        self,
        username: str = "alice",
        password: str = "secret",
        email: str = "alice@example.com",
        *,
        tls: bool = False,
        validate: bool = True,
        not_ews: bool = False,
        auth_methods: tuple[str, ...] = ("Basic",),
        clock=None,
        exchange_version: str = "Exchange2016",
    ):
        if exchange_version not in SERVER_VERSION_INFO:
            raise ValueError(f"pretend one of {sorted(SERVER_VERSION_INFO)}")
        self.exchange_version = exchange_version
        self.username = username
        self.password = self._signed_in_password = password
        self.mailbox = Mailbox(email, clock=clock)
        self.tls = tls
        self.validate = validate
        self.not_ews = not_ews
        self.auth_methods = auth_methods
        self.password_generation = 0
        self.validation_errors: list[str] = []
        self.server_errors: list[str] = []
        self.busy_seconds: Counter[str] = Counter()  # time spent answering, per operation
        self.operations: Counter[str] = Counter()
        self.requests = 0
        self.auth_failures = 0
        self.mails_sent = 0
        self.responses: list[tuple[str, str, str]] = []  # (item id, answer, disposition)
        self.response_drafts = 0  # answers saved as drafts (SaveOnly), not sent
        self.faults = FaultQueue()
        self.log: list[str] = []
        self.max_sync_changes = 512
        self._lock = threading.RLock()
        self._tmp: tempfile.TemporaryDirectory | None = None
        if validate:
            schema()
        self.url = ""

    # ------------------------------------------------------------------ lifecycle

    def start(self, port: int = 0) -> str:
        handler = type("Handler", (_Handler,), {"server_state": self})
        if "NTLM" in self.auth_methods:
            self._write_ntlm_users()
        self._serve(handler, "ews-server", port=port, tls=self.tls)
        self.url = f"{self.scheme}://127.0.0.1:{self.port}/EWS/Exchange.asmx"
        return self.url

    def _cleanup(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def reset(self, clock=None) -> None:
        """An empty calendar, the first password, no faults: a fresh server for
        the next test of a module that shares one."""
        with self._lock:
            self.mailbox.__init__(self.mailbox.email, clock=clock or self.mailbox.clock)
            self.faults.clear()
            self.mails_sent = 0
            self.responses = []
            self.response_drafts = 0
            self.not_ews = False
            if self.password != self._signed_in_password:
                self.set_password(self._signed_in_password)

    # ------------------------------------------------------------------ test API

    @property
    def owner(self) -> str:
        return self.mailbox.email

    def count_requests(self) -> int:
        return self.requests

    def _free_busy_word(self, show_as: str) -> str:
        """LegacyFreeBusyStatus for a neutral show-as word, as this Exchange keeps
        it: one before 2013 has no WorkingElsewhere, and Outlook there says busy."""
        word = SHOW_AS_WORDS[show_as]
        since = NEWER_FREE_BUSY.get(word)
        if since and SCHEMAS.index(self.exchange_version) < SCHEMAS.index(since):
            return "Busy"
        return word

    def set_password(self, password: str) -> None:
        """Change the password; connections authenticated with the old one (NTLM) lose it."""
        self.password = password
        self.password_generation += 1
        if "NTLM" in self.auth_methods:
            self._write_ntlm_users()

    def _write_ntlm_users(self) -> None:
        # pyspnego's NTLM acceptor reads users from the file named by NTLM_USER_FILE
        # (process-wide: one NTLM test server at a time).
        if self._tmp is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="ews-")
        path = Path(self._tmp.name) / "ntlm-users"
        path.write_text(
            f":{self.username}:{self.password}\nEXAMPLE:{self.username}:{self.password}\n"
        )
        os.environ["NTLM_USER_FILE"] = str(path)

    def expire_sync_state(self) -> None:
        """Every sync state issued so far becomes ErrorInvalidSyncStateData."""
        with self._lock:
            self.mailbox.generation += 1

    def add_event(
        self,
        subject: str,
        start: dt.datetime,
        end: dt.datetime,
        *,
        body: str = "",
        html: bool = False,
        location: str = "",
        timezone: str = "UTC",
        sensitivity: str = "Normal",
        all_day: bool = False,
        attendees: tuple[tuple[str, str | None], ...] = (),
        organizer: tuple[str, str] | None = None,
        recurrence: str | None = None,
        extended: dict[tuple, str] | None = None,
        calendar: str | None = None,
        show_as: str = "Busy",
        join_url: str = "",
    ) -> str:
        """Create an event as another client (Outlook, OWA) would. ``recurrence``
        is the inner XML of a t:Recurrence element (pattern + range)."""
        ms_zone = _ms_zone(timezone)
        props = {}
        el = lambda name, text: _t_el(name, text)  # noqa: E731
        props["Subject"] = el("Subject", subject)
        props["Sensitivity"] = el("Sensitivity", sensitivity)
        body_el = el("Body", body)
        body_el.set("BodyType", "HTML" if html else "Text")
        props["Body"] = body_el
        props["Start"] = el("Start", fmt_time(start))
        props["End"] = el("End", fmt_time(end))
        props["IsAllDayEvent"] = el("IsAllDayEvent", "true" if all_day else "false")
        props["Location"] = el("Location", location)
        props["LegacyFreeBusyStatus"] = el("LegacyFreeBusyStatus", show_as)
        if join_url:
            # a Teams meeting its organiser made: the service sets the link
            # (JoinOnlineMeetingUrl, read-only) and IsOnlineMeeting
            props["IsOnlineMeeting"] = el("IsOnlineMeeting", "true")
            props["JoinOnlineMeetingUrl"] = el("JoinOnlineMeetingUrl", join_url)
        if attendees:
            ra = etree.Element(t("RequiredAttendees"), nsmap={"t": T})
            for name, email in attendees:
                att = sub(ra, t("Attendee"))
                mb = sub(att, t("Mailbox"))
                sub(mb, t("Name"), name)
                if email:
                    sub(mb, t("EmailAddress"), email)
                    sub(mb, t("RoutingType"), "SMTP")
            props["RequiredAttendees"] = ra
        if recurrence:
            props["Recurrence"] = etree.fromstring(
                f'<t:Recurrence xmlns:t="{T}">{recurrence}</t:Recurrence>'
            )
        tz = etree.Element(t("StartTimeZone"), {"Id": ms_zone}, nsmap={"t": T})
        props["StartTimeZone"] = tz
        props["EndTimeZone"] = copy.deepcopy(tz)
        props["EndTimeZone"].tag = t("EndTimeZone")
        with self._lock:
            item = Item(self.mailbox.new_id(), props, organizer=organizer)
            item.folder_id = calendar or self.mailbox.calendar_id
            item.kind = "RecurringMaster" if recurrence else "Single"
            for key, value in (extended or {}).items():
                item.extended[key] = _extended_el(key, value)
            self.mailbox.add(item)
            return item.id

    def edit(self, item_id: str, **fields) -> None:
        """Change an item as another client would: subject, body, html, location,
        start, end, private (bool), sensitivity, cancelled."""
        with self._lock:
            item = self.mailbox.items[item_id]
            for name, value in fields.items():
                if name in ("subject", "location"):
                    item.props[name.capitalize()] = _t_el(name.capitalize(), value)
                elif name == "body":
                    body = _t_el("Body", value)
                    body.set("BodyType", "HTML" if fields.get("html") else "Text")
                    item.props["Body"] = body
                elif name in ("start", "end"):
                    item.props[name.capitalize()] = _t_el(name.capitalize(), fmt_time(value))
                elif name == "private":
                    item.props["Sensitivity"] = _t_el(
                        "Sensitivity", "Private" if value else "Normal"
                    )
                elif name == "sensitivity":
                    item.props["Sensitivity"] = _t_el("Sensitivity", value)
                elif name == "show_as":
                    word = self._free_busy_word(value)
                    item.props["LegacyFreeBusyStatus"] = _t_el("LegacyFreeBusyStatus", word)
                elif name == "cancelled":
                    item.cancelled = bool(value)
                elif name == "html":
                    pass
                else:
                    raise ValueError(f"cannot edit {name!r}")
            self._touch_with_master(item)

    def delete(self, item_id: str) -> None:
        with self._lock:
            item = self.mailbox.items[item_id]
            if item.kind == "Exception":
                self._delete_occurrence(self.mailbox.items[item.master_id], item.original_start)
            else:
                self.mailbox.remove(item_id)

    def set_response_word(self, item_id: str, email: str, response: str) -> None:
        """An attendee answers in Exchange's words: Accept, Tentative, Decline,
        NoResponseReceived, Unknown."""
        assert response in RESPONSE_TYPES
        with self._lock:
            item = self.mailbox.items[item_id]
            if email.lower() not in self._attendee_addresses(item):
                raise KeyError(email)
            item.responses[email.lower()] = response
            self._touch_with_master(item)

    @staticmethod
    def _attendee_addresses(item: Item) -> set[str]:
        found = set()
        for group in ("RequiredAttendees", "OptionalAttendees", "Resources"):
            el = item.props.get(group)
            if el is not None:
                found |= {(a.text or "").lower() for a in el.iter(t("EmailAddress"))}
        return found

    def add_attendee(self, item_id: str, email: str, name: str | None = None) -> None:
        """Another client (Outlook) invites one more required attendee."""
        with self._lock:
            item = self.mailbox.items[item_id]
            attendees = item.props.get("RequiredAttendees")
            if attendees is None:
                attendees = etree.Element(f"{{{T}}}RequiredAttendees", nsmap={"t": T})
                item.props["RequiredAttendees"] = attendees
            mailbox = etree.SubElement(
                etree.SubElement(attendees, f"{{{T}}}Attendee"), f"{{{T}}}Mailbox"
            )
            if name:
                etree.SubElement(mailbox, f"{{{T}}}Name").text = name
            etree.SubElement(mailbox, f"{{{T}}}EmailAddress").text = email
            etree.SubElement(mailbox, f"{{{T}}}RoutingType").text = "SMTP"
            self._touch_with_master(item)

    def edit_occurrence_at(self, master_id: str, index: int, **fields) -> str:
        """Move or edit one occurrence (1-based) as another client; returns the exception's id."""
        with self._lock:
            master = self.mailbox.items[master_id]
            exc = self._exception_for(master, index)
            self.edit(exc.id, **fields)
            return exc.id

    def delete_occurrence_at(self, master_id: str, index: int) -> None:
        with self._lock:
            master = self.mailbox.items[master_id]
            original = self.mailbox.occurrences(master)[index - 1]
            self._delete_occurrence(master, original)

    def item(self, item_id: str) -> Item:
        return self.mailbox.items[item_id]

    def items(self) -> list[Item]:
        return self.mailbox.listed()

    # ------------------------------------------------------------------ the shared vocabulary

    def _create_event(self, new: NewEvent, recurrence: str | None = None) -> str:
        if new.organizer and "@" in new.organizer:
            organizer_mailbox = (new.organizer.split("@")[0].title(), new.organizer)
        else:
            organizer_mailbox = None
        return self.add_event(
            new.subject,
            new.start,
            new.end,
            body=new.body,
            html=new.html,
            location=new.location,
            timezone=new.timezone,
            sensitivity=SENSITIVITY_WORDS[new.sensitivity],
            attendees=tuple((name or email, email) for name, email in new.attendees),
            organizer=organizer_mailbox,
            recurrence=recurrence,
            show_as=self._free_busy_word(new.show_as),
            join_url=new.join_url,
        )

    def create_series(
        self, subject: str, start: dt.datetime, end: dt.datetime, rrule: str, **fields
    ) -> str:
        new = NewEvent(subject, start, end, **fields)
        return self._create_event(new, _recurrence_xml(rrule, start, new.timezone))

    def cancel_occurrence(self, master_id: str, original_start: dt.datetime) -> None:
        """The organiser cancels one occurrence: the attendee's mailbox applies the
        meeting cancellation to that occurrence, which stays as an exception with
        IsCancelled true ("Indicates whether an appointment or meeting has been
        cancelled", IsCancelled element of the EWS reference), its subject
        "Canceled: …" and LegacyFreeBusyStatus Free, until the attendee removes it
        from the calendar; that makes it one of the master's DeletedOccurrences
        (:meth:`delete_occurrence`)."""
        index = self._index(master_id, original_start)
        with self._lock:
            exc = self._exception_for(self.item(master_id), index)
            exc.cancelled = True
            exc.props["Subject"] = _t_el("Subject", "Canceled: " + exc.text("Subject"))
            exc.props["LegacyFreeBusyStatus"] = _t_el("LegacyFreeBusyStatus", "Free")
            self._touch_with_master(exc)

    def split_series(self, master_id: str, original_start: dt.datetime, **changes) -> str:
        """Outlook's "this and following" (EWS has no operation for it; Outlook
        writes both items): the old master's range becomes an EndDateRecurrence
        ending on the date of the last occurrence before ``original_start``, its
        exceptions and DeletedOccurrences from then on go, the earlier ones stay;
        a new RecurringMaster (an item of its own: new ItemId and UID) repeats by
        the same pattern from that occurrence on, for what was left of a
        numbered range, with ``changes`` applied. A ``start`` among them moves
        the rest as Outlook does: the new range starts on that day, and a weekly
        pattern repeats on its weekday instead of the cut's. Returns the new
        master's id."""
        with self._lock:
            master = self.item(master_id)
            at = original_start.astimezone(UTC)
            originals = self.mailbox.occurrences(master)
            if at not in originals:
                raise ValueError(f"{master_id} has no occurrence at {original_start}")
            earlier = [o for o in originals if o < at]
            if not earlier:
                raise ValueError("splitting at the first occurrence changes the whole series")
            zone = master.zone()
            pattern, rng = master.props["Recurrence"][0], master.props["Recurrence"][1]
            ended = etree.Element(t("Recurrence"), nsmap={"t": T})
            ended.append(copy.deepcopy(pattern))
            end_range = sub(ended, t("EndDateRecurrence"))
            sub(end_range, t("StartDate"), rng.findtext(t("StartDate")))
            sub(end_range, t("EndDate"), earlier[-1].astimezone(zone).date().isoformat())
            master.props["Recurrence"] = ended
            for original in [o for o in master.exceptions if o >= at]:
                self.mailbox.items.pop(master.exceptions.pop(original), None)
            master.deleted_occurrences = [o for o in master.deleted_occurrences if o < at]
            self.mailbox.touch(master)
            moved = changes.pop("start", at).astimezone(UTC)
            length = changes.pop("end", moved + (master.end - master.start)) - moved
            first = moved.astimezone(zone).date().isoformat()
            pattern = copy.deepcopy(pattern)
            days = pattern.find(t("DaysOfWeek"))
            if days is not None and days.text == WEEKDAYS[at.astimezone(zone).weekday()]:
                days.text = WEEKDAYS[moved.astimezone(zone).weekday()]
            kind = etree.QName(rng).localname
            if kind == "NumberedRecurrence":
                left = int(rng.findtext(t("NumberOfOccurrences"))) - len(earlier)
                rest = f"<t:NumberOfOccurrences>{left}</t:NumberOfOccurrences>"
            elif kind == "EndDateRecurrence":
                rest = f"<t:EndDate>{rng.findtext(t('EndDate'))}</t:EndDate>"
            else:
                kind, rest = "NoEndRecurrence", ""
            body = master.props.get("Body")
            attendees = master.props.get("RequiredAttendees")
            people = [
                (a.findtext(f"{t('Mailbox')}/{t('Name')}"), a.findtext(f".//{t('EmailAddress')}"))
                for a in (attendees if attendees is not None else [])
            ]
            new_id = self.add_event(
                master.text("Subject"),
                moved,
                moved + length,
                body=body.text or "" if body is not None else "",
                html=body is not None and body.get("BodyType") == "HTML",
                location=master.text("Location"),
                timezone=zone.key,
                sensitivity=master.text("Sensitivity") or "Normal",
                attendees=tuple((name or email, email) for name, email in people),
                organizer=master.organizer,
                recurrence=etree.tostring(pattern, encoding="unicode")
                + f"<t:{kind}><t:StartDate>{first}</t:StartDate>{rest}</t:{kind}>",
            )
        if changes:
            self.edit_event(new_id, **changes)
        return new_id

    def create_all_day_event(self, subject: str, day: dt.date, days: int = 1) -> str:
        midnight = dt.datetime(day.year, day.month, day.day, tzinfo=UTC)
        return self.add_event(subject, midnight, midnight + dt.timedelta(days=days), all_day=True)

    def edit_event(self, remote_id: str, **changes) -> None:
        changes = neutral_changes(changes)
        if "sensitivity" in changes:
            changes["sensitivity"] = SENSITIVITY_WORDS[changes["sensitivity"]]
        self.edit(remote_id, **changes)

    def delete_event(self, remote_id: str) -> None:
        self.delete(remote_id)

    def cancel_event(self, remote_id: str) -> None:
        self.edit(remote_id, cancelled=True)

    def set_response(self, remote_id: str, email: str, response: str) -> None:
        self.set_response_word(remote_id, email, response_word(response, RESPONSE_WORDS))

    def _index(self, master_id: str, original_start: dt.datetime) -> int:
        """1-based, as EWS's OccurrenceItemId counts."""
        starts = self.mailbox.occurrences(self.item(master_id))
        return starts.index(original_start.astimezone(UTC)) + 1

    def answer_occurrence(
        self, master_id: str, original_start: dt.datetime, email: str, response: str
    ) -> None:
        # Exchange keeps an answer to one occurrence on that occurrence: it is
        # then a modified occurrence (an exception item, ModifiedOccurrences on
        # the master) whose other properties are the series'.
        index = self._index(master_id, original_start)
        with self._lock:
            exception = self._exception_for(self.item(master_id), index)
        self.set_response(exception.id, email, response)

    def occurrence_starts(self, master_id: str) -> list[dt.datetime]:
        with self._lock:
            master = self.item(master_id)
            starts = []
            for original in self.mailbox.occurrences(master):
                if original in master.deleted_occurrences:
                    continue
                moved = master.exceptions.get(original)
                if moved and self.item(moved).cancelled:
                    continue  # still shown in Outlook, struck through: not live
                starts.append(self.item(moved).start if moved else original)
            return sorted(starts)

    def delete_occurrence(self, master_id: str, original_start: dt.datetime) -> None:
        self.delete_occurrence_at(master_id, self._index(master_id, original_start))

    def edit_occurrence(self, master_id: str, original_start: dt.datetime, **changes) -> None:
        index = self._index(master_id, original_start)
        with self._lock:
            exception = self._exception_for(self.item(master_id), index)
        self.edit_event(exception.id, **changes)

    def event_ids(self) -> list[str]:
        return [i.id for i in self.items()]

    def sensitivity(self, remote_id: str) -> str:
        raw = self.item(remote_id).text("Sensitivity") or "Normal"
        return {v: k for k, v in SENSITIVITY_WORDS.items()}[raw]

    def show_as(self, remote_id: str) -> str:
        raw = self.item(remote_id).text("LegacyFreeBusyStatus") or "Busy"
        return {v: k for k, v in SHOW_AS_WORDS.items()}[raw]

    def invitations_sent(self) -> int:
        return self.mails_sent

    def decline_elsewhere(self, remote_id: str) -> None:
        # Outlook declines on the owner's behalf: the answer goes to the
        # organiser and the meeting to Deleted Items, under a new id
        with self._lock:
            item = self.mailbox.items[remote_id]
            assert item.organizer is not None, "only someone else's meeting is declined"
            item.my_response = "Decline"
            own = self.mailbox.email.lower()
            if own in self._attendee_addresses(item):
                item.responses[own] = "Decline"
            self.mailbox.move_to_deleted_items(remote_id)

    def deleted_item(self, ical_uid: str) -> Item | None:
        """The item with this UID in Deleted Items, if any."""
        with self._lock:
            found = [i for i in self.mailbox.listed(self.mailbox.deleted_id) if i.uid == ical_uid]
        return found[0] if found else None

    def own_response(self, remote_id: str) -> str | None:
        with self._lock:
            item = self.mailbox.items.get(remote_id)
            if item is None:
                return None
            word = "NoResponseReceived" if item.organizer is None else item.my_response
        return {v: k for k, v in RESPONSE_WORDS.items()}.get(word, "no_response")

    def revoke_sign_in(self) -> None:
        """The password changes on the server (basic and NTLM alike answer 401)."""
        self.set_password(secrets.token_urlsafe(12))

    def restore_sign_in(self) -> None:
        self.set_password(self._signed_in_password)

    # ------------------------------------------------------------------ internals

    def _touch_with_master(self, item: Item) -> None:
        self.mailbox.touch(item)
        if item.master_id:
            self.mailbox.touch(self.mailbox.items[item.master_id])

    def _exception_for(self, master: Item, index: int) -> Item:
        starts = self.mailbox.occurrences(master)
        if not 1 <= index <= len(starts):
            raise EwsError("ErrorCalendarOccurrenceIndexIsOutOfRecurrenceRange", "Out of range.")
        original = starts[index - 1]
        if original in master.deleted_occurrences:
            raise EwsError("ErrorCalendarOccurrenceIsDeletedFromRecurrence", "Deleted occurrence.")
        if original in master.exceptions:
            return self.mailbox.items[master.exceptions[original]]
        duration = master.end - master.start
        props = {
            k: copy.deepcopy(v)
            for k, v in master.props.items()
            if k not in ("Recurrence", "Start", "End")
        }
        props["Start"] = _t_el("Start", fmt_time(original))
        props["End"] = _t_el("End", fmt_time(original + duration))
        exc = Item(
            self.mailbox.new_id(),
            props,
            kind="Exception",
            master_id=master.id,
            folder_id=master.folder_id,
        )
        exc.original_start = original
        exc.uid = master.uid
        exc.responses = dict(master.responses)
        exc.extended = {k: copy.deepcopy(v) for k, v in master.extended.items()}
        self.mailbox.add(exc)
        master.exceptions[original] = exc.id
        self.mailbox.touch(master)
        return exc

    def _delete_occurrence(self, master: Item, original: dt.datetime) -> None:
        exc_id = master.exceptions.pop(original, None)
        if exc_id:
            self.mailbox.items.pop(exc_id, None)
        if original not in master.deleted_occurrences:
            master.deleted_occurrences.append(original)
        self.mailbox.touch(master)

    # ------------------------------------------------------------------ request handling

    def handle_soap(self, raw: bytes) -> tuple[int, bytes]:
        """Answer one SOAP request: (HTTP status, body)."""
        self._t0 = time.perf_counter()
        try:
            envelope = etree.fromstring(raw, etree.XMLParser(resolve_entities=False))
        except etree.XMLSyntaxError as exc:
            self.validation_errors.append(f"request is not XML: {exc}")
            return 500, self._fault("ErrorSchemaValidation", f"The request is not XML: {exc}")
        body = envelope.find(f"{{{SOAP}}}Body")
        if body is None or len(body) == 0:
            self.validation_errors.append("request without a SOAP Body child")
            return 500, self._fault("ErrorSchemaValidation", "The request has no SOAP Body.")
        request = body[0]
        op = etree.QName(request).localname
        self.operations[op] += 1
        self.log.append(op)
        if self.validate:
            sch = schema()
            if not sch.validate(etree.ElementTree(copy.deepcopy(request))):
                error = str(sch.error_log.last_error)
                self.validation_errors.append(f"{op} request: {error}")
                return 500, self._fault(
                    "ErrorSchemaValidation",
                    "The request failed schema validation: " + error,
                )
        header = envelope.find(f"{{{SOAP}}}Header")
        version = None
        if header is not None:
            rsv = header.find(t("RequestServerVersion"))
            version = rsv.get("Version") if rsv is not None else None
        if version is None:
            # Exchange requires the header since Exchange 2010 (it otherwise
            # assumes Exchange2007 and rejects newer elements); exchangelib always sends it.
            self.validation_errors.append(f"{op} request without RequestServerVersion")
        requested = version if version in SCHEMAS else "Exchange2007"
        if SCHEMAS.index(requested) > SCHEMAS.index(self.exchange_version):
            # an older Exchange does not know the newer schema: the client tries an older one
            return 500, self._fault(
                "ErrorInvalidServerVersion",
                "The specified server version is invalid.",
            )
        held_to = min(requested, self.exchange_version, key=SCHEMAS.index)
        lacks = older_schema_lacks(request, held_to)
        if lacks:
            self.validation_errors.append(f"{op} request for {held_to}: {lacks}")
            return 500, self._fault(
                "ErrorSchemaValidation", "The request failed schema validation: " + lacks
            )
        try:
            return self._dispatch(op, request, held_to)
        finally:
            self.busy_seconds[op] += time.perf_counter() - self._t0

    def _dispatch(self, op: str, request, held_to: str = "Exchange2016") -> tuple[int, bytes]:
        handler = getattr(self, f"op_{op}", None)
        if handler is None:
            return 500, self._fault("ErrorInvalidRequest", f"The operation {op} is not supported.")
        try:
            with self._lock:
                response = handler(request)
        except SoapFault as fault:
            return fault.status, self._fault(fault.code, fault.text, fault.values)
        for name, since in NEWER_ELEMENTS.items():
            # an answer holds only what the request's schema knows (AllProperties included)
            if SCHEMAS.index(held_to) < SCHEMAS.index(since):
                for node in list(response.iter(t(name))):
                    node.getparent().remove(node)
        if self.validate:
            sch = schema()
            if not sch.validate(etree.ElementTree(response)):
                raise AssertionError(
                    f"EWS test server bug: {op} response does not validate: "
                    f"{sch.error_log.last_error}\n{etree.tostring(response).decode()[:3000]}"
                )
        return 200, self._envelope(response)

    def _envelope(self, response: etree._Element) -> bytes:
        env = etree.Element(f"{{{SOAP}}}Envelope", nsmap={"s": SOAP})
        header = sub(env, f"{{{SOAP}}}Header")
        etree.SubElement(
            header,
            t("ServerVersionInfo"),
            dict(
                zip(
                    (
                        "MajorVersion",
                        "MinorVersion",
                        "MajorBuildNumber",
                        "MinorBuildNumber",
                        "Version",
                    ),
                    SERVER_VERSION_INFO[self.exchange_version],
                    strict=True,
                )
            ),
            nsmap={"h": T},
        )
        body = sub(env, f"{{{SOAP}}}Body")
        body.append(response)
        return etree.tostring(env, xml_declaration=True, encoding="utf-8")

    def _fault(self, code: str, text: str, values: dict | None = None) -> bytes:
        # The fault layout Exchange uses (see the module docstring).
        env = etree.Element(f"{{{SOAP}}}Envelope", nsmap={"s": SOAP})
        body = sub(env, f"{{{SOAP}}}Body")
        fault = sub(body, f"{{{SOAP}}}Fault")
        fc = etree.SubElement(fault, "faultcode", nsmap={"a": T})
        fc.text = f"a:{code}"
        sub(fault, "faultstring", text).set("{http://www.w3.org/XML/1998/namespace}lang", "en-US")
        detail = sub(fault, "detail")
        etree.SubElement(detail, f"{{{E}}}ResponseCode", nsmap={"e": E}).text = code
        etree.SubElement(detail, f"{{{E}}}Message", nsmap={"e": E}).text = text
        if values:
            mx = etree.SubElement(detail, t("MessageXml"), nsmap={"t": T})
            for name, value in values.items():
                sub(mx, t("Value"), str(value), Name=name)
        return etree.tostring(env, xml_declaration=True, encoding="utf-8")

    # -- response building

    @staticmethod
    def _response(op: str) -> tuple[etree._Element, etree._Element]:
        resp = etree.Element(m(f"{op}Response"), nsmap=NSMAP)
        msgs = sub(resp, m("ResponseMessages"))
        return resp, msgs

    @staticmethod
    def _message(msgs: etree._Element, op: str, error: EwsError | None = None) -> etree._Element:
        msg = sub(msgs, m(f"{op}ResponseMessage"), ResponseClass="Error" if error else "Success")
        if error:
            sub(msg, m("MessageText"), error.text)
            sub(msg, m("ResponseCode"), error.code)
            sub(msg, m("DescriptiveLinkKey"), "0")
        else:
            sub(msg, m("ResponseCode"), "NoError")
        return msg

    # -- shapes

    def _shape(self, shape_el: etree._Element | None) -> dict:
        base = "Default"
        fields: set[str] = set()
        extended: list[etree._Element] = []
        body_type = "Best"
        if shape_el is not None:
            base = shape_el.findtext(t("BaseShape")) or "Default"
            body_type = shape_el.findtext(t("BodyType")) or "Best"
            props = shape_el.find(t("AdditionalProperties"))
            if props is not None:
                for p in props:
                    name = etree.QName(p).localname
                    if name == "FieldURI":
                        fields.add(p.get("FieldURI").split(":", 1)[1])
                    elif name == "ExtendedFieldURI":
                        extended.append(p)
                    elif name == "IndexedFieldURI":
                        raise EwsError(
                            "ErrorInvalidPropertyRequest", "Indexed fields are not supported."
                        )
        if base == "Default":
            fields |= {
                "Subject",
                "Start",
                "End",
                "Location",
                "CalendarItemType",
                "Organizer",
                "IsAllDayEvent",
            }
        elif base == "AllProperties":
            fields |= set(item_order()) - {"MimeContent", "Attachments", "UniqueBody"}
        return {"fields": fields, "extended": extended, "body_type": body_type}

    def _item_el(self, item: Item, shape: dict, tag: str = "CalendarItem") -> etree._Element:
        out = etree.Element(t(tag))
        wanted = shape["fields"]
        computed = self._computed(item, wanted, shape)
        for name in item_order():
            if name == "ItemId":
                sub(out, t("ItemId"), Id=item.id, ChangeKey=item.changekey)
                continue
            if name == "ExtendedProperty":
                for uri in shape["extended"]:
                    found = item.extended.get(ext_key(uri))
                    if found is not None:
                        out.append(copy.deepcopy(found))
                continue
            if name not in wanted:
                continue
            if name in computed:
                value = computed[name]
                if value is not None:
                    out.append(value)
            elif name in item.props:
                out.append(copy.deepcopy(item.props[name]))
            elif name in DEFAULTS:
                out.append(_t_el(name, DEFAULTS[name]))
        return out

    def _computed(self, item: Item, wanted: set[str], shape: dict) -> dict:
        c: dict[str, etree._Element | None] = {}
        mb = self.mailbox
        if "ParentFolderId" in wanted:
            c["ParentFolderId"] = _t_el(
                "ParentFolderId", None, Id=item.folder_id or mb.calendar_id, ChangeKey="AQAAAA=="
            )
        if "ItemClass" in wanted:
            c["ItemClass"] = _t_el("ItemClass", "IPM.Appointment")
        if "Body" in wanted and "Body" in item.props:
            body = copy.deepcopy(item.props["Body"])
            if shape["body_type"] == "Text" and body.get("BodyType") == "HTML":
                body.text = html_to_text(body.text or "")
                body.set("BodyType", "Text")
            c["Body"] = body
        if "TextBody" in wanted and "Body" in item.props:
            body = item.props["Body"]
            text = body.text or ""
            c["TextBody"] = _t_el(
                "TextBody",
                html_to_text(text) if body.get("BodyType") == "HTML" else text,
                BodyType="Text",
            )
        if "DateTimeCreated" in wanted:
            c["DateTimeCreated"] = _t_el("DateTimeCreated", fmt_time(item.created))
        if "LastModifiedTime" in wanted:
            c["LastModifiedTime"] = _t_el("LastModifiedTime", fmt_time(item.modified))
        if "LastModifiedName" in wanted:
            c["LastModifiedName"] = _t_el("LastModifiedName", mb.display_name)
        if "UID" in wanted:
            c["UID"] = _t_el("UID", item.uid)
        for flag, value in (
            ("IsRecurring", item.kind != "Single"),
            ("IsMeeting", "RequiredAttendees" in item.props or item.organizer is not None),
            ("IsCancelled", item.cancelled),
            ("IsOrganizer", item.organizer is None),
            ("HasAttachments", False),
            ("IsAssociated", False),
        ):
            if flag in wanted:
                c[flag] = _t_el(flag, "true" if value else "false")
        if "OriginalStart" in wanted:
            c["OriginalStart"] = (
                _t_el("OriginalStart", fmt_time(item.original_start))
                if item.original_start
                else None
            )
        if "CalendarItemType" in wanted:
            c["CalendarItemType"] = _t_el("CalendarItemType", item.kind)
        if "MyResponseType" in wanted:
            c["MyResponseType"] = _t_el(
                "MyResponseType", "Organizer" if item.organizer is None else item.my_response
            )
        if "Organizer" in wanted:
            name, email = item.organizer or (mb.display_name, mb.email)
            org = _t_el("Organizer", None)
            box = sub(org, t("Mailbox"))
            sub(box, t("Name"), name)
            sub(box, t("EmailAddress"), email)
            sub(box, t("RoutingType"), "SMTP")
            c["Organizer"] = org
        if "RequiredAttendees" in wanted and "RequiredAttendees" in item.props:
            ra = copy.deepcopy(item.props["RequiredAttendees"])
            for att in ra.findall(t("Attendee")):
                email = (att.findtext(f"{t('Mailbox')}/{t('EmailAddress')}") or "").lower()
                for old in att.findall(t("ResponseType")):
                    att.remove(old)
                response = item.responses.get(email, "Unknown")
                # ResponseType follows Mailbox in AttendeeType
                att.insert(1, _t_el("ResponseType", response))
            c["RequiredAttendees"] = ra
        if "Recurrence" in wanted and "Recurrence" in item.props:
            c["Recurrence"] = _recurrence_answer(item.props["Recurrence"], item.zone())
        if item.kind == "RecurringMaster":
            starts = mb.occurrences(item)
            duration = item.end - item.start
            if "ModifiedOccurrences" in wanted:
                el = None
                if item.exceptions:
                    el = _t_el("ModifiedOccurrences", None)
                    for original, exc_id in sorted(item.exceptions.items()):
                        exc = mb.items[exc_id]
                        occ = sub(el, t("Occurrence"))
                        sub(occ, t("ItemId"), Id=exc.id, ChangeKey=exc.changekey)
                        sub(occ, t("Start"), fmt_time(exc.start))
                        sub(occ, t("End"), fmt_time(exc.end))
                        sub(occ, t("OriginalStart"), fmt_time(original))
                c["ModifiedOccurrences"] = el
            if "DeletedOccurrences" in wanted:
                el = None
                if item.deleted_occurrences:
                    el = _t_el("DeletedOccurrences", None)
                    for original in sorted(item.deleted_occurrences):
                        sub(sub(el, t("DeletedOccurrence")), t("Start"), fmt_time(original))
                c["DeletedOccurrences"] = el
            for name, pick in (("FirstOccurrence", 0), ("LastOccurrence", -1)):
                if name in wanted:
                    el = None
                    if starts:
                        s = starts[pick]
                        el = _t_el(name, None)
                        # the same id FindItem and OccurrenceItemId use: 1-based index
                        sub(
                            el,
                            t("ItemId"),
                            Id=_occurrence_id(item.id, 1 if pick == 0 else len(starts)),
                            ChangeKey=item.changekey,
                        )
                        sub(el, t("Start"), fmt_time(s))
                        sub(el, t("End"), fmt_time(s + duration))
                        sub(el, t("OriginalStart"), fmt_time(s))
                    c[name] = el
        else:
            for name in (
                "ModifiedOccurrences",
                "DeletedOccurrences",
                "FirstOccurrence",
                "LastOccurrence",
            ):
                c[name] = None
        return c

    # -- id resolution

    def _resolve(self, id_el: etree._Element) -> tuple[Item, dt.datetime | None]:
        """An ItemId or OccurrenceItemId -> (item, original start of an
        occurrence not yet an exception)."""
        kind = etree.QName(id_el).localname
        mb = self.mailbox
        if kind == "ItemId":
            item_id = id_el.get("Id")
            occ = _parse_occurrence_id(item_id)
            if occ:
                item_id, index = occ
                id_el = etree.Element(
                    t("OccurrenceItemId"), RecurringMasterId=item_id, InstanceIndex=str(index)
                )
                return self._resolve(id_el)
            item = mb.items.get(item_id)
            if item is None:
                if not _looks_like_id(item_id):
                    raise EwsError("ErrorInvalidIdMalformed", "Id is malformed.")
                raise EwsError(
                    "ErrorItemNotFound", "The specified object was not found in the store."
                )
            return item, None
        if kind == "OccurrenceItemId":
            master = mb.items.get(id_el.get("RecurringMasterId"))
            if master is None:
                raise EwsError(
                    "ErrorItemNotFound", "The specified object was not found in the store."
                )
            if master.kind != "RecurringMaster":
                raise EwsError(
                    "ErrorCalendarOccurrenceIndexIsOutOfRecurrenceRange", "Not a series."
                )
            index = int(id_el.get("InstanceIndex"))
            starts = mb.occurrences(master)
            if not 1 <= index <= len(starts):
                raise EwsError(
                    "ErrorCalendarOccurrenceIndexIsOutOfRecurrenceRange",
                    "The occurrence index is out of the recurrence range.",
                )
            original = starts[index - 1]
            if original in master.deleted_occurrences:
                raise EwsError(
                    "ErrorCalendarOccurrenceIsDeletedFromRecurrence",
                    "Occurrence was deleted from the recurrence.",
                )
            if original in master.exceptions:
                return mb.items[master.exceptions[original]], None
            return master, original
        if kind == "RecurringMasterItemId":
            # GetItem of an occurrence's series (RecurringMasterItemId reference page).
            occurrence_id = id_el.get("OccurrenceId") or ""
            occ = _parse_occurrence_id(occurrence_id)
            if occ:
                master_id = occ[0]
            else:
                found = mb.items.get(occurrence_id)
                if found is None:
                    raise EwsError(
                        "ErrorItemNotFound", "The specified object was not found in the store."
                    )
                master_id = found.master_id if found.kind == "Exception" else None
            master = mb.items.get(master_id or "")
            if master is None:
                raise EwsError(
                    "ErrorItemNotFound", "The specified object was not found in the store."
                )
            return master, None
        raise EwsError("ErrorInvalidIdMalformed", f"{kind} is not supported here.")

    # ------------------------------------------------------------------ operations

    def op_ConvertId(self, req):
        # exchangelib's version probe sends a dummy id; Exchange answers it
        # with ErrorInvalidIdMalformed, which is enough to learn the version.
        resp, msgs = self._response("ConvertId")
        for _ in req.find(m("SourceIds")):
            self._message(
                msgs, "ConvertId", EwsError("ErrorInvalidIdMalformed", "Id is malformed.")
            )
        return resp

    def op_ResolveNames(self, req):
        resp, msgs = self._response("ResolveNames")
        wanted = (req.findtext(m("UnresolvedEntry")) or "").lower()
        mb = self.mailbox
        if wanted and (wanted in mb.email.lower() or wanted in self.username.lower()):
            msg = self._message(msgs, "ResolveNames")
            rs = sub(msg, m("ResolutionSet"), TotalItemsInView="1", IncludesLastItemInRange="true")
            box = sub(sub(rs, t("Resolution")), t("Mailbox"))
            sub(box, t("Name"), mb.display_name)
            sub(box, t("EmailAddress"), mb.email)
            sub(box, t("RoutingType"), "SMTP")
            sub(box, t("MailboxType"), "Mailbox")
        else:
            self._message(
                msgs, "ResolveNames", EwsError("ErrorNameResolutionNoResults", "No results.")
            )
        return resp

    def _folder_el(self, which: str, shape_el) -> etree._Element:
        mb = self.mailbox
        wanted = set()
        base = shape_el.findtext(t("BaseShape")) if shape_el is not None else "Default"
        props = shape_el.find(t("AdditionalProperties")) if shape_el is not None else None
        if props is not None:
            wanted = {p.get("FieldURI", ":").split(":", 1)[1] for p in props if p.get("FieldURI")}
        if base in ("Default", "AllProperties"):
            wanted |= {"DisplayName", "TotalCount", "ChildFolderCount"}
        is_calendar = which in mb.calendars
        if is_calendar:
            tag, name, cls, count = (
                "CalendarFolder",
                mb.calendars[which],
                "IPF.Appointment",
                len(mb.listed(which)),
            )
            children = len(mb.calendars) - 1 if which == mb.calendar_id else 0
            parent = mb.root_id if which == mb.calendar_id else mb.calendar_id
        elif which == mb.sent_id:
            tag, name, cls, count = "Folder", "Sent Items", "IPF.Note", 0
            children, parent = 0, mb.root_id
        elif which == mb.deleted_id:
            tag, name, cls = "Folder", "Deleted Items", "IPF.Note"
            count, children, parent = len(mb.listed(which)), 0, mb.root_id
        else:
            tag, name, cls, count = "Folder", "Top of Information Store", "IPF.Note", 0
            children, parent = 2, None
        el = etree.Element(t(tag))
        values = {
            "ParentFolderId": parent,
            "FolderClass": cls,
            "DisplayName": name,
            "TotalCount": str(count),
            "ChildFolderCount": str(children),
        }
        sub(el, t("FolderId"), Id=which, ChangeKey="AQAAABYAAAA=")
        for key in element_order("BaseFolderType"):
            if key in wanted and values.get(key) is not None:
                if key == "ParentFolderId":
                    sub(el, t("ParentFolderId"), Id=parent, ChangeKey="AQAAAA==")
                    continue
                sub(el, t(key), values[key])
        return el

    def _which_folder(self, fid_el) -> str:
        """The folder id a FolderId / DistinguishedFolderId names."""
        kind = etree.QName(fid_el).localname
        mb = self.mailbox
        if kind == "DistinguishedFolderId":
            box = fid_el.findtext(f"{t('Mailbox')}/{t('EmailAddress')}")
            if box and box.lower() != mb.email.lower():
                raise EwsError(
                    "ErrorNonExistentMailbox",
                    "The SMTP address has no mailbox associated with it.",
                )
            name = fid_el.get("Id")
            if name == "calendar":
                return mb.calendar_id
            if name in ("root", "msgfolderroot"):
                return mb.root_id
            if name == "sentitems":
                return mb.sent_id
            if name == "deleteditems":
                return mb.deleted_id
            raise EwsError(
                "ErrorFolderNotFound", "The specified folder could not be found in the store."
            )
        fid = fid_el.get("Id")
        if fid in mb.calendars or fid in (mb.root_id, mb.sent_id, mb.deleted_id):
            return fid
        raise EwsError(
            "ErrorFolderNotFound", "The specified folder could not be found in the store."
        )

    def op_GetFolder(self, req):
        resp, msgs = self._response("GetFolder")
        shape = req.find(m("FolderShape"))
        for fid in req.find(m("FolderIds")):
            try:
                which = self._which_folder(fid)
            except EwsError as err:
                msg = self._message(msgs, "GetFolder", err)
                sub(msg, m("Folders"))
                continue
            msg = self._message(msgs, "GetFolder")
            sub(msg, m("Folders")).append(self._folder_el(which, shape))
        return resp

    def op_FindFolder(self, req):
        resp, msgs = self._response("FindFolder")
        shape = req.find(m("FolderShape"))
        for fid in req.find(m("ParentFolderIds")):
            try:
                which = self._which_folder(fid)
            except EwsError as err:
                self._message(msgs, "FindFolder", err)
                continue
            msg = self._message(msgs, "FindFolder")
            deep = req.get("Traversal") == "Deep"
            if which == self.mailbox.root_id:
                children = [
                    *(self.mailbox.calendars if deep else [self.mailbox.calendar_id]),
                    self.mailbox.sent_id,
                ]
            elif which == self.mailbox.calendar_id:
                children = [c for c in self.mailbox.calendars if c != which]
            else:
                children = []
            root = sub(
                msg,
                m("RootFolder"),
                IndexedPagingOffset=str(len(children)),
                TotalItemsInView=str(len(children)),
                IncludesLastItemInRange="true",
            )
            folders = sub(root, t("Folders"))
            for child in children:
                folders.append(self._folder_el(child, shape))
        return resp

    def op_SyncFolderItems(self, req):
        resp, msgs = self._response("SyncFolderItems")
        mb = self.mailbox
        try:
            folder_id = self._which_folder(req.find(m("SyncFolderId"))[0])
            if folder_id not in mb.calendars:
                raise EwsError("ErrorInvalidOperation", "Only calendar folders are supported here.")
            shape = self._shape(req.find(m("ItemShape")))
            state = req.findtext(m("SyncState"))
            since = 0
            if state:
                since = self._parse_state(state)
        except EwsError as err:
            msg = self._message(msgs, "SyncFolderItems", err)
            sub(msg, m("SyncState"), "")
            sub(msg, m("IncludesLastItemInRange"), "true")
            return resp
        max_changes = min(int(req.findtext(m("MaxChangesReturned"))), self.max_sync_changes)
        ignore = {i.get("Id") for i in req.find(m("Ignore")) or ()}
        changes: list[tuple[int, str, Item | str]] = []
        for item in mb.listed(folder_id):
            if item.seq > since and item.id not in ignore:
                changes.append((item.seq, "Create" if item.created_seq > since else "Update", item))
        for item_id, (created_seq, deleted_seq, folder) in mb.tombstones.items():
            if deleted_seq > since and created_seq <= since and folder == folder_id:
                changes.append((deleted_seq, "Delete", item_id))
        changes.sort(key=lambda c: c[0])
        page = changes[:max_changes]
        last = len(page) == len(changes)
        new_since = page[-1][0] if page and not last else mb.seq
        msg = self._message(msgs, "SyncFolderItems")
        sub(msg, m("SyncState"), self._make_state(new_since))
        sub(msg, m("IncludesLastItemInRange"), "true" if last else "false")
        out = sub(msg, m("Changes"))
        for _, kind, what in page:
            ch = sub(out, t(kind))
            if kind == "Delete":
                sub(ch, t("ItemId"), Id=what, ChangeKey="AQAAAA==")
            else:
                ch.append(self._item_el(what, shape))
        return resp

    def _make_state(self, seq: int) -> str:
        raw = f"calsync-ews-test:{self.mailbox.generation}:{seq}:{uuid.uuid4().hex[:8]}"
        return base64.b64encode(raw.encode()).decode()

    def _parse_state(self, state: str) -> int:
        try:
            _, generation, seq, _ = base64.b64decode(state, validate=True).decode().split(":")
            generation, seq = int(generation), int(seq)
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise EwsError(
                "ErrorInvalidSyncStateData",
                "Synchronization state data is corrupt or otherwise invalid.",
            ) from None
        if generation != self.mailbox.generation:
            raise EwsError(
                "ErrorInvalidSyncStateData",
                "Synchronization state data is corrupt or otherwise invalid.",
            )
        return seq

    def op_GetItem(self, req):
        resp, msgs = self._response("GetItem")
        shape_el = req.find(m("ItemShape"))
        try:
            shape = self._shape(shape_el)
        except EwsError as err:
            for _ in req.find(m("ItemIds")):
                sub(self._message(msgs, "GetItem", err), m("Items"))
            return resp
        for id_el in req.find(m("ItemIds")):
            try:
                item, occurrence = self._resolve(id_el)
            except EwsError as err:
                sub(self._message(msgs, "GetItem", err), m("Items"))
                continue
            msg = self._message(msgs, "GetItem")
            items = sub(msg, m("Items"))
            if occurrence is not None:
                items.append(self._occurrence_el(item, occurrence, shape))
            else:
                items.append(self._item_el(item, shape))
        return resp

    def _occurrence_el(self, master: Item, original: dt.datetime, shape: dict) -> etree._Element:
        """An unmodified occurrence as Exchange shows it: the master's fields at its own time."""
        index = self.mailbox.occurrences(master).index(original) + 1
        view = copy.copy(master)
        view.props = dict(master.props)
        view.props.pop("Recurrence", None)
        duration = master.end - master.start
        view.props["Start"] = _t_el("Start", fmt_time(original))
        view.props["End"] = _t_el("End", fmt_time(original + duration))
        view.kind = "Occurrence"
        view.original_start = original
        view.id = _occurrence_id(master.id, index)
        view.master_id = master.id
        el = self._item_el(view, shape)
        return el

    def op_FindItem(self, req):
        resp, msgs = self._response("FindItem")
        mb = self.mailbox
        shape = self._shape(req.find(m("ItemShape")))
        restriction = req.find(m("Restriction"))
        view = req.find(m("CalendarView"))
        paged = req.find(m("IndexedPageItemView"))
        for fid in req.find(m("ParentFolderIds")):
            try:
                folder_id = self._which_folder(fid)
            except EwsError as err:
                self._message(msgs, "FindItem", err)
                continue
            rows: list[etree._Element] = []
            if view is not None:
                lo, hi = parse_time(view.get("StartDate")), parse_time(view.get("EndDate"))
                for item in sorted(mb.listed(folder_id), key=lambda i: i.start):
                    if item.kind == "RecurringMaster":
                        duration = item.end - item.start
                        for s in mb.occurrences(item):
                            if s in item.deleted_occurrences:
                                continue
                            if s in item.exceptions:
                                exc = mb.items[item.exceptions[s]]
                                if exc.start < hi and exc.end >= lo:
                                    rows.append(self._item_el(exc, shape))
                            elif s < hi and s + duration >= lo:
                                rows.append(self._occurrence_el(item, s, shape))
                    # An item ending when the view starts is listed too: Exchange does
                    # (exchangelib's test_view, "Exchange wants it differently").
                    elif item.start < hi and item.end >= lo and self._matches(item, restriction):
                        rows.append(self._item_el(item, shape))
                limit = view.get("MaxEntriesReturned")
                if limit and len(rows) > int(limit):
                    self._message(
                        msgs,
                        "FindItem",
                        EwsError(
                            "ErrorCalendarViewRangeTooBig",
                            "The calendar view range is too big.",
                        ),
                    )
                    continue
                offset, total, last = 0, len(rows), True
            else:
                matching = [i for i in mb.listed(folder_id) if self._matches(i, restriction)]
                matching = self._sorted(matching, req.find(m("SortOrder")))
                offset = int(paged.get("Offset", "0")) if paged is not None else 0
                limit = int(paged.get("MaxEntriesReturned", "1000")) if paged is not None else 1000
                chosen = matching[offset : offset + limit]
                rows = [self._item_el(i, shape) for i in chosen]
                total, last = len(matching), offset + len(chosen) >= len(matching)
                offset += len(chosen)
            msg = self._message(msgs, "FindItem")
            attrs = {
                "TotalItemsInView": str(total),
                "IncludesLastItemInRange": "true" if last else "false",
            }
            if view is None:
                attrs = {"IndexedPagingOffset": str(offset), **attrs}
            root = sub(msg, m("RootFolder"), **attrs)
            items = sub(root, t("Items"))
            for row in rows:
                items.append(row)
        return resp

    @staticmethod
    def _sorted(items: list[Item], order) -> list[Item]:
        """Items in a FindItem's SortOrder (FieldOrder elements, the first the
        most significant); only the fields the tests sort by are known."""
        if order is None:
            return items
        keys = {
            "item:LastModifiedTime": lambda i: i.modified,
            "calendar:Start": lambda i: i.start,
            "item:Subject": lambda i: i.text("Subject"),
        }
        for field_order in reversed(list(order)):
            uri = field_order[0].get("FieldURI")
            if uri not in keys:
                raise SoapFault("ErrorUnsupportedPathForSortGroup", f"Cannot sort by {uri}.")
            items = sorted(items, key=keys[uri], reverse=field_order.get("Order") == "Descending")
        return items

    def _matches(self, item: Item, restriction) -> bool:
        if restriction is None:
            return True
        return self._compile(restriction[0])(item)

    def _compile(self, expr):
        """A predicate for a restriction. An Or of IsEqualTo on one extended
        property (how exchangelib sends ``__in``) becomes a set lookup."""
        cache = self.__dict__.setdefault("_compiled", {})
        found = cache.get(id(expr))
        if found is not None and found[0] is expr:
            return found[1]
        pred = None
        if etree.QName(expr).localname == "Or" and all(
            etree.QName(e).localname == "IsEqualTo"
            and etree.QName(e[0]).localname == "ExtendedFieldURI"
            for e in expr
        ):
            keys = {ext_key(e[0]) for e in expr}
            if len(keys) == 1:
                (key,) = keys
                values = {
                    e.find(f"{t('FieldURIOrConstant')}/{t('Constant')}").get("Value") for e in expr
                }

                def pred(item, key=key, values=values):
                    found = item.extended.get(key)
                    return found is not None and found.findtext(t("Value")) in values

        if pred is None:

            def pred(item, expr=expr):
                return self._eval(item, expr)

        cache.clear()
        cache[id(expr)] = (expr, pred)
        return pred

    def _eval(self, item: Item, expr) -> bool:
        kind = etree.QName(expr).localname
        if kind == "Or":
            return any(self._eval(item, e) for e in expr)
        if kind == "And":
            return all(self._eval(item, e) for e in expr)
        if kind == "Not":
            return not self._eval(item, expr[0])
        if kind in ("IsEqualTo", "IsNotEqualTo"):
            path = expr[0]
            const = expr.find(f"{t('FieldURIOrConstant')}/{t('Constant')}")
            if const is None:
                raise SoapFault("ErrorUnsupportedQueryFilter", "Only constants are supported.")
            value = const.get("Value")
            if etree.QName(path).localname == "ExtendedFieldURI":
                found = item.extended.get(ext_key(path))
                actual = found.findtext(t("Value")) if found is not None else None
                equal = actual == value
            elif path.get("FieldURI") == "calendar:MyResponseType":
                equal = value == ("Organizer" if item.organizer is None else item.my_response)
            else:
                values = _field_values(item, path.get("FieldURI").split(":", 1)[1])
                if len(values) > 1 or path.get("FieldURI") == "item:Categories":
                    # a multi-valued property equals a value it holds, ignoring case
                    equal = value.casefold() in {v.casefold() for v in values}
                else:
                    equal = (values[0] if values else None) == value
            return equal if kind == "IsEqualTo" else not equal
        if kind == "Contains":
            # https://learn.microsoft.com/exchange/client-developer/web-service-reference/contains
            const = expr.find(t("Constant"))
            if const is None or etree.QName(expr[0]).localname != "FieldURI":
                raise SoapFault(
                    "ErrorUnsupportedQueryFilter", "Contains needs a FieldURI and a Constant."
                )
            wanted = const.get("Value") or ""
            fold = "IgnoreCase" in (expr.get("ContainmentComparison") or "") or (
                expr.get("ContainmentComparison") == "Loose"
            )
            mode = expr.get("ContainmentMode") or "FullString"
            for actual in _field_values(item, expr[0].get("FieldURI").split(":", 1)[1]):
                a, w = (actual.casefold(), wanted.casefold()) if fold else (actual, wanted)
                if (
                    (mode == "FullString" and a == w)
                    or (mode == "Prefixed" and a.startswith(w))
                    or (mode in ("Substring", "ExactPhrase") and w in a)
                    or (mode == "PrefixOnWords" and any(x.startswith(w) for x in a.split()))
                ):
                    return True
            return False
        if kind == "Exists":
            path = expr[0]
            if etree.QName(path).localname == "ExtendedFieldURI":
                return ext_key(path) in item.extended
            return path.get("FieldURI").split(":", 1)[1] in item.props
        raise SoapFault("ErrorUnsupportedQueryFilter", f"The restriction {kind} is not supported.")

    def op_CreateItem(self, req):
        resp, msgs = self._response("CreateItem")
        mb = self.mailbox
        send = req.get("SendMeetingInvitations")
        target = req.find(m("SavedItemFolderId"))
        for el in req.find(m("Items")):
            if etree.QName(el).localname in RESPONSE_ITEMS:
                try:
                    self._respond(el, req.get("MessageDisposition"))
                except EwsError as err:
                    sub(self._message(msgs, "CreateItem", err), m("Items"))
                    continue
                # "An item identifier is not returned" for a sent response object
                # (CreateItem reference, MessageDisposition attribute)
                sub(self._message(msgs, "CreateItem"), m("Items"))
                continue
            try:
                folder_id = self._which_folder(target[0]) if target is not None else mb.calendar_id
                if folder_id not in mb.calendars:
                    raise EwsError("ErrorInvalidRequest", "Only calendars hold calendar items.")
                if etree.QName(el).localname != "CalendarItem":
                    raise EwsError("ErrorInvalidRequest", "Only calendar items are supported.")
                if send is None:
                    # Required for calendar items (CreateItem operation reference).
                    raise EwsError(
                        "ErrorSendMeetingInvitationsRequired",
                        "SendMeetingInvitations attribute is required for calendar items.",
                    )
                item = self._new_item(el)
                item.folder_id = folder_id
            except EwsError as err:
                sub(self._message(msgs, "CreateItem", err), m("Items"))
                continue
            mb.add(item)
            self.mails_sent += len(item.responses) if send != "SendToNone" else 0
            msg = self._message(msgs, "CreateItem")
            out = sub(sub(msg, m("Items")), t("CalendarItem"))
            sub(out, t("ItemId"), Id=item.id, ChangeKey=item.changekey)
        return resp

    def _respond(self, el, disposition: str | None) -> None:
        """The owner answers a meeting with a response object: ``AcceptItem``,
        ``TentativelyAcceptItem`` or ``DeclineItem`` naming the calendar item in
        ``ReferenceItemId``, sent by CreateItem (learn.microsoft.com/exchange/
        client-developer/web-service-reference/acceptitem, declineitem,
        tentativelyacceptitem; "Respond to meeting requests by using EWS").
        ``MessageDisposition`` is required, response objects being messages
        (CreateItem reference); SaveOnly leaves a draft in Drafts and answers
        nothing yet. The organiser cannot answer their own meeting:
        ErrorCalendarIsOrganizerForAccept (seen in mguessan/davmail#512) and its
        Decline and Tentative forms; nor can anyone answer a cancelled one
        (ErrorCalendarIsCancelledFor…, both in messages.xsd's ResponseCodeType).
        A declined meeting leaves the calendar for Deleted Items (Outlook's
        default; mustang-im/mustang#746 meets it from EWS), so SyncFolderItems
        reports it deleted."""
        kind = etree.QName(el).localname
        word = RESPONSE_ITEMS[kind]
        if disposition is None:
            raise EwsError(
                "ErrorMessageDispositionRequired",
                "MessageDisposition attribute is required for response objects.",
            )
        ref = el.find(t("ReferenceItemId"))
        if ref is None:
            raise EwsError("ErrorInvalidRequest", "ReferenceItemId is required.")
        item = self.mailbox.items.get(ref.get("Id"))
        if item is None:
            raise EwsError("ErrorItemNotFound", "The specified object was not found in the store.")
        if item.organizer is None:
            raise EwsError(
                f"ErrorCalendarIsOrganizerFor{word}",
                "You can't respond to this meeting because you're the meeting organizer.",
            )
        if item.cancelled:
            raise EwsError(
                f"ErrorCalendarIsCancelledFor{word}",
                "You can't respond to this meeting because it has been cancelled.",
            )
        if disposition == "SaveOnly":
            self.response_drafts += 1
            return
        self.responses.append((item.id, word, disposition))
        item.my_response = word
        own = self.mailbox.email.lower()
        if own in self._attendee_addresses(item):
            item.responses[own] = word
        if word == "Decline":
            self.mailbox.move_to_deleted_items(item.id)
        else:
            self._touch_with_master(item)

    def _new_item(self, el) -> Item:
        props: dict[str, etree._Element] = {}
        extended: dict[tuple, etree._Element] = {}
        uid = None
        for child in el:
            name = etree.QName(child).localname
            if name == "ExtendedProperty":
                extended[ext_key(child.find(t("ExtendedFieldURI")))] = copy.deepcopy(child)
            elif name == "UID":
                uid = child.text
            elif name in READ_ONLY:
                raise EwsError("ErrorInvalidPropertySet", f"{name} is read-only.")
            else:
                props[name] = _normalised(child)
        for required in ("Start", "End"):
            if required not in props:
                raise EwsError("ErrorInvalidRequest", f"{required} is required.")
        item = Item(self.mailbox.new_id(), props, extended=extended)
        if uid:
            item.uid = uid
        self._check_times(item)
        item.kind = "RecurringMaster" if "Recurrence" in props else "Single"
        if "RequiredAttendees" in props:
            for att in props["RequiredAttendees"].findall(t("Attendee")):
                email = att.findtext(f"{t('Mailbox')}/{t('EmailAddress')}")
                if not email:
                    raise EwsError("ErrorInvalidRecipients", "An attendee has no email address.")
                item.responses[email.lower()] = "Unknown"
        if item.kind == "RecurringMaster":
            try:
                if not self.mailbox.occurrences(item, limit=1):
                    raise EwsError(
                        "ErrorCalendarInvalidRecurrence", "The recurrence has no occurrences."
                    )
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                raise EwsError(
                    "ErrorCalendarInvalidRecurrence", f"Invalid recurrence: {exc}"
                ) from None
        return item

    def _check_times(self, item: Item) -> None:
        if item.end < item.start:
            raise EwsError(
                "ErrorCalendarEndDateIsEarlierThanStartDate", "EndDate is earlier than StartDate"
            )

    def op_UpdateItem(self, req):
        resp, msgs = self._response("UpdateItem")
        mb = self.mailbox
        resolution = req.get("ConflictResolution")
        for change in req.find(m("ItemChanges")):
            id_el = change[0]
            try:
                item, occurrence = self._resolve(id_el)
                if occurrence is not None:
                    index = mb.occurrences(item).index(occurrence) + 1
                    item = self._exception_for(item, index)
                given = id_el.get("ChangeKey")
                if (
                    given
                    and resolution != "AlwaysOverwrite"
                    and etree.QName(id_el).localname == "ItemId"
                    and given != item.changekey
                ):
                    raise EwsError(
                        "ErrorIrresolvableConflict",
                        "The send or update operation could not be performed because the "
                        "change key passed in the request does not match the current change "
                        "key for the item.",
                    )
                staged = copy.copy(item)
                staged.props = dict(item.props)
                staged.extended = dict(item.extended)
                staged.responses = dict(item.responses)
                for update in change.find(t("Updates")):
                    self._apply_update(staged, update)
                self._check_times(staged)
                if "Recurrence" in staged.props and item.kind == "Single":
                    staged.kind = "RecurringMaster"
                if staged.kind == "RecurringMaster" and "Recurrence" not in staged.props:
                    staged.kind = "Single"
                if staged.kind == "RecurringMaster" and not mb.occurrences(staged, limit=1):
                    raise EwsError(
                        "ErrorCalendarInvalidRecurrence", "The recurrence has no occurrences."
                    )
            except EwsError as err:
                msg = self._message(msgs, "UpdateItem", err)
                sub(msg, m("Items"))
                continue
            if staged.props.get("Recurrence") is not item.props.get("Recurrence"):
                # a new pattern drops the old exceptions and deletions, as Exchange does
                for exc_id in item.exceptions.values():
                    mb.items.pop(exc_id, None)
                staged.exceptions = {}
                staged.deleted_occurrences = []
            item.props, item.extended, item.responses, item.kind = (
                staged.props,
                staged.extended,
                staged.responses,
                staged.kind,
            )
            item.exceptions, item.deleted_occurrences = (
                staged.exceptions,
                staged.deleted_occurrences,
            )
            self._touch_with_master(item)
            msg = self._message(msgs, "UpdateItem")
            out = sub(sub(msg, m("Items")), t("CalendarItem"))
            sub(out, t("ItemId"), Id=item.id, ChangeKey=item.changekey)
            sub(msg, m("ConflictResults")).append(_t_el("Count", "0"))
        return resp

    def _apply_update(self, item: Item, update) -> None:
        kind = etree.QName(update).localname
        path = update[0]
        path_kind = etree.QName(path).localname
        if path_kind == "ExtendedFieldURI":
            key = ext_key(path)
            if kind == "DeleteItemField":
                item.extended.pop(key, None)
            else:
                prop = update[1].find(t("ExtendedProperty"))
                item.extended[key] = copy.deepcopy(prop)
            return
        if path_kind != "FieldURI":
            raise EwsError("ErrorInvalidPropertyRequest", f"{path_kind} updates are not supported.")
        name = path.get("FieldURI").split(":", 1)[1]
        if name == "UID" and kind == "SetItemField":
            # exchangelib saves every field, UID included; the same value is no change.
            given = update[1].findtext(t("UID"))
            if given != item.uid:
                raise EwsError("ErrorInvalidPropertySet", "UID cannot be changed.")
            return
        if name in READ_ONLY or name == "UID":
            raise EwsError("ErrorInvalidPropertySet", f"{name} cannot be set.")
        if kind in ("SetItemField", "AppendToItemField"):
            value = update[1].find(t(name))
            if value is None:
                raise EwsError("ErrorInvalidPropertyRequest", f"The update carries no {name}.")
            item.props[name] = _normalised(value)
            if name == "RequiredAttendees":
                emails = set()
                for att in value.findall(t("Attendee")):
                    email = att.findtext(f"{t('Mailbox')}/{t('EmailAddress')}")
                    if not email:
                        raise EwsError(
                            "ErrorInvalidRecipients", "An attendee has no email address."
                        )
                    emails.add(email.lower())
                item.responses = {e: item.responses.get(e, "Unknown") for e in emails}
        elif kind == "DeleteItemField":
            item.props.pop(name, None)
            if name == "RequiredAttendees":
                item.responses = {}
        else:
            raise EwsError("ErrorInvalidRequest", f"{kind} is not supported.")

    def op_DeleteItem(self, req):
        resp, msgs = self._response("DeleteItem")
        mb = self.mailbox
        for id_el in req.find(m("ItemIds")):
            try:
                item, occurrence = self._resolve(id_el)
            except EwsError as err:
                self._message(msgs, "DeleteItem", err)
                continue
            # Exchange ignores the ChangeKey on DeleteItem: the client checks first.
            if occurrence is not None:
                self._delete_occurrence(item, occurrence)
            elif item.kind == "Exception":
                self._delete_occurrence(mb.items[item.master_id], item.original_start)
            else:
                mb.remove(item.id)
            self._message(msgs, "DeleteItem")
        return resp


READ_ONLY = {
    "ItemId",
    "ParentFolderId",
    "ItemClass",
    "DateTimeCreated",
    "LastModifiedTime",
    "LastModifiedName",
    "CalendarItemType",
    "IsRecurring",
    "IsMeeting",
    "IsCancelled",
    "ModifiedOccurrences",
    "DeletedOccurrences",
    "FirstOccurrence",
    "LastOccurrence",
    "Organizer",
    "MyResponseType",
    "OriginalStart",
    "TextBody",
    "JoinOnlineMeetingUrl",
}


def _normalised(el: etree._Element) -> etree._Element:
    """A copy as Exchange stores and returns it: times in UTC with "Z"; an
    xs:boolean written "1" or "0" (as exchangelib writes them) answered "true" or
    "false"; a Subject cut to 255 characters (Exchange keeps no more, see
    https://learn.microsoft.com/exchange/client-developer/web-service-reference/subject)."""
    el = copy.deepcopy(el)
    name = etree.QName(el).localname
    if name in ("Start", "End") and el.text:
        el.text = fmt_time(parse_time(el.text))
    elif name in boolean_elements() and el.text is not None:
        el.text = "true" if el.text.strip() in ("1", "true") else "false"
    elif name == "Subject" and el.text and len(el.text) > MAX_SUBJECT:
        el.text = el.text[:MAX_SUBJECT]
    return el


def _field_values(item: Item, name: str) -> list[str]:
    """The text values of a stored property: one, or each String of an array."""
    el = item.props.get(name)
    if el is None:
        return []
    strings = el.findall(t("String"))
    if strings:
        return [s.text or "" for s in strings]
    return [el.text or ""]


def _recurrence_answer(recurrence: etree._Element, zone: ZoneInfo) -> etree._Element:
    """A stored Recurrence as Exchange answers it: StartDate and EndDate are
    xs:date with the offset of the appointment's time zone ("2026-12-01Z",
    "2026-12-01-08:00"), the form exchangelib reads back as a date."""
    out = copy.deepcopy(recurrence)
    for tag in ("StartDate", "EndDate"):
        for el in out.iter(t(tag)):
            day = dt.date.fromisoformat((el.text or "")[:10])
            offset = dt.datetime.combine(day, dt.time(12), zone).utcoffset() or dt.timedelta(0)
            if not offset:
                el.text = f"{day.isoformat()}Z"
            else:
                minutes = int(offset.total_seconds() // 60)
                sign = "+" if minutes >= 0 else "-"
                el.text = f"{day.isoformat()}{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    return out


def _recurrence_xml(rrule: str, start: dt.datetime, tz: str) -> str:
    """The inner XML of the t:Recurrence another client (Outlook) writes for a
    simple RFC 5545 rule: DAILY or WEEKLY (BYDAY), INTERVAL, COUNT or UNTIL."""
    parts = dict(p.split("=", 1) for p in rrule.upper().split(";") if p)
    zone = iana_zone(_ms_zone(tz))
    local = start.astimezone(zone)
    codes = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
    interval = f"<t:Interval>{int(parts.get('INTERVAL', 1))}</t:Interval>"
    if parts["FREQ"] == "DAILY":
        pattern = f"<t:DailyRecurrence>{interval}</t:DailyRecurrence>"
    elif parts["FREQ"] == "WEEKLY":
        days = parts.get("BYDAY", codes[local.weekday()]).split(",")
        names = " ".join(WEEKDAYS[codes.index(d)] for d in days)
        pattern = (
            f"<t:WeeklyRecurrence>{interval}<t:DaysOfWeek>{names}</t:DaysOfWeek>"
            "<t:FirstDayOfWeek>Monday</t:FirstDayOfWeek></t:WeeklyRecurrence>"
        )
    else:
        raise ValueError(f"the test server makes only daily and weekly series, not {rrule!r}")
    first = f"<t:StartDate>{local.date().isoformat()}</t:StartDate>"
    if "COUNT" in parts:
        count = f"<t:NumberOfOccurrences>{int(parts['COUNT'])}</t:NumberOfOccurrences>"
        return f"{pattern}<t:NumberedRecurrence>{first}{count}</t:NumberedRecurrence>"
    if "UNTIL" in parts:
        until = dt.datetime.strptime(parts["UNTIL"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        last = f"<t:EndDate>{until.astimezone(zone).date().isoformat()}</t:EndDate>"
        return f"{pattern}<t:EndDateRecurrence>{first}{last}</t:EndDateRecurrence>"
    return f"{pattern}<t:NoEndRecurrence>{first}</t:NoEndRecurrence>"


def _t_el(name: str, text: str | None, **attrs) -> etree._Element:
    el = etree.Element(t(name), {k: str(v) for k, v in attrs.items()}, nsmap={"t": T})
    if text is not None:
        el.text = text
    return el


def _extended_el(key: tuple, value: str) -> etree._Element:
    prop = _t_el("ExtendedProperty", None)
    uri = sub(prop, t("ExtendedFieldURI"))
    original = dict(key)
    for name, val in original.items():
        if val:
            uri.set(name, val)
    sub(prop, t("Value"), value)
    return prop


def _occurrence_id(master_id: str, index: int) -> str:
    return base64.b64encode(f"OCC:{master_id}:{index}".encode()).decode()


def _parse_occurrence_id(value: str) -> tuple[str, int] | None:
    try:
        raw = base64.b64decode(value, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    if not raw.startswith("OCC:"):
        return None
    _, master, index = raw.rsplit(":", 2)
    return master, int(index)


def _looks_like_id(value: str) -> bool:
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def _ms_zone(iana: str) -> str:
    from exchangelib.winzone import IANA_TO_MS_TIMEZONE_MAP  # data table only

    return IANA_TO_MS_TIMEZONE_MAP.get(iana, ("UTC",))[0]


# --------------------------------------------------------------------------- HTTP


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_state: EwsServer

    def log_message(self, format, *args) -> None:
        pass

    def _send(
        self, status: int, body: bytes, content_type: str = "text/xml; charset=utf-8", headers=()
    ):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            # the client gave up (a timeout test): nothing to answer any more
            self.close_connection = True

    def _not_ews_page(self) -> None:
        page = (
            b"<!DOCTYPE html><html><head><title>404 - Not Found</title></head>"
            b"<body><h1>Not Found</h1></body></html>"
        )
        self._send(404, page, "text/html")

    def do_GET(self) -> None:
        # Exchange answers a browser GET of the endpoint with an HTML page, never SOAP
        self._not_ews_page()

    def do_POST(self) -> None:
        state = self.server_state
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if not state.is_looking:  # a test's look is not the product talking
            with state._lock:
                state.requests += 1
        operation = _OPERATION.search(raw[:4096])
        write = operation is not None and operation.group(1).decode() in WRITE_OPERATIONS
        fault = state.faults.take(self.path, write=write)
        if (
            state.not_ews
            or (fault and fault.kind == "not_ews")
            or self.path.split("?")[0].lower() != "/ews/exchange.asmx"
        ):
            self._not_ews_page()
            return
        if fault and fault.kind == "drop":
            drop_connection(self)
            return
        if fault and fault.kind == "slow":
            delay(fault)
        if not (fault and fault.kind == "expired_token") and "NTLM" in state.auth_methods:
            header = self.headers.get("Authorization", "")
            if header.startswith("NTLM ") and self._ntlm_step(header[5:]):
                return  # a challenge was sent; the client answers on this connection
        if (fault and fault.kind == "expired_token") or not self._authorised():
            if fault and fault.kind in ("rate_limit", "server_busy", "malformed"):
                # Exchange throttles a known user: an anonymous probe gets its 401
                # and the fault waits for the next signed-in request.
                state.faults.put_back(fault)
            state.auth_failures += 1
            challenge = [
                ("WWW-Authenticate", f'{a} realm="127.0.0.1"' if a == "Basic" else a)
                for a in state.auth_methods
            ]
            self._send(401, b"", "text/html", challenge)
            return
        if fault and fault.kind in ("rate_limit", "server_busy"):
            body = state._fault(
                "ErrorServerBusy",
                "The server cannot service this request right now. Try again later.",
                {"BackOffMilliseconds": int(fault.retry_after_or(2.0) * 1000)},
            )
            self._send(500, body)
            return
        if fault and fault.kind == "server_error":
            self._send(503, b"<html><body>Service Unavailable</body></html>", "text/html")
            return
        if fault and fault.kind == "deep_nesting":
            self._send(200, deep_xml(fault.depth))
            return
        try:
            status, body = state.handle_soap(raw)
        except Exception as exc:
            state.server_errors.append(f"{type(exc).__name__}: {exc}")
            status, body = 500, state._fault("ErrorInternalServerError", "Test server bug.")
        if fault and fault.kind == "malformed":
            # The answer breaks off after the envelope's start. (exchangelib parses
            # with lxml's recovering parser, so a later cut can still "parse".)
            body = body[:60]
        if fault and fault.kind == "bad_value":
            body, hit = rewrite_xml(body, fault.field or "", fault.value or "")
            if not hit:
                state.faults.put_back(fault)  # for the next answer that has the element
        self._send(status, body)

    _ntlm_context = None
    _ntlm_generation = None  # password generation this connection authenticated with

    def _ntlm_step(self, token: str) -> bool:
        """One NTLM handshake step (pyspnego as the acceptor). NTLM authenticates
        the connection, not each request. True when a challenge was answered."""
        import spnego
        import spnego.exceptions

        state = self.server_state
        raw = base64.b64decode(token)
        if self._ntlm_context is None or raw[8:12] == b"\x01\x00\x00\x00":  # a new NEGOTIATE
            self._ntlm_context = spnego.server(protocol="ntlm")
            self._ntlm_generation = None
        try:
            out = self._ntlm_context.step(raw)
        except spnego.exceptions.SpnegoError:
            self._ntlm_context = None
            return False
        if out:
            self._send(
                401,
                b"",
                "text/html",
                [("WWW-Authenticate", "NTLM " + base64.b64encode(out).decode())],
            )
            return True
        self._ntlm_generation = state.password_generation
        self._ntlm_context = None
        return False

    def _authorised(self) -> bool:
        state = self.server_state
        if self._ntlm_generation is not None and self._ntlm_generation == state.password_generation:
            return True
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic ") or "Basic" not in state.auth_methods:
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        user = user.split("\\")[-1]
        return (
            user.lower() in (state.username.lower(), state.mailbox.email.lower())
            and password == state.password
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="A local Exchange Web Services test server.")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--username", default="alice")
    parser.add_argument("--password", default="secret")
    parser.add_argument("--email", default="alice@example.com")
    parser.add_argument("--tls", action="store_true", help="HTTPS with a fresh self-signed CA")
    parser.add_argument("--ntlm", action="store_true", help="offer NTLM (and Basic)")
    args = parser.parse_args(argv)
    methods = ("NTLM", "Basic") if args.ntlm else ("Basic",)
    server = EwsServer(args.username, args.password, args.email, tls=args.tls, auth_methods=methods)
    url = server.start(args.port)
    print(url, flush=True)
    if server.ca_bundle:
        print(f"CA bundle: {server.ca_bundle}", flush=True)
    print(f"user {args.username!r}, email {args.email!r}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
