"""Appointments remember the iCalUID of the event they were synced with.

The first sync of a calendar that already holds the Sales Calendar's events
links them by that UID (SPEC §4, Identity). Appointments synced before this
version do not know theirs yet: every account's sync state is dropped, so the
next sync lists its calendar whole (a full listing never duplicates) and each
linked appointment learns its event's UID.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("appointments") as batch:
        batch.add_column(sa.Column("ical_uid", sa.Text))
    op.execute("UPDATE accounts SET sync_state = NULL")


def downgrade() -> None:
    with op.batch_alter_table("appointments") as batch:
        batch.drop_column("ical_uid")
