"""What a sync decided (the plan) and what it did (the result), in plain data.

A :class:`Plan` is what a preview shows, what the mass-deletion guard looks
at and what the engine then applies; a :class:`SyncResult` is the account of
one run that the command line, the tray and Troubleshooting read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from calsync_desktop.providers.base import ChangeSet
from calsync_desktop.store import SkippedEntry

if TYPE_CHECKING:
    from calsync_desktop.sync.actions import Action
    from calsync_desktop.sync.run import SyncRun

GUARD_MIN_DELETIONS = 10
GUARD_SHARE = 0.25


def too_many(deletions: int, in_scope: int) -> bool:
    """Whether deleting ``deletions`` of ``in_scope`` appointments on one side
    is more than usual: the mass-deletion guard asks first (SPEC §4)."""
    return deletions > GUARD_MIN_DELETIONS and deletions > GUARD_SHARE * in_scope


class Decision(StrEnum):
    """The user's answer to the mass-deletion guard."""

    APPLY = "apply"
    RESTORE = "restore"
    STOP = "stop"


@dataclass
class MassDeletionGuard:
    """A sync that would delete much more than usual stops and asks."""

    account_name: str
    local_deletions: list[str]
    remote_deletions: list[str]
    in_scope: int
    reason: str


@dataclass
class Plan:
    """The actions one run will apply, with what it found on the way.

    ``touched`` names the items the run looked at (their skipped-log entries
    are replaced by ``skipped``); ``run`` is the run the plan belongs to.
    """

    actions: list[Action]
    changes: ChangeSet
    full: bool
    seq_at_start: int
    skipped: list[SkippedEntry]
    touched: set[str]
    guard: MassDeletionGuard | None = None
    run: SyncRun | None = field(default=None, repr=False, compare=False)

    def summary(self) -> dict[str, int]:
        """Counts per kind of action (the keys :mod:`~calsync_desktop.sync.preview` words)."""
        out: dict[str, int] = {}
        for action in self.actions:
            kind = str(action.kind)
            out[kind] = out.get(kind, 0) + 1
        return out


@dataclass
class SyncResult:
    """What a run did, in counts a person can read."""

    counts: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    conflicts: int = 0
    skipped: int = 0
    guard: MassDeletionGuard | None = None
    stopped: bool = False
    full_listing: bool = False

    def add(self, kind: str, count: int = 1) -> None:
        kind = str(kind)
        self.counts[kind] = self.counts.get(kind, 0) + count

    def describe(self) -> str:
        if self.stopped and self.guard:
            return f"Stopped before deleting: {self.guard.reason}"
        done = ", ".join(f"{n} {k}" for k, n in sorted(self.counts.items()) if n)
        parts = [done or "nothing to do"]
        if self.conflicts:
            parts.append(f"{self.conflicts} conflict(s) resolved")
        if self.skipped:
            parts.append(f"{self.skipped} item(s) skipped")
        if self.errors:
            parts.append(f"{len(self.errors)} error(s)")
        return "; ".join(parts)


Progress = Callable[[int, int, str], None]
Confirm = Callable[[MassDeletionGuard], Decision]
