"""The "caldav" account kind: any CalDAV server (iCloud, Fastmail, Nextcloud,
Radicale, …) with a URL, a username and an (app) password.

``validate`` really signs in and lists the calendars before anything is saved,
and turns every failure into one plain sentence: a refused password
(:data:`BAD_CREDENTIALS`, with the app-password advice), an address that is
not a CalDAV server, a server that cannot be reached, an untrusted TLS
certificate (suggesting a CA bundle) and a timeout each have their own. A plain
``http://`` address is refused before anything is sent, except on this
computer: the password would cross the network unencrypted. An address without
a scheme is taken as ``https://``.

The password lives only in the secret store, under the name ``password``;
the settings keep the URL, the username, the CA bundle and the authentication
scheme the server asked for (so later runs send the password at once).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from calsync_desktop.accounts.base import (
    Account,
    InvalidDetails,
    PendingAccount,
    check_server_url,
)
from calsync_desktop.accounts.kinds import (
    CALDAV_BAD_CREDENTIALS,
    CALDAV_BAD_CREDENTIALS_FIX,
    Interaction,
)
from calsync_desktop.providers.base import BadCredentials, NeedsSignIn
from calsync_desktop.providers.caldav import CalDAVProvider, ConnectionSettings

if TYPE_CHECKING:
    from calsync_desktop.services import Services

log = logging.getLogger(__name__)

KIND = "caldav"
BAD_CREDENTIALS = CALDAV_BAD_CREDENTIALS
FULL_ADDRESS = "Enter the server's address, for example https://caldav.fastmail.com/."
DEFAULT_TIMEOUT = 30.0
TIMEOUT_ENV = "CALSYNC_CALDAV_TIMEOUT"


class MissingPassword(NeedsSignIn):
    """No password for this account in the secret store."""


class PendingCalDAVAccount(PendingAccount):
    """A validated CalDAV account, not saved yet. The password stays in
    ``secrets`` (never in ``settings``) until the caller saves it."""

    kind = KIND

    def __init__(self, email: str, settings: dict, password: str, calendars=None):
        self.email = email
        self.settings = settings
        self.secrets = {"password": password}
        self._calendars = calendars

    def provider(self) -> CalDAVProvider:
        provider = _provider(self.settings, self.secrets["password"], email=self.email)
        if self._calendars is not None:
            provider._calendars = self._calendars  # listed while validating: not asked again
        return provider


def _provider(
    settings: dict, password: str, calendar_url: str = "", email: str = ""
) -> CalDAVProvider:
    connection = ConnectionSettings(
        url=settings["url"],
        username=settings["username"],
        password=password,
        ca_bundle=settings.get("ca_bundle") or None,
        timeout=float(settings.get("timeout", DEFAULT_TIMEOUT)),
        auth_type=settings.get("auth_type") or None,
    )
    return CalDAVProvider(connection, calendar_url, email=email)


def check_url(url: str) -> str:
    """The address checked for shape before anything is sent: https (plain http
    only to this computer); a bare host name is taken as https://host/."""
    url = url.strip()
    if url and "://" not in url:
        url = "https://" + url
    if not url:
        raise InvalidDetails(f"Enter the CalDAV server's address. {FULL_ADDRESS}")
    check_server_url(url, "A CalDAV server", FULL_ADDRESS)
    return url if urlsplit(url).path else url + "/"


def validate(
    services: Services,
    url: str,
    username: str,
    password: str,
    ca_bundle: str | None = None,
    *,
    timeout: float | None = None,
) -> PendingCalDAVAccount:
    """Sign in and list the calendars with these details; raise a
    :class:`ProviderError` with a plain message when that fails."""
    url = check_url(url)
    username = username.strip()
    if not username or not password:
        raise BadCredentials(BAD_CREDENTIALS, CALDAV_BAD_CREDENTIALS_FIX)
    if ca_bundle and not Path(ca_bundle).expanduser().is_file():
        raise InvalidDetails(f"The CA bundle {ca_bundle!r} is not a file.")
    env = getattr(services, "env", None) or {}
    if timeout is None:
        try:
            timeout = float(env.get(TIMEOUT_ENV, DEFAULT_TIMEOUT))
        except ValueError:
            timeout = DEFAULT_TIMEOUT
    settings: dict = {"url": url, "username": username, "timeout": timeout}
    if ca_bundle:
        settings["ca_bundle"] = str(Path(ca_bundle).expanduser())
    provider = _provider(settings, password)
    try:
        calendars = provider.check_access()
        email = provider.account_email()
        if provider.auth_type:
            settings["auth_type"] = provider.auth_type
    except NeedsSignIn:
        raise BadCredentials(BAD_CREDENTIALS, CALDAV_BAD_CREDENTIALS_FIX) from None
    finally:
        provider.close()
    log.info("Connected to a CalDAV server as %s", email)
    return PendingCalDAVAccount(email, settings, password, calendars)


def open_provider(account: Account, services: Services) -> CalDAVProvider:
    """The provider for a saved account; its password read from the secret store."""
    password = services.secrets.get(account.id, "password")
    if not password:
        raise MissingPassword("The password for this CalDAV account is missing; sign in again.")
    return _provider(account.settings, password, account.calendar_id, account.email)


def connect_account(
    services: Services, values: Mapping[str, Any], interaction: Interaction | None = None
) -> PendingCalDAVAccount:
    """The kind's connect step (see :mod:`calsync_desktop.accounts.kinds`): validate."""
    return validate(
        services,
        values.get("url") or "",
        values.get("username") or "",
        values.get("password") or "",
        ca_bundle=values.get("ca_bundle"),
    )
