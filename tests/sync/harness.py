"""A Sales Calendar (real SQLite) and a memory calendar service, linked by one account."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from calsync_desktop.accounts.base import Account
from calsync_desktop.model import Appointment, new_id
from calsync_desktop.providers.base import Backoff, CalendarProvider, Create
from calsync_desktop.providers.memory import MemoryCalendar, MemoryProvider
from calsync_desktop.store import Store
from calsync_desktop.store.journal import Journal, RunRecord
from calsync_desktop.sync import mapping as m
from calsync_desktop.sync.engine import Decision, SyncEngine, SyncResult
from calsync_desktop.sync.undo import Undo, UndoPlan, UndoResult


class Crash(BaseException):
    """The process dies here (not an Exception: nothing may catch it)."""


class CrashAfterWrite:
    """Mix into a provider: when ``crash_after_write`` is set, the next write reaches
    the service and then the process dies before the answer is used. With
    ``crash_after_written`` set to N, the process dies right after the call
    with which N writes in all have reached the service (``writes_sent``
    counts them; ``last_call`` is how many the fatal call carried)."""

    crash_after_write = False
    crash_after_written: int | None = None
    writes_sent = 0
    last_call = 0

    def write(self, writes):
        results = super().write(writes)
        self.writes_sent += len(writes)
        self.last_call = len(writes)
        if self.crash_after_written is not None and self.writes_sent >= self.crash_after_written:
            self.crash_after_written = None
            raise Crash()
        if self.crash_after_write:
            self.crash_after_write = False
            raise Crash()
        return results


class CrashingProvider(CrashAfterWrite, MemoryProvider):
    """Writes reach the service, then the process dies before the answer is used."""


class EngineHarness:
    """The Sales Calendar side of a sync test: one account in a real store, the
    engine over ``self.provider`` and the local helpers every test uses.

    A subclass sets ``store``, ``clock`` and ``provider`` and calls
    :meth:`add_test_account`; it adds the remote side.
    """

    store: Store
    clock: Callable[[], datetime]
    provider: CalendarProvider
    account: Account

    def add_test_account(self, kind: str, name: str, email: str, sync_all_private: bool) -> None:
        self.account = self.store.add_account(
            Account(
                id=str(uuid.uuid4()),
                kind=kind,
                name=name,
                email=email,
                sync_all_private=sync_all_private,
            )
        )
        self.decision = Decision.STOP
        self.guards = []
        self.progress = []

    def engine(self) -> SyncEngine:
        account = self.store.get_account(self.account.id)

        def confirm(guard):
            self.guards.append(guard)
            return self.decision

        return SyncEngine(
            self.store,
            account,
            self.provider,
            clock=self.clock,
            progress=lambda d, t, msg: self.progress.append((d, t, msg)),
            confirm=confirm,
        )

    def sync(self) -> SyncResult:
        return self.engine().run()

    # -- local side
    def add_local(self, contents="Meeting with Acme", start=None, hours=1, **kw) -> Appointment:
        start = start or self.clock() + timedelta(days=1)
        return self.store.add_appointment(
            Appointment(
                id=new_id(),
                contents=contents,
                start=start,
                end=start + timedelta(hours=hours),
                timezone=kw.pop("timezone", "Europe/Berlin"),
                **kw,
            )
        )

    def edit_local(self, appointment_id, **changes) -> Appointment:
        current = self.store.get_appointment(appointment_id)
        return self.store.update_appointment(current.with_changes(**changes))

    def local(self, appointment_id) -> Appointment | None:
        return self.store.get_appointment(appointment_id)

    def all_local(self) -> list[Appointment]:
        far = timedelta(days=3650)
        return self.store.appointments_between(self.clock() - far, self.clock() + far)

    def local_for(self, remote_id) -> Appointment | None:
        rows = self.store.status_for_remote(self.account.id, [remote_id])
        return self.local(rows[remote_id].local_id) if remote_id in rows else None

    def at(self, days: float, hour: int = 10) -> datetime:
        return (self.clock() + timedelta(days=days)).replace(hour=hour, minute=0)


class Harness(EngineHarness):
    """A Sales Calendar (real SQLite) and a memory calendar service, linked by one account."""

    def __init__(self, store, clock, email="me@example.com", sync_all_private=False):
        self.store = store
        self.clock = clock
        self.calendar = MemoryCalendar(email, clock=clock)
        self.backoff = Backoff(sleep=lambda _s: None)
        self.provider = CrashingProvider(self.calendar, self.backoff)
        self._record_batches()
        self.add_test_account("memory", "Work calendar", email, sync_all_private)

    # -- remote side
    def _record_batches(self) -> None:
        """Every write request the service answers goes into ``batches`` (its
        writes and results); a kill set with :meth:`kill_after_events` or
        :meth:`kill_after_writes` happens at the end of the request that
        reaches the number, after the service has applied it."""
        original = self.calendar.write_batch
        self.batches: list[tuple[list, list]] = []
        self._kill: tuple[str, int] | None = None

        def write_batch(writes):
            results = original(writes)
            self.batches.append((list(writes), results))
            if self._kill is not None:
                what, left = self._kill
                if what == "events":
                    left -= sum(1 for r in results if r.ok and isinstance(r.write, Create))
                else:
                    left -= len(writes)
                self._kill = (what, left)
                if left <= 0:
                    self._kill = None
                    raise Crash()
            return results

        self.calendar.write_batch = write_batch

    def kill_after_events(self, n: int) -> None:
        """The process dies as soon as the service has stored ``n`` new events."""
        self._kill = ("events", n)

    def kill_after_writes(self, n: int) -> None:
        """The process dies as soon as ``n`` more writes have reached the service."""
        self._kill = ("writes", n)

    @property
    def kill_pending(self) -> bool:
        return self._kill is not None

    def add_remote(self, subject="Call with Globex", start=None, hours=1, **kw):
        start = start or self.clock() + timedelta(days=2)
        kw.setdefault("ical_uid", f"{uuid.uuid4()}@other-client.example")  # as every service gives
        return self.calendar.add(
            subject=subject,
            start=start,
            end=start + timedelta(hours=hours),
            timezone=kw.pop("timezone", "UTC"),
            **kw,
        )

    def remote_events(self) -> list:
        """Every event the service holds, as :class:`RemoteEvent`."""
        return list(self.calendar.events.values())

    def remote(self, remote_id):
        return self.calendar.events.get(remote_id)

    def edit_remote(self, remote_id, **changes) -> None:
        """Another client changes an event (``subject``, ``body``, ``location``,
        ``start``, ``end``, ``private``: the words of tests/fakes/kit/remote.py)."""
        self.calendar.edit(remote_id, **changes)

    def delete_remote(self, remote_id) -> None:
        self.calendar.remove(remote_id)

    def remote_for(self, local_id):
        for event in self.calendar.events.values():
            if event.local_id == local_id:
                return event
        row = self.store.status_for(self.account.id, [local_id]).get(local_id)
        if row is not None:
            return self.calendar.events.get(row.remote_id)
        return None


# --------------------------------------------------------------------------- history


def undo(h, run_id=None, decision=Decision.STOP, dry_run=False) -> UndoPlan | UndoResult:
    """Undo run ``run_id`` (the last one by default), the guard answered ``decision``."""
    account = h.store.get_account(h.account.id)
    u = Undo(h.store, account, h.provider, clock=h.clock, confirm=lambda guard: decision)
    plan = u.plan(run_id if run_id is not None else last_run(h).id)
    return plan if dry_run else u.apply(plan)


def last_run(h) -> RunRecord:
    return Journal(h.store).runs(h.account.id)[0]


def both_sides(h) -> tuple[dict, dict]:
    """The two-way fields of every appointment and every event, by local id
    (the events as ``h.remote_events()`` reads them: the memory service's own,
    or a test server's through the product's provider)."""
    local = {a.id: m.stored_form(m.local_fields(a)) for a in h.all_local()}
    events = h.remote_events()
    linked = {
        rid: row.local_id
        for rid, row in h.store.status_for_remote(
            h.account.id, [e.remote_id for e in events]
        ).items()
        if row.local_id in local  # (an event whose import was undone keeps its link)
    }
    remote = {
        (e.local_id or linked.get(e.remote_id, e.remote_id)): (
            m.stored_form(m.remote_fields(e, h.account.email))
        )
        for e in events
    }
    drop = ("statuses",)

    def two_way(fields):
        return {k: v for k, v in fields.to_json().items() if k not in drop}

    return {k: two_way(v) for k, v in local.items()}, {k: two_way(v) for k, v in remote.items()}


def assert_no_duplicates(h, synced: bool = True) -> None:
    """One event per appointment (linked, or carrying its id), one appointment
    per event; ``synced``: every link's event exists (no deletion made there
    is still to sync)."""
    links = h.store.all_status(h.account.id)
    events = h.remote_events()
    owners: dict[str, set[str]] = {}
    for e in events:
        ids = {e.local_id} if e.local_id else set()
        ids |= {lid for lid, r in links.items() if r.remote_id == e.remote_id}
        assert len(ids) <= 1, e
        for lid in ids:
            owners.setdefault(lid, set()).add(e.remote_id)
    assert all(len(events) == 1 for events in owners.values()), owners
    if synced:
        assert {r.remote_id for r in links.values()} <= {e.remote_id for e in events}


def engine_fixtures():
    """The ``services`` and ``h`` fixtures of a module of engine rules: each test
    runs on a SQLite file and on a team PostgreSQL database
    (``engine_services``), with a :class:`Harness` on that Sales Calendar as
    ``h``. Use: ``services, h = engine_fixtures()``."""
    import pytest

    @pytest.fixture
    def services(engine_services):
        return engine_services

    @pytest.fixture
    def h(store, clock):
        return Harness(store, clock)

    return services, h
