"""The "exchange" account kind: an Exchange Server mailbox over EWS.

``validate`` really connects to the calendar folder before anything is saved
and turns every failure into one plain sentence: bad credentials show exactly
:data:`BAD_CREDENTIALS`; an unreachable server, an address that is not EWS, an
untrusted TLS certificate (suggesting a CA bundle) and a timeout each have
their own. Office 365 (``outlook.office365.com``) no longer takes passwords for
EWS, so that host is explained instead of failing with a bare 401. A plain
``http://`` address is refused before anything is sent, except on this
computer (a loopback address): the password would cross the network unencrypted.

The password lives only in the secret store, under the name ``password``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from calsync_desktop.accounts.base import (
    Account,
    BelongsToAnotherKind,
    InvalidDetails,
    PendingAccount,
    check_server_url,
)
from calsync_desktop.accounts.kinds import Interaction, Suggestion
from calsync_desktop.providers.base import (
    BadCredentials,
    NeedsSignIn,
    NotACalendarService,
)
from calsync_desktop.providers.ews import ConnectionSettings, ExchangeProvider

if TYPE_CHECKING:
    from calsync_desktop.services import Services

log = logging.getLogger(__name__)

KIND = "exchange"
BAD_CREDENTIALS = (
    "Failed to validate access to the server with your credentials, please review your details"
)
OFFICE365_HOSTS = ("outlook.office365.com", "outlook.office.com")
DEFAULT_TIMEOUT = 60.0
CA_BUNDLE_ENV = "CALSYNC_EWS_CA_BUNDLE"
TIMEOUT_ENV = "CALSYNC_EWS_TIMEOUT"


OFFICE365_KIND = "office365"
OFFICE365_SUGGESTION = (
    "This is Office 365. Office 365 no longer accepts passwords for this kind of "
    "connection: add it as Office 365 and sign in with Microsoft instead."
)
FULL_ADDRESS = "Enter the full EWS address, for example https://mail.example.com/EWS/Exchange.asmx."


class NeedsMicrosoftSignIn(BelongsToAnotherKind):
    """The address is Office 365, which connects through "Sign in with Microsoft"."""

    def __init__(self, message: str):
        super().__init__(message, OFFICE365_KIND)


class MissingPassword(NeedsSignIn):
    """No password for this account in the secret store."""


class PendingExchangeAccount(PendingAccount):
    """A validated Exchange account, not saved yet. The password stays in
    ``secrets`` (never in ``settings``) until the caller saves it."""

    kind = KIND

    def __init__(self, email: str, settings: dict, password: str):
        self.email = email
        self.settings = settings
        self.secrets = {"password": password}

    def provider(self) -> ExchangeProvider:
        return _provider(self.settings, self.email, self.secrets["password"])


def _timeout(services: Any, timeout: float | None) -> float:
    if timeout is not None:
        return timeout
    env = getattr(services, "env", None) or {}
    try:
        return float(env.get(TIMEOUT_ENV, DEFAULT_TIMEOUT))
    except ValueError:
        return DEFAULT_TIMEOUT


def _provider(settings: dict, email: str, password: str, calendar_id: str = "") -> ExchangeProvider:
    connection = ConnectionSettings(
        server_url=settings["server_url"],
        username=settings["username"],
        password=password,
        email=email,
        ca_bundle=settings.get("ca_bundle") or None,
        timeout=float(settings.get("timeout", DEFAULT_TIMEOUT)),
    )
    return ExchangeProvider(connection, calendar_id=calendar_id, settings=settings)


def check_url(server_url: str) -> str:
    """The URL as given, checked for shape before anything is sent: https (plain
    http only to this computer); Office 365 is explained."""
    url, host = check_server_url(
        server_url.strip(), "An Exchange server", FULL_ADDRESS, " (ask IT if unsure)"
    )
    if host.lower() in OFFICE365_HOSTS:
        raise NeedsMicrosoftSignIn(
            "Office 365 no longer accepts passwords for Exchange Web Services. "
            'Add this calendar as "Office 365" and use "Sign in with Microsoft" instead.'
        )
    return url


def validate(
    services: Services,
    server_url: str,
    username: str,
    password: str,
    email: str | None = None,
    ca_bundle: str | None = None,
    *,
    timeout: float | None = None,
) -> PendingExchangeAccount:
    """Connect to the calendar folder with these details; raise a
    :class:`ProviderError` with a plain message when that fails."""
    url = check_url(server_url)
    username = username.strip()
    if not username or not password:
        raise BadCredentials(BAD_CREDENTIALS)
    env = getattr(services, "env", None) or {}
    ca_bundle = ca_bundle or env.get(CA_BUNDLE_ENV) or None
    if ca_bundle and not Path(ca_bundle).expanduser().is_file():
        raise InvalidDetails(f"The CA bundle {ca_bundle!r} is not a file.")
    settings: dict = {
        "server_url": url,
        "username": username,
        "timeout": _timeout(services, timeout),
    }
    if ca_bundle:
        settings["ca_bundle"] = ca_bundle
    address = (email or "").strip() or (username if "@" in username else "")
    try:
        if not address:
            address = _resolve_email(settings, username, password)
        provider = _provider(settings, address, password)
        try:
            provider.check_access()
        finally:
            provider.close()
    except NeedsSignIn:
        raise BadCredentials(BAD_CREDENTIALS) from None
    log.info("Connected to Exchange Server as %s", address)
    return PendingExchangeAccount(address, settings, password)


def _resolve_email(settings: dict, username: str, password: str) -> str:
    """A DOMAIN\\user name without an email: ask the server (ResolveNames)."""
    from exchangelib.errors import ErrorNameResolutionNoResults

    provider = _provider(settings, "unknown@invalid.example", password)
    try:
        account, _ = provider._ready()
        name = username.split("\\")[-1]
        found = provider._call(
            lambda: account.protocol.resolve_names([name], return_full_contact_data=False)
        )
    finally:
        provider.close()
    for entry in found:
        if isinstance(entry, ErrorNameResolutionNoResults | Exception):
            continue
        if getattr(entry, "email_address", None):
            return entry.email_address
    raise NotACalendarService(
        "The server did not tell the email address of this user; enter it in the Email field."
    )


def save_secrets(pending: PendingExchangeAccount, account_id: str, services: Services) -> None:
    """Write the password to the secret store (the only place it is kept)."""
    for name, value in pending.secrets.items():
        services.secrets.set(account_id, name, value)


def open_provider(account: Account, services: Services) -> ExchangeProvider:
    """The provider for a saved account; its password read from the secret store."""
    password = services.secrets.get(account.id, "password")
    if not password:
        raise MissingPassword("The password for this Exchange account is missing; sign in again.")
    return _provider(account.settings, account.email, password, account.calendar_id)


def connect_account(
    services: Services, values: Mapping[str, Any], interaction: Interaction | None = None
) -> PendingExchangeAccount:
    """The kind's connect step (see :mod:`calsync_desktop.accounts.kinds`): validate."""
    return validate(
        services,
        values.get("server_url") or "",
        values.get("username") or "",
        values.get("password") or "",
        email=values.get("email"),
        ca_bundle=values.get("ca_bundle"),
    )


def suggest_kind(values: Mapping[str, Any]) -> Suggestion | None:
    """An Office 365 address entered as an Exchange server: Office 365 instead."""
    try:
        host = (urlsplit(str(values.get("server_url") or "").strip()).hostname or "").lower()
    except ValueError:
        return None
    return Suggestion(OFFICE365_KIND, OFFICE365_SUGGESTION) if host in OFFICE365_HOSTS else None
