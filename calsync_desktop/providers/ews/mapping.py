"""Exchange's field names: exchangelib items ↔ :class:`RemoteEvent`.

The named extended property that carries the Sales Calendar id, exchangelib
recurrence patterns ↔ RRULE (through the shared pattern model in
``providers/kit/pattern.py``), the item fields read, times and zones, and
:func:`to_remote_event` with a series' deleted and edited occurrences.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import UTC, date, datetime
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

from exchangelib import (
    CalendarItem,
    EWSDateTime,
    EWSTimeZone,
    ExtendedProperty,
)
from exchangelib.fields import TextField
from exchangelib.folders import Calendar
from exchangelib.recurrence import (
    AbsoluteMonthlyPattern,
    AbsoluteYearlyPattern,
    DailyPattern,
    EndDatePattern,
    NoEndPattern,
    NumberedPattern,
    RelativeMonthlyPattern,
    RelativeYearlyPattern,
    WeeklyPattern,
)
from exchangelib.recurrence import Recurrence as EwsRecurrence
from exchangelib.version import EXCHANGE_2013

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
    RemoteEvent,
    UnsupportedRecurrence,
)
from calsync_desktop.providers.kit.contents import join_contents
from calsync_desktop.providers.kit.pattern import (
    ABSOLUTE_MONTHLY,
    ABSOLUTE_YEARLY,
    DAILY,
    EXCHANGE,
    RELATIVE_MONTHLY,
    RELATIVE_YEARLY,
    WEEKDAYS,
    WEEKLY,
    Pattern,
    Range,
    pattern_from_rrule,
    rrule_from_pattern,
)

# --------------------------------------------------------------------------- the local id property


class CalsyncLocalId(ExtendedProperty):
    """The Sales Calendar appointment id, as a named string property in our own set."""

    property_set_id = "8f0f3f52-5e3b-4a34-9c7e-1f5c2d8a7b61"
    property_name = "calsync-local-id"
    property_type = "String"


LOCAL_ID_FIELD = "calsync_local_id"
_register_lock = threading.Lock()

JOIN_URL_FIELD = "join_online_meeting_url"
"""calendar:JoinOnlineMeetingUrl (types.xsd, CalendarItemType, Exchange 2013 on):
the online meeting's join link, which exchangelib does not name; read-only."""

# LegacyFreeBusyStatus (types.xsd, LegacyFreeBusyType): Free, Tentative, Busy,
# OOF, WorkingElsewhere, or NoData (shown as busy)
SHOW_AS_TO_EWS = {
    ShowAs.FREE: "Free",
    ShowAs.TENTATIVE: "Tentative",
    ShowAs.BUSY: "Busy",
    ShowAs.OUT_OF_OFFICE: "OOF",
    ShowAs.WORKING_ELSEWHERE: "WorkingElsewhere",
}
_SHOW_AS_FROM_EWS = {word: value for value, word in SHOW_AS_TO_EWS.items()}


def register_local_id_property() -> None:
    """Register the extended property on CalendarItem once per process.

    exchangelib keeps registrations in the class, globally; registering twice
    raises, and another module may have registered the same name. Idempotent.
    """
    with _register_lock:
        existing = {f.name: f for f in CalendarItem.FIELDS}
        if JOIN_URL_FIELD not in existing:
            CalendarItem.add_field(
                TextField(
                    JOIN_URL_FIELD,
                    field_uri="calendar:JoinOnlineMeetingUrl",
                    is_read_only=True,
                    supported_from=EXCHANGE_2013,
                ),
                insert_after="net_show_url",
            )
        if LOCAL_ID_FIELD in existing:
            return
        CalendarItem.register(LOCAL_ID_FIELD, CalsyncLocalId)


# --------------------------------------------------------------------------- recurrence converter

_WEEK_NUMBERS = {1: 1, 2: 2, 3: 3, 4: 4, -1: 5}  # index -> exchangelib week_number
# exchangelib's weekday values beyond one day (Day, Weekday, WeekendDay)
_DAY_GROUPS = {8: WEEKDAYS, 9: WEEKDAYS[:5], 10: WEEKDAYS[5:]}


def _ews_weekday(days: tuple[str, ...]) -> int:
    if len(days) == 1:
        return WEEKDAYS.index(days[0]) + 1
    for value, group in _DAY_GROUPS.items():
        if set(days) == set(group):
            return value
    raise UnsupportedRecurrence(
        "Exchange repeats on one weekday, every day, weekdays or weekend days only."
    )


def _weekday_codes(value: int) -> tuple[str, ...]:
    return (WEEKDAYS[value - 1],) if value <= 7 else _DAY_GROUPS[value]


def rrule_to_ews(rule: str, start: datetime, tz: str) -> EwsRecurrence:
    """An RFC 5545 rule (for a series starting at ``start`` in zone ``tz``) as an
    exchangelib Recurrence. Raises :class:`UnsupportedRecurrence` with the
    reason (kit/pattern.py)."""
    pattern, rng = pattern_from_rrule(rule, start, tz, EXCHANGE)
    kind, interval = pattern.kind, pattern.interval
    if kind == DAILY:
        ews_pattern: Any = DailyPattern(interval=interval)
    elif kind == WEEKLY:
        ews_pattern = WeeklyPattern(
            interval=interval,
            weekdays=sorted(WEEKDAYS.index(d) + 1 for d in pattern.days),
            first_day_of_week=WEEKDAYS.index(pattern.first_day) + 1,
        )
    elif kind == ABSOLUTE_MONTHLY:
        ews_pattern = AbsoluteMonthlyPattern(interval=interval, day_of_month=pattern.day_of_month)
    elif kind == RELATIVE_MONTHLY:
        ews_pattern = RelativeMonthlyPattern(
            interval=interval,
            weekday=_ews_weekday(pattern.days),
            week_number=_WEEK_NUMBERS[pattern.index],
        )
    elif kind == ABSOLUTE_YEARLY:
        ews_pattern = AbsoluteYearlyPattern(day_of_month=pattern.day_of_month, month=pattern.month)
    else:
        ews_pattern = RelativeYearlyPattern(
            weekday=_ews_weekday(pattern.days),
            week_number=_WEEK_NUMBERS[pattern.index],
            month=pattern.month,
        )
    if rng.count is not None:
        boundary: Any = NumberedPattern(start=rng.start, number=rng.count)
    elif rng.end is not None:
        boundary = EndDatePattern(start=rng.start, end=rng.end)
    else:
        boundary = NoEndPattern(start=rng.start)
    return EwsRecurrence(pattern=ews_pattern, boundary=boundary)


def ews_to_rrule(recurrence: EwsRecurrence, start: datetime, tz: str) -> str:
    """An exchangelib Recurrence as RRULE text (without the ``RRULE:`` prefix)."""
    p, boundary = recurrence.pattern, recurrence.boundary

    def index(week_number: int) -> int:
        return -1 if week_number == 5 else week_number

    if isinstance(p, DailyPattern):
        pattern = Pattern(DAILY, p.interval)
    elif isinstance(p, WeeklyPattern):
        days = p.weekdays if isinstance(p.weekdays, list) else [p.weekdays]
        pattern = Pattern(
            WEEKLY,
            p.interval,
            tuple(WEEKDAYS[d - 1] for d in sorted(days)),
            first_day=WEEKDAYS[(p.first_day_of_week or 1) - 1],
        )
    elif isinstance(p, AbsoluteMonthlyPattern):
        pattern = Pattern(ABSOLUTE_MONTHLY, p.interval, day_of_month=p.day_of_month)
    elif isinstance(p, RelativeMonthlyPattern):
        pattern = Pattern(
            RELATIVE_MONTHLY, p.interval, _weekday_codes(p.weekday), index=index(p.week_number)
        )
    elif isinstance(p, AbsoluteYearlyPattern):
        pattern = Pattern(ABSOLUTE_YEARLY, day_of_month=p.day_of_month, month=p.month)
    elif isinstance(p, RelativeYearlyPattern):
        pattern = Pattern(
            RELATIVE_YEARLY,
            days=_weekday_codes(p.weekday),
            month=p.month,
            index=index(p.week_number),
        )
    else:
        raise UnsupportedRecurrence(f"The Exchange repetition {type(p).__name__} is not supported.")
    first = start.astimezone(ZoneInfo(tz)).date()
    if isinstance(boundary, NumberedPattern):
        rng = Range(first, count=boundary.number)
    elif isinstance(boundary, EndDatePattern):
        end = boundary.end
        rng = Range(
            first, end=end if type(end) is date or not isinstance(end, datetime) else end.date()
        )
    else:
        rng = Range(first)
    return rrule_from_pattern(pattern, rng, start, tz, EXCHANGE)


# --------------------------------------------------------------------------- mapping


_RESPONSES = {
    "Accept": InviteStatus.ACCEPTED,
    "Tentative": InviteStatus.TENTATIVE,
    "Decline": InviteStatus.DECLINED,
}

ITEM_FIELDS = [
    "subject",
    "body",
    "location",
    "start",
    "end",
    "_start_timezone",
    "is_all_day",
    "sensitivity",
    "required_attendees",
    "recurrence",
    "modified_occurrences",
    "deleted_occurrences",
    "type",
    "uid",
    "last_modified_time",
    "organizer",
    "my_response_type",
    "is_cancelled",
    "legacy_free_busy_status",
    JOIN_URL_FIELD,
    LOCAL_ID_FIELD,
]
# The user's own answer (MyResponseType); Unknown, Organizer and NoResponseReceived are none.
_ANSWER_FROM_EWS = {
    "Accept": MyResponse.ACCEPTED,
    "Tentative": MyResponse.TENTATIVE,
    "Decline": MyResponse.DECLINED,
}
EXCEPTION_FIELDS = [
    "subject",
    "text_body",
    "location",
    "start",
    "end",
    "original_start",
    "is_cancelled",
]


def ews_time(value: datetime, tz: EWSTimeZone) -> EWSDateTime:
    return EWSDateTime.from_datetime(value.astimezone(UTC)).astimezone(tz)


def utc(value) -> datetime:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return datetime.fromtimestamp(value.timestamp(), UTC)
    return datetime.combine(value, datetime.min.time(), tzinfo=UTC)


def _zone_name(item) -> str:
    tz = getattr(item, "_start_timezone", None)
    key = getattr(tz, "key", None)
    if key:
        try:
            ZoneInfo(key)
            return key
        except Exception:
            return "UTC"
    return "UTC"


def to_remote_event(item, exceptions: dict, own_email: str) -> RemoteEvent:
    """One calendar item (with its exceptions by id) as a :class:`RemoteEvent`;
    ``own_email`` tells whether the mailbox owner organises it."""
    if item.start is None or item.end is None:
        raise ValueError("no readable start or end")  # exchangelib's None for a bad time
    tz = _zone_name(item)
    start, end = utc(item.start), utc(item.end)
    body = item.body or ""
    is_html = type(body).__name__ == "HTMLBody"
    attendees = []
    for att in item.required_attendees or []:
        box = att.mailbox
        attendees.append(
            Participant(
                name=(box.name if box else None) or (box.email_address if box else "") or "",
                email=box.email_address if box and box.email_address else None,
                status=_RESPONSES.get(att.response_type, InviteStatus.NO_RESPONSE),
            )
        )
    recurrence = None
    if item.recurrence is not None:
        try:
            rule = ews_to_rrule(item.recurrence, start, tz)
        except UnsupportedRecurrence:
            rule = None
        if rule:
            overrides = []
            exdates = [utc(d.start) for d in item.deleted_occurrences or []]
            for occ in item.modified_occurrences or []:
                exc = exceptions.get(occ.id)
                if exc is not None and exc.is_cancelled:
                    # cancelled by its organiser: the occurrence is gone (SPEC §4)
                    exdates.append(utc(occ.original_start))
                    continue
                # an exception's own subject, even when it was emptied (Exchange
                # answers TextBody as text it converted itself, with \r\n line ends)
                contents = (
                    join_contents(exc.subject, *_exception_text(exc)) if exc else item.subject or ""
                )
                overrides.append(
                    OccurrenceOverride(
                        original_start=utc(occ.original_start),
                        contents=contents,
                        location=(exc.location if exc else None) or "",
                        start=utc(occ.start),
                        end=utc(occ.end),
                    )
                )
            recurrence = Recurrence(
                rrule=rule,
                exdates=tuple(sorted(set(exdates))),
                overrides=tuple(sorted(overrides, key=lambda o: o.original_start)),
            )
    organizer = item.organizer.email_address if item.organizer else None
    own = organizer is None or organizer.lower() == own_email.lower()
    return RemoteEvent(
        remote_id=item.id,
        version=item.changekey,
        subject=item.subject or "",
        start=start,
        end=end,
        timezone=tz,
        body=str(body),
        body_is_html=is_html,
        location=item.location or "",
        all_day=bool(item.is_all_day),
        private=item.sensitivity in ("Private", "Confidential"),
        attendees=tuple(attendees),
        recurrence=recurrence,
        local_id=getattr(item, LOCAL_ID_FIELD, None),
        ical_uid=item.uid,
        last_modified=utc(item.last_modified_time) if item.last_modified_time else None,
        organizer_is_self=own,
        organizer=None if own else Organizer(item.organizer.name or "", organizer or ""),
        my_response=MyResponse.NONE
        if own
        else _ANSWER_FROM_EWS.get(item.my_response_type or "", MyResponse.NONE),
        cancelled=bool(item.is_cancelled),
        show_as=_SHOW_AS_FROM_EWS.get(item.legacy_free_busy_status or "", ShowAs.BUSY),
        join_url=getattr(item, JOIN_URL_FIELD, None) or "",
    )


def _exception_text(exc) -> tuple[str, bool]:
    """An exception's body and whether it is HTML: its TextBody, or on Exchange
    2010 (no TextBody there) its Body."""
    if exc.text_body is not None:
        return str(exc.text_body), False
    body = exc.body
    return str(body or ""), type(body).__name__ == "HTMLBody"


def known_to(version, names: list[str]) -> list[str]:
    """``names`` as the server's version of Exchange knows them. JoinOnlineMeetingUrl
    and TextBody are Exchange 2013's, and Exchange 2010 refuses a request that
    names either (its schema lacks them; exchangelib refuses them before
    sending): there the join link comes from the location or body
    (https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/joinonlinemeetingurl),
    and an exception's text from its Body, converted as an item's is
    (https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/textbody)."""
    out = []
    for name in names:
        if CalendarItem.get_field_by_fieldname(name).supports_version(version):
            out.append(name)
        elif name == "text_body":
            out.append("body")
    return out


def show_as_word(show_as: ShowAs, version) -> str:
    """The LegacyFreeBusyStatus for ``show_as`` on the server's version:
    Exchange 2010 has no WorkingElsewhere (LegacyFreeBusyType gained it in
    Exchange 2013), so working elsewhere is busy there, as Outlook shows it."""
    word = SHOW_AS_TO_EWS[show_as]
    status = CalendarItem.get_field_by_fieldname("legacy_free_busy_status")
    return word if version is None or word in status.supported_choices(version) else "Busy"


def show_as_kept_on(version) -> Mapping[ShowAs, ShowAs]:
    """What the server's version holds instead of a show-as it has no word for
    (the provider's ``show_as_kept``): busy for working elsewhere before 2013."""
    if version is None or show_as_word(ShowAs.WORKING_ELSEWHERE, version) != "Busy":
        return MappingProxyType({})
    return MappingProxyType({ShowAs.WORKING_ELSEWHERE: ShowAs.BUSY})


def field_paths(folder, account, names: list[str]) -> list:
    return [f for f in folder.normalize_fields(fields=names) if not f.field.is_attribute]


def folder_fields(account) -> list:
    from exchangelib.fields import FieldPath

    return [FieldPath(field=f) for f in Calendar.FIELDS if f.name in ("name", "folder_class")]
