"""Setting a team up, as the database administrator: the schema, the team's
group role, the rules of :mod:`calsync_desktop.team.security`, and the members.

These connect with the administrator's own address (``postgresql://admin@host/db``;
the password from the address, ``PGPASSWORD`` or ``~/.pgpass`` as with psql)
and follow the same TLS rules as a member's app.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from psycopg import sql
from sqlalchemy import create_engine, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Engine

from calsync_desktop.store import current_revision, head_revision, known_revisions, migrate
from calsync_desktop.store.schema import metadata
from calsync_desktop.team import security
from calsync_desktop.team.server import (
    BadAddress,
    SchemaTooNew,
    TeamError,
    classify,
    describe,
    parse_url,
    role_name,
    secure_url,
)

_EMAIL = re.compile(r"^[^@\s\"]+@[^@\s\"]+\.[^@\s\"]+$")


class NotPermitted(TeamError):
    """The administrator's role lacks a right the step needs."""


class ForeignTables(TeamError):
    """The database holds tables that are not calsync's."""


class MemberExists(TeamError):
    pass


class NoSuchMember(TeamError):
    pass


@dataclass(frozen=True)
class InitResult:
    group_role: str
    revision: str
    upgraded_from: str | None  # None: a new team Sales Calendar
    created: bool


@dataclass(frozen=True)
class Member:
    email: str
    name: str
    role: str
    added: datetime
    appointments: int
    accounts: int
    can_log_in: bool


def _engine(url: str) -> tuple[Engine, str]:
    address = secure_url(url)
    return create_engine(address, pool_size=1), describe(address)


def _connect(engine: Engine, url: str) -> Connection:
    address = secure_url(url)
    try:
        return engine.connect()
    except sa_exc.OperationalError as exc:
        raise classify(exc, address, address.username or "the administrator") from None


def _execute(conn: Connection, statement: sql.Composable | str, params=None) -> None:
    """A psycopg-composed statement (identifiers quoted by psycopg)."""
    raw = conn.connection.driver_connection
    rendered = statement.as_string(raw) if isinstance(statement, sql.Composable) else statement
    conn.exec_driver_sql(rendered, params or ())


def _ours() -> set[str]:
    return {*metadata.tables, "alembic_version", *security.READ_ONLY, *security.VIEWS}


def _foreign_tables(conn: Connection) -> list[str]:
    rows = conn.execute(
        text(
            "SELECT table_schema, table_name FROM information_schema.tables"
            " WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
            " AND table_schema NOT LIKE 'pg_toast%' AND table_schema NOT LIKE 'pg_temp%'"
        )
    ).all()
    ours = _ours()
    return sorted(
        f"{schema}.{name}" if schema != "public" else name
        for schema, name in rows
        if schema != "public" or name not in ours
    )


def _permission_error(exc: BaseException, what: str) -> TeamError:
    return NotPermitted(
        f"The administrator role may not {what} ({str(getattr(exc, 'orig', exc)).strip()}). "
        "Run this as the database's owner with CREATEROLE, or as a superuser."
    )


def init(url: str) -> InitResult:
    """Create (or bring up to date) the team Sales Calendar in the database at
    ``url``: the schema, the group role and the rules. Safe to run again; it
    refuses a database that holds tables of anything else."""
    engine, where = _engine(url)
    try:
        with _connect(engine, url) as conn:
            foreign = _foreign_tables(conn)
            if foreign:
                shown = ", ".join(foreign[:5]) + (" …" if len(foreign) > 5 else "")
                raise ForeignTables(
                    f"The database {where} holds tables that are not calsync's ({shown}). "
                    "Give the team Sales Calendar a database of its own (CREATE DATABASE)."
                )
            before = current_revision(conn)
            if before is not None and before not in known_revisions():
                raise SchemaTooNew(where)
            conn.rollback()
        migrate(engine, None)
        database = parse_url(url).database
        with _connect(engine, url) as conn, conn.begin():
            _execute(conn, security.TEAM_TABLES)
            group = conn.execute(
                text("SELECT value FROM team_settings WHERE key = 'group_role'")
            ).scalar() or security.group_role_for(database)
            exists = conn.execute(
                text("SELECT 1 FROM pg_roles WHERE rolname = :g"), {"g": group}
            ).scalar()
            if not exists:
                try:
                    _execute(conn, sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(group)))
                except sa_exc.ProgrammingError as exc:
                    raise _permission_error(exc, "create roles") from None
            conn.execute(
                text(
                    "INSERT INTO team_settings (key, value) VALUES ('group_role', :g)"
                    " ON CONFLICT (key) DO NOTHING"
                ),
                {"g": group},
            )
            try:
                for statement in security.statements(group, database):
                    _execute(conn, statement)
                _execute(conn, security.NOTIFY_TRIGGER)
            except sa_exc.ProgrammingError as exc:
                raise _permission_error(exc, "set the team's rights") from None
        return InitResult(group, head_revision(), before, before is None)
    finally:
        engine.dispose()


def group_role(conn: Connection, where: str) -> str:
    try:
        group = conn.execute(
            text("SELECT value FROM team_settings WHERE key = 'group_role'")
        ).scalar()
    except sa_exc.ProgrammingError:
        group = None
    if not group:
        from calsync_desktop.team.server import NotATeamDatabase

        raise NotATeamDatabase(where, "run 'calsync team init' first")
    return group


def scram_verifier(password: str, iterations: int = 4096) -> str:
    """What PostgreSQL keeps of a password (SCRAM-SHA-256, RFC 5802/7677), made
    here so that the password itself never travels to the server or its logs."""
    salt = os.urandom(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    server_key = hmac.new(salted, b"Server Key", "sha256").digest()
    stored_key = hashlib.sha256(client_key).digest()

    def b64(b: bytes) -> str:
        return base64.b64encode(b).decode()

    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


def new_password() -> str:
    return secrets.token_urlsafe(18)


def add_member(url: str, email: str, name: str = "", password: str | None = None) -> str:
    """Give ``email`` a login role in the team; returns the password (a new one
    when none is given)."""
    if not _EMAIL.match(email.strip()):
        raise BadAddress(f"'{email}' is not an email address.")
    role = role_name(email)
    if len(role.encode()) > 63:
        raise BadAddress(f"'{email}' is longer than PostgreSQL's 63-byte limit for a role name.")
    if password is not None and not password:
        raise BadAddress("The password is empty.")
    password = password or new_password()
    # ASCII passwords are hashed here; others go to the server to be normalised there
    secret = scram_verifier(password) if password.isascii() else password
    engine, where = _engine(url)
    try:
        with _connect(engine, url) as conn, conn.begin():
            group = group_role(conn, where)
            if conn.execute(
                text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}
            ).scalar():
                raise MemberExists(
                    f"{email} already has a role on this server. To give them a new password, "
                    "remove the member and add them again."
                )
            try:
                _execute(
                    conn,
                    sql.SQL(
                        "CREATE ROLE {} LOGIN PASSWORD {} NOSUPERUSER NOCREATEDB NOCREATEROLE"
                        " NOREPLICATION NOBYPASSRLS INHERIT IN ROLE {}"
                    ).format(sql.Identifier(role), sql.Literal(secret), sql.Identifier(group)),
                )
            except sa_exc.ProgrammingError as exc:
                raise _permission_error(exc, "create roles") from None
            conn.execute(
                text("INSERT INTO team_members (role, email, name) VALUES (:r, :e, :n)"),
                {"r": role, "e": email.strip(), "n": name.strip()},
            )
    finally:
        engine.dispose()
    return password


def members(url: str) -> list[Member]:
    """The team's members, with how many appointments and accounts each has."""
    engine, where = _engine(url)
    try:
        with _connect(engine, url) as conn:
            group_role(conn, where)
            rows = conn.execute(
                text(
                    "SELECT m.role, m.email, m.name, m.added,"
                    " (SELECT count(*) FROM appointments a WHERE a.owner = m.role) AS n_appts,"
                    " (SELECT count(*) FROM accounts c WHERE c.owner = m.role) AS n_accounts,"
                    " coalesce((SELECT rolcanlogin FROM pg_roles WHERE rolname = m.role), false)"
                    " AS login FROM team_members m ORDER BY lower(m.name), m.email"
                )
            ).all()
            return [
                Member(r.email, r.name, r.role, r.added, r.n_appts, r.n_accounts, r.login)
                for r in rows
            ]
    finally:
        engine.dispose()


def remove_member(url: str, email: str, keep_appointments: bool) -> int:
    """Take ``email`` out of the team: their role is dropped (open sessions
    ended) and their accounts and sync bookkeeping deleted. Their appointments
    stay in the team calendar, read-only for everyone, or are deleted with
    ``keep_appointments=False``. Returns how many appointments were kept or
    deleted."""
    role = role_name(email)
    engine, where = _engine(url)
    try:
        with _connect(engine, url) as conn, conn.begin():
            group_role(conn, where)
            known = conn.execute(
                text("SELECT 1 FROM team_members WHERE role = :r"), {"r": role}
            ).scalar()
            if not known:
                raise NoSuchMember(f"{email} is not a member of the team at {where}.")
            count = conn.execute(
                text("SELECT count(*) FROM appointments WHERE owner = :r"), {"r": role}
            ).scalar_one()
            conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = :r"),
                {"r": role},
            )
            if not keep_appointments:
                conn.execute(text("DELETE FROM appointments WHERE owner = :r"), {"r": role})
            else:
                # kept appointments no longer belong to an account anyone syncs
                conn.execute(
                    text("UPDATE appointments SET account_id = NULL WHERE owner = :r"), {"r": role}
                )
            for table in ("tombstones", "sync_status", "conflicts", "skipped", "settings"):
                conn.execute(text(f"DELETE FROM {table} WHERE owner = :r"), {"r": role})
            conn.execute(text("DELETE FROM accounts WHERE owner = :r"), {"r": role})
            conn.execute(text("DELETE FROM team_members WHERE role = :r"), {"r": role})
            exists = conn.execute(
                text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}
            ).scalar()
            if exists:
                try:
                    _execute(conn, sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
                    _execute(conn, sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))
                except sa_exc.ProgrammingError as exc:
                    raise _permission_error(exc, "drop roles") from None
            # an appointment kept of a former member changes the team view
            conn.execute(
                text("UPDATE counters SET value = value + 1 WHERE owner = :r AND name = 'seq'"),
                {"r": role},
            )
        return count
    finally:
        engine.dispose()
