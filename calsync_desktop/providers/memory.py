"""An in-memory calendar service and its provider.

:class:`MemoryCalendar` behaves like a real service would: every event has a
version that changes on each write, writes name the version they read, an
incremental listing returns what changed since a token (deletions included),
tokens can expire, and it can be told to fail. :class:`MemoryProvider` is the
client side. The engine's property tests and the GUI's tests run on it, and
the "memory" account kind lets a person try the app with no network.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime

from calsync_desktop.model import MyResponse
from calsync_desktop.providers.base import (
    AlreadyExists,
    Backoff,
    CalendarInfo,
    CalendarProvider,
    ChangedMeanwhile,
    ChangeSet,
    Create,
    Delete,
    EventDraft,
    InvalidEvent,
    MalformedResponse,
    NeedsSignIn,
    NotFound,
    ProviderError,
    RateLimited,
    ReadOnlyEvent,
    RemoteEvent,
    Respond,
    ServerError,
    SyncStateExpired,
    TimeWindow,
    Unreachable,
    Update,
    Write,
    WriteResult,
    overlaps,
)

# What a guest may change on their own copy of someone else's meeting, as on
# Google Calendar (providers/kit/meetings.py): how it shows their time.
GUEST_FIELDS = frozenset({"show_as"})

FAULTS = {
    "rate_limit": lambda: RateLimited("The calendar service asks to slow down.", retry_after=1.0),
    "server_busy": lambda: RateLimited("The calendar server is busy.", retry_after=2.0),
    "server_error": lambda: ServerError("The calendar service failed (HTTP 500)."),
    "drop": lambda: Unreachable("The connection to the calendar service was dropped."),
    "malformed": lambda: MalformedResponse(
        "The calendar service sent an answer that cannot be read."
    ),
    "expired_token": lambda: NeedsSignIn("The sign-in for this calendar has expired."),
}


class MemoryCalendar:
    """The service side: thread-safe, versioned, with change tokens and faults."""

    def __init__(self, email: str = "me@example.com", clock=None):
        self.email = email
        self.clock = clock or (lambda: datetime.now(UTC))
        self.events: dict[str, RemoteEvent] = {}
        self._log: list[tuple[int, str]] = []  # (seq, remote id) of every change
        self._seq = 0
        self._ids = 0
        self._expired_before = 0
        self._faults: list[str] = []
        self.requests = 0
        self.batch_size = 100
        self._no_answers: set[str] = set()  # meetings whose organiser wants no answers
        self._lock = threading.RLock()

    # -- the service's own behaviour
    def _touch(self, remote_id: str) -> int:
        self._seq += 1
        self._log.append((self._seq, remote_id))
        return self._seq

    def _request(self) -> None:
        self.requests += 1
        if self._faults:
            raise FAULTS[self._faults.pop(0)]()

    def store(self, event: RemoteEvent) -> RemoteEvent:
        with self._lock:
            seq = self._touch(event.remote_id)
            stored = replace(event, version=f"v{seq}", last_modified=self.clock())
            self.events[event.remote_id] = stored
            return stored

    def new_id(self) -> str:
        with self._lock:
            self._ids += 1
            return f"evt{self._ids:06d}"

    # -- what a test (another client, the service's admin) can do
    def fail_next(self, kind: str, count: int = 1) -> None:
        if kind not in FAULTS:
            raise ValueError(kind)
        self._faults.extend([kind] * count)

    def clear_faults(self) -> None:
        """Forget the faults not used yet."""
        self._faults.clear()

    @property
    def pending_faults(self) -> int:
        """How many injected faults are still waiting for a request."""
        return len(self._faults)

    def expire_sync_state(self) -> None:
        with self._lock:
            self._expired_before = self._seq + 1

    def edit(self, remote_id: str, **fields) -> RemoteEvent:
        with self._lock:
            return self.store(replace(self.events[remote_id], **fields))

    def remove(self, remote_id: str) -> None:
        with self._lock:
            del self.events[remote_id]
            self._touch(remote_id)

    def add(self, **fields) -> RemoteEvent:
        fields.setdefault("version", "")
        remote_id = fields.pop("remote_id", None) or self.new_id()
        return self.store(RemoteEvent(remote_id=remote_id, **fields))

    # -- the API the provider calls
    def list_changes(self, window: TimeWindow, token: str | None) -> ChangeSet:
        with self._lock:
            self._request()
            if token is None:
                events = [e for e in self.events.values() if overlaps(e, window)]
                return ChangeSet(events, [], str(self._seq), complete=True)
            try:
                since = int(token)
            except ValueError as exc:
                raise SyncStateExpired("The sync state was not recognised.") from exc
            if since < self._expired_before:
                raise SyncStateExpired("The sync state has expired.")
            changed = {rid for seq, rid in self._log if seq > since}
            events = [self.events[r] for r in sorted(changed) if r in self.events]
            deleted = [r for r in sorted(changed) if r not in self.events]
            return ChangeSet(events, deleted, str(self._seq), complete=False)

    def fetch(self, remote_id: str) -> RemoteEvent:
        with self._lock:
            self._request()
            try:
                return self.events[remote_id]
            except KeyError:
                raise NotFound("The event no longer exists.") from None

    def find_local(self, local_id: str) -> RemoteEvent | None:
        with self._lock:
            self._request()
            return next((e for e in self.events.values() if e.local_id == local_id), None)

    def write_batch(self, writes: Sequence[Write]) -> list[WriteResult]:
        with self._lock:
            self._request()
            return [self._write_one(w) for w in writes]

    def _write_one(self, write: Write) -> WriteResult:
        try:
            if isinstance(write, Create):
                for event in self.events.values():
                    if event.local_id == write.draft.local_id:
                        raise AlreadyExists("The event exists already.", event.remote_id)
                event = _from_draft(self.new_id(), write.draft, None)
                return WriteResult(write, self.store(event))
            current = self.events.get(write.remote_id)
            if current is None:
                raise NotFound("The event no longer exists.")
            if current.version != write.version:
                raise ChangedMeanwhile("The event was changed meanwhile.")
            if isinstance(write, Delete):
                self.remove(write.remote_id)
                return WriteResult(write, None)
            if isinstance(write, Respond):
                return WriteResult(write, self._answer(current, write))
            self._check_guest_write(current, write)
            return WriteResult(
                write, self.store(_from_draft(current.remote_id, write.draft, current, write))
            )
        except ProviderError as error:
            return WriteResult(write, None, error)

    def refuse_answers(self, remote_id: str) -> None:
        """The organiser asks for no answers to this meeting (Graph's
        ``responseRequested`` false): an answer sent to it is refused."""
        with self._lock:
            self._no_answers.add(remote_id)

    def _check_guest_write(self, current: RemoteEvent, write: Update) -> None:
        # as Google: a guest changes only their own copy's properties, unless
        # the organiser lets the guests modify the event (guestsCanModify)
        if (
            not current.organizer_is_self
            and not current.guests_can_modify
            and write.fields - GUEST_FIELDS
        ):
            raise ReadOnlyEvent("Only the organiser can change this meeting on the test calendar.")

    def _answer(self, current: RemoteEvent, write: Respond) -> RemoteEvent:
        """The user's answer to someone else's meeting, kept on their copy (a
        declined one stays, as Google keeps it)."""
        if current.organizer_is_self:
            raise InvalidEvent("This is your own appointment: there is no invitation to answer.")
        if current.remote_id in self._no_answers:
            raise InvalidEvent("The organiser asked for no answers to this meeting.")
        if write.own_copy is not None:
            self._check_guest_write(current, write.own_copy)
            current = _from_draft(current.remote_id, write.own_copy.draft, current, write.own_copy)
        return self.store(replace(current, my_response=write.response))


def _from_draft(
    remote_id: str, draft: EventDraft, current: RemoteEvent | None, update: Update | None = None
) -> RemoteEvent:
    """The event a write leaves; an update touches only the fields it names."""
    fields = update.fields if update else None

    def pick(name: str, new, old):
        return new if current is None or fields is None or name in fields else old

    attendees = draft.attendees
    if current is not None:
        known = {p.key: p.status for p in current.attendees if p.key}
        attendees = tuple(replace(p, status=known.get(p.key, p.status)) for p in attendees)
    return RemoteEvent(
        remote_id=remote_id,
        version="",
        subject=pick("subject", draft.subject, current and current.subject),
        body=pick("body", draft.body, current and current.body),
        body_is_html=False if current is None or "body" in (fields or ()) else current.body_is_html,
        location=pick("location", draft.location, current and current.location),
        start=pick("time", draft.start, current and current.start),
        end=pick("time", draft.end, current and current.end),
        timezone=pick("time", draft.timezone, current and current.timezone),
        private=pick("private", draft.private, current and current.private),
        attendees=pick("attendees", attendees, current and current.attendees),
        recurrence=pick("recurrence", draft.recurrence, current and current.recurrence),
        local_id=draft.local_id if current is None else current.local_id,
        ical_uid=current.ical_uid if current else f"{draft.local_id}@calsync",
        organizer_is_self=True if current is None else current.organizer_is_self,
        show_as=pick("show_as", draft.show_as, current and current.show_as),
        # what the service keeps of a meeting: its link, organiser and the user's answer
        join_url=current.join_url if current else "",
        organizer=current.organizer if current else None,
        guests_can_modify=current.guests_can_modify if current else False,
        my_response=current.my_response if current else MyResponse.NONE,
    )


class MemoryProvider(CalendarProvider):
    """A client of a :class:`MemoryCalendar`, retrying rate limits like the real ones."""

    kind = "memory"

    @property
    def write_batch_size(self) -> int:
        return self.calendar.batch_size

    def __init__(self, calendar: MemoryCalendar, backoff: Backoff | None = None):
        self.calendar = calendar
        self.backoff = backoff or Backoff()

    def account_email(self) -> str:
        return self.calendar.email

    def list_calendars(self) -> list[CalendarInfo]:
        return [CalendarInfo("primary", "Calendar", primary=True)]

    def changes(
        self, window: TimeWindow, state: str | None, *, local_ids: bool = True
    ) -> ChangeSet:
        return self.backoff.run(lambda: self.calendar.list_changes(window, state))

    def get(self, remote_id: str) -> RemoteEvent:
        return self.backoff.run(lambda: self.calendar.fetch(remote_id))

    def find_by_local_id(self, local_id: str) -> RemoteEvent | None:
        return self.backoff.run(lambda: self.calendar.find_local(local_id))

    def write(self, writes: Sequence[Write]) -> list[WriteResult]:
        results: list[WriteResult] = []
        size = self.calendar.batch_size
        for i in range(0, len(writes), size):
            chunk = writes[i : i + size]
            results.extend(self.backoff.run(lambda c=chunk: self.calendar.write_batch(c)))
        return results
