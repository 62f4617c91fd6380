"""``calsync status``: the Sales Calendar's counts and each account's state."""

from __future__ import annotations

import argparse

from calsync_desktop.cli.accounts import account_view, print_accounts
from calsync_desktop.cli.common import EXIT_OK, Commands, print_json
from calsync_desktop.services import Services
from calsync_desktop.team.server import TeamServer, describe, parse_url
from calsync_desktop.words import count


def _in_use(services: Services) -> tuple[str, str]:
    """Which Sales Calendar the commands work on: for JSON, and for a person
    ("in /path/sales-calendar.sqlite3", "on the team server db/sales as ann@…")."""
    server = TeamServer.load(services.data_dir) if services.store.is_team else None
    if server is None:
        return str(services.db_path), f"in {services.db_path}"
    where = f"{describe(parse_url(server.url))} as {server.user}"
    return f"team {where}", f"on the team server {where}"


def cmd_status(args: argparse.Namespace, services: Services) -> int:
    store = services.store
    conflicts = store.conflicts()
    in_use, in_use_words = _in_use(services)
    status = {
        "sales_calendar": in_use,
        "appointments": store.count_appointments(),
        "conflicts": len(conflicts),
        "conflicts_not_restored": sum(1 for c in conflicts if not c.restored),
        "skipped": len(store.skipped()),
        "sync_paused": bool(store.get_setting("sync.paused", False)),
        "profile": {
            "name": store.get_setting("profile.name") or "",
            "email": store.get_setting("profile.email") or "",
        },
        "accounts": [account_view(a, services) for a in store.list_accounts()],
    }
    if args.json:
        print_json(status)
        return EXIT_OK
    print(f"Sales Calendar: {count(status['appointments'], 'appointment')} {in_use_words}")
    print(
        f"Conflicts logged: {status['conflicts']} ({status['conflicts_not_restored']} not restored)"
        f" · Skipped items: {status['skipped']}"
    )
    if status["sync_paused"]:
        print("Sync is paused.")
    print_accounts(status["accounts"], services)
    return EXIT_OK


def register(commands: Commands) -> None:
    status = commands.add("status", help="accounts, their state, and counts")
    status.set_defaults(func=cmd_status)
