"""Which schema revision a Sales Calendar is at, and which this version of
calsync knows, without loading Alembic.

Loading Alembic costs the app's start a tenth of a second or more and about
12 MB (its environment imports the DDL support of every dialect, Mako and
Pygments), yet on a database that is already current the check needs two
strings: the ``alembic_version`` row and the newest revision among the
migration scripts. Both are read directly here, and the store loads Alembic
only when there is something to upgrade.

The scripts' headers are read as text, in the form ``script.py.mako`` writes
(``revision = "0004"``, ``down_revision = "0003"``). A script in another form
(a merge of two heads has a tuple as ``down_revision``), or a chain without
exactly one head, makes :func:`head_from_scripts` answer None: the caller then
asks Alembic, which knows every form.
"""

from __future__ import annotations

import ast
import re
from functools import lru_cache
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

MIGRATIONS = Path(__file__).with_name("migrations")
VERSIONS = MIGRATIONS / "versions"
VERSION_TABLE = "alembic_version"

_ASSIGNMENT = re.compile(r"^(revision|down_revision)\s*(?::[^=\n]*)?=\s*(.+?)\s*$", re.M)


@lru_cache(maxsize=4)
def script_chain(folder: Path = VERSIONS) -> dict[str, str | None] | None:
    """Each migration script's revision → the revision it follows (None for the
    first), or None when a script is not in the plain form."""
    chain: dict[str, str | None] = {}
    for path in sorted(folder.glob("*.py")):
        if path.name.startswith((".", "__init__")):
            continue  # what Alembic's script directory skips too
        found = dict(_ASSIGNMENT.findall(path.read_text(encoding="utf-8")))
        try:
            revision = ast.literal_eval(found["revision"])
            down = ast.literal_eval(found["down_revision"])
        except (KeyError, ValueError, SyntaxError):
            return None
        if not isinstance(revision, str) or not (down is None or isinstance(down, str)):
            return None
        if revision in chain:
            return None
        chain[revision] = down
    return chain


def head_from_scripts(folder: Path = VERSIONS) -> str | None:
    """The newest revision among the scripts, or None when the scripts do not
    say it plainly (then ask Alembic)."""
    chain = script_chain(folder)
    if not chain:
        return None
    heads = set(chain) - set(chain.values())
    return heads.pop() if len(heads) == 1 else None


def stamped_revisions(conn: Connection) -> tuple[str, ...]:
    """The revisions a database is stamped with (none: no Sales Calendar schema
    yet; one, normally)."""
    if not inspect(conn).has_table(VERSION_TABLE):
        return ()
    return tuple(conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars())
