"""Start at login, in each platform's own documented way.

* Linux and other XDG desktops: a ``.desktop`` file in
  ``$XDG_CONFIG_HOME/autostart`` (XDG Autostart Specification).
* Windows: a value under
  ``HKEY_CURRENT_USER\\Software\\Microsoft\\Windows\\CurrentVersion\\Run``.
* macOS: a LaunchAgent property list in ``~/Library/LaunchAgents`` with
  ``RunAtLoad`` (launchd.plist(5)).

No Qt here; the settings dialog calls :class:`Autostart`.
"""

from __future__ import annotations

import os
import plistlib
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol

APP_ID = "calsync-desktop"
MAC_LABEL = "io.calsync.desktop"
RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"


def launch_command(home: Path | None = None) -> list[str]:
    """How to start this app again: the installed script, or ``python -m``."""
    script = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if getattr(sys, "frozen", False):  # a PyInstaller build: the executable is the app
        command = [sys.executable]
    elif script is not None and script.name.startswith(APP_ID) and script.exists():
        command = [str(script.resolve())]
    else:
        command = [sys.executable, "-m", "calsync_desktop"]
    if home is not None:
        command += ["--home", str(home)]
    return command


def desktop_exec(command: Sequence[str]) -> str:
    """An ``Exec=`` value: arguments quoted as the Desktop Entry Specification asks."""

    def quote(arg: str) -> str:
        if arg and not any(c in arg for c in " \t\n\"'\\><~|&;$*?#()`"):
            return arg
        escaped = "".join("\\" + c if c in '"`$\\' else c for c in arg)
        return f'"{escaped}"'

    return " ".join(quote(a) for a in command).replace("%", "%%")


class Registry(Protocol):
    """The three calls of ``winreg`` that the Run key needs (injected for tests)."""

    def get(self, key: str, name: str) -> str | None: ...

    def set(self, key: str, name: str, value: str) -> None: ...

    def delete(self, key: str, name: str) -> None: ...


class WinRegistry:
    """HKEY_CURRENT_USER through ``winreg`` (only importable on Windows)."""

    def __init__(self):
        import winreg  # only exists on Windows, hence imported here

        self.winreg = winreg

    def get(self, key: str, name: str) -> str | None:
        w = self.winreg
        try:
            with w.OpenKey(w.HKEY_CURRENT_USER, key) as handle:
                return w.QueryValueEx(handle, name)[0]
        except OSError:
            return None

    def set(self, key: str, name: str, value: str) -> None:
        w = self.winreg
        with w.CreateKey(w.HKEY_CURRENT_USER, key) as handle:
            w.SetValueEx(handle, name, 0, w.REG_SZ, value)

    def delete(self, key: str, name: str) -> None:
        w = self.winreg
        try:
            with w.OpenKey(w.HKEY_CURRENT_USER, key, 0, w.KEY_SET_VALUE) as handle:
                w.DeleteValue(handle, name)
        except OSError:
            pass


class Autostart:
    """Turns start-at-login on and off for the current user."""

    def __init__(
        self,
        command: Sequence[str],
        platform: str = sys.platform,
        env: Mapping[str, str] | None = None,
        user_home: Path | None = None,
        registry: Registry | None = None,
    ):
        self.command = list(command)
        self.platform = platform
        self.env = os.environ if env is None else env
        self.user_home = user_home or Path.home()
        self._registry = registry

    # ------------------------------------------------------------ where

    @property
    def desktop_file(self) -> Path:
        config = self.env.get("XDG_CONFIG_HOME") or str(self.user_home / ".config")
        return Path(config) / "autostart" / f"{APP_ID}.desktop"

    @property
    def launch_agent(self) -> Path:
        return self.user_home / "Library" / "LaunchAgents" / f"{MAC_LABEL}.plist"

    @property
    def registry(self) -> Registry:
        if self._registry is None:
            self._registry = WinRegistry()
        return self._registry

    # ------------------------------------------------------------ what

    def is_enabled(self) -> bool:
        if self.platform.startswith("win"):
            return self.registry.get(RUN_KEY, APP_ID) is not None
        if self.platform == "darwin":
            return self.launch_agent.exists()
        path = self.desktop_file
        if not path.exists():
            return False
        return "Hidden=true" not in path.read_text(encoding="utf-8")

    def set_enabled(self, enabled: bool) -> None:
        if self.platform.startswith("win"):
            if enabled:
                self.registry.set(RUN_KEY, APP_ID, subprocess_line(self.command))
            else:
                self.registry.delete(RUN_KEY, APP_ID)
        elif self.platform == "darwin":
            self._write_or_remove(self.launch_agent, enabled, self._plist())
        else:
            self._write_or_remove(self.desktop_file, enabled, self._desktop_entry().encode())

    @staticmethod
    def _write_or_remove(path: Path, enabled: bool, content: bytes) -> None:
        if enabled:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
        else:
            path.unlink(missing_ok=True)

    def _desktop_entry(self) -> str:
        return (
            "[Desktop Entry]\n"
            "Type=Application\n"
            "Name=Calendar Sync\n"
            "Comment=Keep the Sales Calendar in sync\n"
            f"Exec={desktop_exec(self.command)}\n"
            "Icon=calsync-desktop\n"
            "Terminal=false\n"
            "X-GNOME-Autostart-enabled=true\n"
        )

    def _plist(self) -> bytes:
        return plistlib.dumps(
            {
                "Label": MAC_LABEL,
                "ProgramArguments": self.command,
                "RunAtLoad": True,
                "ProcessType": "Interactive",
            }
        )


def subprocess_line(command: Sequence[str]) -> str:
    """A Windows command line (each argument quoted when needed)."""
    import subprocess

    return subprocess.list2cmdline(list(command)) if command else ""


__all__ = ["Autostart", "desktop_exec", "launch_command"]
