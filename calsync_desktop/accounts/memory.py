"""The "memory" account kind: a local test calendar with no network.

It lets a person try the app, and the GUI tests run, without any service.
Its calendar lives as long as the process (shared by every thread through
``services.extra``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from calsync_desktop.accounts.base import Account, PendingAccount
from calsync_desktop.accounts.kinds import KINDS, Interaction
from calsync_desktop.providers.memory import MemoryCalendar, MemoryProvider

if TYPE_CHECKING:
    from calsync_desktop.services import Services


def calendar_for(services: Services, key: str, email: str = "me@example.com") -> MemoryCalendar:
    calendars = services.extra.setdefault("memory_calendars", {})
    if key not in calendars:
        calendars[key] = MemoryCalendar(email, clock=services.clock)
    return calendars[key]


class PendingMemoryAccount(PendingAccount):
    kind = "memory"

    def __init__(self, services: Services, email: str):
        self.services = services
        self.email = email
        self.settings = {"calendar_key": email}
        self.secrets = {}

    def provider(self) -> MemoryProvider:
        return MemoryProvider(calendar_for(self.services, self.email, self.email))


def connect(services: Services, email: str = "me@example.com") -> PendingMemoryAccount:
    return PendingMemoryAccount(services, email)


def open_provider(account: Account, services: Services) -> MemoryProvider:
    key = account.settings.get("calendar_key", account.email)
    return MemoryProvider(calendar_for(services, key, account.email))


def connect_account(
    services: Services, values: Mapping[str, Any], interaction: Interaction | None = None
) -> PendingMemoryAccount:
    """The kind's connect step (see :mod:`calsync_desktop.accounts.kinds`)."""
    default = next(f.default for f in KINDS["memory"].fields if f.name == "email")
    return connect(services, (values.get("email") or "").strip() or default)


def calendar_exists(account: Account, services: Services) -> bool:
    """Whether this process holds the account's test calendar (it lives only in
    the process that made it)."""
    key = account.settings.get("calendar_key", account.email)
    return key in services.extra.get("memory_calendars", {})
