"""What every test server shares: TLS with an own CA, injected faults, serving
in the background, a fault proxy for real servers, and the one vocabulary
(:class:`RemoteCalendar`) in which tests script a calendar service."""

from tests.fakes.kit.faults import FAULT_KINDS, Fault, FaultQueue, delay, drop_connection
from tests.fakes.kit.hostile import DEEP, HOSTILE_KINDS, IMPOSSIBLE_DATE
from tests.fakes.kit.proxy import FaultProxy, plain_http_answer
from tests.fakes.kit.remote import (
    RESPONSES,
    SENSITIVITIES,
    SHOW_AS,
    NewEvent,
    RemoteCalendar,
    SeriesEdits,
    neutral_changes,
    response_word,
    show_as_word,
)
from tests.fakes.kit.serving import CLIENT_GONE, BackgroundServer, HTTPServer
from tests.fakes.kit.tls import TestCA

__all__ = [
    "CLIENT_GONE",
    "DEEP",
    "FAULT_KINDS",
    "HOSTILE_KINDS",
    "IMPOSSIBLE_DATE",
    "RESPONSES",
    "SENSITIVITIES",
    "SHOW_AS",
    "BackgroundServer",
    "Fault",
    "FaultProxy",
    "FaultQueue",
    "HTTPServer",
    "NewEvent",
    "RemoteCalendar",
    "SeriesEdits",
    "TestCA",
    "delay",
    "drop_connection",
    "neutral_changes",
    "plain_http_answer",
    "response_word",
    "show_as_word",
]
