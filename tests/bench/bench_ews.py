"""Exchange benchmark against the EWS test server (run: uv run python -m tests.bench.bench_ews).

In one run, through SyncEngine, ExchangeProvider and exchangelib over real HTTP
(schema validation on, so the figures include the server's own checking):

1. initial sync of 5,000 remote appointments into an empty Sales Calendar:
   wall time and HTTP requests;
2. 1,000 new local appointments pushed: at most 10 CreateItem requests;
3. a sync with nothing changed: exactly 1 request.
"""

from __future__ import annotations

import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta

from calsync_desktop.accounts.base import Account, MemorySecrets
from calsync_desktop.model import Appointment, new_id
from calsync_desktop.providers.base import Backoff
from calsync_desktop.providers.ews import ConnectionSettings, ExchangeProvider
from calsync_desktop.services import Services
from calsync_desktop.sync.engine import SyncEngine
from tests.fakes.ews_server import EwsServer

REMOTE = 5_000
LOCAL = 1_000


def main() -> int:
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    server = EwsServer()
    server.start()
    home = tempfile.TemporaryDirectory(prefix="calsync-bench-")
    services = Services.create(home=home.name, secrets=MemorySecrets(), env={})
    ok = True
    try:
        for i in range(REMOTE):
            start = now + timedelta(days=1 + i % 300, hours=i % 9)
            server.add_event(
                f"Customer visit {i}", start, start + timedelta(hours=1), location="Site"
            )
        settings: dict = {}

        def provider() -> ExchangeProvider:
            connection = ConnectionSettings(server.url, "alice", "secret", "alice@example.com")
            return ExchangeProvider(connection, settings=settings, backoff=Backoff())

        account = services.store.add_account(
            Account(id=str(uuid.uuid4()), kind="exchange", name="Bench", email="alice@example.com")
        )

        def sync():
            p = provider()
            try:
                return SyncEngine(
                    services.store, services.store.get_account(account.id), p, confirm=None
                ).run()
            finally:
                p.close()

        before, ops = server.count_requests(), dict(server.operations)
        t0 = time.perf_counter()
        result = sync()
        initial = time.perf_counter() - t0
        requests = server.count_requests() - before
        print(f"initial sync of {REMOTE:,} items: {initial:.1f} s, {requests} HTTP requests")
        print("  by operation:", _delta(ops, server.operations))
        print("  result:", result.describe())

        for i in range(LOCAL):
            start = now + timedelta(days=2 + i % 200, hours=10)
            services.store.add_appointment(
                Appointment(
                    id=new_id(),
                    contents=f"Pushed {i}",
                    start=start,
                    end=start + timedelta(hours=1),
                    timezone="Europe/Berlin",
                )
            )
        before, ops = server.count_requests(), dict(server.operations)
        t0 = time.perf_counter()
        result = sync()
        push = time.perf_counter() - t0
        creates = server.operations["CreateItem"] - ops.get("CreateItem", 0)
        print(
            f"{LOCAL:,} local appointments pushed: {push:.1f} s, {creates} CreateItem requests, "
            f"{server.count_requests() - before} HTTP requests in all"
        )
        print("  by operation:", _delta(ops, server.operations))
        print("  result:", result.describe())
        ok &= creates <= 10

        sync()  # the state now includes our own creates
        before = server.count_requests()
        t0 = time.perf_counter()
        result = sync()
        idle = time.perf_counter() - t0
        idle_requests = server.count_requests() - before
        print(f"nothing-changed sync: {idle * 1000:.0f} ms, {idle_requests} HTTP request(s)")
        ok &= idle_requests == 1
        ok &= not server.validation_errors and not server.server_errors
        if server.validation_errors or server.server_errors:
            print("server problems:", server.validation_errors[:3], server.server_errors[:3])
        print(
            "test server time per operation (s):",
            {k: round(v, 1) for k, v in server.busy_seconds.items()},
        )
    finally:
        services.store.close()
        server.stop()
        home.cleanup()
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


def _delta(before: dict, after) -> dict:
    return {k: v - before.get(k, 0) for k, v in after.items() if v - before.get(k, 0)}


if __name__ == "__main__":
    sys.exit(main())
