"""The shared test vocabulary over the in-memory calendar service.

:class:`~calsync_desktop.providers.memory.MemoryCalendar` is the product's
in-memory service (its own faults, sync tokens and versions); :class:`MemoryRemote`
lets the contract suites drive it in the words they use for every other service.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

from calsync_desktop.model import (
    InviteStatus,
    MyResponse,
    OccurrenceOverride,
    Organizer,
    Participant,
    Recurrence,
    ShowAs,
)
from calsync_desktop.providers.memory import FAULTS, MemoryCalendar
from tests.fakes.kit import NewEvent, RemoteCalendar, neutral_changes, response_word

_STATUS = {s.value: s.value for s in InviteStatus}


class MemoryRemote(RemoteCalendar):
    """A :class:`MemoryCalendar` as a :class:`RemoteCalendar`.

    The memory service has one word for sensitivity (private or not), no
    sign-in, sends no mail, and answers faults by raising the provider's errors
    (it cannot aim them at writes or paths).
    """

    fault_kinds = tuple(FAULTS)

    def __init__(self, calendar: MemoryCalendar | None = None):
        self.calendar = calendar or MemoryCalendar()

    @property
    def owner(self) -> str:
        return self.calendar.email

    # -- another client's acts

    def _create_event(self, new: NewEvent) -> str:
        event = self.calendar.add(
            subject=new.subject,
            start=new.start,
            end=new.end,
            timezone=new.timezone,
            body=new.body,
            body_is_html=new.html,
            location=new.location,
            private=new.sensitivity in ("private", "confidential"),
            attendees=tuple(Participant(name or email, email) for name, email in new.attendees),
            organizer_is_self=new.organizer is None or new.organizer == self.owner,
            organizer=Organizer(new.organizer.split("@")[0].title(), new.organizer)
            if new.organizer and new.organizer != self.owner
            else None,
            show_as=ShowAs(new.show_as),
            join_url=new.join_url,
        )
        return event.remote_id

    def create_all_day_event(self, subject: str, day: date, days: int = 1) -> str:
        start = datetime.combine(day, time(), tzinfo=UTC)
        event = self.calendar.add(
            subject=subject, start=start, end=start + timedelta(days=days), all_day=True
        )
        return event.remote_id

    def edit_event(self, remote_id: str, **changes) -> None:
        changes = neutral_changes(changes)
        fields = {}
        for name, value in changes.items():
            if name == "html":
                fields["body_is_html"] = value
            elif name == "sensitivity":
                fields["private"] = value in ("private", "confidential")
            elif name == "show_as":
                fields["show_as"] = ShowAs(value)
            else:
                fields[name] = value
        self.calendar.edit(remote_id, **fields)

    def delete_event(self, remote_id: str) -> None:
        self.calendar.remove(remote_id)

    def cancel_event(self, remote_id: str) -> None:
        self.calendar.edit(remote_id, cancelled=True)

    def add_attendee(self, remote_id: str, email: str, name: str | None = None) -> None:
        event = self.calendar.events[remote_id]
        self.calendar.edit(
            remote_id, attendees=(*event.attendees, Participant(name or email, email))
        )

    def set_response(self, remote_id: str, email: str, response: str) -> None:
        status = InviteStatus(response_word(response, _STATUS))
        event = self.calendar.events[remote_id]
        if not any(p.key == email.lower() for p in event.attendees):
            raise KeyError(email)
        attendees = tuple(
            replace(p, status=status) if p.key == email.lower() else p for p in event.attendees
        )
        self.calendar.edit(remote_id, attendees=attendees)

    def decline_elsewhere(self, remote_id: str) -> None:
        # the owner's answer is the event's own: it stays declined, as Google keeps it
        self.calendar.edit(remote_id, my_response=MyResponse.DECLINED)

    def answer_occurrence(
        self, master_id: str, original_start: datetime, email: str, response: str
    ) -> None:
        # The memory calendar keeps no answers per occurrence; what a service
        # leaves of one is an exception that says what the series says.
        event, rule = self._series(master_id)
        if not any(p.key == email.lower() for p in event.attendees):
            raise KeyError(email)
        original = original_start.astimezone(UTC)
        contents = event.subject + ("\n" + event.body if event.body else "")
        plain = OccurrenceOverride(
            original, contents, event.location, original, original + (event.end - event.start)
        )
        others = tuple(o for o in rule.overrides if o.original_start != original)
        self.calendar.edit(
            master_id, recurrence=Recurrence(rule.rrule, rule.exdates, (*others, plain))
        )

    def _series(self, master_id: str) -> tuple:
        event = self.calendar.events[master_id]
        if event.recurrence is None:
            raise ValueError(f"{master_id} is not a series")
        return event, event.recurrence

    def occurrence_starts(self, master_id: str) -> list[datetime]:
        event, rule = self._series(master_id)
        moved = {o.original_start: o.start for o in rule.overrides}
        starts = []
        for start in rule.rule_set(event.start, event.timezone):
            start = start.astimezone(UTC)
            if start not in rule.exdates:
                starts.append(moved.get(start, start))
        return sorted(starts)

    def delete_occurrence(self, master_id: str, original_start: datetime) -> None:
        _event, rule = self._series(master_id)
        original = original_start.astimezone(UTC)
        kept = tuple(o for o in rule.overrides if o.original_start != original)
        recurrence = Recurrence(rule.rrule, (*rule.exdates, original), kept)
        self.calendar.edit(master_id, recurrence=recurrence)

    def edit_occurrence(self, master_id: str, original_start: datetime, **changes) -> None:
        event, rule = self._series(master_id)
        changes = neutral_changes(changes)
        original = original_start.astimezone(UTC)
        current = next((o for o in rule.overrides if o.original_start == original), None)
        current = current or OccurrenceOverride(
            original, event.subject, event.location, original, original + (event.end - event.start)
        )
        override = replace(
            current,
            contents=changes.get("subject", current.contents),
            location=changes.get("location", current.location),
            start=changes.get("start", current.start),
            end=changes.get("end", current.end),
        )
        others = tuple(o for o in rule.overrides if o.original_start != original)
        self.calendar.edit(
            master_id, recurrence=Recurrence(rule.rrule, rule.exdates, (*others, override))
        )

    # -- what it holds

    def event_ids(self) -> list[str]:
        return [e.remote_id for e in self.calendar.events.values() if not e.cancelled]

    def sensitivity(self, remote_id: str) -> str:
        return "private" if self.calendar.events[remote_id].private else "normal"

    def show_as(self, remote_id: str) -> str:
        return self.calendar.events[remote_id].show_as.value

    def invitations_sent(self) -> int:
        return 0  # the memory service sends no mail

    def own_response(self, remote_id: str) -> str | None:
        event = self.calendar.events.get(remote_id)
        if event is None:
            return None
        return {MyResponse.NONE: "no_response"}.get(event.my_response, event.my_response.value)

    def count_requests(self) -> int:
        return self.calendar.requests

    # -- the administrator's acts

    def expire_sync_state(self) -> None:
        self.calendar.expire_sync_state()

    def revoke_sign_in(self) -> None:
        raise NotImplementedError("the memory service has no sign-in")

    def restore_sign_in(self) -> None:
        raise NotImplementedError("the memory service has no sign-in")

    # -- faults: the memory service keeps its own, and cannot aim them

    def fail_next(self, kind: str, count: int = 1) -> None:  # type: ignore[override]
        if kind not in self.fault_kinds:
            raise ValueError(f"unknown fault {kind!r}; one of {self.fault_kinds}")
        self.calendar.fail_next(kind, count)

    def clear_faults(self) -> None:
        self.calendar.clear_faults()

    @contextmanager
    def looking(self) -> Iterator[None]:
        """The memory service counts and faults inside its provider calls, so a
        look puts back the count and the faults it would have used."""
        requests, armed = self.calendar.requests, list(self.calendar._faults)
        self.calendar.clear_faults()
        self._looks += 1
        try:
            yield
        finally:
            self._looks -= 1
            self.calendar.requests = requests
            self.calendar._faults[:] = armed
