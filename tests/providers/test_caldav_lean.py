"""The lean VEVENT reader (calsync_desktop/providers/caldav_lean.py) against
icalendar, one table: every resource here is read by both, and the events
must be the same to the value.

``READ`` holds what the lean reader must read itself (line folding as RFC 5545
§3.1 defines it, escapes of §3.3.11, TZID of §3.2.19, VALUE=DATE of §3.3.4,
DURATION of §3.3.6, quoted parameter values of §3.2); ``LEFT`` what it must
leave to icalendar (recurrence, zones the database lacks, lenient forms). A
resource that cannot be read at all is refused with icalendar's words, and
a listing sets it aside instead of taking it as deleted.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from calsync_desktop.providers import caldav_lean
from calsync_desktop.providers.base import MalformedResponse
from calsync_desktop.providers.caldav_ics import UnreadableEvent, event_of, read_event
from calsync_desktop.providers.caldav_wire import calendar_text, read_multistatus
from calsync_desktop.providers.kit.reading import Readings

OWNER = "alice@example.com"
BERLIN = (
    "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\n"
    "TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\n"
    "END:STANDARD\r\nBEGIN:DAYLIGHT\r\nDTSTART:19700329T020000\r\nTZOFFSETFROM:+0100\r\n"
    "TZOFFSETTO:+0200\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\n"
    "END:VTIMEZONE\r\n"
)
CUSTOM = (
    "BEGIN:VTIMEZONE\r\nTZID:Customer Standard Time\r\nBEGIN:STANDARD\r\n"
    "DTSTART:19700101T000000\r\nTZOFFSETFROM:+0530\r\nTZOFFSETTO:+0530\r\n"
    "END:STANDARD\r\nEND:VTIMEZONE\r\n"
)


def ics(*lines: str, zones: str = "", eol: str = "\r\n") -> str:
    """A calendar resource with one VEVENT of ``lines`` (already folded if so)."""
    head = f"BEGIN:VCALENDAR{eol}VERSION:2.0{eol}PRODID:-//another client//EN{eol}"
    body = eol.join(("BEGIN:VEVENT", "UID:visit-1@another.example", *lines, "END:VEVENT"))
    return head + zones.replace("\r\n", eol) + body + eol + "END:VCALENDAR" + eol


TIMES = ("DTSTAMP:20261201T080000Z", "DTSTART:20261214T090000Z", "DTEND:20261214T100000Z")

READ = {
    "plain UTC": ics(*TIMES, "SUMMARY:Customer visit"),
    "TZID with its VTIMEZONE": ics(
        "DTSTART;TZID=Europe/Berlin:20260714T090000",
        "DTEND;TZID=Europe/Berlin:20260714T100000",
        zones=BERLIN,
    ),
    "quoted TZID, lower-case names": ics(
        'dtstart;tzid="America/New_York":20261214T090000',
        "dtend;Tzid=America/New_York:20261214T093000",
        "summary:Lower case",
    ),
    "TZID=UTC": ics("DTSTART;TZID=UTC:20261214T090000", "DTEND;TZID=UTC:20261214T100000"),
    "a time in the spring-forward gap": ics(
        "DTSTART;TZID=Europe/Berlin:20260329T023000", "DURATION:PT1H", zones=BERLIN
    ),
    "VALUE=DATE (all day)": ics("DTSTART;VALUE=DATE:20261214", "DTEND;VALUE=DATE:20261215"),
    "a date without VALUE": ics("DTSTART:20261214", "DTEND:20261216"),
    "VALUE=DATE-TIME": ics(
        "DTSTART;VALUE=DATE-TIME:20261214T090000Z", "DTEND;VALUE=DATE-TIME:20261214T100000Z"
    ),
    "floating time": ics("DTSTART:20261214T090000", "DTEND:20261214T100000"),
    "DURATION": ics("DTSTART:20261214T090000Z", "DURATION:P1DT2H30M"),
    "negative-free week DURATION": ics("DTSTART:20261214T090000Z", "DURATION:P1W"),
    "no end": ics("DTSTART:20261214T090000Z"),
    "no end, all day": ics("DTSTART;VALUE=DATE:20261214"),
    "escaped commas, semicolons, colons, backslashes, new lines": ics(
        *TIMES,
        r"SUMMARY:Prices\, samples\; next steps\: all",
        r"DESCRIPTION:First line\nSecond\Nthird \\ back\\nslash",
        r"LOCATION:Room 1\, floor 2",
    ),
    "a backslash before another character stays": ics(*TIMES, r"SUMMARY:50\% off \t tab"),
    "an X- property is kept as written": ics(
        *TIMES, r"X-CALSYNC-LOCAL-ID:a\,b", r"X-ALT-DESC;FMTTYPE=text/plain:x\ny"
    ),
    "folded with a space, a tab and mid-word": ics(
        *TIMES,
        "SUMMARY:A long sum\r\n mary that goes on\r\n\t and on",
        "DESCRIPTION:Fol\r\n ded\r\n  with a space kept",
    ),
    "folded inside the name and the parameters": ics(
        *TIMES,
        'ATT\r\n ENDEE;CN="Bu\r\n yer";PARTSTAT=ACCEP\r\n TED:mailto:buyer@\r\n customer.example',
    ),
    "folded after blank lines": ics(*TIMES, "SUMMARY:Blank\r\n\r\n lines\r\n\r\n\r\n\tbetween"),
    "LF line ends": ics(*TIMES, "SUMMARY:Unix\n  line ends", eol="\n"),
    "UTF-8 folded next to multi-byte characters": ics(
        *TIMES,
        "SUMMARY:Caf\u00e9\r\n \u00e9t\u00e9 \u2014 \U0001f4c5\r\n \U0001f91d",
        "LOCATION:M\u00fcnchen, Stra\u00df\r\n e 1 \u65e5\u672c\r\n \u8a9e",
        "DESCRIPTION:e\u0301\r\n \u0301 combining marks split",
    ),
    "attendees: quoted names with , ; :, statuses, the owner left out": ics(
        *TIMES,
        'ATTENDEE;CN="Doe, John; Sales: EU";PARTSTAT=ACCEPTED:mailto:john@customer.example',
        "ATTENDEE;PARTSTAT=tentative;ROLE=REQ-PARTICIPANT:MAILTO:Kim@Customer.example",
        "ATTENDEE;CN=Declined;PARTSTAT=DECLINED:mailto:no@customer.example",
        "ATTENDEE;CN=Unknown;PARTSTAT=DELEGATED:mailto:away@customer.example",
        "ATTENDEE;CN=;RSVP=TRUE:mailto:empty-name@customer.example",
        f"ATTENDEE;CN=Alice;PARTSTAT=ACCEPTED:mailto:{OWNER.upper()}",
        "ATTENDEE;CN=No address:",
        'ORGANIZER;CN="Bob";SENT-BY="mailto:x@y.example":mailto:bob@customer.example',
    ),
    "organised by the owner, private, cancelled": ics(
        *TIMES,
        f"ORGANIZER:mailto:{OWNER}",
        "CLASS:CONFIDENTIAL",
        "STATUS:cancelled",
        "TRANSP:TRANSPARENT",
        "LAST-MODIFIED:20261202T101500Z",
    ),
    "an HTML body only in X-ALT-DESC": ics(
        *TIMES,
        "DESCRIPTION:",
        'X-ALT-DESC;FMTTYPE=text/html:<p>Agenda</p><p><a href="https://x.example">link</a></p>',
    ),
    "an alarm's properties are not the event's": ics(
        *TIMES,
        "SUMMARY:With alarm",
        "BEGIN:VALARM",
        "ACTION:DISPLAY",
        "DESCRIPTION:Reminder text",
        "TRIGGER:-PT15M",
        "SUMMARY:Alarm summary",
        "END:VALARM",
        "LOCATION:After the alarm",
    ),
    "a property with a value the mapping does not read": ics(
        *TIMES, "GEO:x;y", "X-WR-ODD;X-A=1,2:whatever", "CATEGORIES:A,B", "CATEGORIES:C"
    ),
    "the local id calsync gave": ics(
        *TIMES, "X-CALSYNC-LOCAL-ID:6d1f0c3a-1b2c-4d5e-8f90-a1b2c3d4e5f6"
    ),
    "a task beside the event in another component": (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VTODO\r\nUID:t\r\nSUMMARY:Task\r\n"
        "DTSTART:20261214T090000Z\r\nEND:VTODO\r\nBEGIN:VEVENT\r\nUID:e\r\n"
        "DTSTART:20261214T090000Z\r\nSUMMARY:Event\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    ),
    "only a task": (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VTODO\r\nUID:t\r\nSUMMARY:Task\r\n"
        "END:VTODO\r\nEND:VCALENDAR\r\n"
    ),
}

LEFT = {
    "a series with EXDATE and a moved occurrence": ics(
        "DTSTART;TZID=Europe/Berlin:20261214T090000",
        "DTEND;TZID=Europe/Berlin:20261214T100000",
        "RRULE:FREQ=WEEKLY;COUNT=5",
        "EXDATE;TZID=Europe/Berlin:20261221T090000",
        "SUMMARY:Weekly",
        zones=BERLIN,
    ).replace(
        "END:VCALENDAR",
        "BEGIN:VEVENT\r\nUID:visit-1@another.example\r\n"
        "RECURRENCE-ID;TZID=Europe/Berlin:20261228T090000\r\n"
        "DTSTART;TZID=Europe/Berlin:20261228T110000\r\nDTEND;TZID=Europe/Berlin:20261228T120000\r\n"
        "SUMMARY:Moved\r\nEND:VEVENT\r\nEND:VCALENDAR",
    ),
    "a zone only its VTIMEZONE defines": ics(
        "DTSTART;TZID=Customer Standard Time:20261214T090000",
        "DTEND;TZID=Customer Standard Time:20261214T100000",
        zones=CUSTOM,
    ),
    "a Windows zone name": ics(
        "DTSTART;TZID=W. Europe Standard Time:20261214T090000",
        "DTEND;TZID=W. Europe Standard Time:20261214T100000",
    ),
    "a date with a TZID": ics("DTSTART;TZID=Europe/Berlin:20261214", zones=BERLIN),
    "a UTC time with a TZID": ics(
        "DTSTART;TZID=Europe/Berlin:20261214T090000Z", "DURATION:PT1H", zones=BERLIN
    ),
    "an RFC 6868 escape in a name": ics(
        *TIMES, "ATTENDEE;CN=Dr. ^'Bob^' Smith;PARTSTAT=ACCEPTED:mailto:bob@customer.example"
    ),
    "white space among the parameters": ics(
        "DTSTART ; TZID = Europe/Berlin:20261214T090000", "DURATION:PT1H", zones=BERLIN
    ),
    "a parameter given twice": ics(
        *TIMES, "ATTENDEE;PARTSTAT=ACCEPTED;PARTSTAT=DECLINED:mailto:kim@customer.example"
    ),
    "two SUMMARY lines": ics(*TIMES, "SUMMARY:One", "SUMMARY:Two"),
    "DTSTAMP with a TZID": ics(
        "DTSTAMP;TZID=Europe/Berlin:20261201T080000",
        "DTSTART:20261214T090000Z",
        zones=BERLIN,
    ),
}

UNREADABLE = {
    "not iCalendar": "Hello, this is not a calendar\r\n",
    "an impossible date": ics("DTSTART:20261345T990000Z", "SUMMARY:Broken"),
    "February 30th": ics("DTSTART;VALUE=DATE:20260230", "SUMMARY:Broken"),
    "an event without DTSTART": ics("SUMMARY:No start"),
    "a period for a start": ics("DTSTART:20261214T090000Z/PT1H"),
    "cut short": ics(*TIMES, "SUMMARY:Cut").split("END:VEVENT")[0],
}


def by_icalendar(text: str):
    return read_event("/cal/visit-1.ics", '"1"', text, OWNER, lean=False)


def read(text: str):
    return read_event("/cal/visit-1.ics", '"1"', text, OWNER)


@pytest.mark.parametrize("text", READ.values(), ids=READ.keys())
def test_the_lean_reader_reads_what_icalendar_reads(text):
    found = caldav_lean.vevents(text)
    assert found is not None, "left to icalendar"
    lean = event_of("/cal/visit-1.ics", '"1"', found, OWNER)  # no fallback here
    assert lean == by_icalendar(text)
    assert read(text) == lean


@pytest.mark.parametrize("text", LEFT.values(), ids=LEFT.keys())
def test_what_the_lean_reader_leaves_icalendar_reads(text):
    found = caldav_lean.vevents(text)
    if found is not None:  # left when the mapping asks for it
        with pytest.raises(caldav_lean.Unusual):
            event_of("/cal/visit-1.ics", '"1"', found, OWNER)
    expected = by_icalendar(text)
    assert expected is not None
    assert read(text) == expected


def test_a_series_keeps_its_rule_exception_and_moved_occurrence():
    event = read(LEFT["a series with EXDATE and a moved occurrence"])
    assert event.recurrence.rrule == "FREQ=WEEKLY;COUNT=5"
    assert event.recurrence.exdates == (datetime(2026, 12, 21, 8, 0, tzinfo=UTC),)
    (moved,) = event.recurrence.overrides
    assert (moved.original_start, moved.start) == (
        datetime(2026, 12, 28, 8, 0, tzinfo=UTC),
        datetime(2026, 12, 28, 10, 0, tzinfo=UTC),
    )


def test_the_values_read_are_the_ones_written():
    event = read(READ["UTF-8 folded next to multi-byte characters"])
    assert event.subject == "Caf\u00e9\u00e9t\u00e9 \u2014 \U0001f4c5\U0001f91d"
    assert event.location == "M\u00fcnchen, Stra\u00dfe 1 \u65e5\u672c\u8a9e"
    event = read(READ["escaped commas, semicolons, colons, backslashes, new lines"])
    assert event.subject == "Prices, samples; next steps: all"
    assert event.body == "First line\nSecond\nthird \\ back\\nslash"
    event = read(READ["folded inside the name and the parameters"])
    (buyer,) = event.attendees
    assert (buyer.name, buyer.email, buyer.status.value) == (
        "Buyer",
        "buyer@customer.example",
        "accepted",
    )
    event = read(READ["TZID with its VTIMEZONE"])
    assert (event.start, event.timezone) == (
        datetime(2026, 7, 14, 7, 0, tzinfo=UTC),
        "Europe/Berlin",
    )
    event = read(READ["VALUE=DATE (all day)"])
    assert event.all_day


@pytest.mark.parametrize("text", UNREADABLE.values(), ids=UNREADABLE.keys())
def test_a_resource_that_cannot_be_read_is_refused_with_a_reason_and_set_aside(text):
    with pytest.raises(UnreadableEvent) as refused:
        read(text)
    assert str(refused.value)
    readings = Readings("The CalDAV server")
    assert readings.read("/cal/visit-1.ics", lambda: read(text)) is None
    (unreadable,) = readings.unreadable
    assert unreadable.remote_id == "/cal/visit-1.ics"
    assert "left as it is on both sides" in unreadable.reason


# RFC 5545 §3.1: a line may be folded inside a multi-byte UTF-8 character
SPLIT = "SUMMARY:Caf\u00e9 \u00fcber M\u00fcnchen \U0001f4c5".encode()
SPLIT_AT = [SPLIT.index("\u00e9".encode()) + 1, SPLIT.index("\U0001f4c5".encode()) + 2]


@pytest.mark.parametrize("at", SPLIT_AT, ids=["in é (2 bytes)", "in 📅 (4 bytes)"])
def test_a_line_folded_inside_a_multi_byte_character_is_restored(at):
    folded = SPLIT[:at] + b"\r\n " + SPLIT[at:]
    raw = ics(*TIMES).encode().replace(b"END:VEVENT", folded + b"\r\nEND:VEVENT")
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert read(calendar_text(raw)).subject == "Caf\u00e9 \u00fcber M\u00fcnchen \U0001f4c5"
    data = raw.replace(b"\r\n", b"\n")  # as an XML parser hands calendar data on
    listing = (
        b'<?xml version="1.0" encoding="utf-8"?>\n<d:multistatus xmlns:d="DAV:" '
        b'xmlns:c="urn:ietf:params:xml:ns:caldav">\n <d:response><d:href>/cal/a.ics</d:href>'
        b'<d:propstat><d:prop><d:getetag>"1"</d:getetag><c:calendar-data>'
        + data
        + b"</c:calendar-data></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat>"
        b"</d:response>\n</d:multistatus>"
    )
    (entry,), _ = read_multistatus(listing)
    text = entry.text("{urn:ietf:params:xml:ns:caldav}calendar-data")
    assert read(text).subject == "Caf\u00e9 \u00fcber M\u00fcnchen \U0001f4c5"


def test_an_answer_that_is_not_utf_8_otherwise_is_still_refused():
    with pytest.raises(MalformedResponse):
        read_multistatus(b'<?xml version="1.0"?><d:multistatus xmlns:d="DAV:">\xff</d:multistatus>')
