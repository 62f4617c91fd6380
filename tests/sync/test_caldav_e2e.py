"""End to end: the Sales Calendar (real SQLite) ↔ real CalDAV servers (Radicale
and Xandikos behind the fault proxy), through SyncEngine, CalDAVProvider and the
``caldav`` library over https.

The rules every service keeps run from :class:`EndToEndContract`; this module
adds what is particular to CalDAV.
"""

from __future__ import annotations

import pytest

from calsync_desktop.providers.caldav import CalDAVProvider, ConnectionSettings

from .e2e_contract import E2EHarness, EndToEndContract, e2e_fixtures
from .harness import CrashAfterWrite


class CrashingCalDAVProvider(CrashAfterWrite, CalDAVProvider):
    """CalDAVProvider whose next write can be followed by a crash."""


class CalDAVE2E(E2EHarness):
    """A Sales Calendar and a real CalDAV server, linked by one CalDAV account."""

    kind, name = "caldav", "CalDAV"
    start_field, end_field = "DTSTART", "DTEND"

    def stamp(self, iso: str) -> str:
        return iso.replace("-", "").replace(":", "")  # iCalendar's basic form

    def new_provider(self, timeout: float = 5.0, backoff=None) -> CrashingCalDAVProvider:
        connection = ConnectionSettings(
            self.server.url,
            self.server.owner,
            self.server.password,
            ca_bundle=self.server.ca_bundle,
            timeout=timeout,
            auth_type="basic",
        )
        return CrashingCalDAVProvider(
            connection,
            self.server.calendar_url,
            backoff=backoff or self.backoff,
            clock=self.clock,
        )


@pytest.fixture
def server(caldav_server):
    return caldav_server


make_harness, h = e2e_fixtures(CalDAVE2E)


class TestCalDAVRules(EndToEndContract):
    """The shared rules against Radicale and Xandikos."""

    # through the proxy: 429 and 503 with Retry-After (RFC 9110 §10.2.3), a 500 without
    retry_cases = (
        ("rate_limit", 5, 5.0),
        ("server_busy", 3, 3.0),
        ("server_error", None, None),
    )

    # CalDAV signs in with a (app) password: there is no access token to refresh,
    # and a 401 means the password changed; that case is
    # test_revoked_sign_in_pauses_the_account_and_deletes_nothing (revoke_sign_in).
    test_expired_access_token_is_refreshed_mid_sync = None
