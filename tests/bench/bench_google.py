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
from calsync_desktop.model import Appointment, new_id
from calsync_desktop.providers.base import Backoff
from calsync_desktop.providers.google import PAGE_SIZE, SCOPES, GoogleProvider
from calsync_desktop.store import Store
from calsync_desktop.sync.engine import SyncEngine
from calsync_desktop.sync.scope import Scope
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
        before = server.count_requests()
        started = time.perf_counter()
        result = SyncEngine(store, account, p).run()
        initial_time = time.perf_counter() - started
        requests_initial = server.count_requests() - before
        assert result.counts.get("create locally") == events, result.counts

        for i in range(push):
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
        account = store.get_account(account.id)
        before = server.count_requests()
        batches_before = sum(1 for _, path in server.api_calls if path.startswith("/batch"))
        started = time.perf_counter()
        result = SyncEngine(store, account, p).run()
        push_time = time.perf_counter() - started
        push_requests = server.count_requests() - before
        push_batches = (
            sum(1 for _, path in server.api_calls if path.startswith("/batch")) - batches_before
        )
        assert result.counts.get("create remotely") == push, result.counts

        # the next run lists our own writes back once; after it nothing has changed
        SyncEngine(store, store.get_account(account.id), p).run()
        before = server.count_requests()
        started = time.perf_counter()
        result = SyncEngine(store, store.get_account(account.id), p).run()
        idle_time = time.perf_counter() - started
        idle_requests = server.count_requests() - before
        assert result.counts == {}, result.counts
        p.close()
        store.close()

    figures.update(
        bare_listing_s=min(bare),
        provider_listing_s=min(listing),
        initial_sync_s=initial_time,
        initial_requests=requests_initial,
        minimum_pages=math.ceil(events / PAGE_SIZE),
        push_s=push_time,
        push_requests=push_requests,
        push_batches=push_batches,
        idle_s=idle_time,
        idle_requests=idle_requests,
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
