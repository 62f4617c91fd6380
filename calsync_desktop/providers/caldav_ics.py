"""iCalendar (RFC 5545) ↔ the provider vocabulary, for CalDAV calendar resources.

A CalDAV calendar object resource is one VCALENDAR holding one event: its
master VEVENT (with RRULE and EXDATE for a series) and one VEVENT per moved or
edited occurrence, carrying the same UID and a RECURRENCE-ID (RFC 4791 §4.1,
RFC 5545 §3.8.4.4). Times carry a TZID with the VTIMEZONE it names.

The mapping (SPEC §4): SUMMARY + DESCRIPTION ↔ contents; LOCATION; DTSTART /
DTEND; ATTENDEE (pushed, PARTSTAT read back); CLASS PRIVATE or CONFIDENTIAL ↔
private; TRANSP and X-MICROSOFT-CDO-BUSYSTATUS ↔ show-as (both ways, see
``providers/kit/availability.py``); ORGANIZER; a meeting link in LOCATION,
DESCRIPTION or URL is the join link (read only).

Events calsync creates carry the local id as their UID and in
``X-CALSYNC-LOCAL-ID``; the property is what names the local id when read (an
event made elsewhere may well have a UUID for a UID too).

Updates patch the resource as the server has it: only the fields named change,
so properties of other clients (alarms, categories, TRANSP, X- properties)
survive a round trip.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icalendar import Calendar, Event, vCalAddress

from calsync_desktop.model import (
    InviteStatus,
    MyResponse,
    OccurrenceOverride,
    Organizer,
    Participant,
    Recurrence,
)
from calsync_desktop.providers import caldav_lean
from calsync_desktop.providers.base import EventDraft, InvalidEvent, RemoteEvent
from calsync_desktop.providers.kit.availability import (
    BUSY_STATUS,
    ical_show_as,
    join_link_in,
    show_as_from_ical,
)
from calsync_desktop.providers.kit.contents import join_contents, looks_like_html, split_contents
from calsync_desktop.providers.kit.occurrences import SERIES_FIELDS, put_back
from calsync_desktop.providers.kit.reading import UNREADABLE_ERRORS

LOCAL_ID_PROPERTY = "X-CALSYNC-LOCAL-ID"
PRODID = "-//calsync-desktop//Sales Calendar//EN"

PARTSTAT_TO_STATUS = {
    "ACCEPTED": InviteStatus.ACCEPTED,
    "TENTATIVE": InviteStatus.TENTATIVE,
    "DECLINED": InviteStatus.DECLINED,
    "NEEDS-ACTION": InviteStatus.NO_RESPONSE,
}
STATUS_TO_PARTSTAT = {v: k for k, v in PARTSTAT_TO_STATUS.items()}


PARTSTAT_TO_ANSWER = {
    "ACCEPTED": MyResponse.ACCEPTED,
    "TENTATIVE": MyResponse.TENTATIVE,
    "DECLINED": MyResponse.DECLINED,
}
ANSWER_TO_PARTSTAT = {v: k for k, v in PARTSTAT_TO_ANSWER.items()}


class UnreadableEvent(ValueError):
    """A calendar resource that is not iCalendar, or has no usable VEVENT."""


# --------------------------------------------------------------------------- reading


def _email(address) -> str | None:
    text = str(address or "").strip()
    if text.lower().startswith("mailto:"):
        text = text[7:]
    return text or None


def _zone_name(value) -> str:
    tz = getattr(value, "tzinfo", None)
    key = getattr(tz, "key", None)
    if key:
        return key
    name = str(tz) if tz is not None else ""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return "UTC"
    return name


def _instant(value, zone: str = "UTC") -> datetime:
    """A DTSTART-like value as an aware datetime (a date at midnight in ``zone``;
    a floating time in ``zone``)."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=ZoneInfo(zone))
        return value.astimezone(UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=ZoneInfo(zone)).astimezone(UTC)
    raise UnreadableEvent(f"not a time: {value!r}")


def _times(vevent) -> tuple[datetime, datetime, str, bool]:
    if vevent.get("DTSTART") is None:
        raise UnreadableEvent("an event without DTSTART")
    raw_start = vevent.decoded("DTSTART")
    all_day = not isinstance(raw_start, datetime)
    zone = _zone_name(raw_start) if not all_day else "UTC"
    start = _instant(raw_start, zone)
    if vevent.get("DTEND") is not None:
        end = _instant(vevent.decoded("DTEND"), zone)
    elif vevent.get("DURATION") is not None:
        end = start + vevent.decoded("DURATION")
    else:
        end = start + (timedelta(days=1) if all_day else timedelta(0))
    return start, end, zone, all_day


def _text(vevent, name: str) -> str:
    value = vevent.get(name)
    return str(value) if value is not None else ""


def _list(vevent, name: str) -> list:
    value = vevent.get(name)
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _exdates(vevent, zone: str) -> list[datetime]:
    out = []
    for prop in _list(vevent, "EXDATE"):
        for item in prop.dts:
            out.append(_instant(item.dt, zone))
    return out


def _attendees(vevent, owner: str) -> tuple[Participant, ...]:
    out = []
    for prop in _list(vevent, "ATTENDEE"):
        email = _email(prop)
        if email and email.lower() == owner.lower():
            continue  # the account's own address is not a participant
        params = getattr(prop, "params", {})
        status = PARTSTAT_TO_STATUS.get(
            str(params.get("PARTSTAT", "NEEDS-ACTION")).upper(), InviteStatus.NO_RESPONSE
        )
        out.append(Participant(str(params.get("CN", "") or ""), email, status))
    return tuple(out)


def _organizer(prop) -> Organizer:
    """Who organises someone else's meeting: ``ORGANIZER`` and its ``CN``."""
    name = str(getattr(prop, "params", {}).get("CN", "") or "")
    return Organizer(name, _email(prop) or "")


def _owners_attendee(vevent, owner: str):
    return next(
        (p for p in _list(vevent, "ATTENDEE") if (_email(p) or "").lower() == owner.lower()), None
    )


def _my_response(vevent, owner: str) -> MyResponse:
    """The user's own answer: their ``ATTENDEE``'s ``PARTSTAT``."""
    prop = _owners_attendee(vevent, owner)
    partstat = str(getattr(prop, "params", {}).get("PARTSTAT", "")).upper() if prop else ""
    return PARTSTAT_TO_ANSWER.get(partstat, MyResponse.NONE)


def _body(vevent) -> tuple[str, bool]:
    description = _text(vevent, "DESCRIPTION")
    if not description.strip():
        for alt in _list(vevent, "X-ALT-DESC"):
            if "html" in str(getattr(alt, "params", {}).get("FMTTYPE", "")).lower():
                return str(alt), True
    return description, looks_like_html(description)


def _last_modified(vevents: Iterable) -> datetime | None:
    stamps = []
    for v in vevents:
        for name in ("LAST-MODIFIED", "DTSTAMP"):
            if v.get(name) is not None:
                stamps.append(_instant(v.decoded(name)))
                break
    return max(stamps) if stamps else None


# A VTIMEZONE block (RFC 5545 §3.6.5) and its TZID line.
_VTIMEZONE = re.compile(r"BEGIN:VTIMEZONE\r?\n.*?END:VTIMEZONE\r?\n", re.S | re.I)
_TZID = re.compile(r"^TZID:([^\r\n]*)$", re.M | re.I)


@lru_cache(maxsize=512)
def _tz_database_has(tzid: str) -> bool:
    try:
        ZoneInfo(tzid)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _without_known_zones(text: str) -> str:
    """``text`` without the VTIMEZONE blocks of zones the time zone database has.

    icalendar resolves a TZID that zoneinfo knows through zoneinfo and never
    reads its VTIMEZONE (``icalendar.timezone.tzp.TZP.cache_timezone_component``),
    so such a block changes nothing that is read, yet it is most of the text
    to parse (a zone's rules, often decades of RDATEs). Blocks of other zones
    (custom or Windows names) are kept and read as before."""

    def block(found: re.Match) -> str:
        tzid = _TZID.search(found.group(0))
        return "" if tzid and _tz_database_has(tzid.group(1).strip()) else found.group(0)

    return _VTIMEZONE.sub(block, text) if "VTIMEZONE" in text else text


def parse_calendar(text: str) -> Calendar:
    try:
        return Calendar.from_ical(text)
    except (ValueError, KeyError, IndexError) as exc:
        raise UnreadableEvent(f"not iCalendar: {exc}") from None


def _override_of(v, original: datetime) -> OccurrenceOverride:
    """An overridden instance (a VEVENT with a RECURRENCE-ID) as an override."""
    o_start, o_end, _, _ = _times(v)
    o_body, o_html = _body(v)
    return OccurrenceOverride(
        original_start=original,
        contents=join_contents(_text(v, "SUMMARY"), o_body, o_html),
        location=_text(v, "LOCATION"),
        start=o_start,
        end=o_end,
    )


def read_event(
    href: str, etag: str, text: str, owner: str, *, lean: bool = True
) -> RemoteEvent | None:
    """The resource as a :class:`RemoteEvent`; None when it holds no VEVENT
    (a task or journal entry in the same collection).

    The lean reader (caldav_lean.py) reads it when it can; what it leaves, and
    any event it finds unreadable, icalendar reads (``lean=False``: icalendar
    alone, as the tests compare)."""
    if lean:
        found = caldav_lean.vevents(text)
        if found is not None:
            try:
                return event_of(href, etag, found, owner)
            except (caldav_lean.Unusual, *UNREADABLE_ERRORS):
                pass  # icalendar decides, and names what it cannot read
    calendar = parse_calendar(_without_known_zones(text))
    return event_of(href, etag, calendar.walk("VEVENT"), owner)


def event_of(href: str, etag: str, vevents: list, owner: str) -> RemoteEvent | None:
    """The event of a resource's VEVENTs (icalendar's or the lean reader's)."""
    if not vevents:
        return None
    masters = [v for v in vevents if v.get("RECURRENCE-ID") is None]
    master = masters[0] if masters else vevents[0]
    start, end, zone, all_day = _times(master)
    recurrence = None
    if master.get("RRULE") is not None:
        rule = master.get("RRULE").to_ical().decode()
        exdates = _exdates(master, zone)
        overrides = []
        for v in vevents:
            if v is master or v.get("RECURRENCE-ID") is None:
                continue
            original = _instant(v.decoded("RECURRENCE-ID"), zone)
            if _text(v, "STATUS").upper() == "CANCELLED":
                exdates.append(original)
                continue
            overrides.append(_override_of(v, original))
        recurrence = Recurrence(
            rrule=rule,
            exdates=tuple(sorted(set(exdates))),
            overrides=tuple(sorted(overrides, key=lambda o: o.original_start)),
        )
    body, is_html = _body(master)
    organizer = _email(master.get("ORGANIZER"))
    own = organizer is None or organizer.lower() == owner.lower()
    local_id = _text(master, LOCAL_ID_PROPERTY) or None
    return RemoteEvent(
        remote_id=href,
        version=etag,
        subject=_text(master, "SUMMARY"),
        start=start,
        end=end,
        timezone=zone,
        body=body,
        body_is_html=is_html,
        location=_text(master, "LOCATION"),
        all_day=all_day,
        private=_text(master, "CLASS").upper() in ("PRIVATE", "CONFIDENTIAL"),
        attendees=_attendees(master, owner),
        recurrence=recurrence,
        local_id=local_id,
        ical_uid=_text(master, "UID") or None,
        last_modified=_last_modified(vevents),
        organizer_is_self=own,
        organizer=None if own else _organizer(master.get("ORGANIZER")),
        my_response=MyResponse.NONE if own else _my_response(master, owner),
        cancelled=_text(master, "STATUS").upper() == "CANCELLED",
        show_as=show_as_from_ical(_text(master, "TRANSP"), _text(master, BUSY_STATUS)),
        join_url=join_link_in(_text(master, "URL")),
    )


# --------------------------------------------------------------------------- writing


def _set(component, name: str, value, parameters: dict | None = None) -> None:
    component.pop(name, None)
    if value is not None and value != "":
        component.add(name, value, parameters=parameters)


def _local(value: datetime, zone: str) -> datetime:
    try:
        return value.astimezone(ZoneInfo(zone))
    except (ZoneInfoNotFoundError, ValueError):
        return value.astimezone(UTC)


def _write_times(component, start: datetime, end: datetime, zone: str) -> None:
    component.pop("DURATION", None)
    _set(component, "DTSTART", _local(start, zone))
    _set(component, "DTEND", _local(end, zone))


def _write_attendees(
    component, attendees: tuple[Participant, ...], owner: str, send_invitations: bool
) -> None:
    known = {}
    for prop in _list(component, "ATTENDEE"):
        email = _email(prop)
        if email:
            known[email.lower()] = getattr(prop, "params", {}).get("PARTSTAT")
    component.pop("ATTENDEE", None)
    component.pop("ORGANIZER", None)
    people = [p for p in attendees if p.email]
    if not people:
        return
    component.add("ORGANIZER", vCalAddress(f"mailto:{owner}"))
    for person in people:
        params = {"ROLE": "REQ-PARTICIPANT", "RSVP": "TRUE"}
        # the answer belongs to the attendee: keep what the service has
        params["PARTSTAT"] = known.get(person.email.lower()) or "NEEDS-ACTION"
        if person.name:
            params["CN"] = person.name
        if not send_invitations:
            # RFC 6638 §7.1: the server must not send this attendee an invitation
            params["SCHEDULE-AGENT"] = "CLIENT"
        component.add("ATTENDEE", vCalAddress(f"mailto:{person.email}"), parameters=params)


def _write_recurrence(calendar: Calendar, master, draft: EventDraft) -> None:
    master.pop("RRULE", None)
    master.pop("EXDATE", None)
    for v in [c for c in calendar.subcomponents if c.name == "VEVENT" and c is not master]:
        calendar.subcomponents.remove(v)
    rule = draft.recurrence
    if rule is None:
        return
    master.add("RRULE", _rrule_value(rule.rrule))
    if rule.exdates:
        master.add("EXDATE", [_local(d, draft.timezone) for d in sorted(rule.exdates)])
    for override in rule.overrides:
        calendar.add_component(_override(master, override, draft.timezone))


def _put_back(calendar: Calendar, master, draft: EventDraft) -> None:
    """Overridden instances the draft does not override say what the series
    says (kit/occurrences.py); the rest of each (an attendee's PARTSTAT) stays."""
    assert draft.recurrence is not None
    zone = _times(master)[2]
    instances = {
        _instant(v.decoded("RECURRENCE-ID"), zone): v
        for v in calendar.subcomponents
        if v.name == "VEVENT"
        and v is not master
        and v.get("RECURRENCE-ID") is not None
        and _text(v, "STATUS").upper() != "CANCELLED"
    }
    held = [_override_of(v, original) for original, v in instances.items()]
    contents = join_contents(draft.subject, draft.body)
    for back in put_back(held, draft.recurrence, contents, draft.location, draft.end - draft.start):
        v = instances[back.original_start]
        subject, body = split_contents(back.contents)
        _set(v, "SUMMARY", subject)
        _set(v, "DESCRIPTION", body)
        v.pop("X-ALT-DESC", None)
        _set(v, "LOCATION", back.location)
        _write_times(v, back.start, back.end, draft.timezone)


def _rrule_value(rrule: str) -> dict:
    from icalendar import vRecur

    return vRecur.from_ical(rrule)


def _override(master, override: OccurrenceOverride, zone: str) -> Event:
    event = Event()
    event.add("UID", str(master.get("UID")))
    event.add("DTSTAMP", datetime.now(UTC))
    event.add("RECURRENCE-ID", _local(override.original_start, zone))
    subject, body = split_contents(override.contents)
    _set(event, "SUMMARY", subject)
    _set(event, "DESCRIPTION", body)
    _set(event, "LOCATION", override.location)
    _write_times(event, override.start, override.end, zone)
    for name in ("CLASS", "TRANSP", BUSY_STATUS, LOCAL_ID_PROPERTY):
        if master.get(name) is not None:
            event.add(name, master.get(name))
    return event


def _apply(
    calendar: Calendar,
    master,
    draft: EventDraft,
    fields: frozenset[str] | None,
    owner: str,
    send_invitations: bool,
    now: datetime,
) -> None:
    def want(name: str) -> bool:
        return fields is None or name in fields

    if want("subject"):
        _set(master, "SUMMARY", draft.subject)
    if want("body"):
        _set(master, "DESCRIPTION", draft.body)
        master.pop("X-ALT-DESC", None)
    if want("location"):
        _set(master, "LOCATION", draft.location)
    if want("time"):
        _write_times(master, draft.start, draft.end, draft.timezone)
    if want("private"):
        _set(master, "CLASS", "PRIVATE" if draft.private else "PUBLIC")
    if want("show_as"):
        for name, value in ical_show_as(draft.show_as).items():
            _set(master, name, value)
    if want("attendees"):
        _write_attendees(master, draft.attendees, owner, send_invitations)
    if want("recurrence"):
        _write_recurrence(calendar, master, draft)
    elif fields is not None and fields & SERIES_FIELDS and draft.recurrence is not None:
        _put_back(calendar, master, draft)
    if fields is not None and fields & {"time", "recurrence", "attendees"}:
        # RFC 5545 §3.8.7.4: a change of time or attendees is a new revision
        sequence = int(master.get("SEQUENCE", 0) or 0)
        _set(master, "SEQUENCE", sequence + 1)
    _set(master, "DTSTAMP", now)
    _set(master, "LAST-MODIFIED", now)
    calendar.subcomponents[:] = [c for c in calendar.subcomponents if c.name != "VTIMEZONE"]
    calendar.add_missing_timezones()


def new_resource(
    draft: EventDraft, owner: str, send_invitations: bool, now: datetime | None = None
) -> str:
    """The iCalendar text of a new event (its UID is the local id)."""
    now = now or datetime.now(UTC)
    calendar = Calendar()
    calendar.add("PRODID", PRODID)
    calendar.add("VERSION", "2.0")
    master = Event()
    master.add("UID", draft.local_id)
    master.add(LOCAL_ID_PROPERTY, draft.local_id)
    master.add("CREATED", now)
    master.add("SEQUENCE", 0)
    calendar.add_component(master)
    _apply(calendar, master, draft, None, owner, send_invitations, now)
    return calendar.to_ical().decode()


def answered_resource(text: str, owner: str, response: MyResponse) -> str:
    """``text`` with the user's own answer: the ``PARTSTAT`` of their ``ATTENDEE``
    in every component of the meeting, the one change RFC 6638 §3.2.2.1 lets an
    attendee make besides alarms and ``TRANSP``. Raises InvalidEvent for the
    user's own appointment or a meeting that does not list them."""
    calendar = parse_calendar(text)
    vevents = [c for c in calendar.subcomponents if c.name == "VEVENT"]
    if not vevents:
        raise UnreadableEvent("no VEVENT")
    organizer = _email(vevents[0].get("ORGANIZER"))
    if organizer is None or organizer.lower() == owner.lower():
        raise InvalidEvent("This is your own appointment: there is no invitation to answer.")
    found = False
    for vevent in vevents:
        prop = _owners_attendee(vevent, owner)
        if prop is not None:
            prop.params["PARTSTAT"] = ANSWER_TO_PARTSTAT[response]
            prop.params.pop("RSVP", None)  # answered
            found = True
    if not found:
        raise InvalidEvent(
            "The meeting does not list you as an attendee, so it cannot be answered."
        )
    return calendar.to_ical().decode()


def patched_resource(
    text: str,
    draft: EventDraft,
    fields: frozenset[str],
    owner: str,
    send_invitations: bool,
    now: datetime | None = None,
) -> str:
    """``text`` (the resource as the server has it) with only ``fields`` changed."""
    calendar = parse_calendar(text)
    masters = [
        c for c in calendar.subcomponents if c.name == "VEVENT" and c.get("RECURRENCE-ID") is None
    ]
    if not masters:
        raise UnreadableEvent("no master VEVENT")
    _apply(calendar, masters[0], draft, fields, owner, send_invitations, now or datetime.now(UTC))
    return calendar.to_ical().decode()
