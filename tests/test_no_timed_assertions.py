"""Speed is measured by the benchmarks in tests/bench, never asserted by a test."""

from __future__ import annotations

import ast
from pathlib import Path

from hypothesis import settings

TESTS = Path(__file__).parent
# stopwatches (the wall and monotonic clocks also serve deadlines and schedules)
CLOCKS = {"perf_counter", "perf_counter_ns", "process_time", "process_time_ns", "timeit"}


def test_no_hypothesis_example_has_a_deadline():
    assert settings().deadline is None


def _test_files():
    for path in sorted(TESTS.rglob("*.py")):
        if "bench" in path.parts or "fakes" in path.parts:
            continue  # benchmarks time things; the test servers time their own work
        yield path


def test_no_test_reads_a_stopwatch():
    """A test that reads a stopwatch is a timed assertion waiting to happen."""
    found = []
    for path in _test_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in CLOCKS:
                found.append(f"{path.relative_to(TESTS)}:{node.lineno} {node.attr}")
            elif isinstance(node, ast.keyword) and node.arg == "deadline":
                if not (isinstance(node.value, ast.Constant) and node.value.value is None):
                    found.append(f"{path.relative_to(TESTS)}:{node.value.lineno} deadline=")
            elif isinstance(node, ast.Name) and node.id == "QElapsedTimer":
                found.append(f"{path.relative_to(TESTS)}:{node.lineno} QElapsedTimer")
    assert not found, found
