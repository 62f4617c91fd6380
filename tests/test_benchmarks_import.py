"""The benchmarks start without the dev dependency group: no pytest, no test
module (they are run on demand with ``python -m tests.bench``, never by pytest)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = sorted(p.stem for p in (ROOT / "tests" / "bench").glob("bench_*.py"))
DEV_ONLY = {"pytest", "_pytest", "pytestqt", "hypothesis", "pytest_timeout"}


def test_every_benchmark_is_run_by_the_runner():
    from tests.bench.__main__ import BENCHMARKS as RUN

    assert sorted(f"bench_{name}" for name in RUN) == BENCHMARKS


@pytest.mark.parametrize("name", ["__main__", *BENCHMARKS])
def test_a_benchmark_imports_nothing_of_the_dev_group(name):
    code = (
        "import json, sys, importlib; "
        f"importlib.import_module('tests.bench.{name}'); "
        "print(json.dumps(sorted(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    modules = json.loads(out.stdout.strip().splitlines()[-1])
    tops = {m.split(".")[0] for m in modules}
    assert not tops & DEV_ONLY
    tests_imported = {m for m in modules if m.startswith("tests.") and ".test_" in m}
    assert not tests_imported
