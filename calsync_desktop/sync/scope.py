"""What the sync may touch (SPEC §4, Scope).

An appointment is in scope when it is not all-day, it (or its series' last
occurrence) ended no more than 30 days ago, and it starts before the future
horizon. Out of scope is never created, changed or deleted by sync; leaving
scope is never a deletion.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property

from calsync_desktop.model import Appointment
from calsync_desktop.providers.base import RemoteEvent, TimeWindow

PAST_DAYS = 30
DEFAULT_HORIZON_DAYS = 730


@dataclass(frozen=True)
class Scope:
    """The window of one sync run, fixed at its start."""

    now: datetime
    horizon_days: int = DEFAULT_HORIZON_DAYS

    @cached_property
    def window(self) -> TimeWindow:
        return TimeWindow(
            self.now - timedelta(days=PAST_DAYS), self.now + timedelta(days=self.horizon_days)
        )

    def why_out(self, start: datetime, last_end: datetime | None, all_day: bool) -> str | None:
        """None when in scope, else the reason in plain words."""
        if all_day:
            return "All-day appointments are not synced."
        window = self.window
        if last_end is not None and last_end < window.start:
            return f"Ended more than {PAST_DAYS} days ago."
        if start > window.end:
            return "Starts beyond the sync horizon of two years."
        return None

    def local_reason(self, appointment: Appointment) -> str | None:
        return self.why_out(appointment.start, appointment.last_end(), appointment.all_day)

    def remote_reason(self, event: RemoteEvent) -> str | None:
        if event.recurrence is None:
            last_end = event.end
        else:
            last = event.recurrence.last_start(event.start, event.timezone or "UTC")
            last_end = None if last is None else last + (event.end - event.start)
        return self.why_out(event.start, last_end, event.all_day)
