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
- Contents are the title, a newline and the notes (:func:`title_and_notes`,
  :func:`contents_of`).
- One occurrence of a series is changed alone as an override, deleted alone
  as an EXDATE; only its title, notes, location and time can differ from the
  series (:func:`change_occurrence`, :func:`delete_occurrence`,
  :func:`series_only_changes`). Changing "all in the series" from one of its
  occurrences moves the series by the step that occurrence moved
  (:func:`change_series_from`).

Plain functions on :mod:`calsync_desktop.model` values: no I/O, no Qt.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from calsync_desktop.model import (
    Appointment,
    InviteStatus,
    OccurrenceOverride,
    Participant,
    Recurrence,
    ShowAs,
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


# --------------------------------------------------------------------------- title and notes


def title_and_notes(contents: str) -> tuple[str, str]:
    """The title (the first line of the contents) and the notes (the rest)."""
    title, _, notes = contents.partition("\n")
    return title, notes


def contents_of(title: str, notes: str) -> str:
    """Contents from a title and notes: the title, a newline and the notes (SPEC
    §4). A title pasted with line breaks stays one line; empty notes add nothing."""
    title = " ".join(title.split())
    notes = notes.strip("\n").rstrip()
    return f"{title}\n{notes}" if notes.strip() else title


# --------------------------------------------------------------------------- one occurrence


@dataclass(frozen=True)
class Edit:
    """What a person set for an appointment (in the dialog, say), before it is
    applied to the appointment, to one occurrence or to a whole series.

    ``rule`` is the repeat rule (None: does not repeat); times are aware."""

    contents: str
    location: str
    start: datetime
    end: datetime
    all_day: bool = False
    private: bool = False
    participants: tuple[Participant, ...] = ()
    rule: str | None = None
    account_id: str | None = None
    show_as: ShowAs | None = None
    """None: as the appointment has it."""


SERIES_FIELDS = ("all day", "private", "show as", "participants", "repeat", "calendar account")
"""What belongs to a whole series: one occurrence cannot differ in these."""


def _participant_keys(people: Iterable[Participant]) -> list[tuple[str, str | None]]:
    return sorted((p.name, p.key) for p in people)


def series_only_changes(series: Appointment, edit: Edit) -> list[str]:
    """The changes in ``edit`` that only a whole series can take, in a person's
    words ("participants", "repeat"): with any, "only this appointment" is not
    possible."""
    rule = series.recurrence.rrule if series.recurrence else None
    changed = {
        "all day": edit.all_day != series.all_day,
        "private": edit.private != series.private,
        "show as": edit.show_as is not None and edit.show_as != series.show_as,
        "participants": _participant_keys(edit.participants)
        != _participant_keys(series.participants),
        "repeat": (edit.rule or None) != rule,
        "calendar account": edit.account_id != series.account_id,
    }
    return [name for name in SERIES_FIELDS if changed[name]]


def _without_override(recurrence: Recurrence, original: datetime) -> Recurrence:
    original = original.astimezone(UTC)
    return replace(
        recurrence,
        overrides=tuple(o for o in recurrence.overrides if o.original_start != original),
    )


def change_occurrence(series: Appointment, original_start: datetime, edit: Edit) -> Appointment:
    """The series with one occurrence changed alone: an override named by the
    occurrence's ``original_start`` (replacing an earlier one). An occurrence
    put back exactly as the rule makes it needs no override, so none is kept."""
    if series.recurrence is None:
        raise ValueError("Only a repeating appointment has occurrences.")
    original = original_start.astimezone(UTC)
    recurrence = _without_override(series.recurrence, original)
    start, end = edit.start.astimezone(UTC), edit.end.astimezone(UTC)
    as_generated = (
        edit.contents == series.contents
        and edit.location == series.location
        and start == original
        and end - start == series.end - series.start
    )
    if not as_generated:
        override = OccurrenceOverride(original, edit.contents, edit.location, start, end)
        recurrence = replace(
            recurrence,
            overrides=tuple(sorted((*recurrence.overrides, override), key=_original)),
        )
    return series.with_changes(recurrence=recurrence)


def _original(override: OccurrenceOverride) -> datetime:
    return override.original_start


def delete_occurrence(series: Appointment, original_start: datetime) -> Appointment:
    """The series without one occurrence: an EXDATE for it (and its override gone)."""
    if series.recurrence is None:
        raise ValueError("Only a repeating appointment has occurrences.")
    recurrence = _without_override(series.recurrence, original_start)
    return series.with_changes(recurrence=leave_out(recurrence, [original_start]))


_WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def _follow_weekday(rule: str | None, old_start: datetime, new_start: datetime) -> str | None:
    """A weekly rule on just its start's weekday keeps repeating on its start's
    weekday when the start moves to another day."""
    if not rule:
        return rule
    parts = [p.split("=", 1) for p in rule.split(";") if "=" in p]
    values = dict(parts)
    old_day, new_day = _WEEKDAY_CODES[old_start.weekday()], _WEEKDAY_CODES[new_start.weekday()]
    if values.get("FREQ") != "WEEKLY" or values.get("BYDAY") != old_day or old_day == new_day:
        return rule
    return ";".join(f"{k}={new_day if k == 'BYDAY' else v}" for k, v in parts)


def change_series_from(
    series: Appointment, original_start: datetime, shown_start: datetime, edit: Edit
) -> Appointment:
    """All in the series, edited while looking at one of its occurrences (named
    by ``original_start``, shown starting at ``shown_start``).

    The series moves by the same wall-clock step the occurrence was moved (so
    every occurrence keeps its time of day across daylight-saving changes) and
    takes the edit's length and fields; the occurrence's own override goes, so
    it follows the series again. Other changed or deleted occurrences stay.
    """
    if series.recurrence is None:
        raise ValueError("Only a repeating appointment has a series.")
    zone = ZoneInfo(series.timezone)
    step = _wall(edit.start, zone) - _wall(shown_start, zone)
    wall_start = _wall(series.start, zone) + step
    start = wall_start.replace(tzinfo=zone).astimezone(UTC)
    end = start + (edit.end - edit.start)
    base = series.with_changes(recurrence=_without_override(series.recurrence, original_start))
    recurrence = edit_recurrence(base, edit.rule, start)
    if edit.rule and edit.rule == series.recurrence.rrule:
        followed = _follow_weekday(edit.rule, series.start.astimezone(zone), start.astimezone(zone))
        if followed != edit.rule:
            # the same series on another weekday: its exceptions move with it
            recurrence = replace(move_series(base, start), rrule=followed)
    return apply_fields(base, edit).with_changes(start=start, end=end, recurrence=recurrence)


def apply_fields(appointment: Appointment, edit: Edit) -> Appointment:
    """``appointment`` with the edit's own fields (not its times or repeat);
    participants listed again keep the answers they gave."""
    return appointment.with_changes(
        contents=edit.contents,
        location=edit.location,
        all_day=edit.all_day,
        private=edit.private,
        participants=keep_answers(edit.participants, appointment.participants),
        account_id=edit.account_id,
        show_as=appointment.show_as if edit.show_as is None else edit.show_as,
    )


def apply_edit(appointment: Appointment, edit: Edit) -> Appointment:
    """An appointment (or a whole series, edited as itself) after ``edit``: a
    series that moves keeps its exceptions (:func:`edit_recurrence`)."""
    start, end = edit.start.astimezone(UTC), edit.end.astimezone(UTC)
    recurrence = edit_recurrence(appointment, edit.rule, start)
    return apply_fields(appointment, edit).with_changes(start=start, end=end, recurrence=recurrence)
