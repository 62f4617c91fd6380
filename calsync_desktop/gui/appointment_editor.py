"""Opens the appointment dialog for the window and writes the outcome to the store:
a new appointment, an edited one, one occurrence of a series or the whole series."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from PySide6.QtGui import QColor
from PySide6.QtWidgets import QDialog, QMessageBox, QWidget

from calsync_desktop.gui.appointment_dialog import (
    ALL_IN_SERIES,
    DEFAULT_ACCOUNT_SETTING,
    AppointmentDialog,
    ask_scope,
)
from calsync_desktop.model import Appointment, Occurrence, new_id, occurrences
from calsync_desktop.store import StoreUnavailable


class AppointmentEditor:
    """Opens the appointment dialog for the window and writes the outcome to the store.

    ``changed()`` is called after every saved change (the app refreshes the
    model and schedules the sync ~10 s later). ``open_dialog`` runs a dialog
    and returns whether it was accepted (tests replace it); ``ask`` is the
    dialog's this-or-all question. ``unavailable()`` says why nothing can be
    saved now ("" when it can: a team server out of reach); ``refuse(parent,
    text)`` tells the user (tests replace both).
    """

    def __init__(
        self,
        store,
        tz: ZoneInfo,
        changed: Callable[[], None],
        parent: QWidget | None = None,
        open_dialog: Callable[[AppointmentDialog], bool] | None = None,
        confirm_private: Callable[[QWidget | None], bool] | None = None,
        colour_for: Callable[[str], QColor] | None = None,
        ask: Callable[[QWidget | None, str, Sequence[str]], str | None] = ask_scope,
        unavailable: Callable[[], str] | None = None,
        refuse: Callable[[QWidget | None, str], None] | None = None,
    ):
        self.store = store
        self.colour_for = colour_for
        self.tz = tz
        self.changed = changed
        self.parent = parent
        self.ask = ask
        self.unavailable = unavailable or (lambda: "")
        self.refuse = refuse or tell
        self.open_dialog = open_dialog or (lambda d: d.exec() == QDialog.DialogCode.Accepted)
        self.confirm_private = confirm_private or self._confirm_private

    @staticmethod
    def _confirm_private(parent: QWidget | None) -> bool:
        answer = QMessageBox.question(
            parent,
            "Private appointment",
            "This appointment is private. Show its details?",
        )
        return answer == QMessageBox.StandardButton.Yes

    def dialog_for(
        self, appointment: Appointment, is_new: bool, occurrence: Occurrence | None = None
    ) -> AppointmentDialog:
        """The dialog for ``appointment`` (or one ``occurrence`` of its series),
        offering the accounts the store has."""
        return AppointmentDialog(
            appointment,
            is_new=is_new,
            parent=self.parent,
            accounts=self.store.list_accounts(),
            default_account_id=self.store.get_setting(DEFAULT_ACCOUNT_SETTING),
            colour_for=self.colour_for,
            occurrence=occurrence,
            display_tz=self.tz,
            ask=self.ask,
            clock=self.store.clock,
        )

    def _refused(self) -> bool:
        """True (and the user told why) when nothing could be saved now."""
        problem = self.unavailable()
        if problem:
            self.refuse(self.parent, f"{problem} {NOT_NOW}")
        return bool(problem)

    def _until_saved(self, dialog: AppointmentDialog, save: Callable[[], object]) -> bool:
        """Run ``dialog`` and ``save()`` what it holds. When the Sales Calendar
        cannot be reached, the user is told and the dialog comes back with
        everything typed in it, until it is saved or the user cancels it."""
        while self.open_dialog(dialog):
            try:
                save()
                return True
            except StoreUnavailable as exc:
                self.refuse(self.parent, f"{exc} {KEPT}")
                dialog.deleted = False  # asked again: Delete must be chosen again
        return False

    def open(self, occurrence) -> None:
        if self._refused():
            return
        try:
            appointment = self.store.get_appointment(occurrence.appointment.id)
        except StoreUnavailable as exc:
            self.refuse(self.parent, f"{exc} {NOT_NOW}")
            return
        if appointment is None:
            return
        if appointment.private and not self.confirm_private(self.parent):
            return
        # the occurrence as the store has it now (the view's copy may be older)
        shown = None
        if appointment.recurrence is not None and occurrence.original_start is not None:
            window = occurrences(
                appointment, occurrence.start - timedelta(days=1), occurrence.end + timedelta(1)
            )
            shown = next((o for o in window if o.original_start == occurrence.original_start), None)
        dialog = self.dialog_for(appointment, is_new=False, occurrence=shown)

        def save() -> None:
            whole = dialog.occurrence is None or dialog.scope == ALL_IN_SERIES
            if dialog.deleted and whole:
                self.store.delete_appointment(appointment.id)
            else:
                self.store.update_appointment(dialog.appointment())

        try:
            if not self._until_saved(dialog, save):
                return
        finally:
            dialog.deleteLater()  # one dialog per opening, not one more child per opening
        self.changed()

    def create(self, start: datetime) -> Appointment | None:
        if self._refused():
            return None
        start = start.astimezone(self.tz)
        draft = Appointment(
            id=new_id(),
            contents="",
            start=start.astimezone(UTC),
            end=(start + timedelta(hours=1)).astimezone(UTC),
            timezone=getattr(self.tz, "key", "UTC"),
        )
        dialog = self.dialog_for(draft, is_new=True)
        saved: list[Appointment] = []

        def save() -> None:
            saved.append(self.store.add_appointment(dialog.appointment()))
            if dialog.account_choice is not None and saved[0].account_id:
                # the next new appointment suggests the account chosen last
                self.store.set_setting(DEFAULT_ACCOUNT_SETTING, saved[0].account_id)

        try:
            if not self._until_saved(dialog, save):
                return None
        finally:
            dialog.deleteLater()
        self.changed()
        return saved[0]


NOT_NOW = "Nothing can be changed until it answers again."
KEPT = "Nothing was saved; what you typed is still in the appointment, to save again."


def tell(parent: QWidget | None, text: str) -> None:
    QMessageBox.warning(parent, "Not saved", text)
