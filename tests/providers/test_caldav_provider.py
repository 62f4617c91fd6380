"""The CalDAV provider against real CalDAV servers (Radicale and Xandikos, each
behind the fault proxy), through the real ``caldav`` library over https.

- the shared provider contract, on both servers;
- discovery (well-known URL, principal, calendar home set), the iCalendar
  mapping (UID, VTIMEZONE, RRULE / EXDATE / RECURRENCE-ID, CLASS, ATTENDEE),
  conditional writes and error translation.
"""

from __future__ import annotations

import pytest

from calsync_desktop.providers.base import Backoff
from calsync_desktop.providers.caldav import CalDAVProvider, ConnectionSettings

from .contract import ProviderContract
from .meeting_contract import MeetingContract


def make_provider(server, *, url=None, password=None, calendar_url="", backoff=None, **settings):
    connection = ConnectionSettings(
        url or server.url,
        server.owner,
        password or server.password,
        ca_bundle=server.ca_bundle,
        timeout=settings.pop("timeout", 10.0),
        auth_type=settings.pop("auth_type", "basic"),
    )
    return CalDAVProvider(
        connection,
        calendar_url,
        backoff=backoff or Backoff(sleep=lambda _s: None),
        clock=settings.pop("clock", None),
    )


class CalDAVHarness:
    def __init__(self, server):
        self.server = server
        self.provider = make_provider(server)
        # discovery done, so the contract's faults hit sync calls
        self.provider.calendar_url()


@pytest.fixture
def harness(caldav_server):
    h = CalDAVHarness(caldav_server)
    yield h
    h.provider.close()


class TestCalDAVContract(ProviderContract, MeetingContract):
    """The provider contract, against Radicale and Xandikos."""
