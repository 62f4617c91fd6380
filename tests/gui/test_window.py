"""The Sales Calendar window as a user lives in it: it fits the screen and
comes back where it was, its calendar list, pause and resume, one way to sign
in again from wherever the problem is shown, and the main menu."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication

from calsync_desktop.gui.calendar_list import (
    LOCAL_KEY,
    CalendarEntry,
    CalendarList,
    CalendarListView,
    Role,
    account_key,
)
from calsync_desktop.gui.calendar_model import CalendarModel
from calsync_desktop.gui.calendar_view import CalendarWindow, fit_rect

from .conftest import BERLIN, add_memory_account, make_appointment


def berlin(*args) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


def wait_for_run(qtbot, app, timeout=20_000):
    with qtbot.waitSignal(app.scheduler.syncFinished, timeout=timeout) as blocker:
        pass
    return blocker.args[0]


# --------------------------------------------------------------------------- item 3


@pytest.mark.parametrize(
    ("wanted", "area", "expected"),
    [
        (QRect(100, 100, 800, 600), QRect(0, 0, 1366, 728), QRect(100, 100, 800, 600)),
        # the old default on a 1366×768 laptop: shrunk to the free height, moved up
        (QRect(0, 0, 1100, 790), QRect(0, 0, 1366, 728), QRect(0, 0, 1100, 704)),
        # what scale 2 made of it on 1600×1000: 2200×1520 on an 800×500 screen
        (QRect(0, 0, 2200, 1520), QRect(0, 0, 800, 500), QRect(0, 0, 776, 476)),
        # left on a screen that is gone: back onto this one
        (QRect(3000, 900, 800, 600), QRect(0, 0, 1920, 1050), QRect(1120, 450, 800, 600)),
    ],
)
def test_a_window_rectangle_is_fitted_into_the_free_screen_area(wanted, area, expected):
    assert fit_rect(wanted, area) == expected


@pytest.fixture
def window(qtbot, gui_store, gui_clock):
    model = CalendarModel(gui_store, BERLIN, poll_ms=0)
    win = CalendarWindow(model, gui_clock)
    qtbot.addWidget(win)
    yield win
    win.close()


def test_the_window_opens_within_the_screen_and_comes_back_where_it_was(
    qtbot, window, gui_store, gui_clock
):
    area = window.available_area()
    window.restore_window_state(None)  # first start: nothing saved
    window.show()
    qtbot.waitExposed(window)
    assert area.contains(window.frameGeometry())
    assert window.width() <= area.width() and window.height() <= area.height()
    window.resize(640, 420)
    window.move(area.left() + 30, area.top() + 40)
    window.set_view("month")
    window.sidebar_action.setChecked(False)
    state = window.window_state()
    again = CalendarWindow(CalendarModel(gui_store, BERLIN, poll_ms=0), gui_clock)
    qtbot.addWidget(again)
    assert again.restore_window_state(state)
    again.show()
    qtbot.waitExposed(again)
    assert again.size() == window.size()
    assert again.pos() == window.pos()
    assert again.view == "month"
    assert not again.sidebar.isVisibleTo(again)
    assert again.date_picker_action.isVisible()  # without the side month, the toolbar's
    again.close()


def test_a_window_left_larger_than_this_screen_is_brought_within_it(qtbot, window, gui_store):
    area = window.available_area()
    window.setGeometry(
        QRect(area.left() + 50, area.top() + 50, area.width() * 2, area.height() * 2)
    )
    state = window.window_state()
    window.restore_window_state(state)
    window.show()
    qtbot.waitExposed(window)
    assert area.contains(window.frameGeometry()), (area, window.frameGeometry())


def test_an_unreadable_saved_place_falls_back_to_fitting_the_screen(window):
    assert not window.restore_window_state({"geometry": "!!not base64", "view": "nonsense"})
    assert window.available_area().contains(window.frameGeometry())
    assert window.view == "week"


def test_the_app_remembers_the_window_between_runs(qtbot, make_app, services):
    add_memory_account(services)
    app = make_app()
    app.start(sync_at_start=False, show_window=True)
    qtbot.waitExposed(app.window)
    app.window.resize(700, 480)
    app.window.set_view("day")
    app.window.close()  # hidden to the tray: remembered now
    assert services.store.get_setting("window.state")["view"] == "day"
    app.shutdown()
    second = make_app()
    second.start(sync_at_start=False, show_window=True)
    assert second.window.size() == app.window.size()
    assert second.window.view == "day"


# --------------------------------------------------------------------------- item 6


def two_accounts(store):
    from calsync_desktop.accounts.base import Account

    store.add_account(Account(id="w", kind="google", name="Work", email="ann@work.example"))
    store.add_account(
        Account(id="h", kind="memory", name="home@example.com", email="home@example.com")
    )
    for key, contents, day in (("w", "Pitch", 24), ("h", "Dentist", 25), (None, "Notes", 26)):
        store.add_appointment(
            make_appointment(
                contents, berlin(2026, 3, day, 9), berlin(2026, 3, day, 10), account_id=key
            )
        )


def entries_shown(view: CalendarListView) -> dict[str, tuple[str, bool]]:
    model = view.model()
    out = {}
    for row in range(model.rowCount()):
        head = model.index(row, 0)
        for child in range(model.rowCount(head)):
            index = model.index(child, 0, head)
            checked = index.data(Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Checked.value
            out[index.data()] = (QColor(index.data(Role.COLOUR)).name(), checked)
    return out


def test_the_calendar_list_shows_whose_colour_is_whose_and_hides_calendars(
    qtbot, window, gui_store
):
    two_accounts(gui_store)
    window.resize(1100, 760)
    window.show()
    window.model.refresh()
    view = window.sidebar.calendars
    shown = entries_shown(view)
    assert list(shown) == ["Work", "home@example.com", "Sales Calendar only"]
    colours = {r.occurrence.contents: QColor(r.colour).name() for r in window.model.rows()}
    # each box has its calendar's colour: the legend is the truth
    assert colours == {
        "Pitch": shown["Work"][0],
        "Dentist": shown["home@example.com"][0],
        "Notes": shown["Sales Calendar only"][0],
    }
    assert len(set(colours.values())) == 3
    # untick Work with the keyboard: its appointments leave the view
    index = window.model.calendars.index_of(account_key("w"))
    view.setFocus()
    view.setCurrentIndex(index)
    qtbot.keyClick(view, Qt.Key.Key_Space)
    assert [r.occurrence.contents for r in window.model.rows()] == ["Dentist", "Notes"]
    assert index.data(Qt.ItemDataRole.AccessibleTextRole) == "Work, hidden"
    # a click on its coloured box brings it back
    rect = view.visualRect(index)
    qtbot.mouseClick(
        view.viewport(),
        Qt.MouseButton.LeftButton,
        pos=rect.topLeft()
        + view.style()
        .subElementRect(
            view.style().SubElement.SE_ItemViewItemCheckIndicator,
            _option_for(view, index),
            view,
        )
        .center()
        - rect.topLeft(),
    )
    assert "Pitch" in [r.occurrence.contents for r in window.model.rows()]
    window.model.calendars.set_visible(LOCAL_KEY, False)
    assert "Notes" not in [r.occurrence.contents for r in window.model.rows()]
    assert gui_store.get_setting("app.hidden_calendars") == [LOCAL_KEY]


def _option_for(view, index):
    from PySide6.QtWidgets import QStyleOptionViewItem

    option = QStyleOptionViewItem()
    option.initFrom(view)
    option.rect = view.visualRect(index)
    view.itemDelegate().initStyleOption(option, index)
    return option


def test_hidden_calendars_stay_hidden_after_a_restart(qtbot, gui_store, gui_clock):
    two_accounts(gui_store)
    first = CalendarModel(gui_store, BERLIN, poll_ms=0)
    first.calendars.set_visible(account_key("h"), False)
    second = CalendarModel(gui_store, BERLIN, poll_ms=0)
    second.set_range(datetime(2026, 3, 23).date(), 7)
    assert not second.calendars.is_visible(account_key("h"))
    assert "Dentist" not in [r.occurrence.contents for r in second.rows()]
    # the colours did not move either
    assert second.account_colour("w") == first.account_colour("w")


def test_a_renamed_or_new_account_shows_in_the_list_at_once(qtbot, window, gui_store):
    two_accounts(gui_store)
    window.model.refresh()
    account = gui_store.get_account("h")
    account.name = "Home"
    gui_store.update_account(account)
    window.model.refresh()
    assert "Home" in entries_shown(window.sidebar.calendars)


class Colleagues:
    """What a team Sales Calendar adds: a section with an entry per colleague,
    claiming the colleagues' appointments (here: by their ``owner`` marker)."""

    key = "colleagues"
    title = "Colleagues"

    def __init__(self, owners):
        self.owners = owners

    def entries(self):
        return [
            CalendarEntry(f"member:{o}", o.title(), QColor("#986a44"), f"{o}@team.example", True)
            for o in self.owners
        ]

    def key_for(self, appointment):
        owner = appointment.location.removeprefix("owner:")
        return f"member:{owner}" if owner in self.owners else None


def test_the_calendar_list_takes_more_sections(qtbot, gui_store, gui_clock):
    """The team engineer's extension point: a section of colleagues, coloured,
    shown and hidden like the user's own calendars."""
    two_accounts(gui_store)
    gui_store.add_appointment(
        make_appointment(
            "Bea's call", berlin(2026, 3, 24, 11), berlin(2026, 3, 24, 12), location="owner:bea"
        )
    )
    calendars = CalendarList(gui_store, [])
    from calsync_desktop.gui.calendar_list import AccountsSection

    calendars.add_section(Colleagues(["bea"]))
    calendars.add_section(AccountsSection(gui_store), before="colleagues")
    model = CalendarModel(gui_store, BERLIN, poll_ms=0, calendars=calendars)
    window = CalendarWindow(model, gui_clock)
    qtbot.addWidget(window)
    model.set_range(datetime(2026, 3, 23).date(), 7)
    heads = [calendars.item(r).text() for r in range(calendars.rowCount())]
    assert heads == ["My calendars", "Colleagues"]
    (bea,) = [r for r in model.rows() if r.occurrence.contents == "Bea's call"]
    assert bea.key == "member:bea" and QColor(bea.colour).name() == "#986a44"
    assert bea.account_name == "Bea"
    calendars.set_visible("member:bea", False)
    assert "Bea's call" not in [r.occurrence.contents for r in model.rows()]
    assert "Read-only" in calendars.index_of("member:bea").data(Qt.ItemDataRole.ToolTipRole)
    window.close()


# --------------------------------------------------------------------------- item 8


def test_pause_and_resume_in_the_window(qtbot, make_app, services, clock):
    _account, calendar = add_memory_account(services)
    app = make_app()
    app.start(sync_at_start=False, show_window=True)
    window = app.window
    assert window.sync_button.isEnabled() and not window.resume_button.isVisibleTo(window)
    window.pause_action.trigger()  # the main menu's "Pause sync"
    assert services.store.get_setting("sync.paused") is True
    assert not window.sync_button.isEnabled() and not window.sync_action.isEnabled()
    assert window.resume_button.isVisibleTo(window)
    assert window.last_sync_label.text().startswith("Sync is paused")
    assert window.pause_action.text() == "Resume sync"
    assert app.tray.pause_action.text() == "Resume"  # the tray agrees
    start = clock() + timedelta(days=1)
    calendar.add(subject="While paused", start=start, end=start + timedelta(hours=1))
    with qtbot.waitSignal(app.scheduler.syncFinished, timeout=20_000):
        qtbot.mouseClick(window.resume_button, Qt.MouseButton.LeftButton)
    assert services.store.get_setting("sync.paused") is False
    assert window.sync_button.isEnabled() and not window.resume_button.isVisibleTo(window)
    assert services.store.count_appointments() == 1  # resuming synced at once


# --------------------------------------------------------------------------- item 1


def expire(qtbot, app, calendar):
    calendar.fail_next("expired_token")
    app.sync_now()
    summary = wait_for_run(qtbot, app)
    assert summary.outcomes[0].state == "needs_sign_in"


def test_sign_in_again_is_one_click_wherever_the_problem_shows(qtbot, make_app, services):
    account, calendar = add_memory_account(services, name="Work")
    app = make_app()
    app.start(sync_at_start=False, show_window=True)
    expire(qtbot, app, calendar)
    opened = []
    app.open_wizard = lambda kind=None, edit_account=None: opened.append(
        (kind, edit_account.id if edit_account else None)
    )
    # the notification: clicking it opens this account's sign-in
    (title, message) = app.tray.notifications[-1]
    assert title == "Sign in again to keep syncing" and "Click here" in message
    app.tray._message_clicked()
    # the status bar
    button = app.window.sign_in_button
    assert button.isVisibleTo(app.window)
    assert button.accessibleName() == "Sign in again to Work"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    # the tray menu
    (action,) = app.tray.sign_in_actions
    assert action.text() == "Sign in again to Work…"
    assert app.tray.menu_texts()[0] == "Sign in again to Work…"
    action.trigger()
    assert opened == [("memory", account.id)] * 3
    # Settings: the account's button says what it does
    from calsync_desktop.gui.settings_dialog import SettingsDialog

    settings = SettingsDialog(services, app.autostart)
    qtbot.addWidget(settings)
    settings.signInRequested.connect(app.sign_in_again)
    settings.select_account(account.id)
    assert settings.edit_button.text() == "Sign in again…"
    settings.edit_button.click()
    # Troubleshooting: one problem, one action
    from calsync_desktop.gui.troubleshooting import TroubleshootingDialog

    trouble = TroubleshootingDialog(services)
    qtbot.addWidget(trouble)
    trouble.signInRequested.connect(app.sign_in_again)
    (box,) = trouble.account_checks
    qtbot.waitUntil(lambda: bool(box.results), timeout=10_000)
    assert box.status.text() == "1 problem found."
    failing = [c for c in box.results if c.ok is False]
    assert len(failing) == 1 and failing[0].action == "sign_in"
    texts = [c.explanation for c in box.results]
    assert len(texts) == len(set(texts))  # no sentence said twice
    assert box.sign_in.isVisibleTo(box)
    box.sign_in.click()
    assert opened == [("memory", account.id)] * 5


def test_signing_in_again_clears_the_warnings_everywhere(qtbot, make_app, services):
    account, calendar = add_memory_account(services, name="Work")
    app = make_app()
    app.wizard_options["show_test_kind"] = True
    app.start(sync_at_start=False, show_window=True)
    expire(qtbot, app, calendar)
    wizard = app.sign_in_again(account.id)
    assert wizard.edit_account.id == account.id
    assert wizard.windowTitle() == "Sign in again: Work"
    from calsync_desktop.gui.wizard import PAGE_SIGN_IN

    assert wizard.currentId() == PAGE_SIGN_IN
    qtbot.mouseClick(wizard.sign_in.button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(wizard.sign_in.isComplete, timeout=5000)
    wizard.next()
    qtbot.waitUntil(wizard.options.isComplete, timeout=5000)
    wizard.next()
    qtbot.waitUntil(wizard.summary.isComplete, timeout=5000)
    wizard.next()
    qtbot.waitUntil(lambda: wizard.first_sync.done, timeout=20_000)
    app.refresh_status()
    assert not app.window.sign_in_button.isVisibleTo(app.window)
    assert app.tray.sign_in_actions == []
    assert app.tray.status.state == "idle"


# --------------------------------------------------------------------------- the menu


def test_the_window_menu_reaches_what_the_tray_does(qtbot, make_app, services):
    add_memory_account(services)
    app = make_app()
    app.start(sync_at_start=False, show_window=True)
    window = app.window
    texts = [a.text() for a in window.menu.actions() if not a.isSeparator()]
    assert texts == [
        "Sync now",
        "Pause sync",
        "Add calendar account…",
        "Settings…",
        "Troubleshooting…",
        "Show calendar list",
        "Quit",
    ]
    assert window.menu_button.accessibleName() == "Main menu"
    window.settings_action.trigger()
    assert app.dialogs["settings"].isVisible()
    window.troubleshooting_action.trigger()
    assert app.dialogs["troubleshooting"].isVisible()
    window.add_account_action.trigger()
    assert app.dialogs["wizard"].isVisible()
    for key in ("settings", "troubleshooting", "wizard"):
        app.dialogs[key].close()
    app.show_window()
    qtbot.waitUntil(window.isActiveWindow)
    with qtbot.waitSignal(app.scheduler.syncFinished, timeout=20_000):
        qtbot.keyClick(window.time_grid.canvas, Qt.Key.Key_F5)
    window.sidebar_action.trigger()
    assert not window.sidebar.isVisibleTo(window)
    window.quit_action.trigger()
    assert not app.scheduler.thread.isRunning()
    assert QApplication.instance() is not None


# --------------------------------------------------------------------------- item 12


def test_the_working_day_from_settings_shades_and_opens_the_day(
    qtbot, make_app, services, tmp_path
):
    from calsync_desktop.gui.autostart import Autostart
    from calsync_desktop.gui.settings_dialog import SettingsDialog

    app = make_app()
    app.start(sync_at_start=False)
    dialog = SettingsDialog(
        services, Autostart(["x"], platform="linux", env={"XDG_CONFIG_HOME": str(tmp_path)})
    )
    qtbot.addWidget(dialog)
    dialog.workingHoursChanged.connect(app.window.set_working_hours)
    dialog.day_start.setCurrentIndex(dialog.day_start.findData(7))
    dialog.day_end.setCurrentIndex(dialog.day_end.findData(16))
    dialog.save()
    assert services.store.get_setting("calendar.working_hours") == [7, 16]
    assert app.window.time_grid.canvas.working_hours == (7, 16)
    assert app.window.time_grid.first_hour() == 7
    again = make_app()
    assert again.window.time_grid.canvas.working_hours == (7, 16)  # read at start
