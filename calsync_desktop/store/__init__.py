"""The Sales Calendar: a SQLite file, or a team's PostgreSQL database, of
appointments, accounts and per-account sync status.

One :class:`Store` per thread: it holds one connection. Every local change
bumps a change counter, so the sync finds what changed since its last run
without scanning the calendar.

The same code serves both engines. A Store writes as its ``owner`` (the empty
string in a SQLite file, the member's role on a team server) and reads its own
rows from the tables; on a team server PostgreSQL's row-level security lets a
member see and change only their own rows there, and colleagues' calendars are
read through the ``team_*`` views, which hide what is private
(:meth:`Store.team_appointments_between`).

Longer than 600 lines (STYLE.md): one ``Store`` class keeps every table's
queries beside the transaction and owner handling they share; a split into a
module per table group is left until the journal work in the store (issue 14)
has landed.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import (
    ARRAY,
    any_,
    bindparam,
    create_engine,
    delete,
    event,
    func,
    insert,
    or_,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Engine

from calsync_desktop.accounts.base import Account, AccountState
from calsync_desktop.files import private_file
from calsync_desktop.model import (
    Appointment,
    InviteStatus,
    Occurrence,
    OccurrenceOverride,
    Participant,
    Recurrence,
    ShowAs,
    occurrences,
    validate,
)
from calsync_desktop.store import schema as t
from calsync_desktop.store import views as v
from calsync_desktop.store.bulk import insert_many
from calsync_desktop.store.meetings import meeting_fields as _meeting_fields
from calsync_desktop.store.meetings import meeting_row as _meeting_row
from calsync_desktop.store.revisions import (
    MIGRATIONS,
    head_from_scripts,
    script_chain,
    stamped_revisions,
)
from calsync_desktop.words import PRODUCT_NAME

Clock = Callable[[], datetime]
_CHUNK = 500  # SQLite's bound-parameter limit is far above this; keeps statements small


# statements built once: building SQLAlchemy statements costs more than running them
_A = t.appointments.c
_C = t.counters.c
_SEQ_BUMP = (
    update(t.counters)
    .where(_C.owner == bindparam("b_owner"), _C.name == "seq")
    .values(value=_C.value + 1)
)
_SEQ_READ = select(_C.value).where(_C.owner == bindparam("b_owner"), _C.name == "seq")
_APPT_SEQ = select(_A.seq).where(_A.id == bindparam("b_id"))
_APPT_UPDATE = update(t.appointments).where(_A.id == bindparam("b_id"))
_APPT_INSERT = insert(t.appointments)
_PEOPLE_DELETE = delete(t.participants).where(t.participants.c.appointment_id == bindparam("b_id"))
_PEOPLE_INSERT = insert(t.participants)
_MOVED_DELETE = delete(t.overrides).where(t.overrides.c.appointment_id == bindparam("b_id"))
_MOVED_INSERT = insert(t.overrides)
_TOMB_DELETE = delete(t.tombstones).where(t.tombstones.c.appointment_id == bindparam("b_id"))
_S = t.sync_status.c
_STATUS_UPDATE = update(t.sync_status).where(
    _S.account_id == bindparam("b_account"), _S.local_id == bindparam("b_local")
)
_STATUS_INSERT = insert(t.sync_status)
# The team view's statements are small: PostgreSQL's parallel workers cost
# several times the CPU they save there (measured: the participants of a week
# of 50 members, 61 ms of the server's CPU in parallel against 14 ms without)
_SERIAL_PLANS = text("SET LOCAL max_parallel_workers_per_gather = 0")


#: what an Appointment is read from, in this order (the tables and the team views alike)
_APPOINTMENT_FIELDS = (
    "id",
    "contents",
    "start",
    "end",
    "timezone",
    "location",
    "all_day",
    "private",
    "rrule",
    "exdates",
    "created",
    "modified",
    "account_id",
    "ical_uid",
    # then the availability and meeting columns (store/meetings.py), read by name
    "show_as",
    "join_url",
    "organizer_name",
    "organizer_email",
    "my_response",
)
_APPOINTMENT_WIDTH = _APPOINTMENT_FIELDS.index("ical_uid") + 1  # the fields read by position
_MEETING_FIELDS = _APPOINTMENT_FIELDS[_APPOINTMENT_WIDTH:]
_INVITE_STATUS = {s.value: s for s in InviteStatus}  # a look-up costs a tenth of the enum's


def _appointment_columns(c) -> list:
    return [c[name] for name in _APPOINTMENT_FIELDS]


def _row(a: Appointment, seq: int, owner: str) -> dict:
    return {
        "owner": owner,
        "contents": a.contents,
        "location": a.location,
        "start": a.start,
        "end": a.end,
        "timezone": a.timezone,
        "all_day": a.all_day,
        "private": a.private,
        "rrule": a.recurrence.rrule if a.recurrence else None,
        "exdates": json.dumps(
            [x.astimezone(UTC).isoformat() for x in a.recurrence.exdates] if a.recurrence else []
        ),
        "last_end": a.last_end(),
        "created": a.created,
        "modified": a.modified,
        "account_id": a.account_id,
        "seq": seq,
        "ical_uid": a.ical_uid,
        **_meeting_row(a),
    }


def _people_rows(a: Appointment, owner: str) -> list[dict]:
    return [
        {
            "owner": owner,
            "appointment_id": a.id,
            "position": i,
            "name": p.name,
            "email": p.email,
            "status": p.status.value,
        }
        for i, p in enumerate(a.participants)
    ]


def _override_rows(a: Appointment, owner: str) -> list[dict]:
    return [
        {
            "owner": owner,
            "appointment_id": a.id,
            "original_start": o.original_start,
            "contents": o.contents,
            "location": o.location,
            "start": o.start,
            "end": o.end,
        }
        for o in (a.recurrence.overrides if a.recurrence else ())
    ]


def _iso(*times: datetime) -> tuple[str, ...]:
    return tuple(x.isoformat() for x in times)


def _appointment_json(a: Appointment) -> str:
    """An appointment as JSON text (what a tombstone remembers of it)."""
    rec = a.recurrence
    return json.dumps(
        {
            "id": a.id,
            "contents": a.contents,
            "location": a.location,
            "start": a.start.isoformat(),
            "end": a.end.isoformat(),
            "timezone": a.timezone,
            "all_day": a.all_day,
            "private": a.private,
            "participants": [[p.name, p.email, p.status.value] for p in a.participants],
            "rrule": rec.rrule if rec else None,
            "exdates": [x.isoformat() for x in rec.exdates] if rec else [],
            "overrides": [
                (o.original_start.isoformat(), o.contents, o.location, *_iso(o.start, o.end))
                for o in (rec.overrides if rec else ())
            ],
            "created": a.created.isoformat(),
            "modified": a.modified.isoformat(),
            "account_id": a.account_id,
            "ical_uid": a.ical_uid,
            **_meeting_row(a),
        }
    )


def _appointment_from_json(text_: str | None) -> Appointment | None:
    if not text_:
        return None
    d = json.loads(text_)
    when = datetime.fromisoformat
    recurrence = None
    if d["rrule"]:
        recurrence = Recurrence(
            d["rrule"],
            tuple(when(x) for x in d["exdates"]),
            tuple(
                OccurrenceOverride(when(o[0]), o[1], o[2], when(o[3]), when(o[4]))
                for o in d["overrides"]
            ),
        )
    return Appointment(
        id=d["id"],
        contents=d["contents"],
        start=when(d["start"]),
        end=when(d["end"]),
        timezone=d["timezone"],
        location=d["location"],
        all_day=d["all_day"],
        private=d["private"],
        participants=tuple(Participant(n, e, InviteStatus(s)) for n, e, s in d["participants"]),
        recurrence=recurrence,
        created=when(d["created"]),
        modified=when(d["modified"]),
        account_id=d["account_id"],
        ical_uid=d["ical_uid"],
        # a tombstone written before availability and meetings has none of them
        **_meeting_fields(d),
    )


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _chunks(items: list, size: int = _CHUNK) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


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


class ConcurrentEdit(Exception):
    """The appointment changed since it was read."""


class NotYours(PermissionError):
    """The appointment belongs to a colleague: only they (their app) may change it."""

    def __init__(self, appointment_id: str, owner: str):
        super().__init__(
            f"This appointment belongs to {owner}; only {owner} can change or delete it."
        )
        self.appointment_id = appointment_id
        self.owner = owner


class StoreUnavailable(Exception):
    """The Sales Calendar's database cannot be reached (a team server that is down
    or out of the network). Nothing was written; the next attempt reconnects."""

    def __init__(self, detail: str = ""):
        super().__init__(
            "The team server cannot be reached, so the Sales Calendar cannot be read or "
            f"saved right now. Nothing was lost; {PRODUCT_NAME} reconnects by itself."
            + (f" ({detail})" if detail else "")
        )


class AccountBusy(Exception):
    """Another computer of the same member is syncing this account right now."""

    def __init__(self, name: str = "this account"):
        super().__init__(
            f"Another computer is syncing {name} right now; this sync waited and gave up. "
            "The next sync tries again."
        )


@dataclass(frozen=True)
class TeamAppointment:
    """An appointment as the team view shows it: whose it is, and whether the
    database withheld its contents (a colleague's private appointment: only its
    times are known, ``appointment.contents`` and ``location`` are empty and it
    has no participants)."""

    appointment: Appointment
    owner: str
    mine: bool
    redacted: bool


@dataclass(frozen=True)
class TeamMember:
    """A member of the team: their database role (the owner of their rows),
    email and display name."""

    role: str
    email: str
    name: str


@dataclass(frozen=True)
class StatusRow:
    """The link between an appointment and its remote event, as last synced.

    ``snapshot`` holds the mapped fields both sides agreed on at that moment
    (the base of the three-way merge); ``local_seq`` the appointment's change
    counter right after that sync wrote it.
    """

    local_id: str
    remote_id: str | None
    version: str = ""
    snapshot: dict = field(default_factory=dict)
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


SETTING_DEFAULTS = {
    "profile.name": "",
    "profile.email": "",
    "sync.interval_minutes": 5,
    "sync.send_invitations": False,
    "app.start_at_login": False,
    "app.notifications": True,
    "advanced.client_secrets_file": "",
    "advanced.ca_bundle": "",
    "app.default_account": "",
}


def _alembic_config():
    from alembic.config import Config  # only to upgrade: see store/revisions.py

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    """The newest schema revision this version of calsync knows."""
    head = head_from_scripts()
    if head is not None:
        return head
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


def _on_connect(dbapi_connection, _record) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def migrate(engine: Engine, path: Path | None, revision: str = "head") -> str | None:
    """Bring the schema to ``revision``; back the file up first when it changes.

    Returns the backup's path, if one was made.
    """
    with engine.connect() as conn:
        current = stamped_revisions(conn)
    target = head_revision() if revision == "head" else revision
    if current == (target,):
        return None  # current: Alembic is not even loaded
    backup = None
    if current and path is not None and path.exists():
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        backup = str(path.with_name(f"{path.name}.before-{target}-{stamp}.bak"))
        private_file(Path(backup))  # it holds every private appointment: 0600 from the start
        source = sqlite3.connect(path)
        try:
            target_db = sqlite3.connect(backup)
            with target_db:
                source.backup(target_db)
            target_db.close()
        finally:
            source.close()
    from alembic import command

    config = _alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
    return backup


def current_revision(conn: Connection) -> str | None:
    """The schema revision a database is at (None: no Sales Calendar schema)."""
    stamped = stamped_revisions(conn)
    if len(stamped) <= 1:
        return stamped[0] if stamped else None
    from alembic.runtime.migration import MigrationContext  # it explains several heads

    return MigrationContext.configure(conn).get_current_revision()


def known_revisions() -> set[str]:
    """Every revision this version of calsync knows."""
    chain = script_chain()
    if chain is not None:
        return set(chain)
    from alembic.script import ScriptDirectory

    return {s.revision for s in ScriptDirectory.from_config(_alembic_config()).walk_revisions()}


def _unavailable(context) -> None:
    """Turn a lost connection into :class:`StoreUnavailable` (SQLAlchemy still
    invalidates the connection, so the next use reconnects)."""
    if context.is_disconnect or isinstance(context.sqlalchemy_exception, sa_exc.OperationalError):
        raise StoreUnavailable(_first_line(context.original_exception)) from (
            context.sqlalchemy_exception
        )


def _first_line(error: BaseException) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


class Store:
    """The Sales Calendar and the sync's bookkeeping, on one connection.

    Writes as ``owner``; reads of the tables show its own rows (on a team
    server, PostgreSQL decides that; in a SQLite file every row is the
    user's). A connection lost to a team server raises :class:`StoreUnavailable`
    and the next call reconnects.
    """

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
    def open(cls, path: Path | str, clock: Clock | None = None) -> Store:
        """Open (creating or upgrading) the Sales Calendar file at ``path``."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(f"sqlite:///{path}")
        event.listen(engine, "connect", _on_connect)
        migrate(engine, path)
        return cls(engine, clock, path)

    @classmethod
    def open_url(cls, url: str, clock: Clock | None = None) -> Store:
        """Open a store on another SQLAlchemy engine (PostgreSQL for a shared calendar)."""
        engine = create_engine(url)
        event.listen(engine, "connect", _on_connect)  # SQLite pragmas; other engines untouched
        migrate(engine, None)
        return cls(engine, clock)

    def reopen(self) -> Store:
        """Another Store on the same database, for another thread."""
        return Store(self.engine, self.clock, self.path, self.owner)

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

    def team_change_token(self) -> tuple:
        """Changes whenever anyone in the team changes an appointment: a cheap
        poll for the team view when notifications are not available."""
        rows = self._read(select(v.changes.c.owner, v.changes.c.value).order_by("owner")).all()
        return tuple((r.owner, r.value) for r in rows)

    def team_members(self) -> list[TeamMember]:
        """Everyone in the team (oneself too), by name; none in a SQLite file."""
        if not self.is_team:
            return []
        rows = self._read(
            text("SELECT role, email, name FROM team_members ORDER BY lower(name), email")
        ).all()
        return [TeamMember(r.role, r.email, r.name or r.email) for r in rows]

    @contextmanager
    def account_lock(self, account_id: str, wait: float = 300.0, name: str = "") -> Iterator[None]:
        """Hold the database-wide lock of one account while syncing it: two
        computers of one member never sync the same account at once. A SQLite
        file is one computer's; there the app's own lock is enough."""
        if not self.is_team:
            yield
            return
        import time

        key = {"k": account_id}
        deadline = time.monotonic() + wait
        lock = text("SELECT pg_try_advisory_lock(hashtextextended(:k, 0))")
        while not self._read(lock, key).scalar_one():
            if time.monotonic() >= deadline:
                raise AccountBusy(name or account_id)
            time.sleep(0.1)
        try:
            yield
        finally:
            try:
                self._read(text("SELECT pg_advisory_unlock(hashtextextended(:k, 0))"), key)
            except StoreUnavailable:
                pass  # the server let go of it with the connection

    # ------------------------------------------------------------------ appointments

    def add_appointment(self, appointment: Appointment) -> Appointment:
        """Store a new appointment made by the user."""
        now = self.clock()
        appointment = appointment.with_changes(created=now, modified=now)
        self.save_appointment(appointment)
        return appointment

    def update_appointment(self, appointment: Appointment) -> Appointment:
        """Store the user's edit of an appointment."""
        if self.get_appointment(appointment.id) is None:
            self._refuse_if_a_colleagues(appointment.id)
            raise KeyError(appointment.id)
        appointment = appointment.with_changes(modified=self.clock())
        self.save_appointment(appointment)
        return appointment

    def save_appointment(self, appointment: Appointment, expect_seq: int | None = None) -> int:
        """Insert or replace an appointment as given; returns its new change counter.

        With ``expect_seq`` the write happens only if the appointment is still at
        that change counter (0: it must not exist), else :class:`ConcurrentEdit`:
        the sync never overwrites an edit made while it ran.
        """
        a = validate(appointment)
        with self.transaction() as conn:
            current = conn.execute(_APPT_SEQ, {"b_id": a.id}).scalar()
            if expect_seq is not None and (current or 0) != expect_seq:
                raise ConcurrentEdit(a.id)
            if current is None:
                self._refuse_if_a_colleagues(a.id)
            seq = self._next_seq()
            row = _row(a, seq, self.owner)
            if current is not None:
                if a.ical_uid is None:
                    del row["ical_uid"]  # an appointment built afresh keeps the UID it had
                conn.execute(_APPT_UPDATE, {"b_id": a.id, **row})
                conn.execute(_PEOPLE_DELETE, {"b_id": a.id})
                conn.execute(_MOVED_DELETE, {"b_id": a.id})
            else:
                conn.execute(_APPT_INSERT, {"id": a.id, **row})
                # an appointment that exists again is no longer deleted anywhere
                conn.execute(_TOMB_DELETE, {"b_id": a.id})
            if a.participants:
                conn.execute(_PEOPLE_INSERT, _people_rows(a, self.owner))
            if a.recurrence and a.recurrence.overrides:
                conn.execute(_MOVED_INSERT, _override_rows(a, self.owner))
        return seq

    def _refuse_if_a_colleagues(self, appointment_id: str) -> None:
        if not self.is_team:
            return
        owner = self._read(
            select(v.appointments.c.owner).where(v.appointments.c.id == appointment_id)
        ).scalar()
        if owner is not None and owner != self.owner:
            raise NotYours(appointment_id, owner)

    def insert_appointments(self, appointments: list[Appointment]) -> list[int]:
        """Insert new appointments in one go (the sync's import); returns their
        change counters in order. Each is validated first; none is stored if
        one is invalid."""
        items = [validate(a) for a in appointments]
        if not items:
            return []
        with self.transaction() as conn:
            self._next_seq()
            conn.execute(
                update(t.counters)
                .where(_C.owner == self.owner, _C.name == "seq")
                .values(value=_C.value + len(items) - 1)
            )
            top = conn.execute(_SEQ_READ, self._o).scalar_one()
            seqs = list(range(top - len(items) + 1, top + 1))
            owner = self.owner
            insert_many(
                conn,
                t.appointments,
                [{"id": a.id, **_row(a, q, owner)} for a, q in zip(items, seqs, strict=True)],
            )
            insert_many(conn, t.participants, [r for a in items for r in _people_rows(a, owner)])
            insert_many(
                conn,
                t.overrides,
                [r for a in items if a.recurrence for r in _override_rows(a, owner)],
            )
            for chunk in _chunks([a.id for a in items]):
                conn.execute(delete(t.tombstones).where(t.tombstones.c.appointment_id.in_(chunk)))
        return seqs

    def delete_appointment(
        self, appointment_id: str, tombstone: bool = True, expect_seq: int | None = None
    ) -> None:
        """Delete an appointment; linked ones leave a tombstone until the deletion
        syncs (the sync itself deletes with ``tombstone=False``)."""
        with self.transaction() as conn:
            if expect_seq is not None:
                current = conn.execute(
                    select(t.appointments.c.seq).where(t.appointments.c.id == appointment_id)
                ).scalar()
                if (current or 0) != expect_seq:
                    raise ConcurrentEdit(appointment_id)
            elif self.get_appointment(appointment_id) is None:
                self._refuse_if_a_colleagues(appointment_id)
            linked = (
                conn.execute(
                    select(t.sync_status.c.account_id).where(
                        t.sync_status.c.local_id == appointment_id
                    )
                )
                .scalars()
                .all()
            )
            if linked and tombstone:
                seq = self._next_seq()
                now = self.clock()
                gone = self.get_appointment(appointment_id)
                last = _appointment_json(gone) if gone is not None else None
                conn.execute(
                    insert(t.tombstones),
                    [
                        {
                            "owner": self.owner,
                            "account_id": acc,
                            "appointment_id": appointment_id,
                            "deleted_at": now,
                            "seq": seq,
                            "last_values": last,
                        }
                        for acc in linked
                    ],
                )
            else:
                self._next_seq()
            conn.execute(delete(t.appointments).where(t.appointments.c.id == appointment_id))

    def remember_ical_uids(self, uids: dict[str, str]) -> None:
        """Record the iCalUID of appointments (id → UID) that have none yet; not
        an edit (the change counter stays)."""
        if not uids:
            return
        with self.transaction() as conn:
            conn.execute(
                update(t.appointments)
                .where(_A.id == bindparam("b_id"), _A.ical_uid.is_(None))
                .values(ical_uid=bindparam("b_uid")),
                [{"b_id": k, "b_uid": v} for k, v in uids.items()],
            )

    def appointment_seqs(self, ids: Iterable[str]) -> dict[str, int]:
        """The change counter of each existing appointment among ``ids``."""
        out = {}
        for chunk in _chunks(list(ids)):
            rows = self._read(
                select(t.appointments.c.id, t.appointments.c.seq).where(
                    t.appointments.c.id.in_(chunk)
                )
            )
            out.update({r.id: r.seq for r in rows})
        return out

    def get_appointment(self, appointment_id: str) -> Appointment | None:
        found = self.get_appointments([appointment_id])
        return found.get(appointment_id)

    def get_appointments(self, ids: Iterable[str]) -> dict[str, Appointment]:
        ids = list(ids)
        rows = []
        for among in self._among(_A.id, ids):
            rows.extend(self._read(select(*_appointment_columns(_A)).where(among)))
        return {a.id: a for a in self._hydrate(rows)}

    def _hydrate(self, rows: list) -> list[Appointment]:
        people, moved = self._children(rows, t.participants, t.overrides)
        return [self._appointment(r, people, moved) for r in rows]

    def _children(self, rows: list, participants, overrides) -> tuple[dict, dict]:
        """The participants and occurrence overrides of appointment ``rows``, by
        appointment id, from the tables or the team views."""
        p, o = participants.c, overrides.c
        people: dict[str, list[Participant]] = {}
        moved: dict[str, list[OccurrenceOverride]] = {}
        for among in self._among(p.appointment_id, [r.id for r in rows]):
            for appointment_id, name, email, status in self._read(
                select(p.appointment_id, p.name, p.email, p.status)
                .where(among)
                .order_by(p.appointment_id, p.position)
            ):
                people.setdefault(appointment_id, []).append(
                    Participant(name, email, _INVITE_STATUS.get(status) or InviteStatus(status))
                )
        for among in self._among(o.appointment_id, [r.id for r in rows if r.rrule]):
            for appointment_id, original, contents, location, start, end in self._read(
                select(o.appointment_id, o.original_start, o.contents, o.location, o.start, o.end)
                .where(among)
                .order_by(o.original_start)
            ):
                moved.setdefault(appointment_id, []).append(
                    OccurrenceOverride(original, contents or "", location or "", start, end)
                )
        return people, moved

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

    @staticmethod
    def _appointment(r, people: dict, moved: dict, redacted: bool = False) -> Appointment:
        (
            id_,
            contents,
            start,
            end,
            timezone,
            location,
            all_day,
            private,
            rrule,
            exdates,
            created,
            modified,
            account_id,
            ical_uid,
        ) = r[:_APPOINTMENT_WIDTH]
        recurrence = None
        if rrule:
            recurrence = Recurrence(
                rrule,
                tuple(datetime.fromisoformat(x) for x in json.loads(exdates)),
                tuple(moved.get(id_, ())),
            )
        found = people.get(id_)
        return Appointment(
            id=id_,
            contents="" if redacted else contents,
            start=start,
            end=end,
            timezone=timezone,
            location="" if redacted else location,
            all_day=bool(all_day),
            private=bool(private),
            participants=tuple(found) if found else (),
            recurrence=recurrence,
            created=created or start,
            modified=modified or start,
            account_id=account_id,
            ical_uid=ical_uid,
            **_meeting_fields(dict(zip(_MEETING_FIELDS, r[_APPOINTMENT_WIDTH:], strict=False))),
        )

    def appointments_between(self, start: datetime, end: datetime) -> list[Appointment]:
        """Appointments (series whole) that may appear in [start, end)."""
        a = t.appointments.c
        rows = self._read(
            select(*_appointment_columns(a)).where(
                a.owner == self.owner, a.start < end, or_(a.last_end.is_(None), a.last_end > start)
            )
        ).all()
        return self._hydrate(rows)

    def team_appointments_between(
        self, start: datetime, end: datetime, owners: Iterable[str] | None = None
    ) -> list[TeamAppointment]:
        """Everyone's appointments (series whole) that may appear in [start, end),
        as the team view shows them: a colleague's private appointment comes
        without contents, location or participants (the database withholds
        them). In a SQLite file: the user's own."""
        a = v.appointments.c
        shown = select(*_appointment_columns(a), a.owner).where(a.start < end)
        if owners is not None:
            shown = shown.where(a.owner.in_(list(owners)))
        # two halves, not "last_end IS NULL OR last_end > start": each half's
        # whole condition is in the range index, so only the rows shown are read
        query = union_all(shown.where(a.last_end > start), shown.where(a.last_end.is_(None)))
        with self.transaction() as conn:  # one commit for the statements
            if self.is_team:
                conn.execute(_SERIAL_PLANS)
            rows = self._read(query).all()
            people, moved = self._children(rows, v.participants, v.overrides)
        me = self.owner
        out = []
        for r in rows:
            redacted = r.contents is None  # the view withheld it
            owner = r.owner
            out.append(
                TeamAppointment(
                    self._appointment(r, people, moved, redacted), owner, owner == me, redacted
                )
            )
        return out

    def occurrences_between(self, start: datetime, end: datetime) -> list[Occurrence]:
        """What the calendar shows in [start, end): series expanded, sorted by start."""
        out: list[Occurrence] = []
        for appointment in self.appointments_between(start, end):
            out.extend(occurrences(appointment, start, end))
        return sorted(out, key=lambda o: (o.start, o.end))

    def count_appointments(self) -> int:
        return self._read(select(func.count()).select_from(t.appointments)).scalar_one()

    # ------------------------------------------------------------------ sync bookkeeping

    def changed_since(self, seq: int) -> list[tuple[Appointment, int]]:
        """Appointments changed after change counter ``seq``, with their counter."""
        rows = self._read(
            select(*_appointment_columns(_A), _A.seq).where(_A.owner == self.owner, _A.seq > seq)
        ).all()
        seqs = {r.id: r.seq for r in rows}
        return [(a, seqs[a.id]) for a in self._hydrate(rows)]

    def seqs_since(self, seq: int) -> list[int]:
        """Change counters of the appointments changed after ``seq`` (cheap: no rows loaded)."""
        return list(
            self._read(
                select(_A.seq).where(_A.owner == self.owner, _A.seq > seq).order_by(_A.seq)
            ).scalars()
        )

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
            "snapshot": json.dumps(row.snapshot, sort_keys=True),
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
        with self.transaction() as conn:
            insert_many(
                conn,
                t.sync_status,
                [
                    {
                        "owner": self.owner,
                        "account_id": account_id,
                        "local_id": r.local_id,
                        "remote_id": r.remote_id,
                        "version": r.version,
                        "snapshot": json.dumps(r.snapshot, sort_keys=True),
                        "local_seq": r.local_seq,
                    }
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

    # ------------------------------------------------------------------ conflicts, skipped

    def log_conflict(
        self, account_id: str, appointment_id: str, field_name: str, kept, lost, lost_side: str
    ) -> None:
        """Record the value that lost a conflict (merge-field form), so it can be
        restored; both values are also kept as a person reads them."""
        with self.transaction() as conn:
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

    # ------------------------------------------------------------------ settings

    def get_setting(self, key: str, default=None):
        st = t.settings.c
        row = self._read(select(st.value).where(st.owner == self.owner, st.key == key)).first()
        if row is None:
            return SETTING_DEFAULTS.get(key, default) if default is None else default
        return json.loads(row[0])

    def set_setting(self, key: str, value) -> None:
        with self.transaction() as conn:
            encoded = json.dumps(value)
            st = t.settings.c
            if not conn.execute(
                update(t.settings)
                .where(st.owner == self.owner, st.key == key)
                .values(value=encoded)
            ).rowcount:
                conn.execute(insert(t.settings).values(owner=self.owner, key=key, value=encoded))

    # ------------------------------------------------------------------ accounts

    def _account_row(self, account: Account) -> dict:
        return {
            "owner": self.owner,
            "kind": account.kind,
            "name": account.name,
            "email": account.email,
            "calendar_id": account.calendar_id,
            "settings": json.dumps(account.settings, sort_keys=True),
            "sync_all_private": account.sync_all_private,
            "state": account.state.value,
            "last_sync": account.last_sync,
            "last_error": account.last_error,
            "sync_state": account.sync_state,
            "local_seq": account.local_seq,
            "first_sync_done": account.first_sync_done,
            "paused": account.paused,
        }

    @staticmethod
    def _account(r) -> Account:
        return Account(
            id=r.id,
            kind=r.kind,
            name=r.name,
            email=r.email,
            calendar_id=r.calendar_id,
            settings=json.loads(r.settings),
            sync_all_private=bool(r.sync_all_private),
            state=AccountState(r.state),
            last_sync=r.last_sync,
            last_error=r.last_error,
            sync_state=r.sync_state,
            local_seq=r.local_seq,
            first_sync_done=bool(r.first_sync_done),
            paused=bool(r.paused),
        )

    def add_account(self, account: Account) -> Account:
        with self.transaction() as conn:
            conn.execute(insert(t.accounts).values(id=account.id, **self._account_row(account)))
        return account

    def update_account(self, account: Account) -> Account:
        with self.transaction() as conn:
            conn.execute(
                update(t.accounts)
                .where(t.accounts.c.id == account.id)
                .values(**self._account_row(account))
            )
        return account

    def get_account(self, account_id: str) -> Account | None:
        row = self._read(select(t.accounts).where(t.accounts.c.id == account_id)).first()
        return self._account(row) if row else None

    def find_account(self, name_or_id: str) -> Account | None:
        for account in self.list_accounts():
            if name_or_id in (account.id, account.name, account.email):
                return account
        return None

    def list_accounts(self) -> list[Account]:
        rows = self._read(select(t.accounts).order_by(t.accounts.c.name)).all()
        return [self._account(r) for r in rows]

    def remove_account(self, account_id: str, keep_appointments: bool = True) -> None:
        """Forget an account. Its synced appointments stay in the Sales Calendar
        (unlinked) unless ``keep_appointments`` is False. Nothing remote changes."""
        with self.transaction() as conn:
            if not keep_appointments:
                ids = (
                    conn.execute(
                        select(t.sync_status.c.local_id).where(
                            t.sync_status.c.account_id == account_id
                        )
                    )
                    .scalars()
                    .all()
                )
                for chunk in _chunks(list(ids)):
                    conn.execute(delete(t.appointments).where(t.appointments.c.id.in_(chunk)))
                self._next_seq()
            for table in (t.sync_status, t.tombstones, t.skipped, t.conflicts):
                conn.execute(delete(table).where(table.c.account_id == account_id))
            conn.execute(
                update(t.appointments)
                .where(t.appointments.c.account_id == account_id)
                .values(account_id=None)
            )
            conn.execute(delete(t.accounts).where(t.accounts.c.id == account_id))


__all__ = [
    "ConcurrentEdit",
    "ConflictEntry",
    "OutsideRow",
    "SkippedEntry",
    "StatusRow",
    "Store",
    "Tombstone",
    "head_revision",
    "migrate",
]
