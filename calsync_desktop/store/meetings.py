"""The availability and meeting columns of an appointment row (SPEC §10), to
and from the model's fields."""

from __future__ import annotations

from calsync_desktop.model import Appointment, MyResponse, Organizer, ShowAs

MEETING_COLUMNS = (
    "show_as",
    "join_url",
    "organizer_name",
    "organizer_email",
    "guests_can_modify",
    "my_response",
)
"""The availability and meeting columns of an appointment (SPEC §10)."""


def meeting_values(a: Appointment) -> tuple:
    """The values of :data:`MEETING_COLUMNS` of an appointment, in that order."""
    organizer = a.organizer
    if organizer is None:
        return a.show_as._value_, a.join_url, None, None, False, a.my_response._value_
    return (
        a.show_as._value_,
        a.join_url,
        organizer.name,
        organizer.email,
        bool(organizer.guests_can_modify),
        a.my_response._value_,
    )


def meeting_row(a: Appointment) -> dict:
    """The availability and meeting columns of an appointment, by name."""
    return dict(zip(MEETING_COLUMNS, meeting_values(a), strict=True))


#: the members by stored value: a dictionary look-up costs a tenth of the enum's own
_SHOW_AS = {s.value: s for s in ShowAs}
_RESPONSES = {r.value: r for r in MyResponse}


def meeting_fields(d) -> dict:
    """The appointment fields of :func:`meeting_row`'s columns, from a row or a
    dict; what a colleague's private appointment withholds (NULL) is empty."""
    name, email = d.get("organizer_name"), d.get("organizer_email")
    show_as, response = d.get("show_as"), d.get("my_response")
    return {
        "show_as": _SHOW_AS[show_as] if show_as in _SHOW_AS else ShowAs(show_as or ShowAs.BUSY),
        "join_url": d.get("join_url") or "",
        "organizer": None
        if name is None and email is None
        else Organizer(name or "", email or "", bool(d.get("guests_can_modify"))),
        "my_response": _RESPONSES[response]
        if response in _RESPONSES
        else MyResponse(response or MyResponse.NONE),
    }
