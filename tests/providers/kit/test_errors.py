"""HTTP error answers as our errors, one sentence per situation
(calsync_desktop/providers/kit/errors.py).

The providers' own tests check, against their test servers, that each answer
reaches this table (tests/providers/test_google_provider.py, test_graph_provider.py).
"""

from __future__ import annotations

import pytest

from calsync_desktop.providers.base import (
    AlreadyExists,
    ChangedMeanwhile,
    Create,
    InvalidEvent,
    NeedsSignIn,
    NotFound,
    RateLimited,
    ServerError,
    SyncStateExpired,
)
from calsync_desktop.providers.kit.errors import error_for_status
from tests.providers.contract import draft

SERVICES = pytest.mark.parametrize("service", ["Google Calendar", "Office 365"])

TABLE = [
    # status, code, listing, error class, sentence with {service}
    (401, "", False, NeedsSignIn, "{service} no longer accepts the stored sign-in. Sign in again."),
    (429, "", False, RateLimited, "{service} asks to slow down."),
    (503, "", False, RateLimited, "{service} is busy."),
    (500, "", False, ServerError, "{service} failed (HTTP 500)."),
    (502, "", False, ServerError, "{service} failed (HTTP 502)."),
    (
        410,
        "",
        True,
        SyncStateExpired,
        "{service} no longer knows the last sync; listing all again.",
    ),
    (
        400,
        "syncStateNotFound",
        False,
        SyncStateExpired,
        "{service} no longer knows the last sync; listing all again.",
    ),
    (404, "", False, NotFound, "The event is no longer on the {service} calendar."),
    (410, "", False, NotFound, "The event is no longer on the {service} calendar."),
    (
        409,
        "duplicate",
        False,
        AlreadyExists,
        "An event with this id is already on the {service} calendar.",
    ),
    (412, "", False, ChangedMeanwhile, "The event was changed on {service} meanwhile."),
    (
        409,
        "ErrorIrresolvableConflict",
        False,
        ChangedMeanwhile,
        "The event was changed on {service} meanwhile.",
    ),
    (
        403,
        "forbidden",
        False,
        InvalidEvent,
        "{service} does not allow this change to the calendar (forbidden).",
    ),
    (
        403,
        "",
        False,
        InvalidEvent,
        "{service} does not allow this change to the calendar (HTTP 403).",
    ),
    (400, "invalid", False, InvalidEvent, "{service} refused the event (invalid)."),
    (422, "", False, InvalidEvent, "{service} refused the event (HTTP 422)."),
]


@SERVICES
@pytest.mark.parametrize(("status", "code", "listing", "kind", "words"), TABLE)
def test_an_http_error_is_the_same_error_and_sentence_on_every_service(
    service, status, code, listing, kind, words
):
    error = error_for_status(service, status, code, listing=listing)
    assert type(error) is kind
    assert str(error) == words.format(service=service)


def test_the_wait_a_service_asks_for_is_kept():
    assert error_for_status("Office 365", 429, retry_after=7.0).retry_after == 7.0
    assert error_for_status("Office 365", 503, retry_after=None).retry_after is None
    assert error_for_status("Office 365", 429).transient


# ------------------------------------------- through the real client libraries


@pytest.fixture(params=["google", "office365"])
def read_only_calendar(request):
    """A provider on a calendar the account may only read, on the service's test server."""
    if request.param == "google":
        from tests.providers import test_google_provider as google_tests

        with google_tests.GoogleCalendarServer() as server:
            server.add_calendar("team@group.calendar.google.com", "Team", access_role="reader")
            provider = google_tests.GoogleProvider(
                google_tests.credentials_for(server),
                calendar_id="team@group.calendar.google.com",
                api_endpoint=server.api_endpoint,
                timeout=5,
            )
            yield "Google Calendar", "requiredAccessLevel", provider
            provider.close()
    else:
        from tests.providers import test_graph_provider as graph_tests

        server = graph_tests.GraphServer().start()
        harness = graph_tests.GraphHarness(server, graph_tests.device_code_sign_in(server))
        calendar = server.add_calendar("Team", can_edit=False)
        provider = graph_tests.GraphProvider(
            harness.session.token,
            calendar_id=calendar,
            endpoint=server.graph_url,
            ca_bundle=str(server.ca_bundle),
            timeout=5,
        )
        yield "Office 365", "ErrorAccessDenied", provider
        provider.close()
        harness.provider.close()
        server.stop()


def test_a_refused_change_is_the_same_error_on_every_service(read_only_calendar):
    # a 403 was a bare ProviderError on Google and an InvalidEvent on Office 365,
    # in two styles of sentence
    service, code, provider = read_only_calendar
    (result,) = provider.write([Create(draft())])
    assert type(result.error) is InvalidEvent
    assert str(result.error) == f"{service} does not allow this change to the calendar ({code})."
