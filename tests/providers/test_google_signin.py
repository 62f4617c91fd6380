"""Sign in with Google end to end: the real ``InstalledAppFlow.run_local_server``
against the test server's OAuth endpoints, with a scripted browser."""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import io
import json
import threading
import urllib.parse
from datetime import timedelta

import pytest
import requests

from calsync_desktop import cli
from calsync_desktop.accounts import google as google_account
from calsync_desktop.accounts import save_account
from calsync_desktop.accounts.base import Account, MemorySecrets
from calsync_desktop.providers.base import NeedsSignIn
from calsync_desktop.services import Services
from tests.fakes.google_calendar import GoogleCalendarServer

from .contract import WINDOW


class ScriptedBrowser:
    """Opens the consent URL like a browser would: follows the authorize redirect
    back to the app's loopback server and reads the page it answers."""

    def __init__(self):
        self.urls: list[str] = []
        self.pages: list[str] = []
        self.errors: list[BaseException] = []
        self.done = threading.Event()

    def __call__(self, url: str) -> None:
        self.urls.append(url)
        try:
            consent = requests.get(url, allow_redirects=False, timeout=10)
            assert consent.status_code == 302, consent.text
            back = requests.get(consent.headers["Location"], timeout=10)
            self.pages.append(back.text)
        except BaseException as exc:
            self.errors.append(exc)
        finally:
            self.done.set()


@pytest.fixture
def server():
    with GoogleCalendarServer("ann.seller@example.com") as s:
        yield s


@pytest.fixture
def google_services(tmp_path, server, clock):
    secrets_file = tmp_path / "client_secret.json"
    secrets_file.write_text(json.dumps(server.client_config()))
    env = {
        "CALSYNC_GOOGLE_API_ENDPOINT": server.api_endpoint,
        "CALSYNC_GOOGLE_AUTH_URI": server.auth_uri,
        "CALSYNC_GOOGLE_TOKEN_URI": server.token_uri,
    }
    services = Services.create(
        home=tmp_path / "home", secrets=MemorySecrets(), env=env, clock=clock
    )
    services.store.set_setting("advanced.client_secrets_file", str(secrets_file))
    yield services
    services.store.close()


def test_first_sign_in_runs_the_real_loopback_flow(server, google_services):
    browser = ScriptedBrowser()
    pending = google_account.sign_in(google_services, open_browser=browser, timeout_seconds=20)
    assert not browser.errors
    assert pending.email == "ann.seller@example.com"
    asked = server.authorize_requests[-1]
    assert asked["prompt"] == "select_account"
    assert asked["access_type"] == "offline"
    assert asked["code_challenge_method"] == "S256"
    redirect = urllib.parse.urlsplit(asked["redirect_uri"])
    assert redirect.hostname == "127.0.0.1" and redirect.port
    assert "Signed in" in browser.pages[0]
    token = json.loads(pending.secrets["token"])
    assert token["refresh_token"]
    assert token["token_uri"] == server.token_uri
    # secrets never show
    assert token["refresh_token"] not in repr(pending)
    assert pending.settings["api_endpoint"] == server.api_endpoint


def test_saved_account_keeps_the_token_only_in_the_secret_store(server, google_services):
    pending = google_account.sign_in(
        google_services, open_browser=ScriptedBrowser(), timeout_seconds=20
    )
    account = save_account(google_services, pending)
    token = google_services.secrets.get(account.id, "token")
    assert json.loads(token)["refresh_token"]
    stored = google_services.store.get_account(account.id)
    assert json.loads(token)["refresh_token"] not in json.dumps(stored.settings)
    assert not list(google_services.data_dir.glob("*.json"))
    raw = google_services.db_path.read_bytes()
    assert json.loads(token)["refresh_token"].encode() not in raw
    provider = google_account.open_provider(account, google_services)
    assert provider.account_email() == "ann.seller@example.com"


def test_refreshed_token_is_saved_back(server, google_services):
    pending = google_account.sign_in(
        google_services, open_browser=ScriptedBrowser(), timeout_seconds=20
    )
    account = save_account(google_services, pending)
    before = json.loads(google_services.secrets.get(account.id, "token"))["token"]
    server.expire_access_tokens()
    provider = google_account.open_provider(account, google_services)
    assert provider.changes(WINDOW, None).complete
    after = json.loads(google_services.secrets.get(account.id, "token"))
    assert after["token"] != before
    assert after["refresh_token"]
    assert server.requests.count(("POST", "/token")) == 2  # sign-in + one refresh


def test_revoked_grant_needs_sign_in_and_sign_in_again_fixes_it(server, google_services):
    pending = google_account.sign_in(
        google_services, open_browser=ScriptedBrowser(), timeout_seconds=20
    )
    account = save_account(google_services, pending)
    server.revoke()
    server.expire_access_tokens()
    provider = google_account.open_provider(account, google_services)
    with pytest.raises(NeedsSignIn):
        provider.changes(WINDOW, None)
    google_account.sign_in_again(account, google_services, open_browser=ScriptedBrowser())
    provider = google_account.open_provider(account, google_services)
    assert provider.changes(WINDOW, None).complete


def test_sign_in_again_with_another_account_is_refused(server, google_services):
    account = Account(id="x", kind="google", name="x", email="someone.else@example.com")
    with pytest.raises(NeedsSignIn, match="same Google account"):
        google_account.sign_in_again(account, google_services, open_browser=ScriptedBrowser())


def test_refused_consent_is_explained(server, google_services):
    server.deny_consent = True
    with pytest.raises(NeedsSignIn, match="cancelled or access was not allowed"):
        google_account.sign_in(google_services, open_browser=ScriptedBrowser(), timeout_seconds=20)


def test_a_browser_that_never_comes_back_times_out(google_services):
    with pytest.raises(NeedsSignIn, match="timed out"):
        google_account.sign_in(google_services, open_browser=lambda url: None, timeout_seconds=0.3)


def test_no_stored_token_needs_sign_in(google_services):
    account = Account(id="nothing", kind="google", name="x", email="a@example.com")
    with pytest.raises(NeedsSignIn):
        google_account.open_provider(account, google_services)


def test_token_endpoint_checks_pkce(server):
    verifier = "v" * 50
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    )
    params = {
        "client_id": server.client_id,
        "redirect_uri": "http://127.0.0.1:9/",
        "response_type": "code",
        "scope": "x",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "access_type": "offline",
    }

    def code():
        answer = requests.get(server.auth_uri, params=params, allow_redirects=False, timeout=5)
        return urllib.parse.parse_qs(urllib.parse.urlsplit(answer.headers["Location"]).query)[
            "code"
        ][0]

    form = {
        "grant_type": "authorization_code",
        "client_id": server.client_id,
        "client_secret": server.client_secret,
        "redirect_uri": "http://127.0.0.1:9/",
    }
    wrong = requests.post(
        server.token_uri, data={**form, "code": code(), "code_verifier": "w" * 50}, timeout=5
    )
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    right = requests.post(
        server.token_uri, data={**form, "code": code(), "code_verifier": verifier}, timeout=5
    )
    assert right.status_code == 200 and right.json()["refresh_token"]
    refreshed = requests.post(
        server.token_uri,
        data={
            "grant_type": "refresh_token",
            "refresh_token": right.json()["refresh_token"],
            "client_id": server.client_id,
            "client_secret": server.client_secret,
        },
        timeout=5,
    )
    assert refreshed.status_code == 200
    server.revoke(right.json()["refresh_token"])
    revoked = requests.post(
        server.token_uri,
        data={
            "grant_type": "refresh_token",
            "refresh_token": right.json()["refresh_token"],
            "client_id": server.client_id,
            "client_secret": server.client_secret,
        },
        timeout=5,
    )
    assert revoked.json() == {
        "error": "invalid_grant",
        "error_description": "Token has been expired or revoked.",
    }


def test_authorize_refuses_a_non_loopback_redirect(server):
    answer = requests.get(
        server.auth_uri,
        params={
            "client_id": server.client_id,
            "redirect_uri": "https://evil.example/",
            "response_type": "code",
        },
        allow_redirects=False,
        timeout=5,
    )
    assert answer.status_code == 400


def test_consumer_account_is_warned_about(google_services):
    pending = google_account.PendingGoogleAccount(google_services, "someone@gmail.com", {}, "{}")
    warnings = pending.warnings("someone@gmail.com")
    assert len(warnings) == 1
    assert (
        "participant invite statuses are not guaranteed; a Google Workspace account is recommended"
        in warnings[0]
    )
    work = google_account.PendingGoogleAccount(google_services, "ann@company.example", {}, "{}")
    assert work.warnings("ann@company.example") == []
    assert len(work.warnings("other@company.example")) == 1  # the profile-email warning


def test_missing_client_secrets_is_explained(tmp_path, clock, monkeypatch):
    monkeypatch.setattr(google_account, "BUNDLED_CLIENT_SECRETS", tmp_path / "nope.json")
    services = Services.create(home=tmp_path / "h", secrets=MemorySecrets(), env={}, clock=clock)
    with pytest.raises(google_account.NoClientSecrets, match="Settings › Advanced"):
        google_account.sign_in(services)
    services.store.close()


def test_cli_without_browser_prints_the_address(server, google_services):
    """``accounts add google --no-browser``: the user opens the printed address by hand."""
    browser = ScriptedBrowser()
    from calsync_desktop.accounts.kinds import KINDS
    from calsync_desktop.cli.accounts import connect
    from calsync_desktop.cli.kinds import add_field_options

    parser = argparse.ArgumentParser()
    add_field_options(parser, KINDS["google"])
    parser.set_defaults(kind="google")
    args = parser.parse_args(["--no-browser"])
    out = _watching_stdout(server, browser)
    with contextlib.redirect_stdout(out):
        pending = connect(args, google_services)
    assert "Open this address in a browser" in out.getvalue()
    assert browser.done.wait(5) and not browser.errors
    assert pending.email == "ann.seller@example.com"


def _watching_stdout(server, browser):
    class Watcher(io.StringIO):
        def write(self, text):
            for word in text.split():
                if word.startswith(server.auth_uri):
                    threading.Thread(target=browser, args=(word,), daemon=True).start()
            return super().write(text)

    return Watcher()


def test_cli_add_list_sync_remove(server, google_services):
    """``calsync accounts add google``, ``accounts list``, ``sync``, ``accounts remove``."""
    made = server.insert_event(
        {
            "summary": "Call from Google",
            "start": {"dateTime": "2026-11-25T10:00:00+01:00", "timeZone": "Europe/Berlin"},
            "end": {"dateTime": "2026-11-25T11:00:00+01:00", "timeZone": "Europe/Berlin"},
        }
    )
    browser = ScriptedBrowser()
    out = _watching_stdout(server, browser)
    with contextlib.redirect_stdout(out):
        code = cli.main(["accounts", "add", "google", "--no-browser"], services=google_services)
    assert code == 0, out.getvalue()
    assert "Saved" in out.getvalue() and browser.done.is_set()
    (account,) = google_services.store.list_accounts()
    assert account.kind == "google" and account.email == "ann.seller@example.com"
    assert account.calendar_id == "ann.seller@example.com"
    listing = io.StringIO()
    with contextlib.redirect_stdout(listing):
        assert cli.main(["accounts", "list"], services=google_services) == 0
    assert "ann.seller@example.com" in listing.getvalue()
    token = json.loads(google_services.secrets.get(account.id, "token"))
    assert token["refresh_token"] not in listing.getvalue()
    with contextlib.redirect_stdout(io.StringIO()):
        assert cli.main(["sync"], services=google_services) == 0
    titles = [
        a.contents
        for a in google_services.store.appointments_between(
            google_services.clock() - timedelta(days=30),
            google_services.clock() + timedelta(days=30),
        )
    ]
    assert titles == ["Call from Google"]
    assert made["id"] in {
        r.remote_id for r in google_services.store.all_status(account.id).values()
    }
    with contextlib.redirect_stdout(io.StringIO()):
        assert cli.main(["accounts", "remove", account.id], services=google_services) == 0
    assert google_services.store.list_accounts() == []
    assert google_services.secrets.get(account.id, "token") is None
