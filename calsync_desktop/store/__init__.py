"""The Sales Calendar: a SQLite file, or a team's PostgreSQL database, of
appointments, accounts and per-account sync status.

One :class:`Store` per thread: it holds one connection. Every local change
bumps a change counter, so the sync finds what changed since its last run
without scanning the calendar.

The same code serves both engines. A Store writes as its ``owner`` (the empty
string in a SQLite file, the member's role on a team server) and reads its own
rows from the tables; on a team server PostgreSQL's row-level security lets a
member see and change only their own rows there, and colleagues' calendars are
read through the ``team_*`` views, which hide what is private
(:meth:`Store.team_appointments_between`).

:class:`Store` is put together from one class per group of tables, each in a
module of its own on :class:`~calsync_desktop.store.core.StoreCore` (the
connection, transactions, the change counter):

- :mod:`~calsync_desktop.store.appointments`: appointments, their
  participants and overrides, what changed since a change counter;
- :mod:`~calsync_desktop.store.team`: the team's calendar, members, the
  per-account sync lock;
- :mod:`~calsync_desktop.store.links`: sync status, links and tombstones;
- :mod:`~calsync_desktop.store.logs`: the conflict and skipped-item logs;
- :mod:`~calsync_desktop.store.accounts`: accounts and settings;
- :mod:`~calsync_desktop.store.upgrade`: the schema's revisions and upgrades;
- :mod:`~calsync_desktop.store.errors`: what the store raises.

Everything is imported from here (``from calsync_desktop.store import Store``);
the sync history is :mod:`~calsync_desktop.store.journal`.
"""

from __future__ import annotations

from calsync_desktop.store.accounts import (
    SETTING_DEFAULTS,
    SYNC_INTERVAL_MINUTES,
    AccountsAndSettings,
)
from calsync_desktop.store.appointments import _appointment_from_json, _appointment_json
from calsync_desktop.store.core import Clock
from calsync_desktop.store.errors import AccountBusy, ConcurrentEdit, NotYours, StoreUnavailable
from calsync_desktop.store.links import Links, OutsideRow, StatusRow, Tombstone
from calsync_desktop.store.logs import (
    ConflictEntry,
    SkippedEntry,
    SyncLogs,
    field_text,
    field_value,
)
from calsync_desktop.store.team import TeamAppointment, TeamCalendar, TeamMember
from calsync_desktop.store.upgrade import (
    _on_connect,
    current_revision,
    head_revision,
    known_revisions,
    migrate,
)


class Store(TeamCalendar, Links, SyncLogs, AccountsAndSettings):
    """The Sales Calendar and the sync's bookkeeping, on one connection.

    Writes as ``owner``; reads of the tables show its own rows (on a team
    server, PostgreSQL decides that; in a SQLite file every row is the
    user's). A connection lost to a team server raises :class:`StoreUnavailable`
    and the next call reconnects.
    """


__all__ = [
    "SETTING_DEFAULTS",
    "SYNC_INTERVAL_MINUTES",
    "AccountBusy",
    "Clock",
    "ConcurrentEdit",
    "ConflictEntry",
    "NotYours",
    "OutsideRow",
    "SkippedEntry",
    "StatusRow",
    "Store",
    "StoreUnavailable",
    "TeamAppointment",
    "TeamMember",
    "Tombstone",
    "_appointment_from_json",
    "_appointment_json",
    "_on_connect",
    "current_revision",
    "field_text",
    "field_value",
    "head_revision",
    "known_revisions",
    "migrate",
]
