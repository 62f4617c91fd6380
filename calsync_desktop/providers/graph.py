"""Office 365 through Microsoft Graph v1.0, over plain HTTPS with ``requests``.

What it keeps inside (see :class:`GraphProvider`):

- incremental listing with ``calendarView/delta`` over the sync window; the
  delta link (plus which occurrence belongs to which series) is the opaque
  sync state; an expired delta token (410 Gone / ``syncStateNotFound``) is
  :class:`SyncStateExpired`;
- series: calendarView lists occurrences and exceptions; the provider fetches
  each changed series master with ``exceptionOccurrences`` and
  ``cancelledOccurrences`` and assembles one :class:`RemoteEvent` whose
  :class:`Recurrence` carries the rule (converted from Graph's
  ``patternedRecurrence``), the deleted occurrences and the overrides;
- identity: the local id goes into a single-value extended property
  (:data:`LOCAL_ID_PROPERTY`) and ``transactionId``, so a retried create is
  answered with the first event, reported as :class:`AlreadyExists`;
- writes: ``$batch`` requests of up to 20 calls, each conditional on the change
  key read (``If-Match``; 412 → :class:`ChangedMeanwhile`);
- retries of 429 / 503 / 5xx through :class:`Backoff`, honouring Retry-After,
  for whole batches and for single members of a batch;
- tokens come from a :data:`TokenSource` (MSAL in the app): a 401 asks it for a
  fresh token once; a refused refresh is :class:`NeedsSignIn`.

Invitations: Graph has no switch to create or update an event with attendees
without mailing them. Adding attendees in a POST or PATCH sends invitations,
and an organiser's change of time or place sends updates, whatever
``send_invitations`` says (microsoftgraph/msgraph-sdk-dotnet#1549 and
microsoftgraph/microsoft-graph-docs#2309, both closed as "not possible";
``responseRequested: false`` only stops asking for answers). So this provider
cannot honour ``send_invitations=False`` for a write that pushes attendees;
the engine's rule decides *when* attendees are pushed, and the limitation is
stated in the README. What it does do: a write never carries ``attendees``
unless the engine named the field, so a change of subject or body does not
re-send invitations.

Longer than 600 lines (STYLE.md) because it is one service's whole wire format:
delta paging, $batch in twenties, the extended property, token refresh, series
masters with their instances and exceptions. The rules Graph shares with the
other services are in ``providers/kit/``; splitting reading from writing is
left until the occurrence work on this file (issue 18) has landed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import requests

from calsync_desktop.model import InviteStatus, OccurrenceOverride, Participant, Recurrence
from calsync_desktop.providers.base import (
    AlreadyExists,
    Backoff,
    CalendarInfo,
    CalendarProvider,
    CertificateUntrusted,
    ChangeSet,
    Create,
    Delete,
    EventDraft,
    MalformedResponse,
    NeedsSignIn,
    NotACalendarService,
    ProviderError,
    RateLimited,
    RemoteEvent,
    SyncStateExpired,
    TimedOut,
    TimeWindow,
    Unreachable,
    UnsupportedRecurrence,
    Write,
    WriteResult,
)
from calsync_desktop.providers.kit.contents import join_contents, split_contents
from calsync_desktop.providers.kit.errors import error_for_status
from calsync_desktop.providers.kit.occurrences import SERIES_FIELDS, is_plain, put_back
from calsync_desktop.providers.kit.pattern import (
    ABSOLUTE_MONTHLY,
    ABSOLUTE_YEARLY,
    OFFICE365,
    RELATIVE_MONTHLY,
    RELATIVE_YEARLY,
    WEEKDAYS,
    WEEKLY,
    Pattern,
    Range,
    pattern_from_rrule,
    rrule_from_pattern,
)
from calsync_desktop.providers.kit.reading import Readings

SERVICE = "Office 365"  # the service's name in messages
log = logging.getLogger(__name__)

DEFAULT_ENDPOINT = "https://graph.microsoft.com/v1.0"
SCOPES = [
    "https://graph.microsoft.com/Calendars.ReadWrite",
    "https://graph.microsoft.com/User.Read",
]

LOCAL_ID_GUID = "{8f1e7c2a-4b6d-4e0f-9a3c-ca15c0de1d01}"
"""Our property set GUID: chosen once for calsync, never change it."""
LOCAL_ID_PROPERTY = f"String {LOCAL_ID_GUID} Name calsyncLocalId"
"""The single-value extended property that carries the Sales Calendar id."""

BATCH_SIZE = 20  # "JSON batch requests are currently limited to 20 individual requests."
PAGE_SIZE = 200  # Prefer: odata.maxpagesize for delta and calendarView pages
TIMEOUT = 60.0
WINDOW_SLACK = timedelta(days=7)  # how far the horizon may move before listing again

_FIELDS = (
    "id,changeKey,subject,body,start,end,originalStartTimeZone,originalEndTimeZone,location,"
    "isAllDay,sensitivity,attendees,recurrence,type,seriesMasterId,originalStart,iCalUId,"
    "lastModifiedDateTime,isOrganizer,isCancelled,cancelledOccurrences"
)
_EXPAND_LOCAL_ID = f"singleValueExtendedProperties($filter=id eq '{LOCAL_ID_PROPERTY}')"

_STATUS_FROM_GRAPH = {
    "accepted": InviteStatus.ACCEPTED,
    "tentativelyaccepted": InviteStatus.TENTATIVE,
    "declined": InviteStatus.DECLINED,
    "organizer": InviteStatus.ACCEPTED,
}

# Windows zone names Graph reports for events made in Outlook (CLDR windowsZones, territory 001).
WINDOWS_ZONES = {
    "UTC": "UTC",
    "GMT Standard Time": "Europe/London",
    "Greenwich Standard Time": "Atlantic/Reykjavik",
    "W. Europe Standard Time": "Europe/Berlin",
    "Romance Standard Time": "Europe/Paris",
    "Central Europe Standard Time": "Europe/Budapest",
    "Central European Standard Time": "Europe/Warsaw",
    "E. Europe Standard Time": "Europe/Chisinau",
    "FLE Standard Time": "Europe/Kiev",
    "GTB Standard Time": "Europe/Bucharest",
    "Russian Standard Time": "Europe/Moscow",
    "Turkey Standard Time": "Europe/Istanbul",
    "Israel Standard Time": "Asia/Jerusalem",
    "South Africa Standard Time": "Africa/Johannesburg",
    "Arabian Standard Time": "Asia/Dubai",
    "India Standard Time": "Asia/Calcutta",
    "China Standard Time": "Asia/Shanghai",
    "Singapore Standard Time": "Asia/Singapore",
    "Tokyo Standard Time": "Asia/Tokyo",
    "Korea Standard Time": "Asia/Seoul",
    "AUS Eastern Standard Time": "Australia/Sydney",
    "New Zealand Standard Time": "Pacific/Auckland",
    "Eastern Standard Time": "America/New_York",
    "Central Standard Time": "America/Chicago",
    "Mountain Standard Time": "America/Denver",
    "US Mountain Standard Time": "America/Phoenix",
    "Pacific Standard Time": "America/Los_Angeles",
    "Alaskan Standard Time": "America/Anchorage",
    "Hawaiian Standard Time": "Pacific/Honolulu",
    "Atlantic Standard Time": "America/Halifax",
    "E. South America Standard Time": "America/Sao_Paulo",
}

TokenSource = Callable[[bool], str]
"""Gives an access token; called with True after a 401 to force a refresh.
Raises :class:`NeedsSignIn` when the user must sign in again."""


# --------------------------------------------------------------------------- recurrence

_DAY_NAMES = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_INDEX_NAMES = {1: "first", 2: "second", 3: "third", 4: "fourth", -1: "last"}
_INDEX_NUMBERS = {v: k for k, v in _INDEX_NAMES.items()}


def _day_name(code: str) -> str:
    return _DAY_NAMES[WEEKDAYS.index(code)]


def _day_code(name: str) -> str:
    return WEEKDAYS[_DAY_NAMES.index(name.lower())]


def rrule_to_graph(rule: str, start: datetime, tz: str) -> dict:
    """An RFC 5545 RRULE (without ``RRULE:``) as Graph's ``patternedRecurrence``.

    ``start`` is the series' first start; ``tz`` its IANA zone. Raises
    :class:`UnsupportedRecurrence` for rules Graph cannot hold (kit/pattern.py).
    """
    pattern, rng = pattern_from_rrule(rule, start, tz, OFFICE365)
    wire: dict[str, Any] = {"interval": pattern.interval, "type": pattern.kind}
    if pattern.kind in (RELATIVE_YEARLY, ABSOLUTE_YEARLY):
        wire["month"] = pattern.month
    if pattern.kind == WEEKLY:
        wire["daysOfWeek"] = [_day_name(d) for d in pattern.days]
        wire["firstDayOfWeek"] = _day_name(pattern.first_day)
    elif pattern.kind in (ABSOLUTE_MONTHLY, ABSOLUTE_YEARLY):
        wire["dayOfMonth"] = pattern.day_of_month
    elif pattern.kind in (RELATIVE_MONTHLY, RELATIVE_YEARLY):
        wire["daysOfWeek"] = [_day_name(d) for d in pattern.days]
        wire["index"] = _INDEX_NAMES[pattern.index]
    wire_range: dict[str, Any] = {"startDate": rng.start.isoformat(), "recurrenceTimeZone": tz}
    if rng.count is not None:
        wire_range.update(type="numbered", numberOfOccurrences=rng.count)
    elif rng.end is not None:
        wire_range.update(type="endDate", endDate=rng.end.isoformat())
    else:
        wire_range.update(type="noEnd")
    return {"pattern": wire, "range": wire_range}


def graph_to_rrule(recurrence: dict, start: datetime, tz: str) -> str:
    """Graph's ``patternedRecurrence`` as an RFC 5545 RRULE (without ``RRULE:``).

    ``start`` is the series' first start and ``tz`` the zone the rule is in; an
    ``endDate`` range becomes an UNTIL at the series' time on that day, in UTC.
    """
    wire = recurrence.get("pattern") or {}
    wire_range = recurrence.get("range") or {}
    try:
        pattern = Pattern(
            kind=wire.get("type") or "",
            interval=int(wire.get("interval") or 1),
            days=tuple(_day_code(d) for d in wire.get("daysOfWeek") or ()),
            first_day=_day_code(wire.get("firstDayOfWeek") or "sunday"),
            day_of_month=int(wire.get("dayOfMonth") or 1),
            month=int(wire.get("month") or 1),
            index=_INDEX_NUMBERS.get((wire.get("index") or "first").lower(), 1),
        )
    except (ValueError, TypeError, AttributeError):
        raise UnsupportedRecurrence("Office 365 sent a repetition that cannot be read.") from None
    first = start.astimezone(ZoneInfo(tz)).date()
    if wire_range.get("type") == "numbered":
        rng = Range(first, count=int(wire_range.get("numberOfOccurrences") or 1))
    elif wire_range.get("type") == "endDate" and wire_range.get("endDate"):
        rng = Range(first, end=date.fromisoformat(wire_range["endDate"]))
    else:
        rng = Range(first)
    zone = zone_name(wire_range.get("recurrenceTimeZone") or tz)
    return rrule_from_pattern(pattern, rng, start, zone, OFFICE365)


def zone_name(name: str | None) -> str:
    """An IANA zone name for a Graph ``timeZone`` (IANA or Windows); UTC when unknown."""
    if not name:
        return "UTC"
    name = WINDOWS_ZONES.get(name, name)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        log.info("Unknown time zone %r from Office 365; using UTC", name)
        return "UTC"
    return name


# --------------------------------------------------------------------------- mapping


def _parse_time(value: dict) -> datetime:
    text = str(value["dateTime"]).rstrip("Z")
    if "." in text:
        head, frac = text.split(".", 1)
        text = head + "." + frac[:6]
    naive = datetime.fromisoformat(text)
    return naive.replace(tzinfo=ZoneInfo(zone_name(value.get("timeZone") or "UTC"))).astimezone(UTC)


def _parse_stamp(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _write_time(moment: datetime, tz: str) -> dict:
    local = moment.astimezone(ZoneInfo(tz))
    return {"dateTime": local.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": tz}


def _local_id(item: dict) -> str | None:
    for prop in item.get("singleValueExtendedProperties") or ():
        if str(prop.get("id", "")).lower() == LOCAL_ID_PROPERTY.lower():
            return prop.get("value")
    return None


def _attendees(item: dict) -> tuple[Participant, ...]:
    out = []
    for a in item.get("attendees") or ():
        if a.get("type") == "resource":
            continue
        email = (a.get("emailAddress") or {}).get("address") or None
        name = (a.get("emailAddress") or {}).get("name") or ""
        response = ((a.get("status") or {}).get("response") or "none").lower()
        out.append(
            Participant(name, email, _STATUS_FROM_GRAPH.get(response, InviteStatus.NO_RESPONSE))
        )
    return tuple(out)


def _contents(item: dict) -> str:
    body = item.get("body") or {}
    is_html = (body.get("contentType") or "").lower() == "html"
    return join_contents(item.get("subject"), body.get("content"), is_html)


def to_remote_event(item: dict, default_tz: str = "UTC") -> RemoteEvent:
    """Map a Graph event (a single instance, or a series master fetched with
    ``cancelledOccurrences`` and ``exceptionOccurrences``)."""
    tz = zone_name(item.get("originalStartTimeZone") or default_tz)
    start = _parse_time(item["start"])
    end = _parse_time(item["end"])
    body = item.get("body") or {}
    recurrence = None
    if item.get("recurrence"):
        rule_tz = zone_name((item["recurrence"].get("range") or {}).get("recurrenceTimeZone") or tz)
        rrule = graph_to_rrule(item["recurrence"], start, rule_tz)
        zone = ZoneInfo(rule_tz)
        local_time = start.astimezone(zone).time()
        exdates = []
        for oid in item.get("cancelledOccurrences") or ():
            # "OID.<seriesMasterId>.<yyyy-MM-dd>": the date of the deleted occurrence.
            day = date.fromisoformat(oid.rsplit(".", 1)[-1])
            exdates.append(datetime.combine(day, local_time, tzinfo=zone).astimezone(UTC))
        overrides = []
        for exc in item.get("exceptionOccurrences") or ():
            original = _parse_stamp(exc.get("originalStart"))
            if original is None:
                continue
            if exc.get("isCancelled"):
                # cancelled by its organiser: the occurrence is gone (SPEC §4)
                exdates.append(original.astimezone(UTC))
                continue
            override = OccurrenceOverride(
                original_start=original.astimezone(UTC),
                contents=_contents(exc),
                location=(exc.get("location") or {}).get("displayName") or "",
                start=_parse_time(exc["start"]),
                end=_parse_time(exc["end"]),
            )
            # An exception that says what the series says is no override (kit/occurrences.py).
            if not is_plain(
                override,
                _contents(item),
                (item.get("location") or {}).get("displayName") or "",
                end - start,
            ):
                overrides.append(override)
        recurrence = Recurrence(
            rrule=rrule,
            exdates=tuple(sorted(set(exdates))),
            overrides=tuple(sorted(overrides, key=lambda o: o.original_start)),
        )
    return RemoteEvent(
        remote_id=item["id"],
        version=item.get("changeKey") or "",
        subject=item.get("subject") or "",
        start=start,
        end=end,
        timezone=tz,
        body=body.get("content") or "",
        body_is_html=(body.get("contentType") or "").lower() == "html",
        location=(item.get("location") or {}).get("displayName") or "",
        all_day=bool(item.get("isAllDay")),
        private=item.get("sensitivity") in ("private", "confidential"),
        attendees=_attendees(item),
        recurrence=recurrence,
        local_id=_local_id(item),
        ical_uid=item.get("iCalUId"),
        last_modified=_parse_stamp(item.get("lastModifiedDateTime")),
        organizer_is_self=bool(item.get("isOrganizer", True)),
        cancelled=bool(item.get("isCancelled")),
    )


def draft_body(draft: EventDraft, fields: Iterable[str] | None = None) -> dict:
    """The Graph event body for a draft, limited to ``fields`` (all when None)."""
    wanted = set(fields) if fields is not None else None

    def want(name: str) -> bool:
        return wanted is None or name in wanted

    body: dict[str, Any] = {}
    if want("subject"):
        body["subject"] = draft.subject
    if want("body"):
        body["body"] = {"contentType": "text", "content": draft.body}
    if want("location"):
        body["location"] = {"displayName": draft.location}
    if want("time") or (want("recurrence") and draft.recurrence is not None):
        body["start"] = _write_time(draft.start, draft.timezone)
        body["end"] = _write_time(draft.end, draft.timezone)
    if want("private"):
        body["sensitivity"] = "private" if draft.private else "normal"
    if want("attendees"):
        # No status: the answer belongs to the attendee and Graph keeps it.
        body["attendees"] = [
            {"type": "required", "emailAddress": {"address": p.email, "name": p.name or p.email}}
            for p in draft.attendees
            if p.email
        ]
    if want("recurrence") or (want("time") and draft.recurrence is not None):
        # The range's startDate follows the first start, so a moved series carries its rule.
        body["recurrence"] = (
            rrule_to_graph(draft.recurrence.rrule, draft.start, draft.timezone)
            if draft.recurrence
            else None
        )
    body["singleValueExtendedProperties"] = [{"id": LOCAL_ID_PROPERTY, "value": draft.local_id}]
    if wanted is None:
        body["isAllDay"] = False
        body["transactionId"] = "calsync-" + draft.local_id
    return body


def _override_body(override: OccurrenceOverride, tz: str) -> dict:
    subject, body = split_contents(override.contents)
    return {
        "subject": subject,
        "body": {"contentType": "text", "content": body},
        "location": {"displayName": override.location},
        "start": _write_time(override.start, tz),
        "end": _write_time(override.end, tz),
    }


# --------------------------------------------------------------------------- state


@dataclass
class _State:
    """The sync state: the delta link, and the occurrence ids seen per series
    (calendarView delta reports a deleted series only by its occurrences' ids)."""

    delta: str
    series: dict[str, list[str]]
    end: str = ""  # the window's end the delta link follows (ISO, UTC)

    def dump(self) -> str:
        data = {"v": 1, "delta": self.delta, "end": self.end, "series": self.series}
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def load(cls, text: str) -> _State:
        try:
            data = json.loads(text)
            series = {k: list(v) for k, v in data.get("series", {}).items()}
            return cls(str(data["delta"]), series, str(data.get("end", "")))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise SyncStateExpired("The saved Office 365 sync state cannot be read.") from exc

    def master_of(self) -> dict[str, str]:
        return {occ: master for master, occs in self.series.items() for occ in occs}


@dataclass
class _Answer:
    status: int
    headers: dict
    body: Any


# --------------------------------------------------------------------------- provider


class GraphProvider(CalendarProvider):
    """One calendar of an Office 365 mailbox, through Microsoft Graph v1.0.

    Promises: real HTTPS with certificate checks (``ca_bundle`` adds trust for a
    corporate proxy; verification is never switched off); at most 20 calls per
    ``$batch``; a nothing-changed :meth:`changes` costs one request; every
    service error leaves as a :class:`ProviderError`, with no token or private
    content in its message.
    """

    kind = "office365"
    write_batch_size = BATCH_SIZE

    def __init__(
        self,
        token_source: TokenSource,
        calendar_id: str = "",
        endpoint: str = DEFAULT_ENDPOINT,
        ca_bundle: str | None = None,
        backoff: Backoff | None = None,
        session: requests.Session | None = None,
        timeout: float = TIMEOUT,
        page_size: int = PAGE_SIZE,
    ):
        self._token_source = token_source
        self._token: str | None = None
        self.calendar_id = calendar_id
        self.endpoint = endpoint.rstrip("/")
        self.backoff = backoff or Backoff()
        self.session = session or requests.Session()
        # Passed on each request: requests lets REQUESTS_CA_BUNDLE override a
        # session's verify, which would drop the CA bundle the user chose.
        self._verify: str | bool = ca_bundle or True
        self.timeout = timeout
        self.page_size = page_size
        self._email: str | None = None

    def __repr__(self) -> str:
        return f"<GraphProvider {self.endpoint} calendar={self.calendar_id or 'default'}>"

    # ------------------------------------------------------------------ HTTP

    def _calendar_path(self) -> str:
        return (
            f"/me/calendars/{quote(self.calendar_id, safe='')}"
            if self.calendar_id
            else "/me/calendar"
        )

    def _url(self, path: str) -> str:
        if not (path.startswith("https://") or path.startswith("http://")):
            return self.endpoint + path
        # Paging links are absolute; the token goes only to the Graph host we know.
        if urlsplit(path)[:2] != urlsplit(self.endpoint)[:2]:
            raise MalformedResponse("Office 365 sent a link to another server.")
        return path

    def _access_token(self, force: bool = False) -> str:
        if self._token is None or force:
            self._token = self._token_source(force)
        return self._token

    def _send(self, method: str, path: str, *, params=None, body=None, headers=None) -> _Answer:
        """One HTTP request, retried through the backoff when the service asks."""

        def attempt() -> _Answer:
            answer = self._send_once(method, path, params, body, headers)
            if answer.status == 401:
                # An expired access token: ask MSAL for a fresh one, once.
                answer = self._send_once(method, path, params, body, headers, force=True)
                if answer.status == 401:
                    raise NeedsSignIn("Office 365 refused the sign-in; please sign in again.")
            _raise_for(answer)
            return answer

        return self.backoff.run(attempt)

    def _send_once(self, method, path, params, body, headers, force=False) -> _Answer:
        all_headers = {
            "Authorization": "Bearer " + self._access_token(force),
            "Accept": "application/json",
            **(headers or {}),
        }
        try:
            response = self.session.request(
                method,
                self._url(path),
                params=params,
                json=body,
                headers=all_headers,
                timeout=self.timeout,
                verify=self._verify,
            )
        except requests.exceptions.SSLError as exc:
            raise CertificateUntrusted(
                "The Office 365 server's certificate is not trusted. If your network "
                "inspects TLS, add its CA bundle in Settings › Advanced."
            ) from exc
        except requests.exceptions.Timeout as exc:
            raise TimedOut("Office 365 did not answer in time.") from exc
        except requests.exceptions.RequestException as exc:
            raise Unreachable("Office 365 could not be reached.") from exc
        data = None
        if response.content:
            content_type = response.headers.get("Content-Type", "")
            if "json" not in content_type:
                if response.status_code < 400:
                    raise NotACalendarService(
                        "The Office 365 address does not answer as Microsoft Graph."
                    )
                data = None
            else:
                try:
                    data = response.json()
                except (ValueError, RecursionError) as exc:  # nested deeper than json parses
                    raise MalformedResponse(
                        "Office 365 sent an answer that cannot be read."
                    ) from exc
        return _Answer(response.status_code, dict(response.headers), data)

    def _get(self, path: str, params=None, headers=None) -> dict:
        answer = self._send("GET", path, params=params, headers=headers)
        if not isinstance(answer.body, dict):
            raise MalformedResponse("Office 365 sent an answer that cannot be read.")
        return answer.body

    def _pages(self, path: str, params=None) -> Iterable[dict]:
        headers = {"Prefer": f"odata.maxpagesize={self.page_size}"}
        page = self._get(path, params, headers)
        while True:
            yield page
            link = page.get("@odata.nextLink")
            if not link:
                return
            page = self._get(link, None, headers)

    def _batch(self, requests_: Sequence[dict], keep_going: bool = True) -> list[_Answer]:
        """Run sub-requests through ``$batch``, 20 at a time; members the service
        throttles (429 / 503) are sent again after the wait it asked for.

        With ``keep_going`` False (writes), when one batch fails as a whole
        (after the retries), its members and all later ones get that error as
        their answer, so the answers of the batches already applied are kept;
        a refused sign-in or certificate still ends the call.
        """
        answers: list[_Answer | None] = [None] * len(requests_)
        pending = list(range(len(requests_)))
        attempt = 0
        waited = 0.0
        while pending:
            retry: list[int] = []
            asked = 0.0
            for start in range(0, len(pending), BATCH_SIZE):
                chunk = pending[start : start + BATCH_SIZE]
                payload = {
                    "requests": [{"id": str(i), **requests_[i]} for i in chunk],
                }
                try:
                    answer = self._send("POST", "/$batch", body=payload)
                except (NeedsSignIn, CertificateUntrusted):
                    raise
                except ProviderError as error:
                    if keep_going:
                        raise
                    for i in pending[start:]:
                        answers[i] = _Answer(0, {}, error)
                    retry = []
                    break
                responses = (
                    (answer.body or {}).get("responses") if isinstance(answer.body, dict) else None
                )
                if not isinstance(responses, list):
                    raise MalformedResponse("Office 365 sent an answer that cannot be read.")
                by_id = {str(r.get("id")): r for r in responses}
                for i in chunk:
                    r = by_id.get(str(i))
                    if r is None:
                        answers[i] = _Answer(500, {}, None)
                        continue
                    status = int(r.get("status", 500))
                    headers = r.get("headers") or {}
                    if status in (429, 503):
                        retry.append(i)
                        asked = max(asked, _retry_after(headers) or 0.0)
                    answers[i] = _Answer(status, headers, r.get("body"))
            pending = retry
            if pending:
                attempt += 1
                wait = self.backoff.delay(attempt - 1, RateLimited("busy", asked or None))
                if (
                    attempt >= self.backoff.max_attempts
                    or waited + wait > self.backoff.max_total_wait
                ):
                    break
                self.backoff.waits.append(wait)
                waited += wait
                self.backoff.sleep(wait)
        return [a if a is not None else _Answer(500, {}, None) for a in answers]

    # ------------------------------------------------------------------ reads

    def account_email(self) -> str:
        if self._email is None:
            me = self._get("/me", {"$select": "mail,userPrincipalName"})
            self._email = me.get("mail") or me.get("userPrincipalName") or ""
        return self._email

    def list_calendars(self) -> list[CalendarInfo]:
        out = []
        for page in self._pages("/me/calendars", {"$select": "id,name,isDefaultCalendar,canEdit"}):
            for item in page.get("value") or ():
                out.append(
                    CalendarInfo(
                        item["id"],
                        item.get("name") or "Calendar",
                        primary=bool(item.get("isDefaultCalendar")),
                        can_write=bool(item.get("canEdit", True)),
                    )
                )
        return out

    def get(self, remote_id: str) -> RemoteEvent:
        item = self._get(f"/me/events/{quote(remote_id, safe='')}", self._full_params())
        return to_remote_event(item)

    def _full_params(self) -> dict:
        return {"$select": _FIELDS, "$expand": f"exceptionOccurrences,{_EXPAND_LOCAL_ID}"}

    def _full_request(self, remote_id: str) -> dict:
        params = self._full_params()
        query = "&".join(f"{k}={quote(v, safe=',()=$')}" for k, v in params.items())
        return {"method": "GET", "url": f"/me/events/{quote(remote_id, safe='')}?{query}"}

    def find_by_local_id(self, local_id: str) -> RemoteEvent | None:
        flt = (
            f"singleValueExtendedProperties/Any(ep: ep/id eq '{LOCAL_ID_PROPERTY}' "
            f"and ep/value eq '{local_id.replace(chr(39), chr(39) * 2)}')"
        )
        page = self._get(f"{self._calendar_path()}/events", {"$filter": flt, "$select": "id"})
        for item in page.get("value") or ():
            return self.get(item["id"])
        return None

    def changes(self, window: TimeWindow, state: str | None) -> ChangeSet:
        if state is None:
            return self._full_listing(window)
        saved = _State.load(state)
        # A delta link follows the window it was made for. Once the horizon has
        # moved on by a week, list again so new days ahead are followed too.
        end = _parse_stamp(saved.end)
        if end is None or window.end > end + WINDOW_SLACK:
            raise SyncStateExpired("The Office 365 sync window has moved on; listing again.")
        return self._incremental(saved)

    def _delta_round(self, first: str, params: dict | None) -> tuple[list[dict], list[str], str]:
        changed: list[dict] = []
        removed: list[str] = []
        link = None
        for page in self._pages(first, params):
            for item in page.get("value") or ():
                if "@removed" in item:
                    removed.append(item["id"])
                else:
                    changed.append(item)
            link = page.get("@odata.deltaLink") or link
        if not link:
            raise MalformedResponse("Office 365 ended a change listing without a delta link.")
        return changed, removed, link

    def _full_listing(self, window: TimeWindow) -> ChangeSet:
        span = {
            "startDateTime": window.start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "endDateTime": window.end.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        instances, _, link = self._delta_round(f"{self._calendar_path()}/calendarView/delta", span)
        # The delta function takes no $expand, so the local ids come from calendarView.
        local_ids: dict[str, str] = {}
        params = {**span, "$select": "id", "$expand": _EXPAND_LOCAL_ID}
        for page in self._pages(f"{self._calendar_path()}/calendarView", params):
            for item in page.get("value") or ():
                found = _local_id(item)
                if found:
                    local_ids[item["id"]] = found
        series: dict[str, list[str]] = {}
        events: list[RemoteEvent] = []
        readings = Readings("Office 365")
        for item in instances:
            master = item.get("seriesMasterId")
            if master:
                series.setdefault(master, []).append(item["id"])
                continue
            event = readings.read(item["id"], lambda i=item: to_remote_event(i))
            if event is not None:
                events.append(_with_local_id(event, local_ids.get(item["id"])))
        masters, gone = self._fetch(list(series), readings)
        events.extend(masters)
        for master_id in gone:
            series.pop(master_id, None)
        end = window.end.astimezone(UTC).isoformat()
        state = _State(link, series, end).dump()
        return ChangeSet(events, [], state, True, readings.unreadable)

    def _incremental(self, state: _State) -> ChangeSet:
        changed, removed, link = self._delta_round(state.delta, None)
        series = {k: list(v) for k, v in state.series.items()}
        if not changed and not removed:
            return ChangeSet([], [], _State(link, series, state.end).dump(), complete=False)
        master_of = state.master_of()
        singles: list[str] = []
        masters: list[str] = []
        for item in changed:
            master = item.get("seriesMasterId")
            if master:
                if item["id"] not in series.setdefault(master, []):
                    series[master].append(item["id"])
                masters.append(master)
            else:
                singles.append(item["id"])
        for rid in removed:
            master = master_of.get(rid)
            if master:
                series[master] = [o for o in series.get(master, []) if o != rid]
                masters.append(master)
            else:
                # Deleted, or moved out of the window: only a read tells which.
                singles.append(rid)
        wanted = list(dict.fromkeys(singles + masters))
        readings = Readings("Office 365")
        events, gone = self._fetch(wanted, readings)
        for master_id in gone:
            series.pop(master_id, None)
        new_state = _State(link, series, state.end).dump()
        return ChangeSet(events, gone, new_state, False, readings.unreadable)

    def _fetch(
        self, ids: Sequence[str], readings: Readings | None = None
    ) -> tuple[list[RemoteEvent], list[str]]:
        """Full events (series assembled) for ids, in batches; and the ids that are
        gone. With ``readings``, an event that cannot be read is set aside there."""
        events: list[RemoteEvent] = []
        gone: list[str] = []
        answers = self._batch([self._full_request(i) for i in ids]) if ids else []
        for rid, answer in zip(ids, answers, strict=True):
            if answer.status == 404:
                gone.append(rid)
                continue
            _raise_for(answer)
            if not isinstance(answer.body, dict):
                raise MalformedResponse("Office 365 sent an answer that cannot be read.")
            body = answer.body
            if readings is None:
                events.append(to_remote_event(body))
            elif (event := readings.read(rid, lambda body=body: to_remote_event(body))) is not None:
                events.append(event)
        return events, gone

    # ------------------------------------------------------------------ writes

    def write(self, writes: Sequence[Write]) -> list[WriteResult]:
        requests_ = [self._write_request(w) for w in writes]
        answers = self._batch(requests_, keep_going=False) if writes else []
        results: list[WriteResult] = []
        series: list[int] = []
        for index, (write, answer) in enumerate(zip(writes, answers, strict=True)):
            try:
                if isinstance(write, Create) and answer.status == 200:
                    # transactionId matched an event made before: link, don't duplicate.
                    raise AlreadyExists(
                        "This appointment is already on the Office 365 calendar.",
                        remote_id=(answer.body or {}).get("id"),
                    )
                _raise_for(answer)
                if isinstance(write, Delete):
                    results.append(WriteResult(write, None))
                    continue
                event = _with_local_id(to_remote_event(answer.body or {}), write.draft.local_id)
                results.append(WriteResult(write, event))
                if _needs_occurrence_pass(write):
                    series.append(index)
            except ProviderError as error:
                results.append(WriteResult(write, None, error))
        if series:
            self._write_occurrences(results, series)
        return results

    def _write_request(self, write: Write) -> dict:
        if isinstance(write, Create):
            return {
                "method": "POST",
                "url": f"{self._calendar_path()}/events",
                "headers": {"Content-Type": "application/json"},
                "body": draft_body(write.draft),
            }
        path = f"/me/events/{quote(write.remote_id, safe='')}"
        headers = {"If-Match": f'W/"{write.version}"'} if write.version else {}
        if isinstance(write, Delete):
            return {"method": "DELETE", "url": path, "headers": headers}
        return {
            "method": "PATCH",
            "url": path,
            "headers": {**headers, "Content-Type": "application/json"},
            "body": draft_body(write.draft, write.fields),
        }

    def _write_occurrences(self, results: list[WriteResult], indexes: list[int]) -> None:
        """Deleted and moved occurrences of the series just written.

        Graph keeps them as cancelled occurrences and exceptions of the master:
        read the master (its exceptions carry their ids) and, for occurrences
        to delete or move, the instances around them; then delete, patch or
        restore the occurrences that differ from the draft; then read the
        master again for the result. Three or four rounds of ``$batch``.
        """
        reads: list[dict] = []
        where: dict[int, tuple[int, int | None]] = {}
        for i in indexes:
            write = results[i].write
            master_id = results[i].event.remote_id
            rec = write.draft.recurrence
            assert rec is not None
            where[i] = (len(reads), None)
            reads.append(self._full_request(master_id))
            moments = [*rec.exdates, *(o.original_start for o in rec.overrides)]
            if moments:
                lo = min(moments) - timedelta(days=1)
                hi = max(moments) + timedelta(days=1) + (write.draft.end - write.draft.start)
                span = (
                    f"startDateTime={lo.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"
                    f"&endDateTime={hi.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}&$top=1000"
                    "&$select=id,originalStart,type"
                )
                where[i] = (len(reads) - 1, len(reads))
                reads.append(
                    {
                        "method": "GET",
                        "url": f"/me/events/{quote(master_id, safe='')}/instances?{span}",
                    }
                )
        answers = self._batch(reads)
        ops: list[tuple[int, dict]] = []
        for i in indexes:
            m, n = where[i]
            try:
                _raise_for(answers[m])
                if n is not None:
                    _raise_for(answers[n])
            except ProviderError as error:
                results[i] = WriteResult(results[i].write, None, error)
                continue
            master = answers[m].body or {}
            by_original: dict[datetime, str] = {}
            listed = [*(answers[n].body or {}).get("value", ())] if n is not None else []
            for item in listed + list(master.get("exceptionOccurrences") or ()):
                original = _parse_stamp(item.get("originalStart"))
                if original is not None:
                    by_original[original.astimezone(UTC)] = item["id"]
            ops.extend(
                (i, op) for op in self._occurrence_ops(results[i].write.draft, master, by_original)
            )
        if ops:
            for (i, _), answer in zip(ops, self._batch([op for _, op in ops]), strict=True):
                if answer.status >= 400 and results[i].ok:
                    try:
                        _raise_for(answer)
                    except ProviderError as error:
                        results[i] = WriteResult(results[i].write, None, error)
        finals = [i for i in indexes if results[i].ok]
        for i, answer in zip(
            finals,
            self._batch([self._full_request(results[i].event.remote_id) for i in finals]),
            strict=True,
        ):
            try:
                _raise_for(answer)
                event = _with_local_id(
                    to_remote_event(answer.body), results[i].write.draft.local_id
                )
                results[i] = WriteResult(results[i].write, event)
            except ProviderError as error:
                results[i] = WriteResult(results[i].write, None, error)

    @staticmethod
    def _occurrence_ops(draft: EventDraft, master: dict, by_original: dict) -> list[dict]:
        """The requests that make the series' occurrences match the draft."""
        rec = draft.recurrence
        assert rec is not None
        current = to_remote_event(master)
        have = current.recurrence or Recurrence(rec.rrule)
        ops: list[dict] = []

        def target(moment: datetime, what: str) -> str | None:
            found = by_original.get(moment.astimezone(UTC))
            if found is None:
                log.info("A %s occurrence is not in the Office 365 series; skipped", what)
            return found

        for moment in sorted(set(rec.exdates) - set(have.exdates)):
            occurrence = target(moment, "deleted")
            if occurrence:
                ops.append({"method": "DELETE", "url": f"/me/events/{quote(occurrence, safe='')}"})
        # Graph cannot bring a deleted occurrence back; an EXDATE dropped locally stays.
        wanted = {o.original_start: o for o in rec.overrides if o.original_start not in rec.exdates}
        duration = draft.end - draft.start
        contents = join_contents(draft.subject, draft.body)
        for back in put_back(have.overrides, rec, contents, draft.location, duration):
            occurrence = target(back.original_start, "restored")
            if occurrence:
                ops.append(_patch_occurrence(occurrence, back, draft.timezone))
        existing = {o.original_start: o for o in have.overrides}
        for original, override in sorted(wanted.items()):
            if existing.get(original) == override:
                continue
            occurrence = target(original, "moved")
            if occurrence:
                ops.append(_patch_occurrence(occurrence, override, draft.timezone))
        return ops

    def close(self) -> None:
        self.session.close()


# --------------------------------------------------------------------------- errors


def _patch_occurrence(occurrence_id: str, override: OccurrenceOverride, tz: str) -> dict:
    return {
        "method": "PATCH",
        "url": f"/me/events/{quote(occurrence_id, safe='')}",
        "headers": {"Content-Type": "application/json"},
        "body": _override_body(override, tz),
    }


def _needs_occurrence_pass(write: Write) -> bool:
    if isinstance(write, Delete):
        return False
    rec = write.draft.recurrence
    if rec is None:
        return False
    if isinstance(write, Create):
        return bool(rec.exdates or rec.overrides)
    # An update that names the rule also settles its exceptions (added or dropped);
    # one of what the series says brings the exceptions it does not override along.
    return bool(SERIES_FIELDS & write.fields)


def _with_local_id(event: RemoteEvent, local_id: str | None) -> RemoteEvent:
    if local_id is None or event.local_id == local_id:
        return event
    return replace(event, local_id=local_id)


def _retry_after(headers: dict) -> float | None:
    for key, value in headers.items():
        if key.lower() == "retry-after":
            try:
                return float(value)
            except (TypeError, ValueError):
                return None
    return None


def _error_code(body: Any) -> str:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return str(body["error"].get("code") or "")
    return ""


def _raise_for(answer: _Answer) -> None:
    """Translate a Graph error answer into the provider error vocabulary."""
    status = answer.status
    if isinstance(answer.body, ProviderError):  # the batch carrying it failed as a whole
        raise answer.body
    if status < 400:
        return
    code = _error_code(answer.body)
    # a 410 on Graph is always the delta's: an event that is gone answers 404
    raise error_for_status(
        SERVICE,
        status,
        code,
        retry_after=_retry_after(answer.headers),
        listing=status == 410,
    )


# Re-exported for the account module and tests.
__all__ = [
    "DEFAULT_ENDPOINT",
    "LOCAL_ID_PROPERTY",
    "SCOPES",
    "GraphProvider",
    "TokenSource",
    "draft_body",
    "graph_to_rrule",
    "rrule_to_graph",
    "to_remote_event",
    "zone_name",
]
