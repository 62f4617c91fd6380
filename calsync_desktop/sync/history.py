"""What a sync run changed, as its journal records it (SPEC §9).

A :class:`Change` is one appointment a run changed, on either side: the
appointment before (whole) and its merge fields after; the remote event's
merge fields before and after with its id and versions. A side the run did
not change keeps only what tells whether it changed since: the appointment's
fields and the event's version after the run. An appointment deleted here
before the run whose deletion the run took to the service keeps what it was
when deleted (``local_before`` with the local side unchanged): an undo brings
it back.

:class:`RunJournal` is one run's part: the run's record, and each change
written in the transaction that commits it (:func:`change_of` turns an
applied action into its change).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from itertools import repeat
from typing import TYPE_CHECKING, Any

from calsync_desktop.model import Appointment
from calsync_desktop.providers.base import RemoteEvent, WriteResult
from calsync_desktop.store import _appointment_from_json, _appointment_json, field_text
from calsync_desktop.store.journal import Entry, Journal
from calsync_desktop.sync import mapping as m
from calsync_desktop.sync.snapshot import Fields

if TYPE_CHECKING:
    from calsync_desktop.sync.actions import Action
    from calsync_desktop.sync.run import SyncRun

#: what starts a run (the trigger a run's record names)
TRIGGERS = ("interval", "sync now", "edit", "wake", "start", "undo", "from scratch")


def fields_json(f: Fields | None) -> str | None:
    """Merge fields as compact JSON: empty values and the defaults (busy, no
    link, the user's own, no answer) are left out (:meth:`Fields.texts`)."""
    return None if f is None else f.texts()[1]


def fields_from(text: str | None) -> Fields | None:
    return None if text is None else Fields.from_json(json.loads(text))


@dataclass(frozen=True)
class Change:
    """One appointment a run changed (see the module's docstring)."""

    local_id: str
    kind: str
    local_changed: bool
    remote_changed: bool
    remote_id: str | None = None
    version_before: str | None = None
    version_after: str | None = None
    local_before: Appointment | None = None
    local_after: Fields | None = None
    remote_before: Fields | None = None
    remote_after: Fields | None = None

    @property
    def sides(self) -> str:
        if self.local_changed and self.remote_changed:
            return "both"
        return "local" if self.local_changed else "remote"

    @property
    def private(self) -> bool:
        """Whether the appointment was private at any point of the change."""
        return any(
            f is not None and f.private
            for f in (self.local_after, self.remote_before, self.remote_after)
        ) or bool(self.local_before and self.local_before.private)

    @property
    def deleted_here(self) -> bool:
        """Deleted in the Sales Calendar before the run, which took the deletion
        to the service: ``local_before`` is the appointment as it was."""
        return not self.local_changed and self.local_before is not None

    def to_entry(self) -> Entry:
        return Entry(
            self.local_id,
            self.kind,
            self.sides,
            self.remote_id,
            self.version_before,
            self.version_after,
            _appointment_json(self.local_before) if self.local_before is not None else None,
            fields_json(self.local_after),
            fields_json(self.remote_before),
            fields_json(self.remote_after),
        )

    @classmethod
    def from_entry(cls, e: Entry) -> Change:
        return cls(
            e.local_id,
            e.kind,
            e.sides in ("local", "both"),
            e.sides in ("remote", "both"),
            e.remote_id,
            e.version_before,
            e.version_after,
            _appointment_from_json(e.local_before),
            fields_from(e.local_after),
            fields_from(e.remote_before),
            fields_from(e.remote_after),
        )


class RunJournal:
    """The history of one run: recorded when it starts applying, each change
    written with it, its counts at its end. A run that changed nothing is
    not kept."""

    def __init__(
        self,
        journal: Journal,
        account_id: str,
        trigger: str,
        clock: Callable[[], datetime],
        undoes: int | None = None,
    ):
        self.journal = journal
        self.account_id = account_id
        self.trigger = trigger
        self.clock = clock
        self.undoes = undoes
        self.run_id: int | None = None

    def begin(self) -> int:
        """Prune the history, then record this run; its number."""
        if self.run_id is None:
            now = self.clock()
            self.journal.prune(now)
            self.run_id = self.journal.start(self.account_id, self.trigger, now, self.undoes)
        return self.run_id

    def record(self, changes: list[Change]) -> None:
        """Changes of this run, in the caller's transaction."""
        if changes:
            self.journal.add(self.begin(), [c.to_entry() for c in changes])

    def rewrite(self, changes: list[Change]) -> None:
        """Changes of this run that replace what it journalled of the same
        appointments before (an undo journals what it brought back before its
        remote writes, and the whole change after them)."""
        if changes:
            self.journal.drop_entries(self.begin(), [c.local_id for c in changes])
            self.record(changes)

    def record_found(
        self, local_id: str, event: RemoteEvent, remote: Fields, local: Fields
    ) -> None:
        """An event carrying our local id that this run found unlinked: created
        by the run before, killed between the remote write and its commit. When
        that run was interrupted, the creation goes into its journal (merged
        with what it journalled of the appointment), so that undoing it deletes
        the event; in the caller's transaction."""
        if self.trigger == "from scratch":
            return  # every link is found again: none is a creation
        killed = self.journal.interrupted_before(self.account_id, self.begin())
        if killed is None:
            return
        known = [
            Change.from_entry(e) for e in self.journal.entries(killed) if e.local_id == local_id
        ]
        if known and known[-1].remote_changed:
            return  # journalled whole already
        base = known[-1] if known else Change(local_id, "create remotely", False, False)
        change = replace(
            base,
            remote_changed=True,
            remote_id=event.remote_id,
            version_before=None,
            version_after=event.version,
            remote_before=None,
            remote_after=remote,
            local_after=base.local_after if base.local_changed else local,
        )
        self.journal.drop_entries(killed, [local_id])
        self.journal.add(killed, [change.to_entry()])

    def record_imports(
        self, local_ids: list[str], events: list[RemoteEvent], local_afters: list[str]
    ) -> None:
        """Appointments a run brought in (their local ids, the events, and their
        fields as the journal stores them: :meth:`Fields.texts`, encoded
        together with the links' snapshots), in the caller's transaction: the
        same entries as :meth:`record` would write, built column by column (an
        initial sync writes one per event)."""
        if local_ids:
            self.journal.add_columns(
                self.begin(),
                {
                    "local_id": local_ids,
                    "kind": repeat("create locally"),
                    "sides": repeat("local"),
                    "remote_id": [e.remote_id for e in events],
                    "version_after": [e.version for e in events],
                    "local_after": local_afters,
                },
            )

    def end(self, state: str, counts: dict[str, int]) -> bool:
        """The run's end; whether the history keeps it (not when it changed
        nothing; one that an error ended before it began writing neither)."""
        if self.run_id is None and state in ("done", "failed"):
            return False
        return self.journal.finish(self.begin(), state, counts, self.clock())


def change_of(
    run: SyncRun,
    action: Action,
    local_after: Appointment | None,
    outcome: WriteResult | None,
) -> Change | None:
    """What an action that just committed changed (None: nothing, on either side)."""
    from calsync_desktop.sync.actions import Kind  # the actions record through here

    before = action.local
    local_changed = (before is None) != (local_after is None) or (
        before is not None and m.local_fields(before) != m.local_fields(local_after)
    )
    wrote = outcome is not None and outcome.error is None
    event: RemoteEvent | None = action.event
    if event is not None:
        remote_before = run.remote_fields(event)
    elif action.link is not None and action.kind not in (Kind.CREATE_REMOTE, Kind.DELETE_LOCAL):
        remote_before = action.link.snapshot.remote
    else:
        remote_before = None
    version_before = action.remote_version or None if remote_before is not None else None
    if wrote:
        event = outcome.event
        remote_after = run.remote_fields(event) if event is not None else None
        version_after = event.version if event is not None else None
    else:
        remote_after, version_after = remote_before, version_before
    deleted = getattr(action, "deleted", None)
    if not local_changed and not wrote:
        return None
    remote_id = outcome.event.remote_id if wrote and outcome.event is not None else action.remote_id
    return Change(
        action.local_id,
        str(action.kind),
        local_changed,
        wrote,
        remote_id,
        version_before if wrote else None,
        version_after,
        before if local_changed else deleted,
        m.local_fields(local_after) if local_after is not None else None,
        remote_before if wrote else None,
        remote_after if wrote else None,
    )


# --------------------------------------------------------------------------- reading


#: the fields a private appointment's history shows (SPEC §5: time, not contents)
_PRIVATE_SHOWN = ("time", "private")
_SHOWN = ("contents", "location", "time", "private", "participants", "rrule", "exdates")


GONE = object()
"""The value of a side where the appointment did not exist (:func:`field_values`)."""


def field_values(change: Change) -> list[tuple[str, str, Any, Any]]:
    """What a change did, field by field: (side, field, before, after) in the
    merge fields' form (:class:`Fields`), :data:`GONE` where the appointment
    did not exist. A private appointment shows only its time."""
    shown = _PRIVATE_SHOWN if change.private else _SHOWN
    sides = []
    if change.local_changed:
        before = m.local_fields(change.local_before) if change.local_before else None
        sides.append(("Sales Calendar", before, change.local_after))
    if change.remote_changed:
        sides.append(("service", change.remote_before, change.remote_after))
    out = []
    for side, before, after in sides:
        if before is None and after is None:
            continue
        for name in shown:
            old = before.get(name) if before is not None else GONE
            new = after.get(name) if after is not None else GONE
            if old == new:
                continue
            out.append((side, name, old, new))
    return out


def field_changes(change: Change) -> list[tuple[str, str, str, str]]:
    """:func:`field_values` as a person reads them (the conflict log's words,
    :func:`field_text`); "—" where the appointment did not exist."""
    return [
        (side, name, _text(name, old), _text(name, new))
        for side, name, old, new in field_values(change)
    ]


def _text(name: str, value: Any) -> str:
    return "—" if value is GONE else field_text(name, value)
