"""Account kinds as the command line sees them: which ones this installation
has, which ones a command line needs loaded, and ``accounts add KIND``'s
options, all read from the registry (:mod:`calsync_desktop.accounts.kinds`)."""

from __future__ import annotations

import argparse
import getpass
from collections.abc import Sequence
from types import ModuleType
from typing import Any

from calsync_desktop.accounts.kinds import KINDS, AccountKind, kind_module, offered_kinds
from calsync_desktop.cli.common import UsageError, read_stdin


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
    """The kinds to suggest: test kinds are accepted, but not advertised."""
    return "|".join(offered_kinds())


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


def add_field_options(parser: argparse.ArgumentParser, entry: AccountKind) -> None:
    """The options of ``accounts add KIND``, one per field of the kind. A secret
    is never an option's value: ``--NAME-stdin`` reads it, else it is asked for."""
    for field in entry.fields:
        if field.secret:
            parser.add_argument(
                field.option + "-stdin",
                dest=field.name + "_stdin",
                action="store_true",
                help=field.help,
            )
        elif field.flag:
            parser.add_argument(field.option, dest=field.name, action="store_true", help=field.help)
        else:
            parser.add_argument(
                field.option,
                dest=field.name,
                required=field.required,
                default=field.default,
                metavar=field.metavar,
                help=field.help,
            )


def field_values(args: argparse.Namespace, entry: AccountKind) -> dict[str, Any]:
    """The kind's values from the parsed options, secrets read or asked for."""
    values: dict[str, Any] = {}
    for field in entry.fields:
        if field.secret:
            if getattr(args, field.name + "_stdin", False):
                value = read_stdin(field.option + "-stdin", first_line=True)
            else:
                try:
                    value = getpass.getpass(f"{entry.label} {field.label.lower()}: ")
                except EOFError:
                    raise UsageError(
                        f"No {field.label.lower()} given: type it when asked, "
                        f"or pipe it in with {field.option}-stdin."
                    ) from None
            values[field.name] = value
        else:
            values[field.name] = getattr(args, field.name, None)
    return values
