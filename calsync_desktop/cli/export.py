"""``calsync export --ics FILE``: the Sales Calendar as an iCalendar file."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from calsync_desktop.cli.common import (
    EXIT_OK,
    FAR_PAST,
    TIME_HELP,
    Commands,
    UsageError,
    date_range,
    local_zone_name,
    print_json,
    zone,
)
from calsync_desktop.ics import build_ics
from calsync_desktop.services import Services
from calsync_desktop.words import count


def _write_atomically(target: Path, data: bytes) -> None:
    # write beside the target, then rename: a failed export never leaves half a file
    fd, tmp = tempfile.mkstemp(prefix=".calsync-export-", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def cmd_export(args: argparse.Namespace, services: Services) -> int:
    tz = zone(args.zone or local_zone_name(services.env))
    start, end = date_range(args, tz, FAR_PAST, None)
    appointments = sorted(
        services.store.appointments_between(start, end), key=lambda a: (a.start, a.id)
    )
    data = build_ics(appointments, services.clock())
    private = sum(1 for a in appointments if a.private)
    if args.ics == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return EXIT_OK
    target = Path(args.ics).expanduser()
    if not target.parent.is_dir():
        raise UsageError(f"--ics: the folder {target.parent} does not exist.")
    if target.is_dir():
        raise UsageError(f"--ics: {target} is a folder; name a file.")
    try:
        _write_atomically(target, data)
    except OSError as error:
        raise UsageError(f"--ics: cannot write {target}: {error.strerror or error}.") from None
    if args.json:
        print_json(
            {"file": str(target), "appointments": len(appointments), "private_as_busy": private}
        )
    else:
        note = f" ({private} private as busy blocks)" if private else ""
        print(f"Exported {count(len(appointments), 'appointment')}{note} to {target}.")
    return EXIT_OK


def register(commands: Commands) -> None:
    export = commands.add(
        "export",
        help="write the Sales Calendar to an iCalendar (.ics) file",
        description="Private appointments are exported as busy blocks, without contents.",
        epilog=TIME_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    export.add_argument("--ics", required=True, metavar="FILE", help="the file ('-': stdout)")
    export.add_argument("--from", dest="date_from", metavar="ISO", help="from (default: all)")
    export.add_argument("--to", dest="date_to", metavar="ISO", help="until (default: all)")
    export.add_argument("--zone", help="zone for --from/--to without an offset")
    export.set_defaults(func=cmd_export)
