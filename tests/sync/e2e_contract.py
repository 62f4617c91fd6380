"""The sync rules (SPEC §4 and §5) every calendar service keeps, end to end.

Subclass :class:`EndToEndContract` in a test module that has a ``server`` fixture
(the running test server, a :class:`~tests.fakes.kit.RemoteCalendar`) and
``make_harness, h = e2e_fixtures(MyE2E)``, where ``MyE2E`` subclasses
:class:`E2EHarness` with the product side only: ``kind``, ``name``, ``owner``,
:meth:`~E2EHarness.connect` (sign in) and :meth:`~E2EHarness.new_provider`.
``make_harness(sync_all_private=False)`` links a fresh Sales Calendar (real
SQLite) to the server through :class:`SyncEngine` and the real client library,
and closes what it made at teardown. The same rule tests then run for Google,
Office 365 and Exchange; each module keeps only what is particular to its
service. A subclass may

- extend a contract test by overriding it and calling ``super()`` first (its extra
  assertions then see the final state);
- switch a test off for its service by setting it to ``None``, with a comment saying
  why and which test covers the service's own behaviour instead;
- name its server's retryable faults in ``retry_cases``.

``h`` is ``make_harness()``. The tests drive the service through ``h.server`` in
the shared vocabulary (``tests/fakes/kit/remote.py``: another client's acts,
expiring the sync state, revoking the sign-in, faults, counting requests), and
read what it holds through the product's own provider:

- ``remote(remote_id)`` / ``remote_for(local_id)`` / ``remote_id_for(local_id)``:
  an event as :class:`RemoteEvent` (``None`` if gone);
- ``add_remote(subject, start, hours, **fields)``: ``server.create_event`` with
  defaults (two days ahead, one hour);
- ``new_provider(timeout)``, ``runner(timeout)``, ``waits`` (the backoff's sleeps),
  ``slow_faults`` (how many slow answers make one run give up), ``warm_up()``
  (first contact done, so faults hit sync calls).
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from calsync_desktop import meetings
from calsync_desktop.accounts import remove_account
from calsync_desktop.accounts.base import AccountState
from calsync_desktop.model import (
    Appointment,
    InviteStatus,
    MyResponse,
    OccurrenceOverride,
    Participant,
    Recurrence,
    ShowAs,
    new_id,
)
from calsync_desktop.providers.base import Backoff, CalendarProvider, NotFound, RemoteEvent
from calsync_desktop.services import Services
from calsync_desktop.sync.engine import Decision, SyncResult
from calsync_desktop.sync.runner import SyncRunner
from tests.fakes.kit import IMPOSSIBLE_DATE, RemoteCalendar

from .e2e_history import HistoryContract
from .e2e_undo_machine import UndoMachineContract
from .harness import Crash, EngineHarness

ZOOM = "https://acme.zoom.us/j/5551234567?pwd=abc"

SENSITIVITIES = ("normal", "private", "confidential", "personal")

# what each service takes in one write request (SPEC §4, Writes)
WRITE_BATCHES = {"google": 50, "office365": 20, "exchange": 100, "caldav": 50}


class E2EHarness(EngineHarness):
    """A Sales Calendar and one service's test server, linked by one account.

    Subclasses set ``kind`` and ``name``, and implement :meth:`connect` and
    :meth:`new_provider`: the product side. The service side is ``server``.
    """

    kind: str
    name: str
    slow_faults = 3
    # where the test server's bad_value fault puts a start or an end, and how
    # it writes an ISO date there (tests/fakes/kit/hostile.py)
    start_field, end_field = "start.dateTime", "end.dateTime"

    def stamp(self, iso: str) -> str:
        return iso

    def where_changes_are_read(self) -> dict:
        """Which answer of an incremental listing carries a changed event's
        times (``fail_next`` options): by default the listing's own."""
        return {}

    def __init__(self, services: Services, server: RemoteCalendar, sync_all_private=False):
        self.services = services
        self.store = services.store
        self.clock = services.clock
        self.server = server
        self.owner = server.owner
        self.waits: list[float] = []
        self.backoff = Backoff(sleep=self.waits.append)
        self._reader: CalendarProvider | None = None
        self.connect()
        self.provider = self.new_provider()
        self.add_test_account(self.kind, self.name, self.owner, sync_all_private)

    def connect(self) -> None:
        """Sign in to the test server (whatever the provider needs before it starts)."""

    def new_provider(self, timeout: float = 5, backoff: Backoff | None = None) -> CalendarProvider:
        """A provider on the test server (with ``self.backoff`` unless told)."""
        raise NotImplementedError

    def runner(self, timeout: float = 5) -> SyncRunner:
        return SyncRunner(self.services, open_provider=lambda account: self.new_provider(timeout))

    def close(self) -> None:
        self.provider.close()
        if self._reader is not None:
            self._reader.close()

    def warm_up(self) -> None:
        """Nothing to do unless the provider's first contact sends requests of its own."""

    @property
    def reader(self) -> CalendarProvider:
        """A provider of its own for reading the service, apart from the one that syncs."""
        if self._reader is None:  # its retries are not the sync's: a backoff of its own
            self._reader = self.new_provider(backoff=Backoff(sleep=lambda _s: None))
        return self._reader

    def remote_id_for(self, local_id) -> str | None:
        row = self.store.status_for(self.account.id, [local_id]).get(local_id)
        if row is not None:
            return row.remote_id
        with self.server.looking():
            found = self.reader.find_by_local_id(local_id)
        return found.remote_id if found is not None else None

    def remote_for(self, local_id) -> RemoteEvent | None:
        remote_id = self.remote_id_for(local_id)
        return self.remote(remote_id) if remote_id else None

    def remote(self, remote_id) -> RemoteEvent | None:
        try:
            with self.server.looking():
                return self.reader.get(remote_id)
        except NotFound:
            return None

    def remote_events(self) -> list[RemoteEvent]:
        """Every event the server holds, read through the product's provider."""
        return [e for rid in self.server.event_ids() if (e := self.remote(rid)) is not None]

    def edit_remote(self, remote_id, **changes) -> None:
        self.server.edit_event(remote_id, **changes)

    def delete_remote(self, remote_id) -> None:
        self.server.delete_event(remote_id)

    def add_remote(self, subject="Call with Globex", start=None, hours=1, **fields) -> str:
        """Another client creates an event (two days ahead unless told); returns its id."""
        start = start or self.clock() + timedelta(days=2)
        return self.server.create_event(subject, start, start + timedelta(hours=hours), **fields)


def e2e_fixtures(harness_class: type[E2EHarness]):
    """The ``make_harness`` and ``h`` fixtures of a module whose test server is the
    fixture ``server``: ``make_harness, h = e2e_fixtures(GoogleE2E)``."""

    @pytest.fixture
    def make_harness(services, server):
        made: list[E2EHarness] = []

        def make(sync_all_private: bool = False) -> E2EHarness:
            made.append(harness_class(services, server, sync_all_private))
            return made[-1]

        yield make
        for harness in made:
            harness.close()

    @pytest.fixture
    def h(make_harness) -> E2EHarness:
        return make_harness()

    return make_harness, h


def add_tomorrow(services: Services, contents: str = "Through the runner") -> Appointment:
    """An hour tomorrow in a store without a harness (the runner's own path)."""
    start = services.clock() + timedelta(days=1)
    return services.store.add_appointment(
        Appointment(id=new_id(), contents=contents, start=start, end=start + timedelta(hours=1))
    )


def _many(h: E2EHarness, n: int):
    items = [h.add_local(f"Visit {i}", start=h.at(1 + i % 20, 8 + i % 9)) for i in range(n)]
    h.sync()
    return items


class EndToEndContract(HistoryContract, UndoMachineContract):
    """The sync rules as a user sees them, whatever the service.

    ``retry_cases``: the faults a service answers with a "wait, then retry", as
    ``(kind, retry_after, expected_wait)``; ``expected_wait`` None when the server
    names no wait.
    """

    retry_cases: tuple[tuple[str, float | None, float | None], ...] = ()

    def pytest_generate_tests(self, metafunc):
        # per service: each subclass names the faults its server can inject
        if "retry_after" in metafunc.fixturenames:
            metafunc.parametrize(("kind", "retry_after", "expected_wait"), self.retry_cases)

    # ----------------------------------------------------------------------- mapping

    def test_contents_round_trip_is_stable_and_nothing_changed_costs_one_request(self, h):
        a = h.add_local("Quarterly review\nLine one\n\nLine three")
        h.sync()
        h.sync()
        assert h.local(a.id).contents == "Quarterly review\nLine one\n\nLine three"
        before = h.server.count_requests()
        assert h.sync().counts == {}
        assert h.server.count_requests() - before == 1

    def test_html_body_is_imported_as_plain_text(self, h):
        made = h.add_remote(
            "Lunch with Bob",
            body='<p>At <b>Luigi&#39;s</b></p><p><a href="https://luigi.example">menu</a></p>'
            "<script>alert(1)</script>",
            html=True,
            location="Luigi's",
        )
        h.sync()
        a = h.local_for(made)
        assert a.contents == "Lunch with Bob\nAt Luigi's\nmenu (https://luigi.example)"
        assert a.location == "Luigi's"

    def test_long_first_line_is_cut_to_255_for_the_subject(self, h):
        a = h.add_local("x" * 300 + "\nbody")
        h.sync()
        assert len(h.remote_for(a.id).subject) == 255
        h.sync()
        assert h.local(a.id).contents.startswith("x" * 300)

    def test_a_lossy_mapping_never_causes_a_needless_write_back(self, h):
        # the first line is longer than a subject may be: the service holds it
        # as subject + body, which reads back differently; pulling an unrelated
        # change must not write the contents back (with attendees, that mails them)
        a = h.add_local("x" * 300 + "\nbody")
        h.sync()
        h.sync()
        remote_id = h.remote_id_for(a.id)
        h.clock.advance(minutes=1)
        h.server.edit_event(remote_id, location="Room 7")
        edited = h.remote(remote_id)
        h.sync()
        assert h.local(a.id).location == "Room 7"
        assert h.remote(remote_id).version == edited.version  # nothing was written back
        before = h.server.count_requests()
        assert h.sync().counts == {}
        assert h.server.count_requests() - before == 1

    def test_a_field_changed_on_one_side_goes_to_the_other(self, h):
        a = h.add_local("Visit")
        h.sync()
        h.edit_local(a.id, location="Building 7")
        event = h.remote_for(a.id)
        later = event.start + timedelta(hours=2)
        h.clock.advance(minutes=1)
        h.server.edit_event(event.remote_id, start=later, end=later + timedelta(hours=1))
        h.sync()
        assert h.remote_for(a.id).location == "Building 7"
        assert h.local(a.id).start == later == h.remote_for(a.id).start

    def test_dst_wall_time_is_kept_for_a_series(self, h):
        # weekly at 09:00 Berlin across the last Sunday of March (CET → CEST)
        start = h.clock().replace(year=2027, month=3, day=15, hour=8)  # 09:00 CET
        h.clock.now = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
        a = h.add_local(start=start, recurrence=Recurrence("FREQ=WEEKLY;COUNT=4"))
        h.sync()
        starts = h.server.occurrence_starts(h.remote_id_for(a.id))
        berlin = ZoneInfo("Europe/Berlin")
        assert [s.astimezone(berlin).hour for s in starts] == [9, 9, 9, 9]
        assert [s.astimezone(UTC).hour for s in starts] == [8, 8, 7, 7]

    # ------------------------------------------------------- participants and invitations

    def test_participants_are_pushed_one_way_and_statuses_come_back(self, h):
        a = h.add_local(
            participants=(
                Participant("Ann", "Ann@Acme.example"),
                Participant("Bo", "bo@acme.example"),
                Participant("No Mail"),
            )
        )
        h.sync()
        assert any("No Mail" in s.reason for s in h.store.skipped(h.account.id))
        event = h.remote_for(a.id)
        assert sorted(p.email for p in event.attendees) == ["Ann@Acme.example", "bo@acme.example"]
        h.clock.advance(minutes=1)
        h.server.set_response(event.remote_id, "ann@acme.example", InviteStatus.ACCEPTED)
        h.server.set_response(event.remote_id, "BO@acme.example", InviteStatus.TENTATIVE)
        h.server.add_attendee(event.remote_id, "eve@elsewhere.example")
        h.sync()
        statuses = {p.key: p.status for p in h.local(a.id).participants if p.key}
        assert statuses == {
            "ann@acme.example": InviteStatus.ACCEPTED,
            "bo@acme.example": InviteStatus.TENTATIVE,
        }
        assert len(h.local(a.id).participants) == 3  # eve is not applied back; No Mail stays

    def test_remote_attendees_are_imported_once_and_own_address_is_not_a_participant(self, h):
        made = h.add_remote(
            "Kick-off", attendees=(("Me", h.owner), ("Carl", "carl@customer.example"))
        )
        h.sync()
        a = h.local_for(made)
        assert [p.email for p in a.participants] == ["carl@customer.example"]
        h.clock.advance(minutes=1)
        h.server.add_attendee(made, "dora@customer.example")
        h.sync()
        assert [p.email for p in h.local(a.id).participants] == ["carl@customer.example"]

    def test_addresses_that_differ_only_in_letter_case_are_one_person(self, h):
        # RFC 5321 §2.4: mailbox names are in practice case-insensitive, and every
        # one of these services treats them so: one attendee per address.
        a = h.add_local(
            participants=(
                Participant("Ann", "Ann@Acme.example"),
                Participant("", "ANN@acme.EXAMPLE"),
                Participant("Bo", "bo@acme.example"),
                Participant("Bo Brown", "Bo@Acme.Example"),
            )
        )
        assert [p.key for p in h.local(a.id).participants] == [
            "ann@acme.example",
            "bo@acme.example",
        ]
        h.sync()
        event = h.remote_for(a.id)
        assert sorted(p.key for p in event.attendees) == ["ann@acme.example", "bo@acme.example"]
        h.clock.advance(minutes=1)
        h.server.set_response(event.remote_id, "aNN@ACME.example", InviteStatus.ACCEPTED)
        h.sync()
        statuses = [(p.key, p.status) for p in h.local(a.id).participants]
        assert statuses == [
            ("ann@acme.example", InviteStatus.ACCEPTED),
            ("bo@acme.example", InviteStatus.NO_RESPONSE),
        ]
        before = h.server.count_requests()
        assert h.sync().counts == {}  # nothing to push back for a letter case
        assert h.server.count_requests() - before == 1

    def test_an_event_naming_one_address_twice_is_imported_with_one_participant(self, h):
        made = h.add_remote(
            "Kick-off",
            attendees=(
                ("Me", h.owner.upper()),
                ("Carl", "carl@customer.example"),
                ("CARL", "Carl@Customer.Example"),
            ),
        )
        h.sync()
        assert [p.key for p in h.local_for(made).participants] == ["carl@customer.example"]

    def test_no_invitations_with_the_setting_off(self, h):
        h.add_local("first")
        h.sync()
        h.add_local(participants=(Participant("Ann", "ann@acme.example"),))
        h.sync()
        assert h.server.invitations_sent() == 0

    # ------------------------------------------------------------------- recurrence

    def test_deleted_occurrence_becomes_an_exdate_both_ways(self, h):
        a = h.add_local(recurrence=Recurrence("FREQ=DAILY;COUNT=5"))
        h.sync()
        second = a.start + timedelta(days=1)
        h.edit_local(a.id, recurrence=Recurrence("FREQ=DAILY;COUNT=5", exdates=(second,)))
        h.sync()
        master = h.remote_id_for(a.id)
        assert h.remote(master).recurrence.exdates == (second,)
        assert len(h.server.occurrence_starts(master)) == 4
        third = a.start + timedelta(days=2)
        h.clock.advance(minutes=1)
        h.server.delete_occurrence(master, third)
        h.sync()
        assert set(h.local(a.id).recurrence.exdates) == {second, third}

    def test_moved_occurrence_becomes_an_override_both_ways(self, h):
        a = h.add_local(recurrence=Recurrence("FREQ=DAILY;COUNT=5"))
        h.sync()
        master = h.remote_id_for(a.id)
        original = a.start + timedelta(days=3)
        h.clock.advance(minutes=1)
        h.server.edit_occurrence(
            master,
            original,
            subject="Meeting with Acme (moved)",
            location="Cafe",
            start=original + timedelta(hours=3),
            end=original + timedelta(hours=4),
        )
        h.sync()
        moved = OccurrenceOverride(
            original,
            "Meeting with Acme (moved)",
            "Cafe",
            original + timedelta(hours=3),
            original + timedelta(hours=4),
        )
        assert h.local(a.id).recurrence.overrides == (moved,)
        other = a.start + timedelta(days=1)
        local_move = OccurrenceOverride(
            other, "Shortened", "", other, other + timedelta(minutes=30)
        )
        h.edit_local(
            a.id, recurrence=Recurrence("FREQ=DAILY;COUNT=5", overrides=(local_move, moved))
        )
        h.sync()
        assert set(h.remote(master).recurrence.overrides) == {moved, local_move}

    # one contents rule for a whole appointment and an edited occurrence (kit/contents.py)

    def _series_with_edited_occurrence(self, h, **changes):
        a = h.add_local("Meeting with Acme", recurrence=Recurrence("FREQ=DAILY;COUNT=5"))
        h.sync()
        original = a.start + timedelta(days=2)
        h.clock.advance(minutes=1)
        h.server.edit_occurrence(h.remote_id_for(a.id), original, **changes)
        h.sync()
        (override,) = h.local(a.id).recurrence.overrides
        return override

    def test_an_edited_occurrence_keeps_a_first_line_longer_than_a_subject_in_its_body(self, h):
        a = h.add_local(recurrence=Recurrence("FREQ=DAILY;COUNT=5"))
        h.sync()
        original = a.start + timedelta(days=2)
        contents = "x" * 300 + "\nbring samples"
        edit = OccurrenceOverride(original, contents, "", original, original + timedelta(hours=2))
        h.edit_local(a.id, recurrence=Recurrence("FREQ=DAILY;COUNT=5", overrides=(edit,)))
        h.sync()
        (remote,) = h.remote(h.remote_id_for(a.id)).recurrence.overrides
        assert remote.contents == "x" * 255 + "\n" + "x" * 45 + "\nbring samples"
        assert h.sync().counts == {}
        assert h.local(a.id).recurrence.overrides == (edit,)

    def test_an_occurrence_edited_elsewhere_in_html_is_read_as_plain_text(self, h):
        body = "<p>Bring the <b>deck</b></p><p>and samples</p>"
        override = self._series_with_edited_occurrence(h, subject="Demo", body=body, html=True)
        assert override.contents == "Demo\nBring the deck\nand samples"

    def test_an_occurrence_body_with_windows_line_ends_is_read_with_plain_ones(self, h):
        override = self._series_with_edited_occurrence(
            h, subject="Demo", body="Line one\r\nLine two\r\n"
        )
        assert override.contents == "Demo\nLine one\nLine two"

    def test_an_occurrence_whose_subject_was_emptied_elsewhere_has_an_empty_first_line(self, h):
        override = self._series_with_edited_occurrence(h, subject="", body="Agenda to follow")
        assert override.contents == "\nAgenda to follow"

    def test_an_occurrence_that_says_what_its_series_says_is_no_override(self, h):
        # An attendee's answer to one occurrence makes the service keep that
        # occurrence as an exception; what makes it one (the answer) does not
        # map, so the occurrence keeps following its series, both ways.
        a = h.add_local(
            "Weekly review\nAgenda",
            location="Room 1",
            recurrence=Recurrence("FREQ=DAILY;COUNT=5"),
            participants=(Participant("Ann", "ann@acme.example"),),
        )
        h.sync()
        master = h.remote_id_for(a.id)
        answered = a.start + timedelta(days=2)
        h.clock.advance(minutes=1)
        h.server.answer_occurrence(master, answered, "Ann@Acme.example", InviteStatus.ACCEPTED)
        h.sync()
        assert h.local(a.id).recurrence.overrides == ()
        h.clock.advance(minutes=1)
        h.edit_local(a.id, contents="Weekly review (new room)\nNew agenda", location="Room 2")
        h.sync()
        event = h.remote(master)
        assert (event.subject, event.location) == ("Weekly review (new room)", "Room 2")
        said = {
            (o.original_start, o.contents, o.location, o.start, o.end)
            for o in event.recurrence.overrides
        }  # the service may keep its exception; it says what the series says
        new = ("Weekly review (new room)\nNew agenda", "Room 2")
        assert said <= {(answered, *new, answered, answered + (a.end - a.start))}
        assert sorted(h.server.occurrence_starts(master)) == [
            a.start + timedelta(days=n) for n in range(5)
        ]
        assert h.sync().counts == {}
        assert h.local(a.id).recurrence.overrides == ()
        assert h.local(a.id).contents == "Weekly review (new room)\nNew agenda"

    # ------------------------------------------------------------------------ scope

    def test_all_day_events_are_not_synced_in_either_direction(self, h):
        a = h.add_local(all_day=True)
        made = h.server.create_all_day_event("Holiday", (h.clock() + timedelta(days=3)).date())
        h.sync()
        assert h.remote_for(a.id) is None and h.local_for(made) is None
        assert len(h.server.event_ids()) == 1

    def test_older_than_30_days_and_beyond_the_horizon_are_out_of_scope(self, h):
        old_local = h.add_local(start=h.clock() - timedelta(days=31))
        old_remote = h.add_remote(start=h.clock() - timedelta(days=31))
        far = h.add_local(start=h.clock() + timedelta(days=800))
        recent = h.add_local(start=h.clock() - timedelta(days=29))
        h.sync()
        assert h.remote_for(old_local.id) is None and h.local_for(old_remote) is None
        assert h.remote_for(far.id) is None and h.remote_for(recent.id) is not None

    def test_leaving_scope_by_age_is_never_a_deletion(self, h):
        a = h.add_local()
        h.sync()
        h.clock.advance(days=40)
        h.server.delete_event(h.remote_id_for(a.id))
        h.sync()
        assert h.local(a.id) is not None

    def test_leaving_scope_by_age_is_listed_as_skipped_and_costs_nothing_more(self, h):
        a = h.add_local("Visit at Initech")
        h.sync()
        h.sync()
        h.clock.advance(days=40)
        h.sync()
        (entry,) = [s for s in h.store.skipped(h.account.id) if s.item_id == a.id]
        assert entry.frozen and entry.reason.startswith("Ended more than 30 days ago")
        before = h.server.count_requests()
        assert h.sync().counts == {}
        assert h.server.count_requests() - before == 1
        assert h.store.skipped(h.account.id) == [entry]

    # --------------------------------------------------------------------- identity

    def test_crash_between_remote_write_and_local_commit_never_duplicates(self, h):
        a = h.add_local()
        h.provider.crash_after_write = True
        with pytest.raises(Crash):
            h.sync()
        assert len(h.server.event_ids()) == 1
        h.sync()
        assert len(h.server.event_ids()) == 1 and len(h.all_local()) == 1
        (remote_id,) = h.server.event_ids()
        assert h.store.status_for(h.account.id, [a.id])[a.id].remote_id == remote_id
        assert h.remote_for(a.id).local_id == a.id

    def test_links_are_recorded_with_each_write_batch(self, h):
        # killed once one of the service's write batches and one more event are
        # written: the links of the batch answered before are all recorded
        batch = WRITE_BATCHES[h.kind]
        n = batch + 5
        for i in range(n):
            h.add_local(f"Visit {i}", start=h.at(1 + i % 20, 8 + i % 9))
        h.provider.crash_after_written = batch + 1
        with pytest.raises(Crash):
            h.sync()
        written = len(h.server.event_ids())
        assert written > batch and h.provider.last_call <= batch
        assert h.store.linked_count(h.account.id) >= written - h.provider.last_call
        h.sync()
        assert len(h.server.event_ids()) == n and len(h.all_local()) == n
        assert h.store.linked_count(h.account.id) == n

    def test_first_sync_links_the_same_events_instead_of_duplicating(self, h):
        start = h.at(3)
        a = h.add_local("Board meeting\nnotes", start=start)
        # the whole contents are the evidence, not the first line
        made = h.add_remote("Board meeting", start=start, body="<p>notes</p>", html=True)
        h.sync()
        assert len(h.server.event_ids()) == 1 and len(h.all_local()) == 1
        assert h.local_for(made).id == a.id

    def test_removing_and_readding_the_account_duplicates_nothing(self, h):
        h.add_local("One")
        h.add_remote("Two")
        h.sync()
        remove_account(h.services, h.account.id, keep_appointments=True)
        h.account = h.store.add_account(
            replace(h.account, sync_state=None, local_seq=0, first_sync_done=False)
        )
        h.sync()
        assert len(h.server.event_ids()) == 2 and len(h.all_local()) == 2

    def test_readding_the_account_after_a_title_changed_links_by_ical_uid(self, h):
        made = h.add_remote("Kick-off with Initech")  # made elsewhere: no local id on it
        h.sync()
        a = h.local_for(made)
        assert a.ical_uid and a.ical_uid == h.remote(made).ical_uid
        remove_account(h.services, h.account.id, keep_appointments=True)
        h.clock.advance(minutes=1)
        h.server.edit_event(made, subject="Kick-off with Initech (new room)")
        h.account = h.store.add_account(
            replace(h.account, sync_state=None, local_seq=0, first_sync_done=False)
        )
        h.sync()
        assert h.server.event_ids() == [made] and [x.id for x in h.all_local()] == [a.id]
        assert h.remote_id_for(a.id) == made

    # -------------------------------------------------------------------- conflicts

    def test_same_field_changed_on_both_sides_newer_wins_and_loser_is_logged(self, h):
        a = h.add_local("Pitch")
        h.sync()
        h.clock.advance(minutes=5)
        h.edit_local(a.id, location="Local room")
        h.clock.advance(minutes=5)
        h.server.edit_event(h.remote_id_for(a.id), location="Remote room")
        h.sync()
        assert h.local(a.id).location == "Remote room" == h.remote_for(a.id).location
        (conflict,) = h.store.conflicts(h.account.id)
        assert (conflict.field, conflict.lost_value, conflict.lost_side) == (
            "location",
            "Local room",
            "local",
        )

    def test_412_means_fetch_merge_and_retry_never_overwrite(self, h):
        a = h.add_local("Pitch")
        h.sync()
        h.edit_local(a.id, location="Local room")
        engine = h.engine()
        plan = engine.plan()
        h.server.edit_event(h.remote_id_for(a.id), subject="Renamed elsewhere")
        engine.apply(plan, SyncResult())
        event = h.remote_for(a.id)
        assert event.subject == "Renamed elsewhere" and event.location == "Local room"
        h.sync()
        assert h.local(a.id).contents == "Renamed elsewhere"

    # -------------------------------------------------------------------- deletions

    def test_deleting_locally_deletes_remotely(self, h):
        a = h.add_local()
        h.sync()
        h.store.delete_appointment(a.id)
        h.sync()
        assert h.server.event_ids() == [] and h.store.tombstones(h.account.id) == []

    def test_deleting_remotely_deletes_locally(self, h):
        # right after our own create: the next listing must still report the deletion
        a = h.add_local("Pushed, then deleted elsewhere")
        h.sync()
        h.server.delete_event(h.remote_id_for(a.id))
        h.sync()
        assert h.local(a.id) is None

    def test_deleting_on_either_side_deletes_on_the_other(self, h):
        a = h.add_local("Local one")
        made = h.add_remote("Remote one")
        h.sync()
        h.store.delete_appointment(a.id)
        h.clock.advance(minutes=1)
        h.server.delete_event(made)
        h.sync()
        assert h.server.event_ids() == [] and h.all_local() == []

    @pytest.mark.parametrize("settled", [False, True], ids=["right-after-create", "settled"])
    def test_edited_locally_and_deleted_remotely_the_edit_wins(self, h, settled):
        a = h.add_local()
        h.sync()
        if settled:
            # a second run moves the sync state past our own create (in Exchange an
            # item created and deleted after a state is not reported at all)
            h.sync()
        h.server.delete_event(h.remote_id_for(a.id))
        h.edit_local(a.id, contents="Still on")
        h.sync()
        assert h.local(a.id) is not None
        assert h.remote_for(a.id).subject == "Still on" and len(h.server.event_ids()) == 1

    def test_edited_remotely_and_deleted_locally_the_edit_wins(self, h):
        a = h.add_local()
        h.sync()
        h.server.edit_event(h.remote_id_for(a.id), subject="Still on")
        h.store.delete_appointment(a.id)
        h.sync()
        assert h.local(a.id).contents == "Still on"

    def test_meeting_cancelled_by_its_organiser_is_deleted_locally(self, h):
        made = h.add_remote("Their meeting", organizer="boss@other.example")
        h.sync()
        local = h.local_for(made)
        assert local is not None
        h.clock.advance(minutes=1)
        h.server.cancel_event(made)
        h.sync()
        assert h.local(local.id) is None and h.all_local() == []

    @pytest.mark.parametrize("answer", [MyResponse.ACCEPTED, MyResponse.DECLINED])
    def test_an_answer_reaches_the_organiser_as_a_response_and_the_meeting_stays(self, h, answer):
        made = h.add_remote(
            "Their review",
            organizer="boss@other.example",
            attendees=(("Boss", "boss@other.example"),),
        )
        h.sync()
        local = h.local_for(made)
        assert local.organised_by_someone_else and local.my_response is MyResponse.NONE
        h.clock.advance(minutes=1)
        h.store.update_appointment(meetings.respond(h.local(local.id), answer))
        result = h.sync()
        assert result.errors == []
        # accepted: on the service; declined: there, or in Deleted Items (Exchange, Office 365)
        assert h.server.own_response(made) in (answer.value, None)
        if answer is MyResponse.ACCEPTED:
            assert h.server.own_response(made) == "accepted"
        kept = h.local(local.id)
        assert kept is not None and kept.my_response is answer
        assert kept.contents == "Their review"
        again = h.sync()
        assert again.counts == {} and again.errors == []
        assert h.local(local.id).my_response is answer  # the declined meeting stays

    @staticmethod
    def _their_meeting_synced(h, subject: str) -> tuple[str, Appointment]:
        made = h.add_remote(
            subject, organizer="boss@other.example", attendees=(("Boss", "boss@other.example"),)
        )
        h.sync()
        return made, h.local_for(made)

    def test_a_meeting_declined_on_the_service_itself_stays_declined(self, h):
        made, local = self._their_meeting_synced(h, "Their pricing call")
        assert local.my_response is MyResponse.NONE
        # declined in Outlook, the service's web page: Exchange and Office 365
        # take it to Deleted Items, Google and CalDAV keep it with the answer
        h.server.decline_elsewhere(made)
        result = h.sync()
        assert result.errors == []
        kept = h.local(local.id)
        assert kept is not None, "a meeting declined elsewhere is kept (SPEC §10)"
        assert kept.my_response is MyResponse.DECLINED and kept.contents == "Their pricing call"
        again = h.sync()
        assert again.counts == {} and again.errors == []
        assert h.local(local.id).my_response is MyResponse.DECLINED

    def test_someone_elses_meeting_deleted_on_the_service_is_deleted_here(self, h):
        made, local = self._their_meeting_synced(h, "Their old call")
        h.server.delete_event(made)
        h.sync()
        assert h.local(local.id) is None

    def test_mass_deletion_guard_stops_then_restore_brings_them_back(self, h):
        items = _many(h, 40)
        for a in items[:15]:
            h.server.delete_event(h.remote_id_for(a.id))
        result = h.sync()
        assert result.stopped and len(h.guards[0].local_deletions) == 15
        assert len(h.all_local()) == 40
        h.decision = Decision.RESTORE
        h.sync()
        assert len(h.server.event_ids()) == 40 and len(h.all_local()) == 40

    def test_mass_deletion_guard_stops_before_deleting(self, h):
        for i in range(12):
            h.add_local(f"Visit {i}")
        h.sync()
        h.sync()
        for remote_id in h.server.event_ids():
            h.server.delete_event(remote_id)
        result = h.sync()
        assert result.stopped and len(h.all_local()) == 12

    # ---------------------------------------------------------------------- privacy

    def test_private_both_ways(self, h):
        made = h.add_remote("Doctor", sensitivity="private")
        confidential = h.add_remote("Lawyer", sensitivity="confidential")
        a = h.add_local("Dentist", private=True)
        h.sync()
        assert h.local_for(made).private and h.local_for(confidential).private
        assert h.server.sensitivity(h.remote_id_for(a.id)) == "private"
        h.edit_local(a.id, private=False)
        h.sync()
        assert h.server.sensitivity(h.remote_id_for(a.id)) == "normal"

    def test_sync_all_as_private(self, make_harness):
        h = make_harness(sync_all_private=True)
        made = h.add_remote("Team lunch")
        h.sync()
        assert h.local_for(made).private
        assert h.server.sensitivity(made) == "normal"

    # ----------------------------------------------------------- availability (SPEC §10)

    def test_show_as_both_ways_and_nothing_pushed_again(self, h):
        made = h.add_remote("Focus block", show_as="free")
        a = h.add_local("Offsite", show_as=ShowAs.TENTATIVE)
        h.sync()
        assert h.local_for(made).show_as is ShowAs.FREE
        held = h.provider.show_as_kept.get(ShowAs.TENTATIVE, ShowAs.TENTATIVE)
        assert h.server.show_as(h.remote_id_for(a.id)) == held
        # what the service holds instead of tentative is no change of the Sales Calendar's
        assert h.local(a.id).show_as is ShowAs.TENTATIVE
        h.edit_local(a.id, show_as=ShowAs.FREE)
        h.server.edit_event(made, show_as="busy")
        h.sync()
        assert h.server.show_as(h.remote_id_for(a.id)) == "free"
        assert h.local_for(made).show_as is ShowAs.BUSY
        h.sync()  # the echo of its own writes
        before = h.server.count_requests()
        assert h.sync().counts == {}  # nothing pushed again
        assert h.server.count_requests() - before == 1

    def test_an_online_meetings_join_link_comes_to_the_sales_calendar(self, h):
        link = self.join_url
        made = h.add_remote("Weekly review", join_url=link)
        pasted = h.add_remote("Vendor call", location=f"Zoom: {ZOOM}")
        h.sync()
        assert h.local_for(made).join_url == link
        assert h.local_for(pasted).join_url == ZOOM

    join_url = "https://teams.microsoft.com/l/meetup-join/19%3ameeting_Zm9v%40thread.v2/0"

    # ----------------------------------------------------------- incremental and faults

    def test_expired_sync_state_resyncs_without_duplicates(self, h):
        h.add_local("One")
        h.add_remote("Two")
        h.sync()
        h.server.expire_sync_state()
        h.add_remote("Three")
        result = h.sync()
        assert result.full_listing
        assert len(h.server.event_ids()) == 3 and len(h.all_local()) == 3

    def test_rate_limits_and_server_errors_are_retried(self, h, kind, retry_after, expected_wait):
        h.add_local()
        h.warm_up()
        h.server.fail_next(kind, 2, retry_after=retry_after)
        h.sync()
        assert len(h.server.event_ids()) == 1
        assert len(h.waits) == 2
        if expected_wait is not None:
            assert min(h.waits) >= expected_wait

    def test_a_look_at_the_service_is_neither_counted_nor_faulted(self, h):
        a = h.add_local("Looked at")
        h.sync()
        h.server.fail_next("server_error")
        before = h.server.count_requests()
        assert h.remote_for(a.id).subject == "Looked at"  # a request of its own
        assert h.server.count_requests() == before and h.server.faults.pending == 1
        h.edit_local(a.id, location="Room 3")
        h.sync()  # the fault was kept for the product's next request
        assert h.server.faults.pending == 0 and len(h.waits) == 1
        assert h.remote_for(a.id).location == "Room 3"

    def test_rate_limited_writes_are_retried(self, h):
        h.add_local()
        h.sync()
        for _ in range(3):
            h.add_local()
        h.server.fail_next("rate_limit", 1, retry_after=4, on="write")
        h.sync()
        assert len(h.server.event_ids()) == 4 and h.waits == [4.0]

    @pytest.mark.parametrize("kind", ["drop", "malformed"])
    def test_a_broken_answer_ends_the_run_and_the_next_run_picks_up(self, h, kind):
        h.add_local()
        runner = h.runner()
        h.warm_up()
        h.server.fail_next(kind, 3)
        result = runner.sync_account(h.account.id)
        assert result.errors and h.store.get_account(h.account.id).state is AccountState.ERROR
        h.server.clear_faults()
        runner.sync_account(h.account.id)
        assert len(h.server.event_ids()) == 1
        assert h.store.get_account(h.account.id).state is AccountState.OK

    def test_a_listing_nested_too_deep_is_a_one_line_error_and_the_next_run_picks_up(self, h):
        h.add_remote("Kept")
        runner = h.runner()
        h.warm_up()
        h.server.fail_next("deep_nesting", 3)  # 200,000 levels (tests/fakes/kit/hostile.py)
        result = runner.sync_account(h.account.id)
        assert len(result.errors) == 1, result.errors
        assert "\n" not in result.errors[0] and "could not be read" in result.errors[0]
        assert "recursion" not in result.errors[0].lower()
        assert h.store.get_account(h.account.id).state is AccountState.ERROR
        h.server.clear_faults()
        runner.sync_account(h.account.id)
        assert [a.contents for a in h.all_local()] == ["Kept"]
        assert h.store.get_account(h.account.id).state is AccountState.OK

    @pytest.mark.parametrize(
        ("side", "value"),
        [
            ("start", IMPOSSIBLE_DATE),  # month 13, day 45, hour 99
            ("start", "2026-02-30T10:00:00Z"),  # February 30
            ("start", "10000-01-01T10:00:00Z"),  # the year 10000
            ("end", "2001-01-01T10:00:00Z"),  # an end before its start
        ],
        ids=["month-13", "february-30", "year-10000", "end-before-start"],
    )
    def test_an_event_with_an_impossible_date_is_skipped_with_its_reason_and_the_rest_syncs(
        self, h, side, value
    ):
        made = [h.add_remote(f"Visit {n}", start=h.at(2 + n)) for n in range(3)]
        runner = h.runner()
        h.warm_up()
        field = h.start_field if side == "start" else h.end_field
        h.server.fail_next("bad_value", field=field, value=h.stamp(value))
        result = runner.sync_account(h.account.id)
        assert not result.errors, result.errors
        assert h.store.get_account(h.account.id).state is AccountState.OK
        assert sum(h.local_for(rid) is not None for rid in made) == 2
        (entry,) = h.store.skipped(h.account.id)
        assert entry.side == "remote" and h.name in entry.reason
        assert not re.search(r"\w The\b", entry.reason), entry.reason  # one sentence, read well
        assert "cannot be read" in entry.reason or "ends before it starts" in entry.reason
        # nothing is lost: once the service sends it readably, it comes in
        h.server.clear_faults()
        assert not runner.sync_account(h.account.id).errors
        assert sorted(a.contents for a in h.all_local()) == ["Visit 0", "Visit 1", "Visit 2"]
        assert h.store.skipped(h.account.id) == []
        assert len(h.server.event_ids()) == 3

    def test_a_linked_event_sent_with_an_impossible_date_is_neither_changed_nor_deleted(self, h):
        a = h.add_local("Kept as it is", location="Room 1")
        h.sync()
        rid = h.remote_id_for(a.id)
        h.clock.advance(minutes=1)
        h.server.edit_event(rid, location="Room 9")
        runner = h.runner()
        h.warm_up()
        h.server.fail_next(
            "bad_value",
            field=h.start_field,
            value=h.stamp(IMPOSSIBLE_DATE),
            **h.where_changes_are_read(),
        )
        assert not runner.sync_account(h.account.id).errors
        assert (h.local(a.id).contents, h.local(a.id).location) == ("Kept as it is", "Room 1")
        assert [(e.item_id, e.item) for e in h.store.skipped(h.account.id)] == [
            (a.id, "Kept as it is")
        ]
        h.server.clear_faults()
        assert not runner.sync_account(h.account.id).errors
        assert h.local(a.id).location == "Room 9" and h.remote(rid) is not None
        assert h.store.skipped(h.account.id) == []

    def test_slow_answer_times_out_and_the_next_run_picks_up(self, h):
        h.add_local()
        h.warm_up()
        runner = h.runner(timeout=0.3)
        h.server.fail_next("slow", h.slow_faults, delay=0.6)
        result = runner.sync_account(h.account.id)
        assert result.errors and "in time" in result.errors[0]
        h.server.clear_faults()
        runner.sync_account(h.account.id)
        assert len(h.server.event_ids()) == 1

    def test_expired_access_token_is_refreshed_mid_sync(self, h):
        _many(h, 3)
        h.add_local("after expiry")
        h.server.fail_next("expired_token")
        result = h.sync()
        assert not result.errors and len(h.server.event_ids()) == 4

    def test_revoked_sign_in_pauses_the_account_and_deletes_nothing(self, h):
        _many(h, 3)
        h.server.revoke_sign_in()
        runner = h.runner()
        result = runner.sync_account(h.account.id)
        account = h.store.get_account(h.account.id)
        assert account.state is AccountState.NEEDS_SIGN_IN and "sign" in result.errors[0].lower()
        assert runner.runnable_accounts() == []
        assert len(h.all_local()) == 3 and len(h.server.event_ids()) == 3
