"""The setup wizard (SPEC §2): choose a calendar, sign in or enter the account's
details, pick the options, see what the first sync will do, then run it.

Every call that talks to a server runs in the background (see
:mod:`calsync_desktop.gui.background`) on a Store connection of the wizard's
own; nothing is saved before the user confirms on the summary page.

Longer than 600 lines (STYLE.md): one page class per wizard step, built from
the account kinds registry; a split into a module per page is left until the
window work of issue 9 has landed.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from calsync_desktop.accounts.base import Account, BelongsToAnotherKind
from calsync_desktop.accounts.kinds import (
    KINDS,
    Connect,
    Field,
    Interaction,
    Preset,
    Suggestion,
    kind_module,
)
from calsync_desktop.gui.background import Task, run_in_background
from calsync_desktop.gui.icons import app_icon
from calsync_desktop.gui.style import ERROR_STYLE, NOTE_STYLE, OK_STYLE, WARN_STYLE
from calsync_desktop.providers.base import (
    BadCredentials,
    CertificateUntrusted,
    NotACalendarService,
    ProviderError,
    TimedOut,
    Unreachable,
)
from calsync_desktop.sync.preview import (
    Preview,
    describe_first_sync,
    draft_account,
    preview_first_sync,
)

log = logging.getLogger(__name__)

PAGE_CHOOSE, PAGE_SIGN_IN, PAGE_DETAILS, PAGE_OPTIONS, PAGE_SUMMARY, PAGE_SYNC = range(6)
PAGE_FOR = {Connect.SIGN_IN: PAGE_SIGN_IN, Connect.DETAILS: PAGE_DETAILS}
"""The page that connects each way of connecting (the registry says which a kind uses)."""
BAD_CREDENTIALS = (
    "Failed to validate access to the server with your credentials, please review your details"
)
SAME_EMAIL_ADVICE = (
    "Use the same email address as your Sales Calendar profile{profile}. Otherwise "
    "participant invite statuses may not sync."
)
NO_PROFILE_ADVICE = (
    "You have no profile email yet: once you are connected, the wizard offers the "
    "account's address for it."
)
PROFILE_SETTING = "profile.email"
GMAIL_ADVICE = (
    "With a free Gmail account, participant invite statuses are not guaranteed; a Google "
    "Workspace account is recommended."
)


def failure_message(error: BaseException, kind: str | None = None) -> str:
    """The plain sentence for a failed validation; the article's exact words for
    bad credentials."""
    if isinstance(error, BadCredentials):
        entry = KINDS.get(kind or "")
        return entry.bad_credentials if entry else BAD_CREDENTIALS
    if isinstance(error, CertificateUntrusted):
        return (
            "The server's security certificate is not trusted by this computer. If your "
            "company uses its own certificates, choose its CA bundle file below. "
            f"({error})"
        )
    # a timeout's or an unreachable server's own message says the same again: not repeated
    if isinstance(error, TimedOut):
        return "The server did not answer in time. Check the address and your network."
    if isinstance(error, Unreachable):
        return "The server cannot be reached. Check the server URL and your network."
    if isinstance(error, NotACalendarService):
        entry = KINDS.get(kind or "")
        first = entry.not_the_service if entry else "The address answers, but it is not a "
        return f"{first} ({error})" if entry else f"{first}calendar service. ({error})"
    if isinstance(error, ProviderError):
        return str(error)
    return f"Something went wrong: {type(error).__name__}."


def note_label(text: str = "", style: str = "") -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    if style:
        label.setStyleSheet(style)
    return label


class FittedNote(QLabel):
    """A wrapped note in a form row that takes the height its text needs at its
    width (a form would reserve what the narrowest width would need)."""

    def __init__(self, text: str):
        super().__init__(text)
        self.setWordWrap(True)
        self.setStyleSheet(NOTE_STYLE)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit()

    def setText(self, text: str) -> None:  # a shorter text gives back the rows it freed
        super().setText(text)
        self._fit()

    def _fit(self) -> None:
        self.setMinimumHeight(0)  # QLabel's heightForWidth never goes below the minimum
        height = self.heightForWidth(self.width())
        if height > 0 and height != self.height():
            self.setFixedHeight(height)


class ProfileOffer(QCheckBox):
    """ "Use ADDRESS as my Sales Calendar profile email": offered (ticked) when
    no profile email is set yet, so that the article's same-address advice can
    work from the first account on. Saved with the account."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("use-as-profile-email")
        self.offered = False
        self.hide()

    def withdraw(self) -> None:
        self.offered = False
        self.hide()

    def accepted(self) -> bool:
        return self.offered and self.isChecked()

    def offer(self, email: str, profile_email: str) -> None:
        wanted = bool(email) and not profile_email
        self.offered = wanted
        self.setText(f"Use {email} as my Sales Calendar profile email (Settings › My profile)")
        self.setAccessibleName(f"Use {email} as my profile email")
        self.setChecked(wanted)
        self.setVisible(wanted)


def warning_label() -> QLabel:
    """Warnings: amber, with a warning sign, never in the green of success."""
    label = note_label(style=WARN_STYLE)
    label.setObjectName("sign-in-warnings")
    return label


def show_warnings(label: QLabel, warnings: list[str]) -> None:
    label.setText("\n\n".join(f"⚠ {w}" for w in warnings))
    label.setVisible(bool(warnings))


class ChoosePage(QWizardPage):
    """The account kinds of the registry (Google Calendar · Office 365 · Exchange
    Server · …), with the article's advice."""

    def __init__(self, wizard: AccountWizard):
        super().__init__()
        self.setTitle("Connect a calendar")
        self.setSubTitle("Which calendar do you want to keep in sync with your Sales Calendar?")
        self.group = QButtonGroup(self)
        layout = QVBoxLayout(self)
        for kind, entry in KINDS.items():
            if not entry.offered and not wizard.show_test_kind:
                continue
            button = QRadioButton(f"{entry.label}  —  {entry.detail}")
            button.setObjectName(f"kind-{kind}")
            button.setProperty("kind", kind)
            button.setAccessibleName(entry.label)
            self.group.addButton(button)
            layout.addWidget(button)
        self.group.buttonToggled.connect(lambda *_: self.completeChanged.emit())
        layout.addSpacing(12)
        profile = wizard.profile_email
        self.advice = note_label(
            SAME_EMAIL_ADVICE.format(profile=f" ({profile})" if profile else "")
            + (" Your profile is in Settings › My profile." if profile else f" {NO_PROFILE_ADVICE}")
        )
        layout.addWidget(self.advice)
        layout.addWidget(note_label(GMAIL_ADVICE, NOTE_STYLE))
        layout.addStretch(1)

    def kind(self) -> str | None:
        button = self.group.checkedButton()
        return button.property("kind") if button else None

    def choose(self, kind: str) -> None:
        for button in self.group.buttons():
            if button.property("kind") == kind:
                button.setChecked(True)

    def isComplete(self) -> bool:
        return self.kind() is not None

    def nextId(self) -> int:
        kind = self.kind()
        return PAGE_FOR[KINDS[kind].connect] if kind else PAGE_SIGN_IN


class FieldsForm(QWidget):
    """The form rows of an account kind's fields (the registry's :class:`Field` s
    with ``on_form``): ``edits`` by field name, ``values()`` what was entered."""

    def __init__(
        self,
        fields: tuple[Field, ...],
        parent: QWidget | None = None,
        presets: tuple[Preset, ...] = (),
    ):
        super().__init__(parent)
        self.edits: dict[str, QLineEdit] = {}
        self.presets = presets
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        self.preset: QComboBox | None = None
        self.advice: FittedNote | None = None
        if presets:
            # a well-known service fills in its address and says what password it takes
            self.preset = QComboBox()
            self.preset.setObjectName("preset")
            self.preset.setAccessibleName("Service")
            self.preset.addItem("Choose your service…")
            for preset in presets:
                self.preset.addItem(preset.label)
            form.addRow("Service", self.preset)
            self.advice = FittedNote("")
            self.advice.setObjectName("preset-advice")
            self.advice.hide()
            form.addRow("", self.advice)
            self.preset.currentIndexChanged.connect(self._preset_chosen)
        for field in fields:
            edit = QLineEdit(field.default or "")
            edit.setPlaceholderText(field.placeholder)
            edit.setAccessibleName(field.accessible or field.label)
            if field.secret:
                edit.setEchoMode(QLineEdit.EchoMode.Password)
            self.edits[field.name] = edit
            form.addRow(field.label, edit)
            if field.example:
                example = FittedNote(field.example)
                example.setObjectName(f"example-{field.name}")
                form.addRow("", example)

    def _preset_chosen(self, index: int) -> None:
        assert self.advice is not None
        if index <= 0:
            self.advice.hide()
            return
        preset = self.presets[index - 1]
        for name, value in preset.values.items():
            if name in self.edits:
                self.edits[name].setText(value)
        self.advice.setText(preset.advice)
        self.advice.setVisible(bool(preset.advice))

    def values(self) -> dict[str, str]:
        # a password is taken as typed; other details without stray spaces
        return {
            name: edit.text()
            if edit.echoMode() == QLineEdit.EchoMode.Password
            else edit.text().strip()
            for name, edit in self.edits.items()
        }


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


def replace_form(slot: QVBoxLayout, old: FieldsForm, new: FieldsForm) -> FieldsForm:
    slot.replaceWidget(old, new)
    old.deleteLater()
    return new


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


class OptionsPage(QWizardPage):
    """Which calendar, and "Sync all appointments as private"."""

    def __init__(self, wizard: AccountWizard):
        super().__init__()
        self.w = wizard
        self.task: Task | None = None
        self.loaded = False
        self.setTitle("Options")
        self.setSubTitle("Choose what to sync.")
        self.calendar = QComboBox()
        self.calendar.setAccessibleName("Calendar")
        self.calendar.setMinimumWidth(280)
        self.private = QCheckBox("Sync all appointments as private")
        self.private.setObjectName("sync-all-private")
        explain = note_label(
            "Private appointments still show in your Sales Calendar, but as a dark grey box "
            "with an eye icon: colleagues cannot see their contents.",
            NOTE_STYLE,
        )
        self.status = note_label()
        form = QFormLayout()
        form.addRow("Calendar", self.calendar)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.status)
        layout.addSpacing(8)
        layout.addWidget(self.private)
        layout.addWidget(explain)
        layout.addStretch(1)

    def initializePage(self) -> None:
        self.loaded = False
        self.calendar.clear()
        self.status.setText("Loading the calendars of the account…")
        pending = self.w.pending
        if self.w.edit_account is not None:
            self.private.setChecked(self.w.edit_account.sync_all_private)

        def call():
            provider = pending.provider()
            try:
                return provider.list_calendars()
            finally:
                provider.close()

        self.task = run_in_background(call, self._loaded, self._failed, parent=self)

    def _loaded(self, calendars) -> None:
        self.calendar.clear()
        chosen = 0
        for i, info in enumerate(calendars):
            label = info.name + ("  (main calendar)" if info.primary else "")
            self.calendar.addItem(label, info.id)
            if info.primary:
                chosen = i
            if self.w.edit_account is not None and info.id == self.w.edit_account.calendar_id:
                chosen = i
        self.calendar.setCurrentIndex(chosen)
        self.status.clear()
        self.loaded = True
        self.completeChanged.emit()

    def _failed(self, error: BaseException) -> None:
        self.status.setStyleSheet(ERROR_STYLE)
        self.status.setText(f"The calendars could not be listed: {failure_message(error)}")

    def calendar_id(self) -> str:
        return self.calendar.currentData() or ""

    def isComplete(self) -> bool:
        return self.loaded and self.calendar.count() > 0


class SummaryPage(QWizardPage):
    """What the first sync will do, before anything is saved."""

    def __init__(self, wizard: AccountWizard):
        super().__init__()
        self.w = wizard
        self.task: Task | None = None
        self.plan: dict[str, int] | None = None
        self.setTitle("Ready to sync")
        self.setSubTitle("This is what the first sync will do. Nothing is deleted.")
        self.setCommitPage(True)
        self.setButtonText(QWizard.WizardButton.CommitButton, "Save and start syncing")
        self.summary = note_label()
        self.summary.setObjectName("plan-summary")
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setMaximumHeight(8)
        self.busy.setTextVisible(False)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.busy)
        layout.addWidget(
            note_label(
                "Appointments older than 30 days and all-day appointments are not synced.",
                NOTE_STYLE,
            )
        )
        layout.addStretch(1)

    def initializePage(self) -> None:
        self.plan = None
        self.busy.show()
        self.summary.setStyleSheet("")
        self.summary.setText("Looking at both calendars…")
        pending = self.w.pending
        account = draft_account(
            pending, self.w.options.calendar_id(), self.w.options.private.isChecked()
        )
        services = self.w.task_services()
        self.task = run_in_background(
            lambda: preview_first_sync(services.store, account, pending.provider, services.clock),
            self._planned,
            self._failed,
            parent=self,
        )

    def _planned(self, preview: Preview) -> None:
        if preview.error is not None:
            self._failed(preview.error)
            return
        self.busy.hide()
        self.plan = preview.summary
        lines = preview.sentences(self.w.pending.email)
        self.summary.setText("The first sync will:\n\n• " + "\n• ".join(lines))
        self.completeChanged.emit()

    def _failed(self, error: BaseException) -> None:
        self._show_problem(failure_message(error))

    def _show_problem(self, problem: str) -> None:
        self.busy.hide()
        self.plan = {}
        self.summary.setStyleSheet(ERROR_STYLE)
        self.summary.setText(
            f"The preview could not be made: {problem} "
            "You can still save the account; the sync will try again."
        )
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        return self.plan is not None

    def validatePage(self) -> bool:
        return self.w.save()


class SyncPage(QWizardPage):
    """The first sync, with a progress bar."""

    def __init__(self, wizard: AccountWizard):
        super().__init__()
        self.w = wizard
        self.done = False
        self.task: Task | None = None
        self.setTitle("First sync")
        self.setSubTitle("Copying appointments between your calendars. Nothing is deleted.")
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.message = note_label()
        self.message.setObjectName("first-sync-message")
        layout = QVBoxLayout(self)
        layout.addWidget(self.progress)
        layout.addWidget(self.message)
        layout.addStretch(1)

    def initializePage(self) -> None:
        self.done = False
        self.message.setStyleSheet("")
        if self.w.scheduler is not None:
            self.message.setText(
                "Syncing… You can click Finish at any time: the sync goes on, and your "
                "Sales Calendar opens with its progress."
            )
        else:
            self.message.setText("Syncing…")
        self.w.start_first_sync()

    def on_progress(self, done: int, total: int, message: str) -> None:
        self.progress.setRange(0, max(total, 0))
        self.progress.setValue(min(done, total) if total else 0)
        if message:
            self.message.setText(message)

    def on_finished(self, text: str, ok: bool) -> None:
        self.done = True
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        self.message.setStyleSheet("" if ok else ERROR_STYLE)
        self.message.setText(text)
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        # in the app the sync goes on in the Sales Calendar window: no need to wait
        return self.done or self.w.scheduler is not None


class AccountWizard(QWizard):
    """Connects a calendar account (or signs an existing one in again).

    ``scheduler`` (the app's :class:`~calsync_desktop.gui.worker.SyncScheduler`)
    runs the first sync so that one account never syncs twice at once; without
    it (tests, the CLI) the wizard runs the first sync on a thread of its own.
    ``open_browser(url)`` replaces the system browser for sign-in.
    Emits ``accountSaved(Account)``.
    """

    accountSaved = Signal(object)
    deviceCode = Signal(str)

    def __init__(
        self,
        services,
        parent: QWidget | None = None,
        start_kind: str | None = None,
        scheduler=None,
        open_browser=None,
        show_test_kind: bool | None = None,
        edit_account: Account | None = None,
    ):
        super().__init__(parent)
        self.services = services
        self.scheduler = scheduler
        self.open_browser = open_browser
        self.edit_account = edit_account
        if show_test_kind is None:
            show_test_kind = services.env.get("CALSYNC_TEST_CALENDAR") == "1"
        self.show_test_kind = show_test_kind or (
            start_kind in KINDS and not KINDS[start_kind].offered
        )
        self.profile_email = services.store.get_setting("profile.email", "") or ""
        self.pending = None
        self.saved: Account | None = None
        self._task_services = None
        self.sync_task: Task | None = None
        self._watching = False
        self.setWindowTitle("Add calendar account")
        self.setWindowIcon(app_icon())
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage, True)
        self.setOption(QWizard.WizardOption.NoCancelButtonOnLastPage, True)
        self.setMinimumSize(640, 480)

        self.choose = ChoosePage(self)
        self.sign_in = SignInPage(self)
        self.details = DetailsPage(self)
        self.options = OptionsPage(self)
        self.summary = SummaryPage(self)
        self.first_sync = SyncPage(self)
        self.progressFromThread.connect(self.first_sync.on_progress)
        for page_id, page in (
            (PAGE_CHOOSE, self.choose),
            (PAGE_SIGN_IN, self.sign_in),
            (PAGE_DETAILS, self.details),
            (PAGE_OPTIONS, self.options),
            (PAGE_SUMMARY, self.summary),
            (PAGE_SYNC, self.first_sync),
        ):
            self.setPage(page_id, page)
        if edit_account is not None:
            self.setWindowTitle(f"Sign in again: {edit_account.name}")
            start_kind = edit_account.kind
        if start_kind:
            self.choose.choose(start_kind)
            if edit_account is not None:
                self.setStartId(PAGE_FOR[KINDS[start_kind].connect])

    # ------------------------------------------------------------------ state

    @property
    def kind(self) -> str:
        chosen = self.choose.kind() or (self.edit_account.kind if self.edit_account else None)
        return chosen or next(iter(KINDS))

    def kind_page(self) -> QWizardPage:
        """The page that connects the chosen kind (sign-in or details)."""
        return self.sign_in if KINDS[self.kind].connect is Connect.SIGN_IN else self.details

    def task_services(self):
        """The wizard's own Store connection for its background calls (one at a time)."""
        if self._task_services is None:
            self._task_services = self.services.for_thread()
        return self._task_services

    def device_code_relay(self, message: str, _flow: Any = None) -> None:
        self.deviceCode.emit(message)  # from the sign-in thread to the page

    def interaction(self) -> Interaction:
        """How a sign-in reaches the person: the browser given (or the system's),
        and messages (a device code) shown on the sign-in page."""
        return Interaction(open_browser=self.open_browser, show=self.device_code_relay)

    def switch_kind(self, kind: str) -> None:
        """From the details page to another kind the details belong to (an Office
        365 address entered as an Exchange server)."""
        self.pending = None
        self.choose.choose(kind)
        self.restart()
        self.choose.choose(kind)
        self.next()

    # ------------------------------------------------------------------ saving

    def save(self) -> bool:
        from calsync_desktop.accounts import save_account

        if self.pending is None:
            return False
        if self.kind_page().profile_offer.accepted():
            self.services.store.set_setting(PROFILE_SETTING, self.pending.email)
            self.profile_email = self.pending.email
        self.saved = save_account(
            self.services,
            self.pending,
            calendar_id=self.options.calendar_id(),
            sync_all_private=self.options.private.isChecked(),
        )
        log.info("Account %s saved (%s)", self.saved.id, self.saved.kind)
        self.accountSaved.emit(self.saved)
        return True

    def start_first_sync(self) -> None:
        account = self.saved
        if account is None:
            return
        if self.scheduler is not None:
            self.scheduler.progress.connect(self.first_sync.on_progress)
            self.scheduler.syncFinished.connect(self._scheduler_finished)
            self._watching = True
            self.scheduler.request("first sync", account.id, manual=True)
            return
        from calsync_desktop.sync.runner import SyncRunner

        services = self.task_services()
        relay = self.first_sync

        def call():
            runner = SyncRunner(services, progress=self._progress_from_thread)
            return runner.sync_account(account.id)

        self.sync_task = run_in_background(
            call,
            self._finished,
            lambda e: relay.on_finished(failure_message(e), False),
            parent=self,
        )

    progressFromThread = Signal(int, int, str)

    def _progress_from_thread(self, done: int, total: int, message: str) -> None:
        self.progressFromThread.emit(done, total, message)

    def _finished(self, result) -> None:
        ok = not result.errors
        text = ("Done. " if ok else "The first sync had problems. ") + describe_first_sync(
            result, self.saved.name if self.saved else "the account"
        )
        if not ok:
            text += "\n" + "\n".join(result.errors)
        self.first_sync.on_finished(text, ok)

    def _scheduler_finished(self, summary) -> None:
        outcomes = [o for o in summary.outcomes if self.saved and o.account_id == self.saved.id]
        if not outcomes:
            return  # another run finished; ours is queued after it
        self._stop_watching()
        outcome = outcomes[0]
        if outcome.result is not None and outcome.state == "ok":
            self._finished(outcome.result)
        else:
            self.first_sync.on_finished(f"The first sync failed: {outcome.error}", False)

    def _stop_watching(self) -> None:
        if self._watching:
            self._watching = False
            self.scheduler.progress.disconnect(self.first_sync.on_progress)
            self.scheduler.syncFinished.disconnect(self._scheduler_finished)

    def done(self, result: int) -> None:
        # finished early: the first sync goes on, shown in the Sales Calendar window
        self._stop_watching()
        if self._task_services is not None:
            running = [
                t
                for t in (
                    self.sign_in.task,
                    self.details.task,
                    self.options.task,
                    self.summary.task,
                    self.sync_task,
                )
                if t is not None and not t.finished
            ]
            if not running:
                self._task_services.store.close()
                self._task_services = None
        super().done(result)
