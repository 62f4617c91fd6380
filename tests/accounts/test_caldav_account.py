"""Adding a CalDAV account (accounts/caldav.py) against real servers (Radicale
and Xandikos behind the fault proxy): each failure has its own plain sentence,
nothing is kept on failure, plain http:// only to this computer."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler

import pytest

from calsync_desktop.accounts import caldav as caldav_account
from calsync_desktop.accounts import save_account
from calsync_desktop.accounts.base import InvalidDetails
from calsync_desktop.providers.base import (
    BadCredentials,
    CertificateUntrusted,
    NotACalendarService,
    TimedOut,
    Unreachable,
)
from tests.fakes.kit import HTTPServer


def _validate(services, server, **overrides):
    values = {
        "url": server.url,
        "username": server.owner,
        "password": server.password,
        "ca_bundle": server.ca_bundle,
        **overrides,
    }
    return caldav_account.connect_account(services, values)


def test_the_right_details_connect_and_name_the_calendar_and_the_address(services, caldav_server):
    pending = _validate(services, caldav_server)
    assert pending.email == caldav_server.owner
    assert pending.settings["url"] == caldav_server.url
    assert pending.settings["auth_type"] == "basic"  # asked for once, then sent at once
    assert "password" not in repr(pending.settings) and caldav_server.password not in str(
        pending.settings
    )
    calendars = pending.provider().list_calendars()
    assert [c.id for c in calendars if c.primary] == [caldav_server.calendar_url]


def test_a_saved_account_keeps_its_password_only_in_the_secret_store(services, caldav_server):
    pending = _validate(services, caldav_server)
    account = save_account(services, pending, calendar_id=caldav_server.calendar_url)
    assert caldav_server.password not in repr(services.store.get_account(account.id))
    assert services.secrets.get(account.id, "password") == caldav_server.password
    provider = caldav_account.open_provider(account, services)
    before = caldav_server.count_requests()
    provider.changes(*_window_and_state())
    # the first listing's two (the sync token, the calendar-query): no discovery, no 401
    assert caldav_server.count_requests() - before == 2
    provider.close()


def _window_and_state():
    from tests.providers.contract import WINDOW

    return WINDOW, None


def test_a_wrong_password_says_so_with_the_app_password_advice(services, caldav_server):
    with pytest.raises(BadCredentials) as caught:
        _validate(services, caldav_server, password="not-the-app-password")
    assert str(caught.value) == caldav_account.BAD_CREDENTIALS
    assert "app-specific password" in str(caught.value)
    assert "not-the-app-password" not in str(caught.value)


def test_an_untrusted_certificate_says_so_and_a_ca_bundle_fixes_it(services, caldav_server):
    with pytest.raises(CertificateUntrusted) as caught:
        _validate(services, caldav_server, ca_bundle=None)
    assert "CA bundle" in str(caught.value)
    assert _validate(services, caldav_server).email == caldav_server.owner


def test_a_server_that_is_not_caldav_says_so(services):
    class Html(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _page(self):
            body = b"<html><body>Welcome to our web site</body></html>"
            self.send_response(200 if self.command == "GET" else 404)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_PROPFIND = do_OPTIONS = _page

    httpd = HTTPServer(("127.0.0.1", 0), Html)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}/"
        with pytest.raises(NotACalendarService):
            caldav_account.connect_account(
                services, {"url": url, "username": "sam@example.com", "password": "pw"}
            )
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_an_unreachable_server_says_so(services):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once closed
    with pytest.raises(Unreachable) as caught:
        caldav_account.connect_account(
            services,
            {"url": f"http://127.0.0.1:{port}/", "username": "sam@example.com", "password": "pw"},
        )
    assert not isinstance(caught.value, TimedOut)


def test_a_server_that_does_not_answer_in_time_says_so(services, caldav_server):
    caldav_server.fail_next("slow", 10, delay=1.0)
    with pytest.raises(TimedOut):
        caldav_account.validate(
            services,
            caldav_server.url,
            caldav_server.owner,
            caldav_server.password,
            caldav_server.ca_bundle,
            timeout=0.3,
        )


@pytest.mark.parametrize(
    "url",
    ["http://caldav.example.com/", "http://192.168.1.10/dav/", "ftp://caldav.example.com/"],
)
def test_plain_http_is_refused_except_on_this_computer(services, url):
    with pytest.raises(InvalidDetails) as caught:
        caldav_account.connect_account(
            services, {"url": url, "username": "sam@example.com", "password": "pw"}
        )
    assert "https://" in str(caught.value)


def test_plain_http_on_this_computer_is_accepted(services, caldav_server):
    # the server itself, without the https proxy: loopback only
    url = caldav_server.upstream + caldav_server.home
    if caldav_server.name == "xandikos":
        pytest.skip("Xandikos authenticates at its https proxy only")
    pending = caldav_account.connect_account(
        services, {"url": url, "username": caldav_server.owner, "password": caldav_server.password}
    )
    assert pending.email == caldav_server.owner


def test_a_host_name_alone_is_taken_as_https():
    assert caldav_account.check_url("caldav.fastmail.com") == "https://caldav.fastmail.com/"
    assert caldav_account.check_url(" https://h.example/dav ") == "https://h.example/dav"


def test_an_address_below_the_dav_root_is_found_through_the_well_known_url(services, caldav_server):
    # RFC 6764 §5: the host's /.well-known/caldav leads to the DAV root
    pending = _validate(services, caldav_server, url=caldav_server.url + "no/such/page/")
    calendars = pending.provider().list_calendars()
    assert caldav_server.calendar_url in [c.id for c in calendars]
