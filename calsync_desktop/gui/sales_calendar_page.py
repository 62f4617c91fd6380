"""Settings › Sales Calendar: where the Sales Calendar lives (SPEC §8).

"This computer" is the SQLite file (nothing to set up). "Team server" is a
team's PostgreSQL database, opened as one member: the address, the member's
email, the password (kept in the OS keyring only, never in a settings file)
and an optional CA bundle. "Test connection" tries it off the GUI thread and
shows what went wrong in the words of :mod:`calsync_desktop.team.server`
(unreachable, wrong password, certificate not trusted, not a calsync team
database, a schema newer than this app), never reworded here.

:meth:`SalesCalendarPage.apply` makes the choice this computer's: it opens the
chosen Sales Calendar (in the background) and hands the opened store to
``on_done``; the app then switches to it while running.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from calsync_desktop.gui.background import run_in_background
from calsync_desktop.gui.icons import icon
from calsync_desktop.gui.style import ERROR_STYLE, NOTE_STYLE, OK_STYLE
from calsync_desktop.team.member import (
    check_connection,
    connect,
    disconnect,
    member_server,
    saved_password,
)
from calsync_desktop.team.server import TeamError, TeamServer, describe, parse_url

LOCAL, TEAM = "local", "team"
KEPT_PASSWORD = "Kept in this computer's keyring"


def shown_url(url: str) -> str:
    """The address as a member writes it (without SQLAlchemy's driver name)."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


class SalesCalendarPage(QWidget):
    """The Sales Calendar tab of Settings. ``path_field(value, caption, filter)``
    makes the CA bundle's file field (the dialog's own kind)."""

    def __init__(self, services, path_field: Callable[..., QWidget], parent: QWidget | None = None):
        super().__init__(parent)
        self.services = services
        self.current = TeamServer.load(services.data_dir)
        self.task = None
        self.local = QRadioButton("This computer")
        self.local.setObjectName("sales-calendar-local")
        self.team = QRadioButton("Team server")
        self.team.setObjectName("sales-calendar-team")
        self.choice = QButtonGroup(self)
        self.choice.addButton(self.local)
        self.choice.addButton(self.team)
        local_note = QLabel(
            "Your own Sales Calendar, a file on this computer. Nothing to set up; "
            "nobody else sees it."
        )
        team_note = QLabel(
            "Your team's Sales Calendar on a PostgreSQL server: colleagues see your "
            "appointments, private ones only as a grey box with the time. Your "
            "administrator gives you the address and your password."
        )
        for note in (local_note, team_note):
            note.setWordWrap(True)
            note.setStyleSheet(NOTE_STYLE)
            note.setContentsMargins(22, 0, 0, 4)

        self.url = QLineEdit(shown_url(self.current.url) if self.current else "")
        self.url.setPlaceholderText("postgresql://db.company.example/sales")
        self.url.setAccessibleName("Team server address")
        self.user = QLineEdit(self.current.user if self.current else "")
        self.user.setPlaceholderText("you@company.example")
        self.user.setAccessibleName("Member")
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setAccessibleName("Password")
        self.password.setPlaceholderText(KEPT_PASSWORD if self.current else "")
        self.ca_bundle = path_field(
            self.current.ca_bundle if self.current else "",
            "Team server CA bundle",
            "Certificates (*.pem *.crt *.cer);;All files (*)",
        )
        ca_note = QLabel(
            "Only if the server uses your company's own certificates. A server on "
            "another computer is reached only over TLS, its certificate checked."
        )
        ca_note.setWordWrap(True)
        ca_note.setStyleSheet(NOTE_STYLE)
        self.test_button = QPushButton("Test connection")
        self.test_button.setObjectName("test-team-connection")
        self.test_button.clicked.connect(self.test_connection)
        self.result = QLabel()
        self.result.setObjectName("team-connection-result")
        self.result.setWordWrap(True)
        self.result.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.result_icon = QLabel()
        self.result_icon.setFixedWidth(20)
        self.result_icon.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignHCenter)
        self.fields = QWidget()
        form = QFormLayout(self.fields)
        form.setContentsMargins(22, 0, 0, 0)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Address", self.url)
        form.addRow("Member", self.user)
        form.addRow("Password", self.password)
        form.addRow("CA bundle", self.ca_bundle)
        form.addRow("", ca_note)
        test_row = QHBoxLayout()
        test_row.addWidget(self.test_button)
        test_row.addStretch(1)
        form.addRow("", test_row)
        answer = QHBoxLayout()
        answer.setContentsMargins(0, 0, 0, 0)
        answer.addWidget(self.result_icon, 0, Qt.AlignmentFlag.AlignTop)
        answer.addWidget(self.result, 1, Qt.AlignmentFlag.AlignTop)
        form.addRow("", answer)

        layout = QVBoxLayout(self)
        layout.addWidget(self.local)
        layout.addWidget(local_note)
        layout.addWidget(self.team)
        layout.addWidget(team_note)
        layout.addWidget(self.fields)
        layout.addStretch(1)
        (self.team if self.current else self.local).setChecked(True)
        self.team.toggled.connect(self._mode_changed)
        for edit in (self.url, self.user, self.password, self.ca_bundle.edit):
            edit.textChanged.connect(self._edited)
        self._mode_changed()

    # ------------------------------------------------------------------ state

    def mode(self) -> str:
        return TEAM if self.team.isChecked() else LOCAL

    def busy(self) -> bool:
        return self.task is not None and not self.task.finished

    def _mode_changed(self) -> None:
        self.fields.setEnabled(self.team.isChecked())
        self._edited()

    def _edited(self) -> None:
        self.show_result("", ok=None)

    def show_result(self, text: str, ok: bool | None) -> None:
        self.result.setText(text)
        self.result.setStyleSheet("" if ok is None else OK_STYLE if ok else ERROR_STYLE)
        name = None if ok is None or not text else "invite-accepted" if ok else "warning"
        if name:
            self.result_icon.setPixmap(icon(name).pixmap(16, 16))
        else:
            self.result_icon.clear()

    def wanted(self) -> TeamServer:
        """The team server as filled in (raises a TeamError for a bad form)."""
        return member_server(self.url.text(), self.user.text(), self.ca_bundle.text())

    def changed(self) -> bool:
        """Does Save have anything to do here?"""
        if self.mode() == LOCAL:
            return self.current is not None
        if self.password.text():
            return True
        try:
            return self.wanted() != self.current
        except TeamError:
            return True

    def _password(self, server: TeamServer) -> str:
        typed = self.password.text()
        if typed:
            return typed
        kept = saved_password(self.services.data_dir, self.services.secrets, server)
        if kept is None:
            raise TeamError(f"Type the password for {server.user}.")
        return kept

    # ------------------------------------------------------------------ actions

    def test_connection(self) -> None:
        """Try the team server as filled in; the answer shows below the button."""
        try:
            server = self.wanted()
            password = self._password(server)
        except TeamError as exc:
            self.show_result(str(exc), ok=False)
            return
        self.show_result("Connecting…", ok=None)
        self.test_button.setEnabled(False)
        ca = server.ca_bundle
        self.task = run_in_background(
            lambda: check_connection(server.url, server.user, password, ca),
            self._tested,
            self._failed,
            parent=self,
        )

    def _tested(self, server: TeamServer) -> None:
        self.test_button.setEnabled(True)
        where = describe(parse_url(server.url))
        self.show_result(
            f"Connected to the team Sales Calendar at {where} as {server.user}.", ok=True
        )

    def _failed(self, error: BaseException) -> None:
        self.test_button.setEnabled(True)
        if isinstance(error, TeamError):
            self.show_result(str(error), ok=False)
        else:
            self.show_result(f"The connection failed: {error}", ok=False)

    def apply(self, on_done: Callable[[object], None], on_error: Callable[[str], None]) -> None:
        """Make the choice this computer's. ``on_done(store)`` gets the Sales
        Calendar now in use (None: nothing changed); ``on_error(message)``
        when the team server could not be opened (nothing was changed)."""
        services = self.services
        if not self.changed():
            on_done(None)
            return
        if self.mode() == LOCAL:
            disconnect(services.data_dir, services.secrets)
            self.current = None
            from calsync_desktop.store import Store

            on_done(Store.open(services.db_path, services.clock))
            return
        try:
            server = self.wanted()
            password = self._password(server)
        except TeamError as exc:
            self.show_result(str(exc), ok=False)
            on_error(str(exc))
            return

        def opened(store) -> None:
            self.current = server
            self.password.clear()
            self.password.setPlaceholderText(KEPT_PASSWORD)
            on_done(store)

        def failed(error: BaseException) -> None:
            self._failed(error)
            on_error(self.result.text())

        self.show_result("Connecting…", ok=None)
        self.task = run_in_background(
            lambda: connect(
                services.data_dir,
                services.secrets,
                server.url,
                server.user,
                password,
                server.ca_bundle,
                services.clock,
            ),
            opened,
            failed,
            parent=self,
        )
