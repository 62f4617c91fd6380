"""End to end against the EWS test server answering as Exchange 2010 SP3, which
has no WorkingElsewhere (SPEC §10): an appointment shown as working elsewhere
is written as busy there, stays working elsewhere in the Sales Calendar, and
is not pushed again by any later sync, whichever side is edited."""

from __future__ import annotations

from calsync_desktop.model import ShowAs
from tests.fakes.ews_fixtures import ews_server_fixtures

from .e2e_contract import e2e_fixtures
from .test_ews_e2e import EwsE2E

server_module, server = ews_server_fixtures("server", "Exchange2010_SP2", clock=True)
make_harness, h = e2e_fixtures(EwsE2E)


def quiet_sync(h) -> int:
    """Sync and say how many requests it sent."""
    before = h.server.count_requests()
    h.sync()
    return h.server.count_requests() - before


def test_working_elsewhere_is_busy_on_exchange_2010_and_never_pushed_again(h):
    a = h.add_local("Offsite", show_as=ShowAs.WORKING_ELSEWHERE)
    h.sync()
    remote_id = h.remote_id_for(a.id)
    assert h.server.show_as(remote_id) == "busy"
    assert quiet_sync(h) == 1  # nothing to do: one request (SPEC §4, Incremental)
    assert h.local(a.id).show_as is ShowAs.WORKING_ELSEWHERE
    # an edit on either side goes through and leaves the show-as as each side holds it
    h.clock.advance(minutes=1)
    h.edit_local(a.id, location="Room 9")
    h.sync()
    h.clock.advance(minutes=1)
    h.server.edit_event(remote_id, location="Room 10")
    h.sync()
    assert h.local(a.id).location == "Room 10"
    assert h.local(a.id).show_as is ShowAs.WORKING_ELSEWHERE
    assert h.server.show_as(remote_id) == "busy"
    assert quiet_sync(h) == 1
