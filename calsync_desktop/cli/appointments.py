"""``calsync appointments add | list | show | edit | respond | delete``."""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from calsync_desktop import editing, meetings
from calsync_desktop.accounts import default_account_id
from calsync_desktop.cli.common import (
    EMAIL,
    EXIT_OK,
    PRIVATE_TITLE,
    TIME_HELP,
    Commands,
    UsageError,
    account_names,
    date_range,
    day_start,
    find_appointment,
    hidden,
    iso,
    last_day,
    local_zone_name,
    parse_time,
    print_json,
    quoted,
    read_stdin,
    short,
    time_span,
    title,
    when,
    zone,
)
from calsync_desktop.model import (
    Appointment,
    InviteStatus,
    MyResponse,
    Occurrence,
    Participant,
    Recurrence,
    ShowAs,
    new_id,
    validate,
    validate_rrule,
)
from calsync_desktop.services import Services
from calsync_desktop.words import count

LIST_DAYS = 30
"""``appointments list`` without ``--to`` shows this many days."""

_NAME_EMAIL = re.compile(r"^(?P<name>.*?)\s*<(?P<email>[^<>]*)>\s*$")


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
    if email and not EMAIL.match(email):
        raise UsageError(f"--participant: {email!r} is not an email address.")
    if not name and not email:
        raise UsageError("--participant: give a name, an email, or 'Name <email>'.")
    return Participant(name or email, email or None)


def _participants(texts: Iterable[str], old: Iterable[Participant] = ()) -> tuple[Participant, ...]:
    """The participants given, each address once (case aside: a calendar service
    keeps one guest per address and refuses the whole event otherwise)."""
    people = [parse_participant(t) for t in texts]
    seen: set[str] = set()
    for p in people:
        if p.email and p.email.lower() in seen:
            raise UsageError(f"--participant: {p.email} is given twice.")
        seen.add((p.email or "").lower())
    return editing.keep_answers(people, old)


# --------------------------------------------------------------------------- views


def appointment_view(
    a: Appointment, args: argparse.Namespace, accounts: Mapping[str, str]
) -> dict[str, Any]:
    """The JSON form of an appointment, private parts hidden unless asked for."""
    tz = ZoneInfo(a.timezone)
    secret = hidden(a.private, args)
    recurrence = None
    if a.recurrence is not None:
        overrides = []
        for o in a.recurrence.overrides:
            item = {
                "original_start": iso(o.original_start, tz),
                "start": iso(o.start, tz),
                "end": iso(o.end, tz),
            }
            if not secret:
                item.update(contents=o.contents, location=o.location)
            overrides.append(item)
        recurrence = {
            "rrule": a.recurrence.rrule,
            "exdates": [iso(x, tz) for x in sorted(a.recurrence.exdates)],
            "overrides": overrides,
        }
    view = {
        "id": a.id,
        "title": title(a.contents, a.private, args),
        "contents": PRIVATE_TITLE if secret else a.contents,
        "location": "" if secret else a.location,
        "start": iso(a.start, tz),
        "end": iso(a.end, tz),
        "timezone": a.timezone,
        "all_day": a.all_day,
        "private": a.private,
        "participants": []
        if secret
        else [{"name": p.name, "email": p.email, "status": p.status.value} for p in a.participants],
        "recurrence": recurrence,
        "account": accounts.get(a.account_id) if a.account_id else None,
        "organizer": None
        if secret or a.organizer is None
        else {"name": a.organizer.name, "email": a.organizer.email},
        "my_response": a.my_response.value,
        "created": iso(a.created),
        "modified": iso(a.modified),
        "show_as": a.show_as.value,
    }
    if not secret:
        view.update(meeting_view(a))
    if secret:
        view["hidden"] = True
    return view


def meeting_view(a: Appointment) -> dict[str, Any]:
    """The online meeting and the organiser of an appointment (never of a hidden one)."""
    return {
        "join_url": a.join_url or None,
        "organizer": {
            "name": a.organizer.name,
            "email": a.organizer.email,
            "guests_can_modify": a.organizer.guests_can_modify,
        }
        if a.organizer
        else None,
        "my_response": a.my_response.value if a.organizer else None,
    }


def occurrence_view(o: Occurrence, args: argparse.Namespace) -> dict[str, Any]:
    a = o.appointment
    tz = ZoneInfo(a.timezone)
    secret = hidden(a.private, args)
    view = {
        "id": a.id,
        "title": title(o.contents, a.private, args),
        "contents": PRIVATE_TITLE if secret else o.contents,
        "location": "" if secret else o.location,
        "start": iso(o.start, tz),
        "end": iso(o.end, tz),
        "timezone": a.timezone,
        "all_day": a.all_day,
        "private": a.private,
        "recurring": a.recurrence is not None,
        "original_start": iso(o.original_start, tz),
        "show_as": a.show_as.value,
    }
    if secret:
        view["hidden"] = True
    return view


def span_text(start: datetime, end: datetime, all_day: bool, tz: ZoneInfo) -> str:
    if all_day:
        first, last = start.astimezone(tz).date(), last_day(end, tz)
        if last <= first:
            return f"{first:%a %d %b %Y}, all day"
        return f"{first:%a %d %b %Y} – {last:%a %d %b %Y}, all day"
    return time_span(start, end, tz)


RESPONSE_TEXT = {
    MyResponse.NONE: "not answered yet",
    MyResponse.ACCEPTED: "accepted",
    MyResponse.TENTATIVE: "tentative",
    MyResponse.DECLINED: "declined",
}


def _status_text(status: InviteStatus) -> str:
    return status.value.replace("_", " ")


def _print_appointment(
    a: Appointment, args: argparse.Namespace, accounts: Mapping[str, str], tz_name: str
) -> None:
    """``a`` in full, its times in ``tz_name`` (as ``list`` shows them), with
    its own zone when that is another."""
    tz = zone(tz_name)
    secret = hidden(a.private, args)
    rows: list[tuple[str, str]] = [
        ("id", a.id),
        ("when", f"{span_text(a.start, a.end, a.all_day, tz)} ({tz_name})"),
    ]
    if a.timezone != tz_name and not a.all_day:
        rows.append(("time zone", a.timezone))
    if not secret and a.location:
        rows.append(("location", a.location))
    if a.private:
        rows.append(("private", "yes" + (" (use --show-private to read it)" if secret else "")))
    rows.append(("show as", a.show_as.label.lower()))
    if a.join_url and not secret:
        rows.append(("join", a.join_url))
    if a.recurrence is not None:
        repeat = a.recurrence.rrule
        if a.recurrence.exdates:
            skipped = ", ".join(when(x, tz) for x in sorted(a.recurrence.exdates))
            repeat += f"; except {skipped}"
        if a.recurrence.overrides:
            repeat += f"; {count(len(a.recurrence.overrides), 'occurrence')} changed"
        rows.append(("repeats", repeat))
    if a.participants and not secret:
        for i, p in enumerate(a.participants):
            who = f"{p.name} <{p.email}>" if p.email else f"{p.name} (no email: not synced)"
            rows.append(("participants" if i == 0 else "", f"{who}, {_status_text(p.status)}"))
    if a.organizer is not None:
        if not secret:
            organiser = meetings.organiser_named(a)
            if meetings.guests_may_edit(a):
                organiser += " (lets the guests change the meeting)"
            rows.append(("organiser", organiser))
        answer = RESPONSE_TEXT[a.my_response]
        rows.append(
            ("your answer", answer + " (calsync appointments respond ID accept|tentative|decline)")
        )
        if not meetings.guests_may_edit(a):
            rows.append(("read-only", "only the organiser can change this meeting"))
    if a.account_id:
        rows.append(("account", accounts.get(a.account_id, a.account_id)))
    if a.all_day:
        rows.append(("sync", "all-day appointments stay in the Sales Calendar"))
    rows.append(("modified", when(a.modified, tz)))
    print(title(a.contents, a.private, args))
    for label, value in rows:
        print(f"  {label + ':' if label else '':<14}{value}")
    _, rest = a.contents.partition("\n")[::2]
    if rest.strip() and not secret:
        print()
        print(rest.rstrip())


# --------------------------------------------------------------------------- reading options


def _read_contents(value: str) -> str:
    if value == "-":
        value = read_stdin("--contents -")
    return value.strip()


def _rule(text: str | None) -> str | None:
    """``--rrule`` as given: None when absent, '' when it stops the series."""
    if text is None:
        return None
    rule = text.strip()
    if rule.upper().startswith("RRULE:"):
        rule = rule[len("RRULE:") :]
    return "" if rule.lower() == "none" else rule


def _exdates(
    texts: Sequence[str], recurrence: Recurrence, start: datetime, tz: str
) -> tuple[datetime, ...]:
    out = []
    for text in texts:
        value, date_only = parse_time(text, ZoneInfo(tz), "--exdate")
        # a date names the occurrence on that day
        original = editing.occurrence_named(recurrence, start, tz, value, whole_day=date_only)
        if original is None:
            raise UsageError(f"--exdate: {text} is not an occurrence of the series.")
        out.append(original)
    return tuple(out)


def _times(
    args: argparse.Namespace, tz: ZoneInfo, all_day: bool, old: Appointment | None
) -> tuple[datetime, datetime]:
    """Start and end from ``--start``/``--end``, for a new appointment or an edit.

    All-day appointments run from midnight of the first day to midnight after
    the last one (``--end`` names the last day). Moving only the start of an
    edit keeps its length.
    """
    start = end = None
    start_date_only = end_date_only = False
    if args.start:
        start, start_date_only = parse_time(args.start, tz, "--start")
    if args.end:
        end, end_date_only = parse_time(args.end, tz, "--end")
    if old is None and start is None:
        raise UsageError("--start is required.")
    if all_day:
        first = (start or old.start).astimezone(tz).date()
        if end is not None:
            last = end.astimezone(tz).date()
        elif old is not None and start is not None and old.all_day:
            # moving an all-day appointment keeps its number of days
            last = first + (last_day(old.end, tz) - old.start.astimezone(tz).date())
        elif old is not None and start is None:
            last = last_day(old.end, tz)
        else:
            last = first
        if last < first:
            raise UsageError("The appointment ends before it starts.")
        return day_start(first, tz), day_start(last + timedelta(days=1), tz)
    if start_date_only or end_date_only:
        raise UsageError("A date without a time is for --all-day appointments; add a time.")
    if old is None:
        if end is None:
            raise UsageError("--end is required (or use --all-day).")
        return start, end
    if start is not None and end is None:
        end = start + (old.end - old.start)
    return start or old.start, end or old.end


# --------------------------------------------------------------------------- commands


def cmd_add(args: argparse.Namespace, services: Services) -> int:
    tz = args.zone or local_zone_name(services.env)
    start, end = _times(args, zone(tz), args.all_day, None)
    rule = _rule(args.rrule)
    recurrence = None
    if rule:
        recurrence = Recurrence(rule)
        validate_rrule(recurrence.rrule, start, tz)
        if args.exdate:
            recurrence = editing.leave_out(recurrence, _exdates(args.exdate, recurrence, start, tz))
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
        show_as=ShowAs.parse(args.show_as) if args.show_as else ShowAs.BUSY,
    )
    saved = services.store.add_appointment(validate(appointment))
    return _report_saved(saved, args, services, "Added")


def cmd_edit(args: argparse.Namespace, services: Services) -> int:
    old = find_appointment(services, args.id)
    tz = args.zone or old.timezone
    all_day = old.all_day if args.all_day is None else args.all_day
    start, end = _times(args, zone(tz), all_day, old)
    rule = _rule(args.rrule)
    if rule is None:
        rule = old.recurrence.rrule if old.recurrence else None
    recurrence = editing.edit_recurrence(old, rule, start, tz)
    if recurrence is not None:
        validate_rrule(recurrence.rrule, start, tz)
    if args.exdate:
        if recurrence is None:
            raise UsageError("--exdate is for repeating appointments; this one does not repeat.")
        recurrence = editing.leave_out(recurrence, _exdates(args.exdate, recurrence, start, tz))
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
        show_as=old.show_as if args.show_as is None else ShowAs.parse(args.show_as),
    )
    meetings.check_edit(old, changed, _kind_of(services, old))
    saved = services.store.update_appointment(validate(changed))
    return _report_saved(saved, args, services, "Changed")


def _kind_of(services: Services, a: Appointment) -> str | None:
    """The kind of the account ``a`` is linked to (None: not linked)."""
    account = services.store.get_account(a.account_id) if a.account_id else None
    return account.kind if account is not None else None


def cmd_respond(args: argparse.Namespace, services: Services) -> int:
    a = find_appointment(services, args.id)
    saved = services.store.update_appointment(meetings.respond(a, meetings.ANSWERS[args.answer]))
    if args.json:
        print_json(appointment_view(saved, args, account_names(services)))
        return EXIT_OK
    name = title(saved.contents, saved.private, args)
    print(f"Your answer to {quoted(name)}: {RESPONSE_TEXT[saved.my_response]}.")
    print("  The next sync sends it to the organiser as your response.")
    if meetings.declined(saved):
        print("  It stays in the Sales Calendar, struck through, and is not busy time.")
    return EXIT_OK


def _report_saved(
    saved: Appointment, args: argparse.Namespace, services: Services, verb: str
) -> int:
    if args.json:
        print_json(appointment_view(saved, args, account_names(services)))
        return EXIT_OK
    tz = ZoneInfo(saved.timezone)
    span = span_text(saved.start, saved.end, saved.all_day, tz)
    print(f"{verb} {quoted(title(saved.contents, saved.private, args))}, {span} ({saved.timezone})")
    print(f"  id: {saved.id}")
    if saved.all_day:
        print("  All-day appointments stay in the Sales Calendar: they are not synced.")
    unsynced = [p.name for p in saved.participants if not p.email] if not saved.private else []
    if unsynced:
        print(f"  Without an email address, not synced: {', '.join(unsynced)}")
    return EXIT_OK


def cmd_list(args: argparse.Namespace, services: Services) -> int:
    tz_name = args.zone or local_zone_name(services.env)
    tz = zone(tz_name)
    today = services.clock().astimezone(tz).date()
    start, end = date_range(args, tz, day_start(today, tz), LIST_DAYS)
    found = services.store.occurrences_between(start, end)
    if args.json:
        print_json([occurrence_view(o, args) for o in found])
        return EXIT_OK
    if not found:
        print(f"No appointments from {when(start, tz)} to {when(end, tz)} ({tz_name}).")
        return EXIT_OK
    day = None
    for o in found:
        a = o.appointment
        local = o.start.astimezone(tz)
        if local.date() != day:
            day = local.date()
            print(f"{day:%a %d %b %Y}")
        if a.all_day:
            span = "all day    "
        else:
            end_local = o.end.astimezone(tz)
            end_text = (
                f"{end_local:%H:%M}" if end_local.date() == day else f"{end_local:%d %b %H:%M}"
            )
            span = f"{local:%H:%M}–{end_text}"
        text = title(o.contents, a.private, args)
        if o.location and not hidden(a.private, args):
            text += f" @ {o.location}"
        if a.recurrence is not None:
            text += " [repeats]"
        if meetings.declined(a):
            text += " [declined]"
        print(f"  {span:<11}  {short(a.id)}  {text}")
    return EXIT_OK


def cmd_show(args: argparse.Namespace, services: Services) -> int:
    a = find_appointment(services, args.id)
    accounts = account_names(services)
    if args.json:
        print_json(appointment_view(a, args, accounts))
    else:
        _print_appointment(a, args, accounts, args.zone or local_zone_name(services.env))
    return EXIT_OK


def cmd_delete(args: argparse.Namespace, services: Services) -> int:
    a = find_appointment(services, args.id)
    linked = [
        account.name
        for account in services.store.list_accounts()
        if services.store.status_for(account.id, [a.id])
    ]
    services.store.delete_appointment(a.id)
    if args.json:
        print_json({"deleted": a.id, "deletion_syncs_to": linked})
        return EXIT_OK
    print(f"Deleted {quoted(title(a.contents, a.private, args))} ({a.id}).")
    if linked:
        print(f"  The next sync deletes it from {', '.join(linked)} too.")
    return EXIT_OK


# --------------------------------------------------------------------------- parser


def _appointment_options(parser: argparse.ArgumentParser, editing_one: bool) -> None:
    parser.add_argument(
        "--contents",
        required=not editing_one,
        help="the text: first line is the title, the rest the description ('-' reads stdin)",
    )
    parser.add_argument("--start", required=not editing_one, help="start, ISO 8601 (see below)")
    parser.add_argument(
        "--end", help="end, ISO 8601; with --all-day the last day (default: the start day)"
    )
    parser.add_argument(
        "--zone",
        help="IANA time zone of the appointment, e.g. Europe/Berlin (default: "
        + ("its own zone" if editing_one else "this computer's zone")
        + ")",
    )
    parser.add_argument("--location", help="where it takes place")
    flag = argparse.BooleanOptionalAction if editing_one else "store_true"
    default = None if editing_one else False
    parser.add_argument(
        "--private",
        action=flag,
        default=default,
        help="private: shown and synced without contents",
    )
    parser.add_argument(
        "--show-as",
        metavar="AVAILABILITY",
        help="free, tentative, busy, out-of-office or working-elsewhere"
        + ("" if editing_one else " (default: busy)"),
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
        + ("; replaces the list, keeping known answers" if editing_one else ""),
    )
    if editing_one:
        parser.add_argument(
            "--clear-participants", action="store_true", help="remove all participants"
        )
    parser.add_argument(
        "--rrule",
        metavar="RULE",
        help="RFC 5545 recurrence rule, e.g. FREQ=WEEKLY;BYDAY=MO;COUNT=10"
        + ("; '' or none stops it repeating" if editing_one else ""),
    )
    parser.add_argument(
        "--exdate",
        action="append",
        metavar="ISO",
        help="an occurrence of the series to leave out (repeatable)",
    )


def register(commands: Commands) -> None:
    formatter = argparse.RawDescriptionHelpFormatter
    appointments = commands.add(
        "appointments", help="add, list, show, edit and delete appointments"
    )
    acts = commands.actions(appointments)
    add = acts.add("add", help="add an appointment", epilog=TIME_HELP, formatter_class=formatter)
    _appointment_options(add, editing_one=False)
    add.set_defaults(func=cmd_add)

    listing = acts.add(
        "list",
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
    listing.set_defaults(func=cmd_list)

    show = acts.add("show", help="one appointment in full")
    show.add_argument("id", help="the id, or its first characters as `list` shows them")
    show.add_argument("--show-private", action="store_true", help="show a private appointment")
    show.add_argument("--zone", help="show times in this IANA zone (default: this computer's)")
    show.set_defaults(func=cmd_show)

    edit = acts.add(
        "edit",
        help="change an appointment: only the options given change",
        epilog=TIME_HELP + " When only --start changes, the appointment keeps its length.",
        formatter_class=formatter,
    )
    edit.add_argument("id", help="the id, or its first characters as `list` shows them")
    _appointment_options(edit, editing_one=True)
    edit.set_defaults(func=cmd_edit)

    respond = acts.add(
        "respond",
        help="answer a meeting someone else organises: accept, tentative or decline",
        description="Your answer is sent by the next sync as a response to the organiser "
        "(never as a change of the meeting). A declined meeting stays in the Sales "
        "Calendar, struck through.",
    )
    respond.add_argument("id", help="the id, or its first characters as `list` shows them")
    respond.add_argument("answer", choices=tuple(meetings.ANSWERS), help="your answer")
    respond.set_defaults(func=cmd_respond)

    remove = acts.add("delete", help="delete an appointment (synced accounts follow)")
    remove.add_argument("id", help="the id, or its first characters as `list` shows them")
    remove.set_defaults(func=cmd_delete)


__all__ = ["appointment_view", "occurrence_view", "parse_participant", "register"]
