"""What the window's start loads: nothing its first screen does not need.

Speed itself is measured by ``tests/bench/bench_gui.py``, never asserted here;
this checks the causes of a slow start that a change can bring back: a heavy
library imported by the start path (Alembic with Mako and Pygments, the HTML
parser, the service client libraries, the PostgreSQL driver), and the store
(SQLAlchemy) loaded before the tray icon shows.
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
    "psycopg": "a team server's connection (loaded when the Sales Calendar is on one)",
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


def run_start(script: str, home: Path):
    """Run ``script`` in a new interpreter (``home`` its argument): its last
    printed line, read as JSON."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    out = subprocess.run(
        [sys.executable, "-c", script, str(home)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=True,
        timeout=120,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def started_modules(home: Path) -> set[str]:
    return set(run_start(START, home))


def test_the_start_loads_nothing_the_first_screen_does_not_need(tmp_path):
    started_modules(tmp_path)  # the first start creates the Sales Calendar
    loaded = started_modules(tmp_path) & set(NOT_AT_START)
    assert not loaded, {name: NOT_AT_START[name] for name in loaded}


TRAY_FIRST = r"""
import json, sys
from calsync_desktop.gui.launch import STARTING, early_tray, open_app, qt_application
qt = qt_application()
tray = early_tray(qt)
early = {"visible": tray.icon.isVisible(), "tooltip": tray.icon.toolTip(),
         "store loaded": "sqlalchemy" in sys.modules or "calsync_desktop.store" in sys.modules,
         "model loaded": "calsync_desktop.model" in sys.modules,
         "notifies": tray.notifications_on()}
from calsync_desktop.accounts.base import MemorySecrets
from calsync_desktop.services import Services
services = Services.create(home=sys.argv[1], secrets=MemorySecrets(), env={})
services.store.set_setting("app.notifications", False)
app = open_app(tray, lambda: services, watch_network=False)
app.start(sync_at_start=False)
qt.processEvents()
later = {"same tray": app.tray is tray, "tooltip": tray.icon.toolTip(),
         "notifies": tray.notifications_on(), "visible": tray.icon.isVisible()}
services.store.set_setting("app.notifications", True)
later["notifies when on"] = tray.notifications_on()
print(json.dumps({"early": early, "later": later, "starting": STARTING}))
app.shutdown()
services.store.close()
"""


def test_the_tray_shows_before_the_store_opens_and_the_app_takes_it_over(tmp_path):
    seen = run_start(TRAY_FIRST, tmp_path)
    early, later = seen["early"], seen["later"]
    assert early["visible"] and not early["store loaded"] and not early["model loaded"]
    assert early["tooltip"].endswith(seen["starting"])
    assert not early["notifies"]  # nothing to say before the app is built
    assert later["same tray"] and later["visible"]
    # the app's own status replaces "Starting…": no account connected yet
    assert seen["starting"] not in later["tooltip"]
    assert "No calendar account connected yet" in later["tooltip"]
    assert later["notifies"] is False and later["notifies when on"] is True


MAIN = r"""
import json, sys
from PySide6.QtCore import QTimer
import calsync_desktop.gui.launch as launch
seen = {}
real_tray, real_open = launch.early_tray, launch.open_app

def early_tray(qt_app):
    tray = real_tray(qt_app)
    seen["visible"] = tray.icon.isVisible()
    seen["store loaded"] = "sqlalchemy" in sys.modules or "calsync_desktop.store" in sys.modules
    return tray

def open_app(tray, create, **options):
    app = real_open(tray, create, watch_network=False, **options)
    seen["built"] = app is not None and app.tray.icon.isVisible()
    QTimer.singleShot(0, app.quit)  # once the event loop runs: the app has started
    return app

launch.early_tray, launch.open_app = early_tray, open_app
seen["exit"] = launch.main(["--home", sys.argv[1]])
print(json.dumps(seen))
"""


def test_the_real_launch_shows_the_tray_before_it_loads_the_store(tmp_path):
    """calsync-desktop's own main(), watched where it shows the icon."""
    seen = run_start(MAIN, tmp_path)
    assert seen == {"visible": True, "store loaded": False, "built": True, "exit": 0}


def test_a_sales_calendar_file_that_is_not_a_database_is_said_and_the_app_does_not_start(
    tmp_path,
):
    from calsync_desktop.accounts.base import MemorySecrets
    from calsync_desktop.gui.team_window import open_services
    from calsync_desktop.services import Services

    home = tmp_path / "home"
    (home / "data").mkdir(parents=True)
    path = home / "data" / "sales-calendar.sqlite3"
    path.write_bytes(b"not a database\n")
    told: list[str] = []
    services = open_services(
        lambda: Services.create(home=home, secrets=MemorySecrets(), env={}),
        lambda _message: True,  # not a team server: never asked to try again
        told.append,
    )
    assert services is None
    (message,) = told
    assert "is not a Sales Calendar database" in message and str(path) in message
    assert path.read_bytes() == b"not a database\n"
