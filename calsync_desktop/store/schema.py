"""The Sales Calendar's tables, as the newest migration leaves them.

Times are stored as fixed-width UTC text (``2026-11-23T09:00:00.000000Z``) so
they sort and compare correctly as strings on SQLite and on other engines.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
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
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        # isoformat is the fast path; same fixed-width text as _FORMAT
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return datetime.fromisoformat(value)  # C-fast; reads the trailing Z as UTC


metadata = MetaData()

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
    Index("ix_appointments_seq", "seq"),
    Index("ix_appointments_range", "start", "last_end"),
)

participants = Table(
    "participants",
    metadata,
    Column(
        "appointment_id",
        String(36),
        ForeignKey("appointments.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("position", Integer, primary_key=True),
    Column("name", Text, nullable=False),
    Column("email", Text),
    Column("status", String(20), nullable=False, server_default="no_response"),
)

overrides = Table(
    "recurrence_overrides",
    metadata,
    Column(
        "appointment_id",
        String(36),
        ForeignKey("appointments.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("original_start", UTCDateTime, primary_key=True),
    Column("contents", Text, nullable=False),
    Column("location", Text, nullable=False, server_default=""),
    Column("start", UTCDateTime, nullable=False),
    Column("end", UTCDateTime, nullable=False),
)

tombstones = Table(
    "tombstones",
    metadata,
    Column(
        "account_id", String(36), ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("appointment_id", String(36), primary_key=True),
    Column("deleted_at", UTCDateTime, nullable=False),
    Column("seq", Integer, nullable=False),
)

sync_status = Table(
    "sync_status",
    metadata,
    Column(
        "account_id", String(36), ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("local_id", String(36), primary_key=True),
    Column("remote_id", Text),
    Column("version", Text, nullable=False, server_default=""),
    Column("snapshot", Text, nullable=False, server_default="{}"),
    Column("local_seq", Integer, nullable=False, server_default="0"),
    UniqueConstraint("account_id", "remote_id", name="uq_sync_status_remote"),
)

conflicts = Table(
    "conflicts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", String(36), ForeignKey("accounts.id", ondelete="CASCADE")),
    Column("appointment_id", String(36), nullable=False),
    Column("field", String(40), nullable=False),
    Column("kept_value", Text, nullable=False),
    Column("lost_value", Text, nullable=False),
    Column("lost_raw", Text, nullable=False, server_default="null"),
    Column("lost_side", String(10), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("restored", Boolean, nullable=False, server_default="0"),
)

skipped = Table(
    "skipped",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", String(36), ForeignKey("accounts.id", ondelete="CASCADE")),
    Column("side", String(10), nullable=False),
    Column("item_id", Text, nullable=False),
    Column("item", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    # a linked item out of scope: kept as it is until it is back in scope
    Column("frozen", Boolean, nullable=False, server_default="0"),
)

settings = Table(
    "settings",
    metadata,
    Column("key", String(100), primary_key=True),
    Column("value", Text, nullable=False),
)

counters = Table(
    "counters",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("value", Integer, nullable=False),
)
