"""A stop (the window's Cancel: ``Backoff.stop``) that comes while a batch of
writes is under way: the batch runs to its end, so every write the service
answered comes back to be recorded, and the stop takes effect at the next
request after it. Through the Google and Office 365 test servers, whose
batches retry a refused part alone (the moment the stop comes here: as the
provider decides to wait and send that part again)."""

from __future__ import annotations

import threading

import pytest

from calsync_desktop.providers.base import Cancelled, Create
from tests.fakes.google_calendar import GoogleCalendarServer
from tests.fakes.graph_server import GraphServer

from .contract import draft
from .test_google_provider import GoogleHarness
from .test_graph_provider import GraphHarness, device_code_sign_in


@pytest.fixture
def google():
    with GoogleCalendarServer() as server:
        h = GoogleHarness(server)
        yield h, lambda: server.events()
        h.provider.close()


@pytest.fixture
def graph():
    server = GraphServer().start()
    h = GraphHarness(server, device_code_sign_in(server))
    yield h, lambda: server.events(h.calendar_id)
    h.provider.close()
    server.stop()


@pytest.mark.parametrize("service", ["google", "graph"])
def test_a_stop_during_a_batch_of_writes_loses_none_of_the_answered_writes(service, request):
    h, events = request.getfixturevalue(service)
    stop = threading.Event()
    h.provider.stop_when(stop)

    def cancel_then_no_wait() -> float:
        stop.set()  # the user presses Cancel as the provider decides to retry
        return 0.0

    h.backoff.rand = cancel_then_no_wait
    h.server.fail_next("rate_limit", retry_after=0, on="batch_part", after=2)
    writes = [Create(draft(subject=f"Visit {i}")) for i in range(5)]
    results = h.provider.write(writes)
    assert stop.is_set()
    assert [r.ok for r in results] == [True] * 5, [r.error for r in results]
    made = {e["id"] for e in events()}
    assert {r.event.remote_id for r in results} == made and len(made) == 5
    assert [r.event.subject for r in results] == [f"Visit {i}" for i in range(5)]
    # the stop holds from the next batch on: nothing of it is sent
    before = h.server.count_requests()
    with pytest.raises(Cancelled):
        h.provider.write([Create(draft(subject="After the Cancel"))])
    assert h.server.count_requests() == before
    assert {e["id"] for e in events()} == made
