"""The sync history and an undo in a user's words (SPEC §9).

One home for what ``calsync history``, ``calsync undo`` and Settings › History
say: what started a run, its state and counts, one appointment's change (what
happened to it and where: :data:`CHANGE_WORDS`, never the journal's own names
of the kinds), each field's name, the preview of an undo (what goes back,
what is left alone because it changed since) and what an undo did. Private
appointments are named "Private appointment" by
:func:`~calsync_desktop.sync.undo.title_of`, never by their contents.
"""

from __future__ import annotations

import json

from calsync_desktop.store.journal import RunRecord
from calsync_desktop.sync.history import Change, field_changes
from calsync_desktop.sync.preview import plan_clauses
from calsync_desktop.sync.undo import UndoItem, UndoPlan, UndoResult, title_of
from calsync_desktop.words import FIELD_WORDS, count

NOTHING_CHANGED = "nothing changed"

TRIGGER_WORDS = {
    "interval": "Every few minutes",
    "sync now": "Sync now",
    "edit": "Your edit",
    "wake": "Computer woke up",
    "start": "App started",
    "undo": "Undo",
    "from scratch": "Resync from scratch",
}
"""What started a run (its ``trigger``), as the window and ``calsync history`` say it."""

CHANGE_WORDS = {
    # the sync's action kinds (sync/actions.py: Kind)
    "create locally": ("added", "to"),
    "create remotely": ("added", "to"),
    "update": ("changed", "in"),
    "delete locally": ("deleted", "from"),
    "delete remotely": ("deleted", "from"),
    "restore locally": ("brought back", "in"),
    "link": ("linked", "in"),
    "forget": ("forgotten", "in"),
    # an undo's own (sync/undo.py: _kind)
    "delete": ("deleted", "from"),
    "restore": ("brought back", "in"),
}
"""What a change did to an appointment: the verb, and the word before where
(:func:`change_words`). The keys are the journal's kinds, which stay its own."""


def state_parts(r: RunRecord) -> list[str]:
    """How a run ended and what undid what, when it is worth saying:
    "interrupted", "undid run 3", "undone by run 7"."""
    words = {
        "running": "interrupted",
        "failed": "ended on an error",
        "stopped": "stopped by the deletion warning",
    }
    parts = [words[r.state]] if r.state in words else []
    if r.undoes is not None:
        parts.append(f"undid run {r.undoes}")
    if r.undone_by is not None:
        parts.append(f"undone by run {r.undone_by}")
    return parts


def state_words(r: RunRecord) -> str:
    """:func:`state_parts` in brackets after a space, or nothing."""
    parts = state_parts(r)
    return f" ({'; '.join(parts)})" if parts else ""


def counts_text(r: RunRecord, account: str) -> str:
    """What a run changed, on one line: "create 1 in Work, update 2"."""
    return plan_clauses(r.counts, account) if r.counts else NOTHING_CHANGED


def trigger_words(trigger: str) -> str:
    """What started a run: "Sync now", "Every few minutes"."""
    return TRIGGER_WORDS.get(trigger, trigger)


def side_words(side: str, account: str) -> str:
    """Where a field changed: "Sales Calendar", or the account's name for the
    service's side (:func:`change_rows` names it "service")."""
    return account if side == "service" else side


def field_words(field: str) -> str:
    """A field's name as the window shows it: "Title and notes", "Repeat"."""
    return FIELD_WORDS.get(field, field)


def change_words(c: Change, account: str) -> str:
    """What a run did to an appointment, where: "added to the Sales Calendar",
    "changed in Work", "deleted from the Sales Calendar and Work". A kind
    this table does not know reads as its name, underscores as spaces."""
    verb, before = CHANGE_WORDS.get(c.kind, (c.kind.replace("_", " "), "in"))
    where = {
        "local": "the Sales Calendar",
        "remote": account,
        "both": f"the Sales Calendar and {account}",
    }[c.sides]
    return f"{verb} {before} {where}"


def change_heading(c: Change, account: str) -> str:
    """One appointment's change: "Added to the Sales Calendar: Pulled"."""
    words = change_words(c, account)
    return f"{words[:1].upper()}{words[1:]}: {title_of(c)}"


GONE = "—"
"""The value of a side where the appointment did not exist."""
EMPTY = "(empty)"
_EMPTY = {EMPTY, "(none)", "does not repeat", "Not private"}


def _readable(field: str, text: str) -> str:
    if text == GONE:
        return text
    if field == "private":
        return "Private" if text == "private" else "Not private"
    if field == "participants":
        people = json.loads(text)
        return ", ".join(f"{n} <{e}>" if n else e for n, e in people) or "(none)"
    if field == "exdates":
        return ", ".join(json.loads(text)) or "(none)"
    if field == "rrule":
        return "does not repeat" if text == "null" else text
    return text if text.strip() else EMPTY


def change_rows(change: Change) -> list[tuple[str, str, str, str]]:
    """What a change did, field by field: (side, field, before, after), in
    words ("Bob <bob@x.example>", "does not repeat", "(empty)"); of an appointment that
    came or went, only the fields it had. A private appointment shows only its
    time (:func:`~calsync_desktop.sync.history.field_changes`)."""
    rows = []
    for side, field, before, after in field_changes(change):
        before, after = _readable(field, before), _readable(field, after)
        if GONE in (before, after) and (before if after == GONE else after) in _EMPTY:
            continue
        rows.append((side, field, before, after))
    return rows


def item_words(i: UndoItem, account: str) -> str:
    """What an undo does with one appointment: "restore in the Sales
    Calendar, create in Work", "left alone: changed in Work since"."""
    if i.left_alone:
        return f"left alone: {i.left_alone}"
    parts = []
    if i.local:
        parts.append(f"{i.local} in the Sales Calendar")
    if i.remote:
        parts.append(f"{i.remote} in {account}")
    return ", ".join(parts) or "already as it was"


def _items(items: list[UndoItem], what) -> list[str]:
    return [f"  - {i.title}: {what(i)}" for i in items]


def preview_lines(
    plan: UndoPlan, account: str, dry_run: bool = True, guard: bool = True
) -> list[str]:
    """What undoing a run puts back and what it leaves alone, one line each
    (the preview ``calsync undo RUN --dry-run`` prints and the window shows),
    and (``guard``) that the deletion warning would stop it."""
    verb = "would put back" if dry_run else "puts back"
    n = len(plan.put_back)
    lines = [f"Undoing run {plan.run.id} of {account} {verb} {count(n, 'appointment')}:"]
    lines += _items(plan.put_back, lambda i: item_words(i, account))
    lines += left_alone_lines(plan.left_alone, "Left alone, because they changed since")
    if guard and plan.guard is not None:
        lines.append(f"  The undo would stop before deleting anything: {plan.guard.reason}")
    return lines


def left_alone_lines(items: list[UndoItem], heading: str = "Left alone") -> list[str]:
    """The items an undo leaves as they are, each with why."""
    if not items:
        return []
    return [f"{heading} ({len(items)}):", *_items(items, lambda i: i.left_alone)]


def undone_lines(result: UndoResult, run_id: int, account: str) -> list[str]:
    """What an undo did: its own run, what it put back, what it left alone,
    the errors."""
    done = plan_clauses(result.counts, account) if result.counts else "nothing to put back"
    if result.run_id is None:  # it changed nothing: no run of its own
        lines = [f"Undid nothing of run {run_id} of {account}: nothing to put back"]
    else:
        lines = [f"Undid run {run_id} of {account} as run {result.run_id}: {done}"]
    lines += left_alone_lines(result.left_alone)
    lines += [f"  error: {error}" for error in result.errors]
    return lines
