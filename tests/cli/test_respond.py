"""``calsync appointments respond ID accept|tentative|decline`` and how the
command line shows and guards a meeting someone else organises (SPEC §10)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from calsync_desktop.accounts.memory import calendar_for
from calsync_desktop.model import MyResponse, Organizer
from tests.cli.helpers import _add_memory_account

START = datetime(2026, 11, 25, 9, tzinfo=UTC)
BOSS = Organizer("Beth Boss", "boss@customer.example")


def _invitation(cli, guests_can_modify=False) -> tuple[str, str]:
    """Someone else's meeting on the account's calendar, synced in: (local id, remote id)."""
    _add_memory_account(cli)
    calendar = calendar_for(cli.services, "me@example.com")
    event = calendar.add(
        subject="Quarterly review",
        start=START,
        end=START + timedelta(hours=1),
        organizer_is_self=False,
        organizer=BOSS,
        guests_can_modify=guests_can_modify,
    )
    cli.ok("sync")
    rows = cli.store.status_for_remote(cli.store.list_accounts()[0].id, [event.remote_id])
    return rows[event.remote_id].local_id, event.remote_id


def test_show_names_the_organiser_and_the_answer(cli):
    local_id, _ = _invitation(cli)
    out = cli.ok("appointments", "show", local_id)
    assert "organiser:" in out and "Beth Boss <boss@customer.example>" in out
    assert "not answered yet" in out and "read-only" in out
    shown = cli.json("appointments", "show", local_id)
    assert shown["organizer"] == {
        "name": "Beth Boss",
        "email": "boss@customer.example",
        "guests_can_modify": False,
    }
    assert shown["my_response"] == "none"


def test_show_names_the_organiser_and_the_answer_once(cli):
    local_id, _ = _invitation(cli)
    out = cli.ok("appointments", "show", local_id)
    labels = [line.split(":")[0].strip() for line in out.splitlines()[1:] if ":" in line]
    assert labels.count("organiser") == 1 and labels.count("your answer") == 1, out
    assert labels.count("read-only") == 1, out


def test_show_does_not_call_a_meeting_the_guests_may_change_read_only(cli):
    local_id, _ = _invitation(cli, guests_can_modify=True)
    out = cli.ok("appointments", "show", local_id)
    assert "organiser:    Beth Boss <boss@customer.example> (lets the guests change" in out
    assert "read-only" not in out and out.count("your answer:") == 1, out


def test_respond_keeps_the_answer_and_the_next_sync_sends_it_as_a_response(cli):
    local_id, remote_id = _invitation(cli)
    out = cli.ok("appointments", "respond", local_id, "tentative")
    assert "tentative" in out and "next sync sends it" in out
    assert cli.store.get_appointment(local_id).my_response is MyResponse.TENTATIVE
    calendar = calendar_for(cli.services, "me@example.com")
    assert calendar.events[remote_id].my_response is MyResponse.NONE  # not before the sync
    cli.ok("sync")
    assert calendar.events[remote_id].my_response is MyResponse.TENTATIVE
    assert calendar.events[remote_id].subject == "Quarterly review"


def test_a_declined_meeting_is_listed_as_declined(cli):
    local_id, _ = _invitation(cli)
    cli.ok("appointments", "respond", local_id, "decline")
    out = cli.ok("appointments", "list", "--from", "2026-11-25", "--to", "2026-11-25")
    assert "Quarterly review [declined]" in out


def test_the_organisers_fields_cannot_be_edited_and_the_message_says_why(cli):
    local_id, _ = _invitation(cli)
    code, _, err = cli("appointments", "edit", local_id, "--location", "My office")
    assert code != 0 and "Traceback" not in err
    assert "Only its organiser, Beth Boss" in err and "location" in err
    assert cli.store.get_appointment(local_id).location == ""


def test_a_meeting_whose_organiser_lets_guests_modify_it_is_edited_and_synced(cli):
    local_id, remote_id = _invitation(cli, guests_can_modify=True)
    out = cli.ok("appointments", "show", local_id)
    assert "lets the guests change the meeting" in out
    assert cli.json("appointments", "show", local_id)["organizer"]["guests_can_modify"]
    cli.ok("appointments", "edit", local_id, "--location", "My office")
    assert cli.store.get_appointment(local_id).location == "My office"
    cli.ok("sync")
    calendar = calendar_for(cli.services, "me@example.com")
    assert calendar.events[remote_id].location == "My office"
    assert cli.store.skipped() == []  # nothing refused, nothing read-only


def test_ones_own_appointment_cannot_be_answered(cli):
    added = cli.add(
        "--contents", "My call", "--start", "2026-11-25T09:00", "--end", "2026-11-25T10:00"
    )
    code, _, err = cli("appointments", "respond", added["id"], "accept")
    assert code != 0 and "your own appointment" in err


def test_an_answer_outside_the_three_is_a_usage_error(cli):
    local_id, _ = _invitation(cli)
    code, _, err = cli("appointments", "respond", local_id, "maybe")
    assert code == 2 and "accept" in err and "tentative" in err and "decline" in err
