"""Conflicts can be restored; a log of items the sync skipped, with the reason.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from calsync_desktop.store.schema import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conflicts") as batch:
        batch.add_column(sa.Column("restored", sa.Boolean, nullable=False, server_default="0"))
        # the losing value in its merge-field form, so it can be written back
        batch.add_column(sa.Column("lost_raw", sa.Text, nullable=False, server_default="null"))
    op.create_table(
        "skipped",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("account_id", sa.String(36), sa.ForeignKey("accounts.id", ondelete="CASCADE")),
        sa.Column("side", sa.String(10), nullable=False),
        sa.Column("item_id", sa.Text, nullable=False),
        sa.Column("item", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("skipped")
    with op.batch_alter_table("conflicts") as batch:
        batch.drop_column("lost_raw")
        batch.drop_column("restored")
