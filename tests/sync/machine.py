"""What the sync and undo state machines (test_sync_machine.py,
test_undo_machine.py) share: a fresh Sales Calendar for each example, a
SQLite file or a team PostgreSQL database as a member, with the memory
calendar service linked by one account."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis.stateful import RuleBasedStateMachine

from calsync_desktop.store import Store
from calsync_desktop.sync.engine import Decision
from tests.conftest import FakeClock

from .harness import Harness


class StoreMachine(RuleBasedStateMachine):
    """A state machine over a Sales Calendar of its own (:meth:`open_store`: a
    SQLite file in a folder of its own) and a :class:`Harness`; each
    machine's ``@initialize`` rule calls :meth:`start`."""

    #: the prefix of the example's folder
    folder = "calsync-machine-"

    def open_store(self) -> Store:
        """The Sales Calendar this run syncs: a fresh SQLite file."""
        return Store.open(self.dir / "cal.sqlite3", self.clock)

    def close_store(self) -> None:
        self.store.close()

    def start(self, **harness_options) -> None:
        """A new folder, clock, Sales Calendar and harness; the user answers
        the deletion warning "apply" (a rule may change that)."""
        self.dir = Path(tempfile.mkdtemp(prefix=self.folder))
        self.clock = FakeClock()
        self.store = self.open_store()
        self.h = Harness(self.store, self.clock, **harness_options)
        self.h.decision = Decision.APPLY

    def settle(self) -> None:
        """What to finish before the Sales Calendar closes (nothing here)."""

    def teardown(self):
        if hasattr(self, "store"):
            try:
                self.settle()
            finally:
                self.close_store()
            shutil.rmtree(self.dir, ignore_errors=True)


class OnPostgres:
    """Mix into a :class:`StoreMachine`: its Sales Calendar is a team PostgreSQL
    database of its own, as a member. ``cluster`` is set by a fixture from
    ``pg_cluster``."""

    cluster = None
    databases = iter(range(1_000_000))  # one counter for every machine: names never meet

    def open_store(self) -> Store:
        from calsync_desktop.team.server import TeamServer, open_store
        from tests.pg import MEMBERS, TEMPLATE

        self.database = f"machine_{next(self.databases)}"
        self.cluster.create_database(self.database, TEMPLATE)
        server = TeamServer(self.cluster.url(self.database), "ann@team.example")
        return open_store(server, MEMBERS["ann@team.example"][1], self.clock)

    def close_store(self) -> None:
        self.store.close()
        self.store.engine.dispose()
        self.cluster.drop_database(self.database)
