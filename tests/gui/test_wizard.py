"""The setup wizard end to end: the memory kind, and each provider's test server
driven by its real client library (Google, Exchange, Office 365)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from PySide6.QtCore import Qt

from calsync_desktop.accounts.base import MemorySecrets
from calsync_desktop.gui.wizard import (
    BAD_CREDENTIALS,
    PAGE_DETAILS,
    PAGE_OPTIONS,
    PAGE_SIGN_IN,
    PAGE_SUMMARY,
    PAGE_SYNC,
    AccountWizard,
)
from calsync_desktop.services import Services

from .conftest import add_memory_account


def make_wizard(qtbot, services, **kwargs) -> AccountWizard:
    wizard = AccountWizard(services, **kwargs)
    qtbot.addWidget(wizard)
    wizard.show()
    return wizard


def choose(wizard: AccountWizard, kind: str) -> None:
    wizard.choose.choose(kind)
    wizard.next()


def finish_through_options(qtbot, wizard: AccountWizard, private: bool = False) -> None:
    assert wizard.currentId() == PAGE_OPTIONS
    qtbot.waitUntil(wizard.options.isComplete, timeout=20_000)
    wizard.options.private.setChecked(private)
    wizard.next()
    assert wizard.currentId() == PAGE_SUMMARY
    qtbot.waitUntil(wizard.summary.isComplete, timeout=20_000)
    wizard.next()  # the commit page: saves, then runs the first sync
    assert wizard.currentId() == PAGE_SYNC
    qtbot.waitUntil(lambda: wizard.first_sync.done, timeout=30_000)


def test_memory_account_all_the_way_with_summary_and_first_sync(qtbot, services, clock):
    from calsync_desktop.accounts import memory

    calendar = memory.calendar_for(services, "me@example.com", "me@example.com")
    for i in range(3):
        start = clock() + timedelta(days=1, hours=i)
        calendar.add(subject=f"Remote {i}", start=start, end=start + timedelta(hours=1))
    wizard = make_wizard(qtbot, services, show_test_kind=True)
    saved = []
    wizard.accountSaved.connect(saved.append)
    assert not wizard.button(wizard.WizardButton.NextButton).isEnabled()
    assert "same email address" in wizard.choose.advice.text()
    choose(wizard, "memory")
    assert wizard.currentId() == PAGE_SIGN_IN
    assert not wizard.sign_in.isComplete()
    qtbot.mouseClick(wizard.sign_in.button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(wizard.sign_in.isComplete, timeout=5000)
    assert wizard.sign_in.status.text() == "Signed in as me@example.com"
    wizard.next()
    qtbot.waitUntil(wizard.options.isComplete, timeout=5000)
    wizard.options.private.setChecked(True)
    assert services.store.list_accounts() == []  # nothing saved before the summary
    wizard.next()
    qtbot.waitUntil(wizard.summary.isComplete, timeout=5000)
    assert "3 appointments will be copied from me@example.com to the Sales Calendar" in (
        wizard.summary.summary.text()
    )
    wizard.next()
    qtbot.waitUntil(wizard.first_sync.isComplete, timeout=10_000)
    assert wizard.first_sync.message.text().startswith(
        "Done. 3 appointments copied to the Sales Calendar."
    )
    (account,) = services.store.list_accounts()
    assert saved and saved[0].id == account.id
    assert account.sync_all_private and account.kind == "memory"
    assert services.store.count_appointments() == 3
    start = clock()
    occurrences = services.store.occurrences_between(start, start + timedelta(days=3))
    assert all(o.appointment.private for o in occurrences)


def test_the_first_sync_goes_through_the_apps_scheduler(qtbot, make_app, services):
    app = make_app()
    app.start(sync_at_start=False)
    wizard = app.open_wizard("memory")
    wizard.next()
    qtbot.mouseClick(wizard.sign_in.button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(wizard.sign_in.isComplete, timeout=5000)
    wizard.next()
    finish_through_options(qtbot, wizard)
    assert app.scheduler.runs_started == 1
    assert wizard.first_sync.message.text().startswith("Done")


# --------------------------------------------------------------------------- Exchange


@pytest.fixture(scope="module")
def ews():
    from tests.fakes.ews_server import EwsServer

    server = EwsServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def ews_server(ews):
    ews.mailbox.__init__(ews.mailbox.email)
    ews.password = "secret"
    ews.faults.clear()
    yield ews
    errors = list(ews.validation_errors)
    ews.validation_errors.clear()
    assert not errors, errors


def fill_exchange(wizard, url, username="alice", password="secret", email=""):
    page = wizard.details
    page.fields["username"].setText(username)
    page.fields["password"].setText(password)
    page.fields["server_url"].setText(url)
    page.fields["email"].setText(email)


def test_exchange_bad_credentials_show_the_exact_message_and_save_nothing(
    qtbot, services, ews_server, secrets
):
    wizard = make_wizard(qtbot, services)
    choose(wizard, "exchange")
    assert wizard.currentId() == PAGE_DETAILS
    page = wizard.details
    assert (
        page.fields["server_url"].placeholderText()
        == "https://outlook.office365.com/EWS/Exchange.asmx"
    )
    fill_exchange(wizard, ews_server.url, password="wrong")
    qtbot.mouseClick(page.save, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.save.isEnabled() and page.task.finished, timeout=20_000)
    assert page.message.text() == BAD_CREDENTIALS
    assert not page.isComplete()
    assert not wizard.button(wizard.WizardButton.NextButton).isEnabled()
    assert services.store.list_accounts() == []
    assert secrets.values == {}
    assert "wrong" not in page.message.text()


def test_exchange_good_credentials_validate_and_sync(qtbot, services, ews_server, secrets, clock):
    wizard = make_wizard(qtbot, services)
    choose(wizard, "exchange")
    fill_exchange(wizard, ews_server.url, email="alice@example.com")
    qtbot.mouseClick(wizard.details.save, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(wizard.details.isComplete, timeout=20_000)
    assert "Connected to the calendar of alice@example.com" in wizard.details.message.text()
    wizard.next()
    finish_through_options(qtbot, wizard)
    (account,) = services.store.list_accounts()
    assert account.kind == "exchange" and account.email == "alice@example.com"
    assert secrets.get(account.id, "password") == "secret"
    assert "secret" not in json.dumps(account.settings)
    assert wizard.first_sync.message.text().startswith("Done")


def test_exchange_server_down_and_not_ews_get_their_own_messages(qtbot, services, ews_server):
    import socket

    # a port that is bound but not listening refuses connections, and stays ours
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    wizard = make_wizard(qtbot, services)
    choose(wizard, "exchange")
    page = wizard.details
    fill_exchange(wizard, f"http://127.0.0.1:{closed.getsockname()[1]}/EWS/Exchange.asmx")
    qtbot.mouseClick(page.save, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.task.finished, timeout=30_000)
    closed.close()
    assert page.message.text().startswith("The server cannot be reached")
    fill_exchange(wizard, ews_server.url)
    ews_server.not_ews = True
    try:
        qtbot.mouseClick(page.save, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: page.task.finished, timeout=30_000)
    finally:
        ews_server.not_ews = False
    assert "not an Exchange Web Services endpoint" in page.message.text()
    assert not page.isComplete()
    assert services.store.list_accounts() == []


def test_office365_url_on_the_exchange_page_offers_to_switch(qtbot, services):
    wizard = make_wizard(qtbot, services)
    choose(wizard, "exchange")
    page = wizard.details
    fill_exchange(wizard, "https://outlook.office365.com/EWS/Exchange.asmx", "me@contoso.com")
    assert page.suggestion.isVisible() and page.switch.isVisible()
    qtbot.mouseClick(page.save, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.task.finished, timeout=10_000)
    assert "Sign in with Microsoft" in page.message.text()
    assert services.store.list_accounts() == []
    qtbot.mouseClick(page.switch, Qt.MouseButton.LeftButton)
    assert wizard.currentId() == PAGE_SIGN_IN
    assert wizard.kind == "office365"
    assert wizard.sign_in.button.text() == "Sign in with Microsoft"
    assert "Microsoft" in wizard.sign_in.explain.text()


def test_untrusted_certificate_offers_a_ca_bundle(qtbot, services):
    from tests.fakes.ews_server import EwsServer

    server = EwsServer(tls=True)
    server.start()
    try:
        wizard = make_wizard(qtbot, services)
        choose(wizard, "exchange")
        page = wizard.details
        fill_exchange(wizard, server.url)
        qtbot.mouseClick(page.save, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: page.task.finished, timeout=20_000)
        assert "certificate is not trusted" in page.message.text()
        assert page.choose_ca.isVisible()
        page.set_ca_bundle(server.ca_bundle)  # what the file chooser hands back
        qtbot.waitUntil(page.isComplete, timeout=20_000)
        assert wizard.pending.settings["ca_bundle"] == server.ca_bundle
    finally:
        server.stop()


# --------------------------------------------------------------------------- Google


@pytest.fixture
def google_server():
    from tests.fakes.google_calendar import GoogleCalendarServer

    with GoogleCalendarServer("ann.seller@gmail.com") as server:
        yield server


@pytest.fixture
def google_services(tmp_path, google_server, clock):
    secrets_file = tmp_path / "client_secret.json"
    secrets_file.write_text(json.dumps(google_server.client_config()))
    env = {
        "CALSYNC_GOOGLE_API_ENDPOINT": google_server.api_endpoint,
        "CALSYNC_GOOGLE_AUTH_URI": google_server.auth_uri,
        "CALSYNC_GOOGLE_TOKEN_URI": google_server.token_uri,
    }
    services = Services.create(home=tmp_path / "g", secrets=MemorySecrets(), env=env, clock=clock)
    services.store.set_setting("advanced.client_secrets_file", str(secrets_file))
    services.store.set_setting("profile.email", "ann@company.example")
    yield services
    services.store.close()


def google_sign_in(qtbot, wizard):
    qtbot.mouseClick(wizard.sign_in.button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: wizard.sign_in.task.finished, timeout=30_000)


def test_google_sign_in_shows_the_email_and_warnings_then_syncs(
    qtbot, google_services, google_server
):
    from tests.providers.test_google_signin import ScriptedBrowser

    browser = ScriptedBrowser()
    wizard = make_wizard(qtbot, google_services, open_browser=browser)
    choose(wizard, "google")
    assert wizard.sign_in.button.text() == "Sign in with Google"
    google_sign_in(qtbot, wizard)
    assert not browser.errors
    assert wizard.sign_in.status.text() == "Signed in as ann.seller@gmail.com"
    warnings = wizard.sign_in.warnings.text()
    assert "ann@company.example" in warnings  # differs from the profile email
    assert "Google Workspace account is recommended" in warnings  # free gmail account
    wizard.next()
    finish_through_options(qtbot, wizard)
    (account,) = google_services.store.list_accounts()
    assert account.kind == "google"
    assert google_services.secrets.get(account.id, "token")


def test_a_revoked_google_token_later_asks_to_sign_in_again_and_edit_fixes_it(
    qtbot, google_services, google_server, make_app_for
):
    from tests.providers.test_google_signin import ScriptedBrowser

    wizard = make_wizard(qtbot, google_services, open_browser=ScriptedBrowser())
    choose(wizard, "google")
    google_sign_in(qtbot, wizard)
    wizard.next()
    finish_through_options(qtbot, wizard)
    wizard.close()
    app = make_app_for(google_services)
    app.wizard_options["open_browser"] = ScriptedBrowser()
    app.start(sync_at_start=False)
    google_server.revoke()
    google_server.expire_access_tokens()
    with qtbot.waitSignal(app.scheduler.syncFinished, timeout=30_000) as blocker:
        app.sync_now()
    assert blocker.args[0].outcomes[0].state == "needs_sign_in"
    assert app.tray.status.state == "attention"
    assert any(title == "Sign in again to keep syncing" for title, _ in app.tray.notifications)
    # Settings › Integrations › Edit signs in again
    settings = app.open_settings()
    assert settings.accounts.item(0, 2).text() == "Sign in again"
    settings.edit_button.click()
    again = app.dialogs["wizard"]
    assert again.currentId() == PAGE_SIGN_IN
    google_sign_in(qtbot, again)
    assert again.sign_in.isComplete()
    again.next()
    finish_through_options(qtbot, again)
    (account,) = google_services.store.list_accounts()
    assert str(account.state) == "ok"
    app.refresh_status()
    assert app.tray.status.state == "idle"


# --------------------------------------------------------------------------- Office 365


@pytest.fixture(scope="module")
def graph():
    from tests.fakes.graph_server import GraphServer

    server = GraphServer().start()
    yield server
    server.stop()


def test_office365_sign_in_through_the_browser(qtbot, tmp_path, graph, clock):
    from tests.fakes.graph_server import ScriptedBrowser
    from tests.providers.test_graph_provider import env_for

    services = Services.create(
        home=tmp_path / "o", secrets=MemorySecrets(), env=env_for(graph), clock=clock
    )
    try:
        wizard = make_wizard(qtbot, services, open_browser=ScriptedBrowser(graph.ca_bundle))
        choose(wizard, "office365")
        assert "no longer accepts passwords" in wizard.sign_in.explain.text()
        assert "Graph" not in wizard.sign_in.explain.text()  # no jargon
        qtbot.mouseClick(wizard.sign_in.button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: wizard.sign_in.task.finished, timeout=30_000)
        assert wizard.sign_in.status.text() == "Signed in as sam@contoso.example"
        wizard.next()
        finish_through_options(qtbot, wizard)
        (account,) = services.store.list_accounts()
        assert account.kind == "office365"
        assert "RefreshToken" in services.secrets.get(account.id, "token_cache")
        wizard.close()
    finally:
        services.store.close()


def test_memory_helper_is_shared(services):
    _account, calendar = add_memory_account(services, "x@example.com")
    assert calendar.email == "x@example.com"


# --------------------------------------------------------------------------- issue 13


def test_the_first_account_offers_its_address_as_the_profile_email(qtbot, services):
    wizard = make_wizard(qtbot, services, show_test_kind=True)
    assert "no profile email yet" in wizard.choose.advice.text()
    choose(wizard, "memory")
    wizard.sign_in.form.edits["email"].setText("ann@company.example")
    qtbot.mouseClick(wizard.sign_in.button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(wizard.sign_in.isComplete, timeout=5000)
    offer = wizard.sign_in.profile_offer
    assert offer.isVisibleTo(wizard) and offer.isChecked()
    assert "ann@company.example" in offer.text()
    assert not wizard.sign_in.warnings.isVisibleTo(wizard)  # nothing to warn about yet
    wizard.next()
    finish_through_options(qtbot, wizard)
    assert services.store.get_setting("profile.email") == "ann@company.example"

    # the next account with another address: the article's advice, in amber
    second = make_wizard(qtbot, services, show_test_kind=True)
    assert "(ann@company.example)" in second.choose.advice.text()
    choose(second, "memory")
    second.sign_in.form.edits["email"].setText("ann.private@example.com")
    qtbot.mouseClick(second.sign_in.button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(second.sign_in.isComplete, timeout=5000)
    warnings = second.sign_in.warnings
    assert warnings.isVisibleTo(second)
    assert "your Sales Calendar profile uses ann@company.example" in warnings.text()
    assert warnings.text().startswith("⚠")
    assert "#9c6500" in warnings.styleSheet() and "#26a269" not in warnings.styleSheet()
    assert not second.sign_in.profile_offer.isVisibleTo(second)  # a profile exists: no offer
    second.next()
    finish_through_options(qtbot, second)
    assert services.store.get_setting("profile.email") == "ann@company.example"


def test_declining_the_offer_leaves_the_profile_empty(qtbot, services):
    wizard = make_wizard(qtbot, services, show_test_kind=True)
    choose(wizard, "memory")
    qtbot.mouseClick(wizard.sign_in.button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(wizard.sign_in.isComplete, timeout=5000)
    wizard.sign_in.profile_offer.setChecked(False)
    wizard.next()
    finish_through_options(qtbot, wizard)
    assert services.store.get_setting("profile.email") == ""


def test_exchange_warnings_are_amber_below_the_green_connected_line(qtbot, services, ews_server):
    services.store.set_setting("profile.email", "ann@company.example")
    wizard = make_wizard(qtbot, services)
    choose(wizard, "exchange")
    fill_exchange(wizard, ews_server.url, email="alice@example.com")
    qtbot.mouseClick(wizard.details.save, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(wizard.details.isComplete, timeout=20_000)
    page = wizard.details
    assert page.message.text() == "Connected to the calendar of alice@example.com."
    assert "#26a269" in page.message.styleSheet()
    assert "ann@company.example" not in page.message.text()
    assert "your Sales Calendar profile uses ann@company.example" in page.warnings.text()
    assert "#9c6500" in page.warnings.styleSheet()


def test_exchange_enter_in_the_password_saves_the_settings_and_then_goes_on(
    qtbot, services, ews_server
):
    wizard = make_wizard(qtbot, services)
    choose(wizard, "exchange")
    page = wizard.details
    fill_exchange(wizard, ews_server.url)
    password = page.fields["password"]
    password.setFocus()
    qtbot.keyClick(password, Qt.Key.Key_Return)
    assert page.task is not None  # Enter validated, as "Save Account Settings" does
    qtbot.waitUntil(page.isComplete, timeout=20_000)
    assert wizard.currentId() == PAGE_DETAILS
    qtbot.keyClick(password, Qt.Key.Key_Return)
    assert wizard.currentId() == PAGE_OPTIONS  # checked already: Enter goes on


def test_exchange_keeps_the_articles_example_and_says_it_needs_microsoft_sign_in(qtbot, services):
    from PySide6.QtWidgets import QLabel

    wizard = make_wizard(qtbot, services)
    choose(wizard, "exchange")
    example = wizard.details.findChild(QLabel, "example-server_url")
    assert example.isVisibleTo(wizard)  # at once, before anything is typed
    text = example.text()
    assert "https://outlook.office365.com/EWS/Exchange.asmx" in text
    assert "needs “Sign in with Microsoft”" in text and "choose Office 365" in text


def test_setup_ends_in_the_sales_calendar_with_the_first_syncs_progress(
    qtbot, make_app, services, clock
):
    import threading

    from calsync_desktop.accounts import memory

    calendar = memory.calendar_for(services, "me@example.com", "me@example.com")
    for i in range(5):
        start = clock() + timedelta(days=1, hours=i)
        calendar.add(subject=f"Remote {i}", start=start, end=start + timedelta(hours=1))
    release = threading.Event()

    def slow_runner(thread_services, progress=None, confirm=None):
        from calsync_desktop.sync.runner import SyncRunner

        def held(done, total, message):
            if progress:
                progress(done, total, message)
            release.wait(10)  # the first sync is under way when Finish is clicked

        return SyncRunner(thread_services, progress=held, confirm=confirm)

    app = make_app(make_runner=slow_runner)
    app.wizard_options["show_test_kind"] = True
    app.start(sync_at_start=False)
    qtbot.waitUntil(lambda: "wizard" in app.dialogs)  # first launch: the wizard
    wizard = app.dialogs["wizard"]
    assert not app.window.isVisible()
    choose(wizard, "memory")
    qtbot.mouseClick(wizard.sign_in.button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(wizard.sign_in.isComplete, timeout=5000)
    wizard.next()
    qtbot.waitUntil(wizard.options.isComplete, timeout=5000)
    wizard.next()
    qtbot.waitUntil(wizard.summary.isComplete, timeout=5000)
    wizard.next()
    assert wizard.currentId() == PAGE_SYNC
    qtbot.waitUntil(lambda: app.scheduler.running and app.window.progress.isVisibleTo(app.window))
    assert wizard.first_sync.isComplete()  # Finish need not wait for the sync
    try:
        wizard.button(wizard.WizardButton.FinishButton).click()
        qtbot.waitUntil(lambda: app.window.isVisible())
        label = app.window.last_sync_label
        qtbot.waitUntil(lambda: label.text().startswith("Syncing me@example.com"))
        assert app.window.progress.isVisibleTo(app.window)
    finally:
        release.set()
    qtbot.waitUntil(lambda: not app.scheduler.running, timeout=20_000)
    assert app.window.last_sync_label.text().startswith("Last sync")
    assert services.store.count_appointments() == 5
