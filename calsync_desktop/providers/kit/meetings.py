"""What each service lets an attendee change on their own copy of someone
else's meeting (SPEC §10), once, for the sync and for every editor.

An attendee cannot change the organiser's meeting. What differs per service is
what happens when they try, and which few properties belong to their own copy:

- **Google Calendar** refuses a guest's change to a shared property with 403
  ``forbiddenForNonOrganizer`` ("Shared properties can only be changed by the
  organizer of the event", kewisch/gdata-provider#366) unless the organiser
  lets guests modify the event (``guestsCanModify``: "Whether attendees other
  than the organizer can modify the event", Event resource). Of the fields the
  Sales Calendar keeps, only ``transparency`` belongs to the guest's copy ("Show
  me as" Busy or Available); ``visibility`` is shared. The guest's own answer
  is their attendee entry's ``responseStatus``, written with
  ``attendeesOmitted`` ("When updating an event, this can be used to only
  update the participant's response", Event resource in the calendar v3
  discovery document).
- **Office 365 (Graph)** and **Exchange (EWS)** keep a copy of the meeting in
  every attendee's mailbox; a change to it stays in that copy and the next
  update the organiser sends overwrites it ("any attendee can modify his or her
  own copy of the appointment ... the notification has no effect on the data
  stored in other attendees' copies", Oracle Siebel "Calendar Items Created in
  Microsoft Exchange"). Only what is the attendee's own by nature is worth
  changing there: how the time shows (Graph ``showAs``, EWS
  ``LegacyFreeBusyStatus``) and the copy's sensitivity (Outlook's "Private"
  on an invitation). The answer is a response, never an edit: Graph ``POST
  /me/events/{id}/accept``, ``/tentativelyAccept``, ``/decline``
  (learn.microsoft.com/graph/api/event-accept), EWS ``AcceptItem``,
  ``TentativelyAcceptItem``, ``DeclineItem`` sent by CreateItem with a
  ``MessageDisposition``. Both take a declined meeting off the calendar (it
  goes to Deleted Items); the Sales Calendar keeps it.
- **CalDAV** (RFC 6638 §3.2.2.1, "Allowed Attendee Changes"): an attendee
  changes their own ``ATTENDEE`` ``PARTSTAT``, alarms and ``TRANSP``; anything
  else makes the server answer 403 with ``CALDAV:allowed-attendee-scheduling-object-change``.

The names are the appointment's fields (:class:`calsync_desktop.model.Appointment`)
as the sync's merge fields name them too.
"""

from __future__ import annotations

#: The appointment fields an attendee may set on their own copy, per service
#: (the provider's ``kind``); everything else of someone else's meeting is the
#: organiser's. The answer itself (``my_response``) is always the attendee's.
ATTENDEE_FIELDS: dict[str, frozenset[str]] = {
    "google": frozenset({"show_as"}),
    "office365": frozenset({"show_as", "private"}),
    "exchange": frozenset({"show_as", "private"}),
    "caldav": frozenset({"show_as"}),
    "memory": frozenset({"show_as"}),
}

#: The service's name in a sentence.
SERVICE_NAMES = {
    "google": "Google Calendar",
    "office365": "Office 365",
    "exchange": "Exchange",
    "caldav": "the CalDAV server",
    "memory": "the test calendar",
}


def attendee_fields(kind: str | None) -> frozenset[str]:
    """What an attendee may set on their copy in the service ``kind`` (None: a
    meeting not linked to any account, which nobody can answer: nothing)."""
    if kind is None:
        return frozenset()
    return ATTENDEE_FIELDS.get(kind, frozenset())


def read_only_reason(kind: str | None, organizer: str | None = None) -> str:
    """Why a field of someone else's meeting cannot be changed, in words
    (``organizer``: who organises it, when the sentence is to name them)."""
    settable = attendee_fields(kind)
    what = " and ".join(
        {"show_as": "how it shows your time", "private": "whether it is private"}[f]
        for f in sorted(settable)
    )
    where = SERVICE_NAMES.get(kind or "", "the calendar service")
    also = f", and set {what}" if what else ""
    who = (
        f"Only its organiser, {organizer}, can change this meeting"
        if organizer
        else "Only the organiser can change this meeting"
    )
    return f"{who} on {where}. You can answer it (accept, tentative or decline){also}."
