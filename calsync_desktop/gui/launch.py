"""Starting the desktop app: one instance per user and data folder, and
:func:`main`, what ``calsync-desktop`` runs without a command.

A second launch asks the running instance (over a local socket) to show its
window and exits; the first builds the services and the
:class:`~calsync_desktop.gui.app.CalsyncApp` and runs Qt's event loop.
"""

from __future__ import annotations

import argparse
import getpass
import hashlib
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket
from PySide6.QtWidgets import QApplication

from calsync_desktop.gui import style
from calsync_desktop.gui.app import CalsyncApp, settle_memory, tune_interpreter
from calsync_desktop.gui.icons import app_icon
from calsync_desktop.gui.team_window import ask_try_again, open_services
from calsync_desktop.words import PRODUCT_NAME

log = logging.getLogger(__name__)


def instance_key(home: Path) -> str:
    """The local-socket name: one instance per user and data folder."""
    digest = hashlib.sha256(f"{getpass.getuser()}|{home.resolve()}".encode()).hexdigest()[:16]
    return f"calsync-desktop-{digest}"


class SingleInstance(QObject):
    """Makes sure one app runs per user; a second launch asks the first to show
    its window (``showRequested``) and then exits."""

    showRequested = Signal()

    def __init__(self, key: str, parent: QObject | None = None):
        super().__init__(parent)
        self.key = key
        self.server: QLocalServer | None = None
        self._sockets: list[QLocalSocket] = []  # owned by the server; kept until read

    def ask_running_instance(self, timeout_ms: int = 500) -> bool:
        """True when another instance answered (and was asked to show itself)."""
        socket = QLocalSocket()
        socket.connectToServer(self.key)
        if not socket.waitForConnected(timeout_ms):
            return False
        socket.write(b"show\n")
        socket.waitForBytesWritten(timeout_ms)
        socket.disconnectFromServer()
        if socket.state() != QLocalSocket.LocalSocketState.UnconnectedState:
            socket.waitForDisconnected(timeout_ms)
        return True

    def listen(self) -> bool:
        self.server = QLocalServer(self)
        self.server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not self.server.listen(self.key):
            # a server file left by a crash: nobody answered above, so remove it
            QLocalServer.removeServer(self.key)
            if not self.server.listen(self.key):
                log.warning("Cannot listen for other launches: %s", self.server.errorString())
                return False
        self.server.newConnection.connect(self._connection)
        return True

    def _connection(self) -> None:
        while self.server.hasPendingConnections():
            socket = self.server.nextPendingConnection()
            self._sockets.append(socket)
            socket.readyRead.connect(self._read)

    def _read(self) -> None:
        for socket in list(self._sockets):
            if socket.bytesAvailable() and bytes(socket.readAll().data()).strip() == b"show":
                self._sockets.remove(socket)
                socket.disconnectFromServer()
                self.showRequested.emit()

    def close(self) -> None:
        if self.server is not None:
            self.server.close()
        self._sockets.clear()


def parse_gui_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="calsync-desktop", add_help=True)
    parser.add_argument("--home", type=Path, help="folder for the Sales Calendar and logs")
    parser.add_argument("--show", action="store_true", help="open the calendar window at start")
    return parser.parse_args(list(argv))


def main(argv: Sequence[str] | None = None) -> int:
    """Start the tray app (or bring the running one forward)."""
    from calsync_desktop.services import Services, default_home

    args = parse_gui_args(sys.argv[1:] if argv is None else argv)
    tune_interpreter()
    qt_app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else APP_ID])
    qt_app.setApplicationName(APP_ID)
    qt_app.setApplicationDisplayName(PRODUCT_NAME)
    style.install(qt_app)
    qt_app.setDesktopFileName(APP_ID)
    qt_app.setWindowIcon(app_icon())
    qt_app.setQuitOnLastWindowClosed(False)

    home = args.home or default_home()
    single = SingleInstance(instance_key(home or Path.home() / ".calsync-desktop"))
    if single.ask_running_instance():
        return 0
    single.listen()

    services = open_services(lambda: Services.create(home=args.home), ask_try_again)
    if services is None:
        single.close()
        return 1
    services.extra["home"] = args.home
    services.setup_logging()
    app = CalsyncApp(services)
    single.showRequested.connect(app.show_window)
    app.start(show_window=args.show)
    settle_memory()
    code = qt_app.exec()
    single.close()
    services.store.close()
    return code


APP_ID = "calsync-desktop"
