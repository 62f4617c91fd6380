"""The core's composition root: what the CLI and the GUI build once and pass in.

No singletons: every part gets what it needs through its constructor.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import platformdirs

from calsync_desktop.accounts.base import KeyringSecrets, SecretStore
from calsync_desktop.files import make_private, private_file, private_folder
from calsync_desktop.logs import LOG_NAME, log_file_handler, quiet_libraries

if TYPE_CHECKING:
    from calsync_desktop.store import Store

APP_NAME = "calsync-desktop"
DB_NAME = "sales-calendar.sqlite3"


def default_home(env: Mapping[str, str] | None = None) -> Path | None:
    """``CALSYNC_HOME`` when set; None means the platform's own folders."""
    env = os.environ if env is None else env
    value = env.get("CALSYNC_HOME")
    return Path(value).expanduser() if value else None


@dataclass
class Services:
    """Store, secrets, clock and environment of one running calsync-desktop."""

    store: Store
    secrets: SecretStore
    clock: Callable[[], datetime]
    env: Mapping[str, str]
    data_dir: Path
    log_dir: Path
    extra: dict = field(default_factory=dict)

    @property
    def db_path(self) -> Path:
        return self.data_dir / DB_NAME

    @classmethod
    def create(
        cls,
        home: Path | str | None = None,
        secrets: SecretStore | None = None,
        env: Mapping[str, str] | None = None,
        clock: Callable[[], datetime] | None = None,
        team: bool = True,
    ) -> Services:
        """Open everything at ``home`` (or ``CALSYNC_HOME``, or the platform's folders).
        ``team=False`` opens this computer's own file even when it is connected to
        a team server (the commands that manage that connection)."""
        # here, not at the top: the window's launch reads default_home() before
        # its tray icon shows, and the store brings SQLAlchemy
        from calsync_desktop.store import Store
        from calsync_desktop.team.member import open_connected

        env = dict(os.environ) if env is None else env
        home = Path(home).expanduser() if home else default_home(env)
        if home is not None:
            data_dir, log_dir = home / "data", home / "logs"
        else:
            data_dir = Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
            log_dir = Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))
        secure_folders(data_dir, log_dir)
        clock = clock or (lambda: datetime.now(UTC))
        secrets = secrets or KeyringSecrets()
        # a computer connected to a team server uses it; its own file stays as it was
        store = (open_connected(data_dir, secrets, clock) if team else None) or Store.open(
            data_dir / DB_NAME, clock
        )
        return cls(store, secrets, clock, env, data_dir, log_dir)

    def for_thread(self) -> Services:
        """The same services with a Store connection of its own, for another thread."""
        return Services(
            self.store.reopen(),
            self.secrets,
            self.clock,
            self.env,
            self.data_dir,
            self.log_dir,
            self.extra,
        )

    def setup_logging(self, level: int = logging.INFO) -> Path:
        """The rotating, private log file in the log folder (see
        :mod:`calsync_desktop.logs`: no secret reaches it); returns its path."""
        path = self.log_dir / LOG_NAME
        root = logging.getLogger()
        if not any(getattr(h, "baseFilename", None) == str(path) for h in root.handlers):
            root.addHandler(log_file_handler(self.log_dir))
        root.setLevel(level)
        quiet_libraries()
        return path


def secure_folders(data_dir: Path, log_dir: Path) -> None:
    """The data and log folders 0700 and what calsync keeps in them 0600
    (the Sales Calendar with its -wal/-shm, migration backups), created so or
    corrected: a folder an older version made 0755 is fixed at start."""
    private_folder(data_dir)
    private_folder(log_dir)
    if log_dir.parent.name == APP_NAME:  # the platform's …/calsync-desktop/log
        private_folder(log_dir.parent)
    private_file(data_dir / DB_NAME)
    make_private(data_dir.glob(DB_NAME + "*"))  # -wal, -shm, .before-REV-TIME.bak
