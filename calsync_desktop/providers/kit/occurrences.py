"""Which exceptions of a series are overrides (SPEC §5, Recurrence).

A service keeps an occurrence of a series as an exception for many reasons:
it was moved or edited, but also an attendee answered that occurrence alone
(Google's "this event", Exchange's per-occurrence response), or it has a
reminder or colour of its own. Only contents, place and time map to the Sales
Calendar, so an exception that says what its series says in those is no
override: importing it as one would freeze that occurrence, and later edits of
the series would no longer reach it. The rule, the same on every service:

- an exception is *plain* when its contents (in the contents rule's stored
  form), location, start and end are those of the series' own occurrence
  (:func:`series_says`);
- reading, plain exceptions are left out of the overrides (:func:`without_plain`);
- writing a series, an exception the draft does not override is put back to
  what the series says, unless it already says it (:func:`put_back`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from calsync_desktop.model import OccurrenceOverride, Recurrence
from calsync_desktop.providers.kit.contents import stored_contents

SERIES_FIELDS = frozenset({"subject", "body", "location", "time", "recurrence"})
"""The fields of an update of a series that change what its occurrences say:
a write with one of them settles the series' exceptions too (:func:`put_back`)."""


def series_says(
    original: datetime, contents: str, location: str, duration: timedelta
) -> OccurrenceOverride:
    """The occurrence of ``original`` as the series has it."""
    original = original.astimezone(UTC)
    return OccurrenceOverride(original, contents, location or "", original, original + duration)


def is_plain(o: OccurrenceOverride, contents: str, location: str, duration: timedelta) -> bool:
    """Whether exception ``o`` says what the series (``contents``, ``location``,
    ``duration``) says of its occurrence."""
    return (
        o.start == o.original_start
        and o.end == o.original_start + duration
        and (o.location or "") == (location or "")
        and stored_contents(o.contents) == stored_contents(contents)
    )


def without_plain(
    recurrence: Recurrence | None, contents: str, location: str, duration: timedelta
) -> Recurrence | None:
    """``recurrence`` without the exceptions that say what the series says."""
    if recurrence is None or not recurrence.overrides:
        return recurrence
    kept = tuple(o for o in recurrence.overrides if not is_plain(o, contents, location, duration))
    if len(kept) == len(recurrence.overrides):
        return recurrence
    return replace(recurrence, overrides=kept)


def put_back(
    held: Iterable[OccurrenceOverride],
    wanted: Recurrence,
    contents: str,
    location: str,
    duration: timedelta,
) -> list[OccurrenceOverride]:
    """The exceptions a service ``held`` that the series ``wanted`` neither
    overrides nor deletes, each as the series says it, when it does not say so
    already: what a write of the series must make them."""
    overridden = {o.original_start for o in wanted.overrides} | set(wanted.exdates)
    return [
        series_says(o.original_start, contents, location, duration)
        for o in held
        if o.original_start not in overridden and not is_plain(o, contents, location, duration)
    ]
