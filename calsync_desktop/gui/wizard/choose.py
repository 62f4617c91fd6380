"""The first page: the account kinds of the registry, one radio button each."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QButtonGroup, QRadioButton, QVBoxLayout, QWizardPage

from calsync_desktop.accounts.kinds import KINDS
from calsync_desktop.gui.style import NOTE_STYLE
from calsync_desktop.gui.wizard.common import (
    GMAIL_ADVICE,
    NO_PROFILE_ADVICE,
    PAGE_FOR,
    PAGE_SIGN_IN,
    SAME_EMAIL_ADVICE,
    note_label,
)

if TYPE_CHECKING:
    from calsync_desktop.gui.wizard.shell import AccountWizard


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
