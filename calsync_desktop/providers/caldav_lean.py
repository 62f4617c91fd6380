"""A lean reader of the VEVENTs of a CalDAV calendar resource (RFC 5545), for
:func:`calsync_desktop.providers.caldav_ics.read_event`.

Reading a listing of thousands of events, icalendar spends most of its time
building its general model (content lines, parameter dictionaries, value
objects) of properties calsync never looks at. This reader unfolds the text,
splits each content line once and keeps a VEVENT's properties as they are;
it decodes only what the mapping asks for (``get``, ``decoded``), in the
shapes icalendar gives, so one mapping serves both readers.

It reads the common case only and says so when it does not
(:func:`vevents` returns None); icalendar then reads the resource as before:

- recurrence (RRULE, RDATE, EXDATE, RECURRENCE-ID, more than one VEVENT);
- a TZID the time zone database does not have under that very name (custom
  and Windows zone names, vendor prefixes: icalendar's VTIMEZONE and
  Windows-name handling), a date with a TZID, a UTC time with a TZID;
- a VALUE parameter other than DATE / DATE-TIME on DTSTART / DTEND;
- anything icalendar reads leniently or refuses: white space, backslashes or
  RFC 6868 ``^`` escapes among the parameters, a parameter with several
  values or given twice, a property asked for that appears twice, control
  characters, an unclosed or mismatched component, content outside the one
  VCALENDAR, a value that is not a date, time or duration of the strict form.

What it reads is what icalendar reads, to the value: names and parameter
names in any case, line folding as icalendar unfolds it (a CRLF or LF and any
blank lines before a space or tab), backslash escapes (``\\n``, ``\\N``,
``\\,``, ``\\;``, ``\\:``, ``\\\\``) in the values of the properties icalendar
types and not in X- properties, quoted parameter values. Times with a TZID
are in that ``ZoneInfo`` zone (icalendar resolves a zone the database has
through the database, whatever its VTIMEZONE says), UTC times in
``ZoneInfo("UTC")``, floating times naive. tests/providers/test_caldav_lean.py
holds each case against icalendar.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# icalendar's own unfolding (icalendar.parser.content_line.UFOLD: the
# quadratic-free form of ``(\r?\n)+[ \t]``) and its unescaping of values
# (icalendar.parser.property.unescape_backslash)
_FOLD = re.compile(r"(?:(?<!\n)\r\n|(?<![\r\n])\n)(?:\r?\n)*[ \t]")
_LINES = re.compile(r"\r?\n")
_UNESCAPE = re.compile(r"\\([\\,;:nN])")
_NAME = re.compile(r"[A-Za-z0-9-]+\Z")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_DATE_TIME = re.compile(r"(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)(Z?)\Z")
_DATE = re.compile(r"(\d{4})(\d\d)(\d\d)\Z")
_UTC = ZoneInfo("UTC")

#: properties whose presence sends the resource to icalendar
RECURRENCE = frozenset({"RRULE", "RDATE", "EXDATE", "EXRULE", "RECURRENCE-ID"})
#: properties that may appear more than once and are read as a list
LISTED = frozenset({"ATTENDEE", "X-ALT-DESC"})
#: the properties ``decoded`` reads, and what it reads them as
_TIMES = frozenset({"DTSTART", "DTEND", "DUE"})  # may carry a TZID or VALUE=DATE
_STAMPS = frozenset({"DTSTAMP", "LAST-MODIFIED", "CREATED"})  # date-time only


class Unusual(Exception):
    """Something this reader leaves to icalendar."""


@lru_cache(maxsize=1)
def _typed() -> frozenset[str]:
    """The names icalendar gives a value type (their values are unescaped); any
    other name (an X- property) is kept as written (icalendar's ``vUnknown``)."""
    from icalendar.prop import TypesFactory

    return frozenset(name.upper() for name in TypesFactory.instance().types_map)


@lru_cache(maxsize=512)
def _zone(tzid: str) -> ZoneInfo | None:
    """The database's zone of that very name, if icalendar resolves the TZID to it."""
    try:
        zone = ZoneInfo(tzid)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    from icalendar.timezone import tzp

    found = tzp.timezone(tzid)
    return zone if getattr(found, "key", None) == tzid else None


class Property(str):
    """A property's value as icalendar's ``str()`` of it gives it, with its
    parameters (upper-case names), read when first asked for."""

    __slots__ = ("_param_text", "_params")

    def __new__(cls, name: str, param_text: str, raw: str):
        text = _UNESCAPE.sub(_unescaped, raw) if "\\" in raw and name in _typed() else raw
        prop = super().__new__(cls, text)
        prop._param_text = param_text
        prop._params = None
        return prop

    @property
    def params(self) -> dict[str, str]:
        if self._params is None:
            self._params = _params(self._param_text) if self._param_text else {}
        return self._params


def _unescaped(found: re.Match) -> str:
    char = found.group(1)
    return "\n" if char in "nN" else char


class Vevent:
    """One VEVENT: ``get`` and ``decoded`` as icalendar's ``Event`` has them for
    the properties the mapping reads."""

    __slots__ = ("_props",)
    name = "VEVENT"

    def __init__(self) -> None:
        self._props: dict[str, list[Property]] = {}

    def add(self, name: str, prop: Property) -> None:
        self._props.setdefault(name, []).append(prop)

    def get(self, name: str, default=None):
        found = self._props.get(name.upper())
        if not found:
            return default
        if len(found) == 1:
            return found[0]
        if name.upper() in LISTED:
            return list(found)
        raise Unusual(f"{name} appears {len(found)} times")

    def decoded(self, name: str):
        name = name.upper()
        prop = self.get(name)
        if prop is None:
            raise KeyError(name)
        if name == "DURATION":
            return _duration(prop)
        if name in _TIMES:
            return _time(prop)
        if name in _STAMPS:
            if prop.params:
                raise Unusual(f"{name} with parameters")
            return _date_time(prop, None)
        raise Unusual(f"{name} is not read here")


def _duration(prop: Property) -> timedelta:
    from icalendar.prop import vDuration

    if prop.params:
        raise Unusual("DURATION with parameters")
    try:
        return vDuration.from_ical(str(prop))
    except (ValueError, OverflowError) as exc:
        raise Unusual(str(exc)) from None


def _time(prop: Property) -> datetime | date:
    params = prop.params
    if set(params) - {"TZID", "VALUE"}:
        raise Unusual("a time with other parameters")
    kind = params.get("VALUE", "").upper()
    tzid = params.get("TZID")
    if kind not in ("", "DATE", "DATE-TIME") or (kind and tzid is not None):
        raise Unusual("a VALUE parameter icalendar reads its own way")
    value = str(prop)
    if kind == "DATE" or (not kind and len(value) == 8):
        if tzid is not None:
            raise Unusual("a date with a TZID")
        found = _DATE.match(value)
        if found is None:
            raise Unusual(f"not a date: {value!r}")
        try:
            return date(int(found[1]), int(found[2]), int(found[3]))
        except ValueError as exc:
            raise Unusual(str(exc)) from None
    zone = None
    if tzid is not None:
        zone = _zone(tzid)
        if zone is None:
            raise Unusual(f"a zone the database does not have as such: {tzid!r}")
    return _date_time(prop, zone)


def _date_time(prop: Property, zone: ZoneInfo | None) -> datetime:
    found = _DATE_TIME.match(str(prop))
    if found is None:
        raise Unusual(f"not a date-time: {str(prop)!r}")
    if found[7] and zone is not None:
        raise Unusual("a UTC time with a TZID")
    year, month, day, hour, minute, second, _utc = found.groups()
    try:
        value = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second))
    except ValueError as exc:
        raise Unusual(str(exc)) from None
    if zone is not None:
        return value.replace(tzinfo=zone)
    return value.replace(tzinfo=_UTC) if found[7] else value


def _params(text: str) -> dict[str, str]:
    """``;A=1;B="x:y"`` → ``{"A": "1", "B": "x:y"}``; anything else is unusual."""
    params: dict[str, str] = {}
    for part in _split_params(text):
        key, sep, value = part.partition("=")
        key = key.upper()
        if not sep or not _NAME.match(key) or key in params:
            raise Unusual("a parameter icalendar reads its own way")
        if value.startswith('"'):
            if len(value) < 2 or not value.endswith('"') or '"' in value[1:-1]:
                raise Unusual("a parameter with several or broken quoted values")
            value = value[1:-1]
        elif any(c in value for c in '",:;') or value != value.strip(" \t"):
            raise Unusual("a parameter with several values, or white space around one")
        if "^" in value:
            raise Unusual("an RFC 6868 escape")
        params[key] = value
    return params


def _split_params(text: str) -> list[str]:
    if '"' not in text:
        return text.split(";")
    parts, start, quoted = [], 0, False
    for i, char in enumerate(text):
        if char == '"':
            quoted = not quoted
        elif char == ";" and not quoted:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def _split(line: str) -> tuple[str, str, str]:
    """A content line's name, parameter text (without the first ``;``) and value."""
    colon = line.find(":")
    if colon <= 0:
        raise Unusual("a line without a value")
    head = line[:colon]
    if '"' in head:  # a colon inside a quoted parameter value
        quoted = False
        for i, char in enumerate(line):
            if char == '"':
                quoted = not quoted
            elif char == ":" and not quoted:
                colon = i
                break
        else:
            raise Unusual("a line without a value")
        head = line[:colon]
    if "\\" in head:
        raise Unusual("a backslash before the value")
    name, semicolon, params = head.partition(";")
    if not _NAME.match(name):
        raise Unusual(f"not a property name: {name!r}")
    if semicolon and not params:
        raise Unusual("an empty parameter list")
    return name.upper(), params, line[colon + 1 :]


def vevents(text: str) -> list[Vevent] | None:
    """The resource's VEVENTs (none for a task or journal entry), or None when
    the resource is one that icalendar reads (see the module's docstring)."""
    try:
        return _read(text)
    except Unusual:
        return None


def _read(text: str) -> list[Vevent]:
    if _CONTROL.search(text) is not None:
        raise Unusual("control characters")
    if "\n " in text or "\n\t" in text:
        text = _FOLD.sub("", text)
    lines = [line for line in _LINES.split(text) if line]
    if not lines or lines[0].upper() != "BEGIN:VCALENDAR" or lines[-1].upper() != "END:VCALENDAR":
        raise Unusual("not one VCALENDAR")
    found: list[Vevent] = []
    stack = ["VCALENDAR"]
    event: Vevent | None = None
    for line in lines[1:-1]:
        if "\r" in line:
            raise Unusual("a bare carriage return")
        if event is None and len(stack) > 1 and line[:1] not in "bBeE":
            continue  # a line of a VTIMEZONE, VTODO…: only its BEGIN and END matter
        name, params, value = _split(line)
        if name == "BEGIN" or name == "END":
            if params:
                raise Unusual("parameters on BEGIN or END")
            component = value.upper()
            if name == "BEGIN":
                if component == "VCALENDAR" or (component == "VEVENT" and len(stack) > 1):
                    raise Unusual("a nested VCALENDAR or VEVENT")
                stack.append(component)
                if component == "VEVENT":
                    event = Vevent()
                    found.append(event)
                continue
            if len(stack) < 2 or stack[-1] != component:
                raise Unusual("a component ended that is not the one open")
            stack.pop()
            if component == "VEVENT":
                event = None
            continue
        if event is not None and len(stack) == 2:
            if name in RECURRENCE:
                raise Unusual("recurrence")
            event.add(name, Property(name, params, value))
        elif len(stack) == 1 and name in RECURRENCE:
            raise Unusual("recurrence outside an event")
    if len(stack) != 1:
        raise Unusual("a component left open")
    if len(found) > 1:
        raise Unusual("more than one VEVENT")
    return found
