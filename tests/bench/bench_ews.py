"""Benchmark: calsync against the EWS test server (exchangelib, real HTTP), side by side.

    uv run python -m tests.bench.bench_ews [--events 5000] [--push 1000] [--repeat 2]

Each round measures, one after the other: exchangelib's own paging of the
same items (``Folder.sync_items`` with the fields the listing needs, then
``Account.fetch`` of the same fields calsync reads, in chunks of 100);
calsync's initial sync of them into a new Sales Calendar (SyncEngine,
ExchangeProvider, the SQLite store); and plain sqlite3 ``executemany``
inserting the rows that sync wrote into an empty file of the same schema.
The goal is the ratio initial sync ÷ (exchangelib's paging + plain insert),
taken within each round. Then, once: pushing new appointments (at most 10
CreateItem requests for 1,000) and a sync with nothing changed (exactly 1
request). The test server validates every request and answer against
Microsoft's schemas, so its own time is part of both sides.
"""

from __future__ import annotations

import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from exchangelib import BASIC, DELEGATE, Account, Configuration, Credentials
from exchangelib.properties import ItemId

from calsync_desktop.accounts.base import Account as CalsyncAccount
from calsync_desktop.providers.base import Backoff
from calsync_desktop.providers.ews import (
    BATCH,
    ITEM_FIELDS,
    SYNC_PAGE,
    ConnectionSettings,
    ExchangeProvider,
    register_local_id_property,
)
from calsync_desktop.store import Store
from tests.bench.common import (
    Figure,
    bench_main,
    initial_sync_into,
    push_echo_idle,
    ratio_figures,
    side_by_side,
    sync_figure,
)
from tests.fakes.ews_server import EwsServer

OWNER = "alice@example.com"


def seed(server: EwsServer, count: int, now: datetime) -> None:
    zones = ("Europe/Berlin", "America/New_York", "UTC", "Asia/Tokyo")
    for i in range(count):
        start = now + timedelta(days=1 + i % 300, hours=i % 9)
        server.add_event(
            f"Customer visit {i}",
            start,
            start + timedelta(hours=1),
            body=f"Agenda for visit {i}\nPrices, samples, next steps.",
            location=f"Office {i % 50}",
            timezone=zones[i % len(zones)],
            attendees=(("Buyer", f"buyer{i % 97}@customer.example"),),
        )


def bare_account(server: EwsServer) -> Account:
    config = Configuration(
        service_endpoint=server.url,
        credentials=Credentials("alice", "secret"),
        auth_type=BASIC,
    )
    account = Account(OWNER, config=config, autodiscover=False, access_type=DELEGATE)
    account.version  # noqa: B018 — the version probe, out of the measurement
    return account


def bare_listing(server: EwsServer) -> tuple[float, int]:
    """exchangelib alone: sync the calendar's items, then fetch them whole."""
    register_local_id_property()  # the same fields calsync reads, its own included
    account = bare_account(server)
    folder = account.calendar
    started = time.perf_counter()
    ids = [
        item.id
        for _change, item in folder.sync_items(
            only_fields=["start", "end", "type"], max_changes_returned=SYNC_PAGE
        )
    ]
    items = list(  # kept, as any client that lists events keeps them
        account.fetch(
            ids=[ItemId(i) for i in ids], folder=folder, only_fields=ITEM_FIELDS, chunk_size=BATCH
        )
    )
    seconds = time.perf_counter() - started
    account.protocol.close()
    return seconds, len(items)


def run(events: int, push: int, repeat: int) -> dict:
    """The rounds side by side (see the module's docstring), then push, echo, idle."""
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    server = EwsServer()
    server.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            seed(server, events, now)
            settings: dict = {}

            def provider() -> ExchangeProvider:
                connection = ConnectionSettings(server.url, "alice", "secret", OWNER)
                p = ExchangeProvider(connection, settings=settings, backoff=Backoff())
                p.check_access()  # the first contact, out of the measurement
                return p

            def new_store(path: Path) -> tuple[Store, str]:
                store = Store.open(path)
                account = store.add_account(
                    CalsyncAccount(id=str(uuid.uuid4()), kind="exchange", name="Work", email=OWNER)
                )
                return store, account.id

            def bare() -> float:
                seconds, count = bare_listing(server)
                assert count == events, count
                return seconds

            initial_sync = initial_sync_into(new_store, provider, server.count_requests, events)
            # each side connects afresh and probes outside its measurement: no warm-up
            rounds = side_by_side(folder, repeat, bare, initial_sync, warm_up=False)

            after = push_echo_idle(
                folder / "push.sqlite3",
                new_store,
                provider,
                server.count_requests,
                now,
                push,
                lambda: server.operations["CreateItem"],
            )
            problems = server.validation_errors[:3] + server.server_errors[:3]
            assert not problems, problems
    finally:
        server.stop()
    return {"events": events, "rounds": rounds, **after}


def figures(f: dict) -> list[Figure]:
    limit = -(-f["push"] // BATCH)
    return [
        *ratio_figures(f["rounds"], f["events"], "exchangelib's own paging"),
        Figure("initial sync: HTTP requests", f"{max(f['rounds'].requests)}"),
        Figure(
            f"push {f['push']:,} new appointments: CreateItem requests",
            f"{f['writes']} ({f['pushed'].requests} requests in all, {f['pushed'].seconds:.2f} s)",
            f"≤ {limit}",
            f["writes"] <= limit,
        ),
        sync_figure("next sync (own writes listed back)", f["echo"]),
        sync_figure("sync with nothing changed", f["idle"], most=1),
    ]


def main(argv: list[str] | None = None) -> None:
    bench_main(argv, __doc__, "Exchange", run, figures, events=5000, push=1000, repeat=2)


if __name__ == "__main__":
    main()
