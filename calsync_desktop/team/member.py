"""This computer and the team server: connect as a member, disconnect, open the
Sales Calendar the app should use."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from calsync_desktop.accounts.base import SecretStore
from calsync_desktop.store import Store
from calsync_desktop.team.server import (
    BadAddress,
    TeamError,
    TeamServer,
    member_url,
    open_store,
    role_name,
)


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
    if not user.strip():
        raise BadAddress("Give the member's email address (--user EMAIL).")
    server = TeamServer(
        member_url(url), role_name(user), str(Path(ca_bundle).resolve()) if ca_bundle else ""
    )
    store = open_store(server, password, clock)
    secrets.set(server.secret_key, "password", password)
    server.save(data_dir)
    return store


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
