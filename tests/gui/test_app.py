"""The tray app end to end on the memory account kind and a real SQLite store."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from PySide6.QtWidgets import QApplication

from calsync_desktop.gui.launch import SingleInstance, instance_key
from calsync_desktop.gui.tray import MENU_TEXTS
from calsync_desktop.gui.worker import SyncScheduler
from calsync_desktop.sync.engine import Decision

from .conftest import add_memory_account, when_box_shows


def remote_events(calendar, count: int, start: datetime, private: bool = False) -> list:
    return [
        calendar.add(
            subject=f"Meeting {i}",
            start=start + timedelta(hours=i),
            end=start + timedelta(hours=i, minutes=30),
            timezone="Europe/Berlin",
            private=private,
        )
        for i in range(count)
    ]


def wait_for_run(qtbot, app, timeout=20_000):
    with qtbot.waitSignal(app.scheduler.syncFinished, timeout=timeout) as blocker:
        pass
    return blocker.args[0]


def test_sync_now_runs_off_the_gui_thread_and_progress_arrives(qtbot, make_app, services, clock):
    _account, calendar = add_memory_account(services)
    remote_events(calendar, 30, clock() + timedelta(days=1))
    app = make_app()
    app.start(sync_at_start=False)
    progress = []
    app.scheduler.progress.connect(lambda d, t, m: progress.append((d, t, m)))
    with qtbot.waitSignal(app.scheduler.syncFinished, timeout=20_000) as blocker:
        app.tray.actions["Sync now"].trigger()
        assert app.scheduler.running
        assert app.window.progress.isVisible() or app.window.progress.isVisibleTo(app.window)
    summary = blocker.args[0]
    assert summary.thread_name != threading.current_thread().name
    assert summary.outcomes and summary.outcomes[0].state == "ok"
    assert progress and progress[-1][0] == progress[-1][1]
    assert services.store.count_appointments() == 30
    assert not app.window.progress.isVisibleTo(app.window)
    assert app.tray.status.state == "idle"
    assert app.tray.status.tooltip.startswith("Last sync ")
    assert app.window.last_sync_label.text().startswith("Last sync ")
    # the window's model shows what the worker wrote
    app.window.go_to((clock() + timedelta(days=1)).date())
    assert any(r.occurrence.contents == "Meeting 0" for r in app.model.rows())


def test_sync_now_during_a_sync_queues_exactly_one_more_run(qtbot, make_app, services):
    add_memory_account(services)
    release = threading.Event()
    runs = []

    def slow_runner(thread_services, progress=None, confirm=None):
        from calsync_desktop.sync.runner import SyncRunner

        runner = SyncRunner(thread_services, progress=progress, confirm=confirm)
        real = runner.sync_account

        def sync_account(account_id, trigger="sync now"):
            runs.append(threading.current_thread().name)
            release.wait(10)
            return real(account_id, trigger)

        runner.sync_account = sync_account
        return runner

    app = make_app(make_runner=slow_runner)
    app.start(sync_at_start=False)
    finished = []
    app.scheduler.syncFinished.connect(finished.append)
    app.sync_now()
    qtbot.waitUntil(lambda: len(runs) == 1)
    for _ in range(3):
        app.sync_now()
    assert app.scheduler.pending is not None
    release.set()
    qtbot.waitUntil(lambda: len(finished) == 2, timeout=10_000)
    qtbot.wait(200)
    assert len(runs) == 2 and len(finished) == 2
    assert app.scheduler.runs_started == 2
    assert not app.scheduler.running


def test_a_local_edit_is_synced_shortly_after(qtbot, make_app, services, clock):
    from calsync_desktop.model import Appointment, new_id

    _account, calendar = add_memory_account(services)
    app = make_app(edit_delay_ms=50)
    app.start(sync_at_start=False)
    start = clock() + timedelta(days=2)
    services.store.add_appointment(
        Appointment(new_id(), "Call the client", start, start + timedelta(hours=1), "Europe/Berlin")
    )
    with qtbot.waitSignal(app.scheduler.syncFinished, timeout=10_000):
        app.local_edit()
    assert [e.subject for e in calendar.events.values()] == ["Call the client"]


def test_mass_deletion_guard_asks_in_the_gui_thread_and_stop_deletes_nothing(
    qtbot, make_app, services, clock, answers
):
    _account, calendar = add_memory_account(services)
    events = remote_events(calendar, 20, clock() + timedelta(days=1))
    app = make_app()
    app.start(sync_at_start=False)
    app.sync_now()
    wait_for_run(qtbot, app)
    assert services.store.count_appointments() == 20
    for event in events:
        calendar.remove(event.remote_id)
    app.sync_now()
    wait_for_run(qtbot, app)
    assert len(answers.asked) == 1
    assert answers.threads == [threading.current_thread().name]
    assert services.store.count_appointments() == 20  # nothing deleted
    (titles,) = [
        n for t, n in app.tray.notifications if t == "Calendar sync needs your decision"
    ] or [None]
    assert titles is None or "Meeting" not in titles  # notifications never name items
    answers.decision = Decision.APPLY
    app.sync_now()
    wait_for_run(qtbot, app)
    assert services.store.count_appointments() == 0


def test_expired_sign_in_pauses_the_account_notifies_and_shows_attention(
    qtbot, make_app, services, clock
):
    _account, calendar = add_memory_account(services)
    app = make_app()
    app.start(sync_at_start=False)
    calendar.fail_next("expired_token")
    app.sync_now()
    summary = wait_for_run(qtbot, app)
    assert summary.outcomes[0].state == "needs_sign_in"
    qtbot.waitUntil(lambda: app.tray.status.state == "attention")
    assert "again to resume syncing" in app.tray.status.tooltip
    assert any("Sign in again" in title for title, _ in app.tray.notifications)
    # the account stays paused: the next run leaves it alone, nothing is deleted
    app.sync_now()
    summary = wait_for_run(qtbot, app)
    assert summary.outcomes == []


def test_repeated_failures_notify_once(qtbot, make_app, services):
    _account, calendar = add_memory_account(services)
    app = make_app()
    app.start(sync_at_start=False)
    calendar.fail_next("drop", 4)
    for _ in range(4):
        app.sync_now()
        wait_for_run(qtbot, app)
    keeps = [n for n in app.tray.notifications if n[0] == "me@example.com keeps failing to sync"]
    assert len(keeps) == 1
    assert app.tray.status.state == "error"


def test_notifications_can_be_turned_off(qtbot, make_app, services):
    _account, calendar = add_memory_account(services)
    services.store.set_setting("app.notifications", False)
    app = make_app()
    app.start(sync_at_start=False)
    calendar.fail_next("expired_token")
    app.sync_now()
    wait_for_run(qtbot, app)
    assert app.tray.notifications == []


def test_tray_menu_is_exactly_as_specified_and_its_actions_do_what_they_say(
    qtbot, make_app, services
):
    add_memory_account(services)
    app = make_app()
    app.start(sync_at_start=False)
    assert app.tray.menu_texts() == list(MENU_TEXTS)

    app.tray.actions["Open Sales Calendar"].trigger()
    assert app.window.isVisible()
    app.window.close()  # closing hides to the tray
    assert not app.window.isVisible()
    app.tray._activated(app.tray.icon.ActivationReason.Trigger)  # left click
    assert app.window.isVisible()

    with qtbot.waitSignal(app.scheduler.syncFinished, timeout=10_000):
        app.tray.actions["Sync now"].trigger()

    app.tray.actions["Pause sync"].trigger()
    assert services.store.get_setting("sync.paused") is True
    assert app.tray.menu_texts()[2] == "Resume"
    assert app.tray.status.state == "paused"
    assert not app.tray.actions["Sync now"].isEnabled()
    assert not app.scheduler.request("interval")
    with qtbot.waitSignal(app.scheduler.syncFinished, timeout=10_000):
        app.tray.actions["Pause sync"].trigger()  # now reads "Resume"
    assert services.store.get_setting("sync.paused") is False
    assert app.tray.menu_texts()[2] == "Pause sync"

    app.tray.actions["Add calendar account…"].trigger()
    assert app.dialogs["wizard"].isVisible()
    app.tray.actions["Settings…"].trigger()
    assert app.dialogs["settings"].isVisible()
    app.tray.actions["Troubleshooting…"].trigger()
    assert app.dialogs["troubleshooting"].isVisible()

    quit_calls = []
    QApplication.instance().aboutToQuit.connect(lambda: quit_calls.append(1))
    app.tray.actions["Quit"].trigger()
    assert not app.scheduler.thread.isRunning()
    assert not app.tray.icon.isVisible()
    assert not app.window.isVisible()


def test_first_launch_without_accounts_opens_the_wizard(qtbot, make_app):
    app = make_app()
    app.start(sync_at_start=False)
    qtbot.waitUntil(lambda: "wizard" in app.dialogs)
    assert app.tray.status.state == "attention"


def test_a_second_launch_brings_the_window_forward(qtbot, tmp_path):
    key = instance_key(tmp_path) + "-test"
    first = SingleInstance(key)
    assert first.listen()
    second = SingleInstance(key)
    with qtbot.waitSignal(first.showRequested, timeout=5000):
        assert second.ask_running_instance()
    first.close()
    assert not SingleInstance(key).ask_running_instance(100)


def test_wake_from_sleep_triggers_a_sync(qtbot, make_app, services, monkeypatch):
    import time as time_module

    add_memory_account(services)
    app = make_app()
    app.start(sync_at_start=False)
    wall, mono = time_module.time(), time_module.monotonic()
    app.scheduler._last_probe = (wall - 3600, mono - 30)  # an hour passed, 30 s awake
    with qtbot.waitSignal(app.scheduler.syncFinished, timeout=10_000) as blocker:
        app.scheduler._check_wake()
    assert blocker.args[0].request.reason == "wake"


def test_interval_timer_uses_the_setting(make_app, services):
    services.store.set_setting("sync.interval_minutes", 15)
    app = make_app()
    assert app.scheduler.interval.interval() == 15 * 60_000
    app.set_interval(7)
    assert app.scheduler.interval.interval() == 7 * 60_000
    assert services.store.get_setting("sync.interval_minutes") == 7
    assert isinstance(app.scheduler, SyncScheduler)


def test_the_guard_dialog_lists_titles_but_never_private_contents_and_restores(
    qtbot, make_app, services, clock
):

    _account, calendar = add_memory_account(services)
    events = remote_events(calendar, 12, clock() + timedelta(days=1))
    events += remote_events(calendar, 1, clock() + timedelta(days=3), private=True)
    calendar.edit(events[-1].remote_id, subject="Secret therapy")
    app = make_app(decide=None)  # the real dialog
    app.start(sync_at_start=False)
    app.sync_now()
    wait_for_run(qtbot, app)
    for event in events:
        calendar.remove(event.remote_id)
    seen = {}

    def answer(box):
        seen["text"] = box.text() + box.informativeText()
        seen["details"] = box.detailedText()
        seen["tray"] = app.tray.status.state
        (restore,) = [b for b in box.buttons() if b.text() == "Restore them"]
        restore.click()

    when_box_shows(lambda: app.dialogs.get("guard"), answer)
    app.sync_now()
    wait_for_run(qtbot, app)
    assert "stopped before deleting anything" in seen["text"]
    assert "From the Sales Calendar: Meeting 0" in seen["details"]
    assert "Private appointment" in seen["details"]
    assert "Secret therapy" not in seen["details"]
    assert seen["tray"] == "attention"
    # restored: the appointments are back on the remote side, none deleted locally
    assert services.store.count_appointments() == 13
    assert len(calendar.events) == 13


def test_resolved_conflicts_are_notified_without_contents(qtbot, make_app, services, clock):
    _account, calendar = add_memory_account(services)
    (event,) = remote_events(calendar, 1, clock() + timedelta(days=1))
    app = make_app()
    app.start(sync_at_start=False)
    app.sync_now()
    wait_for_run(qtbot, app)
    (local,) = services.store.occurrences_between(clock(), clock() + timedelta(days=3))
    clock.advance(minutes=5)
    services.store.update_appointment(local.appointment.with_changes(location="Room from here"))
    clock.advance(minutes=5)
    calendar.edit(event.remote_id, location="Room from there")
    app.sync_now()
    summary = wait_for_run(qtbot, app)
    assert summary.outcomes[0].result.conflicts == 1
    ((_title, message),) = [n for n in app.tray.notifications if n[0] == "Sync conflicts resolved"]
    assert "1 appointment changed on both sides" in message
    assert app.tray.on_click is not None  # clicking it opens the conflict log
    app.tray._message_clicked()
    trouble = app.dialogs["troubleshooting"]
    assert trouble.tabs.currentWidget() is trouble.conflict_log
    assert "Room from" not in message and "Meeting 0" not in message


# --------------------------------------------------------------------------- the status bar


def test_status_bar_shows_progress_while_syncing_then_the_last_sync_time(
    qtbot, make_app, services, clock
):
    from .conftest import BERLIN

    _account, calendar = add_memory_account(services, name="Work")
    remote_events(calendar, 12, clock() + timedelta(days=1))
    app = make_app()
    app.start(sync_at_start=False)
    seen = []
    app.scheduler.progress.connect(
        lambda d, t, m: seen.append(
            (app.window.last_sync_label.text(), app.window.progress.isVisibleTo(app.window))
        )
    )
    with qtbot.waitSignal(app.scheduler.syncFinished, timeout=20_000):
        app.sync_now()
        assert app.window.progress.isVisibleTo(app.window)
        assert app.window.last_sync_label.text().startswith("Syncing")
    assert seen and all(text.startswith("Syncing Work…") and shown for text, shown in seen)
    assert any(text.endswith("12 of 12") for text, _ in seen)
    expected = f"Last sync {clock().astimezone(BERLIN):%H:%M}"
    assert app.window.last_sync_label.text() == expected
    assert not app.window.progress.isVisibleTo(app.window)
    # a progress report that arrives after the run ended changes nothing
    app.scheduler.progress.emit(12, 12, "Done")
    assert app.window.last_sync_label.text() == expected
    assert not app.window.progress.isVisibleTo(app.window)


def test_status_bar_says_what_went_wrong_after_a_failed_sync(qtbot, make_app, services):
    _account, calendar = add_memory_account(services, name="Work")
    app = make_app()
    app.start(sync_at_start=False)
    calendar.fail_next("drop")
    app.sync_now()
    wait_for_run(qtbot, app)
    text = app.window.last_sync_label.text()
    assert text.startswith("Work: The server cannot be reached.")
    assert "Troubleshooting" in text and "Syncing" not in text
    assert not app.window.progress.isVisibleTo(app.window)
    # the next good sync clears it
    app.sync_now()
    wait_for_run(qtbot, app)
    assert app.window.last_sync_label.text().startswith("Last sync ")


# --------------------------------------------------------------------------- new appointments


def test_a_new_appointment_syncs_only_to_the_account_chosen_for_it(
    qtbot, make_app, services, clock
):
    from calsync_desktop.gui.appointment_dialog import DEFAULT_ACCOUNT_SETTING

    _first, first_calendar = add_memory_account(services, "a@example.com", name="A work")
    second, second_calendar = add_memory_account(services, "b@example.com", name="B home")
    services.store.set_setting(DEFAULT_ACCOUNT_SETTING, second.id)
    app = make_app()
    app.start(sync_at_start=False)
    offered = []

    def fill_in(dialog):
        offered.append(
            [dialog.account_choice.itemText(i) for i in range(dialog.account_choice.count())]
        )
        offered.append(dialog.account_choice.currentData())
        dialog.title.setText("Call the client")
        return True

    app.editor.open_dialog = fill_in
    created = app.editor.create(clock() + timedelta(days=1))
    assert offered == [["A work (a@example.com)", "B home (b@example.com)"], second.id]
    assert services.store.get_appointment(created.id).account_id == second.id
    # whichever account syncs first, the appointment goes to B only
    app.sync_now()
    wait_for_run(qtbot, app)
    assert [e.subject for e in second_calendar.events.values()] == ["Call the client"]
    assert first_calendar.events == {}


def test_a_dialog_closed_and_opened_again_at_once_is_a_new_one_that_stays(qtbot, make_app):
    """Qt deletes a closed dialog only later: the menu opening it again before
    then must not show the old one, which would vanish under the user's hand."""
    app = make_app()
    app.start(sync_at_start=False)
    for key, action in (("settings", "Settings…"), ("troubleshooting", "Troubleshooting…")):
        app.tray.actions[action].trigger()
        first = app.dialogs[key]
        first.reject()  # closed: still alive until Qt gets to deleting it
        assert key not in app.dialogs
        app.tray.actions[action].trigger()
        again = app.dialogs[key]
        assert again is not first
        qtbot.wait(50)  # Qt deletes the closed one now
        assert key in app.dialogs and app.dialogs[key] is again and again.isVisible()
