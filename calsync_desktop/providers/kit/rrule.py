"""Recurrence rules (RFC 5545 RRULE text, without ``RRULE:``), read one way
for the Sales Calendar and every service.

- :func:`rule_parts` reads a rule into its parts;
- :func:`until_instant` gives UNTIL one meaning: a date-only UNTIL includes
  that whole day (its end, 23:59:59, in the series' zone), so a series "until
  15 January" has its occurrence on the 15th on every service; a time without
  ``Z`` is in the series' zone;
- :func:`rule_set`, :func:`last_start` and :func:`occurrence_starts` are the
  one expansion (the model's :class:`~calsync_desktop.model.Recurrence` and
  the providers use them);
- :func:`has_occurrence` tells whether a rule gives any date, without walking
  to the year 9999 as dateutil does for one that gives none;
- :func:`repetition_problem` is the bound: the Sales Calendar holds series
  that repeat daily, weekly, monthly or yearly, at most :data:`MAX_COUNT`
  times. A service's series outside it is skipped with the reason instead of
  expanded (issue 10 #10: a rule repeating every second, or a billion times,
  once kept a sync busy for minutes), and no expansion walks further than
  :data:`MAX_EXPANSION` occurrences.

The one error for a rule a service cannot hold is
:class:`~calsync_desktop.providers.base.UnsupportedRecurrence`. This module
imports nothing of the product, so that the model can use it.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from math import lcm
from zoneinfo import ZoneInfo

from dateutil.rrule import DAILY, MONTHLY, WEEKLY, YEARLY, rrule, rruleset, rrulestr, weekday

MAX_COUNT = 999
"""Most occurrences a series may have (Outlook's own limit: Exchange's
NumberedRecurrence takes 1 to 999; Google's is similar)."""

FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
"""How often a series may repeat (what Outlook, Exchange and Office 365 can hold)."""

MAX_EXPANSION = 20_000
"""Most occurrences one expansion walks (a daily series of 55 years): beyond,
a series' UNTIL stands for its last start, and a series with a COUNT is
treated as one without an end."""

_TOO_OFTEN = {"SECONDLY": "every second", "MINUTELY": "every minute", "HOURLY": "every hour"}


def rule_parts(rule: str) -> dict[str, str]:
    """The parts of a rule by upper-case name (``FREQ``, ``COUNT``, …); values
    upper-cased, UNTIL as written."""
    parts = {}
    for piece in rule.strip().removeprefix("RRULE:").split(";"):
        if piece.strip():
            key, _, value = piece.partition("=")
            key = key.strip().upper()
            parts[key] = value.strip() if key == "UNTIL" else value.strip().upper()
    return parts


def until_instant(value: str, tz: str) -> datetime:
    """The last instant an UNTIL allows, for a series in zone ``tz``: a UTC time
    as it is, a local time in ``tz``, a date-only value to the end of that day
    in ``tz`` (the day's occurrence included). ValueError when unreadable."""
    value = value.strip().upper()
    if "T" not in value:
        day = datetime.strptime(value[:8], "%Y%m%d").date()
        return datetime.combine(day, time(23, 59, 59), tzinfo=ZoneInfo(tz))
    moment = datetime.strptime(value[:15], "%Y%m%dT%H%M%S")
    return moment.replace(tzinfo=UTC if value.endswith("Z") else ZoneInfo(tz))


def interval_ok(parts: dict[str, str]) -> bool:
    """Whether a rule's INTERVAL (of :func:`rule_parts`) moves on: a whole
    number from 1 (dateutil never ends expanding an INTERVAL of 0, and fails on
    a negative one)."""
    interval = parts.get("INTERVAL", "1")
    return interval.isdigit() and int(interval) >= 1


def repetition_problem(rule: str) -> str | None:
    """None for a rule the Sales Calendar holds, else what is wrong, in words
    fit for the skipped-items list ("it repeats every second")."""
    parts = rule_parts(rule)
    freq = parts.get("FREQ", "")
    if freq not in FREQUENCIES:
        return f"it repeats {_TOO_OFTEN.get(freq, 'in an unknown way')}"
    if not interval_ok(parts):
        return f"it repeats at an interval of {parts['INTERVAL']!r}"
    count = parts.get("COUNT", "")
    if count and (not count.isdigit() or not 1 <= int(count) <= MAX_COUNT):
        shown = f"{int(count):,}" if count.isdigit() else repr(count)
        return f"it repeats {shown} times"
    return None


def _utc_until(rule: str, tz: str) -> str:
    """``rule`` with its UNTIL in UTC (dateutil takes no other UNTIL with a
    zone-aware start)."""
    parts = rule.strip().removeprefix("RRULE:").split(";")
    for i, piece in enumerate(parts):
        key, _, value = piece.partition("=")
        if key.strip().upper() == "UNTIL" and not value.strip().upper().endswith("Z"):
            instant = until_instant(value, tz).astimezone(UTC)
            parts[i] = f"UNTIL={instant:%Y%m%dT%H%M%SZ}"
    return ";".join(parts)


def rule_set(rule: str, dtstart: datetime, tz: str) -> rruleset:
    """The occurrences of a series starting at ``dtstart``, at its wall time in ``tz``."""
    local_start = dtstart.astimezone(ZoneInfo(tz))
    return rrulestr("RRULE:" + _utc_until(rule, tz), dtstart=local_start, forceset=True)


def _rule(rule: str, dtstart: datetime, tz: str) -> rrule:
    return rrulestr("RRULE:" + _utc_until(rule, tz), dtstart=dtstart.astimezone(ZoneInfo(tz)))


def last_start(rule: str, dtstart: datetime, tz: str) -> datetime | None:
    """Start (UTC) of a series' last occurrence; None when it has no end.
    Beyond :data:`MAX_EXPANSION` occurrences: its UNTIL, or None."""
    expanded = _rule(rule, dtstart, tz)
    until = expanded._until
    if not (expanded._count or until):
        return None
    last = None
    for n, last in enumerate(expanded, 1):  # noqa: B007 - the final value is wanted
        if n >= MAX_EXPANSION:
            return until.astimezone(UTC) if until else None
    return last.astimezone(UTC) if last else dtstart


def occurrence_starts(rule: str, dtstart: datetime, tz: str, limit: int = 3000) -> list[datetime]:
    """UTC starts of a series' first ``limit`` occurrences, in order."""
    out = []
    for value in rule_set(rule, dtstart, tz):
        out.append(value.astimezone(UTC))
        if len(out) >= min(limit, MAX_EXPANSION):
            break
    return out


# --------------------------------------------------------------------------- occurrence


_EVERY_KIND_OF_YEAR = datetime(9971, 1, 1)
"""From 9971 to 9999, dateutil's last year: from 9901 on the calendar repeats
every 28 years (no century year goes without its leap day until 10000), and
in these years each of the 14 kinds of year (leap or not, its weekday on 1
January) comes, followed by each kind that can follow it: every year, month
and week of the calendar has its like here, weekday for weekday."""

_UNITS_PER_CYCLE = {YEARLY: 400, MONTHLY: 400 * 12, WEEKLY: 146_097 // 7, DAILY: 146_097}
"""The Gregorian calendar repeats exactly, weekdays included, every 400 years:
4,800 months, 20,871 weeks, 146,097 days."""

_LAST_YEAR = 9999
"""dateutil looks no further (``datetime.MAXYEAR``)."""


def has_occurrence(expanded: rrule) -> bool:
    """Whether a rule (as dateutil reads it, with its start) gives any date.

    dateutil looks for the first date up to the year 9999, frame after frame
    (an UNTIL does not stop it while no date comes): seconds on end for a rule
    that gives none (FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30). Two short looks
    instead, both ending in that year: the rule's BY parts (days of the month,
    weekdays, set positions, …), every period, on :data:`_EVERY_KIND_OF_YEAR`
    (a rule that fits no day there fits none ever); then the rule itself
    moved on by whole cycles of the calendar and its interval (it falls on
    the calendar the same way each cycle) to start one cycle before that year."""
    if expanded._count == 0:
        return False
    if expanded._byeaster is None and not _fits_some_day(expanded):
        return False
    return next(iter(_last_cycle(expanded)), None) is not None


def _fits_some_day(e: rrule) -> bool:
    """Whether the BY parts of ``e`` (those dateutil took from its start
    included) give a date in :data:`_EVERY_KIND_OF_YEAR`, repeating every
    period of its frequency."""
    weekdays = [weekday(d) for d in e._byweekday or ()]
    weekdays += [weekday(d, n) for d, n in e._bynweekday or ()]
    alike = rrule(
        e._freq,
        dtstart=_EVERY_KIND_OF_YEAR,
        wkst=e._wkst,
        bysetpos=e._bysetpos,
        bymonth=e._bymonth or (),
        bymonthday=(e._bymonthday or ()) + (e._bynmonthday or ()),
        byyearday=e._byyearday or (),
        byweekno=e._byweekno or (),
        byweekday=weekdays or None,
        byhour=e._byhour,
        byminute=e._byminute,
        bysecond=e._bysecond,
    )
    return next(iter(alike), None) is not None


def _last_cycle(e: rrule) -> rrule:
    """``e`` without its COUNT, moved on by whole cycles of the calendar and
    its interval as far as leaves one cycle (and a period, for the part of
    its first one before its start) before dateutil's last year; as it is
    when it starts later than that. Moved in wall time (an UNTIL as the wall
    time it is in the series' zone), as dateutil expands a series; the zone is
    kept and the UNTIL given back as an instant, as dateutil compares them: in
    the hour the clocks go back an UNTIL can be later in time than the first
    occurrence but earlier on the clock."""
    cycle = lcm(e._interval, _UNITS_PER_CYCLE[e._freq]) // _UNITS_PER_CYCLE[e._freq] * 400
    room = _LAST_YEAR - e._dtstart.year - cycle - (e._interval if e._freq == YEARLY else 1)
    if room < cycle:
        return e
    years = room // cycle * cycle
    start, until, zone = e._dtstart, e._until, e._dtstart.tzinfo
    if until is not None and zone is not None:
        until = until.astimezone(zone)
    if until is not None and until.year + years > _LAST_YEAR:
        until = None  # past the cycle looked at: it changes nothing there
    if until is not None:
        until = until.replace(year=until.year + years)
        until = until.astimezone(UTC) if zone is not None else until
    return e.replace(dtstart=start.replace(year=start.year + years), until=until, count=None)
