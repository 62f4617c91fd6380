"""The one interface every calendar service is reached through, and its errors.

Vocabulary
----------
*event*        an item on the remote calendar, as a :class:`RemoteEvent`.
*remote id*    the service's id of an event (Google event id, EWS ItemId,
               Graph event id). Stable for the life of the event.
*version*      the service's concurrency token (Google etag, EWS/Graph change
               key). A write names the version it read; a stale one fails
               with :class:`ChangedMeanwhile`, never overwrites.
*local id*     the Sales Calendar appointment id that calsync stamps on every
               event it creates (Google private extended property, EWS
               extended property, Graph single-value extended property), so a
               crash between the remote write and the local commit is repaired
               by re-linking instead of creating a second copy.
*sync state*   an opaque token (Google syncToken, EWS SyncFolderItems state,
               Graph delta link) from which :meth:`CalendarProvider.changes`
               lists only what changed.

A series is one :class:`RemoteEvent` whose ``recurrence`` carries the rule
(as RRULE text), the deleted occurrences (``exdates``) and the moved or
edited occurrences (``overrides``). Providers assemble that from their
service's masters, instances and exceptions.

Each provider translates its client library's exceptions into the
:class:`ProviderError` family at its border, so the engine and the GUI speak one
language.
"""

from __future__ import annotations

import functools
import random
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import TypeVar

from calsync_desktop.model import (
    MyResponse,
    Organizer,
    Participant,
    Recurrence,
    ShowAs,
    one_per_address,
)
from calsync_desktop.providers.kit.rrule import repetition_problem

T = TypeVar("T")

# --------------------------------------------------------------------------- errors


class ProviderError(Exception):
    """Something the calendar service did not do. ``str()`` is a plain sentence
    fit to show a user; it never contains a secret or private contents."""

    #: whether trying the same thing later may work
    transient = False
    #: what to do, when the error knows better than its kind's usual advice
    #: (:func:`~calsync_desktop.sync.runner.explain`); empty: that advice
    fix = ""


class NotFound(ProviderError):
    """The event does not exist (any more)."""


class ChangedMeanwhile(ProviderError):
    """The event changed since it was read (HTTP 412, ErrorIrresolvableConflict,
    a stale change key). Fetch, merge and try again; never overwrite."""


class AlreadyExists(ProviderError):
    """An event with the client-chosen id or the same local id exists already."""

    def __init__(self, message: str, remote_id: str | None = None):
        super().__init__(message)
        self.remote_id = remote_id


class RateLimited(ProviderError):
    """The service asks us to slow down (429, 403 rateLimitExceeded,
    ErrorServerBusy, 503). ``retry_after`` is the wait it asked for, in seconds."""

    transient = True

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class NeedsSignIn(ProviderError):
    """The stored credentials were refused: expired, revoked or a changed
    password (RefreshError / invalid_grant, EWS 401, interaction_required).
    The account pauses until the user signs in again; nothing is deleted."""


class BadCredentials(NeedsSignIn):
    """The credentials typed into the setup were refused. ``fix`` when the
    service has its own advice (CalDAV's app passwords); else the article's,
    for Exchange."""

    def __init__(self, message: str = "", fix: str = ""):
        super().__init__(message)
        self.fix = fix or self.fix


class Unreachable(ProviderError):
    """The server could not be reached (DNS, refused, dropped connection)."""

    transient = True


class TimedOut(Unreachable):
    """The server did not answer in time."""


class NotACalendarService(ProviderError):
    """The URL answers, but not as the expected service (404, an HTML page)."""


class CertificateUntrusted(ProviderError):
    """The server's TLS certificate is not trusted. The fix is a CA bundle in
    Settings › Advanced, never switching verification off."""


class SyncStateExpired(ProviderError):
    """The sync state is no longer valid (Google 410, ErrorInvalidSyncStateData,
    an expired delta link): list everything again."""


class MalformedResponse(ProviderError):
    """The service answered something that could not be understood."""

    transient = True


class InvalidEvent(ProviderError):
    """The service refused one event as invalid (HTTP 400 and the like)."""


class UnsupportedRecurrence(InvalidEvent):
    """A recurrence rule the service cannot hold (hourly, several positions in
    a month, …); ``str()`` says why in the service's name."""


class ReadOnlyEvent(ProviderError):
    """The service lets only the organiser change this event: the user is a
    guest of a meeting whose organiser does not let guests modify it."""


class ServerError(ProviderError):
    """The service failed (5xx) in a way that may pass."""

    transient = True


class Cancelled(Exception):
    """The user stopped the work (:attr:`Backoff.stop`): not the service's
    failure, so no :class:`ProviderError`; nothing was written."""


# --------------------------------------------------------------------------- data


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """The span a sync looks at: ``start`` is 30 days ago, ``end`` the future horizon."""

    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class CalendarInfo:
    """A calendar of the account the user may choose to sync."""

    id: str
    name: str
    primary: bool = False
    can_write: bool = True


@dataclass(frozen=True, slots=True)
class RemoteEvent:
    """An event as the service has it, mapped to neutral fields.

    ``body`` is the service's body text; ``body_is_html`` tells whether it is
    HTML (the engine converts HTML to plain text). ``attendees`` carry the
    invite statuses the service reports. ``organizer_is_self`` is False for a
    meeting someone else organises; ``organizer`` then names who does, and
    ``my_response`` is the user's own answer to it. ``cancelled`` marks a
    meeting its organiser cancelled (it is deleted locally). ``show_as`` is
    the event's availability, ``join_url`` its online meeting's link ("" for
    none).
    """

    remote_id: str
    version: str
    subject: str
    start: datetime
    end: datetime
    timezone: str = "UTC"
    body: str = ""
    body_is_html: bool = False
    location: str = ""
    all_day: bool = False
    private: bool = False
    attendees: tuple[Participant, ...] = ()
    recurrence: Recurrence | None = None
    local_id: str | None = None
    ical_uid: str | None = None
    last_modified: datetime | None = None
    organizer_is_self: bool = True
    cancelled: bool = False
    #: the organiser lets guests change the meeting itself (Google ``guestsCanModify``)
    guests_can_modify: bool = False
    show_as: ShowAs = ShowAs.BUSY
    join_url: str = ""
    organizer: Organizer | None = None
    my_response: MyResponse = MyResponse.NONE
    #: the remote id of the series this series was split off ("this and
    #: following"), where the service says so (Google names the new series
    #: ``<old id>_R<cut>``); None when it does not
    split_from: str | None = None

    def __post_init__(self) -> None:
        # one attendee per address (letter case aside), whatever the service lists
        object.__setattr__(self, "attendees", one_per_address(tuple(self.attendees)))


def overlaps(event: RemoteEvent, window: TimeWindow) -> bool:
    """Whether any occurrence of ``event`` (a moved one included) overlaps ``window``;
    True for a rule that cannot be expanded (the engine decides about it)."""
    if event.recurrence is None:
        return event.start < window.end and event.end > window.start
    if repetition_problem(event.recurrence.rrule):
        return True  # not expanded: the engine lists it as skipped, with the reason
    try:
        last = event.recurrence.last_start(event.start, event.timezone or "UTC")
    except (ValueError, TypeError):
        return True
    end = None if last is None else last + (event.end - event.start)
    for override in event.recurrence.overrides:
        end = max(end, override.end) if end is not None else None
    return event.start < window.end and (end is None or end > window.start)


@dataclass(frozen=True, slots=True)
class EventDraft:
    """What calsync wants an event to be. Bodies are sent as plain text."""

    local_id: str
    subject: str
    body: str
    location: str
    start: datetime
    end: datetime
    timezone: str
    private: bool
    attendees: tuple[Participant, ...] = ()
    recurrence: Recurrence | None = None
    show_as: ShowAs = ShowAs.BUSY

    def __post_init__(self) -> None:
        object.__setattr__(self, "attendees", one_per_address(tuple(self.attendees)))


@dataclass(frozen=True, slots=True)
class ChangeSet:
    """What :meth:`CalendarProvider.changes` found.

    ``complete`` is True for a full listing: then ``events`` holds every live
    event overlapping the window, and an event missing from it was deleted or
    moved out of the window (the engine asks :meth:`CalendarProvider.get` to
    tell which). ``deleted`` lists remote ids the service reported deleted.
    ``unreadable``: events the service sent that could not be read (an
    impossible date, a value of the wrong kind); they are neither changed nor
    deleted, and the next listing reads them again.
    ``declined``: the iCalendar UIDs of meetings someone else organises that the
    user declined on the service itself (in Outlook), which took them off the
    calendar: Exchange and Office 365 move a declined meeting to Deleted Items,
    so the listing reports it deleted. The Sales Calendar keeps such a meeting,
    declined (SPEC §10).
    """

    events: list[RemoteEvent]
    deleted: list[str]
    state: str | None
    complete: bool
    unreadable: list[Unreadable] = field(default_factory=list)
    declined: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Unreadable:
    """An event a service sent that could not be read, and the reason in words."""

    remote_id: str
    reason: str


# Field names an Update may carry in ``fields``; providers patch only these.
FIELDS = ("subject", "body", "location", "time", "private", "attendees", "recurrence", "show_as")


@dataclass(frozen=True, slots=True)
class Create:
    draft: EventDraft
    send_invitations: bool = False


@dataclass(frozen=True, slots=True)
class Update:
    remote_id: str
    version: str
    draft: EventDraft
    fields: frozenset[str]
    send_invitations: bool = False


@dataclass(frozen=True, slots=True)
class Delete:
    remote_id: str
    version: str
    send_invitations: bool = False


@dataclass(frozen=True, slots=True)
class Respond:
    """The user's answer to a meeting someone else organises, sent as a
    response, never as an edit of the meeting (SPEC §10): Google the attendee's
    own ``responseStatus``; Graph ``/accept``, ``/tentativelyAccept``,
    ``/decline``; EWS ``AcceptItem``, ``TentativelyAcceptItem``, ``DeclineItem``.

    ``own_copy``, when given, is an :class:`Update` of what the attendee may set
    on their own copy (show-as), written first. The result's event is the
    meeting after the answer, or None when the service took it off the calendar
    (Exchange and Office 365 move a declined meeting to Deleted Items). An
    answer to one's own appointment is refused with :class:`InvalidEvent`.
    ``send_invitations``: the organiser is told of the answer."""

    remote_id: str
    version: str
    response: MyResponse
    own_copy: Update | None = None
    send_invitations: bool = True


Write = Create | Update | Delete | Respond


@dataclass(frozen=True, slots=True)
class WriteResult:
    """The outcome of one write: the event as it is now (None after a delete),
    or the error that write met. One failed write never fails the others."""

    write: Write
    event: RemoteEvent | None = None
    error: ProviderError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


# --------------------------------------------------------------------------- interface


class CalendarProvider(ABC):
    """One calendar on one account of a calendar service.

    Implementations keep their service's limits inside: paging, batch sizes
    (Google 50, EWS 100, Graph 20), conditional writes and retries of
    rate-limit answers through :class:`Backoff`.
    """

    #: "google", "exchange", "office365", "memory"
    kind: str = ""

    #: Whether an incremental listing reports the deletion of an event created
    #: after the sync state it starts from. Google's syncToken and Graph's delta
    #: do; Exchange's SyncFolderItems does not, so after creating events the
    #: engine moves the state past its own writes.
    reports_deleted_new_events: bool = True

    #: The show-as values the service cannot hold, and the one it holds instead
    #: (Google has no "tentative": it keeps such an event busy). The merge
    #: compares what the service holds, so such a value is not pushed again.
    show_as_kept: Mapping[ShowAs, ShowAs] = MappingProxyType({})

    #: How many writes the service takes in one request. The engine hands
    #: :meth:`write` at most this many at a time and commits their links right
    #: after, so a crash loses at most one batch's links (SPEC §4, Faults).
    write_batch_size: int = 100

    @abstractmethod
    def account_email(self) -> str:
        """The signed-in account's email address (one request at most)."""

    @abstractmethod
    def list_calendars(self) -> list[CalendarInfo]:
        """The calendars the account may sync."""

    @abstractmethod
    def changes(
        self, window: TimeWindow, state: str | None, *, local_ids: bool = True
    ) -> ChangeSet:
        """Events changed since ``state``, or all events overlapping ``window``
        when ``state`` is None. Raises :class:`SyncStateExpired` when the state
        is no longer accepted. A call with nothing changed costs one request.

        ``local_ids=False`` tells a full listing that the local id calsync
        stamped on each event is not needed (the Sales Calendar holds nothing
        such an id could link: no appointment, no link and no tombstone of the
        account); a provider that reads the ids in a pass of their own (Graph:
        delta takes no ``$expand``) skips that pass. Every other listing
        carries them as usual."""

    @abstractmethod
    def get(self, remote_id: str) -> RemoteEvent:
        """One event; :class:`NotFound` when it is gone."""

    @abstractmethod
    def write(self, writes: Sequence[Write]) -> list[WriteResult]:
        """Apply writes in as few requests as the service allows, one result
        per write in the same order. A stale version gives that write a
        :class:`ChangedMeanwhile`; creating an event whose local id is already
        on the calendar gives :class:`AlreadyExists` with its remote id."""

    def find_by_local_id(self, local_id: str) -> RemoteEvent | None:
        """The event carrying ``local_id``, if any (used to repair after a crash)."""
        return None

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""

    def stop_when(self, stop: threading.Event | None) -> None:
        """Stop every further request once ``stop`` is set (:attr:`Backoff.stop`):
        a user's Cancel that really ends the work, between requests."""
        backoff = getattr(self, "backoff", None)
        if isinstance(backoff, Backoff):
            backoff.stop = stop


# --------------------------------------------------------------------------- retries


@dataclass
class Backoff:
    """Retries transient failures with exponential backoff and full jitter,
    honouring the wait the service asked for, within a bounded total wait.

    ``sleep`` and ``rand`` are injected so tests run without waiting.
    ``stop``, once set, ends the work: the next request, or the wait before a
    retry the moment it is set, raises :class:`Cancelled` (every request of a
    provider goes through :meth:`run`, so it stops between a listing's pages);
    but not inside :meth:`finishing`, where a batch of writes runs to its end.
    """

    base: float = 1.0
    cap: float = 60.0
    max_total_wait: float = 300.0
    max_attempts: int = 8
    sleep: Callable[[float], None] = time.sleep
    rand: Callable[[], float] = random.random
    waits: list[float] = field(default_factory=list)
    stop: threading.Event | None = None
    _finishing: int = field(default=0, repr=False, compare=False)

    def check(self) -> None:
        """Raise :class:`Cancelled` when :attr:`stop` is set (not while :meth:`finishing`)."""
        if self.stop is not None and self.stop.is_set() and not self._finishing:
            raise Cancelled("Stopped.")

    def pause(self, seconds: float) -> None:
        """Wait before a retry; ends early, with :class:`Cancelled`, on :attr:`stop`
        (while :meth:`finishing`, it waits its time)."""
        if self.stop is None or self._finishing:
            self.sleep(seconds)
        elif self.stop.wait(seconds):
            raise Cancelled("Stopped.")

    @contextmanager
    def finishing(self) -> Iterator[None]:
        """Work that, once begun, runs to its end: a stop set before it raises
        :class:`Cancelled` at once (nothing is sent); one set meanwhile waits
        until the next request after it. A batch of writes is such work: the
        service may have applied some of it already, and what it answered must
        come back to be recorded (a Cancel between two of its requests would
        lose those answers, and the next sync would not know the events)."""
        self.check()
        self._finishing += 1
        try:
            yield
        finally:
            self._finishing -= 1

    def delay(self, attempt: int, error: ProviderError) -> float:
        asked = getattr(error, "retry_after", None)
        computed = min(self.cap, self.base * (2**attempt)) * self.rand()
        return max(asked, computed) if asked is not None else computed

    def run(self, call: Callable[[], T]) -> T:
        waited = 0.0
        attempt = 0
        while True:
            self.check()
            try:
                return call()
            except (RateLimited, ServerError) as error:
                attempt += 1
                wait = self.delay(attempt - 1, error)
                if attempt >= self.max_attempts or waited + wait > self.max_total_wait:
                    raise
                self.waits.append(wait)
                waited += wait
                self.pause(wait)


def whole_batch(write: Callable[..., list[WriteResult]]) -> Callable[..., list[WriteResult]]:
    """A provider's :meth:`CalendarProvider.write` that runs to its end once it
    has begun, whatever a stop says meanwhile (:meth:`Backoff.finishing`):
    every write the service answered comes back. A stop set before it raises
    :class:`Cancelled` with nothing sent."""

    @functools.wraps(write)
    def run(self, writes: Sequence[Write]) -> list[WriteResult]:
        backoff = getattr(self, "backoff", None)
        if not isinstance(backoff, Backoff):
            return write(self, writes)
        with backoff.finishing():
            return write(self, writes)

    return run
