"""``calsync``: the Sales Calendar and its sync from the command line (SPEC §6).

Every command works on the Sales Calendar at ``--home DIR`` (else
``CALSYNC_HOME``, else the platform's user data folder) and prints plain text,
or JSON with ``--json``. Exit codes: 0 done; 1 something failed (an account's
sync, a sign-in); 2 bad input (one line on stderr, never a traceback); 3 a sync
stopped at the mass-deletion guard; 130 interrupted.

Two promises hold for every command: secrets are never printed, and a private
appointment shows as "Private appointment" without contents, location or
participants unless the user asks with ``--show-private``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any
from zoneinfo import ZoneInfo

from calsync_desktop.accounts import default_account_id, remove_account, save_account
from calsync_desktop.accounts.base import KINDS, Account, AccountState, kind_module
from calsync_desktop.model import (
    Appointment,
    InvalidAppointment,
    InviteStatus,
    Occurrence,
    OccurrenceOverride,
    Participant,
    Recurrence,
    new_id,
    validate,
    validate_rrule,
    validate_zone,
)
from calsync_desktop.providers.base import ProviderError
from calsync_desktop.services import Services
from calsync_desktop.store import SETTING_DEFAULTS
from calsync_desktop.sync.engine import Decision, MassDeletionGuard, Plan, SyncEngine, SyncResult
from calsync_desktop.sync.mapping import split_contents
from calsync_desktop.sync.runner import Explanation, SyncRunner, explain

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_STOPPED = 3
EXIT_INTERRUPTED = 130

PRIVATE_TITLE = "Private appointment"
BUSY_SUMMARY = "Busy"
LIST_DAYS = 30
"""``appointments list`` without ``--to`` shows this many days."""

# Bounds for "everything": the store keeps times as fixed-width text, so both
# ends must have four-digit years.
FAR_PAST = datetime(1000, 1, 1, tzinfo=UTC)
FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)

EXTRA_SETTINGS: dict[str, Any] = {"sync.paused": False}
"""Settings the app reads that :data:`SETTING_DEFAULTS` does not list."""

TIME_HELP = (
    "Times are ISO 8601 with an offset or Z (2026-11-24T09:00+01:00, 2026-11-24T08:00Z). "
    "A time without an offset (2026-11-24T09:00 or '2026-11-24 09:00') is read in --zone, "
    "else in this computer's time zone; a date alone means midnight."
)

# the memory kind is a test calendar: offered, but not advertised
_ADD_HINT = "|".join(k for k in KINDS if k != "memory")
_DATE_ONLY = re.compile(r"\d{4}-?\d{2}-?\d{2}")
_NAME_EMAIL = re.compile(r"^(?P<name>.*?)\s*<(?P<email>[^<>]*)>\s*$")
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+$")
_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


class UsageError(Exception):
    """Bad input: printed as one line on stderr, exit code 2."""


# --------------------------------------------------------------------------- output


def _print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def _iso(value: datetime | None, zone: ZoneInfo | None = None) -> str | None:
    if value is None:
        return None
    return value.astimezone(zone or UTC).isoformat()


def _when(value: datetime, zone: ZoneInfo) -> str:
    return value.astimezone(zone).strftime("%a %d %b %Y %H:%M")


def _hidden(private: bool, args: argparse.Namespace) -> bool:
    return private and not getattr(args, "show_private", False)


def _title(contents: str, private: bool, args: argparse.Namespace) -> str:
    if _hidden(private, args):
        return PRIVATE_TITLE
    return contents.split("\n", 1)[0] or "(no title)"


def _short(appointment_id: str) -> str:
    return appointment_id[:8]


# --------------------------------------------------------------------------- times


def local_zone_name(env: Mapping[str, str] | None = None) -> str:
    """This computer's IANA time zone: ``TZ`` from ``env`` when it names one,
    else what tzlocal finds, else UTC."""
    candidates = []
    if env and env.get("TZ"):
        candidates.append(env["TZ"].lstrip(":"))
    try:
        import tzlocal

        candidates.append(tzlocal.get_localzone_name())
    except Exception:  # a misconfigured system falls back to UTC
        pass
    for name in candidates:
        try:
            if name:
                ZoneInfo(name)
                return name
        except (ValueError, KeyError, OSError):
            continue
    return "UTC"


def _zone(name: str) -> ZoneInfo:
    try:
        return validate_zone(name)
    except InvalidAppointment as exc:
        raise UsageError(f"{exc} Use an IANA name such as Europe/Berlin.") from None


def parse_time(text: str, zone: ZoneInfo, option: str) -> tuple[datetime, bool]:
    """An aware datetime from ISO 8601 text, and whether the text was a date only.

    A time without an offset is read as wall time in ``zone``; a wall time the
    clocks skip (daylight-saving change) is refused rather than guessed.
    """
    raw = text.strip()
    date_only = bool(_DATE_ONLY.fullmatch(raw))
    try:
        value = (
            datetime.combine(date.fromisoformat(raw), time(0))
            if date_only
            else datetime.fromisoformat(raw)
        )
    except ValueError:
        raise UsageError(
            f"{option}: {text!r} is not an ISO 8601 date and time "
            "(for example 2026-11-24T09:00+01:00, 2026-11-24T08:00Z or '2026-11-24 09:00')."
        ) from None
    if value.tzinfo is None:
        aware = value.replace(tzinfo=zone)
        if aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != value:
            raise UsageError(
                f"{option}: {text} does not exist in {zone.key} (the clocks change then)."
            )
        value = aware
    return value.astimezone(UTC), date_only


def _day_start(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def _last_day(end: datetime, zone: ZoneInfo) -> date:
    """The last calendar day an appointment ending at ``end`` (exclusive) touches."""
    local = end.astimezone(zone)
    return local.date() - timedelta(days=1) if local.time() == time(0) else local.date()


def _range(
    args: argparse.Namespace, zone: ZoneInfo, default_start: datetime, days: int | None
) -> tuple[datetime, datetime]:
    """``--from``/``--to``: without ``--to``, ``days`` after the start (None: no end).
    A date alone as ``--to`` includes that whole day."""
    start = default_start
    if args.date_from:
        start, _ = parse_time(args.date_from, zone, "--from")
    if days is None:
        end = FAR_FUTURE
    else:
        end = _day_start(start.astimezone(zone).date() + timedelta(days=days), zone)
    if args.date_to:
        end, date_only = parse_time(args.date_to, zone, "--to")
        if date_only:
            end = _day_start(end.astimezone(zone).date() + timedelta(days=1), zone)
    if end <= start:
        raise UsageError("--to must be later than --from.")
    return start, end


# --------------------------------------------------------------------------- participants


def parse_participant(text: str) -> Participant:
    """``"Name <email>"``, a bare email, or a bare name (kept, but not synced)."""
    raw = text.strip()
    match = _NAME_EMAIL.match(raw)
    if match:
        name, email = match["name"].strip().strip('"'), match["email"].strip()
    elif "@" in raw and " " not in raw:
        name, email = "", raw
    else:
        name, email = raw, ""
    if email and not _EMAIL.match(email):
        raise UsageError(f"--participant: {email!r} is not an email address.")
    if not name and not email:
        raise UsageError("--participant: give a name, an email, or 'Name <email>'.")
    return Participant(name or email, email or None)


def _participants(texts: Iterable[str], old: Iterable[Participant] = ()) -> tuple[Participant, ...]:
    # an edit that lists someone again keeps the answer they already gave
    known = {p.key: p.status for p in old if p.key}
    out = []
    for text in texts:
        p = parse_participant(text)
        out.append(Participant(p.name, p.email, known.get(p.key, InviteStatus.NO_RESPONSE)))
    return tuple(out)


# --------------------------------------------------------------------------- views


def appointment_view(
    a: Appointment, args: argparse.Namespace, accounts: Mapping[str, str]
) -> dict[str, Any]:
    """The JSON form of an appointment, private parts hidden unless asked for."""
    zone = ZoneInfo(a.timezone)
    hidden = _hidden(a.private, args)
    recurrence = None
    if a.recurrence is not None:
        overrides = []
        for o in a.recurrence.overrides:
            item = {
                "original_start": _iso(o.original_start, zone),
                "start": _iso(o.start, zone),
                "end": _iso(o.end, zone),
            }
            if not hidden:
                item.update(contents=o.contents, location=o.location)
            overrides.append(item)
        recurrence = {
            "rrule": a.recurrence.rrule,
            "exdates": [_iso(x, zone) for x in sorted(a.recurrence.exdates)],
            "overrides": overrides,
        }
    view = {
        "id": a.id,
        "title": _title(a.contents, a.private, args),
        "contents": PRIVATE_TITLE if hidden else a.contents,
        "location": "" if hidden else a.location,
        "start": _iso(a.start, zone),
        "end": _iso(a.end, zone),
        "timezone": a.timezone,
        "all_day": a.all_day,
        "private": a.private,
        "participants": []
        if hidden
        else [{"name": p.name, "email": p.email, "status": p.status.value} for p in a.participants],
        "recurrence": recurrence,
        "account": accounts.get(a.account_id) if a.account_id else None,
        "created": _iso(a.created),
        "modified": _iso(a.modified),
    }
    if hidden:
        view["hidden"] = True
    return view


def occurrence_view(o: Occurrence, args: argparse.Namespace) -> dict[str, Any]:
    a = o.appointment
    zone = ZoneInfo(a.timezone)
    hidden = _hidden(a.private, args)
    view = {
        "id": a.id,
        "title": _title(o.contents, a.private, args),
        "contents": PRIVATE_TITLE if hidden else o.contents,
        "location": "" if hidden else o.location,
        "start": _iso(o.start, zone),
        "end": _iso(o.end, zone),
        "timezone": a.timezone,
        "all_day": a.all_day,
        "private": a.private,
        "recurring": a.recurrence is not None,
        "original_start": _iso(o.original_start, zone),
    }
    if hidden:
        view["hidden"] = True
    return view


def _span_text(start: datetime, end: datetime, all_day: bool, zone: ZoneInfo) -> str:
    if all_day:
        first, last = start.astimezone(zone).date(), _last_day(end, zone)
        if last <= first:
            return f"{first:%a %d %b %Y}, all day"
        return f"{first:%a %d %b %Y} – {last:%a %d %b %Y}, all day"
    s, e = start.astimezone(zone), end.astimezone(zone)
    if s.date() == e.date():
        return f"{_when(s, zone)}–{e:%H:%M}"
    return f"{_when(s, zone)} – {_when(e, zone)}"


def _print_appointment(
    a: Appointment, args: argparse.Namespace, accounts: Mapping[str, str]
) -> None:
    zone = ZoneInfo(a.timezone)
    hidden = _hidden(a.private, args)
    rows: list[tuple[str, str]] = [
        ("id", a.id),
        ("when", f"{_span_text(a.start, a.end, a.all_day, zone)} ({a.timezone})"),
    ]
    if not hidden and a.location:
        rows.append(("location", a.location))
    if a.private:
        rows.append(("private", "yes" + (" (use --show-private to read it)" if hidden else "")))
    if a.recurrence is not None:
        repeat = a.recurrence.rrule
        if a.recurrence.exdates:
            skipped = ", ".join(_when(x, zone) for x in sorted(a.recurrence.exdates))
            repeat += f"; except {skipped}"
        if a.recurrence.overrides:
            repeat += f"; {len(a.recurrence.overrides)} occurrence(s) changed"
        rows.append(("repeats", repeat))
    if a.participants and not hidden:
        for i, p in enumerate(a.participants):
            who = f"{p.name} <{p.email}>" if p.email else f"{p.name} (no email: not synced)"
            rows.append(("participants" if i == 0 else "", f"{who}, {_status_text(p.status)}"))
    if a.account_id:
        rows.append(("account", accounts.get(a.account_id, a.account_id)))
    if a.all_day:
        rows.append(("sync", "all-day appointments stay in the Sales Calendar"))
    rows.append(("modified", _when(a.modified, zone)))
    print(_title(a.contents, a.private, args))
    for label, value in rows:
        print(f"  {label + ':' if label else '':<14}{value}")
    _, rest = a.contents.partition("\n")[::2]
    if rest.strip() and not hidden:
        print()
        print(rest.rstrip())


def _status_text(status: InviteStatus) -> str:
    return status.value.replace("_", " ")


def _account_names(services: Services) -> dict[str, str]:
    return {a.id: a.name for a in services.store.list_accounts()}


# --------------------------------------------------------------------------- appointments


def _find_appointment(services: Services, text: str) -> Appointment:
    """An appointment by id, or by a unique beginning of its id (as ``list`` shows it)."""
    key = text.strip().lower()
    found = services.store.get_appointment(key)
    if found is not None:
        return found
    if len(key) >= 4:
        matches = [
            a
            for a in services.store.appointments_between(FAR_PAST, FAR_FUTURE)
            if a.id.startswith(key)
        ]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise UsageError(f"{text!r} matches {len(matches)} appointments; give more of the id.")
    raise UsageError(f"No appointment with id {text!r}.")


def _read_contents(value: str) -> str:
    if value == "-":
        value = sys.stdin.read()
    return value.strip()


def _recurrence(rule: str | None) -> str | None:
    if rule is None:
        return None
    rule = rule.strip()
    if rule.upper().startswith("RRULE:"):
        rule = rule[len("RRULE:") :]
    return rule


def _exdates(
    texts: Sequence[str], rule: Recurrence, start: datetime, tz: str
) -> tuple[datetime, ...]:
    zone = ZoneInfo(tz)
    rules = rule.rule_set(start, tz)
    out = []
    for text in texts:
        value, date_only = parse_time(text, zone, "--exdate")
        if date_only:
            # a date names the occurrence on that day
            day = value.astimezone(zone).date()
            hits = rules.between(_day_start(day, zone), _day_start(day + timedelta(1), zone))
        else:
            hits = rules.between(value - timedelta(seconds=1), value + timedelta(seconds=1))
        if not hits:
            raise UsageError(f"--exdate: {text} is not an occurrence of the series.")
        out.append(hits[0].astimezone(UTC))
    return tuple(out)


def _times(
    args: argparse.Namespace, zone: ZoneInfo, all_day: bool, old: Appointment | None
) -> tuple[datetime, datetime]:
    """Start and end from ``--start``/``--end``, for a new appointment or an edit.

    All-day appointments run from midnight of the first day to midnight after
    the last one (``--end`` names the last day). Moving only the start of an
    edit keeps its length.
    """
    start = end = None
    start_date_only = end_date_only = False
    if args.start:
        start, start_date_only = parse_time(args.start, zone, "--start")
    if args.end:
        end, end_date_only = parse_time(args.end, zone, "--end")
    if old is None and start is None:
        raise UsageError("--start is required.")
    if all_day:
        first = (start or old.start).astimezone(zone).date()
        if end is not None:
            last = end.astimezone(zone).date()
        elif old is not None and start is not None and old.all_day:
            # moving an all-day appointment keeps its number of days
            last = first + (_last_day(old.end, zone) - old.start.astimezone(zone).date())
        elif old is not None and start is None:
            last = _last_day(old.end, zone)
        else:
            last = first
        if last < first:
            raise UsageError("The appointment ends before it starts.")
        return _day_start(first, zone), _day_start(last + timedelta(days=1), zone)
    if start_date_only or end_date_only:
        raise UsageError("A date without a time is for --all-day appointments; add a time.")
    if old is None:
        if end is None:
            raise UsageError("--end is required (or use --all-day).")
        return start, end
    if start is not None and end is None:
        end = start + (old.end - old.start)
    return start or old.start, end or old.end


def cmd_appointments_add(args: argparse.Namespace, services: Services) -> int:
    tz = args.zone or local_zone_name(services.env)
    zone = _zone(tz)
    start, end = _times(args, zone, args.all_day, None)
    rule = _recurrence(args.rrule)
    recurrence = None
    if rule:
        recurrence = Recurrence(rule)
        validate_rrule(recurrence.rrule, start, tz)
        if args.exdate:
            recurrence = Recurrence(rule, _exdates(args.exdate, recurrence, start, tz))
    elif args.exdate:
        raise UsageError("--exdate needs --rrule.")
    appointment = Appointment(
        id=new_id(),
        contents=_read_contents(args.contents),
        start=start,
        end=end,
        timezone=tz,
        location=(args.location or "").strip(),
        all_day=args.all_day,
        private=args.private,
        participants=_participants(args.participant or ()),
        recurrence=recurrence,
        account_id=default_account_id(services.store),
    )
    saved = services.store.add_appointment(validate(appointment))
    return _report_saved(saved, args, services, "Added")


def _move_series(
    recurrence: Recurrence, old: Appointment, start: datetime, zone: ZoneInfo
) -> Recurrence:
    """A series moved to ``start``: its left-out and changed occurrences are named
    by their original start, so those names move by the same wall-clock step
    (a 09:00 series moved to 10:00 stays at 10:00 on both sides of a DST change)."""
    old_zone = ZoneInfo(old.timezone)

    def wall(value: datetime, tz: ZoneInfo) -> datetime:
        return value.astimezone(tz).replace(tzinfo=None)

    step = wall(start, zone) - wall(old.start, old_zone)

    def move(value: datetime) -> datetime:
        return (wall(value, old_zone) + step).replace(tzinfo=zone).astimezone(UTC)

    return Recurrence(
        recurrence.rrule,
        tuple(move(x) for x in recurrence.exdates),
        tuple(
            OccurrenceOverride(move(o.original_start), o.contents, o.location, o.start, o.end)
            for o in recurrence.overrides
        ),
    )


def cmd_appointments_edit(args: argparse.Namespace, services: Services) -> int:
    old = _find_appointment(services, args.id)
    tz = args.zone or old.timezone
    zone = _zone(tz)
    all_day = old.all_day if args.all_day is None else args.all_day
    start, end = _times(args, zone, all_day, old)
    recurrence = old.recurrence
    rule = _recurrence(args.rrule)
    if rule is not None:
        if not rule or rule.lower() == "none":
            recurrence = None
        elif recurrence is None or recurrence.rrule != rule:
            recurrence = Recurrence(rule)  # a new rule: the old exceptions no longer apply
    elif recurrence is not None and start != old.start:
        recurrence = _move_series(recurrence, old, start, zone)
    if recurrence is not None:
        validate_rrule(recurrence.rrule, start, tz)
    if args.exdate:
        if recurrence is None:
            raise UsageError("--exdate is for repeating appointments; this one does not repeat.")
        added = _exdates(args.exdate, recurrence, start, tz)
        recurrence = Recurrence(
            recurrence.rrule,
            tuple(sorted(set(recurrence.exdates) | set(added))),
            recurrence.overrides,
        )
    participants = old.participants
    if args.clear_participants:
        participants = ()
    if args.participant:
        participants = _participants(args.participant, old.participants)
    changed = old.with_changes(
        contents=old.contents if args.contents is None else _read_contents(args.contents),
        location=old.location if args.location is None else args.location.strip(),
        start=start,
        end=end,
        timezone=tz,
        all_day=all_day,
        private=old.private if args.private is None else args.private,
        participants=participants,
        recurrence=recurrence,
    )
    saved = services.store.update_appointment(validate(changed))
    return _report_saved(saved, args, services, "Changed")


def _report_saved(
    saved: Appointment, args: argparse.Namespace, services: Services, verb: str
) -> int:
    if args.json:
        _print_json(appointment_view(saved, args, _account_names(services)))
        return EXIT_OK
    zone = ZoneInfo(saved.timezone)
    when = _span_text(saved.start, saved.end, saved.all_day, zone)
    print(f"{verb} {_title(saved.contents, saved.private, args)!r}, {when} ({saved.timezone})")
    print(f"  id: {saved.id}")
    if saved.all_day:
        print("  All-day appointments stay in the Sales Calendar: they are not synced.")
    unsynced = [p.name for p in saved.participants if not p.email] if not saved.private else []
    if unsynced:
        print(f"  Without an email address, not synced: {', '.join(unsynced)}")
    return EXIT_OK


def cmd_appointments_list(args: argparse.Namespace, services: Services) -> int:
    tz = args.zone or local_zone_name(services.env)
    zone = _zone(tz)
    today = services.clock().astimezone(zone).date()
    start, end = _range(args, zone, _day_start(today, zone), LIST_DAYS)
    found = services.store.occurrences_between(start, end)
    if args.json:
        _print_json([occurrence_view(o, args) for o in found])
        return EXIT_OK
    if not found:
        print(f"No appointments from {_when(start, zone)} to {_when(end, zone)} ({tz}).")
        return EXIT_OK
    day = None
    for o in found:
        a = o.appointment
        local = o.start.astimezone(zone)
        if local.date() != day:
            day = local.date()
            print(f"{day:%a %d %b %Y}")
        if a.all_day:
            span = "all day    "
        else:
            end_local = o.end.astimezone(zone)
            end_text = (
                f"{end_local:%H:%M}" if end_local.date() == day else f"{end_local:%d %b %H:%M}"
            )
            span = f"{local:%H:%M}–{end_text}"
        text = _title(o.contents, a.private, args)
        if o.location and not _hidden(a.private, args):
            text += f" @ {o.location}"
        if a.recurrence is not None:
            text += " [repeats]"
        print(f"  {span:<11}  {_short(a.id)}  {text}")
    return EXIT_OK


def cmd_appointments_show(args: argparse.Namespace, services: Services) -> int:
    a = _find_appointment(services, args.id)
    accounts = _account_names(services)
    if args.json:
        _print_json(appointment_view(a, args, accounts))
    else:
        _print_appointment(a, args, accounts)
    return EXIT_OK


def cmd_appointments_delete(args: argparse.Namespace, services: Services) -> int:
    a = _find_appointment(services, args.id)
    linked = [
        account.name
        for account in services.store.list_accounts()
        if services.store.status_for(account.id, [a.id])
    ]
    services.store.delete_appointment(a.id)
    if args.json:
        _print_json({"deleted": a.id, "deletion_syncs_to": linked})
        return EXIT_OK
    print(f"Deleted {_title(a.contents, a.private, args)!r} ({a.id}).")
    if linked:
        print(f"  The next sync deletes it from {', '.join(linked)} too.")
    return EXIT_OK


# --------------------------------------------------------------------------- export

_PARTSTAT = {
    InviteStatus.ACCEPTED: "ACCEPTED",
    InviteStatus.TENTATIVE: "TENTATIVE",
    InviteStatus.DECLINED: "DECLINED",
    InviteStatus.NO_RESPONSE: "NEEDS-ACTION",
}


def build_ics(appointments: Iterable[Appointment], now: datetime) -> bytes:
    """An iCalendar file of ``appointments``.

    Times carry their TZID (with VTIMEZONE definitions); series keep their
    RRULE and EXDATEs, changed occurrences become RECURRENCE-ID events. A
    private appointment is a busy block: SUMMARY "Busy", CLASS:PRIVATE, its
    times and nothing else.
    """
    from icalendar import Calendar, Event, vCalAddress, vRecur, vText

    calendar = Calendar()
    calendar.add("prodid", "-//calsync-desktop//Sales Calendar//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    earliest, latest = date(1970, 1, 1), date(2038, 1, 1)

    def when(value: datetime, a: Appointment):
        local = value.astimezone(ZoneInfo(a.timezone))
        return local.date() if a.all_day else local

    def event_for(a: Appointment, start, end, contents, location) -> Event:
        event = Event()
        event.add("uid", f"{a.id}@calsync-desktop")
        event.add("dtstamp", now.astimezone(UTC))
        event.add("dtstart", when(start, a))
        event.add("dtend", when(end, a))
        event.add("created", a.created.astimezone(UTC))
        event.add("last-modified", a.modified.astimezone(UTC))
        if a.private:
            event.add("summary", BUSY_SUMMARY)
            event.add("class", "PRIVATE")
            event.add("transp", "OPAQUE")
            return event
        summary, body = split_contents(contents)
        event.add("summary", summary)
        if body.strip():
            event.add("description", body)
        if location:
            event.add("location", location)
        for p in a.participants:
            if not p.email:
                continue  # an ATTENDEE needs an address; such participants are not synced either
            attendee = vCalAddress(f"mailto:{p.email}")
            attendee.params["cn"] = vText(p.name or p.email)
            attendee.params["role"] = vText("REQ-PARTICIPANT")
            attendee.params["partstat"] = vText(_PARTSTAT[p.status])
            event.add("attendee", attendee, encode=0)
        return event

    for a in appointments:
        earliest = min(earliest, a.start.date() - timedelta(days=1))
        latest = max(latest, (a.last_end() or a.end).date() + timedelta(days=366))
        master = event_for(a, a.start, a.end, a.contents, a.location)
        if a.recurrence is not None:
            master.add("rrule", vRecur.from_ical(a.recurrence.rrule))
            if a.recurrence.exdates:
                master.add("exdate", [when(x, a) for x in sorted(a.recurrence.exdates)])
        calendar.add_component(master)
        if a.recurrence is not None:
            for o in a.recurrence.overrides:
                moved = event_for(a, o.start, o.end, o.contents, o.location)
                moved.add("recurrence-id", when(o.original_start, a))
                calendar.add_component(moved)
    calendar.add_missing_timezones(first_date=earliest, last_date=min(latest, date(9998, 1, 1)))
    return calendar.to_ical()


def cmd_export(args: argparse.Namespace, services: Services) -> int:
    zone = _zone(args.zone or local_zone_name(services.env))
    start, end = _range(args, zone, FAR_PAST, None)
    appointments = sorted(
        services.store.appointments_between(start, end), key=lambda a: (a.start, a.id)
    )
    data = build_ics(appointments, services.clock())
    private = sum(1 for a in appointments if a.private)
    if args.ics == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return EXIT_OK
    target = Path(args.ics).expanduser()
    if not target.parent.is_dir():
        raise UsageError(f"--ics: the folder {target.parent} does not exist.")
    # write beside the target, then rename: a failed export never leaves half a file
    fd, tmp = tempfile.mkstemp(prefix=".calsync-export-", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if args.json:
        _print_json(
            {"file": str(target), "appointments": len(appointments), "private_as_busy": private}
        )
    else:
        note = f" ({private} private as busy blocks)" if private else ""
        print(f"Exported {len(appointments)} appointment(s){note} to {target}.")
    return EXIT_OK


# --------------------------------------------------------------------------- accounts


def _find_account(services: Services, text: str) -> Account:
    store = services.store
    found = store.find_account(text)
    if found is None:
        lowered = text.strip().lower()
        candidates = [
            a
            for a in store.list_accounts()
            if a.email.lower() == lowered or a.name.lower() == lowered or a.id.startswith(lowered)
        ]
        if len(candidates) == 1:
            found = candidates[0]
    if found is None:
        names = ", ".join(a.name for a in store.list_accounts()) or "none yet"
        raise UsageError(f"No account {text!r}. Accounts: {names}.")
    return found


def account_view(account: Account, services: Services) -> dict[str, Any]:
    """An account as ``status``/``accounts list`` show it: settings and secrets left out."""
    store = services.store
    return {
        "id": account.id,
        "name": account.name,
        "kind": account.kind,
        "kind_label": KINDS[account.kind].label if account.kind in KINDS else account.kind,
        "email": account.email,
        "calendar": account.calendar_id,
        "state": account.state.value,
        "paused": account.paused,
        "sync_all_private": account.sync_all_private,
        "last_sync": _iso(account.last_sync),
        "last_error": account.last_error,
        "linked": store.linked_count(account.id),
        "skipped": len(store.skipped(account.id)),
    }


def _print_account(view: dict[str, Any], zone: ZoneInfo) -> None:
    print(f"{view['name']}  ({view['kind_label']}, {view['email']})")
    last = _when(datetime.fromisoformat(view["last_sync"]), zone) if view["last_sync"] else "never"
    state = view["state"].replace("_", " ") + (", paused" if view["paused"] else "")
    print(f"  state: {state} · last sync: {last} · {view['linked']} linked")
    if view["calendar"]:
        print(f"  calendar: {view['calendar']}")
    if view["sync_all_private"]:
        print("  brings everything in as private")
    if view["last_error"]:
        print(f"  last error: {view['last_error']}")
    print(f"  id: {view['id']}")


def cmd_accounts_list(args: argparse.Namespace, services: Services) -> int:
    views = [account_view(a, services) for a in services.store.list_accounts()]
    if args.json:
        _print_json(views)
        return EXIT_OK
    if not views:
        print(f"No calendar accounts. Add one with: calsync accounts add {_ADD_HINT}")
    zone = _zone(local_zone_name(services.env))
    for view in views:
        _print_account(view, zone)
    return EXIT_OK


def cmd_accounts_remove(args: argparse.Namespace, services: Services) -> int:
    account = _find_account(services, args.account)
    linked = services.store.linked_count(account.id)
    remove_account(services, account.id, keep_appointments=not args.delete_appointments)
    fate = "were deleted from" if args.delete_appointments else "stay in"
    if args.json:
        _print_json(
            {
                "removed": account.id,
                "name": account.name,
                "synced_appointments": linked,
                "appointments_deleted": args.delete_appointments,
            }
        )
    else:
        print(
            f"Removed {account.name}. Its {linked} synced appointment(s) {fate} the Sales Calendar."
        )
        print("  Nothing changed in the remote calendar.")
    return EXIT_OK


def _choose_calendar(calendars: list, wanted: str | None) -> str:
    if wanted:
        for c in calendars:
            if wanted in (c.id, c.name):
                if not c.can_write:
                    raise UsageError(f"--calendar: {c.name} is read-only; choose another.")
                return c.id
        names = ", ".join(f"{c.id} ({c.name})" for c in calendars) or "none"
        raise UsageError(f"--calendar: no calendar {wanted!r}. Calendars: {names}.")
    primary = [c for c in calendars if c.primary] or [c for c in calendars if c.can_write]
    return primary[0].id if primary else ""


def cmd_accounts_add(args: argparse.Namespace, services: Services) -> int:
    module = kind_module(args.kind)
    pending = module.add_from_cli(args, services)
    provider = pending.provider()
    try:
        calendars = provider.list_calendars()
    finally:
        provider.close()
    if args.list_calendars:
        rows = [
            {"id": c.id, "name": c.name, "primary": c.primary, "can_write": c.can_write}
            for c in calendars
        ]
        if args.json:
            _print_json(rows)
        else:
            for c in calendars:
                flags = " (primary)" if c.primary else ""
                flags += "" if c.can_write else " (read-only)"
                print(f"{c.id}  {c.name}{flags}")
        return EXIT_OK
    calendar_id = _choose_calendar(calendars, args.calendar)
    warnings = pending.warnings(services.store.get_setting("profile.email") or "")
    account = save_account(
        services,
        pending,
        calendar_id=calendar_id,
        sync_all_private=args.all_private,
        name=args.account_name,
    )
    preview, problem = _first_sync_preview(account, services)
    if args.json:
        _print_json(
            {
                "account": account_view(account, services),
                "warnings": warnings,
                "first_sync": preview,
                "preview_problem": problem,
            }
        )
        return EXIT_OK
    for warning in warnings:
        print(f"Warning: {warning}", file=sys.stderr)
    print(
        f"Saved {account.name} ({KINDS[account.kind].label}, calendar {calendar_id or 'default'})."
    )
    if args.all_private:
        print("  Everything this account brings in is stored as private.")
    if problem:
        print(f"  Could not preview the first sync: {problem}")
    elif preview is not None:
        print(f"  The first sync will: {_plan_text(preview, account.name)}.")
    print("  Run `calsync sync` to sync now.")
    return EXIT_OK


def _first_sync_preview(
    account: Account, services: Services
) -> tuple[dict[str, int] | None, str | None]:
    try:
        plan = _plan(account, services)
    except ProviderError as error:
        return None, explain(error).problem
    return plan.summary(), None


def _plan_text(summary: Mapping[str, int], account_name: str) -> str:
    words = {
        "create remotely": f"create {{n}} in {account_name}",
        "create locally": "create {n} in the Sales Calendar",
        "link": "link {n} that exist on both sides",
        "update": "update {n}",
        "delete remotely": f"delete {{n}} from {account_name}",
        "delete locally": "delete {n} from the Sales Calendar",
        "restore locally": "restore {n} in the Sales Calendar",
        "forget": "forget {n} link(s)",
    }
    parts = [words.get(kind, kind + " {n}").format(n=n) for kind, n in summary.items() if n]
    return ", ".join(parts) or "nothing (both sides agree)"


# --------------------------------------------------------------------------- sync


def _plan(account: Account, services: Services) -> Plan:
    """What a sync of ``account`` would do, without writing anything."""
    provider = kind_module(account.kind).open_provider(account, services)
    try:
        return SyncEngine(services.store, account, provider, clock=services.clock).plan()
    finally:
        provider.close()


def _memory_calendar_missing(account: Account, services: Services) -> bool:
    # A local test calendar lives only in the process that made it; syncing a
    # fresh, empty one would look like everything was deleted remotely.
    if account.kind != "memory":
        return False
    key = account.settings.get("calendar_key", account.email)
    return key not in services.extra.get("memory_calendars", {})


def _guard_view(guard: MassDeletionGuard) -> dict[str, Any]:
    return {
        "reason": guard.reason,
        "in_scope": guard.in_scope,
        "delete_locally": guard.local_deletions,
        "delete_remotely": guard.remote_deletions,
    }


def _print_guard(guard: MassDeletionGuard, account: Account, dry_run: bool) -> None:
    verb = "would stop" if dry_run else "stopped"
    print(f"  The sync {verb} before deleting anything: {guard.reason}")
    for side, titles in (
        ("the Sales Calendar", guard.local_deletions),
        (account.name, guard.remote_deletions),
    ):
        if not titles:
            continue
        print(f"  To be deleted from {side} ({len(titles)}):")
        for title in titles[:20]:
            print(f"    - {title}")
        if len(titles) > 20:
            print(f"    … and {len(titles) - 20} more")
    name = _quote(account.name)
    print(f"  To delete them: calsync sync --account {name} --yes-delete")
    print(f"  To bring them back instead: calsync sync --account {name} --restore-deleted")


def _quote(text: str) -> str:
    return text if re.fullmatch(r"[\w@.+-]+", text) else "'" + text.replace("'", "'\\''") + "'"


@dataclass
class _AccountRun:
    """One account's part of ``calsync sync``: a note why it was left out, or
    the plan (dry run), or the result, or why planning failed."""

    account: Account
    note: str = ""
    plan: Plan | None = None
    result: SyncResult | None = None
    failure: Explanation | None = None

    @property
    def code(self) -> int:
        if self.failure or (self.result and self.result.errors):
            return EXIT_FAILED
        guard = (self.plan and self.plan.guard) or (self.result and self.result.stopped)
        return EXIT_STOPPED if guard else EXIT_OK

    def view(self, services: Services) -> dict[str, Any]:
        view: dict[str, Any] = {"account": self.account.name, "id": self.account.id}
        if self.note:
            view["note"] = self.note
        if self.failure:
            view.update(errors=[self.failure.problem], fix=self.failure.fix)
        if self.plan:
            view.update(
                plan=self.plan.summary(),
                skipped=len(self.plan.skipped),
                guard=_guard_view(self.plan.guard) if self.plan.guard else None,
            )
        if self.result:
            r = self.result
            after = services.store.get_account(self.account.id)
            view.update(
                summary=r.describe(),
                counts=r.counts,
                conflicts=r.conflicts,
                skipped=r.skipped,
                errors=r.errors,
                stopped=r.stopped,
                guard=_guard_view(r.guard) if r.guard else None,
                state=after.state.value if after else None,
            )
        return view

    def print(self, services: Services) -> None:
        name = self.account.name
        if self.note:
            print(f"{name}: {self.note}")
        elif self.failure:
            print(f"{name}: {self.failure.problem}")
            print(f"  {self.failure.fix}")
        elif self.plan:
            print(f"{name} (dry run, nothing written): {_plan_text(self.plan.summary(), name)}")
            if self.plan.skipped:
                print(f"  {len(self.plan.skipped)} item(s) would be skipped")
            if self.plan.guard:
                _print_guard(self.plan.guard, self.account, dry_run=True)
        elif self.result:
            print(f"{name}: {self.result.describe()}")
            if self.result.stopped and self.result.guard:
                _print_guard(self.result.guard, self.account, dry_run=False)
            for error in self.result.errors:
                print(f"  error: {error}")
            after = services.store.get_account(self.account.id)
            if after and after.state is AccountState.NEEDS_SIGN_IN:
                print(f"  Sign in again: calsync accounts add {self.account.kind} …")


def _sync_targets(
    args: argparse.Namespace, services: Services, runner: SyncRunner
) -> tuple[list[Account], list[str]]:
    """The accounts to sync, and notes on the ones left out."""
    if args.account:
        return [_find_account(services, args.account)], []
    store = services.store
    if store.get_setting("sync.paused", False):
        return [], ["Sync is paused (settings sync.paused)."]
    notes = []
    for a in store.list_accounts():
        if a.paused:
            notes.append(f"{a.name}: paused; not synced")
        elif a.state is AccountState.NEEDS_SIGN_IN:
            notes.append(f"{a.name}: needs sign-in; not synced")
    return runner.runnable_accounts(), notes


def cmd_sync(args: argparse.Namespace, services: Services) -> int:
    def confirm(guard: MassDeletionGuard) -> Decision:
        if args.yes_delete:
            return Decision.APPLY
        if args.restore_deleted:
            return Decision.RESTORE
        return Decision.STOP

    runner = SyncRunner(services, confirm=confirm)
    accounts, notes = _sync_targets(args, services, runner)
    runs = []
    for account in accounts:
        run = _AccountRun(account)
        runs.append(run)
        if _kind_module(account.kind) is None:
            run.note = f"this installation cannot sync {account.kind} accounts"
        elif _memory_calendar_missing(account, services):
            run.note = "a local test calendar exists only inside the app that made it; not synced"
        elif args.dry_run:
            try:
                run.plan = _plan(account, services)
            except ProviderError as error:
                run.failure = explain(error)
        else:
            run.result = runner.sync_account(account.id)
    codes = {run.code for run in runs}
    code = EXIT_FAILED if EXIT_FAILED in codes else max(codes, default=EXIT_OK)
    if args.json:
        _print_json(
            {
                "dry_run": args.dry_run,
                "accounts": [run.view(services) for run in runs],
                "notes": notes,
            }
        )
        return code
    for note in notes:
        print(note)
    if not accounts and not notes:
        print(f"No calendar accounts to sync. Add one with: calsync accounts add {_ADD_HINT}")
    for run in runs:
        run.print(services)
    return code


# --------------------------------------------------------------------------- status


def cmd_status(args: argparse.Namespace, services: Services) -> int:
    store = services.store
    conflicts = store.conflicts()
    status = {
        "sales_calendar": str(services.db_path),
        "appointments": store.count_appointments(),
        "conflicts": len(conflicts),
        "conflicts_not_restored": sum(1 for c in conflicts if not c.restored),
        "skipped": len(store.skipped()),
        "sync_paused": bool(store.get_setting("sync.paused", False)),
        "profile": {
            "name": store.get_setting("profile.name") or "",
            "email": store.get_setting("profile.email") or "",
        },
        "accounts": [account_view(a, services) for a in store.list_accounts()],
    }
    if args.json:
        _print_json(status)
        return EXIT_OK
    print(f"Sales Calendar: {status['appointments']} appointment(s) in {status['sales_calendar']}")
    print(
        f"Conflicts logged: {status['conflicts']} ({status['conflicts_not_restored']} not restored)"
        f" · Skipped items: {status['skipped']}"
    )
    if status["sync_paused"]:
        print("Sync is paused.")
    if not status["accounts"]:
        print(f"No calendar accounts. Add one with: calsync accounts add {_ADD_HINT}")
    zone = _zone(local_zone_name(services.env))
    for view in status["accounts"]:
        _print_account(view, zone)
    return EXIT_OK


# --------------------------------------------------------------------------- profile, settings


def cmd_profile(args: argparse.Namespace, services: Services) -> int:
    store = services.store
    if args.email is not None:
        email = args.email.strip()
        if email and not _EMAIL.match(email):
            raise UsageError(f"--email: {email!r} is not an email address.")
        store.set_setting("profile.email", email)
    if args.name is not None:
        store.set_setting("profile.name", args.name.strip())
    profile = {
        "name": store.get_setting("profile.name") or "",
        "email": store.get_setting("profile.email") or "",
    }
    differing = [
        a.name
        for a in store.list_accounts()
        if profile["email"] and a.email and a.email.lower() != profile["email"].lower()
    ]
    if args.json:
        _print_json({**profile, "accounts_with_other_email": differing})
        return EXIT_OK
    print(f"name:  {profile['name'] or '(not set)'}")
    print(f"email: {profile['email'] or '(not set)'}")
    if differing:
        print(
            f"Note: {', '.join(differing)} use(s) another email address; participant invite "
            "statuses may not sync. Use the same address as your Sales Calendar profile."
        )
    return EXIT_OK


def _known_settings() -> dict[str, Any]:
    return {**SETTING_DEFAULTS, **EXTRA_SETTINGS}


def _setting_value(key: str, text: str, default: Any) -> Any:
    if isinstance(default, bool):
        lowered = text.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise UsageError(f"{key} is true or false, not {text!r}.")
    if isinstance(default, int):
        try:
            value = int(text)
        except ValueError:
            raise UsageError(f"{key} is a whole number, not {text!r}.") from None
        if value < 1:
            raise UsageError(f"{key} must be at least 1.")
        return value
    value = text.strip()
    if key.startswith("advanced.") and value:
        path = Path(value).expanduser()
        if not path.is_file():
            raise UsageError(f"{key}: no such file {value!r}.")
        value = str(path.resolve())
    if key == "profile.email" and value and not _EMAIL.match(value):
        raise UsageError(f"{key}: {value!r} is not an email address.")
    return value


def _setting_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value) if value != "" else "(not set)"


def cmd_settings(args: argparse.Namespace, services: Services) -> int:
    store = services.store
    known = _known_settings()
    if args.key is not None and args.key not in known:
        raise UsageError(f"Unknown setting {args.key!r}. Settings: {', '.join(known)}.")
    if args.key is not None and args.value is not None:
        store.set_setting(args.key, _setting_value(args.key, args.value, known[args.key]))
    keys = [args.key] if args.key is not None else list(known)
    values = {k: store.get_setting(k, known[k]) for k in keys}
    if args.json:
        _print_json(values)
    else:
        width = max(len(k) for k in keys)
        for key, value in values.items():
            print(f"{key:<{width}}  {_setting_text(value)}")
    return EXIT_OK


# --------------------------------------------------------------------------- parser


def _kind_module(kind: str) -> ModuleType | None:
    """The module of an account kind, or None when this installation lacks it."""
    if kind not in KINDS:
        return None
    try:
        return kind_module(kind)
    except ModuleNotFoundError as exc:
        if exc.name != KINDS[kind].module:
            raise  # the module exists but something it needs is missing: a real error
        return None


def wanted_kinds(argv: Sequence[str]) -> list[str]:
    """The account kinds whose ``accounts add`` arguments ``argv`` needs.

    Importing a kind's module loads its service's client library (Google, MSAL,
    exchangelib), which is slow; only ``accounts add`` needs them, and
    ``accounts add KIND`` only its own.
    """
    args = list(argv)
    if "accounts" not in args:
        return []
    rest = args[args.index("accounts") + 1 :]
    if "add" not in rest:
        return []
    after = rest[rest.index("add") + 1 :]
    named = next((a for a in after if not a.startswith("-")), None)
    return [named] if named in KINDS else list(KINDS)


def _appointment_options(parser: argparse.ArgumentParser, editing: bool) -> None:
    parser.add_argument(
        "--contents",
        required=not editing,
        help="the text: first line is the title, the rest the description ('-' reads stdin)",
    )
    parser.add_argument("--start", required=not editing, help="start, ISO 8601 (see below)")
    parser.add_argument(
        "--end", help="end, ISO 8601; with --all-day the last day (default: the start day)"
    )
    parser.add_argument(
        "--zone",
        help="IANA time zone of the appointment, e.g. Europe/Berlin (default: "
        + ("its own zone" if editing else "this computer's zone")
        + ")",
    )
    parser.add_argument("--location", help="where it takes place")
    flag = argparse.BooleanOptionalAction if editing else "store_true"
    default = None if editing else False
    parser.add_argument(
        "--private",
        action=flag,
        default=default,
        help="private: shown and synced without contents",
    )
    parser.add_argument(
        "--all-day",
        action=flag,
        default=default,
        help="an all-day appointment (stays local: all-day appointments are not synced)",
    )
    parser.add_argument(
        "--participant",
        action="append",
        metavar='"NAME <EMAIL>"',
        help="a participant (repeat for more)"
        + ("; replaces the list, keeping known answers" if editing else ""),
    )
    if editing:
        parser.add_argument(
            "--clear-participants", action="store_true", help="remove all participants"
        )
    parser.add_argument(
        "--rrule",
        metavar="RULE",
        help="RFC 5545 recurrence rule, e.g. FREQ=WEEKLY;BYDAY=MO;COUNT=10"
        + ("; '' or none stops it repeating" if editing else ""),
    )
    parser.add_argument(
        "--exdate",
        action="append",
        metavar="ISO",
        help="an occurrence of the series to leave out (repeatable)",
    )


def build_parser(
    prog: str = "calsync", kinds: Iterable[str] | None = None
) -> argparse.ArgumentParser:
    """The whole command line. ``kinds`` (default: all) are the account kinds
    whose ``accounts add KIND`` arguments are built, importing their modules;
    kinds whose module this installation lacks are left out."""
    common = argparse.ArgumentParser(add_help=False)
    # SUPPRESS: given after the command it overrides, otherwise the global value stays
    common.add_argument("--home", metavar="DIR", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print JSON")
    formatter = argparse.RawDescriptionHelpFormatter

    parser = argparse.ArgumentParser(
        prog=prog,
        description="calsync-desktop from the command line: the Sales Calendar, its accounts "
        "and their sync.",
        epilog="Exit codes: 0 done, 1 failed, 2 bad input, 3 stopped by the mass-deletion guard.",
    )
    parser.add_argument(
        "--home",
        metavar="DIR",
        default=None,
        help="folder of the Sales Calendar (default: $CALSYNC_HOME, else the user data folder)",
    )
    parser.add_argument("--json", action="store_true", default=False, help="print JSON")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    # appointments
    appointments = commands.add_parser(
        "appointments", parents=[common], help="add, list, show, edit and delete appointments"
    )
    acts = appointments.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = acts.add_parser(
        "add",
        parents=[common],
        help="add an appointment",
        epilog=TIME_HELP,
        formatter_class=formatter,
    )
    _appointment_options(add, editing=False)
    add.set_defaults(func=cmd_appointments_add)

    listing = acts.add_parser(
        "list",
        parents=[common],
        help=f"the appointments of the next {LIST_DAYS} days, or --from/--to",
        epilog=TIME_HELP + " A date alone as --to includes that day.",
        formatter_class=formatter,
    )
    listing.add_argument("--from", dest="date_from", metavar="ISO", help="from (default: today)")
    listing.add_argument(
        "--to",
        dest="date_to",
        metavar="ISO",
        help=f"until (default: {LIST_DAYS} days after the start)",
    )
    listing.add_argument("--zone", help="show times in this IANA zone (default: this computer's)")
    listing.add_argument(
        "--show-private", action="store_true", help="show private appointments' contents"
    )
    listing.set_defaults(func=cmd_appointments_list)

    show = acts.add_parser("show", parents=[common], help="one appointment in full")
    show.add_argument("id", help="the id, or its first characters as `list` shows them")
    show.add_argument("--show-private", action="store_true", help="show a private appointment")
    show.set_defaults(func=cmd_appointments_show)

    edit = acts.add_parser(
        "edit",
        parents=[common],
        help="change an appointment: only the options given change",
        epilog=TIME_HELP + " When only --start changes, the appointment keeps its length.",
        formatter_class=formatter,
    )
    edit.add_argument("id", help="the id, or its first characters as `list` shows them")
    _appointment_options(edit, editing=True)
    edit.set_defaults(func=cmd_appointments_edit)

    remove = acts.add_parser(
        "delete", parents=[common], help="delete an appointment (synced accounts follow)"
    )
    remove.add_argument("id", help="the id, or its first characters as `list` shows them")
    remove.set_defaults(func=cmd_appointments_delete)

    # export
    export = commands.add_parser(
        "export",
        parents=[common],
        help="write the Sales Calendar to an iCalendar (.ics) file",
        description="Private appointments are exported as busy blocks, without contents.",
        epilog=TIME_HELP,
        formatter_class=formatter,
    )
    export.add_argument("--ics", required=True, metavar="FILE", help="the file ('-': stdout)")
    export.add_argument("--from", dest="date_from", metavar="ISO", help="from (default: all)")
    export.add_argument("--to", dest="date_to", metavar="ISO", help="until (default: all)")
    export.add_argument("--zone", help="zone for --from/--to without an offset")
    export.set_defaults(func=cmd_export)

    # status, sync
    status = commands.add_parser(
        "status", parents=[common], help="accounts, their state, and counts"
    )
    status.set_defaults(func=cmd_status)

    sync = commands.add_parser(
        "sync",
        parents=[common],
        help="sync now, headless, and print a summary",
        description="Syncs every account that is not paused and does not need a sign-in, "
        "or the one named (which syncs even when paused).",
    )
    sync.add_argument("--account", metavar="NAME", help="only this account (name, email or id)")
    sync.add_argument(
        "--dry-run", action="store_true", help="print what the sync would do; change nothing"
    )
    guard = sync.add_mutually_exclusive_group()
    guard.add_argument(
        "--yes-delete",
        action="store_true",
        help="apply deletions even when the mass-deletion guard would stop",
    )
    guard.add_argument(
        "--restore-deleted",
        action="store_true",
        help="when the guard trips, bring the deleted appointments back instead",
    )
    sync.set_defaults(func=cmd_sync)

    # accounts
    accounts = commands.add_parser("accounts", parents=[common], help="calendar accounts")
    account_acts = accounts.add_subparsers(dest="action", metavar="ACTION", required=True)
    account_list = account_acts.add_parser("list", parents=[common], help="the accounts")
    account_list.set_defaults(func=cmd_accounts_list)
    account_remove = account_acts.add_parser(
        "remove",
        parents=[common],
        help="forget an account (the remote calendar is left as it is)",
    )
    account_remove.add_argument("account", metavar="NAME", help="name, email or id")
    account_remove.add_argument(
        "--delete-appointments",
        action="store_true",
        help="also delete its synced appointments from the Sales Calendar (default: keep them)",
    )
    account_remove.set_defaults(func=cmd_accounts_remove)
    account_add = account_acts.add_parser(
        "add",
        parents=[common],
        help="connect a calendar: " + ", ".join(KINDS),
        description="Use the same email address as your Sales Calendar profile (calsync "
        "profile); otherwise participant invite statuses may not sync.",
    )
    kind_parsers = account_add.add_subparsers(dest="kind", metavar="KIND", required=True)
    for kind in KINDS if kinds is None else kinds:
        module = _kind_module(kind)
        if module is None:
            continue
        sub = kind_parsers.add_parser(kind, parents=[common], help=KINDS[kind].label)
        module.configure_cli(sub)
        sub.add_argument("--calendar", metavar="ID", help="which calendar (default: the primary)")
        sub.add_argument(
            "--all-private",
            action="store_true",
            help="store everything this account brings in as private",
        )
        sub.add_argument("--name", dest="account_name", help="a name for the account")
        sub.add_argument(
            "--list-calendars", action="store_true", help="list the calendars and stop"
        )
        sub.set_defaults(func=cmd_accounts_add)

    # profile, settings
    profile = commands.add_parser(
        "profile", parents=[common], help="show or set your Sales Calendar profile"
    )
    profile.add_argument("--name", help="your name")
    profile.add_argument(
        "--email", help="your email: use the same address as your calendar accounts"
    )
    profile.set_defaults(func=cmd_profile)

    settings = commands.add_parser(
        "settings",
        parents=[common],
        help="show or set settings",
        description="Settings: " + ", ".join(_known_settings()),
    )
    settings.add_argument("key", nargs="?", metavar="KEY", help="one setting")
    settings.add_argument("value", nargs="?", metavar="VALUE", help="its new value")
    settings.set_defaults(func=cmd_settings)
    return parser


# --------------------------------------------------------------------------- main


def _prog() -> str:
    name = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else ""
    return name if name.startswith("calsync") else "calsync"


def main(argv: Sequence[str] | None = None, services: Services | None = None) -> int:
    """Run one command; returns the exit code.

    ``services`` lets a caller (the tests, the GUI process) run commands on
    Services it already has; ``--home`` is then ignored. Otherwise they are
    opened at ``--home`` and closed at the end.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    prog = _prog()
    parser = build_parser(prog, kinds=wanted_kinds(argv))
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse has printed the usage and the problem
        return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE
    own = services is None
    handlers = list(logging.getLogger().handlers)
    try:
        if own:
            try:
                services = Services.create(home=args.home)
            except OSError as error:
                print(f"{prog}: cannot open the Sales Calendar: {error}", file=sys.stderr)
                return EXIT_FAILED
            services.setup_logging()
        return args.func(args, services)
    except (UsageError, InvalidAppointment) as error:
        print(f"{prog}: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except ProviderError as error:
        # raised outside a sync (signing in, listing calendars): the error's own
        # sentence is the most precise, the explanation says what to do
        explanation = explain(error)
        print(f"{prog}: {str(error) or explanation.problem}", file=sys.stderr)
        print(f"  {explanation.fix}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # the reader (| head) went away: stop quietly, as the Python docs advise
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_FAILED
    finally:
        if own and services is not None:
            services.store.close()
            # called in-process (tests, the GUI's own process): leave logging as it was
            for handler in set(logging.getLogger().handlers) - set(handlers):
                logging.getLogger().removeHandler(handler)
                handler.close()


__all__ = [
    "UsageError",
    "appointment_view",
    "build_ics",
    "build_parser",
    "local_zone_name",
    "main",
    "occurrence_view",
    "parse_participant",
    "parse_time",
    "wanted_kinds",
]
