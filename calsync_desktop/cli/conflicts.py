"""``calsync conflicts [--account NAME]`` and ``calsync conflicts restore ID``:
the conflict log, and bringing a lost value back."""

from __future__ import annotations

import argparse
from typing import Any

from calsync_desktop.cli.common import (
    EXIT_OK,
    Commands,
    UsageError,
    add_account_option,
    chosen_account_id,
    field_json,
    iso,
    local_zone_name,
    logged_value,
    print_json,
    quoted,
    when,
    zone,
)
from calsync_desktop.services import Services
from calsync_desktop.store import field_value
from calsync_desktop.sync.history_words import field_words, side_words
from calsync_desktop.sync.review import CannotRestore, Conflict, conflicts, restore
from calsync_desktop.words import count


def _value(c: Conflict, text: str) -> Any:
    """A logged value as ``--json`` gives it; "(private)" or "(deleted)" where
    the words hide it, as in the text."""
    if c.private or not c.exists:
        return text
    try:
        return field_json(c.field, field_value(c.field, text))
    except ValueError:  # words this version did not write
        return text


def _view(c: Conflict) -> dict[str, Any]:
    return {
        "id": c.id,
        "at": iso(c.at),
        "account": c.account,
        "account_id": c.account_id,
        "appointment_id": c.appointment_id,
        "appointment": c.title,
        "field": c.field,
        "kept": _value(c, c.kept),
        "lost": _value(c, c.lost),
        "lost_side": c.lost_side,
        "restored": c.restored,
        "restorable": c.restorable,
        "private": c.private,
    }


def cmd_conflicts(args: argparse.Namespace, services: Services) -> int:
    account = chosen_account_id(args, services)
    found = conflicts(services.store, account)
    if args.json:
        print_json([_view(c) for c in found])
        return EXIT_OK
    if not found:
        print("No conflicts logged.")
        return EXIT_OK
    tz = zone(local_zone_name(services.env))
    print(f"{count(len(found), 'conflict')}, newest first (the newer change was kept):")
    for c in found:
        state = "restored" if c.restored else "deleted since" if not c.exists else ""
        print(
            f"  {c.id:>4}  {when(c.at, tz)}  {c.account}: {c.title}"
            + (f" ({state})" if state else "")
        )
        kept, lost = logged_value(c.field, c.kept, tz), logged_value(c.field, c.lost, tz)
        account = c.account or "the calendar account"
        side = side_words("service" if c.lost_side == "remote" else "the Sales Calendar", account)
        print(f"        {field_words(c.field)}: kept {kept}; lost {lost} (from {side})")
    restorable = [c.id for c in found if c.restorable]
    if restorable:
        print(f"To bring a lost value back: calsync conflicts restore ID (e.g. {restorable[0]})")
    return EXIT_OK


def cmd_restore(args: argparse.Namespace, services: Services) -> int:
    try:
        restored = restore(services.store, args.id)
    except CannotRestore as error:
        raise UsageError(str(error)) from None
    if args.json:
        print_json(_view(restored))
        return EXIT_OK
    lost = logged_value(restored.field, restored.lost, zone(local_zone_name(services.env)))
    what = field_words(restored.field).lower()
    print(f"Restored the {what} of {quoted(restored.title)}: {lost}.")
    print(f"  The next sync sends it to {restored.account or 'the calendar account'}.")
    return EXIT_OK


def register(commands: Commands) -> None:
    group = commands.add(
        "conflicts",
        help="the conflict log (the same field changed on both sides); restore a lost value",
        description="Without an action, lists the conflicts. Private appointments' values "
        "show as (private).",
    )
    add_account_option(group)
    group.set_defaults(func=cmd_conflicts)
    actions = commands.actions(group, required=False)
    restore_one = actions.add(
        "restore", help="bring the lost value of one conflict back (the next sync sends it on)"
    )
    restore_one.add_argument("id", type=int, metavar="ID", help="the conflict's number")
    restore_one.set_defaults(func=cmd_restore)
