"""The pytest plugin of a mutation run (loaded with ``-p calsync_mutation_plugin``).

In every run it makes Hypothesis deterministic and quick to fail: no example
database, no shrinking (the first failing example kills a mutant as well as the
smallest), the seed from ``--hypothesis-seed``.

With ``CALSYNC_MUTATION_LINES=FILE`` it also records, for each test, which
lines of the files in ``CALSYNC_MUTATION_TARGETS`` (one absolute path a line)
it ran, and each test's duration, into FILE as JSON; lines run outside any test
(imports, collection) are recorded under ``"<import>"``. The mutation run uses
that map to run only the tests that reach a mutant.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path

from hypothesis import Phase, settings

_current = ["<import>"]
_lines: dict[str, dict[str, set[int]]] = {}
_durations: dict[str, float] = {}
_targets: set[str] = set()


def _load_profile() -> None:
    settings.register_profile(
        "calsync-mutation",
        parent=settings.default,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.reuse, Phase.generate],
        print_blob=False,
    )
    settings.load_profile("calsync-mutation")


def _local(frame, event, arg):
    if event == "line":
        _lines.setdefault(_current[0], {}).setdefault(frame.f_code.co_filename, set()).add(
            frame.f_lineno
        )
    return _local


def _global(frame, event, arg):
    if frame.f_code.co_filename in _targets:
        _lines.setdefault(_current[0], {}).setdefault(frame.f_code.co_filename, set()).add(
            frame.f_lineno
        )
        return _local
    return None


def pytest_configure(config):
    _load_profile()
    targets = os.environ.get("CALSYNC_MUTATION_TARGETS")
    if os.environ.get("CALSYNC_MUTATION_LINES") and targets:
        _targets.update(Path(targets).read_text().split("\n"))
        _targets.discard("")
        sys.settrace(_global)
        threading.settrace(_global)


def pytest_plugin_registered(plugin, manager):
    # a conftest that loads a profile of its own runs before the tests are
    # imported: put this run's settings back on top of it
    if getattr(plugin, "__file__", "").endswith("conftest.py"):
        _load_profile()


def pytest_runtest_protocol(item, nextitem):
    _current[0] = item.nodeid
    started = time.monotonic()
    yield
    _durations[item.nodeid] = time.monotonic() - started
    _current[0] = "<import>"


pytest_runtest_protocol.hookwrapper = True


def pytest_unconfigure(config):
    out = os.environ.get("CALSYNC_MUTATION_LINES")
    if not out or not _targets:
        return
    sys.settrace(None)
    threading.settrace(None)
    record = {
        "durations": _durations,
        "lines": {
            test: {path: sorted(lines) for path, lines in files.items()}
            for test, files in _lines.items()
        },
    }
    Path(out).write_text(json.dumps(record))
