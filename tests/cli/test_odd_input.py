"""Odd input a user may give the command line, and what it must not do with it:
hang, print a traceback, or keep what no list or view can show."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from calsync_desktop.accounts.memory import calendar_for
from tests.cli.helpers import _add_memory_account
from tests.cli.test_bad_input import one_line_error

SPAN = ("--start", "2026-11-24T09:00", "--end", "2026-11-24T09:15")


@pytest.mark.parametrize(
    ("rule", "fragment"),
    [
        # dateutil never ends expanding an INTERVAL of 0 and fails on a negative one
        ("FREQ=WEEKLY;INTERVAL=0", "INTERVAL must be a whole number, 1 or more"),
        ("FREQ=WEEKLY;INTERVAL=-1", "INTERVAL must be a whole number, 1 or more"),
        ("FREQ=DAILY;INTERVAL=x", "INTERVAL must be a whole number, 1 or more"),
        # rules that give no occurrence at all: the series would be in no list
        ("FREQ=DAILY;COUNT=0", "no occurrence"),
        ("FREQ=DAILY;UNTIL=20261101T000000Z", "no occurrence"),
        ("FREQ=MONTHLY;BYDAY=MO;BYSETPOS=9", "no occurrence"),
        ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "no occurrence"),
    ],
)
def test_a_rule_that_never_moves_on_or_never_occurs_is_refused(cli, rule, fragment):
    one_line_error(
        cli("appointments", "add", "--contents", "Standup", *SPAN, "--rrule", rule), fragment
    )
    assert cli.store.count_appointments() == 0
    added = cli.add("--contents", "Standup", *SPAN)
    one_line_error(cli("appointments", "edit", added["id"], "--rrule", rule), fragment)
    assert cli.store.get_appointment(added["id"]).recurrence is None
    listed = cli.json("appointments", "list", "--from", "2026-11-24", "--to", "2026-12-31")
    assert [o["id"] for o in listed] == [added["id"]]


def test_a_rule_that_occurs_is_taken_and_listed(cli):
    added = cli.add("--contents", "Standup", *SPAN, "--rrule", "FREQ=WEEKLY;INTERVAL=2;COUNT=3")
    listed = cli.json("appointments", "list", "--from", "2026-11-24", "--to", "2026-12-31")
    assert [o["start"][:10] for o in listed if o["id"] == added["id"]] == [
        "2026-11-24",
        "2026-12-08",
        "2026-12-22",
    ]


@pytest.mark.parametrize("minutes", ["0", "241", "99999999999999999999"])
def test_the_sync_interval_is_in_the_windows_range(cli, minutes):
    # beyond it the app's timer cannot hold it, and Settings could not show it
    one_line_error(cli("settings", "sync.interval_minutes", minutes), "must be from 1 to 240, not")
    assert cli.json("settings", "sync.interval_minutes") == {"sync.interval_minutes": 5}


def test_sync_and_counts_read_as_english_not_the_engines_kinds(cli):
    cli.add("--contents", "Push me", *SPAN)
    _add_memory_account(cli)
    out = cli.ok("sync") + cli.ok("history") + cli.ok("status") + cli.ok("export", "--ics", "-")
    for internal in ("create remotely", "(s)"):
        assert internal not in out, out
    assert "me@example.com: 1 appointment copied to me@example.com" in out
    assert cli.json("sync")["accounts"][0]["summary"] == "nothing to do"
    assert "1 sync run that changed something" in out and "1 appointment in" in out


def test_history_show_and_conflicts_give_times_as_every_other_command_does(cli):
    # Europe/Berlin is this computer's zone (the cli fixture's TZ)
    cli.add("--contents", "Push me", *SPAN)
    _add_memory_account(cli)
    cli.ok("sync")
    run = cli.json("history")[0]["id"]
    text = cli.ok("history", "show", str(run))
    assert "Time (me@example.com): — → Tue 24 Nov 2026 09:00–09:15" in text
    assert "+00:00" not in text
    # the JSON keeps the journal's own value
    (change,) = cli.json("history", "show", str(run))["changes"]
    times = [f["after"] for f in change["fields"] if f["field"] == "time"]
    assert times == [{"start": "2026-11-24T08:00:00+00:00", "end": "2026-11-24T08:15:00+00:00"}]


def test_a_conflict_of_times_is_listed_and_restored_in_this_computers_zone(cli):
    _add_memory_account(cli)
    added = cli.add("--contents", "Pitch", *SPAN)
    cli.ok("sync")
    remote = calendar_for(cli.services, "me@example.com")
    (event,) = [e for e in remote.events.values() if e.local_id == added["id"]]
    cli.ok("appointments", "edit", added["id"], "--start", "2026-11-24T11:00")
    later = datetime(2026, 11, 24, 12, tzinfo=UTC)
    remote.edit(event.remote_id, start=later, end=later + timedelta(minutes=15))
    cli.ok("sync")
    (row,) = cli.json("conflicts")
    assert row["field"] == "time"
    # the JSON gives each time as the journal does, UTC, a start and an end
    assert {row["kept"]["start"], row["lost"]["start"]} == {
        "2026-11-24T10:00:00+00:00",
        "2026-11-24T12:00:00+00:00",
    }
    text = cli.ok("conflicts")
    assert "Tue 24 Nov 2026 11:00–11:15" in text and "Tue 24 Nov 2026 13:00–13:15" in text
    assert "+00:00" not in text
    out = cli.ok("conflicts", "restore", str(row["id"]))
    assert "+00:00" not in out and "Tue 24 Nov 2026 1" in out


def test_a_title_is_quoted_as_written_with_its_apostrophes_and_emoji(cli):
    family = 'Sam\'s "big" day 👨\u200d👩\u200d👧 🎉'
    out = cli.ok("appointments", "add", "--contents", family, *SPAN)
    assert out.startswith(f"Added '{family}', Tue 24 Nov 2026 09:00–09:15")
    added = cli.json("appointments", "list", "--from", "2026-11-24", "--to", "2026-11-24")[0]
    out = cli.ok("appointments", "delete", added["id"])
    assert out.startswith(f"Deleted '{family}' (")
    # a control character never reaches the terminal as it is
    out = cli.ok("appointments", "add", "--contents", "Bell\x07 \x1b[31mred", *SPAN)
    assert "\x07" not in out and "\x1b" not in out and "Bell\\x07" in out


@pytest.mark.parametrize("command", [("undo",), ("undo", "--dry-run"), ("history", "show")])
def test_a_run_number_beyond_what_a_database_holds_is_no_run(cli, command):
    huge = str(2**64)
    one_line_error(cli(*command, huge), f"There is no sync run {huge}")


def test_from_scratch_says_what_is_wrong_with_how_it_was_asked(cli):
    _add_memory_account(cli)
    one_line_error(cli("sync", "--from-scratch"), "--from-scratch needs --account NAME.")
    asked = ("sync", "--from-scratch", "--account", "me@example.com", "--dry-run")
    one_line_error(cli(*asked), "--from-scratch cannot be a dry run.")


@pytest.mark.parametrize("edge", ["0001-01-01", "0001-01-01T00:30", "9999-12-31T23:59-12:00"])
def test_a_time_at_the_calendars_edge_is_out_of_range_not_unreadable(cli, edge):
    one_line_error(cli("appointments", "list", "--from", edge), f"--from: {edge} is out of range")


def test_a_participants_address_is_taken_once(cli):
    # Google keeps one guest per address, case aside, and refuses the whole event
    twice = ("--participant", "Ann <ann@example.com>", "--participant", "Ann B <ANN@example.com>")
    one_line_error(cli("appointments", "add", "--contents", "Pitch", *SPAN, *twice), "given twice")
    assert cli.store.count_appointments() == 0
    added = cli.add("--contents", "Pitch", *SPAN, "--participant", "Bob", "--participant", "Cy")
    one_line_error(
        cli("appointments", "edit", added["id"], *twice), "ANN@example.com is given twice"
    )
    assert [p.name for p in cli.store.get_appointment(added["id"]).participants] == ["Bob", "Cy"]


def test_the_default_account_is_set_by_name_or_email_and_kept_as_the_app_reads_it(cli):
    account = _add_memory_account(cli, "--name", "Work")["account"]
    one_line_error(cli("settings", "app.default_account", "nobody"), "No account 'nobody'")
    assert cli.store.get_setting("app.default_account") == ""
    for given in ("Work", "me@example.com", account["id"]):
        cli.ok("settings", "app.default_account", given)
        assert cli.store.get_setting("app.default_account") == account["id"]
    added = cli.add("--contents", "Pitch", *SPAN)
    assert cli.store.get_appointment(added["id"]).account_id == account["id"]
    cli.ok("settings", "app.default_account", "")
    assert cli.store.get_setting("app.default_account") == ""


@pytest.mark.parametrize(
    ("until", "instead"),
    [("20261208T091500", "UNTIL=20261208T081500Z"), ("20261208", "UNTIL=20261208T225959Z")],
)
def test_an_until_without_a_z_is_refused_with_the_utc_one_to_write(cli, until, instead):
    rule = f"FREQ=WEEKLY;UNTIL={until}"
    line = one_line_error(
        cli("appointments", "add", "--contents", "Standup", *SPAN, "--rrule", rule),
        "give UNTIL in UTC",
    )
    assert line.endswith(f"here {instead}.")
    cli.add("--contents", "Standup", *SPAN, "--rrule", f"FREQ=WEEKLY;{instead}")


def test_no_control_character_from_a_calendar_reaches_the_terminal(cli):
    # a title that would retitle the terminal (OSC) and a location that would
    # clear it (CSI, also as the one-byte C1 form), as another client may write them
    title = "\x1b]0;pwned\x07Demo at Initech"
    added = cli.add("--contents", title, "--location", "Room\x1b[2J 4\x9b", *SPAN)
    out = cli.ok("appointments", "list", "--from", "2026-11-20", "--to", "2026-12-31")
    out += cli.ok("appointments", "show", added["id"])
    assert not any(c in out for c in "\x1b\x07\x9b")
    assert "\\u001b]0;pwned\\u0007Demo at Initech" in out and "Room\\u001b[2J 4\\u009b" in out
    # in JSON the same escape is the character itself: nothing is lost
    shown = cli.json("appointments", "show", added["id"])
    assert shown["title"] == title and shown["location"] == "Room\x1b[2J 4\x9b"
