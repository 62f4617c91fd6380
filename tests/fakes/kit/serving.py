"""Serving a test server: an HTTP(S) server in a daemon thread of the test process."""

from __future__ import annotations

import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.fakes.kit.tls import TestCA

# A client that gives up (a timeout test, a dropped connection, a refused
# certificate) is part of the tests, not a server bug.
CLIENT_GONE = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, ssl.SSLError)


class HTTPServer(ThreadingHTTPServer):
    """A threading HTTP server on 127.0.0.1, with TLS when given a context.

    The TLS handshake happens in the connection's own thread, so a client that
    refuses the certificate fails alone and the server keeps answering others.
    """

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64
    ssl_context: ssl.SSLContext | None = None

    def get_request(self):
        sock, addr = super().get_request()
        sock.settimeout(30)
        return sock, addr

    def finish_request(self, request, client_address):
        if self.ssl_context is not None:
            try:
                request = self.ssl_context.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                request.close()
                return
        self.RequestHandlerClass(request, client_address, self)

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], CLIENT_GONE):
            return
        super().handle_error(request, client_address)


class BackgroundServer:
    """A test server answering from a daemon thread of the test process.

    A subclass builds its handler class and calls :meth:`_serve` in ``start()``;
    ``stop()`` and the context manager are shared. With ``tls`` a fresh
    :class:`TestCA` signs the server's certificate and ``ca_bundle`` is the file
    a client trusts it through. ``_cleanup()`` releases anything else a server made.
    """

    _httpd: HTTPServer | None = None
    _thread: threading.Thread | None = None
    _ca: TestCA | None = None
    ca_bundle: str | None = None

    def _serve(
        self,
        handler: type[BaseHTTPRequestHandler],
        name: str,
        *,
        port: int = 0,
        tls: bool = False,
        poll_interval: float = 0.05,
    ) -> HTTPServer:
        httpd = HTTPServer(("127.0.0.1", port), handler)
        if tls:
            if self._ca is None:
                self._ca = TestCA(f"calsync test CA ({name})")
                self.ca_bundle = self._ca.ca_bundle
            httpd.ssl_context = self._ca.server_context()
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, args=(poll_interval,), name=name, daemon=True
        )
        self._thread.start()
        return httpd

    @property
    def port(self) -> int:
        assert self._httpd is not None, "server not started"
        return self._httpd.server_address[1]

    @property
    def scheme(self) -> str:
        return "https" if self._httpd is not None and self._httpd.ssl_context else "http"

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        self._cleanup()
        if self._ca is not None:
            self._ca.cleanup()
            self._ca = None

    def _cleanup(self) -> None:
        """Release what the server made besides its socket and CA (nothing by default)."""

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self):  # pragma: no cover - every server defines it
        raise NotImplementedError
