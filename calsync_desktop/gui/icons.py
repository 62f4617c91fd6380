"""Where the app's SVG icons live, and QIcons made from them.

SVG icons go through Qt's SVG icon engine, so they are rendered at whatever
size and device-pixel ratio the tray or the window asks for: sharp at any DPI.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from PySide6.QtGui import QIcon

import calsync_desktop

TRAY_STATES = ("idle", "syncing", "error", "attention", "paused")


def resources_dir() -> Path:
    """The ``resources/`` folder: inside the package when installed (the wheel
    may force-include it there), else beside the package in a source checkout."""
    package = Path(calsync_desktop.__file__).resolve().parent
    for candidate in (package / "resources", package.parent / "resources"):
        if (candidate / "icons").is_dir():
            return candidate
    raise FileNotFoundError("The calsync-desktop resources folder is missing.")


def icon_path(name: str) -> Path:
    return resources_dir() / "icons" / f"{name}.svg"


@cache
def icon(name: str) -> QIcon:
    """The icon ``resources/icons/<name>.svg``; cached because the tray and
    the calendar view ask for the same few icons over and over."""
    return QIcon(str(icon_path(name)))


def tray_icon(state: str) -> QIcon:
    return icon(f"tray-{state}")


def app_icon() -> QIcon:
    return icon("calsync-desktop")


# Keyed by the values of calsync_desktop.model.InviteStatus (a StrEnum: its
# members find these keys), so that showing the tray icon at start does not
# load the model and its recurrence rules.
INVITE_ICON_NAMES = {
    "accepted": "invite-accepted",
    "tentative": "invite-tentative",
    "declined": "invite-declined",
    "no_response": "invite-no-response",
}

INVITE_LABELS = {
    "accepted": "Accepted",
    "tentative": "Tentative",
    "declined": "Declined",
    "no_response": "No response yet",
}


def invite_icon(status: str) -> QIcon:
    """The icon of an :class:`~calsync_desktop.model.InviteStatus`."""
    return icon(INVITE_ICON_NAMES[status])
