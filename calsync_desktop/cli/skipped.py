"""``calsync skipped [--account NAME]``: the items the syncs left alone, and why."""

from __future__ import annotations

import argparse

from calsync_desktop.cli.common import (
    EXIT_OK,
    Commands,
    add_account_option,
    chosen_account_id,
    iso,
    local_zone_name,
    print_json,
    when,
    zone,
)
from calsync_desktop.services import Services
from calsync_desktop.sync.review import skipped_items
from calsync_desktop.words import count


def cmd_skipped(args: argparse.Namespace, services: Services) -> int:
    account = chosen_account_id(args, services)
    items = skipped_items(services.store, account)
    if args.json:
        print_json(
            [
                {
                    "account": i.account,
                    "account_id": i.account_id,
                    "side": i.side,
                    "item_id": i.item_id,
                    "item": i.title,
                    "reason": i.reason,
                    "at": iso(i.at),
                    "private": i.private,
                }
                for i in items
            ]
        )
        return EXIT_OK
    if not items:
        print("No skipped items: the last sync of each account left nothing out.")
        return EXIT_OK
    tz = zone(local_zone_name(services.env))
    print(f"{count(len(items), 'item')} the last syncs left alone:")
    for i in items:
        print(f"  {when(i.at, tz)}  {i.account} · {i.side}: {i.title}")
        print(f"    {i.reason}")
    return EXIT_OK


def register(commands: Commands) -> None:
    skipped = commands.add(
        "skipped",
        help="the items the syncs left alone (all-day, out of the window, …) and why",
        description="Private appointments are named 'Private appointment'.",
    )
    add_account_option(skipped)
    skipped.set_defaults(func=cmd_skipped)
