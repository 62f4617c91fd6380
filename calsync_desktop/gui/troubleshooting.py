"""The troubleshooting dialog (SPEC §6) and the diagnostic report.

Live checks run in the background on a Store connection of their own. The
report never holds a secret (it never reads the secret store) nor private
contents (private appointments are named "Private appointment").
"""

from __future__ import annotations

import platform
import sys
from collections.abc import Callable
from datetime import datetime
from importlib import metadata
from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from calsync_desktop.accounts.kinds import kind_label
from calsync_desktop.gui.background import Task, run_in_background, with_own_store
from calsync_desktop.gui.calendar_model import PRIVATE_TEXT
from calsync_desktop.gui.icons import app_icon

GOOGLE_HELP_TITLE = "Change or turn off Google Calendar notifications"
GOOGLE_HELP_URL = "https://support.google.com/calendar/answer/37242"

ARTICLE_PROBLEMS = (
    (
        "With Office 365 / Exchange, “Save Account Settings” says “Failed to validate "
        "access to the server with your credentials, please review your details”.",
        "Check that the username and password are right for your Office 365 or Exchange "
        "account: verify them with your IT contact, or try logging in to the Office 365 "
        "portal with them. (Office 365 accounts now connect with “Sign in with Microsoft” "
        "instead of a password.)",
    ),
    (
        "My sync was working before, but now it has just stopped. Why?",
        "Your calendar credentials may have expired or been changed. Check your username "
        "and password (or sign in again: Settings › Integrations › Edit) and try again.",
    ),
    (
        "Google Calendar sends me reminders and notifications about meetings in the Sales "
        "Calendar I haven't even accepted!",
        "Google Calendar adds every invitation from your inbox to your calendar, even "
        "before you accept it, and then notifies you about it. When you sync Google "
        "Calendar with the Sales Calendar this gets cumbersome, so turn those "
        f"notifications off in Google Calendar's settings: see Google's help article "
        f"“{GOOGLE_HELP_TITLE}”.",
    ),
)

CHECK_MARKS = {True: "✔", False: "✘", None: "?"}
CHECK_COLOURS = {True: "#26a269", False: "#c01c28", None: "#9a9996"}


def package_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def recent_log_errors(log_dir: Path, limit: int = 20) -> list[str]:
    """The latest WARNING/ERROR lines of the app's log (the app never logs secrets
    nor private contents)."""
    path = log_dir / "calsync-desktop.log"
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    wanted = [line for line in lines if " WARNING " in line or " ERROR " in line]
    return wanted[-limit:]


def diagnostic_report(services, now: datetime | None = None) -> str:
    """Versions, account kinds and states, counts and recent errors, as plain text.

    Reads the store and the log only; never the secret store.
    """
    store = services.store
    now = now or services.clock()
    lines = [
        "calsync-desktop diagnostic report",
        f"Created: {now:%Y-%m-%d %H:%M} UTC",
        "",
        "Versions",
        f"  calsync-desktop {package_version('calsync-desktop')}",
        f"  Python {platform.python_version()} on {platform.system()} {platform.release()}"
        f" ({sys.platform})",
    ]
    for name in (
        "PySide6-Essentials",
        "exchangelib",
        "google-api-python-client",
        "msal",
        "SQLAlchemy",
    ):
        lines.append(f"  {name} {package_version(name)}")
    accounts = store.list_accounts()
    lines += ["", f"Accounts ({len(accounts)})"]
    for n, account in enumerate(accounts, 1):
        kind = kind_label(account.kind)
        last = f"{account.last_sync:%Y-%m-%d %H:%M} UTC" if account.last_sync else "never"
        state = "paused" if account.paused else str(account.state)
        lines.append(
            f"  {n}. {kind}: state {state}, last sync {last}, "
            f"private-all {'on' if account.sync_all_private else 'off'}"
        )
        if account.last_error:
            lines.append(f"     last error: {account.last_error}")
    conflicts = store.conflicts()
    restored = sum(1 for c in conflicts if c.restored)
    skipped = store.skipped()
    lines += [
        "",
        "Counts",
        f"  appointments: {store.count_appointments()}",
        f"  conflicts logged: {len(conflicts)} ({restored} restored)",
        f"  skipped items: {len(skipped)}",
        f"  sync paused: {'yes' if store.get_setting('sync.paused', False) else 'no'}",
        f"  sync interval: {store.get_setting('sync.interval_minutes', 5)} minutes",
    ]
    reasons: dict[str, int] = {}
    for entry in skipped:
        reasons[entry.reason] = reasons.get(entry.reason, 0) + 1
    for reason, count in sorted(reasons.items()):
        lines.append(f"    skipped, {reason}: {count}")
    errors = recent_log_errors(Path(services.log_dir))
    lines += ["", "Recent errors"]
    lines += [f"  {line}" for line in errors] or ["  none"]
    return "\n".join(lines) + "\n"


def default_checks(services) -> Callable[[str], list]:
    """``check(account_id)`` on a Store connection of its own (runs in a pool thread)."""
    from calsync_desktop.sync.runner import SyncRunner

    def check(account_id: str) -> list:
        return with_own_store(services, lambda own: SyncRunner(own).check_account(account_id))()

    return check


class AccountChecks(QGroupBox):
    """The live checks of one account, run in the background."""

    def __init__(self, account, check: Callable[[str], list], parent: QWidget | None = None):
        kind = kind_label(account.kind)
        super().__init__(f"{account.name}  ({kind})", parent)
        self.account = account
        self.check = check
        self.task: Task | None = None
        self.results: list = []
        self.rows = QVBoxLayout()
        self.status = QLabel("Checking…")
        self.again = QPushButton("Check again")
        self.again.clicked.connect(self.run)
        top = QHBoxLayout()
        top.addWidget(self.status, 1)
        top.addWidget(self.again)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(self.rows)

    def run(self) -> None:
        self.again.setEnabled(False)
        self.status.setText("Checking…")
        self.task = run_in_background(
            lambda: self.check(self.account.id), self._show, self._failed, parent=self
        )

    def _clear(self) -> None:
        while self.rows.count():
            item = self.rows.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()

    def _show(self, checks: list) -> None:
        self._clear()
        self.results = checks
        self.again.setEnabled(True)
        bad = [c for c in checks if c.ok is False]
        self.status.setText(
            "Everything looks fine." if not bad else f"{len(bad)} problem(s) found."
        )
        for check in checks:
            text = (
                f"<span style='color:{CHECK_COLOURS[check.ok]}; font-weight:bold'>"
                f"{CHECK_MARKS[check.ok]}</span>&nbsp; <b>{_html(check.name)}</b>: "
                f"{_html(check.explanation)}"
            )
            if check.fix:
                text += f"<br><span style='color:#5e5c64'>What to do: {_html(check.fix)}</span>"
            label = QLabel(text)
            label.setWordWrap(True)
            label.setTextFormat(Qt.TextFormat.RichText)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            label.setObjectName(f"check-{check.name}")
            self.rows.addWidget(label)

    def _failed(self, error: BaseException) -> None:
        self.again.setEnabled(True)
        self.status.setText(f"The checks could not run: {error}")


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class TroubleshootingDialog(QDialog):
    """Checks per account, the common problems, skipped items and the conflict log.

    ``check(account_id) -> list[Check]`` runs in a pool thread (default: the
    real :meth:`SyncRunner.check_account` on its own Store connection).
    Emits ``conflictRestored`` after a restore (the app schedules a sync).
    """

    conflictRestored = Signal()

    def __init__(
        self,
        services,
        parent: QWidget | None = None,
        check: Callable[[str], list] | None = None,
        open_url: Callable[[QUrl], object] = QDesktopServices.openUrl,
        run_checks: bool = True,
    ):
        super().__init__(parent)
        self.services = services
        self.store = services.store
        self.check = check or default_checks(services)
        self.open_url = open_url
        self.setWindowTitle("Troubleshooting")
        self.setWindowIcon(app_icon())
        self.setMinimumSize(780, 540)
        self.tabs = QTabWidget()
        self.tabs.addTab(self._checks_tab(), "Accounts")
        self.tabs.addTab(self._problems_tab(), "Common problems")
        self.tabs.addTab(self._skipped_tab(), "Skipped items")
        self.tabs.addTab(self._conflicts_tab(), "Conflicts")
        copy = QPushButton("Copy diagnostic report")
        copy.clicked.connect(self.copy_report)
        logs = QPushButton("Open log folder")
        logs.clicked.connect(self.open_log_folder)
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        self.copied = QLabel()
        row = QHBoxLayout()
        row.addWidget(copy)
        row.addWidget(logs)
        row.addWidget(self.copied, 1)
        row.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addLayout(row)
        if run_checks:
            self.run_checks()

    # ------------------------------------------------------------------ tabs

    def _scrolling(self, inner: QWidget) -> QScrollArea:
        area = QScrollArea()
        area.setWidgetResizable(True)
        area.setFrameShape(QScrollArea.Shape.NoFrame)
        area.setWidget(inner)
        return area

    def _checks_tab(self) -> QWidget:
        inner = QWidget()
        layout = QVBoxLayout(inner)
        self.account_checks: list[AccountChecks] = []
        accounts = self.store.list_accounts()
        if not accounts:
            layout.addWidget(QLabel("No calendar account is connected yet."))
        for account in accounts:
            box = AccountChecks(account, self.check)
            self.account_checks.append(box)
            layout.addWidget(box)
        layout.addStretch(1)
        return self._scrolling(inner)

    def run_checks(self) -> None:
        for box in self.account_checks:
            box.run()

    def _problems_tab(self) -> QWidget:
        inner = QWidget()
        layout = QVBoxLayout(inner)
        layout.setSpacing(14)
        for n, (problem, resolution) in enumerate(ARTICLE_PROBLEMS, 1):
            label = QLabel(
                f"<p><b>Problem:</b> {_html(problem)}</p>"
                f"<p><b>Resolution:</b> {_html(resolution)}</p>"
            )
            label.setWordWrap(True)
            label.setTextFormat(Qt.TextFormat.RichText)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            label.setObjectName(f"problem-{n}")
            layout.addWidget(label)
        tip = QLabel(
            f"<p><b>Google tip:</b> read <a href='{GOOGLE_HELP_URL}'>{GOOGLE_HELP_TITLE}</a> "
            "in Google's help to turn off notifications for invitations you have not "
            "accepted.</p>"
        )
        tip.setObjectName("google-tip")
        tip.setWordWrap(True)
        tip.setTextFormat(Qt.TextFormat.RichText)
        tip.linkActivated.connect(lambda url: self.open_url(QUrl(url)))
        layout.addWidget(tip)
        limits = QLabel(
            "<p><b>Limitations:</b> appointments older than 30 days are not synced; all-day "
            "appointments are not synced; attendees with only a name (no email address) "
            "cannot be synced; HTML bodies become plain text; participants and recurrence go "
            "from the Sales Calendar to your calendar only.</p>"
        )
        limits.setWordWrap(True)
        limits.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(limits)
        layout.addStretch(1)
        return self._scrolling(inner)

    def _table(self, headers: list[str]) -> QTableWidget:
        table = QTableWidget(0, len(headers))
        table.setHorizontalHeaderLabels(headers)
        table.verticalHeader().hide()
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setWordWrap(True)
        header = table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        return table

    def _account_names(self) -> dict[str | None, str]:
        names: dict[str | None, str] = {None: "Sales Calendar"}
        names.update({a.id: a.name for a in self.store.list_accounts()})
        return names

    def _skipped_tab(self) -> QWidget:
        page = QWidget()
        self.skipped_table = self._table(["Account", "Side", "Item", "Reason", "When"])
        layout = QVBoxLayout(page)
        layout.addWidget(QLabel("Items the last sync of each account left alone, and why:"))
        layout.addWidget(self.skipped_table)
        self.refresh_skipped()
        return page

    def refresh_skipped(self) -> None:
        names = self._account_names()
        entries = self.store.skipped()
        self.skipped_table.setRowCount(len(entries))
        for row, entry in enumerate(entries):
            side = "Sales Calendar" if entry.side == "local" else names.get(entry.account_id, "")
            cells = (
                names.get(entry.account_id, ""),
                side,
                entry.item,
                entry.reason,
                f"{entry.at.astimezone():%d %b %H:%M}",
            )
            for column, text in enumerate(cells):
                self.skipped_table.setItem(row, column, QTableWidgetItem(text))

    def _conflicts_tab(self) -> QWidget:
        page = QWidget()
        self.conflicts_table = self._table(
            ["When", "Account", "Appointment", "Field", "Kept", "Lost", "Restore"]
        )
        layout = QVBoxLayout(page)
        layout.addWidget(
            QLabel(
                "When the same field changed on both sides, the newer change was kept. "
                "Restore brings the other value back (the next sync sends it on)."
            )
        )
        layout.addWidget(self.conflicts_table)
        self.refresh_conflicts()
        return page

    def refresh_conflicts(self) -> None:
        names = self._account_names()
        entries = self.store.conflicts()
        appointments = self.store.get_appointments({c.appointment_id for c in entries})
        self.conflicts_table.setRowCount(len(entries))
        self.restore_buttons: dict[int, QPushButton] = {}
        for row, entry in enumerate(entries):
            appointment = appointments.get(entry.appointment_id)
            private = appointment is not None and appointment.private
            title = (
                PRIVATE_TEXT
                if private
                else (appointment.title if appointment else "(deleted appointment)")
            )
            kept = "(private)" if private else entry.kept_value
            lost = "(private)" if private else entry.lost_value
            lost_where = "Sales Calendar" if entry.lost_side == "local" else "remote"
            cells = (
                f"{entry.at.astimezone():%d %b %H:%M}",
                names.get(entry.account_id, ""),
                title,
                entry.field,
                kept,
                f"{lost} ({lost_where})",
            )
            for column, text in enumerate(cells):
                self.conflicts_table.setItem(row, column, QTableWidgetItem(text))
            button = QPushButton("Restored" if entry.restored else "Restore")
            button.setEnabled(not entry.restored and appointment is not None)
            button.clicked.connect(lambda _=False, cid=entry.id: self.restore(cid))
            self.conflicts_table.setCellWidget(row, 6, button)
            self.restore_buttons[entry.id] = button

    def restore(self, conflict_id: int) -> None:
        self.store.restore_conflict(conflict_id)
        self.refresh_conflicts()
        self.conflictRestored.emit()

    # ------------------------------------------------------------------ actions

    def report(self) -> str:
        return diagnostic_report(self.services)

    def copy_report(self) -> str:
        text = self.report()
        QGuiApplication.clipboard().setText(text)
        self.copied.setText("Diagnostic report copied: paste it into your message to IT.")
        return text

    def open_log_folder(self) -> None:
        self.open_url(QUrl.fromLocalFile(str(self.services.log_dir)))
