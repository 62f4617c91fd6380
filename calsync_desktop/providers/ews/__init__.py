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

Layout: ``wire.py`` is the connection (exchangelib setup, TLS, first contact,
error translation), ``mapping.py`` the field names (items, the extended
property, recurrence patterns), ``provider.py`` the :class:`ExchangeProvider`
reads and ``writes.py`` its writes. The rules EWS shares with the other
services are in ``providers/kit/``.
"""

from __future__ import annotations

from calsync_desktop.providers.ews.mapping import (
    EXCEPTION_FIELDS,
    ITEM_FIELDS,
    LOCAL_ID_FIELD,
    CalsyncLocalId,
    ews_to_rrule,
    register_local_id_property,
    rrule_to_ews,
)
from calsync_desktop.providers.ews.provider import ExchangeProvider
from calsync_desktop.providers.ews.wire import (
    BATCH,
    SEND_TO_ALL,
    SEND_TO_NONE,
    SYNC_PAGE,
    ConnectionSettings,
    translate,
)

# Re-exported for the account module, tests and benchmarks.
__all__ = [
    "BATCH",
    "EXCEPTION_FIELDS",
    "ITEM_FIELDS",
    "LOCAL_ID_FIELD",
    "SEND_TO_ALL",
    "SEND_TO_NONE",
    "SYNC_PAGE",
    "CalsyncLocalId",
    "ConnectionSettings",
    "ExchangeProvider",
    "ews_to_rrule",
    "register_local_id_property",
    "rrule_to_ews",
    "translate",
]
