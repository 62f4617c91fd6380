"""Availability and online meetings in the words iCalendar and invitations use
(SPEC §10): an event's show-as as iCalendar properties, and the join link of a
Google Meet, Microsoft Teams or Zoom meeting found in an event's location or
body when the service does not give it in a field of its own.

Show-as in iCalendar: RFC 5545 §3.8.2.7 TRANSP has only OPAQUE (busy) and
TRANSPARENT (free); the finer value goes in X-MICROSOFT-CDO-BUSYSTATUS (FREE,
TENTATIVE, BUSY, OOF, WORKINGELSEWHERE), the property Outlook and Exchange
write in their iCalendar and other clients (Thunderbird, CalDAV Synchronizer)
read. Reading, that property wins over TRANSP when both are there.

Only the links these services hand out to join a meeting count; any other web
address in an invitation (an agenda, a map) is not a join link:

* Teams: ``https://teams.microsoft.com/l/meetup-join/…`` (also on
  ``teams.live.com/meet/…`` for personal accounts);
* Zoom: ``https://<company>.zoom.us/j/<id>…`` and ``/my/<name>``, and the
  webinar form ``/w/<id>``;
* Meet: ``https://meet.google.com/abc-defg-hij``.
"""

from __future__ import annotations

import html
import re

from calsync_desktop.model import ShowAs

BUSY_STATUS = "X-MICROSOFT-CDO-BUSYSTATUS"
_BUSY_WORDS = {
    ShowAs.FREE: "FREE",
    ShowAs.TENTATIVE: "TENTATIVE",
    ShowAs.BUSY: "BUSY",
    ShowAs.OUT_OF_OFFICE: "OOF",
    ShowAs.WORKING_ELSEWHERE: "WORKINGELSEWHERE",
}
_FROM_BUSY_WORDS = {word: value for value, word in _BUSY_WORDS.items()}


def ical_show_as(show_as: ShowAs) -> dict[str, str]:
    """The iCalendar properties (name: value) that say ``show_as``."""
    transp = "TRANSPARENT" if show_as is ShowAs.FREE else "OPAQUE"
    return {"TRANSP": transp, BUSY_STATUS: _BUSY_WORDS[show_as]}


def show_as_from_ical(transp: str, busy_status: str) -> ShowAs:
    """The show-as an event's TRANSP and X-MICROSOFT-CDO-BUSYSTATUS say."""
    found = _FROM_BUSY_WORDS.get(busy_status.strip().upper())
    if found is not None:
        return found
    return ShowAs.FREE if transp.strip().upper() == "TRANSPARENT" else ShowAs.BUSY


_LINK = re.compile(
    r"""https://(?:
        teams\.microsoft\.com/l/meetup-join/[^\s"'<>]+
      | teams\.live\.com/meet/[^\s"'<>]+
      | (?:[a-z0-9-]+\.)*zoom\.us/(?:j|w|my)/[^\s"'<>]+
      | meet\.google\.com/[a-z]{3}-[a-z]{4}-[a-z]{3}(?:\?[^\s"'<>]*)?
    )""",
    re.IGNORECASE | re.VERBOSE,
)
_TRAILING = ".,;:!?)]}>"


def join_link_in(*texts: str) -> str:
    """The first meeting join link in ``texts`` (plain text or HTML), or ""."""
    for text in texts:
        if not text:
            continue
        found = _LINK.search(html.unescape(text))
        if found:
            return found.group(0).rstrip(_TRAILING)
    return ""
