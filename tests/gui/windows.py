"""Every window and dialog of the app, each in the states a user sees, on a demo
Sales Calendar: what the layout, accessibility and keyboard tests walk.

:func:`states` yields ``(name, top-level widget)`` once each state is on
screen; the caller looks, then the next state follows. Nothing here talks to a
server: the wizard uses the local test calendar, and for the Exchange page
only its form is filled in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget

from calsync_desktop.accounts import memory, save_account
from calsync_desktop.accounts.base import AccountState
from calsync_desktop.gui.appointment_dialog import DEFAULT_ACCOUNT_SETTING
from calsync_desktop.gui.calendar_view import week_start
from calsync_desktop.model import (
    Appointment,
    InviteStatus,
    Participant,
    Recurrence,
    new_id,
    occurrences,
)
from calsync_desktop.store import SkippedEntry

TZ = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 12, 2, 10, 30, tzinfo=UTC)
"""A Wednesday: the demo week is 30 Nov – 6 Dec 2026 (two months in its title)."""


def wait_until(condition: Callable[[], bool], ms: int = 15_000) -> None:
    for _ in range(ms // 20):
        if condition():
            return
        QTest.qWait(20)
    raise TimeoutError("the window did not get there in time")


def demo(services) -> dict:
    """Two accounts (one named "Work", one that must sign in again), a week of
    appointments (overlaps, a private one, a series, an all-day one, long
    titles, a participant without an email), a conflict and skipped items."""
    store = services.store
    store.set_setting("profile.name", "Ann Seller")
    store.set_setting("profile.email", "ann.seller@company-with-a-long-name.example")
    work = save_account(
        services,
        memory.connect(services, "ann.seller@company-with-a-long-name.example"),
        calendar_id="primary",
        name="Work",
    )
    private = save_account(
        services,
        memory.connect(services, "ann.private@example.com"),
        calendar_id="primary",
        name="Private calendar",
        sync_all_private=True,
    )
    private.state = AccountState.NEEDS_SIGN_IN
    private.last_error = (
        "Your sign-in for this calendar has expired or was changed, so syncing is paused. "
        "Nothing was deleted."
    )
    store.update_account(private)
    work.last_sync = NOW - timedelta(minutes=20)
    store.update_account(work)
    store.set_setting(DEFAULT_ACCOUNT_SETTING, work.id)
    monday = week_start(NOW.astimezone(TZ).date())

    def at(day: int, hour: float, minutes: int = 60) -> tuple[datetime, datetime]:
        start = datetime.combine(monday + timedelta(days=day), time(0), tzinfo=TZ)
        start += timedelta(hours=hour)
        return start.astimezone(UTC), (start + timedelta(minutes=minutes)).astimezone(UTC)

    people = (
        Participant("Bob Buyer", "bob@customer.example", InviteStatus.ACCEPTED),
        Participant(
            "Carla Chief", "carla.chief-procurement@customer.example", InviteStatus.TENTATIVE
        ),
        Participant("Dan Doubt", "dan@customer.example", InviteStatus.DECLINED),
        Participant("Nameless Norbert"),
    )
    made = {}
    for key, contents, day, hour, minutes, extra in (
        (
            "demo",
            "Demo for Globex\nShow the reporting module",
            1,
            10,
            90,
            {"location": "Globex HQ, Berlin", "participants": people},
        ),
        ("quote", "Quote follow-up", 1, 10.5, 60, {}),
        ("standup", "Team stand-up", 0, 8.5, 15, {"recurrence": Recurrence("FREQ=DAILY;COUNT=5")}),
        (
            "long",
            "Contract negotiation with the procurement board of Umbrella Corporation",
            2,
            14,
            120,
            {"location": "Video call"},
        ),
        ("early", "Flight to Hamburg", 3, 6.5, 90, {}),
    ):
        start, end = at(day, hour, minutes)
        made[key] = store.add_appointment(
            Appointment(new_id(), contents, start, end, TZ.key, account_id=work.id, **extra)
        )
    start, end = at(2, 9, 90)
    store.add_appointment(
        Appointment(new_id(), "Doctor", start, end, TZ.key, private=True, account_id=private.id)
    )
    start, end = at(4, 0, 24 * 60)
    store.add_appointment(Appointment(new_id(), "Trade fair", start, end, TZ.key, all_day=True))
    store.log_conflict(
        work.id,
        made["demo"].id,
        "location",
        "Globex HQ, Berlin",
        "Globex HQ, Berlin – Room 4.12 (ask at the front desk)",
        "remote",
    )
    store.update_skipped(
        work.id,
        None,
        [
            SkippedEntry(
                work.id,
                "local",
                made["demo"].id,
                "Demo for Globex",
                "participant Nameless Norbert has no email address",
                NOW,
            ),
            SkippedEntry(work.id, "remote", "r1", "Old call", "older than 30 days", NOW),
        ],
    )
    return {"work": work, "private": private, **made}


def _show(widget: QWidget) -> QWidget:
    widget.show()
    QTest.qWaitForWindowExposed(widget)
    QTest.qWait(30)
    return widget


def states(app, made: dict) -> Iterator[tuple[str, QWidget]]:
    """Each window and dialog of ``app`` (a started :class:`CalsyncApp` on the
    demo) in each state, on screen."""
    window = app.window
    app.refresh_status()
    app.show_window()
    QTest.qWaitForWindowExposed(window)
    window.go_to(NOW.astimezone(TZ).date())
    for view in ("week", "day", "month"):
        window.set_view(view)
        QTest.qWait(30)
        yield f"window-{view}", window
    window.set_view("week")
    app.set_paused(True)
    yield "window-paused", window
    app.set_paused(False)

    editor = app.editor
    demo = app.store.get_appointment(made["demo"].id)
    dialog = editor.dialog_for(demo, is_new=False)
    yield "appointment", _show(dialog)
    dialog.recurrence.frequency.setCurrentIndex(dialog.recurrence.frequency.findData("WEEKLY"))
    dialog.recurrence.after.setChecked(True)
    dialog.recurrence.count.setValue(12)
    QTest.qWait(30)
    yield "appointment-weekly", dialog
    dialog.close()
    dialog.deleteLater()
    series = app.store.get_appointment(made["standup"].id)
    (occ, *_) = occurrences(
        series, series.start + timedelta(days=2), series.end + timedelta(days=3)
    )
    dialog = editor.dialog_for(series, is_new=False, occurrence=occ)
    yield "appointment-occurrence", _show(dialog)
    dialog.close()
    dialog.deleteLater()
    draft = Appointment(new_id(), "", NOW, NOW + timedelta(hours=1), TZ.key)
    dialog = editor.dialog_for(draft, is_new=True)
    yield "appointment-new", _show(dialog)
    dialog.close()
    dialog.deleteLater()

    settings = app.open_settings()
    QTest.qWaitForWindowExposed(settings)
    for index in range(settings.tabs.count()):
        settings.tabs.setCurrentIndex(index)
        QTest.qWait(30)
        yield f"settings-{settings.tabs.tabText(index).lower().replace(' ', '-')}", settings
    settings.close()

    trouble = app.open_troubleshooting()
    QTest.qWaitForWindowExposed(trouble)
    wait_until(lambda: all(b.results for b in trouble.account_checks))
    for index in range(trouble.tabs.count()):
        trouble.tabs.setCurrentIndex(index)
        QTest.qWait(30)
        yield f"troubleshooting-{trouble.tabs.tabText(index).lower().replace(' ', '-')}", trouble
    trouble.close()

    wizard = app.open_wizard()
    QTest.qWaitForWindowExposed(wizard)
    yield "wizard-choose", wizard
    wizard.choose.choose("exchange")
    wizard.next()
    page = wizard.details
    page.fields["username"].setText("ann")
    page.fields["server_url"].setText("https://outlook.office365.com/EWS/Exchange.asmx")
    QTest.qWait(30)
    yield "wizard-exchange", wizard
    wizard.restart()
    wizard.choose.choose("memory")
    wizard.next()
    wizard.sign_in.form.edits["email"].setText("ann.seller@gmail.com")
    wizard.sign_in.button.click()
    wait_until(wizard.sign_in.isComplete)
    yield "wizard-signed-in", wizard
    wizard.next()
    wait_until(wizard.options.isComplete)
    yield "wizard-options", wizard
    wizard.next()
    wait_until(wizard.summary.isComplete)
    yield "wizard-summary", wizard
    wizard.next()
    wait_until(lambda: wizard.first_sync.done)
    yield "wizard-first-sync", wizard
    wizard.close()
    QApplication.processEvents()


STATE_NAMES = (
    "window-week",
    "window-day",
    "window-month",
    "window-paused",
    "appointment",
    "appointment-weekly",
    "appointment-occurrence",
    "appointment-new",
    "settings-my-profile",
    "settings-integrations",
    "settings-sync",
    "settings-history",
    "settings-calendar",
    "settings-sales-calendar",
    "settings-advanced",
    "troubleshooting-accounts",
    "troubleshooting-common-problems",
    "troubleshooting-skipped-items",
    "troubleshooting-conflicts",
    "wizard-choose",
    "wizard-exchange",
    "wizard-signed-in",
    "wizard-options",
    "wizard-summary",
    "wizard-first-sync",
)
"""What :func:`states` shows, in order (the tests parametrize over these)."""
