"""A plain-HTTP server on this computer's network address (not loopback), that
records every request: proof that nothing, not even a request without the
password, went to a plain-http server that is not this computer."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest


class _Listener(BaseHTTPRequestHandler):
    """Records every request (and whether it carried credentials), answers 401."""

    def do_POST(self):
        self.server.seen.append(self.headers.get("Authorization"))
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="EWS"')
        self.end_headers()

    do_GET = do_POST

    def log_message(self, *args):
        pass


def _address_of_this_computer() -> str | None:
    """This computer's address on its network (not loopback), if it has one."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("10.255.255.255", 9))  # no packet is sent for a UDP connect
        address = probe.getsockname()[0]
    except OSError:
        return None
    finally:
        probe.close()
    return None if address.startswith("127.") else address


@pytest.fixture
def plain_http_listener():
    """An HTTP server on this computer's network address: a plain-http server
    that is not this computer as far as the address says."""
    address = _address_of_this_computer()
    if address is None:
        pytest.skip("this computer has no network address besides loopback")
    httpd = HTTPServer((address, 0), _Listener)
    httpd.seen = []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd, f"http://{address}:{httpd.server_address[1]}/EWS/Exchange.asmx"
    httpd.shutdown()
    httpd.server_close()
