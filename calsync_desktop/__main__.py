"""``calsync-desktop``: without a command, the tray app; with one, the CLI.

``calsync-desktop`` and ``calsync-desktop --home DIR`` start the GUI;
``calsync-desktop sync``, ``status`` and the other commands go to
:func:`calsync_desktop.cli.main`.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

GUI_OPTIONS = {"--home": True, "--show": False}
"""The options the GUI understands, and whether each takes a value."""


def wants_gui(argv: Sequence[str]) -> bool:
    """True when ``argv`` holds nothing but GUI options."""
    i = 0
    while i < len(argv):
        arg = argv[i]
        name = arg.split("=", 1)[0]
        if name not in GUI_OPTIONS:
            return False
        i += 2 if GUI_OPTIONS[name] and "=" not in arg else 1
    return True


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if wants_gui(argv):
        from calsync_desktop.gui.launch import main as gui_main

        return gui_main(argv)
    from calsync_desktop.cli import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
