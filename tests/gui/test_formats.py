"""Dates and times in the system locale's formats, the same way everywhere."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from PySide6.QtCore import QLocale

from calsync_desktop.gui import formats

from .conftest import BERLIN, add_memory_account, make_appointment


@pytest.fixture
def in_locale():
    """Switch the default locale for one test, then back to the suite's."""
    before = QLocale()

    def use(name: str) -> None:
        QLocale.setDefault(QLocale(name))

    yield use
    QLocale.setDefault(before)


@pytest.mark.parametrize(
    ("name", "medium", "time", "hour", "first_weekday"),
    [
        ("en_GB", "2 Dec 2026", "09:41", "09:00", 0),
        ("en_US", "Dec 2, 2026", "9:41\u202fAM", "9\u202fAM", 6),
        ("de_DE", "2. Dez. 2026", "09:41", "09:00", 0),
        ("fr_FR", "2 déc. 2026", "09:41", "09:00", 0),
    ],
)
def test_each_locale_writes_dates_its_own_way(in_locale, name, medium, time, hour, first_weekday):
    in_locale(name)
    moment = datetime(2026, 12, 2, 9, 41)
    assert formats.date_text(moment.date()) == medium
    assert formats.time_text(moment) == time
    assert formats.hour_text(9) == hour
    assert formats.first_weekday() == first_weekday
    # the same year is left out; the weekday is the locale's word
    same_year = formats.date_text(moment.date(), today=date(2026, 5, 1))
    assert "2026" not in same_year and same_year in medium
    assert formats.moment_text(moment, moment + timedelta(hours=2)) == f"today {time}"
    assert formats.moment_text(moment, moment + timedelta(days=1)) == f"yesterday {time}"


def test_a_machine_without_a_locale_gets_british_english(in_locale):
    in_locale("C")
    assert formats.date_text(date(2026, 12, 2)) == "2 Dec 2026"
    assert formats.time_text(datetime(2026, 12, 2, 15, 5)) == "15:05"


def test_period_titles_name_the_months():
    assert formats.period_title(date(2026, 12, 7), date(2026, 12, 13)) == "December 2026"
    assert formats.period_title(date(2026, 11, 30), date(2026, 12, 6)) == "Nov – Dec 2026"
    assert formats.period_title(date(2026, 12, 28), date(2027, 1, 3)) == "Dec 2026 – Jan 2027"


def test_the_window_settings_and_troubleshooting_use_the_locale(
    qtbot, in_locale, make_app, services, clock
):
    """In a US locale every time the user reads is on the 12-hour clock and every
    date month-first: the status bar, the hour labels, the week title, Settings
    and Troubleshooting (no ISO dates, no 24-hour leftovers)."""
    in_locale("en_US")
    account, _ = add_memory_account(services, name="Work")
    account.last_sync = clock() - timedelta(days=3)
    services.store.update_account(account)
    start = datetime(2026, 11, 24, 14, tzinfo=UTC)
    services.store.add_appointment(
        make_appointment("Pitch", start, start + timedelta(hours=1), account_id=account.id)
    )
    app = make_app()
    app.start(sync_at_start=False)
    app.refresh_status()
    status = app.window.last_sync_label.text()
    local = account.last_sync.astimezone(BERLIN)
    assert (
        status
        == f"Last sync {local:%b} {local.day} {local.hour % 12 or 12}:{local:%M}\u202f{local:%p}"
    )
    assert app.window.first_weekday == 6  # weeks from Sunday in the US
    assert app.window.model.first_day.weekday() == 6
    canvas = app.window.time_grid.canvas
    assert canvas.gutter >= 56
    settings = app.open_settings()
    cell = settings.accounts.item(0, 3).text()
    assert cell.startswith(f"{local:%b} {local.day} ") and cell.endswith(local.strftime("%p"))
    trouble = app.open_troubleshooting()
    box = trouble.account_checks[0]
    qtbot.waitUntil(lambda: bool(box.results), timeout=10_000)
    (last,) = [c for c in box.results if c.name == "Last sync"]
    assert "2026-" not in last.explanation and local.strftime("%p") in last.explanation
