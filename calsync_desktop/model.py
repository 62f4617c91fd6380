"""The Sales Calendar's vocabulary: plain dataclasses, no I/O.

Times are always time-zone aware. An appointment keeps the UTC instant of its
start and end plus the IANA zone name it was made in, so that a 09:00 meeting
in Europe/Berlin stays a 09:00 meeting across daylight-saving changes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import rrulestr

import calsync_desktop.providers.kit.rrule as rules

MAX_CONTENTS = 100_000
"""Longest contents the Sales Calendar accepts (characters)."""


class InvalidAppointment(ValueError):
    """An appointment that cannot be stored as given; the message says why."""


class InviteStatus(StrEnum):
    """A participant's answer to the invitation."""

    NO_RESPONSE = "no_response"
    ACCEPTED = "accepted"
    TENTATIVE = "tentative"
    DECLINED = "declined"


class ShowAs(StrEnum):
    """How an appointment counts in the owner's availability (SPEC §10)."""

    FREE = "free"
    TENTATIVE = "tentative"
    BUSY = "busy"
    OUT_OF_OFFICE = "oof"
    WORKING_ELSEWHERE = "workingElsewhere"

    @property
    def label(self) -> str:
        """The name a person reads ("Out of office")."""
        return _SHOW_AS_LABELS[self]

    @classmethod
    def parse(cls, text: str) -> ShowAs:
        """A show-as from its value or its label, spaces, hyphens and case aside
        ("oof", "out of office", "working-elsewhere"); InvalidAppointment names
        the ones there are."""

        def key(name: str) -> str:
            return "".join(c for c in name.lower() if c.isalnum())

        for value in cls:
            if key(text) in (key(value), key(value.label)):
                return value
        names = ", ".join(v.label.lower() for v in cls)
        raise InvalidAppointment(f"Unknown show-as {text!r}: it is one of {names}.")


_SHOW_AS_LABELS = {
    ShowAs.FREE: "Free",
    ShowAs.TENTATIVE: "Tentative",
    ShowAs.BUSY: "Busy",
    ShowAs.OUT_OF_OFFICE: "Out of office",
    ShowAs.WORKING_ELSEWHERE: "Working elsewhere",
}


class MyResponse(StrEnum):
    """The user's own answer to a meeting someone else organises (SPEC §10)."""

    NONE = "none"
    ACCEPTED = "accepted"
    TENTATIVE = "tentative"
    DECLINED = "declined"


@dataclass(frozen=True, slots=True)
class Organizer:
    """Who organises a meeting (an address, a display name, either may be empty),
    and whether they let the guests change the meeting itself (Google's
    ``guestsCanModify``; no other service has such a setting)."""

    name: str = ""
    email: str = ""
    guests_can_modify: bool = False

    @property
    def shown(self) -> str:
        """How the organiser is named to a person: "Name <email>", or either alone."""
        if self.name and self.email:
            return f"{self.name} <{self.email}>"
        return self.name or self.email


@dataclass(frozen=True, slots=True)
class Participant:
    """Someone invited to an appointment. Without an email they cannot be synced."""

    name: str
    email: str | None = None
    status: InviteStatus = InviteStatus.NO_RESPONSE

    @property
    def key(self) -> str | None:
        """The matching key: the email, case-insensitively."""
        return self.email.strip().lower() if self.email else None


def one_per_address(people: tuple[Participant, ...]) -> tuple[Participant, ...]:
    """``people`` with one participant per email address, addresses compared
    case-insensitively (RFC 5321 §2.4: in practice mailboxes are): the first
    spelling is kept, with the first name and the first answer any of them has.
    People without an address are all kept, in their places."""
    if len(people) < 2:
        return people
    keys = [p.key for p in people]
    addressed = [k for k in keys if k]
    if len(set(addressed)) == len(addressed):
        return people
    merged: dict[str, Participant] = {}
    for p, key in zip(people, keys, strict=True):
        if key is None:
            continue
        first = merged.get(key)
        if first is None:
            merged[key] = p
            continue
        merged[key] = Participant(
            first.name or p.name,
            first.email,
            p.status if first.status is InviteStatus.NO_RESPONSE else first.status,
        )
    out = []
    for p, key in zip(people, keys, strict=True):
        if key is None:
            out.append(p)
        elif key in merged:
            out.append(merged.pop(key))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class OccurrenceOverride:
    """One occurrence of a series that was moved or edited.

    ``original_start`` (UTC) names the occurrence as the rule generates it.
    """

    original_start: datetime
    contents: str
    location: str
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class Recurrence:
    """An RFC 5545 rule (without the ``RRULE:`` prefix), deleted occurrences and overrides."""

    rrule: str
    exdates: tuple[datetime, ...] = ()
    overrides: tuple[OccurrenceOverride, ...] = ()

    def rule_set(self, dtstart: datetime, tz: str):
        """The dateutil rule for a series starting at ``dtstart``, in zone ``tz``."""
        return rules.rule_set(self.rrule, dtstart, tz)

    def last_start(self, dtstart: datetime, tz: str) -> datetime | None:
        """Start of the last occurrence, or None for a series without an end."""
        return rules.last_start(self.rrule, dtstart, tz)


@dataclass(frozen=True, slots=True)
class Appointment:
    """One entry of the Sales Calendar.

    ``ical_uid`` is the iCalendar UID of the event the appointment was first
    synced with (imported from or exported to a calendar, or the event a first
    sync linked it to): identity, not contents. It stays when the account
    goes, so that the appointment is recognised when that calendar is
    connected again.

    Availability and meetings (SPEC §10): ``show_as`` syncs both ways;
    ``join_url`` (the online meeting's link), ``organizer`` (set only for a
    meeting someone other than the user organises; None for the user's own
    appointments) and ``my_response`` (the user's answer to such a meeting)
    come from the service.
    """

    id: str
    contents: str
    start: datetime
    end: datetime
    timezone: str = "UTC"
    location: str = ""
    all_day: bool = False
    private: bool = False
    participants: tuple[Participant, ...] = ()
    recurrence: Recurrence | None = None
    created: datetime = field(default_factory=lambda: datetime.now(UTC))
    modified: datetime = field(default_factory=lambda: datetime.now(UTC))
    account_id: str | None = None
    ical_uid: str | None = None
    show_as: ShowAs = ShowAs.BUSY
    join_url: str = ""
    organizer: Organizer | None = None
    my_response: MyResponse = MyResponse.NONE

    def __post_init__(self) -> None:
        # one participant per address, whoever made the appointment
        object.__setattr__(self, "participants", one_per_address(tuple(self.participants)))

    @property
    def title(self) -> str:
        """The first line of the contents: what a calendar shows."""
        return self.contents.split("\n", 1)[0]

    @property
    def organised_by_someone_else(self) -> bool:
        """A meeting another person organises (read-only but for the user's own copy)."""
        return self.organizer is not None

    def with_changes(self, **changes) -> Appointment:
        return replace(self, **changes)

    def last_end(self) -> datetime | None:
        """End of the last occurrence (the appointment itself when not recurring).

        None for a series that never ends.
        """
        if self.recurrence is None:
            return self.end
        last = self.recurrence.last_start(self.start, self.timezone)
        if last is None:
            return None
        latest = last + (self.end - self.start)
        for override in self.recurrence.overrides:
            latest = max(latest, override.end)
        return latest


_VARIANT = "89ab"


def new_id() -> str:
    """A random (version 4) UUID as text, the form ``str(uuid.uuid4())`` has;
    built from the bytes directly, at a third of its cost (a first sync makes
    one per event)."""
    h = os.urandom(16).hex()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"


def validate_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidAppointment(f"Unknown time zone {name!r}.") from exc


def validate_rrule(rule: str, start: datetime, tz: str) -> None:
    """A rule calendar services accept: daily to yearly, every 1 or more days,
    weeks, months or years, at most 999 occurrences, and at least one (a series
    without any would be in no list and no view)."""
    parts = rules.rule_parts(rule)
    if parts.get("FREQ") not in rules.FREQUENCIES:
        raise InvalidAppointment(
            f"Invalid recurrence rule {rule!r}: it must repeat daily, weekly, monthly or yearly."
        )
    if parts.get("COUNT", "0").isdigit() and int(parts.get("COUNT", "0")) > rules.MAX_COUNT:
        raise InvalidAppointment(
            f"Invalid recurrence rule {rule!r}: at most {rules.MAX_COUNT} occurrences."
        )
    if not rules.interval_ok(parts):
        raise InvalidAppointment(
            f"Invalid recurrence rule {rule!r}: INTERVAL must be a whole number, 1 or more."
        )
    try:
        expanded = rrulestr("RRULE:" + rule, dtstart=start.astimezone(ZoneInfo(tz)))
    except (ValueError, TypeError) as exc:
        if "UNTIL" in str(exc) and "UTC" in str(exc):  # dateutil's words for a local UNTIL
            raise InvalidAppointment(_local_until(rule, tz)) from exc
        raise InvalidAppointment(f"Invalid recurrence rule {rule!r}: {exc}") from exc
    if not rules.has_occurrence(expanded):
        raise InvalidAppointment(
            f"Invalid recurrence rule {rule!r}: it has no occurrence from the start on"
            " (look at its COUNT, UNTIL and BY… parts)."
        )


def _local_until(rule: str, tz: str) -> str:
    """What to write instead of an UNTIL without a Z (RFC 5545 wants UTC there)."""
    reason = f"Invalid recurrence rule {rule!r}: give UNTIL in UTC"
    try:
        instant = rules.until_instant(rules.rule_parts(rule)["UNTIL"], tz).astimezone(UTC)
    except (KeyError, ValueError):
        return f"{reason}, such as UNTIL=20261130T080000Z."
    return f"{reason}, here UNTIL={instant:%Y%m%dT%H%M%SZ}."


def validate(appointment: Appointment) -> Appointment:
    """Check an appointment before it is stored; raise InvalidAppointment with a clear reason."""
    a = appointment
    validate_zone(a.timezone)
    for name in ("start", "end", "created", "modified"):
        value = getattr(a, name)
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise InvalidAppointment(f"The {name} time must include a time zone.")
    if a.end < a.start:
        raise InvalidAppointment("The appointment ends before it starts.")
    if len(a.contents) > MAX_CONTENTS:
        raise InvalidAppointment(
            f"The contents are too long ({len(a.contents):,} characters; at most {MAX_CONTENTS:,})."
        )
    if "\x00" in a.contents or "\x00" in a.location:
        raise InvalidAppointment("The contents contain a NUL character.")
    if not isinstance(a.show_as, ShowAs):
        raise InvalidAppointment(f"Unknown show-as {a.show_as!r}.")
    if a.join_url and not a.join_url.lower().startswith(("https://", "http://")):
        raise InvalidAppointment("A join link must be a web address (https://…).")
    if a.recurrence is not None:
        validate_rrule(a.recurrence.rrule, a.start, a.timezone)
        for override in a.recurrence.overrides:
            if override.end < override.start:
                raise InvalidAppointment("An occurrence ends before it starts.")
    return a


def utc(value: datetime) -> datetime:
    """The same instant in UTC; rejects naive datetimes."""
    if value.tzinfo is None:
        raise InvalidAppointment("A time without a time zone cannot be placed.")
    return value.astimezone(UTC)


ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One appearance of an appointment on the calendar: a single appointment,
    or one occurrence of a series with its override applied."""

    appointment: Appointment
    start: datetime
    end: datetime
    contents: str
    location: str
    original_start: datetime | None = None

    @property
    def private(self) -> bool:
        return self.appointment.private

    @property
    def title(self) -> str:
        return self.contents.split("\n", 1)[0]


JOIN_LEAD = timedelta(minutes=10)
"""How long before its start an online meeting offers "Join"."""


def can_join(join_url: str, start: datetime, end: datetime, now: datetime) -> bool:
    """Whether "Join" is offered now for a meeting with ``join_url`` from
    ``start`` to ``end``: from ten minutes before the start until the end."""
    return bool(join_url) and start - JOIN_LEAD <= now < end


def occurrences(appointment: Appointment, start: datetime, end: datetime) -> list[Occurrence]:
    """The appearances of ``appointment`` that overlap [start, end)."""
    a = appointment
    if a.recurrence is None:
        if a.start < end and a.end > start:
            return [Occurrence(a, a.start, a.end, a.contents, a.location)]
        return []
    duration = a.end - a.start
    rule = a.recurrence.rule_set(a.start, a.timezone)
    excluded = {utc(x) for x in a.recurrence.exdates}
    overrides = {utc(o.original_start): o for o in a.recurrence.overrides}
    out: list[Occurrence] = []
    # occurrences starting before the window may still reach into it
    for local_start in rule.between(start - duration - ONE_DAY, end, inc=True):
        original = local_start.astimezone(UTC)
        if original in excluded:
            continue
        override = overrides.get(original)
        if override is not None:
            occ = Occurrence(
                a, override.start, override.end, override.contents, override.location, original
            )
        else:
            occ = Occurrence(a, original, original + duration, a.contents, a.location, original)
        if occ.start < end and occ.end > start:
            out.append(occ)
    # overrides moved into the window from an occurrence outside it
    seen = {o.original_start for o in out}
    for original, override in overrides.items():
        visible = override.start < end and override.end > start
        if original not in seen and original not in excluded and visible:
            out.append(
                Occurrence(
                    a,
                    override.start,
                    override.end,
                    override.contents,
                    override.location,
                    original,
                )
            )
    return sorted(out, key=lambda o: o.start)
