"""The ``calsync`` command line, run in-process on a real Sales Calendar file.

Accounts and sync use the memory kind: its calendar lives in ``Services.extra``,
so these tests hand ``main`` the same :class:`Services` for a whole sequence of
commands, the way one running app would. One test runs the real console script
in a subprocess.
"""

from __future__ import annotations

import io
import json
import logging
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import icalendar
import pytest

from calsync_desktop.accounts.base import KINDS, MemorySecrets
from calsync_desktop.accounts.memory import calendar_for
from calsync_desktop.cli import main, parse_participant, wanted_kinds
from calsync_desktop.model import (
    Appointment,
    InviteStatus,
    OccurrenceOverride,
    Participant,
    Recurrence,
)
from calsync_desktop.services import Services
from tests.conftest import FakeClock

REPO = Path(__file__).resolve().parents[1]
SECRET = "Quarterly numbers for ACME, do not share"
SECRET_PLACE = "Room 7, hidden floor"
SECRET_GUEST = "spy@example.com"


class Cli:
    """Runs ``calsync`` commands on one Services, as one running app would."""

    def __init__(self, services: Services, home: Path, capsys):
        self.services = services
        self.home = home
        self.capsys = capsys

    def __call__(self, *argv: str) -> tuple[int, str, str]:
        self.capsys.readouterr()
        code = main(["--home", str(self.home), *argv], services=self.services)
        out, err = self.capsys.readouterr()
        return code, out, err

    def ok(self, *argv: str) -> str:
        code, out, err = self(*argv)
        assert code == 0, (code, out, err)
        return out

    def json(self, *argv: str):
        return json.loads(self.ok("--json", *argv))

    def add(self, *argv: str) -> dict:
        return self.json("appointments", "add", *argv)

    @property
    def store(self):
        return self.services.store


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))


@pytest.fixture
def home(tmp_path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def cli(home, clock, capsys):
    # TZ fixed, so "this computer's zone" is the same on every machine
    services = Services.create(
        home=home, secrets=MemorySecrets(), env={"TZ": "Europe/Berlin"}, clock=clock
    )
    yield Cli(services, home, capsys)
    services.store.close()


def _assert_usage_error(result: tuple[int, str, str], fragment: str) -> None:
    code, out, err = result
    assert code == 2, (code, out, err)
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert lines[-1].startswith("calsync: error:") or lines[0].startswith("usage:"), err
    assert fragment.lower() in err.lower(), err


# --------------------------------------------------------------------------- appointments


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


def test_argparse_problems_are_exit_2_with_usage(cli):
    code, _, err = cli("appointments", "add", "--start", "2026-11-24T09:00")
    assert code == 2 and "--contents" in err and "Traceback" not in err
    code, _, err = cli("no-such-command")
    assert code == 2 and "invalid choice" in err
    code, out, _ = cli("--help")
    assert code == 0 and "appointments" in out
    assert main([]) == 2


def test_main_opens_and_closes_its_own_services_at_home(tmp_path, capsys):
    home = tmp_path / "own"
    root = logging.getLogger()
    handlers = list(root.handlers)
    argv = ["appointments", "add", "--contents", "Mine", "--start", "2026-11-24T09:00Z"]
    assert main([*argv, "--end", "2026-11-24T10:00Z", "--home", str(home)]) == 0
    assert root.handlers == handlers  # its log file handler is gone again
    capsys.readouterr()
    assert (
        main(["appointments", "list", "--json", "--from", "2026-11-24", "--home", str(home)]) == 0
    )
    rows = json.loads(capsys.readouterr().out)
    assert [r["title"] for r in rows] == ["Mine"]
    assert (home / "logs" / "calsync-desktop.log").exists()


def test_only_accounts_add_loads_account_kinds():
    assert wanted_kinds(["appointments", "list"]) == []
    assert wanted_kinds(["accounts", "list"]) == []
    assert wanted_kinds(["--home", "x", "accounts", "add", "memory", "--email", "a@b"]) == [
        "memory"
    ]
    assert wanted_kinds(["accounts", "add", "--help"]) == list(KINDS)


def test_json_may_come_before_or_after_the_command(cli):
    cli.add("--contents", "A", "--start", "2026-11-24T09:00", "--end", "2026-11-24T10:00")
    after = json.loads(cli.ok("appointments", "list", "--json"))
    before = json.loads(cli.ok("--json", "appointments", "list"))
    assert after == before and after[0]["title"] == "A"


# --------------------------------------------------------------------------- export


def _private_series_with_override(cli) -> Appointment:
    added = cli.add(
        "--contents",
        SECRET + "\nmore secret words",
        "--location",
        SECRET_PLACE,
        "--participant",
        f"Spy <{SECRET_GUEST}>",
        "--private",
        "--start",
        "2026-11-24T09:00",
        "--end",
        "2026-11-24T10:00",
        "--rrule",
        "FREQ=WEEKLY;COUNT=4",
        "--exdate",
        "2026-12-01T09:00",
    )
    stored = cli.store.get_appointment(added["id"])
    moved = OccurrenceOverride(
        original_start=datetime(2026, 12, 8, 8, 0, tzinfo=UTC),
        contents=SECRET + " (moved)",
        location=SECRET_PLACE,
        start=datetime(2026, 12, 8, 13, 0, tzinfo=UTC),
        end=datetime(2026, 12, 8, 14, 0, tzinfo=UTC),
    )
    recurrence = Recurrence(stored.recurrence.rrule, stored.recurrence.exdates, (moved,))
    cli.store.update_appointment(stored.with_changes(recurrence=recurrence))
    return stored


def test_export_writes_private_appointments_as_busy_blocks(cli, tmp_path):
    public = cli.add(
        "--contents",
        "Visit ACME\nBring the contract",
        "--location",
        "ACME HQ",
        "--participant",
        "Ann <ann@example.com>",
        "--participant",
        "Carl",
        "--start",
        "2026-11-25T09:00",
        "--end",
        "2026-11-25T10:00",
        "--zone",
        "America/New_York",
    )
    private = _private_series_with_override(cli)
    target = tmp_path / "out.ics"

    out = cli.ok("export", "--ics", str(target))
    assert "Exported 2 appointment(s) (1 private as busy blocks)" in out
    raw = target.read_bytes()
    for hidden in (SECRET, "more secret", SECRET_PLACE, SECRET_GUEST):
        assert hidden.encode() not in raw

    calendar = icalendar.Calendar.from_ical(raw)
    assert {tz["TZID"] for tz in calendar.walk("VTIMEZONE")} == {
        "America/New_York",
        "Europe/Berlin",
    }
    events = calendar.walk("VEVENT")
    by_uid: dict[str, list] = {}
    for event in events:
        by_uid.setdefault(str(event["UID"]), []).append(event)

    (visit,) = by_uid[f"{public['id']}@calsync-desktop"]
    assert str(visit["SUMMARY"]) == "Visit ACME"
    assert str(visit["DESCRIPTION"]) == "Bring the contract"
    assert str(visit["LOCATION"]) == "ACME HQ"
    assert visit["DTSTART"].params["TZID"] == "America/New_York"
    assert visit.decoded("DTSTART") == datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
    attendee = visit["ATTENDEE"]  # Carl has no address, so only Ann
    assert str(attendee) == "mailto:ann@example.com"
    assert attendee.params["PARTSTAT"] == "NEEDS-ACTION"

    series = by_uid[f"{private.id}@calsync-desktop"]
    master = next(e for e in series if "RECURRENCE-ID" not in e)
    moved = next(e for e in series if "RECURRENCE-ID" in e)
    for event in (master, moved):
        assert str(event["SUMMARY"]) == "Busy"
        assert str(event["CLASS"]) == "PRIVATE"
        for name in ("DESCRIPTION", "LOCATION", "ATTENDEE"):
            assert name not in event
    assert master["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert master.decoded("DTSTART") == datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    assert master["RRULE"].to_ical() == b"FREQ=WEEKLY;COUNT=4"
    exdates = master["EXDATE"]
    exdates = exdates if isinstance(exdates, list) else [exdates]
    assert [d.dt for e in exdates for d in e.dts] == [datetime(2026, 12, 1, 8, 0, tzinfo=UTC)]
    assert moved.decoded("RECURRENCE-ID") == datetime(2026, 12, 8, 8, 0, tzinfo=UTC)
    assert moved.decoded("DTSTART") == datetime(2026, 12, 8, 13, 0, tzinfo=UTC)


def test_export_range_all_day_and_json(cli, tmp_path):
    cli.add("--contents", "Inside", "--start", "2026-11-24T09:00", "--end", "2026-11-24T10:00")
    cli.add("--contents", "Fair", "--all-day", "--start", "2026-11-26", "--end", "2026-11-27")
    cli.add("--contents", "Outside", "--start", "2027-02-01T09:00", "--end", "2027-02-01T10:00")
    target = tmp_path / "range.ics"
    report = cli.json("export", "--ics", str(target), "--from", "2026-11-01", "--to", "2026-11-30")
    assert report == {"file": str(target), "appointments": 2, "private_as_busy": 0}
    events = icalendar.Calendar.from_ical(target.read_bytes()).walk("VEVENT")
    assert sorted(str(e["SUMMARY"]) for e in events) == ["Fair", "Inside"]
    fair = next(e for e in events if str(e["SUMMARY"]) == "Fair")
    assert fair.decoded("DTSTART").isoformat() == "2026-11-26"
    assert fair.decoded("DTEND").isoformat() == "2026-11-28"  # exclusive, after the last day


def test_export_to_stdout_and_bad_target(cli, tmp_path):
    cli.add("--contents", "Piped", "--start", "2026-11-24T09:00", "--end", "2026-11-24T10:00")
    out = cli.ok("export", "--ics", "-")
    (event,) = icalendar.Calendar.from_ical(out).walk("VEVENT")
    assert str(event["SUMMARY"]) == "Piped"
    _assert_usage_error(
        cli("export", "--ics", str(tmp_path / "no" / "such" / "x.ics")), "does not exist"
    )
    _assert_usage_error(cli("export", "--ics", str(tmp_path / "x.ics"), "--from", "soon"), "--from")


# --------------------------------------------------------------------------- profile, settings


def test_profile_show_and_set(cli):
    assert cli.json("profile") == {"name": "", "email": "", "accounts_with_other_email": []}
    cli.ok("profile", "--name", "Sam Seller", "--email", "sam@example.com")
    assert cli.store.get_setting("profile.email") == "sam@example.com"
    out = cli.ok("profile")
    assert "Sam Seller" in out and "sam@example.com" in out
    _assert_usage_error(cli("profile", "--email", "not-an-address"), "not an email address")
    assert cli.store.get_setting("profile.email") == "sam@example.com"


def test_settings_show_set_and_type_check(cli, tmp_path):
    everything = cli.json("settings")
    assert everything["sync.interval_minutes"] == 5
    assert everything["sync.send_invitations"] is False
    assert "sync.paused" in everything

    cli.ok("settings", "sync.interval_minutes", "15")
    cli.ok("settings", "sync.send_invitations", "yes")
    assert cli.json("settings", "sync.interval_minutes") == {"sync.interval_minutes": 15}
    assert cli.store.get_setting("sync.send_invitations") is True
    assert "sync.interval_minutes  15" in cli.ok("settings", "sync.interval_minutes")

    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    cli.ok("settings", "advanced.ca_bundle", str(bundle))
    assert cli.store.get_setting("advanced.ca_bundle") == str(bundle.resolve())

    _assert_usage_error(cli("settings", "sync.interval_minutes", "often"), "whole number")
    _assert_usage_error(cli("settings", "sync.interval_minutes", "0"), "at least 1")
    _assert_usage_error(cli("settings", "sync.send_invitations", "maybe"), "true or false")
    _assert_usage_error(
        cli("settings", "advanced.ca_bundle", str(tmp_path / "nope")), "no such file"
    )
    _assert_usage_error(cli("settings", "no.such.key", "1"), "Unknown setting")
    assert cli.store.get_setting("sync.interval_minutes") == 15


# --------------------------------------------------------------------------- accounts, sync, status


def _add_memory_account(cli, *extra: str) -> dict:
    return cli.json("accounts", "add", "memory", "--email", "me@example.com", *extra)


def test_accounts_add_previews_the_first_sync(cli):
    cli.add("--contents", "Local one", "--start", "2026-11-24T09:00", "--end", "2026-11-24T10:00")
    cli.add("--contents", "Too old", "--start", "2026-09-01T09:00", "--end", "2026-09-01T10:00")
    remote = calendar_for(cli.services, "me@example.com")
    remote.add(
        subject="Remote one",
        start=datetime(2026, 11, 26, 9, tzinfo=UTC),
        end=datetime(2026, 11, 26, 10, tzinfo=UTC),
    )
    remote.add(
        subject="Local one",  # the same appointment on both sides: linked, not copied
        start=datetime(2026, 11, 24, 8, tzinfo=UTC),
        end=datetime(2026, 11, 24, 9, tzinfo=UTC),
    )
    added = _add_memory_account(cli, "--name", "Test calendar")
    assert added["first_sync"] == {"create locally": 1, "link": 1}
    assert added["account"]["name"] == "Test calendar"
    assert added["account"]["calendar"] == "primary"
    assert added["account"]["kind"] == "memory"
    assert len(remote.events) == 2  # previewing changed nothing
    assert cli.store.count_appointments() == 2


def test_accounts_add_text_warns_about_another_profile_email(cli):
    cli.ok("profile", "--email", "sales@example.com")
    code, out, err = cli("accounts", "add", "memory", "--email", "me@example.com", "--all-private")
    assert code == 0
    assert "Saved me@example.com" in out and "stored as private" in out
    assert "The first sync will: nothing" in out
    assert "Warning:" in err and "sales@example.com" in err
    assert cli.store.list_accounts()[0].sync_all_private


def test_accounts_add_calendar_choice(cli):
    out = cli.ok("accounts", "add", "memory", "--list-calendars")
    assert "primary  Calendar (primary)" in out
    assert cli.store.list_accounts() == []
    _assert_usage_error(
        cli("accounts", "add", "memory", "--calendar", "work"), "no calendar 'work'"
    )
    assert cli.store.list_accounts() == []
    _add_memory_account(cli, "--calendar", "primary")
    assert cli.store.list_accounts()[0].calendar_id == "primary"


@pytest.mark.parametrize(
    ("server", "password", "message"),
    [
        (
            "https://127.0.0.1:9/EWS/Exchange.asmx",
            "",
            "Failed to validate access to the server with your credentials, "
            "please review your details",
        ),
        (
            "https://outlook.office365.com/EWS/Exchange.asmx",
            "pw-very-secret-123",
            "Sign in with Microsoft",
        ),
    ],
)
def test_accounts_add_failure_is_plain_and_saves_nothing(
    cli, monkeypatch, server, password, message
):
    pytest.importorskip("calsync_desktop.accounts.exchange")
    monkeypatch.setattr(sys, "stdin", io.StringIO(password + "\n"))
    code, out, err = cli(
        "accounts",
        "add",
        "exchange",
        "--server-url",
        server,
        "--username",
        "sam@example.com",
        "--password-stdin",
    )
    assert code == 1, (out, err)
    assert message in err and "Traceback" not in err
    assert "pw-very-secret" not in out + err
    assert cli.store.list_accounts() == []
    assert cli.services.secrets.values == {}


def test_accounts_add_when_the_preview_fails_still_saves(cli):
    calendar_for(cli.services, "me@example.com").fail_next("drop")
    code, out, _ = cli("accounts", "add", "memory", "--email", "me@example.com")
    assert code == 0
    assert "Could not preview the first sync: The server cannot be reached." in out
    assert len(cli.store.list_accounts()) == 1


def test_adding_the_same_account_twice_keeps_one(cli):
    _add_memory_account(cli)
    _add_memory_account(cli)
    assert len(cli.json("accounts", "list")) == 1


def test_sync_then_status_and_accounts_list(cli):
    cli.add("--contents", "Push me", "--start", "2026-11-24T09:00", "--end", "2026-11-24T10:00")
    _add_memory_account(cli)
    remote = calendar_for(cli.services, "me@example.com")

    out = cli.ok("sync")
    assert out.strip() == "me@example.com: 1 create remotely"
    assert [e.subject for e in remote.events.values()] == ["Push me"]

    remote.add(
        subject="Pulled",
        start=datetime(2026, 11, 27, 9, tzinfo=UTC),
        end=datetime(2026, 11, 27, 10, tzinfo=UTC),
    )
    report = cli.json("sync", "--account", "me@example.com")
    (account,) = report["accounts"]
    assert account["counts"] == {"create locally": 1} and account["errors"] == []
    assert account["state"] == "ok" and not account["stopped"]

    status = cli.json("status")
    assert status["appointments"] == 2
    assert status["conflicts"] == 0 and status["skipped"] == 0
    (view,) = status["accounts"]
    assert view["kind"] == "memory" and view["email"] == "me@example.com"
    assert view["state"] == "ok" and view["paused"] is False and view["linked"] == 2
    assert view["last_sync"] == "2026-11-23T09:00:00+00:00"
    text = cli.ok("status")
    assert "2 appointment(s)" in text and "me@example.com" in text and "state: ok" in text

    assert cli.json("accounts", "list")[0]["linked"] == 2
    assert "Local test calendar" in cli.ok("accounts", "list")


def test_sync_dry_run_changes_nothing(cli):
    cli.add("--contents", "Local", "--start", "2026-11-24T09:00", "--end", "2026-11-24T10:00")
    _add_memory_account(cli)
    remote = calendar_for(cli.services, "me@example.com")
    remote.add(
        subject="Remote",
        start=datetime(2026, 11, 26, 9, tzinfo=UTC),
        end=datetime(2026, 11, 26, 10, tzinfo=UTC),
    )
    store = cli.store

    def state():
        account = store.list_accounts()[0]
        return (
            store.change_seq(),
            store.count_appointments(),
            store.linked_count(account.id),
            account.sync_state,
            account.last_sync,
            account.first_sync_done,
            dict(remote.events),
        )

    before = state()
    out = cli.ok("sync", "--dry-run")
    assert "dry run, nothing written" in out
    assert "create 1 in me@example.com" in out and "create 1 in the Sales Calendar" in out
    report = cli.json("sync", "--dry-run")
    assert report["dry_run"] and report["accounts"][0]["plan"] == {
        "create remotely": 1,
        "create locally": 1,
    }
    assert state() == before


def _linked_appointments(cli, count: int) -> None:
    for i in range(count):
        day = 24 + i % 5
        cli.add(
            "--contents",
            f"Meeting {i}",
            "--start",
            f"2026-11-{day}T{8 + i // 5:02d}:00",
            "--end",
            f"2026-11-{day}T{8 + i // 5:02d}:30",
        )
    _add_memory_account(cli)
    cli.ok("sync")


def test_mass_deletion_guard_stops_and_says_how_to_go_on(cli):
    _linked_appointments(cli, 12)
    remote = calendar_for(cli.services, "me@example.com")
    for remote_id in list(remote.events):
        remote.remove(remote_id)

    code, out, _ = cli("sync", "--dry-run")
    assert code == 3 and "would stop before deleting" in out
    assert cli.store.count_appointments() == 12

    code, out, _ = cli("sync")
    assert code == 3
    assert "stopped before deleting anything" in out
    assert "Meeting 0" in out  # the list to review
    assert "calsync sync --account me@example.com --yes-delete" in out
    assert "--restore-deleted" in out
    assert cli.store.count_appointments() == 12  # nothing deleted

    code, out, _ = cli("--json", "sync")
    report = json.loads(out)
    assert code == 3 and report["accounts"][0]["stopped"] is True
    assert len(report["accounts"][0]["guard"]["delete_locally"]) == 12

    code, out, _ = cli("sync", "--yes-delete")
    assert code == 0, out
    assert cli.store.count_appointments() == 0


def test_mass_deletion_guard_restore_brings_them_back(cli):
    _linked_appointments(cli, 12)
    remote = calendar_for(cli.services, "me@example.com")
    for remote_id in list(remote.events):
        remote.remove(remote_id)
    code, out, _ = cli("sync", "--restore-deleted")
    assert code == 0, out
    assert cli.store.count_appointments() == 12
    assert len(remote.events) == 12


def test_failed_sync_exits_1_and_the_account_needs_sign_in(cli):
    _add_memory_account(cli)
    calendar_for(cli.services, "me@example.com").fail_next("expired_token")
    code, out, _ = cli("sync")
    assert code == 1
    assert "expired" in out and "Sign in again" in out
    assert cli.json("status")["accounts"][0]["state"] == "needs_sign_in"
    # the next plain sync leaves it out and says why
    code, out, _ = cli("sync")
    assert code == 0 and "needs sign-in; not synced" in out


def test_sync_unknown_account_and_no_accounts(cli):
    _assert_usage_error(cli("sync", "--account", "nobody"), "No account 'nobody'")
    assert "No calendar accounts" in cli.ok("sync")


def test_a_memory_calendar_from_another_process_is_not_synced(cli, home, clock, capsys):
    cli.add("--contents", "Keep me", "--start", "2026-11-24T09:00", "--end", "2026-11-24T10:00")
    _add_memory_account(cli)
    cli.ok("sync")
    # another process: same Sales Calendar file, but the test calendar is gone
    other = Services.create(home=home, secrets=MemorySecrets(), env={}, clock=clock)
    try:
        capsys.readouterr()
        code = main(["sync"], services=other)
        out = capsys.readouterr().out
    finally:
        other.store.close()
    assert code == 0 and "not synced" in out
    assert cli.store.count_appointments() == 1


def test_accounts_remove_keeps_or_deletes_the_synced_appointments(cli):
    cli.add("--contents", "Synced", "--start", "2026-11-24T09:00", "--end", "2026-11-24T10:00")
    _add_memory_account(cli)
    cli.ok("sync")
    out = cli.ok("accounts", "remove", "me@example.com")
    assert "1 synced appointment(s) stay in the Sales Calendar" in out
    assert cli.store.list_accounts() == [] and cli.store.count_appointments() == 1

    _add_memory_account(cli)
    cli.ok("sync")  # links the same appointment again
    report = cli.json("accounts", "remove", "me@example.com", "--delete-appointments")
    assert report["appointments_deleted"] and report["synced_appointments"] == 1
    assert cli.store.count_appointments() == 0
    _assert_usage_error(cli("accounts", "remove", "me@example.com"), "No account")


def test_secrets_are_never_printed(cli):
    account_id = _add_memory_account(cli)["account"]["id"]
    cli.services.secrets.set(account_id, "password", "hunter2-very-secret")
    outputs = [
        cli.ok("status"),
        cli.ok("--json", "status"),
        cli.ok("accounts", "list"),
        cli.ok("--json", "accounts", "list"),
        cli.ok("sync"),
        cli.ok("--json", "sync", "--dry-run"),
    ]
    assert not any("hunter2" in out for out in outputs)


# --------------------------------------------------------------------------- pieces


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


# --------------------------------------------------------------------------- real console script


@pytest.mark.skipif(shutil.which("uv") is None, reason="uv is not installed")
def test_console_script_runs_for_real(tmp_path):
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if k != "CALSYNC_HOME"}
    env["TZ"] = "Europe/Berlin"

    def calsync(*argv: str, extra_env: dict | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["uv", "run", "--no-sync", "calsync", *argv],
            cwd=REPO,
            env={**env, **(extra_env or {})},
            capture_output=True,
            text=True,
            timeout=120,
        )

    listed = calsync("--home", str(home), "appointments", "list")
    assert listed.returncode == 0, listed.stderr
    assert "No appointments" in listed.stdout

    # CALSYNC_HOME instead of --home, and the appointment is there in the next process
    added = calsync(
        "appointments",
        "add",
        "--contents",
        "From the shell",
        "--start",
        "2030-01-02T09:00",
        "--end",
        "2030-01-02T10:00",
        extra_env={"CALSYNC_HOME": str(home)},
    )
    assert added.returncode == 0, added.stderr
    listed = calsync("--home", str(home), "--json", "appointments", "list", "--from", "2030-01-01")
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert [(r["title"], r["start"]) for r in rows] == [
        ("From the shell", "2030-01-02T09:00:00+01:00")
    ]

    bad = calsync("--home", str(home), "appointments", "show", "nope")
    assert bad.returncode == 2
    assert bad.stderr.strip() == "calsync: error: No appointment with id 'nope'."


def test_appointments_added_on_the_command_line_go_to_the_default_account(tmp_path, capsys):
    from calsync_desktop.accounts.base import Account, MemorySecrets
    from calsync_desktop.services import Services

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
