"""The first-sync preview and the wording of plans, made once for the command
line and the window (calsync_desktop.sync.preview)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from calsync_desktop.accounts import memory
from calsync_desktop.model import Appointment, new_id
from calsync_desktop.sync.engine import Kind, SyncResult
from calsync_desktop.sync.preview import (
    NOTHING_CLAUSE,
    WORDING,
    describe_first_sync,
    draft_account,
    plan_clauses,
    plan_sentences,
    preview_first_sync,
)


def test_every_kind_of_action_is_worded_in_every_form():
    assert set(WORDING) == {k.value for k in Kind}
    for kind, wording in WORDING.items():
        for form in (wording.clause, wording.will, wording.did):
            text = form.format(n=3, appointments="3 appointments", links="3 links", account="Work")
            assert "3" in text and "{" not in text, (kind, form)
            assert "(s)" not in text, (kind, form)  # counts read as English


@pytest.mark.parametrize(
    ("summary", "clauses", "sentences"),
    [
        (
            {},
            NOTHING_CLAUSE,
            [
                "Nothing to copy: Work has no appointments in the synced period (the last 30 "
                "days and the next two years), and the Sales Calendar has none that belong to it."
            ],
        ),
        (
            {"create locally": 2, "link": 1},
            "link 1 that exist on both sides, create 2 in the Sales Calendar",
            [
                "1 appointment already on both sides will be linked, not copied twice",
                "2 appointments will be copied from Work to the Sales Calendar",
            ],
        ),
        (
            {"delete remotely": 4, "update": 0},
            "delete 4 from Work",
            ["4 appointments will be deleted from Work"],
        ),
        ({"something new": 2}, "something new 2", ["something new 2"]),
        (
            {"link": 3000, "create locally": 1200},  # thousands as every other count writes them
            "link 3,000 that exist on both sides, create 1,200 in the Sales Calendar",
            [
                "3,000 appointments already on both sides will be linked, not copied twice",
                "1,200 appointments will be copied from Work to the Sales Calendar",
            ],
        ),
    ],
)
def test_a_plan_reads_the_same_on_one_line_and_as_sentences(summary, clauses, sentences):
    assert plan_clauses(summary, "Work") == clauses
    assert plan_sentences(summary, "Work") == sentences


def test_a_finished_first_sync_says_what_it_did_and_what_it_left_out():
    assert describe_first_sync(SyncResult(), "Work") == "Nothing needed copying."
    one = describe_first_sync(SyncResult(counts={"create locally": 1}, skipped=1), "Work")
    assert one.startswith("1 appointment copied to the Sales Calendar. 1 item was left out")
    result = SyncResult(counts={"create remotely": 2, "link": 1}, skipped=3)
    text = describe_first_sync(result, "Work")
    assert text.startswith("1 appointment linked; 2 appointments copied to Work.")
    assert "3 items were left out" in text


def test_the_first_sync_preview_of_an_unsaved_account_writes_nothing(services, clock):
    start = clock() + timedelta(days=1)
    services.store.add_appointment(
        Appointment(new_id(), "Local one", start, start + timedelta(hours=1))
    )
    pending = memory.connect(services, "me@example.com")
    calendar = memory.calendar_for(services, "me@example.com")
    calendar.add(subject="Remote one", start=start, end=start + timedelta(hours=2))
    before = (services.store.change_seq(), dict(calendar.events))
    account = draft_account(pending, "primary", sync_all_private=True)
    assert (account.kind, account.email, account.sync_all_private) == (
        "memory",
        "me@example.com",
        True,
    )

    preview = preview_first_sync(services.store, account, pending.provider, services.clock)
    assert preview.summary == {"create remotely": 1, "create locally": 1}
    assert preview.problem is None
    assert preview.clauses("me@example.com") == (
        "create 1 in the Sales Calendar, create 1 in me@example.com"
    )
    assert (services.store.change_seq(), dict(calendar.events)) == before
    assert services.store.list_accounts() == []


def test_a_preview_the_service_refuses_is_a_problem_not_an_exception(services):
    pending = memory.connect(services, "me@example.com")
    memory.calendar_for(services, "me@example.com").fail_next("drop")
    account = draft_account(pending)
    preview = preview_first_sync(services.store, account, pending.provider, services.clock)
    assert preview.summary is None
    assert preview.problem.problem.startswith("The server cannot be reached")
