"""The store's connection: opening a database, transactions, reads that see
other connections' news, the change counter, and lists of ids in a statement.

:class:`StoreCore` is what every part of :class:`calsync_desktop.store.Store`
builds on (one class per group of tables: appointments, the team's calendar,
sync status and links, the sync's logs, accounts and settings).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Self

from sqlalchemy import ARRAY, any_, bindparam, create_engine, event, insert, select, update
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Engine

from calsync_desktop.store import schema as t
from calsync_desktop.store.errors import NotASalesCalendar, StoreUnavailable
from calsync_desktop.store.upgrade import _on_connect, migrate

# SQLite's answers for a file that is not one of its databases, or a damaged one
_NOT_A_DATABASE = ("SQLITE_NOTADB", "SQLITE_CORRUPT")

Clock = Callable[[], datetime]
_CHUNK = 500  # SQLite's bound-parameter limit is far above this; keeps statements small


# statements built once: building SQLAlchemy statements costs more than running them
_C = t.counters.c
_SEQ_BUMP = (
    update(t.counters)
    .where(_C.owner == bindparam("b_owner"), _C.name == "seq")
    .values(value=_C.value + 1)
)
_SEQ_READ = select(_C.value).where(_C.owner == bindparam("b_owner"), _C.name == "seq")


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _chunks(items: list, size: int = _CHUNK) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _unavailable(context) -> None:
    """Turn a lost connection into :class:`StoreUnavailable` (SQLAlchemy still
    invalidates the connection, so the next use reconnects)."""
    if context.is_disconnect or isinstance(context.sqlalchemy_exception, sa_exc.OperationalError):
        raise StoreUnavailable(_first_line(context.original_exception)) from (
            context.sqlalchemy_exception
        )


def _first_line(error: BaseException) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


class StoreCore:
    """One connection to the Sales Calendar, writing as ``owner``."""

    def __init__(
        self,
        engine: Engine,
        clock: Clock | None = None,
        path: Path | None = None,
        owner: str = "",
    ):
        self.engine = engine
        self.path = path
        self.clock = clock or _utcnow
        self.owner = owner
        self.is_team = engine.dialect.name != "sqlite"
        if self.is_team and not event.contains(engine, "handle_error", _unavailable):
            event.listen(engine, "handle_error", _unavailable)
        self.conn: Connection = engine.connect()
        self._depth = 0
        self._tx = None
        self._o = {"b_owner": owner}

    # ------------------------------------------------------------------ opening

    @classmethod
    def open(cls, path: Path | str, clock: Clock | None = None) -> Self:
        """Open (creating or upgrading) the Sales Calendar file at ``path``."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(f"sqlite:///{path}")
        event.listen(engine, "connect", _on_connect)
        try:
            migrate(engine, path)
        except sa_exc.DatabaseError as exc:
            engine.dispose()
            if getattr(exc.orig, "sqlite_errorname", "") in _NOT_A_DATABASE:
                raise NotASalesCalendar(path) from None
            raise
        return cls(engine, clock, path)

    @classmethod
    def open_url(cls, url: str, clock: Clock | None = None) -> Self:
        """Open a store on another SQLAlchemy engine (PostgreSQL for a shared calendar)."""
        engine = create_engine(url)
        event.listen(engine, "connect", _on_connect)  # SQLite pragmas; other engines untouched
        migrate(engine, None)
        return cls(engine, clock)

    def reopen(self) -> Self:
        """Another Store on the same database, for another thread."""
        return type(self)(self.engine, self.clock, self.path, self.owner)

    def close(self) -> None:
        self.conn.close()

    def _recover(self) -> None:
        """After a lost connection: drop the dead transaction, so the next
        statement reconnects."""
        if self.conn.invalidated or self.conn.in_transaction():
            try:
                self.conn.rollback()
            except sa_exc.SQLAlchemyError:
                pass

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """Group writes: all of them are committed together, or none."""
        if self._depth == 0:
            self._recover()
            self._tx = self.conn.begin()
        self._depth += 1
        try:
            yield self.conn
        except BaseException:
            self._depth -= 1
            if self._depth == 0:
                self._tx.rollback()
                self._tx = None
            raise
        self._depth -= 1
        if self._depth == 0:
            self._tx.commit()
            self._tx = None

    def _read(self, statement, params=None):
        if self._depth:
            return self.conn.execute(statement, params)
        self._recover()
        try:
            result = self.conn.execute(statement, params)
        except StoreUnavailable:
            self._recover()
            raise
        self.conn.commit()  # end the implicit read transaction so WAL readers see news
        return result

    # ------------------------------------------------------------------ counter

    def change_seq(self) -> int:
        """Grows on every change of this owner's appointments."""
        row = self._read(_SEQ_READ, self._o).first()
        return row[0] if row else 0

    def _next_seq(self) -> int:
        if self.conn.execute(_SEQ_BUMP, self._o).rowcount == 0:
            self.conn.execute(insert(t.counters).values(owner=self.owner, name="seq", value=1))
            return 1
        return self.conn.execute(_SEQ_READ, self._o).scalar_one()

    def _among(self, column, ids: list[str]) -> Iterator:
        """Conditions "``column`` is one of ``ids``", one statement each. On
        PostgreSQL one array parameter: the statement stays the same whatever
        the number of ids (no list of parameters to bind) and the planner knows
        how many there are. On SQLite, chunks of bound parameters."""
        if not ids:
            return
        if self.is_team:
            yield column == any_(bindparam("b_ids", ids, type_=ARRAY(column.type)))
            return
        for chunk in _chunks(ids):
            yield column.in_(chunk)
