"""What colleagues may read of each other: the ``team_*`` views, as tables to
select from.

The views themselves are made by the migrations (SQL there, frozen per
revision). On a team server they run as the tables' owner, so they show every
member's rows, and they blank out what a colleague's private appointment holds
(contents, location, participants, when it was made, which account, its
join link, organiser and the owner's answer; its show-as stays, as busy time
is what colleagues see of it); the
tables themselves show a member only their own rows. In a single-user SQLite
file they show everything.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Integer, MetaData, String, Table, Text

from calsync_desktop.store.schema import UTCDateTime

metadata = MetaData()  # not the schema's: Alembic does not create these

appointments = Table(
    "team_appointments",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("owner", String(64)),
    Column("start", UTCDateTime),
    Column("end", UTCDateTime),
    Column("timezone", String(64)),
    Column("all_day", Boolean),
    Column("private", Boolean),
    Column("rrule", Text),
    Column("exdates", Text),
    Column("last_end", UTCDateTime),
    Column("seq", Integer),
    Column("contents", Text),
    Column("location", Text),
    Column("created", UTCDateTime),
    Column("modified", UTCDateTime),
    Column("account_id", String(36)),
    Column("ical_uid", Text),
    Column("show_as", String(20)),
    Column("join_url", Text),
    Column("organizer_name", Text),
    Column("organizer_email", Text),
    Column("guests_can_modify", Boolean),
    Column("my_response", String(10)),
)

participants = Table(
    "team_participants",
    metadata,
    Column("appointment_id", String(36)),
    Column("position", Integer),
    Column("owner", String(64)),
    Column("name", Text),
    Column("email", Text),
    Column("status", String(20)),
)

overrides = Table(
    "team_overrides",
    metadata,
    Column("appointment_id", String(36)),
    Column("original_start", UTCDateTime),
    Column("owner", String(64)),
    Column("start", UTCDateTime),
    Column("end", UTCDateTime),
    Column("contents", Text),
    Column("location", Text),
)

accounts = Table(
    "team_accounts",
    metadata,
    Column("id", String(36)),
    Column("owner", String(64)),
    Column("kind", String(20)),
    Column("name", Text),
)

changes = Table(
    "team_changes",
    metadata,
    Column("owner", String(64)),
    Column("value", Integer),
)
