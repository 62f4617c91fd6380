"""The skipped items and the conflict log as a person reviews them, below both
Troubleshooting and ``calsync skipped`` / ``calsync conflicts``.

Private appointments stay private here too: a skipped item or a conflict of a
private appointment is named "Private appointment" and its values read
"(private)", whatever the log holds. The values of an appointment deleted
since read "(deleted)": it can no longer say whether it was private.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from calsync_desktop.store import Store
from calsync_desktop.sync.conflicts import restore_conflict

PRIVATE_TITLE = "Private appointment"
PRIVATE_VALUE = "(private)"
DELETED_TITLE = "(deleted appointment)"
DELETED_VALUE = "(deleted)"
SALES_CALENDAR = "Sales Calendar"


class CannotRestore(ValueError):
    """A conflict that cannot be restored; the message says why."""


@dataclass(frozen=True)
class SkippedItem:
    """An item a sync left alone, and why."""

    account_id: str | None
    account: str
    side: str
    """Where the item is: "Sales Calendar", or the account's name."""
    item_id: str
    title: str
    reason: str
    at: datetime
    private: bool


@dataclass(frozen=True)
class Conflict:
    """A field changed on both sides: the kept value, and the lost one to restore."""

    id: int
    account_id: str | None
    account: str
    appointment_id: str
    title: str
    field: str
    kept: str
    lost: str
    lost_side: str
    """Where the lost value came from: "Sales Calendar" or "remote"."""
    at: datetime
    restored: bool
    exists: bool
    """The appointment is still in the Sales Calendar (only then can it be restored)."""
    private: bool

    @property
    def restorable(self) -> bool:
        return self.exists and not self.restored


def _account_names(store: Store) -> dict[str | None, str]:
    names: dict[str | None, str] = {None: SALES_CALENDAR}
    names.update({a.id: a.name for a in store.list_accounts()})
    return names


def skipped_items(store: Store, account_id: str | None = None) -> list[SkippedItem]:
    """The skipped-items log, oldest first, private appointments named as such."""
    names = _account_names(store)
    entries = store.skipped(account_id)
    local_ids = {e.item_id for e in entries if e.side == "local"}
    by_remote: dict[str, str] = {}
    for entry in entries:
        if entry.side != "local" and entry.account_id:
            row = store.status_for_remote(entry.account_id, [entry.item_id]).get(entry.item_id)
            if row is not None:
                by_remote[entry.item_id] = row.local_id
    appointments = store.get_appointments(local_ids | set(by_remote.values()))
    out = []
    for entry in entries:
        local_id = entry.item_id if entry.side == "local" else by_remote.get(entry.item_id)
        appointment = appointments.get(local_id) if local_id else None
        # the log names private items as such already; an item made private since is too
        private = entry.item == PRIVATE_TITLE or bool(appointment and appointment.private)
        out.append(
            SkippedItem(
                entry.account_id,
                names.get(entry.account_id, ""),
                SALES_CALENDAR if entry.side == "local" else names.get(entry.account_id, ""),
                entry.item_id,
                PRIVATE_TITLE if private else entry.item,
                entry.reason,
                entry.at,
                private,
            )
        )
    return out


def conflicts(store: Store, account_id: str | None = None) -> list[Conflict]:
    """The conflict log, newest first, private (and deleted) appointments' values hidden."""
    names = _account_names(store)
    entries = store.conflicts(account_id)
    appointments = store.get_appointments({c.appointment_id for c in entries})
    out = []
    for entry in entries:
        appointment = appointments.get(entry.appointment_id)
        private = appointment is not None and appointment.private
        hidden = PRIVATE_VALUE if private else DELETED_VALUE if appointment is None else None
        if private:
            title = PRIVATE_TITLE
        elif appointment is None:
            title = DELETED_TITLE
        else:
            title = appointment.title or "(no title)"
        out.append(
            Conflict(
                entry.id,
                entry.account_id,
                names.get(entry.account_id, ""),
                entry.appointment_id,
                title,
                entry.field,
                hidden or entry.kept_value,
                hidden or entry.lost_value,
                SALES_CALENDAR if entry.lost_side == "local" else "remote",
                entry.at,
                entry.restored,
                appointment is not None,
                private,
            )
        )
    return out


def restore(store: Store, conflict_id: int) -> Conflict:
    """Bring a conflict's lost value back (a local edit: the next sync sends it on)."""
    found = next((c for c in conflicts(store) if c.id == conflict_id), None)
    if found is None:
        raise CannotRestore(f"No conflict {conflict_id} in the conflict log.")
    if found.restored:
        raise CannotRestore(f"Conflict {conflict_id} was restored already.")
    if not found.exists:
        raise CannotRestore(
            f"Conflict {conflict_id} cannot be restored: its appointment was deleted."
        )
    restore_conflict(store, conflict_id)
    return next(c for c in conflicts(store) if c.id == conflict_id)
