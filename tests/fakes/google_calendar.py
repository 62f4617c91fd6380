"""A stateful local test server that speaks the Google Calendar API v3 and Google's OAuth.

It answers the real client libraries (google-api-python-client over httplib2,
google-auth-oauthlib's ``InstalledAppFlow.run_local_server``) over real HTTP on
127.0.0.1. What it does, and where the behaviour comes from:

- Resources, paths and parameters follow the discovery document shipped in
  google-api-python-client (``googleapiclient/discovery_cache/documents/calendar.v3.json``).
  That document's ``rootUrl`` + ``batchPath`` (``batch/calendar/v3``) is where
  googleapiclient sends batches *even when* ``client_options.api_endpoint`` is
  overridden (``googleapiclient/discovery.py``, ``_add_basic_methods``), so clients
  must build ``BatchHttpRequest(batch_uri=<base>/batch/calendar/v3)`` themselves;
  this server serves that path (and ``/batch``).
- Incremental sync (``syncToken`` / ``nextSyncToken``, 410 ``fullSyncRequired``,
  the parameters that may not be combined with a sync token, deleted events
  always included) follows Google's guide "Synchronize resources efficiently"
  (https://developers.google.com/calendar/api/guides/sync) and the
  ``events.list`` reference (``showDeleted``: cancelled instances of recurring
  events are listed when ``showDeleted`` and ``singleEvents`` are both false).
- Client-chosen ids: base32hex characters (a-v, 0-9), 5 to 1024 long, else 400
  "Invalid resource id value."; an id already used - even by a deleted event -
  is 409 "The requested identifier already exists."
  (googleapis/google-api-python-client#846 and #210; odoo/odoo#18180).
  Deleting an already deleted event is 410 "Resource has been deleted"
  (google-api-python-client#210); ``events.get`` still returns a deleted event
  with ``status: "cancelled"``.
- Error bodies use Google's JSON error format
  (``{"error": {"errors": [{"domain", "reason", "message"}], "code", "message"}}``),
  see https://developers.google.com/calendar/api/guides/errors (rateLimitExceeded
  as 403 or 429, 410 fullSyncRequired, 412 conditionNotMet, 401 authError).
- Batches are multipart/mixed, one ``application/http`` part per call, answered
  with ``Content-ID: <response-ID>``; at most 50 calls per batch
  (https://developers.google.com/calendar/api/guides/batch).
- OAuth: an authorization endpoint that redirects to the loopback redirect URI
  with a code, a token endpoint that checks PKCE (S256), issues and refreshes
  tokens and answers ``invalid_grant`` ("Token has been expired or revoked.")
  once revoked (RFC 6749 §5.2, RFC 7636).

Run it by hand: ``python -m tests.fakes.google_calendar --port 0`` prints its base
URL on the first line. In tests use :class:`GoogleCalendarServer` in-process.
"""

from __future__ import annotations

import argparse
import base64
import copy
import hashlib
import itertools
import json
import re
import secrets
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.parser import BytesParser
from email.policy import compat32
from http.server import BaseHTTPRequestHandler
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr

from tests.fakes import google_discovery
from tests.fakes.kit import (
    FAULT_KINDS,
    HOSTILE_KINDS,
    BackgroundServer,
    Fault,
    FaultQueue,
    NewEvent,
    RemoteCalendar,
    SeriesEdits,
    delay,
    drop_connection,
    neutral_changes,
    response_word,
)
from tests.fakes.kit.hostile import bad_value_answer, deep_json

DEFAULT_PAGE = 250
MAX_PAGE = 2500
MAX_BATCH = 50
MAX_EXPANSION = 3000
ID_RE = re.compile(r"^[a-v0-9]{5,1024}$")
# When "this and following" splits a series, Google names the new series after
# the old one: ``<old id>_R<UTC start of the split, %Y%m%dT%H%M%S>`` (seen in real
# payloads, e.g. "5sdad4v3r6bi7gvi5q6pq7t0fo_R20200410T160000"; the suffix is
# outside base32hex, so insert accepts it as its own form).
SPLIT_ID_RE = re.compile(r"^[a-v0-9]{5,1000}_R\d{8}T\d{6}Z?$")
# Properties an attendee may not change on a meeting whose organiser does not
# let guests modify it: 403 forbiddenForNonOrganizer "Shared properties can only
# be changed by the organizer of the event." (kewisch/gdata-provider#366, #426).
# The attendee's own copy keeps its reminders, colour, transparency, private
# extended properties and the attendee's own answer.
SHARED_PROPERTIES = (
    "summary",
    "description",
    "location",
    "start",
    "end",
    "recurrence",
    "visibility",
    "guestsCanModify",
    "guestsCanInviteOthers",
    "guestsCanSeeOtherGuests",
    "conferenceData",
    "attachments",
)
# Show-as (calendar v3 discovery document, Event.transparency and Event.eventType;
# "Manage focus time, out of office, and working location events",
# developers.google.com/calendar/api/guides/calendar-status): transparency is
# "opaque" (the default, busy) or "transparent" (available); the type "cannot be
# modified after the event is created", "fromGmail" and "birthday" events cannot
# be made through the API, and the status types exist "only on primary calendars".
TRANSPARENCIES = ("opaque", "transparent")
EVENT_TYPES = ("default", "birthday", "focusTime", "fromGmail", "outOfOffice", "workingLocation")
STATUS_TYPES = ("focusTime", "outOfOffice", "workingLocation")
UNCREATABLE_TYPES = ("birthday", "fromGmail")
SHOW_AS_OF_TYPE = {"outOfOffice": "oof", "workingLocation": "workingElsewhere"}
SHOW_AS_TYPES = {word: kind for kind, word in SHOW_AS_OF_TYPE.items()}
SYNC_TOKEN_INCOMPATIBLE = (
    "iCalUID",
    "orderBy",
    "privateExtendedProperty",
    "q",
    "sharedExtendedProperty",
    "timeMin",
    "timeMax",
    "updatedMin",
)
RESPONSE_STATUSES = ("needsAction", "declined", "tentative", "accepted")
RESPONSE_WORDS = {
    "no_response": "needsAction",
    "accepted": "accepted",
    "tentative": "tentative",
    "declined": "declined",
}
# Calendar has no "personal"; "public" reads as normal (events reference, visibility).
VISIBILITY_WORDS = {"normal": "default", "private": "private", "confidential": "confidential"}
SENSITIVITY_OF = {
    "default": "normal",
    "public": "normal",
    "private": "private",
    "confidential": "confidential",
}
# The shared kinds (tests/fakes/kit) are answered as: rate_limit 429 and
# server_busy 503 (with Retry-After when given), server_error 500 backendError,
# expired_token 401 authError; and two of Google's own:
GOOGLE_FAULT_KINDS = (
    *FAULT_KINDS,
    *HOSTILE_KINDS,  # tests/fakes/kit/hostile.py
    "rate_limit_403",  # 403 rateLimitExceeded (Calendar's usual answer)
    "sync_expired",  # 410 fullSyncRequired
)


class ApiError(Exception):
    """An answer in Google's JSON error format."""

    def __init__(
        self,
        code: int,
        reason: str,
        message: str,
        domain: str = "global",
        headers: dict | None = None,
        extra: dict | None = None,
    ):
        super().__init__(message)
        self.code, self.reason, self.message, self.domain = code, reason, message, domain
        self.headers = headers or {}
        self.extra = extra or {}

    def body(self) -> dict:
        error = {"domain": self.domain, "reason": self.reason, "message": self.message}
        error.update(self.extra)
        return {"error": {"errors": [error], "code": self.code, "message": self.message}}


def _not_found() -> ApiError:
    return ApiError(404, "notFound", "Not Found")


# --------------------------------------------------------------------------- time helpers


def _rfc3339(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _parse_time(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError("no offset")
    return value


def _zone(name: str, which: str) -> ZoneInfo:
    """An IANA zone, or Google's 400 for a name it does not know (seen as
    ``{"reason": "invalid", "message": "Invalid time zone definition for start
    time."}``, n8n-io/n8n#2995, phw198/OutlookGoogleCalendarSync#1525)."""
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError, OSError) as exc:
        raise ApiError(400, "invalid", f"Invalid time zone definition for {which} time.") from exc


def _event_time(
    node: dict | None, fallback_tz: str = "UTC", which: str = "start"
) -> tuple[datetime, str, bool]:
    """(aware start, zone name, all-day) of an event's start/end object."""
    if not node:
        raise ApiError(400, "required", f"Missing {which} time.")
    if node.get("timeZone"):
        _zone(node["timeZone"], which)
    tz = node.get("timeZone") or fallback_tz
    if node.get("date"):
        day = datetime.fromisoformat(node["date"])
        return day.replace(tzinfo=UTC), tz, True
    text = node.get("dateTime")
    if not text:
        raise ApiError(400, "required", "Missing time.")
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ApiError(400, "invalid", "Invalid start time.") from exc
    if value.tzinfo is None:
        # A dateTime without offset needs an explicit timeZone (events reference).
        if not node.get("timeZone"):
            raise ApiError(400, "required", f"Missing time zone definition for {which} time.")
        value = value.replace(tzinfo=ZoneInfo(node["timeZone"]))
    return value, tz, False


def _merge_patch(current: dict, patch: dict) -> dict:
    """Google's patch semantics: objects merge key by key at every depth, an array
    or a value replaces what was there, ``null`` removes the key
    (https://developers.google.com/calendar/api/guides/performance#patch)."""
    merged = copy.deepcopy(current)
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge_patch(merged[key], value)
        else:
            merged[key] = copy.deepcopy(_drop_nulls(value))
    return merged


def _answers_only(current: dict, given: list) -> list:
    """The guest list after a write with ``attendeesOmitted``: "When updating an
    event, this can be used to only update the participant's response" (Event
    resource, calendar v3 discovery document). The attendees named are matched
    by address in the list the event has, which keeps everyone else."""
    if not isinstance(given, list):
        raise ApiError(400, "invalid", "Invalid value for: attendees")
    out = copy.deepcopy(current.get("attendees") or [])
    for attendee in given:
        email = (attendee or {}).get("email") if isinstance(attendee, dict) else None
        if not email:
            raise ApiError(400, "required", "Missing attendee email.")
        for entry in out:
            if (entry.get("email") or "").lower() == email.lower():
                entry.update({k: v for k, v in attendee.items() if k != "email"})
                break
        else:
            out.append(copy.deepcopy(attendee))  # a new guest: the guest check decides
    return out


def _drop_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_nulls(v) for k, v in value.items() if v is not None}
    return value


def _shared(value: Any) -> Any:
    """A start or end compared as the instant and zone it names, not its spelling."""
    if isinstance(value, dict) and "dateTime" in value:
        return (_parse_time_or_none(value["dateTime"]), value.get("timeZone"))
    return value


def _parse_time_or_none(text: str) -> datetime | str:
    try:
        return _parse_time(text)
    except ValueError:
        return text


def _guests(event: dict, owner: str) -> list[tuple]:
    """The guest list without the owner's own answer (which is theirs to give)."""
    return sorted(
        (
            (a.get("email") or "").lower(),
            a.get("displayName"),
            a.get("optional", False),
            None if (a.get("email") or "").lower() == owner.lower() else a.get("responseStatus"),
        )
        for a in event.get("attendees") or []
    )


def _instance_stamp(original_start: datetime) -> str:
    return original_start.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _parse_exdate_line(line: str, tz: str) -> list[datetime]:
    head, _, values = line.partition(":")
    params = dict(p.split("=", 1) for p in head.split(";")[1:] if "=" in p)
    zone = ZoneInfo(params.get("TZID", tz))
    out = []
    for value in values.split(","):
        value = value.strip()
        if not value:
            continue
        if value.endswith("Z"):
            out.append(datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC))
        elif "T" in value:
            out.append(datetime.strptime(value, "%Y%m%dT%H%M%S").replace(tzinfo=zone))
        else:
            out.append(datetime.strptime(value, "%Y%m%d").replace(tzinfo=zone))
    return out


# --------------------------------------------------------------------------- state


@dataclass
class Calendar:
    id: str
    summary: str
    primary: bool = False
    access_role: str = "owner"
    time_zone: str = "UTC"
    events: dict[str, dict] = field(default_factory=dict)
    seqs: dict[str, int] = field(default_factory=dict)
    added: int = 0  # the state's change counter when the calendar was added


@dataclass
class Token:
    access: str
    refresh: str | None
    email: str
    expires: float
    revoked: bool = False


class CalendarState:
    """The calendars, events, sync tokens and OAuth grants of one test server.

    All public methods are safe to call from the test thread while the server
    thread answers requests.
    """

    def __init__(self, owner_email: str, clock: Callable[[], datetime]):
        self.lock = threading.RLock()
        self.owner_email = owner_email
        self.clock = clock
        self.seq = 0
        self.etag_counter = itertools.count(1)
        self.calendars: dict[str, Calendar] = {}
        self.sync_tokens: dict[str, tuple[str, int, bool]] = {}
        self.pages: dict[str, tuple[list[dict], str | None]] = {}
        self.add_calendar(owner_email, owner_email, primary=True)

    def add_calendar(
        self, calendar_id: str, summary: str, primary: bool = False, access_role: str = "owner"
    ) -> Calendar:
        with self.lock:
            self.seq += 1
            cal = Calendar(calendar_id, summary, primary, access_role, added=self.seq)
            self.calendars[calendar_id] = cal
            return cal

    def calendar(self, calendar_id: str) -> Calendar:
        if calendar_id == "primary":
            calendar_id = self.owner_email
        cal = self.calendars.get(calendar_id)
        if cal is None:
            raise _not_found()
        return cal

    # -- bookkeeping

    def _touch(self, cal: Calendar, event: dict) -> None:
        self.seq += 1
        cal.seqs[event["id"]] = self.seq
        event["etag"] = f'"{3_000_000_000_000_000 + next(self.etag_counter)}"'
        event["updated"] = _rfc3339(self.clock())

    def _store(self, cal: Calendar, event: dict) -> dict:
        cal.events[event["id"]] = event
        self._touch(cal, event)
        return event

    def issue_sync_token(self, cal: Calendar) -> str:
        token = "CP" + secrets.token_urlsafe(18)
        self.sync_tokens[token] = (cal.id, self.seq, True)
        return token

    def expire_sync_state(self) -> None:
        with self.lock:
            for token, (cal_id, seq, _ok) in list(self.sync_tokens.items()):
                self.sync_tokens[token] = (cal_id, seq, False)

    # -- recurrence

    def rule_lines(self, event: dict) -> tuple[list[str], list[datetime]]:
        rules, exdates = [], []
        tz = event.get("start", {}).get("timeZone") or "UTC"
        for line in event.get("recurrence") or []:
            upper = line.upper()
            if upper.startswith("RRULE:") or upper.startswith("RDATE"):
                rules.append(line)
            elif upper.startswith("EXDATE"):
                exdates.extend(_parse_exdate_line(line, tz))
            elif upper.startswith("EXRULE"):
                rules.append(line)
        return rules, exdates

    def occurrences(self, master: dict, until: datetime | None = None) -> list[datetime]:
        """Original starts (aware, in the master's zone) of a master, EXDATEs removed."""
        start, tz, all_day = _event_time(master["start"])
        local = start.astimezone(ZoneInfo(tz)) if not all_day else start
        rules, exdates = self.rule_lines(master)
        if not rules:
            return [local]
        rule = rrulestr("\n".join(rules), dtstart=local, forceset=True)
        excluded = {e.astimezone(UTC) for e in exdates}
        out = []
        for occurrence in rule:
            if until is not None and occurrence >= until:
                break
            if occurrence.astimezone(UTC) not in excluded:
                out.append(occurrence)
            if len(out) >= MAX_EXPANSION:
                break
        return out

    def series_span(self, master: dict) -> tuple[datetime, datetime | None]:
        """First start and last end of a series (None when it never ends)."""
        start, tz, _ = _event_time(master["start"])
        end, _, _ = _event_time(master["end"], tz)
        rules, _ = self.rule_lines(master)
        text = " ".join(rules).upper()
        if rules and "COUNT=" not in text and "UNTIL=" not in text:
            return start, None
        occ = self.occurrences(master)
        last = occ[-1] if occ else start
        return start, last + (end - start)

    def instance_of(self, master: dict, original: datetime) -> dict:
        start, tz, _ = _event_time(master["start"])
        end, _, _ = _event_time(master["end"], tz)
        instance = {
            k: copy.deepcopy(v)
            for k, v in master.items()
            if k not in ("recurrence", "id", "start", "end")
        }
        local = original.astimezone(ZoneInfo(tz))
        instance["id"] = f"{master['id']}_{_instance_stamp(original)}"
        instance["recurringEventId"] = master["id"]
        instance["originalStartTime"] = {"dateTime": local.isoformat(), "timeZone": tz}
        instance["start"] = {"dateTime": local.isoformat(), "timeZone": tz}
        instance["end"] = {
            "dateTime": (local + (end - start)).astimezone(ZoneInfo(tz)).isoformat(),
            "timeZone": tz,
        }
        return instance

    def split_instance_id(self, cal: Calendar, event_id: str) -> tuple[dict, datetime] | None:
        """The master and original start named by an instance id ``<master>_<UTC stamp>``."""
        master_id, sep, stamp = event_id.rpartition("_")
        if not sep or master_id not in cal.events:
            return None
        master = cal.events[master_id]
        if not master.get("recurrence"):
            return None
        try:
            wanted = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        except ValueError:
            return None
        for occurrence in self.occurrences(master, until=wanted + timedelta(seconds=1)):
            if occurrence.astimezone(UTC) == wanted:
                return master, occurrence
        return None

    def split(self, cal: Calendar, master_id: str, original_start: datetime) -> dict:
        """ "This and following": the old series ends before ``original_start``, a
        new one (id ``<old>_R<UTC stamp>``) takes the rest; the old series'
        exceptions from then on go (Google moves none to the new series)."""
        master = cal.events[master_id]
        at = original_start.astimezone(UTC)
        starts = self.occurrences(master)
        if at not in {o.astimezone(UTC) for o in starts}:
            raise ValueError(f"{master_id} has no occurrence at {original_start}")
        before = sum(1 for o in starts if o.astimezone(UTC) < at)
        if before == 0:
            raise ValueError("splitting at the first occurrence changes the whole series")
        start, tz, _ = _event_time(master["start"])
        end, _, _ = _event_time(master["end"], tz)
        stamp = at.strftime("%Y%m%dT%H%M%S")
        old_rules, new_rules = [], []
        for line in master.get("recurrence") or []:
            if not line.upper().startswith("RRULE:"):
                old_rules.append(line)
                new_rules.append(line)
                continue
            parts = [p for p in line[6:].split(";") if p]
            count = next((int(p[6:]) for p in parts if p.upper().startswith("COUNT=")), None)
            kept = [p for p in parts if not p.upper().startswith(("COUNT=", "UNTIL="))]
            until = (at - timedelta(seconds=1)).strftime("%Y%m%dT%H%M%SZ")
            old_rules.append("RRULE:" + ";".join([*kept, f"UNTIL={until}"]))
            rest = [p for p in parts if not p.upper().startswith("COUNT=")]
            if count is not None:
                rest.append(f"COUNT={count - before}")
            new_rules.append("RRULE:" + ";".join(rest))
        local = at.astimezone(ZoneInfo(tz))
        body = {
            k: copy.deepcopy(v)
            for k, v in master.items()
            if k not in ("id", "etag", "updated", "created", "htmlLink", "iCalUID", "sequence")
        }
        body.update(
            id=f"{master_id}_R{stamp}",
            iCalUID=f"{master['iCalUID'].split('@')[0]}_R{stamp}@google.com",
            start={"dateTime": local.isoformat(), "timeZone": tz},
            end={"dateTime": (local + (end - start)).isoformat(), "timeZone": tz},
            recurrence=new_rules,
        )
        new = self.insert(cal, body)
        for exception in self.exceptions_of(cal, master_id):
            original = _event_time(exception["originalStartTime"])[0].astimezone(UTC)
            if original >= at and exception.get("status") != "cancelled":
                exception["status"] = "cancelled"
                self._touch(cal, exception)
        self.write(cal, master_id, {"recurrence": old_rules}, patch=True)
        return new

    def move(self, cal: Calendar, event_id: str, destination: Calendar) -> dict:
        """events.move: "Moves an event to another calendar, i.e. changes an event's
        organizer. Note that only default events can be moved" (events.move). The
        event keeps its id; the source calendar's sync sees it deleted."""
        event = cal.events.get(event_id)
        if event is None or event.get("status") == "cancelled" or event.get("recurringEventId"):
            raise _not_found()
        if event.get("eventType", "default") != "default":
            raise ApiError(400, "eventTypeRestriction", "This event cannot be moved.")
        if event_id in destination.events:
            raise ApiError(409, "duplicate", "The requested identifier already exists.")
        moved = copy.deepcopy(event)
        moved["organizer"] = {"email": destination.id, "self": destination.primary}
        event["status"] = "cancelled"
        self._touch(cal, event)
        return copy.deepcopy(self._store(destination, moved))

    def exceptions_of(self, cal: Calendar, master_id: str) -> list[dict]:
        return [e for e in cal.events.values() if e.get("recurringEventId") == master_id]

    # -- event writes (shared by the HTTP API and the "another client" helpers)

    def normalise(self, cal: Calendar, body: dict, existing: dict | None = None) -> dict:
        event = copy.deepcopy(body)
        for key in ("kind", "etag", "updated", "created", "htmlLink", "iCalUID", "creator"):
            event.pop(key, None)
        start, tz, all_day = _event_time(event.get("start"))
        end, _, end_all_day = _event_time(event.get("end"), tz, "end")
        if event.get("recurrence") and not all_day and not event["start"].get("timeZone"):
            # "For recurring events this field is required" (EventDateTime.timeZone)
            raise ApiError(400, "required", "Missing time zone definition for start time.")
        if not all_day:
            # Google answers every dateTime with an offset, in the zone named
            for key, value in (("start", start), ("end", end)):
                node = event[key] = dict(event[key])
                zone = node.get("timeZone")
                node["dateTime"] = (value.astimezone(ZoneInfo(zone)) if zone else value).isoformat()
        if all_day != end_all_day:
            raise ApiError(
                400, "invalid", "Start and end times must either both be date or both be dateTime."
            )
        if end < start:
            raise ApiError(400, "timeRangeEmpty", "The specified time range is empty.")
        if event.get("visibility", "default") not in (
            "default",
            "public",
            "private",
            "confidential",
        ):
            raise ApiError(400, "invalid", "Invalid value for: visibility")
        if event.get("recurrence"):
            try:
                self.occurrences(event, until=start + timedelta(days=1))
            except (ValueError, TypeError) as exc:
                raise ApiError(400, "invalid", "Invalid recurrence rule.") from exc
        previous = {
            (a.get("email") or "").lower(): a for a in (existing or {}).get("attendees", [])
        }
        attendees = []
        seen: set[str] = set()
        for attendee in event.get("attendees") or []:
            if not attendee.get("email"):
                raise ApiError(400, "required", "Missing attendee email.")
            attendee = dict(attendee)
            key = attendee["email"].lower()
            if key in seen:  # one guest list entry per address, whatever its case
                raise ApiError(400, "invalid", "Duplicate attendee: " + attendee["email"])
            seen.add(key)
            if key == self.owner_email.lower():
                attendee["self"] = True
                if (event.get("organizer") or {}).get("self", True):
                    attendee["organizer"] = True
                    attendee.setdefault("responseStatus", "accepted")
            # The answer belongs to the attendee: a writer that does not name a
            # responseStatus keeps the one already given.
            if "responseStatus" not in attendee:
                attendee["responseStatus"] = previous.get(key, {}).get(
                    "responseStatus", "needsAction"
                )
            if attendee["responseStatus"] not in RESPONSE_STATUSES:
                raise ApiError(400, "invalid", "Invalid attendee response status.")
            attendees.append(attendee)
        if "attendees" in event:
            event["attendees"] = attendees
        _check_reminders(event.get("reminders"))
        self._check_show_as(cal, event, existing)
        event.setdefault("status", "confirmed")
        event.setdefault("organizer", {"email": self.owner_email, "self": True})
        # every event has these in Google's answers (events reference)
        event.setdefault("reminders", {"useDefault": True})
        event.setdefault("eventType", "default")
        return event

    def _check_show_as(self, cal: Calendar, event: dict, existing: dict | None) -> None:
        """Transparency and type as Google takes them; the Meet link is read-only
        (``hangoutLink``: "An absolute link to the Google Hangout associated with
        this event. Read-only."), so it is made from the conference here."""
        if event.get("transparency", "opaque") not in TRANSPARENCIES:
            raise ApiError(400, "invalid", "Invalid value for: transparency")
        kind = event.get("eventType", "default")
        if kind not in EVENT_TYPES:
            raise ApiError(400, "invalid", "Invalid value for: eventType")
        if existing is None:
            if kind in UNCREATABLE_TYPES:
                raise ApiError(400, "invalid", f"Events of type {kind} cannot be created.")
            if kind in STATUS_TYPES and not cal.primary:
                where = "can only be created on a primary calendar"
                raise ApiError(400, "invalid", f"Events of type {kind} {where}.")
        elif kind != existing.get("eventType", "default"):
            raise ApiError(400, "eventTypeChangeNotAllowed", "The event type cannot be changed.")
        event.pop("hangoutLink", None)
        for entry in (event.get("conferenceData") or {}).get("entryPoints") or ():
            meet = (event["conferenceData"].get("conferenceSolution") or {}).get("key", {})
            if entry.get("entryPointType") == "video" and meet.get("type") == "hangoutsMeet":
                event["hangoutLink"] = entry["uri"]

    def insert(self, cal: Calendar, body: dict) -> dict:
        event_id = body.get("id")
        if event_id is not None:
            if not (ID_RE.match(event_id) or SPLIT_ID_RE.match(event_id)):
                raise ApiError(400, "invalid", "Invalid resource id value.")
            if event_id in cal.events:
                raise ApiError(409, "duplicate", "The requested identifier already exists.")
        else:
            event_id = base64.b32hexencode(secrets.token_bytes(15)).decode().lower().rstrip("=")
        event = self.normalise(cal, body)
        now = _rfc3339(self.clock())
        event.update(
            kind="calendar#event",
            id=event_id,
            created=now,
            iCalUID=body.get("iCalUID") or f"{event_id}@google.com",
            creator={"email": self.owner_email, "self": True},
            htmlLink=f"https://www.google.com/calendar/event?eid={event_id}",
            sequence=0,
        )
        event.setdefault("visibility", "default")
        return copy.deepcopy(self._store(cal, event))

    def lookup(self, cal: Calendar, event_id: str) -> dict:
        """The stored event, or a virtual instance of a series (not stored)."""
        if event_id in cal.events:
            return cal.events[event_id]
        found = self.split_instance_id(cal, event_id)
        if found is None:
            raise _not_found()
        master, original = found
        return self.instance_of(master, original)

    def _check_etag(self, event: dict, if_match: str | None) -> None:
        if if_match and if_match != "*" and if_match != event["etag"]:
            raise ApiError(
                412,
                "conditionNotMet",
                "Precondition Failed",
                extra={"location": "If-Match", "locationType": "header"},
            )

    def write(
        self,
        cal: Calendar,
        event_id: str,
        body: dict,
        *,
        patch: bool,
        if_match: str | None = None,
        as_owner: bool = False,
    ) -> dict:
        """Patch or replace an event. ``as_owner``: the calendar's owner writes
        (through the API); otherwise another client (the organiser) does."""
        current = self.lookup(cal, event_id)
        self._check_etag(current, if_match)
        if body.get("attendeesOmitted") and "attendees" in body:
            body = {**body, "attendees": _answers_only(current, body["attendees"])}
        body = {k: v for k, v in body.items() if k != "attendeesOmitted"}
        if patch:
            merged = _merge_patch(current, body)
        else:
            merged = copy.deepcopy(body)
            # an update without conferenceDataVersion=1 leaves the conference as it is
            kept = ("recurringEventId", "originalStartTime", "organizer", "eventType")
            for key in (*kept, "conferenceData"):
                if key in current:
                    merged.setdefault(key, current[key])
        event = self.normalise(cal, merged, existing=current)
        if as_owner:
            self._check_guest_write(current, event)
        for key in (
            "kind",
            "id",
            "created",
            "iCalUID",
            "creator",
            "htmlLink",
            "recurringEventId",
            "originalStartTime",
        ):
            if key in current:
                event[key] = current[key]
        event.setdefault("visibility", "default")
        event["sequence"] = current.get("sequence", 0) + 1
        if current.get("recurrence") and not event.get("recurrence"):
            # No longer a series: its exceptions go with the rule.
            for exception in self.exceptions_of(cal, event["id"]):
                if exception.get("status") != "cancelled":
                    exception["status"] = "cancelled"
                    self._touch(cal, exception)
        return copy.deepcopy(self._store(cal, event))

    def _check_guest_write(self, current: dict, event: dict) -> None:
        """An invitee changes only their own copy's private properties unless the
        organiser lets guests modify the event."""
        organizer = current.get("organizer") or {}
        if organizer.get("self", True) or current.get("guestsCanModify"):
            return
        changed = [k for k in SHARED_PROPERTIES if _shared(current.get(k)) != _shared(event.get(k))]
        if _guests(current, self.owner_email) != _guests(event, self.owner_email):
            changed.append("attendees")
        if (current.get("extendedProperties") or {}).get("shared") != (
            event.get("extendedProperties") or {}
        ).get("shared"):
            changed.append("extendedProperties.shared")
        if changed:
            raise ApiError(
                403,
                "forbiddenForNonOrganizer",
                "Shared properties can only be changed by the organizer of the event.",
                domain="calendar",
            )

    def delete(self, cal: Calendar, event_id: str, if_match: str | None = None) -> None:
        if event_id not in cal.events:
            found = self.split_instance_id(cal, event_id)
            if found is None:
                raise _not_found()
            instance = self.instance_of(*found)
            self._check_etag(instance, if_match)
            instance["status"] = "cancelled"
            self._store(cal, instance)
            return
        event = cal.events[event_id]
        if event.get("status") == "cancelled":
            raise ApiError(410, "deleted", "Resource has been deleted")
        self._check_etag(event, if_match)
        event["status"] = "cancelled"
        self._touch(cal, event)
        if event.get("recurrence"):
            for exception in self.exceptions_of(cal, event_id):
                if exception.get("status") != "cancelled":
                    exception["status"] = "cancelled"
                    self._touch(cal, exception)

    # -- listing

    def overlaps(self, event: dict, time_min: datetime | None, time_max: datetime | None) -> bool:
        if event.get("status") == "cancelled" and event.get("originalStartTime"):
            start, _, _ = _event_time(event["originalStartTime"])
            end = start
        elif event.get("recurrence"):
            start, end = self.series_span(event)
        else:
            start, tz, _ = _event_time(event["start"])
            end, _, _ = _event_time(event["end"], tz)
        if time_max is not None and start >= time_max:
            return False
        return not (time_min is not None and end is not None and end <= time_min)

    def expand(self, cal: Calendar, master: dict, time_min, time_max, show_deleted) -> list[dict]:
        exceptions = {e["id"]: e for e in self.exceptions_of(cal, master["id"])}
        out = []
        start, tz, _ = _event_time(master["start"])
        end, _, _ = _event_time(master["end"], tz)
        for original in self.occurrences(master, until=time_max):
            iid = f"{master['id']}_{_instance_stamp(original)}"
            if iid in exceptions:
                continue
            if time_min is not None and original + (end - start) <= time_min:
                continue
            out.append(self.instance_of(master, original))
        for exception in exceptions.values():
            if exception.get("status") == "cancelled" and not show_deleted:
                continue
            if self.overlaps(exception, time_min, time_max):
                out.append(copy.deepcopy(exception))
        return out

    def full_listing(self, cal: Calendar, q: dict[str, list[str]]) -> list[dict]:
        single = _flag(q, "singleEvents")
        show_deleted = _flag(q, "showDeleted")
        time_min = _time_param(q, "timeMin")
        time_max = _time_param(q, "timeMax")
        ical_uid = _one(q, "iCalUID")
        private_props = [p.split("=", 1) for p in q.get("privateExtendedProperty", [])]
        text = (_one(q, "q") or "").lower()
        updated_min = _time_param(q, "updatedMin")
        items = []
        for event in cal.events.values():
            cancelled = event.get("status") == "cancelled"
            if ical_uid and event.get("iCalUID") != ical_uid:
                continue
            if private_props:
                props = event.get("extendedProperties", {}).get("private", {})
                if any(props.get(k) != v for k, v in private_props):
                    continue
            if text and not any(
                text in (event.get(f) or "").lower() for f in ("summary", "description", "location")
            ):
                continue
            if updated_min and _parse_time(event["updated"]) < updated_min:
                continue
            if single:
                if event.get("recurringEventId"):
                    continue  # exceptions come through expand()
                if event.get("recurrence") and not cancelled:
                    items.extend(self.expand(cal, event, time_min, time_max, show_deleted))
                    continue
            if cancelled:
                # Cancelled instances of a live series are listed even without
                # showDeleted when singleEvents is false (events.list reference).
                master = cal.events.get(event.get("recurringEventId", ""))
                live_master = master is not None and master.get("status") != "cancelled"
                if not show_deleted and not (live_master and not single):
                    continue
            if not ical_uid and not self.overlaps(event, time_min, time_max):
                continue
            items.append(copy.deepcopy(event))
        order = _one(q, "orderBy")
        if order == "startTime":
            items.sort(key=lambda e: _event_time(e.get("start") or e.get("originalStartTime"))[0])
        elif order == "updated":
            items.sort(key=lambda e: e["updated"])
        return items

    def incremental_listing(self, cal: Calendar, since: int) -> list[dict]:
        changed = sorted(
            (seq, eid) for eid, seq in cal.seqs.items() if seq > since and eid in cal.events
        )
        out = []
        for _seq, eid in changed:
            event = cal.events[eid]
            if event.get("status") == "cancelled" and not event.get("recurringEventId"):
                # Deleted events come back only as id + status (sync guide).
                out.append(
                    {
                        "kind": "calendar#event",
                        "etag": event["etag"],
                        "id": eid,
                        "status": "cancelled",
                        "updated": event["updated"],
                    }
                )
            else:
                out.append(copy.deepcopy(event))
        return out


def _check_reminders(reminders: dict | None) -> None:
    """Event.reminders as the events reference bounds it: overrides only without
    the default ("Cannot specify both default reminders and overrides at the same
    time."), "The maximum number of override reminders is 5", each with a method
    (email or popup, "Required when adding a reminder") and minutes "between 0 and
    40320 (4 weeks in minutes)"."""
    if not reminders:
        return
    overrides = reminders.get("overrides") or []
    if reminders.get("useDefault") and overrides:
        raise ApiError(
            400,
            "cannotUseDefaultRemindersAndSpecifyOverride",
            "Cannot specify both default reminders and overrides at the same time.",
        )
    if len(overrides) > 5:
        raise ApiError(400, "invalid", "The maximum number of override reminders is 5.")
    for override in overrides:
        if override.get("method") not in ("email", "popup"):
            raise ApiError(400, "required", "Missing reminder method.")
        if not 0 <= override.get("minutes", -1) <= 40320:
            raise ApiError(400, "invalid", "Invalid reminder minutes: must be 0 to 40320.")


def _check_request(body: dict, method: str) -> None:
    """A request body checked against the discovery document's Event schema."""
    found = google_discovery.problems(body, "Event", method=method)
    if found:
        raise ApiError(400, "invalid", f"Invalid value: {found[0]}")


def _colors(now: datetime) -> dict:
    """colors.get: Google's palette of event and calendar colours (colors reference;
    the eleven event colours of Google Calendar's web app)."""
    event = ["#a4bdfc", "#7ae7bf", "#dbadff", "#ff887c", "#fbd75b", "#ffb878"]
    event += ["#46d6db", "#e1e1e1", "#5484ed", "#51b749", "#dc2127"]
    pair = {k: {"background": v, "foreground": "#1d1d1d"} for k, v in enumerate(event, 1)}
    return {
        "kind": "calendar#colors",
        "updated": _rfc3339(now),
        "calendar": {str(k): v for k, v in pair.items()},
        "event": {str(k): v for k, v in pair.items()},
    }


def _flag(q: dict, name: str, default: bool = False) -> bool:
    value = _one(q, name)
    return default if value is None else value.lower() == "true"


def _one(q: dict, name: str) -> str | None:
    values = q.get(name)
    return values[0] if values else None


def _time_param(q: dict, name: str) -> datetime | None:
    value = _one(q, name)
    if value is None:
        return None
    try:
        return _parse_time(value)
    except ValueError as exc:
        raise ApiError(400, "badRequest", "Bad Request") from exc


# --------------------------------------------------------------------------- HTTP


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    owner: GoogleCalendarServer

    def log_message(self, format, *args):
        pass

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_PUT(self):
        self._dispatch("PUT")

    def do_PATCH(self):
        self._dispatch("PATCH")

    def do_DELETE(self):
        self._dispatch("DELETE")

    def _send(
        self, status: int, body: bytes, content_type: str, headers: dict | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _dispatch(self, method: str) -> None:
        owner = self.owner
        body = self._read_body()
        parsed = urllib.parse.urlsplit(self.path)
        path = parsed.path
        query = urllib.parse.parse_qs(parsed.query, keep_blank_values=True)
        owner._count(method, path)
        if path in ("/o/oauth2/auth", "/o/oauth2/v2/auth"):
            status, headers, payload = owner._authorize(query)
            self._send(status, payload, "text/html; charset=UTF-8", headers)
            return
        if path == "/token":
            status, payload = owner._token(body, self.headers.get("Authorization"))
            self._send(status, json.dumps(payload).encode(), "application/json; charset=utf-8")
            return
        if path == "/revoke":
            form = urllib.parse.parse_qs(body.decode() or parsed.query)
            owner.revoke((form.get("token") or [None])[0])
            self._send(200, b"{}", "application/json; charset=utf-8")
            return
        fault = owner._take_fault(method, path)
        if fault is not None and fault.kind == "drop":
            drop_connection(self)
            return
        if fault is not None and fault.kind == "slow":
            delay(fault)
            fault = None
        if fault is not None and fault.kind == "malformed":
            self._send(
                200,
                b'{"kind": "calendar#events", "items": [{"id": ',
                "application/json; charset=UTF-8",
            )
            return
        if fault is not None and fault.kind == "deep_nesting":
            self._send(200, deep_json("items", fault.depth), "application/json; charset=UTF-8")
            return
        rewrite = None
        if fault is not None and fault.kind == "bad_value":
            rewrite, fault = fault, None
            if path.startswith("/batch"):  # the value goes into the batch's answers
                owner.faults.arm(
                    "bad_value", on="batch_part", field=rewrite.field, value=rewrite.value
                )
                rewrite = None
        try:
            if fault is not None:
                raise owner._fault_error(fault)
            if path.startswith("/batch"):
                owner._check_auth(self.headers.get("Authorization"))
                status, headers, payload, ctype = owner._batch(
                    self.headers.get("Content-Type", ""), body, self.headers.get("Authorization")
                )
                self._send(status, payload, ctype, headers)
                return
            status, headers, result = owner._api(
                method,
                path,
                query,
                body,
                self.headers.get("Authorization"),
                self.headers.get("If-Match"),
                self.headers.get("If-None-Match"),
            )
        except ApiError as error:
            status, headers, result = error.code, error.headers, error.body()
        if rewrite is not None:
            result = bad_value_answer(owner.faults, rewrite, result)
        payload = b"" if result is None else json.dumps(result).encode()
        self._send(status, payload, "application/json; charset=UTF-8", headers)


STATUS_TEXT = {
    200: "OK",
    204: "No Content",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    410: "Gone",
    412: "Precondition Failed",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class GoogleCalendarServer(BackgroundServer, RemoteCalendar, SeriesEdits):
    """The Google Calendar API v3 and OAuth endpoints on 127.0.0.1, in-process.

    ``start()`` binds a free port (or ``port``) and answers in a thread;
    ``stop()`` shuts it down. It is a :class:`RemoteCalendar` (another client's
    acts, expiring sync tokens, revoking the sign-in, faults); Google's own
    wire-level helpers (:meth:`insert_event`, :meth:`patch_event`,
    :meth:`get_event`, :meth:`events`, :meth:`revoke` of one token,
    :meth:`expire_access_tokens`) serve the tests of this one service.
    ``tls=True`` serves HTTPS with a certificate of its own CA (``ca_bundle``).
    """

    client_id = "calsync-test-client.apps.googleusercontent.com"
    client_secret = "test-client-secret"  # a test server's fixed value, not a real secret
    fault_kinds = GOOGLE_FAULT_KINDS

    def __init__(
        self,
        owner_email: str = "sales.person@example.com",
        *,
        port: int = 0,
        tls: bool = False,
        require_auth: bool = True,
        require_pkce: bool = True,
        token_lifetime: float = 3599,
        clock: Callable[[], datetime] | None = None,
    ):
        self.state = CalendarState(owner_email, clock or (lambda: datetime.now(UTC)))
        self._requested_port = port
        self._tls = tls
        self.require_auth = require_auth
        self.require_pkce = require_pkce
        self.token_lifetime = token_lifetime
        self.faults = FaultQueue()
        self.requests: list[tuple[str, str]] = []
        self.api_calls: list[tuple[str, str]] = []
        self.notifications: list[dict] = []
        self.authorize_requests: list[dict] = []
        self.deny_consent = False
        self.tokens: dict[str, Token] = {}
        self.codes: dict[str, dict] = {}
        self.answer_problems: list[str] = []  # answers that broke the discovery document
        self._lock = threading.Lock()

    # -- lifecycle

    def start(self) -> GoogleCalendarServer:
        handler = type("Handler", (_Handler,), {"owner": self})
        self._serve(handler, "google-calendar-server", port=self._requested_port, tls=self._tls)
        return self

    def stop(self) -> None:
        super().stop()
        if self.answer_problems:  # a server bug: fail the test that met it
            found, self.answer_problems = self.answer_problems, []
            raise AssertionError("answers outside the discovery document: " + "; ".join(found))

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    @property
    def api_endpoint(self) -> str:
        return self.base_url + "/calendar/v3/"

    @property
    def auth_uri(self) -> str:
        return self.base_url + "/o/oauth2/auth"

    @property
    def token_uri(self) -> str:
        return self.base_url + "/token"

    @property
    def owner_email(self) -> str:
        return self.state.owner_email

    owner = owner_email

    def client_config(self) -> dict:
        """A client-secrets document (the "installed" kind) for this server."""
        return {
            "installed": {
                "client_id": self.client_id,
                "client_secret": self.client_secret,
                "auth_uri": self.auth_uri,
                "token_uri": self.token_uri,
                "redirect_uris": ["http://127.0.0.1", "http://localhost"],
            }
        }

    # -- counting

    def _count(self, method: str, path: str) -> None:
        if self.is_looking:  # a test's look is not the product talking
            return
        with self._lock:
            self.requests.append((method, path))
            if path.startswith("/calendar/") or path.startswith("/batch"):
                self.api_calls.append((method, path))

    def count_requests(self) -> int:
        """HTTP requests to the Calendar API (a batch counts once) so far."""
        return len(self.api_calls)

    def count_all_requests(self) -> int:
        """Every HTTP request, OAuth included."""
        return len(self.requests)

    # -- faults

    def fail_next(self, kind: str, count: int = 1, **options) -> None:
        """The kit's :meth:`RemoteCalendar.fail_next`; ``on="batch_part"`` hits
        single calls inside batches, as Google answers single parts of a batch
        with 403/429 rateLimitExceeded (batch guide)."""
        if options.get("on") == "batch_part" and kind in ("drop", "slow", "malformed"):
            raise ValueError(f"{kind!r} cannot hit a single part of a batch")
        super().fail_next(kind, count, **options)

    def _take_fault(self, method: str, path: str) -> Fault | None:
        write = path.startswith("/batch") or method in ("POST", "PUT", "PATCH", "DELETE")
        fault = self.faults.take(path, write=write)
        if fault is not None and fault.kind == "expired_token":
            self.expire_access_tokens()
        return fault

    def _fault_error(self, fault: Fault) -> ApiError:
        headers = {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after is not None else {}
        if fault.kind == "rate_limit":
            return ApiError(429, "rateLimitExceeded", "Rate Limit Exceeded", "usageLimits", headers)
        if fault.kind == "rate_limit_403":
            return ApiError(403, "rateLimitExceeded", "Rate Limit Exceeded", "usageLimits", headers)
        if fault.kind == "server_busy":
            return ApiError(503, "backendError", "Backend Error", headers=headers)
        if fault.kind == "server_error":
            return ApiError(500, "backendError", "Backend Error")
        if fault.kind == "sync_expired":
            return ApiError(
                410, "fullSyncRequired", "Sync token is no longer valid, a full sync is required."
            )
        return self._auth_error()

    # -- OAuth

    @staticmethod
    def _auth_error() -> ApiError:
        return ApiError(
            401,
            "authError",
            "Invalid Credentials",
            headers={"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'},
            extra={"location": "Authorization", "locationType": "header"},
        )

    def issue_tokens(self, email: str | None = None, lifetime: float | None = None) -> dict:
        """A fresh access + refresh token pair, as after a sign-in."""
        token = Token(
            access="ya29." + secrets.token_urlsafe(24),
            refresh="1//" + secrets.token_urlsafe(24),
            email=email or self.owner_email,
            expires=time.time() + (self.token_lifetime if lifetime is None else lifetime),
        )
        with self._lock:
            self.tokens[token.access] = token
        return {
            "access_token": token.access,
            "refresh_token": token.refresh,
            "expires_in": int(self.token_lifetime if lifetime is None else lifetime),
            "token_type": "Bearer",
            "scope": "https://www.googleapis.com/auth/calendar",
        }

    def expire_access_tokens(self) -> None:
        """Every access token issued so far expires now (refresh tokens stay good)."""
        with self._lock:
            for token in self.tokens.values():
                token.expires = 0

    def revoke(self, token: str | None = None) -> None:
        """Revoke one grant (by access or refresh token), or every grant."""
        with self._lock:
            for t in self.tokens.values():
                if token is None or token in (t.access, t.refresh):
                    t.revoked = True
            if token is not None:
                refreshes = {t.refresh for t in self.tokens.values() if t.revoked}
                for t in self.tokens.values():
                    if t.refresh in refreshes:
                        t.revoked = True

    def _check_auth(self, header: str | None) -> None:
        if not self.require_auth:
            return
        if not header or not header.startswith("Bearer "):
            raise self._auth_error()
        token = self.tokens.get(header[7:].strip())
        if token is None or token.revoked or token.expires < time.time():
            raise self._auth_error()

    def _authorize(self, q: dict) -> tuple[int, dict, bytes]:
        params = {k: v[0] for k, v in q.items()}
        self.authorize_requests.append(params)
        redirect = params.get("redirect_uri", "")
        split = urllib.parse.urlsplit(redirect)
        if params.get("client_id") != self.client_id:
            return 401, {}, b"<h1>Error 401: invalid_client</h1>"
        # Installed apps must redirect to a loopback address (Google's
        # "Loopback IP address options" for desktop apps).
        if split.scheme != "http" or split.hostname not in ("127.0.0.1", "localhost", "::1"):
            return 400, {}, b"<h1>Error 400: redirect_uri_mismatch</h1>"
        if params.get("response_type") != "code":
            return 400, {}, b"<h1>Error 400: unsupported_response_type</h1>"
        challenge = params.get("code_challenge")
        if self.require_pkce and (not challenge or params.get("code_challenge_method") != "S256"):
            return 400, {}, b"<h1>Error 400: invalid_request (PKCE required)</h1>"
        if self.deny_consent:
            # The user pressed "Cancel" on the consent page (RFC 6749 §4.1.2.1).
            answer = {"error": "access_denied"}
            if "state" in params:
                answer["state"] = params["state"]
            sep = "&" if "?" in redirect else "?"
            return 302, {"Location": redirect + sep + urllib.parse.urlencode(answer)}, b""
        code = "4/" + secrets.token_urlsafe(24)
        self.codes[code] = {
            "redirect_uri": redirect,
            "challenge": challenge,
            "offline": params.get("access_type") == "offline",
            "scope": params.get("scope", ""),
        }
        answer = {"code": code, "scope": params.get("scope", "")}
        if "state" in params:
            answer["state"] = params["state"]
        location = redirect + ("&" if "?" in redirect else "?") + urllib.parse.urlencode(answer)
        return 302, {"Location": location}, b""

    def _token(self, body: bytes, authorization: str | None = None) -> tuple[int, dict]:
        form = {k: v[0] for k, v in urllib.parse.parse_qs(body.decode()).items()}
        # Client authentication: HTTP Basic (requests-oauthlib's default) or form fields
        # (google-auth's refresh), both allowed by RFC 6749 §2.3.1.
        if authorization and authorization.startswith("Basic "):
            user, _, password = base64.b64decode(authorization[6:]).decode().partition(":")
            form.setdefault("client_id", urllib.parse.unquote_plus(user))
            form.setdefault("client_secret", urllib.parse.unquote_plus(password))

        def refuse(error: str, description: str, status: int = 400) -> tuple[int, dict]:
            return status, {"error": error, "error_description": description}

        if (
            form.get("client_id") != self.client_id
            or form.get("client_secret") != self.client_secret
        ):
            return refuse("invalid_client", "The OAuth client was not found.", 401)
        grant = form.get("grant_type")
        if grant == "authorization_code":
            grant_info = self.codes.pop(form.get("code", ""), None)
            if grant_info is None:
                return refuse("invalid_grant", "Malformed auth code.")
            if form.get("redirect_uri") != grant_info["redirect_uri"]:
                return refuse("redirect_uri_mismatch", "Bad Request")
            if grant_info["challenge"]:
                verifier = form.get("code_verifier")
                if not verifier:
                    return refuse("invalid_grant", "Missing code verifier.")
                digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
                if digest.decode().rstrip("=") != grant_info["challenge"]:
                    return refuse("invalid_grant", "Invalid code verifier.")
            answer = self.issue_tokens()
            if not grant_info["offline"]:
                with self._lock:
                    self.tokens[answer["access_token"]].refresh = None
                answer.pop("refresh_token")
            answer["scope"] = grant_info["scope"] or answer["scope"]
            return 200, answer
        if grant == "refresh_token":
            refresh = form.get("refresh_token")
            with self._lock:
                matching = [t for t in self.tokens.values() if t.refresh and t.refresh == refresh]
            if not matching or any(t.revoked for t in matching):
                return refuse("invalid_grant", "Token has been expired or revoked.")
            access = "ya29." + secrets.token_urlsafe(24)
            with self._lock:
                self.tokens[access] = Token(
                    access, refresh, matching[0].email, time.time() + self.token_lifetime
                )
            return 200, {
                "access_token": access,
                "expires_in": int(self.token_lifetime),
                "token_type": "Bearer",
                "scope": "https://www.googleapis.com/auth/calendar",
            }
        return refuse("unsupported_grant_type", "Invalid grant_type: " + str(grant))

    # -- the Calendar API

    def _api(
        self,
        method: str,
        path: str,
        q: dict,
        body: bytes,
        auth: str | None,
        if_match: str | None,
        if_none_match: str | None = None,
    ) -> tuple[int, dict, Any]:
        """One API call; its answer checked against the discovery document."""
        status, headers, result = self._route(method, path, q, body, auth, if_match, if_none_match)
        result = self._in_response_zone(path, q if method == "GET" else {}, result)
        found = google_discovery.answer_problems(result)
        if found:
            self.answer_problems.extend(found)
            raise ApiError(500, "backendError", "The test server's answer breaks the schema.")
        return status, headers, result

    def _in_response_zone(self, path: str, q: dict, result: Any) -> Any:
        """Events answered with their times in the response's zone: the ``timeZone``
        parameter of get, list and instances, else the calendar's ("Time zone used
        in the response. Optional. The default is the time zone of the calendar.",
        events.get, events.list, events.instances); each event keeps its own
        ``timeZone`` beside it."""
        if not isinstance(result, dict) or result.get("kind") not in (
            "calendar#event",
            "calendar#events",
        ):
            return result
        parts = path.removeprefix("/calendar/v3/").split("/")
        name = _one(q, "timeZone") or self.state.calendar(urllib.parse.unquote(parts[1])).time_zone
        try:
            zone = ZoneInfo(name)
        except (ValueError, KeyError, OSError) as exc:
            raise ApiError(400, "invalid", f"Invalid time zone: {name}") from exc
        events = result.get("items", []) if result["kind"] == "calendar#events" else [result]
        for event in events:
            for key in ("start", "end", "originalStartTime"):
                node = event.get(key)
                if node and node.get("dateTime"):
                    at = _parse_time(node["dateTime"]).astimezone(zone)
                    node["dateTime"] = at.isoformat().replace("+00:00", "Z")
        return result

    def _route(
        self,
        method: str,
        path: str,
        q: dict,
        body: bytes,
        auth: str | None,
        if_match: str | None,
        if_none_match: str | None,
    ) -> tuple[int, dict, Any]:
        self._check_auth(auth)
        prefix = "/calendar/v3/"
        if not path.startswith(prefix):
            raise _not_found()
        parts = [urllib.parse.unquote(p) for p in path[len(prefix) :].strip("/").split("/")]
        try:
            data = json.loads(body) if body else {}
        except ValueError as exc:
            raise ApiError(400, "parseError", "Parse Error") from exc
        s = self.state
        with s.lock:
            if parts[:3] == ["users", "me", "settings"] and method == "GET":
                return 200, {}, self._settings(parts[3] if len(parts) == 4 else None)
            if parts == ["colors"] and method == "GET":
                return 200, {}, _colors(s.clock())
            if parts[:3] == ["users", "me", "calendarList"]:
                if len(parts) == 3 and method == "GET":
                    return 200, {}, self._calendar_list(q)
                if len(parts) == 4 and method == "GET":
                    return 200, {}, self._calendar_entry(s.calendar(parts[3]))
                raise _not_found()
            if parts[0] != "calendars" or len(parts) < 2:
                raise _not_found()
            cal = s.calendar(parts[1])
            if len(parts) == 2 and method == "GET":
                return (
                    200,
                    {},
                    {
                        "kind": "calendar#calendar",
                        "etag": '"1"',
                        "id": cal.id,
                        "summary": cal.summary,
                        "timeZone": cal.time_zone,
                    },
                )
            if len(parts) < 3 or parts[2] != "events":
                raise _not_found()
            writable = cal.access_role in ("owner", "writer")
            if len(parts) == 3:
                if method == "GET":
                    return 200, {}, self._list(cal, q)
                if method == "POST":
                    if not writable:
                        raise ApiError(
                            403,
                            "requiredAccessLevel",
                            "You need to have writer access to this calendar.",
                        )
                    _check_request(data, "calendar.events.insert")
                    event = s.insert(cal, data)
                    self._notify("insert", event, q)
                    return 200, {"ETag": event["etag"]}, event
                raise ApiError(405, "httpMethodNotAllowed", "Method Not Allowed")
            event_id = parts[3]
            if len(parts) == 5 and parts[4] == "instances" and method == "GET":
                return 200, {}, self._instances(cal, event_id, q)
            if len(parts) == 4 and event_id == "import" and method == "POST":
                if not writable:
                    raise ApiError(
                        403,
                        "requiredAccessLevel",
                        "You need to have writer access to this calendar.",
                    )
                _check_request(data, "calendar.events.import")
                # "Only events with an eventType of default may be imported" and,
                # deprecated, another type "will be changed to default" (events.import).
                return 200, {}, s.insert(cal, {**data, "eventType": "default"})
            if len(parts) == 5 and parts[4] == "move" and method == "POST":
                destination = s.calendar(_one(q, "destination") or "")
                if not writable or destination.access_role not in ("owner", "writer"):
                    raise ApiError(
                        403,
                        "requiredAccessLevel",
                        "You need to have writer access to this calendar.",
                    )
                moved = s.move(cal, event_id, destination)
                self._notify("move", moved, q)
                return 200, {}, moved
            if len(parts) != 4:
                raise _not_found()
            if method == "GET":
                event = copy.deepcopy(s.lookup(cal, event_id))
                if if_none_match and if_none_match in (event["etag"], "*"):
                    return 304, {"ETag": event["etag"]}, None  # RFC 9110 §13.1.2
                return 200, {"ETag": event["etag"]}, event
            if not writable:
                raise ApiError(
                    403, "requiredAccessLevel", "You need to have writer access to this calendar."
                )
            if method in ("PATCH", "PUT"):
                patch = method == "PATCH"
                _check_request(data, "calendar.events." + ("patch" if patch else "update"))
                event = s.write(cal, event_id, data, patch=patch, if_match=if_match, as_owner=True)
                # a guest's own answer (attendeesOmitted) is a reply to the organiser
                answer = bool(data.get("attendeesOmitted")) and not event["organizer"].get("self")
                action = "response" if answer else "patch" if patch else "update"
                self._notify(action, event, q)
                return 200, {"ETag": event["etag"]}, event
            if method == "DELETE":
                s.delete(cal, event_id, if_match=if_match)
                self._notify("delete", {"id": event_id}, q)
                return 204, {}, None
        raise ApiError(405, "httpMethodNotAllowed", "Method Not Allowed")

    def _notify(self, action: str, event: dict, q: dict) -> None:
        send = _one(q, "sendUpdates") or ("all" if _flag(q, "sendNotifications") else "none")
        if send not in ("all", "externalOnly", "none"):
            raise ApiError(400, "invalid", "Invalid value for: sendUpdates")
        self.notifications.append({"action": action, "id": event["id"], "sendUpdates": send})

    def emails_sent(self) -> list[dict]:
        """Writes for which Google would have emailed the attendees (a guest's
        answer goes to the organiser alone: :meth:`answers_sent`)."""
        return [
            n
            for n in self.notifications
            if n["sendUpdates"] != "none" and n["action"] != "response"
        ]

    def answers_sent(self) -> list[dict]:
        """A guest's answers Google would have told the organiser of."""
        return [
            n
            for n in self.notifications
            if n["sendUpdates"] != "none" and n["action"] == "response"
        ]

    def _calendar_entry(self, cal: Calendar) -> dict:
        entry = {
            "kind": "calendar#calendarListEntry",
            "etag": '"1"',
            "id": cal.id,
            "summary": cal.summary,
            "timeZone": cal.time_zone,
            "accessRole": cal.access_role,
        }
        if cal.primary:
            entry["primary"] = True
        if cal.access_role in ("owner", "writer"):
            # calendarList reference: defaultReminders "The default reminders that
            # the authenticated user has for this calendar" (empty unless set)
            entry["defaultReminders"] = []
        return entry

    def _calendar_list(self, q: dict) -> dict:
        """calendarList.list with its sync token: a list with ``syncToken`` holds
        the entries added since (calendars are never removed here)."""
        s = self.state
        token = _one(q, "syncToken")
        since = 0
        if token is not None:
            known = s.sync_tokens.get(token)
            if known is None or not known[2] or known[0] != "calendarList":
                raise ApiError(
                    410,
                    "fullSyncRequired",
                    "Sync token is no longer valid, a full sync is required.",
                )
            since = known[1]
        items = [self._calendar_entry(c) for c in s.calendars.values() if c.added > since]
        next_token = "CL" + secrets.token_urlsafe(18)
        s.sync_tokens[next_token] = ("calendarList", s.seq, True)
        return {
            "kind": "calendar#calendarList",
            "etag": f'"c{s.seq}"',
            "nextSyncToken": next_token,
            "items": items,
        }

    def _settings(self, setting_id: str | None) -> dict:
        """users/me/settings: the user's settings (settings reference; the ids
        and values a new account has)."""
        values = {
            "autoAddHangouts": "false",
            "dateFieldOrder": "DMY",
            "defaultEventLength": "60",
            "format24HourTime": "true",
            "hideInvitations": "false",
            "hideWeekends": "false",
            "locale": "en",
            "remindOnRespondedEventsOnly": "false",
            "showDeclinedEvents": "true",
            "timezone": self.state.calendar("primary").time_zone,
            "useKeyboardShortcuts": "true",
            "weekStart": "1",
        }
        items = [
            {"kind": "calendar#setting", "etag": f'"s{i}"', "id": k, "value": v}
            for i, (k, v) in enumerate(values.items())
        ]
        if setting_id is None:
            return {"kind": "calendar#settings", "etag": '"s"', "items": items}
        for item in items:
            if item["id"] == setting_id:
                return item
        raise _not_found()

    def _page_size(self, q: dict) -> int:
        raw = _one(q, "maxResults")
        if raw is None:
            return DEFAULT_PAGE
        try:
            size = int(raw)
        except ValueError as exc:
            raise ApiError(400, "invalid", "Invalid value for: maxResults") from exc
        if size < 1:
            raise ApiError(
                400,
                "invalid",
                f"Invalid value '{raw}'. Values must be within the range: [1, 2500]",
            )
        return min(size, MAX_PAGE)  # "The page size can never be larger than 2500 events."

    def _page(
        self,
        kind: str,
        cal: Calendar,
        q: dict,
        produce: Callable[[], tuple[list[dict], str | None]],
    ) -> dict:
        s = self.state
        page_token = _one(q, "pageToken")
        if page_token:
            stored = s.pages.pop(page_token, None)
            if stored is None:
                raise ApiError(400, "invalid", "Invalid page token value.")
            items, sync_token = stored
        else:
            items, sync_token = produce()
        size = self._page_size(q)
        page, rest = items[:size], items[size:]
        answer: dict[str, Any] = {
            "kind": kind,
            "etag": f'"p{s.seq}"',
            "summary": cal.summary,
            "updated": _rfc3339(s.clock()),
            "timeZone": cal.time_zone,
            "accessRole": cal.access_role,
            "defaultReminders": [],
            "items": page,
        }
        if rest:
            token = "EjY" + secrets.token_urlsafe(18)
            s.pages[token] = (rest, sync_token)
            answer["nextPageToken"] = token
        elif sync_token:
            answer["nextSyncToken"] = sync_token
        return answer

    def _list(self, cal: Calendar, q: dict) -> dict:
        s = self.state
        sync_token = _one(q, "syncToken")
        if _one(q, "orderBy") == "startTime" and not _flag(q, "singleEvents"):
            raise ApiError(
                400,
                "badRequest",
                "The requested ordering is not available for the particular query.",
            )
        if sync_token is not None:
            for name in SYNC_TOKEN_INCOMPATIBLE:
                if name in q:
                    raise ApiError(
                        400, "invalid", f"Sync token cannot be used together with {name}."
                    )
            if _one(q, "showDeleted") == "false":
                raise ApiError(400, "invalid", "Sync token cannot be used with showDeleted=false.")

        def produce() -> tuple[list[dict], str | None]:
            if sync_token is None:
                return s.full_listing(cal, q), s.issue_sync_token(cal)
            known = s.sync_tokens.get(sync_token)
            if known is None or not known[2] or known[0] != cal.id:
                raise ApiError(
                    410,
                    "fullSyncRequired",
                    "Sync token is no longer valid, a full sync is required.",
                )
            return s.incremental_listing(cal, known[1]), s.issue_sync_token(cal)

        return self._page("calendar#events", cal, q, produce)

    def _instances(self, cal: Calendar, event_id: str, q: dict) -> dict:
        s = self.state
        master = cal.events.get(event_id)
        if master is None:
            raise _not_found()
        if not master.get("recurrence"):
            raise ApiError(400, "invalid", "The event is not a recurring event.")

        def produce() -> tuple[list[dict], str | None]:
            items = s.expand(
                cal,
                master,
                _time_param(q, "timeMin"),
                _time_param(q, "timeMax"),
                _flag(q, "showDeleted"),
            )
            items.sort(key=lambda e: _event_time(e.get("originalStartTime"))[0])
            return items, None

        return self._page("calendar#events", cal, q, produce)

    def _batch(
        self, content_type: str, body: bytes, auth: str | None = None
    ) -> tuple[int, dict, bytes, str]:
        """A multipart batch; the outer request's Authorization serves every part
        that names none ("the outer request's headers apply to each call, the
        inner one wins where both name a header", batch guide)."""
        if "multipart/mixed" not in content_type:
            raise ApiError(400, "badContent", "Batch requests must be multipart/mixed.")
        message = BytesParser(policy=compat32).parsebytes(
            b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
        )
        parts = message.get_payload() if message.is_multipart() else []
        if not parts:
            raise ApiError(400, "badContent", "The batch is empty.")
        if len(parts) > MAX_BATCH:
            # "You're limited to 50 calls in a single batch request" (batch guide).
            raise ApiError(400, "tooManyParts", f"A batch may hold at most {MAX_BATCH} calls.")
        boundary = "batch_" + secrets.token_hex(12)
        out = []
        for part in parts:
            content_id = part.get("Content-ID", "")
            raw = part.get_payload(decode=False)
            if isinstance(raw, list):
                raise ApiError(400, "badContent", "Nested multipart is not allowed.")
            status, headers, result = self._batch_call(raw, auth)
            inner_headers = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
            payload = "" if result is None else json.dumps(result)
            inner = (
                f"HTTP/1.1 {status} {STATUS_TEXT.get(status, 'Error')}\r\n"
                f"Content-Type: application/json; charset=UTF-8\r\n{inner_headers}"
                f"Content-Length: {len(payload.encode())}\r\n\r\n{payload}"
            )
            response_id = content_id[:1] + "response-" + content_id[1:] if content_id else ""
            out.append(
                f"--{boundary}\r\nContent-Type: application/http\r\n"
                f"Content-ID: {response_id}\r\n\r\n{inner}\r\n"
            )
        text = "".join(out) + f"--{boundary}--\r\n"
        return 200, {}, text.encode(), f"multipart/mixed; boundary={boundary}"

    def _batch_call(self, raw: str, auth: str | None = None) -> tuple[int, dict, Any]:
        head, _, data = raw.replace("\r\n", "\n").partition("\n\n")
        lines = head.split("\n")
        # "GET /calendar/v3/... HTTP/1.1", or without the version, as some
        # clients send it (the batch guide's examples name none)
        request_line = lines[0].split()
        if len(request_line) not in (2, 3):
            return 400, {}, ApiError(400, "badRequest", "Invalid batch request line.").body()
        method, target = request_line[:2]
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                key, value = line.split(":", 1)
                headers[key.strip().lower()] = value.strip()
        parsed = urllib.parse.urlsplit(target)
        query = urllib.parse.parse_qs(parsed.query, keep_blank_values=True)
        fault = self.faults.take(parsed.path, write=method != "GET", part=True)
        if fault is not None and fault.kind == "bad_value":
            status, headers, result = self._api(
                method,
                parsed.path,
                query,
                data.encode(),
                headers.get("authorization", auth),
                headers.get("if-match"),
                headers.get("if-none-match"),
            )
            return status, headers, bad_value_answer(self.faults, fault, result, part=True)
        try:
            if fault is not None:
                if fault.kind == "expired_token":
                    self.expire_access_tokens()
                raise self._fault_error(fault)
            return self._api(
                method,
                parsed.path,
                query,
                data.encode(),
                headers.get("authorization", auth),
                headers.get("if-match"),
                headers.get("if-none-match"),
            )
        except ApiError as error:
            return error.code, error.headers, error.body()

    # -- Google's own helpers: the raw resources, for the tests of this service

    def insert_event(self, body: dict, calendar_id: str = "primary") -> dict:
        """Another client inserts the event resource ``body``; returns what is stored."""
        with self.state.lock:
            return self.state.insert(self.state.calendar(calendar_id), body)

    def patch_event(self, event_id: str, patch: dict, calendar_id: str = "primary") -> dict:
        """Another client patches an event (or one instance of a series) with ``patch``."""
        with self.state.lock:
            return self.state.write(self.state.calendar(calendar_id), event_id, patch, patch=True)

    def get_event(self, event_id: str, calendar_id: str = "primary") -> dict:
        with self.state.lock:
            return copy.deepcopy(self.state.lookup(self.state.calendar(calendar_id), event_id))

    def events(self, calendar_id: str = "primary", include_cancelled: bool = False) -> list[dict]:
        """Stored events (masters, exceptions and single events)."""
        with self.state.lock:
            cal = self.state.calendar(calendar_id)
            return [
                copy.deepcopy(e)
                for e in cal.events.values()
                if include_cancelled or e.get("status") != "cancelled"
            ]

    def add_calendar(self, calendar_id: str, summary: str, access_role: str = "owner") -> None:
        self.state.add_calendar(calendar_id, summary, access_role=access_role)

    def set_time_zone(self, zone: str, calendar_id: str = "primary") -> None:
        """The calendar's own time zone (the user changed it in Calendar's settings)."""
        with self.state.lock:
            self.state.calendar(calendar_id).time_zone = zone

    def split_series(self, master_id: str, original_start: datetime, **changes) -> str:
        """Another client changes "this and following events" of a series from the
        occurrence at ``original_start``: Google ends the old series before it
        (UNTIL) and makes a new series ``<master_id>_R<UTC stamp>`` from it on,
        with ``changes`` (the vocabulary's words) applied. Returns the new id."""
        with self.state.lock:
            cal = self.state.calendar("primary")
            new = self.state.split(cal, master_id, original_start)
            if changes:
                self.state.write(cal, new["id"], self._patch_for(new["id"], changes), patch=True)
            return new["id"]

    # -- the shared vocabulary (tests/fakes/kit/remote.py), on the primary calendar

    def _create_event(self, new: NewEvent) -> str:
        return self.insert_event(self._event_body(new))["id"]

    def create_series(
        self, subject: str, start: datetime, end: datetime, rrule: str, **fields
    ) -> str:
        body = self._event_body(NewEvent(subject, start, end, **fields))
        return self.insert_event({**body, "recurrence": [f"RRULE:{rrule}"]})["id"]

    def cancel_occurrence(self, master_id: str, original_start: datetime) -> None:
        # The organiser's deleted instance reaches the attendee's calendar as an
        # exception with status "cancelled": "Cancelled exceptions of an
        # uncancelled recurring event indicate that this instance should no longer
        # be presented to the user" (Events resource, status).
        self.delete_occurrence(master_id, original_start)

    def _event_body(self, new: NewEvent) -> dict[str, Any]:
        # Google keeps HTML in the description as it is (events reference).
        event: dict[str, Any] = {
            "summary": new.subject,
            "start": {"dateTime": new.start.isoformat(), "timeZone": new.timezone},
            "end": {"dateTime": new.end.isoformat(), "timeZone": new.timezone},
        }
        if new.body:
            event["description"] = new.body
        if new.location:
            event["location"] = new.location
        if new.sensitivity != "normal":
            event["visibility"] = _visibility(new.sensitivity)
        people = [
            {"email": email, "displayName": name} if name else {"email": email}
            for name, email in new.attendees
        ]
        if people:
            event["attendees"] = people
        if new.organizer and new.organizer.lower() != self.owner_email.lower():
            # the owner's copy of an invitation lists the owner as a guest
            event["organizer"] = {"email": new.organizer, "self": False}
            listed = {p["email"].lower() for p in people}
            if self.owner_email.lower() not in listed:
                people.append({"email": self.owner_email})
            if new.organizer.lower() not in listed:
                people.insert(0, {"email": new.organizer, "organizer": True})
            event["attendees"] = people
        if new.show_as in SHOW_AS_TYPES:
            # a status event as Calendar makes it (guide "Manage focus time, out of
            # office, and working location events": outOfOfficeProperties, and
            # workingLocationProperties naming the place)
            event["eventType"] = SHOW_AS_TYPES[new.show_as]
            if new.show_as == "oof":
                event["outOfOfficeProperties"] = {"autoDeclineMode": "declineNone"}
            else:
                event["workingLocationProperties"] = {"type": "homeOffice", "homeOffice": {}}
        event["transparency"] = "transparent" if new.show_as == "free" else "opaque"
        if new.join_url:
            # a Meet conference as Calendar makes it (ConferenceData: a conference
            # solution and at least one entry point; a video one is its link)
            event["conferenceData"] = {
                "conferenceId": new.join_url.rsplit("/", 1)[-1],
                "conferenceSolution": {"key": {"type": "hangoutsMeet"}, "name": "Google Meet"},
                "entryPoints": [{"entryPointType": "video", "uri": new.join_url}],
            }
        return event

    def create_all_day_event(self, subject: str, day: date, days: int = 1) -> str:
        return self.insert_event(
            {
                "summary": subject,
                "start": {"date": day.isoformat()},
                "end": {"date": (day + timedelta(days=days)).isoformat()},
            }
        )["id"]

    def _patch_for(self, event_id: str, changes: dict) -> dict:
        changes = neutral_changes(changes)
        changes.pop("html", None)  # the description holds either
        tz = self.get_event(event_id).get("start", {}).get("timeZone", "UTC")
        patch: dict[str, Any] = {}
        for name, value in changes.items():
            if name in ("start", "end"):
                patch[name] = {"dateTime": value.isoformat(), "timeZone": tz}
            elif name == "sensitivity":
                patch["visibility"] = _visibility(value)
            elif name == "show_as":
                if value in SHOW_AS_TYPES or value == "tentative":
                    raise ValueError(f"Google Calendar cannot change an event to {value!r}")
                patch["transparency"] = "transparent" if value == "free" else "opaque"
            else:
                patch[{"subject": "summary", "body": "description"}.get(name, name)] = value
        return patch

    def edit_event(self, remote_id: str, **changes) -> None:
        self.patch_event(remote_id, self._patch_for(remote_id, changes))

    def delete_event(self, event_id: str, calendar_id: str = "primary") -> None:
        with self.state.lock:
            self.state.delete(self.state.calendar(calendar_id), event_id)

    def cancel_event(self, remote_id: str) -> None:
        # The organiser's delete reaches the attendee's calendar as a cancelled event.
        self.delete_event(remote_id)

    def add_attendee(self, remote_id: str, email: str, name: str | None = None) -> None:
        attendee = {"email": email, "displayName": name} if name else {"email": email}
        attendees = [*self.get_event(remote_id).get("attendees", []), attendee]
        self.patch_event(remote_id, {"attendees": attendees})

    def own_response(self, remote_id: str) -> str | None:
        # Google keeps a declined meeting on the calendar (hidden unless "Show
        # declined events" is on); only a deletion takes it away
        try:
            event = self.get_event(remote_id)
        except ApiError:
            return None
        if event.get("status") == "cancelled":
            return None
        neutral = {v: k for k, v in RESPONSE_WORDS.items()}
        for attendee in event.get("attendees") or []:
            if attendee.get("self"):
                return neutral[attendee.get("responseStatus", "needsAction")]
        return "no_response"

    def set_response(self, remote_id: str, email: str, response: str) -> None:
        word = response_word(response, RESPONSE_WORDS)
        with self.state.lock:
            attendees = self.get_event(remote_id).get("attendees", [])
            for attendee in attendees:
                if attendee["email"].lower() == email.lower():
                    attendee["responseStatus"] = word
                    break
            else:
                raise KeyError(email)
            self.patch_event(remote_id, {"attendees": attendees})

    def answer_occurrence(
        self, master_id: str, original_start: datetime, email: str, response: str
    ) -> None:
        # An answer to "this event" only is a change of that instance: Google
        # stores the instance as an exception (recurringEventId, originalStartTime)
        # with the guest's responseStatus, the rest copied from the series
        # (developers.google.com/calendar/api/guides/recurringevents, "Modifying
        # instances").
        self.set_response(f"{master_id}_{_instance_stamp(original_start)}", email, response)

    def occurrence_starts(self, master_id: str) -> list[datetime]:
        with self.state.lock:
            cal = self.state.calendar("primary")
            master = self.state.lookup(cal, master_id)
            shown = self.state.expand(cal, master, None, None, show_deleted=False)
        starts = [_event_time(i["start"])[0] for i in shown if i.get("status") != "cancelled"]
        return sorted(s.astimezone(UTC) for s in starts)

    def delete_occurrence(self, master_id: str, original_start: datetime) -> None:
        self.delete_event(f"{master_id}_{_instance_stamp(original_start)}")

    def edit_occurrence(self, master_id: str, original_start: datetime, **changes) -> None:
        self.edit_event(f"{master_id}_{_instance_stamp(original_start)}", **changes)

    def event_ids(self) -> list[str]:
        return [e["id"] for e in self.events() if not e.get("recurringEventId")]

    def sensitivity(self, remote_id: str) -> str:
        return SENSITIVITY_OF[self.get_event(remote_id).get("visibility", "default")]

    def show_as(self, remote_id: str) -> str:
        event = self.get_event(remote_id)
        typed = SHOW_AS_OF_TYPE.get(event.get("eventType", "default"))
        return typed or ("free" if event.get("transparency") == "transparent" else "busy")

    def invitations_sent(self) -> int:
        return len(self.emails_sent())

    def expire_sync_state(self) -> None:
        """Every sync token issued so far is answered with 410 fullSyncRequired."""
        self.state.expire_sync_state()

    def revoke_sign_in(self) -> None:
        """Every grant is revoked (refresh: invalid_grant) and access tokens expire now."""
        self.revoke()
        self.expire_access_tokens()

    def restore_sign_in(self) -> None:
        """Nothing to undo: a revoked Google grant stays revoked, and the next
        sign-in gets a fresh one (:meth:`issue_tokens`)."""


def _visibility(sensitivity: str) -> str:
    if sensitivity not in VISIBILITY_WORDS:
        raise ValueError(f"Google Calendar has no {sensitivity!r} visibility")
    return VISIBILITY_WORDS[sensitivity]


def _main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Google Calendar API v3 test server")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--owner", default="sales.person@example.com")
    parser.add_argument("--client-secrets", help="write a client-secrets JSON file here")
    parser.add_argument("--events", type=int, default=0, help="seed this many events")
    args = parser.parse_args(argv)
    server = GoogleCalendarServer(args.owner, port=args.port).start()
    print(server.base_url, flush=True)
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    for i in range(args.events):
        start = now + timedelta(days=i % 60, hours=i % 8)
        server.insert_event(
            {
                "summary": f"Sample event {i}",
                "start": {"dateTime": start.isoformat(), "timeZone": "UTC"},
                "end": {"dateTime": (start + timedelta(hours=1)).isoformat(), "timeZone": "UTC"},
            }
        )
    if args.client_secrets:
        with open(args.client_secrets, "w", encoding="utf-8") as fh:
            json.dump(server.client_config(), fh, indent=2)
    print(f"CALSYNC_GOOGLE_API_ENDPOINT={server.api_endpoint}", flush=True)
    print(f"CALSYNC_GOOGLE_AUTH_URI={server.auth_uri}", flush=True)
    print(f"CALSYNC_GOOGLE_TOKEN_URI={server.token_uri}", flush=True)
    print(f"client id: {server.client_id} (Ctrl+C stops)", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()
        sys.exit(0)


if __name__ == "__main__":
    _main()
