"""This computer and the team server: connect as a member, disconnect, open the
Sales Calendar the app should use, and move this computer's own Sales Calendar
in."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import delete, insert, select

from calsync_desktop.accounts.base import SecretStore
from calsync_desktop.store import Store
from calsync_desktop.store.schema import metadata
from calsync_desktop.team.server import (
    BadAddress,
    TeamError,
    TeamServer,
    member_url,
    open_store,
    role_name,
)
from calsync_desktop.words import count


class NoPassword(TeamError):
    def __init__(self, user: str):
        super().__init__(
            f"The keyring holds no team server password for {user}. Connect again: "
            "'calsync team connect URL --user EMAIL' or Settings › Sales Calendar."
        )


def connect(
    data_dir: Path,
    secrets: SecretStore,
    url: str,
    user: str,
    password: str,
    ca_bundle: str = "",
    clock: Callable[[], datetime] | None = None,
) -> Store:
    """Check that ``user`` can open the team Sales Calendar at ``url``, then make
    it this computer's Sales Calendar: the address kept next to the local file,
    the password in the keyring. Returns the opened team store. Nothing changes
    when the check fails."""
    server = member_server(url, user, ca_bundle)
    store = open_store(server, password, clock)
    secrets.set(server.secret_key, "password", password)
    server.save(data_dir)
    return store


def member_server(url: str, user: str, ca_bundle: str = "") -> TeamServer:
    """The connection a member asks for, as this computer keeps it (checked for
    its form only: nothing is sent)."""
    if not user.strip():
        raise BadAddress("Give the member's email address (--user EMAIL).")
    return TeamServer(
        member_url(url), role_name(user), str(Path(ca_bundle).resolve()) if ca_bundle else ""
    )


def check_connection(url: str, user: str, password: str, ca_bundle: str = "") -> TeamServer:
    """Open the team Sales Calendar as ``user`` and close it again: raises the
    :class:`TeamError` that says what is wrong, keeps nothing."""
    server = member_server(url, user, ca_bundle)
    store = open_store(server, password)
    store.close()
    store.engine.dispose()
    return server


def saved_password(data_dir: Path, secrets: SecretStore, server: TeamServer) -> str | None:
    """The keyring's password for ``server``, when this computer is connected to it."""
    current = TeamServer.load(data_dir)
    if current is None or current.secret_key != server.secret_key:
        return None
    return secrets.get(server.secret_key, "password")


def disconnect(data_dir: Path, secrets: SecretStore) -> TeamServer | None:
    """Go back to this computer's own Sales Calendar file (which was kept as it
    was). Returns the server it was connected to."""
    server = TeamServer.load(data_dir)
    if server is not None:
        secrets.delete(server.secret_key, "password")
        TeamServer.forget(data_dir)
    return server


def open_connected(
    data_dir: Path, secrets: SecretStore, clock: Callable[[], datetime] | None = None
) -> Store | None:
    """The team Sales Calendar this computer is connected to (None: it uses its
    own file)."""
    server = TeamServer.load(data_dir)
    if server is None:
        return None
    password = secrets.get(server.secret_key, "password")
    if password is None:
        raise NoPassword(server.user)
    return open_store(server, password, clock)


class NotEmpty(TeamError):
    def __init__(self, user: str, appointments: int, accounts: int):
        super().__init__(
            f"{user} already has {count(appointments, 'appointment')} and "
            f"{count(accounts, 'account')} on "
            "the team server; moving in copies this computer's Sales Calendar only into an "
            "empty one, so that nothing is there twice. Nothing was copied."
        )


@dataclass(frozen=True)
class MoveInResult:
    appointments: int
    accounts: int
    links: int  # sync status rows: appointments linked to an event of a service
    rows: dict[str, int]  # every table's copied rows


# copied as they are, with the member as owner, parents before children
_SETTINGS = "settings"
_COUNTERS = "counters"


def move_in(local: Store, team: Store) -> MoveInResult:
    """Copy this computer's Sales Calendar ``local`` (a SQLite file) into the
    team Sales Calendar ``team`` as its member: appointments, accounts, their
    links to the services' events and the sync state, conflicts and skipped
    items, settings. The next sync of each account then finds every link in
    place and writes nothing remotely. One transaction: all or nothing. The
    local file is only read."""
    if local.is_team or not team.is_team:
        raise BadAddress("Moving in copies this computer's own file into a team server.")
    owner = team.owner
    have = team.count_appointments(), len(team.list_accounts())
    if any(have):
        raise NotEmpty(owner, *have)
    copied: dict[str, int] = {}
    with team.transaction() as conn:
        for table in metadata.sorted_tables:
            if "owner" not in table.c or table.name in (_SETTINGS, _COUNTERS):
                continue
            serial = [c.name for c in table.primary_key if c.autoincrement is True]
            rows = [
                {**{k: v for k, v in r._mapping.items() if k not in serial}, "owner": owner}
                for r in local.conn.execute(select(table))
            ]
            local.conn.rollback()
            for chunk in range(0, len(rows), 1000):
                conn.execute(insert(table), rows[chunk : chunk + 1000])
            copied[table.name] = len(rows)
        settings = metadata.tables[_SETTINGS]
        mine = {r.key for r in conn.execute(select(settings.c.key))}
        rows = [
            {"owner": owner, "key": r.key, "value": r.value}
            for r in local.conn.execute(select(settings))
            if r.key not in mine  # what the member set on the team server stays
        ]
        if rows:
            conn.execute(insert(settings), rows)
        copied[_SETTINGS] = len(rows)
        # the change counter goes on from the file's, so that every recorded
        # link's sequence number is one the team calendar has already passed
        seq = max(local.change_seq(), team.change_seq())
        counters = metadata.tables[_COUNTERS]
        conn.execute(delete(counters).where(counters.c.owner == owner, counters.c.name == "seq"))
        conn.execute(insert(counters).values(owner=owner, name="seq", value=seq))
    local.conn.rollback()
    return MoveInResult(
        copied.get("appointments", 0),
        copied.get("accounts", 0),
        copied.get("sync_status", 0),
        copied,
    )
