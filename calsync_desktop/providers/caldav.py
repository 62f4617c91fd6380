"""Any CalDAV server (RFC 4791): iCloud, Fastmail, Nextcloud, Radicale, Xandikos…,
through the ``caldav`` library's client (its HTTP session, authentication
negotiation, rate-limit and DAV:error parsing), with the requests it sends
chosen here so that each costs what SPEC §4 allows.

What it keeps inside (see :class:`CalDAVProvider`):

- discovery (caldav_discovery.py): principal, calendar home set, calendars;
- the first listing: the collection's ``DAV:sync-token`` property, then every
  event with its data in one ``calendar-query`` (see ``_first_listing``);
  events are read by the lean reader of caldav_lean.py, icalendar reading
  what it leaves (recurrence, zones the database lacks, lenient forms);
- incremental sync with WebDAV sync-collection (RFC 6578): one REPORT with the
  calendar data of what changed (and 404 entries for what was deleted); a
  token the server no longer accepts (``DAV:valid-sync-token``) is
  :class:`SyncStateExpired`. A server without sync-collection is listed by its
  ctag (``CS:getctag``): one PROPFIND when nothing changed, a full
  ``calendar-query`` over the window when something did. The refusal of a
  token is 403 or 409 on some servers (Radicale) and 412 on others (Xandikos's
  ``PreconditionFailure``), each naming the precondition;
- identity: an event calsync creates is the resource ``<local id>.ics`` whose
  UID is the local id, created with ``If-None-Match: *`` (a retried create
  answers 412, or ``CALDAV:no-uid-conflict``, and links instead of
  duplicating); the remote id is the resource's path, the version its ETag;
- writes: one PUT or DELETE per write (CalDAV has no batches), up to four in
  flight at once on connections of their own, each with
  ``If-Match`` on the ETag read (412 → :class:`ChangedMeanwhile`); an update
  patches the resource as the server holds it, only the fields named;
- retries of 429 and 503 (with Retry-After), 423 (a write meeting another at
  the server's lock: Xandikos; after one, the writes take turns) and other 5xx through
  :class:`Backoff`, except 501 and 505, which say the server does not support
  the request and would answer the same again (RFC 9110 §15.6.2, §15.6.6), and
  never a 4xx (a 405 is a method this server does not allow there);
  401 → :class:`NeedsSignIn`; TLS verification always on, with the account's
  CA bundle when it has one.
"""

from __future__ import annotations

import logging
import posixpath
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import quote, urljoin, urlsplit

from calsync_desktop.providers.base import (
    AlreadyExists,
    Backoff,
    CalendarInfo,
    CalendarProvider,
    ChangedMeanwhile,
    ChangeSet,
    Create,
    Delete,
    MalformedResponse,
    NeedsSignIn,
    NotACalendarService,
    NotFound,
    ProviderError,
    RemoteEvent,
    Respond,
    SyncStateExpired,
    TimeWindow,
    Unreachable,
    Update,
    Write,
    WriteResult,
    overlaps,
    whole_batch,
)
from calsync_desktop.providers.caldav_discovery import Discovery
from calsync_desktop.providers.caldav_ics import (
    UnreadableEvent,
    answered_resource,
    new_resource,
    patched_resource,
    read_event,
)
from calsync_desktop.providers.caldav_wire import (
    CALDAV,
    CS,
    DAV,
    LOCKED,
    Entry,
    calendar_query_body,
    calendar_text,
    check_status,
    multiget_body,
    propfind_body,
    read_multistatus,
    retryable,
    server_failure,
    sync_collection_body,
    tag,
    translate,
    uid_conflict_href,
)
from calsync_desktop.providers.kit.reading import Readings

log = logging.getLogger(__name__)
T = TypeVar("T")

SYNC_PREFIX = "sync:"
WRITES = frozenset({"PUT", "DELETE"})
CTAG_PREFIX = "ctag:"


@dataclass(frozen=True)
class ConnectionSettings:
    """How to reach the server. ``url`` is what the person typed (a server, a
    principal or a calendar); ``calendar_url`` the chosen calendar, once known."""

    url: str
    username: str
    password: str
    ca_bundle: str | None = None
    timeout: float = 30.0
    auth_type: str | None = None  # "basic" or "digest", as negotiated when the account was added


# --------------------------------------------------------------------------- provider


class CalDAVProvider(Discovery, CalendarProvider):
    """One calendar collection on a CalDAV server."""

    kind = "caldav"
    # sync-collection on some servers (a git-backed one: Xandikos) does not
    # report an event created and deleted after the token it starts from
    reports_deleted_new_events = False
    write_batch_size = 50  # no batches in CalDAV: links are committed every 50 writes
    writers = 4  # writes in flight at once (see write())

    def __init__(
        self,
        connection: ConnectionSettings,
        calendar_url: str = "",
        *,
        email: str = "",
        backoff: Backoff | None = None,
        clock: Callable[[], datetime] | None = None,
    ):
        self.connection = connection
        self.backoff = backoff or Backoff()
        self.clock = clock or (lambda: datetime.now(UTC))
        self._email = email
        self._client_obj = None
        self._writers = threading.local()  # each writing thread's own client (own connection)
        self._writer_clients: list = []
        self._writers_lock = threading.Lock()
        self._one_write_at_a_time = False  # set by a 423 answer (see _request)
        self._write_turn = threading.Lock()
        self._calendar_url = self._absolute(calendar_url) if calendar_url else ""
        self._calendars: list[CalendarInfo] | None = None
        self._supports_sync: bool | None = None
        self._cache: dict[str, tuple[str, str]] = {}  # href → (etag, text) as last read

    # ---------------------------------------------------------------- transport

    def _absolute(self, url: str) -> str:
        return urljoin(self.connection.url, url)

    def _new_client(self, auth_type: str | None):
        from caldav.davclient import DAVClient

        return DAVClient(
            url=self.connection.url,
            username=self.connection.username,
            password=self.connection.password,
            auth_type=auth_type,
            timeout=self.connection.timeout,
            ssl_verify_cert=self.connection.ca_bundle or True,
            enable_rfc6764=False,
        )

    def _client(self):
        writer = getattr(self._writers, "client", None)
        if writer is not None:
            return writer
        if self._client_obj is None:
            self._client_obj = self._new_client(self.connection.auth_type)
        return self._client_obj

    @property
    def auth_type(self) -> str | None:
        """The authentication scheme the server asked for (to keep with the account)."""
        auth = getattr(self._client_obj, "auth", None)
        name = type(auth).__name__.lower()
        if "digest" in name:
            return "digest"
        if "basic" in name:
            return "basic"
        return self.connection.auth_type

    def _call(self, call: Callable[[], T]) -> T:
        def once() -> T:
            try:
                return call()
            except ProviderError:
                raise
            except Exception as exc:  # the border: everything becomes one of ours
                raise translate(exc) from None

        return self.backoff.run(once)

    def _request(
        self, method: str, url: str, body: str = "", headers: dict | None = None
    ) -> tuple[int, dict, bytes]:
        def send():
            if self._one_write_at_a_time and method in WRITES:
                with self._write_turn:
                    response = self._client().request(url, method, body, headers or {})
            else:
                response = self._client().request(url, method, body, headers or {})
            raw = response._raw
            if isinstance(raw, str):
                raw = raw.encode("utf-8")
            if response.status == LOCKED and method in WRITES:
                # the server takes one write at a time (Xandikos's git index
                # lock): the writes in flight take turns from now on
                self._one_write_at_a_time = True
            if retryable(response.status):
                raise server_failure(response.status)
            return response.status, dict(response.headers), raw or b""

        return self._call(send)

    def _dav(self, method: str, url: str, body: str, depth: int | None = 0):
        headers = {"Content-Type": 'application/xml; charset="utf-8"'}
        if depth is not None:
            headers["Depth"] = str(depth)
        status, _headers, raw = self._request(method, url, body, headers)
        if status == 207:
            return read_multistatus(raw)
        if status in (404, 405, 501):
            raise NotACalendarService("The address answers, but it is not a CalDAV server.")
        if status in (403, 409, 412) and b"valid-sync-token" in raw:
            raise SyncStateExpired("The CalDAV server no longer accepts the sync token.")
        if 200 <= status < 300:
            raise NotACalendarService("The address answers, but it is not a CalDAV server.")
        raise ProviderError(f"The CalDAV server answered {status}.")

    # ---------------------------------------------------------------- reading

    def _event(
        self, href: str, etag: str, text: str, readings: Readings | None = None
    ) -> RemoteEvent | None:
        """The resource's event; None for one without a VEVENT (a task), or one
        that cannot be read (then set aside in ``readings``, kit/reading.py)."""
        readings = readings or Readings("The CalDAV server")
        event = readings.read(href, lambda: read_event(href, etag, text, self.account_email()))
        if event is not None:
            self._cache[href] = (etag, text)
        return event

    def _events(
        self, entries: list[Entry], readings: Readings | None = None
    ) -> tuple[list[RemoteEvent], list[str], list[str]]:
        """Events, deleted hrefs, and hrefs whose data the answer left out."""
        events, deleted, missing = [], [], []
        for entry in entries:
            if entry.href.rstrip("/") == urlsplit(self.calendar_url()).path.rstrip("/"):
                continue
            if entry.status in (404, 410):
                deleted.append(entry.href)
                continue
            data = entry.text(tag(CALDAV, "calendar-data"))
            etag = entry.text(tag(DAV, "getetag")) or ""
            if data is None or not etag:
                missing.append(entry.href)
                continue
            event = self._event(entry.href, etag, data, readings)
            if event is not None:
                events.append(event)
        return events, deleted, missing

    def _fetch(self, hrefs: list[str], readings: Readings | None = None) -> list[RemoteEvent]:
        if not hrefs:
            return []
        entries, _ = self._dav("REPORT", self.calendar_url(), multiget_body(hrefs), depth=1)
        events, _, _ = self._events(entries, readings)
        return events

    def changes(
        self, window: TimeWindow, state: str | None, *, local_ids: bool = True
    ) -> ChangeSet:
        url = self.calendar_url()
        if state and state.startswith(CTAG_PREFIX):
            return self._ctag_changes(window, state[len(CTAG_PREFIX) :])
        token = state[len(SYNC_PREFIX) :] if state and state.startswith(SYNC_PREFIX) else ""
        if self._supports_sync is False:
            return self._ctag_changes(window, None)
        if not token:
            first = self._first_listing(window)
            if first is not None:
                return first
        try:
            entries, new_token = self._dav("REPORT", url, sync_collection_body(token), depth=None)
        except NotACalendarService:
            if token:
                raise SyncStateExpired(
                    "The CalDAV server no longer offers sync-collection."
                ) from None
            self._supports_sync = False
            return self._ctag_changes(window, None)
        except ProviderError as exc:
            if token or isinstance(exc, NeedsSignIn | SyncStateExpired) or exc.transient:
                raise
            self._supports_sync = False  # 403 "supported-report": listed by ctag instead
            return self._ctag_changes(window, None)
        self._supports_sync = True
        readings = Readings("The CalDAV server")
        events, deleted, missing = self._events(entries, readings)
        events += self._fetch(missing, readings)
        if not new_token:
            raise MalformedResponse("The CalDAV server's sync answer has no sync token.")
        if not token:
            events = [e for e in events if overlaps(e, window)]
        state = SYNC_PREFIX + new_token
        return ChangeSet(events, deleted, state, not token, readings.unreadable)

    def _first_listing(self, window: TimeWindow) -> ChangeSet | None:
        """The first listing: the collection's ``DAV:sync-token`` (RFC 6578 §4),
        then every event with its data in one ``calendar-query`` (RFC 4791
        §7.8); None when the server names no token (the sync-collection REPORT
        then decides). A sync-collection from the empty token costs the
        server a listing and a reading of every item more than these two do
        (Radicale computes and stores the token's state, then fetches each item
        again), and the token is the same. Asked in this order, an event
        changed or deleted between the two requests is reported again by the
        first sync from the token, never lost."""
        url = self.calendar_url()
        try:
            entries, _ = self._dav("PROPFIND", url, propfind_body("<d:sync-token/>"))
        except ProviderError as exc:
            if exc.transient or isinstance(exc, NeedsSignIn):
                raise
            return None
        token = next((e.text(tag(DAV, "sync-token")) for e in entries if e.props), None)
        if not token or not token.strip():
            return None
        try:
            entries, _ = self._dav("REPORT", url, calendar_query_body(), depth=1)
        except NotACalendarService:
            return None  # 404, 405, 501: the sync-collection REPORT decides
        self._supports_sync = True
        readings = Readings("The CalDAV server")
        events, _, missing = self._events(entries, readings)
        events += self._fetch(missing, readings)
        events = [e for e in events if overlaps(e, window)]
        return ChangeSet(events, [], SYNC_PREFIX + token.strip(), True, readings.unreadable)

    def _ctag(self) -> str:
        entries, _ = self._dav(
            "PROPFIND", self.calendar_url(), propfind_body("<cs:getctag/>", "<d:sync-token/>")
        )
        for entry in entries:
            value = entry.text(tag(CS, "getctag")) or entry.text(tag(DAV, "sync-token"))
            if value:
                return value
        return ""

    def _ctag_changes(self, window: TimeWindow, old: str | None) -> ChangeSet:
        """Listing by ctag (for servers without sync-collection): nothing when the
        ctag is the same, else every event in the window."""
        ctag = self._ctag()
        if old is not None and ctag and ctag == old:
            return ChangeSet([], [], CTAG_PREFIX + ctag, complete=False)
        entries, _ = self._dav("REPORT", self.calendar_url(), calendar_query_body(window), depth=1)
        readings = Readings("The CalDAV server")
        events, _, missing = self._events(entries, readings)
        events += self._fetch(missing, readings)
        events = [e for e in events if overlaps(e, window)]
        state = CTAG_PREFIX + ctag if ctag else None
        return ChangeSet(events, [], state, True, readings.unreadable)

    def _get_raw(self, href: str) -> tuple[str, str]:
        status, headers, raw = self._request("GET", self._absolute(href))
        headers = {k.lower(): v for k, v in headers.items()}
        if status in (404, 410):
            raise NotFound("The event is not on the CalDAV server any more.")
        if status != 200:
            raise ProviderError(f"The CalDAV server answered {status} for the event.")
        etag = headers.get("etag", "")
        return etag, calendar_text(raw)

    def get(self, remote_id: str) -> RemoteEvent:
        etag, text = self._get_raw(remote_id)
        if not etag:
            raise MalformedResponse("The CalDAV server sent an event without an ETag.")
        event = self._event(urlsplit(self._absolute(remote_id)).path, etag, text)
        if event is None:
            raise NotFound("The resource is not an event.")
        return event

    def find_by_local_id(self, local_id: str) -> RemoteEvent | None:
        entries, _ = self._dav(
            "REPORT", self.calendar_url(), calendar_query_body(uid=local_id), depth=1
        )
        events, _, missing = self._events(entries)
        events += self._fetch(missing)
        return next((e for e in events if local_id in (e.local_id, e.ical_uid)), None)

    # ---------------------------------------------------------------- writing

    def _href_for(self, local_id: str) -> str:
        base = urlsplit(self.calendar_url()).path
        return posixpath.join(base if base.endswith("/") else base + "/", quote(local_id) + ".ics")

    def _put(self, href: str, text: str, condition: dict) -> tuple[int, str, bytes]:
        headers = {"Content-Type": "text/calendar; charset=utf-8", **condition}
        status, answer_headers, raw = self._request("PUT", self._absolute(href), text, headers)
        etag = {k.lower(): v for k, v in answer_headers.items()}.get("etag", "")
        return status, etag, raw

    def _written(self, href: str, etag: str, text: str) -> RemoteEvent:
        """The event as written: its text and ETag, or read back when the server
        changed what it stored (RFC 4791 §5.3.4: then it sends no strong ETag)."""
        if etag and not etag.startswith("W/"):
            event = self._event(href, etag, text)
            if event is not None:
                return event
        return self.get(href)

    def _create(self, write: Create) -> RemoteEvent:
        href = self._href_for(write.draft.local_id)
        text = new_resource(write.draft, self.account_email(), write.send_invitations, self.clock())
        status, etag, raw = self._put(href, text, {"If-None-Match": "*"})
        if status == 412:
            raise AlreadyExists("The event exists on the CalDAV server already.", href)
        if status in (403, 409) and b"no-uid-conflict" in raw:
            existing = uid_conflict_href(raw)
            if existing is None:
                found = self.find_by_local_id(write.draft.local_id)
                existing = found.remote_id if found else None
            raise AlreadyExists("The event exists on the CalDAV server already.", existing)
        check_status(status, "event")
        return self._written(href, etag, text)

    def _rewrite(self, remote_id: str, version: str, change: Callable[[str], str]) -> RemoteEvent:
        """One conditional PUT of the resource as ``change`` makes it from the
        text the server holds at ``version`` (ChangedMeanwhile when it holds
        another)."""
        href = urlsplit(self._absolute(remote_id)).path
        cached = self._cache.get(href)
        if cached is not None and cached[0] == version:
            text = cached[1]
        else:
            etag, text = self._get_raw(href)
            if etag != version:
                raise ChangedMeanwhile("The event changed on the CalDAV server meanwhile.")
        try:
            new_text = change(text)
        except UnreadableEvent:
            raise MalformedResponse(
                "The CalDAV server holds this event in a form that could not be read."
            ) from None
        status, etag, _raw = self._put(href, new_text, {"If-Match": version})
        check_status(status, "event")
        return self._written(href, etag, new_text)

    def _update(self, write: Update) -> RemoteEvent:
        return self._rewrite(
            write.remote_id,
            write.version,
            lambda text: patched_resource(
                text,
                write.draft,
                write.fields,
                self.account_email(),
                write.send_invitations,
                self.clock(),
            ),
        )

    def _answer(self, write: Respond) -> RemoteEvent:
        """The user's answer as their own ``PARTSTAT`` (the attendee's copy's
        show-as with it), one conditional PUT: never an edit of the meeting."""
        version = write.version
        if write.own_copy is not None:
            version = self._update(write.own_copy).version
        email = self.account_email()
        return self._rewrite(
            write.remote_id, version, lambda text: answered_resource(text, email, write.response)
        )

    def _delete(self, write: Delete) -> None:
        href = self._absolute(write.remote_id)
        status, _headers, _raw = self._request("DELETE", href, "", {"If-Match": write.version})
        check_status(status, "event")
        self._cache.pop(urlsplit(href).path, None)

    @whole_batch
    def write(self, writes: Sequence[Write]) -> list[WriteResult]:
        """Each write is a request of its own (CalDAV has no batches): up to
        :data:`WRITERS` are in flight at once, each thread on a connection of its
        own, so that one write's round trip and the server's work overlap the
        next ones' (a server that answers 423 Locked gets them one at a time
        from then on). The results keep the order of ``writes``; a failure of the
        sign-in or of the network ends the run once the writes in flight are
        answered (the next run links what they made)."""
        if not writes:
            return []
        self.calendar_url()  # discovery and the account's address, once, before the threads
        self.account_email()
        if len(writes) == 1 or self.writers <= 1:
            outcomes = [self._write_one(w) for w in writes]
        else:
            with ThreadPoolExecutor(min(self.writers, len(writes)), "caldav-write") as pool:
                outcomes = list(pool.map(self._write_in_thread, writes))
        ended = next((o for o in outcomes if isinstance(o, ProviderError)), None)
        if ended is not None:
            raise ended
        return outcomes  # type: ignore[return-value]

    def _write_in_thread(self, write: Write) -> WriteResult | ProviderError:
        if getattr(self._writers, "client", None) is None:
            client = self._new_client(self.auth_type)
            self._writers.client = client
            with self._writers_lock:
                self._writer_clients.append(client)
        return self._write_one(write)

    def _write_one(self, write: Write) -> WriteResult | ProviderError:
        try:
            if isinstance(write, Create):
                return WriteResult(write, self._create(write))
            if isinstance(write, Update):
                return WriteResult(write, self._update(write))
            if isinstance(write, Respond):
                return WriteResult(write, self._answer(write))
            self._delete(write)
            return WriteResult(write)
        except ProviderError as exc:
            if isinstance(exc, NeedsSignIn | Unreachable):
                return exc  # the run ends; the next one picks up
            return WriteResult(write, error=exc)

    def close(self) -> None:
        with self._writers_lock:
            clients, self._writer_clients = self._writer_clients, []
        for client in clients:
            client.close()
        self._writers = threading.local()
        if self._client_obj is not None:
            self._client_obj.close()
            self._client_obj = None


def describe(settings: dict[str, Any]) -> str:
    """The server's host, as the window names the account's server."""
    return urlsplit(settings.get("url", "")).hostname or ""
