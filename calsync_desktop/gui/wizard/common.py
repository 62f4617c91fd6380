"""What the wizard's pages share: page numbers, advice texts, the sentence for
a failure, and the small widgets (notes that fit their text, the profile offer,
warnings)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QLabel, QWidget

from calsync_desktop.accounts.kinds import KINDS, Connect
from calsync_desktop.gui.style import NOTE_STYLE, WARN_STYLE
from calsync_desktop.providers.base import (
    BadCredentials,
    CertificateUntrusted,
    NotACalendarService,
    ProviderError,
    TimedOut,
    Unreachable,
)

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
