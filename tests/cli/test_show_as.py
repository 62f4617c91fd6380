"""``calsync appointments add/edit --show-as`` and what ``show`` prints of an
appointment's availability, online meeting and organiser (SPEC §10)."""

from __future__ import annotations

from calsync_desktop.model import MyResponse, Organizer, ShowAs
from tests.cli.helpers import _assert_usage_error

JOIN = "https://teams.microsoft.com/l/meetup-join/19%3ameeting_abc%40thread.v2/0"
WHEN = ("--start", "2026-11-24T09:00", "--end", "2026-11-24T10:00")


def test_add_and_edit_set_show_as_in_words_and_edit_keeps_it_otherwise(cli):
    added = cli.add("--contents", "Focus time", "--show-as", "free", *WHEN)
    assert cli.store.get_appointment(added["id"]).show_as is ShowAs.FREE
    assert added["show_as"] == "free"
    cli.ok("appointments", "edit", added["id"], "--show-as", "Out of office")
    assert cli.store.get_appointment(added["id"]).show_as is ShowAs.OUT_OF_OFFICE
    cli.ok("appointments", "edit", added["id"], "--location", "Home")
    assert cli.store.get_appointment(added["id"]).show_as is ShowAs.OUT_OF_OFFICE
    cli.ok("appointments", "edit", added["id"], "--show-as", "working-elsewhere")
    assert cli.store.get_appointment(added["id"]).show_as is ShowAs.WORKING_ELSEWHERE
    plain = cli.add("--contents", "Call", *WHEN)
    assert cli.store.get_appointment(plain["id"]).show_as is ShowAs.BUSY


def test_an_unknown_show_as_is_refused_with_the_words_there_are_and_nothing_changes(cli):
    _assert_usage_error(
        cli("appointments", "add", "--contents", "X", "--show-as", "away", *WHEN),
        "free, tentative, busy, out of office, working elsewhere",
    )
    assert cli.store.count_appointments() == 0
    added = cli.add("--contents", "Call", "--show-as", "tentative", *WHEN)
    _assert_usage_error(
        cli("appointments", "edit", added["id"], "--show-as", "maybe"), "Unknown show-as"
    )
    assert cli.store.get_appointment(added["id"]).show_as is ShowAs.TENTATIVE


def test_show_prints_show_as_join_link_organiser_and_answer(cli):
    added = cli.add("--contents", "Quarterly review", "--show-as", "tentative", *WHEN)
    a = cli.store.get_appointment(added["id"])
    cli.store.update_appointment(
        a.with_changes(
            join_url=JOIN,
            organizer=Organizer("Dana Boss", "dana@acme.example"),
            my_response=MyResponse.ACCEPTED,
        )
    )
    out = cli.ok("appointments", "show", added["id"])
    assert "show as:      tentative" in out
    assert f"join:         {JOIN}" in out
    assert "organiser:    Dana Boss <dana@acme.example>" in out
    assert "your answer:  accepted" in out
    shown = cli.json("appointments", "show", added["id"])
    assert shown["join_url"] == JOIN and shown["show_as"] == "tentative"
    assert shown["organizer"] == {
        "name": "Dana Boss",
        "email": "dana@acme.example",
        "guests_can_modify": False,
    }
    assert shown["my_response"] == "accepted"


def test_a_private_appointment_shows_its_show_as_but_not_its_link_unless_asked(cli):
    added = cli.add("--contents", "Lawyer", "--private", "--show-as", "oof", *WHEN)
    a = cli.store.get_appointment(added["id"])
    cli.store.update_appointment(a.with_changes(join_url=JOIN))
    for argv in (("appointments", "show", added["id"]), ("--json", "appointments", "show", a.id)):
        out = cli.ok(*argv)
        assert "out of office" in out or '"show_as": "oof"' in out
        assert "teams.microsoft" not in out
    assert cli.json("appointments", "show", a.id, "--show-private")["join_url"] == JOIN


def test_ics_export_writes_transp_and_the_busy_status_private_ones_too(cli, tmp_path):
    import icalendar

    for text, show in (("Focus", "free"), ("Review", "tentative"), ("Holiday", "oof")):
        cli.add("--contents", text, "--show-as", show, *WHEN)
    cli.add("--contents", "Call", *WHEN)
    cli.add("--contents", "Dentist", "--private", "--show-as", "free", *WHEN)
    out = tmp_path / "cal.ics"
    cli.ok("export", "--ics", str(out), "--from", "2026-11-01", "--to", "2026-12-31")
    events = {
        str(e.get("SUMMARY")): (str(e.get("TRANSP")), str(e.get("X-MICROSOFT-CDO-BUSYSTATUS")))
        for e in icalendar.Calendar.from_ical(out.read_bytes()).walk("VEVENT")
    }
    assert events == {
        "Focus": ("TRANSPARENT", "FREE"),
        "Review": ("OPAQUE", "TENTATIVE"),
        "Holiday": ("OPAQUE", "OOF"),
        "Call": ("OPAQUE", "BUSY"),
        "Busy": ("TRANSPARENT", "FREE"),  # the private one: a block, free as it says
    }


def test_a_declined_meeting_is_exported_free(cli, tmp_path):
    import icalendar

    added = cli.add("--contents", "Their meeting", *WHEN)
    a = cli.store.get_appointment(added["id"])
    cli.store.update_appointment(
        a.with_changes(
            organizer=Organizer("", "dana@acme.example"), my_response=MyResponse.DECLINED
        )
    )
    out = tmp_path / "cal.ics"
    cli.ok("export", "--ics", str(out), "--from", "2026-11-01", "--to", "2026-12-31")
    (event,) = icalendar.Calendar.from_ical(out.read_bytes()).walk("VEVENT")
    shown = (str(event["TRANSP"]), str(event["X-MICROSOFT-CDO-BUSYSTATUS"]))
    assert shown == ("TRANSPARENT", "FREE")
