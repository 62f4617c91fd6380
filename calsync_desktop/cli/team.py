"""``calsync team …``: the team Sales Calendar on PostgreSQL (SPEC §8).

An administrator sets the team up (``init``, ``add-member``, ``members``,
``remove-member``) with the database administrator's address; the password
of that role comes from the address, ``PGPASSWORD`` or ``~/.pgpass``, as with
psql, and is never kept. ``init`` remembers the address (without any password)
on this computer, so that the other administration commands need no
``--server``. A member connects this computer (``connect``, ``disconnect``)
and moves its own Sales Calendar in (``move-in``). The rules live in
:mod:`calsync_desktop.team`.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path

from sqlalchemy.engine import make_url

from calsync_desktop.cli.common import (
    EXIT_OK,
    Commands,
    UsageError,
    print_json,
    read_stdin,
)
from calsync_desktop.files import private_file
from calsync_desktop.services import Services
from calsync_desktop.store import Store
from calsync_desktop.team import admin
from calsync_desktop.team.member import connect, disconnect, move_in, open_connected
from calsync_desktop.team.server import TeamServer, describe, member_url, parse_url, secure_url
from calsync_desktop.words import count

ADMIN_NAME = "team-admin.json"


# --------------------------------------------------------------------------- administration


def _remember_admin(services: Services, url: str) -> None:
    address = parse_url(url)._replace(password=None).render_as_string(hide_password=False)
    path = services.data_dir / ADMIN_NAME
    private_file(path)
    path.write_text(json.dumps({"url": address}, indent=2))


def _admin_url(args: argparse.Namespace, services: Services) -> str:
    if args.server:
        return args.server
    path = services.data_dir / ADMIN_NAME
    if path.exists():
        return json.loads(path.read_text())["url"]
    raise UsageError(
        "Which team server? Give --server postgresql://ADMIN@HOST/DATABASE "
        "(or run 'calsync team init URL' on this computer first)."
    )


def cmd_init(args: argparse.Namespace, services: Services) -> int:
    result = admin.init(args.url)
    _remember_admin(services, args.url)
    if args.json:
        print_json(
            {
                "group_role": result.group_role,
                "revision": result.revision,
                "created": result.created,
                "upgraded_from": result.upgraded_from,
            }
        )
        return EXIT_OK
    where = describe(parse_url(args.url))
    if result.created:
        print(f"The team Sales Calendar at {where} is set up (group role {result.group_role}).")
    elif result.upgraded_from != result.revision:
        print(f"The team Sales Calendar at {where} is upgraded to schema {result.revision}.")
    else:
        print(f"The team Sales Calendar at {where} was already set up; its rights are renewed.")
    print("Next: calsync team add-member EMAIL --name NAME")
    return EXIT_OK


def cmd_add_member(args: argparse.Namespace, services: Services) -> int:
    password = read_stdin("--password-stdin", first_line=True) if args.password_stdin else None
    if password is not None and not password:
        raise UsageError("--password-stdin: standard input holds no password.")
    given = admin.add_member(_admin_url(args, services), args.email, args.name or "", password)
    if args.json:
        shown = {"email": args.email.strip(), "name": (args.name or "").strip()}
        print_json(shown if password is not None else {**shown, "password": given})
        return EXIT_OK
    print(f"{args.email.strip()} is a member of the team.")
    if password is None:
        # shown this once: the server keeps only a verifier of it
        print(f"One-time password (give it to them; it is not shown again): {given}")
        print(f"They connect with: calsync team connect URL --user {args.email.strip()}")
    return EXIT_OK


def cmd_members(args: argparse.Namespace, services: Services) -> int:
    found = admin.members(_admin_url(args, services))
    if args.json:
        print_json(
            [
                {
                    "email": m.email,
                    "name": m.name,
                    "role": m.role,
                    "added": m.added.isoformat(),
                    "appointments": m.appointments,
                    "accounts": m.accounts,
                    "can_log_in": m.can_log_in,
                }
                for m in found
            ]
        )
        return EXIT_OK
    if not found:
        print("The team has no members yet: calsync team add-member EMAIL")
    for m in found:
        name = f"{m.name} <{m.email}>" if m.name else m.email
        state = "" if m.can_log_in else " · cannot log in"
        held = f"{count(m.appointments, 'appointment')} · {count(m.accounts, 'account')}"
        print(f"{name} · {held}{state}")
    return EXIT_OK


def _keep_appointments(args: argparse.Namespace, services: Services, url: str) -> bool:
    if args.keep_appointments or args.delete_appointments:
        return bool(args.keep_appointments)
    held = next(
        (m.appointments for m in admin.members(url) if m.email.lower() == args.email.lower()),
        None,
    )
    if held is None:
        raise admin.NoSuchMember(f"{args.email} is not a member of the team.")
    question = (
        f"{args.email} has {count(held, 'appointment')}. Keep them in the team calendar "
        "(read-only for everyone), or delete them? [keep/delete] "
    )
    if not sys.stdin or not sys.stdin.isatty():
        raise UsageError(
            f"{args.email} has {count(held, 'appointment')}: say what becomes of them with "
            "--keep-appointments or --delete-appointments."
        )
    while True:
        answer = input(question).strip().lower()
        if answer in ("k", "keep"):
            return True
        if answer in ("d", "delete"):
            return False


def cmd_remove_member(args: argparse.Namespace, services: Services) -> int:
    url = _admin_url(args, services)
    keep = _keep_appointments(args, services, url)
    removed = admin.remove_member(url, args.email, keep_appointments=keep)
    if args.json:
        print_json({"email": args.email, "appointments": removed, "kept": keep})
        return EXIT_OK
    fate = "kept, read-only" if keep else "deleted"
    were = "was" if removed == 1 else "were"
    print(
        f"{args.email} is no longer a member; their {count(removed, 'appointment')} {were} {fate}."
    )
    return EXIT_OK


# --------------------------------------------------------------------------- this computer


def _password(args: argparse.Namespace, user: str) -> str:
    if args.password_stdin:
        password = read_stdin("--password-stdin", first_line=True)
    else:
        try:
            password = getpass.getpass(f"Team server password for {user}: ")
        except EOFError:
            raise UsageError(
                "No password given: type it when asked, or pipe it in with --password-stdin."
            ) from None
    if not password:
        raise UsageError("The password is empty.")
    return password


def cmd_connect(args: argparse.Namespace, services: Services) -> int:
    if args.ca_bundle and not Path(args.ca_bundle).expanduser().is_file():
        raise UsageError(f"--ca-bundle: the file {args.ca_bundle} does not exist.")
    ca_bundle = str(Path(args.ca_bundle).expanduser()) if args.ca_bundle else ""
    secure_url(member_url(args.url), ca_bundle)  # a refused address before any password
    password = _password(args, args.user)
    team = connect(
        services.data_dir,
        services.secrets,
        args.url,
        args.user,
        password,
        ca_bundle,
        services.clock,
    )
    try:
        where = describe(parse_url(args.url))
        local = _local_count(services)
        if args.json:
            print_json({"server": where, "user": team.owner, "local_appointments": local})
            return EXIT_OK
        print(f"This computer now uses the team Sales Calendar at {where} as {team.owner}.")
        if local and not team.count_appointments():
            print(
                f"This computer's own Sales Calendar has {count(local, 'appointment')}; "
                "copy them in with: calsync team move-in"
            )
    finally:
        team.close()
        team.engine.dispose()
    return EXIT_OK


def _local_count(services: Services) -> int:
    store = services.store if not services.store.is_team else Store.open(services.db_path)
    try:
        return store.count_appointments()
    finally:
        if store is not services.store:
            store.close()


def cmd_disconnect(args: argparse.Namespace, services: Services) -> int:
    server = disconnect(services.data_dir, services.secrets)
    if args.json:
        print_json({"disconnected": server is not None, "file": str(services.db_path)})
        return EXIT_OK
    if server is None:
        print(f"This computer is not connected to a team server; it uses {services.db_path}.")
    else:
        where = describe(parse_url(server.url))
        print(f"Disconnected from {where}; this computer uses {services.db_path} again.")
    return EXIT_OK


def cmd_move_in(args: argparse.Namespace, services: Services) -> int:
    if TeamServer.load(services.data_dir) is None:
        raise UsageError(
            "This computer is not connected to a team server: "
            "calsync team connect URL --user EMAIL first."
        )
    team = open_connected(services.data_dir, services.secrets, services.clock)
    local = services.store if not services.store.is_team else Store.open(services.db_path)
    try:
        result = move_in(local, team)
    finally:
        team.close()
        team.engine.dispose()
        if local is not services.store:
            local.close()
    if args.json:
        print_json(
            {
                "appointments": result.appointments,
                "accounts": result.accounts,
                "links": result.links,
                "rows": result.rows,
            }
        )
        return EXIT_OK
    print(
        f"Moved in {count(result.appointments, 'appointment')}, "
        f"{count(result.accounts, 'account')} and {count(result.links, 'link')} "
        f"to the services' events as {team.owner}."
    )
    print(f"The next sync goes on where this computer left off; {services.db_path} is unchanged.")
    return EXIT_OK


# --------------------------------------------------------------------------- the command line


def _email(text: str) -> str:
    if "@" not in text:
        raise argparse.ArgumentTypeError(f"'{text}' is not an email address")
    return text


def _url(text: str) -> str:
    try:
        make_url(text)
    except Exception:
        raise argparse.ArgumentTypeError(f"'{text}' is not a PostgreSQL address") from None
    return text


def register(commands: Commands) -> None:
    group = commands.add(
        "team",
        help="the team Sales Calendar on PostgreSQL",
        description="Set up a team Sales Calendar on PostgreSQL, manage its members, and "
        "connect this computer to it.",
    )
    # these commands manage the connection itself: they open this computer's own
    # file, so that they work while the team server cannot be reached
    group.set_defaults(local_store=True)
    actions = commands.actions(group)

    def server_option(parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--server",
            metavar="URL",
            type=_url,
            help="the administrator's address, postgresql://ADMIN@HOST/DATABASE "
            "(default: the one 'team init' used on this computer)",
        )

    init = actions.add(
        "init",
        help="set a team up in an empty database (as its administrator); safe to run again",
    )
    init.add_argument("url", metavar="URL", type=_url, help="postgresql://ADMIN@HOST/DATABASE")
    init.set_defaults(func=cmd_init)

    add = actions.add("add-member", help="give a member a login role")
    add.add_argument("email", metavar="EMAIL", type=_email)
    add.add_argument("--name", metavar="NAME", help="the name colleagues see")
    add.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the member's password from standard input (else one is made and shown once)",
    )
    server_option(add)
    add.set_defaults(func=cmd_add_member)

    members = actions.add("members", help="the team's members")
    server_option(members)
    members.set_defaults(func=cmd_members)

    remove = actions.add("remove-member", help="take a member out of the team")
    remove.add_argument("email", metavar="EMAIL", type=_email)
    fate = remove.add_mutually_exclusive_group()
    fate.add_argument(
        "--keep-appointments",
        action="store_true",
        help="keep their appointments in the team calendar, read-only",
    )
    fate.add_argument("--delete-appointments", action="store_true", help="delete them")
    server_option(remove)
    remove.set_defaults(func=cmd_remove_member)

    conn = actions.add("connect", help="use the team Sales Calendar on this computer")
    conn.add_argument("url", metavar="URL", type=_url, help="postgresql://HOST[:PORT]/DATABASE")
    conn.add_argument("--user", metavar="EMAIL", required=True, type=_email)
    conn.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    conn.add_argument("--ca-bundle", metavar="FILE", help="the CA certificates to trust")
    conn.set_defaults(func=cmd_connect)

    disc = actions.add("disconnect", help="go back to this computer's own Sales Calendar file")
    disc.set_defaults(func=cmd_disconnect)

    move = actions.add(
        "move-in",
        help="copy this computer's Sales Calendar, with links and sync state, into the team",
    )
    move.set_defaults(func=cmd_move_in)
