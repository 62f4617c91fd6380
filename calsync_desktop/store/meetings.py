"""The availability and meeting columns of an appointment row (SPEC §10), to
and from the model's fields."""

from __future__ import annotations

from calsync_desktop.model import Appointment, MyResponse, Organizer, ShowAs


def meeting_row(a: Appointment) -> dict:
    """The availability and meeting columns of an appointment (SPEC §10)."""
    return {
        "show_as": a.show_as.value,
        "join_url": a.join_url,
        "organizer_name": a.organizer.name if a.organizer else None,
        "organizer_email": a.organizer.email if a.organizer else None,
        "guests_can_modify": bool(a.organizer and a.organizer.guests_can_modify),
        "my_response": a.my_response.value,
    }


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
