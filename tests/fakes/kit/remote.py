"""One vocabulary for what a test does to a calendar service.

Every test server (and, for services that exist as real software, a real
server behind :class:`~tests.fakes.kit.proxy.FaultProxy`) is a
:class:`RemoteCalendar`. The contract suites (``tests/providers/contract.py``,
``tests/sync/e2e_contract.py``) speak only this vocabulary, so one test runs
unchanged against every service; each server translates it into its own wire
format and keeps nothing else.

The words:

- an *event* is a single event or a series master, named by the service's own
  id (``remote_id``); an *occurrence* of a series is named by its master and its
  original start (an aware datetime);
- *changes* name neutral fields: ``subject``, ``body`` (with ``html=True`` when
  it is HTML), ``location``, ``start``, ``end``, ``sensitivity`` (one of
  :data:`SENSITIVITIES`) or ``private`` (a bool: ``"private"`` or ``"normal"``),
  ``show_as`` (one of :data:`SHOW_AS`, the values of the product's ``ShowAs``;
  a service that keeps a show-as in an event's type, Google's out of office,
  refuses to change it as the service does);
- a new event may also carry ``join_url``: its online meeting's link in the
  service's own field for it (a conference, an online meeting);
- a *response* is an attendee's answer, one of :data:`RESPONSES` (the values of
  the product's ``InviteStatus``, so either may be passed);
- a *fault* is how the next requests fail, one of :data:`FAULT_KINDS` (a server
  may offer more kinds of its own, listed in its ``fault_kinds``).

What the vocabulary does not cover (the wire form of a raw event, service
specific faults, counting one kind of request) stays on each server under its
own name, for the tests of that one service.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime

from tests.fakes.kit.faults import FAULT_KINDS, FaultQueue

SENSITIVITIES = ("normal", "private", "confidential", "personal")
RESPONSES = ("no_response", "accepted", "tentative", "declined")
CHANGES = (
    "subject",
    "body",
    "html",
    "location",
    "start",
    "end",
    "sensitivity",
    "private",
    "show_as",
)
SHOW_AS = ("free", "tentative", "busy", "oof", "workingElsewhere")

__all__ = [
    "CHANGES",
    "FAULT_KINDS",
    "RESPONSES",
    "SENSITIVITIES",
    "SHOW_AS",
    "NewEvent",
    "RemoteCalendar",
    "SeriesEdits",
]


@dataclass(frozen=True)
class NewEvent:
    """An event another client creates. With ``organizer`` (an address other
    than the owner's) it is someone else's meeting the owner was invited to;
    ``attendees`` are ``(name or None, email)`` pairs."""

    subject: str
    start: datetime
    end: datetime
    body: str = ""
    html: bool = False
    location: str = ""
    sensitivity: str = "normal"
    attendees: tuple[tuple[str | None, str], ...] = ()
    organizer: str | None = None
    timezone: str = "UTC"
    show_as: str = "busy"
    join_url: str = ""

    def __post_init__(self) -> None:
        if self.sensitivity not in SENSITIVITIES:
            raise ValueError(f"sensitivity {self.sensitivity!r}; one of {SENSITIVITIES}")
        object.__setattr__(self, "show_as", show_as_word(self.show_as))
        if self.end < self.start:
            raise ValueError("an event ends after it starts")
        object.__setattr__(self, "attendees", tuple(self.attendees))


class RemoteCalendar(abc.ABC):
    """A calendar service as a test drives it: another client's acts, the
    service's administrator's acts, injected faults, and a look at what it holds.

    Acts of another client and looks at the state never count as requests and
    never meet an injected fault: they are not the product talking. A test that
    reads the service through a client of its own (a second provider, to see
    what the service holds in the product's terms) does so inside
    :meth:`looking`, for the same reason. ``faults`` holds what
    :meth:`fail_next` armed; the server (or proxy) takes from it for each
    request it answers, and counts a request only when :attr:`is_looking` is
    false.
    """

    faults: FaultQueue
    owner: str  # the signed-in user's address
    _looks = 0

    # -------------------------------------------------------- another client's acts

    def create_event(self, subject: str, start: datetime, end: datetime, **fields) -> str:
        """Another client creates an event; returns its id. ``fields`` are those of
        :class:`NewEvent` (body, html, location, sensitivity, attendees as
        ``(name, email)`` pairs, organizer, timezone)."""
        return self._create_event(NewEvent(subject, start, end, **fields))

    @abc.abstractmethod
    def _create_event(self, event: NewEvent) -> str:
        """Store ``event`` in the service's own form; its id."""

    @abc.abstractmethod
    def create_all_day_event(self, subject: str, day: date, days: int = 1) -> str:
        """Another client creates an all-day event of ``days`` days; returns its id."""

    @abc.abstractmethod
    def edit_event(self, remote_id: str, **changes) -> None:
        """Another client changes an event (see the module docstring for ``changes``)."""

    @abc.abstractmethod
    def delete_event(self, remote_id: str) -> None:
        """Another client deletes an event (a whole series for a master)."""

    @abc.abstractmethod
    def cancel_event(self, remote_id: str) -> None:
        """The organiser (someone else) cancels the meeting."""

    @abc.abstractmethod
    def add_attendee(self, remote_id: str, email: str, name: str | None = None) -> None:
        """Another client invites one more attendee."""

    @abc.abstractmethod
    def set_response(self, remote_id: str, email: str, response: str) -> None:
        """The attendee ``email`` (any case) answers with ``response``."""

    def decline_elsewhere(self, remote_id: str) -> None:
        """The owner declines someone else's meeting in another client (Outlook,
        the service's own web page). Google and CalDAV servers keep it on the
        calendar with the answer, as this does; Exchange and Office 365 move it
        to Deleted Items (their servers say so where they override this)."""
        self.set_response(remote_id, self.owner, "declined")

    @abc.abstractmethod
    def answer_occurrence(
        self, master_id: str, original_start: datetime, email: str, response: str
    ) -> None:
        """The attendee ``email`` (any case) answers one occurrence of a series
        only ("this event"). The service keeps that answer on the occurrence: an
        exception whose contents, place and time are the series' own."""

    @abc.abstractmethod
    def occurrence_starts(self, master_id: str) -> list[datetime]:
        """Starts of the live occurrences of a series, as the service shows them
        (a moved occurrence at its new start), in order."""

    @abc.abstractmethod
    def delete_occurrence(self, master_id: str, original_start: datetime) -> None:
        """Another client deletes one occurrence of a series."""

    @abc.abstractmethod
    def edit_occurrence(self, master_id: str, original_start: datetime, **changes) -> None:
        """Another client changes (or moves) one occurrence of a series."""

    # --------------------------------------------------------------- what it holds

    @abc.abstractmethod
    def event_ids(self) -> list[str]:
        """Ids of the live single events and series masters, oldest first."""

    @abc.abstractmethod
    def sensitivity(self, remote_id: str) -> str:
        """The event's sensitivity in neutral words (one of :data:`SENSITIVITIES`)."""

    @abc.abstractmethod
    def own_response(self, remote_id: str) -> str | None:
        """The owner's own answer to someone else's meeting as the service holds
        it (one of :data:`RESPONSES`), or None when the meeting is no longer on
        the owner's calendar (Exchange and Office 365 move a declined meeting to
        Deleted Items)."""

    @abc.abstractmethod
    def show_as(self, remote_id: str) -> str:
        """How the event shows the owner's time, in neutral words (one of :data:`SHOW_AS`)."""

    @abc.abstractmethod
    def invitations_sent(self) -> int:
        """How many invitation or update mails the service has sent so far."""

    @abc.abstractmethod
    def count_requests(self) -> int:
        """Requests to the calendar service so far (sign-in traffic not counted)."""

    # --------------------------------------------------- the administrator's acts

    @abc.abstractmethod
    def expire_sync_state(self) -> None:
        """Every sync state (token, delta link) handed out so far is refused from now on."""

    @abc.abstractmethod
    def revoke_sign_in(self) -> None:
        """The user's sign-in stops working (consent withdrawn, password changed):
        only signing in again helps."""

    @abc.abstractmethod
    def restore_sign_in(self) -> None:
        """Undo :meth:`revoke_sign_in` (the user signed in again)."""

    @contextmanager
    def looking(self) -> Iterator[None]:
        """Requests made inside are the test looking, not the product talking:
        they are not counted and meet no fault (the armed ones wait). A server
        behind a :class:`~tests.fakes.kit.proxy.FaultProxy` enters the proxy's
        :meth:`~tests.fakes.kit.proxy.FaultProxy.looking` instead."""
        self._looks += 1
        try:
            with self.faults.held():
                yield
        finally:
            self._looks -= 1

    @property
    def is_looking(self) -> bool:
        """Whether the requests now arriving are a test's look (not counted)."""
        return self._looks > 0

    # --------------------------------------------------------------------- faults

    fault_kinds: tuple[str, ...] = FAULT_KINDS

    def fail_next(
        self,
        kind: str,
        count: int = 1,
        *,
        retry_after: float | None = None,
        delay: float = 0.5,
        on: str = "request",
        path: str | None = None,
        after: int = 0,
        **hostile,
    ) -> None:
        """The next ``count`` requests fail as ``kind``.

        ``retry_after``: the wait the service names (None: the service's own
        default, or none); ``delay``: how late a ``slow`` answer comes; ``on``:
        ``"request"`` (any request), ``"write"`` (only requests that write) or
        ``"batch_part"`` (single calls inside a batch, where the service has
        batches); ``path``: only requests whose path contains it; ``after``: let
        this many matching requests through first; ``field``, ``value`` and
        ``depth`` shape a hostile answer (``tests/fakes/kit/hostile.py``).
        """
        if kind not in self.fault_kinds:
            raise ValueError(f"unknown fault {kind!r}; one of {self.fault_kinds}")
        self.faults.arm(
            kind,
            count,
            retry_after=retry_after,
            delay=delay,
            on=on,
            path=path,
            after=after,
            **hostile,
        )

    def clear_faults(self) -> None:
        """Forget the faults not used yet."""
        self.faults.clear()


class SeriesEdits(abc.ABC):
    """What another client does to a series beyond single occurrences, in the
    services that have each shape (Google, Office 365, Exchange); the tests of
    ``tests/sync/e2e_series.py`` speak these words. Each server models how its
    service stores them and cites where that is documented."""

    @abc.abstractmethod
    def create_series(
        self, subject: str, start: datetime, end: datetime, rrule: str, **fields
    ) -> str:
        """Another client creates a series (its first occurrence from ``start`` to
        ``end``, repeating by the RFC 5545 ``rrule``, without ``RRULE:``);
        ``fields`` as for :meth:`RemoteCalendar.create_event`, ``organizer`` making it
        someone else's series the owner is invited to. Returns the master's id."""

    @abc.abstractmethod
    def cancel_occurrence(self, master_id: str, original_start: datetime) -> None:
        """The organiser (someone else) cancels one occurrence of their series; the
        owner's calendar holds it as the service does."""

    @abc.abstractmethod
    def split_series(self, master_id: str, original_start: datetime, **changes) -> str:
        """Another client changes "this and following" of a series from its
        occurrence at ``original_start``, with ``changes`` (as for
        :meth:`RemoteCalendar.edit_event`): the old series ends before it and a new
        series takes the rest. Returns the new series' id."""


def neutral_changes(changes: dict) -> dict:
    """``changes`` checked against the vocabulary, ``private`` turned into ``sensitivity``."""
    unknown = set(changes) - set(CHANGES)
    if unknown:
        raise ValueError(f"cannot change {sorted(unknown)}; one of {CHANGES}")
    out = dict(changes)
    if "private" in out:
        out["sensitivity"] = "private" if out.pop("private") else "normal"
    if out.get("sensitivity", "normal") not in SENSITIVITIES:
        raise ValueError(f"sensitivity {out['sensitivity']!r}; one of {SENSITIVITIES}")
    if "show_as" in out:
        out["show_as"] = show_as_word(out["show_as"])
    return out


def show_as_word(value) -> str:
    """A neutral show-as (or the product's ``ShowAs``), checked."""
    value = getattr(value, "value", value)
    if value not in SHOW_AS:
        raise ValueError(f"show_as {value!r}; one of {SHOW_AS}")
    return value


def response_word(response: str, words: dict[str, str]) -> str:
    """A neutral response (or an InviteStatus) in the service's words."""
    value = getattr(response, "value", response)
    if value not in RESPONSES:
        raise ValueError(f"response {value!r}; one of {RESPONSES}")
    return words[value]
