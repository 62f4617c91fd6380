"""A Hypothesis state machine for the sync history (SPEC §9): local and remote
creates, edits and deletions of a few appointments, syncs, and "undo a random
earlier run". For every journalled run it keeps both sides as they were
before and after the run, and which appointments were touched since (by an
edit or deletion on either side, or by a later run, an undo among them).
After each undo of a run:

- every appointment of the run untouched since is as it was before the run,
  on both sides (one deleted on one side before the run, whose deletion the
  run took to the other, comes back on both: ``UndoMachine.expected``);
- an appointment changed since the run (on a side, neither as the run left
  it nor as it was before it) is listed as left alone and is left as it is;
  nothing untouched is listed;
- nothing is duplicated;
- the next sync repeats nothing an undo put back;
- undoing an undo right after it returns both sides to the state after the
  run (``undo_twice``); an undo is a run like the others, so undoing it later
  is checked as above.

Over a real store (a SQLite file, and a team PostgreSQL database as a member)
and the memory calendar service; tests/sync/e2e_undo_machine.py runs it against
each test server.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import initialize, rule

from calsync_desktop.model import Participant, Recurrence
from calsync_desktop.store.journal import Journal
from calsync_desktop.sync.engine import Decision
from calsync_desktop.sync.history import Change

from .harness import assert_no_duplicates, both_sides, undo
from .machine import OnPostgres, StoreMachine

words = st.sampled_from(["Acme", "call", "demo", "Zürich", "pricing"])
locations = st.sampled_from(["", "Room 1", "HQ"])
days = st.integers(min_value=1, max_value=10)
hours = st.integers(min_value=7, max_value=18)
picks = st.integers(min_value=0, max_value=99)
people = st.lists(
    st.builds(
        Participant,
        st.sampled_from(["Ann", "Bob"]),
        st.sampled_from(["ann@example.com", "bob@example.com"]),
    ),
    max_size=2,
    unique_by=lambda p: p.email,
)


@dataclass
class Run:
    """A journalled run as the machine saw it: both sides before and after it
    (:func:`both_sides`), what its journal holds, and the keys (local and
    remote ids) of the appointments touched since."""

    before: tuple[dict, dict]
    after: tuple[dict, dict]
    changes: list[Change]
    undo: bool
    touched: set[str] = field(default_factory=set)

    def untouched(self) -> list[Change]:
        return [c for c in self.changes if not keys(c) & self.touched]


def keys(change: Change) -> set[str]:
    return {change.local_id, change.remote_id} - {None}


def sides_of(state: tuple[dict, dict], change: Change) -> tuple[dict | None, dict | None]:
    """An appointment's two-way fields in a state of :func:`both_sides`: here,
    there (an event is known by the local id it carries or is linked to, or
    by its remote id)."""
    local, remote = state
    there = next((remote[k] for k in (change.local_id, change.remote_id) if k in remote), None)
    return local.get(change.local_id), there


class UndoMachine(StoreMachine):
    #: at most this many appointments on a side: the mass-deletion guard stays quiet
    most = 8

    folder = "calsync-undo-machine-"

    @initialize()
    def setup(self):
        self.start()
        self.runs: dict[int, Run] = {}
        self.made = 0  # every title is new: an edit is never "saved as it was"
        self.deleted_as: dict[str, dict] = {}  # local id -> as the user deleted it

    # ------------------------------------------------------------------ helpers

    def title(self, word: str) -> str:
        self.clock.now += timedelta(minutes=1)  # each edit newer than the one before
        self.made += 1
        return f"{word} {self.made}"

    def appointments(self):
        return sorted(self.h.all_local(), key=lambda a: a.contents)

    def events(self):
        return sorted(self.h.remote_events(), key=lambda e: e.remote_id)

    def touch(self, *ids: str | None) -> None:
        """These appointments (local or remote ids) changed after every run so far."""
        ids = {i for i in ids if i}
        for run in self.runs.values():
            run.touched |= ids

    def touch_local(self, local_id: str) -> None:
        row = self.store.status_for(self.h.account.id, [local_id]).get(local_id)
        self.touch(local_id, row.remote_id if row else None)

    def touch_remote(self, remote_id: str) -> None:
        rows = self.store.status_for_remote(self.h.account.id, [remote_id])
        event = self.h.remote(remote_id)
        self.touch(
            remote_id,
            rows[remote_id].local_id if remote_id in rows else None,
            event.local_id if event else None,
        )

    def journalled(self, before: tuple[dict, dict], newest: int, undone: bool) -> int | None:
        """Record the run that just ran, when the history kept one; its number."""
        runs = [r for r in Journal(self.store).runs(self.h.account.id) if r.id > newest]
        if not runs:
            return None
        (record,) = runs
        assert record.state == "done" and (record.undoes is not None) == undone
        changes = [Change.from_entry(e) for e in Journal(self.store).entries(record.id)]
        # an undo's put-back appointments, untouched since, are left alone by every later sync
        for run in self.runs.values():
            if run.undo and not undone:
                repeated = {c.local_id for c in run.untouched()} & {c.local_id for c in changes}
                assert not repeated, ("a sync repeated what an undo put back", repeated)
        self.touch(*(k for c in changes for k in keys(c)))
        self.runs[record.id] = Run(before, both_sides(self.h), changes, undone)
        return record.id

    def expected(self, run: Run, change: Change) -> tuple[dict | None, dict | None]:
        """Both sides of an appointment after undoing ``run``: as they were before
        it. One deleted on one side before the run, whose deletion the run took
        to the other (neither side holds it after the run), comes back on both
        (issue 14's undo semantics: "events the run deleted are recreated and
        re-linked, once; appointments the run deleted locally come back";
        putting back only the side the run deleted would leave the deletion
        pending, and the next sync would repeat the run): deleted there, both
        as the Sales Calendar held it; deleted here, there as it was and here
        as the user deleted it (sync/undo.py: "the appointment comes back here
        as it was")."""
        here, there = sides_of(run.before, change)
        if sides_of(run.after, change) == (None, None):
            if here is None and there is not None:
                return self.deleted_as[change.local_id], there
            if there is None and here is not None:
                return here, here
        return here, there

    def newest(self) -> int:
        runs = Journal(self.store).runs(self.h.account.id)
        return runs[0].id if runs else 0

    # ------------------------------------------------------------------ local side

    @rule(
        word=words,
        day=days,
        hour=hours,
        location=locations,
        two_lines=st.booleans(),
        weekly=st.booleans(),
    )
    def add_local(self, word, day, hour, location, two_lines, weekly):
        if len(self.h.all_local()) >= self.most:
            return
        contents = self.title(word) + ("\nagenda: pricing" if two_lines else "")
        self.h.add_local(
            contents,
            start=self.h.at(day, hour),
            location=location,
            recurrence=Recurrence("FREQ=WEEKLY;COUNT=3") if weekly else None,
        )

    @rule(which=picks, word=words, location=locations)
    def edit_local(self, which, word, location):
        if items := self.appointments():
            a = items[which % len(items)]
            self.h.edit_local(a.id, contents=self.title(word), location=location)
            self.touch_local(a.id)

    @rule(which=picks, shift=st.integers(min_value=1, max_value=3))
    def move_local(self, which, shift):
        if items := self.appointments():
            a = items[which % len(items)]
            self.title("")
            delta = timedelta(hours=shift)
            self.h.edit_local(a.id, start=a.start + delta, end=a.end + delta)
            self.touch_local(a.id)

    @rule(which=picks, private=st.booleans(), invited=people)
    def set_private_and_participants_local(self, which, private, invited):
        if items := self.appointments():
            a = items[which % len(items)]
            self.title("")
            self.h.edit_local(a.id, private=private, participants=tuple(invited))
            self.touch_local(a.id)

    @rule(which=picks)
    def delete_local(self, which):
        if items := self.appointments():
            a = items[which % len(items)]
            self.touch_local(a.id)
            self.deleted_as[a.id] = both_sides(self.h)[0][a.id]
            self.store.delete_appointment(a.id)

    # ------------------------------------------------------------------ remote side

    @rule(
        word=words,
        day=days,
        hour=hours,
        location=locations,
        private=st.booleans(),
        daily=st.booleans(),
        invited=people,
    )
    def add_remote(self, word, day, hour, location, private, daily, invited):
        """An event made there: maybe private, a daily series, with attendees."""
        if len(self.h.remote_events()) < self.most:
            self.h.add_remote(
                self.title(word),
                start=self.h.at(day, hour),
                location=location,
                private=private,
                recurrence=Recurrence("FREQ=DAILY;COUNT=3") if daily else None,
                attendees=tuple(invited),
            )

    @rule(which=picks, private=st.booleans())
    def set_private_remote(self, which, private):
        if items := self.events():
            e = items[which % len(items)]
            self.title("")
            self.h.edit_remote(e.remote_id, private=private)
            self.touch_remote(e.remote_id)

    @rule(which=picks, word=words, location=locations)
    def edit_remote(self, which, word, location):
        if items := self.events():
            e = items[which % len(items)]
            self.h.edit_remote(e.remote_id, subject=self.title(word), body="", location=location)
            self.touch_remote(e.remote_id)

    @rule(which=picks, shift=st.integers(min_value=1, max_value=3))
    def move_remote(self, which, shift):
        if items := self.events():
            e = items[which % len(items)]
            self.title("")
            delta = timedelta(hours=shift)
            self.h.edit_remote(e.remote_id, start=e.start + delta, end=e.end + delta)
            self.touch_remote(e.remote_id)

    @rule(which=picks)
    def delete_remote(self, which):
        if items := self.events():
            e = items[which % len(items)]
            self.touch_remote(e.remote_id)
            self.h.delete_remote(e.remote_id)

    # ------------------------------------------------------------------ sync and undo

    @rule()
    def sync(self) -> None:
        self.run_sync()

    def run_sync(self) -> int | None:
        """A sync; its number when the history keeps it."""
        self.clock.now += timedelta(minutes=1)
        before, newest = both_sides(self.h), self.newest()
        result = self.h.sync()
        assert not result.errors and not result.stopped, result
        assert_no_duplicates(self.h)
        return self.journalled(before, newest, undone=False)

    def undoable(self) -> list[int]:
        return [
            r.id
            for r in reversed(Journal(self.store).runs(self.h.account.id))
            if r.undone_by is None and r.state == "done"
        ]

    @rule(which=picks, then_sync=st.booleans())
    def undo_a_run(self, which, then_sync):
        """Undo a run; maybe sync at once (which must not repeat what was undone)."""
        if runs := self.undoable():
            self.undo(runs[which % len(runs)])
            if then_sync:
                self.run_sync()

    @rule(which=picks, item=picks, here=st.booleans(), word=words)
    def edit_since_then_undo(self, which, item, here, word):
        """One appointment of an earlier run edited on one side, then that run undone."""
        if not (runs := self.undoable()) or not (
            changes := self.runs[runs[which % len(runs)]].changes
        ):
            return
        run_id = runs[which % len(runs)]
        change = changes[item % len(changes)]
        if here and self.store.get_appointment(change.local_id) is not None:
            self.h.edit_local(change.local_id, contents=self.title(word))
            self.touch_local(change.local_id)
        elif (event := self.h.remote_for(change.local_id)) is not None:
            self.h.edit_remote(event.remote_id, subject=self.title(word), body="")
            self.touch_remote(event.remote_id)
        self.undo(run_id)

    @rule()
    def undo_twice(self):
        """A sync, its undo, and the undo's undo: both sides as the sync left them."""
        run_id = self.run_sync()
        if run_id is None:
            return
        after = both_sides(self.h)
        undone = self.undo(run_id)
        if undone is not None:
            self.undo(undone)
        assert both_sides(self.h) == after, "undoing the undo did not bring the run back"

    def undo(self, run_id: int) -> int | None:
        """Undo run ``run_id`` and check what it put back and left alone; the undo's number."""
        self.clock.now += timedelta(minutes=1)
        run = self.runs[run_id]
        before, newest = both_sides(self.h), self.newest()
        result = undo(self.h, run_id, decision=Decision.APPLY)
        assert not result.errors and not result.stopped, result
        now = both_sides(self.h)
        left_alone = {i.change.local_id for i in result.left_alone}
        untouched = run.untouched()
        for change in untouched:
            assert sides_of(now, change) == self.expected(run, change), (
                "not as before the run",
                change,
            )
        assert not left_alone & {c.local_id for c in untouched}, "untouched, yet left alone"
        for change in run.changes:
            current = sides_of(before, change)
            left, was = sides_of(run.after, change), self.expected(run, change)
            if any(current[s] not in (left[s], was[s]) for s in (0, 1)):
                assert change.local_id in left_alone, ("changed since, not listed", change)
                assert sides_of(now, change) == current, ("changed since, yet undone", change)
        assert_no_duplicates(self.h, synced=False)
        return self.journalled(before, newest, undone=True)


TestUndoMachine = UndoMachine.TestCase
TestUndoMachine.settings = settings(
    max_examples=40,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


class PostgresUndoMachine(OnPostgres, UndoMachine):
    """The same machine over a team PostgreSQL database, as a member, opened as
    the sync machine opens its own."""


@pytest.fixture
def pg_machine(pg_cluster):
    PostgresUndoMachine.cluster = pg_cluster


TestUndoMachinePostgres = pytest.mark.usefixtures("pg_machine")(PostgresUndoMachine.TestCase)
TestUndoMachinePostgres.settings = settings(
    max_examples=20,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
