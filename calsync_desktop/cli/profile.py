"""``calsync profile [--name N] [--email E]``: your Sales Calendar profile."""

from __future__ import annotations

import argparse

from calsync_desktop.cli.common import EMAIL, EXIT_OK, Commands, UsageError, print_json
from calsync_desktop.services import Services


def cmd_profile(args: argparse.Namespace, services: Services) -> int:
    store = services.store
    if args.email is not None:
        email = args.email.strip()
        if email and not EMAIL.match(email):
            raise UsageError(f"--email: {email!r} is not an email address.")
        store.set_setting("profile.email", email)
    if args.name is not None:
        store.set_setting("profile.name", args.name.strip())
    profile = {
        "name": store.get_setting("profile.name") or "",
        "email": store.get_setting("profile.email") or "",
    }
    differing = [
        a.name
        for a in store.list_accounts()
        if profile["email"] and a.email and a.email.lower() != profile["email"].lower()
    ]
    if args.json:
        print_json({**profile, "accounts_with_other_email": differing})
        return EXIT_OK
    print(f"name:  {profile['name'] or '(not set)'}")
    print(f"email: {profile['email'] or '(not set)'}")
    if differing:
        print(
            f"Note: {', '.join(differing)} {'uses' if len(differing) == 1 else 'use'} another "
            "email address; participant invite "
            "statuses may not sync. Use the same address as your Sales Calendar profile."
        )
    return EXIT_OK


def register(commands: Commands) -> None:
    profile = commands.add("profile", help="show or set your Sales Calendar profile")
    profile.add_argument("--name", help="your name")
    profile.add_argument(
        "--email", help="your email: use the same address as your calendar accounts"
    )
    profile.set_defaults(func=cmd_profile)
