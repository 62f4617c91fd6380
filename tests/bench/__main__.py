"""Every benchmark, each in a process of its own, and one table of their figures.

    uv run python -m tests.bench [--only google graph ...]
    uv run --group bench python -m tests.bench --only caldav   (vdirsyncer, Radicale)

Runs without the dev dependency group: nothing here or in the benchmarks
imports pytest or a test module (each benchmark reports any dev-group module
it finds loaded as a failed row). A benchmark's own command (``python -m
tests.bench.bench_google --help``) takes more options: events, rounds.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from tests.bench.common import JSON_MARK, Figure, table

ROOT = Path(__file__).resolve().parents[2]
FAILURE_WIDTH = 100
"""How much of a failed benchmark's last error line the table shows (all of it
is in the benchmark's own output: ``python -m tests.bench.bench_NAME``)."""

BENCHMARKS = {
    "engine": "planning 10,000 appointments against the memory service",
    "google": "Google: initial sync of 5,000 side by side with the bare client",
    "memory": "Google: the memory of an initial sync of 50,000",
    "graph": "Office 365: initial sync of 5,000 side by side with plain requests",
    "ews": "Exchange: initial sync of 5,000 side by side with exchangelib",
    "gui": "the window: start, memory, painting, stalls",
    "team": "the team Sales Calendar on PostgreSQL: 50 members × 2,000",
    "caldav": "CalDAV: calsync against vdirsyncer on the same Radicale (the bench group)",
    "history": "the sync history's cost on an initial sync of 5,000; an undo of 1,000",
}


def run_one(name: str) -> tuple[list[tuple[str, Figure]], float]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", f"tests.bench.bench_{name}", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen")),
    )
    seconds = time.perf_counter() - started
    lines = [line for line in done.stdout.splitlines() if line.startswith(JSON_MARK)]
    if done.returncode != 0 or not lines:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        if len(last) > FAILURE_WIDTH:  # e.g. a failed command, quoted whole
            last = last[: FAILURE_WIDTH - 1] + "…"
        return [(name, Figure("benchmark run", f"failed: {last}", "runs", False))], seconds
    data = json.loads(lines[-1][len(JSON_MARK) :])
    return [(data["bench"], Figure(**f)) for f in data["figures"]], seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.bench", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--only", nargs="+", choices=list(BENCHMARKS), help="run only these")
    args = parser.parse_args(argv)
    rows: list[tuple[str, Figure]] = []
    for name in args.only or list(BENCHMARKS):
        print(f"running {name}: {BENCHMARKS[name]} …", file=sys.stderr, flush=True)
        figures, seconds = run_one(name)
        print(f"  done in {seconds:.0f} s", file=sys.stderr, flush=True)
        rows += figures
    print(table(rows))
    met = sum(1 for _, f in rows if f.met)
    missed = sum(1 for _, f in rows if f.met is False)
    print(f"\n{len(rows)} figures; {met} goals met, {missed} not met.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
