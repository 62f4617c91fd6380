"""The window on a team Sales Calendar, live, against a real PostgreSQL
(tests/pg.py): colleagues' changes appear without a restart (LISTEN/NOTIFY,
and the change-counter poll without it); a team server that goes away is
said, edits that could not be saved are refused with everything typed kept,
and the window reconnects by itself; "Preview as a colleague" shows my week
as colleagues see it."""

from __future__ import annotations

from datetime import timedelta

from psycopg import sql
from PySide6.QtWidgets import QLabel

from calsync_desktop.gui.calendar_list import member_key
from calsync_desktop.gui.calendar_model import PRIVATE_TEXT
from calsync_desktop.team.server import TeamError, WrongPassword
from tests.gui.conftest import TEAM_MONDAY, make_appointment, team_at
from tests.pg import MEMBERS

ANN, BOB = "ann@team.example", "bob@team.example"
MONDAY = TEAM_MONDAY
SECRET = "Physio with Dr Knee"
at = team_at


def bobs(app) -> set[str]:
    return {r.occurrence.contents for r in app.model.rows() if r.key == member_key(BOB)}


def test_a_colleagues_changes_appear_without_a_restart_by_notification(qtbot, team, make_app_for):
    ann, bob = team
    app = make_app_for(ann)
    app.window.go_to(MONDAY.date())
    qtbot.waitUntil(lambda: app.team.listener is not None and app.team.listener.listening)
    app.model.stop_polling()  # the notification alone must bring it
    visit = bob.add_appointment(make_appointment("Bob's new visit", *at(1, 10)))
    qtbot.waitUntil(lambda: bobs(app) == {"Bob's new visit"})
    start, end = at(2, 10)
    bob.update_appointment(visit.with_changes(contents="Bob's visit, moved", start=start, end=end))
    qtbot.waitUntil(lambda: bobs(app) == {"Bob's visit, moved"})
    bob.delete_appointment(visit.id)
    qtbot.waitUntil(lambda: bobs(app) == set())
    assert not app.model.polling()


def test_without_notifications_the_change_counter_poll_brings_colleagues_changes(
    qtbot, team, make_app_for
):
    ann, bob = team
    app = make_app_for(ann, listen=False)
    app.window.go_to(MONDAY.date())
    assert app.team.listener is None and app.model.polling()
    before = app.store.team_change_token()
    bob.add_appointment(make_appointment("Seen by the poll", *at(1, 10)))
    assert app.store.team_change_token() != before  # what the poll compares
    qtbot.waitUntil(lambda: bobs(app) == {"Seen by the poll"})


class Refusals:
    """Records what the editor told the user."""

    def __init__(self):
        self.said: list[str] = []

    def __call__(self, _parent, text: str) -> None:
        self.said.append(text)


def test_an_unreachable_team_server_is_said_edits_are_refused_typing_is_kept_and_it_comes_back(
    qtbot, team, make_app_for, pg_cluster, team_db
):
    ann, bob = team
    bob.add_appointment(make_appointment("Bob's visit", *at(0, 10)))
    app = make_app_for(ann)
    app.window.go_to(MONDAY.date())
    app.window.show()
    app.model.set_poll_interval(200)
    refusals = Refusals()
    app.editor.refuse = refusals
    banner = app.window.offline_banner
    assert banner.isHidden() and app.window.new_action.isEnabled()
    pg_cluster.stop("immediate")
    try:
        qtbot.waitUntil(lambda: not banner.isHidden(), timeout=15_000)
        assert "The team server cannot be reached" in banner.message()
        assert "changes cannot be saved until the team server is back" in banner.message()
        assert not app.window.new_action.isEnabled()
        assert bobs(app) == {"Bob's visit"}  # what was last loaded stays in view
        # an edit it could not save is refused before anything is typed
        opened = []
        app.editor.open_dialog = lambda d: opened.append(d) or True
        assert app.editor.create(at(1, 14)[0]) is None
        assert not opened and "Nothing can be changed until it answers again" in refusals.said[-1]
    finally:
        pg_cluster.start()
        pg_cluster.wait_ready()
    # it reconnects by itself
    qtbot.waitUntil(lambda: banner.isHidden(), timeout=15_000)
    assert app.window.new_action.isEnabled()

    # the server goes away while an appointment is being typed: Save is
    # refused, the dialog comes back with everything typed, and it is saved
    # once the server is back
    runs = []

    def type_then_save(dialog) -> bool:
        runs.append(dialog.title.text())
        if len(runs) == 1:
            dialog.title.setText("Call with Initech")
            dialog.location.setText("Phone")
            pg_cluster.stop("immediate")
        else:
            pg_cluster.start()
            pg_cluster.wait_ready()
        return True

    app.editor.open_dialog = type_then_save
    try:
        saved = app.editor.create(at(1, 14)[0])
    finally:
        if len(runs) < 2:
            pg_cluster.start()
            pg_cluster.wait_ready()
    assert runs == ["", "Call with Initech"]  # the second time, with what was typed
    assert "Nothing was saved; what you typed is still in the appointment" in refusals.said[-1]
    assert saved is not None and saved.contents == "Call with Initech"
    fresh = team_db.open_store(BOB)  # Bob's own connection went with the server
    check = fresh.team_appointments_between(MONDAY, MONDAY + timedelta(days=7))
    fresh.close()
    fresh.engine.dispose()
    assert [(t.appointment.contents, t.appointment.location) for t in check if t.owner == ANN] == [
        ("Call with Initech", "Phone")
    ]


def test_preview_as_a_colleague_shows_my_week_as_colleagues_see_it(
    qtbot, team, make_app_for, services
):
    ann, bob = team
    mine = ann.store.add_appointment(
        make_appointment("Acme kick-off\nAgenda", *at(0, 10), location="Acme HQ")
    )
    private = ann.store.add_appointment(
        make_appointment(SECRET, *at(1, 8), location="Knee St 2", private=True)
    )
    bob.add_appointment(make_appointment("Bob's visit", *at(0, 13)))
    for store in (ann.store, bob):  # a meeting in both calendars
        store.add_appointment(make_appointment("Pipeline review", *at(2, 15), ical_uid="r@t"))
    app = make_app_for(ann)
    app.window.go_to(MONDAY.date())
    action = app.team.preview_action
    assert action.isVisible() and action in app.window.menu.actions()
    assert bobs(app) == {"Bob's visit"}

    action.trigger()
    rows = app.model.rows()
    assert bobs(app) == set()  # my week only
    meeting = next(r for r in rows if r.occurrence.contents == "Pipeline review")
    assert [name for name, _ in meeting.members] == ["You", "Bob Baker"]  # as colleagues see it
    rows = [r for r in rows if r is not meeting]
    assert {r.appointment.id for r in rows} == {mine.id, private.id}
    assert all(r.read_only for r in rows)
    banner = app.window.preview_banner
    assert "your week as colleagues see it" in banner.message()
    assert banner.button.text() == "End preview" and not banner.button.isHidden()
    # exactly what a colleague's app gets from the database for my week
    seen_by_bob = {
        t.appointment.id: t.appointment
        for t in bob.team_appointments_between(MONDAY, MONDAY + timedelta(days=7))
        if t.owner == ANN
    }
    for row in rows:
        theirs = seen_by_bob[row.appointment.id]
        assert (row.occurrence.contents, row.occurrence.location) == (
            theirs.contents,
            theirs.location,
        )
        assert row.appointment.participants == theirs.participants
        assert row.private == theirs.private
    # opening: my private one shows its time only
    shown = next(r for r in rows if r.private)
    app.open_occurrence(shown.occurrence)
    dialog = app.dialogs["colleague"]
    assert dialog.windowTitle() == "Your appointment, as colleagues see it"
    assert list(dialog.fields) == ["When"]
    texts = " ".join(w.text() for w in dialog.findChildren(QLabel))
    assert PRIVATE_TEXT in texts and "Only you see what it is about" in texts
    assert "Physio" not in texts and "Knee" not in texts
    dialog.close()
    plain = next(r for r in rows if not r.private)
    app.open_occurrence(plain.occurrence)
    dialog = app.dialogs["colleague"]
    assert dialog.fields["Title"] == "Acme kick-off" and dialog.fields["Location"] == "Acme HQ"
    assert "end the preview to change it" in dialog.note.text()
    dialog.close()

    banner.button.click()  # End preview
    assert not action.isChecked() and banner.isHidden()
    assert bobs(app) == {"Bob's visit"}
    me = next(r for r in app.model.rows() if r.appointment.id == private.id)
    assert not me.read_only and me.occurrence.contents == SECRET  # mine to open again

    # a Sales Calendar of one's own has no colleagues to preview for
    alone = make_app_for(services)
    assert alone.team.preview_action not in alone.window.menu.actions()


def test_a_password_changed_while_connected_is_said_in_plain_words_and_nothing_is_lost(
    qtbot, team, make_app_for, team_db
):
    ann, bob = team
    bob.add_appointment(make_appointment("Bob's visit", *at(0, 10)))
    app = make_app_for(ann)
    app.window.go_to(MONDAY.date())
    app.model.set_poll_interval(200)
    refusals = Refusals()
    app.editor.refuse = refusals
    banner = app.window.offline_banner
    with team_db.sql() as admin:  # the administrator gives Ann a new password
        admin.execute(f"ALTER ROLE \"{ANN}\" PASSWORD 'a-new-one'")
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", (ANN,)
        )
    try:
        qtbot.waitUntil(lambda: "did not accept the password" in banner.message(), timeout=15_000)
        assert banner.message().startswith(str(WrongPassword(ANN)))
        assert "Settings › Sales Calendar" in banner.message()
        assert bobs(app) == {"Bob's visit"}  # nothing of the view is lost
        assert app.editor.create(at(1, 14)[0]) is None
        assert str(WrongPassword(ANN)) in refusals.said[-1]
        app.refresh_status()  # the status bar says it the same way
        assert app.window.last_sync_label.text() == str(WrongPassword(ANN))
    finally:
        with team_db.sql() as admin:
            admin.execute(
                sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                    sql.Identifier(ANN), sql.Literal(MEMBERS[ANN][1])
                )
            )
    qtbot.waitUntil(lambda: banner.isHidden(), timeout=15_000)
    assert app.window.new_action.isEnabled()


def test_a_team_server_out_of_reach_at_start_is_said_and_tried_again_nothing_changed(
    tmp_path, team_db, pg_cluster, clock, secrets
):
    from calsync_desktop.gui.team_window import open_services
    from calsync_desktop.services import Services
    from calsync_desktop.team.server import TeamServer

    home = tmp_path / "ann"
    team_db.connect_services(home, secrets, clock, ANN).store.close()
    asked: list[str] = []

    def try_again(message: str) -> bool:
        asked.append(message)
        if len(asked) == 2:
            pg_cluster.start()
            pg_cluster.wait_ready()
        return len(asked) < 3

    pg_cluster.stop("immediate")
    try:
        services = open_services(
            lambda: Services.create(home=home, secrets=secrets, env={}, clock=clock), try_again
        )
    finally:
        if len(asked) < 2:
            pg_cluster.start()
            pg_cluster.wait_ready()
    assert len(asked) == 2 and all("cannot be reached" in m for m in asked)
    assert services is not None and services.store.is_team  # the team one, once it answered
    assert TeamServer.load(home / "data") is not None  # the connection was kept
    services.store.close()
    services.store.engine.dispose()
    # giving up opens nothing else in its place
    assert open_services(lambda: (_ for _ in ()).throw(TeamError("x")), lambda _m: False) is None


def test_a_certificate_no_longer_trusted_while_connected_is_said_and_nothing_is_lost(
    qtbot, make_app_for, team_db, pg_cluster, tmp_path, clock, secrets
):
    """Ann's app reaches the team server by name over TLS (verify-full against
    the company's CA); the server then presents a certificate from another CA."""
    import os

    from calsync_desktop.services import Services
    from calsync_desktop.team.member import connect

    by_name = f"postgresql://db.team.example:{pg_cluster.port}/{team_db.name}?hostaddr=127.0.0.1"
    data = tmp_path / "ann" / "data"
    data.mkdir(parents=True)
    connect(data, secrets, by_name, ANN, MEMBERS[ANN][1], str(pg_cluster.ca), clock).close()
    ann = Services.create(home=tmp_path / "ann", secrets=secrets, env={}, clock=clock)
    ann.store.add_appointment(make_appointment("Kept while refused", *at(0, 10)))
    app = make_app_for(ann, listen=False)
    app.window.go_to(MONDAY.date())
    app.model.set_poll_interval(200)
    banner = app.window.offline_banner
    tls = pg_cluster.root / "tls"
    os.chmod(tls / "other.key", 0o600)  # PostgreSQL takes only a private key file
    with team_db.sql() as admin:
        admin.execute(f"ALTER SYSTEM SET ssl_cert_file = '{tls / 'other.crt'}'")
        admin.execute(f"ALTER SYSTEM SET ssl_key_file = '{tls / 'other.key'}'")
        admin.execute("SELECT pg_reload_conf()")
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", (ANN,)
        )
    try:
        qtbot.waitUntil(lambda: "does not trust" in banner.message(), timeout=15_000)
        assert banner.message().startswith("The team server db.team.example")
        assert "certificates are never ignored" in banner.message()
        assert not app.window.new_action.isEnabled()
        assert {r.occurrence.contents for r in app.model.rows()} == {"Kept while refused"}
    finally:
        with team_db.sql() as admin:
            admin.execute("ALTER SYSTEM RESET ssl_cert_file")
            admin.execute("ALTER SYSTEM RESET ssl_key_file")
            admin.execute("SELECT pg_reload_conf()")
    qtbot.waitUntil(lambda: banner.isHidden(), timeout=15_000)
    assert app.window.new_action.isEnabled()
    ann.store.close()
    ann.store.engine.dispose()


def test_a_schema_upgraded_while_connected_is_said_and_nothing_is_lost(
    qtbot, team, make_app_for, team_db, pg_cluster
):
    from calsync_desktop.store import head_revision
    from calsync_desktop.team.server import SchemaTooNew

    ann, bob = team
    bob.add_appointment(make_appointment("Bob's visit", *at(0, 10)))
    app = make_app_for(ann, listen=False)
    app.window.go_to(MONDAY.date())
    app.model.set_poll_interval(200)
    banner = app.window.offline_banner
    with team_db.sql() as admin:  # a newer calsync upgraded the team server
        admin.execute("UPDATE alembic_version SET version_num = '9999'")
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", (ANN,)
        )
    where = f"127.0.0.1:{pg_cluster.port}/{team_db.name}"
    try:
        qtbot.waitUntil(lambda: "newer calsync" in banner.message(), timeout=15_000)
        assert banner.message().startswith(str(SchemaTooNew(where)))
        assert bobs(app) == {"Bob's visit"} and not app.window.new_action.isEnabled()
    finally:
        with team_db.sql() as admin:
            admin.execute("UPDATE alembic_version SET version_num = %s", (head_revision(),))
    qtbot.waitUntil(lambda: banner.isHidden(), timeout=15_000)
    assert app.window.new_action.isEnabled()
