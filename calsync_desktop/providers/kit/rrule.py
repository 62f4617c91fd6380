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
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule, rruleset, rrulestr

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
