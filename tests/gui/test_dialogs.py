"""Troubleshooting, settings, the appointment dialog, start at login, the entry point."""

from __future__ import annotations

import plistlib
import re
from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtCore import QUrl
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QLabel

from calsync_desktop.__main__ import wants_gui
from calsync_desktop.cli import main as calsync
from calsync_desktop.gui.appointment_dialog import (
    ALL_DAY_NOTE,
    AppointmentDialog,
    build_rule,
    parse_rule,
)
from calsync_desktop.gui.appointment_editor import AppointmentEditor
from calsync_desktop.gui.autostart import RUN_KEY, Autostart, desktop_exec
from calsync_desktop.gui.settings_dialog import SettingsDialog
from calsync_desktop.gui.troubleshooting import (
    GOOGLE_HELP_TITLE,
    TroubleshootingDialog,
    diagnostic_report,
)
from calsync_desktop.model import Appointment, InviteStatus, Participant, Recurrence, new_id
from calsync_desktop.store import SkippedEntry
from calsync_desktop.sync.runner import explain

from .conftest import BERLIN, add_memory_account

# --------------------------------------------------------------------------- troubleshooting


def texts(widget) -> str:
    return "\n".join(label.text() for label in widget.findChildren(QLabel))


def checks_of(qtbot, dialog, name):
    (box,) = [b for b in dialog.account_checks if b.account.name == name]
    qtbot.waitUntil(lambda: bool(box.results) and box.again.isEnabled(), timeout=30_000)
    return box


def _provider(calendar):
    from calsync_desktop.providers.base import Backoff
    from calsync_desktop.providers.memory import MemoryProvider

    return MemoryProvider(calendar, Backoff(sleep=lambda s: None))


def exchange_account(services, name, url, password):
    from calsync_desktop.accounts.base import Account

    account = Account(
        id=new_id(),
        kind="exchange",
        name=name,
        email="alice@example.com",
        settings={"server_url": url, "username": "alice", "timeout": 5},
    )
    services.store.add_account(account)
    services.secrets.set(account.id, "password", password)
    return account


@pytest.fixture(scope="module")
def ews():
    from tests.fakes.ews_server import EwsServer

    server = EwsServer()
    server.start()
    yield server
    server.stop()


def test_troubleshooting_shows_each_failure_kind_with_its_explanation(qtbot, services, ews):
    from calsync_desktop.providers.base import (
        MalformedResponse,
        NeedsSignIn,
        NotACalendarService,
        ServerError,
        Unreachable,
    )
    from calsync_desktop.sync.runner import SyncRunner

    memory = {}
    for name in ("Fine", "Expired", "Dropped", "Broken", "Garbled"):
        memory[name] = add_memory_account(services, f"{name.lower()}@example.com", name)
    runner = SyncRunner(services)
    for account, _ in memory.values():  # the sync was working before…
        runner.sync_account(account.id)
    # …but now it has stopped
    faults = {
        "Expired": "expired_token",
        "Dropped": "drop",
        "Broken": "server_error",
        "Garbled": "malformed",
    }
    for name, fault in faults.items():
        account, calendar = memory[name]
        calendar.fail_next(fault, 50)
        no_wait = SyncRunner(services, open_provider=lambda a, c=calendar: _provider(c))
        no_wait.sync_account(account.id)
    exchange_account(services, "Wrong password", ews.url, "wrong")
    import socket

    closed_socket = socket.socket()  # bound, not listening: connections are refused
    closed_socket.bind(("127.0.0.1", 0))
    closed = f"http://127.0.0.1:{closed_socket.getsockname()[1]}/EWS/Exchange.asmx"
    exchange_account(services, "Server down", closed, "secret")
    exchange_account(
        services, "Not EWS", ews.url.replace("/EWS/Exchange.asmx", "/nothing"), "secret"
    )

    dialog = TroubleshootingDialog(services, open_url=lambda url: None)
    qtbot.addWidget(dialog)
    dialog.show()
    assert "Everything looks fine." in checks_of(qtbot, dialog, "Fine").status.text()
    expected = {
        "Expired": explain(NeedsSignIn("x")).problem,
        "Dropped": explain(Unreachable("")).problem,
        "Broken": explain(ServerError("")).problem,
        "Garbled": explain(MalformedResponse("")).problem,
        # a saved account whose password was changed: "it just stopped" (article, problem 2)
        "Wrong password": explain(NeedsSignIn("x")).problem,
        "Server down": explain(Unreachable("")).problem,
        "Not EWS": explain(NotACalendarService("")).problem,
    }
    for name, problem in expected.items():
        box = checks_of(qtbot, dialog, name)
        shown = texts(box)
        assert problem in shown, (name, shown)
        assert box.status.text() == "1 problem found."  # one cause, one problem
        if name in ("Expired", "Wrong password", "Server down", "Not EWS"):
            assert "What to do:" in shown
    closed_socket.close()
    ews_errors = list(ews.validation_errors)
    ews.validation_errors.clear()
    assert not ews_errors


def test_common_problems_google_tip_skipped_items_and_log_folder(qtbot, services):
    account, _ = add_memory_account(services, name="Work")
    now = datetime(2026, 11, 23, 9, tzinfo=UTC)
    services.store.update_skipped(
        account.id,
        None,
        [
            SkippedEntry(
                account.id,
                "local",
                "a1",
                "Team offsite",
                "all-day appointments are not synced",
                now,
            ),
            SkippedEntry(account.id, "remote", "r1", "Old call", "older than 30 days", now),
            SkippedEntry(
                account.id, "local", "a2", "Pitch", "participant Bob has no email address", now
            ),
        ],
    )
    opened = []
    dialog = TroubleshootingDialog(services, open_url=opened.append, run_checks=False)
    qtbot.addWidget(dialog)
    problems = texts(dialog.tabs.widget(1))
    assert "Failed to validate access to the server with your credentials" in problems
    assert "now it has just stopped" in problems
    assert "reminders and notifications" in problems
    tip = dialog.findChild(QLabel, "google-tip")
    assert GOOGLE_HELP_TITLE in tip.text()
    tip.linkActivated.emit("https://support.google.com/calendar/answer/37242")
    table = dialog.skipped_table
    rows = [[table.item(r, c).text() for c in range(3)] for r in range(table.rowCount())]
    assert [
        "Team offsite",
        "Sales Calendar (not sent to Work)",
        "All-day appointments are not synced.",
    ] in rows
    assert ["Old call", "Work", "Older than 30 days."] in rows
    assert any("no email address" in r[2] for r in rows)
    dialog.open_log_folder()
    assert opened[-1] == QUrl.fromLocalFile(str(services.log_dir))


def test_conflict_log_restore_and_privacy(qtbot, services, clock):
    account, _ = add_memory_account(services, name="Work")
    start = clock() + timedelta(days=1)
    normal = services.store.add_appointment(
        Appointment(
            new_id(),
            "Pitch",
            start,
            start + timedelta(hours=1),
            "Europe/Berlin",
            location="Room A",
            account_id=account.id,
        )
    )
    secret = services.store.add_appointment(
        Appointment(
            new_id(),
            "Therapy",
            start,
            start + timedelta(hours=1),
            "Europe/Berlin",
            location="Dr. Who street",
            private=True,
            account_id=account.id,
        )
    )
    services.store.log_conflict(account.id, normal.id, "location", "Room A", "Room B", "remote")
    services.store.log_conflict(
        account.id, secret.id, "location", "Dr. Who street", "Hidden lane", "local"
    )
    dialog = TroubleshootingDialog(services, run_checks=False)
    qtbot.addWidget(dialog)
    dialog.resize(780, 540)
    dialog.show()
    dialog.show_conflicts()
    log = dialog.conflict_log
    listed = {
        log.list.topLevelItem(i).text(0): log.list.topLevelItem(i).text(1)
        for i in range(log.list.topLevelItemCount())
    }
    assert listed == {"Pitch": "Location", "Private appointment": "Location"}
    assert "Therapy" not in str(listed)

    def select(title):
        for i in range(log.list.topLevelItemCount()):
            if log.list.topLevelItem(i).text(0) == title:
                log.list.setCurrentItem(log.list.topLevelItem(i))

    select("Pitch")
    # the remote side lost: your version (Room A) is in use, Google's is offered
    assert log.yours.title.text() == "<b>Your version</b>"
    assert log.theirs.title.text() == "<b>The calendar's version</b>"  # a test calendar
    assert log.yours.value.text() == "Room A" and log.yours.in_use.isVisibleTo(log)
    assert log.theirs.value.text() == "Room B" and log.theirs.use.isVisibleTo(log)
    assert log.theirs.use.text() == "Use this one" and not log.yours.use.isVisibleTo(log)
    assert "The location changed both in the Sales Calendar and in Work" in log.explain.text()
    # the action and both values are on screen, not cut off at the default size
    for widget in (log.theirs.use, log.theirs.value, log.yours.value):
        top_left = widget.mapTo(dialog, widget.rect().topLeft())
        bottom_right = widget.mapTo(dialog, widget.rect().bottomRight())
        assert dialog.rect().contains(top_left) and dialog.rect().contains(bottom_right)
    conflict_id = next(c.id for c in services.store.conflicts() if c.appointment_id == normal.id)
    with qtbot.waitSignal(dialog.conflictRestored):
        log.theirs.use.click()
    assert services.store.get_appointment(normal.id).location == "Room B"
    assert log.current_id() == conflict_id  # still showing the same conflict
    assert log.theirs.in_use.isVisibleTo(log) and "you chose it" in log.theirs.in_use.text()
    assert not log.yours.use.isVisibleTo(log) or not log.yours.use.isEnabled()

    select("Private appointment")
    shown = " ".join(
        w.text() for w in (log.heading, log.explain, log.yours.value, log.theirs.value)
    )
    assert "Hidden" in log.yours.value.text()
    for secret_text in ("Therapy", "Dr. Who street", "Hidden lane"):
        assert secret_text not in shown


def test_the_conflict_log_names_the_service_and_shows_times_in_the_locale(qtbot, services):
    from calsync_desktop.accounts.base import Account

    account = Account(id=new_id(), kind="google", name="Work", email="ann@example.com")
    services.store.add_account(account)
    start = datetime(2026, 11, 24, 9, tzinfo=UTC)
    appt = services.store.add_appointment(
        Appointment(
            new_id(), "Pitch", start, start + timedelta(hours=1), "UTC", account_id=account.id
        )
    )
    kept = [start.isoformat(), (start + timedelta(hours=1)).isoformat()]
    lost = [(start + timedelta(hours=2)).isoformat(), (start + timedelta(hours=3)).isoformat()]
    services.store.log_conflict(account.id, appt.id, "time", kept, lost, "local")
    dialog = TroubleshootingDialog(services, run_checks=False)
    qtbot.addWidget(dialog)
    log = dialog.conflict_log
    assert log.theirs.title.text() == "<b>Google's version</b>"
    assert log.list.topLevelItem(0).text(1) == "Time"
    # the Sales Calendar lost: Google's (kept) is in use, yours can be chosen
    assert log.yours.use.isVisibleTo(log) and not log.theirs.use.isVisibleTo(log)
    local = (start + timedelta(hours=2)).astimezone()
    shown = log.yours.value.text()
    assert f"{local:%H:%M}" in shown and "2026-11-24T" not in shown  # not ISO


def test_an_empty_conflict_log_says_what_it_is_for(qtbot, services):
    dialog = TroubleshootingDialog(services, run_checks=False)
    qtbot.addWidget(dialog)
    assert dialog.conflict_log.pages.currentWidget() is dialog.conflict_log.empty
    assert "No conflicts" in dialog.conflict_log.empty.text()


def test_diagnostic_report_has_versions_kinds_counts_and_no_secrets_or_private_text(
    qtbot, services, clock
):
    account, _ = add_memory_account(services, name="Work")
    services.secrets.set(account.id, "password", "hunter2-very-secret")
    start = clock() + timedelta(days=1)
    private = services.store.add_appointment(
        Appointment(
            new_id(),
            "Divorce lawyer",
            start,
            start + timedelta(hours=1),
            "UTC",
            location="Hidden lane",
            private=True,
            account_id=account.id,
        )
    )
    services.store.log_conflict(
        account.id, private.id, "location", "Hidden lane", "Secret alley", "local"
    )
    account.last_error = "The server cannot be reached."
    from calsync_desktop.accounts.base import AccountState

    account.state = AccountState.ERROR
    services.store.update_account(account)
    (services.log_dir / "calsync-desktop.log").write_text(
        "2026-11-23 09:00:00 WARNING calsync_desktop.sync.runner: "
        "Sync of Work failed: The server cannot be reached.\n"
        "2026-11-23 09:00:01 INFO calsync_desktop.sync.runner: Synced Work: nothing to do\n"
    )
    report = diagnostic_report(services)
    assert report.startswith("Calendar Sync diagnostic report\n")
    assert "calsync-desktop" in report and "PySide6-Essentials" in report and "Python " in report
    assert "  1. Local test calendar\n" in report
    assert re.search(r"^     state +error$", report, re.M)
    assert re.search(r"^  appointments +1$", report, re.M)
    assert re.search(r"^  conflicts logged +1 \(0 restored\)$", report, re.M)
    # tidy: every line of a section is indented alike, values line up
    versions = report.split("Versions\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert len({len(v) - len(v.lstrip()) for v in versions}) == 1
    starts = {re.search(r"\S+(?:-\S+)* {2,}(\S)", v).start(1) for v in versions}
    assert len(starts) == 1
    assert "Sync of Work failed" in report and "nothing to do" not in report
    for secret in ("hunter2-very-secret", "Divorce lawyer", "Hidden lane", "Secret alley"):
        assert secret not in report
    dialog = TroubleshootingDialog(services, run_checks=False)
    qtbot.addWidget(dialog)
    copied = dialog.copy_report()
    assert QGuiApplication.clipboard().text() == copied
    assert "hunter2" not in copied


# --------------------------------------------------------------------------- settings


@pytest.fixture
def autostart(tmp_path):
    return Autostart(
        ["/opt/calsync/calsync-desktop", "--home", "/home/me/My Calendar"],
        platform="linux",
        env={"XDG_CONFIG_HOME": str(tmp_path / "xdg")},
    )


def test_the_command_line_takes_the_sync_intervals_settings_can_show(services, autostart, qtbot):
    dialog = SettingsDialog(services, autostart)
    qtbot.addWidget(dialog)
    low, high = dialog.interval.minimum(), dialog.interval.maximum()
    home = str(services.data_dir.parent)
    for minutes, code in [(low - 1, 2), (low, 0), (high + 1, 2), (high, 0)]:
        argv = ["--home", home, "settings", "sync.interval_minutes", str(minutes)]
        assert calsync(argv, services=services) == code, minutes
    again = SettingsDialog(services, autostart)
    qtbot.addWidget(again)
    assert again.interval.value() == high == services.store.get_setting("sync.interval_minutes")


def test_settings_save_profile_sync_options_and_advanced(qtbot, services, autostart, tmp_path):
    dialog = SettingsDialog(services, autostart)
    qtbot.addWidget(dialog)
    assert [dialog.tabs.tabText(i) for i in range(dialog.tabs.count())] == [
        "My profile",
        "Integrations",
        "Sync",
        "History",
        "Calendar",
        "Sales Calendar",
        "Advanced",
    ]
    dialog.name.setText("Ann Seller")
    dialog.email.setText("ann@company.example")
    dialog.interval.setValue(15)
    dialog.start_at_login.setChecked(True)
    dialog.notifications.setChecked(False)
    dialog.send_invitations.setChecked(True)
    dialog.client_secrets.edit.setText("/etc/calsync/client_secret.json")
    dialog.ca_bundle.edit.setText("/etc/ssl/company-ca.pem")
    with qtbot.waitSignal(dialog.intervalChanged) as blocker:
        dialog.save()
    assert blocker.args == [15]
    get = services.store.get_setting
    assert get("profile.name") == "Ann Seller" and get("profile.email") == "ann@company.example"
    assert get("sync.interval_minutes") == 15
    assert get("app.notifications") is False and get("sync.send_invitations") is True
    assert get("app.start_at_login") is True
    assert get("advanced.client_secrets_file") == "/etc/calsync/client_secret.json"
    assert get("advanced.ca_bundle") == "/etc/ssl/company-ca.pem"
    entry = (tmp_path / "xdg" / "autostart" / "calsync-desktop.desktop").read_text()
    assert 'Exec=/opt/calsync/calsync-desktop --home "/home/me/My Calendar"' in entry
    again = SettingsDialog(services, autostart)
    qtbot.addWidget(again)
    assert again.start_at_login.isChecked()
    again.start_at_login.setChecked(False)
    again.save()
    assert not autostart.is_enabled()


def test_integrations_list_sync_now_edit_and_remove(qtbot, services, clock):
    work, _calendar = add_memory_account(services, "work@example.com", "Work")
    home, _ = add_memory_account(services, "home@example.com", "Home")
    start = clock() + timedelta(days=1)
    appt = services.store.add_appointment(
        Appointment(
            new_id(), "Linked", start, start + timedelta(hours=1), "UTC", account_id=work.id
        )
    )
    from calsync_desktop.accounts.base import AccountState

    home.state = AccountState.NEEDS_SIGN_IN
    services.store.update_account(home)
    answers = []
    dialog = SettingsDialog(
        services,
        Autostart(["x"], platform="linux", env={"XDG_CONFIG_HOME": "/nonexistent"}),
        ask_keep=lambda parent, account: answers.pop(0),
    )
    qtbot.addWidget(dialog)
    table = dialog.accounts
    rows = {table.item(r, 0).text(): table.item(r, 2).text() for r in range(table.rowCount())}
    assert rows == {
        "Home (home@example.com)": "Sign in again",
        "Work (work@example.com)": "Working",
    }
    dialog.select_account(work.id)
    with qtbot.waitSignal(dialog.syncNowRequested) as blocker:
        dialog.sync_button.click()
    assert blocker.args == [work.id]
    with qtbot.waitSignal(dialog.editAccountRequested) as blocker:
        dialog.edit_button.click()
    assert blocker.args[0].id == work.id
    with qtbot.waitSignal(dialog.addAccountRequested):
        dialog.add_button.click()
    answers.append(None)  # cancel
    dialog.remove_button.click()
    assert len(services.store.list_accounts()) == 2
    answers.append(True)  # keep the appointments
    with qtbot.waitSignal(dialog.accountsChanged):
        dialog.remove_button.click()
    assert [a.name for a in services.store.list_accounts()] == ["Home"]
    assert services.store.get_appointment(appt.id) is not None


# --------------------------------------------------------------------------- appointment dialog


def test_appointment_dialog_edits_every_field(qtbot, services):
    start = datetime(2026, 3, 27, 9, tzinfo=BERLIN)
    appt = services.store.add_appointment(
        Appointment(
            new_id(),
            "Pitch\nbring slides",
            start,
            start + timedelta(hours=1),
            "Europe/Berlin",
            location="Room 1",
            participants=(
                Participant("Bob", "bob@example.com", InviteStatus.ACCEPTED),
                Participant("Nameless"),
            ),
        )
    )
    dialog = AppointmentDialog(appt, is_new=False)
    qtbot.addWidget(dialog)
    assert dialog.participants.item(0, 2).text() == "Accepted"
    assert not dialog.participants.item(0, 2).icon().isNull()
    assert not dialog.all_day_note.isVisible()
    dialog.show()
    dialog.all_day.setChecked(True)
    assert dialog.all_day_note.isVisible() and dialog.all_day_note.text() == ALL_DAY_NOTE
    dialog.all_day.setChecked(False)
    dialog.location.setText("Room 2")
    dialog.private.setChecked(True)
    dialog.recurrence.frequency.setCurrentIndex(2)  # weekly
    dialog.recurrence.weekdays[0].setChecked(True)
    dialog.recurrence.weekdays[4].setChecked(True)
    dialog.recurrence.after.setChecked(True)
    dialog.recurrence.count.setValue(6)
    dialog.recurrence.interval.setValue(2)
    edited = dialog.appointment()
    assert edited.location == "Room 2" and edited.private
    assert edited.recurrence.rrule == "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,FR;COUNT=6"
    assert edited.participants[0].status is InviteStatus.ACCEPTED
    assert edited.start == start and edited.contents == "Pitch\nbring slides"


def test_recurrence_rules_round_trip():
    until = datetime(2026, 12, 31, 22, 59, 59, tzinfo=UTC)
    rule = build_rule("MONTHLY", 1, [], None, until)
    assert rule == "FREQ=MONTHLY;UNTIL=20261231T225959Z"
    assert parse_rule(rule) == {"FREQ": "MONTHLY", "UNTIL": "20261231T225959Z"}
    assert parse_rule("FREQ=MONTHLY;BYDAY=2TU") is None  # kept as a custom rule


def test_editor_creates_at_the_slot_and_opens_private_only_on_purpose(qtbot, services):
    changed = []
    accepted = []

    def run_dialog(dialog):
        accepted.append(dialog)
        dialog.title.setText("New pitch")
        return True

    confirm = []
    editor = AppointmentEditor(
        services.store,
        BERLIN,
        lambda: changed.append(1),
        open_dialog=run_dialog,
        confirm_private=lambda parent: confirm.pop(0),
    )
    created = editor.create(datetime(2026, 10, 25, 14, tzinfo=BERLIN))
    assert created.start == datetime(2026, 10, 25, 13, tzinfo=UTC)
    assert created.timezone == "Europe/Berlin" and changed == [1]
    private = services.store.add_appointment(created.with_changes(private=True, id=new_id()))
    from calsync_desktop.model import Occurrence

    occ = Occurrence(private, private.start, private.end, private.contents, private.location)
    confirm.append(False)
    editor.open(occ)
    assert len(accepted) == 1  # not opened
    confirm.append(True)
    editor.open(occ)
    assert len(accepted) == 2 and changed == [1, 1]


def test_recurring_series_note(qtbot):
    start = datetime(2026, 3, 27, 9, tzinfo=BERLIN)
    appt = Appointment(
        new_id(),
        "Standup",
        start,
        start + timedelta(minutes=15),
        "Europe/Berlin",
        recurrence=Recurrence("FREQ=DAILY;COUNT=5"),
    )
    dialog = AppointmentDialog(appt, is_new=False)
    qtbot.addWidget(dialog)
    assert not dialog.series_note.isHidden()
    assert dialog.recurrence.frequency.currentData() == "DAILY"
    assert dialog.recurrence.count.value() == 5


# --------------------------------------------------------------------------- start at login, entry


def test_autostart_formats_for_each_platform(tmp_path):
    command = ["C:\\Program Files\\calsync\\calsync-desktop.exe", "--home", "D:\\cal"]

    class FakeRegistry:
        def __init__(self):
            self.values = {}

        def get(self, key, name):
            return self.values.get((key, name))

        def set(self, key, name, value):
            self.values[(key, name)] = value

        def delete(self, key, name):
            self.values.pop((key, name), None)

    registry = FakeRegistry()
    windows = Autostart(command, platform="win32", registry=registry)
    windows.set_enabled(True)
    assert registry.values[(RUN_KEY, "calsync-desktop")] == (
        '"C:\\Program Files\\calsync\\calsync-desktop.exe" --home D:\\cal'
    )
    assert windows.is_enabled()
    windows.set_enabled(False)
    assert not windows.is_enabled()

    mac = Autostart(
        ["/Applications/calsync.app/Contents/MacOS/calsync-desktop"],
        platform="darwin",
        user_home=tmp_path,
    )
    mac.set_enabled(True)
    plist = plistlib.loads(mac.launch_agent.read_bytes())
    assert plist["RunAtLoad"] is True and plist["ProgramArguments"][0].endswith("calsync-desktop")
    assert mac.launch_agent.parent == tmp_path / "Library" / "LaunchAgents"
    mac.set_enabled(False)
    assert not mac.is_enabled()

    linux = Autostart(["calsync-desktop"], platform="linux", env={}, user_home=tmp_path)
    assert linux.desktop_file == tmp_path / ".config" / "autostart" / "calsync-desktop.desktop"
    assert desktop_exec(["a b", 'say "hi"', "100%"]) == '"a b" "say \\"hi\\"" 100%%'


def test_entry_point_sends_commands_to_the_cli():
    assert wants_gui([])
    assert wants_gui(["--home", "/tmp/x"])
    assert wants_gui(["--home=/tmp/x", "--show"])
    assert not wants_gui(["sync"])
    assert not wants_gui(["--home", "/tmp/x", "status"])
    assert not wants_gui(["--help-me"])


def _editor_with(services, answers):
    """An editor whose dialog records what it offered and accepts."""
    seen = []

    def run_dialog(dialog):
        choice = dialog.account_choice
        seen.append(
            {
                "choices": None
                if choice is None
                else [choice.itemData(i) for i in range(choice.count())],
                "current": None if choice is None else choice.currentData(),
                "row": dialog.account_row,
                "shown": ""
                if dialog.account_row is None
                else "\n".join(
                    label.text()
                    for label in [dialog.account_row, *dialog.account_row.findChildren(QLabel)]
                    if isinstance(label, QLabel)
                ),
            }
        )
        dialog.title.setText(dialog.title.text() or "New pitch")
        for step in answers:
            step(dialog)
        return True

    editor = AppointmentEditor(services.store, BERLIN, lambda: None, open_dialog=run_dialog)
    return editor, seen


def test_with_one_account_a_new_appointment_is_assigned_to_it_without_asking(qtbot, services):
    account, _calendar = add_memory_account(services)
    editor, seen = _editor_with(services, [])
    created = editor.create(datetime(2026, 4, 2, 10, tzinfo=BERLIN))
    assert seen == [{"choices": None, "current": None, "row": None, "shown": ""}]
    assert created.account_id == account.id


def test_without_accounts_a_new_appointment_stays_unassigned(qtbot, services):
    editor, seen = _editor_with(services, [])
    created = editor.create(datetime(2026, 4, 2, 10, tzinfo=BERLIN))
    assert seen[0]["row"] is None and created.account_id is None


def test_with_several_accounts_the_dialog_offers_calendar_account(qtbot, services):
    from calsync_desktop.gui.appointment_dialog import DEFAULT_ACCOUNT_SETTING

    work, _ = add_memory_account(services, "work@example.com", name="Work")
    home, _ = add_memory_account(services, "home@example.com", name="Home")
    listed = [a.id for a in services.store.list_accounts()]

    # no default set: the first account
    editor, seen = _editor_with(services, [])
    created = editor.create(datetime(2026, 4, 2, 10, tzinfo=BERLIN))
    assert seen[-1]["choices"] == listed and seen[-1]["current"] == listed[0]
    assert created.account_id == listed[0]

    # the default account setting wins; the user can still pick another
    services.store.set_setting(DEFAULT_ACCOUNT_SETTING, work.id)
    created = editor.create(datetime(2026, 4, 2, 11, tzinfo=BERLIN))
    assert seen[-1]["current"] == work.id and created.account_id == work.id

    def pick_home(dialog):
        dialog.account_choice.setCurrentIndex(dialog.account_choice.findData(home.id))

    picker, seen = _editor_with(services, [pick_home])
    created = picker.create(datetime(2026, 4, 2, 12, tzinfo=BERLIN))
    assert seen[-1]["current"] == work.id and created.account_id == home.id

    # a default that names a removed account falls back to the first
    services.store.set_setting(DEFAULT_ACCOUNT_SETTING, "gone")
    created = editor.create(datetime(2026, 4, 2, 13, tzinfo=BERLIN))
    assert created.account_id == listed[0]


def test_an_appointment_keeps_the_account_it_belongs_to(qtbot, services):
    from calsync_desktop.model import Occurrence

    work, _ = add_memory_account(services, "work@example.com", name="Work")
    add_memory_account(services, "home@example.com", name="Home")
    start = datetime(2026, 4, 2, 10, tzinfo=BERLIN)
    appt = services.store.add_appointment(
        Appointment(
            new_id(),
            "Pitch",
            start,
            start + timedelta(hours=1),
            "Europe/Berlin",
            account_id=work.id,
        )
    )
    editor, seen = _editor_with(services, [lambda d: d.location.setText("Room 9")])
    editor.open(Occurrence(appt, appt.start, appt.end, appt.contents, appt.location))
    # shown, not offered: the sync keeps an appointment with its account
    assert seen[-1]["choices"] is None and seen[-1]["row"] is not None
    assert seen[-1]["shown"] == "Work (work@example.com)"
    saved = services.store.get_appointment(appt.id)
    assert saved.location == "Room 9" and saved.account_id == work.id


def test_settings_choose_where_new_appointments_go(qtbot, services, autostart):
    from calsync_desktop.gui.appointment_dialog import DEFAULT_ACCOUNT_SETTING

    add_memory_account(services, "work@example.com", name="Work")
    dialog = SettingsDialog(services, autostart)
    qtbot.addWidget(dialog)
    assert dialog.default_account_row.isHidden()  # one account: nothing to choose
    home, _ = add_memory_account(services, "home@example.com", name="Home")
    dialog.refresh_accounts()
    assert not dialog.default_account_row.isHidden()
    dialog.default_account.setCurrentIndex(dialog.default_account.findData(home.id))
    dialog.save()
    assert services.store.get_setting(DEFAULT_ACCOUNT_SETTING) == home.id
    editor, _seen = _editor_with(services, [])
    assert editor.create(datetime(2026, 4, 2, 10, tzinfo=BERLIN)).account_id == home.id


def test_troubleshooting_explains_a_failed_first_sync(qtbot, services):
    from calsync_desktop.sync.runner import SyncRunner

    account, calendar = add_memory_account(services, name="Work")
    calendar.fail_next("drop")
    SyncRunner(services).sync_account(account.id)
    assert services.store.get_account(account.id).last_sync is None
    dialog = TroubleshootingDialog(services)
    qtbot.addWidget(dialog)
    box = checks_of(qtbot, dialog, "Work")
    shown = texts(box)
    assert "The first sync failed: The server cannot be reached." in shown
    assert "What to do: Check your network connection" in shown
    assert "not synced yet" not in shown


def _open_cell_editor(table, kind):
    """The editor open in the table now: a closed editor lingers as a hidden
    child until Qt deletes it later, so findChild alone may return that one."""
    editors = [e for e in table.findChildren(kind) if e.isVisible()]
    assert len(editors) == 1
    return editors[0]


def test_an_account_can_be_named_and_its_address_is_shown_once(qtbot, services, autostart):
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QLineEdit

    work, _ = add_memory_account(services, "ann.longname@company.example")
    dialog = SettingsDialog(services, autostart)
    qtbot.addWidget(dialog)
    dialog.resize(760, 480)
    dialog.show()
    dialog.tabs.setCurrentIndex(1)
    table = dialog.accounts
    headers = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    assert headers == ["Account", "Kind", "State", "Last sync"]  # no second Email column
    assert table.item(0, 0).text() == "ann.longname@company.example"
    assert not table.wordWrap()
    # the address is on one line and not cut off
    width = table.fontMetrics().horizontalAdvance(table.item(0, 0).text())
    assert table.columnWidth(0) > width
    # name it "Work" the way people do: select, F2, type, Enter
    changed = []
    dialog.accountsChanged.connect(lambda: changed.append(1))
    table.setFocus()
    table.setCurrentCell(0, 0)
    qtbot.keyClick(table, Qt.Key.Key_F2)
    editor = _open_cell_editor(table, QLineEdit)
    assert editor.text() == ""  # an unnamed account: empty name
    editor.setText("Work")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: services.store.get_account(work.id).name == "Work")
    assert table.item(0, 0).text() == "Work (ann.longname@company.example)"
    assert changed == [1]
    # the Rename… button edits the same cell; an empty name means the address again
    dialog.rename_button.click()
    editor = _open_cell_editor(table, QLineEdit)
    assert editor.text() == "Work"
    editor.setText("  ")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(
        lambda: services.store.get_account(work.id).name == "ann.longname@company.example"
    )


def test_the_profile_email_warns_in_amber_when_no_account_uses_it(qtbot, services, autostart):
    add_memory_account(services, "ann@company.example", "Work")
    dialog = SettingsDialog(services, autostart)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.email.setText("ann@company.example")
    assert not dialog.email_warning.isVisibleTo(dialog)
    dialog.email.setText("ann@gmail.com")
    assert dialog.email_warning.isVisibleTo(dialog)
    assert "Work (ann@company.example)" in dialog.email_warning.text()
    assert "#9c6500" in dialog.email_warning.styleSheet()  # amber, not green
