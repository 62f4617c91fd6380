"""Cancelled occurrences and "this and following" splits (SPEC §4, Recurrence),
end to end, on the services that have them.

Subclass :class:`SeriesContract` next to :class:`~.e2e_contract.EndToEndContract`
in a service's module; its ``server`` is also a :class:`~tests.fakes.kit.SeriesEdits`
(the words ``create_series``, ``cancel_occurrence`` and ``split_series``), and
each test server keeps the shapes its service gives these changes.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from calsync_desktop.accounts import remove_account
from calsync_desktop.model import Recurrence

from .e2e_contract import E2EHarness

BOSS = "boss@customer.example"


def shown_starts(h: E2EHarness, now: datetime) -> list[datetime]:
    """Every occurrence start the Sales Calendar shows around ``now`` (series
    expanded, deleted occurrences left out, moved ones at their new start)."""
    window = h.store.occurrences_between(now - timedelta(days=40), now + timedelta(days=200))
    return [o.start for o in window]


def remote_starts(h: E2EHarness) -> list[datetime]:
    """Every live occurrence start the service shows, of every event."""
    with h.server.looking():
        ids = h.server.event_ids()
        return sorted(s for i in ids for s in h.server.occurrence_starts(i))


class SeriesContract:
    """Series changed by other clients, as a user sees them after the sync."""

    def add_series(self, h, rrule="FREQ=DAILY;COUNT=5", days=5, **fields):
        start = (h.clock() + timedelta(days=2)).replace(microsecond=0)
        made = h.server.create_series(
            fields.pop("subject", "Standup"), start, start + timedelta(minutes=30), rrule, **fields
        )
        return made, [start + timedelta(days=d) for d in range(days)]

    def test_an_occurrence_cancelled_by_its_organiser_becomes_an_exdate(self, h):
        made, starts = self.add_series(
            h, organizer=BOSS, attendees=(("Boss", BOSS), (None, h.owner))
        )
        h.sync()
        now = h.clock()
        assert shown_starts(h, now) == starts
        h.clock.advance(minutes=1)
        h.server.cancel_occurrence(made, starts[2])
        result = h.sync()
        assert result.errors == []
        a = h.local_for(made)
        assert a.recurrence.exdates == (starts[2],)
        assert shown_starts(h, now) == starts[:2] + starts[3:]
        assert h.sync().counts == {}  # nothing goes back to the organiser's series

    def test_an_occurrence_cancelled_after_it_was_moved_becomes_an_exdate(self, h):
        made, starts = self.add_series(
            h, organizer=BOSS, attendees=(("Boss", BOSS), (None, h.owner))
        )
        later = starts[1] + timedelta(hours=2)
        h.server.edit_occurrence(made, starts[1], start=later, end=later + timedelta(minutes=30))
        h.sync()
        now = h.clock()
        assert later in shown_starts(h, now)
        h.clock.advance(minutes=1)
        h.server.cancel_occurrence(made, starts[1])
        h.sync()
        assert shown_starts(h, now) == [starts[0], *starts[2:]]

    def test_a_series_split_this_and_following_shows_each_occurrence_once(self, h):
        made, starts = self.add_series(h)
        h.sync()
        now = h.clock()
        h.clock.advance(minutes=1)
        new = h.server.split_series(made, starts[2], subject="Standup (new room)")
        assert remote_starts(h) == starts
        result = h.sync()
        assert result.errors == []
        assert shown_starts(h, now) == starts  # each once, none lost
        assert h.local_for(new).contents == "Standup (new room)"
        old = h.local_for(made)
        assert max(old.recurrence.rule_set(old.start, old.timezone)).astimezone(UTC) < starts[2]
        assert remote_starts(h) == starts  # nothing went back that undoes the split
        assert h.sync().counts == {}

    def test_a_split_with_the_rest_moved_to_another_day_shows_each_occurrence_once(self, h):
        # "this and following" with the following occurrences moved a day later
        # (Tuesday to Wednesday, say): the new series starts on another day
        start = (h.clock() + timedelta(days=2)).replace(microsecond=0)
        starts = [start + timedelta(weeks=w) for w in range(5)]
        made = h.server.create_series(
            "Weekly review", start, start + timedelta(minutes=30), "FREQ=WEEKLY;COUNT=5"
        )
        h.sync()
        now = h.clock()
        h.clock.advance(minutes=1)
        day = timedelta(days=1)
        moved = starts[2] + day
        h.server.split_series(made, starts[2], start=moved, end=moved + timedelta(minutes=30))
        expected = starts[:2] + [s + day for s in starts[2:]]
        assert remote_starts(h) == expected
        assert h.sync().errors == []
        assert shown_starts(h, now) == expected  # each once, none lost
        old = h.local_for(made)
        assert max(old.recurrence.rule_set(old.start, old.timezone)).astimezone(UTC) < starts[2]
        assert remote_starts(h) == expected  # nothing went back that undoes the split
        assert h.sync().counts == {}

    def test_a_split_made_while_the_account_was_removed_ends_the_series_when_it_is_back(self, h):
        start = (h.clock() + timedelta(days=2)).replace(microsecond=0)
        starts = [start + timedelta(weeks=w) for w in range(5)]
        a = h.add_local("Weekly review", start=start, recurrence=Recurrence("FREQ=WEEKLY;COUNT=5"))
        h.sync()
        now = h.clock()
        remote_id = h.remote_id_for(a.id)
        remove_account(h.services, h.account.id, keep_appointments=True)
        h.clock.advance(minutes=1)
        day = timedelta(days=1)
        moved = starts[3] + day
        new = h.server.split_series(
            remote_id, starts[3], start=moved, end=moved + timedelta(hours=1)
        )
        h.account = h.store.add_account(
            replace(h.account, sync_state=None, local_seq=0, first_sync_done=False)
        )
        assert h.sync().errors == []
        expected = starts[:3] + [s + day for s in starts[3:]]
        assert shown_starts(h, now) == remote_starts(h) == expected  # each once, none back
        assert h.remote_id_for(a.id) == remote_id and h.local_for(new).id != a.id
        assert h.sync().counts == {}

    def split_on_both_sides(self, h, here: int, there: int) -> None:
        start = (h.clock() + timedelta(days=2)).replace(microsecond=0)
        starts = [start + timedelta(days=d) for d in range(6)]
        a = h.add_local("Standup", start=start, recurrence=Recurrence("FREQ=DAILY;COUNT=6"))
        h.sync()
        now = h.clock()
        h.clock.advance(minutes=1)
        h.server.split_series(h.remote_id_for(a.id), starts[there], subject="Standup there")
        until = starts[here] - timedelta(seconds=1)
        h.edit_local(a.id, recurrence=Recurrence(f"FREQ=DAILY;UNTIL={until:%Y%m%dT%H%M%SZ}"))
        h.add_local(
            "Standup here",
            start=starts[here],
            recurrence=Recurrence(f"FREQ=DAILY;COUNT={6 - here}"),
        )
        assert h.sync().errors == []
        assert shown_starts(h, now) == remote_starts(h) == starts  # each once, none lost
        assert h.sync().counts == {}

    def test_a_series_split_here_and_later_there_shows_each_occurrence_once(self, h):
        self.split_on_both_sides(h, here=2, there=4)

    def test_a_series_split_there_and_later_here_shows_each_occurrence_once(self, h):
        self.split_on_both_sides(h, here=4, there=2)

    def test_a_series_made_in_the_sales_calendar_and_split_remotely_shows_each_once(self, h):
        start = (h.clock() + timedelta(days=2)).replace(microsecond=0)
        starts = [start + timedelta(days=d) for d in range(5)]
        a = h.add_local("Standup", start=start, recurrence=Recurrence("FREQ=DAILY;COUNT=5"))
        h.sync()
        now = h.clock()
        h.clock.advance(minutes=1)
        new = h.server.split_series(h.remote_id_for(a.id), starts[3], subject="Standup (new)")
        assert h.sync().errors == []
        assert shown_starts(h, now) == remote_starts(h) == starts
        assert h.local_for(new).contents == "Standup (new)" and h.local_for(new).id != a.id

    def test_a_cancelled_occurrence_the_user_then_removes_stays_deleted(self, h):
        made, starts = self.add_series(
            h, organizer=BOSS, attendees=(("Boss", BOSS), (None, h.owner))
        )
        h.sync()
        now = h.clock()
        h.clock.advance(minutes=1)
        h.server.cancel_occurrence(made, starts[3])
        h.sync()
        h.clock.advance(minutes=1)
        h.server.delete_occurrence(made, starts[3])  # "Remove from calendar"
        assert h.sync().errors == []
        assert h.local_for(made).recurrence.exdates == (starts[3],)
        assert shown_starts(h, now) == starts[:3] + starts[4:]

    def test_a_split_takes_the_changed_occurrences_after_it_out_of_the_old_series(self, h):
        made, starts = self.add_series(h)
        moved = starts[3] + timedelta(hours=2)
        h.server.edit_occurrence(made, starts[3], start=moved, end=moved + timedelta(minutes=30))
        h.sync()
        now = h.clock()
        assert moved in shown_starts(h, now)
        h.clock.advance(minutes=1)
        h.server.split_series(made, starts[2], location="Room 2")
        h.sync()
        # the service's new series starts afresh, as the calendar app shows it
        assert shown_starts(h, now) == remote_starts(h) == starts
        assert h.sync().counts == {}

    def test_a_series_split_in_the_sales_calendar_ends_the_remote_series_where_it_starts(self, h):
        start = (h.clock() + timedelta(days=2)).replace(microsecond=0)
        starts = [start + timedelta(days=d) for d in range(6)]
        a = h.add_local("Standup", start=start, recurrence=Recurrence("FREQ=DAILY;COUNT=6"))
        h.sync()
        until = starts[3] - timedelta(seconds=1)
        h.edit_local(a.id, recurrence=Recurrence(f"FREQ=DAILY;UNTIL={until:%Y%m%dT%H%M%SZ}"))
        h.add_local(
            "Standup (new room)", start=starts[3], recurrence=Recurrence("FREQ=DAILY;COUNT=3")
        )
        assert h.sync().errors == []
        assert remote_starts(h) == starts
        with h.server.looking():
            assert h.server.occurrence_starts(h.remote_id_for(a.id)) == starts[:3]
        assert h.sync().counts == {}
