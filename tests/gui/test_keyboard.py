"""The wizard and the dialogs work from the keyboard alone: Tab reaches every
control, Enter does the page's action and goes on, Escape leaves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLineEdit,
    QPlainTextEdit,
    QRadioButton,
    QWidget,
)

from calsync_desktop.gui.appointment_dialog import AppointmentDialog
from calsync_desktop.gui.wizard import (
    PAGE_CHOOSE,
    PAGE_OPTIONS,
    PAGE_SIGN_IN,
    PAGE_SUMMARY,
    PAGE_SYNC,
    AccountWizard,
)
from calsync_desktop.model import Appointment, InviteStatus, Participant, Recurrence, new_id

from .conftest import BERLIN, add_memory_account

TABBABLE = (
    QAbstractButton,
    QLineEdit,
    QComboBox,
    QAbstractSpinBox,
    QAbstractItemView,
    QPlainTextEdit,
)


def focus(qtbot) -> QWidget:
    qtbot.wait(10)
    return QApplication.focusWidget()


def press(qtbot, key, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    qtbot.keyClick(focus(qtbot), key, modifier)


def tab_reaches_everything(qtbot, top: QWidget) -> None:
    """Tab from the first control visits every visible, enabled control of ``top``."""
    wanted = {
        w
        for w in top.findChildren(QWidget)
        if isinstance(w, TABBABLE)
        and w.isVisibleTo(top)
        and w.isEnabled()
        and w.focusPolicy() & Qt.FocusPolicy.TabFocus
        and not isinstance(w.parentWidget(), QAbstractSpinBox | QComboBox)
        and w.window() is top
    }
    seen = []
    start = focus(qtbot)
    assert start is not None and start.window() is top
    for _ in range(200):
        seen.append(focus(qtbot))
        press(qtbot, Qt.Key.Key_Tab)
        if focus(qtbot) is start:
            break
    # of radio buttons that exclude each other, Tab visits the one chosen (arrows the rest)
    groups = {id(w.parentWidget()) for w in seen if isinstance(w, QRadioButton)}
    missing = [
        f"{type(w).__name__} {w.objectName() or w.accessibleName()!r}"
        for w in wanted
        if w not in seen and not (isinstance(w, QRadioButton) and id(w.parentWidget()) in groups)
    ]
    assert missing == []


@pytest.fixture
def wizard(qtbot, services):
    wizard = AccountWizard(services, show_test_kind=True)
    qtbot.addWidget(wizard)
    wizard.show()
    qtbot.waitExposed(wizard)
    wizard.activateWindow()
    qtbot.waitUntil(wizard.isActiveWindow)
    return wizard


def test_the_wizard_from_start_to_finish_on_the_keyboard(qtbot, wizard, services, clock):
    from calsync_desktop.accounts import memory

    calendar = memory.calendar_for(services, "me@example.com", "me@example.com")
    start = clock() + timedelta(days=1)
    calendar.add(subject="Remote", start=start, end=start + timedelta(hours=1))
    assert wizard.currentId() == PAGE_CHOOSE
    buttons = wizard.choose.group.buttons()
    buttons[0].setFocus()
    # arrow keys move through the kinds; the last is the test calendar
    for _ in range(len(buttons) - 1):
        press(qtbot, Qt.Key.Key_Down)
    press(qtbot, Qt.Key.Key_Space)
    assert wizard.choose.kind() == "memory"
    press(qtbot, Qt.Key.Key_Return)  # Enter is Next
    assert wizard.currentId() == PAGE_SIGN_IN
    qtbot.waitUntil(lambda: focus(qtbot) is wizard.sign_in.button)
    press(qtbot, Qt.Key.Key_Return)  # the page's action has the focus
    qtbot.waitUntil(wizard.sign_in.isComplete, timeout=5000)
    qtbot.waitUntil(lambda: focus(qtbot) is wizard.button(wizard.WizardButton.NextButton))
    press(qtbot, Qt.Key.Key_Return)
    assert wizard.currentId() == PAGE_OPTIONS
    qtbot.waitUntil(wizard.options.isComplete, timeout=5000)
    tab_reaches_everything(qtbot, wizard)
    wizard.options.calendar.setFocus()
    press(qtbot, Qt.Key.Key_Return)  # Enter in a field of the page is Next
    assert wizard.currentId() == PAGE_SUMMARY
    qtbot.waitUntil(wizard.summary.isComplete, timeout=5000)
    wizard.button(wizard.WizardButton.CommitButton).setFocus()
    press(qtbot, Qt.Key.Key_Return)
    assert wizard.currentId() == PAGE_SYNC
    qtbot.waitUntil(lambda: wizard.first_sync.done, timeout=10_000)
    wizard.button(wizard.WizardButton.FinishButton).setFocus()
    press(qtbot, Qt.Key.Key_Return)
    assert not wizard.isVisible()
    assert services.store.count_appointments() == 1


def test_escape_leaves_the_wizard_and_saves_nothing(qtbot, wizard, services):
    wizard.choose.choose("memory")
    wizard.next()
    press(qtbot, Qt.Key.Key_Escape)
    assert not wizard.isVisible()
    assert services.store.list_accounts() == []


def appointment_dialog(qtbot, services, **kwargs) -> AppointmentDialog:
    add_memory_account(services, "work@example.com", "Work")
    add_memory_account(services, "home@example.com", "Home")
    appt = Appointment(
        new_id(),
        "Pitch\nSlides",
        datetime(2026, 4, 2, 10, tzinfo=BERLIN),
        datetime(2026, 4, 2, 11, tzinfo=BERLIN),
        "Europe/Berlin",
        participants=(Participant("Bob", "bob@example.com", InviteStatus.ACCEPTED),),
        recurrence=Recurrence("FREQ=WEEKLY;BYDAY=TH;COUNT=4"),
        **kwargs,
    )
    dialog = AppointmentDialog(appt, is_new=True, accounts=services.store.list_accounts())
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow)
    return dialog


def test_the_appointment_dialog_on_the_keyboard(qtbot, services):
    dialog = appointment_dialog(qtbot, services)
    assert focus(qtbot) is dialog.title  # typing starts with the title
    tab_reaches_everything(qtbot, dialog)
    dialog.title.setFocus()
    press(qtbot, Qt.Key.Key_End)
    qtbot.keyClicks(dialog.title, " v2")
    with qtbot.waitSignal(dialog.accepted):
        press(qtbot, Qt.Key.Key_Return)  # Enter in the title saves
    assert dialog.appointment().contents == "Pitch v2\nSlides"


def test_escape_cancels_the_appointment_dialog(qtbot, services):
    dialog = appointment_dialog(qtbot, services)
    with qtbot.waitSignal(dialog.rejected):
        press(qtbot, Qt.Key.Key_Escape)


def test_settings_and_troubleshooting_on_the_keyboard(qtbot, services, clock):
    from calsync_desktop.gui.autostart import Autostart
    from calsync_desktop.gui.settings_dialog import SettingsDialog
    from calsync_desktop.gui.troubleshooting import TroubleshootingDialog

    account, _ = add_memory_account(services, name="Work")
    start = clock() + timedelta(days=1)
    appt = services.store.add_appointment(
        Appointment(
            new_id(),
            "Pitch",
            start,
            start + timedelta(hours=1),
            "UTC",
            location="Room A",
            account_id=account.id,
        )
    )
    services.store.log_conflict(account.id, appt.id, "location", "Room A", "Room B", "remote")

    settings = SettingsDialog(services, Autostart(["x"], platform="linux", env={}))
    qtbot.addWidget(settings)
    settings.show()
    settings.activateWindow()
    qtbot.waitUntil(settings.isActiveWindow)
    settings.tabs.tabBar().setFocus()
    for index in range(settings.tabs.count()):
        assert settings.tabs.currentIndex() == index
        tab_reaches_everything(qtbot, settings)
        settings.tabs.tabBar().setFocus()
        press(qtbot, Qt.Key.Key_Right)  # the tabs move with the arrow keys
    settings.close()

    trouble = TroubleshootingDialog(services, run_checks=False)
    qtbot.addWidget(trouble)
    trouble.show()
    trouble.activateWindow()
    qtbot.waitUntil(trouble.isActiveWindow)
    trouble.show_conflicts()
    log = trouble.conflict_log
    log.list.setFocus()
    press(qtbot, Qt.Key.Key_Down)
    assert log.current() is not None
    for _ in range(10):  # Tab from the list to the version that can be chosen
        press(qtbot, Qt.Key.Key_Tab)
        if focus(qtbot) is log.theirs.use:
            break
    assert focus(qtbot) is log.theirs.use
    with qtbot.waitSignal(trouble.conflictRestored):
        press(qtbot, Qt.Key.Key_Space)
    assert services.store.get_appointment(appt.id).location == "Room B"
    assert datetime.now(UTC)  # the dialog is still there, on the same conflict
    assert log.theirs.in_use.isVisibleTo(log)
