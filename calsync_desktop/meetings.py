"""Meetings someone else organises, below both the command line and the window
(SPEC §10).

- Such a meeting is read-only in the Sales Calendar except for what its
  service lets an attendee set on their own copy
  (:data:`~calsync_desktop.providers.kit.meetings.ATTENDEE_FIELDS`):
  :func:`read_only_changes` names what an edit would change that is not theirs,
  :func:`check_edit` refuses it in words. An organiser who lets the guests
  change the meeting (Google's ``guestsCanModify``) makes all of it editable
  (:func:`guests_may_edit`).
- The user's answer (accept, tentative, decline) is kept on the appointment
  (:func:`respond`); the next sync sends it as a response, never as an edit.
- A declined meeting stays, struck through, and does not count as busy
  (:func:`counts_as_busy`); a setting hides it (:func:`shown`).

Plain functions on :mod:`calsync_desktop.model` values: no I/O, no Qt.
"""

from __future__ import annotations

from calsync_desktop.model import Appointment, InvalidAppointment, MyResponse, ShowAs
from calsync_desktop.providers.kit.meetings import SERVICE_NAMES, attendee_fields, read_only_reason

#: The answers a person gives, in the words of ``calsync appointments respond``.
ANSWERS: dict[str, MyResponse] = {
    "accept": MyResponse.ACCEPTED,
    "tentative": MyResponse.TENTATIVE,
    "decline": MyResponse.DECLINED,
}

NOT_ON_CALENDAR = (
    "Organised by someone else and no longer on the calendar (declined, say): "
    "kept in the Sales Calendar only, never made again as your own"
)
"""The skipped-log reason for someone else's meeting the service no longer holds."""

# The appointment's fields a person edits, in a person's words.
_EDITABLE = {
    "contents": "contents",
    "location": "location",
    "start": "time",
    "end": "time",
    "timezone": "time zone",
    "all_day": "all day",
    "private": "private",
    "participants": "participants",
    "recurrence": "repeat",
    "show_as": "show as",
}


def organiser_named(appointment: Appointment) -> str:
    """Who organises ``appointment``, as a person reads it."""
    if appointment.organizer is None:
        return "you"
    return appointment.organizer.shown or "someone else"


def guests_may_edit(appointment: Appointment) -> bool:
    """Whether the organiser of someone else's meeting lets the guests change
    the meeting itself, for everyone invited (Google's ``guestsCanModify``, as
    the last sync read it): then the user edits it as their own."""
    return appointment.organizer is not None and appointment.organizer.guests_can_modify


def editing_note(appointment: Appointment, kind: str | None) -> str:
    """What the user may change of someone else's meeting, in a sentence for
    the dialog: all of it when its organiser lets the guests, else why not."""
    if guests_may_edit(appointment):
        where = SERVICE_NAMES.get(kind or "", "the calendar service")
        return (
            "Its organiser lets the guests change this meeting: what you change here "
            f"changes it on {where} for everyone invited."
        )
    return read_only_reason(kind)


def read_only_changes(old: Appointment, new: Appointment, kind: str | None) -> list[str]:
    """What ``new`` changes of ``old`` that the user may not change, in a person's
    words: nothing for the user's own appointment nor for a meeting whose guests
    may edit it; for someone else's meeting, every edited field that the service
    ``kind`` keeps as the organiser's."""
    if not old.organised_by_someone_else or guests_may_edit(old):
        return []
    allowed = attendee_fields(kind)
    words: list[str] = []
    for name, word in _EDITABLE.items():
        if name in allowed or getattr(old, name) == getattr(new, name):
            continue
        if word not in words:
            words.append(word)
    return words


def check_edit(old: Appointment, new: Appointment, kind: str | None) -> None:
    """Raise InvalidAppointment, saying why and what the user can do, when
    ``new`` changes what only the organiser of ``old`` may change."""
    changed = read_only_changes(old, new, kind)
    if changed:
        raise InvalidAppointment(
            f"{read_only_reason(kind, organiser_named(old))} (Changed: {', '.join(changed)}.)"
        )


def respond(appointment: Appointment, answer: MyResponse) -> Appointment:
    """``appointment`` with the user's answer, to be sent by the next sync.

    Only a meeting someone else organises, linked to an account, can be
    answered: the user's own appointments have nobody to answer to."""
    if answer is MyResponse.NONE:
        raise InvalidAppointment("An answer is accept, tentative or decline.")
    if not appointment.organised_by_someone_else:
        raise InvalidAppointment(
            f"{appointment.title!r} is your own appointment: there is no invitation to answer."
        )
    if appointment.account_id is None:
        raise InvalidAppointment(
            "This meeting is no longer linked to a calendar account, so no answer can reach "
            "its organiser."
        )
    return appointment.with_changes(my_response=answer)


def declined(appointment: Appointment) -> bool:
    """Whether the user declined this meeting (it stays, struck through)."""
    return appointment.my_response is MyResponse.DECLINED


def counts_as_busy(appointment: Appointment) -> bool:
    """Whether the appointment makes the user busy: not when declined, not when
    it shows as free."""
    return not declined(appointment) and appointment.show_as is not ShowAs.FREE


def shown(appointment: Appointment, hide_declined: bool) -> bool:
    """Whether the calendar shows the appointment: a declined meeting is hidden
    only when the user asked for that (Settings › "Hide declined meetings")."""
    return not (hide_declined and declined(appointment))
