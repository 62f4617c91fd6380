"""Google Calendar through google-api-python-client.

What it keeps inside (see :class:`GoogleProvider`):

- incremental listing with ``syncToken`` (410 → :class:`SyncStateExpired`), full
  listing over the sync window in pages of 2,500 (Google's maximum);
- series: Google keeps a recurring master plus "exceptions" (instances with
  ``recurringEventId`` / ``originalStartTime``, cancelled ones being deleted
  occurrences); they are assembled into one :class:`RemoteEvent` whose
  :class:`Recurrence` carries the rule, the EXDATEs and the overrides; a
  series' version is the master's etag plus a digest of its exceptions' etags
  (an occurrence edited on Google does not change the master's etag), and
  writes send only the master's etag as If-Match;
- identity: events calsync creates get a client-chosen id derived from the
  local UUID (base32hex, as Google requires), so a retried insert answers 409
  and links instead of duplicating; the local id also goes into
  ``extendedProperties.private["calsyncLocalId"]``;
- writes: batch requests of up to 50 calls, each conditional on the etag read
  (If-Match → 412 → :class:`ChangedMeanwhile`), ``sendUpdates`` "all" only for
  writes that should send invitations;
- retries of 429 / 403 rateLimitExceeded / 5xx through :class:`Backoff`,
  honouring Retry-After; ``RefreshError`` (invalid_grant) → :class:`NeedsSignIn`.

Layout: ``wire.py`` is the HTTP side (errors, retries, paging, batches),
``mapping.py`` the field names (event JSON both ways, ids, versions),
``provider.py`` the :class:`GoogleProvider` that drives them. The rules Google
shares with the other services are in ``providers/kit/``.
"""

from __future__ import annotations

from calsync_desktop.providers.google.mapping import (
    LOCAL_ID_PROPERTY,
    draft_body,
    event_id_for,
    instance_id,
    master_etag,
    to_remote_event,
)
from calsync_desktop.providers.google.provider import GoogleProvider
from calsync_desktop.providers.google.wire import (
    BATCH_SIZE,
    DEFAULT_ENDPOINT,
    PAGE_SIZE,
    SCOPES,
    batch_uri_for,
    translate,
)

# Re-exported for the account module, tests and benchmarks.
__all__ = [
    "BATCH_SIZE",
    "DEFAULT_ENDPOINT",
    "LOCAL_ID_PROPERTY",
    "PAGE_SIZE",
    "SCOPES",
    "GoogleProvider",
    "batch_uri_for",
    "draft_body",
    "event_id_for",
    "instance_id",
    "master_etag",
    "to_remote_event",
    "translate",
]
