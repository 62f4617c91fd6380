"""Benchmark: the sync history's cost, and what an undo costs (SPEC §9).

Run: uv run python -m tests.bench.bench_history [--events 5000] [--undo 1000] [--rounds 5]
Prints the figures the README quotes; asserts nothing on time.

- The journal on an initial sync of ``--events`` events from the memory
  service into a new Sales Calendar, each round once with the history and
  once without (the engine's run without its journal), alternating: the time
  and the file size (after a WAL checkpoint) side by side. The memory service
  answers at once, so the journal's share of a sync from a real service is
  smaller than here. The time twice: as the clock on the wall sees it (the
  goal's figure), and the syncing thread's own CPU time, which a busy machine
  stretches far less (the sync does all its work in that one thread here).
- An undo of a run that pushed ``--undo`` changed appointments: its requests
  against the run's own (goal: at most one listing more).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from calsync_desktop.accounts.base import Account
from calsync_desktop.model import new_id
from calsync_desktop.providers.base import Backoff
from calsync_desktop.providers.memory import MemoryCalendar, MemoryProvider
from calsync_desktop.store import Store
from calsync_desktop.store.journal import Journal
from calsync_desktop.sync.engine import SyncEngine
from calsync_desktop.sync.undo import Undo
from tests.bench.common import Figure, add_local_appointments, report

NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)


def clock() -> datetime:
    return NOW


class UnjournalledEngine(SyncEngine):
    """The same engine, its runs without a history: the floor of the journal's cost."""

    def new_run(self):
        run = super().new_run()
        run.journal = None
        return run


def remote_calendar(events: int) -> MemoryCalendar:
    calendar = MemoryCalendar(clock=clock)
    for i in range(events):
        start = NOW + timedelta(days=1 + i % 300, hours=7 + i % 10)
        calendar.add(
            subject=f"Visit {i}",
            body=f"Notes for visit {i}\nsecond line",
            location=f"Room {i % 40}",
            start=start,
            end=start + timedelta(hours=1),
            ical_uid=f"{i}@bench.example",
        )
    return calendar


def size_of(store: Store, path: Path) -> int:
    store.conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    store.conn.commit()
    return path.stat().st_size


def initial_sync(folder: Path, calendar: MemoryCalendar, engine_class) -> tuple[float, float, int]:
    """An initial sync into a new Sales Calendar: its seconds on the wall and in
    the thread's CPU, and the file's size after it."""
    path = folder / f"{new_id()}.sqlite3"
    store = Store.open(path, clock)
    account = store.add_account(Account(id=new_id(), kind="memory", name="Bench", email="me@x"))
    provider = MemoryProvider(calendar, Backoff(sleep=lambda s: None))
    started, cpu = time.perf_counter(), time.thread_time()
    result = engine_class(store, store.get_account(account.id), provider, clock=clock).run()
    seconds, cpu = time.perf_counter() - started, time.thread_time() - cpu
    assert not result.errors and sum(result.counts.values()) == len(calendar.events)
    size = size_of(store, path)
    store.close()
    store.engine.dispose()
    return seconds, cpu, size


def undo_cost(folder: Path, count: int) -> tuple[int, int, float]:
    """Requests of a run that pushes ``count`` edits, of its undo, and the undo's seconds."""
    store = Store.open(folder / "undo.sqlite3", clock)
    calendar = MemoryCalendar(clock=clock)
    provider = MemoryProvider(calendar, Backoff(sleep=lambda s: None))
    account = store.add_account(Account(id=new_id(), kind="memory", name="Bench", email="me@x"))
    add_local_appointments(store, NOW, count)
    engine = lambda: SyncEngine(store, store.get_account(account.id), provider, clock=clock)  # noqa: E731
    engine().run()
    engine().run()  # the echo of those creates
    with store.transaction():
        for local_id in store.all_status(account.id):
            a = store.get_appointment(local_id)
            store.update_appointment(a.with_changes(location="Moved"))
    before = calendar.requests
    result = engine().run()
    run_requests = calendar.requests - before
    assert result.counts == {"update": count}, result.counts
    run_id = Journal(store).runs(account.id)[0].id
    before = calendar.requests
    started = time.perf_counter()
    undone = Undo(store, store.get_account(account.id), provider, clock=clock).run(run_id)
    seconds = time.perf_counter() - started
    undo_requests = calendar.requests - before
    assert undone.counts == {"update": count} and not undone.left_alone, undone.counts
    assert {e.location for e in calendar.events.values()} != {"Moved"}
    store.close()
    return run_requests, undo_requests, seconds


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--undo", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="figures for python -m tests.bench")
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="calsync-bench-history-"))
    calendar = remote_calendar(args.events)
    times: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
    sizes = []
    for _ in range(args.rounds):
        for engine_class in (UnjournalledEngine, SyncEngine):
            seconds, cpu, size = initial_sync(folder, calendar, engine_class)
            journalled = engine_class is SyncEngine
            times[journalled].append((seconds, cpu))
            sizes.append((journalled, size))

    def extra(k: int) -> tuple[float, float, float, float, float]:
        """The median of the rounds' (with ÷ without − 1) in %, its min and max,
        and the median seconds with and without (k: 0 the wall, 1 the CPU)."""
        ratios = sorted(
            (a[k] / b[k] - 1) * 100 for a, b in zip(times[True], times[False], strict=True)
        )
        w, wo = (statistics.median(t[k] for t in times[j]) for j in (True, False))
        return statistics.median(ratios), ratios[0], ratios[-1], w, wo

    size_with = statistics.median(s for j, s in sizes if j)
    size_without = statistics.median(s for j, s in sizes if not j)
    extra_time, low, high, with_journal, without = extra(0)
    extra_cpu, cpu_low, cpu_high, cpu_with, cpu_without = extra(1)
    extra_size = (size_with / size_without - 1) * 100
    run_requests, undo_requests, undo_seconds = undo_cost(folder, args.undo)
    n = f"{args.events:,}"
    report(
        "history (memory service)",
        [
            Figure(
                f"journal: initial sync of {n}, time with ÷ without − 1",
                f"{extra_time:+.1f} % ({low:+.1f} to {high:+.1f}; {with_journal:.2f} s "
                f"against {without:.2f} s)",
                "≤ 10 %",
                extra_time <= 10,
            ),
            Figure(
                "journal: the same in the syncing thread's CPU time",
                f"{extra_cpu:+.1f} % ({cpu_low:+.1f} to {cpu_high:+.1f}; {cpu_with:.3f} s "
                f"against {cpu_without:.3f} s)",
            ),
            Figure(
                "journal: database size after it",
                f"{extra_size:+.1f} % ({size_with / 1e6:.1f} MB against "
                f"{size_without / 1e6:.1f} MB)",
                "≤ 30 %",
                extra_size <= 30,
            ),
            Figure(
                f"undo of a run that pushed {args.undo:,}: requests",
                f"{undo_requests} against the run's {run_requests} ({undo_seconds:.1f} s)",
                "≤ the run's + 1 listing",
                undo_requests <= run_requests + 1,
            ),
        ],
        args.json,
    )


if __name__ == "__main__":
    main()
