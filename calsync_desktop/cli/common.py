"""What every command group shares: exit codes, bad-input errors, output
helpers that hide private appointments, times, and finding things by id."""

from __future__ import annotations

import argparse
import json
import re
import sys
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from calsync_desktop.accounts.base import Account
from calsync_desktop.model import Appointment, InvalidAppointment, validate_zone
from calsync_desktop.services import Services

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_STOPPED = 3
EXIT_INTERRUPTED = 130

PRIVATE_TITLE = "Private appointment"

# Bounds for "everything": the store keeps times as fixed-width text, so both
# ends must have four-digit years.
FAR_PAST = datetime(1000, 1, 1, tzinfo=UTC)
FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)

FIRST_YEAR, LAST_YEAR = FAR_PAST.year + 1, FAR_FUTURE.year - 2
"""The years a time given on the command line may fall in: inside the bounds,
with room for a series or an all-day end to go on past it."""

TIME_HELP = (
    "Times are ISO 8601 with an offset or Z (2026-11-24T09:00+01:00, 2026-11-24T08:00Z). "
    "A time without an offset (2026-11-24T09:00 or '2026-11-24 09:00') is read in --zone, "
    "else in this computer's time zone; a date alone means midnight."
)

_DATE_ONLY = re.compile(r"\d{4}-?\d{2}-?\d{2}")
EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+$")


class UsageError(Exception):
    """Bad input: printed as one line on stderr, exit code 2."""


@dataclass
class Commands:
    """Where a command group adds its commands: each module of this package has
    ``register(commands: Commands)`` (see :data:`calsync_desktop.cli.COMMAND_GROUPS`).

    Every command takes ``--home`` and ``--json`` before or after its name;
    :meth:`add` gives it those. ``kinds`` are the account kinds whose modules
    this command line may load (None: all).
    """

    subparsers: argparse._SubParsersAction
    common: argparse.ArgumentParser
    kinds: Sequence[str] | None = None

    def add(self, name: str, **kwargs: Any) -> argparse.ArgumentParser:
        """A command (or a group of actions) called ``name``."""
        return self.subparsers.add_parser(name, parents=[self.common], **kwargs)

    def actions(
        self,
        group: argparse.ArgumentParser,
        dest: str = "action",
        metavar: str = "ACTION",
        required: bool = True,
    ) -> Commands:
        """Where the actions of the group ``group`` go (``calsync accounts list``).
        Not ``required``: the group's own ``func`` runs without an action."""
        subparsers = group.add_subparsers(dest=dest, metavar=metavar, required=required)
        return Commands(subparsers, self.common, self.kinds)


# --------------------------------------------------------------------------- output


def read_stdin(option: str, first_line: bool = False) -> str:
    """Standard input as text (only its first line, for a password): UTF-8, or a
    usage error saying so."""
    stream = getattr(sys.stdin, "buffer", None)
    if stream is None:  # already text (a caller's own stream)
        text = sys.stdin.readline() if first_line else sys.stdin.read()
    else:
        data = stream.readline() if first_line else stream.read()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            raise UsageError(
                f"{option}: standard input is not UTF-8 text (byte {error.start + 1} is not); "
                "save it as UTF-8 and try again."
            ) from None
    return text.rstrip("\r\n") if first_line else text


#: every control character but newline, carriage return (an iCalendar export's
#: line ends) and tab, written as ``\\uXXXX``: text
#: from a calendar (a title, a location) never moves the cursor, retitles or
#: clears the terminal, and in JSON the same escape is the character itself
_CONTROLS = {
    c: f"\\u{c:04x}"
    for c in range(0xA0)  # the Cc characters: C0, DEL and C1
    if unicodedata.category(chr(c)) == "Cc" and chr(c) not in "\n\r\t"
}


class TerminalSafe:
    """An output stream (standard output or error) that writes control
    characters as ``\\uXXXX``; everything else goes to ``stream`` as it is."""

    def __init__(self, stream):
        self.stream = stream

    def write(self, text: str) -> int:
        self.stream.write(text.translate(_CONTROLS))
        return len(text)

    def __getattr__(self, name: str):
        return getattr(self.stream, name)


def print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def field_json(name: str, value: Any) -> Any:
    """A merge field's value (:class:`~calsync_desktop.sync.snapshot.Fields`, or
    lists for its tuples) as ``--json`` gives it: a time as its start and end,
    participants and an organiser as ``appointments show`` gives them, a
    changed occurrence as its fields; a list, a mapping or a scalar stays one
    (never JSON text inside a string)."""
    if value is None:
        return None
    if name == "time":
        start, end = value
        return {"start": start, "end": end}
    if name == "participants":
        return [{"name": n, "email": e} for n, e in value]
    if name == "organizer":
        n, e, modify = value
        return {"name": n, "email": e, "guests_can_modify": modify}
    if name == "overrides":
        return {
            original: dict(zip(("contents", "location", "start", "end"), o, strict=True))
            for original, o in sorted(value.items())
        }
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, tuple | list):
        return list(value)
    return value


def iso(value: datetime | None, zone: ZoneInfo | None = None) -> str | None:
    if value is None:
        return None
    return value.astimezone(zone or UTC).isoformat()


def when(value: datetime, zone: ZoneInfo) -> str:
    return value.astimezone(zone).strftime("%a %d %b %Y %H:%M")


def time_span(start: datetime, end: datetime, zone: ZoneInfo) -> str:
    """ "Tue 24 Nov 2026 09:00–10:00" (the end's day too when it is another)."""
    s, e = start.astimezone(zone), end.astimezone(zone)
    if s.date() == e.date():
        return f"{when(s, zone)}–{e:%H:%M}"
    return f"{when(s, zone)} – {when(e, zone)}"


def logged_value(field: str, text: str, zone: ZoneInfo) -> str:
    """A value the history or the conflict log keeps, as the other commands
    show it: a time span ("2026-11-24T08:00:00+00:00 – …") in ``zone``."""
    if field != "time" or " – " not in text:
        return text
    try:
        start, end = (datetime.fromisoformat(p.strip()) for p in text.split(" – ", 1))
    except ValueError:
        return text
    if start.tzinfo is None or end.tzinfo is None:
        return text
    return time_span(start, end, zone)


def hidden(private: bool, args: argparse.Namespace) -> bool:
    """Whether a private appointment's contents stay hidden in this command's output."""
    return private and not getattr(args, "show_private", False)


def title(contents: str, private: bool, args: argparse.Namespace) -> str:
    if hidden(private, args):
        return PRIVATE_TITLE
    return contents.split("\n", 1)[0] or "(no title)"


def short(appointment_id: str) -> str:
    return appointment_id[:8]


def quoted(text: str) -> str:
    """A title in quotes as the user wrote it (apostrophes, emoji joined by
    U+200D and all), only control characters escaped so none reaches the terminal."""
    shown = "".join(
        c.encode("unicode_escape").decode() if unicodedata.category(c) == "Cc" else c for c in text
    )
    return f"'{shown}'"


def quote(text: str) -> str:
    """``text`` as a shell word, for the commands we suggest."""
    return text if re.fullmatch(r"[\w@.+-]+", text) else "'" + text.replace("'", "'\\''") + "'"


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


def zone(name: str) -> ZoneInfo:
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
        if value.tzinfo is None:
            aware = value.replace(tzinfo=zone)
            exists = aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == value
        else:
            aware, exists = value, True
        value = aware.astimezone(UTC)
    except OverflowError:  # a time at the very edge of the calendar, moved to UTC
        raise UsageError(_out_of_range(option, text)) from None
    except ValueError:
        raise UsageError(
            f"{option}: {text!r} is not an ISO 8601 date and time "
            "(for example 2026-11-24T09:00+01:00, 2026-11-24T08:00Z or '2026-11-24 09:00')."
        ) from None
    if not exists:
        raise UsageError(f"{option}: {text} does not exist in {zone.key} (the clocks change then).")
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise UsageError(_out_of_range(option, text))
    return value, date_only


def _out_of_range(option: str, text: str) -> str:
    return f"{option}: {text} is out of range (years {FIRST_YEAR} to {LAST_YEAR})."


def day_start(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def last_day(end: datetime, zone: ZoneInfo) -> date:
    """The last calendar day an appointment ending at ``end`` (exclusive) touches."""
    local = end.astimezone(zone)
    return local.date() - timedelta(days=1) if local.time() == time(0) else local.date()


def date_range(
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
        end = day_start(start.astimezone(zone).date() + timedelta(days=days), zone)
    if args.date_to:
        end, date_only = parse_time(args.date_to, zone, "--to")
        if date_only:
            end = day_start(end.astimezone(zone).date() + timedelta(days=1), zone)
    if end <= start:
        raise UsageError("--to must be later than --from.")
    return start, end


# --------------------------------------------------------------------------- finding things


def find_appointment(services: Services, text: str) -> Appointment:
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


def find_account(services: Services, text: str) -> Account:
    """An account by id, name or email (or a unique beginning of its id)."""
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


def add_account_option(parser: argparse.ArgumentParser) -> None:
    """``--account NAME``: one account only, by name, email or id."""
    parser.add_argument("--account", metavar="NAME", help="only this account (name, email or id)")


def chosen_account_id(args: argparse.Namespace, services: Services) -> str | None:
    """The id of the account ``--account`` names, None without it."""
    return find_account(services, args.account).id if args.account else None


def account_names(services: Services) -> dict[str, str]:
    return {a.id: a.name for a in services.store.list_accounts()}
