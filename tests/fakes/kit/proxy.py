"""A fault-injecting reverse proxy, for services that exist as real server software.

Where a real server can be run by the tests (Radicale, Xandikos for CalDAV),
the product talks to it through a :class:`FaultProxy`: the proxy forwards every
request unchanged and, when :meth:`~tests.fakes.kit.faults.FaultQueue.take`
hands it a fault, fails the request as the service would. Together with the
real server's own means (its storage, its user file) that is enough to
implement :class:`~tests.fakes.kit.remote.RemoteCalendar`: another client's
acts go straight to the real server, bypassing the proxy, so they are neither
counted nor faulted.
"""

from __future__ import annotations

import http.client
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler

from tests.fakes.kit.faults import Fault, FaultQueue, delay, drop_connection
from tests.fakes.kit.serving import CLIENT_GONE, BackgroundServer

# How a plain HTTP service fails, when it names no format of its own (RFC 9110
# §15.6.4 503 and RFC 6585 §4 429, both with Retry-After, RFC 9110 §10.2.3).
Answer = tuple[int, dict[str, str], bytes]
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PROPFIND", "REPORT"})
HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "host"}
)


def plain_http_answer(fault: Fault) -> Answer:
    """A fault as a generic HTTP service answers it."""
    wait = fault.retry_after_or(1.0)
    if fault.kind == "rate_limit":
        return 429, {"Retry-After": f"{wait:g}"}, b"Too Many Requests"
    if fault.kind == "server_busy":
        return 503, {"Retry-After": f"{wait:g}"}, b"Service Unavailable"
    if fault.kind == "expired_token":
        return 401, {"WWW-Authenticate": 'Basic realm="calendar"'}, b"Unauthorized"
    return 500, {}, b"Internal Server Error"


class FaultProxy(BackgroundServer):
    """Forwards to ``upstream`` (``http://host:port``) and injects armed faults.

    ``answer`` turns an error fault into the service's answer (default:
    :func:`plain_http_answer`); ``malformed`` answers cut the upstream's body in
    half, and :meth:`spoil` is where a subclass spoils the upstream's real
    answer in other ways. A kind in :attr:`after_upstream` reaches the upstream
    first: ``lost_answer`` is applied by the server, then the connection closes
    without an answer (the client cannot tell whether it was). ``requests``
    counts what the product sent through the proxy, not what a test sends
    inside :meth:`looking`.
    """

    #: the fault kinds applied to the upstream's answer rather than instead of it
    after_upstream: frozenset[str] = frozenset({"malformed", "lost_answer"})

    #: request headers not passed on (a subclass reading the upstream's answers
    #: drops "accept-encoding" to see them uncompressed)
    drop_request_headers: frozenset[str] = frozenset()

    def __init__(
        self,
        upstream: str,
        *,
        faults: FaultQueue | None = None,
        answer: Callable[[Fault], Answer] = plain_http_answer,
        tls: bool = False,
        port: int = 0,
    ):
        split = urllib.parse.urlsplit(upstream)
        self.upstream_host = split.hostname or "127.0.0.1"
        self.upstream_port = split.port or 80
        self.faults = faults or FaultQueue()
        self.answer = answer
        self.requests = 0
        self._tls = tls
        self._requested_port = port
        self._lock = threading.Lock()
        self._looks = 0

    @contextmanager
    def looking(self) -> Iterator[None]:
        """Requests forwarded inside are a test's look: not counted, never faulted."""
        with self._lock:
            self._looks += 1
        try:
            with self.faults.held():
                yield
        finally:
            with self._lock:
                self._looks -= 1

    def start(self) -> FaultProxy:
        handler = type("ProxyHandler", (_ProxyHandler,), {"proxy": self})
        self._serve(handler, "fault-proxy", port=self._requested_port, tls=self._tls)
        return self

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def intercept(self, method: str, path: str, headers, body: bytes) -> Answer | None:
        """An answer of the proxy's own instead of forwarding (None: forward).

        A subclass answers here what the deployment in front of a real server
        answers itself: authentication done at the proxy, or a server's refusal
        that the test cannot make the server itself give."""
        return None

    def forwarded(self, method: str, path: str, body: bytes, status: int, payload: bytes) -> None:
        """Sees each request the upstream answered (for a subclass that records traffic)."""

    def spoil(self, fault: Fault, status: int, payload: bytes) -> tuple[int, bytes]:
        """The upstream's answer as an :attr:`after_upstream` fault leaves it
        (default, ``malformed``: the body breaks off half-way)."""
        return status, payload[: max(1, len(payload) // 2)]


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    proxy: FaultProxy

    def log_message(self, format, *args):
        pass

    def _forward(self) -> None:
        proxy = self.proxy
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        with proxy._lock:
            if not proxy._looks:
                proxy.requests += 1
        fault = proxy.faults.take(self.path, write=self.command not in READ_METHODS)
        if fault is not None and fault.kind == "drop":
            drop_connection(self)
            return
        if fault is not None and fault.kind == "slow":
            delay(fault)
            fault = None
        if fault is not None and fault.kind not in proxy.after_upstream:
            status, headers, payload = proxy.answer(fault)
            self._reply(status, list(headers.items()), payload)
            return
        own = proxy.intercept(self.command, self.path, self.headers, body)
        if own is not None:
            status, headers, payload = own
            self._reply(status, list(headers.items()), payload)
            return
        upstream = http.client.HTTPConnection(proxy.upstream_host, proxy.upstream_port, timeout=30)
        try:
            dropped = HOP_BY_HOP | proxy.drop_request_headers
            headers = {k: v for k, v in self.headers.items() if k.lower() not in dropped}
            headers["Host"] = f"{proxy.upstream_host}:{proxy.upstream_port}"
            upstream.request(self.command, self.path, body=body, headers=headers)
            answer = upstream.getresponse()
            payload = answer.read()
            kept = [(k, v) for k, v in answer.getheaders() if k.lower() not in HOP_BY_HOP]
            kept = [(k, v) for k, v in kept if k.lower() != "content-length"]
            status = answer.status
        finally:
            upstream.close()
        proxy.forwarded(self.command, self.path, body, status, payload)
        if fault is not None and fault.kind == "lost_answer":
            drop_connection(self)  # applied upstream, the answer never arrives
            return
        if fault is not None:
            status, payload = proxy.spoil(fault, status, payload)
        self._reply(status, kept, payload)

    def _reply(self, status: int, headers: list[tuple[str, str]], payload: bytes) -> None:
        try:
            self.send_response(status)
            for key, value in headers:
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)
        except CLIENT_GONE:
            self.close_connection = True

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _forward
    do_OPTIONS = do_PROPFIND = do_REPORT = do_MKCALENDAR = do_MKCOL = do_MOVE = _forward
