"""The benchmarks start without the dev dependency group: no pytest, no test
module (they are run on demand with ``python -m tests.bench``, never by pytest)."""

from __future__ import annotations

import ast
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


def _imported_names(path: Path) -> set[str]:
    """Every module a file imports, at its top or inside a function."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def _source_of(module: str) -> Path | None:
    """The file of a ``tests.…`` module (a package's ``__init__``), if there is one."""
    base = ROOT.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def test_no_benchmark_reaches_a_test_module_even_inside_a_function():
    """The import check above sees what a module loads when imported; this one
    follows every import the benchmarks' code holds (also those a function
    makes when it runs) through the tests.… modules they reach."""
    start = [f"tests.bench.{name}" for name in ("__main__", "common", *BENCHMARKS)]
    seen: set[str] = set()
    reached: dict[str, str] = {}  # module → the tests.… module importing it
    todo = list(start)
    while todo:
        module = todo.pop()
        path = _source_of(module)
        if module in seen or path is None:
            continue
        seen.add(module)
        for name in _imported_names(path):
            reached.setdefault(name, module)
            if name.startswith("tests.") and _source_of(name) is not None:
                todo.append(name)
    assert {"tests.fakes.graph_server", "tests.fakes.google_calendar"} <= seen
    test_modules = {
        name: by
        for name, by in reached.items()
        if name.startswith("tests.")
        and any(part.startswith("test_") or part == "conftest" for part in name.split("."))
        and _source_of(name) is not None
    }
    assert not test_modules
    dev = {name: by for name, by in reached.items() if name.split(".")[0] in DEV_ONLY}
    assert not dev
