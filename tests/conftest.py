"""Shared fixtures: a real SQLite Sales Calendar, a clock that tests move, secrets."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from calsync_desktop.accounts.base import MemorySecrets
from calsync_desktop.services import Services


class FakeClock:
    """Now, as the test says. Call it to read; ``advance`` to move on."""

    def __init__(self, now: datetime | None = None):
        self.now = now or datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs) -> datetime:
        self.now += timedelta(**kwargs)
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def secrets() -> MemorySecrets:
    return MemorySecrets()


@pytest.fixture
def services(tmp_path, clock, secrets) -> Services:
    s = Services.create(home=tmp_path / "home", secrets=secrets, env={}, clock=clock)
    yield s
    s.store.close()


@pytest.fixture
def store(services):
    return services.store
