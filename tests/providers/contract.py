"""The contract every :class:`CalendarProvider` keeps.

Subclass :class:`ProviderContract` in a test module and give it a ``harness``
fixture: an object with

- ``provider``: a provider on a fresh, empty calendar;
- ``server``: that calendar's service as a :class:`~tests.fakes.kit.RemoteCalendar`,
  the one vocabulary in which every test drives a service (another client's
  edits, expiring the sync state, faults, counting requests).

The same tests then run against the memory provider and each protocol test server.
"""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from calsync_desktop.model import InviteStatus, Participant, Recurrence, ShowAs
from calsync_desktop.providers.base import (
    AlreadyExists,
    Cancelled,
    ChangedMeanwhile,
    Create,
    Delete,
    EventDraft,
    NotFound,
    RemoteEvent,
    SyncStateExpired,
    TimeWindow,
    Update,
)

NOW = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
WINDOW = TimeWindow(NOW - timedelta(days=30), NOW + timedelta(days=730))


def draft(**overrides) -> EventDraft:
    start = overrides.pop("start", NOW + timedelta(days=2, hours=1))
    values = dict(
        local_id=str(uuid.uuid4()),
        subject="Call with Acme",
        body="Agenda:\nprices",
        location="Room 4",
        start=start,
        end=start + timedelta(hours=1),
        timezone="Europe/Berlin",
        private=False,
    )
    values.update(overrides)
    return EventDraft(**values)


def create(provider, d: EventDraft) -> RemoteEvent:
    (result,) = provider.write([Create(d)])
    assert result.ok, result.error
    return result.event


class ProviderContract:
    """Behaviour the sync engine relies on, whatever the service."""

    # -- identity and calendars

    def test_account_email_is_an_address(self, harness):
        assert "@" in harness.provider.account_email()

    def test_lists_a_primary_calendar(self, harness):
        calendars = harness.provider.list_calendars()
        assert any(c.primary for c in calendars)

    # -- create and read back

    def test_create_round_trips_mapped_fields(self, harness):
        d = draft()
        event = create(harness.provider, d)
        assert event.remote_id and event.version
        fetched = harness.provider.get(event.remote_id)
        assert fetched.subject == d.subject
        assert fetched.body.replace("\r\n", "\n").strip() == d.body
        assert fetched.location == d.location
        assert fetched.start == d.start and fetched.end == d.end
        assert fetched.private is False
        assert fetched.local_id == d.local_id
        assert fetched.all_day is False

    def test_time_zone_and_dst_are_kept(self, harness):
        berlin = ZoneInfo("Europe/Berlin")
        # the Sunday of the autumn change in Berlin next year: 02:00 summer → 01:00 winter (UTC)
        year = NOW.year + 1
        october_end = datetime(year, 10, 31, 9, 0, tzinfo=berlin)
        sunday = october_end - timedelta(days=(october_end.weekday() + 1) % 7)
        d = draft(start=sunday, end=sunday + timedelta(hours=2), timezone="Europe/Berlin")
        event = create(harness.provider, d)
        fetched = harness.provider.get(event.remote_id)
        assert fetched.start == sunday and fetched.end == sunday + timedelta(hours=2)
        assert fetched.start.astimezone(berlin).hour == 9

    def test_private_is_pushed(self, harness):
        event = create(harness.provider, draft(private=True))
        assert harness.provider.get(event.remote_id).private is True

    def test_private_edited_remotely_comes_back(self, harness):
        event = create(harness.provider, draft())
        harness.server.edit_event(event.remote_id, private=True)
        assert harness.provider.get(event.remote_id).private is True

    # -- show-as and join links (SPEC §10)

    def test_show_as_round_trips_as_the_service_holds_it(self, harness):
        """Every show-as is written, and read back as itself or, where the service
        cannot hold it, as what the provider says it holds instead
        (:attr:`show_as_kept`, which the merge uses so nothing is pushed again)."""
        kept = harness.provider.show_as_kept
        for value in ShowAs:
            event = create(harness.provider, draft(show_as=value))
            held = kept.get(value, value)
            assert harness.provider.get(event.remote_id).show_as is held, value
            assert harness.server.show_as(event.remote_id) == held.value, value

    def test_show_as_changed_by_an_update_alone(self, harness):
        event = create(harness.provider, draft())
        (result,) = harness.provider.write(
            [
                Update(
                    event.remote_id,
                    event.version,
                    draft(local_id=event.local_id, subject="ignored", show_as=ShowAs.FREE),
                    frozenset({"show_as"}),
                )
            ]
        )
        assert result.ok, result.error
        fetched = harness.provider.get(event.remote_id)
        assert fetched.show_as is ShowAs.FREE
        assert fetched.subject == "Call with Acme"  # only the named field changed

    def test_show_as_set_elsewhere_comes_back(self, harness):
        event = create(harness.provider, draft())
        harness.server.edit_event(event.remote_id, show_as="free")
        assert harness.provider.get(event.remote_id).show_as is ShowAs.FREE
        harness.server.edit_event(event.remote_id, show_as="busy")
        assert harness.provider.get(event.remote_id).show_as is ShowAs.BUSY

    def test_show_as_of_an_event_made_elsewhere_is_read(self, harness):
        start = NOW + timedelta(days=3)
        for value in ShowAs:
            rid = harness.server.create_event(
                f"Shown {value}", start, start + timedelta(hours=1), show_as=value.value
            )
            held = harness.server.show_as(rid)
            assert held == value.value or value.value in self.show_as_unknown, value
            assert harness.provider.get(rid).show_as is ShowAs(held), value

    def test_the_join_link_of_an_online_meeting_is_read(self, harness):
        start = NOW + timedelta(days=3)
        rid = harness.server.create_event(
            "Online review", start, start + timedelta(hours=1), join_url=self.join_url
        )
        assert harness.provider.get(rid).join_url == self.join_url
        plain = harness.server.create_event("In the room", start, start + timedelta(hours=1))
        assert harness.provider.get(plain).join_url == ""

    #: show-as values the service has no word for (another client makes them busy)
    show_as_unknown: tuple[str, ...] = ()

    #: a link the service's own online meetings have
    join_url = "https://teams.microsoft.com/l/meetup-join/19%3ameeting_Zm9v%40thread.v2/0"

    def test_full_listing_holds_events_in_the_window(self, harness):
        inside = create(harness.provider, draft())
        outside = create(harness.provider, draft(start=NOW + timedelta(days=1200)))
        listing = harness.provider.changes(WINDOW, None)
        ids = {e.remote_id for e in listing.events}
        assert listing.complete and listing.state
        assert inside.remote_id in ids
        assert outside.remote_id not in ids

    def test_a_full_listing_without_local_ids_lists_the_same_events(self, harness):
        made = create(harness.provider, draft())
        full = harness.provider.changes(WINDOW, None)
        lean = harness.provider.changes(WINDOW, None, local_ids=False)
        assert [e.local_id for e in full.events] == [made.local_id]
        assert lean.complete and lean.state
        assert [(e.remote_id, e.version) for e in lean.events] == [(made.remote_id, made.version)]

    def test_get_unknown_is_not_found(self, harness):
        event = create(harness.provider, draft())
        harness.server.delete_event(event.remote_id)
        with pytest.raises(NotFound):
            harness.provider.get(event.remote_id)

    # -- incremental

    def test_nothing_changed_costs_one_request(self, harness):
        create(harness.provider, draft())
        state = harness.provider.changes(WINDOW, None).state
        before = harness.server.count_requests()
        listing = harness.provider.changes(WINDOW, state)
        assert listing.events == [] and listing.deleted == []
        assert harness.server.count_requests() - before == 1

    def test_remote_edit_shows_in_incremental_listing(self, harness):
        event = create(harness.provider, draft())
        state = harness.provider.changes(WINDOW, None).state
        harness.server.edit_event(event.remote_id, subject="Moved call", location="Room 9")
        listing = harness.provider.changes(WINDOW, state)
        (changed,) = [e for e in listing.events if e.remote_id == event.remote_id]
        assert changed.subject == "Moved call" and changed.location == "Room 9"
        assert changed.version != event.version
        assert changed.local_id == event.local_id

    def test_remote_delete_shows_in_incremental_listing(self, harness):
        event = create(harness.provider, draft())
        state = harness.provider.changes(WINDOW, None).state
        harness.server.delete_event(event.remote_id)
        listing = harness.provider.changes(WINDOW, state)
        live = [e for e in listing.events if e.remote_id == event.remote_id and not e.cancelled]
        assert event.remote_id in listing.deleted or (
            not live and any(e.remote_id == event.remote_id for e in listing.events)
        )

    def test_expired_sync_state_is_reported(self, harness):
        create(harness.provider, draft())
        state = harness.provider.changes(WINDOW, None).state
        harness.server.expire_sync_state()
        with pytest.raises(SyncStateExpired):
            harness.provider.changes(WINDOW, state)

    # -- writes

    def test_update_changes_only_named_fields(self, harness):
        d = draft()
        event = create(harness.provider, d)
        changed = draft(local_id=d.local_id, subject="New subject", location="Elsewhere")
        (result,) = harness.provider.write(
            [Update(event.remote_id, event.version, changed, frozenset({"subject"}))]
        )
        assert result.ok, result.error
        fetched = harness.provider.get(event.remote_id)
        assert fetched.subject == "New subject"
        assert fetched.location == d.location
        assert fetched.version != event.version

    def test_stale_version_is_changed_meanwhile(self, harness):
        d = draft()
        event = create(harness.provider, d)
        harness.server.edit_event(event.remote_id, subject="Edited elsewhere")
        (result,) = harness.provider.write(
            [Update(event.remote_id, event.version, d, frozenset({"location"}))]
        )
        assert isinstance(result.error, ChangedMeanwhile)
        assert harness.provider.get(event.remote_id).subject == "Edited elsewhere"

    def test_delete_removes_the_event(self, harness):
        event = create(harness.provider, draft())
        (result,) = harness.provider.write([Delete(event.remote_id, event.version)])
        assert result.ok, result.error
        with pytest.raises(NotFound):
            harness.provider.get(event.remote_id)

    def test_creating_the_same_local_id_twice_links_instead_of_duplicating(self, harness):
        d = draft()
        first = create(harness.provider, d)
        (again,) = harness.provider.write([Create(d)])
        assert isinstance(again.error, AlreadyExists)
        assert again.error.remote_id == first.remote_id
        listing = harness.provider.changes(WINDOW, None)
        assert [e.local_id for e in listing.events].count(d.local_id) == 1

    def test_find_by_local_id(self, harness):
        d = draft()
        event = create(harness.provider, d)
        found = harness.provider.find_by_local_id(d.local_id)
        assert found is not None and found.remote_id == event.remote_id

    def test_many_writes_keep_their_order_and_each_result(self, harness):
        drafts = [draft(subject=f"Visit {i}") for i in range(120)]
        results = harness.provider.write([Create(d) for d in drafts])
        assert [r.write.draft.local_id for r in results] == [d.local_id for d in drafts]
        assert all(r.ok for r in results)
        assert [r.event.subject for r in results] == [d.subject for d in drafts]

    def test_one_failed_write_does_not_fail_the_others(self, harness):
        gone = create(harness.provider, draft())
        harness.server.delete_event(gone.remote_id)
        fresh = draft()
        results = harness.provider.write([Delete(gone.remote_id, gone.version), Create(fresh)])
        assert isinstance(results[0].error, NotFound)
        assert results[1].ok

    # -- attendees

    def test_attendees_are_pushed_and_statuses_come_back(self, harness):
        people = (
            Participant("Ann Buyer", "ann@customer.example"),
            Participant("Bob Boss", "bob@customer.example"),
        )
        event = create(harness.provider, draft(attendees=people))
        harness.server.set_response(event.remote_id, "ANN@customer.example", InviteStatus.ACCEPTED)
        fetched = harness.provider.get(event.remote_id)
        statuses = {p.key: p.status for p in fetched.attendees}
        assert statuses["ann@customer.example"] is InviteStatus.ACCEPTED
        assert statuses["bob@customer.example"] is InviteStatus.NO_RESPONSE

    # -- recurrence

    def test_weekly_series_round_trips(self, harness):
        start = NOW + timedelta(days=3)
        rule = Recurrence("FREQ=WEEKLY;INTERVAL=1;COUNT=6", exdates=(start + timedelta(weeks=2),))
        event = create(harness.provider, draft(start=start, recurrence=rule))
        fetched = harness.provider.get(event.remote_id)
        assert fetched.recurrence is not None
        assert "FREQ=WEEKLY" in fetched.recurrence.rrule
        assert "COUNT=6" in fetched.recurrence.rrule
        assert set(fetched.recurrence.exdates) == {start + timedelta(weeks=2)}

    # -- stopping (the window's Cancel of an undo's preview)

    def test_a_stopped_provider_asks_the_service_nothing_more(self, harness):
        harness.provider.changes(WINDOW, None)  # first contact (discovery, sign-in) done
        stop = threading.Event()
        harness.provider.stop_when(stop)
        assert harness.provider.changes(WINDOW, None).complete  # not set: as ever
        stop.set()
        before = harness.server.count_requests()
        with pytest.raises(Cancelled):
            harness.provider.changes(WINDOW, None)
        with pytest.raises(Cancelled):
            harness.provider.write([Create(draft(subject="Never sent"))])
        assert harness.server.count_requests() == before
        harness.provider.stop_when(None)
        listed = harness.provider.changes(WINDOW, None)
        assert listed.complete and "Never sent" not in {e.subject for e in listed.events}

    # -- faults

    def test_rate_limit_is_retried(self, harness):
        harness.provider.changes(WINDOW, None)  # first contact (discovery, sign-in) done
        before = harness.server.count_requests()
        harness.provider.changes(WINDOW, None)
        clean = harness.server.count_requests() - before
        harness.server.fail_next("rate_limit")
        before = harness.server.count_requests()
        listing = harness.provider.changes(WINDOW, None)
        assert listing.complete
        # the refused request was sent once more, and nothing else changed
        assert harness.server.count_requests() - before == clean + 1

    def test_server_error_is_retried(self, harness):
        harness.server.fail_next("server_error")
        before = harness.server.count_requests()
        event = create(harness.provider, draft(subject="Sent again after a server error"))
        assert event.remote_id
        assert harness.server.count_requests() - before >= 2  # refused, then sent again
        listed = harness.provider.changes(WINDOW, None).events
        assert [e.remote_id for e in listed if e.subject == event.subject] == [event.remote_id]
