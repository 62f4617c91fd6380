"""The garbage collector held off while a sync plans or applies.

A sync makes hundreds of thousands of small objects that live until the run
ends (the listing, the appointments, their rows and snapshots) and hold no
reference cycles. CPython's collector is triggered by the number of
allocations, so during a big sync it keeps scanning them, and finds nothing:
a fifth of an initial sync of 5,000 events, nearly half of it at 50,000.
Reference counting still frees everything a run drops at once; only the
search for cycles waits, and it resumes as usual when the run's step ends.

The collector is one per process, so this is process state by nature: a
count of the steps holding it off (two accounts' syncs may overlap), and
collection comes back only when the last one ends, and only if it was on.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_holders = 0
_was_enabled = False


@contextmanager
def gc_paused() -> Iterator[None]:
    """Hold off automatic garbage collection for the ``with`` block."""
    global _holders, _was_enabled
    with _lock:
        if _holders == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0 and _was_enabled:
                gc.enable()
