"""The garbage collector is held off while a sync plans and applies, and only then."""

from __future__ import annotations

import gc
import threading

import pytest

from calsync_desktop.sync.gc_pause import gc_paused
from calsync_desktop.sync.plan import Decision
from tests.sync.harness import Crash, Harness


@pytest.fixture(autouse=True)
def collector_on():
    was = gc.isenabled()
    gc.enable()
    yield
    assert gc.isenabled(), "a test left the collector off"
    if not was:
        gc.disable()


@pytest.fixture
def h(store, clock):
    return Harness(store, clock)


class Watching:
    """Records whether the collector is on whenever the service is asked something."""

    def __init__(self, provider):
        self.seen: list[tuple[str, bool]] = []
        for name in ("changes", "write", "get"):
            original = getattr(provider, name)

            def watched(*args, _name=name, _original=original, **kwargs):
                self.seen.append((_name, gc.isenabled()))
                return _original(*args, **kwargs)

            setattr(provider, name, watched)


def test_held_off_while_planning_and_applying_and_back_after(h):
    h.add_local("Visit")
    h.add_remote("Call")
    watching = Watching(h.provider)
    h.sync()
    assert {"changes", "write"} <= {name for name, _ in watching.seen}
    assert all(not enabled for _, enabled in watching.seen)
    assert gc.isenabled()


def test_back_on_while_the_guard_waits_for_an_answer(h):
    items = [h.add_local(f"Visit {i}", start=h.at(1 + i % 20)) for i in range(40)]
    h.sync()
    for a in items[:15]:
        h.calendar.remove(h.remote_for(a.id).remote_id)
    states = []
    engine = h.engine()
    engine.confirm = lambda guard: states.append(gc.isenabled()) or Decision.STOP
    engine.run()
    assert states == [True]  # the question may wait for hours: collection goes on


def test_back_on_after_a_run_that_dies(h):
    h.add_local("Visit")
    h.provider.crash_after_write = True
    with pytest.raises(Crash):
        h.sync()
    assert gc.isenabled()


def test_overlapping_holds_end_with_the_last():
    with gc_paused():
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_two_threads_holding_it_at_once():
    inside, release = threading.Barrier(2), threading.Event()
    seen = []

    def hold():
        with gc_paused():
            inside.wait()
            release.wait()
        seen.append(gc.isenabled())

    other = threading.Thread(target=hold)
    other.start()
    with gc_paused():
        inside.wait()
        release.set()
        other.join()
        assert seen == [False]  # this thread still holds it off
    assert gc.isenabled()


def test_a_collector_turned_off_elsewhere_stays_off():
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
