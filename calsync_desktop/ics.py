"""The Sales Calendar as an iCalendar (RFC 5545) file.

Private appointments leave as busy blocks: ``SUMMARY:Busy``, ``CLASS:PRIVATE``,
their times, repeat rule and show-as, nothing else. Show-as is TRANSP (free is
TRANSPARENT, the rest OPAQUE) with X-MICROSOFT-CDO-BUSYSTATUS for the finer
value (``providers/kit/availability.py``); a declined meeting is free.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from calsync_desktop.meetings import declined
from calsync_desktop.model import Appointment, InviteStatus, ShowAs
from calsync_desktop.providers.kit.availability import ical_show_as
from calsync_desktop.providers.kit.contents import split_contents

BUSY_SUMMARY = "Busy"

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
    times and show-as and nothing else.
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
        # a declined meeting leaves the busy time (meetings.counts_as_busy): free
        shows = ShowAs.FREE if declined(a) else a.show_as
        for name, value in ical_show_as(shows).items():
            event.add(name, value)
        if a.private:
            event.add("summary", BUSY_SUMMARY)
            event.add("class", "PRIVATE")
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
