"""No logger, ours or a library's, writes a sign-in code, a token or a password
to calsync-desktop.log (issue 10, item 13).

Each real sign-in runs against its test server with the log at DEBUG: Google's
loopback flow (google-auth-oauthlib's run_local_server), Microsoft's
authorization code and device code flows (MSAL), and an Exchange password
(exchangelib, Basic and NTLM). Afterwards the log file is read for every code,
token and password the run used. Each flow runs twice: as the app sets it up
(libraries quieted, lines redacted), and with every library logger turned up
to DEBUG again, so that the redaction alone is shown to hold.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import urllib.parse

import pytest
import requests

from calsync_desktop.accounts import exchange, google, office365, save_account
from calsync_desktop.accounts.base import MemorySecrets
from calsync_desktop.accounts.kinds import Interaction
from calsync_desktop.logs import QUIET_LOGGERS, redact
from calsync_desktop.services import Services
from calsync_desktop.sync.runner import SyncRunner

PLANTED_CLIENT_SECRET = "GOCSPX-planted-client-secret-7781"
PLANTED_PASSWORD = "Pl4nted-Exchange-Passw0rd!"


@pytest.fixture(params=["as set up", "libraries at DEBUG"])
def log_setup(request):
    """Restores logging afterwards; says whether to turn the libraries up again."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    levels = {name: logging.getLogger(name).level for name in QUIET_LOGGERS}
    yield request.param == "libraries at DEBUG"
    for handler in set(root.handlers) - set(handlers):
        root.removeHandler(handler)
        handler.close()
    root.setLevel(level)
    for name, old in levels.items():
        logging.getLogger(name).setLevel(old)


def start_log(services: Services, loud: bool):
    path = services.setup_logging(logging.DEBUG)
    if loud:
        for name in QUIET_LOGGERS:
            logging.getLogger(name).setLevel(logging.DEBUG)
    return path


def read_log(path) -> str:
    for handler in logging.getLogger().handlers:
        handler.flush()
    return path.read_text(encoding="utf-8")


def assert_none_in(log: str, secrets: dict[str, str]) -> None:
    leaked = {what: value for what, value in secrets.items() if value and value in log}
    assert not leaked, (leaked, log[-3000:])


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in urllib.parse.parse_qs(urllib.parse.urlsplit(url).query).items()}


# --------------------------------------------------------------------------- Google


class RecordingGoogleBrowser:
    """A browser for the Google test server that remembers the consent address and
    the authorization code it carried back."""

    def __init__(self):
        self.consent = ""
        self.callback = ""
        self.errors: list[BaseException] = []

    def __call__(self, url: str) -> None:
        self.consent = url
        try:
            answer = requests.get(url, allow_redirects=False, timeout=10)
            self.callback = answer.headers["Location"]
            requests.get(self.callback, timeout=10)
        except BaseException as exc:
            self.errors.append(exc)


def test_google_sign_in_leaves_no_code_or_token_in_the_log(tmp_path, clock, log_setup):
    from tests.fakes.google_calendar import GoogleCalendarServer

    with GoogleCalendarServer("ann.seller@example.com") as server:
        server.client_secret = PLANTED_CLIENT_SECRET
        secrets_file = tmp_path / "client_secret.json"
        secrets_file.write_text(json.dumps(server.client_config()))
        env = {
            "CALSYNC_GOOGLE_API_ENDPOINT": server.api_endpoint,
            "CALSYNC_GOOGLE_AUTH_URI": server.auth_uri,
            "CALSYNC_GOOGLE_TOKEN_URI": server.token_uri,
        }
        services = Services.create(
            home=tmp_path / "h", secrets=MemorySecrets(), env=env, clock=clock
        )
        try:
            path = start_log(services, log_setup)
            browser = RecordingGoogleBrowser()
            pending = google.connect_account(
                services,
                {"client_secrets": str(secrets_file)},
                Interaction(open_browser=browser),
            )
            assert not browser.errors and pending.email == "ann.seller@example.com"
            account = save_account(services, pending, calendar_id="primary")
            server.expire_access_tokens()  # the sync refreshes: a second access token
            assert SyncRunner(services).sync_account(account.id).errors == []
            token = json.loads(services.secrets.get(account.id, "token"))
            first = json.loads(pending.secrets["token"])
            log = read_log(path)
        finally:
            services.store.close()
    callback, consent = query(browser.callback), query(browser.consent)
    assert "Signed in to Google Calendar as ann.seller@example.com" in log
    assert_none_in(
        log,
        {
            "authorization code": callback["code"],
            "state": consent["state"],
            "code challenge": consent["code_challenge"],
            "consent address": browser.consent,
            "client secret": PLANTED_CLIENT_SECRET,
            "access token": first["token"],
            "refreshed access token": token["token"],
            "refresh token": token["refresh_token"],
        },
    )


# --------------------------------------------------------------------------- Microsoft


class RecordingMicrosoftBrowser:
    """A browser for the Graph test server's sign-in page that remembers what its
    form handed back to the loopback redirect (the authorization code)."""

    def __init__(self, ca_bundle):
        self.ca_bundle = str(ca_bundle)
        self.address = ""
        self.handed_back: dict[str, str] = {}
        self.errors: list[BaseException] = []

    def __call__(self, url: str) -> None:
        from tests.fakes.graph_server import _Form

        self.address = url
        try:
            page = requests.get(url, verify=self.ca_bundle, timeout=10)
            form = _Form()
            form.feed(page.text)
            self.handed_back = dict(form.fields)
            requests.post(form.action, data=form.fields, timeout=10)
        except BaseException as exc:
            self.errors.append(exc)


@pytest.fixture(scope="module")
def graph_server():
    from tests.fakes.graph_server import GraphServer

    server = GraphServer().start()
    yield server
    server.stop()


def microsoft_services(tmp_path, graph_server, clock) -> Services:
    from tests.providers.test_graph_provider import env_for

    return Services.create(
        home=tmp_path / "m", secrets=MemorySecrets(), env=env_for(graph_server), clock=clock
    )


def tokens_of(cache_text: str) -> dict[str, str]:
    cache = json.loads(cache_text)
    out = {}
    for section in ("AccessToken", "RefreshToken", "IdToken"):
        for n, entry in enumerate(cache.get(section, {}).values()):
            out[f"{section} {n}"] = entry["secret"]
    return out


def test_microsoft_sign_in_with_the_browser_leaves_no_code_or_token_in_the_log(
    tmp_path, graph_server, clock, log_setup
):
    services = microsoft_services(tmp_path, graph_server, clock)
    try:
        path = start_log(services, log_setup)
        browser = RecordingMicrosoftBrowser(graph_server.ca_bundle)
        pending = office365.connect_account(services, {}, Interaction(open_browser=browser))
        assert not browser.errors and pending.email == "sam@contoso.example"
        account = save_account(services, pending)
        graph_server.expire_access_tokens() if hasattr(
            graph_server, "expire_access_tokens"
        ) else None
        assert SyncRunner(services).sync_account(account.id).errors == []
        cache = services.secrets.get(account.id, "token_cache")
        log = read_log(path)
    finally:
        services.store.close()
    assert "Signed in to Office 365 as sam@contoso.example" in log
    secrets = {"authorization code": browser.handed_back.get("code", "")}
    secrets.update(tokens_of(cache))
    secrets.update({f"issued {n}": t for n, t in enumerate(graph_server.access_tokens)})
    secrets.update({f"refresh {n}": t for n, t in enumerate(graph_server.refresh_tokens)})
    assert secrets["authorization code"]
    assert_none_in(log, secrets)


def test_microsoft_sign_in_with_a_device_code_leaves_no_code_or_token_in_the_log(
    tmp_path, graph_server, clock, log_setup
):
    services = microsoft_services(tmp_path, graph_server, clock)
    seen: dict[str, str] = {}
    before = set(graph_server.device_codes)

    def user():
        deadline = time.time() + 10
        while time.time() < deadline:
            for code, device in list(graph_server.device_codes.items()):
                if code not in before:
                    seen.update(device_code=code, user_code=device.user_code)
                    graph_server.device_login(device.user_code)
                    return
            time.sleep(0.05)

    try:
        path = start_log(services, log_setup)
        threading.Thread(target=user, daemon=True).start()
        shown: list[str] = []
        pending = office365.connect_account(
            services, {"device_code": True}, Interaction(show=shown.append)
        )
        assert seen and seen["user_code"] in shown[0]  # the person is told the code…
        cache = pending.secrets["token_cache"]
        log = read_log(path)
    finally:
        services.store.close()
    assert "Signed in to Office 365 as sam@contoso.example" in log
    secrets = dict(seen)  # … the log is not
    secrets.update(tokens_of(cache))
    assert_none_in(log, secrets)


# --------------------------------------------------------------------------- Exchange


@pytest.mark.parametrize("auth", [("Basic",), ("NTLM", "Basic")], ids=["basic", "ntlm"])
def test_an_exchange_password_never_reaches_the_log(tmp_path, clock, log_setup, auth):
    from calsync_desktop.providers.base import BadCredentials
    from tests.fakes.ews_server import EwsServer

    server = EwsServer(password=PLANTED_PASSWORD, auth_methods=auth)
    server.start()
    services = Services.create(home=tmp_path / "x", secrets=MemorySecrets(), env={}, clock=clock)
    try:
        path = start_log(services, log_setup)
        with pytest.raises(BadCredentials):
            exchange.validate(services, server.url, "alice", PLANTED_PASSWORD[::-1])
        pending = exchange.connect_account(
            services, {"server_url": server.url, "username": "alice", "password": PLANTED_PASSWORD}
        )
        account = save_account(services, pending)
        assert SyncRunner(services).sync_account(account.id).errors == []
        log = read_log(path)
    finally:
        services.store.close()
        server.stop()
    assert "Connected to Exchange Server as alice@example.com" in log
    import base64

    basic = base64.b64encode(f"alice:{PLANTED_PASSWORD}".encode()).decode()
    assert_none_in(
        log,
        {
            "password": PLANTED_PASSWORD,
            "the wrong one": PLANTED_PASSWORD[::-1],
            "Basic credentials": basic,
        },
    )


# --------------------------------------------------------------------------- the redaction itself


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        # google-auth-oauthlib's callback line and consent address, word for word
        (
            '127.0.0.1 - - [x] "GET /?state=St4te&code=4/0AbCdEfGhIjKlMn&scope=x HTTP/1.1" 200 65',
            "4/0AbCdEfGhIjKlMn",
        ),
        (
            "Please visit this URL to authorize: https://a/auth?client_id=c&code_challenge=Ch4ll3nge",
            "Ch4ll3nge",
        ),
        (
            "Supplying data code=xyz123&client_secret=GOCSPX-s3cr3t&code_verifier=v3r1f13r",
            "GOCSPX-s3cr3t",
        ),
        (
            "{'access_token': 'ya29.a0Af-token', 'refresh_token': '1//0gRefresh-token'}",
            "ya29.a0Af-token",
        ),
        ('{"refresh_token": "1//0gRefresh-token", "expires_in": 3599}', "1//0gRefresh-token"),
        ('{"token": "abc\\"def", "scopes": []}', 'abc\\"def'),
        ("{'Authorization': 'Basic YWxpY2U6c2VjcmV0'}", "YWxpY2U6c2VjcmV0"),
        ("Authorization: Bearer eyJ0eXAi.abcdefgh.ijklmnop", "abcdefgh"),
        ("headers={'authorization': 'NTLM TlRMTVNTUAADAAAAGAAYA'}", "TlRMTVNTUAADAAAAGAAYA"),
        ("<t:Password>hunter2</t:Password>", "hunter2"),
        ("id token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln in the cache", "eyJzdWIiOiIxIn0"),
        ("device_code=DAQABAAEAAAxyz&user_code=ABCD12345", "ABCD12345"),
    ],
)
def test_a_line_that_holds_a_secret_is_redacted(line, secret):
    cleaned = redact(line)
    assert secret not in cleaned and "[redacted]" in cleaned


@pytest.mark.parametrize(
    "line",
    [
        "Synced Work: 3 create remotely; 1 conflict(s) resolved",
        "GET /calendar/v3/calendars/primary/events?maxResults=250 200",
        "Sync of Work failed: The server cannot be reached.",
    ],
)
def test_a_line_without_secrets_is_left_as_it_is(line):
    assert redact(line) == line


def test_a_library_logging_the_callback_line_is_redacted_in_the_file(tmp_path, log_setup):
    services = Services.create(home=tmp_path / "r", secrets=MemorySecrets(), env={})
    try:
        path = start_log(services, log_setup)
        flow = logging.getLogger("google_auth_oauthlib.flow")
        flow.warning('"GET /?state=%s&code=%s HTTP/1.1" 200', "St4te-planted", "4/planted-code-123")
        try:
            raise RuntimeError("token endpoint said: refresh_token=1//planted-refresh-xyz")
        except RuntimeError:
            logging.getLogger("calsync_desktop.test").exception("sign-in failed")
        log = read_log(path)
    finally:
        services.store.close()
    assert "sign-in failed" in log and "RuntimeError" in log
    assert_none_in(
        log,
        {
            "state": "St4te-planted",
            "code": "4/planted-code-123",
            "refresh": "1//planted-refresh-xyz",
        },
    )
    assert re.search(r"code=\[redacted\]", log)
