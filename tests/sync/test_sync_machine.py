"""A Hypothesis state machine that edits both sides, injects faults and crashes,
syncs, and checks after every clean sync:

- no duplicates (one remote event per appointment, one appointment per event);
- no lost edit (the last edit of each two-way field since the last clean sync
  is on both sides, or it lost a conflict and is in the conflict log; an edit
  beats a deletion);
- nothing out of scope is touched (created, changed or deleted);
- one-way fields never flow back (remote attendee lists and rules);
- an occurrence cancelled remotely is a deleted occurrence in the Sales Calendar;
- a series split "this and following" on either side ends at the split on both
  sides, and the new series is on both sides once;
- both sides equal on the two-way fields (a series' deleted and changed
  occurrences among them; private, or with "sync all as private" private
  locally whatever the service says, the service's own flag untouched);
- each participant's answer as the service reports it;
- the mass-deletion guard's answer is obeyed: "stop" changes nothing on
  either side, "restore" deletes nothing that was linked, "apply" deletes.

Remote events come as plain text or HTML bodies, single or as daily series
with an occurrence cancelled or moved; the account may sync everything as
private; whole calendars can vanish at once (the guard's question).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    consumes,
    initialize,
    invariant,
    multiple,
    rule,
)

from calsync_desktop.model import (
    InvalidAppointment,
    InviteStatus,
    OccurrenceOverride,
    Participant,
    Recurrence,
    ShowAs,
)
from calsync_desktop.providers.base import Create, ProviderError
from calsync_desktop.store.logs import field_text
from calsync_desktop.sync.engine import Decision
from calsync_desktop.sync.mapping import join_contents
from calsync_desktop.sync.scope import Scope

from .harness import Crash
from .machine import OnPostgres, StoreMachine

words = st.sampled_from(["Acme", "call", "demo", "lunch", "Zürich", "Q4", "pricing", "🙂", ""])
text = st.lists(words, min_size=1, max_size=4).map(" ".join).map(str.strip).filter(bool)
locations = st.sampled_from(["", "Room 1", "HQ", "Café Central"])
days = st.integers(min_value=-45, max_value=40)
hours = st.integers(min_value=7, max_value=18)
people = st.lists(
    st.builds(
        Participant,
        st.sampled_from(["Ann", "Bob", "Cy"]),
        st.sampled_from([None, "ann@x.example", "bob@x.example", "cy@x.example"]),
    ),
    max_size=2,
    unique_by=lambda p: p.email or p.name,
)


BOTH = ["local", "remote"]


class SyncMachine(StoreMachine):
    appointments = Bundle("appointments")
    events = Bundle("events")

    @initialize(all_private=st.booleans())
    def setup(self, all_private):
        self.start(sync_all_private=all_private)
        self.all_private = all_private
        # remote ids whose private flag the sync must leave as the service set it
        self.remote_private: dict[str, bool] = {}
        # local ids the user made private or not private themselves
        self.private_set_locally: set[str] = set()
        # small write batches, so that a push takes several and a kill can fall between
        self.h.calendar.batch_size = 3
        self.pending_fault = False
        # edits since the last clean sync: (key, field) -> {"local"/"remote": value}
        # every edit since the last clean sync, in order: [item key, field, side, value];
        # an item's key is its local id, or its remote id while only that is known
        self.edits: list[list] = []
        # syncs that ran to their end; an edit made after one of them follows the
        # edits made before it instead of competing with them
        self.epoch = 0
        # the account was added again and has not completed its first sync: that
        # sync links what is the same and lets the Sales Calendar's values win, so
        # edits and deletions made before it are not tracked
        self.first_sync_pending = False
        self.deleted: dict[str, str] = {}  # key -> side that deleted it
        self.remote_rules: dict[str, str] = {}  # remote id -> rule set remotely
        # remote id -> local participant emails when the remote attendee list was edited
        self.remote_attendee_edits: dict[str, list] = {}
        # remote id of a series -> original starts of occurrences cancelled remotely
        self.cancelled: dict[str, set[datetime]] = {}
        # series split since they were linked: (side, old key, new key, cut, epoch),
        # a key being a local id for a local split and a remote id for a remote one
        self.splits: list[tuple[str, str, str, datetime, int]] = []
        # occurrences cancelled since they were linked: (side, key, epoch)
        self.cancellations: list[tuple[str, str, int]] = []
        # items of a split series: their occurrences are checked by check_series
        self.ever_split: set[str] = set()
        # new series of remote splits: they carry the old series' local id (as on Google)
        self.split_copies: set[str] = set()

    # ------------------------------------------------------------------ identity of an item

    def key_of_local(self, local_id):
        row = self.store.status_for(self.h.account.id, [local_id]).get(local_id)
        return row.remote_id if row and row.remote_id else local_id

    def in_scope_now(self, local_id=None, remote_id=None) -> bool:
        scope = Scope(self.clock())
        if local_id:
            a = self.store.get_appointment(local_id)
            if a is None or scope.local_reason(a):
                return False
        if remote_id:
            e = self.h.calendar.events.get(remote_id)
            if e is None or scope.remote_reason(e):
                return False
        return True

    def note(self, key, field, side, value):
        self.edits.append([key, field, side, value, self.epoch])

    def forget_edits(self, keys, side):
        self.edits = [e for e in self.edits if not (e[0] in keys and e[2] == side)]

    def merged_edits(self, by_remote) -> dict[tuple[str, str], dict[str, object]]:
        """(local id or remote id, field) -> the last value each side gave it since
        the last sync that ran to its end before them (earlier values were synced)."""
        canon = [
            (by_remote[key].local_id if key in by_remote else key, field, side, value, epoch)
            for key, field, side, value, epoch in self.edits
        ]
        latest: dict[tuple[str, str], int] = {}
        for key, field, _side, _value, epoch in canon:
            latest[(key, field)] = max(latest.get((key, field), epoch), epoch)
        out: dict[tuple[str, str], dict[str, object]] = {}
        for key, field, side, value, epoch in canon:
            if epoch == latest[(key, field)]:
                out.setdefault((key, field), {})[side] = value
        return out

    # ------------------------------------------------------------------ local side

    @rule(
        target=appointments,
        contents=text,
        day=days,
        hour=hours,
        location=locations,
        private=st.booleans(),
        all_day=st.booleans(),
        participants=people,
        weekly=st.booleans(),
    )
    def add_local(self, contents, day, hour, location, private, all_day, participants, weekly):
        start = (self.clock() + timedelta(days=day)).replace(hour=hour)
        a = self.h.add_local(
            contents,
            start=start,
            location=location,
            private=private,
            all_day=all_day,
            participants=tuple(participants),
            recurrence=Recurrence("FREQ=WEEKLY;COUNT=3") if weekly else None,
        )
        return a.id

    @rule(target=appointments, n=st.integers(min_value=2, max_value=8), day=days, hour=hours)
    def add_several_local(self, n, day, hour):
        """Several appointments at once (an import): a push of several write batches."""
        start = (self.clock() + timedelta(days=day)).replace(hour=hour)
        return multiple(
            *(self.h.add_local(f"Visit {i}", start=start + timedelta(hours=i)).id for i in range(n))
        )

    @rule(local_id=appointments, contents=text, location=locations)
    def edit_local(self, local_id, contents, location):
        a = self.store.get_appointment(local_id)
        if a is None:
            return
        self.h.edit_local(local_id, contents=contents, location=location)
        key = self.key_of_local(local_id)
        self.note(key, "contents", "local", contents)
        self.note(key, "location", "local", location)

    @rule(local_id=appointments, show_as=st.sampled_from(list(ShowAs)))
    def set_show_as_local(self, local_id, show_as):
        if self.store.get_appointment(local_id) is None:
            return
        self.h.edit_local(local_id, show_as=show_as)
        self.note(self.key_of_local(local_id), "show_as", "local", show_as)

    @rule(local_id=appointments, shift=st.integers(min_value=-3, max_value=3))
    def move_local(self, local_id, shift):
        a = self.store.get_appointment(local_id)
        if a is None:
            return
        delta = timedelta(hours=shift)
        try:
            self.h.edit_local(local_id, start=a.start + delta, end=a.end + delta)
        except InvalidAppointment:
            # a series ended by a split (UNTIL its last occurrence) moved later
            # than that end has no occurrence left: the window refuses the edit
            return
        self.note(self.key_of_local(local_id), "time", "local", (a.start + delta, a.end + delta))

    @rule(local_id=appointments)
    def toggle_all_day_local(self, local_id):
        a = self.store.get_appointment(local_id)
        if a is not None:
            self.h.edit_local(local_id, all_day=not a.all_day)

    @rule(local_id=appointments, participants=people)
    def set_participants_local(self, local_id, participants):
        if self.store.get_appointment(local_id) is not None:
            self.h.edit_local(local_id, participants=tuple(participants))
            self.remote_attendee_edits.pop(self.key_of_local(local_id), None)

    @rule(local_id=appointments, private=st.booleans())
    def set_private_local(self, local_id, private):
        if self.store.get_appointment(local_id) is not None:
            self.h.edit_local(local_id, private=private)
            self.note(self.key_of_local(local_id), "private", "local", private)
            self.private_set_locally.add(local_id)

    @rule(local_id=consumes(appointments))
    def delete_local(self, local_id):
        if self.store.get_appointment(local_id) is not None:
            key = self.key_of_local(local_id)
            self.deleted.setdefault(key, "local")
            self.forget_edits({key, local_id}, "local")  # a deletion supersedes earlier edits
            self.store.delete_appointment(local_id)

    # ------------------------------------------------------------------ remote side

    @rule(
        target=events,
        subject=text,
        day=days,
        hour=hours,
        private=st.booleans(),
        all_day=st.booleans(),
        attendees=people,
        weekly=st.booleans(),
    )
    def add_remote(self, subject, day, hour, private, all_day, attendees, weekly):
        start = (self.clock() + timedelta(days=day)).replace(hour=hour)
        e = self.h.add_remote(
            subject,
            start=start,
            private=private,
            all_day=all_day,
            attendees=tuple(attendees),
            recurrence=Recurrence("FREQ=WEEKLY;COUNT=3") if weekly else None,
        )
        self.remote_private[e.remote_id] = private
        return e.remote_id

    @rule(
        target=events,
        subject=text,
        paragraphs=st.lists(text, min_size=1, max_size=3),
        day=days,
        hour=hours,
        private=st.booleans(),
    )
    def add_remote_html(self, subject, paragraphs, day, hour, private):
        """An event whose body is HTML (as Outlook writes it)."""
        start = (self.clock() + timedelta(days=day)).replace(hour=hour)
        body = "".join(f"<p>{p}</p>" for p in paragraphs[:-1]) + f"<b>{paragraphs[-1]}</b><br>"
        e = self.h.add_remote(subject, start=start, private=private, body=body, body_is_html=True)
        self.remote_private[e.remote_id] = private
        return e.remote_id

    @rule(
        target=events,
        subject=text,
        day=days,
        hour=hours,
        cancelled=st.sampled_from([None, 1, 2]),
        moved=st.sampled_from([None, 1, 3]),
    )
    def add_remote_series(self, subject, day, hour, cancelled, moved):
        """A daily series of four made in the service, maybe with one occurrence
        cancelled and one moved by an hour (an override with its own location)."""
        start = (self.clock() + timedelta(days=day)).replace(hour=hour)
        exdates = () if cancelled is None else (start + timedelta(days=cancelled),)
        overrides = ()
        if moved is not None and moved != cancelled:
            original = start + timedelta(days=moved)
            overrides = (
                OccurrenceOverride(
                    original,
                    subject,
                    "Moved here",
                    original + timedelta(hours=1),
                    original + timedelta(hours=2),
                ),
            )
        rule = Recurrence("FREQ=DAILY;COUNT=4", exdates=exdates, overrides=overrides)
        e = self.h.add_remote(subject, start=start, recurrence=rule)
        self.remote_private[e.remote_id] = False
        return e.remote_id

    @rule(remote_id=events, status=st.sampled_from(list(InviteStatus)))
    def answer_remote(self, remote_id, status):
        """An attendee answers the invitation; the service reports the answer."""
        e = self._remote_pick(remote_id)
        if e is None or not e.attendees:
            return
        first, *rest = e.attendees
        self.h.calendar.edit(remote_id, attendees=(replace(first, status=status), *rest))

    def _remote_pick(self, remote_id):
        return self.h.calendar.events.get(remote_id)

    @rule(remote_id=events, subject=text, location=locations, html=st.sampled_from(["", None]))
    def edit_remote(self, remote_id, subject, location, html):
        if self._remote_pick(remote_id) is None:
            return
        if html is None:  # a body in HTML: two lines of text
            body, is_html = f"<div>{subject}</div><p>{location or 'no room'}</p>", True
        else:
            body, is_html = "", False
        self.h.calendar.edit(
            remote_id, subject=subject, body=body, body_is_html=is_html, location=location
        )
        self.note(remote_id, "contents", "remote", join_contents(subject, body, is_html))
        self.note(remote_id, "location", "remote", location)

    @rule(remote_id=events, show_as=st.sampled_from(list(ShowAs)))
    def set_show_as_remote(self, remote_id, show_as):
        if self._remote_pick(remote_id) is None:
            return
        self.h.calendar.edit(remote_id, show_as=show_as)
        self.note(remote_id, "show_as", "remote", show_as)

    @rule(local_id=appointments, subject=text)
    def edit_remote_of_local(self, local_id, subject):
        row = self.store.status_for(self.h.account.id, [local_id]).get(local_id)
        if row and row.remote_id in self.h.calendar.events:
            self.h.calendar.edit(row.remote_id, subject=subject, body="")
            self.note(row.remote_id, "contents", "remote", subject)

    @rule(remote_id=events)
    def toggle_all_day_remote(self, remote_id):
        e = self._remote_pick(remote_id)
        if e is not None:
            self.h.calendar.edit(remote_id, all_day=not e.all_day)

    @rule(local_id=appointments)
    def toggle_all_day_remote_of_local(self, local_id):
        row = self.store.status_for(self.h.account.id, [local_id]).get(local_id)
        if row and row.remote_id in self.h.calendar.events:
            e = self.h.calendar.events[row.remote_id]
            self.h.calendar.edit(row.remote_id, all_day=not e.all_day)

    @rule(remote_id=events, shift=st.integers(min_value=-3, max_value=3))
    def move_remote(self, remote_id, shift):
        e = self._remote_pick(remote_id)
        if e is None:
            return
        delta = timedelta(hours=shift)
        self.h.calendar.edit(remote_id, start=e.start + delta, end=e.end + delta)
        self.note(remote_id, "time", "remote", (e.start + delta, e.end + delta))

    @rule(remote_id=events, attendees=people)
    def change_remote_attendees(self, remote_id, attendees):
        if self._remote_pick(remote_id) is None:
            return
        self.h.calendar.edit(remote_id, attendees=tuple(attendees))
        rows = self.store.status_for_remote(self.h.account.id, [remote_id])
        if remote_id in rows:
            a = self.store.get_appointment(rows[remote_id].local_id)
            if a is not None:
                self.remote_attendee_edits[remote_id] = sorted(
                    p.key for p in a.participants if p.key
                )

    @rule(local_id=appointments)
    def change_remote_rule(self, local_id):
        row = self.store.status_for(self.h.account.id, [local_id]).get(local_id)
        if row and row.remote_id in self.h.calendar.events:
            self.h.calendar.edit(row.remote_id, recurrence=Recurrence("FREQ=DAILY;COUNT=2"))
            self.remote_rules[row.remote_id] = "FREQ=DAILY;COUNT=2"
            self.cancelled.pop(row.remote_id, None)  # a new rule has none deleted

    # ------------------------------------------------------------------ series

    @staticmethod
    def starts_of(item) -> list[datetime]:
        """Original starts of a series' occurrences (either side's item)."""
        rule = item.recurrence.rule_set(item.start, item.timezone)
        return [s.astimezone(UTC) for s in rule]

    def remote_of(self, local_id) -> str | None:
        row = self.store.status_for(self.h.account.id, [local_id]).get(local_id)
        return row.remote_id if row and row.remote_id in self.h.calendar.events else None

    @rule(local_id=appointments, which=st.integers(min_value=0, max_value=2))
    def cancel_remote_occurrence_of_local(self, local_id, which):
        remote_id = self.remote_of(local_id)
        if remote_id is not None:
            self.cancel_remote_occurrence(remote_id, which)

    @rule(local_id=appointments, at=st.integers(min_value=1, max_value=2))
    def split_remote_of_local(self, local_id, at):
        remote_id = self.remote_of(local_id)
        if remote_id is not None:
            self.split_remote(remote_id, at)

    @rule(local_id=appointments, at=st.integers(min_value=1, max_value=2))
    def sync_then_split_remote_of_local(self, local_id, at):
        """A series made in the Sales Calendar is split remotely once it is there
        (its new series then carries the appointment's local id, as on Google)."""
        if self.pending_fault:
            return
        self.sync()
        self.split_remote_of_local(local_id, at)

    @rule(remote_id=events, which=st.integers(min_value=0, max_value=2))
    def cancel_remote_occurrence(self, remote_id, which):
        """The organiser cancels one occurrence (every service reports it to the
        provider as a deleted occurrence: tests/sync/e2e_series.py)."""
        e = self._remote_pick(remote_id)
        if e is None or e.recurrence is None or self.first_sync_pending:
            return
        starts = self.starts_of(e)
        original = starts[which % len(starts)]
        exdates = tuple(sorted({*e.recurrence.exdates, original}))
        self.h.calendar.edit(remote_id, recurrence=replace(e.recurrence, exdates=exdates))
        self.cancelled.setdefault(remote_id, set()).add(original)
        self.cancellations.append(("remote", remote_id, self.epoch))

    @staticmethod
    def _split_rules(rrule: str, starts: list, at: int) -> tuple[str, str]:
        """The old series' rule ending before occurrence ``at``, and the new one's."""
        kept = [p for p in rrule.split(";") if not p.startswith(("COUNT=", "UNTIL="))]
        until = (starts[at] - timedelta(seconds=1)).strftime("%Y%m%dT%H%M%SZ")
        return ";".join([*kept, f"UNTIL={until}"]), ";".join([*kept, f"COUNT={len(starts) - at}"])

    @rule(
        remote_id=events,
        at=st.integers(min_value=1, max_value=2),
        moved=st.sampled_from([0, 1]),
        google=st.booleans(),
    )
    def split_remote(self, remote_id, at, moved=0, google=True):
        """Another client changes "this and following", the rest ``moved`` by that
        many days (to another weekday): the old series' UNTIL moved, its later
        exceptions gone, and a new series: in Google's shape named after the old
        one (``<id>_R<cut>``) and carrying its local id (Google copies
        extendedProperties), in Outlook's a series with nothing of the old one's."""
        e = self._remote_pick(remote_id)
        if e is None or e.recurrence is None or self.first_sync_pending:
            return
        starts = self.starts_of(e)
        if at >= len(starts):
            return
        old_rule, new_rule = self._split_rules(e.recurrence.rrule, starts, at)
        cut = starts[at]
        self.h.calendar.edit(
            remote_id,
            recurrence=Recurrence(
                old_rule,
                tuple(x for x in e.recurrence.exdates if x < cut),
                tuple(o for o in e.recurrence.overrides if o.original_start < cut),
            ),
        )
        named = f"{remote_id}_R{cut.astimezone(UTC):%Y%m%dT%H%M%S}"
        google = google and named not in self.h.calendar.events
        shape = {"remote_id": named, "split_from": remote_id, "local_id": e.local_id}
        new = self.h.add_remote(
            f"{e.subject} (new room)",
            start=cut + timedelta(days=moved),
            hours=(e.end - e.start).total_seconds() / 3600,
            timezone=e.timezone,
            recurrence=Recurrence(new_rule),
            **(shape if google else {}),
        )
        self.splits.append(("remote", remote_id, new.remote_id, cut, self.epoch))
        self.split_copies.add(new.remote_id)
        # the occurrences from the cut on are the new series' now
        left = {x for x in self.cancelled.get(remote_id, set()) if x < cut}
        self.cancelled[remote_id] = left

    @rule(target=appointments, local_id=appointments, at=st.integers(min_value=1, max_value=2))
    def split_local(self, local_id, at):
        """The user ends a series in the Sales Calendar and starts a new one there."""
        a = self.store.get_appointment(local_id)
        if a is None or a.recurrence is None or self.first_sync_pending:
            return multiple()
        starts = self.starts_of(a)
        if at >= len(starts):
            return multiple()
        old_rule, new_rule = self._split_rules(a.recurrence.rrule, starts, at)
        cut = starts[at]
        self.h.edit_local(local_id, recurrence=replace(a.recurrence, rrule=old_rule))
        new = self.h.add_local(
            f"{a.contents} (new room)",
            start=cut,
            hours=(a.end - a.start).total_seconds() / 3600,
            timezone=a.timezone,
            recurrence=Recurrence(new_rule),
        )
        self.splits.append(("local", local_id, new.id, cut, self.epoch))
        return new.id

    @rule(remote_id=consumes(events))
    def delete_remote(self, remote_id):
        if self._remote_pick(remote_id) is not None:
            self.deleted.setdefault(remote_id, "remote")
            rows = self.store.status_for_remote(self.h.account.id, [remote_id])
            linked = {rows[remote_id].local_id} if remote_id in rows else set()
            self.forget_edits({remote_id} | linked, "remote")
            self.h.calendar.remove(remote_id)

    # ------------------------------------------------------------------ time, faults

    @rule(n=st.integers(min_value=1, max_value=20))
    def advance_clock(self, n):
        self.clock.now += timedelta(days=n)

    decisions = st.sampled_from(list(Decision))

    @rule(decision=decisions)
    def service_loses_everything(self, decision):
        """Every event vanishes from the service at once (a calendar emptied by
        another client, or the wrong calendar), its sync state with them; then
        a sync, where the guard asks and the user answers ``decision`` (and
        keeps answering so until another answer)."""
        for remote_id in list(self.h.calendar.events):
            self.delete_remote(remote_id)
        self.h.calendar.expire_sync_state()
        self.h.decision = decision
        self.sync()

    @rule(share=st.sampled_from([1, 2]), decision=decisions)
    def delete_many_local(self, share, decision):
        """The user deletes every appointment (or every second one) at once and
        syncs; the guard may ask."""
        for a in self.h.all_local()[::share]:
            self.delete_local(a.id)
        self.h.decision = decision
        self.sync()

    @rule(kind=st.sampled_from(["rate_limit", "server_error", "drop", "malformed"]))
    def fail_next(self, kind):
        self.h.calendar.fail_next(kind)
        self.pending_fault = True

    @rule()
    def crash_in_next_sync(self):
        self.h.provider.crash_after_write = True
        self.pending_fault = True

    @rule(n=st.integers(min_value=1, max_value=8))
    def kill_after_writes(self, n):
        """The process dies once ``n`` more writes have reached the service."""
        self.h.kill_after_writes(n)
        self.pending_fault = True

    def check_links_of_answered_batches(self, first_batch: int) -> None:
        """After a kill, every event created by a write request answered before
        the fatal one is linked: only the batch in flight may lack its links."""
        batches = self.h.batches[first_batch:]
        answered = batches[:-1]
        if batches and len(batches[-1][0]) == 1 and answered:
            # a lone write may be one made while a batch commits (an event found
            # to exist already is linked with a write of its own)
            answered = answered[:-1]
        status = self.store.all_status(self.h.account.id)
        for writes, results in answered:
            for write, result in zip(writes, results, strict=True):
                if isinstance(write, Create) and result.ok:
                    row = status.get(write.draft.local_id)
                    assert row is not None and row.remote_id == result.event.remote_id, (
                        "a link of an answered batch was lost"
                    )

    @rule(settled=st.booleans(), renamed=st.booleans())
    def readd_account(self, settled, renamed):
        """Remove the account (keeping the appointments) and add it again: its
        first sync links every event to its appointment (by local id, iCalUID
        or the same contents and time) and copies nothing twice.

        ``settled``: a clean sync first, so that both sides agree and the
        counts must stay; otherwise edits (titles among them) and deletions
        made since the last sync are pending when the account goes. Removing
        an account forgets its pending deletions, and a first link lets the
        Sales Calendar's values win, so those are no longer tracked.
        ``renamed``: meanwhile another client renames every event (the title
        is then no evidence; the local id and the iCalUID are)."""
        if settled:
            if self.pending_fault:
                return
            asked = len(self.h.guards)
            self.sync()
            # the guard stopped that sync: the sides do not agree (what the service
            # lost is still to restore or delete), and removing the account forgets
            # its pending deletions (SPEC §4, Deletions), so the first sync copies
            # what the other side lacks: the counts may change, once each (the
            # checks after that sync see to no duplicates)
            stopped = len(self.h.guards) > asked and self.h.decision is Decision.STOP
            before = (len(self.h.all_local()), len(self.h.calendar.events))
        account = self.h.account
        self.store.remove_account(account.id, keep_appointments=True)
        if renamed:
            for remote_id, event in list(self.h.calendar.events.items()):
                self.h.calendar.edit(remote_id, subject=f"{event.subject} (renamed)")
        self.h.account = self.store.add_account(
            replace(account, sync_state=None, local_seq=0, first_sync_done=False)
        )
        self.edits, self.deleted = [], {}
        self.remote_rules.clear()
        self.remote_attendee_edits.clear()
        self.cancelled.clear()
        self.splits.clear()
        self.cancellations.clear()
        self.first_sync_pending = True
        if settled:
            self.sync()
            after = (len(self.h.all_local()), len(self.h.calendar.events))
            assert stopped or after == before, "duplicated when the account was added again"

    # ------------------------------------------------------------------ sync

    def _frozen_snapshot(self):
        """Items out of scope now, as both sides hold them."""
        scope = Scope(self.clock())
        local = {a.id: a for a in self.h.all_local() if scope.local_reason(a)}
        remote = {rid: e for rid, e in self.h.calendar.events.items() if scope.remote_reason(e)}
        return local, remote

    @rule()
    def sync(self):
        frozen_local, frozen_remote = self._frozen_snapshot()
        crashed = failed = False
        first_batch = len(self.h.batches)
        asked_before = len(self.h.guards)
        links_before = self.store.all_status(self.h.account.id)
        local_before = {a.id: a for a in self.h.all_local()}
        remote_before = dict(self.h.calendar.events)
        result = None
        try:
            result = self.h.sync()
        except Crash:
            crashed = True
            self.check_links_of_answered_batches(first_batch)
        except ProviderError:
            failed = True
        # out of scope is never created, changed or deleted, whatever happened
        for local_id, before in frozen_local.items():
            assert self.store.get_appointment(local_id) == before, "frozen appointment touched"
        for remote_id, before in frozen_remote.items():
            assert self.h.calendar.events.get(remote_id) == before, "frozen event touched"
        asked = len(self.h.guards) > asked_before
        if asked and self.h.decision is Decision.RESTORE:
            # what was deleted comes back (also when a fault ends this run: the
            # next run is asked again and restores the rest)
            self.deleted = {}
        if (
            asked
            and result is not None
            and self.check_the_guards_answer(result, links_before, local_before, remote_before)
        ):
            return  # stopped: the edits and deletions are still to sync
        if not (crashed or failed):
            self.epoch += 1
            if self.first_sync_pending:
                self.first_sync_pending = False
                self.edits, self.deleted = [], {}
        if crashed or failed or self.pending_fault:
            # a fault may have hit this run; the next clean run must complete it
            self.pending_fault = (
                bool(self.h.calendar.pending_faults)
                or self.h.provider.crash_after_write
                or self.h.kill_pending
            )
            return
        self.check_after_clean_sync()

    def check_the_guards_answer(self, result, links_before, local_before, remote_before) -> bool:
        """The guard asked; the user's answer was obeyed. True when the sync stopped."""
        if self.h.decision is Decision.STOP:
            assert result.stopped, "the guard's stop did not stop the sync"
            assert {a.id: a for a in self.h.all_local()} == local_before, "stopped, yet changed"
            assert dict(self.h.calendar.events) == remote_before, "stopped, yet written"
            return True
        assert not result.stopped
        if self.h.decision is Decision.RESTORE:
            # what either side deleted comes back from the other: nothing linked is gone
            scope = Scope(self.clock())
            status = self.store.all_status(self.h.account.id)
            for local_id, row in links_before.items():
                a, e = local_before.get(local_id), remote_before.get(row.remote_id)
                if a is None and e is None:
                    continue
                if (a and scope.local_reason(a)) or (e and scope.remote_reason(e)):
                    continue
                assert self.store.get_appointment(local_id) is not None, "restore deleted locally"
                now = status.get(local_id)
                assert now and now.remote_id in self.h.calendar.events, "restore deleted remotely"
        return False

    def check_after_clean_sync(self):
        h, account = self.h, self.h.account
        scope = Scope(self.clock())
        status = self.store.all_status(account.id)
        by_remote = {r.remote_id: r for r in status.values()}

        # no duplicates
        carried = [
            e.local_id
            for rid, e in h.calendar.events.items()
            if e.local_id and rid not in self.split_copies
        ]
        assert len(carried) == len(set(carried)), "two remote events carry one appointment"
        assert len(by_remote) == len(status), "one event linked twice"
        uids = [a.ical_uid for a in h.all_local() if a.ical_uid]
        assert len(uids) == len(set(uids)), "two appointments of one event (iCalUID)"
        locals_ = {a.id: a for a in h.all_local()}

        for local_id, row in status.items():
            a = locals_.get(local_id)
            e = h.calendar.events.get(row.remote_id)
            if a is None or e is None or scope.local_reason(a) or scope.remote_reason(e):
                continue
            # both sides equal on the two-way fields
            assert a.contents == join_contents(e.subject, e.body, e.body_is_html)
            assert a.location == e.location
            assert a.show_as == e.show_as, "show-as differs"
            assert (a.start, a.end) == (e.start, e.end)
            self.check_private(a, e, local_id, row.remote_id)
            # each participant's answer as the service reports it
            answers = {p.key: p.status for p in e.attendees if p.key}
            for p in a.participants:
                if p.key in answers:
                    assert p.status == answers[p.key], ("answer", p.key)
            # a series' cancelled and moved occurrences on both sides
            self.ever_split |= {key for split in self.splits for key in split[1:3]}
            split = {local_id, row.remote_id} & self.ever_split
            if (
                a.recurrence
                and e.recurrence
                and not split
                and row.remote_id not in self.remote_rules
                and a.recurrence.rrule == e.recurrence.rrule
            ):
                assert set(a.recurrence.exdates) == set(e.recurrence.exdates), "exdates differ"
                assert set(a.recurrence.overrides) == set(e.recurrence.overrides), "overrides"
            # one-way fields never flow back
            restored = self.deleted.get(row.remote_id) or self.deleted.get(local_id)
            if row.remote_id in self.remote_rules and a.recurrence is not None and not restored:
                assert a.recurrence.rrule != self.remote_rules[row.remote_id]
            if row.remote_id in self.remote_attendee_edits:
                local_keys = sorted(p.key for p in a.participants if p.key)
                assert local_keys == self.remote_attendee_edits[row.remote_id]

        self.check_series(status, by_remote, locals_, scope)

        # leaving scope is never silent: a linked item out of scope on either side
        # is listed as skipped (frozen), and only such an item
        frozen = {s.item_id for s in self.store.skipped(account.id) if s.frozen}
        for local_id, row in status.items():
            a, e = locals_.get(local_id), h.calendar.events.get(row.remote_id)
            out = bool((a and scope.local_reason(a)) or (e and scope.remote_reason(e)))
            assert out == (local_id in frozen), ("out of scope" if out else "in scope", local_id)

        # no lost edit
        lost = {(c.appointment_id, c.field, c.lost_value) for c in self.store.conflicts()}
        edits = self.merged_edits(by_remote)
        for (key, field), sides in edits.items():
            row = status.get(key) or by_remote.get(key)
            if row is None:
                continue  # never linked (out of scope) or deleted on both sides
            a = locals_.get(row.local_id)
            e = h.calendar.events.get(row.remote_id)
            if a is None or e is None or scope.local_reason(a) or scope.remote_reason(e):
                continue
            final = {
                "contents": a.contents,
                "location": a.location,
                "time": (a.start, a.end),
                "private": a.private,
                "show_as": a.show_as,
            }[field]
            candidates = list(sides.values())
            assert final in candidates or (
                field == "contents" and any(final.startswith(str(c)) for c in candidates)
            ), (field, final, sides)
            for value in candidates:
                if value != final and field != "time":
                    said = field_text(field, value) if field == "show_as" else str(value)
                    assert (row.local_id, field, said) in lost, (field, value, "lost")

        # an edit beats a deletion; a plain deletion reaches the other side
        for key, side in self.deleted.items():
            row = by_remote.get(key) or status.get(key)
            canon = row.local_id if row else key
            other = "remote" if side == "local" else "local"
            edited_other = any(k == canon and other in s for (k, _f), s in edits.items())
            # a "this and following" split or a cancelled occurrence since the
            # last clean sync is the other side's edit of the series too (SPEC
            # §4: exdates are two-way, a split is the user's own edit): it wins
            # and brings the series back
            series_edits = [(s, old, epoch) for s, old, _n, _c, epoch in self.splits]
            split_other = row is not None and any(
                edit_side == other
                and old == (row.remote_id if other == "remote" else row.local_id)
                and epoch == self.epoch - 1
                for edit_side, old, epoch in [*series_edits, *self.cancellations]
            )
            if row is not None and not edited_other and not split_other:
                a, e = locals_.get(row.local_id), h.calendar.events.get(row.remote_id)
                if (a and scope.local_reason(a)) or (e and scope.remote_reason(e)):
                    continue
                assert a is None and e is None, "deleted on one side, alive on the other"

        # edits of items that are frozen now stay pending: they are absorbed
        # (or win against a deletion) once the item is back in scope
        def frozen(key):
            row = status.get(key) or by_remote.get(key)
            if row is None:
                return False
            a, e = locals_.get(row.local_id), h.calendar.events.get(row.remote_id)
            return bool((a and scope.local_reason(a)) or (e and scope.remote_reason(e)))

        self.edits = [e for e in self.edits if frozen(e[0])]
        self.deleted = {k: v for k, v in self.deleted.items() if frozen(k)}

    def check_series(self, status, by_remote, locals_, scope) -> None:
        """Cancelled occurrences and splits, after a clean sync."""
        h = self.h

        def pair(key):
            """Both sides of an item in scope and not deleted, or None."""
            row = status.get(key) or by_remote.get(key)
            if row is None or row.remote_id in self.deleted or row.local_id in self.deleted:
                return None
            a, e = locals_.get(row.local_id), h.calendar.events.get(row.remote_id)
            if a is None or e is None or scope.local_reason(a) or scope.remote_reason(e):
                return None
            return a, e

        # an occurrence cancelled remotely is a deleted occurrence locally
        for remote_id, originals in self.cancelled.items():
            both = pair(remote_id)
            if both is not None and both[0].recurrence is not None:
                assert originals <= set(both[0].recurrence.exdates), "a cancelled one shows"
        # a split ends the old series at the split on both sides; the new one is on both
        sides_of: dict[str, list[tuple[str, str]]] = {}
        for side, old, new, _cut, epoch in self.splits:
            row = status.get(old) or by_remote.get(old)
            if row is not None:
                sides_of.setdefault(f"{row.local_id}@{epoch}", []).append((side, new))
        for side, old, new, cut, epoch in self.splits:
            row = status.get(old) or by_remote.get(old)
            splits = sides_of.get(f"{row.local_id}@{epoch}", []) if row is not None else []
            if row is None or (len(splits) > 1 and sorted(s for s, _ in splits) != BOTH):
                continue  # split more than once on one side between two syncs
            if len(splits) == 2:
                self.check_split_on_both_sides(splits, status, by_remote, locals_, scope)
            both = pair(old)
            if both is not None and all(x.recurrence is not None for x in both):
                a, e = both
                assert max(self.starts_of(a)) < cut, "the Sales Calendar's series goes on"
                if row.remote_id not in self.remote_rules:
                    assert max(self.starts_of(e)) < cut, "the remote series goes on"
            new_row = status.get(new) or by_remote.get(new)
            new_here = locals_.get(new) if side == "local" else h.calendar.events.get(new)
            if new_here is not None and not (
                scope.local_reason(new_here) if side == "local" else scope.remote_reason(new_here)
            ):
                assert new_row is not None, "the new series is not on the other side"
                assert new_row.local_id != row.local_id, "the new series taken for the old one"
        self.cancelled = {k: v for k, v in self.cancelled.items() if pair(k) is None}
        self.splits = [s for s in self.splits if pair(s[1]) is None]

    def check_split_on_both_sides(self, splits, status, by_remote, locals_, scope) -> None:
        """Split here and there between two syncs: the two new series (one, when
        split at the same occurrence) share no occurrence in the Sales Calendar."""
        shown = {}
        for _side, new in splits:
            row = status.get(new) or by_remote.get(new)
            a = locals_.get(row.local_id) if row is not None else None
            if a is None or a.recurrence is None or scope.local_reason(a):
                return
            shown[a.id] = set(self.starts_of(a)) - set(a.recurrence.exdates)
        if len(shown) == 2:
            first, second = shown.values()
            assert not first & second, "an occurrence shows twice after a split on both sides"

    def check_private(self, a, e, local_id, remote_id):
        """Private on both sides alike; with "sync all as private" everything
        brought in is private locally, and the service keeps its own flag."""
        mine = local_id in self.private_set_locally
        if remote_id in self.remote_private and not mine:
            assert e.private == self.remote_private[remote_id], "the service's flag changed"
        if not self.all_private:
            assert a.private == e.private
            return
        assert a.private or not e.private, "private in the service, not locally"
        if remote_id in self.remote_private and not mine:
            assert a.private, "brought in under sync all as private, yet not private"

    def settle(self):
        """At the end of every example: sync until a run is clean (the faults
        used up), with every check; then another sync writes nothing."""
        for _ in range(4):
            if not self.pending_fault:
                break
            self.sync()
        if self.pending_fault or self.h.decision is Decision.STOP:
            return
        self.sync()
        if self.pending_fault or self.h.decision is Decision.STOP:
            return
        before = len(self.h.batches)
        self.h.sync()
        assert len(self.h.batches) == before, "a sync after a clean sync wrote again"

    @invariant()
    def store_is_consistent(self):
        if not hasattr(self, "store"):
            return
        for row in self.store.all_status(self.h.account.id).values():
            assert row.remote_id


# a safety net against a hung run, not a speed check: on a loaded two-core
# machine the examples take minutes (speed is measured in tests/bench)
TestSyncMachine = pytest.mark.timeout(1200)(SyncMachine.TestCase)
TestSyncMachine.settings = settings(
    max_examples=45,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


class PostgresSyncMachine(OnPostgres, SyncMachine):
    """The same machine over a team PostgreSQL database, as a member."""


@pytest.fixture
def pg_machine(pg_cluster):
    PostgresSyncMachine.cluster = pg_cluster


TestSyncMachinePostgres = pytest.mark.timeout(1200)(
    pytest.mark.usefixtures("pg_machine")(PostgresSyncMachine.TestCase)
)
TestSyncMachinePostgres.settings = settings(
    max_examples=20,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
