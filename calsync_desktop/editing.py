"""Rules for editing appointments, below both the command line and the window.

Whatever a person edits with (``calsync appointments edit``, the appointment
dialog), the same rules decide what the edit means for the rest of the
appointment:

- A series keeps its deleted and changed occurrences when it moves: they are
  named by their original start, so those names move by the same wall-clock
  step as the series (:func:`move_series`).
- A new repeat rule starts the series afresh: exceptions made for the old rule
  no longer name occurrences of the new one (:func:`edit_recurrence`).
- An occurrence is named by its start, or by its day
  (:func:`occurrence_named`).
- Listing a participant again keeps the answer they already gave
  (:func:`keep_answers`).

Plain functions on :mod:`calsync_desktop.model` values: no I/O, no Qt.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from calsync_desktop.model import (
    Appointment,
    InviteStatus,
    OccurrenceOverride,
    Participant,
    Recurrence,
)


def _wall(value: datetime, zone: ZoneInfo) -> datetime:
    return value.astimezone(zone).replace(tzinfo=None)


def move_series(
    old: Appointment, start: datetime, zone: ZoneInfo | str | None = None
) -> Recurrence:
    """The recurrence of ``old`` once its series starts at ``start`` (in ``zone``,
    default its own).

    Deleted occurrences and changed occurrences are named by their original
    start; those names move by the wall-clock step between the old and the new
    start, so a 09:00 series moved to 10:00 keeps its exceptions at 10:00 on
    both sides of a daylight-saving change. A changed occurrence keeps its own
    time: it was moved on purpose.
    """
    if old.recurrence is None:
        raise ValueError("Only a repeating appointment has a series to move.")
    old_zone = ZoneInfo(old.timezone)
    new_zone = ZoneInfo(zone) if isinstance(zone, str) else (zone or old_zone)
    step = _wall(start, new_zone) - _wall(old.start, old_zone)

    def move(value: datetime) -> datetime:
        return (_wall(value, old_zone) + step).replace(tzinfo=new_zone).astimezone(UTC)

    recurrence = old.recurrence
    return Recurrence(
        recurrence.rrule,
        tuple(move(x) for x in recurrence.exdates),
        tuple(
            OccurrenceOverride(move(o.original_start), o.contents, o.location, o.start, o.end)
            for o in recurrence.overrides
        ),
    )


def edit_recurrence(
    old: Appointment, rule: str | None, start: datetime, zone: ZoneInfo | str | None = None
) -> Recurrence | None:
    """The recurrence after an edit that sets the repeat rule to ``rule`` (None or
    empty: does not repeat) and the start to ``start`` (in ``zone``).

    The same rule keeps the series' exceptions, moved with the series when the
    start changed; another rule starts afresh without them.
    """
    rule = (rule or "").strip()
    if rule.upper().startswith("RRULE:"):
        rule = rule[len("RRULE:") :]
    if not rule:
        return None
    if old.recurrence is None or old.recurrence.rrule != rule:
        return Recurrence(rule)
    zone_name = zone if isinstance(zone, str) else (zone.key if zone else old.timezone)
    if start == old.start and zone_name == old.timezone:
        return old.recurrence
    return move_series(old, start, zone)


def occurrence_named(
    recurrence: Recurrence, series_start: datetime, tz: str, moment: datetime, whole_day: bool
) -> datetime | None:
    """The original start (UTC) of the occurrence named by ``moment``: the one
    starting then, or with ``whole_day`` the first one on that day in ``tz``.
    None when the series has no such occurrence."""
    zone = ZoneInfo(tz)
    rules = recurrence.rule_set(series_start, tz)
    if whole_day:
        day: date = moment.astimezone(zone).date()
        first = datetime.combine(day, time(0), tzinfo=zone)
        hits = rules.between(first, datetime.combine(day + timedelta(1), time(0), tzinfo=zone))
    else:
        second = timedelta(seconds=1)
        hits = rules.between(moment - second, moment + second)
    return hits[0].astimezone(UTC) if hits else None


def leave_out(recurrence: Recurrence, originals: Iterable[datetime]) -> Recurrence:
    """The series without the occurrences whose original starts are given."""
    return Recurrence(
        recurrence.rrule,
        tuple(sorted(set(recurrence.exdates) | {x.astimezone(UTC) for x in originals})),
        recurrence.overrides,
    )


def keep_answers(
    participants: Iterable[Participant], old: Iterable[Participant] = ()
) -> tuple[Participant, ...]:
    """``participants`` with the answers the same people (by email) already gave;
    new people have not answered yet."""
    known = {p.key: p.status for p in old if p.key}
    return tuple(
        Participant(p.name, p.email, known.get(p.key, InviteStatus.NO_RESPONSE))
        for p in participants
    )
