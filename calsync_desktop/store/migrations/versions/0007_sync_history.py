"""The sync history: every run that changed something, and for each appointment
it changed, both sides before and after (SPEC §9).

On a team server both tables are owned rows like the rest: ``calsync team
init`` gives them the row-level security policy that lets a member read only
their own history.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

from calsync_desktop.store.schema import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _owner() -> sa.Column:
    return sa.Column("owner", sa.String(64), nullable=False, server_default="")


def upgrade() -> None:
    op.create_table(
        "sync_runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("account_id", sa.String(36), nullable=False),
        sa.Column("trigger", sa.String(20), nullable=False),
        sa.Column("started", UTCDateTime, nullable=False),
        sa.Column("finished", UTCDateTime),
        sa.Column("state", sa.String(20), nullable=False, server_default="running"),
        sa.Column("counts", sa.Text, nullable=False, server_default="{}"),
        sa.Column("undoes", sa.Integer),
        _owner(),
        sa.ForeignKeyConstraint(
            ["account_id", "owner"], ["accounts.id", "accounts.owner"], ondelete="CASCADE"
        ),
        sqlite_autoincrement=True,
    )
    op.create_index("uq_sync_runs_id_owner", "sync_runs", ["id", "owner"], unique=True)
    op.create_index("ix_sync_runs_owner_started", "sync_runs", ["owner", "started"])
    op.create_table(
        "journal",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.Integer, nullable=False),
        sa.Column("local_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("sides", sa.String(6), nullable=False),
        sa.Column("remote_id", sa.Text),
        sa.Column("version_before", sa.Text),
        sa.Column("version_after", sa.Text),
        sa.Column("local_before", sa.Text),
        sa.Column("local_after", sa.Text),
        sa.Column("remote_before", sa.Text),
        sa.Column("remote_after", sa.Text),
        _owner(),
        sa.ForeignKeyConstraint(
            ["run_id", "owner"], ["sync_runs.id", "sync_runs.owner"], ondelete="CASCADE"
        ),
    )
    op.create_index("ix_journal_run", "journal", ["run_id"])


def downgrade() -> None:
    op.drop_index("ix_journal_run", "journal")
    op.drop_table("journal")
    op.drop_index("ix_sync_runs_owner_started", "sync_runs")
    op.drop_index("uq_sync_runs_id_owner", "sync_runs")
    op.drop_table("sync_runs")
