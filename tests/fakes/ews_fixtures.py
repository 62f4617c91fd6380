"""The EWS test server as pytest fixtures, one definition for every module
that runs one (``test_ews_provider.py``, the end-to-end modules)."""

from __future__ import annotations

import pytest

from tests.fakes.ews_server import EwsServer


def ews_server_fixtures(name: str, exchange_version: str | None = None, *, clock: bool = False):
    """The fixtures ``NAME_module``, one started :class:`EwsServer` per module
    (answering as ``exchange_version``, e.g. ``"Exchange2010_SP2"``), and
    ``NAME``, that server with an empty calendar for each test; the test fails
    on any request that did not validate against the server's schema (what
    that Exchange refuses) and on any bug of the server itself. With
    ``clock``, the server's clock is the test's ``clock`` fixture. Use:
    ``ews_server_module, ews_server = ews_server_fixtures("ews_server")``."""
    options = {} if exchange_version is None else {"exchange_version": exchange_version}

    @pytest.fixture(scope="module", name=f"{name}_module")
    def module_server():
        server = EwsServer(**options)
        server.start()
        yield server
        server.stop()

    @pytest.fixture(name=name)
    def server(request):
        s = request.getfixturevalue(f"{name}_module")
        s.reset(clock=request.getfixturevalue("clock") if clock else None)
        yield s
        errors, bugs = list(s.validation_errors), list(s.server_errors)
        s.validation_errors.clear()
        s.server_errors.clear()
        assert not errors, f"requests {s.exchange_version} refuses (schema validation): {errors}"
        assert not bugs, f"EWS test server bugs: {bugs}"

    return module_server, server
