"""The team's calendar on a team server: everyone's appointments as the team
view shows them (colleagues' private ones withheld by the database), the
members, the change token the view polls, and the per-account sync lock. In
a SQLite file there is no team: the user's own appointments, no members.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, text, union_all

from calsync_desktop.model import Appointment
from calsync_desktop.store import views as v
from calsync_desktop.store.appointments import Appointments, _appointment_columns
from calsync_desktop.store.errors import AccountBusy, StoreUnavailable

# The team view's statements are small: PostgreSQL's parallel workers cost
# several times the CPU they save there (measured: the participants of a week
# of 50 members, 61 ms of the server's CPU in parallel against 14 ms without)
_SERIAL_PLANS = text("SET LOCAL max_parallel_workers_per_gather = 0")


@dataclass(frozen=True)
class TeamAppointment:
    """An appointment as the team view shows it: whose it is, and whether the
    database withheld its contents (a colleague's private appointment: only its
    times are known, ``appointment.contents`` and ``location`` are empty and it
    has no participants)."""

    appointment: Appointment
    owner: str
    mine: bool
    redacted: bool


@dataclass(frozen=True)
class TeamMember:
    """A member of the team: their database role (the owner of their rows),
    email and display name."""

    role: str
    email: str
    name: str


class TeamCalendar(Appointments):
    """The team's side of a :class:`calsync_desktop.store.Store`."""

    def team_change_token(self) -> tuple:
        """Changes whenever anyone in the team changes an appointment: a cheap
        poll for the team view when notifications are not available."""
        rows = self._read(select(v.changes.c.owner, v.changes.c.value).order_by("owner")).all()
        return tuple((r.owner, r.value) for r in rows)

    def team_members(self) -> list[TeamMember]:
        """Everyone in the team (oneself too), by name; none in a SQLite file."""
        if not self.is_team:
            return []
        rows = self._read(
            text("SELECT role, email, name FROM team_members ORDER BY lower(name), email")
        ).all()
        return [TeamMember(r.role, r.email, r.name or r.email) for r in rows]

    @contextmanager
    def account_lock(self, account_id: str, wait: float = 300.0, name: str = "") -> Iterator[None]:
        """Hold the database-wide lock of one account while syncing it: two
        computers of one member never sync the same account at once. A SQLite
        file is one computer's; there the app's own lock is enough."""
        if not self.is_team:
            yield
            return
        import time

        key = {"k": account_id}
        deadline = time.monotonic() + wait
        lock = text("SELECT pg_try_advisory_lock(hashtextextended(:k, 0))")
        while not self._read(lock, key).scalar_one():
            if time.monotonic() >= deadline:
                raise AccountBusy(name or account_id)
            time.sleep(0.1)
        try:
            yield
        finally:
            try:
                self._read(text("SELECT pg_advisory_unlock(hashtextextended(:k, 0))"), key)
            except StoreUnavailable:
                pass  # the server let go of it with the connection

    def team_appointments_between(
        self, start: datetime, end: datetime, owners: Iterable[str] | None = None
    ) -> list[TeamAppointment]:
        """Everyone's appointments (series whole) that may appear in [start, end),
        as the team view shows them: a colleague's private appointment comes
        without contents, location or participants (the database withholds
        them). In a SQLite file: the user's own."""
        a = v.appointments.c
        shown = select(*_appointment_columns(a), a.owner).where(a.start < end)
        if owners is not None:
            shown = shown.where(a.owner.in_(list(owners)))
        # two halves, not "last_end IS NULL OR last_end > start": each half's
        # whole condition is in the range index, so only the rows shown are read
        query = union_all(shown.where(a.last_end > start), shown.where(a.last_end.is_(None)))
        with self.transaction() as conn:  # one commit for the statements
            if self.is_team:
                conn.execute(_SERIAL_PLANS)
            rows = self._read(query).all()
            people, moved = self._children(rows, v.participants, v.overrides)
        me = self.owner
        out = []
        for r in rows:
            redacted = r.contents is None  # the view withheld it
            owner = r.owner
            out.append(
                TeamAppointment(
                    self._appointment(r, people, moved, redacted), owner, owner == me, redacted
                )
            )
        return out
