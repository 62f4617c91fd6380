"""The mass-deletion guard's question (SPEC §4): a sync, or an undo, stopped
before deleting many appointments; the user deletes them, keeps them (a sync
restores them on the side they went from; an undo puts back the rest) or
decides later. "Show Details" lists them by title ("Private appointment" for
private ones: the guard names them so)."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget

from calsync_desktop.sync.plan import Decision, MassDeletionGuard

GUARD_WORDS = {
    False: (
        "a sync would delete",
        "the sync stopped",
        "Apply the deletions, restore the appointments on the side they disappeared "
        "from, or decide later",
        "Restore them",
    ),
    True: (
        "undoing a sync would delete",
        "the undo stopped",
        "Delete them as the undo would, keep them and put back the rest, or decide later",
        "Keep them",
    ),
}
"""The deletion warning's words for a sync (False) and an undo (True): what
would happen, what stopped, the choices, and the button that keeps them."""


class DeletionWarning(QMessageBox):
    """The question; after ``exec()``, :meth:`decision` is the answer."""

    def __init__(self, guard: MassDeletionGuard, undoing: bool, parent: QWidget | None = None):
        super().__init__(parent)
        _what, stopped, choices, keep = GUARD_WORDS[undoing]
        self.setIcon(QMessageBox.Icon.Warning)
        self.setWindowTitle("Delete many appointments?")
        self.setText(
            f"<b>{guard.account_name}</b>: {stopped} before deleting anything, "
            f"because {guard.reason}"
        )
        self.setInformativeText(
            f"{choices} (nothing changes until then). “Show Details” lists them."
        )
        lines = [f"From the Sales Calendar: {t}" for t in guard.local_deletions]
        lines += [f"From {guard.account_name}: {t}" for t in guard.remote_deletions]
        self.setDetailedText("\n".join(lines))
        self.answers = {
            self.addButton("Delete them", QMessageBox.ButtonRole.DestructiveRole): Decision.APPLY,
            self.addButton(keep, QMessageBox.ButtonRole.AcceptRole): Decision.RESTORE,
        }
        self.setDefaultButton(self.addButton("Decide later", QMessageBox.ButtonRole.RejectRole))

    def decision(self) -> Decision:
        return self.answers.get(self.clickedButton(), Decision.STOP)
