"""Skipped items say which are linked items that left scope (frozen).

Such an entry stays while the item is out of scope and goes when it is back
(SPEC §4, Scope: leaving scope is never a deletion, and never silent).

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("skipped") as batch:
        batch.add_column(sa.Column("frozen", sa.Boolean, nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("skipped") as batch:
        batch.drop_column("frozen")
