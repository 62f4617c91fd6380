"""How the product speaks to people: its one name, and counts with proper plurals.

Every user-visible text (the window, the tray, notifications, the command
line's sentences) names the product :data:`PRODUCT_NAME` and counts things
with :func:`count`, so that nobody reads "1 occurrences" or "3 problem(s)".
Plain functions, no Qt: the window and the command line share them.
"""

from __future__ import annotations

PRODUCT_NAME = "Calendar Sync"
"""The product's one name for users (the desktop entry, the tray, every message).
The command is ``calsync`` and the package ``calsync-desktop``; neither is a name
to show in a sentence."""

FIELD_WORDS = {
    "contents": "Title and notes",
    "location": "Location",
    "time": "Time",
    "private": "Private",
    "participants": "Participants",
    "statuses": "Invite statuses",
    "rrule": "Repeat",
    "exdates": "Deleted occurrences",
    "overrides": "Changed occurrences",
}
"""An appointment's synced fields by the names people read (the conflict log,
the sync history, in the window and on the command line)."""

_IRREGULAR = {
    "person": "people",
    "entry": "entries",
    "was": "were",
    "is": "are",
    "has": "have",
    "this": "these",
    "it": "they",
}


def plural_of(word: str) -> str:
    """The plural of an English noun as this product uses them."""
    lower = word.lower()
    if lower in _IRREGULAR:
        found = _IRREGULAR[lower]
        return found.capitalize() if word[:1].isupper() else found
    if lower.endswith(("s", "x", "ch", "sh")):
        return word + "es"
    if lower.endswith("y") and lower[-2:-1] not in set("aeiou"):
        return word[:-1] + "ies"
    return word + "s"


def noun(n: int, singular: str, plural: str | None = None) -> str:
    """``singular`` or its plural, as ``n`` requires (without the number)."""
    return singular if n == 1 else (plural or plural_of(singular))


def count(n: int, singular: str, plural: str | None = None) -> str:
    """``n`` and the noun: "1 appointment", "30 appointments", "0 appointments"."""
    return f"{n:,} {noun(n, singular, plural)}"


def join_words(items: list[str], last: str = "and") -> str:
    """ "A", "A and B", "A, B and C"."""
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {last} {items[-1]}"


def sentence(text: str) -> str:
    """``text`` ending in exactly one full stop (or its own ? or !)."""
    text = text.strip()
    while text.endswith(".."):
        text = text[:-1]
    if not text or text.endswith((".", "?", "!", "…")):
        return text
    return text + "."
