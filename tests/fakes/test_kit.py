"""The test servers' shared kit: faults, TLS with an own CA, serving, the fault proxy."""

from __future__ import annotations

import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
import requests

from tests.fakes.kit import BackgroundServer, FaultProxy, FaultQueue, TestCA
from tests.fakes.kit.hostile import IMPOSSIBLE_DATE, deep_json, deep_xml, rewrite_json, rewrite_xml

# --------------------------------------------------------------------------- FaultQueue


def test_faults_are_taken_in_the_order_they_were_armed():
    q = FaultQueue()
    q.arm("rate_limit", 2, retry_after=3)
    q.arm("drop")
    kinds = [q.take("/x").kind for _ in range(3)]
    assert kinds == ["rate_limit", "rate_limit", "drop"]
    assert q.take("/x") is None and q.pending == 0


def test_a_fault_on_writes_lets_reads_through():
    q = FaultQueue()
    q.arm("server_busy", on="write")
    assert q.take("/events") is None
    assert q.take("/events", write=True).kind == "server_busy"


def test_path_and_after_narrow_a_fault():
    q = FaultQueue()
    q.arm("server_error", 1, path="$batch", after=1)
    assert q.take("/v1.0/me/events", write=True) is None  # another path
    assert q.take("/v1.0/$batch", write=True) is None  # the one let through
    assert q.take("/v1.0/$batch", write=True).kind == "server_error"


def test_batch_part_faults_and_request_faults_never_mix():
    q = FaultQueue()
    q.arm("rate_limit", on="batch_part")
    q.arm("drop")
    assert q.take("/batch", write=True).kind == "drop"  # the whole request
    assert q.take("/batch", write=True) is None
    assert q.take("/calendar/v3/x", part=True).kind == "rate_limit"  # one call inside


def test_a_fault_put_back_is_next_and_clear_forgets_all():
    q = FaultQueue()
    q.arm("malformed", 3)
    fault = q.take("/x")
    q.put_back(fault)
    assert q.pending == 3
    q.clear()
    assert q.take("/x") is None


def test_a_held_queue_hands_out_nothing_and_keeps_what_is_armed():
    q = FaultQueue()
    q.arm("server_error", 2)
    with q.held():
        assert q.is_held and q.take("/x") is None and q.take("/x", write=True) is None
        with q.held():  # looks nest
            assert q.take("/x") is None
        assert q.is_held
    assert not q.is_held and q.pending == 2
    assert q.take("/x").kind == "server_error"


def test_retry_after_falls_back_to_the_service_default():
    q = FaultQueue()
    q.arm("rate_limit")
    q.arm("rate_limit", retry_after=7)
    assert q.take("/").retry_after_or(1.0) == 1.0
    assert q.take("/").retry_after_or(1.0) == 7


def test_bad_arming_is_refused():
    with pytest.raises(ValueError):
        FaultQueue().arm("drop", on="sometimes")
    with pytest.raises(ValueError):
        FaultQueue().arm("drop", 0)


# --------------------------------------------------------------------------- serving and TLS


class _Hello(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: list[tuple[str, str, bytes]]

    def log_message(self, format, *args):
        pass

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.seen.append((self.command, self.path, body))
        payload = b'{"hello": "' + self.command.encode() + b'", "padding": "' + b"x" * 40 + b'"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("ETag", '"1"')
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_PUT = do_DELETE = do_PROPFIND = _answer


class HelloServer(BackgroundServer):
    def __init__(self, tls: bool = False):
        self.tls = tls
        self.seen: list = []

    def start(self):
        handler = type("Handler", (_Hello,), {"seen": self.seen})
        self._serve(handler, "hello", tls=self.tls)
        return self

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"


def test_tls_is_trusted_through_the_ca_bundle_only():
    with HelloServer(tls=True) as server:
        assert server.url.startswith("https://") and server.ca_bundle
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(server.url, verify=True, timeout=5)
        answer = requests.get(server.url + "/x", verify=server.ca_bundle, timeout=5)
        assert answer.json()["hello"] == "GET"


def test_a_refused_handshake_leaves_the_server_answering():
    with HelloServer(tls=True) as server:
        for _ in range(3):
            with pytest.raises(requests.exceptions.SSLError):
                requests.get(server.url, timeout=5, verify=True)
        assert requests.get(server.url, verify=server.ca_bundle, timeout=5).ok


def test_the_ca_signs_for_localhost_too_and_is_removed_at_cleanup():
    ca = TestCA()
    context = ssl.create_default_context(cafile=ca.ca_bundle)
    server_context = ca.server_context()
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def accept():
        conn, _ = listener.accept()
        with server_context.wrap_socket(conn, server_side=True) as tls:
            tls.recv(1)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    with (
        socket.create_connection(("127.0.0.1", port)) as raw,
        context.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        assert tls.getpeercert()["subjectAltName"][0] == ("DNS", "localhost")
        tls.send(b"x")
    thread.join(5)
    listener.close()
    ca.cleanup()
    assert not ca.directory.exists()


def test_stopping_a_server_frees_its_port_and_its_ca():
    server = HelloServer(tls=True).start()
    port, bundle = server.port, server.ca_bundle
    server.stop()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2)
    assert not Path(bundle).exists()


# --------------------------------------------------------------------------- the fault proxy


@pytest.fixture
def proxied():
    with HelloServer() as upstream, FaultProxy(upstream.url) as proxy:
        yield upstream, proxy


def test_the_proxy_forwards_method_path_body_and_headers(proxied):
    upstream, proxy = proxied
    answer = requests.put(proxy.url + "/cal/a.ics", data=b"BEGIN:VCALENDAR", timeout=5)
    assert answer.status_code == 200 and answer.headers["ETag"] == '"1"'
    assert answer.json()["hello"] == "PUT"
    assert upstream.seen == [("PUT", "/cal/a.ics", b"BEGIN:VCALENDAR")]
    assert proxy.requests == 1


def test_the_proxy_answers_rate_limit_and_busy_with_retry_after(proxied):
    upstream, proxy = proxied
    proxy.faults.arm("rate_limit", retry_after=4)
    proxy.faults.arm("server_busy")
    first = requests.get(proxy.url, timeout=5)
    second = requests.get(proxy.url, timeout=5)
    assert (first.status_code, first.headers["Retry-After"]) == (429, "4")
    assert (second.status_code, second.headers["Retry-After"]) == (503, "1")
    assert upstream.seen == []  # a refused request never reaches the server
    assert requests.get(proxy.url, timeout=5).ok


def test_the_proxy_drops_cuts_and_delays(proxied):
    _upstream, proxy = proxied
    proxy.faults.arm("drop")
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(proxy.url, timeout=5)
    proxy.faults.arm("malformed")
    cut = requests.get(proxy.url, timeout=5)
    with pytest.raises(ValueError):
        cut.json()
    proxy.faults.arm("slow", delay=0.4)
    begun = time.monotonic()
    assert requests.request("PROPFIND", proxy.url, timeout=5).ok
    assert time.monotonic() - begun >= 0.4


def test_a_write_fault_in_the_proxy_waits_for_a_write(proxied):
    upstream, proxy = proxied
    proxy.faults.arm("server_error", on="write")
    assert requests.request("PROPFIND", proxy.url, timeout=5).ok
    assert requests.get(proxy.url, timeout=5).ok
    assert requests.delete(proxy.url + "/cal/a.ics", timeout=5).status_code == 500
    assert [m for m, _, _ in upstream.seen] == ["PROPFIND", "GET"]


def test_a_look_through_the_proxy_is_neither_counted_nor_faulted(proxied):
    upstream, proxy = proxied
    proxy.faults.arm("server_error")
    with proxy.looking():
        assert requests.get(proxy.url + "/cal/", timeout=5).ok
    assert proxy.requests == 0 and proxy.faults.pending == 1
    assert requests.get(proxy.url, timeout=5).status_code == 500
    assert proxy.requests == 1 and [p for _, p, _ in upstream.seen] == ["/cal/"]


def test_a_bad_value_replaces_one_value_of_the_first_event_that_has_it():
    listing = {
        "items": [
            {"id": "a", "start": {"date": "2026-01-01"}},
            {"id": "b", "start": {"dateTime": "x"}},
            {"id": "c", "start": {"dateTime": "y"}},
        ]
    }
    new, hit = rewrite_json(listing, "start.dateTime", IMPOSSIBLE_DATE)
    assert hit and [e["start"] for e in new["items"]] == [
        {"date": "2026-01-01"},
        {"dateTime": IMPOSSIBLE_DATE},
        {"dateTime": "y"},
    ]
    assert listing["items"][1]["start"]["dateTime"] == "x"  # the server's own data is untouched
    assert rewrite_json(listing, "originalStart", "z") == (listing, False)
    body = (
        b"<m:Items><t:CalendarItem><t:Start>2026-01-01T09:00:00Z</t:Start></t:CalendarItem>"
        b"<t:CalendarItem><t:Start>2026-01-02T09:00:00Z</t:Start></t:CalendarItem></m:Items>"
    )
    new_body, hit = rewrite_xml(body, "Start", IMPOSSIBLE_DATE)
    assert hit and new_body.count(IMPOSSIBLE_DATE.encode()) == 1 and b"2026-01-02" in new_body


def test_a_deep_answer_is_nested_as_deep_as_asked():
    assert deep_json("items", 3) == b'{"items": [[[[]]]]}'
    assert deep_xml(2).count(b"<a>") == 2
