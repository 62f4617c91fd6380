"""Benchmark: planning a sync of 10,000 in-scope appointments.

Run: uv run python -m tests.bench.bench_engine
Prints the figures the README quotes; asserts nothing on time.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from calsync_desktop.accounts.base import Account
from calsync_desktop.model import Appointment, new_id
from calsync_desktop.providers.base import Backoff
from calsync_desktop.providers.memory import MemoryCalendar, MemoryProvider
from calsync_desktop.store import Store
from calsync_desktop.sync.engine import SyncEngine, SyncResult
from tests.bench.common import Figure, report, rss_mb

N = 10_000


def timed(fn, repeat=7):
    runs = []
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - t0) * 1000)
    return statistics.median(runs), min(runs)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="figures for python -m tests.bench")
    args = parser.parse_args(argv)
    now = datetime(2026, 11, 23, 9, tzinfo=UTC)
    clock = lambda: now  # noqa: E731
    folder = Path(tempfile.mkdtemp(prefix="calsync-bench-"))
    store = Store.open(folder / "cal.sqlite3", clock)
    baseline = rss_mb()  # the interpreter with everything loaded (creating the store loads Alembic)
    calendar = MemoryCalendar(clock=clock)
    provider = MemoryProvider(calendar, Backoff(sleep=lambda s: None))
    account = store.add_account(Account(id=new_id(), kind="memory", name="Bench", email="me@x"))

    t0 = time.perf_counter()
    with store.transaction():
        for i in range(N):
            start = now + timedelta(days=i % 300 - 20, hours=i % 9)
            store.add_appointment(
                Appointment(
                    new_id(),
                    f"Visit {i}\nnotes",
                    start,
                    start + timedelta(hours=1),
                    "Europe/Berlin",
                    location=f"Room {i % 50}",
                )
            )
    fill = time.perf_counter() - t0
    t0 = time.perf_counter()
    SyncEngine(store, store.get_account(account.id), provider, clock=clock).run()
    first = time.perf_counter() - t0
    # the next incremental listing echoes our own 10,000 writes once, as real services do
    t0 = time.perf_counter()
    SyncEngine(store, store.get_account(account.id), provider, clock=clock).run()
    echo = time.perf_counter() - t0
    assert len(calendar.events) == N
    gc.collect()
    memory = rss_mb() - baseline

    engine = lambda: SyncEngine(store, store.get_account(account.id), provider, clock=clock)  # noqa: E731
    idle_median, idle_min = timed(lambda: engine().plan())

    # 1 % changed on each side, re-made before every timed plan
    ids = list(store.all_status(account.id))

    def change_both():
        for k, local_id in enumerate(ids[: N // 100]):
            a = store.get_appointment(local_id)
            store.update_appointment(a.with_changes(location=f"moved {time.time()} {k}"))
        for remote_id in list(calendar.events)[-N // 100 :]:
            calendar.edit(remote_id, subject=f"edited {time.time()}")

    runs = []
    for _ in range(5):
        change_both()
        e = engine()
        gc.collect()
        t0 = time.perf_counter()
        plan = e.plan()
        runs.append((time.perf_counter() - t0) * 1000)
        assert len(plan.actions) >= 2 * (N // 100) - 5
        e.apply(plan, SyncResult())
    busy_median = statistics.median(runs)

    n = f"{N:,}"
    report(
        "engine (memory service)",
        [
            Figure(f"fill the Sales Calendar with {n}", f"{fill:.1f} s"),
            Figure(f"first sync of {n} into the memory service", f"{first:.1f} s"),
            Figure("next sync, absorbing the echo of those writes", f"{echo:.2f} s"),
            Figure(
                f"plan, {n} in scope, nothing changed",
                f"{idle_median:.1f} ms (min {idle_min:.1f})",
                "< 50 ms",
                idle_median < 50,
            ),
            Figure(
                "plan, 1 % changed on each side",
                f"{busy_median:.1f} ms",
                "< 200 ms",
                busy_median < 200,
            ),
            Figure(
                f"memory for the {n} (over the interpreter)",
                f"{memory:.0f} MB",
                "< 100 MB",
                memory < 100,
            ),
        ],
        args.json,
    )
    store.close()


if __name__ == "__main__":
    main()
