"""Opening a Sales Calendar's schema: the SQLite connection pragmas, and
bringing the schema to the newest revision (Alembic, loaded only when there is
something to upgrade: see :mod:`calsync_desktop.store.revisions`)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import Connection, Engine

from calsync_desktop.files import private_file
from calsync_desktop.store.revisions import (
    MIGRATIONS,
    head_from_scripts,
    script_chain,
    stamped_revisions,
)


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
