"""CalDAV's wire format for :mod:`calsync_desktop.providers.caldav`: the XML
bodies of the requests (PROPFIND, sync-collection, calendar-query and
calendar-multiget REPORTs), reading a 207 multistatus answer, and turning the
``caldav`` library's and the HTTP client's exceptions and statuses into the
provider errors (RFC 4918, RFC 4791, RFC 6578)."""

from __future__ import annotations

import re
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC
from urllib.parse import unquote, urlsplit

from lxml import etree

from calsync_desktop.providers.base import (
    CertificateUntrusted,
    ChangedMeanwhile,
    InvalidEvent,
    MalformedResponse,
    NeedsSignIn,
    NotFound,
    ProviderError,
    RateLimited,
    ServerError,
    SyncStateExpired,
    TimedOut,
    TimeWindow,
    Unreachable,
)

DAV = "DAV:"
CALDAV = "urn:ietf:params:xml:ns:caldav"
CS = "http://calendarserver.org/ns/"
NS = {"d": DAV, "c": CALDAV, "cs": CS}
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)


# --------------------------------------------------------------------------- XML bodies


def propfind_body(*props: str) -> str:
    inner = "".join(props)
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<d:propfind xmlns:d="{DAV}" xmlns:c="{CALDAV}" xmlns:cs="{CS}">'
        f"<d:prop>{inner}</d:prop></d:propfind>"
    )


def sync_collection_body(token: str) -> str:
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<d:sync-collection xmlns:d="{DAV}" xmlns:c="{CALDAV}">'
        f"<d:sync-token>{_xml_text(token)}</d:sync-token><d:sync-level>1</d:sync-level>"
        "<d:prop><d:getetag/><c:calendar-data/></d:prop></d:sync-collection>"
    )


def calendar_query_body(window: TimeWindow | None = None, uid: str | None = None) -> str:
    inner = ""
    if window is not None:
        inner = (
            f'<c:time-range start="{window.start.astimezone(UTC):%Y%m%dT%H%M%SZ}" '
            f'end="{window.end.astimezone(UTC):%Y%m%dT%H%M%SZ}"/>'
        )
    if uid is not None:
        inner = (
            '<c:prop-filter name="UID"><c:text-match collation="i;octet">'
            f"{_xml_text(uid)}</c:text-match></c:prop-filter>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<c:calendar-query xmlns:d="{DAV}" xmlns:c="{CALDAV}">'
        "<d:prop><d:getetag/><c:calendar-data/></d:prop>"
        '<c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT">'
        f"{inner}</c:comp-filter></c:comp-filter></c:filter></c:calendar-query>"
    )


def multiget_body(hrefs: Sequence[str]) -> str:
    refs = "".join(f"<d:href>{_xml_text(h)}</d:href>" for h in hrefs)
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<c:calendar-multiget xmlns:d="{DAV}" xmlns:c="{CALDAV}">'
        f"<d:prop><d:getetag/><c:calendar-data/></d:prop>{refs}</c:calendar-multiget>"
    )


def _xml_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@dataclass
class Entry:
    href: str
    status: int
    props: dict[str, etree._Element]

    def text(self, tag: str) -> str | None:
        node = self.props.get(tag)
        return None if node is None else (node.text or "")

    def hrefs(self, tag: str) -> list[str]:
        node = self.props.get(tag)
        return [] if node is None else [h.text or "" for h in node.findall("d:href", NS)]


# a folded line (RFC 5545 §3.1: a line break and a space or tab), in bytes
_FOLD_BYTES = re.compile(rb"(?:(?<!\n)\r\n|(?<![\r\n])\n)(?:\r?\n)*[ \t]")


def calendar_text(raw: bytes) -> str:
    """A calendar resource's bytes as text. A server that folded a line inside
    a multi-byte UTF-8 character (RFC 5545 §3.1 warns of it: "implementations
    need to unfold lines in such a way to properly restore the original
    sequence") is unfolded before the bytes are decoded."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return _FOLD_BYTES.sub(b"", raw).decode("utf-8", "replace")


def read_multistatus(raw: bytes) -> tuple[list[Entry], str | None]:
    """The responses of a 207 body and its sync-token (RFC 4918 §13, RFC 6578 §6.4)."""
    try:
        root = etree.fromstring(raw, parser=_PARSER)
    except etree.XMLSyntaxError:
        root = _refolded(raw)
        if root is None:
            raise MalformedResponse(
                "The CalDAV server sent an answer that could not be read."
            ) from None
    if root is None or root.tag != f"{{{DAV}}}multistatus":
        raise MalformedResponse("The CalDAV server sent an answer that is not a WebDAV listing.")
    entries = []
    for response in root.findall("d:response", NS):
        href = unquote(response.findtext("d:href", "", NS).strip())
        status = _status(response.findtext("d:status", "", NS))
        props: dict[str, etree._Element] = {}
        for propstat in response.findall("d:propstat", NS):
            if _status(propstat.findtext("d:status", "", NS)) != 200:
                continue
            for prop in propstat.findall("d:prop", NS):
                for child in prop:
                    props[child.tag] = child
        entries.append(Entry(urlsplit(href).path or href, status or 200, props))
    return entries, root.findtext("d:sync-token", None, NS)


def _refolded(raw: bytes):
    """The answer read again when it is not UTF-8 only because calendar data in
    it was folded inside a multi-byte character (see :func:`calendar_text`).
    Of the rest of a listing of events, unfolding takes out only white space
    between elements (hrefs, ETags and statuses hold no line breaks)."""
    try:
        raw.decode("utf-8")
        return None  # it is UTF-8: the answer is broken otherwise
    except UnicodeDecodeError:
        pass
    unfolded = _FOLD_BYTES.sub(b"", raw)
    try:
        unfolded.decode("utf-8")
        return etree.fromstring(unfolded, parser=_PARSER)
    except (UnicodeDecodeError, etree.XMLSyntaxError):
        return None


def _status(line: str) -> int:
    parts = (line or "").split()
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0


def tag(ns: str, name: str) -> str:
    return f"{{{ns}}}{name}"


# --------------------------------------------------------------------------- errors


def translate(exc: BaseException) -> ProviderError:
    """The library's or the transport's exception as one of ours."""
    from caldav.lib import error as caldav_error
    from niquests import exceptions as http_errors

    if isinstance(exc, ProviderError):
        return exc
    if isinstance(exc, caldav_error.RateLimitError):
        return RateLimited("The CalDAV server asks to slow down.", exc.retry_after_seconds)
    if isinstance(exc, caldav_error.AuthorizationError):
        if "{DAV:}valid-sync-token" in exc.preconditions:
            return SyncStateExpired("The CalDAV server no longer accepts the sync token.")
        if exc.status == 403:
            return ProviderError("The CalDAV server does not allow this account to do that.")
        return NeedsSignIn("The CalDAV server refused the username or password.")
    if isinstance(exc, http_errors.SSLError) or _is_certificate_error(exc):
        return CertificateUntrusted(
            "The CalDAV server's certificate is not trusted. If your organisation uses its "
            "own certificate authority, choose its CA bundle file."
        )
    if isinstance(exc, http_errors.Timeout | TimeoutError):
        return TimedOut("The CalDAV server did not answer in time.")
    if isinstance(exc, http_errors.ConnectionError | http_errors.ChunkedEncodingError | OSError):
        return Unreachable("The CalDAV server could not be reached.")
    if isinstance(exc, http_errors.RequestException):
        return Unreachable("The CalDAV server could not be reached.")
    return MalformedResponse("The CalDAV server sent an answer that could not be understood.")


def _is_certificate_error(exc: BaseException) -> bool:
    seen = 0
    while exc is not None and seen < 8:
        if isinstance(exc, ssl.SSLCertVerificationError | ssl.SSLError):
            return True
        if "CERTIFICATE_VERIFY_FAILED" in str(exc):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


# "does not support the functionality", "does not support the HTTP version":
# the same request would meet the same answer (RFC 9110 §15.6.2, §15.6.6)
NOT_SUPPORTED = frozenset({501, 505})


# "locked" (RFC 4918 §11.3): the request was not carried out; Xandikos answers
# so while another write holds its repository's lock, which passes in a moment
LOCKED = 423


def retryable(status: int) -> bool:
    """Whether a server failure may pass if the request is sent again."""
    return (status >= 500 and status not in NOT_SUPPORTED) or status == LOCKED


def server_failure(status: int) -> ServerError:
    """A failure that may pass when the request is sent again."""
    if status == LOCKED:
        return ServerError("The CalDAV server was busy with another change (423).")
    return ServerError(f"The CalDAV server failed ({status}).")


def check_status(status: int, what: str) -> None:
    """Raise for a status that is not success (the library raised 401/403/429 already)."""
    if 200 <= status < 300:
        return
    if status in (404, 410):
        raise NotFound(f"The CalDAV server has no {what}.")
    if status == 412:
        raise ChangedMeanwhile("The event changed on the CalDAV server meanwhile.")
    if retryable(status):
        raise server_failure(status)
    if status in (400, 415, 422):
        raise InvalidEvent(f"The CalDAV server refused the {what} ({status}).")
    raise ProviderError(f"The CalDAV server answered {status} for the {what}.")


def uid_conflict_href(raw: bytes) -> str | None:
    """The resource already holding the UID, from a ``CALDAV:no-uid-conflict``
    answer (RFC 4791 §5.3.2.1)."""
    try:
        root = etree.fromstring(raw, parser=_PARSER)
    except etree.XMLSyntaxError:
        return None
    href = root.findtext(".//c:no-uid-conflict/d:href", None, NS)
    return urlsplit(unquote(href)).path if href else None
