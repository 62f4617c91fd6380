"""The undo state machine (tests/sync/test_undo_machine.py, SPEC §9) against
each test server, end to end: mixed into
:class:`~tests.sync.e2e_contract.EndToEndContract`, so it runs through the real
client library over HTTP. Its rules and checks are the memory machine's own
(after undoing a random earlier run, what is untouched since is as before the
run on both sides, read in the Sales Calendar's terms; nothing duplicated; the
undo of an undo gives back the state after the run). Kept small, as real
servers are slow: 8 examples of 10 steps, at most four appointments a
side, events made there single (a series made there is the memory machine's),
and each example starts with a sync of two appointments and an event, so that
its few steps find runs to undo.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import initialize, rule, run_state_machine_as_test

from calsync_desktop.sync.engine import Decision

from .test_undo_machine import UndoMachine, days, hours, locations, people, words


class E2EUndoMachine(UndoMachine):
    """The memory machine over a test server: each example a fresh account on
    ``make_harness``'s Sales Calendar, with the server and the store emptied of
    what earlier examples left."""

    most = 4

    def __init__(self, make_harness):
        super().__init__()
        self.make_harness = make_harness

    @initialize()
    def setup(self):
        self.h = self.make_harness()
        self.h.decision = Decision.APPLY
        self.store, self.clock = self.h.store, self.h.clock
        for remote_id in self.h.server.event_ids():
            self.h.server.delete_event(remote_id)
        for appointment in self.h.all_local():
            self.store.delete_appointment(appointment.id)
        self.runs = {}
        self.made = 0
        self.deleted_as = {}
        # a first run with something in it on both sides, so that the few steps
        # an example has find runs to undo
        self.h.add_local(self.title("Acme"), start=self.h.at(1, 9), location="HQ")
        self.h.add_local(self.title("demo"), start=self.h.at(2, 11))
        self.h.add_remote(self.title("call"), start=self.h.at(3, 14))
        self.run_sync()

    def teardown(self):
        """``make_harness`` closes the harnesses at the test's end."""

    @rule(
        word=words, day=days, hour=hours, location=locations, private=st.booleans(), invited=people
    )
    def add_remote(self, word, day, hour, location, private, invited):
        """An event made there, maybe private, with attendees."""
        if len(self.h.remote_events()) < self.most:
            self.h.add_remote(
                self.title(word),
                start=self.h.at(day, hour),
                location=location,
                sensitivity="private" if private else "normal",
                attendees=tuple((p.name, p.email) for p in invited),
            )


class UndoMachineContract:
    def test_undo_machine(self, make_harness):
        # run_state_machine_as_test, not @given: each example makes its own harness,
        # so no function-scoped fixture is shared between examples
        run_state_machine_as_test(
            lambda: E2EUndoMachine(make_harness),
            settings=settings(
                max_examples=8,
                stateful_step_count=10,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow],
            ),
        )
