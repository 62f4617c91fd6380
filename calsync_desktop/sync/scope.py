"""What the sync may touch (SPEC §4, Scope).

An appointment is in scope when it is not all-day, it (or its series' last
occurrence) ended no more than 30 days ago, and it starts before the future
horizon; a service's series is in scope only when its rule is one the Sales
Calendar holds (:func:`~calsync_desktop.providers.kit.rrule.repetition_problem`:
daily to yearly, at most 999 times), and that is checked before the rule is
expanded. Out of scope is never created, changed or deleted by sync; leaving
scope is never a deletion, and it is said: a linked item that leaves scope is
listed as skipped, with the way it left (:meth:`Scope.frozen_reason`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property

from calsync_desktop.model import Appointment
from calsync_desktop.providers.base import RemoteEvent, TimeWindow
from calsync_desktop.providers.kit.rrule import MAX_COUNT, repetition_problem

PAST_DAYS = 30
DEFAULT_HORIZON_DAYS = 730

ALL_DAY, ENDED, BEYOND, REPETITION = "all-day", "ended", "beyond", "repetition"
"""The ways of being out of scope."""

KEPT = "no longer synced; kept as it is on both sides until it is back in scope."
HELD = f"series that repeat daily, weekly, monthly or yearly, at most {MAX_COUNT} times"


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

    @property
    def horizon(self) -> str:
        """The horizon in words."""
        return (
            "two years"
            if self.horizon_days == DEFAULT_HORIZON_DAYS
            else f"{self.horizon_days} days"
        )

    def out_by(self, start: datetime, last_end: datetime | None, all_day: bool) -> str | None:
        """None when in scope, else how it is out: ALL_DAY, ENDED or BEYOND."""
        if all_day:
            return ALL_DAY
        if last_end is not None and last_end < self.window.start:
            return ENDED
        if start > self.window.end:
            return BEYOND
        return None

    def why_out(self, start: datetime, last_end: datetime | None, all_day: bool) -> str | None:
        """None when in scope, else the reason in plain words."""
        return {
            None: None,
            ALL_DAY: "All-day appointments are not synced.",
            ENDED: f"Ended more than {PAST_DAYS} days ago.",
            BEYOND: f"Starts beyond the sync horizon of {self.horizon}.",
        }[self.out_by(start, last_end, all_day)]

    def local_reason(self, appointment: Appointment) -> str | None:
        return self.why_out(appointment.start, appointment.last_end(), appointment.all_day)

    def remote_reason(self, event: RemoteEvent) -> str | None:
        problem = _repetition_problem(event)
        if problem:
            return f"Not synced: {problem}; the Sales Calendar holds {HELD}."
        return self.why_out(event.start, _event_last_end(event), event.all_day)

    def local_out_by(self, appointment: Appointment) -> str | None:
        return self.out_by(appointment.start, appointment.last_end(), appointment.all_day)

    def remote_out_by(self, event: RemoteEvent) -> str | None:
        if _repetition_problem(event):
            return REPETITION
        return self.out_by(event.start, _event_last_end(event), event.all_day)

    def frozen_reason(
        self, how: str, series: bool, account: str | None = None, moved: bool = True
    ) -> str:
        """Why a linked item stopped syncing: ``how`` it left scope, and where
        (``account``'s name when the change came from there, else the Sales
        Calendar); ``moved`` False when time, not an edit, took the service's
        side out of scope."""
        where = f" in {account}" if account else ""
        if account and how == ENDED and series:
            # a series there ends earlier when its rule or its range changed, or
            # when time passed: none of which is a move
            return f"Its last occurrence{where} ended more than {PAST_DAYS} days ago, so {KEPT}"
        if account and not moved:
            if how == ENDED:
                return f"It ended{where} more than {PAST_DAYS} days ago, so {KEPT}"
            return f"It starts{where} beyond the sync horizon of {self.horizon}, so {KEPT}"
        if how == REPETITION:
            return f"Made to repeat{where} in a way not synced (only {HELD}), so {KEPT}"
        if how == ALL_DAY:
            return f"Made all-day{where} (all-day appointments are not synced), so {KEPT}"
        if how == ENDED:
            if account:
                return f"Moved{where} to more than {PAST_DAYS} days ago, so {KEPT}"
            what = "Its last occurrence ended" if series else "Ended"
            return f"{what} more than {PAST_DAYS} days ago, so {KEPT}"
        if account:
            return f"Moved{where} beyond the sync horizon of {self.horizon}, so {KEPT}"
        return f"Starts beyond the sync horizon of {self.horizon}, so {KEPT}"


def _repetition_problem(event: RemoteEvent) -> str | None:
    return None if event.recurrence is None else repetition_problem(event.recurrence.rrule)


def _event_last_end(event: RemoteEvent) -> datetime | None:
    if event.recurrence is None:
        return event.end
    last = event.recurrence.last_start(event.start, event.timezone or "UTC")
    return None if last is None else last + (event.end - event.start)
