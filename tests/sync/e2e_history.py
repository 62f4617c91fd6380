"""The sync history's rules (SPEC §9) every calendar service keeps, end to end:
mixed into :class:`~tests.sync.e2e_contract.EndToEndContract`, so they run
against each test server through the real client library."""

from __future__ import annotations

from calsync_desktop.store.resync import forget_sync
from calsync_desktop.sync.engine import Decision
from calsync_desktop.sync.undo import Undo


def _undo(h, run_id: int):
    account = h.store.get_account(h.account.id)
    undo = Undo(h.store, account, h.provider, clock=h.clock, confirm=lambda g: Decision.APPLY)
    return undo.run(run_id)


def _runs(h):
    from calsync_desktop.store.journal import Journal

    return Journal(h.store).runs(h.account.id)


class HistoryContract:
    def test_undo_puts_both_sides_back_and_can_itself_be_undone(self, h):
        pushed = h.add_local("Demo at Initech", location="HQ")
        pulled = h.add_local("Call Globex")
        gone_here = h.add_local("Lunch with Ann")
        h.sync()
        h.sync()  # past our own creates
        h.clock.advance(minutes=5)
        h.edit_local(pushed.id, location="Room 2")
        h.server.edit_event(h.remote_id_for(pulled.id), subject="Call Globex (moved)")
        h.store.delete_appointment(gone_here.id)
        made = h.add_remote("From the phone")
        h.sync()
        run = _runs(h)[0]
        assert run.changes == 4
        h.clock.advance(minutes=5)
        undone = _undo(h, run.id)
        assert undone.left_alone == [] and undone.errors == []
        assert h.remote_for(pushed.id).location == "HQ"
        assert h.local(pushed.id).location == "Room 2"  # as it was here before the run
        assert h.local(pulled.id).contents == "Call Globex"
        assert h.local(gone_here.id).contents == "Lunch with Ann"  # back, on both sides
        assert h.remote_for(gone_here.id).subject == "Lunch with Ann"
        assert h.local_for(made) is None and h.remote(made) is not None
        assert len(h.server.event_ids()) == 4
        # the next sync repeats nothing of it
        assert h.sync().counts == {}
        # undoing the undo: as the run left both sides
        h.clock.advance(minutes=5)
        again = _undo(h, undone.run_id)
        assert again.left_alone == [] and again.errors == []
        assert h.remote_for(pushed.id).location == "Room 2"
        assert h.local(pulled.id).contents == "Call Globex (moved)"
        assert h.local(gone_here.id) is None and h.remote_for(gone_here.id) is None
        assert h.local_for(made).contents == "From the phone"
        assert len(h.server.event_ids()) == 3

    def test_undo_leaves_alone_what_changed_on_the_service_since(self, h):
        a = h.add_local("Demo", location="HQ")
        h.sync()
        h.sync()
        h.edit_local(a.id, location="Room 2")
        h.sync()
        run = _runs(h)[0]
        h.server.edit_event(h.remote_id_for(a.id), location="Annex")
        result = _undo(h, run.id)
        assert [i.left_alone for i in result.left_alone] == [f"changed in {h.account.name} since"]
        assert h.remote_for(a.id).location == "Annex"

    def test_resync_from_scratch_links_everything_again_and_creates_nothing(self, h):
        items = [h.add_local(f"Visit {i}", start=h.at(1 + i % 9, 8 + i % 7)) for i in range(12)]
        made = h.add_remote("Theirs")
        h.sync()
        h.sync()
        links = {k: r.remote_id for k, r in h.store.all_status(h.account.id).items()}
        forget_sync(h.store, h.account.id)
        result = h.sync()
        assert result.counts == {"link": 13} and result.errors == []
        assert {k: r.remote_id for k, r in h.store.all_status(h.account.id).items()} == links
        assert len(h.server.event_ids()) == 13 and len(h.all_local()) == 13
        assert h.local_for(made) is not None and all(h.local(a.id) for a in items)
