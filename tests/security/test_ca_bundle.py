"""The CA bundle configured for an account is the trust of every request to it.

requests lets the ``REQUESTS_CA_BUNDLE`` (and ``CURL_CA_BUNDLE``) environment
variable replace a ``Session.verify`` (``Session.merge_environment_settings``,
psf/requests#3829; niquests, which the caldav library uses, does the same), and
corporate machines set it. Every client path of every kind with a CA bundle
setting is driven here through its real client library against its test
server over HTTPS with the variable set: Office 365 (MSAL's sign-in, then Graph),
Exchange (exchangelib), CalDAV (the caldav library, discovery included).
Google has no CA bundle setting: google-api-python-client talks through
httplib2, which never reads the variable.

The rules (README, "Company certificates"):

- the configured bundle is trusted whatever the environment says;
- it is the only trust: a bundle named in the environment is not added to it;
- without a configured bundle, the environment's is trusted (the machine's
  own choice, as for any requests program).
"""

from __future__ import annotations

from pathlib import Path

import certifi
import pytest
import requests

from calsync_desktop.accounts import office365
from calsync_desktop.accounts.base import MemorySecrets
from calsync_desktop.providers.base import Backoff, CertificateUntrusted
from calsync_desktop.providers.caldav import CalDAVProvider
from calsync_desktop.providers.caldav import ConnectionSettings as CalDAVConnection
from calsync_desktop.providers.ews import ConnectionSettings as EwsConnection
from calsync_desktop.providers.ews import ExchangeProvider
from calsync_desktop.services import Services
from tests.fakes.caldav_servers import SERVERS
from tests.fakes.ews_server import EwsServer
from tests.fakes.graph_server import GraphServer

ENV_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
# Office 365's bundle can be configured three ways (account settings, the
# CALSYNC_CA_BUNDLE variable, Settings › Advanced); the others keep it with the account.
PATHS = (
    "office365-account",
    "office365-variable",
    "office365-advanced",
    "exchange",
    "caldav",
    "caldav-discovery",
)


@pytest.fixture(scope="module")
def graph_server():
    server = GraphServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def ews_server():
    server = EwsServer(tls=True)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def radicale():
    with SERVERS["radicale"]() as server:
        yield server


@pytest.fixture
def servers(graph_server, ews_server, radicale):
    return {"office365": graph_server, "exchange": ews_server, "caldav": radicale}


@pytest.fixture
def unrelated_bundle(tmp_path) -> str:
    """A real CA bundle (the public CAs) that does not trust the test servers."""
    path = tmp_path / "public-cas.pem"
    path.write_text(Path(certifi.where()).read_text())
    return str(path)


def _approve(server: GraphServer):
    def approve(message: str, flow: dict) -> None:
        page = requests.post(  # the user's browser, which trusts the test CA
            flow["verification_uri"],
            data={"otc": flow["user_code"]},
            verify=str(server.ca_bundle),
            timeout=5,
        )
        assert "You have signed in" in page.text

    return approve


def _office365(server: GraphServer, where: str, ca_bundle: str | None, tmp_path) -> None:
    env = {
        "CALSYNC_GRAPH_ENDPOINT": server.graph_url,
        "CALSYNC_MS_AUTHORITY": server.authority,
        "CALSYNC_MS_CLIENT_ID": server.client_id,
    }
    if ca_bundle and where in ("variable", "account"):
        env["CALSYNC_CA_BUNDLE"] = ca_bundle
    services = Services.create(home=tmp_path / "home", secrets=MemorySecrets(), env=env)
    try:
        if ca_bundle and where == "advanced":
            services.store.set_setting("advanced.ca_bundle", ca_bundle)
        pending = office365.sign_in(
            services, device_code_callback=_approve(server), use_device_code=True
        )
        if where == "account":
            # the account keeps the bundle it was signed in with; later runs
            # need no variable
            assert pending.settings.get("ca_bundle") == ca_bundle
            env.pop("CALSYNC_CA_BUNDLE", None)
        provider = pending.provider()
        try:
            assert provider.list_calendars()  # Graph
            provider._token_source(True)  # a refresh through MSAL
        finally:
            provider.close()
    finally:
        services.store.close()


def _exchange(server: EwsServer, ca_bundle: str | None) -> None:
    connection = EwsConnection(
        server_url=server.url,
        username="alice",
        password="secret",
        email="alice@example.com",
        ca_bundle=ca_bundle,
        timeout=10.0,
    )
    provider = ExchangeProvider(connection, settings={}, backoff=Backoff(sleep=lambda _s: None))
    try:
        assert provider.list_calendars()
    finally:
        provider.close()


def _caldav(server, ca_bundle: str | None, *, discovery: bool) -> None:
    # discovery: the address given is not the DAV root, so the provider asks the
    # host's /.well-known/caldav (its own request, apart from the library's)
    url = server.url + "not-the-dav-root/" if discovery else server.url
    connection = CalDAVConnection(
        url, server.owner, server.password, ca_bundle=ca_bundle, timeout=10.0
    )
    provider = CalDAVProvider(connection, "", backoff=Backoff(sleep=lambda _s: None))
    try:
        assert provider.list_calendars()
    finally:
        provider.close()


def reach(path: str, servers: dict, ca_bundle: str | None, tmp_path) -> None:
    """Sign in where there is a sign-in, then the calendar calls a sync starts with."""
    kind = path.split("-")[0]
    server = servers[kind]
    if kind == "office365":
        _office365(server, path.split("-")[1], ca_bundle, tmp_path)
    elif kind == "exchange":
        _exchange(server, ca_bundle)
    else:
        _caldav(server, ca_bundle, discovery=path == "caldav-discovery")


def _trust_in_environment(monkeypatch, bundle: str) -> None:
    for variable in ENV_VARIABLES:
        monkeypatch.setenv(variable, bundle)


@pytest.mark.parametrize("path", PATHS)
def test_the_configured_ca_bundle_is_trusted_whatever_the_environment_names(
    path, servers, unrelated_bundle, monkeypatch, tmp_path
):
    _trust_in_environment(monkeypatch, unrelated_bundle)
    server = servers[path.split("-")[0]]
    reach(path, servers, str(server.ca_bundle), tmp_path)


@pytest.mark.parametrize("path", PATHS)
def test_a_bundle_in_the_environment_is_not_trusted_beside_the_configured_one(
    path, servers, unrelated_bundle, monkeypatch, tmp_path
):
    server = servers[path.split("-")[0]]
    _trust_in_environment(monkeypatch, str(server.ca_bundle))
    with pytest.raises(CertificateUntrusted):
        reach(path, servers, unrelated_bundle, tmp_path)


@pytest.mark.parametrize("path", ["office365-variable", "exchange", "caldav", "caldav-discovery"])
def test_without_a_configured_bundle_the_environments_is_trusted(
    path, servers, monkeypatch, tmp_path
):
    server = servers[path.split("-")[0]]
    _trust_in_environment(monkeypatch, str(server.ca_bundle))
    reach(path, servers, None, tmp_path)
