"""Settings: My profile, Integrations, sync, and Advanced (SPEC §6)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
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
from calsync_desktop.gui.appointment_dialog import DEFAULT_ACCOUNT_SETTING, account_label
from calsync_desktop.gui.icons import app_icon

STATE_TEXT = {
    "ok": "Working",
    "syncing": "Syncing",
    "needs_sign_in": "Sign in again",
    "error": "Problem",
    "paused": "Paused",
}


def ask_keep_appointments(parent: QWidget | None, account: Account) -> bool | None:
    """Remove an account: keep its synced appointments? None = cancel."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("Remove account")
    box.setText(f"Remove {account.name} from calsync?")
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


class SettingsDialog(QDialog):
    """The app's settings. Account buttons act at once; the rest is saved on Save.

    Signals: ``syncNowRequested(account_id)``, ``addAccountRequested``,
    ``editAccountRequested(Account)``, ``intervalChanged(minutes)``,
    ``accountsChanged``.
    """

    syncNowRequested = Signal(str)
    addAccountRequested = Signal()
    editAccountRequested = Signal(object)
    intervalChanged = Signal(int)
    accountsChanged = Signal()

    def __init__(
        self,
        services,
        autostart,
        parent: QWidget | None = None,
        ask_keep: Callable[[QWidget | None, Account], bool | None] = ask_keep_appointments,
    ):
        super().__init__(parent)
        self.services = services
        self.store = services.store
        self.autostart = autostart
        self.ask_keep = ask_keep
        self.setWindowTitle("Settings")
        self.setWindowIcon(app_icon())
        self.setMinimumSize(720, 460)
        self.tabs = QTabWidget()
        self.tabs.addTab(self._profile_tab(), "My profile")
        self.tabs.addTab(self._integrations_tab(), "Integrations")
        self.tabs.addTab(self._sync_tab(), "Sync")
        self.tabs.addTab(self._advanced_tab(), "Advanced")
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(buttons)
        self.refresh_accounts()

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
        form.addRow("", note)
        return page

    def _integrations_tab(self) -> QWidget:
        page = QWidget()
        self.accounts = QTableWidget(0, 5)
        self.accounts.setHorizontalHeaderLabels(["Account", "Kind", "State", "Last sync", "Email"])
        self.accounts.verticalHeader().hide()
        self.accounts.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.accounts.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.accounts.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.accounts.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.accounts.setAccessibleName("Calendar accounts")
        self.accounts.setStyleSheet("QTableWidget::item { padding: 0 6px; }")  # room to breathe
        self.accounts.itemSelectionChanged.connect(self._selection_changed)
        self.sync_button = QPushButton("Sync now")
        self.edit_button = QPushButton("Edit…")
        self.edit_button.setToolTip("Sign in again or change the account's details")
        self.remove_button = QPushButton("Remove…")
        self.add_button = QPushButton("Add…")
        self.sync_button.clicked.connect(self._sync_now)
        self.edit_button.clicked.connect(self._edit)
        self.remove_button.clicked.connect(self._remove)
        self.add_button.clicked.connect(self.addAccountRequested)
        self.account_error = QLabel()
        self.account_error.setWordWrap(True)
        self.account_error.setStyleSheet("color: #c01c28;")
        row = QHBoxLayout()
        for button in (self.sync_button, self.edit_button, self.remove_button):
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
        self.interval.setRange(1, 240)
        self.interval.setSuffix(" minutes")
        self.interval.setValue(int(self.store.get_setting("sync.interval_minutes", 5)))
        self.interval.setAccessibleName("Sync every")
        self.interval.setMaximumWidth(160)
        self.start_at_login = QCheckBox("Start calsync when I log in")
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
            "comes with calsync."
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
        accounts = self.store.list_accounts()
        self._accounts = accounts
        self.accounts.setRowCount(len(accounts))
        for row, account in enumerate(accounts):
            last = f"{account.last_sync.astimezone():%d %b %H:%M}" if account.last_sync else "never"
            state = "paused" if account.paused else str(account.state)
            cells = (
                account.name,
                kind_label(account.kind),
                STATE_TEXT.get(state, state),
                last,
                account.email,
            )
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column == 2 and state in ("needs_sign_in", "error"):
                    item.setForeground(Qt.GlobalColor.darkRed)
                    item.setToolTip(account.last_error)
                self.accounts.setItem(row, column, item)
        if accounts and not self.accounts.selectedItems():
            self.accounts.selectRow(0)
        self._selection_changed()
        self._fill_default_account(accounts)

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
        for button in (self.sync_button, self.edit_button, self.remove_button):
            button.setEnabled(account is not None)
        self.account_error.setText(account.last_error if account and account.last_error else "")

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
        if account is not None:
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
        wanted = self.start_at_login.isChecked()
        store.set_setting("app.start_at_login", wanted)
        if wanted != self.autostart.is_enabled():
            try:
                self.autostart.set_enabled(wanted)
            except OSError as exc:
                QMessageBox.warning(self, "Start at login", f"Could not change it: {exc}")
        store.set_setting("advanced.client_secrets_file", self.client_secrets.text())
        store.set_setting("advanced.ca_bundle", self.ca_bundle.text())
        if self.default_account.count() > 1:
            store.set_setting(DEFAULT_ACCOUNT_SETTING, self.default_account.currentData())
        self.accept()
