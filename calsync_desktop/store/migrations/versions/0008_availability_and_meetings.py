"""Availability and meetings (SPEC §10): an appointment's show-as, its online
meeting's join link, the organiser of a meeting someone else organises and the
user's answer to it.

Appointments synced before this version do not know these yet: every
account's sync state is dropped, so the next sync lists its calendar whole (a
full listing never duplicates), and every link forgets the event's version,
so that each listed event is read once more although the service did not
change it (the sync skips an event whose version it has seen). Nothing is
written to any service for it: a snapshot made before this version has none of
these fields and reads them as the defaults given here (busy, no link, the
user's own, no answer), which is what the Sales Calendar holds too, so only
the service's side has changed, and that flows to the Sales Calendar.

The team views are made again with the new columns: a colleague's private
appointment shows its show-as (it is busy time like its times are), never its
join link, organiser or the owner's answer.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _columns() -> list[sa.Column]:
    return [
        sa.Column("show_as", sa.String(20), nullable=False, server_default="busy"),
        sa.Column("join_url", sa.Text, nullable=False, server_default=""),
        sa.Column("organizer_name", sa.Text),
        sa.Column("organizer_email", sa.Text),
        sa.Column("my_response", sa.String(10), nullable=False, server_default="none"),
    ]


# the views that read the appointments table (SQLite's copy of a table for a
# dropped column refuses to rename while a view names it)
_READERS = ("team_overrides", "team_participants", "team_appointments")


def _readers_sql(dialect: str) -> list[str]:
    """team_participants and team_overrides, as 0005 made them."""
    me = "current_user::text" if dialect == "postgresql" else "''"
    barrier = " WITH (security_barrier)" if dialect == "postgresql" else ""
    hidden = f"a.private AND a.owner <> {me}"
    return [
        f"""CREATE VIEW team_participants{barrier} AS
        SELECT p.appointment_id, p.position, p.owner, p.name, p.email, p.status
        FROM participants p JOIN appointments a ON a.id = p.appointment_id
        WHERE NOT ({hidden})""",
        f"""CREATE VIEW team_overrides{barrier} AS
        SELECT o.appointment_id, o.original_start, o.owner, o.start, o."end",
               CASE WHEN {hidden} THEN NULL ELSE o.contents END AS contents,
               CASE WHEN {hidden} THEN NULL ELSE o.location END AS location
        FROM recurrence_overrides o JOIN appointments a ON a.id = o.appointment_id""",
    ]


def view_sql(dialect: str, with_meetings: bool) -> str:
    """The team appointments view as this revision defines it (without the new
    columns: as 0005 left it, for the downgrade)."""
    me = "current_user::text" if dialect == "postgresql" else "''"
    barrier = " WITH (security_barrier)" if dialect == "postgresql" else ""
    hidden = f"a.private AND a.owner <> {me}"
    meetings = (
        f""",
               a.show_as,
               CASE WHEN {hidden} THEN NULL ELSE a.join_url END AS join_url,
               CASE WHEN {hidden} THEN NULL ELSE a.organizer_name END AS organizer_name,
               CASE WHEN {hidden} THEN NULL ELSE a.organizer_email END AS organizer_email,
               CASE WHEN {hidden} THEN NULL ELSE a.my_response END AS my_response"""
        if with_meetings
        else ""
    )
    return f"""CREATE VIEW team_appointments{barrier} AS
        SELECT a.id, a.owner, a.start, a."end", a.timezone, a.all_day, a.private,
               a.rrule, a.exdates, a.last_end, a.seq,
               CASE WHEN {hidden} THEN NULL ELSE a.contents END AS contents,
               CASE WHEN {hidden} THEN NULL ELSE a.location END AS location,
               CASE WHEN {hidden} THEN NULL ELSE a.created END AS created,
               CASE WHEN {hidden} THEN NULL ELSE a.modified END AS modified,
               CASE WHEN {hidden} THEN NULL ELSE a.account_id END AS account_id,
               CASE WHEN {hidden} THEN NULL ELSE a.ical_uid END AS ical_uid{meetings}
        FROM appointments a"""


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    # the view reads the table: out of the way while SQLite copies the table
    op.execute("DROP VIEW IF EXISTS team_appointments")
    with op.batch_alter_table("appointments") as batch:
        for column in _columns():
            batch.add_column(column)
    op.execute(view_sql(dialect, with_meetings=True))
    op.execute("UPDATE accounts SET sync_state = NULL")
    op.execute("UPDATE sync_status SET version = ''")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for view in _READERS:
        op.execute(f"DROP VIEW IF EXISTS {view}")
    with op.batch_alter_table("appointments") as batch:
        for column in reversed(_columns()):
            batch.drop_column(column.name)
    op.execute(view_sql(dialect, with_meetings=False))
    for statement in _readers_sql(dialect):
        op.execute(statement)
