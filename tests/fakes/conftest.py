"""Fixtures shared by the test servers' own tests."""

from __future__ import annotations

import pytest

from tests.fakes.google_calendar import GoogleCalendarServer
from tests.fakes.graph_server import GraphServer

GOOGLE_OWNER = "sales.person@example.com"


@pytest.fixture
def google_server():
    """A Google test server for :data:`GOOGLE_OWNER`; stopping it fails the test
    when one of its answers broke the discovery document."""
    s = GoogleCalendarServer(GOOGLE_OWNER).start()
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture
def graph_server():
    """A Graph test server; stopping it fails the test when a request body or an
    answer broke the Graph v1.0 metadata."""
    s = GraphServer().start()
    try:
        yield s
    finally:
        s.stop()
