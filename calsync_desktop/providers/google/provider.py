"""The Google Calendar provider: sync-token listing, series assembly and writes.

:class:`GoogleProvider` lists with ``syncToken`` or over the window, assembles
a series from its master and exceptions, and writes in batches conditional on
the master's etag, re-linking a 409 on insert. HTTP is in ``wire.py``, field
names in ``mapping.py``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from types import MappingProxyType
from typing import Any

import google_auth_httplib2
import httplib2
from googleapiclient.discovery import build

from calsync_desktop.providers.base import (
    AlreadyExists,
    Backoff,
    CalendarInfo,
    CalendarProvider,
    ChangeSet,
    Create,
    InvalidEvent,
    MalformedResponse,
    NotFound,
    ProviderError,
    RemoteEvent,
    Respond,
    TimeWindow,
    Update,
    Write,
    WriteResult,
    whole_batch,
)
from calsync_desktop.providers.google.mapping import (
    LOCAL_ID_PROPERTY,
    SHOW_AS_KEPT,
    answer_body,
    draft_body,
    event_id_for,
    instance_id,
    master_etag,
    override_body,
    rfc3339,
    to_remote_event,
)
from calsync_desktop.providers.google.wire import (
    BATCH_SIZE,
    DEFAULT_ENDPOINT,
    PAGE_SIZE,
    GoogleWire,
    batch_uri_for,
)
from calsync_desktop.providers.kit.contents import join_contents
from calsync_desktop.providers.kit.occurrences import SERIES_FIELDS, put_back
from calsync_desktop.providers.kit.reading import Readings

log = logging.getLogger(__package__)  # one logger for the whole provider


class GoogleProvider(GoogleWire, CalendarProvider):
    """One Google calendar, through google-api-python-client.

    Promises: a sync with nothing changed is one HTTP request; a full listing
    uses pages of 2,500; writes go in batches of at most 50 calls, conditional
    on the etag; rate limits are retried with backoff honouring Retry-After;
    refreshed access tokens are reported through ``on_credentials_changed`` so
    the account can store them; a refused refresh is :class:`NeedsSignIn`.
    """

    kind = "google"
    write_batch_size = BATCH_SIZE
    show_as_kept = MappingProxyType(SHOW_AS_KEPT)

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

    def changes(
        self, window: TimeWindow, state: str | None, *, local_ids: bool = True
    ) -> ChangeSet:
        if state is None:
            items, token = self._list_all(
                timeMin=rfc3339(window.start),
                timeMax=rfc3339(window.end),
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

    def _primary(self) -> bool:
        """Whether this is the account's primary calendar (its id is the address)."""
        return self.calendar_id == "primary" or self.calendar_id == self._email

    def _request_for(self, write: Write):
        events = self._events()
        send = "all" if write.send_invitations else "none"
        if isinstance(write, Create):
            body = draft_body(write.draft, typed=self._primary())
            body["id"] = event_id_for(write.draft.local_id)
            return events.insert(calendarId=self.calendar_id, body=body, sendUpdates=send)
        if isinstance(write, Respond):
            # the attendee's own responseStatus (and their copy's show-as) in one
            # patch, never an edit of the organiser's meeting; sendUpdates tells
            # the organiser
            body = answer_body(self.account_email(), write.response)
            if write.own_copy is not None:
                body.update(draft_body(write.own_copy.draft, write.own_copy.fields))
            request = events.patch(
                calendarId=self.calendar_id, eventId=write.remote_id, body=body, sendUpdates=send
            )
        elif isinstance(write, Update):
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

    @whole_batch
    def write(self, writes: Sequence[Write]) -> list[WriteResult]:
        refused = self._unanswerable(writes)
        factories = [
            (n, (lambda w=w: self._request_for(w)))
            for n, w in enumerate(writes)
            if n not in refused
        ]
        answers = self._send(factories) if factories else {}
        answers.update({n: (None, error) for n, error in refused.items()})
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
            if error is None and isinstance(write, Respond):
                event = self._read_back(write.remote_id, response)
            if error is None and isinstance(write, (Create, Update)) and isinstance(response, dict):
                event = to_remote_event(response, default_tz=self._default_tz)
            results.append(WriteResult(write, event, error))
        if relink:
            self._relink(writes, results, relink)
        if series:
            self._write_overrides(writes, results, series)
        return results

    def _unanswerable(self, writes: Sequence[Write]) -> dict[int, ProviderError]:
        """Answers that cannot be given, by their place in ``writes``: to an event
        that is gone, or one the user organises (Google would not refuse a patch
        of the organiser's own entry, so it is checked before anything is sent)."""
        refused: dict[int, ProviderError] = {}
        for n, write in enumerate(writes):
            if not isinstance(write, Respond):
                continue
            try:
                event = self.get(write.remote_id)
            except ProviderError as error:
                refused[n] = error
                continue
            if event.organizer_is_self:
                refused[n] = InvalidEvent(
                    "This is your own appointment on Google Calendar: there is no "
                    "invitation to answer."
                )
        return refused

    def _read_back(self, remote_id: str, response) -> RemoteEvent:
        """The meeting after an answer: the patched event, or the series whole
        (its exceptions carry their own answers)."""
        if isinstance(response, dict) and not response.get("recurrence"):
            return to_remote_event(response, default_tz=self._default_tz)
        return self.get(remote_id)

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
                body = override_body(override, draft.timezone)
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
