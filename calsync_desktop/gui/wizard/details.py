"""The details page: the fields a kind connects with (Exchange, CalDAV), their
validation against the server in the background, suggestions, the CA bundle."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWizard,
    QWizardPage,
)

from calsync_desktop.accounts.base import BelongsToAnotherKind
from calsync_desktop.accounts.kinds import KINDS, Suggestion, kind_module
from calsync_desktop.gui.background import Task, run_in_background
from calsync_desktop.gui.style import ERROR_STYLE, OK_STYLE, WARN_STYLE
from calsync_desktop.gui.wizard.common import (
    PAGE_OPTIONS,
    ProfileOffer,
    failure_message,
    note_label,
    show_warnings,
    warning_label,
)
from calsync_desktop.gui.wizard.fields import FieldsForm, replace_form
from calsync_desktop.providers.base import CertificateUntrusted

if TYPE_CHECKING:
    from calsync_desktop.gui.wizard.shell import AccountWizard


class DetailsPage(QWizardPage):
    """The details a kind connects with (Exchange: username, password, server
    URL, optional email), built from its fields in the registry. The connect
    button ("Save Account Settings") validates by really opening the calendar."""

    def __init__(self, wizard: AccountWizard):
        super().__init__()
        self.w = wizard
        self.task: Task | None = None
        self.form = FieldsForm(())
        self.form_kind: str | None = None
        self.fields = self.form.edits
        # Settings › Advanced › CA bundle applies to new accounts too
        self.ca_bundle = wizard.services.store.get_setting("advanced.ca_bundle", "") or ""
        self.save = QPushButton()
        self.save.setObjectName("save-account-settings")
        self.save.clicked.connect(self.validate)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setMaximumHeight(8)
        self.busy.setTextVisible(False)
        self.busy.hide()
        self.message = note_label()
        self.message.setObjectName("exchange-message")
        self.warnings = warning_label()
        self.profile_offer = ProfileOffer()
        self.suggestion = note_label(style=WARN_STYLE)
        self.suggested_kind: str | None = None
        self.switch = QPushButton()
        self.switch.setObjectName("switch-kind")
        self.switch.clicked.connect(self.switch_kind)
        self.choose_ca = QPushButton("Choose CA bundle…")
        self.choose_ca.setObjectName("choose-ca-bundle")
        self.choose_ca.clicked.connect(self._choose_ca)
        self.ca_label = note_label()
        layout = QVBoxLayout(self)
        self.form_slot = QVBoxLayout()
        self.form_slot.addWidget(self.form)
        layout.addLayout(self.form_slot)
        row = QHBoxLayout()
        row.addWidget(self.save)
        row.addWidget(self.switch)
        row.addWidget(self.choose_ca)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addWidget(self.busy)
        layout.addWidget(self.suggestion)
        layout.addWidget(self.message)
        layout.addWidget(self.warnings)
        layout.addWidget(self.profile_offer)
        layout.addWidget(self.ca_label)
        layout.addStretch(1)
        self._suggest(None)
        self.choose_ca.hide()

    def initializePage(self) -> None:
        kind = self.w.kind
        entry = KINDS[kind]
        self.setTitle(entry.label)
        self.setSubTitle(entry.explanation)
        self.save.setText(entry.connect_label)
        if self.form_kind != kind:
            self.form = replace_form(
                self.form_slot, self.form, FieldsForm(entry.form_fields(), presets=entry.presets)
            )
            self.form_kind = kind
            self.fields = self.form.edits
            for edit in self.fields.values():
                edit.textChanged.connect(self._edited)
                # Enter in any field (the password, typically) saves the settings
                edit.returnPressed.connect(self._enter)
        edit = self.w.edit_account
        if (
            edit is not None
            and edit.kind == kind
            and not any(f.text() for f in self.fields.values())
        ):
            # signing in again: what is known already, never the password
            for field in entry.form_fields():
                if not field.secret:
                    known = edit.settings.get(field.name, getattr(edit, field.name, ""))
                    self.fields[field.name].setText(str(known or ""))
            self.ca_bundle = edit.settings.get("ca_bundle", "")

    def _enter(self) -> None:
        if self.isComplete():
            self.w.next()  # checked already: Enter goes on, as Next would
        elif self.save.isEnabled():
            self.validate()

    def values(self) -> dict[str, str]:
        values = self.form.values()
        if "ca_bundle" in {f.name for f in KINDS[self.w.kind].fields}:
            values["ca_bundle"] = self.ca_bundle or None
        return values

    def _suggest(self, suggestion) -> None:
        """Show (or hide, with None) that the details belong to another kind."""
        self.suggested_kind = suggestion.kind if suggestion else None
        if suggestion is not None:
            self.suggestion.setText(suggestion.message)
            self.switch.setText(f"Switch to {KINDS[suggestion.kind].label}")
        self.suggestion.setVisible(suggestion is not None)
        self.switch.setVisible(suggestion is not None)

    def _edited(self) -> None:
        if self.w.pending is not None and self.w.pending.kind == self.w.kind:
            self.w.pending = None  # details changed: validate again before going on
            self.completeChanged.emit()
        self.message.clear()  # an old verdict no longer applies to new details
        show_warnings(self.warnings, [])
        self.profile_offer.withdraw()
        self.choose_ca.hide()
        suggest = getattr(kind_module(self.w.kind), "suggest_kind", None)
        self._suggest(suggest(self.form.values()) if suggest else None)

    def validate(self) -> None:
        module = kind_module(self.w.kind)
        services = self.w.task_services()
        values = self.values()
        interaction = self.w.interaction()
        self.save.setEnabled(False)
        self.busy.show()
        self.message.setStyleSheet("")
        self.message.setText(KINDS[self.w.kind].waiting)
        self.task = run_in_background(
            lambda: module.connect_account(services, values, interaction),
            self._validated,
            self._failed,
            parent=self,
        )

    def _validated(self, pending) -> None:
        self.busy.hide()
        self.save.setEnabled(True)
        self.choose_ca.hide()
        self.w.pending = pending
        self.message.setStyleSheet(OK_STYLE)
        self.message.setText(f"Connected to the calendar of {pending.email}.")
        show_warnings(self.warnings, pending.warnings(self.w.profile_email))
        self.profile_offer.offer(pending.email, self.w.profile_email)
        self.completeChanged.emit()
        self.w.button(QWizard.WizardButton.NextButton).setFocus()

    def _failed(self, error: BaseException) -> None:
        self.busy.hide()
        self.save.setEnabled(True)
        self.w.pending = None
        if isinstance(error, BelongsToAnotherKind) and error.kind in KINDS:
            self._suggest(Suggestion(error.kind, self.suggestion.text() or str(error)))
            self.message.setStyleSheet(WARN_STYLE)
            self.message.setText(str(error))
        else:
            self.message.setStyleSheet(ERROR_STYLE)
            self.message.setText(failure_message(error, self.w.kind))
        has_ca = "ca_bundle" in {f.name for f in KINDS[self.w.kind].fields}
        self.choose_ca.setVisible(has_ca and isinstance(error, CertificateUntrusted))
        self.completeChanged.emit()

    def _choose_ca(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Choose the CA bundle", "", "Certificates (*.pem *.crt *.cer);;All files (*)"
        )
        if path:
            self.set_ca_bundle(path)

    def set_ca_bundle(self, path: str) -> None:
        self.ca_bundle = path
        self.ca_label.setText(f"CA bundle: {path}")
        self.validate()

    def switch_kind(self) -> None:
        if self.suggested_kind:
            self.w.switch_kind(self.suggested_kind)

    def isComplete(self) -> bool:
        return self.w.pending is not None and self.w.pending.kind == self.w.kind

    def nextId(self) -> int:
        return PAGE_OPTIONS
