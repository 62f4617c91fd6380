"""``calsync settings [KEY [VALUE]]``: show or set a setting, type-checked."""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path
from typing import Any

from calsync_desktop.cli.common import (
    EMAIL,
    EXIT_OK,
    Commands,
    UsageError,
    find_account,
    print_json,
)
from calsync_desktop.services import Services
from calsync_desktop.store import SETTING_DEFAULTS, SYNC_INTERVAL_MINUTES
from calsync_desktop.store.journal import DAYS_SETTING, MAX_CHANGES_SETTING, Journal, Retention
from calsync_desktop.words import count

EXTRA_SETTINGS: dict[str, Any] = {"sync.paused": False}
"""Settings the app reads that :data:`SETTING_DEFAULTS` does not list."""

DEFAULT_ACCOUNT = "app.default_account"
"""Where new appointments go: an account's id."""

RANGES = {"sync.interval_minutes": SYNC_INTERVAL_MINUTES}
"""Whole-number settings with a range of their own, the window's."""

_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


def known_settings() -> dict[str, Any]:
    return {**SETTING_DEFAULTS, **EXTRA_SETTINGS}


def _value(key: str, text: str, default: Any) -> Any:
    if isinstance(default, bool):
        lowered = text.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise UsageError(f"{key} is true or false, not {text!r}.")
    if isinstance(default, int):
        try:
            value = int(text)
        except ValueError:
            raise UsageError(f"{key} is a whole number, not {text!r}.") from None
        low, high = RANGES.get(key, (1, None))
        if key in RETENTION:  # the history's own check, with its range in the message
            return value
        if value < low or (high is not None and value > high):
            within = f"from {low} to {high}" if high is not None else f"at least {low}"
            raise UsageError(f"{key} must be {within}, not {value}.")
        return value
    value = text.strip()
    if key.startswith("advanced.") and value:
        try:
            path = Path(value).expanduser()
        except RuntimeError:  # "~name" of a user this computer does not know
            raise UsageError(f"{key}: no such file {value!r}.") from None
        if not path.is_file():
            raise UsageError(f"{key}: no such file {value!r}.")
        value = str(path.resolve())
    if key == "profile.email" and value and not EMAIL.match(value):
        raise UsageError(f"{key}: {value!r} is not an email address.")
    return value


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value) if value != "" else "(not set)"


def cmd_settings(args: argparse.Namespace, services: Services) -> int:
    store = services.store
    known = known_settings()
    if args.key is not None and args.key not in known:
        raise UsageError(f"Unknown setting {args.key!r}. Settings: {', '.join(known)}.")
    dropped = None
    if args.key is not None and args.value is not None:
        value = _value(args.key, args.value, known[args.key])
        if args.key in RETENTION:
            dropped = _keep_history(services, args.key, value)
        elif args.key == DEFAULT_ACCOUNT and value:
            # the app keeps the account's id: a name or email is found as --account finds it
            store.set_setting(args.key, find_account(services, value).id)
        else:
            store.set_setting(args.key, value)
    keys = [args.key] if args.key is not None else list(known)
    values = {k: store.get_setting(k, known[k]) for k in keys}
    if args.json:
        print_json(values)
    else:
        width = max(len(k) for k in keys)
        for key, value in values.items():
            print(f"{key:<{width}}  {_text(value)}")
        if dropped:
            print(f"{count(dropped, 'older run')} left the history.")
    return EXIT_OK


RETENTION = {DAYS_SETTING: "days", MAX_CHANGES_SETTING: "max_changes"}
"""The history's retention: set through :meth:`Journal.keep`, as the window
does, so it is checked the same way and applies at once."""


def _keep_history(services: Services, key: str, value: int) -> int:
    journal = Journal(services.store)
    wanted = replace(Retention.of(services.store), **{RETENTION[key]: value})
    try:
        return journal.keep(wanted, services.clock())
    except ValueError as problem:
        raise UsageError(f"{key}: {problem}") from None


def register(commands: Commands) -> None:
    settings = commands.add(
        "settings",
        help="show or set settings",
        description="Settings: " + ", ".join(known_settings()),
    )
    settings.add_argument("key", nargs="?", metavar="KEY", help="one setting")
    settings.add_argument("value", nargs="?", metavar="VALUE", help="its new value")
    settings.set_defaults(func=cmd_settings)
