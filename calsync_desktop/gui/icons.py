"""Where the app's SVG icons live, and QIcons made from them.

SVG icons go through Qt's SVG icon engine, so they are rendered at whatever
size and device-pixel ratio the tray or the window asks for: sharp at any DPI.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from PySide6.QtGui import QIcon

import calsync_desktop
from calsync_desktop.model import InviteStatus

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


INVITE_ICON_NAMES = {
    InviteStatus.ACCEPTED: "invite-accepted",
    InviteStatus.TENTATIVE: "invite-tentative",
    InviteStatus.DECLINED: "invite-declined",
    InviteStatus.NO_RESPONSE: "invite-no-response",
}

INVITE_LABELS = {
    InviteStatus.ACCEPTED: "Accepted",
    InviteStatus.TENTATIVE: "Tentative",
    InviteStatus.DECLINED: "Declined",
    InviteStatus.NO_RESPONSE: "No response yet",
}


def invite_icon(status: InviteStatus) -> QIcon:
    return icon(INVITE_ICON_NAMES[InviteStatus(status)])
