"""The ``calsync`` command line, run in-process on a real Sales Calendar file.

Accounts and sync use the memory kind: its calendar lives in ``Services.extra``,
so these tests hand ``main`` the same :class:`Services` for a whole sequence of
commands, the way one running app would. One test runs the real console script
in a subprocess.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from calsync_desktop.accounts.base import MemorySecrets
from calsync_desktop.services import Services
from tests.cli.helpers import Cli
from tests.conftest import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))


@pytest.fixture
def home(tmp_path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def cli(home, clock, capsys):
    # TZ fixed, so "this computer's zone" is the same on every machine
    services = Services.create(
        home=home, secrets=MemorySecrets(), env={"TZ": "Europe/Berlin"}, clock=clock
    )
    yield Cli(services, home, capsys)
    services.store.close()
