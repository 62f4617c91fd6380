"""``calsync appointments add | list | show | edit | delete``."""

from __future__ import annotations

import io
import json
import sys
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from calsync_desktop.accounts.base import MemorySecrets
from calsync_desktop.cli import main, parse_participant
from calsync_desktop.model import (
    Appointment,
    InviteStatus,
    Participant,
)
from calsync_desktop.services import Services
from tests.cli.helpers import (
    SECRET,
    SECRET_GUEST,
    SECRET_PLACE,
    _assert_usage_error,
)


def test_add_reads_naive_times_in_the_given_zone_and_show_returns_it(cli):
    added = cli.add(
        "--contents",
        "Visit ACME\nBring the contract",
        "--start",
        "2026-11-24 09:00",
        "--end",
        "2026-11-24T10:30",
        "--zone",
        "America/New_York",
        "--location",
        "ACME HQ",
        "--participant",
        "Ann Lee <ann@example.com>",
        "--participant",
        "bob@example.com",
        "--participant",
        "Carl",
    )
    stored = cli.store.get_appointment(added["id"])
    assert stored.start == datetime(2026, 11, 24, 14, 0, tzinfo=UTC)
    assert stored.end == datetime(2026, 11, 24, 15, 30, tzinfo=UTC)
    assert stored.timezone == "America/New_York"
    assert stored.participants == (
        Participant("Ann Lee", "ann@example.com"),
        Participant("bob@example.com", "bob@example.com"),
        Participant("Carl", None),
    )

    shown = cli.json("appointments", "show", added["id"])
    assert shown["start"] == "2026-11-24T09:00:00-05:00"
    assert shown["title"] == "Visit ACME"
    assert shown["contents"] == "Visit ACME\nBring the contract"
    assert shown["location"] == "ACME HQ"
    assert [p["email"] for p in shown["participants"]] == [
        "ann@example.com",
        "bob@example.com",
        None,
    ]

    text = cli.ok("appointments", "show", added["id"])
    assert "Visit ACME" in text and "Bring the contract" in text
    assert "Carl (no email: not synced)" in text


def test_show_gives_the_times_in_this_computers_zone_as_list_does(cli):
    added = cli.add(
        "--contents",
        "Call New York",
        "--start",
        "2026-11-24 09:00",
        "--end",
        "2026-11-24 10:00",
        "--zone",
        "America/New_York",
    )
    listed = cli.ok("appointments", "list", "--from", "2026-11-24", "--to", "2026-11-24")
    assert "15:00–16:00" in listed  # Berlin, from TZ
    text = cli.ok("appointments", "show", added["id"])
    assert "when:         Tue 24 Nov 2026 15:00–16:00 (Europe/Berlin)" in text
    assert "time zone:    America/New_York" in text
    modified = cli.store.get_appointment(added["id"]).modified.astimezone(ZoneInfo("Europe/Berlin"))
    assert f"modified:     {modified:%a %d %b %Y %H:%M}" in text
    there = cli.ok("appointments", "show", added["id"], "--zone", "America/New_York")
    assert "when:         Tue 24 Nov 2026 09:00–10:00 (America/New_York)" in there
    assert "time zone:" not in there


def test_a_naive_time_without_zone_is_this_computers_zone(cli):
    added = cli.add(
        "--contents", "Call", "--start", "2026-07-01T09:00", "--end", "2026-07-01T09:30"
    )
    stored = cli.store.get_appointment(added["id"])
    assert stored.timezone == "Europe/Berlin"  # from TZ
    assert stored.start == datetime(2026, 7, 1, 7, 0, tzinfo=UTC)  # CEST is UTC+2


def test_offsets_and_z_are_taken_as_given(cli):
    added = cli.add(
        "--contents", "Call", "--start", "2026-11-24T09:00+05:30", "--end", "2026-11-24T04:30Z"
    )
    stored = cli.store.get_appointment(added["id"])
    assert stored.start == datetime(2026, 11, 24, 3, 30, tzinfo=UTC)
    assert stored.end == datetime(2026, 11, 24, 4, 30, tzinfo=UTC)


def test_contents_can_come_from_stdin(cli, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("From a pipe\nsecond line\n"))
    added = cli.add("--contents", "-", "--start", "2026-11-24T09:00Z", "--end", "2026-11-24T10:00Z")
    assert cli.store.get_appointment(added["id"]).contents == "From a pipe\nsecond line"


def test_all_day_takes_dates_and_end_is_the_last_day(cli):
    added = cli.add(
        "--contents", "Trade fair", "--all-day", "--start", "2026-11-24", "--end", "2026-11-25"
    )
    stored = cli.store.get_appointment(added["id"])
    assert stored.all_day
    assert stored.start == datetime(2026, 11, 23, 23, 0, tzinfo=UTC)  # midnight in Berlin
    assert stored.end == datetime(2026, 11, 25, 23, 0, tzinfo=UTC)  # after the last day
    one_day = cli.add("--contents", "Holiday", "--all-day", "--start", "2026-12-24")
    stored = cli.store.get_appointment(one_day["id"])
    assert stored.end - stored.start == timedelta(days=1)


def test_list_shows_occurrences_with_private_ones_hidden(cli):
    cli.add(
        "--contents", "Team meeting", "--start", "2026-11-24T09:00", "--end", "2026-11-24T10:00"
    )
    private = cli.add(
        "--contents",
        SECRET,
        "--location",
        SECRET_PLACE,
        "--participant",
        SECRET_GUEST,
        "--private",
        "--start",
        "2026-11-25T12:00",
        "--end",
        "2026-11-25T13:00",
        "--rrule",
        "FREQ=DAILY;COUNT=3",
        "--exdate",
        "2026-11-26T12:00",
    )
    assert private["contents"] == "Private appointment"  # even the confirmation hides it

    text = cli.ok("appointments", "list", "--from", "2026-11-23", "--to", "2026-11-30")
    assert "Team meeting" in text
    assert text.count("Private appointment") == 2  # three days, one left out
    for hidden in (SECRET, SECRET_PLACE, SECRET_GUEST):
        assert hidden not in text

    rows = cli.json("appointments", "list", "--from", "2026-11-23", "--to", "2026-11-30")
    assert [r["title"] for r in rows] == [
        "Team meeting",
        "Private appointment",
        "Private appointment",
    ]
    assert [r["start"] for r in rows[1:]] == [
        "2026-11-25T12:00:00+01:00",
        "2026-11-27T12:00:00+01:00",
    ]
    assert all(r["hidden"] and r["recurring"] for r in rows[1:])
    assert SECRET not in json.dumps(rows)

    shown = cli.json(
        "appointments", "list", "--from", "2026-11-23", "--to", "2026-11-30", "--show-private"
    )
    assert shown[1]["contents"] == SECRET and shown[1]["location"] == SECRET_PLACE


def test_list_defaults_to_the_next_days_and_honours_from_to(cli):
    cli.add("--contents", "Soon", "--start", "2026-11-30T09:00", "--end", "2026-11-30T10:00")
    cli.add("--contents", "Far", "--start", "2027-03-01T09:00", "--end", "2027-03-01T10:00")
    cli.add("--contents", "Past", "--start", "2026-11-01T09:00", "--end", "2026-11-01T10:00")
    assert [r["title"] for r in cli.json("appointments", "list")] == ["Soon"]
    # a date alone as --to includes that day
    rows = cli.json("appointments", "list", "--from", "2026-11-01", "--to", "2026-11-30")
    assert [r["title"] for r in rows] == ["Past", "Soon"]
    assert "No appointments" in cli.ok("appointments", "list", "--from", "2030-01-01")


def test_show_hides_a_private_appointment_unless_asked(cli):
    added = cli.add(
        "--contents",
        SECRET + "\nthe details",
        "--location",
        SECRET_PLACE,
        "--participant",
        f"Spy <{SECRET_GUEST}>",
        "--private",
        "--start",
        "2026-11-24T09:00",
        "--end",
        "2026-11-24T10:00",
    )
    for argv in (
        ("appointments", "show", added["id"]),
        ("--json", "appointments", "show", added["id"]),
    ):
        out = cli.ok(*argv)
        assert "Private appointment" in out
        for hidden in (SECRET, "the details", SECRET_PLACE, SECRET_GUEST):
            assert hidden not in out
    full = cli.json("appointments", "show", added["id"], "--show-private")
    assert full["contents"] == SECRET + "\nthe details"
    assert full["participants"][0]["email"] == SECRET_GUEST


def test_edit_changes_only_what_is_given(cli):
    added = cli.add(
        "--contents",
        "Demo",
        "--location",
        "Office",
        "--start",
        "2026-11-24T09:00",
        "--end",
        "2026-11-24T10:30",
        "--participant",
        "Ann <ann@example.com>",
    )
    # Ann answered meanwhile (the sync brings statuses back)
    stored = cli.store.get_appointment(added["id"])
    cli.store.save_appointment(
        stored.with_changes(
            participants=(Participant("Ann", "ann@example.com", InviteStatus.ACCEPTED),)
        )
    )

    edited = cli.json(
        "appointments",
        "edit",
        added["id"][:8],  # the short id `list` shows
        "--start",
        "2026-11-25T14:00",
        "--participant",
        "Ann <ANN@example.com>",
        "--participant",
        "Dan <dan@example.com>",
    )
    assert edited["contents"] == "Demo" and edited["location"] == "Office"
    assert edited["start"] == "2026-11-25T14:00:00+01:00"
    assert edited["end"] == "2026-11-25T15:30:00+01:00"  # kept its length
    assert [(p["email"], p["status"]) for p in edited["participants"]] == [
        ("ANN@example.com", "accepted"),
        ("dan@example.com", "no_response"),
    ]

    edited = cli.json(
        "appointments", "edit", added["id"], "--private", "--location", "", "--contents", "Demo 2"
    )
    assert edited["private"] and edited["contents"] == "Private appointment"
    stored = cli.store.get_appointment(added["id"])
    assert (stored.contents, stored.location, stored.private) == ("Demo 2", "", True)
    assert stored.participants[0].status is InviteStatus.ACCEPTED

    cli.ok("appointments", "edit", added["id"], "--no-private", "--clear-participants")
    stored = cli.store.get_appointment(added["id"])
    assert not stored.private and stored.participants == ()


def test_edit_sets_and_clears_the_recurrence(cli):
    added = cli.add(
        "--contents", "Standup", "--start", "2026-11-24T09:00", "--end", "2026-11-24T09:15"
    )
    cli.ok("appointments", "edit", added["id"], "--rrule", "RRULE:FREQ=WEEKLY;BYDAY=TU;COUNT=4")
    cli.ok("appointments", "edit", added["id"], "--exdate", "2026-12-01")
    stored = cli.store.get_appointment(added["id"])
    assert stored.recurrence.rrule == "FREQ=WEEKLY;BYDAY=TU;COUNT=4"
    assert stored.recurrence.exdates == (datetime(2026, 12, 1, 8, 0, tzinfo=UTC),)
    cli.ok("appointments", "edit", added["id"], "--rrule", "")
    assert cli.store.get_appointment(added["id"]).recurrence is None


def test_moving_a_series_moves_its_left_out_occurrences_by_wall_clock(cli):
    added = cli.add(
        "--contents",
        "Weekly",
        "--start",
        "2026-10-20T09:00",  # summer time
        "--end",
        "2026-10-20T09:30",
        "--rrule",
        "FREQ=WEEKLY;COUNT=4",
        "--exdate",
        "2026-11-03T09:00",  # winter time
    )
    cli.ok("appointments", "edit", added["id"], "--start", "2026-10-27T09:00")
    rows = cli.json("appointments", "list", "--from", "2026-10-01", "--to", "2026-12-31")
    assert [r["start"] for r in rows] == [
        "2026-10-27T09:00:00+01:00",
        "2026-11-03T09:00:00+01:00",
        "2026-11-17T09:00:00+01:00",
    ]
    stored = cli.store.get_appointment(added["id"])
    assert stored.recurrence.exdates == (datetime(2026, 11, 10, 8, 0, tzinfo=UTC),)


def test_delete_removes_the_appointment(cli):
    added = cli.add(
        "--contents", "Gone", "--start", "2026-11-24T09:00", "--end", "2026-11-24T10:00"
    )
    out = cli.ok("appointments", "delete", added["id"])
    assert "Deleted 'Gone'" in out
    assert cli.store.get_appointment(added["id"]) is None
    _assert_usage_error(cli("appointments", "show", added["id"]), "No appointment")


def test_an_ambiguous_short_id_is_refused(cli):
    for suffix in ("1111", "2222"):
        cli.store.add_appointment(
            Appointment(
                id=f"abcd{suffix}-0000-4000-8000-000000000000",
                contents=suffix,
                start=datetime(2026, 11, 24, 9, tzinfo=UTC),
                end=datetime(2026, 11, 24, 10, tzinfo=UTC),
            )
        )
    _assert_usage_error(cli("appointments", "show", "abcd"), "matches 2 appointments")
    assert cli.json("appointments", "show", "abcd2")["contents"] == "2222"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--start", "2026-13-01T09:00", "--end", "2026-11-24T10:00"], "not an ISO 8601"),
        (["--start", "next tuesday", "--end", "2026-11-24T10:00"], "not an ISO 8601"),
        (["--start", "2026-11-24T10:00", "--end", "2026-11-24T09:00"], "ends before it starts"),
        (
            ["--start", "2026-11-24T09:00", "--end", "2026-11-24T10:00", "--zone", "Mars/Olympus"],
            "Unknown time zone",
        ),
        (
            ["--start", "2026-11-24T09:00", "--end", "2026-11-24T10:00", "--rrule", "FREQ=OFTEN"],
            "Invalid recurrence rule",
        ),
        (
            [
                *("--start", "2026-11-24T09:00", "--end", "2026-11-24T10:00"),
                *("--rrule", "FREQ=DAILY;UNTIL=20261130T090000"),
            ],
            "Invalid recurrence rule",
        ),
        (
            [
                *("--start", "2026-11-24T09:00", "--end", "2026-11-24T10:00"),
                *("--rrule", "FREQ=DAILY;COUNT=2", "--exdate", "2026-11-28T09:00"),
            ],
            "not an occurrence",
        ),
        (
            ["--start", "2026-11-24T09:00", "--end", "2026-11-24T10:00", "--exdate", "2026-11-24"],
            "needs --rrule",
        ),
        (["--start", "2026-03-29T02:30", "--end", "2026-03-29T04:00"], "does not exist"),
        (["--start", "2026-11-24", "--end", "2026-11-25"], "--all-day"),
        (["--start", "2026-11-24T09:00"], "--end is required"),
        (
            ["--start", "2026-11-24T09:00", "--end", "2026-11-24T10:00", "--participant", "a@"],
            "not an email address",
        ),
        (
            ["--start", "2026-11-24T09:00", "--end", "2026-11-24T10:00", "--participant", "<x@y"],
            "not an email address",
        ),
    ],
)
def test_bad_input_is_one_clear_line_and_exit_2(cli, argv, message):
    _assert_usage_error(cli("appointments", "add", "--contents", "x", *argv), message)
    assert cli.store.count_appointments() == 0


def test_huge_contents_are_refused_clearly(cli):
    result = cli(
        "appointments",
        "add",
        "--contents",
        "x" * 100_001,
        "--start",
        "2026-11-24T09:00",
        "--end",
        "2026-11-24T10:00",
    )
    _assert_usage_error(result, "too long")


@pytest.mark.parametrize(
    "argv",
    [
        ["appointments", "show", "no-such-id"],
        ["appointments", "edit", "no-such-id", "--contents", "x"],
        ["appointments", "delete", "no-such-id"],
    ],
)
def test_unknown_appointment_id_is_exit_2(cli, argv):
    _assert_usage_error(cli(*argv), "No appointment")


def test_bad_edit_leaves_the_appointment_as_it_was(cli):
    added = cli.add(
        "--contents", "Keep", "--start", "2026-11-24T09:00", "--end", "2026-11-24T10:00"
    )
    before = cli.store.get_appointment(added["id"])
    _assert_usage_error(
        cli("appointments", "edit", added["id"], "--end", "2026-11-24T08:00"), "ends before"
    )
    _assert_usage_error(
        cli("appointments", "edit", added["id"], "--exdate", "2026-11-24T09:00"), "does not repeat"
    )
    assert cli.store.get_appointment(added["id"]) == before


def test_json_may_come_before_or_after_the_command(cli):
    cli.add("--contents", "A", "--start", "2026-11-24T09:00", "--end", "2026-11-24T10:00")
    after = json.loads(cli.ok("appointments", "list", "--json"))
    before = json.loads(cli.ok("--json", "appointments", "list"))
    assert after == before and after[0]["title"] == "A"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ann Lee <ann@example.com>", Participant("Ann Lee", "ann@example.com")),
        ('"Lee, Ann" <ann@example.com>', Participant("Lee, Ann", "ann@example.com")),
        ("<ann@example.com>", Participant("ann@example.com", "ann@example.com")),
        ("ann@example.com", Participant("ann@example.com", "ann@example.com")),
        ("Ann Lee", Participant("Ann Lee", None)),
    ],
)
def test_participant_forms(text, expected):
    assert parse_participant(text) == expected


def test_appointments_added_on_the_command_line_go_to_the_default_account(tmp_path, capsys):
    from calsync_desktop.accounts.base import Account

    services = Services.create(home=tmp_path, secrets=MemorySecrets(), env={"TZ": "UTC"})
    first = services.store.add_account(Account(id="a1", kind="memory", name="A", email="a@x"))
    second = services.store.add_account(Account(id="a2", kind="memory", name="B", email="b@x"))
    add = [
        "appointments",
        "add",
        "--contents",
        "Visit",
        "--start",
        "2026-11-24T09:00Z",
        "--end",
        "2026-11-24T10:00Z",
        "--json",
    ]
    assert main(add, services=services) == 0
    services.store.set_setting("app.default_account", second.id)
    assert main(add, services=services) == 0
    capsys.readouterr()
    owners = sorted(
        a.account_id
        for a in services.store.appointments_between(
            datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)
        )
    )
    assert owners == sorted([first.id, second.id])
    services.store.close()
