"""A series split "this and following" on the service: the one exception to
the one-way rule (SPEC §4, Recurrence).

A split made in the calendar app ends the old series where the split starts
(Google moves its UNTIL; Exchange and Office 365 end its range) and makes a new
series of the rest. The Sales Calendar's rule otherwise flows one way only, but
this change it takes in: when the service's series ends earlier than it did at
the last sync, with its rule otherwise the same, and the listing brings the new
series (the sign below), the Sales Calendar's series ends there too; the new
series is imported as any new event is. No occurrence is then shown twice, and
none is lost.

The sign is the new series, as each service makes it:

- Google names it after the old one (``<old id>_R<cut>``, read by the provider
  into ``RemoteEvent.split_from``): that new series is the sign wherever it
  starts (the user may have moved the following occurrences to another day);
- Office 365 and Exchange give the two series nothing in common (Outlook ends
  the old range and creates a series of its own, new id and UID), so a new
  series that names no other is the sign when it starts after the old series'
  last occurrence and no later than the day of the second occurrence it dropped:
  where the rest was due, or moved to another day before the next one, and
  repeats as often (the same frequency and interval: a daily meeting the day
  after a weekly series was ended is another one, and taking it for the rest
  would drop the occurrences edited in the Sales Calendar's series). A series
  Google names as split off another series is never taken for this one's.

A series only ended earlier, a change of the rule itself (another frequency,
other days) or a later end still do not flow back, and the changed and deleted
occurrences the service dropped along with such a change are no edit made
there (:func:`dropped_with_the_rule`). Pure functions over the merge fields.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from calsync_desktop.model import Recurrence
from calsync_desktop.providers.kit.rrule import rule_parts
from calsync_desktop.sync.snapshot import Fields

END_PARTS = ("COUNT", "UNTIL")


@dataclass(frozen=True, slots=True)
class NewSeries:
    """A series new in a listing: its id, first start, the series the
    service says it was split off from (None: it says nothing), and its rule
    (None: not known, not compared)."""

    remote_id: str
    start: datetime
    split_from: str | None = None
    rrule: str | None = None


def _repeats_alike(rrule: str | None, other: str) -> bool:
    """Whether a rule repeats as often as ``other``: the same frequency and interval."""
    if rrule is None:
        return True
    a, b = rule_parts(rrule), rule_parts(other)
    return (a.get("FREQ"), a.get("INTERVAL", "1")) == (b.get("FREQ"), b.get("INTERVAL", "1"))


def _last_start(rrule: str, start: str, tz: str) -> datetime | None:
    return Recurrence(rrule).last_start(datetime.fromisoformat(start), tz)


def dropped_with_the_rule(base: Fields, current: Fields, tz: str) -> Fields:
    """``current`` (one side's fields) with the edited and deleted occurrences
    it held at the last sync (``base``) put back where a change of its rule
    took them away: those whose original start its rule no longer gives (a
    range ended early in Outlook drops the exceptions after the new end).
    They were not edited there; the rule, which flows one way, goes back,
    and with it they stay as the Sales Calendar has them."""
    if not (base.rrule and current.rrule and current.time) or current.rrule == base.rrule:
        return current
    overrides = {k: v for k, v in base.overrides.items() if k not in current.overrides}
    exdates = [x for x in base.exdates if x not in current.exdates]
    if not overrides and not exdates:
        return current
    latest = max(datetime.fromisoformat(k) for k in (*overrides, *exdates))
    given = set()
    for start in Recurrence(current.rrule).rule_set(datetime.fromisoformat(current.time[0]), tz):
        if start > latest:
            break
        given.add(start)
    overrides = {k: v for k, v in overrides.items() if datetime.fromisoformat(k) not in given}
    exdates = [x for x in exdates if datetime.fromisoformat(x) not in given]
    if not overrides and not exdates:
        return current
    return replace(
        current,
        overrides={**current.overrides, **overrides},
        exdates=tuple(sorted({*current.exdates, *exdates})),
    )


def ended_early(base: Fields, current: Fields, tz: str) -> datetime | None:
    """The start of the last occurrence of the series ``current`` when it ends
    earlier than ``base`` (the same side at the last sync) did, with the same
    rule otherwise; None when it does not.

    "The same rule otherwise" is read from the occurrences, not the spelling
    (Office 365 and Exchange write a weekly rule with its weekday, say): the
    series now repeats exactly as it did, up to its new end."""
    if not (base.rrule and current.rrule and base.time and current.time):
        return None
    if base.time[0] != current.time[0]:
        return None
    now = _last_start(current.rrule, current.time[0], tz)
    if now is None:
        return None
    before = _last_start(base.rrule, base.time[0], tz)
    if before is not None and now >= before:
        return None
    start = datetime.fromisoformat(base.time[0])
    kept = list(Recurrence(current.rrule).rule_set(start, tz))
    was = Recurrence(base.rrule).rule_set(start, tz).between(start, now, inc=True)
    return now if kept == was else None


def ended_at(rrule: str, start: str, tz: str, last: datetime) -> str:
    """``rrule`` (of a series starting at ``start``) ending with the occurrence at
    ``last`` at the latest; unchanged when it ends by then already."""
    own = _last_start(rrule, start, tz)
    if own is not None and own <= last:
        return rrule
    kept = [p for p in rrule.split(";") if p and p.split("=", 1)[0].upper() not in END_PARTS]
    return ";".join([*kept, f"UNTIL={last.astimezone(UTC):%Y%m%dT%H%M%SZ}"])


def split_at(
    base: Fields,
    current: Fields,
    tz: str,
    new_series: Collection[NewSeries],
    remote_id: str | None = None,
) -> datetime | None:
    """The start of the last occurrence the service's series ``current`` (the
    event ``remote_id``) keeps when a split ended it (see the module
    docstring): it ends earlier than ``base`` did, and one of ``new_series``
    (the series new in this listing) is its sign. None otherwise."""
    found = split_sign(base, current, tz, new_series, remote_id)
    return found[0] if found is not None else None


def split_sign(
    base: Fields,
    current: Fields,
    tz: str,
    new_series: Collection[NewSeries],
    remote_id: str | None = None,
) -> tuple[datetime, NewSeries] | None:
    """As :func:`split_at`, with the new series that is the sign (the first to
    start, of several)."""
    last = ended_early(base, current, tz)
    if last is None or base.rrule is None or base.time is None:
        return None
    named = [s for s in new_series if remote_id is not None and s.split_from == remote_id]
    if named:
        return last, min(named, key=lambda s: s.start)  # the service says so
    zone = ZoneInfo(tz)
    dropped = Recurrence(base.rrule).rule_set(datetime.fromisoformat(base.time[0]), tz)
    cut = dropped.after(last.astimezone(zone))
    if cut is None:
        return None
    after = dropped.after(cut)
    latest = (after or cut).astimezone(zone).date()
    signs = [
        s
        for s in new_series
        if s.split_from is None
        and last < s.start
        and s.start.astimezone(zone).date() <= latest
        and _repeats_alike(s.rrule, base.rrule)
    ]
    return (last, min(signs, key=lambda s: s.start)) if signs else None
