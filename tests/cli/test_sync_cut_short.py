"""``calsync sync`` and ``calsync history`` when a sync is cut short half way
(the network goes, Ctrl+C), against the Google Calendar test server over real
HTTP: what was written before is said, in the sync's line and in the history."""

from __future__ import annotations

import _thread
import json
import threading

import pytest

from calsync_desktop.accounts import google as google_account
from calsync_desktop.accounts import save_account
from calsync_desktop.accounts.base import MemorySecrets
from calsync_desktop.providers.google import SCOPES
from calsync_desktop.services import Services
from tests.cli.helpers import Cli
from tests.fakes.google_calendar import GoogleCalendarServer

OWNER = "sales.person@example.com"
BATCH = 50  # Google's batch: the first one is written and committed whole


@pytest.fixture
def server():
    s = GoogleCalendarServer(OWNER).start()
    yield s
    s.stop()


@pytest.fixture
def cli(server, home, clock, capsys):
    env = {
        "TZ": "Europe/Berlin",
        "CALSYNC_GOOGLE_API_ENDPOINT": server.api_endpoint,
        "CALSYNC_GOOGLE_TOKEN_URI": server.token_uri,
    }
    services = Services.create(home=home, secrets=MemorySecrets(), env=env, clock=clock)
    tokens = server.issue_tokens()
    token = {
        "token": tokens["access_token"],
        "refresh_token": tokens["refresh_token"],
        "client_id": server.client_id,
        "client_secret": server.client_secret,
        "scopes": SCOPES,
    }
    pending = google_account.PendingGoogleAccount(services, OWNER, {}, json.dumps(token))
    save_account(services, pending, name="Work")
    yield Cli(services, home, capsys)
    services.store.close()


def _appointments(cli, n: int) -> None:
    for i in range(n):
        day, hour = 24 + i % 5, 8 + i // 5
        cli.add(
            "--contents",
            f"Visit {i}",
            "--start",
            f"2026-11-{day}T{hour:02d}:00",
            "--end",
            f"2026-11-{day}T{hour:02d}:30",
        )


def test_a_sync_the_network_ends_half_way_says_what_it_wrote_before(cli, server):
    _appointments(cli, BATCH + 5)
    server.fail_next("drop", 30, on="write", after=1)  # the second batch never gets through
    code, out, err = cli("sync")
    assert code == 1, (out, err)
    assert f"Work: {BATCH} appointments copied to Work" in out
    assert "The server cannot be reached." in out
    assert len(server.event_ids()) == BATCH
    (run,) = cli.json("history")
    assert run["counts"] == {"create remotely": BATCH}
    assert f"create {BATCH} in Work (ended on an error)" in cli.ok("history")
    server.clear_faults()
    cli.ok("sync")
    assert len(server.event_ids()) == BATCH + 5


def test_a_sync_stopped_by_ctrl_c_is_listed_with_what_it_changed(cli, server):
    _appointments(cli, BATCH + 5)
    server.fail_next("slow", 1, on="write", after=1, delay=0.5)
    armed = server.faults.pending

    def press_ctrl_c():  # once the second batch is on its way
        while server.faults.pending == armed:
            threading.Event().wait(0.01)
        _thread.interrupt_main()

    threading.Thread(target=press_ctrl_c, daemon=True).start()
    code, _out, err = cli("sync")
    assert code == 130 and "interrupted" in err
    (run,) = cli.json("history")
    assert run["state"] == "running"
    assert run["counts"] == {"create remotely": BATCH}
    assert f"create {BATCH} in Work (interrupted)" in cli.ok("history")
    cli.ok("sync")  # links the second batch, which reached Google before the Ctrl+C
    assert len(server.event_ids()) == BATCH + 5
    assert cli.json("history")[-1]["counts"] == {"create remotely": BATCH + 5}
