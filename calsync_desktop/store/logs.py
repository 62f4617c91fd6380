"""What a sync leaves for the user to look at: the values that lost a
conflict (restorable), and the items it skipped, and why."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert, select, update

from calsync_desktop.model import ShowAs
from calsync_desktop.store import schema as t
from calsync_desktop.store.core import StoreCore, _chunks


def field_text(name: str, value) -> str:
    """A merge field's value as a person reads it (the conflict log's words)."""
    if name == "time":
        return f"{value[0]} – {value[1]}"
    if name == "private":
        return "private" if value else "not private"
    if name == "show_as" and value in set(ShowAs):
        return ShowAs(value).label
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True)


_TEXT_FIELDS = ("contents", "location", "join_url", "my_response")
_SHOW_AS_BY_LABEL = {s.label: s.value for s in ShowAs}


def field_value(name: str, text: str):
    """The merge field's value a :func:`field_text` was made from (the conflict
    log keeps the kept value only in words): lists stay lists."""
    if name == "time":
        start, end = text.split(" – ", 1)
        return [start, end]
    if name == "private":
        return text == "private"
    if name == "show_as":
        return _SHOW_AS_BY_LABEL.get(text, text)
    if name in _TEXT_FIELDS:
        return text
    if name == "rrule":
        return None if text == "null" else text
    return json.loads(text)


@dataclass(frozen=True)
class ConflictEntry:
    id: int
    account_id: str | None
    appointment_id: str
    field: str
    kept_value: str
    lost_value: str
    lost_side: str
    at: datetime
    restored: bool


@dataclass(frozen=True)
class SkippedEntry:
    """An item a sync left alone, and why. ``frozen``: a linked item that left
    scope (kept as it is on both sides until it is back in scope)."""

    account_id: str | None
    side: str
    item_id: str
    item: str
    reason: str
    at: datetime
    frozen: bool = False


class SyncLogs(StoreCore):
    """The conflict and skipped-item logs of a :class:`calsync_desktop.store.Store`."""

    def log_conflict(
        self, account_id: str, appointment_id: str, field_name: str, kept, lost, lost_side: str
    ) -> bool:
        """Record the value that lost a conflict (merge-field form), so it can be
        restored; both values are also kept as a person reads them. The same
        loss logged again (a run that ended before its write, merged afresh)
        is not a second entry. Returns whether the entry is new."""
        c = t.conflicts.c
        with self.transaction() as conn:
            same = conn.execute(
                select(c.id).where(
                    c.owner == self.owner,
                    c.account_id == account_id,
                    c.appointment_id == appointment_id,
                    c.field == field_name,
                    c.lost_raw == json.dumps(lost),
                    c.lost_side == lost_side,
                    c.restored.is_(False),
                )
            ).first()
            if same is not None:
                return False
            conn.execute(
                insert(t.conflicts).values(
                    owner=self.owner,
                    account_id=account_id,
                    appointment_id=appointment_id,
                    field=field_name,
                    kept_value=field_text(field_name, kept),
                    lost_value=field_text(field_name, lost),
                    lost_raw=json.dumps(lost),
                    lost_side=lost_side,
                    at=self.clock(),
                )
            )
        return True

    def conflicts(self, account_id: str | None = None) -> list[ConflictEntry]:
        query = select(t.conflicts).order_by(t.conflicts.c.id.desc())
        if account_id:
            query = query.where(t.conflicts.c.account_id == account_id)
        return [
            ConflictEntry(
                r.id,
                r.account_id,
                r.appointment_id,
                r.field,
                r.kept_value,
                r.lost_value,
                r.lost_side,
                r.at,
                bool(r.restored),
            )
            for r in self._read(query)
        ]

    def conflict_lost_value(self, conflict_id: int) -> tuple[str, str, object]:
        """The appointment, field and losing value (as logged) of a conflict;
        KeyError when there is no such conflict."""
        row = self._read(select(t.conflicts).where(t.conflicts.c.id == conflict_id)).first()
        if row is None:
            raise KeyError(conflict_id)
        return row.appointment_id, row.field, json.loads(row.lost_raw)

    def mark_conflict_restored(self, conflict_id: int) -> None:
        with self.transaction() as conn:
            conn.execute(
                update(t.conflicts).where(t.conflicts.c.id == conflict_id).values(restored=True)
            )

    def update_skipped(
        self, account_id: str, touched: Iterable[str] | None, entries: list[SkippedEntry]
    ) -> None:
        """Replace the skipped-log entries of the items a sync looked at
        (``touched`` None: all of the account's entries)."""
        with self.transaction() as conn:
            if touched is None:
                conn.execute(delete(t.skipped).where(t.skipped.c.account_id == account_id))
            for chunk in _chunks(list(touched or ())):
                conn.execute(
                    delete(t.skipped).where(
                        t.skipped.c.account_id == account_id, t.skipped.c.item_id.in_(chunk)
                    )
                )
            if entries:
                conn.execute(
                    insert(t.skipped),
                    [
                        {
                            "owner": self.owner,
                            "account_id": e.account_id,
                            "side": e.side,
                            "item_id": e.item_id,
                            "item": e.item,
                            "reason": e.reason,
                            "at": e.at,
                            "frozen": e.frozen,
                        }
                        for e in entries
                    ],
                )

    def skipped(self, account_id: str | None = None) -> list[SkippedEntry]:
        query = select(t.skipped).order_by(t.skipped.c.id)
        if account_id:
            query = query.where(t.skipped.c.account_id == account_id)
        return [
            SkippedEntry(r.account_id, r.side, r.item_id, r.item, r.reason, r.at, bool(r.frozen))
            for r in self._read(query)
        ]
