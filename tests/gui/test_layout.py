"""Every window and dialog, in each state a user sees, on a 1024×700 screen and
at scale 2 (a 1024×700 screen of double density, and the 1600×1000 screen at
scale 2 where the window once opened at 2200×1520): nothing reaches past the
screen, no control lies outside its parent, no text is cut, and every control
has a name a screen reader can say.

Qt reads the screen and the scale factor once, at start, so each screen is a
process of its own (``layout_probe.py``) that opens the windows one after the
other and reports; the tests here read its report.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QPushButton, QWidget

from .layout import accessibility_problems, layout_problems
from .windows import STATE_NAMES

ROOT = Path(__file__).resolve().parents[2]
SCREENS = {
    "1024x700": (1024, 700, 1),
    "1024x700-at-scale-2": (2048, 1400, 2),
    "1600x1000-at-scale-2": (1600, 1000, 2),
}

_reports: dict[str, dict] = {}


def probe(screen: str, tmp_path_factory) -> dict:
    """The report of every window on ``screen`` (run once per screen)."""
    if screen not in _reports:
        width, height, scale = SCREENS[screen]
        folder = tmp_path_factory.mktemp(f"screen-{screen}")
        config = folder / "screen.json"
        config.write_text(
            json.dumps(
                {
                    "screens": [
                        {
                            "name": screen,
                            "x": 0,
                            "y": 0,
                            "width": width,
                            "height": height,
                            "logicalDpi": 96,
                            "logicalBaseDpi": 96,
                            "dpr": 1,
                        }
                    ]
                }
            )
        )
        env = dict(os.environ)
        env.update(
            QT_QPA_PLATFORM=f"offscreen:configfile={config}",
            QT_SCALE_FACTOR=str(scale),
            TZ="Europe/Berlin",
            CALSYNC_HOME=str(folder / "home"),
        )
        done = subprocess.run(
            [sys.executable, "-m", "tests.gui.layout_probe"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        _reports[screen] = json.loads(done.stdout.strip().splitlines()[-1])
    return _reports[screen]


@pytest.mark.parametrize("state", STATE_NAMES)
@pytest.mark.parametrize("screen", list(SCREENS))
def test_each_window_fits_and_cuts_no_text(screen, state, tmp_path_factory):
    report = probe(screen, tmp_path_factory)
    width, height, scale = SCREENS[screen]
    assert report["screen"] == [width // scale, height // scale]  # the scale took effect
    found = report["states"][state]
    assert found["layout"] == [], f"{state} on {screen}: {found['layout']}"


@pytest.mark.parametrize("state", STATE_NAMES)
def test_each_control_has_an_accessible_name(state, tmp_path_factory):
    found = probe("1024x700", tmp_path_factory)["states"][state]
    assert found["accessibility"] == []


def test_every_state_was_looked_at(tmp_path_factory):
    for screen in SCREENS:
        assert list(probe(screen, tmp_path_factory)["states"]) == list(STATE_NAMES)


# --------------------------------------------------------------------------- the checks


def test_the_checks_see_a_cut_label_a_cut_button_and_a_control_outside(qtbot):
    """The layout check is no rubber stamp: it reports what it is there to find."""
    top = QWidget()
    qtbot.addWidget(top)
    top.resize(300, 120)
    fine = QLabel("Fine", top)
    fine.setGeometry(10, 10, 100, 20)
    cut = QLabel("A label whose text is far too long for its width", top)
    cut.setObjectName("cut-label")
    cut.setGeometry(10, 40, 60, 20)
    button = QPushButton("Save Account Settings", top)
    button.setGeometry(10, 70, 50, 30)
    outside = QCheckBox("Out", top)
    outside.setGeometry(280, 100, 80, 40)
    wrapped = QLabel("Words " * 40, top)
    wrapped.setObjectName("wrapped")
    wrapped.setWordWrap(True)
    wrapped.setGeometry(120, 10, 150, 20)
    top.show()
    qtbot.waitExposed(top)
    found = "\n".join(layout_problems(top))
    assert "cut-label" in found and "needs" in found
    assert "Save Account Settings" in found
    assert "'Out'" in found and "outside its parent" in found
    assert "wrapped" in found and "height" in found
    assert "'Fine'" not in found


def test_the_checks_see_a_window_larger_than_the_screen(qtbot):
    top = QWidget()
    qtbot.addWidget(top)
    area = top.screen().availableGeometry()
    top.resize(area.width() + 200, 100)
    top.show()
    assert any("reaches past the screen" in p for p in layout_problems(top))


def test_the_checks_see_a_control_without_a_name(qtbot):
    top = QWidget()
    qtbot.addWidget(top)
    row = QHBoxLayout(top)
    icon_only = QPushButton()
    icon_only.setObjectName("icon-only")
    named = QPushButton()
    named.setAccessibleName("Previous week")
    row.addWidget(icon_only)
    row.addWidget(named)
    row.addWidget(QPushButton("Sync now"))  # its text is its name
    top.show()
    assert accessibility_problems(top) == ["QPushButton 'icon-only' has no accessible name"]
    assert Qt.FocusPolicy.StrongFocus == icon_only.focusPolicy()
