"""The Sales Calendar's tables, as the newest migration leaves them, on SQLite
and PostgreSQL alike.

Times are stored as fixed-width UTC text (``2026-11-23T09:00:00.000000Z``) so
they sort and compare correctly as strings on SQLite and on other engines.

Every row a person owns carries ``owner``: the member's database role on a team
server, the empty string in a single-user SQLite file. Rows that hang off an
account or an appointment reference it together with the owner, so nobody can
attach a row to a colleague's account or appointment. The ``team_*`` views are
what colleagues may read of each other (:mod:`calsync_desktop.store.views`).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator

_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


class UTCDateTime(TypeDecorator):
    """An aware datetime kept as sortable UTC text."""

    impl = String(27)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is not UTC:
            if value.tzinfo is None:
                raise ValueError("naive datetime")
            value = value.astimezone(UTC)
        # isoformat is the fast path: the same fixed-width text as _FORMAT once
        # its "+00:00" is cut off (cheaper than replacing tzinfo first)
        return value.isoformat(timespec="microseconds")[:26] + "Z"

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return datetime.fromisoformat(value)  # C-fast; reads the trailing Z as UTC


metadata = MetaData()


def _owner() -> Column:
    return Column("owner", String(64), nullable=False, server_default="")


def _account_ref(ondelete: str) -> ForeignKeyConstraint:
    return ForeignKeyConstraint(
        ["account_id", "owner"], ["accounts.id", "accounts.owner"], ondelete=ondelete
    )


def _appointment_ref() -> ForeignKeyConstraint:
    return ForeignKeyConstraint(
        ["appointment_id", "owner"], ["appointments.id", "appointments.owner"], ondelete="CASCADE"
    )


accounts = Table(
    "accounts",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("name", Text, nullable=False),
    Column("email", Text, nullable=False, server_default=""),
    Column("calendar_id", Text, nullable=False, server_default=""),
    Column("settings", Text, nullable=False, server_default="{}"),
    Column("sync_all_private", Boolean, nullable=False, server_default="0"),
    Column("state", String(20), nullable=False, server_default="ok"),
    Column("last_sync", UTCDateTime),
    Column("last_error", Text, nullable=False, server_default=""),
    Column("sync_state", Text),
    Column("local_seq", Integer, nullable=False, server_default="0"),
    Column("first_sync_done", Boolean, nullable=False, server_default="0"),
    Column("paused", Boolean, nullable=False, server_default="0"),
    _owner(),
    Index("uq_accounts_id_owner", "id", "owner", unique=True),
)

appointments = Table(
    "appointments",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("contents", Text, nullable=False),
    Column("location", Text, nullable=False, server_default=""),
    Column("start", UTCDateTime, nullable=False),
    Column("end", UTCDateTime, nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("all_day", Boolean, nullable=False, server_default="0"),
    Column("private", Boolean, nullable=False, server_default="0"),
    Column("rrule", Text),
    Column("exdates", Text, nullable=False, server_default="[]"),
    # end of the last occurrence (NULL: a series without end): scope and range queries
    Column("last_end", UTCDateTime),
    Column("created", UTCDateTime, nullable=False),
    Column("modified", UTCDateTime, nullable=False),
    Column("account_id", String(36), ForeignKey("accounts.id", ondelete="SET NULL")),
    Column("seq", Integer, nullable=False),
    # the iCalendar UID of the event it was first synced with (first-sync linking)
    Column("ical_uid", Text),
    # availability and meetings (SPEC §10): free, tentative, busy, oof, workingElsewhere
    Column("show_as", String(20), nullable=False, server_default="busy"),
    # the online meeting's join link, from the service ("" when none)
    Column("join_url", Text, nullable=False, server_default=""),
    # who organises a meeting someone else organises (both NULL: the user's own)
    Column("organizer_name", Text),
    Column("organizer_email", Text),
    # whether that organiser lets the guests change the meeting (Google's guestsCanModify)
    Column("guests_can_modify", Boolean, nullable=False, server_default="0"),
    # the user's answer to such a meeting: none, accepted, tentative, declined
    Column("my_response", String(10), nullable=False, server_default="none"),
    _owner(),
    Index("uq_appointments_id_owner", "id", "owner", unique=True),
    Index("ix_appointments_owner_seq", "owner", "seq"),
    Index("ix_appointments_owner_range", "owner", "start", "last_end"),
    Index("ix_appointments_range", "start", "last_end"),
)

participants = Table(
    "participants",
    metadata,
    Column("appointment_id", String(36), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("name", Text, nullable=False),
    Column("email", Text),
    Column("status", String(20), nullable=False, server_default="no_response"),
    _owner(),
    _appointment_ref(),
)

overrides = Table(
    "recurrence_overrides",
    metadata,
    Column("appointment_id", String(36), primary_key=True),
    Column("original_start", UTCDateTime, primary_key=True),
    Column("contents", Text, nullable=False),
    Column("location", Text, nullable=False, server_default=""),
    Column("start", UTCDateTime, nullable=False),
    Column("end", UTCDateTime, nullable=False),
    _owner(),
    _appointment_ref(),
)

tombstones = Table(
    "tombstones",
    metadata,
    Column("account_id", String(36), primary_key=True),
    Column("appointment_id", String(36), primary_key=True),
    Column("deleted_at", UTCDateTime, nullable=False),
    Column("seq", Integer, nullable=False),
    # the appointment as it was when deleted (JSON): a change the service shows
    # afterwards that only repeats it is our own write, not an edit
    Column("last_values", Text, nullable=True),
    _owner(),
    _account_ref("CASCADE"),
)

sync_status = Table(
    "sync_status",
    metadata,
    Column("account_id", String(36), primary_key=True),
    Column("local_id", String(36), primary_key=True),
    Column("remote_id", Text),
    Column("version", Text, nullable=False, server_default=""),
    Column("snapshot", Text, nullable=False, server_default="{}"),
    Column("local_seq", Integer, nullable=False, server_default="0"),
    _owner(),
    UniqueConstraint("account_id", "remote_id", name="uq_sync_status_remote"),
    _account_ref("CASCADE"),
)

conflicts = Table(
    "conflicts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", String(36)),
    Column("appointment_id", String(36), nullable=False),
    Column("field", String(40), nullable=False),
    Column("kept_value", Text, nullable=False),
    Column("lost_value", Text, nullable=False),
    Column("lost_raw", Text, nullable=False, server_default="null"),
    Column("lost_side", String(10), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("restored", Boolean, nullable=False, server_default="0"),
    _owner(),
    _account_ref("CASCADE"),
)

skipped = Table(
    "skipped",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", String(36)),
    Column("side", String(10), nullable=False),
    Column("item_id", Text, nullable=False),
    Column("item", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    # a linked item out of scope: kept as it is until it is back in scope
    Column("frozen", Boolean, nullable=False, server_default="0"),
    _owner(),
    _account_ref("CASCADE"),
)

# each member has settings of their own (profile, sync interval, …)
settings = Table(
    "settings",
    metadata,
    Column("owner", String(64), primary_key=True, server_default=""),
    Column("key", String(100), primary_key=True),
    Column("value", Text, nullable=False),
)

# one change counter per owner: a member's writes never wait for a colleague's
counters = Table(
    "counters",
    metadata,
    Column("owner", String(64), primary_key=True, server_default=""),
    Column("name", String(40), primary_key=True),
    Column("value", Integer, nullable=False),
)

# the sync history (SPEC §9): one row per run that changed something, one
# journal entry per appointment it changed, with both sides before and after
sync_runs = Table(
    "sync_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", String(36), nullable=False),
    # interval, sync now, edit, wake, undo, from scratch
    Column("trigger", String(20), nullable=False),
    Column("started", UTCDateTime, nullable=False),
    Column("finished", UTCDateTime),
    # running (or killed), done, stopped (by the mass-deletion guard)
    Column("state", String(20), nullable=False, server_default="running"),
    Column("counts", Text, nullable=False, server_default="{}"),
    # the run an undo put back
    Column("undoes", Integer),
    _owner(),
    Index("uq_sync_runs_id_owner", "id", "owner", unique=True),
    Index("ix_sync_runs_owner_started", "owner", "started"),
    _account_ref("CASCADE"),
    sqlite_autoincrement=True,  # a run's number is never given to another
)

journal = Table(
    "journal",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Integer, nullable=False),
    Column("local_id", String(36), nullable=False),
    Column("kind", String(20), nullable=False),
    # which side the run changed: "local", "remote" or "both"
    Column("sides", String(6), nullable=False),
    Column("remote_id", Text),
    Column("version_before", Text),
    Column("version_after", Text),
    # the appointment before (JSON, whole), its merge fields after; the remote
    # event's merge fields before and after; NULL where it did not exist
    Column("local_before", Text),
    Column("local_after", Text),
    Column("remote_before", Text),
    Column("remote_after", Text),
    _owner(),
    ForeignKeyConstraint(
        ["run_id", "owner"], ["sync_runs.id", "sync_runs.owner"], ondelete="CASCADE"
    ),
    Index("ix_journal_run", "run_id"),
)
