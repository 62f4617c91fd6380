"""The sync's links between appointments and remote events: status rows (with
the snapshot both sides agreed on), pending deletions (tombstones), and the
appointments a sync has in or out of its scope.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import bindparam, delete, func, insert, or_, select, update

from calsync_desktop.model import Appointment
from calsync_desktop.store import schema as t
from calsync_desktop.store.appointments import _appointment_from_json
from calsync_desktop.store.bulk import insert_tuples
from calsync_desktop.store.core import StoreCore, _chunks

_S = t.sync_status.c
_STATUS_UPDATE = update(t.sync_status).where(
    _S.account_id == bindparam("b_account"), _S.local_id == bindparam("b_local")
)
_STATUS_INSERT = insert(t.sync_status)
_STATUS_COLUMNS = (
    "owner",
    "account_id",
    "local_id",
    "remote_id",
    "version",
    "snapshot",
    "local_seq",
)
_ENCODE = json.JSONEncoder(sort_keys=True).encode


def snapshot_text(snapshot: dict | str) -> str:
    """A snapshot as stored: ``json.dumps(snapshot, sort_keys=True)``, with a
    value held under two keys (both sides of an import) encoded once; a
    snapshot given as text is stored as it is."""
    if isinstance(snapshot, str):
        return snapshot
    if not all(isinstance(k, str) for k in snapshot):
        return _ENCODE(snapshot)
    done: dict[int, str] = {}
    parts = []
    for key in sorted(snapshot):
        value = snapshot[key]
        text = done.get(id(value))
        if text is None:
            text = done[id(value)] = _ENCODE(value)
        parts.append(f"{_ENCODE(key)}: {text}")
    return "{" + ", ".join(parts) + "}"


@dataclass(frozen=True)
class StatusRow:
    """The link between an appointment and its remote event, as last synced.

    ``snapshot`` holds the mapped fields both sides agreed on at that moment
    (the base of the three-way merge): read from the store, a dict; to store,
    a dict or its stored text (:func:`snapshot_text`); ``local_seq`` the appointment's change
    counter right after that sync wrote it.
    """

    local_id: str
    remote_id: str | None
    version: str = ""
    snapshot: dict | str = field(default_factory=dict)
    local_seq: int = 0


@dataclass(frozen=True)
class OutsideRow:
    """A linked appointment outside a window, as :meth:`Store.linked_outside` lists it."""

    id: str
    contents: str
    private: bool
    all_day: bool
    start: datetime
    last_end: datetime | None
    recurring: bool


@dataclass(frozen=True)
class Tombstone:
    """A deleted appointment whose deletion has not reached an account yet;
    ``appointment`` is what it was when deleted (None for older tombstones)."""

    local_id: str
    deleted_at: datetime
    seq: int
    appointment: Appointment | None = None


class Links(StoreCore):
    """The sync status and links of a :class:`calsync_desktop.store.Store`."""

    def in_scope_ids(self, not_before: datetime, not_after: datetime) -> list[str]:
        """Timed appointments ending after ``not_before`` and starting before ``not_after``."""
        a = t.appointments.c
        return list(
            self._read(
                select(a.id).where(
                    a.owner == self.owner,
                    a.all_day.is_(False),
                    a.start < not_after,
                    or_(a.last_end.is_(None), a.last_end >= not_before),
                )
            ).scalars()
        )

    def linked_outside(
        self, account_id: str, not_before: datetime, not_after: datetime
    ) -> list[OutsideRow]:
        """The appointments linked to an account that are all-day, ended before
        ``not_before`` or start after ``not_after`` (light rows, no participants)."""
        a, s = t.appointments.c, t.sync_status.c
        rows = self._read(
            select(a.id, a.contents, a.private, a.all_day, a.start, a.last_end, a.rrule)
            .join(t.sync_status, s.local_id == a.id)
            .where(
                s.account_id == account_id,
                # one's own rows by name, so that a team's other members' rows are
                # not read (the row policy says so too, but it is no index condition)
                a.owner == self.owner,
                or_(a.all_day.is_(True), a.last_end < not_before, a.start > not_after),
            )
        )
        return [
            OutsideRow(
                r.id,
                r.contents,
                bool(r.private),
                bool(r.all_day),
                r.start,
                r.last_end,
                bool(r.rrule),
            )
            for r in rows
        ]

    def tombstones(self, account_id: str) -> list[Tombstone]:
        rows = self._read(select(t.tombstones).where(t.tombstones.c.account_id == account_id))
        return [
            Tombstone(r.appointment_id, r.deleted_at, r.seq, _appointment_from_json(r.last_values))
            for r in rows
        ]

    def drop_tombstone(self, account_id: str, local_id: str) -> None:
        with self.transaction() as conn:
            conn.execute(
                delete(t.tombstones).where(
                    t.tombstones.c.account_id == account_id,
                    t.tombstones.c.appointment_id == local_id,
                )
            )

    def status_for(self, account_id: str, local_ids: Iterable[str]) -> dict[str, StatusRow]:
        s = t.sync_status.c
        out = {}
        for chunk in _chunks(list(local_ids)):
            for r in self._read(
                select(t.sync_status).where(s.account_id == account_id, s.local_id.in_(chunk))
            ):
                out[r.local_id] = self._status(r)
        return out

    def status_for_remote(self, account_id: str, remote_ids: Iterable[str]) -> dict[str, StatusRow]:
        s = t.sync_status.c
        out = {}
        for chunk in _chunks(list(remote_ids)):
            for r in self._read(
                select(t.sync_status).where(s.account_id == account_id, s.remote_id.in_(chunk))
            ):
                out[r.remote_id] = self._status(r)
        return out

    def all_status(self, account_id: str) -> dict[str, StatusRow]:
        rows = self._read(select(t.sync_status).where(t.sync_status.c.account_id == account_id))
        return {r.local_id: self._status(r) for r in rows}

    @staticmethod
    def _status(r) -> StatusRow:
        return StatusRow(r.local_id, r.remote_id, r.version, json.loads(r.snapshot), r.local_seq)

    def put_status(self, account_id: str, row: StatusRow) -> None:
        values = {
            "owner": self.owner,
            "remote_id": row.remote_id,
            "version": row.version,
            "snapshot": snapshot_text(row.snapshot),
            "local_seq": row.local_seq,
        }
        with self.transaction() as conn:
            done = conn.execute(
                _STATUS_UPDATE, {"b_account": account_id, "b_local": row.local_id, **values}
            ).rowcount
            if not done:
                conn.execute(
                    _STATUS_INSERT, {"account_id": account_id, "local_id": row.local_id, **values}
                )

    def add_statuses(self, account_id: str, rows: list[StatusRow]) -> None:
        """Status rows for newly linked items, in one go."""
        if not rows:
            return
        owner = self.owner
        with self.transaction() as conn:
            insert_tuples(
                conn,
                t.sync_status,
                _STATUS_COLUMNS,
                [
                    (
                        owner,
                        account_id,
                        r.local_id,
                        r.remote_id,
                        r.version,
                        snapshot_text(r.snapshot),
                        r.local_seq,
                    )
                    for r in rows
                ],
            )

    def drop_status(self, account_id: str, local_id: str) -> None:
        s = t.sync_status.c
        with self.transaction() as conn:
            conn.execute(
                delete(t.sync_status).where(s.account_id == account_id, s.local_id == local_id)
            )

    def linked_count(self, account_id: str) -> int:
        return self._read(
            select(func.count())
            .select_from(t.sync_status)
            .where(t.sync_status.c.account_id == account_id)
        ).scalar_one()
