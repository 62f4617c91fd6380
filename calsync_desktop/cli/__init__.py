"""``calsync``: the Sales Calendar and its sync from the command line (SPEC §6).

Every command works on the Sales Calendar at ``--home DIR`` (else
``CALSYNC_HOME``, else the platform's user data folder) and prints plain text,
or JSON with ``--json``. Exit codes: 0 done; 1 something failed (an account's
sync, a sign-in); 2 bad input (one line on stderr, never a traceback); 3 a sync
stopped at the mass-deletion guard; 130 interrupted.

Two promises hold for every command: secrets are never printed, and a private
appointment shows as "Private appointment" without contents, location or
participants unless the user asks with ``--show-private``.

This package is glue: one module per command group, each with
``register(commands)`` that adds its commands and points each at a function
``cmd_…(args, services) -> exit code``. The rules those functions apply live in
the core (:mod:`calsync_desktop.editing`, :mod:`calsync_desktop.sync.preview`,
:mod:`calsync_desktop.ics`, the account kinds' registry), where the window
uses them too. A new command group is a new module here and one entry in
:data:`COMMAND_GROUPS`.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from calsync_desktop.accounts.base import InvalidDetails
from calsync_desktop.cli import (
    accounts,
    appointments,
    conflicts,
    export,
    history,
    profile,
    settings,
    skipped,
    status,
    sync,
    team,
)
from calsync_desktop.cli.appointments import appointment_view, occurrence_view, parse_participant
from calsync_desktop.cli.common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    Commands,
    TerminalSafe,
    UsageError,
    local_zone_name,
    parse_time,
)
from calsync_desktop.cli.kinds import wanted_kinds
from calsync_desktop.model import InvalidAppointment
from calsync_desktop.providers.base import ProviderError
from calsync_desktop.services import Services
from calsync_desktop.store import AccountBusy, StoreUnavailable
from calsync_desktop.sync.runner import explain
from calsync_desktop.team.server import BadAddress, TeamError

COMMAND_GROUPS = (
    appointments,
    export,
    status,
    sync,
    history,
    skipped,
    conflicts,
    accounts,
    profile,
    settings,
    team,
)
"""The command groups, in the order ``calsync --help`` lists them."""


def build_parser(
    prog: str = "calsync", kinds: Iterable[str] | None = None
) -> argparse.ArgumentParser:
    """The whole command line. ``kinds`` (default: all) are the account kinds
    whose ``accounts add KIND`` arguments are built, importing their modules;
    kinds whose module this installation lacks are left out."""
    common = argparse.ArgumentParser(add_help=False)
    # SUPPRESS: given after the command it overrides, otherwise the global value stays
    common.add_argument("--home", metavar="DIR", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print JSON")
    parser = argparse.ArgumentParser(
        prog=prog,
        description="calsync-desktop from the command line: the Sales Calendar, its accounts "
        "and their sync.",
        epilog="Exit codes: 0 done, 1 failed, 2 bad input, 3 stopped by the mass-deletion guard.",
    )
    parser.add_argument(
        "--home",
        metavar="DIR",
        default=None,
        help="folder of the Sales Calendar (default: $CALSYNC_HOME, else the user data folder)",
    )
    parser.add_argument("--json", action="store_true", default=False, help="print JSON")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    commands = Commands(subparsers, common, None if kinds is None else tuple(kinds))
    for group in COMMAND_GROUPS:
        group.register(commands)
    return parser


def _prog() -> str:
    name = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else ""
    return name if name.startswith("calsync") else "calsync"


def main(argv: Sequence[str] | None = None, services: Services | None = None) -> int:
    """Run one command; returns the exit code.

    ``services`` lets a caller (the tests, the GUI process) run commands on
    Services it already has; ``--home`` is then ignored. Otherwise they are
    opened at ``--home`` and closed at the end.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    prog = _prog()
    for arg in argv:
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            # bytes that are not UTF-8 reach Python as lone surrogates: they can
            # be neither stored nor printed
            shown = ascii(arg)
            print(f"{prog}: error: the argument {shown} is not UTF-8 text.", file=sys.stderr)
            return EXIT_USAGE
    parser = build_parser(prog, kinds=wanted_kinds(argv))
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse has printed the usage and the problem
        return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE
    own = services is None
    handlers = list(logging.getLogger().handlers)
    streams = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = TerminalSafe(sys.stdout), TerminalSafe(sys.stderr)
    try:
        if own:
            try:
                services = Services.create(
                    home=args.home, team=not getattr(args, "local_store", False)
                )
            except OSError as error:
                print(f"{prog}: cannot open the Sales Calendar: {error}", file=sys.stderr)
                return EXIT_FAILED
            services.setup_logging()
        return args.func(args, services)
    except (UsageError, InvalidAppointment, InvalidDetails, BadAddress) as error:
        print(f"{prog}: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except (TeamError, StoreUnavailable, AccountBusy) as error:
        # the team server: unreachable, a password refused, a certificate not trusted, …
        print(f"{prog}: {error}", file=sys.stderr)
        return EXIT_FAILED
    except ProviderError as error:
        # raised outside a sync (signing in, listing calendars): the error's own
        # sentence is the most precise, the explanation says what to do
        explanation = explain(error, outside_sync=True)
        print(f"{prog}: {str(error) or explanation.problem}", file=sys.stderr)
        print(f"  {explanation.fix}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # the reader (| head) went away: stop quietly, as the Python docs advise
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_FAILED
    finally:
        sys.stdout, sys.stderr = streams
        if own and services is not None:
            services.store.close()
            # called in-process (tests, the GUI's own process): leave logging as it was
            for handler in set(logging.getLogger().handlers) - set(handlers):
                logging.getLogger().removeHandler(handler)
                handler.close()


__all__ = [
    "COMMAND_GROUPS",
    "UsageError",
    "appointment_view",
    "build_parser",
    "local_zone_name",
    "main",
    "occurrence_view",
    "parse_participant",
    "parse_time",
    "wanted_kinds",
]
