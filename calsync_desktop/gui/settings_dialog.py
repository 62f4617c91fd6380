"""Settings: My profile, Integrations, Sync, History, Calendar, Sales Calendar
and Advanced (SPEC §6, §8, §9; History is :mod:`.history_page`).

Integrations lists each calendar account once: its name (double-click or F2
to rename it, e.g. "Work") with its address, its kind, its state and its
last sync. An account that must sign in again says so and offers "Sign in
again…" right there.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from calsync_desktop.accounts.base import Account
from calsync_desktop.accounts.kinds import kind_label
from calsync_desktop.gui import formats
from calsync_desktop.gui.appointment_dialog import (
    DEFAULT_ACCOUNT_SETTING,
    account_label,
    colour_swatch,
)
from calsync_desktop.gui.history_page import HistoryPage
from calsync_desktop.gui.icons import app_icon, icon
from calsync_desktop.gui.meeting_panel import HIDE_DECLINED_SETTING, hide_declined
from calsync_desktop.gui.sales_calendar_page import SalesCalendarPage
from calsync_desktop.gui.screen_fit import resize_within_screen
from calsync_desktop.gui.style import NOTE_STYLE, WARN_STYLE
from calsync_desktop.store import SYNC_INTERVAL_MINUTES
from calsync_desktop.words import PRODUCT_NAME

WORKING_DAY_SETTING = "calendar.working_hours"
"""[first hour, last hour] of the working day (default 8 to 17)."""
NAME_COLUMN, KIND_COLUMN, STATE_COLUMN, LAST_SYNC_COLUMN = range(4)

STATE_TEXT = {
    "ok": "Working",
    "syncing": "Syncing",
    "needs_sign_in": "Sign in again",
    "error": "Problem",
    "paused": "Paused",
}


def working_hours(store) -> tuple[int, int]:
    """The working day from Settings, sanitised: (8, 17) unless set otherwise."""
    value = store.get_setting(WORKING_DAY_SETTING, None)
    try:
        first, last = int(value[0]), int(value[1])
    except (TypeError, ValueError, IndexError):
        return 8, 17
    return (first, last) if 0 <= first < last <= 24 else (8, 17)


def ask_keep_appointments(parent: QWidget | None, account: Account) -> bool | None:
    """Remove an account: keep its synced appointments? None = cancel."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("Remove account")
    box.setText(f"Remove {account.name} from {PRODUCT_NAME}?")
    box.setInformativeText(
        "Nothing changes in the account's own calendar. Do you want to keep the "
        "appointments that were synced from it in your Sales Calendar?"
    )
    keep = box.addButton("Keep the appointments", QMessageBox.ButtonRole.AcceptRole)
    drop = box.addButton("Remove them too", QMessageBox.ButtonRole.DestructiveRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(keep)
    box.exec()
    if box.clickedButton() is keep:
        return True
    if box.clickedButton() is drop:
        return False
    return None


PREFERRED_SIZE = QSize(780, 580)
"""The Settings window's size when the screen has room."""


class PathField(QWidget):
    """A file path with a Browse… button."""

    def __init__(self, value: str, caption: str, filter_: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.edit = QLineEdit(value)
        self.edit.setPlaceholderText("Not set")
        self.edit.setAccessibleName(caption)
        browse = QPushButton("Browse…")
        browse.clicked.connect(lambda: self._browse(caption, filter_))
        clear = QPushButton("Clear")
        clear.clicked.connect(self.edit.clear)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.edit, 1)
        row.addWidget(browse)
        row.addWidget(clear)

    def _browse(self, caption: str, filter_: str) -> None:
        path, _ = QFileDialog.getOpenFileName(self, caption, self.edit.text(), filter_)
        if path:
            self.edit.setText(path)

    def text(self) -> str:
        return self.edit.text().strip()


class AccountNameItem(QTableWidgetItem):
    """The Account cell: shows "Work (ann@company.example)", edits just "Work".
    An empty name falls back to the address."""

    def __init__(self, account: Account, rename: Callable[[Account, str], Account | None]):
        super().__init__()
        self.account = account
        self.rename = rename

    def data(self, role: int):
        if role == Qt.ItemDataRole.EditRole:
            named = self.account.name and self.account.name != self.account.email
            return self.account.name if named else ""
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return account_label(self.account)
        if role == Qt.ItemDataRole.ToolTipRole:
            return "Double-click (or F2) to give this account a name, such as “Work”"
        return super().data(role)

    def setData(self, role: int, value) -> None:
        if role == Qt.ItemDataRole.EditRole:
            self.account = self.rename(self.account, str(value or "")) or self.account
            return
        super().setData(role, value)


class SettingsDialog(QDialog):
    """The app's settings. Account buttons act at once; the rest is saved on Save.

    Signals: ``syncNowRequested(account_id)``, ``addAccountRequested``,
    ``editAccountRequested(Account)``, ``signInRequested(account_id)``,
    ``intervalChanged(minutes)``, ``workingHoursChanged(first, last)``,
    ``accountsChanged`` (added, removed or renamed), ``salesCalendarChanged(store)``
    (Settings › Sales Calendar opened another Sales Calendar: the app switches to it).
    ``scheduler`` (the app's sync scheduler) runs History's undo in the sync worker.
    """

    syncNowRequested = Signal(str)
    addAccountRequested = Signal()
    editAccountRequested = Signal(object)
    signInRequested = Signal(str)
    intervalChanged = Signal(int)
    workingHoursChanged = Signal(int, int)
    hideDeclinedChanged = Signal(bool)
    accountsChanged = Signal()
    salesCalendarChanged = Signal(object)

    def __init__(
        self,
        services,
        autostart,
        parent: QWidget | None = None,
        ask_keep: Callable[[QWidget | None, Account], bool | None] = ask_keep_appointments,
        colour_for: Callable[[str], QColor] | None = None,
        scheduler=None,
    ):
        super().__init__(parent)
        self.services = services
        self.autostart = autostart
        self.ask_keep = ask_keep
        self.colour_for = colour_for
        self.setWindowTitle("Settings")
        self.setWindowIcon(app_icon())
        # tall enough for History: its runs and the selected run's changes, unscrolled
        resize_within_screen(self, PREFERRED_SIZE)
        self.tabs = QTabWidget()
        self.tabs.addTab(self._profile_tab(), "My profile")
        self.tabs.addTab(self._integrations_tab(), "Integrations")
        self.tabs.addTab(self._sync_tab(), "Sync")
        self.history = HistoryPage(services, scheduler)
        self.tabs.addTab(self.history, "History")
        self.tabs.addTab(self._calendar_tab(), "Calendar")
        self.sales_calendar = SalesCalendarPage(services, PathField)
        self.tabs.addTab(self.sales_calendar, "Sales Calendar")
        self.tabs.addTab(self._advanced_tab(), "Advanced")
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.save)
        self.buttons = buttons
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(buttons)
        self.refresh_accounts()

    @property
    def store(self):
        """The Sales Calendar in use (Settings › Sales Calendar may switch it)."""
        return self.services.store

    # ------------------------------------------------------------------ tabs

    def _profile_tab(self) -> QWidget:
        page = QWidget()
        self.name = QLineEdit(self.store.get_setting("profile.name", "") or "")
        self.name.setAccessibleName("Your name")
        self.email = QLineEdit(self.store.get_setting("profile.email", "") or "")
        self.email.setAccessibleName("Your email address")
        self.email.setPlaceholderText("name@company.com")
        form = QFormLayout(page)
        form.addRow("Name", self.name)
        form.addRow("Email", self.email)
        note = QLabel(
            "Use the same email address as the calendar accounts you connect: otherwise "
            "participant invite statuses may not sync."
        )
        note.setWordWrap(True)
        note.setStyleSheet(NOTE_STYLE)
        form.addRow("", note)
        self.email_warning = QLabel()
        self.email_warning.setObjectName("profile-email-warning")
        self.email_warning.setWordWrap(True)
        self.email_warning.setStyleSheet(WARN_STYLE)
        form.addRow("", self.email_warning)
        self.email.textChanged.connect(self._check_profile_email)
        return page

    def _check_profile_email(self) -> None:
        """Warn (amber, never blocking) when the profile email matches no account."""
        email = self.email.text().strip().lower()
        accounts = self.store.list_accounts()
        others = [a for a in accounts if a.email and a.email.lower() != email]
        if email and others and len(others) == len(accounts):
            names = ", ".join(account_label(a) for a in others)
            text = (
                f"None of your calendar accounts uses this address ({names}): participant "
                "invite statuses may not sync."
            )
        else:
            text = ""
        self.email_warning.setText(text)
        self.email_warning.setVisible(bool(text))

    def _integrations_tab(self) -> QWidget:
        page = QWidget()
        self.accounts = QTableWidget(0, 4)
        self.accounts.setHorizontalHeaderLabels(["Account", "Kind", "State", "Last sync"])
        self.accounts.verticalHeader().hide()
        self.accounts.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        self.accounts.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.accounts.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.accounts.setTabKeyNavigation(False)
        self.accounts.setWordWrap(False)  # an address on one line, never broken
        self.accounts.setTextElideMode(Qt.TextElideMode.ElideNone)
        header = self.accounts.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(NAME_COLUMN, QHeaderView.ResizeMode.Stretch)
        header.setMinimumSectionSize(80)
        self.accounts.setAccessibleName("Calendar accounts")
        self.accounts.setStyleSheet("QTableWidget::item { padding: 0 6px; }")  # room to breathe
        self.accounts.itemSelectionChanged.connect(self._selection_changed)
        self.sync_button = QPushButton("Sync now")
        self.edit_button = QPushButton("Edit…")
        self.edit_button.setToolTip("Sign in again, or choose another calendar of the account")
        self.rename_button = QPushButton("Rename…")
        self.rename_button.setToolTip("Give the account a name, such as “Work”")
        self.remove_button = QPushButton("Remove…")
        self.add_button = QPushButton("Add…")
        self.add_button.setAccessibleName("Add calendar account")
        self.sync_button.clicked.connect(self._sync_now)
        self.edit_button.clicked.connect(self._edit)
        self.rename_button.clicked.connect(self._start_rename)
        self.remove_button.clicked.connect(self._remove)
        self.add_button.clicked.connect(self.addAccountRequested)
        self.account_error = QLabel()
        self.account_error.setObjectName("account-problem")
        self.account_error.setWordWrap(True)
        self.account_error.setStyleSheet("color: #c01c28;")
        row = QHBoxLayout()
        for button in (self.sync_button, self.edit_button, self.rename_button, self.remove_button):
            row.addWidget(button)
        row.addStretch(1)
        row.addWidget(self.add_button)
        # with several accounts: where a new appointment goes unless the user picks another
        self.default_account = QComboBox()
        self.default_account.setAccessibleName("New appointments go to")
        self.default_account.setToolTip(
            "The calendar account the appointment dialog suggests for a new appointment"
        )
        self.default_account_row = QWidget()
        default_row = QHBoxLayout(self.default_account_row)
        default_row.setContentsMargins(0, 6, 0, 0)
        default_row.addWidget(QLabel("New appointments go to"))
        default_row.addWidget(self.default_account)
        default_row.addStretch(1)
        layout = QVBoxLayout(page)
        layout.addWidget(self.accounts)
        layout.addWidget(self.account_error)
        layout.addLayout(row)
        layout.addWidget(self.default_account_row)
        return page

    def _sync_tab(self) -> QWidget:
        page = QWidget()
        self.interval = QSpinBox()
        self.interval.setRange(*SYNC_INTERVAL_MINUTES)
        self.interval.setSuffix(" minutes")
        self.interval.setValue(int(self.store.get_setting("sync.interval_minutes", 5)))
        self.interval.setAccessibleName("Sync every")
        self.interval.setMaximumWidth(160)
        self.start_at_login = QCheckBox(f"Start {PRODUCT_NAME} when I log in")
        self.start_at_login.setChecked(self.autostart.is_enabled())
        self.notifications = QCheckBox("Show notifications (sign-in needed, failures, conflicts)")
        self.notifications.setChecked(bool(self.store.get_setting("app.notifications", True)))
        self.send_invitations = QCheckBox("Send invitations to participants")
        self.send_invitations.setChecked(
            bool(self.store.get_setting("sync.send_invitations", False))
        )
        invite_note = QLabel(
            "Invitations go out only when you add participants to, or change, an appointment "
            "you organise in the Sales Calendar; never for changes made in the other calendar."
        )
        invite_note.setWordWrap(True)
        # a wrapped label gets more height than it needs: keep its text under the checkbox
        invite_note.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        form = QFormLayout(page)
        form.addRow("Sync every", self.interval)
        form.addRow("", self.start_at_login)
        form.addRow("", self.notifications)
        form.addRow("", self.send_invitations)
        form.addRow("", invite_note)
        return page

    def _calendar_tab(self) -> QWidget:
        page = QWidget()
        first, last = self.working_hours()
        self.day_start = QComboBox()
        self.day_end = QComboBox()
        for hour in range(24):
            self.day_start.addItem(formats.hour_text(hour), hour)
            self.day_end.addItem(formats.hour_text(hour + 1 if hour < 23 else 0), hour + 1)
        self.day_start.setCurrentIndex(first)
        self.day_end.setCurrentIndex(last - 1)
        self.day_start.setAccessibleName("Working day starts at")
        self.day_end.setAccessibleName("Working day ends at")
        hours = QHBoxLayout()
        hours.setContentsMargins(0, 0, 0, 0)
        hours.addWidget(self.day_start)
        hours.addWidget(QLabel("to"))
        hours.addWidget(self.day_end)
        hours.addStretch(1)
        note = QLabel(
            "The day and week views open at the start of your working day, or at an "
            "earlier appointment of the week; the hours outside it are shaded."
        )
        note.setWordWrap(True)
        note.setStyleSheet(NOTE_STYLE)
        form = QFormLayout(page)
        form.addRow("Working day", hours)
        form.addRow("", note)
        # meetings someone else organises (SPEC §10)
        self.hide_declined = QCheckBox("Hide meetings I declined")
        self.hide_declined.setChecked(hide_declined(self.store))
        declined_note = QLabel("Otherwise they stay in the calendar, struck through, as free time.")
        declined_note.setWordWrap(True)
        declined_note.setStyleSheet(NOTE_STYLE)
        form.addRow("Declined meetings", self.hide_declined)
        form.addRow("", declined_note)
        return page

    def working_hours(self) -> tuple[int, int]:
        return working_hours(self.store)

    def _advanced_tab(self) -> QWidget:
        page = QWidget()
        self.client_secrets = PathField(
            self.store.get_setting("advanced.client_secrets_file", "") or "",
            "Google client-secrets file",
            "JSON files (*.json);;All files (*)",
        )
        self.ca_bundle = PathField(
            self.store.get_setting("advanced.ca_bundle", "") or "",
            "CA bundle",
            "Certificates (*.pem *.crt *.cer);;All files (*)",
        )
        form = QFormLayout(page)
        form.addRow("Google client-secrets file", self.client_secrets)
        note = QLabel(
            "The OAuth client for “Sign in with Google”. Leave empty to use the one that "
            f"comes with {PRODUCT_NAME}."
        )
        note.setWordWrap(True)
        form.addRow("", note)
        form.addRow("CA bundle", self.ca_bundle)
        ca_note = QLabel(
            "Only if your company's servers use certificates of their own: the CA "
            "certificate file IT gives you. Certificates are always checked."
        )
        ca_note.setWordWrap(True)
        form.addRow("", ca_note)
        return page

    # ------------------------------------------------------------------ accounts

    def refresh_accounts(self) -> None:
        if self.accounts.state() == QAbstractItemView.State.EditingState:
            return  # the user is renaming: the sync's news can wait for the next refresh
        selected = self.selected_account()
        accounts = self.store.list_accounts()
        self._accounts = accounts
        self.accounts.blockSignals(True)
        self.accounts.setRowCount(len(accounts))
        now = self.services.clock().astimezone()
        for row, account in enumerate(accounts):
            last = (
                formats.moment_text(account.last_sync.astimezone(), now)
                if account.last_sync
                else "Never"
            )
            state = "paused" if account.paused else str(account.state)
            name = AccountNameItem(account, self.rename_account)
            if self.colour_for is not None:
                name.setIcon(colour_swatch(self.colour_for(account.id)))
            self.accounts.setItem(row, NAME_COLUMN, name)
            cells = {
                KIND_COLUMN: kind_label(account.kind),
                STATE_COLUMN: STATE_TEXT.get(state, state),
                LAST_SYNC_COLUMN: last,
            }
            for column, text in cells.items():
                item = QTableWidgetItem(text)
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                if column == STATE_COLUMN and state in ("needs_sign_in", "error"):
                    item.setForeground(Qt.GlobalColor.darkRed)
                    item.setIcon(icon("warning"))
                    item.setToolTip(account.last_error)
                self.accounts.setItem(row, column, item)
        self.accounts.blockSignals(False)
        if selected is not None:
            self.select_account(selected.id)
        if accounts and not self.accounts.selectedItems():
            self.accounts.selectRow(0)
        self._selection_changed()
        self._fill_default_account(accounts)
        self._check_profile_email()

    def rename_account(self, account: Account, name: str) -> Account | None:
        """Give an account a name ("Work"); an empty name means its address.
        Returns the account as saved."""
        fresh = self.store.get_account(account.id)  # the sync may have changed its state
        if fresh is None:
            return None
        wanted = name.strip() or fresh.email
        if wanted != fresh.name:
            fresh.name = wanted
            self.store.update_account(fresh)
            self.accountsChanged.emit()
        # the editor is still closing: refresh the list right after
        QTimer.singleShot(0, self, self.refresh_accounts)
        return fresh

    def _start_rename(self) -> None:
        rows = {i.row() for i in self.accounts.selectedIndexes()}
        if rows:
            item = self.accounts.item(min(rows), NAME_COLUMN)
            self.accounts.setCurrentItem(item)
            self.accounts.editItem(item)

    def _fill_default_account(self, accounts: list[Account]) -> None:
        chosen = self.default_account.currentData() or self.store.get_setting(
            DEFAULT_ACCOUNT_SETTING
        )
        self.default_account.clear()
        for account in accounts:
            self.default_account.addItem(account_label(account), account.id)
        self.default_account.setCurrentIndex(max(0, self.default_account.findData(chosen)))
        self.default_account_row.setVisible(len(accounts) > 1)

    def selected_account(self) -> Account | None:
        rows = {i.row() for i in self.accounts.selectedIndexes()}
        if not rows:
            return None
        return self._accounts[min(rows)]

    def _selection_changed(self) -> None:
        account = self.selected_account()
        for button in (self.sync_button, self.edit_button, self.rename_button, self.remove_button):
            button.setEnabled(account is not None)
        needs = account is not None and str(account.state) == "needs_sign_in"
        # one problem, one action: an account that must sign in again offers just that
        self.edit_button.setText("Sign in again…" if needs else "Edit…")
        self.edit_button.setDefault(needs)
        self.account_error.setText(account.last_error if account and account.last_error else "")
        self.account_error.setVisible(bool(self.account_error.text()))

    def select_account(self, account_id: str) -> None:
        for row, account in enumerate(self._accounts):
            if account.id == account_id:
                self.accounts.selectRow(row)

    def _sync_now(self) -> None:
        account = self.selected_account()
        if account is not None:
            self.syncNowRequested.emit(account.id)

    def _edit(self) -> None:
        account = self.selected_account()
        if account is None:
            return
        if str(account.state) == "needs_sign_in":
            self.signInRequested.emit(account.id)
        else:
            self.editAccountRequested.emit(account)

    def _remove(self) -> None:
        from calsync_desktop.accounts import remove_account

        account = self.selected_account()
        if account is None:
            return
        keep = self.ask_keep(self, account)
        if keep is None:
            return
        remove_account(self.services, account.id, keep_appointments=keep)
        self.refresh_accounts()
        self.accountsChanged.emit()

    # ------------------------------------------------------------------ save

    def save(self) -> None:
        store = self.store
        store.set_setting("profile.name", self.name.text().strip())
        store.set_setting("profile.email", self.email.text().strip())
        minutes = self.interval.value()
        if minutes != store.get_setting("sync.interval_minutes", 5):
            store.set_setting("sync.interval_minutes", minutes)
            self.intervalChanged.emit(minutes)
        store.set_setting("app.notifications", self.notifications.isChecked())
        store.set_setting("sync.send_invitations", self.send_invitations.isChecked())
        self.history.save()
        wanted = self.start_at_login.isChecked()
        store.set_setting("app.start_at_login", wanted)
        if wanted != self.autostart.is_enabled():
            try:
                self.autostart.set_enabled(wanted)
            except OSError as exc:
                QMessageBox.warning(self, "Start at login", f"Could not change it: {exc}")
        hours = [self.day_start.currentData(), self.day_end.currentData()]
        if hours[1] <= hours[0]:
            hours[1] = min(24, hours[0] + 1)
        if tuple(hours) != self.working_hours():
            store.set_setting(WORKING_DAY_SETTING, hours)
            self.workingHoursChanged.emit(*hours)
        hide = self.hide_declined.isChecked()
        if hide != hide_declined(store):
            store.set_setting(HIDE_DECLINED_SETTING, hide)
            self.hideDeclinedChanged.emit(hide)
        store.set_setting("advanced.client_secrets_file", self.client_secrets.text())
        store.set_setting("advanced.ca_bundle", self.ca_bundle.text())
        if self.default_account.count() > 1:
            store.set_setting(DEFAULT_ACCOUNT_SETTING, self.default_account.currentData())
        # the Sales Calendar last: what was set above belongs to the one in use
        self.buttons.setEnabled(False)
        self.sales_calendar.apply(self._sales_calendar_opened, self._sales_calendar_failed)

    def _sales_calendar_opened(self, store) -> None:
        self.buttons.setEnabled(True)
        if store is not None:
            self.salesCalendarChanged.emit(store)
        self.accept()

    def _sales_calendar_failed(self, _message: str) -> None:
        self.buttons.setEnabled(True)
        self.tabs.setCurrentWidget(self.sales_calendar)
