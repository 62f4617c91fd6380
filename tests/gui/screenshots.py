"""Take the README screenshots of the real app (a plain script, not a test).

Run under a real X server with a tray host, for example::

    Xvfb :99 -screen 0 1400x900x24 & DISPLAY=:99 trayer --edge top --align right &
    DISPLAY=:99 TZ=Europe/Berlin uv run python tests/gui/screenshots.py docs/

``--history`` takes only Troubleshooting and Settings › History (with "Resync
from scratch"), which render offscreen too (``QT_QPA_PLATFORM=offscreen``).

``--team`` takes only the team pictures, on a PostgreSQL of their own
(:mod:`tests.gui.team_screenshots`); the full run takes them last.

``--meetings`` takes only the show-as, Join and meeting pictures (the week,
month and day views, the online meeting's dialog, someone else's meeting),
which render offscreen too.

It builds a demo Sales Calendar (two "Local test calendar" accounts, normal and
private appointments, every show-as, an online meeting about to start, an
invitation not answered yet and a declined meeting), starts
:class:`CalsyncApp` on it with the clock standing at :data:`NOW`, and saves
PNGs of the tray menu, the windows and the dialogs.
"""

from __future__ import annotations

import sys
import tempfile
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from PySide6.QtCore import QPoint
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget

from calsync_desktop.accounts import memory, save_account
from calsync_desktop.accounts.base import MemorySecrets
from calsync_desktop.gui.app import CalsyncApp
from calsync_desktop.gui.appointment_dialog import DEFAULT_ACCOUNT_SETTING
from calsync_desktop.gui.calendar_view import display_zone, week_start
from calsync_desktop.gui.settings_dialog import PREFERRED_SIZE
from calsync_desktop.model import (
    Appointment,
    InviteStatus,
    MyResponse,
    Organizer,
    Participant,
    Recurrence,
    ShowAs,
    new_id,
)
from calsync_desktop.services import Services

NOW = datetime(2026, 12, 2, 10, 40, tzinfo=UTC)
"""The demo's clock: a Wednesday, 11:40 in Berlin, five minutes before the
online meeting's Join shows (from ten minutes before its 11:45 start)."""
TEAMS_LINK = "https://teams.microsoft.com/l/meetup-join/19%3ameeting_R2xvYmV4%40thread.v2/0"


def wait(ms: int = 300) -> None:
    QTest.qWait(ms)


def wait_for(condition, ms: int = 15_000) -> None:
    for _ in range(ms // 50):
        if condition():
            return
        wait(50)


def save(widget: QWidget, out: Path, name: str) -> None:
    wait(250)
    widget.grab().save(str(out / name))
    print("saved", name)


def save_screen(widget: QWidget, out: Path, name: str) -> None:
    """Like :func:`save`, but from the screen, so that open popups show too."""
    wait(250)
    frame = widget.frameGeometry()
    shot = QGuiApplication.primaryScreen().grabWindow(0)
    shot.copy(frame).save(str(out / name))
    print("saved", name)


def demo(services: Services) -> dict:
    store = services.store
    tz = display_zone()
    store.set_setting("profile.name", "Ann Seller")
    store.set_setting("profile.email", "ann@company.example")
    work = save_account(services, memory.connect(services, "ann@company.example"), name="Work")
    private = save_account(
        services, memory.connect(services, "ann.private@example.com"), sync_all_private=True
    )
    private.name = "Private calendar"
    store.update_account(private)
    store.set_setting(DEFAULT_ACCOUNT_SETTING, work.id)  # Settings › Integrations
    monday = week_start(NOW.astimezone(tz).date())

    def at(day: int, hour: float, minutes: int = 60) -> tuple[datetime, datetime]:
        start = datetime.combine(monday + timedelta(days=day), time(0), tzinfo=tz)
        start += timedelta(hours=hour)
        return start.astimezone(UTC), (start + timedelta(minutes=minutes)).astimezone(UTC)

    team = (
        Participant("Bob Buyer", "bob@customer.example", InviteStatus.ACCEPTED),
        Participant("Carla Chief", "carla@customer.example", InviteStatus.TENTATIVE),
        Participant("Dan Doubt", "dan@customer.example", InviteStatus.DECLINED),
        Participant("Eve Engineer", "eve@company.example", InviteStatus.NO_RESPONSE),
    )
    busy, free, tentative = ShowAs.BUSY, ShowAs.FREE, ShowAs.TENTATIVE
    local = [
        ("Discovery call: Acme Corp", 0, 9, 60, "Phone", team, None, busy),
        ("Pipeline review", 0, 11, 45, "Room 4", (), None, busy),
        ("Focus time: proposals", 0, 14, 90, "", (), None, free),
        (
            "Demo for Globex\nShow the reporting module",
            1,
            10,
            90,
            "Globex HQ, Berlin",
            team,
            None,
            busy,
        ),
        ("Quote follow-up", 1, 10.5, 60, "", (), None, busy),
        ("Contract negotiation", 1, 14, 120, "Video call", (), None, busy),
        ("Lunch with Initech", 2, 13, 90, "Café Central", (), None, tentative),
        ("Team stand-up", 0, 8.5, 15, "", (), Recurrence("FREQ=DAILY;COUNT=5"), busy),
        ("Proposal writing", 3, 13, 150, "", (), None, busy),
        ("QBR: Umbrella", 4, 10, 60, "Umbrella offices", team, None, busy),
        ("Pricing workshop", 2, 15, 90, "Room 2", (), None, busy),
        ("Travel to Hamburg", 3, 7, 90, "", (), None, busy),
        ("Customer visit: Initech", 3, 9, 180, "Initech HQ, Hamburg", (), None, busy),
        ("Afternoon off", 4, 14, 180, "", (), None, busy),
        ("Call back Hooli", 4, 11.25, 30, "", (), None, busy),
    ]
    shown_as = {
        "Customer visit: Initech": ShowAs.WORKING_ELSEWHERE,
        "Afternoon off": ShowAs.OUT_OF_OFFICE,
    }
    made = {}
    for contents, day, hour, minutes, location, people, rule, show_as in local:
        start, end = at(day, hour, minutes)
        title = contents.split("\n")[0]
        made[title] = store.add_appointment(
            Appointment(
                new_id(),
                contents,
                start,
                end,
                tz.key,
                location=location,
                participants=people,
                recurrence=rule,
                account_id=work.id,
                show_as=shown_as.get(title, show_as),
            )
        )
    # the last one free: a lighter grey box
    for day, hour, minutes, show_as in ((1, 16.5, 60, busy), (2, 9, 90, busy), (4, 12, 60, busy)):
        start, end = at(day, hour, minutes)
        store.add_appointment(
            Appointment(
                new_id(),
                "Doctor's appointment",
                start,
                end,
                tz.key,
                location="Praxis Dr. Hidden",
                private=True,
                account_id=private.id,
                show_as=show_as,
            )
        )
    start, end = at(3, 17, 60)
    store.add_appointment(
        Appointment(
            new_id(),
            "Gym",
            start,
            end,
            tz.key,
            private=True,
            account_id=private.id,
            show_as=free,
        )
    )
    meetings_from_the_service(services, at)
    start, end = at(2, 0, 24 * 60)
    store.add_appointment(Appointment(new_id(), "Trade fair", start, end, tz.key, all_day=True))
    # the same detail changed on both sides: the conflict log's example
    store.log_conflict(
        work.id,
        made["Demo for Globex"].id,
        "location",
        "Globex HQ, Berlin",
        "Globex HQ, Berlin – Room 4.12 (ask at the front desk)",
        "remote",
    )
    return made


def meetings_from_the_service(services: Services, at) -> None:
    """What only the calendar service makes, put on the Work calendar as another
    client would, so that the first sync brings it: an online meeting with its
    join link, an invitation not answered yet, a meeting the user declined."""
    tz = display_zone()
    work = memory.calendar_for(services, "ann@company.example", "ann@company.example")
    me = Participant("Ann Seller", "ann@company.example", InviteStatus.ACCEPTED)
    globex = (
        me,
        Participant("Greta Globex", "greta@globex.example", InviteStatus.ACCEPTED),
        Participant("Gus Globex", "gus@globex.example", InviteStatus.TENTATIVE),
    )
    start, end = at(2, 11.75, 45)
    work.add(
        subject="Weekly sync with Globex",
        body="Agenda: the Q1 numbers, the rollout plan",
        start=start,
        end=end,
        timezone=tz.key,
        location="Microsoft Teams Meeting",
        attendees=globex,
        join_url=TEAMS_LINK,
    )
    beth = Organizer("Beth Boss", "beth@company.example")
    staff = (
        Participant("Beth Boss", "beth@company.example", InviteStatus.ACCEPTED),
        Participant("Ann Seller", "ann@company.example", InviteStatus.NO_RESPONSE),
        Participant("Bob Buyer", "bob@company.example", InviteStatus.ACCEPTED),
        Participant("Cy Closer", "cy@company.example", InviteStatus.TENTATIVE),
    )
    start, end = at(4, 9, 60)
    work.add(
        subject="Quarterly forecast",
        body="Please bring your pipeline numbers.",
        start=start,
        end=end,
        timezone=tz.key,
        location="Board room",
        attendees=staff,
        organizer_is_self=False,
        organizer=beth,
    )
    start, end = at(3, 16, 60)
    work.add(
        subject="Partner webinar",
        start=start,
        end=end,
        timezone=tz.key,
        location="Online",
        attendees=(
            Participant("Mia Marketing", "mia@partner.example", InviteStatus.ACCEPTED),
            Participant("Ann Seller", "ann@company.example", InviteStatus.DECLINED),
        ),
        organizer_is_self=False,
        organizer=Organizer("Mia Marketing", "mia@partner.example"),
        my_response=MyResponse.DECLINED,
    )


def qt_application() -> QApplication:
    """The Qt application, named and styled as the app's."""
    qt_app = QApplication(sys.argv[:1])
    qt_app.setApplicationDisplayName("Calendar Sync")
    from calsync_desktop.gui import style

    style.install(qt_app)
    qt_app.setQuitOnLastWindowClosed(False)
    return qt_app


def start_demo(show_window: bool) -> tuple[QApplication, Services, dict, CalsyncApp]:
    """The Qt application, the demo Sales Calendar and the app on it, started."""
    qt_app = qt_application()
    home = Path(tempfile.mkdtemp(prefix="calsync-shots-"))
    services = Services.create(
        home=home, secrets=MemorySecrets(), env={"CALSYNC_TEST_CALENDAR": "1"}, clock=lambda: NOW
    )
    made = demo(services)
    app = CalsyncApp(services, watch_network=False)
    app.start(sync_at_start=True, show_window=show_window)
    return qt_app, services, made, app


def main(out_dir: str) -> int:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    qt_app, services, made, app = start_demo(show_window=True)
    app.window.resize(1240, 780)
    app.window.move(20, 60)
    wait_for(lambda: app.scheduler.runs_started and not app.scheduler.running)
    wait(300)

    meeting_pages(app, services, out)

    # the tray menu, on the real screen next to the tray host, with the window
    # behind it up to the screen's edge (no bare screen in the picture)
    screen = QGuiApplication.primaryScreen()
    app.window.move(screen.size().width() - app.window.frameGeometry().width(), 0)
    wait(300)
    geometry = app.tray.icon.geometry()
    anchor = geometry.bottomLeft() if geometry.isValid() else QPoint(screen.size().width() - 40, 24)
    app.tray.menu.popup(anchor + QPoint(-200, 4))
    wait(600)
    shot = screen.grabWindow(0)
    width = screen.size().width()
    shot.copy(width - 460, 0, 460, 300).save(str(out / "tray-menu.png"))
    print("saved tray-menu.png")
    app.tray.menu.hide()

    # the appointment dialog
    rows = app.model.rows()
    demo_row = next(r for r in rows if r.occurrence.contents.startswith("Demo for Globex"))
    dialog = app.editor.dialog_for(services.store.get_appointment(demo_row.appointment.id), False)
    dialog.show()
    save(dialog, out, "appointment-dialog.png")
    dialog.close()
    start = datetime.combine(monday_of(app) + timedelta(days=3), time(10), tzinfo=app.tz)
    end = start + timedelta(hours=1)
    draft = Appointment(new_id(), "", start.astimezone(UTC), end.astimezone(UTC), app.tz.key)
    dialog = app.editor.dialog_for(draft, True)
    dialog.title.setText("Follow-up call: Globex")
    dialog.show()
    dialog.account_choice.showPopup()
    wait(300)
    save_screen(dialog, out, "appointment-new.png")
    dialog.account_choice.hidePopup()
    dialog.close()

    # one occurrence of a series: "This appointment" or "All in the series"
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QMessageBox

    from calsync_desktop.gui.appointment_dialog import ask_scope
    from calsync_desktop.model import occurrences

    series = services.store.get_appointment(made["Team stand-up"].id)
    later = series.start + timedelta(days=2)
    (occurrence, *_) = occurrences(series, later, later + timedelta(days=1))
    dialog = app.editor.dialog_for(series, False, occurrence=occurrence)
    dialog.show()
    dialog.location.setText("Room 2")
    save(dialog, out, "appointment-occurrence.png")

    def shoot_question() -> None:
        box = next(
            w
            for w in QApplication.topLevelWidgets()
            if isinstance(w, QMessageBox) and w.isVisible()
        )
        save_screen(box, out, "appointment-this-or-all.png")
        box.reject()

    QTimer.singleShot(700, shoot_question)
    ask_scope(dialog, "change", [])
    dialog.close()

    # settings
    settings = app.open_settings()
    settings.resize(PREFERRED_SIZE)
    settings.tabs.setCurrentIndex(1)
    save(settings, out, "settings-integrations.png")
    settings.tabs.setCurrentIndex(2)
    save(settings, out, "settings-sync.png")
    settings.close()

    troubleshooting_pages(app, services, out)
    history_pages(app, services, out)

    # the wizard
    wizard = app.open_wizard()
    wizard.resize(700, 540)
    save(wizard, out, "wizard-1-choose.png")
    wizard.choose.choose("exchange")
    wizard.next()
    try:
        from tests.fakes.ews_server import EwsServer
    except ImportError:
        server = None
    else:
        server = EwsServer()
        server.start()
        page = wizard.details
        page.fields["username"].setText("ann")
        page.fields["password"].setText("not-the-password")
        page.fields["server_url"].setText(server.url)
        page.validate()
        for _ in range(100):
            wait(100)
            if page.task.finished:
                break
    save(wizard, out, "wizard-2-exchange-bad-credentials.png")
    wizard.details.fields["server_url"].setText("https://outlook.office365.com/EWS/Exchange.asmx")
    save(wizard, out, "wizard-3-exchange-office365.png")
    gmail = memory.calendar_for(services, "ann.seller@gmail.com", "ann.seller@gmail.com")
    for i in range(4):
        start = NOW.replace(minute=0) + timedelta(days=i + 1)
        gmail.add(subject=f"Call {i + 1}", start=start, end=start + timedelta(hours=1))
    wizard.restart()
    wizard.choose.choose("memory")
    wizard.next()
    wizard.sign_in.form.edits["email"].setText("ann.seller@gmail.com")
    wizard.sign_in.button.click()
    wait_for(wizard.sign_in.isComplete)
    save(wizard, out, "wizard-4-signed-in.png")
    wizard.next()
    wait_for(wizard.options.isComplete)
    wizard.options.private.setChecked(True)
    save(wizard, out, "wizard-5-options.png")
    wizard.next()
    wait_for(wizard.summary.isComplete)
    save(wizard, out, "wizard-6-summary.png")
    wizard.next()
    wait_for(lambda: wizard.first_sync.done)  # Finish works at once; the shot shows the end
    save(wizard, out, "wizard-7-first-sync.png")
    caldav_pages(wizard, out)
    wizard.close()
    if server is not None:
        server.stop()

    app.shutdown()
    services.store.close()
    qt_app.processEvents()
    from tests.gui.team_screenshots import team_pages

    try:
        team_pages(out)
    except RuntimeError as error:  # no PostgreSQL here (tests/pg.py says how to get it)
        print("team pictures not taken:", error)
    return 0


def meeting_pages(app: CalsyncApp, services: Services, out: Path) -> None:
    """The week as it opens and the month (Join on the meeting about to start),
    the working week close up (every show-as, Join, a declined meeting), today
    in the day view, the online meeting's dialog with Join, and someone else's
    meeting with its organiser and answer buttons."""
    window = app.window
    window.set_view("week")
    save(window, out, "week-view.png")
    # the month a little taller, so that the busy week's days list everything
    size = window.size()
    window.resize(size.width(), size.height() + 100)
    window.set_view("month")
    save(window, out, "month-view.png")
    window.resize(size)
    window.set_view("week")
    # the working week close up: Monday to Friday, from the top of the view to 18:00
    window.sidebar_action.setChecked(False)
    wait(250)
    grid = window.time_grid
    canvas = grid.canvas
    top = grid.mapTo(window, QPoint(0, 0)).y()
    right = canvas.mapTo(window, QPoint(int(canvas.gutter + 5 * canvas.column_width()), 0)).x()
    bottom = canvas.mapTo(window, QPoint(0, int(canvas.minute_y(18 * 60 + 10)))).y()
    window.grab().copy(0, top, right + 1, bottom - top).save(str(out / "week-show-as.png"))
    print("saved week-show-as.png")
    window.sidebar_action.setChecked(True)
    # today close up: a private appointment, grey with the eye, and Join on a box
    window.set_view("day")
    window.go_to(NOW.astimezone(app.tz).date())
    grid.scroll_to_working_hours()
    save(window, out, "day-view.png")
    window.set_view("week")

    rows = app.model.rows()

    def dialog_of(title: str):
        row = next(r for r in rows if r.occurrence.contents.startswith(title))
        return app.editor.dialog_for(services.store.get_appointment(row.appointment.id), False)

    dialog = dialog_of("Weekly sync with Globex")
    dialog.show()
    save(dialog, out, "appointment-join.png")
    dialog.close()
    dialog = dialog_of("Quarterly forecast")
    dialog.show()
    save(dialog, out, "appointment-meeting.png")
    dialog.close()


def troubleshooting_pages(app: CalsyncApp, services: Services, out: Path) -> None:
    """Troubleshooting's tabs, and an account whose sign-in expired."""
    # troubleshooting
    trouble = app.open_troubleshooting()
    trouble.resize(860, 620)
    wait_for(lambda: all(box.results and box.again.isEnabled() for box in trouble.account_checks))
    save(trouble, out, "troubleshooting-accounts.png")
    trouble.tabs.setCurrentIndex(1)
    save(trouble, out, "troubleshooting-problems.png")
    trouble.show_conflicts()
    save(trouble, out, "troubleshooting-conflicts.png")
    trouble.close()

    # an account whose sign-in expired: one problem, one action, wherever it shows
    from calsync_desktop.accounts.base import AccountState

    expired = next(a for a in services.store.list_accounts() if a.name == "Private calendar")
    expired.state = AccountState.NEEDS_SIGN_IN
    expired.last_error = (
        "Your sign-in for this calendar has expired or was changed, so syncing is paused. "
        "Nothing was deleted."
    )
    services.store.update_account(expired)
    app.refresh_status()
    wait(300)  # the closed dialog is gone before it opens again
    trouble = app.open_troubleshooting()
    trouble.resize(860, 620)
    wait_for(lambda: all(box.results and box.again.isEnabled() for box in trouble.account_checks))
    save(trouble, out, "troubleshooting-sign-in-again.png")
    trouble.close()
    app.show_window()
    save(app.window, out, "window-sign-in-again.png")
    expired.state = AccountState.OK
    expired.last_error = ""
    services.store.update_account(expired)
    app.refresh_status()


def history_pages(app: CalsyncApp, services: Services, out: Path) -> None:
    """Settings › History after a sync that changed and deleted appointments,
    the undo's preview, the history after the undo, and Troubleshooting's
    "Resync from scratch" question and result."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QMessageBox

    work = memory.calendar_for(services, "ann@company.example", "ann@company.example")
    by_subject = {e.subject.split("\n")[0]: e for e in work.events.values()}
    work.edit(by_subject["Pipeline review"].remote_id, location="Room 5")
    work.edit(by_subject["Quote follow-up"].remote_id, location="Video call")
    work.remove(by_subject["Lunch with Initech"].remote_id)
    runs = app.scheduler.runs_started
    app.sync_now()
    wait_for(lambda: app.scheduler.runs_started > runs and not app.scheduler.running)
    settings = app.open_settings()
    settings.resize(PREFERRED_SIZE)
    settings.tabs.setCurrentWidget(settings.history)
    page = settings.history
    page.refresh()
    page.table.selectRow(0)
    save(settings, out, "settings-history.png")

    # the preview opens at once, while the worker reads Work (busy once, so
    # that the picture catches it), then shows what goes back and asks
    work.fail_next("server_busy")
    page.undo_button.click()
    preview = page.preview
    save(preview, out, "settings-history-undo-looking.png")
    wait_for(lambda: preview.ready)
    save(preview, out, "settings-history-undo-preview.png")
    runs = app.scheduler.runs_started
    preview.undo.click()
    wait_for(lambda: app.scheduler.runs_started > runs and not app.scheduler.running)
    wait(300)
    save(settings, out, "settings-history-undone.png")
    settings.close()

    trouble = app.open_troubleshooting()
    trouble.resize(860, 620)
    wait_for(lambda: all(box.results and box.again.isEnabled() for box in trouble.account_checks))

    def shoot_question() -> None:
        box = next(
            w
            for w in QApplication.topLevelWidgets()
            if isinstance(w, QMessageBox) and w.isVisible()
        )
        save(box, out, "troubleshooting-resync-question.png")
        box.buttons()[0].click()

    QTimer.singleShot(700, shoot_question)
    runs = app.scheduler.runs_started
    trouble.account_checks[0].resync.click()
    wait_for(lambda: app.scheduler.runs_started > runs and not app.scheduler.running)
    wait_for(lambda: all(box.results and box.again.isEnabled() for box in trouble.account_checks))
    save(trouble, out, "troubleshooting-resynced.png")
    trouble.close()


def caldav_pages(wizard, out: Path) -> None:
    """The "Other (CalDAV)" page: the iCloud preset with its advice, then a wrong
    app password refused by a real Radicale (when the dev group has it)."""
    wizard.restart()
    wizard.resize(700, 540)
    wizard.choose.choose("caldav")
    wizard.next()
    page = wizard.details
    page.form.preset.setCurrentText("iCloud")
    page.fields["username"].setText("ann.seller@icloud.com")
    save(wizard, out, "wizard-8-caldav-icloud.png")
    try:
        from tests.fakes.caldav_servers import RadicaleServer
    except ImportError:
        return
    with RadicaleServer() as server:
        page.form.preset.setCurrentText("Another CalDAV server")
        page.fields["url"].setText(server.url)
        page.fields["username"].setText(server.owner)
        page.fields["password"].setText("not-the-app-password")
        page.set_ca_bundle(server.ca_bundle)  # which tries the sign-in
        wait_for(lambda: page.task is not None and page.task.finished, 60_000)
        save(wizard, out, "wizard-9-caldav-wrong-password.png")


def monday_of(app: CalsyncApp):
    return week_start(NOW.astimezone(app.tz).date())


def main_history(out_dir: str) -> int:
    """Only Troubleshooting and the history's pages (``--history``): these
    need no tray host and render on Qt's offscreen platform too."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    qt_app, services, _made, app = start_demo(show_window=False)
    wait_for(lambda: app.scheduler.runs_started and not app.scheduler.running)
    troubleshooting_pages(app, services, out)
    history_pages(app, services, out)
    app.shutdown()
    services.store.close()
    qt_app.processEvents()
    return 0


def main_meetings(out_dir: str) -> int:
    """Only the show-as, Join and meeting pictures (``--meetings``): these
    need no tray host and render on Qt's offscreen platform too."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    qt_app, services, _made, app = start_demo(show_window=True)
    app.window.resize(1240, 780)
    wait_for(lambda: app.scheduler.runs_started and not app.scheduler.running)
    wait(300)
    meeting_pages(app, services, out)
    app.shutdown()
    services.store.close()
    qt_app.processEvents()
    return 0


def main_team(out_dir: str) -> int:
    from tests.gui.team_screenshots import main_team as team

    return team(out_dir)


if __name__ == "__main__":
    modes = {"--history": main_history, "--meetings": main_meetings, "--team": main_team}
    args = [a for a in sys.argv[1:] if a not in modes]
    run = next((modes[a] for a in sys.argv[1:] if a in modes), main)
    sys.exit(run(args[0] if args else "docs"))
