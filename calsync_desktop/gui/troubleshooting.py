"""The troubleshooting dialog (SPEC §6) and the diagnostic report.

Live checks run in the background on a Store connection of their own; one
cause is one problem with one action ("Sign in again…"). The conflict log
is a tab of its own (:mod:`.conflict_log`). The report never holds a secret
(it never reads the secret store) nor private contents (private appointments
are named "Private appointment").
"""

from __future__ import annotations

import platform
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from html import escape
from importlib import metadata
from pathlib import Path

from PySide6.QtCore import QSize, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from calsync_desktop.accounts.kinds import KINDS, kind_label
from calsync_desktop.gui import formats
from calsync_desktop.gui.background import Task, run_in_background, with_own_store
from calsync_desktop.gui.conflict_log import ConflictLog
from calsync_desktop.gui.icons import app_icon
from calsync_desktop.gui.screen_fit import resize_within_screen
from calsync_desktop.gui.style import ERROR_STYLE
from calsync_desktop.sync.preview import describe_first_sync
from calsync_desktop.words import PRODUCT_NAME, count, sentence

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
        "and password and try again: on the Accounts tab, the account that stopped says "
        "so and offers “Sign in again…”.",
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

CHECK_MARKS = {True: "✔", False: "✘", None: "•"}
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


def _utc(moment: datetime | None) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC" if moment else "never"


def _section(title: str, rows: list[tuple[str, str]]) -> list[str]:
    """A report section: its title, then "  key   value" lines aligned."""
    width = max((len(k) for k, _ in rows), default=0)
    return ["", title] + [f"  {k.ljust(width)}  {v}".rstrip() for k, v in rows]


def diagnostic_report(services, now: datetime | None = None) -> str:
    """Versions, account kinds and states, counts and recent errors, as plain text.

    Reads the store and the log only; never the secret store. Times are UTC
    (ISO 8601), so the report reads the same wherever IT opens it.
    """
    store = services.store
    now = now or services.clock()
    title = f"{PRODUCT_NAME} diagnostic report"
    lines = [title, "=" * len(title), f"Created {_utc(now)}"]
    versions = [
        ("calsync-desktop", package_version("calsync-desktop")),
        (
            "Python",
            f"{platform.python_version()} on {platform.system()} {platform.release()} "
            f"({sys.platform})",
        ),
    ]
    libraries = [entry.client_library for entry in KINDS.values() if entry.client_library]
    for name in ("PySide6-Essentials", *dict.fromkeys(libraries), "SQLAlchemy"):
        versions.append((name, package_version(name)))
    lines += _section("Versions", versions)
    accounts = store.list_accounts()
    lines += ["", f"Accounts ({len(accounts)})"]
    for n, account in enumerate(accounts, 1):
        kind = kind_label(account.kind)
        state = "paused" if account.paused else str(account.state)
        lines.append(f"  {n}. {kind}")
        rows = [
            ("state", state),
            ("last sync", _utc(account.last_sync)),
            ("all private", "on" if account.sync_all_private else "off"),
        ]
        if account.last_error:
            rows.append(("last error", account.last_error))
        width = max(len(k) for k, _ in rows)
        lines += [f"     {k.ljust(width)}  {v}" for k, v in rows]
    conflicts = store.conflicts()
    restored = sum(1 for c in conflicts if c.restored)
    skipped = store.skipped()
    reasons: dict[str, int] = {}
    for entry in skipped:
        reasons[entry.reason] = reasons.get(entry.reason, 0) + 1
    lines += _section(
        "Counts",
        [
            ("appointments", str(store.count_appointments())),
            ("conflicts logged", f"{len(conflicts)} ({restored} restored)"),
            ("skipped items", str(len(skipped))),
            ("sync paused", "yes" if store.get_setting("sync.paused", False) else "no"),
            ("sync interval", count(int(store.get_setting("sync.interval_minutes", 5)), "minute")),
        ],
    )
    if reasons:
        lines += _section("Skipped, by reason", [(r, str(n)) for r, n in sorted(reasons.items())])
    errors = recent_log_errors(Path(services.log_dir))
    lines += ["", "Recent errors"]
    lines += [f"  {line}" for line in errors] or ["  none"]
    return "\n".join(lines) + "\n"


def default_checks(services) -> Callable[[str], list]:
    """``check(account_id)`` on a Store connection of its own (runs in a pool thread)."""
    from calsync_desktop.sync.runner import SyncRunner

    def when(moment: datetime) -> str:
        return formats.moment_text(moment.astimezone(), services.clock().astimezone())

    def check(account_id: str) -> list:
        return with_own_store(
            services, lambda own: SyncRunner(own).check_account(account_id, when=when)
        )()

    return check


SIGN_IN_FIX = "Click “Sign in again…” (for Exchange, enter the new password)."


RESYNC_EXPLANATION = (
    "Resync from scratch forgets which appointment in the Sales Calendar is which "
    "event in {account}, reads both calendars whole and matches them again by their "
    "times, titles and invitations, as the first sync did. Nothing that is on both "
    "sides is copied twice, and nothing is deleted. Use it when the two calendars seem "
    "out of step; with a large calendar it takes a while."
)


def ask_resync(parent: QWidget | None, account) -> bool:
    """Explain "Resync from scratch" and ask; True to go ahead."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("Resync from scratch")
    box.setText(f"Resync {account.name} from scratch?")
    box.setInformativeText(RESYNC_EXPLANATION.format(account=account.name))
    go = box.addButton("Resync from scratch", QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(go)
    box.exec()
    return box.clickedButton() is go


class AccountChecks(QGroupBox):
    """The live checks of one account, run in the background. A problem that
    signing in again fixes comes with "Sign in again…" (``signInRequested``);
    "Resync from scratch…" asks for ``resyncRequested``."""

    signInRequested = Signal(str)
    resyncRequested = Signal(str)

    def __init__(self, account, check: Callable[[str], list], parent: QWidget | None = None):
        kind = kind_label(account.kind)
        super().__init__(f"{account.name}  ({kind})", parent)
        self.setAccessibleName(f"{account.name} ({kind})")
        self.account = account
        self.check = check
        self.task: Task | None = None
        self.results: list = []
        self.rows = QVBoxLayout()
        self.status = QLabel("Checking…")
        self.status.setWordWrap(True)
        self.sign_in = QPushButton("Sign in again…")
        self.sign_in.setAccessibleName(f"Sign in again to {account.name}")
        self.sign_in.clicked.connect(lambda: self.signInRequested.emit(self.account.id))
        self.sign_in.setVisible(str(account.state) == "needs_sign_in")
        self.again = QPushButton("Check again")
        self.again.setAccessibleName(f"Check {account.name} again")
        self.again.clicked.connect(self.run)
        self.resync = QPushButton("Resync from scratch…")
        self.resync.setAccessibleName(f"Resync {account.name} from scratch")
        self.resync.setToolTip("Match both calendars again, as the first sync did")
        self.resync.clicked.connect(lambda: self.resyncRequested.emit(self.account.id))
        self.can_resync = False  # the dialog has a sync worker to run it in
        self.resync.setVisible(False)
        self.resync_status = QLabel()
        self.resync_status.setObjectName("resync-status")
        self.resync_status.setWordWrap(True)
        self.resync_status.setVisible(False)
        top = QHBoxLayout()
        top.addWidget(self.status, 1)
        top.addWidget(self.sign_in)
        top.addWidget(self.resync)
        top.addWidget(self.again)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.resync_status)
        layout.addLayout(self.rows)

    def offer_resync(self) -> None:
        """One problem, one action: an account that must sign in again offers
        only that."""
        self.resync.setVisible(self.can_resync and not self.sign_in.isVisibleTo(self))

    def say_resync(self, text: str, error: bool = False) -> None:
        self.resync_status.setText(text)
        self.resync_status.setStyleSheet(ERROR_STYLE if error else "")
        self.resync_status.setVisible(bool(text))

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
        sign_in = any(getattr(c, "action", "") == "sign_in" for c in bad)
        self.sign_in.setVisible(sign_in)
        self.offer_resync()
        self.sign_in.setDefault(sign_in)
        self.status.setText(
            "Everything looks fine." if not bad else f"{count(len(bad), 'problem')} found."
        )
        for check in checks:
            fix = SIGN_IN_FIX if getattr(check, "action", "") == "sign_in" else check.fix
            text = (
                f"<span style='color:{CHECK_COLOURS[check.ok]}; font-weight:bold'>"
                f"{CHECK_MARKS[check.ok]}</span>&nbsp; <b>{_html(check.name)}</b>: "
                f"{_html(check.explanation)}"
            )
            if fix:
                text += f"<br><span style='color:#5e5c64'>What to do: {_html(fix)}</span>"
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
    return escape(text, quote=False)


class TroubleshootingDialog(QDialog):
    """Checks per account, the common problems, skipped items and the conflict log.

    ``check(account_id) -> list[Check]`` runs in a pool thread (default: the
    real :meth:`SyncRunner.check_account` on its own Store connection).
    Emits ``conflictRestored`` after a restore (the app schedules a sync) and
    ``signInRequested(account id)`` for "Sign in again…". "Resync from scratch…"
    asks ``ask(parent, account)`` (default :func:`ask_resync`) and runs in the
    sync worker of ``scheduler`` (the app's; without one the button is hidden).
    """

    conflictRestored = Signal()
    signInRequested = Signal(str)

    def __init__(
        self,
        services,
        parent: QWidget | None = None,
        check: Callable[[str], list] | None = None,
        open_url: Callable[[QUrl], object] = QDesktopServices.openUrl,
        run_checks: bool = True,
        scheduler=None,
        ask: Callable[[QWidget | None, object], bool] = ask_resync,
    ):
        super().__init__(parent)
        self.scheduler = scheduler
        self.ask_resync = ask
        self.resyncing: dict[object, AccountChecks] = {}  # worker request → its box
        if scheduler is not None:
            scheduler.syncFinished.connect(self._resynced)
        self.services = services
        self.store = services.store
        self.check = check or default_checks(services)
        self.open_url = open_url
        self.setWindowTitle("Troubleshooting")
        self.setWindowIcon(app_icon())
        resize_within_screen(self, QSize(860, 600))
        self.tabs = QTabWidget()
        self.tabs.addTab(self._checks_tab(), "Accounts")
        self.tabs.addTab(self._problems_tab(), "Common problems")
        self.tabs.addTab(self._skipped_tab(), "Skipped items")
        self.conflict_log = ConflictLog(self.store)
        self.conflict_log.restoreRequested.connect(self.restore)
        self.tabs.addTab(self.conflict_log, "Conflicts")
        copy = QPushButton("Copy diagnostic report")
        copy.clicked.connect(self.copy_report)
        logs = QPushButton("Open log folder")
        logs.clicked.connect(self.open_log_folder)
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        self.copied = QLabel()
        self.copied.setWordWrap(True)
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
            box.signInRequested.connect(self.signInRequested)
            box.resyncRequested.connect(lambda _id, b=box: self.resync(b))
            box.can_resync = self.scheduler is not None
            box.offer_resync()
            self.account_checks.append(box)
            layout.addWidget(box)
        layout.addStretch(1)
        return self._scrolling(inner)

    def resync(self, box: AccountChecks) -> None:
        """ "Resync from scratch…": explain, ask, then run it in the sync worker."""
        account = self.store.get_account(box.account.id)
        if account is None or self.scheduler is None or not self.ask_resync(self, account):
            return
        box.resync.setEnabled(False)
        box.say_resync("Resyncing from scratch… (the status bar shows how far it is)")
        self.resyncing[self.scheduler.resync_from_scratch(account.id)] = box

    def _resynced(self, summary) -> None:
        box = self.resyncing.pop(summary.request, None)
        if box is None:
            return
        box.resync.setEnabled(True)
        (outcome,) = summary.outcomes or [None]
        if outcome is None or outcome.state != "ok" or outcome.result is None:
            error = outcome.error if outcome is not None else "it did not run"
            box.say_resync(sentence(f"The resync did not finish: {error}"), error=True)
        else:
            done = describe_first_sync(outcome.result, outcome.account_name)
            box.say_resync(f"Resynced from scratch. {done}")
        self.refresh_skipped()
        box.run()

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
        table.setTabKeyNavigation(False)
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
        self.skipped_table = self._table(["Item", "In", "Why", "When"])
        self.skipped_table.setAccessibleName("Skipped items")
        # the reason wraps in the room left: the table never scrolls sideways
        header = self.skipped_table.horizontalHeader()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        header.sectionResized.connect(lambda *_: self.skipped_table.resizeRowsToContents())
        layout = QVBoxLayout(page)
        layout.addWidget(QLabel("What the last sync of each account left alone, and why:"))
        layout.addWidget(self.skipped_table)
        self.refresh_skipped()
        return page

    def refresh_skipped(self) -> None:
        names = self._account_names()
        entries = self.store.skipped()
        now = datetime.now().astimezone()
        self.skipped_table.setRowCount(len(entries))
        for row, entry in enumerate(entries):
            account = names.get(entry.account_id, "")
            # where the item is: a Sales Calendar appointment not sent, or an event not brought in
            where = f"Sales Calendar (not sent to {account})" if entry.side == "local" else account
            cells = (
                entry.item,
                where,
                sentence(entry.reason[:1].upper() + entry.reason[1:]),
                formats.moment_text(entry.at.astimezone(), now),
            )
            for column, text in enumerate(cells):
                self.skipped_table.setItem(row, column, QTableWidgetItem(text))
        self.skipped_table.resizeRowsToContents()

    def show_conflicts(self) -> None:
        self.conflict_log.refresh()
        self.tabs.setCurrentWidget(self.conflict_log)

    def restore(self, conflict_id: int) -> None:
        from calsync_desktop.sync.conflicts import restore_conflict

        restore_conflict(self.store, conflict_id)
        self.conflict_log.refresh(keep=conflict_id)
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
