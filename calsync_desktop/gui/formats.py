"""Dates and times as the system locale writes them, the same way everywhere.

Every date or time the window shows goes through these functions, so the
week title, the status bar, Settings, Troubleshooting and the appointment
dialog agree: the locale's time format (``09:41`` or ``9:41 AM``), its order
of day, month and year, its month and day names. Qt has a long and a short
date format only; the *medium* one ("2 Dec 2026", "Dec 2, 2026",
"2. Dez. 2026") is the long format without the weekday and with short month
names, which keeps the locale's order and punctuation.

A system without a locale (``LANG=C``) gets British English: day before
month, a 24-hour clock, weeks from Monday.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time

from PySide6.QtCore import QDate, QLocale, QTime

_C_FALLBACK = (QLocale.Language.English, QLocale.Country.UnitedKingdom)


def locale() -> QLocale:
    """The locale the window formats with: the default locale (the system's,
    unless a test or the app set another), never the bare C locale."""
    current = QLocale()
    if current.language() in (QLocale.Language.C, QLocale.Language.AnyLanguage):
        return QLocale(*_C_FALLBACK)
    return current


# ------------------------------------------------------------------ Qt formats


def time_format() -> str:
    """The locale's short time format, e.g. ``HH:mm`` or ``h:mm AP``."""
    return locale().timeFormat(QLocale.FormatType.ShortFormat)


def _without_weekday(fmt: str) -> str:
    # "dddd, d MMMM yyyy" -> "d MMMM yyyy"; the weekday may also come last
    fmt = re.sub(r"d{4}[,.\s،]*", "", fmt, count=1) if fmt.startswith("dddd") else fmt
    return re.sub(r"[,\s]*d{4}", "", fmt).strip(" ,")


def medium_date_format(with_year: bool = True, with_weekday: bool = False) -> str:
    """ "d MMM yyyy", "MMM d, yyyy", "d. MMM yyyy": the locale's long date with
    short month names, without the weekday (unless asked for) and, if asked,
    without the year."""
    fmt = _without_weekday(locale().dateFormat(QLocale.FormatType.LongFormat))
    fmt = re.sub(r"M{4}", "MMM", fmt)
    if not with_year:
        fmt = re.sub(r"[,\s/.\-]*y+[.\s年]*", "", fmt).strip(" ,/-")
    if with_weekday:
        fmt = f"ddd {fmt}"
    return fmt


def date_edit_format() -> str:
    """For date fields: the medium date with its year."""
    return medium_date_format()


def date_time_edit_format() -> str:
    """For date-and-time fields: weekday, medium date, time."""
    return f"{medium_date_format(with_weekday=True)}  {time_format()}"


# ------------------------------------------------------------------ texts


def _qdate(day: date) -> QDate:
    return QDate(day.year, day.month, day.day)


def time_text(moment: datetime | time) -> str:
    """09:41 / 9:41 AM."""
    value = moment.time() if isinstance(moment, datetime) else moment
    return locale().toString(QTime(value.hour, value.minute), time_format())


def hour_text(hour: int) -> str:
    """An hour of the day for the time grid: ``09:00``, or ``9 AM`` on a 12-hour clock."""
    fmt = time_format()
    if "a" in fmt.lower():
        fmt = re.sub(r":mm", "", fmt)
    return locale().toString(QTime(hour % 24, 0), fmt)


def date_text(day: date, today: date | None = None, weekday: bool = False) -> str:
    """The medium date: "2 Dec 2026"; without the year when ``today`` is in the same year."""
    with_year = today is None or today.year != day.year
    return locale().toString(_qdate(day), medium_date_format(with_year, weekday))


def long_date_text(day: date) -> str:
    """ "Wednesday, 2 December 2026" in the locale's words and order."""
    return locale().toString(_qdate(day), QLocale.FormatType.LongFormat)


def moment_text(moment: datetime, now: datetime | None = None) -> str:
    """A past or coming moment: "today 09:41", "yesterday 17:03", else the date
    and the time ("2 Dec 09:41"); ``moment`` and ``now`` in the zone to show."""
    when = time_text(moment)
    if now is not None:
        delta = (now.date() - moment.date()).days
        if delta == 0:
            return f"today {when}"
        if delta == 1:
            return f"yesterday {when}"
    return f"{date_text(moment.date(), now.date() if now else None)} {when}"


def time_range_text(start: datetime, end: datetime, today: date | None = None) -> str:
    """09:00–10:30, or with dates when it spans days."""
    if start.date() == end.date() or (end - start).total_seconds() <= 0:
        return f"{time_text(start)}–{time_text(end)}"
    first = f"{date_text(start.date(), today, weekday=True)} {time_text(start)}"
    last = f"{date_text(end.date(), today, weekday=True)} {time_text(end)}"
    return f"{first} – {last}"


def day_name(day: date, short: bool = True) -> str:
    """ "Mon" / "Monday" in the locale's words."""
    kind = QLocale.FormatType.ShortFormat if short else QLocale.FormatType.LongFormat
    return locale().standaloneDayName(day.isoweekday(), kind)


def weekday_names(short: bool = True) -> list[str]:
    """Monday to Sunday in the locale's words."""
    kind = QLocale.FormatType.ShortFormat if short else QLocale.FormatType.LongFormat
    return [locale().standaloneDayName(n, kind) for n in range(1, 8)]


def month_name(month: int, short: bool = False) -> str:
    kind = QLocale.FormatType.ShortFormat if short else QLocale.FormatType.LongFormat
    return locale().standaloneMonthName(month, kind)


def month_title(day: date) -> str:
    """ "December 2026"."""
    return f"{month_name(day.month)} {day.year}"


def period_title(first: date, last: date) -> str:
    """The title of a span of days: "December 2026", "Nov – Dec 2026",
    "Dec 2026 – Jan 2027" (the header under it names each day)."""
    if (first.year, first.month) == (last.year, last.month):
        return month_title(first)
    if first.year == last.year:
        return f"{month_name(first.month, True)} – {month_name(last.month, True)} {last.year}"
    return (
        f"{month_name(first.month, True)} {first.year} – {month_name(last.month, True)} {last.year}"
    )


def first_weekday() -> int:
    """The locale's first day of the week, 0 = Monday … 6 = Sunday."""
    return (locale().firstDayOfWeek().value - 1) % 7
