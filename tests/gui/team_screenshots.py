"""The README's team pictures (``screenshots.py --team``): Ann's app on a team
Sales Calendar served by a real PostgreSQL (tests/pg.py), with her colleagues
Bob and Cy.

It takes the team week (colleagues' boxes in their colours, private ones as
grey boxes with the eye, a meeting of three marked with each member's dot), a
colleague's appointment and a colleague's private one opened, Preview as a
colleague, the bar when the team server refuses the password and when it
cannot be reached, and Settings › Sales Calendar connected and with a wrong
password. The clock is the other pictures' (:data:`screenshots.NOW`).
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from psycopg import sql
from PySide6.QtWidgets import QApplication

from calsync_desktop.accounts import memory, save_account
from calsync_desktop.accounts.base import MemorySecrets
from calsync_desktop.gui.app import CalsyncApp
from calsync_desktop.gui.calendar_view import display_zone, week_start
from calsync_desktop.gui.settings_dialog import PREFERRED_SIZE
from calsync_desktop.model import Appointment, new_id
from calsync_desktop.services import Services
from tests.gui.screenshots import NOW, save, wait, wait_for

ANN = ("ann@team.example", "Ann Archer", "ann-password-1")
BOB = ("bob@team.example", "Bob Baker", "bob-password-2")
CY = ("cy@team.example", "Cy Cooper", "cy-password-3")


def team_demo(cluster) -> tuple[Services, list]:
    """The team database "sales" with Ann, Bob and Cy and a week of each;
    Ann's app's services (a "Work" account of hers) and Bob's and Cy's stores."""
    from calsync_desktop.team import admin
    from calsync_desktop.team.member import connect
    from calsync_desktop.team.server import TeamServer, open_store

    cluster.create_database("sales")
    url = cluster.admin_url("sales")
    admin.init(url)
    for email, name, password in (ANN, BOB, CY):
        admin.add_member(url, email, name, password)
    team_url = f"postgresql://127.0.0.1:{cluster.port}/sales"
    home = Path(tempfile.mkdtemp(prefix="calsync-team-shots-"))
    data = home / "data"
    data.mkdir(parents=True)
    secrets = MemorySecrets()
    clock = lambda: NOW  # noqa: E731
    connect(data, secrets, team_url, ANN[0], ANN[2], clock=clock).close()
    services = Services.create(
        home=home, secrets=secrets, env={"CALSYNC_TEST_CALENDAR": "1"}, clock=clock
    )
    services.store.set_setting("profile.name", ANN[1])
    services.store.set_setting("profile.email", ANN[0])
    work = save_account(services, memory.connect(services, ANN[0]), name="Work")
    others = [open_store(TeamServer(team_url, who[0]), who[2], clock) for who in (BOB, CY)]
    tz = display_zone()
    monday = week_start(NOW.astimezone(tz).date())

    def at(day: int, hour: float, minutes: int = 60) -> tuple[datetime, datetime]:
        start = datetime.combine(monday + timedelta(days=day), time(0), tzinfo=tz)
        start += timedelta(hours=hour)
        return start.astimezone(UTC), (start + timedelta(minutes=minutes)).astimezone(UTC)

    def add(store, contents, day, hour, minutes, **fields) -> None:
        start, end = at(day, hour, minutes)
        store.add_appointment(Appointment(new_id(), contents, start, end, tz.key, **fields))

    bob, cy = others
    mine = {"account_id": work.id}
    add(services.store, "Acme kick-off", 0, 10, 90, location="Acme HQ", **mine)
    add(services.store, "Call with Globex", 1, 14, 30, **mine)
    add(services.store, "Proposal for Initech", 3, 9, 120, **mine)
    add(services.store, "Physio", 2, 8, 60, private=True, **mine)
    add(bob, "Customer visit Umbrella", 0, 13, 120, location="Umbrella, Hamburg")
    add(bob, "Dentist", 1, 9, 60, private=True)
    add(bob, "Trade fair prep", 4, 10, 180)
    add(cy, "Demo for Stark", 1, 11, 90, location="Stark Industries")
    add(cy, "School run", 3, 14, 120, private=True)
    # one meeting in all three calendars: drawn once, with each member's dot
    add(services.store, "Pipeline review", 2, 15, 60, ical_uid="pipeline@team.example", **mine)
    for store in others:
        add(store, "Pipeline review", 2, 15, 60, ical_uid="pipeline@team.example")
    return services, others


def main_team(out_dir: str) -> int:
    """Only the team pictures (``--team``); they render offscreen too."""
    from tests.gui.screenshots import qt_application

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    qt_app = qt_application()
    team_pages(out)
    qt_app.processEvents()
    return 0


def team_pages(out: Path) -> None:
    """Start PostgreSQL, take the pictures, remove it."""
    from tests.pg import remove_cluster, start_cluster

    cluster = start_cluster()
    try:
        services, others = team_demo(cluster)
        app = CalsyncApp(services, watch_network=False)
        app.start(sync_at_start=True, show_window=True)
        window = app.window
        window.resize(1240, 780)
        wait_for(lambda: app.scheduler.runs_started and not app.scheduler.running)
        window.go_to(NOW.astimezone(app.tz).date())
        wait(300)
        save(window, out, "team-week.png")
        rows = app.model.rows()
        colleague = next(r for r in rows if r.occurrence.contents == "Demo for Stark")
        app.open_occurrence(colleague.occurrence)
        save(app.dialogs["colleague"], out, "team-colleague-appointment.png")
        app.dialogs["colleague"].close()
        private = next(r for r in rows if r.private and r.read_only)
        app.open_occurrence(private.occurrence)
        save(app.dialogs["colleague"], out, "team-colleague-private.png")
        app.dialogs["colleague"].close()

        app.team.preview_action.trigger()
        save(window, out, "team-preview.png")
        window.preview_banner.button.click()

        settings_pages(app, out)

        # the administrator gives Ann a new password: the bar says so
        app.model.set_poll_interval(200)
        banner = window.offline_banner
        with cluster.admin("sales") as admin:
            admin.execute(
                sql.SQL("ALTER ROLE {} PASSWORD 'a-new-one'").format(sql.Identifier(ANN[0]))
            )
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s",
                (ANN[0],),
            )
        wait_for(lambda: "did not accept the password" in banner.message())
        app.refresh_status()
        save(window, out, "team-password-refused.png")
        with cluster.admin("sales") as admin:
            admin.execute(
                sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                    sql.Identifier(ANN[0]), sql.Literal(ANN[2])
                )
            )
        wait_for(banner.isHidden)

        # the team server goes away: the bar says so, and what was loaded stays
        cluster.stop("immediate")
        try:
            wait_for(lambda: not banner.isHidden())
            app.refresh_status()
            save(window, out, "team-offline.png")
        finally:
            cluster.start()
            cluster.wait_ready()
        wait_for(banner.isHidden)
        app.shutdown()
        for store in others:
            store.close()
        services.store.close()
        QApplication.processEvents()
    finally:
        remove_cluster(cluster)


def settings_pages(app: CalsyncApp, out: Path) -> None:
    """Settings › Sales Calendar on the team server: Test connection, then a
    wrong password."""
    settings = app.open_settings()
    settings.resize(PREFERRED_SIZE)
    page = settings.sales_calendar
    settings.tabs.setCurrentWidget(page)
    page.test_button.click()
    wait_for(lambda: page.task is not None and page.task.finished, 30_000)
    save(settings, out, "settings-sales-calendar.png")
    page.password.setText("not-her-password")
    page.test_button.click()
    wait_for(lambda: page.task is not None and page.task.finished, 30_000)
    save(settings, out, "settings-sales-calendar-wrong-password.png")
    settings.reject()
