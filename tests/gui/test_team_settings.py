"""Settings › Sales Calendar against a real PostgreSQL (tests/pg.py) and the
real OS keyring: "Test connection" says what is wrong in the team server's
own words, one distinct message per failure, and keeps nothing; Save switches
the running app to the team Sales Calendar (and back) without a restart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from calsync_desktop.accounts.base import KeyringSecrets
from calsync_desktop.gui.settings_dialog import SettingsDialog
from calsync_desktop.gui.style import ERROR_STYLE
from calsync_desktop.services import Services
from calsync_desktop.team.server import (
    CertificateUntrusted,
    NotATeamDatabase,
    SchemaTooNew,
    TeamServer,
    Unreachable,
    WrongPassword,
)
from tests.accounts.test_keyring import real_keyring
from tests.gui.conftest import make_appointment
from tests.pg import MEMBERS

ANN, BOB = "ann@team.example", "bob@team.example"


@pytest.fixture
def keyring_services(tmp_path, clock):
    """This computer's app on its own file, with the real OS keyring."""
    s = Services.create(
        home=tmp_path / "home", secrets=KeyringSecrets(real_keyring()), env={}, clock=clock
    )
    yield s
    s.store.close()
    s.store.engine.dispose()


@pytest.fixture
def autostart(tmp_path):
    from calsync_desktop.gui.autostart import Autostart

    return Autostart(
        ["calsync-desktop"], platform="linux", env={"XDG_CONFIG_HOME": str(tmp_path / "x")}
    )


def fill(page, url: str, user: str = ANN, password: str = MEMBERS[ANN][1], ca: str = "") -> None:
    page.team.setChecked(True)
    page.url.setText(url)
    page.user.setText(user)
    page.password.setText(password)
    page.ca_bundle.edit.setText(ca)


def run_test_connection(qtbot, page) -> str:
    page.test_button.click()
    qtbot.waitUntil(lambda: page.task is not None and page.task.finished, timeout=20_000)
    return page.result.text()


def test_test_connection_says_each_failure_in_its_own_plain_words_and_keeps_nothing(
    qtbot, keyring_services, autostart, team_db, pg_cluster
):
    dialog = SettingsDialog(keyring_services, autostart)
    qtbot.addWidget(dialog)
    page = dialog.sales_calendar
    assert page.local.isChecked() and not page.fields.isEnabled()
    by_name = f"postgresql://db.team.example:{pg_cluster.port}/{team_db.name}?hostaddr=127.0.0.1"
    pg_cluster.create_database("not_a_team")
    try:
        cases = {
            Unreachable: dict(url="postgresql://127.0.0.1:1/sales"),
            WrongPassword: dict(url=team_db.url, password="not-her-password"),
            CertificateUntrusted: dict(url=by_name, ca=str(pg_cluster.other_ca)),
            NotATeamDatabase: dict(url=pg_cluster.url("not_a_team")),
        }
        said = {}
        for error, fields in cases.items():
            fill(page, **fields)
            said[error] = run_test_connection(qtbot, page)
        with team_db.sql() as conn:
            conn.execute("UPDATE alembic_version SET version_num = '9999'")
        fill(page, team_db.url)
        said[SchemaTooNew] = run_test_connection(qtbot, page)
    finally:
        pg_cluster.drop_database("not_a_team")
    where = f"127.0.0.1:{pg_cluster.port}/{team_db.name}"
    # the team server's own sentences (calsync_desktop/team/server.py), not reworded
    assert said[Unreachable].startswith(str(Unreachable("127.0.0.1:1/sales")).split(" (")[0])
    assert said[WrongPassword] == str(WrongPassword(ANN))
    assert "does not trust" in said[CertificateUntrusted]
    assert (
        said[NotATeamDatabase].startswith("127.0.0.1")
        and "not a calsync team" in (said[NotATeamDatabase])
    )
    assert said[SchemaTooNew] == str(SchemaTooNew(where))
    assert len(set(said.values())) == 5, said
    assert page.result.styleSheet() == ERROR_STYLE
    # nothing was kept: no team server, no password, the app's own file in use
    data = keyring_services.data_dir
    assert TeamServer.load(data) is None
    assert keyring_services.secrets.get(team_db.server(ANN).secret_key, "password") is None
    assert not keyring_services.store.is_team

    with team_db.sql() as conn:
        conn.execute("UPDATE alembic_version SET version_num = %s", (_head(),))
    fill(page, by_name, ca=str(pg_cluster.ca))
    assert run_test_connection(qtbot, page).startswith(
        "Connected to the team Sales Calendar at db.team.example"
    )
    assert TeamServer.load(data) is None  # testing is not connecting


def _head() -> str:
    from calsync_desktop.store import head_revision

    return head_revision()


def test_saving_team_server_switches_the_running_app_and_back_without_a_restart(
    qtbot, keyring_services, make_app_for, team_db, clock
):
    store = keyring_services.store
    monday = datetime(2026, 3, 23, 9, tzinfo=UTC)
    clock.now = monday
    store.add_appointment(
        make_appointment("My own file's visit", monday, monday + timedelta(hours=1))
    )
    app = make_app_for(keyring_services)
    app.window.go_to(monday.date())
    titles = lambda: {r.occurrence.contents for r in app.model.rows()}  # noqa: E731
    assert titles() == {"My own file's visit"}
    ann = team_db.open_store(ANN)
    ann.add_appointment(
        make_appointment("Team calendar visit", monday, monday + timedelta(hours=2))
    )
    ann.close()
    app.start(sync_at_start=False)
    dialog = app.open_settings()
    page = dialog.sales_calendar
    fill(page, team_db.url)
    dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
    qtbot.waitUntil(lambda: app.store.is_team, timeout=20_000)
    assert app.store is keyring_services.store and app.model.source is app.store
    qtbot.waitUntil(lambda: titles() == {"Team calendar visit"})
    qtbot.waitUntil(lambda: "settings" not in app.dialogs)  # closed
    # the password is in the keyring, and only there
    server = TeamServer.load(keyring_services.data_dir)
    assert server.user == ANN and server.url.endswith(team_db.url.split("//")[1])
    assert keyring_services.secrets.get(server.secret_key, "password") == MEMBERS[ANN][1]
    for path in keyring_services.data_dir.rglob("*"):
        if path.is_file():
            assert MEMBERS[ANN][1].encode() not in path.read_bytes(), path
    # a new appointment typed now goes to the team server
    qtbot.waitUntil(lambda: not app.scheduler.running)
    app.editor.open_dialog = lambda d: (d.title.setText("Typed after switching"), True)[1]
    app.editor.create(monday.replace(hour=14))
    check = team_db.open_store(ANN)
    assert {a.contents for a in check.appointments_between(monday, monday + timedelta(1))} == {
        "Team calendar visit",
        "Typed after switching",
    }
    check.close()
    check.engine.dispose()

    # and back to this computer's own file, which was kept as it was
    dialog = app.open_settings()
    page = dialog.sales_calendar
    assert page.team.isChecked() and page.password.text() == ""
    assert page.url.text() == team_db.url and page.user.text() == ANN  # as typed
    assert page.password.placeholderText() == "Kept in this computer's keyring"
    page.local.setChecked(True)
    dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
    qtbot.waitUntil(lambda: not app.store.is_team)
    qtbot.waitUntil(lambda: titles() == {"My own file's visit"})
    assert TeamServer.load(keyring_services.data_dir) is None
    assert keyring_services.secrets.get(server.secret_key, "password") is None


def test_a_team_server_that_fails_on_save_keeps_the_dialog_open_and_changes_nothing(
    qtbot, keyring_services, make_app_for, team_db
):
    app = make_app_for(keyring_services)
    app.start(sync_at_start=False)
    before = app.store
    dialog = app.open_settings()
    page = dialog.sales_calendar
    dialog.tabs.setCurrentIndex(0)
    fill(page, team_db.url, password="typo")
    dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
    qtbot.waitUntil(lambda: page.task is not None and page.task.finished, timeout=20_000)
    qtbot.waitUntil(lambda: dialog.buttons.isEnabled())
    assert page.result.text() == str(WrongPassword(ANN))
    assert dialog.isVisible() and dialog.tabs.currentWidget() is page
    assert app.store is before and not app.store.is_team
    assert TeamServer.load(keyring_services.data_dir) is None
    # what was typed is still there to correct
    assert page.url.text() == team_db.url and page.password.text() == "typo"
