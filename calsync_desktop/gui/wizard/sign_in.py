"""The sign-in page: the browser sign-in (Google, Microsoft) or a kind that
connects without a form, run in the background, with the device-code relay."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QHBoxLayout,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWizard,
    QWizardPage,
)

from calsync_desktop.accounts.kinds import KINDS, kind_module
from calsync_desktop.gui.background import Task, run_in_background
from calsync_desktop.gui.style import ERROR_STYLE, OK_STYLE
from calsync_desktop.gui.wizard.common import (
    PAGE_OPTIONS,
    ProfileOffer,
    failure_message,
    note_label,
    show_warnings,
    warning_label,
)
from calsync_desktop.gui.wizard.fields import FieldsForm, replace_form

if TYPE_CHECKING:
    from calsync_desktop.gui.wizard.shell import AccountWizard


class SignInPage(QWizardPage):
    """Sign-in in the browser (Google, Microsoft), or a kind that connects without
    one (the test calendar), run in the background."""

    def __init__(self, wizard: AccountWizard):
        super().__init__()
        self.w = wizard
        self.task: Task | None = None
        self.explain = note_label()
        self.form = FieldsForm(())
        self.form_kind: str | None = None
        self.button = QPushButton()
        self.button.setObjectName("sign-in")
        self.button.clicked.connect(self.sign_in)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setMaximumHeight(8)
        self.busy.setTextVisible(False)
        self.busy.hide()
        self.status = note_label()
        self.status.setObjectName("sign-in-status")
        self.device_code = note_label()
        self.device_code.setObjectName("device-code")
        self.warnings = warning_label()
        self.profile_offer = ProfileOffer()
        layout = QVBoxLayout(self)
        layout.addWidget(self.explain)
        self.form_slot = QVBoxLayout()
        self.form_slot.addWidget(self.form)
        layout.addLayout(self.form_slot)
        buttons = QHBoxLayout()
        buttons.addWidget(self.button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        layout.addWidget(self.busy)
        layout.addWidget(self.device_code)
        layout.addWidget(self.status)
        layout.addWidget(self.warnings)
        layout.addWidget(self.profile_offer)
        layout.addStretch(1)
        wizard.deviceCode.connect(self._device_code)

    def initializePage(self) -> None:
        kind = self.w.kind
        entry = KINDS[kind]
        self.setTitle(entry.label)
        self.setSubTitle("Sign in to the calendar account you want to sync.")
        self.explain.setText(entry.explanation)
        if self.form_kind != kind:
            self.form = replace_form(self.form_slot, self.form, FieldsForm(entry.form_fields()))
            self.form_kind = kind
            for edit in self.form.edits.values():
                edit.returnPressed.connect(self.sign_in)  # Enter in a field signs in
        self.form.setVisible(bool(self.form.edits))
        self.button.setText(entry.connect_label)
        self.button.setEnabled(True)
        if self.w.pending is None or self.w.pending.kind != kind:
            self.w.pending = None
            self.status.clear()
            show_warnings(self.warnings, [])
            self.profile_offer.withdraw()
            self.device_code.clear()
        # Enter signs in: the page's one action has the focus
        QTimer.singleShot(0, self.button, self.button.setFocus)

    def sign_in(self) -> None:
        kind = self.w.kind
        module = kind_module(kind)
        self.button.setEnabled(False)
        self.busy.show()
        self.status.setStyleSheet("")
        self.status.setText(KINDS[kind].waiting)
        services = self.w.task_services()
        values = self.form.values()
        interaction = self.w.interaction()
        self.task = run_in_background(
            lambda: module.connect_account(services, values, interaction),
            self._signed_in,
            self._failed,
            parent=self,
        )

    def _device_code(self, message: str) -> None:
        self.device_code.setText(message)

    def _signed_in(self, pending) -> None:
        self.busy.hide()
        self.button.setEnabled(True)
        self.w.pending = pending
        self.status.setStyleSheet(OK_STYLE)
        self.status.setText(f"Signed in as {pending.email}")
        show_warnings(self.warnings, pending.warnings(self.w.profile_email))
        self.profile_offer.offer(pending.email, self.w.profile_email)
        self.completeChanged.emit()
        self.w.button(QWizard.WizardButton.NextButton).setFocus()

    def _failed(self, error: BaseException) -> None:
        self.busy.hide()
        self.button.setEnabled(True)
        self.status.setStyleSheet(ERROR_STYLE)
        self.status.setText(failure_message(error, self.w.kind))
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        return self.w.pending is not None and self.w.pending.kind == self.w.kind

    def nextId(self) -> int:
        return PAGE_OPTIONS
