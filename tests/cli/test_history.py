"""``calsync history``, ``calsync history show RUN`` and ``calsync undo RUN``
(SPEC §9), on a real Sales Calendar file and the memory calendar service."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from calsync_desktop.accounts.memory import calendar_for
from calsync_desktop.sync.runner import SyncRunner
from calsync_desktop.sync.undo import UndoRefused
from tests.cli.helpers import SECRET, _add_memory_account, _assert_usage_error


def _two_runs(cli):
    cli.add("--contents", "Push me", "--start", "2026-11-24T09:00", "--end", "2026-11-24T10:00")
    _add_memory_account(cli)
    cli.ok("sync")
    remote = calendar_for(cli.services, "me@example.com")
    remote.add(
        subject="Pulled",
        start=datetime(2026, 11, 27, 9, tzinfo=UTC),
        end=datetime(2026, 11, 27, 10, tzinfo=UTC),
    )
    cli.ok("sync")
    return remote


def test_history_lists_the_runs_newest_first_with_account_trigger_and_counts(cli):
    _two_runs(cli)
    runs = cli.json("history")
    assert [r["counts"] for r in runs] == [{"create locally": 1}, {"create remotely": 1}]
    assert {r["account"] for r in runs} == {"me@example.com"}
    assert {r["trigger"] for r in runs} == {"sync now"} and runs[0]["id"] > runs[1]["id"]
    assert cli.json("history", "--account", "me@example.com") == runs
    text = cli.ok("history")
    assert "2 sync runs" in text and "me@example.com (Sync now)" in text
    assert "calsync undo RUN" in text


def test_history_show_lists_each_change_field_by_field(cli):
    _two_runs(cli)
    newest = cli.json("history")[0]["id"]
    shown = cli.json("history", "show", str(newest))
    (change,) = shown["changes"]
    assert change["kind"] == "create locally" and change["appointment"] == "Pulled"
    fields = {(f["side"], f["field"]): (f["before"], f["after"]) for f in change["fields"]}
    assert fields[("Sales Calendar", "contents")] == (None, "Pulled")
    assert change["what"] == "added to the Sales Calendar"
    text = cli.ok("history", "show", str(newest))
    assert "Added to the Sales Calendar: Pulled" in text
    assert "Title and notes (Sales Calendar): — → Pulled" in text
    assert "(Sync now)" in text


def test_history_show_json_gives_participants_and_repeat_rules_as_json_values(cli):
    """--json gives each value as JSON (lists, objects, true/false, null), never
    JSON text inside a string; the text keeps its words."""
    added = cli.add(
        "--contents",
        "Weekly",
        *("--start", "2026-11-24T09:00", "--end", "2026-11-24T10:00"),
        *("--rrule", "FREQ=WEEKLY;COUNT=5", "--exdate", "2026-12-01"),
        *("--participant", "Ann <ann@example.com>"),
    )
    _add_memory_account(cli)
    cli.ok("sync")
    cli.ok("appointments", "edit", added["id"], "--participant", "Bob <bob@example.com>")
    cli.ok("appointments", "edit", added["id"], "--rrule", "")
    cli.ok("sync")
    created, edited = sorted(r["id"] for r in cli.json("history"))

    (change,) = cli.json("history", "show", str(created))["changes"]
    after = {f["field"]: f["after"] for f in change["fields"]}
    assert {f["before"] for f in change["fields"]} == {None}  # the event did not exist
    assert after["participants"] == [{"name": "Ann", "email": "ann@example.com"}]
    assert after["rrule"] == "FREQ=WEEKLY;COUNT=5"
    assert after["exdates"] == ["2026-12-01T08:00:00+00:00"]
    assert after["private"] is False
    assert after["time"] == {
        "start": "2026-11-24T08:00:00+00:00",
        "end": "2026-11-24T09:00:00+00:00",
    }

    (change,) = cli.json("history", "show", str(edited))["changes"]
    fields = {f["field"]: (f["before"], f["after"]) for f in change["fields"]}
    assert fields["participants"] == (
        [{"name": "Ann", "email": "ann@example.com"}],
        [{"name": "Bob", "email": "bob@example.com"}],
    )
    assert fields["rrule"] == ("FREQ=WEEKLY;COUNT=5", None)
    assert fields["exdates"] == (["2026-12-01T08:00:00+00:00"], [])
    # the participants, as appointments show gives them (less the answer)
    shown = cli.json("appointments", "show", added["id"])["participants"]
    assert [{k: p[k] for k in ("name", "email")} for p in shown] == fields["participants"][1]

    text = cli.ok("history", "show", str(edited))
    assert "Participants (me@example.com): Ann <ann@example.com> → Bob <bob@example.com>" in text
    assert "Repeat (me@example.com): FREQ=WEEKLY;COUNT=5 → does not repeat" in text
    assert "Deleted occurrences (me@example.com): 2026-12-01T08:00:00+00:00 → (none)" in text


def test_history_show_speaks_of_what_happened_where_never_of_the_journals_kinds(cli):
    """The words are those of Settings › History (sync/history_words.py): what
    happened to the appointment and where, the fields by their names."""
    remote = _two_runs(cli)
    pushed, _pulled = sorted(r["id"] for r in cli.json("history"))
    text = cli.ok("history", "show", str(pushed))
    assert "Added to me@example.com: Push me" in text
    assert "Title and notes (me@example.com): — → Push me" in text
    (event,) = [e for e in remote.events.values() if e.subject == "Pulled"]
    remote.edit(event.remote_id, location="Room 4")
    cli.ok("sync")
    edited = cli.json("history")[0]["id"]
    text = cli.ok("history", "show", str(edited))
    assert "Changed in the Sales Calendar: Pulled" in text
    assert "Location (Sales Calendar): (empty) → Room 4" in text
    undone = cli.ok("undo", str(edited))
    assert "Undid run" in undone
    undo_run = cli.json("history")[0]["id"]
    text = cli.ok("history", "show", str(undo_run))
    assert "(Undo) (undid run" in text
    assert "Changed in the Sales Calendar: Pulled" in text
    assert "Location (Sales Calendar): Room 4 → (empty)" in text
    shown = "\n".join(
        cli.ok("history", "show", str(r["id"])) + cli.ok("history") for r in cli.json("history")
    )
    for internal in ("create locally", "create remotely", "delete locally", "sync now", "service"):
        assert internal not in shown


def test_history_never_shows_a_private_appointments_contents(cli):
    cli.add(
        "--contents",
        SECRET,
        "--private",
        "--start",
        "2026-11-24T09:00",
        "--end",
        "2026-11-24T10:00",
    )
    _add_memory_account(cli)
    cli.ok("sync")
    run = cli.json("history")[0]["id"]
    for out in (cli.ok("history", "show", str(run)), cli.ok("--json", "history", "show", str(run))):
        assert SECRET.split()[0] not in out
        assert "Private appointment" in out
    assert "Private (me@example.com): — → Private" in cli.ok("history", "show", str(run))


def test_undo_dry_run_prints_what_goes_back_and_changes_nothing(cli):
    remote = _two_runs(cli)
    newest = cli.json("history")[0]["id"]
    out = cli.ok("undo", str(newest), "--dry-run")
    assert "would put back 1 appointment:" in out and "Pulled: delete in the Sales Calendar" in out
    assert cli.json("status")["appointments"] == 2
    assert len(remote.events) == 2


def test_undo_puts_the_run_back_and_can_itself_be_undone(cli):
    remote = _two_runs(cli)
    first = cli.json("history")[-1]["id"]  # the run that created "Push me" remotely
    out = cli.ok("undo", str(first))
    assert "Undid run" in out and "To have it back as the run left it: calsync undo" in out
    assert sorted(e.subject for e in remote.events.values()) == ["Pulled"]
    undo_run = cli.json("history")[0]
    assert undo_run["trigger"] == "undo" and undo_run["undoes"] == first
    cli.ok("undo", str(undo_run["id"]))
    assert sorted(e.subject for e in remote.events.values()) == ["Pulled", "Push me"]


def test_undo_of_a_run_not_in_the_history_is_a_usage_error(cli):
    _assert_usage_error(cli("undo", "999"), "no sync run 999")
    _assert_usage_error(cli("history", "show", "999"), "no sync run 999")
    # the message gives the retention as set, here and where the window asks
    cli.ok("settings", "history.days", "14")
    _assert_usage_error(cli("undo", "999"), "keeps 14 days")
    with pytest.raises(UndoRefused, match=r"no sync run 999 in the history \(it keeps 14 days\)"):
        SyncRunner(cli.services).undo_run(999)


def test_undo_lists_what_changed_since_and_leaves_it_alone(cli):
    remote = _two_runs(cli)
    first = cli.json("history")[-1]["id"]
    (event,) = [e for e in remote.events.values() if e.subject == "Push me"]
    remote.edit(event.remote_id, location="Edited since")
    result = cli.json("undo", str(first))
    assert [i["left_alone"] for i in result["left_alone"]] == ["changed in me@example.com since"]
    assert remote.events[event.remote_id].location == "Edited since"


def test_an_undo_that_puts_nothing_back_names_no_run_of_its_own(cli):
    remote = _two_runs(cli)
    newest = cli.json("history")[0]["id"]
    for event in list(remote.events.values()):
        remote.edit(event.remote_id, location="Edited since")
    out = cli.ok("undo", str(newest))
    assert f"Undid nothing of run {newest}" in out and "calsync undo" not in out
    assert cli.json("history")[0]["id"] == newest  # no run of its own


def test_sync_from_scratch_links_again_and_creates_nothing(cli):
    remote = _two_runs(cli)
    out = cli.ok("sync", "--from-scratch", "--account", "me@example.com")
    assert out.strip() == "me@example.com: 2 appointments linked"
    assert len(remote.events) == 2 and cli.json("status")["appointments"] == 2
    _assert_usage_error(cli("sync", "--from-scratch"), "--from-scratch needs --account")


def test_the_retention_is_set_checked_and_applied_at_once(cli, clock):
    """``calsync settings history.days N`` and ``history.max_changes N`` go
    through the same check and pruning as Settings › History."""
    _two_runs(cli)
    assert cli.json("settings", "history.days") == {"history.days": 30}
    assert cli.json("settings", "history.max_changes") == {"history.max_changes": 100_000}
    _assert_usage_error(cli("settings", "history.days", "400"), "between 1 and 365 days")
    _assert_usage_error(cli("settings", "history.max_changes", "10"), "between 1,000 and")
    _assert_usage_error(cli("settings", "history.days", "0"), "between 1 and 365 days, not 0")
    assert cli.store.get_setting("history.days") == 30
    assert len(cli.json("history")) == 2
    clock.advance(days=3)
    remote = calendar_for(cli.services, "me@example.com")
    remote.add(
        subject="Later",
        start=datetime(2026, 11, 28, 9, tzinfo=UTC),
        end=datetime(2026, 11, 28, 10, tzinfo=UTC),
    )
    cli.ok("sync")
    assert len(cli.json("history")) == 3
    out = cli.ok("settings", "history.days", "2")
    assert "history.days  2" in out and "2 older runs left the history." in out
    (kept,) = cli.json("history")
    assert kept["counts"] == {"create locally": 1}
    assert cli.store.get_setting("history.days") == 2
    assert "left the history" not in cli.ok("settings", "history.max_changes", "5000")
    assert cli.json("settings", "history.max_changes") == {"history.max_changes": 5000}
    cli.ok("settings", "history.days", "9")
    _assert_usage_error(cli("history", "show", "999"), "it keeps 9 days")
