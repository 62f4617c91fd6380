"""``calsync accounts list | remove | add KIND``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from calsync_desktop.accounts import remove_account, save_account
from calsync_desktop.accounts.base import Account
from calsync_desktop.accounts.kinds import KINDS, Interaction, kind_label
from calsync_desktop.cli.common import (
    EXIT_OK,
    Commands,
    UsageError,
    find_account,
    iso,
    local_zone_name,
    print_json,
    when,
    zone,
)
from calsync_desktop.cli.kinds import add_field_options, add_hint, field_values, installed_module
from calsync_desktop.services import Services
from calsync_desktop.sync.preview import preview_first_sync
from calsync_desktop.words import count, noun


def account_view(account: Account, services: Services) -> dict[str, Any]:
    """An account as ``status``/``accounts list`` show it: settings and secrets left out."""
    store = services.store
    return {
        "id": account.id,
        "name": account.name,
        "kind": account.kind,
        "kind_label": kind_label(account.kind),
        "email": account.email,
        "calendar": account.calendar_id,
        "state": account.state.value,
        "paused": account.paused,
        "sync_all_private": account.sync_all_private,
        "last_sync": iso(account.last_sync),
        "last_error": account.last_error,
        "linked": store.linked_count(account.id),
        "skipped": len(store.skipped(account.id)),
    }


def print_account(view: dict[str, Any], tz: ZoneInfo) -> None:
    print(f"{view['name']}  ({view['kind_label']}, {view['email']})")
    last = when(datetime.fromisoformat(view["last_sync"]), tz) if view["last_sync"] else "never"
    state = view["state"].replace("_", " ") + (", paused" if view["paused"] else "")
    print(f"  state: {state} · last sync: {last} · {view['linked']:,} linked")
    if view["calendar"]:
        print(f"  calendar: {view['calendar']}")
    if view["sync_all_private"]:
        print("  brings everything in as private")
    if view["last_error"]:
        print(f"  last error: {view['last_error']}")
    print(f"  id: {view['id']}")


def print_accounts(views: Iterable[dict[str, Any]], services: Services) -> None:
    views = list(views)
    if not views:
        print(f"No calendar accounts. Add one with: calsync accounts add {add_hint()}")
    tz = zone(local_zone_name(services.env))
    for view in views:
        print_account(view, tz)


def cmd_list(args: argparse.Namespace, services: Services) -> int:
    views = [account_view(a, services) for a in services.store.list_accounts()]
    if args.json:
        print_json(views)
    else:
        print_accounts(views, services)
    return EXIT_OK


def cmd_remove(args: argparse.Namespace, services: Services) -> int:
    account = find_account(services, args.account)
    linked = services.store.linked_count(account.id)
    remove_account(services, account.id, keep_appointments=not args.delete_appointments)
    if args.delete_appointments:
        fate = f"{noun(linked, 'was')} deleted from"
    else:
        fate = "stays in" if linked == 1 else "stay in"
    if args.json:
        print_json(
            {
                "removed": account.id,
                "name": account.name,
                "synced_appointments": linked,
                "appointments_deleted": args.delete_appointments,
            }
        )
    else:
        print(
            f"Removed {account.name}. Its {count(linked, 'synced appointment')} {fate}"
            " the Sales Calendar."
        )
        print("  Nothing changed in the remote calendar.")
    return EXIT_OK


def _choose_calendar(calendars: list, wanted: str | None) -> str:
    if wanted:
        for c in calendars:
            if wanted in (c.id, c.name):
                if not c.can_write:
                    raise UsageError(f"--calendar: {c.name} is read-only; choose another.")
                return c.id
        names = ", ".join(f"{c.id} ({c.name})" for c in calendars) or "none"
        raise UsageError(f"--calendar: no calendar {wanted!r}. Calendars: {names}.")
    primary = [c for c in calendars if c.primary] or [c for c in calendars if c.can_write]
    return primary[0].id if primary else ""


def _console(message: str) -> None:
    print(message, flush=True)


def connect(args: argparse.Namespace, services: Services):
    """Sign in to, or check the details of, the account ``accounts add KIND``
    describes; nothing is saved."""
    entry = KINDS[args.kind]
    module = installed_module(args.kind)
    interaction = Interaction(show=_console, console=True)
    return module.connect_account(services, field_values(args, entry), interaction)


def cmd_add(args: argparse.Namespace, services: Services) -> int:
    module = installed_module(args.kind)
    pending = connect(args, services)
    provider = pending.provider()
    try:
        calendars = provider.list_calendars()
    finally:
        provider.close()
    if args.list_calendars:
        rows = [
            {"id": c.id, "name": c.name, "primary": c.primary, "can_write": c.can_write}
            for c in calendars
        ]
        if args.json:
            print_json(rows)
        else:
            for c in calendars:
                flags = " (primary)" if c.primary else ""
                flags += "" if c.can_write else " (read-only)"
                print(f"{c.id}  {c.name}{flags}")
        return EXIT_OK
    calendar_id = _choose_calendar(calendars, args.calendar)
    warnings = pending.warnings(services.store.get_setting("profile.email") or "")
    account = save_account(
        services,
        pending,
        calendar_id=calendar_id,
        sync_all_private=True if args.all_private else None,  # None: as it was
        name=args.account_name,
    )
    preview = preview_first_sync(
        services.store,
        account,
        lambda: module.open_provider(account, services),
        services.clock,
    )
    problem = preview.problem.problem if preview.problem else None
    if args.json:
        print_json(
            {
                "account": account_view(account, services),
                "warnings": warnings,
                "first_sync": preview.summary,
                "preview_problem": problem,
            }
        )
        return EXIT_OK
    for warning in warnings:
        print(f"Warning: {warning}", file=sys.stderr)
    print(
        f"Saved {account.name} ({kind_label(account.kind)}, calendar {calendar_id or 'default'})."
    )
    if account.sync_all_private:
        print("  Everything this account brings in is stored as private.")
    if problem:
        print(f"  Could not preview the first sync: {problem}")
    else:
        print(f"  The first sync will: {preview.clauses(account.name)}.")
    print("  Run `calsync sync` to sync now.")
    return EXIT_OK


def register(commands: Commands) -> None:
    # only the kinds asked for are built: importing a kind's module is slow
    accounts = commands.add("accounts", help="calendar accounts")
    acts = commands.actions(accounts)
    listing = acts.add("list", help="the accounts")
    listing.set_defaults(func=cmd_list)
    remove = acts.add(
        "remove",
        help="forget an account (the remote calendar is left as it is)",
    )
    remove.add_argument("account", metavar="NAME", help="name, email or id")
    remove.add_argument(
        "--delete-appointments",
        action="store_true",
        help="also delete its synced appointments from the Sales Calendar (default: keep them)",
    )
    remove.set_defaults(func=cmd_remove)
    add = acts.add(
        "add",
        help="connect a calendar: " + ", ".join(k for k, e in KINDS.items() if e.offered),
        description="Use the same email address as your Sales Calendar profile (calsync "
        "profile); otherwise participant invite statuses may not sync.",
    )
    kind_parsers = acts.actions(add, dest="kind", metavar="KIND")
    for kind in KINDS if commands.kinds is None else commands.kinds:
        module = installed_module(kind)
        if module is None:
            continue
        entry = KINDS[kind]
        # a test kind is accepted but not listed
        sub = kind_parsers.add(kind, **({"help": entry.label} if entry.offered else {}))
        add_field_options(sub, entry)
        sub.add_argument("--calendar", metavar="ID", help="which calendar (default: the primary)")
        sub.add_argument(
            "--all-private",
            action="store_true",
            help="store everything this account brings in as private",
        )
        sub.add_argument("--name", dest="account_name", help="a name for the account")
        sub.add_argument(
            "--list-calendars", action="store_true", help="list the calendars and stop"
        )
        sub.set_defaults(func=cmd_add)
