"""Fixtures for the GUI tests: a real SQLite Store in tmp_path, a fixed clock.

The tests run on Qt's offscreen platform (set before PySide6 is imported).
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from calsync_desktop.model import Appointment, new_id
from calsync_desktop.store import Store

BERLIN = ZoneInfo("Europe/Berlin")


class FixedClock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def gui_clock() -> FixedClock:
    return FixedClock(datetime(2026, 3, 26, 10, 30, tzinfo=UTC))


@pytest.fixture
def gui_store(tmp_path, gui_clock):
    store = Store.open(tmp_path / "calendar.sqlite", clock=gui_clock)
    yield store
    store.close()


def make_appointment(
    contents: str, start: datetime, end: datetime, tz: str = "Europe/Berlin", **fields
) -> Appointment:
    return Appointment(id=new_id(), contents=contents, start=start, end=end, timezone=tz, **fields)


# The offscreen platform plugin cannot resize real windows and says so whenever a
# shown window's minimum size changes or a tooltip is raised, and it has no
# tray to connect to; that message is about the test platform,
# not the app, so it alone is exempt from qt_log_level_fail.
OFFSCREEN_NOISE = (
    r"This plugin does not support (propagateSizeHints|raise)\(\)"
    r"|No such signal QPlatformNativeInterface::systemTrayWindowChanged"
)


@pytest.fixture(autouse=True, scope="session")
def gui_look(qapp):
    """What a user sees: the app's style, and British English dates whatever the
    machine's LANG (tests of other locales set theirs and put this one back)."""
    from PySide6.QtCore import QLocale

    from calsync_desktop.gui import style

    QLocale.setDefault(QLocale(QLocale.Language.English, QLocale.Country.UnitedKingdom))
    style.install(qapp)
    yield


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/gui/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.qt_log_ignore(OFFSCREEN_NOISE))


# ----------------------------------------------------------------- the app


def add_memory_account(services, email: str = "me@example.com", name: str | None = None):
    """Save a "memory" kind account (a local test calendar) and return (account, calendar)."""
    from calsync_desktop.accounts import memory, save_account

    pending = memory.connect(services, email)
    # "primary", as the wizard's options page picks it: signing in again then
    # updates this account instead of adding another
    account = save_account(services, pending, calendar_id="primary", name=name or email)
    return account, memory.calendar_for(services, email, email)


def when_box_shows(find, act, every_ms: int = 20) -> None:
    """Once the message box that ``find()`` returns is shown (a modal one runs
    its own event loop), call ``act(box)``: how a test reads and answers it."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QMessageBox

    def poll():
        box = find()
        if not isinstance(box, QMessageBox) or not box.isVisible():
            QTimer.singleShot(every_ms, poll)
            return
        act(box)

    QTimer.singleShot(every_ms, poll)


class Answers:
    """Answers the mass-deletion guard for tests and records who asked, from where."""

    def __init__(self, decision):
        self.decision = decision
        self.asked: list = []
        self.threads: list[str] = []

    def __call__(self, guard):
        import threading

        self.asked.append(guard)
        self.threads.append(threading.current_thread().name)
        return self.decision


@pytest.fixture
def answers():
    from calsync_desktop.sync.engine import Decision

    return Answers(Decision.STOP)


@pytest.fixture
def make_app_for(qtbot, answers, tmp_path):
    """Build CalsyncApp on given services; shut it down after the test."""
    from calsync_desktop.gui.app import CalsyncApp
    from calsync_desktop.gui.autostart import Autostart

    apps = []

    def make(services, **kwargs):
        kwargs.setdefault("tz", BERLIN)
        kwargs.setdefault("decide", answers)
        kwargs.setdefault("watch_network", False)
        kwargs.setdefault(
            "autostart",
            Autostart(
                ["calsync-desktop"],
                platform="linux",
                env={"XDG_CONFIG_HOME": str(tmp_path / "xdg")},
            ),
        )
        app = CalsyncApp(services, **kwargs)
        apps.append(app)
        qtbot.addWidget(app.window)
        return app

    yield make
    for app in apps:
        app.shutdown()
        app.window.deleteLater()
        app.deleteLater()
    qtbot.wait(10)  # let deleteLater run before the store closes


@pytest.fixture
def make_app(make_app_for, services):
    """Build CalsyncApp on the shared ``services`` fixture."""
    return lambda **kwargs: make_app_for(services, **kwargs)


# ----------------------------------------------------------------- a team Sales Calendar

TEAM_MONDAY = datetime(2026, 3, 23, 8, tzinfo=UTC)
"""09:00 in Berlin, the Monday of the team tests' week."""


def team_at(day: int, hour: int, hours: int = 1) -> tuple[datetime, datetime]:
    """(start, end) on ``day`` days after TEAM_MONDAY at ``hour`` o'clock in Berlin."""
    from datetime import timedelta

    start = TEAM_MONDAY + timedelta(days=day, hours=hour - 9)
    return start, start + timedelta(hours=hours)


@pytest.fixture
def team(team_db, tmp_path, clock, secrets):
    """Ann's app's services on a team server (real PostgreSQL), and Bob's
    Sales Calendar there (a store under his own role)."""
    clock.now = TEAM_MONDAY
    ann = team_db.connect_services(tmp_path / "ann", secrets, clock, "ann@team.example")
    bob = team_db.open_store("bob@team.example", clock)
    yield ann, bob
    bob.close()
    bob.engine.dispose()
    ann.store.close()
    ann.store.engine.dispose()
