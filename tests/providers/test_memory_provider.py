"""The memory provider keeps the provider contract."""

from __future__ import annotations

import pytest

from calsync_desktop.providers.base import Backoff
from calsync_desktop.providers.memory import MemoryProvider
from tests.fakes.memory import MemoryRemote

from .contract import WINDOW, ProviderContract
from .meeting_contract import MeetingContract


class MemoryHarness:
    def __init__(self):
        self.server = MemoryRemote()
        self.backoff = Backoff(sleep=lambda _s: None)
        self.provider = MemoryProvider(self.server.calendar, self.backoff)


class TestMemoryProvider(ProviderContract, MeetingContract):
    @pytest.fixture
    def harness(self):
        return MemoryHarness()

    def test_retry_waits_what_the_service_asked(self, harness):
        harness.server.fail_next("server_busy", 2)
        harness.provider.changes(WINDOW, None)
        assert len(harness.backoff.waits) == 2
        assert all(w >= 2.0 for w in harness.backoff.waits)
