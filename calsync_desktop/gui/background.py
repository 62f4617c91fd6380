"""Run one slow call (a sign-in, a validation, a live check) off the GUI thread.

The result or the exception comes back to the GUI thread as a signal, so the
window keeps answering while a server takes its time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

log = logging.getLogger(__name__)


class Task(QObject):
    """One background call. ``done(result)`` or ``failed(exception)`` arrive
    in the thread that created the task (the GUI thread); ``finished`` turns
    true after the callbacks given to :func:`run_in_background` have run."""

    done = Signal(object)
    failed = Signal(object)

    def __init__(self, call: Callable[[], Any], parent: QObject | None = None):
        super().__init__(parent)
        self.call = call
        self.finished = False
        self.thread_name = ""

    def watch(self) -> None:
        """Connect ``finished`` last: each queued slot is its own event, and
        whoever polls ``finished`` must not see it before the result was shown."""
        self.done.connect(self._mark)
        self.failed.connect(self._mark)

    def _mark(self, _value: object) -> None:
        self.finished = True


class _Runnable(QRunnable):
    def __init__(self, task: Task):
        super().__init__()
        self.task = task

    def run(self) -> None:
        import threading

        self.task.thread_name = threading.current_thread().name
        try:
            result = self.task.call()
        except BaseException as exc:  # everything goes back to the GUI thread
            log.info("Background task failed: %s", type(exc).__name__)
            self._send(self.task.failed, exc)
        else:
            self._send(self.task.done, result)

    @staticmethod
    def _send(signal, value: object) -> None:
        try:
            signal.emit(value)
        except RuntimeError:
            # the task's owner (a dialog) was closed meanwhile: nobody waits for this
            log.debug("Background result dropped: its window is gone")


def run_in_background(
    call: Callable[[], Any],
    on_done: Callable[[Any], None] | None = None,
    on_error: Callable[[BaseException], None] | None = None,
    parent: QObject | None = None,
    pool: QThreadPool | None = None,
) -> Task:
    """Start ``call()`` in the thread pool; callbacks run in the GUI thread."""
    task = Task(call, parent)
    if on_done is not None:
        task.done.connect(on_done)
    if on_error is not None:
        task.failed.connect(on_error)
    task.watch()
    (pool or QThreadPool.globalInstance()).start(_Runnable(task))
    return task


def with_own_store(services, call: Callable[[Any], Any]) -> Callable[[], Any]:
    """Wrap ``call(thread_services)`` so it runs on a Store connection of its own
    (SQLite connections belong to the thread that opened them)."""

    def run() -> Any:
        own = services.for_thread()
        try:
            return call(own)
        finally:
            own.store.close()

    return run
