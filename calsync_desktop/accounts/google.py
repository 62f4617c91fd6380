"""The "google" account kind: Sign in with Google, and the provider for a saved account.

Sign-in runs google-auth-oauthlib's ``InstalledAppFlow.run_local_server`` on
127.0.0.1 with a free port, PKCE, offline access and ``prompt=select_account``.
The OAuth client comes from a client-secrets file: the one chosen in Settings ›
Advanced (``advanced.client_secrets_file``), else ``CALSYNC_GOOGLE_CLIENT_SECRETS``,
else the file the build bundles next to this package. No secret is in the source.

The token JSON (access + refresh token) lives only in the secret store under
the name ``token``; refreshed tokens are saved back there. Endpoints can be
pointed elsewhere (a test server, a trial) through the account's settings
(``api_endpoint``, ``auth_uri``, ``token_uri``) or the environment variables
``CALSYNC_GOOGLE_API_ENDPOINT``, ``CALSYNC_GOOGLE_AUTH_URI`` and
``CALSYNC_GOOGLE_TOKEN_URI``.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import os
import threading
import urllib.parse
import webbrowser
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from google.oauth2.credentials import Credentials
from google_auth_oauthlib.flow import InstalledAppFlow, WSGITimeoutError
from oauthlib.oauth2.rfc6749.errors import AccessDeniedError

from calsync_desktop.accounts.base import Account, InvalidDetails, PendingAccount
from calsync_desktop.accounts.kinds import Interaction, system_browser_available
from calsync_desktop.providers.base import Backoff, NeedsSignIn
from calsync_desktop.providers.google import SCOPES, GoogleProvider

if TYPE_CHECKING:
    from calsync_desktop.services import Services

log = logging.getLogger(__name__)

BUNDLED_CLIENT_SECRETS = Path(__file__).resolve().parent.parent / "google_client_secrets.json"
SETTING_CLIENT_SECRETS = "advanced.client_secrets_file"
ENV_CLIENT_SECRETS = "CALSYNC_GOOGLE_CLIENT_SECRETS"
ENV_ENDPOINTS = {
    "api_endpoint": "CALSYNC_GOOGLE_API_ENDPOINT",
    "auth_uri": "CALSYNC_GOOGLE_AUTH_URI",
    "token_uri": "CALSYNC_GOOGLE_TOKEN_URI",
}
CONSUMER_DOMAINS = ("gmail.com", "googlemail.com")
CONSUMER_WARNING = (
    "{email} is a free Google account: participant invite statuses are not guaranteed; "
    "a Google Workspace account is recommended."
)
SUCCESS_PAGE = "Signed in. You can close this window and return to calsync-desktop."

OpenBrowser = Callable[[str], Any]


class NoClientSecrets(InvalidDetails):
    """No usable OAuth client is configured for Google sign-in: none at all, or a
    client-secrets file that is missing, unreadable or not one."""


# --------------------------------------------------------------------------- configuration


def _setting(services: Services, key: str, default: Any = None) -> Any:
    store = getattr(services, "store", None)
    if store is None:
        return default
    try:
        return store.get_setting(key, default)
    except Exception:
        return default


def client_secrets_path(services: Services, explicit: str | os.PathLike | None = None) -> Path:
    """Where the OAuth client comes from: explicit, Settings › Advanced, env, bundled."""
    env: Mapping[str, str] = getattr(services, "env", None) or {}
    for candidate in (
        explicit,
        _setting(services, SETTING_CLIENT_SECRETS),
        env.get(ENV_CLIENT_SECRETS),
    ):
        if candidate:
            return Path(candidate).expanduser()
    if BUNDLED_CLIENT_SECRETS.exists():
        return BUNDLED_CLIENT_SECRETS
    raise NoClientSecrets(
        "No Google OAuth client is configured. Choose a client-secrets file in Settings › Advanced."
    )


def load_client_config(path: Path) -> dict:
    """The OAuth client of a client-secrets file, checked for the parts sign-in needs."""
    if path.is_dir():
        raise NoClientSecrets(f"The Google client-secrets file {path} is a folder, not a file.")
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise NoClientSecrets(f"The Google client-secrets file {path} does not exist.") from None
    except OSError as exc:
        raise NoClientSecrets(
            f"The Google client-secrets file {path} cannot be read ({exc.strerror or exc})."
        ) from None
    except ValueError:  # not UTF-8, or not JSON
        raise NoClientSecrets(
            f"The Google client-secrets file {path} is not JSON: download it again from the "
            "Google Cloud console (APIs & Services › Credentials)."
        ) from None
    section = next(
        (config[k] for k in ("installed", "web") if isinstance(config, dict) and k in config),
        None,
    )
    if not isinstance(section, dict) or not isinstance(section.get("client_id"), str):
        raise NoClientSecrets(f"{path} is not a Google client-secrets file for a desktop app.")
    return config


def endpoints(services: Services, settings: Mapping[str, Any] | None = None) -> dict[str, str]:
    """Endpoint overrides in force: an account's settings first, then the environment."""
    env: Mapping[str, str] = getattr(services, "env", None) or {}
    out = {}
    for key, variable in ENV_ENDPOINTS.items():
        value = (settings or {}).get(key) or env.get(variable)
        if value:
            out[key] = value
    return out


@contextlib.contextmanager
def _allow_loopback_http(token_uri: str) -> Iterator[None]:
    # oauthlib refuses plain http token endpoints unless told otherwise. Only a
    # loopback test server (never a real Google endpoint) is plain http, so we
    # allow it for exactly that case and only while the sign-in runs.
    split = urllib.parse.urlsplit(token_uri)
    loopback = split.scheme == "http" and split.hostname in ("127.0.0.1", "localhost", "::1")
    previous = os.environ.get("OAUTHLIB_INSECURE_TRANSPORT")
    if loopback:
        os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"
    try:
        yield
    finally:
        if loopback:
            if previous is None:
                os.environ.pop("OAUTHLIB_INSECURE_TRANSPORT", None)
            else:
                os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = previous


# --------------------------------------------------------------------------- pending account


class PendingGoogleAccount(PendingAccount):
    """A Google account signed in but not saved: its token waits in ``secrets``."""

    kind = "google"

    def __init__(self, services: Services, email: str, settings: dict, token_json: str):
        self.services = services
        self.email = email
        self.settings = settings
        self.secrets = {"token": token_json}

    def provider(self) -> GoogleProvider:
        credentials = _credentials(self.secrets["token"], self.settings, self.services)

        def keep(c: Credentials) -> None:
            self.secrets["token"] = c.to_json()

        return _provider(credentials, "primary", self.settings, self.services, keep)

    def warnings(self, profile_email: str) -> list[str]:
        out = super().warnings(profile_email)
        domain = self.email.rsplit("@", 1)[-1].lower() if self.email else ""
        if domain in CONSUMER_DOMAINS:
            out.append(CONSUMER_WARNING.format(email=self.email))
        return out


def _credentials(token_json: str, settings: Mapping[str, Any], services: Services) -> Credentials:
    try:
        info = json.loads(token_json)
    except ValueError as exc:
        raise NeedsSignIn("The stored Google sign-in cannot be read. Sign in again.") from exc
    try:
        credentials = Credentials.from_authorized_user_info(info, info.get("scopes") or SCOPES)
    except ValueError as exc:
        raise NeedsSignIn("The stored Google sign-in is incomplete. Sign in again.") from exc
    # google-auth ignores a token_uri stored with the token (so a tampered token
    # file cannot send the refresh token elsewhere); only our own configuration
    # (account settings or environment) may point it at another server.
    overrides = endpoints(services, settings)
    if "token_uri" in overrides:
        credentials = credentials.with_token_uri(overrides["token_uri"])
    return credentials


def _provider(
    credentials: Credentials,
    calendar_id: str,
    settings: Mapping[str, Any],
    services: Services,
    on_change: Callable[[Credentials], None],
    backoff: Backoff | None = None,
) -> GoogleProvider:
    overrides = endpoints(services, settings)
    return GoogleProvider(
        credentials,
        calendar_id or "primary",
        api_endpoint=overrides.get("api_endpoint"),
        backoff=backoff or getattr(services, "extra", {}).get("google_backoff"),
        on_credentials_changed=on_change,
    )


# --------------------------------------------------------------------------- sign-in

_browser_names = itertools.count(1)


class _CallbackBrowser(webbrowser.BaseBrowser):
    """Hands the consent URL to the caller (the wizard's "open browser", a test's script)."""

    def __init__(self, callback: OpenBrowser):
        super().__init__("calsync-callback")
        self.callback = callback

    def open(self, url: str, new: int = 0, autoraise: bool = True) -> bool:
        # run_local_server opens the browser *before* it waits for the redirect,
        # so the callback runs on its own thread and may block until it is done.
        threading.Thread(target=self.callback, args=(url,), daemon=True).start()
        return True


def sign_in(
    services: Services,
    open_browser: OpenBrowser | None = None,
    *,
    client_secrets: str | os.PathLike | None = None,
    no_browser: bool = False,
    prompt_message: str | None = None,
    timeout_seconds: float | None = 300,
) -> PendingGoogleAccount:
    """Sign in with Google in the browser and return the account, not saved yet.

    ``open_browser(url)`` shows the consent page (default: the system browser).
    With ``no_browser`` nothing is opened and ``prompt_message`` (with ``{url}``)
    is printed for the user to open by hand.
    """
    path = client_secrets_path(services, client_secrets)
    config = load_client_config(path)
    section = "installed" if "installed" in config else "web"
    overrides = endpoints(services)
    for key in ("auth_uri", "token_uri"):
        if key in overrides:
            config[section][key] = overrides[key]
        elif not isinstance(config[section].get(key), str):
            raise NoClientSecrets(f"{path} has no {key}: it is not a complete client-secrets file.")
    flow = InstalledAppFlow.from_client_config(config, SCOPES, autogenerate_code_verifier=True)
    browser_name = None
    if open_browser is not None and not no_browser:
        browser_name = f"calsync-signin-{next(_browser_names)}"
        webbrowser.register(browser_name, None, _CallbackBrowser(open_browser))
    try:
        with _allow_loopback_http(config[section]["token_uri"]):
            credentials = flow.run_local_server(
                host="127.0.0.1",
                port=0,
                open_browser=not no_browser,
                browser=browser_name,
                authorization_prompt_message=prompt_message,
                success_message=SUCCESS_PAGE,
                timeout_seconds=timeout_seconds,
                access_type="offline",
                prompt="select_account",
            )
    except WSGITimeoutError as exc:
        raise NeedsSignIn("Sign in with Google timed out before the browser came back.") from exc
    except AccessDeniedError as exc:
        raise NeedsSignIn("Google sign-in was cancelled or access was not allowed.") from exc
    except webbrowser.Error as exc:
        raise NeedsSignIn(
            "No web browser could be opened for Sign in with Google; "
            "use `calsync accounts add google --no-browser`."
        ) from exc
    except Exception as exc:  # oauthlib, requests and wsgiref errors alike
        raise NeedsSignIn(f"Sign in with Google did not finish: {type(exc).__name__}.") from exc
    finally:
        if browser_name is not None:
            webbrowser._browsers.pop(browser_name.lower(), None)
    settings = dict(overrides)
    if client_secrets:
        settings["client_secrets_file"] = str(path)
    pending = PendingGoogleAccount(services, "", settings, credentials.to_json())
    provider = pending.provider()
    try:
        pending.email = provider.account_email()
    finally:
        provider.close()
    log.info("Signed in to Google Calendar as %s", pending.email)
    return pending


def sign_in_again(
    account: Account, services: Services, open_browser: OpenBrowser | None = None
) -> Account:
    """Sign an account that needs it in again; the token is replaced, nothing else changes."""
    pending = sign_in(
        services, open_browser, client_secrets=account.settings.get("client_secrets_file")
    )
    if pending.email.lower() != account.email.lower():
        raise NeedsSignIn(
            f"You signed in as {pending.email}, but this account is {account.email}. "
            "Sign in with the same Google account."
        )
    services.secrets.set(account.id, "token", pending.secrets["token"])
    return account


def open_provider(account: Account, services: Services) -> GoogleProvider:
    """The provider for a saved account; refreshed tokens go back to the secret store."""
    token_json = services.secrets.get(account.id, "token")
    if not token_json:
        raise NeedsSignIn("No Google sign-in is stored for this account. Sign in again.")
    credentials = _credentials(token_json, account.settings, services)

    def keep(c: Credentials) -> None:
        services.secrets.set(account.id, "token", c.to_json())

    return _provider(credentials, account.calendar_id, account.settings, services, keep)


# --------------------------------------------------------------------------- connecting


def connect_account(
    services: Services, values: Mapping[str, Any], interaction: Interaction | None = None
) -> PendingGoogleAccount:
    """The kind's connect step (see :mod:`calsync_desktop.accounts.kinds`): sign in.

    Without a browser to hand the consent page to (``no_browser``, or none on
    this machine), a console prints the address to open by hand.
    """
    interaction = interaction or Interaction()
    open_browser = interaction.open_browser
    # a window without a browser says so (webbrowser.Error); a console prints the address
    no_browser = bool(values.get("no_browser")) or (
        interaction.console and open_browser is None and not system_browser_available()
    )
    prompt = None
    if interaction.console and open_browser is None:
        prompt = (
            "Open this address in a browser to sign in with Google:\n{url}"
            if no_browser
            else "Your browser was opened to sign in with Google. If it was not, open:\n{url}"
        )
    return sign_in(
        services,
        open_browser,
        client_secrets=values.get("client_secrets"),
        no_browser=no_browser,
        prompt_message=prompt,
    )
