"""Accounts: what is stored about a connected calendar, and where its secrets live.

An :class:`Account` holds no secret. Passwords, refresh tokens and token
caches go to a :class:`SecretStore` (the OS keyring in the app) under the
service name ``calsync-desktop``.

The account kinds (google, office365, exchange, …) and the surface every kind's
module has are in :mod:`calsync_desktop.accounts.kinds`. Connecting returns a
:class:`PendingAccount`; the account is saved only after the person confirmed
the options.
"""

from __future__ import annotations

import ipaddress
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit

from calsync_desktop.providers.base import ProviderError

if TYPE_CHECKING:
    from calsync_desktop.providers.base import CalendarProvider

SERVICE_NAME = "calsync-desktop"


class AccountState(StrEnum):
    OK = "ok"
    SYNCING = "syncing"
    NEEDS_SIGN_IN = "needs_sign_in"
    ERROR = "error"
    PAUSED = "paused"


@dataclass
class Account:
    """A connected calendar. Never holds a secret.

    ``settings`` keeps the kind's non-secret settings (server URL, user name,
    CA bundle path, endpoint overrides). ``sync_state`` is the provider's
    opaque incremental-sync token.
    """

    id: str
    kind: str
    name: str
    email: str
    calendar_id: str = ""
    settings: dict = field(default_factory=dict)
    sync_all_private: bool = False
    state: AccountState = AccountState.OK
    last_sync: datetime | None = None
    last_error: str = ""
    sync_state: str | None = None
    local_seq: int = 0
    first_sync_done: bool = False
    paused: bool = False


def is_loopback(host: str) -> bool:
    """Whether ``host`` is this computer (where a plain http:// server may be used)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_server_url(url: str, service: str, example: str, ask: str = "") -> tuple[str, str]:
    """``url`` and its host, checked for shape before anything is sent: a full
    http(s) address, and plain http:// only to this computer (the password would
    cross the network unencrypted). ``service`` names the server in the messages
    ("An Exchange server"), ``example`` is the sentence with an example address,
    ``ask`` who to ask (" (ask IT if unsure)")."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a port that is not one
    except ValueError:
        raise InvalidDetails(f"{url!r} is not a web address. {example}") from None
    if not parts.scheme or not host:
        raise InvalidDetails(f"{url!r} is not a full web address. {example}")
    if parts.scheme.lower() not in ("http", "https"):
        raise InvalidDetails(
            f"{service} is reached over https://, not {parts.scheme}://. {example}"
        )
    if parts.scheme.lower() == "http" and not is_loopback(host):
        raise InvalidDetails(
            "The server address starts with http://, which would send your password "
            f"unencrypted over the network. Use its https:// address{ask}; "
            "plain http:// is only for a server on this computer."
        )
    return url, host


class SecretStore(Protocol):
    """Where secrets live. Keys are (account id, secret name)."""

    def get(self, account_id: str, name: str) -> str | None: ...

    def set(self, account_id: str, name: str, value: str) -> None: ...

    def delete(self, account_id: str, name: str) -> None: ...


SECRET_NAMES = ("password", "token", "token_cache")


class InvalidDetails(ProviderError):
    """Details a person entered that cannot be right as they stand (an address
    that is not one, a file that is not what it should be): bad input, said
    before anything is sent to a server."""


class BelongsToAnotherKind(ProviderError):
    """The details belong to another account kind, ``kind``: connect it as that."""

    def __init__(self, message: str, kind: str):
        super().__init__(message)
        self.kind = kind
        self.fix = (
            f"Nothing was saved. Add it with `calsync accounts add {kind}`, "
            "or choose that kind in the setup wizard."
        )


class KeyringUnavailable(ProviderError):
    """No usable OS keyring: calsync-desktop keeps secrets nowhere else."""

    def __init__(self, detail: str = ""):
        super().__init__(
            "No OS keyring is available to keep this account's password or sign-in, and "
            "calsync-desktop stores secrets nowhere else. On Linux, install and unlock a "
            "Secret Service keyring (GNOME Keyring or KWallet)."
            + (f" ({detail})" if detail else "")
        )
        # also met by a saved account's sync while the keyring is locked
        self.fix = (
            "Unlock or install the keyring, then try again: an account being added is "
            "saved only then, so add the account again."
        )


class KeyringSecrets:
    """Secrets in the OS keyring (Secret Service, Keychain, Credential Locker)."""

    def __init__(self, backend=None):
        import keyring

        self._keyring = backend or keyring.get_keyring()

    def get(self, account_id: str, name: str) -> str | None:
        import keyring.errors

        try:
            return self._keyring.get_password(SERVICE_NAME, f"{account_id}/{name}")
        except keyring.errors.KeyringError as exc:
            raise KeyringUnavailable(type(exc).__name__) from exc

    def set(self, account_id: str, name: str, value: str) -> None:
        import keyring.errors

        try:
            self._keyring.set_password(SERVICE_NAME, f"{account_id}/{name}", value)
        except keyring.errors.KeyringError as exc:
            raise KeyringUnavailable(type(exc).__name__) from exc

    def delete(self, account_id: str, name: str) -> None:
        import keyring.errors

        try:
            self._keyring.delete_password(SERVICE_NAME, f"{account_id}/{name}")
        except keyring.errors.PasswordDeleteError:
            pass
        except keyring.errors.KeyringError as exc:
            raise KeyringUnavailable(type(exc).__name__) from exc

    def delete_all(self, account_id: str) -> None:
        for name in SECRET_NAMES:
            self.delete(account_id, name)


class MemorySecrets:
    """Secrets in a dict: for tests of things other than the keyring."""

    def __init__(self):
        self.values: dict[tuple[str, str], str] = {}

    def get(self, account_id: str, name: str) -> str | None:
        return self.values.get((account_id, name))

    def set(self, account_id: str, name: str, value: str) -> None:
        self.values[(account_id, name)] = value

    def delete(self, account_id: str, name: str) -> None:
        self.values.pop((account_id, name), None)

    def delete_all(self, account_id: str) -> None:
        for name in SECRET_NAMES:
            self.delete(account_id, name)


class PendingAccount(ABC):
    """A signed-in or validated account not saved yet.

    ``secrets`` are written to the secret store only by :meth:`save`; its
    ``repr`` never shows them.
    """

    kind: str
    email: str
    settings: dict
    secrets: dict[str, str]

    def __repr__(self) -> str:
        return f"<PendingAccount {self.kind} {self.email}>"

    @abstractmethod
    def provider(self) -> CalendarProvider:
        """A provider on the account's default calendar, to list calendars and preview."""

    def warnings(self, profile_email: str) -> list[str]:
        """Plain-language warnings for the wizard (never blocking)."""
        out = []
        if profile_email and self.email and profile_email.strip().lower() != self.email.lower():
            out.append(
                f"You signed in as {self.email}, but your Sales Calendar profile uses "
                f"{profile_email}. Use the same email address, or participant invite "
                "statuses may not sync."
            )
        return out
