"""Two members of a team syncing at the same time (SPEC §8), each with a
Google account of their own on the Google test server (google-api-python-client
over real HTTP) and their app on one real PostgreSQL (tests/pg.py): each sees
the other's appointments, the other's private ones without contents; each
app writes only its own rows and its own member's calendar.

Bob's sync is started from inside Ann's (while Ann's lists her service's
changes) and Ann's goes on once Bob's is listing too, so that the two syncs
overlap at a known point instead of by timing.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from calsync_desktop.accounts.base import MemorySecrets
from calsync_desktop.model import Appointment, new_id
from tests.fakes.google_calendar import GoogleCalendarServer
from tests.sync.test_google_e2e import GoogleE2E, remote_items

ANN, BOB = "ann@team.example", "bob@team.example"


@pytest.fixture
def members(team_db, tmp_path, clock):
    """Ann's and Bob's apps on the team server, each linked to their own Google."""
    with (
        GoogleCalendarServer(ANN, clock=clock) as ann_google,
        GoogleCalendarServer(BOB, clock=clock) as bob_google,
    ):
        made = []
        for email, google in ((ANN, ann_google), (BOB, bob_google)):
            services = team_db.connect_services(tmp_path / email, MemorySecrets(), clock, email)
            made.append(GoogleE2E(services, google))
        yield made
        for h in made:
            h.close()
            h.store.close()
            h.store.engine.dispose()


def _fill(h: GoogleE2E, name: str) -> None:
    """Each member: a customer call and a private appointment in their Google,
    and one appointment typed in the Sales Calendar."""
    start = h.clock() + timedelta(days=2, hours=1)
    h.add_remote(f"{name}'s customer call", start=start, location=f"{name}'s office")
    h.add_remote(f"{name}'s doctor", start=start + timedelta(hours=3), sensitivity="private")
    h.store.add_appointment(
        Appointment(
            new_id(),
            f"{name}'s proposal prep",
            start + timedelta(days=1),
            start + timedelta(days=1, hours=1),
            "Europe/Berlin",
        )
    )


def _overlapping(first: GoogleE2E, second: GoogleE2E) -> tuple:
    """Sync both at once: the second starts while the first lists its changes,
    and the first goes on once the second is listing too."""
    second_listing = threading.Event()
    results: dict[str, object] = {}

    def opened(h: GoogleE2E, hook):
        def open_provider(_account):
            provider = h.new_provider()
            listing = provider.changes

            def changes(*args, **kwargs):
                hook()
                return listing(*args, **kwargs)

            provider.changes = changes
            return provider

        return open_provider

    from calsync_desktop.sync.runner import SyncRunner

    def second_sync() -> None:
        runner = SyncRunner(second.services, opened(second, second_listing.set))
        results["second"] = runner.sync_account(second.account.id)

    threads: list[threading.Thread] = []

    def start_second() -> None:
        if not threads:
            threads.append(threading.Thread(target=second_sync))
            threads[0].start()
            assert second_listing.wait(60)

    runner = SyncRunner(first.services, opened(first, start_second))
    results["first"] = runner.sync_account(first.account.id)
    for thread in threads:
        thread.join(120)
    return results["first"], results["second"]


def _week(h: GoogleE2E):
    now = h.clock()
    return h.store.team_appointments_between(now, now + timedelta(days=7))


def test_two_members_syncing_at_once_see_each_other_with_private_redacted_and_no_cross_writes(
    members, team_db
):
    ann, bob = members
    _fill(ann, "Ann")
    _fill(bob, "Bob")
    first, second = _overlapping(ann, bob)
    assert not first.errors and not second.errors, (first.errors, second.errors)
    # each brought its two events in and sent its typed appointment out
    assert sum(first.counts.values()) == sum(second.counts.values()) == 3, first.counts

    # no cross-writes: each member's Google holds that member's three only
    for h, name in ((ann, "Ann"), (bob, "Bob")):
        subjects = sorted(e["summary"] for e in remote_items(h.server))
        assert subjects == [
            f"{name}'s customer call",
            f"{name}'s doctor",
            f"{name}'s proposal prep",
        ]
    # and each app's own rows are its member's: the database says whose each row is
    with team_db.sql() as conn:
        owners = dict(
            conn.execute("SELECT owner, count(*) FROM appointments GROUP BY owner").fetchall()
        )
        assert owners == {ANN: 3, BOB: 3}
        links = conn.execute(
            "SELECT s.owner, a.owner FROM sync_status s JOIN appointments a ON a.id = s.local_id"
        ).fetchall()
        assert len(links) == 6 and all(mine == theirs for mine, theirs in links)
        accounts = dict(conn.execute("SELECT owner, count(*) FROM accounts GROUP BY owner"))
        assert accounts == {ANN: 1, BOB: 1}

    # each sees the other's appointments; the other's private one has only its times
    for h, me, other, name in ((ann, ANN, BOB, "Bob"), (bob, BOB, ANN, "Ann")):
        seen = {t.appointment.contents: t for t in _week(h) if t.owner == other}
        assert f"{name}'s customer call" in seen and f"{name}'s proposal prep" in seen
        assert seen[f"{name}'s customer call"].appointment.location == f"{name}'s office"
        private = [t for t in _week(h) if t.owner == other and t.appointment.private]
        assert len(private) == 1 and private[0].redacted
        assert (private[0].appointment.contents, private[0].appointment.location) == ("", "")
        assert all(f"{name}'s doctor" not in t.appointment.contents for t in _week(h))
        own = {
            a.contents for a in h.store.appointments_between(h.clock(), h.clock() + timedelta(7))
        }
        assert all(c.startswith(me.split("@")[0].title()) for c in own)

    # the next sync of each converges: nothing more to do on either side
    for h in (ann, bob):
        again = h.runner().sync_account(h.account.id)
        assert not again.errors and not any(again.counts.values()), again.counts
        assert len(remote_items(h.server)) == 3
