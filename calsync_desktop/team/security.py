"""Who may read and write what on a team server, as PostgreSQL enforces it.

Every member's login role is in the team's group role, and the group holds all
of a member's rights; no member owns a table, so no member can change a
policy, grant a right or create a role. The rules:

* **Own rows** (every table with an ``owner``): a member reads, adds, changes
  and deletes only rows whose owner is their own role (row-level security,
  ``USING`` and ``WITH CHECK owner = current_user``).
* **Colleagues** are read through the ``team_*`` views only (select, nothing
  else): their appointments whole unless private; of a private one the owner,
  times, private flag and recurrence, never its contents, location,
  participants or account; of their accounts the display name and kind.
  Their accounts' settings, sync status, conflicts, skipped items, settings
  and sync history (which holds what their appointments were before and after
  each sync) are not readable at all.
* **The schema version and the member list** can be read, not written.

Each table of the schema must be classified here; a test checks that a new
table is not forgotten.
"""

from __future__ import annotations

import re

from psycopg import sql

OWNED = (
    "accounts",
    "appointments",
    "participants",
    "recurrence_overrides",
    "tombstones",
    "sync_status",
    "conflicts",
    "skipped",
    "settings",
    "counters",
    "sync_runs",
    "journal",
)
"""Tables of rows a member owns: row-level security, owner only."""

READ_ONLY = ("alembic_version", "team_settings", "team_members")
"""Tables every member may read and nobody but the administrator may write."""

VIEWS = (
    "team_appointments",
    "team_participants",
    "team_overrides",
    "team_accounts",
    "team_changes",
)
"""What colleagues read of each other."""

NOTIFY_CHANNEL = "calsync_changes"

TEAM_TABLES = """
CREATE TABLE IF NOT EXISTS team_settings (
    key text PRIMARY KEY,
    value text NOT NULL
);
CREATE TABLE IF NOT EXISTS team_members (
    role text PRIMARY KEY,
    email text NOT NULL,
    name text NOT NULL DEFAULT '',
    added timestamptz NOT NULL DEFAULT now()
);
"""

# every change of an appointment bumps its owner's change counter in the same
# transaction: one trigger there tells every listening app, on commit
NOTIFY_TRIGGER = f"""
CREATE OR REPLACE FUNCTION calsync_notify_change() RETURNS trigger
LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog AS $$
BEGIN
    PERFORM pg_notify('{NOTIFY_CHANNEL}', NEW.owner);
    RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS calsync_notify_change ON counters;
CREATE TRIGGER calsync_notify_change AFTER INSERT OR UPDATE ON counters
    FOR EACH ROW EXECUTE FUNCTION calsync_notify_change();
REVOKE ALL ON FUNCTION calsync_notify_change() FROM PUBLIC;
"""


def group_role_for(database: str) -> str:
    """The team's group role: one per team database (roles are server-wide)."""
    slug = re.sub(r"[^a-z0-9_]+", "_", database.lower()).strip("_") or "team"
    return f"calsync_team_{slug}"[:63]


def statements(group: str, database: str) -> list[sql.Composable]:
    """The grants and policies, every one safe to run again."""
    g = sql.Identifier(group)
    out: list[sql.Composable] = [
        sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(sql.Identifier(database)),
        sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(database), g),
        sql.SQL("REVOKE ALL ON SCHEMA public FROM PUBLIC"),
        sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(g),
        sql.SQL("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC"),
        sql.SQL("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {}").format(g),
        sql.SQL("REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM PUBLIC"),
        sql.SQL("REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {}").format(g),
    ]
    for table in OWNED:
        name = sql.Identifier(table)
        out += [
            sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON {} TO {}").format(name, g),
            sql.SQL("ALTER TABLE {} ENABLE ROW LEVEL SECURITY").format(name),
            sql.SQL("DROP POLICY IF EXISTS own_rows ON {}").format(name),
            sql.SQL(
                "CREATE POLICY own_rows ON {} FOR ALL TO {} "
                "USING (owner = current_user) WITH CHECK (owner = current_user)"
            ).format(name, g),
            sql.SQL("ALTER TABLE {} ALTER COLUMN owner SET DEFAULT current_user").format(name),
        ]
    for sequence in ("conflicts_id_seq", "skipped_id_seq", "sync_runs_id_seq", "journal_id_seq"):
        out.append(sql.SQL("GRANT USAGE ON SEQUENCE {} TO {}").format(sql.Identifier(sequence), g))
    for name in (*READ_ONLY, *VIEWS):
        out.append(sql.SQL("GRANT SELECT ON {} TO {}").format(sql.Identifier(name), g))
    return out
