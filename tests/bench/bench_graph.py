"""Benchmark: calsync against the Graph test server (HTTPS, real MSAL), side by side.

    uv run python -m tests.bench.bench_graph [--events 5000] [--push 1000] [--repeat 3]

Each round measures, one after the other: plain ``requests`` paging through
``calendarView/delta`` over the sync window (the pages kept, as any client
keeps them); calsync's initial sync of the same events into a new Sales
Calendar (SyncEngine, GraphProvider, the SQLite store); plain sqlite3
``executemany`` inserting the rows that sync wrote into an empty file of the
same schema; and the provider's listing alone. The goal is the ratio initial
sync ÷ (bare delta paging + plain insert), taken within each round. Then,
once: pushing new appointments (``$batch`` requests), the next sync, which
sees the echo of those writes, and a sync with nothing changed. Request
counts do not vary and are checked; times are figures only.
"""

from __future__ import annotations

import math
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests

from calsync_desktop.accounts.base import Account
from calsync_desktop.accounts.office365 import MsalSession
from calsync_desktop.providers.base import Backoff
from calsync_desktop.providers.graph import BATCH_SIZE, PAGE_SIZE, GraphProvider
from calsync_desktop.store import Store
from calsync_desktop.sync.scope import Scope
from tests.bench.common import (
    Figure,
    bench_main,
    initial_sync_into,
    pages_figure,
    push_echo_idle,
    ratio_figures,
    side_by_side,
    sync_figure,
)
from tests.fakes.graph_server import GraphServer

OWNER = "sam@contoso.example"
SCOPES = ["https://graph.microsoft.com/Calendars.ReadWrite"]


def sign_in(server: GraphServer) -> MsalSession:
    """A signed-in MSAL session: the device code flow against the server."""
    config = {
        "graph_endpoint": server.graph_url,
        "authority": server.authority,
        "ca_bundle": str(server.ca_bundle),
        "client_id": server.client_id,
    }
    first = MsalSession(config)
    flow = first.app.initiate_device_flow(scopes=SCOPES)
    if not server.device_login(flow["user_code"]):
        raise RuntimeError("the test server refused the device code")
    result = first.app.acquire_token_by_device_flow(flow)
    if "access_token" not in result:
        raise RuntimeError(result.get("error"))
    return MsalSession(config, first.cache.serialize())


def seed(server: GraphServer, count: int, now: datetime) -> None:
    zones = ("W. Europe Standard Time", "Eastern Standard Time", "UTC", "Tokyo Standard Time")
    for i in range(count):
        start = now + timedelta(days=i % 365, hours=8 + i % 9)
        server.add_event(
            subject=f"Customer visit {i}",
            body={"contentType": "html", "content": f"<p>Agenda for visit {i}</p><p>Prices</p>"},
            location={"displayName": f"Office {i % 50}"},
            start={"dateTime": f"{start:%Y-%m-%dT%H:%M:%S}", "timeZone": "UTC"},
            end={"dateTime": f"{start + timedelta(hours=1):%Y-%m-%dT%H:%M:%S}", "timeZone": "UTC"},
            attendees=[{"emailAddress": {"address": f"buyer{i % 97}@customer.example"}}],
        )
        # the zone Outlook reports for the event
        server.state.events[list(server.state.events)[-1]]["originalStartTimeZone"] = zones[i % 4]


def bare_listing(server: GraphServer, window, token: str) -> tuple[float, int]:
    """Plain requests paging through calendarView/delta: the floor for a full listing."""
    session = requests.Session()
    headers = {"Authorization": "Bearer " + token, "Prefer": f"odata.maxpagesize={PAGE_SIZE}"}
    started = time.perf_counter()
    url = f"{server.graph_url}/me/calendar/calendarView/delta"
    params: dict | None = {
        "startDateTime": f"{window.start:%Y-%m-%dT%H:%M:%SZ}",
        "endDateTime": f"{window.end:%Y-%m-%dT%H:%M:%SZ}",
    }
    items: list[dict] = []  # kept, as any client that lists events keeps them
    while url:
        page = session.get(
            url, params=params, headers=headers, verify=str(server.ca_bundle), timeout=60
        ).json()
        items.extend(page["value"])
        url, params = page.get("@odata.nextLink"), None
    seconds = time.perf_counter() - started
    session.close()
    return seconds, len(items)


def run(events: int, push: int, repeat: int) -> dict:
    """The rounds side by side (see the module's docstring), then push, echo, idle."""
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    server = GraphServer().start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            seed(server, events, now)
            window = Scope(now).window
            session = sign_in(server)

            def provider() -> GraphProvider:
                p = GraphProvider(
                    session.token,
                    endpoint=server.graph_url,
                    ca_bundle=str(server.ca_bundle),
                    backoff=Backoff(sleep=lambda _s: None),
                )
                p.account_email()  # the token and TLS set-up out of the measurement
                return p

            def new_store(path: Path) -> tuple[Store, str]:
                store = Store.open(path)
                account = store.add_account(
                    Account(id=str(uuid.uuid4()), kind="office365", name="Office 365", email=OWNER)
                )
                return store, account.id

            def bare() -> float:
                seconds, count = bare_listing(server, window, session.token())
                assert count == events, count
                return seconds

            initial_sync = initial_sync_into(new_store, provider, server.count_requests, events)

            def listing() -> float:
                p = provider()
                started = time.perf_counter()
                count = len(p.changes(window, None).events)
                seconds = time.perf_counter() - started
                assert count == events, count
                p.close()
                return seconds

            rounds = side_by_side(folder, repeat, bare, initial_sync, listing)

            def batches() -> int:
                return sum(1 for _, path in server.requests if path.endswith("/$batch"))

            after = push_echo_idle(
                folder / "push.sqlite3",
                new_store,
                provider,
                server.count_requests,
                now,
                push,
                batches,
            )
            assert after["writes"] <= math.ceil(push / BATCH_SIZE), after["writes"]
            assert after["idle"].requests == 1, after["idle"].requests
    finally:
        server.stop()
    return {"events": events, "rounds": rounds, **after}


def figures(f: dict) -> list[Figure]:
    return [
        *ratio_figures(f["rounds"], f["events"], "bare delta paging"),
        pages_figure(f["rounds"], f["events"], PAGE_SIZE, "delta pages"),
        sync_figure(
            f"push {f['push']:,} new appointments ({f['writes']} $batch of ≤ {BATCH_SIZE})",
            f["pushed"],
        ),
        sync_figure("next sync (the echo of the push)", f["echo"], most=5),
        sync_figure("sync with nothing changed", f["idle"], most=1),
    ]


def main(argv: list[str] | None = None) -> None:
    bench_main(argv, __doc__, "Office 365", run, figures, events=5000, push=1000, repeat=3)


if __name__ == "__main__":
    main()
