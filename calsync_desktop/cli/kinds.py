"""Account kinds as the command line sees them: which ones this installation
has, and which ones a command line needs loaded."""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType

from calsync_desktop.accounts.base import KINDS, kind_module


def installed_module(kind: str) -> ModuleType | None:
    """The module of an account kind, or None when this installation lacks it."""
    if kind not in KINDS:
        return None
    try:
        return kind_module(kind)
    except ModuleNotFoundError as exc:
        if exc.name != KINDS[kind].module:
            raise  # the module exists but something it needs is missing: a real error
        return None


def add_hint() -> str:
    # the memory kind is a test calendar: offered, but not advertised
    return "|".join(k for k in KINDS if k != "memory")


def wanted_kinds(argv: Sequence[str]) -> list[str]:
    """The account kinds whose ``accounts add`` arguments ``argv`` needs.

    Importing a kind's module loads its service's client library (Google, MSAL,
    exchangelib), which is slow; only ``accounts add`` needs them, and
    ``accounts add KIND`` only its own.
    """
    args = list(argv)
    if "accounts" not in args:
        return []
    rest = args[args.index("accounts") + 1 :]
    if "add" not in rest:
        return []
    after = rest[rest.index("add") + 1 :]
    named = next((a for a in after if not a.startswith("-")), None)
    return [named] if named in KINDS else list(KINDS)
