"""Mapping between appointments and remote events (SPEC §4, §5).

Both sides are reduced to the same merge fields
(:class:`~calsync_desktop.sync.snapshot.Fields`, whose docstring lists them), so
the merge compares like with like. :func:`stored_form` says what values
become once the service has stored them and they are read back: the merge
pushes a field only when that differs from what the service holds, so a
mapping that cannot carry a value exactly (a first line longer than a
subject may be, a body's trailing blank lines, fractions of a second) never
causes a write-back of what is already there.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from calsync_desktop.model import (
    Appointment,
    InviteStatus,
    MyResponse,
    OccurrenceOverride,
    Organizer,
    Participant,
    Recurrence,
    ShowAs,
)
from calsync_desktop.providers.base import EventDraft, RemoteEvent
from calsync_desktop.providers.kit.availability import join_link_in
from calsync_desktop.providers.kit.contents import join_contents, split_contents, stored_contents
from calsync_desktop.providers.kit.occurrences import without_plain
from calsync_desktop.sync.snapshot import Fields

# which provider fields an Update must carry when a merge field changes
PROVIDER_FIELDS = {
    "contents": {"subject", "body"},
    "location": {"location"},
    "time": {"time"},
    "private": {"private"},
    "participants": {"attendees"},
    "rrule": {"recurrence"},
    "exdates": {"recurrence"},
    "overrides": {"recurrence"},
    "show_as": {"show_as"},
}

# --------------------------------------------------------------------------- fields


def iso(value: datetime) -> str:
    # the times an import reads are UTC already: no new object to convert them
    return (value if value.tzinfo is UTC else value.astimezone(UTC)).isoformat()


def _people_fields(people) -> tuple[tuple[tuple[str, str], ...], dict[str, str]]:
    """The participants and statuses fields of ``people``: each address's
    matching key worked out once (an initial sync reads thousands)."""
    if not people:
        return (), {}
    keyed = [(p, key) for p in people if (key := p.key)]
    return (
        tuple(sorted((p.name, key) for p, key in keyed)),
        {key: p.status._value_ for p, key in keyed},
    )


def _recurrence_fields(recurrence: Recurrence | None) -> dict:
    if recurrence is None:
        return {"rrule": None, "exdates": (), "overrides": {}}
    return {
        "rrule": recurrence.rrule,
        "exdates": tuple(sorted({iso(x) for x in recurrence.exdates})),
        "overrides": {
            iso(o.original_start): (o.contents, o.location, iso(o.start), iso(o.end))
            for o in recurrence.overrides
        },
    }


def local_fields(a: Appointment) -> Fields:
    """The merge fields of an appointment."""
    participants, statuses = _people_fields(a.participants)
    organizer = a.organizer
    return Fields(
        contents=a.contents,
        location=a.location,
        time=(iso(a.start), iso(a.end)),
        private=a.private,
        participants=participants,
        statuses=statuses,
        **_recurrence_fields(a.recurrence),
        show_as=a.show_as._value_,
        join_url=a.join_url,
        organizer=(organizer.name, organizer.email, organizer.guests_can_modify)
        if organizer
        else None,
        my_response=a.my_response._value_,
    )


def remote_recurrence(e: RemoteEvent) -> Recurrence | None:
    """The series of ``e`` in the Sales Calendar's terms: an exception that says
    what its series says (an attendee's answer to one occurrence) is no
    override (kit/occurrences.py)."""
    if e.recurrence is None or not e.recurrence.overrides:
        return e.recurrence
    contents = join_contents(e.subject, e.body, e.body_is_html)
    return without_plain(e.recurrence, contents, e.location or "", e.end - e.start)


def remote_fields(e: RemoteEvent, own_email: str = "", all_private: bool = False) -> Fields:
    """The merge fields of a remote event, in the Sales Calendar's form."""
    own = own_email.strip().lower()
    participants, statuses = _people_fields([p for p in e.attendees if p.key != own])
    return Fields(
        contents=join_contents(e.subject, e.body, e.body_is_html),
        location=e.location or "",
        time=(iso(e.start), iso(e.end)),
        private=True if all_private else e.private,
        participants=participants,
        statuses=statuses,
        **_recurrence_fields(remote_recurrence(e)),
        show_as=e.show_as.value,
        join_url=join_url_of(e),
        organizer=_organizer(e),
        my_response=_my_response(e).value,
    )


def join_url_of(e: RemoteEvent) -> str:
    """The event's join link: the service's own, else a meeting link in its
    location or body (a Teams, Zoom or Meet invitation pasted there)."""
    return e.join_url or join_link_in(e.location, e.body)


def _organizer(e: RemoteEvent) -> tuple[str, str, bool] | None:
    """(name, email, whether guests may modify it) of the organiser of another
    person's meeting; None for the user's own."""
    if e.organizer_is_self:
        return None
    name, email = (e.organizer.name, e.organizer.email) if e.organizer else ("", "")
    return name, email, e.guests_can_modify


def _my_response(e: RemoteEvent) -> MyResponse:
    """The user's answer; none for the user's own appointment (nobody to answer)."""
    return MyResponse.NONE if e.organizer_is_self else e.my_response


def stored_form(fields: Fields, own_email: str = "", show_as_kept=None) -> Fields:
    """``fields`` as a service holds them after a push, read back in the Sales
    Calendar's form: the contents (and each edited occurrence's) split into
    subject and body and joined again; times to the whole second (what every
    service keeps); the account's own address not a participant; a show-as
    the service cannot hold as the one it holds instead (``show_as_kept``,
    the provider's :attr:`~CalendarProvider.show_as_kept`).

    Two values that agree in this form need no push between them.
    """
    own = own_email.strip().lower()
    return replace(
        fields,
        contents=stored_contents(fields.contents),
        time=None if fields.time is None else (_second(fields.time[0]), _second(fields.time[1])),
        participants=tuple(p for p in fields.participants if p[1] != own),
        show_as=_kept(show_as_kept, fields.show_as),
        exdates=tuple(sorted({_second(x) for x in fields.exdates})),
        overrides={
            _second(k): (stored_contents(v[0]), v[1], _second(v[2]), _second(v[3]))
            for k, v in fields.overrides.items()
        },
    )


def _kept(kept, show_as: str) -> str:
    if not kept or show_as not in set(ShowAs):
        return show_as
    return kept.get(ShowAs(show_as), ShowAs(show_as)).value


def _second(value: str) -> str:
    return datetime.fromisoformat(value).replace(microsecond=0).isoformat()


def apply_fields(a: Appointment, fields: Fields, names) -> Appointment:
    """``a`` with the named merge fields set from ``fields``."""
    changes: dict = {}
    recurrence = a.recurrence
    for name in names:
        value = fields.get(name)
        if name == "contents":
            changes["contents"] = value
        elif name == "location":
            changes["location"] = value
        elif name == "time":
            changes["start"] = datetime.fromisoformat(value[0]).astimezone(UTC)
            changes["end"] = datetime.fromisoformat(value[1]).astimezone(UTC)
        elif name == "private":
            changes["private"] = bool(value)
        elif name == "statuses":
            changes["participants"] = tuple(
                Participant(p.name, p.email, InviteStatus(value.get(p.key, p.status.value)))
                if p.key
                else p
                for p in changes.get("participants", a.participants)
            )
        elif name == "participants":
            # each one under the name the fields give, with the answer known here
            known = {p.key: p for p in a.participants if p.key}
            changes["participants"] = tuple(
                replace(known[email], name=pname) if email in known else Participant(pname, email)
                for pname, email in value
            ) + tuple(p for p in a.participants if not p.key)
        elif name == "show_as":
            changes["show_as"] = ShowAs(value)
        elif name == "join_url":
            changes["join_url"] = value
        elif name == "organizer":
            changes["organizer"] = Organizer(*value) if value is not None else None
        elif name == "my_response":
            changes["my_response"] = MyResponse(value)
        elif name in ("rrule", "exdates", "overrides"):
            current = _recurrence_fields(recurrence)
            current[name] = value
            recurrence = _recurrence_from(current)
            changes["recurrence"] = recurrence
    return a.with_changes(**changes)


def _recurrence_from(fields: dict) -> Recurrence | None:
    if not fields["rrule"]:
        return None
    return Recurrence(
        fields["rrule"],
        tuple(datetime.fromisoformat(x) for x in fields["exdates"]),
        tuple(
            OccurrenceOverride(
                datetime.fromisoformat(k),
                v[0],
                v[1],
                datetime.fromisoformat(v[2]),
                datetime.fromisoformat(v[3]),
            )
            for k, v in sorted(fields["overrides"].items())
        ),
    )


def draft_from(a: Appointment) -> EventDraft:
    """What the remote event should be for appointment ``a``."""
    subject, body = split_contents(a.contents)
    return EventDraft(
        local_id=a.id,
        subject=subject,
        body=body,
        location=a.location,
        start=a.start,
        end=a.end,
        timezone=a.timezone,
        private=a.private,
        attendees=tuple(p for p in a.participants if p.key),
        recurrence=a.recurrence,
        show_as=a.show_as,
    )


def appointment_from(
    e: RemoteEvent,
    local_id: str,
    account_id: str,
    own_email: str,
    all_private: bool,
    now: datetime,
) -> tuple[Appointment, list[Participant]]:
    """A new appointment for an event first created remotely, and the attendees
    that could not be imported (no email address)."""
    own = own_email.strip().lower()
    people = []
    skipped = []
    for p in e.attendees:
        key = p.key
        if not key:
            skipped.append(p)
        elif key != own:
            people.append(p if p.name else Participant(p.email or "", p.email, p.status))
    appointment = Appointment(
        id=local_id,
        contents=join_contents(e.subject, e.body, e.body_is_html),
        start=e.start,
        end=e.end,
        timezone=e.timezone or "UTC",
        location=e.location or "",
        all_day=e.all_day,
        private=True if all_private else e.private,
        participants=tuple(people),
        recurrence=remote_recurrence(e),
        created=now,
        modified=now,
        account_id=account_id,
        ical_uid=e.ical_uid,
        show_as=e.show_as,
        join_url=join_url_of(e),
        organizer=Organizer(*organizer) if (organizer := _organizer(e)) else None,
        my_response=_my_response(e),
    )
    return appointment, skipped


def imported_fields(
    e: RemoteEvent, appointment: Appointment, own_email: str = "", all_private: bool = False
) -> tuple[Fields, Fields]:
    """The merge fields (local, remote) of an appointment :func:`appointment_from`
    just made from ``e``. The appointment holds what the event holds, so both
    sides are one :class:`Fields`, built once (an initial sync imports
    thousands), except where an attendee without a name came in named by their
    address: then the remote side is the event's own."""
    local = local_fields(appointment)
    own = own_email.strip().lower()
    for p in e.attendees:
        if not p.name and (key := p.key) and key != own:
            return local, remote_fields(e, own_email, all_private)
    return local, local
