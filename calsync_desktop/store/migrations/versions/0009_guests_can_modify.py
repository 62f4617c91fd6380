"""Whether the organiser of someone else's meeting lets the guests change it
(Google's ``guestsCanModify``, SPEC §10): such a meeting can then be edited
in the window and on the command line like the user's own.

Appointments synced before this version do not know it: as in 0008, every
account's sync state is dropped and every link forgets the event's version,
so the next sync lists each calendar whole, reads every event once more and
fills the column; nothing is written to any service (a snapshot without it
reads it as "they may not", what the column holds after this migration).

The team appointments view is made again with the column, withheld (NULL)
for a colleague's private appointment as its organiser is.

Revision ID: 0009
Revises: 0008
"""

import importlib.util
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def _previous():
    """Revision 0008's module: its views are what the downgrade puts back."""
    path = Path(__file__).with_name("0008_availability_and_meetings.py")
    spec = importlib.util.spec_from_file_location("calsync_migration_0008", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def view_sql(dialect: str) -> str:
    """The team appointments view as this revision defines it."""
    me = "current_user::text" if dialect == "postgresql" else "''"
    barrier = " WITH (security_barrier)" if dialect == "postgresql" else ""
    hidden = f"a.private AND a.owner <> {me}"
    withheld = (
        "contents",
        "location",
        "created",
        "modified",
        "account_id",
        "ical_uid",
    )
    meetings = ("join_url", "organizer_name", "organizer_email", "guests_can_modify", "my_response")
    hide = ",\n               ".join(
        f"CASE WHEN {hidden} THEN NULL ELSE a.{c} END AS {c}" for c in (*withheld, *meetings)
    )
    return f"""CREATE VIEW team_appointments{barrier} AS
        SELECT a.id, a.owner, a.start, a."end", a.timezone, a.all_day, a.private,
               a.rrule, a.exdates, a.last_end, a.seq, a.show_as,
               {hide}
        FROM appointments a"""


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.execute("DROP VIEW IF EXISTS team_appointments")
    with op.batch_alter_table("appointments") as batch:
        batch.add_column(
            sa.Column("guests_can_modify", sa.Boolean, nullable=False, server_default="0")
        )
    op.execute(view_sql(dialect))
    op.execute("UPDATE accounts SET sync_state = NULL")
    op.execute("UPDATE sync_status SET version = ''")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    previous = _previous()
    for view in previous._READERS:
        op.execute(f"DROP VIEW IF EXISTS {view}")
    with op.batch_alter_table("appointments") as batch:
        batch.drop_column("guests_can_modify")
    op.execute(previous.view_sql(dialect, with_meetings=True))
    for statement in previous._readers_sql(dialect):
        op.execute(statement)
