"""Benchmark: the memory of an initial sync of 50,000 Google events.

    uv run python -m tests.bench.bench_memory [--events 50000]

The Google Calendar test server runs in a process of its own (it holds every
event, which is not calsync's memory); this process runs calsync's initial
sync of them into a new Sales Calendar, through google-api-python-client and
the SQLite store, and reports its own peak resident size (VmHWM: the whole
process, the interpreter and every library included) against the goal.
"""

from __future__ import annotations

import argparse
import multiprocessing
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from google.oauth2.credentials import Credentials

from calsync_desktop.accounts.base import Account
from calsync_desktop.providers.base import Backoff
from calsync_desktop.providers.google import SCOPES, GoogleProvider
from calsync_desktop.store import Store
from calsync_desktop.sync.engine import SyncEngine
from tests.bench.common import Figure, peak_rss_mb, report, rss_mb

OWNER = "bench@example.com"
GOAL_MB = 300


def serve(events: int, now: datetime, pipe) -> None:
    """The test server's process: seed, say where it listens, serve until told."""
    from tests.bench.bench_google import seed
    from tests.fakes.google_calendar import GoogleCalendarServer

    with GoogleCalendarServer(OWNER) as server:
        seed(server, events, now)
        tokens = server.issue_tokens()
        pipe.send(
            {
                "api_endpoint": server.api_endpoint,
                "token_uri": server.token_uri,
                "client_id": server.client_id,
                "client_secret": server.client_secret,
                "token": tokens["access_token"],
                "refresh_token": tokens["refresh_token"],
            }
        )
        pipe.recv()  # stop


def run(events: int) -> dict:
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    ours, theirs = multiprocessing.Pipe()
    child = multiprocessing.get_context("spawn").Process(
        target=serve, args=(events, now, theirs), daemon=True
    )
    child.start()
    try:
        where = ours.recv()
        credentials = Credentials(
            token=where["token"],
            refresh_token=where["refresh_token"],
            token_uri=where["token_uri"],
            client_id=where["client_id"],
            client_secret=where["client_secret"],
            scopes=SCOPES,
        )
        with tempfile.TemporaryDirectory() as tmp:
            store = Store.open(Path(tmp) / "sales.sqlite3")
            account = store.add_account(
                Account(id=str(uuid.uuid4()), kind="google", name="Google", email=OWNER)
            )
            provider = GoogleProvider(
                credentials,
                api_endpoint=where["api_endpoint"],
                backoff=Backoff(sleep=lambda _s: None),
            )
            before, peak_before = rss_mb(), peak_rss_mb()
            started = time.perf_counter()
            result = SyncEngine(store, store.get_account(account.id), provider).run()
            seconds = time.perf_counter() - started
            peak = peak_rss_mb()
            assert result.counts.get("create locally") == events, result.counts
            assert store.count_appointments() == events
            provider.close()
            store.close()
    finally:
        ours.send("stop")
        child.join(30)
    return {
        "events": events,
        "seconds": seconds,
        "rss_before_mb": before,
        "peak_before_mb": peak_before,
        "peak_mb": peak,
    }


def figures(f: dict) -> list[Figure]:
    n = f"{f['events']:,}"
    return [
        Figure(f"initial sync of {n} Google events", f"{f['seconds']:.1f} s"),
        Figure("process before the sync (resident)", f"{f['rss_before_mb']:.0f} MB"),
        Figure(
            f"peak memory of the process syncing {n} events",
            f"{f['peak_mb']:.0f} MB",
            f"< {GOAL_MB} MB",
            f["peak_mb"] < GOAL_MB,
        ),
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--json", action="store_true", help="figures for python -m tests.bench")
    args = parser.parse_args(argv)
    report("Google, memory", figures(run(args.events)), args.json)


if __name__ == "__main__":
    main()
