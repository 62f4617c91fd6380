"""Google Calendar's HTTP side: errors, retries, paging and batches of 50.

:func:`translate` maps googleapiclient / google-auth / socket errors to the
provider error vocabulary (through ``providers/kit/errors.py``);
:class:`GoogleWire` runs requests through the backoff, reports refreshed
tokens, follows ``events.list`` pages and sends batches with per-call retries
to the batch URI :func:`batch_uri_for` derives from the endpoint.
"""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Callable
from typing import Any

import google.auth.exceptions
import httplib2
from googleapiclient.errors import BatchError, HttpError
from googleapiclient.http import BatchHttpRequest

from calsync_desktop.providers.base import (
    MalformedResponse,
    NeedsSignIn,
    ProviderError,
    RateLimited,
    ReadOnlyEvent,
    ServerError,
    TimedOut,
    Unreachable,
)
from calsync_desktop.providers.kit.errors import error_for_status

SCOPES = ["https://www.googleapis.com/auth/calendar"]


PAGE_SIZE = 2500  # events.list maxResults: Google never pages larger than this
BATCH_SIZE = 50  # "You're limited to 50 calls in a single batch request."
SERVICE = "Google Calendar"  # the service's name in messages
SERVICE_PATH = "calendar/v3/"
DEFAULT_ENDPOINT = "https://www.googleapis.com/" + SERVICE_PATH


_RATE_REASONS = {"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded"}


def batch_uri_for(api_endpoint: str) -> str:
    """Where batches go for an API endpoint.

    googleapiclient derives its batch URI from the discovery document's
    ``rootUrl`` and ignores ``client_options.api_endpoint`` (discovery.py,
    ``_add_basic_methods``), which would send batches to www.googleapis.com
    even when the endpoint is overridden; so we derive it ourselves.
    """
    root = api_endpoint
    if root.endswith(SERVICE_PATH):
        root = root[: -len(SERVICE_PATH)]
    elif root.endswith(SERVICE_PATH.rstrip("/")):
        root = root[: -len(SERVICE_PATH) + 1]
    if not root.endswith("/"):
        root += "/"
    return root + "batch/calendar/v3"


def _error_reason(error: HttpError) -> tuple[str, str]:
    try:
        body = json.loads(error.content.decode("utf-8", "replace"))
        details = body["error"]
        reasons = [e.get("reason", "") for e in details.get("errors", [])]
        return (reasons[0] if reasons else ""), str(details.get("message", ""))
    except (ValueError, KeyError, TypeError, AttributeError):
        return "", ""


def _retry_after(error: HttpError) -> float | None:
    value = error.resp.get("retry-after") if error.resp is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def translate(exc: BaseException, *, listing: bool = False) -> ProviderError:
    """Our error for what google-api-python-client, google-auth or httplib2 raised.

    Messages are plain sentences without URLs, tokens or event contents.
    """
    if isinstance(exc, ProviderError):
        return exc
    if isinstance(exc, HttpError):
        status = int(exc.resp.status) if exc.resp is not None else 0
        reason, _message = _error_reason(exc)
        if status == 403 and reason in _RATE_REASONS:  # Google's way of saying 429
            status = 429
        if status == 403 and reason == "forbiddenForNonOrganizer":
            return ReadOnlyEvent("Only the organiser can change this meeting on Google Calendar.")
        return error_for_status(
            SERVICE, status, reason, retry_after=_retry_after(exc), listing=listing
        )
    if isinstance(exc, google.auth.exceptions.RefreshError):
        return NeedsSignIn("Google refused the stored sign-in (expired or revoked). Sign in again.")
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return TimedOut("Google Calendar did not answer in time.")
    if isinstance(exc, google.auth.exceptions.TransportError):
        return Unreachable("Google's sign-in service could not be reached.")
    if isinstance(exc, (httplib2.HttpLib2Error, http.client.HTTPException, OSError)):
        return Unreachable("Google Calendar could not be reached.")
    if isinstance(exc, (ValueError, BatchError, KeyError, TypeError, RecursionError)):
        # RecursionError: an answer nested deeper than the JSON parser goes
        return MalformedResponse("Google Calendar sent an answer that cannot be read.")
    raise exc


class GoogleWire:
    """The HTTP side of :class:`GoogleProvider`: requests run through the
    backoff and :func:`translate`, refreshed tokens reported, ``events.list``
    pages followed, and batches of :data:`BATCH_SIZE` with per-call retries.

    Uses the attributes :class:`GoogleProvider` sets: ``calendar_id``,
    ``credentials``, ``backoff``, ``_service``, ``_http``, ``_batch_uri``,
    ``_last_token``, ``_on_credentials_changed`` and ``_default_tz``.
    """

    def _notice_token(self) -> None:
        token = getattr(self.credentials, "token", None)
        if token != self._last_token:
            self._last_token = token
            if self._on_credentials_changed is not None:
                self._on_credentials_changed(self.credentials)

    def _execute(self, request_factory: Callable[[], Any], *, listing: bool = False) -> Any:
        def once():
            try:
                return request_factory().execute(num_retries=0)
            except Exception as exc:
                raise translate(exc, listing=listing) from exc

        try:
            return self.backoff.run(once)
        finally:
            self._notice_token()

    def _events(self):
        return self._service.events()

    def _list_all(self, **params) -> tuple[list[dict], str | None]:
        items: list[dict] = []
        page_token = None
        listing = "syncToken" in params
        while True:
            page = self._execute(
                lambda pt=page_token: self._events().list(
                    calendarId=self.calendar_id, pageToken=pt, **params
                ),
                listing=listing,
            )
            if not isinstance(page, dict):
                raise MalformedResponse("Google Calendar sent an answer that cannot be read.")
            if page.get("timeZone"):
                self._default_tz = page["timeZone"]
            items.extend(page.get("items") or ())
            page_token = page.get("nextPageToken")
            if not page_token:
                return items, page.get("nextSyncToken")

    def _run_batch(self, requests: list) -> list[tuple[Any, BaseException | None]]:
        """Send up to 50 requests as one batch; whole-batch failures are retried by Backoff."""

        def once():
            outcomes: dict[str, tuple[Any, BaseException | None]] = {}

            def callback(request_id, response, exception):
                outcomes[request_id] = (response, exception)

            batch = BatchHttpRequest(callback=callback, batch_uri=self._batch_uri)
            for n, request in enumerate(requests):
                batch.add(request, request_id=str(n))
            try:
                batch.execute(http=self._http)
            except Exception as exc:
                raise translate(exc) from exc
            return [
                outcomes.get(str(n), (None, BatchError("missing"))) for n in range(len(requests))
            ]

        try:
            return self.backoff.run(once)
        finally:
            self._notice_token()

    def _send(
        self, calls: list[tuple[int, Callable[[], Any]]]
    ) -> dict[int, tuple[Any, ProviderError | None]]:
        """Run calls in batches of 50, retrying per-call rate limits and 5xx with backoff.

        Returns each call's (response, error). A failure of a whole batch
        (network) is raised when no call was answered yet, else given to every
        call not answered; a refused sign-in is always raised.
        """
        answers: dict[int, tuple[Any, ProviderError | None]] = {}
        todo = list(calls)
        attempt, waited = 0, 0.0
        while todo:
            retry: list[tuple[int, Callable[[], Any]]] = []
            worst: ProviderError | None = None
            for offset in range(0, len(todo), BATCH_SIZE):
                chunk = todo[offset : offset + BATCH_SIZE]
                try:
                    outcomes = self._run_batch([factory() for _, factory in chunk])
                except ProviderError as error:
                    # Sign-in refused or nothing answered at all: the run ends here
                    # (the next run re-links anything written, via the 409 path).
                    if isinstance(error, NeedsSignIn) or not answers:
                        raise
                    for key, _ in todo[offset:]:
                        answers[key] = (None, error)
                    return answers
                for (key, factory), (response, exc) in zip(chunk, outcomes, strict=True):
                    error = None if exc is None else translate(exc)
                    if isinstance(error, (RateLimited, ServerError)):
                        retry.append((key, factory))
                        worst = error if worst is None else worst
                    answers[key] = (response, error)
            if not retry or worst is None:
                break
            wait = self.backoff.delay(attempt, worst)
            attempt += 1
            if attempt >= self.backoff.max_attempts or waited + wait > self.backoff.max_total_wait:
                break
            self.backoff.waits.append(wait)
            waited += wait
            self.backoff.pause(wait)
            todo = retry
        return answers

    def close(self) -> None:
        self._http.close()
