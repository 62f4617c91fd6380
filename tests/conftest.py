"""Shared fixtures: a real SQLite Sales Calendar, a clock that tests move, secrets."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import settings

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from calsync_desktop.accounts.base import MemorySecrets
from calsync_desktop.services import Services

# Speed is measured by the benchmarks (tests/bench), never asserted by a test:
# no Hypothesis example fails for taking long on a busy machine.
#
# The suite's Hypothesis examples are derandomized: every run of the test
# command tries the same examples, so a red run is the code's doing and can be
# repeated. Looking for new failures is a run of its own, on fresh seeds:
# ``--hypothesis-seed=N`` (or CALSYNC_HYPOTHESIS=explore for a random one).
settings.register_profile("calsync", deadline=None, derandomize=True)
settings.register_profile("explore", deadline=None)
settings.load_profile(os.environ.get("CALSYNC_HYPOTHESIS", "calsync"))


def pytest_configure(config):
    # a seed given on the command line counts (derandomize would override it)
    if config.getoption("hypothesis_seed", None) is not None:
        settings.register_profile("calsync-seeded", parent=settings.default, derandomize=False)
        settings.load_profile("calsync-seeded")


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


# --------------------------------------------------------------------------- PostgreSQL


@pytest.fixture(scope="session")
def pg_cluster():
    """A real PostgreSQL server for the session (started on first use), with a
    template team database whose members are ``tests.pg.MEMBERS``."""
    from calsync_desktop.team import admin
    from tests.pg import MEMBERS, TEMPLATE, remove_cluster, start_cluster

    cluster = start_cluster()
    try:
        cluster.create_database(TEMPLATE)
        admin.init(cluster.admin_url(TEMPLATE))
        for email, (name, password) in MEMBERS.items():
            admin.add_member(cluster.admin_url(TEMPLATE), email, name, password)
        yield cluster
    finally:
        remove_cluster(cluster)


_databases = iter(range(1_000_000))


class TeamDatabase:
    """A fresh team database of its own for one test."""

    def __init__(self, cluster, name: str):
        self.cluster = cluster
        self.name = name
        self.url = f"postgresql://127.0.0.1:{cluster.port}/{name}"
        self.admin_url = cluster.admin_url(name)

    def server(self, email: str):
        from calsync_desktop.team.server import TeamServer

        return TeamServer(self.url, email)

    def open_store(self, email: str = "ann@team.example", clock=None):
        from calsync_desktop.team.server import open_store
        from tests.pg import MEMBERS

        return open_store(self.server(email), MEMBERS[email][1], clock)

    def sql(self, email: str | None = None, password: str | None = None):
        """A raw psycopg connection: as the administrator, or as a member."""
        if email is None:
            return self.cluster.admin(self.name)
        return self.cluster.as_member(self.name, email, password)

    def connect_services(self, home, secrets, clock, email: str = "ann@team.example"):
        """Services of an app on a computer connected to this team as ``email``."""
        from calsync_desktop.team.member import connect
        from tests.pg import MEMBERS

        data_dir = Path(home) / "data"
        data_dir.mkdir(parents=True, exist_ok=True)
        connect(data_dir, secrets, self.url, email, MEMBERS[email][1], clock=clock).close()
        return Services.create(home=home, secrets=secrets, env={}, clock=clock)


@pytest.fixture
def team_db(pg_cluster):
    from calsync_desktop.team import admin

    name = f"team_{os.getpid()}_{next(_databases)}"
    pg_cluster.create_database(name, "calsync_template")
    admin.init(pg_cluster.admin_url(name))  # the database's own rights are not copied
    yield TeamDatabase(pg_cluster, name)
    pg_cluster.drop_database(name)


ENGINES = ["sqlite", "postgresql"]


def pytest_generate_tests(metafunc):
    # a test that asks (through its fixtures) for ``engine_kind`` runs on both
    # engines, unless it is about the SQLite file itself
    if "engine_kind" in metafunc.fixturenames:
        only = metafunc.definition.get_closest_marker("sqlite_only")
        metafunc.parametrize("engine_kind", ["sqlite"] if only else ENGINES)


@pytest.fixture
def engine_services(request, engine_kind, tmp_path, clock, secrets):
    """Services on a SQLite file or, for ``postgresql``, on a team database as a
    member: the same tests run on both engines. A test module opts in with
    ``services = engine_services``-style overrides (see tests/store/conftest.py)."""
    if engine_kind == "sqlite":
        s = Services.create(home=tmp_path / "home", secrets=secrets, env={}, clock=clock)
    else:
        team = request.getfixturevalue("team_db")
        s = team.connect_services(tmp_path / "home", secrets, clock)
    yield s
    s.store.close()
    s.store.engine.dispose()


# --------------------------------------------------------------------------- CalDAV


@pytest.fixture(scope="session", params=["radicale", "xandikos"])
def caldav_server_session(request):
    """A real CalDAV server (Radicale, then Xandikos) for the session, behind its
    fault proxy (tests/fakes/caldav_servers.py); started on first use."""
    from tests.fakes.caldav_servers import SERVERS

    with SERVERS[request.param]() as server:
        yield server


@pytest.fixture
def caldav_server(caldav_server_session, clock):
    """That server with an empty calendar, its faults and counts forgotten."""
    caldav_server_session.reset(clock=clock)
    return caldav_server_session
