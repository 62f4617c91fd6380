"""The memory provider keeps the provider contract."""

from __future__ import annotations

import pytest

from calsync_desktop.providers.base import Backoff
from calsync_desktop.providers.memory import MemoryCalendar, MemoryProvider

from .contract import WINDOW, ProviderContract


class MemoryHarness:
    def __init__(self):
        self.calendar = MemoryCalendar()
        self.backoff = Backoff(sleep=lambda _s: None)
        self.provider = MemoryProvider(self.calendar, self.backoff)

    def expire_sync_state(self):
        self.calendar.expire_sync_state()

    def edit_remotely(self, remote_id, **fields):
        self.calendar.edit(remote_id, **fields)

    def delete_remotely(self, remote_id):
        self.calendar.remove(remote_id)

    def set_response(self, remote_id, email, status):
        event = self.calendar.events[remote_id]
        attendees = tuple(
            p.__class__(p.name, p.email, status) if p.key == email.lower() else p
            for p in event.attendees
        )
        self.calendar.edit(remote_id, attendees=attendees)

    def count_requests(self):
        return self.calendar.requests

    def fail_next(self, kind, count=1):
        self.calendar.fail_next(kind, count)


class TestMemoryProvider(ProviderContract):
    @pytest.fixture
    def harness(self):
        return MemoryHarness()

    def test_retry_waits_what_the_service_asked(self, harness):
        harness.fail_next("server_busy", 2)
        harness.provider.changes(WINDOW, None)
        assert len(harness.backoff.waits) == 2
        assert all(w >= 2.0 for w in harness.backoff.waits)
