"""Starting the desktop app: one instance per user and data folder, the tray
icon first, and :func:`main`, what ``calsync-desktop`` runs without a command.

A second launch asks the running instance (over a local socket) to show its
window and exits; the first shows the tray icon, then builds the services and
the :class:`~calsync_desktop.gui.app.CalsyncApp` and runs Qt's event loop.

The icon shows before the Sales Calendar opens, so it does not wait for
SQLAlchemy, the store and the window (most of the start's time and memory):
this module loads Qt and the tray alone, :func:`open_app` the rest. Until the
app is built (a fraction of a second) the icon says "Starting…"; clicks on its
menu wait in Qt's queue and are answered once it is.
"""

from __future__ import annotations

import argparse
import gc
import getpass
import hashlib
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket
from PySide6.QtWidgets import QApplication

from calsync_desktop.gui import style
from calsync_desktop.gui.icons import app_icon
from calsync_desktop.gui.tray import Tray, TrayStatus
from calsync_desktop.words import PRODUCT_NAME

if TYPE_CHECKING:
    from calsync_desktop.gui.app import CalsyncApp

log = logging.getLogger(__name__)

APP_ID = "calsync-desktop"
STARTING = "Starting…"
"""The tray's tooltip until the app is built."""


# --------------------------------------------------------------------------- one instance


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


# --------------------------------------------------------------------------- start


def tune_interpreter() -> None:
    """Let the GUI thread get the interpreter back quickly while the sync thread
    computes (CPython's default switch interval is 5 ms)."""
    sys.setswitchinterval(0.001)


def settle_memory() -> None:
    """After start-up: move everything built so far out of the garbage collector's
    sight. A full collection during a big sync then scans only the sync's own
    objects instead of every imported module, which would hold the interpreter
    lock (and freeze the window) for a fifth of a second."""
    gc.collect()
    gc.freeze()


def parse_gui_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="calsync-desktop", add_help=True)
    parser.add_argument("--home", type=Path, help="folder for the Sales Calendar and logs")
    parser.add_argument("--show", action="store_true", help="open the calendar window at start")
    return parser.parse_args(list(argv))


def qt_application() -> QApplication:
    """The app's QApplication: its names, icon and style; it stays in the tray
    when the last window closes."""
    qt_app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else APP_ID])
    qt_app.setApplicationName(APP_ID)
    qt_app.setApplicationDisplayName(PRODUCT_NAME)
    style.install(qt_app)
    qt_app.setDesktopFileName(APP_ID)
    qt_app.setWindowIcon(app_icon())
    qt_app.setQuitOnLastWindowClosed(False)
    return qt_app


def early_tray(qt_app: QApplication) -> Tray:
    """The tray icon, shown now with "Starting…"; :class:`CalsyncApp` takes it
    over (notifications stay off until then)."""
    tray = Tray(lambda: False)
    tray.show_status(TrayStatus("idle", STARTING))
    tray.show()
    qt_app.processEvents()
    return tray


def open_app(tray: Tray, create_services: Callable[[], Any], **options) -> CalsyncApp | None:
    """Open the services (asking again while a team server cannot be reached;
    None: the user gave up) and build the app around ``tray``."""
    from calsync_desktop.gui.app import CalsyncApp
    from calsync_desktop.gui.team_window import ask_try_again, open_services

    services = open_services(create_services, ask_try_again)
    if services is None:
        return None
    return CalsyncApp(services, tray=tray, **options)


def main(argv: Sequence[str] | None = None) -> int:
    """Start the tray app (or bring the running one forward)."""
    from calsync_desktop.services import Services, default_home

    args = parse_gui_args(sys.argv[1:] if argv is None else argv)
    tune_interpreter()
    qt_app = qt_application()
    home = args.home or default_home()
    single = SingleInstance(instance_key(home or Path.home() / ".calsync-desktop"))
    if single.ask_running_instance():
        return 0
    single.listen()

    tray = early_tray(qt_app)

    def create():
        services = Services.create(home=args.home)
        services.extra["home"] = args.home
        services.setup_logging()
        return services

    app = open_app(tray, create)
    if app is None:
        tray.hide()
        single.close()
        return 1
    single.showRequested.connect(app.show_window)
    app.start(show_window=args.show)
    settle_memory()
    code = qt_app.exec()
    single.close()
    app.services.store.close()
    return code
