"""Benchmark: calsync against the Google Calendar test server, in one run.

    uv run python -m tests.bench.bench_google [--events 5000] [--push 1000] [--repeat 3]

Prints: the initial sync of N events (wall time, HTTP requests, and the minimum
the page size allows), pushing M new local appointments (HTTP requests), a sync
with nothing changed (HTTP requests), and the ratio of the initial sync's wall
time to the bare client library listing the same events from the same server.
Figures only; no assertions on time.
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build

from calsync_desktop.accounts.base import Account
from calsync_desktop.providers.base import Backoff
from calsync_desktop.providers.google import PAGE_SIZE, SCOPES, GoogleProvider
from calsync_desktop.store import Store
from calsync_desktop.sync.scope import Scope
from tests.bench.common import add_local_appointments, measured_sync
from tests.fakes.google_calendar import GoogleCalendarServer

OWNER = "bench@example.com"


def credentials(server: GoogleCalendarServer) -> Credentials:
    tokens = server.issue_tokens()
    return Credentials(
        token=tokens["access_token"],
        refresh_token=tokens["refresh_token"],
        token_uri=server.token_uri,
        client_id=server.client_id,
        client_secret=server.client_secret,
        scopes=SCOPES,
    )


def seed(server: GoogleCalendarServer, count: int, now: datetime) -> None:
    zones = ("Europe/Berlin", "America/New_York", "UTC", "Asia/Tokyo")
    for i in range(count):
        start = now + timedelta(days=i % 365, hours=8 + i % 9)
        tz = zones[i % len(zones)]
        server.insert_event(
            {
                "summary": f"Customer visit {i}",
                "description": f"Agenda for visit {i}\nPrices, samples, next steps.",
                "location": f"Office {i % 50}",
                "start": {"dateTime": start.isoformat(), "timeZone": tz},
                "end": {"dateTime": (start + timedelta(hours=1)).isoformat(), "timeZone": tz},
                "attendees": [{"email": f"buyer{i % 97}@customer.example", "displayName": "Buyer"}],
            }
        )


def bare_listing(server: GoogleCalendarServer, window) -> tuple[float, int]:
    """What the client library alone needs to list every event of the window."""
    service = build(
        "calendar",
        "v3",
        credentials=credentials(server),
        static_discovery=True,
        client_options={"api_endpoint": server.api_endpoint},
    )
    started = time.perf_counter()
    items: list[dict] = []  # kept, as any client that lists events keeps them
    token = None
    while True:
        page = (
            service.events()
            .list(
                calendarId="primary",
                timeMin=window.start.isoformat(),
                timeMax=window.end.isoformat(),
                singleEvents=False,
                maxResults=PAGE_SIZE,
                pageToken=token,
            )
            .execute()
        )
        items.extend(page.get("items", []))
        token = page.get("nextPageToken")
        if not token:
            break
    return time.perf_counter() - started, len(items)


def provider(server: GoogleCalendarServer) -> GoogleProvider:
    return GoogleProvider(
        credentials(server),
        api_endpoint=server.api_endpoint,
        backoff=Backoff(sleep=lambda _s: None),
    )


def run(events: int, push: int, repeat: int) -> dict:
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    figures: dict = {"events": events, "push": push}
    with GoogleCalendarServer(OWNER) as server, tempfile.TemporaryDirectory() as tmp:
        seed(server, events, now)
        window = Scope(now).window

        # Interleaved, so a busy moment of the machine hits both alike.
        bare, listing = [], []
        for _ in range(repeat):
            seconds, count = bare_listing(server, window)
            assert count == events, count
            bare.append(seconds)
            p = provider(server)
            started = time.perf_counter()
            changes = p.changes(window, None)
            listing.append(time.perf_counter() - started)
            assert len(changes.events) == events, len(changes.events)
            p.close()

        # The engine's initial sync writes every event to SQLite: one run is enough.
        store = Store.open(Path(tmp) / "sales.sqlite3")
        account = store.add_account(
            Account(id=str(uuid.uuid4()), kind="google", name="Google", email=OWNER)
        )
        p = provider(server)
        initial = measured_sync(store, account.id, p, server.count_requests)
        assert initial.result.counts.get("create locally") == events, initial.result.counts

        def batches() -> int:
            return sum(1 for _, path in server.api_calls if path.startswith("/batch"))

        add_local_appointments(store, now, push)
        batches_before = batches()
        pushed = measured_sync(store, account.id, p, server.count_requests)
        push_batches = batches() - batches_before
        assert pushed.result.counts.get("create remotely") == push, pushed.result.counts

        # the next run lists our own writes back once; after it nothing has changed
        measured_sync(store, account.id, p, server.count_requests)
        idle = measured_sync(store, account.id, p, server.count_requests)
        assert idle.result.counts == {}, idle.result.counts
        p.close()
        store.close()

    figures.update(
        bare_listing_s=min(bare),
        provider_listing_s=min(listing),
        initial_sync_s=initial.seconds,
        initial_requests=initial.requests,
        minimum_pages=math.ceil(events / PAGE_SIZE),
        push_s=pushed.seconds,
        push_requests=pushed.requests,
        push_batches=push_batches,
        idle_s=idle.seconds,
        idle_requests=idle.requests,
    )
    figures["ratio_initial_sync"] = figures["initial_sync_s"] / figures["bare_listing_s"]
    figures["ratio_provider_listing"] = figures["provider_listing_s"] / figures["bare_listing_s"]
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--push", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    f = run(args.events, args.push, args.repeat)
    print(f"Google Calendar test server, {f['events']:,} events (listings: best of {args.repeat})")
    print(f"  bare client listing            {f['bare_listing_s']:.2f} s")
    print(
        f"  provider full listing          {f['provider_listing_s']:.2f} s  "
        f"(ratio {f['ratio_provider_listing']:.2f})"
    )
    print(
        f"  initial sync (engine + store)  {f['initial_sync_s']:.2f} s  "
        f"(ratio {f['ratio_initial_sync']:.2f}), {f['initial_requests']} HTTP requests "
        f"(minimum for pages of {PAGE_SIZE}: {f['minimum_pages']})"
    )
    print(
        f"  push {f['push']:,} new appointments     {f['push_s']:.2f} s, "
        f"{f['push_requests']} HTTP requests ({f['push_batches']} batches of <= 50 + "
        f"{f['push_requests'] - f['push_batches']} incremental listing)"
    )
    print(
        f"  sync with nothing changed      {f['idle_s']:.3f} s, "
        f"{f['idle_requests']} HTTP request(s)"
    )


if __name__ == "__main__":
    main()
