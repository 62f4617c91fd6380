"""A tombstone remembers the appointment as it was when deleted.

A write that reached the service just before a crash is listed on the next sync
as a remote change; with the appointment deleted meanwhile, the sync tells such
an echo of its own write (the service holds what the Sales Calendar had) from
a colleague's edit, which beats the deletion.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tombstones") as batch:
        batch.add_column(sa.Column("last_values", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tombstones") as batch:
        batch.drop_column("last_values")
