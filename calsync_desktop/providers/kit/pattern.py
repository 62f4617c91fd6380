"""The pattern model Exchange and Office 365 share, and its RRULE form.

Exchange (EWS) and Office 365 (Graph) hold a series as the same model: a
*pattern* (daily, weekly, absolute or relative monthly, absolute or relative
yearly, with an interval, days of the week, a day of the month, a month and an
index such as "second" or "last") and a *range* (a start date and a number of
occurrences, an end date, or no end). :func:`pattern_from_rrule` reads an RRULE
into that model and :func:`rrule_from_pattern` writes it back; each provider
only maps the model to its wire form (exchangelib's classes, Graph's JSON).

A :class:`Dialect` names what differs between the two services: the name their
messages use, Exchange's limits (an interval of at most 99, yearly series
every year only), and the RRULE spelling each service's series have been
stored under in the Sales Calendar (Exchange writes ``INTERVAL=1`` and
``BYDAY=2TU``; Office 365 leaves the interval out and writes
``BYDAY=TU;BYSETPOS=2``). The spelling is kept so that a series synced
before reads the same now; both spellings expand to the same occurrences.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from calsync_desktop.providers.base import UnsupportedRecurrence
from calsync_desktop.providers.kit.rrule import MAX_COUNT, rule_parts, until_instant

WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
INDEXES = (1, 2, 3, 4, -1)  # first to fourth, last

DAILY, WEEKLY = "daily", "weekly"
ABSOLUTE_MONTHLY, RELATIVE_MONTHLY = "absoluteMonthly", "relativeMonthly"
ABSOLUTE_YEARLY, RELATIVE_YEARLY = "absoluteYearly", "relativeYearly"
KINDS = (DAILY, WEEKLY, ABSOLUTE_MONTHLY, RELATIVE_MONTHLY, ABSOLUTE_YEARLY, RELATIVE_YEARLY)


@dataclass(frozen=True)
class Pattern:
    """How a series repeats. ``kind`` is one of :data:`KINDS` (Graph's names);
    ``days`` are weekday codes (``"MO"``…); ``index`` is 1 to 4 or -1 (last)
    for the relative kinds; ``first_day`` is the week's first day (weekly)."""

    kind: str
    interval: int = 1
    days: tuple[str, ...] = ()
    first_day: str = "MO"
    day_of_month: int = 0
    month: int = 0
    index: int = 0


@dataclass(frozen=True)
class Range:
    """When a series starts (a date in its zone) and ends: after ``count``
    occurrences, on ``end`` (that day's occurrence included), or never."""

    start: date
    count: int | None = None
    end: date | None = None


@dataclass(frozen=True)
class Dialect:
    """What one service makes of the shared model: its name in messages, its
    limits, and its RRULE spelling (see the module docstring)."""

    name: str
    max_interval: int | None = None
    yearly_every_year_only: bool = False
    interval_always: bool = False  # INTERVAL=1 written out (not for yearly series)
    week_start_always: bool = False  # WKST written whenever it is not Monday
    ordinal_day: bool = False  # one relative weekday as BYDAY=2TU, not BYDAY=TU;BYSETPOS=2


EXCHANGE = Dialect(
    "Exchange",
    max_interval=99,
    yearly_every_year_only=True,
    interval_always=True,
    week_start_always=True,
    ordinal_day=True,
)
OFFICE365 = Dialect("Office 365")


def pattern_from_rrule(
    rule: str, start: datetime, tz: str, dialect: Dialect
) -> tuple[Pattern, Range]:
    """An RRULE (for a series starting at ``start`` in zone ``tz``) in the
    shared model; :class:`UnsupportedRecurrence` says, in the service's name,
    what it cannot hold."""
    name = dialect.name
    local = start.astimezone(ZoneInfo(tz))
    p = rule_parts(rule)
    freq = p.pop("FREQ", "")
    interval_text = p.pop("INTERVAL", "1") or "1"
    count = p.pop("COUNT", None)
    until = p.pop("UNTIL", None)
    wkst = p.pop("WKST", None)
    byday = [d for d in p.pop("BYDAY", "").split(",") if d]
    bymonthday = p.pop("BYMONTHDAY", "")
    bymonth = p.pop("BYMONTH", "")
    bysetpos = [d for d in p.pop("BYSETPOS", "").split(",") if d]
    if p:
        raise UnsupportedRecurrence(
            f"{name} cannot repeat an appointment by {', '.join(sorted(p))}; "
            "use a daily, weekly, monthly or yearly repetition."
        )
    if freq not in ("DAILY", "WEEKLY", "MONTHLY", "YEARLY"):
        what = freq.lower() if freq else "without a frequency"
        raise UnsupportedRecurrence(f"{name} cannot repeat an appointment {what}.")
    interval = _number(interval_text, name)
    if interval < 1 or (dialect.max_interval and interval > dialect.max_interval):
        raise UnsupportedRecurrence(
            f"{name} repeats at most every {dialect.max_interval or 'few'} days, weeks or months."
        )
    if len(bysetpos) > 1:
        raise UnsupportedRecurrence(f"{name} cannot pick several positions within a month.")

    def day(code: str) -> str:
        if code not in WEEKDAYS:
            raise UnsupportedRecurrence(f"{name} cannot repeat on {code!r}.")
        return code

    def relative() -> tuple[tuple[str, ...], int]:
        # BYDAY=2TU, or BYDAY=TU;BYSETPOS=2, or BYDAY=MO,TU,...;BYSETPOS=-1
        index = _number(bysetpos[0], name) if bysetpos else None
        days = []
        for code in byday:
            prefix, letters = code[:-2], code[-2:]
            if prefix:
                if index is not None and index != _number(prefix, name):
                    raise UnsupportedRecurrence(
                        f"{name} cannot pick several positions within a month."
                    )
                index = _number(prefix, name)
            days.append(day(letters))
        if index not in INDEXES:
            raise UnsupportedRecurrence(
                f"{name} repeats on the first to fourth or the last weekday only."
            )
        return tuple(days), index

    def one(values: str, what: str) -> int:
        numbers = [_number(v, name) for v in values.split(",") if v]
        if len(numbers) > 1:
            raise UnsupportedRecurrence(f"{name} repeats {what}.")
        return numbers[0] if numbers else 0

    if bysetpos and not byday:
        raise UnsupportedRecurrence(
            f"{name} cannot pick a position within a month without a weekday."
        )
    if freq == "DAILY":
        if byday or bymonthday or bymonth:
            raise UnsupportedRecurrence(
                f"{name} cannot repeat a daily appointment on chosen days; use a weekly repetition."
            )
        pattern = Pattern(DAILY, interval)
    elif freq == "WEEKLY":
        if bymonthday or bymonth or bysetpos:
            raise UnsupportedRecurrence(f"{name} repeats a weekly appointment on weekdays only.")
        days = tuple(day(d) for d in byday) or (WEEKDAYS[local.weekday()],)
        pattern = Pattern(WEEKLY, interval, days, first_day=day(wkst or "MO"))
    elif freq == "MONTHLY":
        if bymonth or (byday and bymonthday):
            raise UnsupportedRecurrence(
                f"{name} repeats a monthly appointment on one day of the month or one weekday."
            )
        if byday:
            days, index = relative()
            pattern = Pattern(RELATIVE_MONTHLY, interval, days, index=index)
        else:
            month_day = one(bymonthday, "a monthly appointment on one day of the month")
            if month_day < 0:
                raise UnsupportedRecurrence(f"{name} cannot count days from the end of the month.")
            pattern = Pattern(ABSOLUTE_MONTHLY, interval, day_of_month=month_day or local.day)
    else:  # YEARLY
        if dialect.yearly_every_year_only and interval != 1:
            raise UnsupportedRecurrence(f"{name} repeats yearly appointments every year only.")
        month = one(bymonth, "a yearly appointment on one date or one weekday of one month")
        if byday and bymonthday:
            raise UnsupportedRecurrence(
                f"{name} repeats a yearly appointment on one date or one weekday of one month."
            )
        if byday:
            days, index = relative()
            pattern = Pattern(
                RELATIVE_YEARLY, interval, days, month=month or local.month, index=index
            )
        else:
            month_day = one(bymonthday, "a yearly appointment on one date of one month")
            if month_day < 0:
                raise UnsupportedRecurrence(f"{name} cannot count days from the end of the month.")
            pattern = Pattern(
                ABSOLUTE_YEARLY,
                interval,
                day_of_month=month_day or local.day,
                month=month or local.month,
            )
    first = local.date()
    if count:
        number = _number(count, name)
        if not 1 <= number <= MAX_COUNT:
            raise UnsupportedRecurrence(f"{name} repeats an appointment at most {MAX_COUNT} times.")
        return pattern, Range(first, count=number)
    if until:
        try:
            last = until_instant(until, tz).astimezone(ZoneInfo(tz))
        except ValueError:
            raise UnsupportedRecurrence(f"{name} cannot read the end {until!r}.") from None
        # the end is a day and includes that day's occurrence; an UNTIL before
        # the series' time of day ends the series the day before
        end = last.date() if last.time() >= local.time() else last.date() - timedelta(days=1)
        return pattern, Range(first, end=end)
    return pattern, Range(first)


def rrule_from_pattern(
    pattern: Pattern, rng: Range, start: datetime, tz: str, dialect: Dialect
) -> str:
    """The shared model as an RRULE, in ``dialect``'s spelling; an end date
    becomes an UNTIL at the series' time of day on that date (in UTC)."""
    if pattern.kind not in KINDS:
        raise UnsupportedRecurrence(f"{dialect.name} repeats in an unknown way ({pattern.kind!r}).")
    freq = {DAILY: "DAILY", WEEKLY: "WEEKLY"}.get(pattern.kind) or (
        "MONTHLY" if pattern.kind.endswith("Monthly") else "YEARLY"
    )
    parts = [f"FREQ={freq}"]
    yearly = freq == "YEARLY"
    if pattern.interval != 1 or (dialect.interval_always and not yearly):
        parts.append(f"INTERVAL={pattern.interval}")
    if pattern.kind == WEEKLY:
        parts.append("BYDAY=" + ",".join(sorted(pattern.days, key=WEEKDAYS.index)))
        week_start_matters = dialect.week_start_always or pattern.interval > 1
        if pattern.first_day != "MO" and week_start_matters:
            parts.append("WKST=" + pattern.first_day)
    elif pattern.kind == DAILY:
        pass
    elif pattern.kind == ABSOLUTE_MONTHLY:
        parts.append(f"BYMONTHDAY={pattern.day_of_month}")
    elif pattern.kind == ABSOLUTE_YEARLY:
        parts += [f"BYMONTH={pattern.month}", f"BYMONTHDAY={pattern.day_of_month}"]
    else:
        if pattern.kind == RELATIVE_YEARLY:
            parts.append(f"BYMONTH={pattern.month}")
        if dialect.ordinal_day and len(pattern.days) == 1:
            parts.append(f"BYDAY={pattern.index}{pattern.days[0]}")
        else:
            parts += ["BYDAY=" + ",".join(pattern.days), f"BYSETPOS={pattern.index}"]
    if rng.count is not None:
        parts.append(f"COUNT={rng.count}")
    elif rng.end is not None:
        zone = ZoneInfo(tz)
        at = start.astimezone(zone).time().replace(tzinfo=None)
        until = datetime.combine(rng.end, at, tzinfo=zone).astimezone(UTC)
        parts.append(f"UNTIL={until:%Y%m%dT%H%M%SZ}")
    return ";".join(parts)


def _number(text: str, name: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise UnsupportedRecurrence(f"{name} cannot read the number {text!r}.") from None
