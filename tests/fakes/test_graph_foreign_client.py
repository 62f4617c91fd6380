"""The Graph test server driven by Microsoft's msgraph-sdk (with msgraph-core and
Kiota's httpx adapter), the client nobody on this project wrote, the ways it
talks to Graph: the ``/users/me-token-to-replace`` paths its middleware turns
into ``/me``, its own delta URL (``calendarView/delta()``), bodies its Kiota
serialiser writes (``@odata.type``, enums as their member names, false booleans
written out, a patch naming only what changed through its backing store),
``Prefer: odata.maxpagesize``, its page iterator, ``$batch`` from msgraph-core,
``If-Match`` and Graph's error body parsed into ``ODataError``.

Every request body and answer is checked against the Graph v1.0 metadata
(tests/fakes/graph_csdl.py) by the server; a break fails the test at ``stop()``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

import httpx
import pytest
from kiota_abstractions.authentication import (
    AccessTokenProvider,
    AllowedHostsValidator,
    BaseBearerTokenAuthenticationProvider,
)
from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph import GraphRequestAdapter, GraphServiceClient
from msgraph.generated.models.attendee import Attendee
from msgraph.generated.models.attendee_type import AttendeeType
from msgraph.generated.models.body_type import BodyType
from msgraph.generated.models.date_time_time_zone import DateTimeTimeZone
from msgraph.generated.models.day_of_week import DayOfWeek
from msgraph.generated.models.email_address import EmailAddress
from msgraph.generated.models.event import Event
from msgraph.generated.models.free_busy_status import FreeBusyStatus
from msgraph.generated.models.importance import Importance
from msgraph.generated.models.item_body import ItemBody
from msgraph.generated.models.location import Location
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.generated.models.patterned_recurrence import PatternedRecurrence
from msgraph.generated.models.recurrence_pattern import RecurrencePattern
from msgraph.generated.models.recurrence_pattern_type import RecurrencePatternType
from msgraph.generated.models.recurrence_range import RecurrenceRange
from msgraph.generated.models.recurrence_range_type import RecurrenceRangeType
from msgraph.generated.models.sensitivity import Sensitivity
from msgraph.generated.models.single_value_legacy_extended_property import (
    SingleValueLegacyExtendedProperty,
)
from msgraph.generated.users.item.calendar_view.calendar_view_request_builder import (
    CalendarViewRequestBuilder,
)
from msgraph.generated.users.item.calendar_view.delta.delta_request_builder import (
    DeltaRequestBuilder,
)
from msgraph.generated.users.item.events.item.event_item_request_builder import (
    EventItemRequestBuilder,
)
from msgraph.generated.users.item.events.item.instances.instances_request_builder import (
    InstancesRequestBuilder,
)
from msgraph.graph_request_adapter import options as sdk_options
from msgraph_core import GraphClientFactory
from msgraph_core.requests.batch_request_content import BatchRequestContent
from msgraph_core.requests.batch_request_item import BatchRequestItem
from msgraph_core.tasks.page_iterator import PageIterator

# The SDK's request-builder classes warn that they are deprecated in favour of
# generic ones; its own warnings are not this suite's to fix.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

WINDOW = {"start_date_time": "2026-11-01T00:00:00Z", "end_date_time": "2027-01-01T00:00:00Z"}
PROPERTY = "String {66f5a359-4659-4830-9070-00047ec6ac6e} Name calsync"


class _Token(AccessTokenProvider):
    def __init__(self, token: str):
        self.token = token

    async def get_authorization_token(self, uri, additional_authentication_context=None) -> str:
        return self.token

    def get_allowed_hosts_validator(self) -> AllowedHostsValidator:
        return AllowedHostsValidator(["127.0.0.1"])


@pytest.fixture
def graph(graph_server) -> Callable[[Callable[[GraphServiceClient], Awaitable[Any]]], Any]:
    """Runs ``work(client)`` in an event loop of its own with a GraphServiceClient
    whose middleware is the SDK's own, rooted at the test graph_server."""
    token = graph_server._tokens("https://graph.microsoft.com/Calendars.ReadWrite")["access_token"]

    def run(work):
        async def main():
            http = GraphClientFactory.create_with_default_middleware(
                client=httpx.AsyncClient(
                    verify=str(graph_server.ca_bundle), base_url=graph_server.graph_url
                ),
                options=sdk_options,
            )
            async with http:
                adapter = GraphRequestAdapter(
                    BaseBearerTokenAuthenticationProvider(_Token(token)), client=http
                )
                adapter.base_url = graph_server.graph_url
                return await work(GraphServiceClient(request_adapter=adapter))

        return asyncio.run(main())

    return run


def _when(hour: int, day: int = 1) -> DateTimeTimeZone:
    return DateTimeTimeZone(date_time=f"2026-12-{day:02d}T{hour:02d}:00:00", time_zone="UTC")


def _call(subject: str = "Call", day: int = 1, **extra) -> Event:
    return Event(subject=subject, start=_when(9, day), end=_when(10, day), **extra)


def _view(**params) -> RequestConfiguration:
    query = CalendarViewRequestBuilder.CalendarViewRequestBuilderGetQueryParameters(
        **WINDOW, **params
    )
    return RequestConfiguration(query_parameters=query)


def test_the_sdk_reads_the_user_and_the_calendars(graph, graph_server):
    async def work(client):
        return await client.me.get(), await client.me.calendars.get()

    me, calendars = graph(work)
    assert me.mail == graph_server.owner
    (calendar,) = calendars.value
    assert calendar.can_edit is True and calendar.is_default_calendar is True
    assert calendar.hex_color is not None and calendar.is_removable is False


def test_an_event_the_sdk_writes_reads_back_with_every_field_and_false_booleans(graph):
    event = _call(
        body=ItemBody(content_type=BodyType.Html, content="<p>Agenda</p>"),
        location=Location(display_name="Room 2"),
        attendees=[
            Attendee(
                email_address=EmailAddress(address="ann@customer.example", name="Ann"),
                type=AttendeeType.Optional,
            )
        ],
        sensitivity=Sensitivity.Private,
        show_as=FreeBusyStatus.Free,
        importance=Importance.High,
        categories=["Customer"],
        is_all_day=False,
        is_reminder_on=False,
        response_requested=False,
        allow_new_time_proposals=False,
        hide_attendees=False,
        transaction_id="3f1d8c1e-5d9c-4c57-9d51-9a0c3d4b6a01",
        single_value_extended_properties=[
            SingleValueLegacyExtendedProperty(id=PROPERTY, value="42")
        ],
    )

    async def work(client):
        made = await client.me.events.post(event)
        expand = f"singleValueExtendedProperties($filter=id eq '{PROPERTY}')"
        query = EventItemRequestBuilder.EventItemRequestBuilderGetQueryParameters(expand=[expand])
        back = await client.me.events.by_event_id(made.id).get(
            RequestConfiguration(query_parameters=query)
        )
        return made, back

    made, back = graph(work)
    assert back.id == made.id and back.subject == "Call"
    assert (back.body.content_type, back.body.content) == (BodyType.Html, "<p>Agenda</p>")
    assert back.location.display_name == "Room 2"
    (ann,) = back.attendees
    assert (ann.email_address.address, ann.type) == ("ann@customer.example", AttendeeType.Optional)
    assert (back.sensitivity, back.show_as, back.importance) == (
        Sensitivity.Private,
        FreeBusyStatus.Free,
        Importance.High,
    )
    assert back.categories == ["Customer"]
    falses = (back.is_all_day, back.is_reminder_on, back.response_requested)
    assert falses == (False, False, False)  # answered false, not left out
    assert (back.allow_new_time_proposals, back.hide_attendees) == (False, False)
    assert [(p.id, p.value) for p in back.single_value_extended_properties] == [(PROPERTY, "42")]


def test_a_patch_from_the_sdk_changes_only_what_it_names(graph):
    async def work(client):
        made = await client.me.events.post(_call(location=Location(display_name="Room 2")))
        patched = await client.me.events.by_event_id(made.id).patch(Event(subject="Call (moved)"))
        return made, patched, await client.me.events.by_event_id(made.id).get()

    made, patched, back = graph(work)
    assert back.subject == "Call (moved)" and back.location.display_name == "Room 2"
    assert patched.change_key == back.change_key != made.change_key


def test_a_stale_change_key_is_refused_with_412(graph):
    async def work(client):
        made = await client.me.events.post(_call())
        item = client.me.events.by_event_id(made.id)
        await item.patch(Event(subject="Theirs"))
        config = RequestConfiguration()
        config.headers.add("If-Match", made.additional_data["@odata.etag"])
        with pytest.raises(ODataError) as refused:
            await item.patch(Event(subject="Mine"), config)
        return refused.value, await item.get()

    refused, back = graph(work)
    assert refused.response_status_code == 412 and back.subject == "Theirs"


def test_a_series_the_sdk_writes_expands_into_its_instances(graph):
    weekly = PatternedRecurrence(
        pattern=RecurrencePattern(
            type=RecurrencePatternType.Weekly, interval=1, days_of_week=[DayOfWeek.Tuesday]
        ),
        range=RecurrenceRange(
            type=RecurrenceRangeType.Numbered,
            start_date=date(2026, 12, 1),
            number_of_occurrences=3,
        ),
    )

    async def work(client):
        master = await client.me.events.post(_call("Weekly", recurrence=weekly))
        query = InstancesRequestBuilder.InstancesRequestBuilderGetQueryParameters(**WINDOW)
        instances = await client.me.events.by_event_id(master.id).instances.get(
            RequestConfiguration(query_parameters=query)
        )
        return master, await client.me.events.by_event_id(master.id).get(), instances

    master, back, instances = graph(work)
    assert back.recurrence.range.number_of_occurrences == 3
    assert back.recurrence.pattern.days_of_week == [DayOfWeek.Tuesday]
    starts = [i.start.date_time[:10] for i in instances.value]
    assert starts == ["2026-12-01", "2026-12-08", "2026-12-15"]
    assert {i.series_master_id for i in instances.value} == {master.id}


def test_delta_pages_and_its_delta_link_carry_changes_and_removals(graph):
    async def work(client):
        made = [await client.me.events.post(_call(f"Call {d}", day=d)) for d in (1, 2, 3)]
        query = DeltaRequestBuilder.DeltaRequestBuilderGetQueryParameters(**WINDOW)
        config = RequestConfiguration(query_parameters=query)
        config.headers.add("Prefer", "odata.maxpagesize=2")
        page = await client.me.calendar_view.delta.get(config)
        pages = [page]
        while page.odata_next_link:
            page = await client.me.calendar_view.delta.with_url(page.odata_next_link).get()
            pages.append(page)
        await client.me.events.by_event_id(made[0].id).patch(Event(subject="Call 1 (moved)"))
        await client.me.events.by_event_id(made[1].id).delete()
        changes = await client.me.calendar_view.delta.with_url(page.odata_delta_link).get()
        return made, pages, changes

    made, pages, changes = graph(work)
    assert [len(p.value) for p in pages] == [2, 1]
    assert pages[0].odata_delta_link is None and pages[-1].odata_delta_link
    assert sorted(e.subject for p in pages for e in p.value) == ["Call 1", "Call 2", "Call 3"]
    by_id = {e.id: e for e in changes.value}
    assert set(by_id) == {made[0].id, made[1].id}
    assert by_id[made[0].id].subject == "Call 1 (moved)"
    assert by_id[made[1].id].additional_data["@removed"] == {"reason": "deleted"}


def test_the_page_iterator_walks_every_page_of_a_view(graph):
    async def work(client):
        for day in range(1, 6):
            await client.me.events.post(_call(f"Call {day}", day=day))
        first = await client.me.calendar_view.get(_view(top=2))
        seen: list[str] = []

        def keep(event: Event) -> bool:
            seen.append(event.subject)
            return True

        pages = PageIterator(first, client.request_adapter)
        await pages.iterate(keep)
        return seen

    assert sorted(graph(work)) == [f"Call {d}" for d in range(1, 6)]


def _batch(client, made_id: str, *, relative: bool):
    requests = (
        client.me.events.by_event_id(made_id).to_get_request_information(),
        client.me.events.by_event_id("AAMkNoSuchEvent").to_get_request_information(),
        client.me.events.to_post_request_information(_call("Batched", day=2)),
    )
    batch, ids = BatchRequestContent(), []
    for request in requests:
        item = BatchRequestItem(request_information=request)
        if relative:  # the workaround of msgraph-sdk-python#1015
            item.url = item.url.removeprefix(client.request_adapter.base_url)
        batch.add_request(None, item)
        ids.append(item.id)
    return batch, ids


@pytest.mark.parametrize(
    ("relative", "statuses", "subjects"),
    [(False, [400, 400, 400], ["Call"]), (True, [200, 404, 201], ["Batched", "Call"])],
)
def test_a_batch_is_answered_per_request_and_absolute_urls_are_refused(
    graph, relative, statuses, subjects
):
    """msgraph-core 1.5 keeps each request's absolute URL in the $batch body; Graph
    wants URLs relative to the version and answers each such request 400 "Resource
    not found for the segment" (msgraph-sdk-python#1015, msgraph-sdk-python-core#1116;
    https://learn.microsoft.com/graph/json-batching: ``url`` is "a relative resource
    URL"). msgraph-core 1.5 also reads a part's JSON body as base64 bytes and loses
    it, so what the POST made is checked by listing."""

    async def work(client):
        made = await client.me.events.post(_call())
        batch, ids = _batch(client, made.id, relative=relative)
        answer = await client.batch.post(batch)
        return [answer.responses[i].status for i in ids], await client.me.events.get()

    answered, events = graph(work)
    assert answered == statuses
    assert sorted(e.subject for e in events.value) == subjects


def test_graphs_error_body_parses_into_the_sdks_odata_error(graph):
    async def work(client):
        with pytest.raises(ODataError) as missing:
            await client.me.events.by_event_id("AAMkNoSuchEvent").get()
        with pytest.raises(ODataError) as no_window:
            await client.me.calendar_view.get()
        return missing.value, no_window.value

    missing, no_window = graph(work)
    assert missing.response_status_code == 404
    assert missing.error.code == "ErrorItemNotFound" and missing.error.message
    assert no_window.response_status_code == 400 and no_window.error.code
