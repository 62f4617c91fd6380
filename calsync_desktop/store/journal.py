"""The sync history in the store (SPEC §9): the runs, and each run's journal.

A run is recorded when it starts applying; a run that changed nothing leaves
no trace. Each journal entry is one appointment the run changed, written in
the same transaction as the change itself: both sides before and after (the
appointment before whole, so that a deleted one comes back with its id,
participants and recurrence), the remote id and versions. The entries hold
what the appointments held, private ones too: they live only in the store
that already holds them, and on a team server row-level security keeps them
from colleagues (:mod:`calsync_desktop.team.security`).

The history keeps :data:`DEFAULT_DAYS` days (setting ``history.days``) and at
most :data:`DEFAULT_MAX_CHANGES` entries (``history.max_changes``); older runs
go whole when a run starts (:meth:`Journal.prune`). :class:`Retention` is
those two settings; :meth:`Journal.keep` checks, saves and applies a new one
at once (Settings › History and ``calsync settings history.days N`` both go
through it).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import repeat

from sqlalchemy import delete, func, insert, or_, select, update

from calsync_desktop.store import Store
from calsync_desktop.store import schema as t
from calsync_desktop.store.accounts import SETTING_DEFAULTS
from calsync_desktop.store.bulk import insert_tuples
from calsync_desktop.words import count

DAYS_SETTING = "history.days"
MAX_CHANGES_SETTING = "history.max_changes"
DEFAULT_DAYS: int = SETTING_DEFAULTS[DAYS_SETTING]
DEFAULT_MAX_CHANGES: int = SETTING_DEFAULTS[MAX_CHANGES_SETTING]
DAYS_RANGE = (1, 365)
MAX_CHANGES_RANGE = (1_000, 1_000_000)
"""What the window and ``calsync settings`` accept: a bound below a thousand
changed appointments would lose a first sync's history at the next run."""

UNFINISHED = ("running", "failed")
"""The states of a run that stopped half way (killed, or ended by an error;
or still running): the next run may find what it created without its link."""

_R = t.sync_runs.c
_J = t.journal.c

#: the columns of a journal entry, in the order :class:`Entry` holds them
ENTRY_COLUMNS = (
    "local_id",
    "kind",
    "sides",
    "remote_id",
    "version_before",
    "version_after",
    "local_before",
    "local_after",
    "remote_before",
    "remote_after",
)


@dataclass(frozen=True)
class RunRecord:
    """One recorded run. ``state`` is running (or was killed), done, failed
    (an error ended it half way) or stopped;
    ``undoes`` the run an undo put back; ``undone_by`` the undo that put this
    one back, if any."""

    id: int
    account_id: str
    trigger: str
    started: datetime
    finished: datetime | None
    state: str
    counts: dict[str, int]
    undoes: int | None = None
    undone_by: int | None = None

    @property
    def changes(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class Retention:
    """How long the history keeps runs (``days``) and how many changed
    appointments it holds at most (``max_changes``): the oldest runs go whole
    beyond either."""

    days: int = DEFAULT_DAYS
    max_changes: int = DEFAULT_MAX_CHANGES

    @classmethod
    def of(cls, store: Store) -> Retention:
        """The retention set in ``store`` (a value that is not a whole number
        of at least 1 reads as the default)."""
        return cls(
            _whole(store.get_setting(DAYS_SETTING, DEFAULT_DAYS), DEFAULT_DAYS),
            _whole(
                store.get_setting(MAX_CHANGES_SETTING, DEFAULT_MAX_CHANGES), DEFAULT_MAX_CHANGES
            ),
        )

    def problem(self) -> str | None:
        """Why this retention cannot be set, in a user's words (None: it can)."""
        for value, (low, high), what in (
            (self.days, DAYS_RANGE, "The history keeps between {} and {} days"),
            (self.max_changes, MAX_CHANGES_RANGE, "The history holds between {} and {} changes"),
        ):
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                return f"{what.format(f'{low:,}', f'{high:,}')}, not {value}."
        return None


def _whole(value, default: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return number if number >= 1 else default


@dataclass(frozen=True)
class Entry:
    """One appointment a run changed, as stored: the JSON columns are text
    (None where that side did not exist, or did not change)."""

    local_id: str
    kind: str
    sides: str
    remote_id: str | None
    version_before: str | None
    version_after: str | None
    local_before: str | None
    local_after: str | None
    remote_before: str | None
    remote_after: str | None


class Journal:
    """The sync history of one store's owner."""

    def __init__(self, store: Store):
        self.store = store

    # ------------------------------------------------------------------ writing

    def start(
        self, account_id: str, trigger: str, started: datetime, undoes: int | None = None
    ) -> int:
        """Record a run that starts applying; its number."""
        with self.store.transaction() as conn:
            return conn.execute(
                insert(t.sync_runs)
                .values(
                    account_id=account_id,
                    trigger=trigger,
                    started=started,
                    undoes=undoes,
                    owner=self.store.owner,
                )
                .returning(_R.id)
            ).scalar_one()

    def add(self, run_id: int, entries: Sequence[Entry]) -> None:
        """Journal entries of a run, inside the caller's transaction (the one
        that commits the changes they describe)."""
        owner = self.store.owner
        self._insert(
            ("run_id", *ENTRY_COLUMNS, "owner"), [(run_id, *_values(e), owner) for e in entries]
        )

    def add_columns(self, run_id: int, columns: Mapping[str, Iterable]) -> None:
        """Journal entries given column by column (each column's values in the
        entries' order, ``itertools.repeat(value)`` for one value in all of
        them; the columns left out are NULL), inside the caller's transaction.
        The rows are zipped together without a Python step per entry (an
        initial sync writes one per event)."""
        owner = self.store.owner
        self._insert(
            ("run_id", *columns, "owner"),
            list(zip(repeat(run_id), *columns.values(), repeat(owner))),
        )

    def _insert(self, columns: tuple[str, ...], rows: list[tuple]) -> None:
        if rows:
            with self.store.transaction() as conn:
                insert_tuples(conn, t.journal, columns, rows)

    def drop_entries(self, run_id: int, local_ids: Sequence[str]) -> None:
        """A run's entries of these appointments, inside the caller's
        transaction (an entry written again whole replaces them)."""
        with self.store.transaction() as conn:
            conn.execute(delete(t.journal).where(_J.run_id == run_id, _J.local_id.in_(local_ids)))

    def interrupted_before(self, account_id: str, run_id: int) -> int | None:
        """The account's run before ``run_id`` when it was interrupted (killed
        while applying, or ended by an error), else None."""
        row = self.store._read(
            select(_R.id, _R.state)
            .where(_R.account_id == account_id, _R.id < run_id)
            .order_by(_R.id.desc())
            .limit(1)
        ).first()
        return row.id if row is not None and row.state in UNFINISHED else None

    def interrupted_undo(self, account_id: str, run_id: int) -> int | None:
        """The account's last run when it is an undo of run ``run_id`` that
        was interrupted (killed while applying, or ended by an error), else
        None: undoing the run again completes that undo."""
        row = self.store._read(
            select(_R.id, _R.state, _R.undoes)
            .where(_R.account_id == account_id)
            .order_by(_R.id.desc())
            .limit(1)
        ).first()
        if row is None or row.undoes != run_id or row.state not in UNFINISHED:
            return None
        return row.id

    def finish(self, run_id: int, state: str, counts: dict[str, int], finished: datetime) -> bool:
        """The run's end: its state and counts. A run that changed nothing and
        was not stopped is not kept; whether it is."""
        with self.store.transaction() as conn:
            has_entries = conn.execute(select(_J.id).where(_J.run_id == run_id).limit(1)).first()
            if has_entries is None and state == "done":
                conn.execute(delete(t.sync_runs).where(_R.id == run_id))
                return False
            conn.execute(
                update(t.sync_runs)
                .where(_R.id == run_id)
                .values(state=state, counts=json.dumps(counts, sort_keys=True), finished=finished)
            )
        return True

    def _beyond(self, conn, now: datetime, retention: Retention):
        """The runs ``retention`` drops: older than its days, and (the newest
        entry beyond its bound) that entry's run and all older ones."""
        beyond = conn.execute(
            select(_J.run_id).order_by(_J.id.desc()).limit(1).offset(retention.max_changes)
        ).scalar()
        older = _R.started < now - timedelta(days=retention.days)
        return older if beyond is None else or_(older, _R.id <= beyond)

    def prune(self, now: datetime, retention: Retention | None = None) -> int:
        """Drop the runs beyond the retention (the one set, unless given),
        whole; how many runs went."""
        retention = retention or Retention.of(self.store)
        with self.store.transaction() as conn:
            return conn.execute(
                delete(t.sync_runs).where(self._beyond(conn, now, retention))
            ).rowcount

    def dropped_by(self, retention: Retention, now: datetime) -> int:
        """How many runs :meth:`prune` would drop with ``retention`` now."""
        with self.store.transaction() as conn:
            where = self._beyond(conn, now, retention)
            return conn.execute(
                select(func.count()).select_from(t.sync_runs).where(where)
            ).scalar_one()

    def keep(self, retention: Retention, now: datetime) -> int:
        """Set the retention and apply it at once: raises ValueError (its
        :meth:`Retention.problem`) for one that cannot be set; how many runs
        went."""
        problem = retention.problem()
        if problem is not None:
            raise ValueError(problem)
        with self.store.transaction():
            self.store.set_setting(DAYS_SETTING, retention.days)
            self.store.set_setting(MAX_CHANGES_SETTING, retention.max_changes)
            return self.prune(now, retention)

    # ------------------------------------------------------------------ reading

    def runs(self, account_id: str | None = None) -> list[RunRecord]:
        """The recorded runs, newest first."""
        query = select(t.sync_runs).order_by(_R.id.desc())
        if account_id is not None:
            query = query.where(_R.account_id == account_id)
        rows = self.store._read(query).all()
        # an undo is a run of the same account: it is among these rows
        undone = _newest_undos(r for r in rows if r.state == "done")
        so_far = self._counts_so_far([r.id for r in rows if r.state in UNFINISHED])
        return [_run(r, _undone(undone, r.id), so_far.get(r.id)) for r in rows]

    def run(self, run_id: int) -> RunRecord | None:
        if not -(2**63) <= run_id < 2**63:
            return None  # no run has it: SQLite and PostgreSQL keep 64 bits
        row = self.store._read(select(t.sync_runs).where(_R.id == run_id)).first()
        if row is None:
            return None
        undos = self.store._read(
            select(_R.id, _R.undoes).where(_R.account_id == row.account_id, _R.state == "done")
        ).all()
        so_far = self._counts_so_far([run_id] if row.state in UNFINISHED else [])
        return _run(row, _undone(_newest_undos(undos), run_id), so_far.get(run_id))

    def _counts_so_far(self, run_ids: list[int]) -> dict[int, dict[str, int]]:
        """The counts of runs that never finished (killed, ended by an error,
        or still running), from what their journals hold: what they changed
        before they stopped, with what a later run found they had created."""
        if not run_ids:
            return {}
        rows = self.store._read(
            select(_J.run_id, _J.kind, func.count())
            .where(_J.run_id.in_(run_ids))
            .group_by(_J.run_id, _J.kind)
        ).all()
        out: dict[int, dict[str, int]] = {}
        for run_id, kind, n in rows:
            out.setdefault(run_id, {})[kind] = n
        return out

    def entries(self, run_id: int) -> list[Entry]:
        """A run's journal, in the order it was written."""
        rows = self.store._read(
            select(*(_J[c] for c in ENTRY_COLUMNS)).where(_J.run_id == run_id).order_by(_J.id)
        ).all()
        return [Entry(*r) for r in rows]

    def count(self) -> int:
        """How many journal entries the history holds."""
        return self.store._read(select(func.count()).select_from(t.journal)).scalar_one()


def _newest_undos(rows) -> dict[int, int]:
    """Undone run → its newest finished undo (a run undone, brought back by
    undoing that undo, and undone again has two)."""
    out: dict[int, int] = {}
    for r in rows:
        if r.undoes is not None and r.id > out.get(r.undoes, 0):
            out[r.undoes] = r.id
    return out


def _undone(undos: dict[int, int], run_id: int) -> int | None:
    """The undo that stands for run ``run_id`` (``undos``: undone run → its
    newest finished undo): none when that undo was itself undone."""
    undo = undos.get(run_id)
    if undo is None or _undone(undos, undo) is not None:
        return None
    return undo


def _values(e: Entry) -> tuple:
    return tuple(getattr(e, c) for c in ENTRY_COLUMNS)


def _run(r, undone_by: int | None, counts_so_far: dict[str, int] | None = None) -> RunRecord:
    return RunRecord(
        r.id,
        r.account_id,
        r.trigger,
        r.started,
        r.finished,
        r.state,
        counts_so_far if counts_so_far is not None else json.loads(r.counts or "{}"),
        r.undoes,
        undone_by,
    )


def no_such_run(store, run_id: int) -> str:
    """Why run ``run_id`` cannot be shown or undone: not in the history, which
    keeps as many days as set (Settings › History)."""
    days = Retention.of(store).days
    return f"There is no sync run {run_id} in the history (it keeps {count(days, 'day')})."
