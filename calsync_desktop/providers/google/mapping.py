"""Google Calendar's field names: event JSON ↔ :class:`RemoteEvent` / :class:`EventDraft`.

Times (``dateTime`` / ``date`` with ``timeZone``), EXDATE lines, attendees and
their answers, the private extended property with the local id, the ids
calsync chooses (:func:`event_id_for`, :func:`instance_id`), series versions
(:func:`master_etag`) and the bodies of writes and occurrence overrides.
Contents go through ``providers/kit/contents.py``.
"""

from __future__ import annotations

import base64
import hashlib
import re
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

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
)
from calsync_desktop.providers.kit.contents import join_contents, looks_like_html, split_contents

LOCAL_ID_PROPERTY = "calsyncLocalId"


_STATUS_FROM_GOOGLE = {
    "accepted": InviteStatus.ACCEPTED,
    "tentative": InviteStatus.TENTATIVE,
    "declined": InviteStatus.DECLINED,
    "needsAction": InviteStatus.NO_RESPONSE,
}
_ANSWER_FROM_GOOGLE = {
    "accepted": MyResponse.ACCEPTED,
    "tentative": MyResponse.TENTATIVE,
    "declined": MyResponse.DECLINED,
    "needsAction": MyResponse.NONE,
}
_ANSWER_TO_GOOGLE = {v: k for k, v in _ANSWER_FROM_GOOGLE.items()}
SERIES_VERSION_SEPARATOR = "+"
# "This and following" made in Google Calendar ends the old series (its UNTIL,
# as the Recurring events guide's "Modifying all following instances" does it:
# https://developers.google.com/workspace/calendar/api/guides/recurringevents)
# and names the new series after the old one, ``<old id>_R<UTC start of the
# cut, %Y%m%dT%H%M%S>`` (the ``ID_RANGE_TIMESTAMP`` form Odoo's Google sync
# meets, github.com/odoo/odoo/pull/120798 and /pull/287171). The suffix is
# outside base32hex, so no id an API client chooses has it.
_SPLIT_ID = re.compile(r"^(?P<old>.+)_R\d{8}T\d{6}Z?$")

# Show-as on Google (calendar v3 discovery document, Event.transparency and
# Event.eventType; guide "Manage focus time, out of office, and working location
# events", developers.google.com/calendar/api/guides/calendar-status):
# "transparent" is "Show me as Available", "opaque" (the default) busy; an
# out-of-office or working-location event says so in its eventType, which
# "cannot be modified after the event is created". Google has no tentative and
# calsync makes no working-location events (they hold a place, not a time):
# both are written as busy, and an event that exists already keeps its type.
SHOW_AS_KEPT = {ShowAs.TENTATIVE: ShowAs.BUSY, ShowAs.WORKING_ELSEWHERE: ShowAs.BUSY}
_EVENT_TYPE_SHOW_AS = {
    "outOfOffice": ShowAs.OUT_OF_OFFICE,
    "workingLocation": ShowAs.WORKING_ELSEWHERE,
}


def show_as_of(item: dict) -> ShowAs:
    """An event's show-as: its type first (out of office, working location), then
    its transparency."""
    typed = _EVENT_TYPE_SHOW_AS.get(item.get("eventType") or "default")
    if typed is not None:
        return typed
    return ShowAs.FREE if item.get("transparency") == "transparent" else ShowAs.BUSY


def join_url_of(item: dict) -> str:
    """The Meet (or add-on conference) link: the conference's video entry point,
    else the read-only ``hangoutLink``."""
    for entry in (item.get("conferenceData") or {}).get("entryPoints") or ():
        if entry.get("entryPointType") == "video" and entry.get("uri"):
            return entry["uri"]
    return item.get("hangoutLink") or ""


def master_etag(version: str) -> str:
    """The Google etag inside a version (a series' version also covers its exceptions)."""
    return version.split(SERIES_VERSION_SEPARATOR, 1)[0]


def event_id_for(local_id: str) -> str:
    """The Google event id calsync chooses for an appointment: base32hex of the UUID.

    Google accepts ids of 5-1024 characters from ``a-v`` and ``0-9``; a UUID's
    16 bytes give 26 of them. Deterministic, so a retried insert is a 409.
    """
    try:
        raw = uuid.UUID(local_id).bytes
    except ValueError:
        raw = local_id.encode("utf-8")
    return base64.b32hexencode(raw).decode("ascii").rstrip("=").lower()


def rfc3339(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _parse_dt(text: str) -> datetime:
    return datetime.fromisoformat(text)  # Python 3.11 reads RFC 3339, "Z" included


def _read_time(node: dict, default_tz: str) -> tuple[datetime, str, bool]:
    """(UTC instant, zone name, all-day) of a Google start/end object."""
    tz = node.get("timeZone") or default_tz
    if node.get("date"):
        day = datetime.fromisoformat(node["date"])
        return day.replace(tzinfo=ZoneInfo(tz) if tz else UTC).astimezone(UTC), tz, True
    value = _parse_dt(node["dateTime"])
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(tz))
    return value.astimezone(UTC), tz, False


def _write_time(value: datetime, tz: str) -> dict:
    # The local wall time with its own offset plus the zone name: Google keeps the
    # zone, so a series at 09:00 Berlin stays at 09:00 across DST changes.
    return {"dateTime": value.astimezone(ZoneInfo(tz)).isoformat(), "timeZone": tz}


def _exdate_line(exdates: Iterable[datetime], tz: str) -> str:
    zone = ZoneInfo(tz)
    values = ",".join(d.astimezone(zone).strftime("%Y%m%dT%H%M%S") for d in sorted(exdates))
    return f"EXDATE;TZID={tz}:{values}"


def _parse_exdates(line: str, tz: str) -> list[datetime]:
    head, _, values = line.partition(":")
    params = dict(p.split("=", 1) for p in head.split(";")[1:] if "=" in p)
    zone = ZoneInfo(params.get("TZID", tz))
    out = []
    for value in filter(None, (v.strip() for v in values.split(","))):
        if value.endswith("Z"):
            out.append(datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC))
        elif "T" in value:
            local = datetime.strptime(value, "%Y%m%dT%H%M%S").replace(tzinfo=zone)
            out.append(local.astimezone(UTC))
        else:
            out.append(datetime.strptime(value, "%Y%m%d").replace(tzinfo=zone).astimezone(UTC))
    return out


def _contents(item: dict) -> str:
    description = item.get("description") or ""
    return join_contents(item.get("summary"), description, looks_like_html(description))


def _attendees(item: dict) -> tuple[tuple[Participant, ...], MyResponse]:
    """The participants, and the user's own answer: their attendee entry,
    marked ``self`` ("this entry represents the calendar on which this copy
    of the event appears")."""
    out = []
    mine = None
    for a in item.get("attendees") or ():
        if a.get("self"):  # the account's own address is not a participant
            if mine is None:
                mine = _ANSWER_FROM_GOOGLE.get(a.get("responseStatus", ""), MyResponse.NONE)
            continue
        if a.get("resource"):
            continue
        status = _STATUS_FROM_GOOGLE.get(a.get("responseStatus", ""), InviteStatus.NO_RESPONSE)
        out.append(Participant(a.get("displayName") or "", a.get("email") or None, status))
    return tuple(out), MyResponse.NONE if mine is None else mine


def _organizer(organizer: dict) -> Organizer | None:
    """Who organises someone else's meeting (the Event's ``organizer``)."""
    if organizer.get("self", True):
        return None
    return Organizer(organizer.get("displayName") or "", organizer.get("email") or "")


def answer_body(email: str, response: MyResponse) -> dict:
    """A patch that gives only the attendee's own answer: their entry with its
    ``responseStatus`` and ``attendeesOmitted`` ("When updating an event, this can
    be used to only update the participant's response", Event resource)."""
    return {
        "attendeesOmitted": True,
        "attendees": [{"email": email, "responseStatus": _ANSWER_TO_GOOGLE[response]}],
    }


def to_remote_event(
    item: dict, exceptions: Sequence[dict] = (), default_tz: str = "UTC"
) -> RemoteEvent:
    """Map a Google event (a master with its exceptions, or a single event)."""
    start, tz, all_day = _read_time(item["start"], default_tz)
    end, _, _ = _read_time(item["end"], tz)
    description = item.get("description") or ""
    recurrence = None
    lines = item.get("recurrence")
    rules = [r for r in lines if r.upper().startswith("RRULE:")] if lines else ()
    if rules:
        exdates: list[datetime] = []
        for line in lines:
            if line.upper().startswith("EXDATE"):
                exdates.extend(_parse_exdates(line, tz))
        overrides = []
        for exc in exceptions:
            original, _, _ = _read_time(exc["originalStartTime"], tz)
            if exc.get("status") == "cancelled":
                exdates.append(original)
                continue
            o_start, o_tz, _ = _read_time(exc["start"], tz)
            o_end, _, _ = _read_time(exc["end"], o_tz)
            overrides.append(
                OccurrenceOverride(
                    original_start=original,
                    contents=_contents(exc),
                    location=exc.get("location") or "",
                    start=o_start,
                    end=o_end,
                )
            )
        recurrence = Recurrence(
            rrule=rules[0][6:],
            exdates=tuple(sorted(set(exdates))),
            overrides=tuple(sorted(overrides, key=lambda o: o.original_start)),
        )
    organizer = item.get("organizer") or {}
    private = (item.get("extendedProperties") or {}).get("private") or {}
    version = item.get("etag", "")
    updated = item.get("updated")
    last_modified = _parse_dt(updated) if updated else None
    if exceptions:
        # An occurrence edited on Google changes the exception's etag, not the
        # master's: the series' version covers both (writes send the master's part).
        tags = ",".join(sorted(e.get("etag", "") for e in exceptions))
        version += SERIES_VERSION_SEPARATOR + hashlib.sha1(tags.encode()).hexdigest()[:16]
        times = [_parse_dt(e["updated"]) for e in exceptions if e.get("updated")]
        if last_modified is not None:
            times.append(last_modified)
        last_modified = max(times) if times else None
    attendees, my_response = _attendees(item)
    return RemoteEvent(
        remote_id=item["id"],
        version=version,
        subject=item.get("summary") or "",
        start=start,
        end=end,
        timezone=tz,
        body=description,
        body_is_html=looks_like_html(description),
        location=item.get("location") or "",
        all_day=all_day,
        private=item.get("visibility") in ("private", "confidential"),
        attendees=attendees,
        recurrence=recurrence,
        local_id=private.get(LOCAL_ID_PROPERTY),
        ical_uid=item.get("iCalUID"),
        last_modified=last_modified,
        organizer_is_self=bool(organizer.get("self", True)),
        organizer=_organizer(organizer),
        my_response=my_response,
        guests_can_modify=bool(item.get("guestsCanModify")),
        cancelled=item.get("status") == "cancelled",
        show_as=show_as_of(item),
        join_url=join_url_of(item),
        split_from=split_from(item["id"]) if rules else None,
    )


def split_from(event_id: str) -> str | None:
    """The id of the series a series was split off from, by its id (see _SPLIT_ID)."""
    found = _SPLIT_ID.match(event_id)
    return found["old"] if found else None


def draft_body(draft: EventDraft, fields: Iterable[str] | None = None, typed: bool = False) -> dict:
    """The Google event body for a draft, limited to ``fields`` (all when None).

    Out of office is an event type: given only with ``typed``, for an event
    being made on a primary calendar (the only ones that have the type);
    otherwise show-as is the transparency alone."""
    wanted = set(fields) if fields is not None else None

    def want(name: str) -> bool:
        return wanted is None or name in wanted

    body: dict[str, Any] = {}
    if want("subject"):
        body["summary"] = draft.subject
    if want("body"):
        body["description"] = draft.body
    if want("location"):
        body["location"] = draft.location
    if want("time"):
        body["start"] = _write_time(draft.start, draft.timezone)
        body["end"] = _write_time(draft.end, draft.timezone)
    if want("private"):
        body["visibility"] = "private" if draft.private else "default"
    if want("attendees"):
        # No responseStatus: the answer belongs to the attendee and Google keeps it.
        body["attendees"] = [
            {"email": p.email, **({"displayName": p.name} if p.name else {})}
            for p in draft.attendees
            if p.email
        ]
    if want("show_as"):
        body["transparency"] = "transparent" if draft.show_as is ShowAs.FREE else "opaque"
        if typed and draft.show_as is ShowAs.OUT_OF_OFFICE:
            body["eventType"] = "outOfOffice"
    if want("recurrence"):
        if draft.recurrence is None:
            body["recurrence"] = []
        else:
            lines = ["RRULE:" + draft.recurrence.rrule]
            if draft.recurrence.exdates:
                lines.append(_exdate_line(draft.recurrence.exdates, draft.timezone))
            body["recurrence"] = lines
    if wanted is None:
        body["extendedProperties"] = {"private": {LOCAL_ID_PROPERTY: draft.local_id}}
    return body


def override_body(override: OccurrenceOverride, tz: str) -> dict:
    subject, body = split_contents(override.contents)
    return {
        "summary": subject,
        "description": body,
        "location": override.location,
        "start": _write_time(override.start, tz),
        "end": _write_time(override.end, tz),
    }


def instance_id(master_id: str, original_start: datetime) -> str:
    """Google's id of one occurrence of a timed series: ``<master>_<UTC basic time>``."""
    return f"{master_id}_{original_start.astimezone(UTC):%Y%m%dT%H%M%SZ}"
