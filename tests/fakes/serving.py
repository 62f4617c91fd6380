"""What every protocol test server shares: serving in a background thread."""

from __future__ import annotations

import threading
from http.server import HTTPServer


class BackgroundServer:
    """An ``http.server`` run in a daemon thread of the test process.

    Subclasses build their server in ``start()`` and hand it to :meth:`_serve`;
    ``stop()`` and the context manager are shared. ``_cleanup()`` releases
    anything else a server made (temporary certificates and the like).
    """

    _httpd: HTTPServer | None = None
    _thread: threading.Thread | None = None

    def _serve(self, httpd: HTTPServer, name: str, poll_interval: float = 0.05) -> None:
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, args=(poll_interval,), name=name, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        self._cleanup()

    def _cleanup(self) -> None:
        """Release what the server made besides its socket (nothing by default)."""

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
