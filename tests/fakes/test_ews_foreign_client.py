"""The EWS test server driven by exchangelib the ways the product does not use it,
after exchangelib's own calendar item tests
(https://github.com/ecederstrand/exchangelib, tests/test_items/test_calendaritems.py
and tests/test_items/test_basics.py): whole item round trips, recurrence read-back,
booleans, views, folder filters with ``__contains``, the recurring master of an
occurrence, the Sent Items folder; and an attendee's answers to someone else's
meeting with its response objects (``AcceptItem``, ``TentativelyAcceptItem``,
``DeclineItem`` through CreateItem), as the product sends them.

Every request is validated against the EWS schema (tests/fakes/ews_schemas) as
in the provider tests; a request that breaks it fails the test.
"""

from __future__ import annotations

import datetime

import pytest
import requests
from exchangelib import DELEGATE, Account, Configuration, Credentials, EWSTimeZone
from exchangelib.errors import ErrorCalendarIsOrganizerForAccept
from exchangelib.folders import Calendar
from exchangelib.items import SEND_AND_SAVE_COPY, SEND_ONLY, CalendarItem
from exchangelib.items.calendar_item import OCCURRENCE, RECURRING_MASTER, SINGLE
from exchangelib.recurrence import (
    AbsoluteMonthlyPattern,
    DailyPattern,
    NumberedPattern,
    Recurrence,
    RelativeMonthlyPattern,
    WeeklyPattern,
)

from tests.fakes.ews_server import EwsServer

UTC = EWSTimeZone("UTC")
START = datetime.datetime(2026, 12, 1, 8, tzinfo=UTC)
END = datetime.datetime(2026, 12, 1, 10, tzinfo=UTC)


@pytest.fixture(scope="module")
def server():
    s = EwsServer()
    s.start()
    yield s
    s.stop()


@pytest.fixture
def account(server):
    server.reset()
    config = Configuration(
        service_endpoint=server.url,
        credentials=Credentials(server.username, server.password),
        auth_type="basic",
    )
    yield Account(
        primary_smtp_address=server.owner,
        config=config,
        autodiscover=False,
        access_type=DELEGATE,
        default_timezone=UTC,
    )
    errors, bugs = list(server.validation_errors), list(server.server_errors)
    server.validation_errors.clear()
    server.server_errors.clear()
    assert errors == [], errors
    assert bugs == [], bugs


def _item(account, **fields) -> CalendarItem:
    values = {"subject": "Visit", "start": START, "end": END, "categories": ["calsync-test"]}
    return CalendarItem(account=account, folder=account.calendar, **{**values, **fields})


def test_uid_is_settable_on_create_and_kept(account):
    item = _item(account, uid="b6b0c9b0-1c3e-4f7a-9d7e-0123456789ab@example.com").save()
    item.refresh()
    assert item.uid == "b6b0c9b0-1c3e-4f7a-9d7e-0123456789ab@example.com"


def test_a_long_subject_is_cut_to_255_characters(account, server):
    # exchangelib refuses a subject over 255 characters itself, so the request is raw SOAP.
    envelope = f"""<?xml version="1.0" encoding="utf-8"?>
<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"
  xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"
  xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types">
 <s:Header><t:RequestServerVersion Version="Exchange2016"/></s:Header>
 <s:Body><m:CreateItem SendMeetingInvitations="SendToNone"><m:Items><t:CalendarItem>
  <t:Subject>{"x" * 4000}</t:Subject>
  <t:Start>2026-12-01T08:00:00Z</t:Start><t:End>2026-12-01T10:00:00Z</t:End>
 </t:CalendarItem></m:Items></m:CreateItem></s:Body></s:Envelope>"""
    answer = requests.post(
        server.url,
        data=envelope.encode(),
        headers={"Content-Type": "text/xml; charset=utf-8"},
        auth=(server.username, server.password),
        timeout=10,
    )
    assert answer.status_code == 200 and b"NoError" in answer.content, answer.text
    (item,) = account.calendar.all()
    assert item.subject == "x" * 255


def test_requested_booleans_come_back_false_not_empty(account):
    item = _item(
        account,
        is_all_day=False,
        reminder_is_set=False,
        is_response_requested=False,
        allow_new_time_proposal=False,
    ).save()
    item.refresh()
    assert (
        item.is_all_day,
        item.reminder_is_set,
        item.is_response_requested,
        item.allow_new_time_proposal,
    ) == (False, False, False, False)


def test_a_whole_item_round_trip_keeps_every_field(account):
    item = _item(
        account,
        subject="Quarterly review",
        body="Agenda: numbers",
        location="Room 4",
        sensitivity="Private",
        importance="High",
        legacy_free_busy_status="Tentative",
        reminder_is_set=True,
        reminder_minutes_before_start=30,
        categories=["calsync-test", "Blue"],
    ).save()
    got = account.calendar.get(id=item.id)
    assert (got.subject, str(got.body), got.location) == (
        "Quarterly review",
        "Agenda: numbers",
        "Room 4",
    )
    assert (got.sensitivity, got.importance, got.legacy_free_busy_status) == (
        "Private",
        "High",
        "Tentative",
    )
    assert (got.reminder_is_set, got.reminder_minutes_before_start) == (True, 30)
    assert sorted(got.categories) == ["Blue", "calsync-test"]
    assert got.type == SINGLE


@pytest.mark.parametrize(
    "pattern",
    [
        DailyPattern(interval=1),
        WeeklyPattern(interval=3, weekdays=[1, 3], first_day_of_week=1),
        AbsoluteMonthlyPattern(interval=3, day_of_month=13),
        RelativeMonthlyPattern(interval=3, weekday=2, week_number=3),
    ],
    ids=["daily", "weekly", "absolute-monthly", "relative-monthly"],
)
def test_a_numbered_recurrence_reads_back_as_written(account, pattern):
    master = _item(account, recurrence=Recurrence(pattern=pattern, start=START.date(), number=4))
    master.save()
    master.refresh()
    assert master.recurrence.pattern == pattern
    assert master.recurrence.boundary == NumberedPattern(start=START.date(), number=4)


def test_recurring_master_and_its_occurrences(account):
    master = _item(
        account,
        recurrence=Recurrence(pattern=DailyPattern(interval=1), start=START.date(), number=4),
    ).save()
    master.refresh()
    assert master.type == RECURRING_MASTER
    assert master.first_occurrence.start == START
    assert master.last_occurrence.start == START + datetime.timedelta(days=3)
    unfolded = list(account.calendar.view(start=START, end=END + datetime.timedelta(days=3)))
    assert [i.type for i in unfolded] == [OCCURRENCE] * 4
    assert unfolded[0].id == master.first_occurrence.id
    # the recurrence updated through exchangelib shows in the view
    master.recurrence.pattern.interval = 2
    master.recurrence.boundary.number = 3
    master.save()
    unfolded = list(account.calendar.view(start=START, end=END + datetime.timedelta(days=5)))
    assert len(unfolded) == 3


def test_the_recurring_master_of_an_occurrence_is_fetched(account):
    master = _item(
        account,
        recurrence=Recurrence(pattern=DailyPattern(interval=1), start=START.date(), number=4),
    ).save()
    third = master.occurrence(index=3)
    third.refresh()
    assert third.start == START + datetime.timedelta(days=2)
    from_occurrence = third.recurring_master()  # a RecurringMasterItemId
    from_occurrence.refresh()
    assert (from_occurrence.id, from_occurrence.type) == (master.id, RECURRING_MASTER)


def test_short_listings_are_complete(account):
    items = [_item(account, subject=f"S{i}", start=START + datetime.timedelta(hours=3 * i),
                   end=END + datetime.timedelta(hours=3 * i)) for i in range(3)]  # fmt: skip
    account.bulk_create(folder=account.calendar, items=items)
    assert sorted(i.subject for i in account.calendar.all()) == ["S0", "S1", "S2"]
    assert account.calendar.all().count() == 3
    assert [i.subject for i in account.calendar.all().order_by("subject")[:2]] == ["S0", "S1"]
    view = account.calendar.view(start=START, end=END + datetime.timedelta(hours=6), max_items=9999)
    assert len(list(view)) == 3
    # a view's edge: an item that ends when the view starts still shows (Exchange)
    assert len(list(account.calendar.view(start=END, end=END + datetime.timedelta(hours=1)))) == 1


def test_contains_restrictions_filter(account):
    _item(account, subject="Dinner with Nordwind", categories=["calsync-test", "Red"]).save()
    _item(account, subject="Lunch", categories=["calsync-test"]).save()
    found = account.calendar.filter(categories__contains=["Red"])
    assert [i.subject for i in found] == ["Dinner with Nordwind"]
    found = account.calendar.filter(subject__icontains="nordwind")
    assert [i.subject for i in found] == ["Dinner with Nordwind"]
    found = account.calendar.filter(subject__startswith="Lun")
    assert [i.subject for i in found] == ["Lunch"]


def test_an_all_day_update_sticks(account):
    item = _item(account).save()
    item.is_all_day = True
    item.start, item.end = START.date(), START.date() + datetime.timedelta(days=1)
    item.save(update_fields=["is_all_day", "start", "end"])
    got = account.calendar.all().only("is_all_day", "start", "end").get(id=item.id)
    assert got.is_all_day is True
    assert got.start == START.date()


def test_updating_without_changes_keeps_times_and_no_conflict(account):
    item = _item(account, reminder_is_set=True, is_all_day=False).save()
    item.refresh()
    for found in account.calendar.filter(categories__contains=["calsync-test"]).only(
        "start", "end", "categories"
    ):
        found.save(update_fields=["start", "end"])
        assert (found.start, found.end) == (START, END)
    item.refresh()
    item.subject = "Changed"
    item.save()
    assert account.calendar.get(id=item.id).subject == "Changed"


def test_the_sent_items_folder_exists(account):
    assert account.sent.name == "Sent Items"
    assert isinstance(account.calendar, Calendar)


# --------------------------------------------------------------------------- answers

BOSS = "boss@customer.example"


def _invitation(account, server) -> CalendarItem:
    item_id = server.create_event("Review", START, END, organizer=BOSS)
    return account.calendar.get(id=item_id)


def test_an_invitation_reads_as_not_answered(account, server):
    item = _invitation(account, server)
    assert item.my_response_type == "NoResponseReceived"
    assert item.organizer.email_address == BOSS


@pytest.mark.parametrize(
    ("answer", "word", "neutral"),
    [("accept", "Accept", "accepted"), ("tentatively_accept", "Tentative", "tentative")],
)
def test_the_attendee_answers_with_a_response_object(account, server, answer, word, neutral):
    item = _invitation(account, server)
    getattr(item, answer)(message_disposition=SEND_AND_SAVE_COPY)
    again = account.calendar.get(id=item.id)
    assert again.my_response_type == word and again.changekey != item.changekey
    assert server.own_response(item.id) == neutral
    assert server.responses[-1] == (item.id, word, "SendAndSaveCopy")


def test_a_declined_meeting_leaves_the_calendar_and_the_sync_says_so(account, server):
    item = _invitation(account, server)
    calendar = account.calendar
    list(calendar.sync_items())
    state = calendar.item_sync_state
    item.decline(message_disposition=SEND_ONLY)
    assert server.own_response(item.id) is None
    changes = list(calendar.sync_items(sync_state=state))
    assert [(kind, getattr(x, "id", None)) for kind, x in changes] == [("delete", item.id)]


def test_the_organiser_cannot_answer_their_own_meeting(account, server):
    own = account.calendar.get(id=server.create_event("Mine", START, END))
    with pytest.raises(ErrorCalendarIsOrganizerForAccept):
        own.accept()
    assert server.responses == []
