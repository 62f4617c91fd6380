"""What the store raises: an edit that lost a race, a colleague's appointment,
a team server out of reach, an account another computer is syncing."""

from __future__ import annotations

from calsync_desktop.words import PRODUCT_NAME


class ConcurrentEdit(Exception):
    """The appointment changed since it was read."""


class NotYours(PermissionError):
    """The appointment belongs to a colleague: only they (their app) may change it."""

    def __init__(self, appointment_id: str, owner: str):
        super().__init__(
            f"This appointment belongs to {owner}; only {owner} can change or delete it."
        )
        self.appointment_id = appointment_id
        self.owner = owner


class StoreUnavailable(Exception):
    """The Sales Calendar's database cannot be reached (a team server that is down
    or out of the network). Nothing was written; the next attempt reconnects."""

    def __init__(self, detail: str = ""):
        super().__init__(
            "The team server cannot be reached, so the Sales Calendar cannot be read or "
            f"saved right now. Nothing was lost; {PRODUCT_NAME} reconnects by itself."
            + (f" ({detail})" if detail else "")
        )


class NotASalesCalendar(OSError):
    """The Sales Calendar's file is not a database: damaged, or another file in
    its place. It is left as it is (never written over, never deleted)."""

    def __init__(self, path):
        super().__init__(
            f"{path} is not a Sales Calendar database: it is damaged or another file. "
            f"{PRODUCT_NAME} left it as it is; restore it from a backup, or ask your IT "
            "contact to look at it."
        )
        self.path = path


class AccountBusy(Exception):
    """Another computer of the same member is syncing this account right now."""

    def __init__(self, name: str = "this account"):
        super().__init__(
            f"Another computer is syncing {name} right now; this sync waited and gave up. "
            "The next sync tries again."
        )
