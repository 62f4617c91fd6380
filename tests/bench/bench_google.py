"""Benchmark: calsync against the Google Calendar test server, side by side.

    uv run python -m tests.bench.bench_google [--events 5000] [--push 1000] [--repeat 5]

Each round measures, one after the other: the bare google-api-python-client
paging through the events of the sync window; calsync's initial sync of them
into a new Sales Calendar (SyncEngine, GoogleProvider, the SQLite store);
plain sqlite3 ``executemany`` inserting the rows that sync wrote into an empty
file of the same schema; and the provider's listing alone. The goal is the
ratio initial sync ÷ (bare listing + plain insert), taken within each round
so that a busy moment of the machine hits both sides alike. Then, once:
pushing new appointments, the sync that lists them back, and a sync with
nothing changed (HTTP requests). Figures only; no assertions on time.
"""

from __future__ import annotations

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


def new_store(path: Path) -> tuple[Store, str]:
    store = Store.open(path)
    account = store.add_account(
        Account(id=str(uuid.uuid4()), kind="google", name="Google", email=OWNER)
    )
    return store, account.id


def run(events: int, push: int, repeat: int) -> dict:
    """The rounds side by side (see the module's docstring), then push, echo, idle."""
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    with GoogleCalendarServer(OWNER) as server, tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        seed(server, events, now)
        window = Scope(now).window

        def bare() -> float:
            seconds, count = bare_listing(server, window)
            assert count == events, count
            return seconds

        initial_sync = initial_sync_into(
            new_store, lambda: provider(server), server.count_requests, events
        )

        def listing() -> float:
            p = provider(server)
            started = time.perf_counter()
            count = len(p.changes(window, None).events)
            seconds = time.perf_counter() - started
            assert count == events, count
            p.close()
            return seconds

        rounds = side_by_side(folder, repeat, bare, initial_sync, listing)

        def batches() -> int:
            return sum(1 for _, path in server.api_calls if path.startswith("/batch"))

        after = push_echo_idle(
            folder / "push.sqlite3",
            new_store,
            lambda: provider(server),
            server.count_requests,
            now,
            push,
            batches,
        )
    return {"events": events, "rounds": rounds, **after}


def figures(f: dict) -> list[Figure]:
    return [
        *ratio_figures(f["rounds"], f["events"], "bare client listing"),
        pages_figure(f["rounds"], f["events"], PAGE_SIZE, "pages"),
        sync_figure(
            f"push {f['push']:,} new appointments ({f['writes']} batches of ≤ 50)",
            f["pushed"],
        ),
        sync_figure("next sync (own writes listed back)", f["echo"]),
        sync_figure("sync with nothing changed", f["idle"], most=1),
    ]


def main(argv: list[str] | None = None) -> None:
    bench_main(argv, __doc__, "Google", run, figures, events=5000, push=1000, repeat=5)


if __name__ == "__main__":
    main()
