"""Office 365's field names: Graph event JSON ↔ :class:`RemoteEvent` / :class:`EventDraft`.

Times and Windows zone names, ``patternedRecurrence`` ↔ RRULE (through the
shared pattern model in ``providers/kit/pattern.py``), attendees and their
answers, the local-id extended property, and the bodies of writes and of
occurrence patches. Contents go through ``providers/kit/contents.py``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from calsync_desktop.model import (
    InviteStatus,
    MyResponse,
    OccurrenceOverride,
    Organizer,
    Participant,
    Recurrence,
    ShowAs,
)
from calsync_desktop.providers.base import (
    EventDraft,
    RemoteEvent,
    UnsupportedRecurrence,
)
from calsync_desktop.providers.kit.contents import join_contents, split_contents
from calsync_desktop.providers.kit.occurrences import is_plain
from calsync_desktop.providers.kit.pattern import (
    ABSOLUTE_MONTHLY,
    ABSOLUTE_YEARLY,
    OFFICE365,
    RELATIVE_MONTHLY,
    RELATIVE_YEARLY,
    WEEKDAYS,
    WEEKLY,
    Pattern,
    Range,
    pattern_from_rrule,
    rrule_from_pattern,
)

log = logging.getLogger(__package__)  # one logger for the whole provider

LOCAL_ID_GUID = "{8f1e7c2a-4b6d-4e0f-9a3c-ca15c0de1d01}"
"""Our property set GUID: chosen once for calsync, never change it."""
LOCAL_ID_PROPERTY = f"String {LOCAL_ID_GUID} Name calsyncLocalId"
"""The single-value extended property that carries the Sales Calendar id."""


FIELDS = (
    "id,changeKey,subject,body,start,end,originalStartTimeZone,originalEndTimeZone,location,"
    "isAllDay,sensitivity,attendees,recurrence,type,seriesMasterId,originalStart,iCalUId,"
    "lastModifiedDateTime,isOrganizer,isCancelled,cancelledOccurrences,"
    "organizer,responseStatus,responseRequested,"
    "showAs,onlineMeeting,onlineMeetingUrl"
)
EXPAND_LOCAL_ID = f"singleValueExtendedProperties($filter=id eq '{LOCAL_ID_PROPERTY}')"

_STATUS_FROM_GRAPH = {
    "accepted": InviteStatus.ACCEPTED,
    "tentativelyaccepted": InviteStatus.TENTATIVE,
    "declined": InviteStatus.DECLINED,
    "organizer": InviteStatus.ACCEPTED,
}

# The signed-in user's own answer (event.responseStatus.response, responseType):
# none, organizer and notResponded are no answer.
_ANSWER_FROM_GRAPH = {
    "accepted": MyResponse.ACCEPTED,
    "tentativelyaccepted": MyResponse.TENTATIVE,
    "declined": MyResponse.DECLINED,
}
# The action that sends each answer (event-accept, event-tentativelyaccept, event-decline).
ANSWER_ACTIONS = {
    MyResponse.ACCEPTED: "accept",
    MyResponse.TENTATIVE: "tentativelyAccept",
    MyResponse.DECLINED: "decline",
}

# Windows zone names Graph reports for events made in Outlook (CLDR windowsZones, territory 001).
WINDOWS_ZONES = {
    "UTC": "UTC",
    "GMT Standard Time": "Europe/London",
    "Greenwich Standard Time": "Atlantic/Reykjavik",
    "W. Europe Standard Time": "Europe/Berlin",
    "Romance Standard Time": "Europe/Paris",
    "Central Europe Standard Time": "Europe/Budapest",
    "Central European Standard Time": "Europe/Warsaw",
    "E. Europe Standard Time": "Europe/Chisinau",
    "FLE Standard Time": "Europe/Kiev",
    "GTB Standard Time": "Europe/Bucharest",
    "Russian Standard Time": "Europe/Moscow",
    "Turkey Standard Time": "Europe/Istanbul",
    "Israel Standard Time": "Asia/Jerusalem",
    "South Africa Standard Time": "Africa/Johannesburg",
    "Arabian Standard Time": "Asia/Dubai",
    "India Standard Time": "Asia/Calcutta",
    "China Standard Time": "Asia/Shanghai",
    "Singapore Standard Time": "Asia/Singapore",
    "Tokyo Standard Time": "Asia/Tokyo",
    "Korea Standard Time": "Asia/Seoul",
    "AUS Eastern Standard Time": "Australia/Sydney",
    "New Zealand Standard Time": "Pacific/Auckland",
    "Eastern Standard Time": "America/New_York",
    "Central Standard Time": "America/Chicago",
    "Mountain Standard Time": "America/Denver",
    "US Mountain Standard Time": "America/Phoenix",
    "Pacific Standard Time": "America/Los_Angeles",
    "Alaskan Standard Time": "America/Anchorage",
    "Hawaiian Standard Time": "Pacific/Honolulu",
    "Atlantic Standard Time": "America/Halifax",
    "E. South America Standard Time": "America/Sao_Paulo",
}


# --------------------------------------------------------------------------- recurrence

_DAY_NAMES = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_INDEX_NAMES = {1: "first", 2: "second", 3: "third", 4: "fourth", -1: "last"}
_INDEX_NUMBERS = {v: k for k, v in _INDEX_NAMES.items()}


def _day_name(code: str) -> str:
    return _DAY_NAMES[WEEKDAYS.index(code)]


def _day_code(name: str) -> str:
    return WEEKDAYS[_DAY_NAMES.index(name.lower())]


def rrule_to_graph(rule: str, start: datetime, tz: str) -> dict:
    """An RFC 5545 RRULE (without ``RRULE:``) as Graph's ``patternedRecurrence``.

    ``start`` is the series' first start; ``tz`` its IANA zone. Raises
    :class:`UnsupportedRecurrence` for rules Graph cannot hold (kit/pattern.py).
    """
    pattern, rng = pattern_from_rrule(rule, start, tz, OFFICE365)
    wire: dict[str, Any] = {"interval": pattern.interval, "type": pattern.kind}
    if pattern.kind in (RELATIVE_YEARLY, ABSOLUTE_YEARLY):
        wire["month"] = pattern.month
    if pattern.kind == WEEKLY:
        wire["daysOfWeek"] = [_day_name(d) for d in pattern.days]
        wire["firstDayOfWeek"] = _day_name(pattern.first_day)
    elif pattern.kind in (ABSOLUTE_MONTHLY, ABSOLUTE_YEARLY):
        wire["dayOfMonth"] = pattern.day_of_month
    elif pattern.kind in (RELATIVE_MONTHLY, RELATIVE_YEARLY):
        wire["daysOfWeek"] = [_day_name(d) for d in pattern.days]
        wire["index"] = _INDEX_NAMES[pattern.index]
    wire_range: dict[str, Any] = {"startDate": rng.start.isoformat(), "recurrenceTimeZone": tz}
    if rng.count is not None:
        wire_range.update(type="numbered", numberOfOccurrences=rng.count)
    elif rng.end is not None:
        wire_range.update(type="endDate", endDate=rng.end.isoformat())
    else:
        wire_range.update(type="noEnd")
    return {"pattern": wire, "range": wire_range}


def graph_to_rrule(recurrence: dict, start: datetime, tz: str) -> str:
    """Graph's ``patternedRecurrence`` as an RFC 5545 RRULE (without ``RRULE:``).

    ``start`` is the series' first start and ``tz`` the zone the rule is in; an
    ``endDate`` range becomes an UNTIL at the series' time on that day, in UTC.
    """
    wire = recurrence.get("pattern") or {}
    wire_range = recurrence.get("range") or {}
    try:
        pattern = Pattern(
            kind=wire.get("type") or "",
            interval=int(wire.get("interval") or 1),
            days=tuple(_day_code(d) for d in wire.get("daysOfWeek") or ()),
            first_day=_day_code(wire.get("firstDayOfWeek") or "sunday"),
            day_of_month=int(wire.get("dayOfMonth") or 1),
            month=int(wire.get("month") or 1),
            index=_INDEX_NUMBERS.get((wire.get("index") or "first").lower(), 1),
        )
    except (ValueError, TypeError, AttributeError):
        raise UnsupportedRecurrence("Office 365 sent a repetition that cannot be read.") from None
    first = start.astimezone(ZoneInfo(tz)).date()
    if wire_range.get("type") == "numbered":
        rng = Range(first, count=int(wire_range.get("numberOfOccurrences") or 1))
    elif wire_range.get("type") == "endDate" and wire_range.get("endDate"):
        rng = Range(first, end=date.fromisoformat(wire_range["endDate"]))
    else:
        rng = Range(first)
    zone = zone_name(wire_range.get("recurrenceTimeZone") or tz)
    return rrule_from_pattern(pattern, rng, start, zone, OFFICE365)


def zone_name(name: str | None) -> str:
    """An IANA zone name for a Graph ``timeZone`` (IANA or Windows); UTC when unknown."""
    if not name:
        return "UTC"
    name = WINDOWS_ZONES.get(name, name)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        log.info("Unknown time zone %r from Office 365; using UTC", name)
        return "UTC"
    return name


# --------------------------------------------------------------------------- mapping


def _parse_time(value: dict) -> datetime:
    text = str(value["dateTime"]).rstrip("Z")
    if "." in text:
        head, frac = text.split(".", 1)
        text = head + "." + frac[:6]
    naive = datetime.fromisoformat(text)
    return naive.replace(tzinfo=ZoneInfo(zone_name(value.get("timeZone") or "UTC"))).astimezone(UTC)


def parse_stamp(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _write_time(moment: datetime, tz: str) -> dict:
    local = moment.astimezone(ZoneInfo(tz))
    return {"dateTime": local.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": tz}


TRANSACTION_PREFIX = "calsync-"
"""An event calsync created carries ``transactionId`` ``calsync-<local id>``."""


def local_id_of(item: dict) -> str | None:
    """The Sales Calendar id an event carries: its extended property (stamped on
    every write, read with ``$expand``), else the transactionId calsync gave it
    when creating it (in any listing, also delta's, which takes no ``$expand``)."""
    for prop in item.get("singleValueExtendedProperties") or ():
        if str(prop.get("id", "")).lower() == LOCAL_ID_PROPERTY.lower():
            return prop.get("value")
    txn = item.get("transactionId")
    if isinstance(txn, str) and txn.startswith(TRANSACTION_PREFIX):
        return txn[len(TRANSACTION_PREFIX) :] or None
    return None


def _attendees(item: dict) -> tuple[Participant, ...]:
    out = []
    for a in item.get("attendees") or ():
        if a.get("type") == "resource":
            continue
        email = (a.get("emailAddress") or {}).get("address") or None
        name = (a.get("emailAddress") or {}).get("name") or ""
        response = ((a.get("status") or {}).get("response") or "none").lower()
        out.append(
            Participant(name, email, _STATUS_FROM_GRAPH.get(response, InviteStatus.NO_RESPONSE))
        )
    return tuple(out)


def _contents(item: dict) -> str:
    body = item.get("body") or {}
    is_html = (body.get("contentType") or "").lower() == "html"
    return join_contents(item.get("subject"), body.get("content"), is_html)


def _show_as(item: dict) -> ShowAs:
    """event.showAs, a freeBusyStatus (graph-schemas/calendar-v1.0.xml): free,
    tentative, busy, oof, workingElsewhere (the product's own values), or
    unknown, which shows as busy."""
    try:
        return ShowAs(item.get("showAs") or "busy")
    except ValueError:
        return ShowAs.BUSY  # "unknown"


def _join_url(item: dict) -> str:
    """onlineMeeting.joinUrl, else the older onlineMeetingUrl (Skype for Business)."""
    return (item.get("onlineMeeting") or {}).get("joinUrl") or item.get("onlineMeetingUrl") or ""


def _organizer(item: dict) -> Organizer | None:
    """Who organises someone else's meeting (``organizer.emailAddress``)."""
    if item.get("isOrganizer", True):
        return None
    address = (item.get("organizer") or {}).get("emailAddress") or {}
    return Organizer(address.get("name") or "", address.get("address") or "")


def to_remote_event(item: dict, default_tz: str = "UTC") -> RemoteEvent:
    """Map a Graph event (a single instance, or a series master fetched with
    ``cancelledOccurrences`` and ``exceptionOccurrences``)."""
    tz = zone_name(item.get("originalStartTimeZone") or default_tz)
    start = _parse_time(item["start"])
    end = _parse_time(item["end"])
    body = item.get("body") or {}
    recurrence = None
    if item.get("recurrence"):
        rule_tz = zone_name((item["recurrence"].get("range") or {}).get("recurrenceTimeZone") or tz)
        rrule = graph_to_rrule(item["recurrence"], start, rule_tz)
        zone = ZoneInfo(rule_tz)
        local_time = start.astimezone(zone).time()
        exdates = []
        for oid in item.get("cancelledOccurrences") or ():
            # "OID.<seriesMasterId>.<yyyy-MM-dd>": the date of the deleted occurrence.
            day = date.fromisoformat(oid.rsplit(".", 1)[-1])
            exdates.append(datetime.combine(day, local_time, tzinfo=zone).astimezone(UTC))
        overrides = []
        for exc in item.get("exceptionOccurrences") or ():
            original = parse_stamp(exc.get("originalStart"))
            if original is None:
                continue
            if exc.get("isCancelled"):
                # cancelled by its organiser: the occurrence is gone (SPEC §4)
                exdates.append(original.astimezone(UTC))
                continue
            override = OccurrenceOverride(
                original_start=original.astimezone(UTC),
                contents=_contents(exc),
                location=(exc.get("location") or {}).get("displayName") or "",
                start=_parse_time(exc["start"]),
                end=_parse_time(exc["end"]),
            )
            # An exception that says what the series says is no override (kit/occurrences.py).
            if not is_plain(
                override,
                _contents(item),
                (item.get("location") or {}).get("displayName") or "",
                end - start,
            ):
                overrides.append(override)
        recurrence = Recurrence(
            rrule=rrule,
            exdates=tuple(sorted(set(exdates))),
            overrides=tuple(sorted(overrides, key=lambda o: o.original_start)),
        )
    return RemoteEvent(
        remote_id=item["id"],
        version=item.get("changeKey") or "",
        subject=item.get("subject") or "",
        start=start,
        end=end,
        timezone=tz,
        body=body.get("content") or "",
        body_is_html=(body.get("contentType") or "").lower() == "html",
        location=(item.get("location") or {}).get("displayName") or "",
        all_day=bool(item.get("isAllDay")),
        private=item.get("sensitivity") in ("private", "confidential"),
        attendees=_attendees(item),
        recurrence=recurrence,
        local_id=local_id_of(item),
        ical_uid=item.get("iCalUId"),
        last_modified=parse_stamp(item.get("lastModifiedDateTime")),
        organizer_is_self=bool(item.get("isOrganizer", True)),
        organizer=_organizer(item),
        my_response=_ANSWER_FROM_GRAPH.get(
            ((item.get("responseStatus") or {}).get("response") or "").lower(), MyResponse.NONE
        ),
        cancelled=bool(item.get("isCancelled")),
        show_as=_show_as(item),
        join_url=_join_url(item),
    )


def draft_body(draft: EventDraft, fields: Iterable[str] | None = None) -> dict:
    """The Graph event body for a draft, limited to ``fields`` (all when None)."""
    wanted = set(fields) if fields is not None else None

    def want(name: str) -> bool:
        return wanted is None or name in wanted

    body: dict[str, Any] = {}
    if want("subject"):
        body["subject"] = draft.subject
    if want("body"):
        body["body"] = {"contentType": "text", "content": draft.body}
    if want("location"):
        body["location"] = {"displayName": draft.location}
    if want("time") or (want("recurrence") and draft.recurrence is not None):
        body["start"] = _write_time(draft.start, draft.timezone)
        body["end"] = _write_time(draft.end, draft.timezone)
    if want("private"):
        body["sensitivity"] = "private" if draft.private else "normal"
    if want("show_as"):
        body["showAs"] = draft.show_as.value
    if want("attendees"):
        # No status: the answer belongs to the attendee and Graph keeps it.
        body["attendees"] = [
            {"type": "required", "emailAddress": {"address": p.email, "name": p.name or p.email}}
            for p in draft.attendees
            if p.email
        ]
    if want("recurrence") or (want("time") and draft.recurrence is not None):
        # The range's startDate follows the first start, so a moved series carries its rule.
        body["recurrence"] = (
            rrule_to_graph(draft.recurrence.rrule, draft.start, draft.timezone)
            if draft.recurrence
            else None
        )
    body["singleValueExtendedProperties"] = [{"id": LOCAL_ID_PROPERTY, "value": draft.local_id}]
    if wanted is None:
        body["isAllDay"] = False
        body["transactionId"] = TRANSACTION_PREFIX + draft.local_id
    return body


def _override_body(override: OccurrenceOverride, tz: str) -> dict:
    subject, body = split_contents(override.contents)
    return {
        "subject": subject,
        "body": {"contentType": "text", "content": body},
        "location": {"displayName": override.location},
        "start": _write_time(override.start, tz),
        "end": _write_time(override.end, tz),
    }


def patch_occurrence(occurrence_id: str, override: OccurrenceOverride, tz: str) -> dict:
    return {
        "method": "PATCH",
        "url": f"/me/events/{quote(occurrence_id, safe='')}",
        "headers": {"Content-Type": "application/json"},
        "body": _override_body(override, tz),
    }
