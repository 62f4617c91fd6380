"""The core never imports PySide6; only calsync_desktop.gui does."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import calsync_desktop


def core_modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(calsync_desktop.__path__, "calsync_desktop."):
        if info.name.startswith(("calsync_desktop.gui", "calsync_desktop.store.migrations")):
            continue
        if info.name == "calsync_desktop.__main__":
            continue
        names.append(info.name)
    return names


def test_core_modules_do_not_import_qt():
    modules = core_modules()
    assert "calsync_desktop.sync.engine" in modules
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m.startswith(('PySide6', 'shiboken6'))))\n"
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
