"""Office 365 through Microsoft Graph v1.0, over plain HTTPS with ``requests``.

What it keeps inside (see :class:`GraphProvider`):

- incremental listing with ``calendarView/delta`` over the sync window; the
  delta link (plus which occurrence belongs to which series) is the opaque
  sync state; an expired delta token (410 Gone / ``syncStateNotFound``) is
  :class:`SyncStateExpired`;
- series: calendarView lists occurrences and exceptions; the provider fetches
  each changed series master with ``exceptionOccurrences`` and
  ``cancelledOccurrences`` and assembles one :class:`RemoteEvent` whose
  :class:`Recurrence` carries the rule (converted from Graph's
  ``patternedRecurrence``), the deleted occurrences and the overrides;
- identity: the local id goes into a single-value extended property
  (:data:`LOCAL_ID_PROPERTY`) and ``transactionId``, so a retried create is
  answered with the first event, reported as :class:`AlreadyExists`;
- writes: ``$batch`` requests of up to 20 calls, each conditional on the change
  key read (``If-Match``; 412 → :class:`ChangedMeanwhile`);
- retries of 429 / 503 / 5xx through :class:`Backoff`, honouring Retry-After,
  for whole batches and for single members of a batch;
- tokens come from a :data:`TokenSource` (MSAL in the app): a 401 asks it for a
  fresh token once; a refused refresh is :class:`NeedsSignIn`.

Invitations: Graph has no switch to create or update an event with attendees
without mailing them. Adding attendees in a POST or PATCH sends invitations,
and an organiser's change of time or place sends updates, whatever
``send_invitations`` says (microsoftgraph/msgraph-sdk-dotnet#1549 and
microsoftgraph/microsoft-graph-docs#2309, both closed as "not possible";
``responseRequested: false`` only stops asking for answers). So this provider
cannot honour ``send_invitations=False`` for a write that pushes attendees;
the engine's rule decides *when* attendees are pushed, and the limitation is
stated in the README. What it does do: a write never carries ``attendees``
unless the engine named the field, so a change of subject or body does not
re-send invitations.

Layout: ``wire.py`` is the HTTP side (token, retries, paging, ``$batch``),
``mapping.py`` the field names (event JSON both ways, recurrence patterns,
zones), ``provider.py`` the :class:`GraphProvider` that drives them. The rules
Graph shares with the other services are in ``providers/kit/``.
"""

from __future__ import annotations

from calsync_desktop.providers.graph.mapping import (
    LOCAL_ID_PROPERTY,
    draft_body,
    graph_to_rrule,
    rrule_to_graph,
    to_remote_event,
    zone_name,
)
from calsync_desktop.providers.graph.provider import GraphProvider
from calsync_desktop.providers.graph.wire import (
    BATCH_SIZE,
    DEFAULT_ENDPOINT,
    PAGE_SIZE,
    SCOPES,
    TokenSource,
)

# Re-exported for the account module and tests.
__all__ = [
    "BATCH_SIZE",
    "DEFAULT_ENDPOINT",
    "LOCAL_ID_PROPERTY",
    "PAGE_SIZE",
    "SCOPES",
    "GraphProvider",
    "TokenSource",
    "draft_body",
    "graph_to_rrule",
    "rrule_to_graph",
    "to_remote_event",
    "zone_name",
]
