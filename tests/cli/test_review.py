"""``calsync skipped`` and ``calsync conflicts [restore ID]`` (issue 10, item 7):
what the window's Troubleshooting lists, on the command line, private
appointments redacted."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from calsync_desktop.accounts.memory import calendar_for
from calsync_desktop.model import Participant
from calsync_desktop.words import count
from tests.cli.helpers import SECRET, SECRET_PLACE, _add_memory_account, _assert_usage_error


def _remote(cli):
    return calendar_for(cli.services, "me@example.com")


def test_skipped_lists_every_item_a_sync_left_alone_with_its_reason(cli):
    _add_memory_account(cli)
    remote = _remote(cli)
    day = datetime(2026, 11, 25, tzinfo=UTC)
    remote.add(subject="Company holiday", start=day, end=day.replace(day=26), all_day=True)
    remote.add(
        subject=SECRET,
        location=SECRET_PLACE,
        private=True,
        start=day,
        end=day.replace(day=26),
        all_day=True,
    )
    cli.add(
        "--contents",
        "Visit",
        "--start",
        "2026-11-24T09:00",
        "--end",
        "2026-11-24T10:00",
        "--participant",
        "Nameless Guest",
    )
    assert "No skipped items" in cli.ok("skipped")
    cli.ok("sync")

    rows = cli.json("skipped")
    by_item = {r["item"]: r for r in rows}
    assert {"Company holiday", "Private appointment"} <= set(by_item)
    assert "all-day" in by_item["Company holiday"]["reason"].lower()
    assert by_item["Company holiday"]["side"] == "me@example.com"
    assert by_item["Private appointment"]["private"] is True
    text = cli.ok("skipped")
    assert "Company holiday" in text and by_item["Company holiday"]["reason"] in text
    assert count(len(rows), "item") in text
    for out in (text, json.dumps(rows), cli.ok("skipped", "--account", "me@example.com")):
        assert SECRET not in out and SECRET_PLACE not in out
    _assert_usage_error(cli("skipped", "--account", "nobody"), "No account")


def _conflict(cli, private: bool = False) -> str:
    """A linked appointment whose location changed on both sides before a sync."""
    options = ["--private"] if private else []
    added = cli.add(
        "--contents",
        SECRET if private else "Pitch",
        "--location",
        "Room A",
        "--start",
        "2026-11-24T09:00",
        "--end",
        "2026-11-24T10:00",
        *options,
    )
    cli.ok("sync")
    remote = _remote(cli)
    (event,) = [e for e in remote.events.values() if e.local_id == added["id"]]
    cli.ok("appointments", "edit", added["id"], "--location", "Room B (ours)")
    remote.edit(event.remote_id, location=SECRET_PLACE if private else "Room C (theirs)")
    cli.ok("sync")
    return added["id"]


def test_conflicts_are_listed_and_a_lost_value_is_restored(cli):
    _add_memory_account(cli)
    assert "No conflicts logged" in cli.ok("conflicts")
    appointment_id = _conflict(cli)
    (row,) = cli.json("conflicts")
    assert row["appointment"] == "Pitch" and row["field"] == "location"
    assert {row["kept"], row["lost"]} == {"Room B (ours)", "Room C (theirs)"}
    assert row["restorable"] and not row["restored"]
    text = cli.ok("conflicts")
    assert f"calsync conflicts restore ID (e.g. {row['id']})" in text and row["lost"] in text

    out = cli.ok("conflicts", "restore", str(row["id"]))
    assert f"Restored the location of 'Pitch': {row['lost']}." in out
    assert cli.store.get_appointment(appointment_id).location == row["lost"]
    assert cli.json("conflicts")[0]["restored"] is True
    _assert_usage_error(cli("conflicts", "restore", str(row["id"])), "restored already")
    _assert_usage_error(cli("conflicts", "restore", "999"), "No conflict 999")
    _assert_usage_error(cli("conflicts", "restore", "abc"), "invalid int value")


def test_conflicts_name_the_field_and_the_side_as_the_history_does(cli):
    _add_memory_account(cli)
    added = cli.add(
        "--contents", "Pitch", "--start", "2026-11-24T09:00", "--end", "2026-11-24T10:00"
    )
    cli.ok("sync")
    remote = _remote(cli)
    (event,) = [e for e in remote.events.values() if e.local_id == added["id"]]
    cli.ok("appointments", "edit", added["id"], "--contents", "Pitch (ours)")
    remote.edit(event.remote_id, subject="Pitch (theirs)")
    cli.ok("sync")
    (row,) = cli.json("conflicts")
    assert row["field"] == "contents" and row["lost_side"] == "remote"  # JSON keeps its names
    text = cli.ok("conflicts")
    assert "Title and notes: kept Pitch (ours); lost Pitch (theirs) (from me@example.com)" in text
    out = cli.ok("conflicts", "restore", str(row["id"]))
    assert "Restored the title and notes of 'Pitch (theirs)': Pitch (theirs)." in out


def test_conflicts_of_private_appointments_keep_their_values_hidden(cli):
    _add_memory_account(cli)
    appointment_id = _conflict(cli, private=True)
    (row,) = cli.json("conflicts")
    assert row["appointment"] == "Private appointment" and row["private"] is True
    assert row["kept"] == row["lost"] == "(private)"
    outputs = [
        cli.ok("conflicts"),
        json.dumps(row),
        cli.ok("--json", "conflicts", "restore", str(row["id"])),
    ]
    outputs.append(cli.ok("status"))
    for out in outputs:
        assert SECRET not in out and SECRET_PLACE not in out and "Room B" not in out
    # restoring still works: the lost value is back in the appointment itself
    assert cli.store.get_appointment(appointment_id).location in (SECRET_PLACE, "Room B (ours)")


def test_a_conflict_of_a_deleted_appointment_is_listed_but_not_restored(cli):
    _add_memory_account(cli)
    appointment_id = _conflict(cli)
    cli.ok("appointments", "delete", appointment_id)
    (row,) = cli.json("conflicts")
    assert row["appointment"] == "(deleted appointment)" and not row["restorable"]
    assert row["kept"] == row["lost"] == "(deleted)"
    _assert_usage_error(cli("conflicts", "restore", str(row["id"])), "was deleted")


def test_an_item_made_private_after_it_was_skipped_is_named_private(cli):
    _add_memory_account(cli)
    added = cli.add(
        "--contents",
        SECRET,
        "--start",
        "2026-11-24T09:00",
        "--end",
        "2026-11-24T10:00",
        "--participant",
        "Nameless Guest",
    )
    cli.ok("sync")
    cli.store.update_appointment(
        cli.store.get_appointment(added["id"]).with_changes(
            private=True, participants=(Participant("Nameless Guest"),)
        )
    )
    rows = cli.json("skipped")
    assert rows and all(SECRET not in json.dumps(r) for r in rows)
