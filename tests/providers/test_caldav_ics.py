"""Reading CalDAV calendar resources (calsync_desktop/providers/caldav_ics.py):
time zones as RFC 5545 §3.6.5 defines them and icalendar resolves them.

A TZID the time zone database has is read through zoneinfo whatever the
VTIMEZONE beside it says (icalendar's ``TZP.cache_timezone_component`` keeps a
component only for a zone zoneinfo does not know); a zone it does not have is
read by its VTIMEZONE rules.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from icalendar import Calendar

from calsync_desktop.providers.caldav_ics import read_event


def resource(tzid: str, offset: str, start: str, end: str) -> str:
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//another client//EN",
        "BEGIN:VTIMEZONE",
        f"TZID:{tzid}",
        "BEGIN:STANDARD",
        "DTSTART:19700101T000000",
        f"TZOFFSETFROM:{offset}",
        f"TZOFFSETTO:{offset}",
        "END:STANDARD",
        "END:VTIMEZONE",
        "BEGIN:VEVENT",
        "UID:visit-1@another.example",
        "DTSTAMP:20261201T080000Z",
        f"DTSTART;TZID={tzid}:{start}",
        f"DTEND;TZID={tzid}:{end}",
        "SUMMARY:Customer visit",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "\r\n".join(lines) + "\r\n"


def as_icalendar_reads_it(text: str) -> tuple[datetime, datetime]:
    (vevent,) = Calendar.from_ical(text).walk("VEVENT")
    return (
        vevent.decoded("DTSTART").astimezone(UTC),
        vevent.decoded("DTEND").astimezone(UTC),
    )


@pytest.mark.parametrize(
    ("tzid", "offset"),
    [
        ("Europe/Berlin", "+0100"),  # the zone's own rules: summer time in July
        ("Europe/Berlin", "+0500"),  # a VTIMEZONE that disagrees with the database
        ("America/New_York", "-0500"),
        ("Customer Standard Time", "+0530"),  # not in the database: its VTIMEZONE rules
        ("/example.com/zones/Office", "-0330"),
    ],
)
def test_times_are_read_in_the_zone_icalendar_resolves_with_or_without_known_vtimezones(
    tzid, offset
):
    text = resource(tzid, offset, "20260714T090000", "20260714T100000")
    event = read_event("/cal/visit-1.ics", '"1"', text, "alice@example.com")
    assert (event.start, event.end) == as_icalendar_reads_it(text)


def test_a_zone_the_database_lacks_is_read_by_its_own_rules():
    text = resource("Customer Standard Time", "+0530", "20260714T090000", "20260714T100000")
    event = read_event("/cal/visit-1.ics", '"1"', text, "alice@example.com")
    assert event.start == datetime(2026, 7, 14, 3, 30, tzinfo=UTC)


def test_a_zone_the_database_has_is_read_by_the_database():
    text = resource("Europe/Berlin", "+0500", "20260714T090000", "20260714T100000")
    event = read_event("/cal/visit-1.ics", '"1"', text, "alice@example.com")
    assert event.start == datetime(2026, 7, 14, 7, 0, tzinfo=UTC)  # CEST, +02:00
    assert event.timezone == "Europe/Berlin"
