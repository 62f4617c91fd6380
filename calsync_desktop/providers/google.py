"""Google Calendar through google-api-python-client.

What it keeps inside (see :class:`GoogleProvider`):

- incremental listing with ``syncToken`` (410 → :class:`SyncStateExpired`), full
  listing over the sync window in pages of 2,500 (Google's maximum);
- series: Google keeps a recurring master plus "exceptions" (instances with
  ``recurringEventId`` / ``originalStartTime``, cancelled ones being deleted
  occurrences); they are assembled into one :class:`RemoteEvent` whose
  :class:`Recurrence` carries the rule, the EXDATEs and the overrides; a
  series' version is the master's etag plus a digest of its exceptions' etags
  (an occurrence edited on Google does not change the master's etag), and
  writes send only the master's etag as If-Match;
- identity: events calsync creates get a client-chosen id derived from the
  local UUID (base32hex, as Google requires), so a retried insert answers 409
  and links instead of duplicating; the local id also goes into
  ``extendedProperties.private["calsyncLocalId"]``;
- writes: batch requests of up to 50 calls, each conditional on the etag read
  (If-Match → 412 → :class:`ChangedMeanwhile`), ``sendUpdates`` "all" only for
  writes that should send invitations;
- retries of 429 / 403 rateLimitExceeded / 5xx through :class:`Backoff`,
  honouring Retry-After; ``RefreshError`` (invalid_grant) → :class:`NeedsSignIn`.

Longer than 600 lines (STYLE.md) because it is one service's whole wire format:
sync tokens, pages of 2,500, batches of 50 with per-part retries, instances and
exceptions, the 409 re-link. The rules Google shares with the other services
are in ``providers/kit/``; splitting reading from writing is left until the
occurrence work on this file (issue 18) has landed.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import logging
import socket
import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import google.auth.exceptions
import google_auth_httplib2
import httplib2
from googleapiclient.discovery import build
from googleapiclient.errors import BatchError, HttpError
from googleapiclient.http import BatchHttpRequest

from calsync_desktop.model import InviteStatus, OccurrenceOverride, Participant, Recurrence
from calsync_desktop.providers.base import (
    AlreadyExists,
    Backoff,
    CalendarInfo,
    CalendarProvider,
    ChangeSet,
    Create,
    EventDraft,
    MalformedResponse,
    NeedsSignIn,
    NotFound,
    ProviderError,
    RateLimited,
    ReadOnlyEvent,
    RemoteEvent,
    ServerError,
    TimedOut,
    TimeWindow,
    Unreachable,
    Update,
    Write,
    WriteResult,
)
from calsync_desktop.providers.kit.contents import join_contents, looks_like_html, split_contents
from calsync_desktop.providers.kit.errors import error_for_status
from calsync_desktop.providers.kit.occurrences import SERIES_FIELDS, put_back
from calsync_desktop.providers.kit.reading import Readings

log = logging.getLogger(__name__)

SCOPES = ["https://www.googleapis.com/auth/calendar"]
LOCAL_ID_PROPERTY = "calsyncLocalId"
PAGE_SIZE = 2500  # events.list maxResults: Google never pages larger than this
BATCH_SIZE = 50  # "You're limited to 50 calls in a single batch request."
SERVICE = "Google Calendar"  # the service's name in messages
SERVICE_PATH = "calendar/v3/"
DEFAULT_ENDPOINT = "https://www.googleapis.com/" + SERVICE_PATH

_STATUS_FROM_GOOGLE = {
    "accepted": InviteStatus.ACCEPTED,
    "tentative": InviteStatus.TENTATIVE,
    "declined": InviteStatus.DECLINED,
    "needsAction": InviteStatus.NO_RESPONSE,
}
SERIES_VERSION_SEPARATOR = "+"


def master_etag(version: str) -> str:
    """The Google etag inside a version (a series' version also covers its exceptions)."""
    return version.split(SERIES_VERSION_SEPARATOR, 1)[0]


_RATE_REASONS = {"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded"}


def event_id_for(local_id: str) -> str:
    """The Google event id calsync chooses for an appointment: base32hex of the UUID.

    Google accepts ids of 5-1024 characters from ``a-v`` and ``0-9``; a UUID's
    16 bytes give 26 of them. Deterministic, so a retried insert is a 409.
    """
    try:
        raw = uuid.UUID(local_id).bytes
    except ValueError:
        raw = local_id.encode("utf-8")
    return base64.b32hexencode(raw).decode("ascii").rstrip("=").lower()


def batch_uri_for(api_endpoint: str) -> str:
    """Where batches go for an API endpoint.

    googleapiclient derives its batch URI from the discovery document's
    ``rootUrl`` and ignores ``client_options.api_endpoint`` (discovery.py,
    ``_add_basic_methods``), which would send batches to www.googleapis.com
    even when the endpoint is overridden; so we derive it ourselves.
    """
    root = api_endpoint
    if root.endswith(SERVICE_PATH):
        root = root[: -len(SERVICE_PATH)]
    elif root.endswith(SERVICE_PATH.rstrip("/")):
        root = root[: -len(SERVICE_PATH) + 1]
    if not root.endswith("/"):
        root += "/"
    return root + "batch/calendar/v3"


# --------------------------------------------------------------------------- mapping


def _rfc3339(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _parse_dt(text: str) -> datetime:
    return datetime.fromisoformat(text)  # Python 3.11 reads RFC 3339, "Z" included


def _read_time(node: dict, default_tz: str) -> tuple[datetime, str, bool]:
    """(UTC instant, zone name, all-day) of a Google start/end object."""
    tz = node.get("timeZone") or default_tz
    if node.get("date"):
        day = datetime.fromisoformat(node["date"])
        return day.replace(tzinfo=ZoneInfo(tz) if tz else UTC).astimezone(UTC), tz, True
    value = _parse_dt(node["dateTime"])
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(tz))
    return value.astimezone(UTC), tz, False


def _write_time(value: datetime, tz: str) -> dict:
    # The local wall time with its own offset plus the zone name: Google keeps the
    # zone, so a series at 09:00 Berlin stays at 09:00 across DST changes.
    return {"dateTime": value.astimezone(ZoneInfo(tz)).isoformat(), "timeZone": tz}


def _exdate_line(exdates: Iterable[datetime], tz: str) -> str:
    zone = ZoneInfo(tz)
    values = ",".join(d.astimezone(zone).strftime("%Y%m%dT%H%M%S") for d in sorted(exdates))
    return f"EXDATE;TZID={tz}:{values}"


def _parse_exdates(line: str, tz: str) -> list[datetime]:
    head, _, values = line.partition(":")
    params = dict(p.split("=", 1) for p in head.split(";")[1:] if "=" in p)
    zone = ZoneInfo(params.get("TZID", tz))
    out = []
    for value in filter(None, (v.strip() for v in values.split(","))):
        if value.endswith("Z"):
            out.append(datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC))
        elif "T" in value:
            local = datetime.strptime(value, "%Y%m%dT%H%M%S").replace(tzinfo=zone)
            out.append(local.astimezone(UTC))
        else:
            out.append(datetime.strptime(value, "%Y%m%d").replace(tzinfo=zone).astimezone(UTC))
    return out


def _contents(item: dict) -> str:
    description = item.get("description") or ""
    return join_contents(item.get("summary"), description, looks_like_html(description))


def _attendees(item: dict) -> tuple[Participant, ...]:
    out = []
    for a in item.get("attendees") or ():
        if a.get("self") or a.get("resource"):
            continue  # the account's own address is not a participant
        status = _STATUS_FROM_GOOGLE.get(a.get("responseStatus", ""), InviteStatus.NO_RESPONSE)
        out.append(Participant(a.get("displayName") or "", a.get("email") or None, status))
    return tuple(out)


def to_remote_event(
    item: dict, exceptions: Sequence[dict] = (), default_tz: str = "UTC"
) -> RemoteEvent:
    """Map a Google event (a master with its exceptions, or a single event)."""
    start, tz, all_day = _read_time(item["start"], default_tz)
    end, _, _ = _read_time(item["end"], tz)
    description = item.get("description") or ""
    recurrence = None
    rules = [r for r in item.get("recurrence") or () if r.upper().startswith("RRULE:")]
    if rules:
        exdates: list[datetime] = []
        for line in item["recurrence"]:
            if line.upper().startswith("EXDATE"):
                exdates.extend(_parse_exdates(line, tz))
        overrides = []
        for exc in exceptions:
            original, _, _ = _read_time(exc["originalStartTime"], tz)
            if exc.get("status") == "cancelled":
                exdates.append(original)
                continue
            o_start, o_tz, _ = _read_time(exc["start"], tz)
            o_end, _, _ = _read_time(exc["end"], o_tz)
            overrides.append(
                OccurrenceOverride(
                    original_start=original,
                    contents=_contents(exc),
                    location=exc.get("location") or "",
                    start=o_start,
                    end=o_end,
                )
            )
        recurrence = Recurrence(
            rrule=rules[0][6:],
            exdates=tuple(sorted(set(exdates))),
            overrides=tuple(sorted(overrides, key=lambda o: o.original_start)),
        )
    organizer = item.get("organizer") or {}
    private = (item.get("extendedProperties") or {}).get("private") or {}
    version = item.get("etag", "")
    updated = [item["updated"]] if item.get("updated") else []
    if exceptions:
        # An occurrence edited on Google changes the exception's etag, not the
        # master's: the series' version covers both (writes send the master's part).
        tags = ",".join(sorted(e.get("etag", "") for e in exceptions))
        version += SERIES_VERSION_SEPARATOR + hashlib.sha1(tags.encode()).hexdigest()[:16]
        updated += [e["updated"] for e in exceptions if e.get("updated")]
    return RemoteEvent(
        remote_id=item["id"],
        version=version,
        subject=item.get("summary") or "",
        start=start,
        end=end,
        timezone=tz,
        body=description,
        body_is_html=looks_like_html(description),
        location=item.get("location") or "",
        all_day=all_day,
        private=item.get("visibility") in ("private", "confidential"),
        attendees=_attendees(item),
        recurrence=recurrence,
        local_id=private.get(LOCAL_ID_PROPERTY),
        ical_uid=item.get("iCalUID"),
        last_modified=max(_parse_dt(u) for u in updated) if updated else None,
        organizer_is_self=bool(organizer.get("self", True)),
        cancelled=item.get("status") == "cancelled",
    )


def draft_body(draft: EventDraft, fields: Iterable[str] | None = None) -> dict:
    """The Google event body for a draft, limited to ``fields`` (all when None)."""
    wanted = set(fields) if fields is not None else None

    def want(name: str) -> bool:
        return wanted is None or name in wanted

    body: dict[str, Any] = {}
    if want("subject"):
        body["summary"] = draft.subject
    if want("body"):
        body["description"] = draft.body
    if want("location"):
        body["location"] = draft.location
    if want("time"):
        body["start"] = _write_time(draft.start, draft.timezone)
        body["end"] = _write_time(draft.end, draft.timezone)
    if want("private"):
        body["visibility"] = "private" if draft.private else "default"
    if want("attendees"):
        # No responseStatus: the answer belongs to the attendee and Google keeps it.
        body["attendees"] = [
            {"email": p.email, **({"displayName": p.name} if p.name else {})}
            for p in draft.attendees
            if p.email
        ]
    if want("recurrence"):
        if draft.recurrence is None:
            body["recurrence"] = []
        else:
            lines = ["RRULE:" + draft.recurrence.rrule]
            if draft.recurrence.exdates:
                lines.append(_exdate_line(draft.recurrence.exdates, draft.timezone))
            body["recurrence"] = lines
    if wanted is None:
        body["extendedProperties"] = {"private": {LOCAL_ID_PROPERTY: draft.local_id}}
    return body


def _override_body(override: OccurrenceOverride, tz: str) -> dict:
    subject, body = split_contents(override.contents)
    return {
        "summary": subject,
        "description": body,
        "location": override.location,
        "start": _write_time(override.start, tz),
        "end": _write_time(override.end, tz),
    }


def instance_id(master_id: str, original_start: datetime) -> str:
    """Google's id of one occurrence of a timed series: ``<master>_<UTC basic time>``."""
    return f"{master_id}_{original_start.astimezone(UTC):%Y%m%dT%H%M%SZ}"


# --------------------------------------------------------------------------- errors


def _error_reason(error: HttpError) -> tuple[str, str]:
    try:
        body = json.loads(error.content.decode("utf-8", "replace"))
        details = body["error"]
        reasons = [e.get("reason", "") for e in details.get("errors", [])]
        return (reasons[0] if reasons else ""), str(details.get("message", ""))
    except (ValueError, KeyError, TypeError, AttributeError):
        return "", ""


def _retry_after(error: HttpError) -> float | None:
    value = error.resp.get("retry-after") if error.resp is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def translate(exc: BaseException, *, listing: bool = False) -> ProviderError:
    """Our error for what google-api-python-client, google-auth or httplib2 raised.

    Messages are plain sentences without URLs, tokens or event contents.
    """
    if isinstance(exc, ProviderError):
        return exc
    if isinstance(exc, HttpError):
        status = int(exc.resp.status) if exc.resp is not None else 0
        reason, _message = _error_reason(exc)
        if status == 403 and reason in _RATE_REASONS:  # Google's way of saying 429
            status = 429
        if status == 403 and reason == "forbiddenForNonOrganizer":
            return ReadOnlyEvent("Only the organiser can change this meeting on Google Calendar.")
        return error_for_status(
            SERVICE, status, reason, retry_after=_retry_after(exc), listing=listing
        )
    if isinstance(exc, google.auth.exceptions.RefreshError):
        return NeedsSignIn("Google refused the stored sign-in (expired or revoked). Sign in again.")
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return TimedOut("Google Calendar did not answer in time.")
    if isinstance(exc, google.auth.exceptions.TransportError):
        return Unreachable("Google's sign-in service could not be reached.")
    if isinstance(exc, (httplib2.HttpLib2Error, http.client.HTTPException, OSError)):
        return Unreachable("Google Calendar could not be reached.")
    if isinstance(exc, (ValueError, BatchError, KeyError, TypeError, RecursionError)):
        # RecursionError: an answer nested deeper than the JSON parser goes
        return MalformedResponse("Google Calendar sent an answer that cannot be read.")
    raise exc


# --------------------------------------------------------------------------- provider


class GoogleProvider(CalendarProvider):
    """One Google calendar, through google-api-python-client.

    Promises: a sync with nothing changed is one HTTP request; a full listing
    uses pages of 2,500; writes go in batches of at most 50 calls, conditional
    on the etag; rate limits are retried with backoff honouring Retry-After;
    refreshed access tokens are reported through ``on_credentials_changed`` so
    the account can store them; a refused refresh is :class:`NeedsSignIn`.
    """

    kind = "google"
    write_batch_size = BATCH_SIZE

    def __init__(
        self,
        credentials,
        calendar_id: str = "primary",
        *,
        api_endpoint: str | None = None,
        backoff: Backoff | None = None,
        timeout: float = 60.0,
        on_credentials_changed: Callable[[Any], None] | None = None,
        page_size: int = PAGE_SIZE,
    ):
        self.calendar_id = calendar_id or "primary"
        self.credentials = credentials
        self.backoff = backoff or Backoff()
        self.page_size = page_size
        self._on_credentials_changed = on_credentials_changed
        self._last_token = getattr(credentials, "token", None)
        endpoint = api_endpoint or DEFAULT_ENDPOINT
        self._http = google_auth_httplib2.AuthorizedHttp(
            credentials, http=httplib2.Http(timeout=timeout)
        )
        self._service = build(
            "calendar",
            "v3",
            http=self._http,
            static_discovery=True,
            cache_discovery=False,
            client_options={"api_endpoint": endpoint} if api_endpoint else None,
        )
        self._batch_uri = batch_uri_for(endpoint)
        self._email: str | None = None
        self._default_tz = "UTC"

    # -- plumbing

    def _notice_token(self) -> None:
        token = getattr(self.credentials, "token", None)
        if token != self._last_token:
            self._last_token = token
            if self._on_credentials_changed is not None:
                self._on_credentials_changed(self.credentials)

    def _execute(self, request_factory: Callable[[], Any], *, listing: bool = False) -> Any:
        def once():
            try:
                return request_factory().execute(num_retries=0)
            except Exception as exc:
                raise translate(exc, listing=listing) from exc

        try:
            return self.backoff.run(once)
        finally:
            self._notice_token()

    def _events(self):
        return self._service.events()

    def _list_all(self, **params) -> tuple[list[dict], str | None]:
        items: list[dict] = []
        page_token = None
        listing = "syncToken" in params
        while True:
            page = self._execute(
                lambda pt=page_token: self._events().list(
                    calendarId=self.calendar_id, pageToken=pt, **params
                ),
                listing=listing,
            )
            if not isinstance(page, dict):
                raise MalformedResponse("Google Calendar sent an answer that cannot be read.")
            if page.get("timeZone"):
                self._default_tz = page["timeZone"]
            items.extend(page.get("items") or ())
            page_token = page.get("nextPageToken")
            if not page_token:
                return items, page.get("nextSyncToken")

    # -- the interface

    def account_email(self) -> str:
        if self._email is None:
            entry = self._execute(lambda: self._service.calendarList().get(calendarId="primary"))
            self._email = entry["id"]
        return self._email

    def list_calendars(self) -> list[CalendarInfo]:
        out = []
        page_token = None
        while True:
            page = self._execute(
                lambda pt=page_token: self._service.calendarList().list(pageToken=pt)
            )
            for c in page.get("items") or ():
                out.append(
                    CalendarInfo(
                        id=c["id"],
                        name=c.get("summaryOverride") or c.get("summary") or c["id"],
                        primary=bool(c.get("primary")),
                        can_write=c.get("accessRole") in ("owner", "writer"),
                    )
                )
            page_token = page.get("nextPageToken")
            if not page_token:
                return out

    def changes(self, window: TimeWindow, state: str | None) -> ChangeSet:
        if state is None:
            items, token = self._list_all(
                timeMin=_rfc3339(window.start),
                timeMax=_rfc3339(window.end),
                singleEvents=False,
                showDeleted=False,
                maxResults=self.page_size,
            )
            readings = Readings("Google Calendar")
            events, deleted = self._assemble(items, readings, incremental=False)
            return ChangeSet(events, deleted, token, True, readings.unreadable)
        # Deleted events always come with a sync token; showDeleted=false, timeMin
        # and the like are refused next to it (Google's sync guide).
        items, token = self._list_all(syncToken=state, maxResults=self.page_size)
        readings = Readings("Google Calendar")
        events, deleted = self._assemble(items, readings, incremental=True)
        return ChangeSet(events, deleted, token, False, readings.unreadable)

    def _assemble(
        self, items: list[dict], readings: Readings, *, incremental: bool
    ) -> tuple[list[RemoteEvent], list[str]]:
        """The events of a listing's items, series assembled; one that cannot be
        read is set aside in ``readings`` (kit/reading.py)."""

        def read(rid: str, item: dict, exceptions=()) -> None:
            event = readings.read(
                rid, lambda: to_remote_event(item, exceptions, default_tz=self._default_tz)
            )
            if event is not None:
                events.append(event)

        masters: dict[str, dict] = {}
        exceptions: dict[str, list[dict]] = {}
        singles: list[dict] = []
        deleted: list[str] = []
        for item in items:
            if item.get("recurringEventId"):
                exceptions.setdefault(item["recurringEventId"], []).append(item)
            elif item.get("status") == "cancelled":
                deleted.append(item["id"])
            elif item.get("recurrence"):
                masters[item["id"]] = item
            elif "start" in item:
                singles.append(item)
        events: list[RemoteEvent] = []
        for single in singles:
            read(single["id"], single)
        deleted_set = set(deleted)
        single_ids = {i["id"] for i in singles}
        for master_id in list(exceptions):
            if master_id not in masters and master_id not in deleted_set | single_ids:
                masters[master_id] = {}  # fetch below
        refetch: dict[str, str | None] = {}
        for master_id, master in masters.items():
            if incremental or not master:
                # An incremental page names what changed, not the whole series:
                # read the master with all its exceptions.
                uid = master.get("iCalUID") or (exceptions.get(master_id) or [{}])[0].get("iCalUID")
                refetch[master_id] = uid
                continue
            read(master_id, master, exceptions.get(master_id, ()))
        for master_id, series in self._series_many(refetch, readings).items():
            if series is not None:
                events.append(series)
            elif not any(u.remote_id == master_id for u in readings.unreadable):
                deleted.append(master_id)
        return events, deleted

    def _series_many(
        self, wanted: dict[str, str | None], readings: Readings
    ) -> dict[str, RemoteEvent | None]:
        """Several series at once: their listings by iCalUID go in batches of 50.
        None for a series that is gone or (then in ``readings``) cannot be read."""
        if len(wanted) <= 1:
            return {mid: self._series(mid, uid, readings) for mid, uid in wanted.items()}
        out: dict[str, RemoteEvent | None] = {}
        calls = []
        for master_id, uid in wanted.items():
            if uid is None:
                out[master_id] = self._series(master_id, None, readings)
                continue
            calls.append(
                (
                    master_id,
                    lambda uid=uid: self._events().list(
                        calendarId=self.calendar_id,
                        iCalUID=uid,
                        showDeleted=True,
                        maxResults=self.page_size,
                    ),
                )
            )
        answers = self._send(calls)
        for master_id, _factory in calls:
            page, error = answers[master_id]
            if error is not None:
                raise error
            if not isinstance(page, dict):
                raise MalformedResponse("Google Calendar sent an answer that cannot be read.")
            if page.get("nextPageToken"):  # more exceptions than one page holds
                out[master_id] = self._series(master_id, wanted[master_id], readings)
                continue
            items = page.get("items") or []
            master = next((i for i in items if i["id"] == master_id), None)
            if master is None or master.get("status") == "cancelled":
                out[master_id] = None
                continue
            exceptions = [i for i in items if i.get("recurringEventId") == master_id]
            out[master_id] = readings.read(
                master_id,
                lambda m=master, e=exceptions: to_remote_event(m, e, default_tz=self._default_tz),
            )
        return out

    def _series(
        self, master_id: str, ical_uid: str | None, readings: Readings | None = None
    ) -> RemoteEvent | None:
        """A series assembled from its master and exceptions; None when it is gone
        (or, with ``readings``, set aside there as unreadable)."""
        if ical_uid is None:
            master = self._execute(
                lambda: self._events().get(calendarId=self.calendar_id, eventId=master_id)
            )
            ical_uid = master.get("iCalUID")
        items, _ = self._list_all(iCalUID=ical_uid, showDeleted=True, maxResults=self.page_size)
        master = next((i for i in items if i["id"] == master_id), None)
        if master is None or master.get("status") == "cancelled":
            return None
        exceptions = [i for i in items if i.get("recurringEventId") == master_id]

        def convert() -> RemoteEvent:
            return to_remote_event(master, exceptions, default_tz=self._default_tz)

        return convert() if readings is None else readings.read(master_id, convert)

    def get(self, remote_id: str) -> RemoteEvent:
        item = self._execute(
            lambda: self._events().get(calendarId=self.calendar_id, eventId=remote_id)
        )
        if item.get("status") == "cancelled":
            raise NotFound("The event is not on the Google calendar any more.")
        if item.get("recurrence"):
            series = self._series(remote_id, item.get("iCalUID"))
            if series is None:
                raise NotFound("The event is not on the Google calendar any more.")
            return series
        return to_remote_event(item, default_tz=self._default_tz)

    def find_by_local_id(self, local_id: str) -> RemoteEvent | None:
        try:
            found = self.get(event_id_for(local_id))
            if found.local_id in (None, local_id):
                return found
        except NotFound:
            pass
        items, _ = self._list_all(
            privateExtendedProperty=f"{LOCAL_ID_PROPERTY}={local_id}",
            showDeleted=False,
            maxResults=self.page_size,
        )
        live = [
            i for i in items if i.get("status") != "cancelled" and not i.get("recurringEventId")
        ]
        if not live:
            return None
        return self.get(live[0]["id"])

    # -- writes

    def _request_for(self, write: Write):
        events = self._events()
        send = "all" if write.send_invitations else "none"
        if isinstance(write, Create):
            body = draft_body(write.draft)
            body["id"] = event_id_for(write.draft.local_id)
            return events.insert(calendarId=self.calendar_id, body=body, sendUpdates=send)
        if isinstance(write, Update):
            request = events.patch(
                calendarId=self.calendar_id,
                eventId=write.remote_id,
                body=draft_body(write.draft, write.fields),
                sendUpdates=send,
            )
        else:
            request = events.delete(
                calendarId=self.calendar_id, eventId=write.remote_id, sendUpdates=send
            )
        if write.version:
            request.headers["If-Match"] = master_etag(write.version)
        return request

    def _run_batch(self, requests: list) -> list[tuple[Any, BaseException | None]]:
        """Send up to 50 requests as one batch; whole-batch failures are retried by Backoff."""

        def once():
            outcomes: dict[str, tuple[Any, BaseException | None]] = {}

            def callback(request_id, response, exception):
                outcomes[request_id] = (response, exception)

            batch = BatchHttpRequest(callback=callback, batch_uri=self._batch_uri)
            for n, request in enumerate(requests):
                batch.add(request, request_id=str(n))
            try:
                batch.execute(http=self._http)
            except Exception as exc:
                raise translate(exc) from exc
            return [
                outcomes.get(str(n), (None, BatchError("missing"))) for n in range(len(requests))
            ]

        try:
            return self.backoff.run(once)
        finally:
            self._notice_token()

    def _send(
        self, calls: list[tuple[int, Callable[[], Any]]]
    ) -> dict[int, tuple[Any, ProviderError | None]]:
        """Run calls in batches of 50, retrying per-call rate limits and 5xx with backoff.

        Returns each call's (response, error). A failure of a whole batch
        (network) is raised when no call was answered yet, else given to every
        call not answered; a refused sign-in is always raised.
        """
        answers: dict[int, tuple[Any, ProviderError | None]] = {}
        todo = list(calls)
        attempt, waited = 0, 0.0
        while todo:
            retry: list[tuple[int, Callable[[], Any]]] = []
            worst: ProviderError | None = None
            for offset in range(0, len(todo), BATCH_SIZE):
                chunk = todo[offset : offset + BATCH_SIZE]
                try:
                    outcomes = self._run_batch([factory() for _, factory in chunk])
                except ProviderError as error:
                    # Sign-in refused or nothing answered at all: the run ends here
                    # (the next run re-links anything written, via the 409 path).
                    if isinstance(error, NeedsSignIn) or not answers:
                        raise
                    for key, _ in todo[offset:]:
                        answers[key] = (None, error)
                    return answers
                for (key, factory), (response, exc) in zip(chunk, outcomes, strict=True):
                    error = None if exc is None else translate(exc)
                    if isinstance(error, (RateLimited, ServerError)):
                        retry.append((key, factory))
                        worst = error if worst is None else worst
                    answers[key] = (response, error)
            if not retry or worst is None:
                break
            wait = self.backoff.delay(attempt, worst)
            attempt += 1
            if attempt >= self.backoff.max_attempts or waited + wait > self.backoff.max_total_wait:
                break
            self.backoff.waits.append(wait)
            waited += wait
            self.backoff.sleep(wait)
            todo = retry
        return answers

    def write(self, writes: Sequence[Write]) -> list[WriteResult]:
        factories = [(n, (lambda w=w: self._request_for(w))) for n, w in enumerate(writes)]
        answers = self._send(factories)
        results: list[WriteResult] = []
        relink: list[int] = []
        series: list[int] = []
        for n, write in enumerate(writes):
            response, error = answers[n]
            if isinstance(error, AlreadyExists) and isinstance(write, Create):
                relink.append(n)
            if error is None and isinstance(write, (Create, Update)):
                recurrence = write.draft.recurrence
                fields = write.fields if isinstance(write, Update) else {"recurrence"}
                if recurrence is not None and (SERIES_FIELDS & fields or recurrence.overrides):
                    series.append(n)
            event = None
            if error is None and isinstance(write, (Create, Update)) and isinstance(response, dict):
                event = to_remote_event(response, default_tz=self._default_tz)
            results.append(WriteResult(write, event, error))
        if relink:
            self._relink(writes, results, relink)
        if series:
            self._write_overrides(writes, results, series)
        return results

    def _relink(
        self, writes: Sequence[Write], results: list[WriteResult], indexes: list[int]
    ) -> None:
        """A create answered 409: the event with our id exists. A live one is linked
        (AlreadyExists with its id); a deleted one is brought back, since the
        engine only re-creates what the user kept."""
        gets = [
            (
                n,
                (
                    lambda n=n: self._events().get(
                        calendarId=self.calendar_id, eventId=event_id_for(writes[n].draft.local_id)
                    )
                ),
            )
            for n in indexes
        ]
        answers = self._send(gets)
        revive = []
        for n in indexes:
            item, error = answers[n]
            remote_id = event_id_for(writes[n].draft.local_id)
            if error is not None or item is None:
                results[n] = WriteResult(
                    writes[n],
                    None,
                    AlreadyExists("The event is already on the Google calendar.", remote_id),
                )
            elif item.get("status") == "cancelled":
                revive.append((n, item))
            else:
                results[n] = WriteResult(
                    writes[n],
                    None,
                    AlreadyExists("The event is already on the Google calendar.", remote_id),
                )
        if not revive:
            return

        def revive_request(n: int, item: dict):
            write = writes[n]
            body = draft_body(write.draft)
            body["status"] = "confirmed"
            request = self._events().update(
                calendarId=self.calendar_id,
                eventId=item["id"],
                body=body,
                sendUpdates="all" if write.send_invitations else "none",
            )
            request.headers["If-Match"] = item["etag"]
            return request

        answers = self._send(
            [(n, (lambda n=n, item=item: revive_request(n, item))) for n, item in revive]
        )
        for n, _item in revive:
            response, error = answers[n]
            event = (
                to_remote_event(response, default_tz=self._default_tz) if error is None else None
            )
            results[n] = WriteResult(writes[n], event, error)

    def _write_overrides(
        self, writes: Sequence[Write], results: list[WriteResult], indexes: list[int]
    ) -> None:
        """Moved or edited occurrences become Google exceptions (patches of instance
        ids); after an update, exceptions the draft does not override are put back
        to what the series says (Google keeps each exception's own copy)."""
        calls = []
        for n in indexes:
            draft = writes[n].draft
            master_id = results[n].event.remote_id
            wanted = list(draft.recurrence.overrides)
            if isinstance(writes[n], Update):
                held = self._series(master_id, results[n].event.ical_uid)
                if held is not None and held.recurrence is not None:
                    wanted += put_back(
                        held.recurrence.overrides,
                        draft.recurrence,
                        join_contents(draft.subject, draft.body),
                        draft.location,
                        draft.end - draft.start,
                    )
            for k, override in enumerate(wanted):
                iid = instance_id(master_id, override.original_start)
                body = _override_body(override, draft.timezone)
                send = "all" if writes[n].send_invitations else "none"
                calls.append(
                    (
                        (n, k),
                        (
                            lambda iid=iid, body=body, send=send: self._events().patch(
                                calendarId=self.calendar_id,
                                eventId=iid,
                                body=body,
                                sendUpdates=send,
                            )
                        ),
                    )
                )
        answers = self._send(calls) if calls else {}
        for n in indexes:
            errors = [e for (m, _k), (_r, e) in answers.items() if m == n and e is not None]
            try:
                event = self.get(results[n].event.remote_id)
            except ProviderError as error:
                errors.append(error)
                event = results[n].event
            results[n] = WriteResult(writes[n], event, errors[0] if errors else None)

    def close(self) -> None:
        self._http.close()
