"""What the window's start loads: nothing its first screen does not need.

Speed itself is measured by ``tests/bench/bench_gui.py``, never asserted here;
this checks the cause of a slow start that a change can bring back: a heavy
library imported by the start path (Alembic with Mako and Pygments, the HTML
parser, the service client libraries).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

NOT_AT_START = {
    "alembic": "the schema check of a current Sales Calendar",
    "mako": "Alembic's templates",
    "pygments": "Alembic's error display",
    "bs4": "HTML bodies (read only while syncing)",
    "lxml": "HTML and Exchange answers (read only while syncing)",
    "googleapiclient": "Google accounts (loaded by their first sync)",
    "exchangelib": "Exchange accounts (loaded by their first sync)",
    "msal": "Office 365 accounts (loaded by their first sync)",
    "caldav": "CalDAV accounts (loaded by their first sync)",
    "niquests": "CalDAV accounts' HTTP client (loaded by their first sync)",
}

START = r"""
import json, sys
from PySide6.QtWidgets import QApplication
from calsync_desktop.accounts.base import MemorySecrets
from calsync_desktop.gui.app import CalsyncApp
from calsync_desktop.services import Services
qt = QApplication([sys.argv[0]])
qt.setQuitOnLastWindowClosed(False)
services = Services.create(home=sys.argv[1], secrets=MemorySecrets(), env={})
app = CalsyncApp(services, watch_network=False)
app.start(sync_at_start=False)
qt.processEvents()
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
app.shutdown()
services.store.close()
"""


def started_modules(home: Path) -> set[str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    out = subprocess.run(
        [sys.executable, "-c", START, str(home)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=True,
        timeout=120,
    )
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_the_start_loads_nothing_the_first_screen_does_not_need(tmp_path):
    started_modules(tmp_path)  # the first start creates the Sales Calendar
    loaded = started_modules(tmp_path) & set(NOT_AT_START)
    assert not loaded, {name: NOT_AT_START[name] for name in loaded}
