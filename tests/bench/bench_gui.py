"""GUI benchmarks (a plain script, run on demand):

    uv run python -m tests.bench.bench_gui            # offscreen
    DISPLAY=:99 uv run python -m tests.bench.bench_gui --platform xcb

1. start to tray icon, warm: the same start as ``calsync-desktop`` (the
   launch's QApplication and tray icon; then, measured as "the app built",
   Services, CalsyncApp and its start) in a new process each time, the Sales
   Calendar existing and the bytecode cached (``PYTHONDONTWRITEBYTECODE`` is dropped
   and ``PYTHONPYCACHEPREFIX`` points at a new folder, so the first start
   compiles and the next ones are warm); cold: that first start, with nothing
   compiled and the Sales Calendar created;
2. idle memory (RSS) of the started app after three idle seconds;
3. week view with 500 appointments: time of one full repaint;
4. longest event-loop stall while the worker syncs 5,000 events (memory
   provider), and the app's memory after that sync.

Goals: warm < 0.6 s, cold < 2 s, idle < 120 MB (issue 17); repaint < 16 ms,
stall < 50 ms (issue 6).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # run as a script as well as with -m

from tests.bench.common import Figure, report, rss_mb, spread  # noqa: E402

CHILD = r"""
import json, sys, time
t_spawn = float(sys.argv[1]); home = sys.argv[2]
# the start of calsync_desktop.gui.launch.main, with secrets in memory and no
# network watch (this sandbox has neither a keyring nor NetworkManager)
from calsync_desktop.gui.launch import (early_tray, open_app, qt_application, settle_memory,
                                        tune_interpreter)
tune_interpreter()
qt = qt_application()
tray = early_tray(qt)
to_tray = time.time() - t_spawn
tray_visible = tray.icon.isVisible()
from calsync_desktop.accounts.base import MemorySecrets
from calsync_desktop.services import Services
app = open_app(tray, lambda: Services.create(home=home, secrets=MemorySecrets(), env={}),
               watch_network=False)
app.start(sync_at_start=False)
qt.processEvents()
to_ready = time.time() - t_spawn
settle_memory()
from PySide6.QtCore import QEventLoop, QTimer
idle = QEventLoop()
QTimer.singleShot(3000, idle.quit)
idle.exec()
rss_kb = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmRSS"))
print(json.dumps({"start_s": to_tray, "ready_s": to_ready, "rss_mb": rss_kb / 1024,
                  "tray_visible": tray_visible and app.tray is tray}))
app.shutdown()
app.services.store.close()
"""


def start_to_tray(platform: str) -> dict:
    env = dict(os.environ, QT_QPA_PLATFORM=platform)
    # "warm" means bytecode is cached, as after any real install; this sandbox may
    # forbid writing it, so cache it in a folder of its own
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = tempfile.mkdtemp(prefix="calsync-pycache-")
    home = tempfile.mkdtemp(prefix="calsync-bench-")
    runs = []
    for _ in range(4):  # the first run warms caches and creates the store
        out = subprocess.run(
            [sys.executable, "-c", CHILD, repr(time.time()), home],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            check=True,
        )
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    warm = runs[1:]
    return {
        "start_to_tray_warm_s": statistics.median(r["start_s"] for r in warm),
        "warm_runs": [r["start_s"] for r in warm],
        "start_to_tray_cold_s": runs[0]["start_s"],
        "ready_warm_runs": [r["ready_s"] for r in warm],
        "ready_cold_s": runs[0]["ready_s"],
        "idle_rss_mb": statistics.median(r["rss_mb"] for r in warm),
        "idle_runs": [r["rss_mb"] for r in warm],
        "tray_visible": warm[-1]["tray_visible"],
    }


def week_repaint(qtbot_app) -> dict:
    from zoneinfo import ZoneInfo

    from calsync_desktop.gui.calendar_model import CalendarModel
    from calsync_desktop.gui.calendar_view import CalendarWindow, week_start
    from calsync_desktop.model import Appointment, new_id
    from calsync_desktop.store import Store

    tz = ZoneInfo("Europe/Berlin")
    now = datetime(2026, 3, 25, 10, tzinfo=tz)
    store = Store.open(Path(tempfile.mkdtemp()) / "cal.sqlite", clock=lambda: now)
    monday = week_start(now.date())
    for i in range(500):
        day = monday + timedelta(days=i % 7)
        start = datetime(
            day.year, day.month, day.day, 7 + (i * 7) % 12, (i * 13) % 4 * 15, tzinfo=tz
        )
        store.add_appointment(
            Appointment(
                new_id(),
                f"Appointment {i}\nsome notes",
                start.astimezone(UTC),
                (start + timedelta(minutes=30 + (i % 4) * 30)).astimezone(UTC),
                tz.key,
                location=f"Room {i % 9}",
                private=i % 5 == 0,
            )
        )
    model = CalendarModel(store, tz, poll_ms=0)
    window = CalendarWindow(model, lambda: now)
    window.resize(1400, 900)
    window.show()
    qtbot_app.processEvents()
    window.time_grid.scroll_to_hour(7)
    canvas = window.time_grid.canvas
    from calsync_desktop.gui.launch import settle_memory

    settle_memory()  # as main() does after start-up
    t0 = time.perf_counter()
    model.refresh()
    canvas.relayout()
    load_ms = (time.perf_counter() - t0) * 1000
    full = []
    for _ in range(10):  # everything drawn anew, as after a data change
        canvas.invalidate()
        t0 = time.perf_counter()
        canvas.repaint()
        full.append((time.perf_counter() - t0) * 1000)
    times = []
    for _ in range(30):  # a repaint (scroll, selection, current-time line)
        t0 = time.perf_counter()
        canvas.repaint()
        times.append((time.perf_counter() - t0) * 1000)
    visible = sum(
        1 for p in canvas.placed if p.rect.intersects(canvas.visibleRegion().boundingRect())
    )
    window.close()
    store.close()
    return {
        "week_500_full_redraw_ms_median": statistics.median(full),
        "week_500_full_redraw_ms_max": max(full),
        "week_500_repaint_ms_median": statistics.median(times),
        "week_500_repaint_ms_max": max(times),
        "week_500_boxes_visible": visible,
        "week_500_boxes_total": len(canvas.placed),
        "week_500_reload_and_layout_ms": load_ms,
    }


def sync_stall(qt_app) -> dict:
    from PySide6.QtCore import QElapsedTimer, QTimer
    from PySide6.QtTest import QTest

    from calsync_desktop.accounts import memory, save_account
    from calsync_desktop.accounts.base import MemorySecrets
    from calsync_desktop.gui.app import CalsyncApp
    from calsync_desktop.gui.launch import settle_memory
    from calsync_desktop.services import Services

    services = Services.create(home=tempfile.mkdtemp(), secrets=MemorySecrets(), env={})
    save_account(services, memory.connect(services, "bench@example.com"))
    calendar = memory.calendar_for(services, "bench@example.com", "bench@example.com")
    base = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    for i in range(5000):
        start = base + timedelta(hours=i % 2000, days=i // 2000)
        calendar.add(subject=f"Event {i}", start=start, end=start + timedelta(minutes=30))
    app = CalsyncApp(services, watch_network=False)
    app.start(sync_at_start=False)
    app.show_window()
    settle_memory()  # as main() does after start-up
    gaps = []
    clock = QElapsedTimer()
    clock.start()
    last = [clock.elapsed()]

    def tick() -> None:
        now = clock.elapsed()
        gaps.append(now - last[0])
        last[0] = now

    probe = QTimer()
    probe.setInterval(5)
    probe.timeout.connect(tick)
    done = []
    app.scheduler.syncFinished.connect(done.append)
    probe.start()
    t0 = time.perf_counter()
    app.sync_now()
    while not done:
        QTest.qWait(20)
    took = time.perf_counter() - t0
    probe.stop()
    count = services.store.count_appointments()
    QTest.qWait(1000)
    after_sync_rss = rss_mb()
    app.shutdown()
    services.store.close()
    return {
        "sync_5000_s": took,
        "sync_5000_appointments": count,
        "sync_5000_longest_stall_ms": max(gaps) - 5,
        "sync_5000_p99_gap_ms": sorted(gaps)[int(len(gaps) * 0.99)] - 5,
        "after_sync_rss_mb": after_sync_rss,
    }


def figures(r: dict) -> list[Figure]:
    out = []
    if "start_to_tray_warm_s" in r:
        warm, cold, idle = r["start_to_tray_warm_s"], r["start_to_tray_cold_s"], r["idle_rss_mb"]
        out += [
            Figure(
                "start to tray, warm (bytecode cached)",
                spread(r["warm_runs"], unit=" s"),
                "< 0.6 s",
                warm < 0.6,
            ),
            Figure(
                "start to tray, cold (nothing compiled, new store)",
                f"{cold:.2f} s",
                "< 2 s",
                cold < 2,
            ),
            Figure(
                "idle memory (RSS) after start",
                spread(r["idle_runs"], 0, " MB"),
                "< 120 MB",
                idle < 120,
            ),
            Figure("tray icon visible", str(r["tray_visible"]), "True", r["tray_visible"]),
            Figure(
                "start to the app built (store open, window made), warm",
                spread(r["ready_warm_runs"], unit=" s"),
            ),
            Figure("start to the app built, cold", f"{r['ready_cold_s']:.2f} s"),
        ]
    if "week_500_repaint_ms_median" in r:
        out += [
            Figure(
                "week view, 500 appointments: repaint",
                f"{r['week_500_repaint_ms_median']:.1f} ms "
                f"(max {r['week_500_repaint_ms_max']:.1f})",
                "< 16 ms",
                r["week_500_repaint_ms_median"] < 16,
            ),
            Figure(
                "week view, 500: full redraw after a data change",
                f"{r['week_500_full_redraw_ms_median']:.1f} ms",
            ),
            Figure(
                "week view, 500: reload from the store and lay out",
                f"{r['week_500_reload_and_layout_ms']:.1f} ms",
            ),
        ]
    if "sync_5000_longest_stall_ms" in r:
        out += [
            Figure("5,000-event sync in the window's worker", f"{r['sync_5000_s']:.2f} s"),
            Figure(
                "longest event-loop stall during that sync",
                f"{r['sync_5000_longest_stall_ms']:.0f} ms (p99 {r['sync_5000_p99_gap_ms']:.0f})",
                "< 50 ms",
                r["sync_5000_longest_stall_ms"] < 50,
            ),
            Figure("idle memory after that sync (RSS)", f"{r['after_sync_rss_mb']:.0f} MB"),
        ]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--platform", default=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    parser.add_argument("--only", choices=("start", "week", "sync"), action="append")
    parser.add_argument("--json", action="store_true", help="figures for python -m tests.bench")
    args = parser.parse_args(argv)
    only = set(args.only or ("start", "week", "sync"))
    os.environ["QT_QPA_PLATFORM"] = args.platform
    results = {"platform": args.platform}
    if "start" in only:
        results.update(start_to_tray(args.platform))
    from PySide6.QtWidgets import QApplication

    from calsync_desktop.gui.launch import tune_interpreter

    tune_interpreter()  # as main() does
    qt_app = QApplication([sys.argv[0]])
    qt_app.setQuitOnLastWindowClosed(False)
    if "week" in only:
        results.update(week_repaint(qt_app))
    if "sync" in only:
        results.update(sync_stall(qt_app))
    report(f"window ({args.platform})", figures(results), args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
