"""The Exchange provider: SyncFolderItems listing, GetItem reads, re-linking.

:class:`ExchangeProvider` lists with SyncFolderItems (its sync state is the
``ChangeSet.state``) or FindItem over the window, reads full items with GetItem
in batches of :data:`BATCH`, and finds an item by its local id. The connection
is in ``wire.py``, writes in ``writes.py``, field names in ``mapping.py``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from exchangelib import (
    Account,
    Q,
)
from exchangelib.fields import FieldOrder, FieldPath
from exchangelib.folders import Calendar, DeletedItems
from exchangelib.items import CalendarItem
from exchangelib.properties import DistinguishedFolderId, ItemId, Mailbox
from exchangelib.restriction import Restriction
from exchangelib.services import FindFolder, FindItem, GetFolder, SyncFolderItems

from calsync_desktop.model import ShowAs
from calsync_desktop.providers.base import (
    Backoff,
    CalendarInfo,
    CalendarProvider,
    ChangeSet,
    NotFound,
    RemoteEvent,
    TimeWindow,
    overlaps,
)
from calsync_desktop.providers.ews.mapping import (
    EXCEPTION_FIELDS,
    ITEM_FIELDS,
    LOCAL_ID_FIELD,
    field_paths,
    folder_fields,
    known_to,
    register_local_id_property,
    show_as_kept_on,
    to_remote_event,
    utc,
)
from calsync_desktop.providers.ews.wire import (
    BATCH,
    SYNC_PAGE,
    ConnectionSettings,
    ExchangeWire,
    quiet_exchangelib,
    translate,
)
from calsync_desktop.providers.ews.writes import ExchangeWrites
from calsync_desktop.providers.kit.reading import ENDS_BEFORE_START, Readings

log = logging.getLogger(__package__)  # one logger for the whole provider

#: How many of the meetings declined last in Deleted Items one look reads
DECLINED_LOOKUP = 100


class ExchangeProvider(ExchangeWire, ExchangeWrites, CalendarProvider):
    """One calendar of an Exchange mailbox over EWS.

    ``settings`` is the account's mutable settings dict; the provider stores the
    detected ``ews_auth_type`` and ``ews_version`` there after the first contact
    (the caller persists it). ``calendar_id`` empty means the default calendar.
    """

    kind = "exchange"
    # SyncFolderItems never reports deleting an item created after the state
    reports_deleted_new_events = False
    write_batch_size = BATCH

    @property
    def show_as_kept(self) -> Mapping[ShowAs, ShowAs]:
        """Exchange 2010 keeps working elsewhere as busy (:func:`show_as_word`)."""
        account = self._account
        return show_as_kept_on(account.protocol.config.version if account is not None else None)

    def __init__(
        self,
        connection: ConnectionSettings,
        *,
        calendar_id: str = "",
        settings: dict | None = None,
        backoff: Backoff | None = None,
    ):
        register_local_id_property()
        quiet_exchangelib()
        self.connection = connection
        self.calendar_id = calendar_id
        self.settings = settings if settings is not None else {}
        self.backoff = backoff or Backoff(max_total_wait=120.0)
        self._account: Account | None = None
        self._folder: Calendar | None = None

    def __repr__(self) -> str:
        return f"<ExchangeProvider {self.connection.server_url} {self.connection.email}>"

    def account_email(self) -> str:
        return self.connection.email

    def _get_folder(self, account: Account, folder: Calendar):
        def get():
            (result,) = list(
                GetFolder(account=account).call(
                    folders=[folder], additional_fields=folder_fields(account), shape="IdOnly"
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
                    additional_fields=folder_fields(account),
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

    def changes(
        self, window: TimeWindow, state: str | None, *, local_ids: bool = True
    ) -> ChangeSet:
        account, folder = self._ready()
        list_fields = (
            field_paths(folder, account, ["start", "end", "type"]) if state is None else None
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
                if utc(item.end) < utc(item.start):
                    readings.set_aside(item_id, ValueError(ENDS_BEFORE_START))
                    continue
                if not (utc(item.start) < window.end and utc(item.end) > window.start):
                    continue
            wanted.append(item_id)
        events = self._fetch(wanted, readings=readings)
        if state is None:
            events = [e for e in events if overlaps(e, window)]
        # a meeting declined in Outlook leaves for Deleted Items under a new id,
        # which the calendar's listing reports as a deletion: look there
        declined = self._declined_in_deleted_items() if deleted else frozenset()
        return ChangeSet(
            events, deleted, current, state is None, readings.unreadable, declined=declined
        )

    def _declined_in_deleted_items(self) -> frozenset[str]:
        """The UIDs of the meetings the user declined that are in Deleted Items,
        the newest :data:`DECLINED_LOOKUP` of them, in one FindItem.

        Outlook and Exchange move a declined meeting there (its id changes
        with the folder, so GetItem of the calendar's id finds nothing); the
        calendar item keeps its UID and ``MyResponseType`` Decline."""
        _, folder = self._ready()
        trash = DeletedItems(
            root=folder.root,
            _distinguished_id=DistinguishedFolderId(
                id="deleteditems", mailbox=Mailbox(email_address=self.connection.email)
            ),
        )
        fields = [
            FieldPath(field=CalendarItem.get_field_by_fieldname(name))
            for name in ("uid", "my_response_type")
        ]
        newest = FieldOrder(
            field_path=FieldPath(field=CalendarItem.get_field_by_fieldname("last_modified_time")),
            reverse=True,
        )

        found = self._find_items(
            trash, Q(my_response_type="Decline"), fields, [newest], DECLINED_LOOKUP
        )
        uids = set()
        for item in found:
            if isinstance(item, CalendarItem) and item.my_response_type == "Decline" and item.uid:
                uids.add(item.uid)
        return frozenset(uids)

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
        fields = known_to(account.version, fields)
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
        fields = field_paths(folder, account, [LOCAL_ID_FIELD])
        for i in range(0, len(local_ids), BATCH):
            chunk = list(local_ids[i : i + BATCH])
            q = (
                Q(**{LOCAL_ID_FIELD: chunk[0]})
                if len(chunk) == 1
                else Q(**{f"{LOCAL_ID_FIELD}__in": chunk})
            )

            for item in self._find_items(folder, q, fields):
                lid = getattr(item, LOCAL_ID_FIELD, None)
                if lid and lid not in out:
                    out[lid] = item.id
        return out

    def _find_items(
        self, folder, q: Q, fields: list, order: list | None = None, most: int | None = None
    ) -> list:
        """The items of ``folder`` that ``q`` picks (IdOnly and ``fields``), in
        ``order``, at most ``most``: one FindItem, an error raised as ours."""
        account, _ = self._ready()

        def run():
            restriction = Restriction(q, folders=[folder], applies_to=Restriction.ITEMS)
            return list(
                FindItem(account=account, page_size=most or 1000).call(
                    folders=[folder],
                    additional_fields=fields,
                    restriction=restriction,
                    order_fields=order,
                    shape="IdOnly",
                    query_string=None,
                    depth="Shallow",
                    calendar_view=None,
                    max_items=most,
                    offset=0,
                )
            )

        found = self._call(run)
        for item in found:
            if isinstance(item, Exception):
                raise translate(item)
        return found

    def _to_event(self, item, exceptions: dict) -> RemoteEvent:
        return to_remote_event(item, exceptions, self.connection.email)
