"""Sign in with Microsoft, end to end: real MSAL against the test server's identity
endpoints over HTTPS (interactive with a scripted browser, device code), the token
cache kept only in the secret store, silent refresh, and revoked consent."""

from __future__ import annotations

import argparse
import threading
import time

import pytest
import requests

from calsync_desktop.accounts import office365
from calsync_desktop.accounts.base import MemorySecrets
from calsync_desktop.providers.base import BadCredentials, CertificateUntrusted, NeedsSignIn
from calsync_desktop.services import Services
from tests.fakes.graph_server import GraphServer, ScriptedBrowser

from .test_graph_provider import env_for


@pytest.fixture(scope="module")
def graph_server():
    server = GraphServer().start()
    yield server
    server.stop()


@pytest.fixture
def services(tmp_path, clock, graph_server):
    s = Services.create(
        home=tmp_path / "home", secrets=MemorySecrets(), env=env_for(graph_server), clock=clock
    )
    yield s
    s.store.close()


def _approve_device_code(server: GraphServer, message: str, flow: dict) -> None:
    """The user reads the message, opens the page and types the code."""
    assert flow["verification_uri"] in message and flow["user_code"] in message
    page = requests.post(
        flow["verification_uri"],
        data={"otc": flow["user_code"]},
        verify=str(server.ca_bundle),
        timeout=5,
    )
    assert "You have signed in" in page.text


def test_interactive_sign_in_through_the_browser(services, graph_server):
    browser = ScriptedBrowser(graph_server.ca_bundle)
    pending = office365.sign_in(services, open_browser=browser)
    assert browser.error is None
    authorize, redirect = browser.visited
    assert authorize.startswith(graph_server.authority + "/oauth2/v2.0/authorize?")
    assert "code_challenge_method=S256" in authorize and "response_mode=form_post" in authorize
    assert redirect.startswith("http://localhost:")
    assert "Signed in" in browser.final_page
    assert pending.email == "sam@contoso.example"
    assert set(pending.secrets) == {"token_cache"}
    cache = pending.secrets["token_cache"]
    assert "RefreshToken" in cache
    # nothing secret where it should not be
    assert cache not in repr(pending) and "token" not in str(pending.settings).lower()
    assert pending.settings["graph_endpoint"] == graph_server.graph_url
    provider = pending.provider()
    assert provider.account_email() == "sam@contoso.example"
    assert any(c.primary for c in provider.list_calendars())
    account = pending.save("acc-365", calendar_id="")
    assert services.secrets.get("acc-365", "token_cache") == pending.secrets["token_cache"]
    assert services.store.get_account("acc-365").email == "sam@contoso.example"
    assert "RefreshToken" not in services.db_path.read_bytes().decode("utf-8", "replace")
    assert account.kind == "office365"


def test_declined_consent_is_reported(services, graph_server):
    graph_server.user_denies = True
    try:
        with pytest.raises(BadCredentials):
            office365.sign_in(services, open_browser=ScriptedBrowser(graph_server.ca_bundle))
    finally:
        graph_server.user_denies = False


def test_device_code_sign_in(services, graph_server):
    pending = office365.sign_in(
        services,
        device_code_callback=lambda message, flow: _approve_device_code(
            graph_server, message, flow
        ),
        use_device_code=True,
    )
    assert pending.email == "sam@contoso.example"
    assert pending.provider().account_email() == "sam@contoso.example"


def test_cli_device_code(services, graph_server, capsys):
    from calsync_desktop.accounts.kinds import KINDS
    from calsync_desktop.cli.accounts import connect
    from calsync_desktop.cli.kinds import add_field_options

    parser = argparse.ArgumentParser()
    add_field_options(parser, KINDS["office365"])
    parser.set_defaults(kind="office365")
    args = parser.parse_args(["--device-code"])
    before = set(graph_server.device_codes)

    def user():
        deadline = time.time() + 10
        while time.time() < deadline:
            for code, device in list(graph_server.device_codes.items()):
                if code not in before:
                    graph_server.device_login(device.user_code)
                    return
            time.sleep(0.05)

    threading.Thread(target=user, daemon=True).start()
    pending = connect(args, services)
    assert pending.email == "sam@contoso.example"
    assert "enter the code" in capsys.readouterr().out


def _saved_account(services, graph_server):
    browser = ScriptedBrowser(graph_server.ca_bundle)
    pending = office365.sign_in(services, open_browser=browser)
    return pending.save("acc-1")


def test_silent_refresh_keeps_the_cache_in_the_secret_store(services, graph_server):
    account = _saved_account(services, graph_server)
    first = services.secrets.get(account.id, "token_cache")
    graph_server.expire_access_tokens()
    provider = office365.open_provider(account, services)
    assert provider.account_email() == "sam@contoso.example"
    assert services.secrets.get(account.id, "token_cache") != first  # refreshed and saved
    assert graph_server.token_requests[-1]["grant_type"] == "refresh_token"


def test_revoked_consent_needs_sign_in_and_deletes_nothing(services, graph_server):
    account = _saved_account(services, graph_server)
    graph_server.revoke_consent()
    try:
        provider = office365.open_provider(account, services)
        with pytest.raises(NeedsSignIn) as info:
            provider.list_calendars()
        assert "withdrawn" in str(info.value)
        assert services.secrets.get(account.id, "token_cache")
        assert services.store.get_account(account.id) is not None
    finally:
        graph_server.grant_consent()
    # signing in again mends it
    office365.sign_in_again(account, services, open_browser=ScriptedBrowser(graph_server.ca_bundle))
    assert office365.open_provider(account, services).list_calendars()


def test_no_stored_sign_in_needs_sign_in(services):
    from calsync_desktop.accounts.base import Account

    with pytest.raises(NeedsSignIn):
        office365.open_provider(Account("nope", "office365", "x", "x@y.example"), services)


def test_untrusted_sign_in_server_is_reported(tmp_path, clock, graph_server):
    env = env_for(graph_server)
    del env["CALSYNC_CA_BUNDLE"]
    s = Services.create(home=tmp_path / "h2", secrets=MemorySecrets(), env=env, clock=clock)
    try:
        with pytest.raises(CertificateUntrusted):
            office365.sign_in(s, open_browser=ScriptedBrowser(graph_server.ca_bundle))
    finally:
        s.store.close()


def test_settings_then_environment_then_defaults(services, graph_server):
    cfg = office365.config(services, {"client_id": "from-settings"})
    assert cfg["client_id"] == "from-settings"
    assert cfg["authority"] == graph_server.authority
    plain = office365.config(Services.__new__(Services))
    assert plain["authority"] == office365.DEFAULT_AUTHORITY
    assert plain["graph_endpoint"] == "https://graph.microsoft.com/v1.0"
    assert plain["client_id"] == office365.DEFAULT_CLIENT_ID


def test_pkce_is_checked_by_the_server(graph_server):
    from tests.fakes.graph_server import OAuthError

    graph_server.auth_codes.clear()
    graph_server.authorize(
        "organizations",
        {
            "client_id": graph_server.client_id,
            "redirect_uri": "http://localhost:1234",
            "response_type": "code",
            "code_challenge": "abc",
            "code_challenge_method": "S256",
            "response_mode": "form_post",
        },
    )
    (code,) = graph_server.auth_codes
    with pytest.raises(OAuthError) as info:
        graph_server.token(
            "organizations",
            {
                "client_id": graph_server.client_id,
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": "http://localhost:1234",
                "code_verifier": "wrong",
            },
        )
    assert info.value.error == "invalid_grant"


def test_the_server_runs_on_its_own(tmp_path):
    """``python -m tests.fakes.graph_server --port 0``: URL, then CA bundle path."""
    import subprocess
    import sys

    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.graph_server", "--port", "0", "--events", "3"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        base = proc.stdout.readline().strip()
        ca_bundle = proc.stdout.readline().strip()
        assert base.startswith("https://127.0.0.1:")
        config = requests.get(
            f"{base}/organizations/v2.0/.well-known/openid-configuration",
            verify=ca_bundle,
            timeout=5,
        ).json()
        assert config["token_endpoint"] == f"{base}/organizations/oauth2/v2.0/token"
        answer = requests.get(f"{base}/v1.0/me", verify=ca_bundle, timeout=5)
        assert answer.status_code == 401
        assert answer.json()["error"]["code"] == "InvalidAuthenticationToken"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_interaction_required_needs_sign_in(services, graph_server):
    account = _saved_account(services, graph_server)
    graph_server.mfa_required = True
    graph_server.expire_access_tokens()
    try:
        with pytest.raises(NeedsSignIn) as info:
            office365.open_provider(account, services).list_calendars()
        assert "extra sign-in step" in str(info.value)
    finally:
        graph_server.mfa_required = False
