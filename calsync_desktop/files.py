"""Folders and files only their owner can read (SPEC: data and log files 0600
in 0700 folders): the Sales Calendar holds private appointments, and its log
and backups hold their traces.

Folders are made 0700 and files 0600 when they are created, with no moment in
between when another local user could open them, and existing ones (made by an
older version, or under a looser umask) are corrected at start. On Windows,
where ``chmod`` sets only the read-only flag, the user's profile folder keeps
other users out instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

FOLDER_MODE = 0o700
FILE_MODE = 0o600


def _chmod(path: Path, mode: int) -> None:
    try:
        if path.stat().st_mode & 0o777 != mode:
            os.chmod(path, mode)
    except FileNotFoundError:
        pass
    except PermissionError:
        pass  # not ours (a shared folder someone else made): nothing we may change


def private_folder(path: Path) -> Path:
    """``path`` as a folder only its owner can enter (created, or corrected)."""
    path = Path(path)
    if not path.is_dir():
        path.parent.mkdir(parents=True, exist_ok=True)
        # mkdir's mode is masked by the umask: set it again below
        path.mkdir(mode=FOLDER_MODE, exist_ok=True)
    _chmod(path, FOLDER_MODE)
    return path


def private_file(path: Path) -> Path:
    """``path`` as a file only its owner can read, created empty when missing
    (an empty file is a valid new SQLite database)."""
    path = Path(path)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        pass
    else:
        os.close(fd)
    _chmod(path, FILE_MODE)
    return path


def open_private(path: Path, mode: str = "a", encoding: str | None = "utf-8"):
    """Open ``path`` for writing, creating it 0600 (never world-readable, not
    even for a moment)."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if "a" in mode else os.O_TRUNC)
    fd = os.open(path, flags, FILE_MODE)
    _chmod(Path(path), FILE_MODE)
    return os.fdopen(fd, mode, encoding=encoding) if "b" not in mode else os.fdopen(fd, mode)


def make_private(paths: Iterable[Path]) -> None:
    """Correct files that exist already (an older version made them 0644)."""
    for path in paths:
        if path.is_file():
            _chmod(path, FILE_MODE)
