"""The fault proxy in front of the real CalDAV servers of
:mod:`tests.fakes.caldav_servers`: https with the test CA, authentication at
the proxy where the server leaves it to one (Xandikos), the servers' own
refusal of sync tokens the test expired, scheduling counts, and every fault
kind of SPEC §7 (:data:`CALDAV_FAULT_KINDS`):

- the shared kinds and the hostile ones of ``tests/fakes/kit``;
- ``lost_answer``: the server applies the request, the answer never arrives
  (the connection closes), so the client cannot tell whether it was applied;
- ``not_implemented``: 501 (RFC 9110 §15.6.2: the server does not support the
  method or report), ``not_allowed``: 405 with ``Allow`` (RFC 9110 §15.5.6);
- ``deep_nesting``: a 207 multistatus nested ``depth`` levels deep;
  ``bad_value``: ``value`` in the first VEVENT's ``field`` property (an
  iCalendar property name such as ``DTSTART``) of the server's real answer.

A refused token reaches the server as one of its own form that it never
issued, so the refusal is the server's own (RFC 6578 §3.2): Radicale answers
403 with ``<D:error><D:valid-sync-token/></D:error>`` (``radicale/app/report.py``),
Xandikos 412 with the same precondition (``xandikos/sync.py``, its
``PreconditionFailure``).
"""

from __future__ import annotations

import base64
import http.client
import re
import threading

from icalendar import Calendar

from tests.fakes.kit import (
    FAULT_KINDS,
    HOSTILE_KINDS,
    Fault,
    FaultProxy,
    plain_http_answer,
)
from tests.fakes.kit.faults import FaultQueue
from tests.fakes.kit.proxy import HOP_BY_HOP

SYNC_TOKEN = re.compile(rb"<(?:\w+:)?sync-token>([^<]*)</(?:\w+:)?sync-token>")
SYNC_TOKEN_PROP = re.compile(rb"<(?:\w+:)?sync-token\s*/>")
CALDAV_FAULT_KINDS = (
    *FAULT_KINDS,
    *HOSTILE_KINDS,
    "lost_answer",
    "not_implemented",
    "not_allowed",
    "locked",
)


def caldav_answer(fault: Fault) -> tuple[int, dict[str, str], bytes]:
    """A fault as a CalDAV server (or the web server in front of it) answers it."""
    if fault.kind == "not_implemented":
        return 501, {"Content-Type": "text/plain"}, b"Not Implemented"
    if fault.kind == "locked":
        # Xandikos answers so while another request holds its repository's index
        # lock (xandikos/webdav.py: ResourceLocked -> "423 Resource Locked"); the
        # write was not made (RFC 4918 §11.3)
        return 423, {"Content-Type": "text/plain"}, b"Resource Locked"
    if fault.kind == "not_allowed":
        allow = "OPTIONS, GET, HEAD, PROPFIND"
        return 405, {"Allow": allow, "Content-Type": "text/plain"}, b"Method Not Allowed"
    if fault.kind == "deep_nesting":
        return (
            207,
            {"Content-Type": "application/xml; charset=utf-8"},
            b'<?xml version="1.0" encoding="utf-8"?><d:multistatus xmlns:d="DAV:">'
            + b"<d:response>" * fault.depth
            + b"</d:response>" * fault.depth
            + b"</d:multistatus>",
        )
    return plain_http_answer(fault)


def bad_value(payload: bytes, field: str, value: str) -> tuple[bytes, bool]:
    """``payload`` with ``value`` in the first VEVENT's ``field`` property line."""
    begin = payload.find(b"BEGIN:VEVENT")
    if begin < 0 or not field:
        return payload, False
    line = re.compile(rb"(\n" + re.escape(field.encode()) + rb"(?:;[^:\r\n]*)?:)[^\r\n<]*")
    found = line.search(payload, begin)
    if found is None:
        return payload, False
    spoiled = payload[: found.start()] + found.group(1) + value.encode() + payload[found.end() :]
    return spoiled, True


def unknown_token(token: str) -> str:
    """A token of the server's own form that it never issued (its hex digits zeroed)."""
    return re.sub(r"[0-9a-fA-F]{8,}", lambda m: "0" * len(m.group()), token) or "0" * 40


class CalDAVProxy(FaultProxy):
    """The proxy in front of a real server: faults, an optional user table
    (authentication at the proxy), refused sync tokens and scheduling counts."""

    drop_request_headers = frozenset({"accept-encoding"})
    after_upstream = frozenset({"malformed", "lost_answer", "bad_value"})

    def __init__(self, upstream: str, owner: str, users: dict[str, str] | None = None):
        super().__init__(upstream, faults=FaultQueue(), answer=caldav_answer, tls=True)
        self.owner = owner
        self.users = users
        self.issued_tokens: set[str] = set()
        self.refused_tokens: set[str] = set()
        self.refuse_sync_collection = False
        self.scheduling_messages = 0
        self.traffic: list[tuple[str, int]] = []  # (method, the server's status), in order
        self.lock = threading.Lock()

    def intercept(self, method, path, headers, body):
        if self.users is not None and not self._authenticated(headers.get("Authorization", "")):
            return 401, {"WWW-Authenticate": 'Basic realm="calendar"'}, b"Unauthorized"
        if method == "PROPFIND" and self.refuse_sync_collection and SYNC_TOKEN_PROP.search(body):
            # a server without RFC 6578 has no DAV:sync-token property either (§4)
            return self._upstream(method, path, headers, SYNC_TOKEN_PROP.sub(b"", body))
        if method == "REPORT" and b"sync-collection" in body:
            if self.refuse_sync_collection:  # a server without RFC 6578
                return 501, {"Content-Type": "text/plain"}, b"Not Implemented"
            found = SYNC_TOKEN.search(body)
            token = found.group(1).decode().strip() if found else ""
            with self.lock:
                refused = token in self.refused_tokens
            if token and refused:  # the server's own refusal of a token it never issued
                body = body.replace(token.encode(), unknown_token(token).encode())
                return self._upstream(method, path, headers, body)
        return None

    def _upstream(self, method, path, headers, body) -> tuple[int, dict[str, str], bytes]:
        upstream = http.client.HTTPConnection(self.upstream_host, self.upstream_port, timeout=30)
        try:
            dropped = HOP_BY_HOP | self.drop_request_headers | {"content-length"}
            sent = {k: v for k, v in headers.items() if k.lower() not in dropped}
            sent["Host"] = f"{self.upstream_host}:{self.upstream_port}"
            upstream.request(method, path, body=body, headers=sent)
            answer = upstream.getresponse()
            payload = answer.read()
            with self.lock:
                self.traffic.append((method, answer.status))
            kept = {
                k: v
                for k, v in answer.getheaders()
                if k.lower() not in HOP_BY_HOP and k.lower() != "content-length"
            }
            return answer.status, kept, payload
        finally:
            upstream.close()

    def spoil(self, fault: Fault, status: int, payload: bytes) -> tuple[int, bytes]:
        if fault.kind != "bad_value":
            return super().spoil(fault, status, payload)
        spoiled, hit = bad_value(payload, fault.field or "", fault.value or "")
        if not hit:  # an answer without an event: the fault waits for the next one
            self.faults.put_back(fault)
        return status, spoiled

    def _authenticated(self, header: str) -> bool:
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(encoded).decode().partition(":")
        except ValueError:
            return False
        return self.users is not None and self.users.get(user) == password

    def forwarded(self, method, path, body, status, payload):
        with self.lock:
            if not self._looks:
                self.traffic.append((method, status))
            if method in ("REPORT", "PROPFIND"):  # a sync-collection, the DAV:sync-token property
                for token in SYNC_TOKEN.findall(payload):
                    self.issued_tokens.add(token.decode().strip())
            if method == "PUT" and 200 <= status < 300:
                self.scheduling_messages += _scheduling_messages(body, self.owner)

    def expire_tokens(self) -> None:
        with self.lock:
            self.refused_tokens |= self.issued_tokens
            self.issued_tokens = set()


def _scheduling_messages(body: bytes, owner: str) -> int:
    try:
        calendar = Calendar.from_ical(body.decode("utf-8", "replace"))
    except ValueError:
        return 0
    for event in calendar.walk("VEVENT"):
        organizer = str(event.get("ORGANIZER") or "").lower().removeprefix("mailto:")
        if organizer != owner.lower():
            continue
        attendees = event.get("ATTENDEE") or []
        attendees = attendees if isinstance(attendees, list) else [attendees]
        if any(
            str(a.params.get("SCHEDULE-AGENT", "SERVER")).upper() != "CLIENT" for a in attendees
        ):
            return 1
    return 0
