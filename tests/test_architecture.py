"""The shape STYLE.md asks for, checked: a Qt-free core, no secrets in the tree."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "calsync_desktop"
CORE = [p for p in PACKAGE.rglob("*.py") if "gui" not in p.relative_to(PACKAGE).parts[:1]]


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_the_core_never_imports_qt():
    offenders = {
        str(p.relative_to(PACKAGE)): sorted(
            m
            for m in imported_modules(p)
            if m.split(".")[0] in {"PySide6", "shiboken6"} or m.startswith("calsync_desktop.gui")
        )
        for p in CORE
        if p.name != "__main__.py"
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_importing_the_core_loads_no_qt():
    code = (
        "import sys, calsync_desktop.sync.engine, calsync_desktop.sync.runner, "
        "calsync_desktop.services, calsync_desktop.store; "
        "print(any(m.startswith('PySide6') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
