"""An account kind that exists only in the tests: proof that a new service is
one registry entry plus its account module (here over the memory provider,
standing in for a provider and its test server).

It connects with details, like a CalDAV server would: a server URL, a user
name and a password, checked before anything is saved; the password is kept
only as a secret.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from calsync_desktop.accounts.base import Account, InvalidDetails, PendingAccount
from calsync_desktop.accounts.kinds import AccountKind, Connect, Field, Interaction, Suggestion
from calsync_desktop.providers.base import BadCredentials
from calsync_desktop.providers.memory import MemoryCalendar, MemoryProvider

PASSWORD = "trial-secret-42"

ENTRY = AccountKind(
    "trial",
    "Trial Calendar",
    __name__,
    Connect.DETAILS,
    detail="A calendar server of the tests",
    explanation="Enter the trial server's address, your user name and password.",
    connect_label="Connect",
    waiting="Connecting to the trial server…",
    fields=(
        Field("server_url", "Server URL", "the trial server's address", required=True),
        Field("username", "User name", "your user name", required=True),
        Field("password", "Password", "read the password from standard input", secret=True),
    ),
)


def _calendar(services, username: str) -> MemoryCalendar:
    calendars = services.extra.setdefault("trial_calendars", {})
    if username not in calendars:
        calendars[username] = MemoryCalendar(f"{username}@trial.example", clock=services.clock)
    return calendars[username]


class PendingTrialAccount(PendingAccount):
    kind = "trial"

    def __init__(self, services, username: str, server_url: str, password: str):
        self.services = services
        self.email = f"{username}@trial.example"
        self.settings = {"server_url": server_url, "username": username}
        self.secrets = {"password": password}

    def provider(self) -> MemoryProvider:
        return MemoryProvider(_calendar(self.services, self.settings["username"]))


def connect_account(
    services, values: Mapping[str, Any], interaction: Interaction | None = None
) -> PendingTrialAccount:
    url = (values.get("server_url") or "").strip()
    if not url.startswith("trial://"):
        raise InvalidDetails(f"{url!r} is not a trial address (trial://…).")
    if values.get("password") != PASSWORD:
        raise BadCredentials("The trial server refused the user name or password.")
    return PendingTrialAccount(services, values.get("username") or "", url, values["password"])


def open_provider(account: Account, services) -> MemoryProvider:
    if services.secrets.get(account.id, "password") != PASSWORD:
        raise BadCredentials("The trial server refused the stored password.")
    return MemoryProvider(_calendar(services, account.settings["username"]))


def suggest_kind(values: Mapping[str, Any]) -> Suggestion | None:
    if "google" in str(values.get("server_url") or ""):
        return Suggestion("google", "This is a Google address: add it as Google Calendar.")
    return None


def calendar(services, username: str) -> MemoryCalendar:
    return _calendar(services, username)
