"""Start at login points at a command that really starts this app."""

from __future__ import annotations

import sys
from pathlib import Path

from calsync_desktop.gui.autostart import launch_command


def test_a_frozen_build_starts_itself(monkeypatch):
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", "/opt/calsync-desktop/calsync-desktop")
    assert launch_command(Path("/data")) == [
        "/opt/calsync-desktop/calsync-desktop",
        "--home",
        "/data",
    ]


def test_from_source_it_runs_the_package(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["pytest"])
    assert launch_command()[-2:] == ["-m", "calsync_desktop"]
