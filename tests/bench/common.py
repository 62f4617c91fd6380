"""What the provider benchmarks share: timing one sync run, and local appointments to push."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from calsync_desktop.model import Appointment, new_id
from calsync_desktop.store import Store
from calsync_desktop.sync.engine import SyncEngine, SyncResult


@dataclass(frozen=True)
class Measured:
    """One sync run: its wall time, the HTTP requests the server saw, its result."""

    seconds: float
    requests: int
    result: SyncResult


def measured_sync(
    store: Store, account_id: str, provider, count_requests: Callable[[], int]
) -> Measured:
    """Run one sync of ``account_id`` and measure it."""
    before = count_requests()
    started = time.perf_counter()
    result = SyncEngine(store, store.get_account(account_id), provider).run()
    seconds = time.perf_counter() - started
    return Measured(seconds, count_requests() - before, result)


def add_local_appointments(store: Store, now: datetime, count: int) -> None:
    """``count`` new appointments spread over the next months, to push."""
    for i in range(count):
        start = now + timedelta(days=1 + i % 300, hours=7 + i % 10)
        store.add_appointment(
            Appointment(
                id=new_id(),
                contents=f"New appointment {i}\nfrom the Sales Calendar",
                start=start,
                end=start + timedelta(minutes=45),
                timezone="Europe/Berlin",
            )
        )
