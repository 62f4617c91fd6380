"""The shape STYLE.md asks for, checked: imports point down, the core is Qt-free.

The layers, top to bottom: the entry point (``__main__``); the window (``gui``)
and the command line (``cli``), both glue over the core; then the core, in
which ``sync`` drives ``providers`` and ``store``, ``accounts`` hold account
settings and sign-in flows, and ``model`` is plain data. Each rule below names
a direction that must not exist and why; every other import is allowed (``sync``
→ ``providers``/``store``, ``gui`` → any part of the core, and so on).

Imports are read from the source (every ``import`` statement, those inside
functions and ``TYPE_CHECKING`` blocks included: a type-only import still
points somewhere), so a lazy import cannot hide a wrong direction.
"""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

import calsync_desktop

PACKAGE = Path(calsync_desktop.__file__).resolve().parent
QT = ("PySide6", "shiboken6")
PRODUCT = "calsync_desktop."


@dataclass(frozen=True)
class Import:
    source: str  # path inside the package, e.g. "providers/graph.py"
    unit: str  # the importing top-level package or module, e.g. "providers"
    target: str  # the imported module, e.g. "calsync_desktop.sync.mapping"
    line: int

    @property
    def target_unit(self) -> str:
        """``sync`` for ``calsync_desktop.sync.mapping``; the top name for others."""
        parts = self.target.split(".")
        return parts[1] if parts[0] == "calsync_desktop" and len(parts) > 1 else parts[0]

    def __str__(self) -> str:
        return f"{self.source} imports {self.target}"


def _unit(relative: Path) -> str:
    return relative.parts[0] if len(relative.parts) > 1 else relative.stem


def _imports(path: Path) -> list[Import]:
    relative = path.relative_to(PACKAGE)
    package = ["calsync_desktop", *relative.parts[:-1]]  # what ``from .`` means here
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, node.module] if node.module else base)
            # ``from . import x`` imports the module x; ``from a import b`` imports a
            names = [f"{module}.{a.name}" for a in node.names] if not node.module else [module]
        else:
            continue
        found += [Import(str(relative), _unit(relative), n, node.lineno) for n in names]
    return found


ALL_IMPORTS = [i for p in sorted(PACKAGE.rglob("*.py")) for i in _imports(p)]
CORE_UNITS = {
    _unit(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py") if p.name != "__main__.py"
} - {"gui", "__init__"}


@dataclass(frozen=True)
class Rule:
    name: str
    sources: frozenset[str]  # importing units
    targets: frozenset[str]  # forbidden target units (top names for third-party modules)
    why: str

    def offenders(self) -> list[Import]:
        return [i for i in ALL_IMPORTS if i.unit in self.sources and i.target_unit in self.targets]


RULES = [
    Rule(
        "providers never import sync",
        frozenset({"providers"}),
        frozenset({"sync"}),
        "a provider is the service's border; the engine calls it, never the reverse",
    ),
    Rule(
        "providers never import the store, accounts, services or front ends",
        frozenset({"providers"}),
        frozenset({"store", "accounts", "services", "cli", "gui"}),
        "a provider speaks one service's wire format with what it is handed",
    ),
    Rule(
        "store never imports sync",
        frozenset({"store"}),
        frozenset({"sync", "providers", "services", "cli", "gui"}),
        "the Sales Calendar is below the engine: sync reads and writes it",
    ),
    Rule(
        "accounts never import argparse or the command line",
        frozenset({"accounts"}),
        frozenset({"argparse", "cli", "gui"}),
        "account modules serve the wizard and the command line alike",
    ),
    Rule(
        "the core never imports the command line",
        frozenset(CORE_UNITS - {"cli"}),
        frozenset({"cli"}),
        "the command line is glue on top of the core",
    ),
    Rule(
        "the window never imports the command line",
        frozenset({"gui"}),
        frozenset({"cli"}),
        "gui and cli are both front ends over one core; rules shared live below both",
    ),
    Rule(
        "the core never imports PySide6 or the window",
        frozenset(CORE_UNITS),
        frozenset({*QT, "gui"}),
        "only calsync_desktop.gui imports Qt; the core runs headless",
    ),
]


class KnownViolation(Exception):
    """A rule broken today in exactly the known way, while the fix is under way."""


# Violations that are being removed elsewhere: the test fails on any *other*
# offender, and (strict xfail) starts failing once the known one is gone, so
# that its entry here is removed with the fix.
KNOWN: dict[str, list[str]] = {}  # none today


def _marks(rule: Rule):
    if rule.name not in KNOWN:
        return ()
    why = "known violation, being fixed (its issue says where)"
    return (pytest.mark.xfail(strict=True, raises=KnownViolation, reason=why),)


@pytest.mark.parametrize("rule", [pytest.param(r, id=r.name, marks=_marks(r)) for r in RULES])
def test_imports_point_down(rule: Rule):
    offenders = rule.offenders()
    if offenders and sorted({str(i) for i in offenders}) == KNOWN.get(rule.name):
        raise KnownViolation("; ".join(f"{i} (line {i.line})" for i in offenders))
    assert [f"{i} (line {i.line})" for i in offenders] == [], f"{rule.name}: {rule.why}"


def test_the_import_reader_sees_the_directions_that_exist():
    """The rules above are only worth something if the reader finds real imports."""
    edges = {(i.unit, i.target_unit) for i in ALL_IMPORTS}
    assert {("sync", "providers"), ("sync", "store"), ("gui", "sync")} <= edges
    assert ("gui", "PySide6") in edges and ("cli", "argparse") in edges
    assert {"model", "sync", "store", "providers", "accounts", "cli"} <= CORE_UNITS


def test_relative_imports_are_resolved(tmp_path, monkeypatch):
    package = tmp_path / "calsync_desktop"
    (package / "sync").mkdir(parents=True)
    module = package / "sync" / "engine.py"
    module.write_text("from . import mapping\nfrom ..store import Store\nimport PySide6.QtCore\n")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", package)
    found = [(i.unit, i.target, i.target_unit) for i in _imports(module)]
    assert found == [
        ("sync", "calsync_desktop.sync.mapping", "sync"),
        ("sync", "calsync_desktop.store", "store"),
        ("sync", "PySide6.QtCore", "PySide6"),
    ]


def _core_modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(calsync_desktop.__path__, "calsync_desktop."):
        if info.name.startswith(("calsync_desktop.gui", "calsync_desktop.store.migrations")):
            continue
        if info.name == "calsync_desktop.__main__":
            continue
        names.append(info.name)
    return names


def test_importing_every_core_module_loads_no_qt():
    modules = _core_modules()
    assert "calsync_desktop.sync.engine" in modules and "calsync_desktop.cli" in modules
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        f"print(sorted(m for m in sys.modules if m.startswith({QT!r})))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def test_the_entry_point_imports_qt_only_for_the_gui():
    code = (
        "import sys\n"
        "from calsync_desktop.__main__ import wants_gui\n"
        "assert not wants_gui(['status'])\n"
        "print('PySide6' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_model_reads_recurrence_rules_from_the_kit_and_nothing_else_of_the_product():
    """The model is plain data at the bottom; the one piece of the product it
    uses is the recurrence rule module, which in turn imports nothing of it."""
    rules = "calsync_desktop.providers.kit.rrule"
    model = [i for i in ALL_IMPORTS if i.unit == "model" and i.target.startswith(PRODUCT)]
    assert [str(i) for i in model if i.target != rules] == []
    kit_rules = [i for i in ALL_IMPORTS if i.source == "providers/kit/rrule.py"]
    assert [str(i) for i in kit_rules if i.target.startswith(PRODUCT)] == []
    assert any(i.target == rules for i in model)
