"""Benchmark: calsync against the Graph test server (HTTPS, real MSAL), in one run.

    uv run python -m tests.bench.bench_graph [--events 5000] [--push 1000] [--repeat 3]

Prints: the initial sync of N events (wall time, HTTP requests, and the minimum
the page size allows), pushing M new local appointments (HTTP requests, of which
``$batch`` requests), the next sync that reads our own writes back, a sync with
nothing changed (HTTP requests), and the ratio of the provider's full listing to
plain ``requests`` paging through the same delta. Figures only; the request
counts are checked.
"""

from __future__ import annotations

import argparse
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
from tests.bench.common import add_local_appointments, measured_sync
from tests.fakes.graph_server import GraphServer
from tests.providers.test_graph_provider import device_code_sign_in, session_config

OWNER = "sam@contoso.example"


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
    items = 0
    while url:
        page = session.get(
            url, params=params, headers=headers, verify=str(server.ca_bundle), timeout=60
        ).json()
        items += len(page["value"])
        url, params = page.get("@odata.nextLink"), None
    session.close()
    return time.perf_counter() - started, items


def run(events: int, push: int, repeat: int) -> dict:
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    figures: dict = {"events": events, "push": push}
    server = GraphServer().start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            seed(server, events, now)
            window = Scope(now).window
            session = MsalSession(session_config(server), device_code_sign_in(server))

            def provider() -> GraphProvider:
                p = GraphProvider(
                    session.token,
                    endpoint=server.graph_url,
                    ca_bundle=str(server.ca_bundle),
                    backoff=Backoff(sleep=lambda _s: None),
                )
                p.account_email()  # the token and TLS set-up out of the measurement
                return p

            bare = [bare_listing(server, window, session.token())[0] for _ in range(repeat)]
            listing = []
            for _ in range(repeat):
                p = provider()
                started = time.perf_counter()
                changes = p.changes(window, None)
                listing.append(time.perf_counter() - started)
                assert len(changes.events) == events, len(changes.events)
                p.close()

            store = Store.open(Path(tmp) / "sales.sqlite3")
            account = store.add_account(
                Account(id=str(uuid.uuid4()), kind="office365", name="Office 365", email=OWNER)
            )
            p = provider()
            initial = measured_sync(store, account.id, p, server.count_requests)
            assert initial.result.counts.get("create locally") == events, initial.result.counts

            def batches() -> int:
                return sum(1 for _, path in server.requests if path.endswith("/$batch"))

            add_local_appointments(store, now, push)
            batches_before = batches()
            pushed = measured_sync(store, account.id, p, server.count_requests)
            push_batches = batches() - batches_before
            assert pushed.result.counts.get("create remotely") == push, pushed.result.counts
            assert push_batches <= math.ceil(push / BATCH_SIZE), push_batches

            # the next run reads our own writes back once; after it nothing has changed
            echo = measured_sync(store, account.id, p, server.count_requests)
            idle = measured_sync(store, account.id, p, server.count_requests)
            assert idle.result.counts == {}, idle.result.counts
            assert idle.requests == 1, idle.requests
            p.close()
            store.close()
    finally:
        server.stop()

    figures.update(
        bare_listing_s=min(bare),
        provider_listing_s=min(listing),
        initial_sync_s=initial.seconds,
        initial_requests=initial.requests,
        minimum_pages=math.ceil(events / PAGE_SIZE),
        push_s=pushed.seconds,
        push_requests=pushed.requests,
        push_batches=push_batches,
        echo_s=echo.seconds,
        echo_requests=echo.requests,
        idle_s=idle.seconds,
        idle_requests=idle.requests,
    )
    figures["ratio_provider_listing"] = figures["provider_listing_s"] / figures["bare_listing_s"]
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--push", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    f = run(args.events, args.push, args.repeat)
    print(f"Graph test server (HTTPS), {f['events']:,} events (listings: best of {args.repeat})")
    print(f"  bare delta paging (requests)   {f['bare_listing_s']:.2f} s")
    print(
        f"  provider full listing          {f['provider_listing_s']:.2f} s  "
        f"(ratio {f['ratio_provider_listing']:.2f}; delta + calendarView for the local ids)"
    )
    print(
        f"  initial sync (engine + store)  {f['initial_sync_s']:.2f} s, "
        f"{f['initial_requests']} HTTP requests "
        f"(delta pages of {PAGE_SIZE}: {f['minimum_pages']}, twice)"
    )
    print(
        f"  push {f['push']:,} new appointments     {f['push_s']:.2f} s, "
        f"{f['push_requests']} HTTP requests ({f['push_batches']} $batch of <= {BATCH_SIZE} + "
        f"{f['push_requests'] - f['push_batches']} incremental listing)"
    )
    print(
        f"  next sync (own writes echoed)  {f['echo_s']:.2f} s, {f['echo_requests']} HTTP requests"
    )
    print(
        f"  sync with nothing changed      {f['idle_s']:.3f} s, "
        f"{f['idle_requests']} HTTP request(s)"
    )


if __name__ == "__main__":
    main()
