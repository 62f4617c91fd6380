"""``calsync export --ics FILE``."""

from __future__ import annotations

from datetime import UTC, datetime

import icalendar

from calsync_desktop.model import (
    Appointment,
    OccurrenceOverride,
    Recurrence,
)
from tests.cli.helpers import (
    SECRET,
    SECRET_GUEST,
    SECRET_PLACE,
    _assert_usage_error,
)


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
    assert "Exported 2 appointments (1 private as busy blocks)" in out
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
