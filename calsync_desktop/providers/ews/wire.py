"""Exchange's connection side: exchangelib setup, TLS trust, first contact, errors.

:class:`ExchangeWire` opens one exchangelib account with ``FailFast`` (our
:class:`Backoff` retries instead), mounts the CA-bundle adapter, stores the
detected auth type and server version, and runs every call through
:func:`translate`, which maps exchangelib's exceptions and response codes to
the provider error vocabulary.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar

import requests
import requests.adapters
from exchangelib import (
    DELEGATE,
    Account,
    Configuration,
    Credentials,
    EWSTimeZone,
    FailFast,
    Mailbox,
    Version,
)
from exchangelib import errors as ews_errors
from exchangelib.folders import Calendar, Root
from exchangelib.properties import DistinguishedFolderId
from exchangelib.protocol import CachingProtocol, Protocol
from exchangelib.version import Build

from calsync_desktop.providers.base import (
    CertificateUntrusted,
    ChangedMeanwhile,
    InvalidEvent,
    MalformedResponse,
    NeedsSignIn,
    NotACalendarService,
    NotFound,
    ProviderError,
    RateLimited,
    ServerError,
    SyncStateExpired,
    TimedOut,
    Unreachable,
)

T = TypeVar("T")

BATCH = 100  # EWS bulk operations: at most 100 items per request (SPEC §4 "Writes")
SYNC_PAGE = 512  # the most SyncFolderItems returns per call
SEND_TO_NONE = "SendToNone"
SEND_TO_ALL = "SendToAllAndSaveCopy"


# --------------------------------------------------------------------------- transport


def quiet_exchangelib() -> None:
    """exchangelib's DEBUG records carry the request headers, Authorization
    (the Basic password) included: keep them out of our logs even when the app
    logs at DEBUG, unless someone chose a level for exchangelib on purpose."""
    logger = logging.getLogger("exchangelib")
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.INFO)


class _CABundleAdapter(requests.adapters.HTTPAdapter):
    """Verifies the server against one CA bundle file (plus nothing else).

    Forcing ``verify`` here (rather than on the session) keeps a
    REQUESTS_CA_BUNDLE environment variable from overriding the user's choice.
    """

    def __init__(self, ca_bundle: str, **kwargs):
        self.ca_bundle = ca_bundle
        super().__init__(**kwargs)

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        return super().send(
            request,
            stream=stream,
            timeout=timeout,
            verify=self.ca_bundle,
            cert=cert,
            proxies=proxies,
        )


class _Protocol(Protocol):
    """exchangelib's Protocol with our timeout and CA bundle, owned by one provider.

    Built with ``type.__call__`` to bypass exchangelib's process-wide protocol
    cache (keyed by URL and credentials), which would otherwise share sessions
    and settings between providers and keep a wrong password alive.
    """

    def __init__(self, config: Configuration, ca_bundle: str | None, timeout: float):
        super().__init__(config=config)
        self.TIMEOUT = timeout
        self.RETRY_WAIT = 0
        self._ca_bundle = ca_bundle

    def raw_session(
        self, prefix, oauth2_client=None, oauth2_session_params=None, oauth2_token_endpoint=None
    ):  # type: ignore[override]
        session = Protocol.raw_session.__func__(
            type(self), prefix, oauth2_client, oauth2_session_params, oauth2_token_endpoint
        )
        if self._ca_bundle:
            session.mount(
                prefix,
                _CABundleAdapter(
                    self._ca_bundle,
                    pool_block=True,
                    pool_connections=self.CONNECTIONS_PER_SESSION,
                    pool_maxsize=self.CONNECTIONS_PER_SESSION,
                    max_retries=0,
                ),
            )
        return session


# --------------------------------------------------------------------------- errors


def _chain(exc: BaseException) -> Iterable[BaseException]:
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def translate(exc: Exception) -> ProviderError:
    """exchangelib / requests exceptions → our vocabulary. Messages are plain
    sentences and never repeat the server's text (it may hold private data)."""
    if isinstance(exc, ProviderError):
        return exc
    chain = list(_chain(exc))
    if any(isinstance(e, requests.exceptions.SSLError) for e in chain) or any(
        "CERTIFICATE_VERIFY_FAILED" in str(e) or "SSLError" in str(e) for e in chain
    ):
        return CertificateUntrusted(
            "The Exchange server's TLS certificate is not trusted. If your organisation uses its "
            "own certificate authority, choose its CA bundle file in the account settings."
        )
    for e in chain:
        # exchangelib sometimes wraps these (e.g. in its version probe): look through
        if isinstance(e, ews_errors.UnauthorizedError):
            return NeedsSignIn("The Exchange server refused the user name or password.")
        if isinstance(e, ews_errors.ErrorServerBusy):
            return RateLimited("The Exchange server is busy.", retry_after=e.back_off)
        if isinstance(e, ews_errors.ErrorInternalServerTransientError):
            return ServerError("The Exchange server is temporarily unavailable.")
    if isinstance(exc, ews_errors.ErrorInvalidSyncStateData):
        return SyncStateExpired("The Exchange sync state is no longer valid.")
    if isinstance(exc, ews_errors.ErrorItemNotFound):
        return NotFound("The appointment no longer exists on the Exchange server.")
    if isinstance(exc, ews_errors.ErrorIrresolvableConflict):
        return ChangedMeanwhile("The appointment was changed on the Exchange server meanwhile.")
    if isinstance(exc, ews_errors.ErrorCalendarOccurrenceIsDeletedFromRecurrence):
        return NotFound("That occurrence was deleted from the series.")
    if isinstance(exc, ews_errors.ResponseMessageError) and not isinstance(
        exc, ews_errors.ErrorTimeoutExpired
    ):
        # (exchangelib derives these from TransportError: they are read first)
        name = type(exc).__name__
        if name.startswith(("ErrorCalendar", "ErrorInvalid")):
            return InvalidEvent(f"The Exchange server refused the appointment ({name}).")
        return ServerError(f"The Exchange server refused the request ({name}).")
    if isinstance(exc, ews_errors.ErrorTimeoutExpired | ews_errors.TransportError):
        if any(isinstance(e, (requests.exceptions.Timeout, TimeoutError)) for e in chain):
            return TimedOut("The Exchange server did not answer in time.")
        if any(
            isinstance(e, (requests.exceptions.ConnectionError, ConnectionError, OSError))
            for e in chain
        ) or isinstance(exc, ews_errors.ErrorTimeoutExpired):
            return Unreachable("The Exchange server could not be reached.")
        if "Failed to get auth type" in str(exc) or "No compatible auth type" in str(exc):
            return NotACalendarService("The address does not answer as an Exchange (EWS) server.")
        if isinstance(exc, ews_errors.RedirectError):
            return NotACalendarService(
                "The address redirects elsewhere; enter the full EWS address (…/EWS/Exchange.asmx)."
            )
        if isinstance(exc, ews_errors.MalformedResponseError):
            text = str(exc)
            if "Code: 404" in text or "Code: 405" in text or "text/html" in text:
                return NotACalendarService(
                    "The address does not answer as an Exchange (EWS) server."
                )
            return MalformedResponse("The Exchange server sent an answer that cannot be read.")
        if isinstance(exc, ews_errors.SOAPError):
            return MalformedResponse("The Exchange server sent an answer that cannot be read.")
        return ServerError("The Exchange server could not complete the request.")
    if isinstance(exc, (ews_errors.ErrorInvalidRecipients,)):
        return InvalidEvent("An attendee's address was refused by the Exchange server.")
    if isinstance(exc, requests.exceptions.Timeout):
        return TimedOut("The Exchange server did not answer in time.")
    if isinstance(exc, requests.exceptions.RequestException):
        return Unreachable("The Exchange server could not be reached.")
    if isinstance(exc, (ValueError, TypeError)):
        return InvalidEvent("The appointment cannot be expressed on the Exchange server.")
    return ServerError("The Exchange server could not complete the request.")


@dataclass
class ConnectionSettings:
    """What the provider needs to reach one Exchange mailbox (no secret but the password)."""

    server_url: str
    username: str
    password: str = field(repr=False)
    email: str = ""
    ca_bundle: str | None = None
    timeout: float = 60.0


class ExchangeWire:
    """The connection side of :class:`ExchangeProvider`: one exchangelib
    account and calendar folder, the first contact (auth detection, server
    version) and every call run through our retries and error vocabulary.

    Uses the attributes :class:`ExchangeProvider` sets: ``connection``,
    ``calendar_id``, ``settings``, ``backoff``, ``_account`` and ``_folder``.
    """

    def _connect(self) -> tuple[Account, Calendar]:
        if self._account is not None and self._folder is not None:
            return self._account, self._folder
        c = self.connection
        version = None
        stored = self.settings.get("ews_version")
        if stored:
            try:
                version = Version(
                    build=Build(*[int(x) for x in stored["build"].split(".")]),
                    api_version=stored["api_version"],
                )
            except (KeyError, ValueError, TypeError):
                version = None
        auth_type = self.settings.get("ews_auth_type") or None
        config = Configuration(
            service_endpoint=c.server_url,
            credentials=Credentials(c.username, c.password),
            auth_type=auth_type,
            version=version,
            retry_policy=FailFast(),
        )
        protocol = type.__call__(_Protocol, config, c.ca_bundle, c.timeout)
        account = Account(
            primary_smtp_address=c.email,
            config=config,
            autodiscover=False,
            access_type=DELEGATE,
            default_timezone=EWSTimeZone("UTC"),
        )
        # Account() created (and cached) a plain Protocol; use ours and drop that one.
        with CachingProtocol._protocol_cache_lock:
            CachingProtocol._protocol_cache.pop(CachingProtocol._cache_key(config), None)
        account.protocol = protocol
        if self.calendar_id:
            folder = Calendar(root=Root(account=account), id=self.calendar_id)
        else:
            folder = self._default_calendar(account)
        self._account, self._folder = account, folder
        return account, folder

    def _ready(self) -> tuple[Account, Calendar]:
        """The connection, with the first contact (auth detection and server
        version, skipped when stored) done under our error handling."""
        account, folder = self._connect()
        if not getattr(self, "_version_known", False):
            self._call(lambda: account.version)
            self._version_known = True
        return account, folder

    def _remember_connection(self) -> None:
        """Store the detected auth type and server version (only after a successful call)."""
        if self._account is None:
            return
        config = self._account.protocol.config
        version = config.version
        if version is not None and version.build is not None:
            b = version.build
            value = {
                "build": f"{b.major_version}.{b.minor_version}.{b.major_build}.{b.minor_build}",
                "api_version": version.api_version,
            }
            if self.settings.get("ews_version") != value:
                self.settings["ews_version"] = value
        if config.auth_type and self.settings.get("ews_auth_type") != config.auth_type:
            self.settings["ews_auth_type"] = config.auth_type

    def _call(self, fn: Callable[[], T]) -> T:
        """Run one exchangelib call with our retries and error vocabulary."""

        def attempt() -> T:
            try:
                result = fn()
            except ProviderError:
                raise
            except Exception as exc:
                error = translate(exc)
                if isinstance(error, (NeedsSignIn, CertificateUntrusted, Unreachable)):
                    self._reset()
                raise error from None
            self._remember_connection()
            return result

        return self.backoff.run(attempt)

    def _reset(self) -> None:
        if self._account is not None:
            try:
                self._account.protocol.close()
            except Exception:
                pass
        self._account = self._folder = None
        self._version_known = False

    def close(self) -> None:
        self._reset()

    def _default_calendar(self, account: Account) -> Calendar:
        return Calendar(
            root=Root(account=account),
            _distinguished_id=DistinguishedFolderId(
                id="calendar", mailbox=Mailbox(email_address=self.connection.email)
            ),
        )
