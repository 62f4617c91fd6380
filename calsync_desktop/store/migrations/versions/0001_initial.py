"""The first Sales Calendar schema: appointments, accounts, sync status.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from calsync_desktop.store.schema import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("email", sa.Text, nullable=False, server_default=""),
        sa.Column("calendar_id", sa.Text, nullable=False, server_default=""),
        sa.Column("settings", sa.Text, nullable=False, server_default="{}"),
        sa.Column("sync_all_private", sa.Boolean, nullable=False, server_default="0"),
        sa.Column("state", sa.String(20), nullable=False, server_default="ok"),
        sa.Column("last_sync", UTCDateTime),
        sa.Column("last_error", sa.Text, nullable=False, server_default=""),
        sa.Column("sync_state", sa.Text),
        sa.Column("local_seq", sa.Integer, nullable=False, server_default="0"),
        sa.Column("first_sync_done", sa.Boolean, nullable=False, server_default="0"),
        sa.Column("paused", sa.Boolean, nullable=False, server_default="0"),
    )
    op.create_table(
        "appointments",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("contents", sa.Text, nullable=False),
        sa.Column("location", sa.Text, nullable=False, server_default=""),
        sa.Column("start", UTCDateTime, nullable=False),
        sa.Column("end", UTCDateTime, nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("all_day", sa.Boolean, nullable=False, server_default="0"),
        sa.Column("private", sa.Boolean, nullable=False, server_default="0"),
        sa.Column("rrule", sa.Text),
        sa.Column("exdates", sa.Text, nullable=False, server_default="[]"),
        sa.Column("last_end", UTCDateTime),
        sa.Column("created", UTCDateTime, nullable=False),
        sa.Column("modified", UTCDateTime, nullable=False),
        sa.Column("account_id", sa.String(36), sa.ForeignKey("accounts.id", ondelete="SET NULL")),
        sa.Column("seq", sa.Integer, nullable=False),
    )
    op.create_index("ix_appointments_seq", "appointments", ["seq"])
    op.create_index("ix_appointments_range", "appointments", ["start", "last_end"])
    op.create_table(
        "participants",
        sa.Column(
            "appointment_id",
            sa.String(36),
            sa.ForeignKey("appointments.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("email", sa.Text),
        sa.Column("status", sa.String(20), nullable=False, server_default="no_response"),
    )
    op.create_table(
        "recurrence_overrides",
        sa.Column(
            "appointment_id",
            sa.String(36),
            sa.ForeignKey("appointments.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("original_start", UTCDateTime, primary_key=True),
        sa.Column("contents", sa.Text, nullable=False),
        sa.Column("location", sa.Text, nullable=False, server_default=""),
        sa.Column("start", UTCDateTime, nullable=False),
        sa.Column("end", UTCDateTime, nullable=False),
    )
    op.create_table(
        "tombstones",
        sa.Column(
            "account_id",
            sa.String(36),
            sa.ForeignKey("accounts.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("appointment_id", sa.String(36), primary_key=True),
        sa.Column("deleted_at", UTCDateTime, nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
    )
    op.create_table(
        "sync_status",
        sa.Column(
            "account_id",
            sa.String(36),
            sa.ForeignKey("accounts.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("local_id", sa.String(36), primary_key=True),
        sa.Column("remote_id", sa.Text),
        sa.Column("version", sa.Text, nullable=False, server_default=""),
        sa.Column("snapshot", sa.Text, nullable=False, server_default="{}"),
        sa.Column("local_seq", sa.Integer, nullable=False, server_default="0"),
        sa.UniqueConstraint("account_id", "remote_id", name="uq_sync_status_remote"),
    )
    op.create_table(
        "conflicts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("account_id", sa.String(36), sa.ForeignKey("accounts.id", ondelete="CASCADE")),
        sa.Column("appointment_id", sa.String(36), nullable=False),
        sa.Column("field", sa.String(40), nullable=False),
        sa.Column("kept_value", sa.Text, nullable=False),
        sa.Column("lost_value", sa.Text, nullable=False),
        sa.Column("lost_side", sa.String(10), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "settings",
        sa.Column("key", sa.String(100), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_table(
        "counters",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("value", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "counters",
        "settings",
        "conflicts",
        "sync_status",
        "tombstones",
        "recurrence_overrides",
        "participants",
        "appointments",
        "accounts",
    ):
        op.drop_table(table)
