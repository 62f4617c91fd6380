"""Show-as, join link, organiser and the user's answer (SPEC §10) are kept by
the store on both engines, and a team server gives colleagues a private
appointment's show-as (busy time) but never its link, organiser or answer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from calsync_desktop.accounts.base import Account
from calsync_desktop.model import (
    Appointment,
    InvalidAppointment,
    MyResponse,
    Organizer,
    ShowAs,
    new_id,
)
from calsync_desktop.store import StatusRow, Store

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
ANN, BOB = "ann@team.example", "bob@team.example"
JOIN = "https://teams.microsoft.com/l/meetup-join/19%3ameeting_abc%40thread.v2/0"


def meeting(**kw) -> Appointment:
    kw.setdefault("show_as", ShowAs.TENTATIVE)
    return Appointment(
        new_id(),
        "Quarterly review",
        T0,
        T0 + timedelta(hours=1),
        join_url=JOIN,
        organizer=Organizer("Dana Boss", "dana@acme.example"),
        my_response=MyResponse.TENTATIVE,
        **kw,
    )


def test_show_as_link_organiser_and_answer_are_stored_and_read_back(store):
    a = store.add_appointment(meeting())
    back = store.get_appointment(a.id)
    assert back.show_as is ShowAs.TENTATIVE
    assert back.join_url == JOIN
    assert back.organizer == Organizer("Dana Boss", "dana@acme.example")
    assert back.organised_by_someone_else
    assert back.my_response is MyResponse.TENTATIVE
    # an appointment of the user's own: busy, no link, no organiser, no answer
    own = store.add_appointment(Appointment(new_id(), "Own", T0, T0 + timedelta(hours=1)))
    own = store.get_appointment(own.id)
    assert (own.show_as, own.join_url, own.organizer, own.my_response) == (
        ShowAs.BUSY,
        "",
        None,
        MyResponse.NONE,
    )
    assert not own.organised_by_someone_else
    # every value there is survives the store
    for value in ShowAs:
        store.update_appointment(back.with_changes(show_as=value))
        assert store.get_appointment(a.id).show_as is value


def test_whether_the_organiser_lets_guests_modify_is_stored_and_read_back(store):
    a = store.add_appointment(meeting())
    assert not store.get_appointment(a.id).organizer.guests_can_modify
    lets = Organizer("Dana Boss", "dana@acme.example", guests_can_modify=True)
    store.update_appointment(a.with_changes(organizer=lets))
    assert store.get_appointment(a.id).organizer == lets
    (listed,) = store.appointments_between(T0, T0 + timedelta(days=1))
    assert listed.organizer.guests_can_modify


def test_a_deleted_appointment_remembers_its_meeting_fields(store):
    account = store.add_account(Account(new_id(), "memory", "Work", "me@example.com"))
    a = store.add_appointment(meeting(show_as=ShowAs.OUT_OF_OFFICE, account_id=account.id))
    store.put_status(account.id, StatusRow(a.id, "remote-1", "v1", {}, 1))  # linked
    store.delete_appointment(a.id)
    (tomb,) = store.tombstones(account.id)
    assert tomb.appointment.show_as is ShowAs.OUT_OF_OFFICE
    assert tomb.appointment.join_url == JOIN
    assert tomb.appointment.organizer == Organizer("Dana Boss", "dana@acme.example")


def test_a_bad_show_as_or_join_link_is_refused_with_a_reason(store):
    with pytest.raises(InvalidAppointment, match="show-as"):
        store.add_appointment(meeting(show_as="away"))
    with pytest.raises(InvalidAppointment, match="join link"):
        store.add_appointment(meeting().with_changes(join_url="javascript:alert(1)"))
    with pytest.raises(InvalidAppointment, match="out of office"):
        ShowAs.parse("on holiday")
    assert ShowAs.parse("Out of office") is ShowAs.OUT_OF_OFFICE
    assert ShowAs.parse("working-elsewhere") is ShowAs.WORKING_ELSEWHERE
    assert ShowAs.parse("oof") is ShowAs.OUT_OF_OFFICE
    assert store.count_appointments() == 0


# --------------------------------------------------------------------------- team server


@pytest.fixture
def bobs(team_db, clock):
    ann = team_db.open_store(ANN, clock)
    bob = team_db.open_store(BOB, clock)
    lets = Organizer("Dana Boss", "dana@acme.example", guests_can_modify=True)
    private = bob.add_appointment(
        meeting(private=True, show_as=ShowAs.OUT_OF_OFFICE).with_changes(organizer=lets)
    )
    public = bob.add_appointment(meeting().with_changes(organizer=lets))
    yield team_db, ann, private, public
    for s in (ann, bob):
        s.close()
        s.engine.dispose()


def test_colleagues_read_a_private_appointments_show_as_and_nothing_of_the_meeting(bobs):
    db, _, private, public = bobs
    columns = "show_as, join_url, organizer_name, organizer_email, guests_can_modify, my_response"
    with db.sql(ANN) as conn:
        query = f"SELECT {columns} FROM team_appointments WHERE id = %s"
        assert conn.execute(query, (private.id,)).fetchall() == [
            ("oof", None, None, None, None, None)
        ]
        assert conn.execute(query, (public.id,)).fetchall() == [
            ("tentative", JOIN, "Dana Boss", "dana@acme.example", True, "tentative")
        ]
        # the table itself shows a colleague nothing at all
        assert conn.execute("SELECT join_url FROM appointments").fetchall() == []
        everything = conn.execute("SELECT t::text FROM team_appointments t").fetchall()
        hidden = [r[0] for r in everything if private.id in r[0]]
        assert hidden and not any("teams.microsoft" in r or "Dana" in r for r in hidden)


def test_the_team_view_gives_a_private_appointments_show_as_without_its_link(bobs):
    _, ann, private, public = bobs
    shown = {t.appointment.id: t for t in ann.team_appointments_between(T0, T0 + timedelta(1))}
    hidden = shown[private.id].appointment
    assert shown[private.id].redacted
    assert hidden.show_as is ShowAs.OUT_OF_OFFICE
    assert (hidden.join_url, hidden.organizer, hidden.my_response) == ("", None, MyResponse.NONE)
    seen = shown[public.id].appointment
    assert (seen.show_as, seen.join_url, seen.organizer.email) == (
        ShowAs.TENTATIVE,
        JOIN,
        "dana@acme.example",
    )
    assert seen.organizer.guests_can_modify


def test_a_single_user_file_has_the_columns_from_the_start(tmp_path):
    store = Store.open(tmp_path / "cal.sqlite3")
    a = store.add_appointment(meeting(show_as=ShowAs.FREE))
    assert store.get_appointment(a.id).show_as is ShowAs.FREE
    store.close()
