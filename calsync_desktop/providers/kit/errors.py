"""An HTTP error answer as one of our errors, one sentence per situation
whatever the service.

Google Calendar and Office 365 answer over HTTP; the same status means the
same to the user on both, so it becomes the same
:class:`~calsync_desktop.providers.base.ProviderError` subclass with the same
sentence, in which only the service's name differs (a 403 is
:class:`~calsync_desktop.providers.base.InvalidEvent`, "does not allow this
change", on Google as on Office 365). A provider reads its own answer's error
code (Google's ``reason``, Graph's ``error.code``), decides its own special
cases first (Google's rate-limit reasons, a guest's refused edit) and hands
the rest to :func:`error_for_status`.
"""

from __future__ import annotations

from calsync_desktop.providers.base import (
    AlreadyExists,
    ChangedMeanwhile,
    InvalidEvent,
    NeedsSignIn,
    NotFound,
    ProviderError,
    RateLimited,
    ServerError,
    SyncStateExpired,
)

SYNC_STATE_CODES = frozenset({"syncstatenotfound", "resyncrequired", "syncstateinvalid"})
"""Error codes that say the sync state expired, whatever the status (Graph's delta)."""


def error_for_status(
    service: str,
    status: int,
    code: str = "",
    *,
    retry_after: float | None = None,
    listing: bool = False,
) -> ProviderError:
    """Our error for an HTTP error answer of ``service`` (its name as a user
    knows it: "Google Calendar", "Office 365").

    ``code`` is the service's error code, named where the sentence names the
    refusal; ``listing`` tells that the request listed changes since a sync
    state (a 410 then means that the state expired, not that an event is gone).
    """
    detail = code or f"HTTP {status}"
    if code.lower() in SYNC_STATE_CODES or (status == 410 and listing):
        return SyncStateExpired(f"{service} no longer knows the last sync; listing all again.")
    if status == 401:
        return NeedsSignIn(f"{service} no longer accepts the stored sign-in. Sign in again.")
    if status == 429:
        return RateLimited(f"{service} asks to slow down.", retry_after)
    if status == 503:
        return RateLimited(f"{service} is busy.", retry_after)
    if status >= 500:
        return ServerError(f"{service} failed (HTTP {status}).")
    if status in (404, 410):
        return NotFound(f"The event is no longer on the {service} calendar.")
    if status == 412 or code == "ErrorIrresolvableConflict":
        return ChangedMeanwhile(f"The event was changed on {service} meanwhile.")
    if status == 409:
        return AlreadyExists(f"An event with this id is already on the {service} calendar.")
    if status == 403:
        return InvalidEvent(f"{service} does not allow this change to the calendar ({detail}).")
    return InvalidEvent(f"{service} refused the event ({detail}).")
