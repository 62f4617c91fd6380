"""The "office365" account kind: Sign in with Microsoft (MSAL), and the Graph provider.

Exchange Online no longer takes passwords for EWS, so Office 365 connects
through Microsoft Graph with an MSAL public client: the system browser with a
loopback redirect (PKCE), or the device code flow when there is no browser.

Secrets: MSAL's token cache (refresh token included) is serialized
(``SerializableTokenCache``) and kept only in the secret store (the OS keyring)
under the name ``token_cache``; it is written back whenever MSAL refreshes a
token. A public client has no client secret.

Endpoints, in order of precedence: the account's settings (``graph_endpoint``,
``authority``, ``ca_bundle``, ``client_id``), then the environment variables
``CALSYNC_GRAPH_ENDPOINT``, ``CALSYNC_MS_AUTHORITY``, ``CALSYNC_CA_BUNDLE`` and
``CALSYNC_MS_CLIENT_ID``, then (for the CA bundle) Settings › Advanced, then
Microsoft's public endpoints and
:data:`DEFAULT_CLIENT_ID`. With an authority other than Microsoft's public
cloud, MSAL's instance discovery (a call to login.microsoftonline.com) is
switched off and the endpoints come from the authority's own
``/v2.0/.well-known/openid-configuration``.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
import webbrowser
from collections.abc import Callable, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import msal
import requests

from calsync_desktop.accounts.base import Account, PendingAccount
from calsync_desktop.accounts.kinds import Interaction, system_browser_available
from calsync_desktop.providers.base import (
    Backoff,
    BadCredentials,
    CertificateUntrusted,
    NeedsSignIn,
    ProviderError,
    Unreachable,
)
from calsync_desktop.providers.graph import DEFAULT_ENDPOINT, SCOPES, GraphProvider

if TYPE_CHECKING:
    from collections.abc import Iterator

    from calsync_desktop.services import Services

log = logging.getLogger(__name__)

DEFAULT_CLIENT_ID = "00000000-0000-0000-0000-000000000000"
"""Placeholder application (client) id, not a secret: public clients have none.

A build registers calsync-desktop as a "Mobile and desktop application" in
Microsoft Entra ID (redirect URI ``http://localhost``, delegated permissions
Calendars.ReadWrite and User.Read) and puts that id here, or users set
``CALSYNC_MS_CLIENT_ID`` / the account's ``client_id`` setting."""
DEFAULT_AUTHORITY = "https://login.microsoftonline.com/organizations"
MICROSOFT_HOSTS = ("login.microsoftonline.com", "login.microsoft.com", "login.windows.net")
ENV = {
    "graph_endpoint": "CALSYNC_GRAPH_ENDPOINT",
    "authority": "CALSYNC_MS_AUTHORITY",
    "ca_bundle": "CALSYNC_CA_BUNDLE",
    "client_id": "CALSYNC_MS_CLIENT_ID",
}
ADVANCED_CA_BUNDLE = "advanced.ca_bundle"
TOKEN_CACHE = "token_cache"
WIZARD_SENTENCE = (
    "Office 365 connects through Microsoft Graph: you sign in with Microsoft in your "
    "browser, and calsync never sees your password."
)
# MSAL answers that mean "the user has to sign in again" (consent revoked,
# password changed, refresh token expired).
_SIGN_IN_ERRORS = {"invalid_grant", "interaction_required", "consent_required", "login_required"}

OpenBrowser = Callable[[str], Any]
DeviceCodeCallback = Callable[[str, dict], Any]


# --------------------------------------------------------------------------- configuration


def config(services: Services, settings: Mapping[str, Any] | None = None) -> dict[str, str]:
    """The endpoints and client id in force: account settings, then env, then defaults."""
    env: Mapping[str, str] = getattr(services, "env", None) or {}
    settings = settings or {}
    out = {
        "graph_endpoint": DEFAULT_ENDPOINT,
        "authority": DEFAULT_AUTHORITY,
        "ca_bundle": "",
        "client_id": DEFAULT_CLIENT_ID,
    }
    for key, variable in ENV.items():
        value = settings.get(key) or env.get(variable)
        if value:
            out[key] = str(value)
    store = getattr(services, "store", None)
    if not out["ca_bundle"] and store is not None:
        # the CA bundle of Settings › Advanced, which the sign-in's and Graph's
        # "not trusted" messages point to
        out["ca_bundle"] = store.get_setting(ADVANCED_CA_BUNDLE, "") or ""
    return out


def _overrides(services: Services) -> dict[str, str]:
    """The non-default settings to keep with a new account."""
    env: Mapping[str, str] = getattr(services, "env", None) or {}
    return {key: env[variable] for key, variable in ENV.items() if env.get(variable)}


class _HttpClient(requests.Session):
    """MSAL's HTTP client, trusting the configured CA bundle on every request.

    MSAL's own ``verify=`` sets ``Session.verify``, which requests lets the
    REQUESTS_CA_BUNDLE variable override; passing it per request keeps it.
    Proxy variables still apply (a corporate proxy needs them).
    """

    def __init__(self, ca_bundle: str | None, timeout: float = 60):
        super().__init__()
        self._ca_bundle = ca_bundle
        self._timeout = timeout

    def request(self, method, url, **kwargs):  # type: ignore[override]
        kwargs.setdefault("timeout", self._timeout)
        if self._ca_bundle:
            kwargs["verify"] = self._ca_bundle
        return super().request(method, url, **kwargs)


class MsalSession:
    """An MSAL public client and its token cache for one account.

    ``token(force)`` is the provider's token source: silent acquisition from the
    cache, refreshing through MSAL when needed; a refused refresh
    (``invalid_grant``, ``interaction_required``) is :class:`NeedsSignIn`.
    Whenever the cache changes, ``on_cache_changed(serialized)`` stores it.
    """

    def __init__(
        self,
        cfg: Mapping[str, str],
        cache_text: str | None = None,
        on_cache_changed: Callable[[str], None] | None = None,
        home_account_id: str | None = None,
    ):
        self.cfg = dict(cfg)
        self.cache = msal.SerializableTokenCache()
        if cache_text:
            try:
                self.cache.deserialize(cache_text)
            except ValueError as exc:
                raise NeedsSignIn(
                    "The stored Microsoft sign-in cannot be read. Sign in again."
                ) from exc
        self.on_cache_changed = on_cache_changed
        self.home_account_id = home_account_id
        self._lock = threading.Lock()
        self._app: msal.PublicClientApplication | None = None

    @property
    def app(self) -> msal.PublicClientApplication:
        if self._app is None:
            authority = self.cfg["authority"]
            known = urlsplit(authority).hostname in MICROSOFT_HOSTS
            try:
                self._app = msal.PublicClientApplication(
                    self.cfg["client_id"],
                    authority=authority,
                    token_cache=self.cache,
                    http_client=_HttpClient(self.cfg.get("ca_bundle") or None),
                    # Instance discovery asks login.microsoftonline.com about the
                    # authority; an authority of one's own (a test server, a
                    # sovereign cloud proxy) is trusted as configured.
                    instance_discovery=None if known else False,
                )
            except requests.exceptions.SSLError as exc:
                raise CertificateUntrusted(
                    "The Microsoft sign-in server's certificate is not trusted. If your "
                    "network inspects TLS, add its CA bundle in Settings › Advanced."
                ) from exc
            except (requests.exceptions.RequestException, ValueError) as exc:
                raise Unreachable("The Microsoft sign-in server could not be reached.") from exc
        return self._app

    def _save(self) -> None:
        if self.cache.has_state_changed and self.on_cache_changed is not None:
            self.on_cache_changed(self.cache.serialize())
            self.cache.has_state_changed = False

    def account(self) -> dict | None:
        accounts = self.app.get_accounts()
        for account in accounts:
            if self.home_account_id in (None, account.get("home_account_id")):
                return account
        return None

    def token(self, force: bool = False) -> str:
        with self._lock:
            account = self.account()
            if account is None:
                raise NeedsSignIn("No Microsoft sign-in is stored for this account. Sign in again.")
            try:
                result = self.app.acquire_token_silent_with_error(
                    SCOPES, account=account, force_refresh=force
                )
            except requests.exceptions.SSLError as exc:
                raise CertificateUntrusted(
                    "The Microsoft sign-in server's certificate is not trusted."
                ) from exc
            except requests.exceptions.RequestException as exc:
                raise Unreachable("The Microsoft sign-in server could not be reached.") from exc
            self._save()
            if not result:
                raise NeedsSignIn("The Microsoft sign-in has expired. Sign in again.")
            if "error" in result:
                raise _error_from(result)
            return result["access_token"]


def _error_from(result: Mapping[str, Any]) -> ProviderError:
    """An MSAL error answer as a provider error (no token, no description with ids)."""
    error = str(result.get("error") or "")
    suberror = result.get("suberror")
    if error in _SIGN_IN_ERRORS or suberror:
        reason = {
            "consent_required": "the permission for calsync-desktop was withdrawn",
            "bad_token": "the sign-in has expired",
            "basic_action": "your organisation asks for an extra sign-in step",
        }.get(str(suberror), "the sign-in is no longer valid")
        return NeedsSignIn(f"Office 365 needs you to sign in again: {reason}.")
    if error in ("access_denied", "authorization_declined"):
        return BadCredentials("The Microsoft sign-in was cancelled or declined.")
    return ProviderError(f"Sign in with Microsoft failed ({error or 'no answer'}).")


# --------------------------------------------------------------------------- pending account


class PendingOffice365Account(PendingAccount):
    """An Office 365 account signed in but not saved: its token cache waits in ``secrets``."""

    kind = "office365"

    def __init__(self, services: Services, email: str, settings: dict, cache_text: str):
        self.services = services
        self.email = email
        self.settings = settings
        self.secrets = {TOKEN_CACHE: cache_text}

    def _session(self) -> MsalSession:
        def keep(text: str) -> None:
            self.secrets[TOKEN_CACHE] = text

        return MsalSession(
            config(self.services, self.settings),
            self.secrets[TOKEN_CACHE],
            keep,
            self.settings.get("home_account_id"),
        )

    def provider(self) -> GraphProvider:
        return _provider(self._session(), "", self.settings, self.services)

    def save(
        self,
        account_id: str,
        name: str | None = None,
        calendar_id: str = "",
        sync_all_private: bool = False,
    ) -> Account:
        """Store the token cache in the secret store and the account in the Sales Calendar."""
        account = Account(
            id=account_id,
            kind=self.kind,
            name=name or self.email,
            email=self.email,
            calendar_id=calendar_id,
            settings=dict(self.settings),
            sync_all_private=sync_all_private,
        )
        save_secrets(self, account_id, self.services)
        return self.services.store.add_account(account)


def save_secrets(pending: PendingOffice365Account, account_id: str, services: Services) -> None:
    """Write the token cache to the secret store (the only place it is kept)."""
    services.secrets.set(account_id, TOKEN_CACHE, pending.secrets[TOKEN_CACHE])


def _provider(
    session: MsalSession, calendar_id: str, settings: Mapping[str, Any], services: Services
) -> GraphProvider:
    cfg = config(services, settings)
    backoff: Backoff | None = getattr(services, "extra", {}).get("office365_backoff")
    return GraphProvider(
        session.token,
        calendar_id=calendar_id,
        endpoint=cfg["graph_endpoint"],
        ca_bundle=cfg["ca_bundle"] or None,
        backoff=backoff,
    )


def open_provider(account: Account, services: Services) -> GraphProvider:
    """The provider for a saved account; refreshed tokens go back to the secret store."""
    cache_text = services.secrets.get(account.id, TOKEN_CACHE)
    if not cache_text:
        raise NeedsSignIn("No Microsoft sign-in is stored for this account. Sign in again.")

    def keep(text: str) -> None:
        services.secrets.set(account.id, TOKEN_CACHE, text)

    session = MsalSession(
        config(services, account.settings),
        cache_text,
        keep,
        account.settings.get("home_account_id"),
    )
    return _provider(session, account.calendar_id, account.settings, services)


# --------------------------------------------------------------------------- sign-in

_browser_names = itertools.count(1)


class _CallbackBrowser(webbrowser.BaseBrowser):
    """Hands the sign-in URL to the caller (the wizard's "open browser", a test's script)."""

    def __init__(self, name: str, callback: OpenBrowser):
        super().__init__(name)
        self.callback = callback

    def open(self, url: str, new: int = 0, autoraise: bool = True) -> bool:
        # MSAL opens the browser before it serves the loopback redirect, so the
        # callback runs on its own thread and may block until it is done.
        threading.Thread(target=self.callback, args=(url,), daemon=True).start()
        return True


@contextmanager
def _browser(open_browser: OpenBrowser | None) -> Iterator[None]:
    """Make ``webbrowser.open`` (which MSAL calls) reach ``open_browser`` for a while.

    MSAL's acquire_token_interactive takes no browser argument; it opens the
    default browser, so ours goes first in the try order, and is removed after.
    """
    if open_browser is None:
        yield
        return
    name = f"calsync-signin-{next(_browser_names)}"
    webbrowser.register(name, None, _CallbackBrowser(name, open_browser), preferred=True)
    try:
        yield
    finally:
        # webbrowser has no public unregister.
        webbrowser._browsers.pop(name, None)
        if webbrowser._tryorder and name in webbrowser._tryorder:
            webbrowser._tryorder.remove(name)


def has_browser() -> bool:
    """Whether a system browser can be opened here (else: device code)."""
    return system_browser_available()


def sign_in(
    services: Services,
    open_browser: OpenBrowser | None = None,
    device_code_callback: DeviceCodeCallback | None = None,
    *,
    use_device_code: bool | None = None,
    login_hint: str | None = None,
    timeout_seconds: int = 300,
) -> PendingOffice365Account:
    """Sign in with Microsoft and return the account, not saved yet.

    Interactive: the system browser (or ``open_browser(url)``) shows Microsoft's
    sign-in page and hands the code back to a loopback redirect (PKCE). Device
    code: ``device_code_callback(message, flow)`` tells the user where to go and
    which code to type; used when ``use_device_code`` is true, or when it is None
    and neither ``open_browser`` nor a system browser is available.
    """
    cfg = config(services)
    session = MsalSession(cfg)
    if use_device_code is None:
        use_device_code = open_browser is None and not has_browser()
    try:
        if use_device_code:
            flow = session.app.initiate_device_flow(scopes=SCOPES)
            if "user_code" not in flow:
                raise _error_from(flow)
            (device_code_callback or _print_device_code)(flow["message"], flow)
            flow["expires_at"] = min(flow.get("expires_at", 0), time.time() + timeout_seconds)
            result = session.app.acquire_token_by_device_flow(flow)
        else:
            with _browser(open_browser):
                result = session.app.acquire_token_interactive(
                    SCOPES,
                    prompt="select_account",
                    login_hint=login_hint,
                    timeout=timeout_seconds,
                    success_template="Signed in. You can close this window and return to "
                    "calsync-desktop.",
                )
    except requests.exceptions.SSLError as exc:
        raise CertificateUntrusted(
            "The Microsoft sign-in server's certificate is not trusted. If your network "
            "inspects TLS, add its CA bundle in Settings › Advanced."
        ) from exc
    except requests.exceptions.RequestException as exc:
        raise Unreachable("The Microsoft sign-in server could not be reached.") from exc
    except msal.exceptions.MsalError as exc:  # e.g. BrowserInteractionTimeoutError
        raise NeedsSignIn(f"Sign in with Microsoft did not finish: {type(exc).__name__}.") from exc
    if not result or "error" in result:
        raise _error_from(result or {})
    claims = result.get("id_token_claims") or {}
    settings = _overrides(services)
    home = (session.account() or {}).get("home_account_id")
    if home:
        settings["home_account_id"] = home
    email = claims.get("preferred_username") or claims.get("email") or ""
    pending = PendingOffice365Account(services, email, settings, session.cache.serialize())
    if not email or "@" not in email:
        provider = pending.provider()
        try:
            pending.email = provider.account_email()
        finally:
            provider.close()
    log.info("Signed in to Office 365 as %s", pending.email)
    return pending


def _print_device_code(message: str, flow: dict) -> None:
    print(message, flush=True)


def sign_in_again(
    account: Account, services: Services, open_browser: OpenBrowser | None = None, **kwargs
) -> Account:
    """Sign an account that needs it in again; the token cache is replaced, nothing else."""
    pending = sign_in(services, open_browser, login_hint=account.email, **kwargs)
    if pending.email.lower() != account.email.lower():
        raise NeedsSignIn(
            f"You signed in as {pending.email}, but this account is {account.email}. "
            "Sign in with the same Microsoft account."
        )
    if pending.settings.get("home_account_id"):
        account.settings["home_account_id"] = pending.settings["home_account_id"]
    save_secrets(pending, account.id, services)
    return account


# --------------------------------------------------------------------------- connecting


def connect_account(
    services: Services, values: Mapping[str, Any], interaction: Interaction | None = None
) -> PendingOffice365Account:
    """The kind's connect step (see :mod:`calsync_desktop.accounts.kinds`): sign in,
    with a device code when asked (``device_code``) or when there is no browser."""
    interaction = interaction or Interaction()
    device = True if values.get("device_code") else None
    if interaction.console and not device and interaction.open_browser is None and has_browser():
        interaction.tell("Your browser was opened to sign in with Microsoft.")
    return sign_in(
        services,
        interaction.open_browser,
        device_code_callback=(
            (lambda message, _flow: interaction.tell(message)) if interaction.show else None
        ),
        use_device_code=device,
    )
