"""Exchange Server calendars through Exchange Web Services (exchangelib).

How this provider talks to Exchange, and why:

- The EWS URL is used as given (autodiscover off). The authentication method
  (NTLM or Basic) is detected by exchangelib on the first contact and the
  detected method and server version are stored in the account's settings,
  so later runs skip the guessing requests: a sync with nothing to do costs
  exactly one SyncFolderItems request.
- exchangelib runs with ``FailFast``: its ``FaultTolerance`` policy turns a 401
  into ErrorServerBusy and retries a wrong password for up to an hour. Our own
  :class:`~calsync_desktop.providers.base.Backoff` retries throttling
  (ErrorServerBusy, honouring BackOffMilliseconds) and 503s instead.
- Incremental sync uses SyncFolderItems (the sync state is the provider's
  ``ChangeSet.state``); full items are read with GetItem in batches of 100;
  writes use CreateItem / UpdateItem / DeleteItem with up to 100 items each
  and change keys (NeverOverwrite: a stale key is ErrorIrresolvableConflict).
- The Sales Calendar appointment id travels in a named extended property, so
  a crash between the remote write and the local commit is repaired by
  re-linking (see :meth:`ExchangeProvider.find_by_local_id`).
- A custom CA bundle is supported by mounting an HTTP adapter that verifies
  against that bundle; verification is never switched off.

Longer than 600 lines (STYLE.md) because it is one service's whole wire format:
autodiscovery and auth probing, SyncFolderItems and FindItem paging, batched
writes, the extended property, occurrences by instance index. The rules EWS
shares with the other services are in ``providers/kit/``; splitting reading
from writing is left until the occurrence work on this file (issue 18) has landed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import requests
import requests.adapters
from exchangelib import (
    DELEGATE,
    Account,
    Attendee,
    Body,
    CalendarItem,
    Configuration,
    Credentials,
    EWSDateTime,
    EWSTimeZone,
    ExtendedProperty,
    FailFast,
    Mailbox,
    Q,
    Version,
)
from exchangelib import errors as ews_errors
from exchangelib.folders import Calendar, Root
from exchangelib.properties import DistinguishedFolderId, ItemId, OccurrenceItemId
from exchangelib.protocol import CachingProtocol, Protocol
from exchangelib.recurrence import (
    AbsoluteMonthlyPattern,
    AbsoluteYearlyPattern,
    DailyPattern,
    EndDatePattern,
    NoEndPattern,
    NumberedPattern,
    RelativeMonthlyPattern,
    RelativeYearlyPattern,
    WeeklyPattern,
)
from exchangelib.recurrence import Recurrence as EwsRecurrence
from exchangelib.restriction import Restriction
from exchangelib.services import FindFolder, FindItem, GetFolder, SyncFolderItems
from exchangelib.version import Build

from calsync_desktop.model import InviteStatus, OccurrenceOverride, Participant, Recurrence
from calsync_desktop.providers.base import (
    AlreadyExists,
    Backoff,
    CalendarInfo,
    CalendarProvider,
    CertificateUntrusted,
    ChangedMeanwhile,
    ChangeSet,
    Create,
    Delete,
    EventDraft,
    InvalidEvent,
    MalformedResponse,
    NeedsSignIn,
    NotACalendarService,
    NotFound,
    ProviderError,
    RateLimited,
    RemoteEvent,
    ServerError,
    SyncStateExpired,
    TimedOut,
    TimeWindow,
    Unreachable,
    UnsupportedRecurrence,
    Update,
    Write,
    WriteResult,
    overlaps,
)
from calsync_desktop.providers.kit.contents import join_contents, split_contents
from calsync_desktop.providers.kit.occurrences import SERIES_FIELDS, put_back
from calsync_desktop.providers.kit.pattern import (
    ABSOLUTE_MONTHLY,
    ABSOLUTE_YEARLY,
    DAILY,
    EXCHANGE,
    RELATIVE_MONTHLY,
    RELATIVE_YEARLY,
    WEEKDAYS,
    WEEKLY,
    Pattern,
    Range,
    pattern_from_rrule,
    rrule_from_pattern,
)
from calsync_desktop.providers.kit.reading import ENDS_BEFORE_START, Readings
from calsync_desktop.providers.kit.rrule import occurrence_starts

log = logging.getLogger(__name__)
T = TypeVar("T")

BATCH = 100  # EWS bulk operations: at most 100 items per request (SPEC §4 "Writes")
SYNC_PAGE = 512  # the most SyncFolderItems returns per call
SEND_TO_NONE = "SendToNone"
SEND_TO_ALL = "SendToAllAndSaveCopy"

# --------------------------------------------------------------------------- the local id property


class CalsyncLocalId(ExtendedProperty):
    """The Sales Calendar appointment id, as a named string property in our own set."""

    property_set_id = "8f0f3f52-5e3b-4a34-9c7e-1f5c2d8a7b61"
    property_name = "calsync-local-id"
    property_type = "String"


LOCAL_ID_FIELD = "calsync_local_id"
_register_lock = threading.Lock()


def register_local_id_property() -> None:
    """Register the extended property on CalendarItem once per process.

    exchangelib keeps registrations in the class, globally; registering twice
    raises, and another module may have registered the same name. Idempotent.
    """
    with _register_lock:
        existing = {f.name: f for f in CalendarItem.FIELDS}
        if LOCAL_ID_FIELD in existing:
            return
        CalendarItem.register(LOCAL_ID_FIELD, CalsyncLocalId)


# --------------------------------------------------------------------------- transport


def _quiet_exchangelib() -> None:
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
    if isinstance(exc, ews_errors.ResponseMessageError):
        name = type(exc).__name__
        if name.startswith(("ErrorCalendar", "ErrorInvalid")):
            return InvalidEvent(f"The Exchange server refused the appointment ({name}).")
        return ServerError(f"The Exchange server refused the request ({name}).")
    if isinstance(exc, requests.exceptions.Timeout):
        return TimedOut("The Exchange server did not answer in time.")
    if isinstance(exc, requests.exceptions.RequestException):
        return Unreachable("The Exchange server could not be reached.")
    if isinstance(exc, (ValueError, TypeError)):
        return InvalidEvent("The appointment cannot be expressed on the Exchange server.")
    return ServerError("The Exchange server could not complete the request.")


# --------------------------------------------------------------------------- recurrence converter

_WEEK_NUMBERS = {1: 1, 2: 2, 3: 3, 4: 4, -1: 5}  # index -> exchangelib week_number
# exchangelib's weekday values beyond one day (Day, Weekday, WeekendDay)
_DAY_GROUPS = {8: WEEKDAYS, 9: WEEKDAYS[:5], 10: WEEKDAYS[5:]}


def _ews_weekday(days: tuple[str, ...]) -> int:
    if len(days) == 1:
        return WEEKDAYS.index(days[0]) + 1
    for value, group in _DAY_GROUPS.items():
        if set(days) == set(group):
            return value
    raise UnsupportedRecurrence(
        "Exchange repeats on one weekday, every day, weekdays or weekend days only."
    )


def _weekday_codes(value: int) -> tuple[str, ...]:
    return (WEEKDAYS[value - 1],) if value <= 7 else _DAY_GROUPS[value]


def rrule_to_ews(rule: str, start: datetime, tz: str) -> EwsRecurrence:
    """An RFC 5545 rule (for a series starting at ``start`` in zone ``tz``) as an
    exchangelib Recurrence. Raises :class:`UnsupportedRecurrence` with the
    reason (kit/pattern.py)."""
    pattern, rng = pattern_from_rrule(rule, start, tz, EXCHANGE)
    kind, interval = pattern.kind, pattern.interval
    if kind == DAILY:
        ews_pattern: Any = DailyPattern(interval=interval)
    elif kind == WEEKLY:
        ews_pattern = WeeklyPattern(
            interval=interval,
            weekdays=sorted(WEEKDAYS.index(d) + 1 for d in pattern.days),
            first_day_of_week=WEEKDAYS.index(pattern.first_day) + 1,
        )
    elif kind == ABSOLUTE_MONTHLY:
        ews_pattern = AbsoluteMonthlyPattern(interval=interval, day_of_month=pattern.day_of_month)
    elif kind == RELATIVE_MONTHLY:
        ews_pattern = RelativeMonthlyPattern(
            interval=interval,
            weekday=_ews_weekday(pattern.days),
            week_number=_WEEK_NUMBERS[pattern.index],
        )
    elif kind == ABSOLUTE_YEARLY:
        ews_pattern = AbsoluteYearlyPattern(day_of_month=pattern.day_of_month, month=pattern.month)
    else:
        ews_pattern = RelativeYearlyPattern(
            weekday=_ews_weekday(pattern.days),
            week_number=_WEEK_NUMBERS[pattern.index],
            month=pattern.month,
        )
    if rng.count is not None:
        boundary: Any = NumberedPattern(start=rng.start, number=rng.count)
    elif rng.end is not None:
        boundary = EndDatePattern(start=rng.start, end=rng.end)
    else:
        boundary = NoEndPattern(start=rng.start)
    return EwsRecurrence(pattern=ews_pattern, boundary=boundary)


def ews_to_rrule(recurrence: EwsRecurrence, start: datetime, tz: str) -> str:
    """An exchangelib Recurrence as RRULE text (without the ``RRULE:`` prefix)."""
    p, boundary = recurrence.pattern, recurrence.boundary

    def index(week_number: int) -> int:
        return -1 if week_number == 5 else week_number

    if isinstance(p, DailyPattern):
        pattern = Pattern(DAILY, p.interval)
    elif isinstance(p, WeeklyPattern):
        days = p.weekdays if isinstance(p.weekdays, list) else [p.weekdays]
        pattern = Pattern(
            WEEKLY,
            p.interval,
            tuple(WEEKDAYS[d - 1] for d in sorted(days)),
            first_day=WEEKDAYS[(p.first_day_of_week or 1) - 1],
        )
    elif isinstance(p, AbsoluteMonthlyPattern):
        pattern = Pattern(ABSOLUTE_MONTHLY, p.interval, day_of_month=p.day_of_month)
    elif isinstance(p, RelativeMonthlyPattern):
        pattern = Pattern(
            RELATIVE_MONTHLY, p.interval, _weekday_codes(p.weekday), index=index(p.week_number)
        )
    elif isinstance(p, AbsoluteYearlyPattern):
        pattern = Pattern(ABSOLUTE_YEARLY, day_of_month=p.day_of_month, month=p.month)
    elif isinstance(p, RelativeYearlyPattern):
        pattern = Pattern(
            RELATIVE_YEARLY,
            days=_weekday_codes(p.weekday),
            month=p.month,
            index=index(p.week_number),
        )
    else:
        raise UnsupportedRecurrence(f"The Exchange repetition {type(p).__name__} is not supported.")
    first = start.astimezone(ZoneInfo(tz)).date()
    if isinstance(boundary, NumberedPattern):
        rng = Range(first, count=boundary.number)
    elif isinstance(boundary, EndDatePattern):
        end = boundary.end
        rng = Range(
            first, end=end if type(end) is date or not isinstance(end, datetime) else end.date()
        )
    else:
        rng = Range(first)
    return rrule_from_pattern(pattern, rng, start, tz, EXCHANGE)


# --------------------------------------------------------------------------- mapping


_RESPONSES = {
    "Accept": InviteStatus.ACCEPTED,
    "Tentative": InviteStatus.TENTATIVE,
    "Decline": InviteStatus.DECLINED,
}

ITEM_FIELDS = [
    "subject",
    "body",
    "location",
    "start",
    "end",
    "_start_timezone",
    "is_all_day",
    "sensitivity",
    "required_attendees",
    "recurrence",
    "modified_occurrences",
    "deleted_occurrences",
    "type",
    "uid",
    "last_modified_time",
    "organizer",
    "is_cancelled",
    LOCAL_ID_FIELD,
]
EXCEPTION_FIELDS = [
    "subject",
    "text_body",
    "location",
    "start",
    "end",
    "original_start",
    "is_cancelled",
]


def _ews_time(value: datetime, tz: EWSTimeZone) -> EWSDateTime:
    return EWSDateTime.from_datetime(value.astimezone(UTC)).astimezone(tz)


def _utc(value) -> datetime:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return datetime.fromtimestamp(value.timestamp(), UTC)
    return datetime.combine(value, datetime.min.time(), tzinfo=UTC)


def _zone_name(item) -> str:
    tz = getattr(item, "_start_timezone", None)
    key = getattr(tz, "key", None)
    if key:
        try:
            ZoneInfo(key)
            return key
        except Exception:
            return "UTC"
    return "UTC"


# --------------------------------------------------------------------------- the provider


@dataclass
class ConnectionSettings:
    """What the provider needs to reach one Exchange mailbox (no secret but the password)."""

    server_url: str
    username: str
    password: str = field(repr=False)
    email: str = ""
    ca_bundle: str | None = None
    timeout: float = 60.0


class ExchangeProvider(CalendarProvider):
    """One calendar of an Exchange mailbox over EWS.

    ``settings`` is the account's mutable settings dict; the provider stores the
    detected ``ews_auth_type`` and ``ews_version`` there after the first contact
    (the caller persists it). ``calendar_id`` empty means the default calendar.
    """

    kind = "exchange"
    # SyncFolderItems never reports deleting an item created after the state
    reports_deleted_new_events = False
    write_batch_size = BATCH

    def __init__(
        self,
        connection: ConnectionSettings,
        *,
        calendar_id: str = "",
        settings: dict | None = None,
        backoff: Backoff | None = None,
    ):
        register_local_id_property()
        _quiet_exchangelib()
        self.connection = connection
        self.calendar_id = calendar_id
        self.settings = settings if settings is not None else {}
        self.backoff = backoff or Backoff(max_total_wait=120.0)
        self._account: Account | None = None
        self._folder: Calendar | None = None

    def __repr__(self) -> str:
        return f"<ExchangeProvider {self.connection.server_url} {self.connection.email}>"

    # ------------------------------------------------------------------ connection

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

    # ------------------------------------------------------------------ reading

    def account_email(self) -> str:
        return self.connection.email

    def _default_calendar(self, account: Account) -> Calendar:
        return Calendar(
            root=Root(account=account),
            _distinguished_id=DistinguishedFolderId(
                id="calendar", mailbox=Mailbox(email_address=self.connection.email)
            ),
        )

    def _get_folder(self, account: Account, folder: Calendar):
        def get():
            (result,) = list(
                GetFolder(account=account).call(
                    folders=[folder], additional_fields=_folder_fields(account), shape="IdOnly"
                )
            )
            if isinstance(result, Exception):
                raise result
            return result

        return self._call(get)

    def check_access(self) -> CalendarInfo:
        """Really open the calendar folder (GetFolder): the account validation."""
        account, folder = self._ready()
        result = self._get_folder(account, folder)
        return CalendarInfo(
            id=result.id, name=result.name or "Calendar", primary=not self.calendar_id
        )

    def list_calendars(self) -> list[CalendarInfo]:
        """The default calendar and the calendars Outlook keeps under it."""
        account, _ = self._ready()
        parent = self._default_calendar(account)
        default = self._get_folder(account, parent)

        def find():
            return list(
                FindFolder(account=account).call(
                    folders=[parent],
                    additional_fields=_folder_fields(account),
                    restriction=None,
                    shape="IdOnly",
                    depth="Deep",
                    max_items=None,
                    offset=0,
                )
            )

        out = [CalendarInfo(id=default.id, name=default.name or "Calendar", primary=True)]
        for folder in self._call(find):
            if isinstance(folder, Exception):
                raise translate(folder)
            if (folder.folder_class or "").startswith("IPF.Appointment"):
                out.append(CalendarInfo(id=folder.id, name=folder.name or "Calendar"))
        return out

    def _sync_page(self, state: str | None, fields: list) -> tuple[list, str, bool]:
        account, folder = self._ready()
        svc = SyncFolderItems(account=account)

        def run():
            found = list(
                svc.call(
                    folder=folder,
                    shape="IdOnly",
                    additional_fields=fields,
                    sync_state=state,
                    ignore=None,
                    max_changes_returned=SYNC_PAGE,
                    sync_scope=None,
                )
            )
            for change in found:
                if isinstance(change, Exception):
                    raise change
            return found, svc.sync_state, bool(svc.includes_last_item_in_range)

        return self._call(run)

    def changes(self, window: TimeWindow, state: str | None) -> ChangeSet:
        account, folder = self._ready()
        list_fields = (
            _field_paths(folder, account, ["start", "end", "type"]) if state is None else None
        )
        changed: dict[str, Any] = {}
        deleted: list[str] = []
        current = state
        while True:
            page, new_state, last = self._sync_page(current, list_fields or [])
            for kind, item in page:
                if kind == SyncFolderItems.DELETE:
                    changed.pop(item.id, None)
                    deleted.append(item.id)
                elif kind in (SyncFolderItems.CREATE, SyncFolderItems.UPDATE):
                    changed[item.id] = item
            if new_state == current or last:
                current = new_state
                break
            current = new_state
        wanted = []
        readings = Readings("Exchange")
        for item_id, item in changed.items():
            if state is None and item.type != "RecurringMaster":
                # a full listing only reads what overlaps the window; exchangelib
                # leaves a time it cannot read as None
                if item.start is None or item.end is None:
                    readings.set_aside(item_id, ValueError("no readable start or end"))
                    continue
                if _utc(item.end) < _utc(item.start):
                    readings.set_aside(item_id, ValueError(ENDS_BEFORE_START))
                    continue
                if not (_utc(item.start) < window.end and _utc(item.end) > window.start):
                    continue
            wanted.append(item_id)
        events = self._fetch(wanted, readings=readings)
        if state is None:
            events = [e for e in events if overlaps(e, window)]
        return ChangeSet(events, deleted, current, state is None, readings.unreadable)

    def _fetch(
        self, ids: Sequence[str], missing_ok: bool = True, readings: Readings | None = None
    ) -> list[RemoteEvent]:
        if not ids:
            return []
        self._ready()
        items = self._get_items([ItemId(i) for i in ids], ITEM_FIELDS)
        found = []
        for item in items:
            if isinstance(item, Exception):
                error = translate(item)
                if isinstance(error, NotFound) and missing_ok:
                    continue
                raise error
            found.append(item)
        exception_ids = [
            occ.id for item in found for occ in (item.modified_occurrences or []) if occ.id
        ]
        exceptions = {}
        if exception_ids:
            for exc_item in self._get_items([ItemId(i) for i in exception_ids], EXCEPTION_FIELDS):
                if not isinstance(exc_item, Exception):
                    exceptions[exc_item.id] = exc_item
        if readings is None:
            return [self._to_event(item, exceptions) for item in found]
        events = [
            readings.read(item.id, lambda item=item: self._to_event(item, exceptions))
            for item in found
        ]
        return [e for e in events if e is not None]

    def _get_items(self, ids: list, fields: list[str]) -> list:
        account, folder = self._ready()
        return self._call(
            lambda: list(
                account.fetch(ids=ids, folder=folder, only_fields=fields, chunk_size=BATCH)
            )
        )

    def get(self, remote_id: str) -> RemoteEvent:
        events = self._fetch([remote_id], missing_ok=True)
        if not events:
            raise NotFound("The appointment no longer exists on the Exchange server.")
        return events[0]

    def find_by_local_id(self, local_id: str) -> RemoteEvent | None:
        found = self._find_local_ids([local_id])
        if local_id not in found:
            return None
        return self.get(found[local_id])

    def _find_local_ids(self, local_ids: Sequence[str]) -> dict[str, str]:
        """local id -> remote id for those on the calendar (one FindItem per 100)."""
        account, folder = self._ready()
        out: dict[str, str] = {}
        fields = _field_paths(folder, account, [LOCAL_ID_FIELD])
        for i in range(0, len(local_ids), BATCH):
            chunk = list(local_ids[i : i + BATCH])
            q = (
                Q(**{LOCAL_ID_FIELD: chunk[0]})
                if len(chunk) == 1
                else Q(**{f"{LOCAL_ID_FIELD}__in": chunk})
            )

            def run(q=q):
                restriction = Restriction(q, folders=[folder], applies_to=Restriction.ITEMS)
                return list(
                    FindItem(account=account, page_size=1000).call(
                        folders=[folder],
                        additional_fields=fields,
                        restriction=restriction,
                        order_fields=None,
                        shape="IdOnly",
                        query_string=None,
                        depth="Shallow",
                        calendar_view=None,
                        max_items=None,
                        offset=0,
                    )
                )

            for item in self._call(run):
                if isinstance(item, Exception):
                    raise translate(item)
                lid = getattr(item, LOCAL_ID_FIELD, None)
                if lid and lid not in out:
                    out[lid] = item.id
        return out

    def _to_event(self, item, exceptions: dict) -> RemoteEvent:
        if item.start is None or item.end is None:
            raise ValueError("no readable start or end")  # exchangelib's None for a bad time
        tz = _zone_name(item)
        start, end = _utc(item.start), _utc(item.end)
        body = item.body or ""
        is_html = type(body).__name__ == "HTMLBody"
        attendees = []
        for att in item.required_attendees or []:
            box = att.mailbox
            attendees.append(
                Participant(
                    name=(box.name if box else None) or (box.email_address if box else "") or "",
                    email=box.email_address if box and box.email_address else None,
                    status=_RESPONSES.get(att.response_type, InviteStatus.NO_RESPONSE),
                )
            )
        recurrence = None
        if item.recurrence is not None:
            try:
                rule = ews_to_rrule(item.recurrence, start, tz)
            except UnsupportedRecurrence:
                rule = None
            if rule:
                overrides = []
                exdates = [_utc(d.start) for d in item.deleted_occurrences or []]
                for occ in item.modified_occurrences or []:
                    exc = exceptions.get(occ.id)
                    if exc is not None and exc.is_cancelled:
                        # cancelled by its organiser: the occurrence is gone (SPEC §4)
                        exdates.append(_utc(occ.original_start))
                        continue
                    # an exception's own subject, even when it was emptied (Exchange
                    # answers TextBody as text it converted itself, with \r\n line ends)
                    contents = (
                        join_contents(exc.subject, str(exc.text_body or ""))
                        if exc
                        else item.subject or ""
                    )
                    overrides.append(
                        OccurrenceOverride(
                            original_start=_utc(occ.original_start),
                            contents=contents,
                            location=(exc.location if exc else None) or "",
                            start=_utc(occ.start),
                            end=_utc(occ.end),
                        )
                    )
                recurrence = Recurrence(
                    rrule=rule,
                    exdates=tuple(sorted(set(exdates))),
                    overrides=tuple(sorted(overrides, key=lambda o: o.original_start)),
                )
        organizer = item.organizer.email_address if item.organizer else None
        return RemoteEvent(
            remote_id=item.id,
            version=item.changekey,
            subject=item.subject or "",
            start=start,
            end=end,
            timezone=tz,
            body=str(body),
            body_is_html=is_html,
            location=item.location or "",
            all_day=bool(item.is_all_day),
            private=item.sensitivity in ("Private", "Confidential"),
            attendees=tuple(attendees),
            recurrence=recurrence,
            local_id=getattr(item, LOCAL_ID_FIELD, None),
            ical_uid=item.uid,
            last_modified=_utc(item.last_modified_time) if item.last_modified_time else None,
            organizer_is_self=organizer is None
            or organizer.lower() == self.connection.email.lower(),
            cancelled=bool(item.is_cancelled),
        )

    # ------------------------------------------------------------------ writing

    def write(self, writes: Sequence[Write]) -> list[WriteResult]:
        results: dict[int, WriteResult] = {}
        creates = [(i, w) for i, w in enumerate(writes) if isinstance(w, Create)]
        updates = [(i, w) for i, w in enumerate(writes) if isinstance(w, Update)]
        deletes = [(i, w) for i, w in enumerate(writes) if isinstance(w, Delete)]
        for group, handler in (
            (creates, self._creates),
            (updates, self._updates),
            (deletes, self._deletes),
        ):
            if not group:
                continue
            try:
                results.update(handler(group))
            except ProviderError as error:
                if error.transient or isinstance(error, NeedsSignIn | CertificateUntrusted):
                    raise
                for i, w in group:
                    results.setdefault(i, WriteResult(w, None, error))
        return [results[i] for i in range(len(writes))]

    def _calendar_item(self, draft: EventDraft, **extra) -> CalendarItem:
        account, folder = self._ready()
        tz = EWSTimeZone(draft.timezone) if draft.timezone else EWSTimeZone("UTC")
        item = CalendarItem(
            account=account,
            folder=folder,
            subject=draft.subject[:255],
            body=Body(draft.body) if draft.body else None,
            location=draft.location or None,
            start=_ews_time(draft.start, tz),
            end=_ews_time(draft.end, tz),
            is_all_day=False,
            sensitivity="Private" if draft.private else "Normal",
            required_attendees=[
                Attendee(
                    mailbox=Mailbox(email_address=p.email, name=p.name or None),
                    response_type="Unknown",
                )
                for p in draft.attendees
                if p.email
            ]
            or None,
            recurrence=rrule_to_ews(draft.recurrence.rrule, draft.start, draft.timezone)
            if draft.recurrence
            else None,
            **extra,
        )
        return item

    def _creates(self, group: list[tuple[int, Create]]) -> dict[int, WriteResult]:
        account, folder = self._ready()
        out: dict[int, WriteResult] = {}
        existing = self._find_local_ids([w.draft.local_id for _, w in group])
        pending: list[tuple[int, Create, CalendarItem]] = []
        seen: set[str] = set()
        for i, w in group:
            lid = w.draft.local_id
            if lid in existing or lid in seen:
                out[i] = WriteResult(
                    w,
                    None,
                    AlreadyExists(
                        "The appointment is on the Exchange calendar already.", existing.get(lid)
                    ),
                )
                continue
            try:
                item = self._calendar_item(w.draft, **{LOCAL_ID_FIELD: lid})
            except ProviderError as error:
                out[i] = WriteResult(w, None, error)
                continue
            except (ValueError, TypeError) as exc:
                out[i] = WriteResult(w, None, translate(exc))
                continue
            seen.add(lid)
            pending.append((i, w, item))
        for send in (False, True):
            batch = [p for p in pending if p[1].send_invitations is send]
            for j in range(0, len(batch), BATCH):
                chunk = batch[j : j + BATCH]
                created = self._call(
                    lambda chunk=chunk, send=send: account.bulk_create(
                        folder=folder,
                        items=[p[2] for p in chunk],
                        send_meeting_invitations=SEND_TO_ALL if send else SEND_TO_NONE,
                        chunk_size=BATCH,
                    )
                )
                refetch = []
                for (i, w, _), result in zip(chunk, created, strict=True):
                    if isinstance(result, Exception):
                        out[i] = WriteResult(w, None, translate(result))
                        continue
                    rec = w.draft.recurrence
                    if rec is not None and (rec.exdates or rec.overrides):
                        refetch.append((i, w, result.id))
                        continue
                    out[i] = WriteResult(
                        w, self._event_from_draft(result.id, result.changekey, w.draft)
                    )
                for i, w, remote_id in refetch:
                    out[i] = self._finish_series(w, remote_id, send)
        return out

    def _finish_series(self, write: Create | Update, remote_id: str, send: bool) -> WriteResult:
        """Apply a draft's deleted and edited occurrences to the series just written."""
        try:
            self._apply_occurrences(remote_id, write.draft, send)
            return WriteResult(write, self.get(remote_id))
        except ProviderError as error:
            return WriteResult(write, None, error)

    def _apply_occurrences(self, master_id: str, draft: EventDraft, send: bool) -> None:
        account, _ = self._ready()
        rec = draft.recurrence
        if rec is None:
            return
        current = self.get(master_id)
        have_deleted = set(current.recurrence.exdates) if current.recurrence else set()
        have_overrides = {
            o.original_start: o
            for o in (current.recurrence.overrides if current.recurrence else ())
        }
        starts = occurrence_starts(rec.rrule, draft.start, draft.timezone)
        index = {s: n for n, s in enumerate(starts, start=1)}
        to_delete = [
            OccurrenceItemId(id=master_id, instance_index=index[_utc(d)])
            for d in rec.exdates
            if _utc(d) in index and _utc(d) not in have_deleted
        ]
        # exceptions the draft does not override follow the series (kit/occurrences.py)
        back = put_back(
            have_overrides.values(),
            rec,
            join_contents(draft.subject, draft.body),
            draft.location,
            draft.end - draft.start,
        )
        edits = [
            o
            for o in (*rec.overrides, *back)
            if _utc(o.original_start) in index
            and _utc(o.original_start) not in rec.exdates
            and have_overrides.get(_utc(o.original_start)) != o
        ]
        if edits:
            occ_ids = [
                OccurrenceItemId(id=master_id, instance_index=index[_utc(o.original_start)])
                for o in edits
            ]
            occurrences = self._get_items(occ_ids, ["subject"])
            updates = []
            for o, occ in zip(edits, occurrences, strict=True):
                if isinstance(occ, Exception):
                    raise translate(occ)
                subject, body = split_contents(o.contents)
                tz = EWSTimeZone(draft.timezone)
                target = CalendarItem(
                    account=account,
                    id=occ.id,
                    changekey=occ.changekey,
                    subject=subject,
                    body=Body(body) if body else None,
                    location=o.location or None,
                    start=_ews_time(o.start, tz),
                    end=_ews_time(o.end, tz),
                )
                updates.append((target, ["subject", "body", "location", "start", "end"]))
            for result in self._call(
                lambda: list(
                    account.bulk_update(
                        items=updates,
                        conflict_resolution="AlwaysOverwrite",
                        send_meeting_invitations_or_cancellations=SEND_TO_ALL
                        if send
                        else SEND_TO_NONE,
                        chunk_size=BATCH,
                    )
                )
            ):
                if isinstance(result, Exception):
                    raise translate(result)
        if to_delete:
            for result in self._call(
                lambda: list(
                    account.bulk_delete(
                        ids=to_delete,
                        send_meeting_cancellations=SEND_TO_ALL if send else SEND_TO_NONE,
                        chunk_size=BATCH,
                    )
                )
            ):
                if isinstance(result, Exception) and not isinstance(translate(result), NotFound):
                    raise translate(result)

    def _event_from_draft(self, remote_id: str, version: str, draft: EventDraft) -> RemoteEvent:
        """The event just created, without reading it back: the fields as
        Exchange will report them (the rule in the converter's canonical form)."""
        recurrence = draft.recurrence
        if recurrence is not None:
            canonical = ews_to_rrule(
                rrule_to_ews(recurrence.rrule, draft.start, draft.timezone),
                draft.start,
                draft.timezone,
            )
            recurrence = Recurrence(canonical, recurrence.exdates, recurrence.overrides)
        return RemoteEvent(
            remote_id=remote_id,
            version=version,
            subject=draft.subject[:255],
            start=draft.start,
            end=draft.end,
            timezone=draft.timezone,
            body=draft.body,
            location=draft.location,
            private=draft.private,
            attendees=tuple(p for p in draft.attendees if p.email),
            recurrence=recurrence,
            local_id=draft.local_id,
        )

    def _updates(self, group: list[tuple[int, Update]]) -> dict[int, WriteResult]:
        account, _ = self._ready()
        out: dict[int, WriteResult] = {}
        pending = []
        for i, w in group:
            names = []
            for f in w.fields:
                names += {
                    "subject": ["subject"],
                    "body": ["body"],
                    "location": ["location"],
                    "time": ["start", "end"],
                    "private": ["sensitivity"],
                    "attendees": ["required_attendees"],
                    "recurrence": ["recurrence"],
                }.get(f, [])
            try:
                item = self._calendar_item(w.draft)
            except ProviderError as error:
                out[i] = WriteResult(w, None, error)
                continue
            except (ValueError, TypeError) as exc:
                out[i] = WriteResult(w, None, translate(exc))
                continue
            item._id = ItemId(w.remote_id, w.version)
            pending.append((i, w, item, sorted(set(names))))
        for send in (False, True):
            batch = [p for p in pending if p[1].send_invitations is send]
            for j in range(0, len(batch), BATCH):
                chunk = batch[j : j + BATCH]
                with_fields = [p for p in chunk if p[3]]
                results = iter(
                    self._call(
                        lambda with_fields=with_fields, send=send: list(
                            account.bulk_update(
                                items=[(p[2], p[3]) for p in with_fields],
                                conflict_resolution="NeverOverwrite",
                                send_meeting_invitations_or_cancellations=SEND_TO_ALL
                                if send
                                else SEND_TO_NONE,
                                chunk_size=BATCH,
                            )
                        )
                    )
                    if with_fields
                    else []
                )
                done = []
                for i, w, _, names in chunk:
                    if not names:
                        done.append((i, w))
                        continue
                    result = next(results)
                    if isinstance(result, Exception):
                        out[i] = WriteResult(w, None, translate(result))
                    else:
                        if SERIES_FIELDS & w.fields and w.draft.recurrence:
                            try:
                                self._apply_occurrences(w.remote_id, w.draft, send)
                            except ProviderError as error:
                                out[i] = WriteResult(w, None, error)
                                continue
                        done.append((i, w))
                fetched = {e.remote_id: e for e in self._fetch([w.remote_id for _, w in done])}
                for i, w in done:
                    event = fetched.get(w.remote_id)
                    out[i] = WriteResult(
                        w, event, None if event else NotFound("The appointment no longer exists.")
                    )
        return out

    def _deletes(self, group: list[tuple[int, Delete]]) -> dict[int, WriteResult]:
        account, _ = self._ready()
        out: dict[int, WriteResult] = {}
        # Exchange ignores change keys on DeleteItem, so check them first (one GetItem per 100).
        current = self._get_items([ItemId(w.remote_id) for _, w in group], ["subject"])
        ok = []
        for (i, w), item in zip(group, current, strict=True):
            if isinstance(item, Exception):
                out[i] = WriteResult(w, None, translate(item))
            elif w.version and item.changekey != w.version:
                out[i] = WriteResult(
                    w,
                    None,
                    ChangedMeanwhile(
                        "The appointment was changed on the Exchange server meanwhile."
                    ),
                )
            else:
                ok.append((i, w))
        for send in (False, True):
            batch = [p for p in ok if p[1].send_invitations is send]
            if not batch:
                continue
            results = self._call(
                lambda batch=batch, send=send: list(
                    account.bulk_delete(
                        ids=[ItemId(w.remote_id, w.version or None) for _, w in batch],
                        send_meeting_cancellations=SEND_TO_ALL if send else SEND_TO_NONE,
                        chunk_size=BATCH,
                    )
                )
            )
            for (i, w), result in zip(batch, results, strict=True):
                error = translate(result) if isinstance(result, Exception) else None
                out[i] = WriteResult(w, None, error)
        return out


def _field_paths(folder, account, names: list[str]) -> list:
    return [f for f in folder.normalize_fields(fields=names) if not f.field.is_attribute]


def _folder_fields(account) -> list:
    from exchangelib.fields import FieldPath

    return [FieldPath(field=f) for f in Calendar.FIELDS if f.name in ("name", "folder_class")]
