"""Data folder, Sales Calendar file with its -wal/-shm, migration backups, log
folder and log files: folders 0700, files 0600, when created and when found
looser at start (issue 10, item 12). Real files, under a permissive umask."""

from __future__ import annotations

import logging
import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from calsync_desktop.accounts.base import MemorySecrets
from calsync_desktop.model import Appointment, new_id
from calsync_desktop.services import DB_NAME, Services
from calsync_desktop.store import migrate

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def permissive_umask():
    # the usual umask makes new files 0644 and folders 0755: world-readable
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.fixture
def logging_restored():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in set(root.handlers) - set(handlers):
        root.removeHandler(handler)
        handler.close()
    root.setLevel(level)


def open_services(home: Path) -> Services:
    return Services.create(home=home, secrets=MemorySecrets(), env={})


def everything_in(home: Path) -> dict[str, int]:
    return {str(p.relative_to(home)): mode(p) for p in sorted(home.rglob("*"))}


def test_new_data_and_log_files_are_private_to_their_owner(tmp_path, logging_restored):
    home = tmp_path / "home"
    services = open_services(home)
    services.store.add_appointment(
        Appointment(
            new_id(),
            "Private matter",
            datetime(2026, 11, 24, 9, tzinfo=UTC),
            datetime(2026, 11, 24, 10, tzinfo=UTC),
            private=True,
        )
    )
    services.setup_logging()
    logging.getLogger("calsync_desktop.test").warning("a line in the log")
    data = services.data_dir
    # while the Sales Calendar is open, SQLite keeps its WAL and shared-memory files
    assert (data / (DB_NAME + "-wal")).exists() and (data / (DB_NAME + "-shm")).exists()
    found = everything_in(home)
    services.store.close()
    assert found["data"] == 0o700 and found["logs"] == 0o700
    files = {name: m for name, m in found.items() if name not in ("data", "logs")}
    assert {f"data/{DB_NAME}", f"data/{DB_NAME}-wal", "logs/calsync-desktop.log"} <= set(files)
    assert set(files.values()) == {0o600}, files


def test_existing_world_readable_files_are_corrected_at_start(tmp_path, logging_restored):
    home = tmp_path / "home"
    open_services(home).store.close()
    data, logs = home / "data", home / "logs"
    stale = [
        data / DB_NAME,
        data / (DB_NAME + "-wal"),
        data / (DB_NAME + "-shm"),
        data / f"{DB_NAME}.before-0002-20260101T000000.bak",
        logs / "calsync-desktop.log",
        logs / "calsync-desktop.log.1",
    ]
    for path in stale:
        path.touch()
        os.chmod(path, 0o644)
    os.chmod(data, 0o755)
    os.chmod(logs, 0o755)

    services = open_services(home)
    services.setup_logging()
    try:
        assert mode(data) == mode(logs) == 0o700
        assert {p.name: mode(p) for p in stale} == {p.name: 0o600 for p in stale}
    finally:
        services.store.close()


def test_a_migration_backup_is_private_from_the_start(tmp_path):
    home = tmp_path / "home"
    data = home / "data"
    data.mkdir(parents=True)
    path = data / DB_NAME
    engine = create_engine(f"sqlite:///{path}")
    migrate(engine, path, revision="0001")  # a Sales Calendar of the first version
    engine.dispose()
    os.chmod(path, 0o644)
    open_services(home).store.close()
    (backup,) = data.glob(f"{DB_NAME}.before-*.bak")
    assert mode(backup) == 0o600 and mode(path) == 0o600


def test_rotated_log_files_stay_private(tmp_path, logging_restored):
    services = open_services(tmp_path / "home")
    try:
        services.setup_logging()
        line = "x" * 10_000
        log = logging.getLogger("calsync_desktop.test")
        for _ in range(250):  # 2.5 MB: the 1 MB log rotates twice
            log.warning(line)
        files = sorted(services.log_dir.iterdir())
        assert len(files) >= 3
        assert {f.name: mode(f) for f in files} == {f.name: 0o600 for f in files}
    finally:
        services.store.close()


def test_the_platform_folders_are_private_too(tmp_path, monkeypatch):
    # without --home: the platform's data folder and the app's state folder with its log
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    services = Services.create(secrets=MemorySecrets(), env={})
    try:
        assert services.data_dir == tmp_path / "share" / "calsync-desktop"
        assert mode(services.data_dir) == 0o700
        assert mode(services.log_dir) == 0o700 and mode(services.log_dir.parent) == 0o700
    finally:
        services.store.close()
