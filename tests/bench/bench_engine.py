"""Benchmark: planning a sync of 10,000 in-scope appointments.

Run: uv run python -m tests.bench.bench_engine
Prints the figures the README quotes; asserts nothing.
"""

from __future__ import annotations

import gc
import resource
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

N = 10_000


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(fn, repeat=7):
    runs = []
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - t0) * 1000)
    return statistics.median(runs), min(runs)


def main() -> None:
    baseline = rss_mb()
    now = datetime(2026, 11, 23, 9, tzinfo=UTC)
    clock = lambda: now  # noqa: E731
    folder = Path(tempfile.mkdtemp(prefix="calsync-bench-"))
    store = Store.open(folder / "cal.sqlite3", clock)
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

    print(f"appointments: {N:,}")
    print(
        f"fill store: {fill:.1f} s; first sync (memory service): {first:.1f} s; "
        f"next sync absorbing the echo of our writes: {echo:.2f} s"
    )
    print(f"plan, nothing changed: median {idle_median:.1f} ms (min {idle_min:.1f} ms)")
    print(f"plan, 1 % changed on each side: median {busy_median:.1f} ms")
    print(f"memory over interpreter baseline after the first sync: {memory:.0f} MB")
    store.close()


if __name__ == "__main__":
    main()
