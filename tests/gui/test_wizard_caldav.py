"""The wizard's "Other (CalDAV)" page against real CalDAV servers (Radicale and
Xandikos): presets fill the address and give the app-password advice; a wrong
password, an untrusted certificate and a server that is not CalDAV each get
their own sentence and save nothing; the right details connect and sync."""

from __future__ import annotations

import json
from datetime import timedelta

from PySide6.QtCore import Qt

from calsync_desktop.accounts.kinds import CALDAV_BAD_CREDENTIALS
from calsync_desktop.gui.wizard import PAGE_DETAILS, AccountWizard

from .test_wizard import finish_through_options


def _wizard(qtbot, services) -> AccountWizard:
    wizard = AccountWizard(services)
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.choose.choose("caldav")
    wizard.next()
    assert wizard.currentId() == PAGE_DETAILS
    return wizard


def _fill(wizard, server, password=None, url=None) -> None:
    page = wizard.details
    page.fields["url"].setText(url or server.url)
    page.fields["username"].setText(server.owner)
    page.fields["password"].setText(password or server.password)


def _save(qtbot, page) -> None:
    qtbot.mouseClick(page.save, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.task is not None and page.task.finished, timeout=30_000)


def test_the_caldav_choice_offers_presets_that_fill_the_address_and_advise(qtbot, services):
    wizard = _wizard(qtbot, services)
    page = wizard.details
    assert page.title() == "Other (CalDAV)"
    assert [page.form.preset.itemText(i) for i in range(page.form.preset.count())] == [
        "Choose your service…",
        "iCloud",
        "Fastmail",
        "Nextcloud",
        "Another CalDAV server",
    ]
    page.form.preset.setCurrentText("iCloud")
    assert page.fields["url"].text() == "https://caldav.icloud.com/"
    assert page.form.advice.isVisible() and "app-specific password" in page.form.advice.text()
    page.form.preset.setCurrentText("Fastmail")
    assert page.fields["url"].text() == "https://caldav.fastmail.com/"
    assert "app password" in page.form.advice.text()
    assert page.fields["password"].echoMode() == page.fields["password"].EchoMode.Password


def test_the_preset_advice_takes_the_height_of_its_own_text(qtbot, services):
    wizard = _wizard(qtbot, services)
    wizard.resize(700, 540)
    advice = wizard.details.form.advice
    wizard.details.form.preset.setCurrentText("iCloud")  # three lines at this width
    line = advice.fontMetrics().lineSpacing()
    qtbot.waitUntil(lambda: advice.height() >= 3 * line)
    wizard.details.form.preset.setCurrentText("Another CalDAV server")  # one line
    assert advice.isVisible() and line <= advice.height() < 2 * line


def test_a_wrong_password_shows_the_caldav_advice_and_saves_nothing(
    qtbot, services, secrets, caldav_server
):
    wizard = _wizard(qtbot, services)
    page = wizard.details
    page.set_ca_bundle(caldav_server.ca_bundle)  # as if chosen after a certificate failure
    qtbot.waitUntil(lambda: page.task.finished, timeout=30_000)
    _fill(wizard, caldav_server, password="not-the-app-password")
    _save(qtbot, page)
    assert page.message.text() == CALDAV_BAD_CREDENTIALS
    assert not page.isComplete() and services.store.list_accounts() == []
    assert secrets.values == {}


def test_an_untrusted_certificate_offers_a_ca_bundle_then_connects_and_syncs(
    qtbot, services, secrets, caldav_server, clock
):
    start = clock() + timedelta(days=2)
    made = caldav_server.create_event("Visit at Initech", start, start + timedelta(hours=1))
    wizard = _wizard(qtbot, services)
    page = wizard.details
    _fill(wizard, caldav_server)
    _save(qtbot, page)
    assert "certificate is not trusted" in page.message.text()
    assert page.choose_ca.isVisible()
    page.set_ca_bundle(caldav_server.ca_bundle)  # what the file chooser hands back
    qtbot.waitUntil(page.isComplete, timeout=30_000)
    assert "Connected to the calendar of alice@example.com" in page.message.text()
    wizard.next()
    finish_through_options(qtbot, wizard)
    (account,) = services.store.list_accounts()
    assert account.kind == "caldav" and account.calendar_id == caldav_server.calendar_url
    assert secrets.get(account.id, "password") == caldav_server.password
    assert caldav_server.password not in json.dumps(account.settings)
    far = timedelta(days=3650)
    synced = services.store.appointments_between(clock() - far, clock() + far)
    assert [a.contents for a in synced] == ["Visit at Initech"]
    assert made in caldav_server.event_ids()


def test_an_address_that_is_not_caldav_says_so(qtbot, services, caldav_server):
    wizard = _wizard(qtbot, services)
    page = wizard.details
    _fill(wizard, caldav_server, url="http://127.0.0.1:9/")  # the discard port: nothing there
    _save(qtbot, page)
    assert page.message.text().startswith("The server cannot be reached.")
    assert services.store.list_accounts() == []
