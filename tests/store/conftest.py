"""The store tests run on SQLite and on a team PostgreSQL database alike."""

import pytest


@pytest.fixture
def services(engine_services):
    return engine_services
