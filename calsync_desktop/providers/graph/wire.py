"""Office 365's HTTP side: bearer tokens, retries, paging and ``$batch``.

:class:`GraphWire` sends one request with the access token (a 401 asks the
:data:`TokenSource` for a fresh one, once), retries 429 / 503 / 5xx through
:class:`Backoff` honouring Retry-After, follows ``@odata.nextLink`` pages and
runs sub-requests through ``$batch`` at most :data:`BATCH_SIZE` at a time.
:func:`raise_for` turns an error answer into the provider error vocabulary
through ``providers/kit/errors.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import requests

from calsync_desktop.providers.base import (
    CertificateUntrusted,
    MalformedResponse,
    NeedsSignIn,
    NotACalendarService,
    ProviderError,
    RateLimited,
    TimedOut,
    Unreachable,
)
from calsync_desktop.providers.kit.errors import error_for_status

SERVICE = "Office 365"  # the service's name in messages


DEFAULT_ENDPOINT = "https://graph.microsoft.com/v1.0"
SCOPES = [
    "https://graph.microsoft.com/Calendars.ReadWrite",
    "https://graph.microsoft.com/User.Read",
]


BATCH_SIZE = 20  # "JSON batch requests are currently limited to 20 individual requests."
PAGE_SIZE = 200  # Prefer: odata.maxpagesize for delta and calendarView pages
TIMEOUT = 60.0


TokenSource = Callable[[bool], str]
"""Gives an access token; called with True after a 401 to force a refresh.
Raises :class:`NeedsSignIn` when the user must sign in again."""


@dataclass
class _Answer:
    status: int
    headers: dict
    body: Any


class GraphWire:
    """The HTTP side of :class:`GraphProvider`: requests with the bearer token
    (refreshed once on a 401), retries through the backoff, ``@odata.nextLink``
    paging and ``$batch`` in twenties.

    Uses the attributes :class:`GraphProvider` sets: ``endpoint``, ``calendar_id``,
    ``session``, ``timeout``, ``backoff``, ``page_size``, ``_verify``, ``_token``
    and ``_token_source``.
    """

    def _calendar_path(self) -> str:
        return (
            f"/me/calendars/{quote(self.calendar_id, safe='')}"
            if self.calendar_id
            else "/me/calendar"
        )

    def _url(self, path: str) -> str:
        if not (path.startswith("https://") or path.startswith("http://")):
            return self.endpoint + path
        # Paging links are absolute; the token goes only to the Graph host we know.
        if urlsplit(path)[:2] != urlsplit(self.endpoint)[:2]:
            raise MalformedResponse("Office 365 sent a link to another server.")
        return path

    def _access_token(self, force: bool = False) -> str:
        if self._token is None or force:
            self._token = self._token_source(force)
        return self._token

    def _send(self, method: str, path: str, *, params=None, body=None, headers=None) -> _Answer:
        """One HTTP request, retried through the backoff when the service asks."""

        def attempt() -> _Answer:
            answer = self._send_once(method, path, params, body, headers)
            if answer.status == 401:
                # An expired access token: ask MSAL for a fresh one, once.
                answer = self._send_once(method, path, params, body, headers, force=True)
                if answer.status == 401:
                    raise NeedsSignIn("Office 365 refused the sign-in; please sign in again.")
            raise_for(answer)
            return answer

        return self.backoff.run(attempt)

    def _send_once(self, method, path, params, body, headers, force=False) -> _Answer:
        all_headers = {
            "Authorization": "Bearer " + self._access_token(force),
            "Accept": "application/json",
            **(headers or {}),
        }
        try:
            response = self.session.request(
                method,
                self._url(path),
                params=params,
                json=body,
                headers=all_headers,
                timeout=self.timeout,
                verify=self._verify,
            )
        except requests.exceptions.SSLError as exc:
            raise CertificateUntrusted(
                "The Office 365 server's certificate is not trusted. If your network "
                "inspects TLS, add its CA bundle in Settings › Advanced."
            ) from exc
        except requests.exceptions.Timeout as exc:
            raise TimedOut("Office 365 did not answer in time.") from exc
        except requests.exceptions.RequestException as exc:
            raise Unreachable("Office 365 could not be reached.") from exc
        data = None
        if response.content:
            content_type = response.headers.get("Content-Type", "")
            if "json" not in content_type:
                if response.status_code < 400:
                    raise NotACalendarService(
                        "The Office 365 address does not answer as Microsoft Graph."
                    )
                data = None
            else:
                try:
                    data = response.json()
                except (ValueError, RecursionError) as exc:  # nested deeper than json parses
                    raise MalformedResponse(
                        "Office 365 sent an answer that cannot be read."
                    ) from exc
        return _Answer(response.status_code, dict(response.headers), data)

    def _get(self, path: str, params=None, headers=None) -> dict:
        answer = self._send("GET", path, params=params, headers=headers)
        if not isinstance(answer.body, dict):
            raise MalformedResponse("Office 365 sent an answer that cannot be read.")
        return answer.body

    def _pages(self, path: str, params=None) -> Iterable[dict]:
        headers = {"Prefer": f"odata.maxpagesize={self.page_size}"}
        page = self._get(path, params, headers)
        while True:
            yield page
            link = page.get("@odata.nextLink")
            if not link:
                return
            page = self._get(link, None, headers)

    def _batch(self, requests_: Sequence[dict], keep_going: bool = True) -> list[_Answer]:
        """Run sub-requests through ``$batch``, 20 at a time; members the service
        throttles (429 / 503) are sent again after the wait it asked for.

        With ``keep_going`` False (writes), when one batch fails as a whole
        (after the retries), its members and all later ones get that error as
        their answer, so the answers of the batches already applied are kept;
        a refused sign-in or certificate still ends the call.
        """
        answers: list[_Answer | None] = [None] * len(requests_)
        pending = list(range(len(requests_)))
        attempt = 0
        waited = 0.0
        while pending:
            retry: list[int] = []
            asked = 0.0
            for start in range(0, len(pending), BATCH_SIZE):
                chunk = pending[start : start + BATCH_SIZE]
                payload = {
                    "requests": [{"id": str(i), **requests_[i]} for i in chunk],
                }
                try:
                    answer = self._send("POST", "/$batch", body=payload)
                except (NeedsSignIn, CertificateUntrusted):
                    raise
                except ProviderError as error:
                    if keep_going:
                        raise
                    for i in pending[start:]:
                        answers[i] = _Answer(0, {}, error)
                    retry = []
                    break
                responses = (
                    (answer.body or {}).get("responses") if isinstance(answer.body, dict) else None
                )
                if not isinstance(responses, list):
                    raise MalformedResponse("Office 365 sent an answer that cannot be read.")
                by_id = {str(r.get("id")): r for r in responses}
                for i in chunk:
                    r = by_id.get(str(i))
                    if r is None:
                        answers[i] = _Answer(500, {}, None)
                        continue
                    status = int(r.get("status", 500))
                    headers = r.get("headers") or {}
                    if status in (429, 503):
                        retry.append(i)
                        asked = max(asked, _retry_after(headers) or 0.0)
                    answers[i] = _Answer(status, headers, r.get("body"))
            pending = retry
            if pending:
                attempt += 1
                wait = self.backoff.delay(attempt - 1, RateLimited("busy", asked or None))
                if (
                    attempt >= self.backoff.max_attempts
                    or waited + wait > self.backoff.max_total_wait
                ):
                    break
                self.backoff.waits.append(wait)
                waited += wait
                self.backoff.pause(wait)
        return [a if a is not None else _Answer(500, {}, None) for a in answers]

    # ------------------------------------------------------------------ reads


def _retry_after(headers: dict) -> float | None:
    for key, value in headers.items():
        if key.lower() == "retry-after":
            try:
                return float(value)
            except (TypeError, ValueError):
                return None
    return None


def _error_code(body: Any) -> str:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return str(body["error"].get("code") or "")
    return ""


def raise_for(answer: _Answer) -> None:
    """Translate a Graph error answer into the provider error vocabulary."""
    status = answer.status
    if isinstance(answer.body, ProviderError):  # the batch carrying it failed as a whole
        raise answer.body
    if status < 400:
        return
    code = _error_code(answer.body)
    # a 410 on Graph is always the delta's: an event that is gone answers 404
    raise error_for_status(
        SERVICE,
        status,
        code,
        retry_after=_retry_after(answer.headers),
        listing=status == 410,
    )
