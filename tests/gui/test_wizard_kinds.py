"""The wizard builds its pages from the account kinds' registry: a new kind is
offered, connected and synced through its registry entry alone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit, QRadioButton

from calsync_desktop.accounts.kinds import KINDS
from calsync_desktop.gui.wizard import PAGE_DETAILS, PAGE_OPTIONS, PAGE_SIGN_IN, AccountWizard
from tests import listener
from tests.accounts import trial_kind

plain_http_listener = listener.plain_http_listener


@pytest.fixture
def trial(monkeypatch):
    monkeypatch.setitem(KINDS, "trial", trial_kind.ENTRY)
    return trial_kind


def make_wizard(qtbot, services, **kwargs) -> AccountWizard:
    wizard = AccountWizard(services, **kwargs)
    qtbot.addWidget(wizard)
    wizard.show()
    return wizard


def connect(qtbot, page) -> None:
    qtbot.mouseClick(page.save, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.task.finished and page.save.isEnabled(), timeout=10_000)


def test_a_new_kind_gets_its_choice_and_a_form_of_its_fields(qtbot, services, clock, trial):
    start = clock() + timedelta(days=1)
    trial.calendar(services, "sam").add(subject="Call", start=start, end=start + timedelta(hours=1))
    wizard = make_wizard(qtbot, services)
    labels = [b.accessibleName() for b in wizard.choose.findChildren(QRadioButton)]
    assert labels == [
        "Google Calendar",
        "Office 365",
        "Exchange Server",
        "Other (CalDAV)",
        "Trial Calendar",
    ]
    wizard.choose.choose("trial")
    wizard.next()
    assert wizard.currentId() == PAGE_DETAILS
    page = wizard.details
    assert page.title() == "Trial Calendar" and page.save.text() == "Connect"
    assert list(page.fields) == ["server_url", "username", "password"]
    assert page.fields["password"].echoMode() == QLineEdit.EchoMode.Password
    assert [e.accessibleName() for e in page.findChildren(QLineEdit)] == [
        "Server URL",
        "User name",
        "Password",
    ]

    page.fields["server_url"].setText("https://calendar.google.com/dav")
    assert page.suggestion.isVisible() and page.switch.text() == "Switch to Google Calendar"
    page.fields["server_url"].setText("http://elsewhere")
    assert not page.suggestion.isVisible()
    page.fields["username"].setText("sam")
    connect(qtbot, page)
    assert "not a trial address" in page.message.text() and not page.isComplete()

    page.fields["server_url"].setText("trial://cal")
    page.fields["password"].setText("wrong")
    connect(qtbot, page)
    assert not page.isComplete() and "wrong" not in page.message.text()

    page.fields["password"].setText(trial.PASSWORD)
    connect(qtbot, page)
    assert page.isComplete(), page.message.text()
    assert page.message.text().startswith("Connected to the calendar of sam@trial.example")
    wizard.next()
    assert wizard.currentId() == PAGE_OPTIONS
    qtbot.waitUntil(wizard.options.isComplete, timeout=5000)
    wizard.next()
    qtbot.waitUntil(wizard.summary.isComplete, timeout=5000)
    assert "1 appointment will be copied from sam@trial.example" in (wizard.summary.summary.text())
    wizard.next()
    qtbot.waitUntil(wizard.first_sync.isComplete, timeout=10_000)
    assert wizard.first_sync.message.text().startswith("Done.")
    (account,) = services.store.list_accounts()
    assert account.kind == "trial" and services.secrets.get(account.id, "password")


def test_switching_to_the_suggested_kind_opens_its_sign_in(qtbot, services, trial):
    wizard = make_wizard(qtbot, services)
    wizard.choose.choose("trial")
    wizard.next()
    wizard.details.fields["server_url"].setText("https://calendar.google.com/dav")
    qtbot.mouseClick(wizard.details.switch, Qt.MouseButton.LeftButton)
    assert wizard.currentId() == PAGE_SIGN_IN and wizard.kind == "google"
    assert wizard.sign_in.button.text() == "Sign in with Google"
    assert not wizard.sign_in.form.isVisibleTo(wizard.sign_in)  # Google asks for nothing here


def test_signing_in_again_fills_in_what_is_known_but_never_the_password(qtbot, services, trial):
    from calsync_desktop.accounts import save_account

    pending = trial.connect_account(
        services, {"server_url": "trial://cal", "username": "sam", "password": trial.PASSWORD}
    )
    account = save_account(services, pending)
    wizard = make_wizard(qtbot, services, edit_account=account)
    assert wizard.currentId() == PAGE_DETAILS
    fields = wizard.details.fields
    assert fields["server_url"].text() == "trial://cal" and fields["username"].text() == "sam"
    assert fields["password"].text() == ""


@pytest.mark.usefixtures("trial")
def test_the_exchange_page_refuses_plain_http_to_another_computer(
    qtbot, services, plain_http_listener
):
    httpd, url = plain_http_listener
    wizard = make_wizard(qtbot, services)
    wizard.choose.choose("exchange")
    wizard.next()
    page = wizard.details
    page.fields["username"].setText("alice")
    page.fields["password"].setText("pw-very-secret-123")
    page.fields["server_url"].setText(url)
    connect(qtbot, page)
    assert "unencrypted" in page.message.text() and "https://" in page.message.text()
    assert "pw-very-secret" not in page.message.text()
    assert not page.isComplete() and httpd.seen == []
    assert services.store.list_accounts() == []
