"""An owner on every user-owned row, per-owner settings and change counters, and
the views colleagues read each other's calendars through.

On a single-user SQLite file every owner is the empty string and the views show
everything. On a team server (PostgreSQL) the owner is the member's role and the
views hide the contents, location and participants of a colleague's private
appointment; what each role may touch is granted by ``calsync team init``.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

OWNER = "owner"

# child tables whose foreign key becomes (parent id, owner)
_APPOINTMENT_CHILDREN = ("participants", "recurrence_overrides")
_ACCOUNT_CHILDREN = ("tombstones", "sync_status", "conflicts", "skipped")


_CONVENTION = {"fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"}


def _owner_column() -> sa.Column:
    return sa.Column(OWNER, sa.String(64), nullable=False, server_default="")


def _old_fk(table: str) -> str | None:
    bind = op.get_bind()
    for fk in sa.inspect(bind).get_foreign_keys(table):
        return fk.get("name")
    return None


def view_sql(dialect: str) -> list[str]:
    """The team views, as this revision defines them."""
    me = "current_user::text" if dialect == "postgresql" else "''"
    barrier = " WITH (security_barrier)" if dialect == "postgresql" else ""
    hidden = f"a.private AND a.owner <> {me}"
    return [
        f"""CREATE VIEW team_appointments{barrier} AS
        SELECT a.id, a.owner, a.start, a."end", a.timezone, a.all_day, a.private,
               a.rrule, a.exdates, a.last_end, a.seq,
               CASE WHEN {hidden} THEN NULL ELSE a.contents END AS contents,
               CASE WHEN {hidden} THEN NULL ELSE a.location END AS location,
               CASE WHEN {hidden} THEN NULL ELSE a.created END AS created,
               CASE WHEN {hidden} THEN NULL ELSE a.modified END AS modified,
               CASE WHEN {hidden} THEN NULL ELSE a.account_id END AS account_id,
               CASE WHEN {hidden} THEN NULL ELSE a.ical_uid END AS ical_uid
        FROM appointments a""",
        f"""CREATE VIEW team_participants{barrier} AS
        SELECT p.appointment_id, p.position, p.owner, p.name, p.email, p.status
        FROM participants p JOIN appointments a ON a.id = p.appointment_id
        WHERE NOT ({hidden})""",
        f"""CREATE VIEW team_overrides{barrier} AS
        SELECT o.appointment_id, o.original_start, o.owner, o.start, o."end",
               CASE WHEN {hidden} THEN NULL ELSE o.contents END AS contents,
               CASE WHEN {hidden} THEN NULL ELSE o.location END AS location
        FROM recurrence_overrides o JOIN appointments a ON a.id = o.appointment_id""",
        f"""CREATE VIEW team_accounts{barrier} AS
        SELECT id, owner, kind, name FROM accounts""",
        f"""CREATE VIEW team_changes{barrier} AS
        SELECT owner, value FROM counters WHERE name = 'seq'""",
    ]


VIEWS = (
    "team_changes",
    "team_accounts",
    "team_overrides",
    "team_participants",
    "team_appointments",
)


def upgrade() -> None:
    for parent in ("accounts", "appointments"):
        with op.batch_alter_table(parent) as batch:
            batch.add_column(_owner_column())
        op.create_index(f"uq_{parent}_id_owner", parent, ["id", OWNER], unique=True)
    op.drop_index("ix_appointments_seq", "appointments")
    op.create_index("ix_appointments_owner_seq", "appointments", [OWNER, "seq"])
    op.create_index("ix_appointments_owner_range", "appointments", [OWNER, "start", "last_end"])

    for table, parent, ondelete in [
        *((c, "appointments", "CASCADE") for c in _APPOINTMENT_CHILDREN),
        *((c, "accounts", "CASCADE") for c in _ACCOUNT_CHILDREN),
    ]:
        key = "appointment_id" if parent == "appointments" else "account_id"
        # SQLite reflects its foreign keys without a name: the naming convention
        # gives the old one a name the batch copy can drop
        old = _old_fk(table) or f"fk_{table}_{key}_{parent}"
        with op.batch_alter_table(table, naming_convention=_CONVENTION) as batch:
            batch.add_column(_owner_column())
            batch.drop_constraint(old, type_="foreignkey")
            batch.create_foreign_key(
                f"fk_{table}_{parent}_owner", parent, [key, OWNER], ["id", OWNER], ondelete=ondelete
            )

    # a new primary key (owner, name): rebuilt by hand, the same on both engines
    for table, name, width in (("settings", "key", 100), ("counters", "name", 40)):
        value = sa.Text if table == "settings" else sa.Integer
        op.create_table(
            f"_new_{table}",
            sa.Column(OWNER, sa.String(64), nullable=False, server_default=""),
            sa.Column(name, sa.String(width), nullable=False),
            sa.Column("value", value, nullable=False),
            sa.PrimaryKeyConstraint(OWNER, name, name=f"pk_{table}"),
        )
        op.execute(
            f'INSERT INTO _new_{table} (owner, "{name}", value)'
            f" SELECT '', \"{name}\", value FROM {table}"
        )
        op.drop_table(table)
        op.rename_table(f"_new_{table}", table)

    for statement in view_sql(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade() -> None:
    for view in VIEWS:
        op.execute(f"DROP VIEW IF EXISTS {view}")
    for table, name, width in (("settings", "key", 100), ("counters", "name", 40)):
        value = sa.Text if table == "settings" else sa.Integer
        op.create_table(
            f"_old_{table}",
            sa.Column(name, sa.String(width), primary_key=True),
            sa.Column("value", value, nullable=False),
        )
        # the single-user file keeps its own owner's rows
        op.execute(
            f'INSERT INTO _old_{table} ("{name}", value) SELECT "{name}", value FROM {table}'
            " WHERE owner = ''"
        )
        op.drop_table(table)
        op.rename_table(f"_old_{table}", table)
    for table in (*_APPOINTMENT_CHILDREN, *_ACCOUNT_CHILDREN):
        parent = "appointments" if table in _APPOINTMENT_CHILDREN else "accounts"
        key = "appointment_id" if parent == "appointments" else "account_id"
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(f"fk_{table}_{parent}_owner", type_="foreignkey")
            batch.drop_column(OWNER)
            batch.create_foreign_key(None, parent, [key], ["id"], ondelete="CASCADE")
    op.drop_index("ix_appointments_owner_range", "appointments")
    op.drop_index("ix_appointments_owner_seq", "appointments")
    op.create_index("ix_appointments_seq", "appointments", ["seq"])
    for parent in ("accounts", "appointments"):
        op.drop_index(f"uq_{parent}_id_owner", parent)
        with op.batch_alter_table(parent) as batch:
            batch.drop_column(OWNER)
