"""Settings › History and Troubleshooting's "Resync from scratch" (SPEC §9),
driven through the real widgets of the running app: a real SQLite Sales
Calendar, the memory calendar service, the app's sync worker thread."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from PySide6.QtWidgets import QLabel, QTableWidget, QTreeWidget, QWidget

from calsync_desktop.gui.history_page import UndoPreview
from calsync_desktop.store.journal import Journal

from .conftest import add_memory_account, when_box_shows

SECRET = "Secret therapy at Dr Who"


def wait_for_run(qtbot, app, timeout=20_000):
    with qtbot.waitSignal(app.scheduler.syncFinished, timeout=timeout) as blocker:
        pass
    return blocker.args[0]


def sync(qtbot, app):
    with qtbot.waitSignal(app.scheduler.syncFinished, timeout=20_000) as blocker:
        app.sync_now()
    return blocker.args[0]


def every_text(widget: QWidget) -> str:
    """All a user can read on the page, tooltips included."""
    texts = []
    for table in widget.findChildren(QTableWidget):
        for row in range(table.rowCount()):
            for column in range(table.columnCount()):
                item = table.item(row, column)
                if item is not None:
                    texts += [item.text(), item.toolTip()]
    for tree in widget.findChildren(QTreeWidget):
        stack = [tree.topLevelItem(i) for i in range(tree.topLevelItemCount())]
        while stack:
            item = stack.pop()
            for column in range(tree.columnCount()):
                texts += [item.text(column), item.toolTip(column)]
            stack += [item.child(i) for i in range(item.childCount())]
    for label in widget.findChildren(QLabel):
        texts += [label.text(), label.toolTip()]
    return "\n".join(texts)


def _two_events(calendar, clock):
    start = clock() + timedelta(days=1)
    public = calendar.add(
        subject="Pipeline review",
        start=start,
        end=start + timedelta(hours=1),
        timezone="Europe/Berlin",
    )
    private = calendar.add(
        subject=SECRET,
        start=start + timedelta(hours=3),
        end=start + timedelta(hours=4),
        timezone="Europe/Berlin",
        private=True,
    )
    return public, private


def _cells(table: QTableWidget, row: int) -> list[str]:
    return [table.item(row, c).text() for c in range(table.columnCount())]


@pytest.fixture
def synced(qtbot, make_app, services, clock):
    """The app after a first sync that brought in two events of the account
    "Work", one of them private: (app, the service's calendar, the public event)."""
    _account, calendar = add_memory_account(services, name="Work")
    public, _private = _two_events(calendar, clock)
    app = make_app()
    app.start(sync_at_start=False)
    sync(qtbot, app)
    return app, calendar, public


def test_history_lists_the_runs_and_their_changes_and_never_private_contents(
    qtbot, synced, services
):
    app, calendar, public = synced
    calendar.edit(public.remote_id, location="Room 4")
    sync(qtbot, app)
    settings = app.open_settings()
    settings.tabs.setCurrentWidget(settings.history)
    page = settings.history
    table = page.table
    assert table.rowCount() == 2  # newest first
    newest, first = _cells(table, 0), _cells(table, 1)
    assert newest[2:] == ["Work", "Sync now", "Update 1."]
    assert first[2:] == ["Work", "Sync now", "Create 2 in the Sales Calendar."]
    assert newest[1].startswith("today ")
    assert int(newest[0]) == page.runs[0].id > int(first[0])
    # the newest run's details: the appointment, field by field, before and after
    tree = page.details
    (heading,) = [tree.topLevelItem(i) for i in range(tree.topLevelItemCount())]
    assert heading.text(0) == "Changed in the Sales Calendar: Pipeline review"
    rows = [[heading.child(i).text(c) for c in range(4)] for i in range(heading.childCount())]
    assert ["Location", "Sales Calendar", "(empty)", "Room 4"] in rows
    # the first run brought in both; the private one only by its time
    table.selectRow(1)
    headings = sorted(tree.topLevelItem(i).text(0) for i in range(tree.topLevelItemCount()))
    assert headings == [
        "Added to the Sales Calendar: Pipeline review",
        "Added to the Sales Calendar: Private appointment",
    ]
    private_item = next(
        tree.topLevelItem(i)
        for i in range(tree.topLevelItemCount())
        if "Private" in tree.topLevelItem(i).text(0)
    )
    fields = {private_item.child(i).text(0) for i in range(private_item.childCount())}
    assert fields == {"Time", "Private"}
    private_row = next(
        [private_item.child(i).text(c) for c in range(4)]
        for i in range(private_item.childCount())
        if private_item.child(i).text(0) == "Private"
    )
    assert private_row == ["Private", "Sales Calendar", "—", "Private"]
    shown = every_text(page)
    assert "Secret" not in shown and "Dr Who" not in shown


def test_the_retention_is_shown_checked_saved_and_applied_at_once(qtbot, synced, services, clock):
    """Settings › History sets how long the history keeps runs and how many
    changed appointments it holds, in the ranges the core accepts; saving
    applies it at once, as ``calsync settings history.days N`` does."""
    from calsync_desktop.store.journal import DAYS_RANGE, MAX_CHANGES_RANGE, Retention

    app, calendar, public = synced
    clock.advance(days=3)
    calendar.edit(public.remote_id, location="Room 4")
    sync(qtbot, app)
    settings = app.open_settings()
    settings.tabs.setCurrentWidget(settings.history)
    page = settings.history
    assert (page.days.value(), page.max_changes.value()) == (30, 100_000)
    assert (page.days.minimum(), page.days.maximum()) == DAYS_RANGE
    assert (page.max_changes.minimum(), page.max_changes.maximum()) == MAX_CHANGES_RANGE
    assert "when the app starts and whenever a sync starts" in page.days.toolTip()
    assert not page.retention_note.isVisibleTo(page)
    # before saving, the page says what saving would take out; nothing goes yet
    page.days.setValue(2)
    assert page.retention_note.text() == (
        "Saving takes 1 older sync out of the history now; it can no longer be undone."
    )
    assert page.retention_note.isVisibleTo(page)
    assert page.table.rowCount() == 2 and len(Journal(services.store).runs()) == 2
    page.max_changes.setValue(5_000)
    settings.save()
    assert Retention.of(services.store) == Retention(2, 5_000)
    (kept,) = Journal(services.store).runs()
    assert kept.counts == {"update": 1}
    assert page.table.rowCount() == 1
    # shown as saved when Settings opens again
    again = app.open_settings().history
    assert (again.days.value(), again.max_changes.value()) == (2, 5_000)
    assert again.table.rowCount() == 1


def test_the_app_prunes_the_history_as_it_starts_even_paused(qtbot, make_app, services, clock):
    """Retention is applied when the app starts (SPEC §9), in the worker, before
    any sync and without one: a paused app does not keep runs beyond it."""
    _account, calendar = add_memory_account(services, name="Work")
    _two_events(calendar, clock)
    first = make_app()
    first.start(sync_at_start=False)
    sync(qtbot, first)
    clock.advance(days=20)
    calendar.add(
        subject="Later", start=clock() + timedelta(days=1), end=clock() + timedelta(days=1, hours=1)
    )
    sync(qtbot, first)
    assert len(Journal(services.store).runs()) == 2
    first.shutdown()
    clock.advance(days=15)  # the first run is 35 days old now, the second 15
    services.store.set_setting("sync.paused", True)
    app = make_app()
    app.start()
    qtbot.waitUntil(lambda: len(Journal(services.store).runs()) == 1, timeout=10_000)
    assert app.scheduler.runs_started == 0  # no sync ran for it
    (kept,) = Journal(services.store).runs()
    assert sum(kept.counts.values()) == 1  # the later run: "Later" came in


def test_undo_shows_the_preview_asks_and_puts_the_appointment_back_in_the_worker(
    qtbot, synced, services
):
    app, calendar, public = synced
    calendar.remove(public.remote_id)  # deleted on the service: the next sync deletes it here
    sync(qtbot, app)
    assert services.store.count_appointments() == 1
    settings = app.open_settings()
    page = settings.history
    deleting = page.runs[0]
    assert deleting.counts == {"delete locally": 1}
    # the preview opens at once and is made in the worker; Cancel: nothing changes
    page.table.selectRow(0)
    with qtbot.waitSignal(app.scheduler.syncFinished, timeout=20_000) as blocker:
        page.undo_button.click()
        preview = page.preview
        assert preview.isVisible() and not preview.ready
        assert preview.heading.text() == UndoPreview.LOOKING
    summary = blocker.args[0]
    assert summary.request.job == "undo preview"
    assert summary.thread_name != threading.current_thread().name
    assert preview.ready and preview.undo.isVisible() and preview.undo.isDefault()
    lines = preview.text.toPlainText().splitlines()
    assert lines == [
        f"Undoing run {deleting.id} of Work would put back 1 appointment:",
        "  - Pipeline review: restore in the Sales Calendar, create in Work",
    ]
    preview.cancel.click()
    assert not preview.isVisible() and page.preview is None
    assert services.store.count_appointments() == 1
    assert page.status.text() == "Nothing was undone."
    # "Undo this sync": the preview, then the undo, both in the worker thread
    with qtbot.waitSignal(app.scheduler.syncFinished, timeout=20_000):
        page.undo_button.click()
    preview = page.preview
    assert preview.text.toPlainText().splitlines() == lines
    with qtbot.waitSignal(app.scheduler.syncFinished, timeout=20_000) as blocker:
        preview.undo.click()
    assert blocker.args[0].request.job == "undo"
    assert blocker.args[0].thread_name != threading.current_thread().name
    assert services.store.count_appointments() == 2
    assert sorted(e.subject for e in calendar.events.values()) == ["Pipeline review", SECRET]
    # the list shows the undo on top, selected, and it can itself be undone
    undo = page.runs[0]
    assert undo.trigger == "undo" and undo.undoes == deleting.id
    assert page.selected_run().id == undo.id
    assert _cells(page.table, 0)[3] == "Undo"
    assert f"undid run {deleting.id}" in _cells(page.table, 0)[4]
    assert page.undo_button.isEnabled()
    assert f"undone by run {undo.id}" in _cells(page.table, 1)[4]
    page.table.selectRow(1)
    assert not page.undo_button.isEnabled()
    assert f"Undone already by run {undo.id}" in page.undo_button.toolTip()
    assert "can be undone too" in page.status.text()
    # the history knows which undo stands for the run
    assert Journal(services.store).run(deleting.id).undone_by == undo.id


def test_resync_from_scratch_explains_asks_and_links_again_without_creating(
    qtbot, make_app, services, clock
):
    _account, calendar = add_memory_account(services, name="Work")
    _two_events(calendar, clock)
    start = clock() + timedelta(days=2)
    from calsync_desktop.model import Appointment, new_id

    services.store.save_appointment(
        Appointment(
            id=new_id(),
            contents="From here",
            start=start,
            end=start + timedelta(hours=1),
            timezone="Europe/Berlin",
            account_id=_account.id,
        )
    )
    app = make_app()
    app.start(sync_at_start=False)
    sync(qtbot, app)
    assert services.store.count_appointments() == 3 and len(calendar.events) == 3
    runs_before = len(Journal(services.store).runs())
    dialog = app.open_troubleshooting()
    asked = []
    dialog.ask_resync = lambda parent, account: asked.append(account.name) or True
    (box,) = dialog.account_checks
    assert box.resync.isVisibleTo(dialog)
    with qtbot.waitSignal(app.scheduler.syncFinished, timeout=20_000) as blocker:
        box.resync.click()
    summary = blocker.args[0]
    assert asked == ["Work"]
    assert summary.request.job == "from scratch"
    assert summary.thread_name != threading.current_thread().name
    (outcome,) = summary.outcomes
    assert outcome.result.counts == {"link": 3}
    assert services.store.count_appointments() == 3 and len(calendar.events) == 3
    assert box.resync_status.text() == "Resynced from scratch. 3 appointments linked."
    assert box.resync.isEnabled()
    # linking changes neither side: the history has nothing new to undo
    assert len(Journal(services.store).runs()) == runs_before


def test_resync_from_scratch_cancelled_does_nothing(qtbot, make_app, services, clock):
    _account, calendar = add_memory_account(services, name="Work")
    _two_events(calendar, clock)
    app = make_app()
    app.start(sync_at_start=False)
    sync(qtbot, app)
    started = app.scheduler.runs_started
    dialog = app.open_troubleshooting()
    dialog.ask_resync = lambda parent, account: False
    dialog.account_checks[0].resync.click()
    qtbot.wait(50)
    assert app.scheduler.runs_started == started
    assert not dialog.account_checks[0].resync_status.isVisibleTo(dialog)


def test_the_resync_question_says_what_it_does(qtbot, services):
    from PySide6.QtWidgets import QApplication, QMessageBox

    from calsync_desktop.gui.troubleshooting import ask_resync

    account, _calendar = add_memory_account(services, name="Work")
    seen = {}

    def read_and_cancel(box):
        seen["text"] = box.text() + " " + box.informativeText()
        seen["buttons"] = sorted(b.text() for b in box.buttons())
        box.button(QMessageBox.StandardButton.Cancel).click()

    def shown_box():
        return next((w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox)), None)

    when_box_shows(shown_box, read_and_cancel)
    assert ask_resync(None, account) is False
    assert "Resync Work from scratch?" in seen["text"]
    assert "Nothing that is on both sides is copied twice" in seen["text"]
    assert "nothing is deleted" in seen["text"]
    assert "Resync from scratch" in seen["buttons"]


def test_a_resync_asked_for_during_a_sync_runs_right_after_it(qtbot, make_app, services, clock):
    account, calendar = add_memory_account(services, name="Work")
    _two_events(calendar, clock)
    app = make_app()
    app.start(sync_at_start=False)
    finished = []
    app.scheduler.syncFinished.connect(finished.append)
    app.sync_now()
    assert app.scheduler.running
    request = app.scheduler.resync_from_scratch(account.id)
    assert app.scheduler.jobs == [request]
    qtbot.waitUntil(lambda: len(finished) == 2, timeout=20_000)
    assert [s.request.job for s in finished] == ["sync", "from scratch"]
    assert finished[1].request is request
    assert finished[1].outcomes[0].result.counts == {"link": 2}
    assert len(calendar.events) == 2 and services.store.count_appointments() == 2


def test_an_undo_that_would_delete_many_asks_in_its_own_words_and_keeps_them(
    qtbot, make_app, services, clock
):

    from calsync_desktop.model import Appointment, new_id

    account, calendar = add_memory_account(services, name="Work")
    start = clock() + timedelta(days=1)
    for i in range(12):
        services.store.save_appointment(
            Appointment(
                id=new_id(),
                contents=f"Call {i}",
                start=start + timedelta(hours=i),
                end=start + timedelta(hours=i, minutes=30),
                timezone="Europe/Berlin",
                account_id=account.id,
            )
        )
    app = make_app(decide=None)  # the real deletion warning
    app.start(sync_at_start=False)
    sync(qtbot, app)
    assert len(calendar.events) == 12
    page = app.open_settings().history
    pushed = page.runs[0].id
    statuses = []
    set_status = app.window.set_status
    app.window.set_status = lambda text: statuses.append(text) or set_status(text)
    seen = {}

    def answer(box):
        seen["text"] = box.text() + " " + box.informativeText()
        seen["buttons"] = [b.text() for b in box.buttons()]
        (keep,) = [b for b in box.buttons() if b.text() == "Keep them"]
        keep.click()

    when_box_shows(lambda: app.dialogs.get("guard"), answer)
    with qtbot.waitSignal(app.scheduler.syncFinished, timeout=20_000):
        page.undo_button.click()
    with qtbot.waitSignal(app.scheduler.syncFinished, timeout=20_000):
        page.preview.undo.click()
    assert "the undo stopped before deleting anything" in seen["text"]
    assert "keep them and put back the rest" in seen["text"]
    assert "Keep them" in seen["buttons"] and "Restore them" not in seen["buttons"]
    assert "Reading Work for the undo…" in statuses and "Undoing a sync of Work…" in statuses
    assert len(calendar.events) == 12  # kept
    assert page.status.text() == (
        f"Undid nothing of run {pushed} of Work: nothing to put back. 12 appointments left alone."
    )
    assert [r.id for r in page.runs] == [pushed]  # an undo that changed nothing is not kept
    assert "kept, as you chose at the deletion warning" in page.status.toolTip()


def test_a_run_of_many_changes_lists_the_first_and_says_how_many_more(
    qtbot, make_app, services, clock
):
    from calsync_desktop.gui.history_page import SHOWN_CHANGES

    _account, calendar = add_memory_account(services, name="Work")
    start = clock() + timedelta(days=1)
    for i in range(SHOWN_CHANGES + 5):
        calendar.add(
            subject=f"Visit {i}",
            start=start + timedelta(hours=i),
            end=start + timedelta(hours=i, minutes=30),
            timezone="Europe/Berlin",
        )
    app = make_app()
    app.start(sync_at_start=False)
    sync(qtbot, app)
    page = app.open_settings().history
    tree = page.details
    assert tree.topLevelItemCount() == SHOWN_CHANGES + 1
    last = tree.topLevelItem(SHOWN_CHANGES).text(0)
    run = page.runs[0].id
    assert last == f"… and 5 more appointments: “calsync history show {run}” lists them all"


def test_a_runs_details_speak_the_words_of_calsync_history_show(qtbot, synced, services, capsys):
    """The window and ``calsync history show RUN`` say the same of each change
    (sync/history_words.py), never the journal's names of its kinds."""
    from calsync_desktop.cli import main

    app, calendar, public = synced
    calendar.edit(public.remote_id, location="Room 4")
    sync(qtbot, app)
    page = app.open_settings().history
    shown = set()
    for row in range(page.table.rowCount()):
        page.table.selectRow(row)
        tree = page.details
        for i in range(tree.topLevelItemCount()):
            item = tree.topLevelItem(i)
            shown.add(item.text(0))
            for j in range(item.childCount()):
                child = item.child(j)
                shown.add(f"{child.text(0)} ({child.text(1)})")
    assert "Changed in the Sales Calendar: Pipeline review" in shown
    assert "Location (Sales Calendar)" in shown
    printed = ""
    for run in page.runs:
        assert main(["history", "show", str(run.id)], services=services) == 0
        printed += capsys.readouterr().out
    for text in shown:
        assert text in printed
    for internal in ("create locally", "create_remote", "update:", "sync now"):
        assert internal not in printed and not any(internal in t for t in shown)


def test_the_undo_preview_can_be_cancelled_while_it_reads_and_that_stops_the_reading(
    qtbot, synced, services
):
    """Cancel while the preview is being made (the service keeps answering
    "busy, come back later"): the dialog closes at once, the worker stops
    reading (no retry reaches the service), nothing is undone and the worker
    is free for the next sync."""
    app, calendar, public = synced
    calendar.remove(public.remote_id)
    sync(qtbot, app)
    page = app.open_settings().history
    page.table.selectRow(0)
    before = services.store.count_appointments()
    calendar.fail_next("server_busy", 8)  # each asks for 2 s: reading would take 15 s and more
    requests = calendar.requests
    finished = []
    app.scheduler.syncFinished.connect(finished.append)
    page.undo_button.click()
    preview = page.preview
    assert preview.isVisible() and not preview.ready and not preview.undo.isVisible()
    assert preview.busy.isVisible() and preview.cancel.isEnabled()
    assert not page.undo_button.isEnabled()
    # the window keeps answering while the worker waits for the busy service
    qtbot.waitUntil(lambda: calendar.requests == requests + 1, timeout=10_000)
    assert app.scheduler.running and not finished
    preview.cancel.click()
    assert not preview.isVisible() and page.preview is None
    assert page.status.text() == "Nothing was undone."
    # the worker stops at once instead of retrying seven more times
    qtbot.waitUntil(lambda: bool(finished), timeout=20_000)
    (summary,) = finished
    assert summary.request.job == "undo preview"
    assert [o.state for o in summary.outcomes] == ["cancelled"]
    assert calendar.requests == requests + 1 and calendar.pending_faults == 7
    assert services.store.count_appointments() == before
    assert page.undo_button.isEnabled()
    # a late answer changes nothing on the page, and the next sync runs
    calendar.clear_faults()
    sync(qtbot, app)
    assert page.status.text() == "Nothing was undone."


def test_an_undo_preview_asked_for_during_a_sync_and_cancelled_never_runs(qtbot, synced, services):
    app, _calendar, _public = synced
    page = app.open_settings().history
    page.table.selectRow(0)
    finished = []
    app.scheduler.syncFinished.connect(finished.append)
    app.sync_now()
    assert app.scheduler.running
    page.undo_button.click()
    request = page.waiting
    assert app.scheduler.jobs == [request]
    page.preview.cancel.click()
    assert app.scheduler.jobs == [] and request.stop.is_set()
    qtbot.waitUntil(lambda: not app.scheduler.running, timeout=20_000)
    assert [s.request.job for s in finished] == ["sync"]
