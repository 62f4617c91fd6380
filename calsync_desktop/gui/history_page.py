"""Settings › History (SPEC §9): the sync runs that changed something, what
each changed, and "Undo this sync".

The runs are a table (when, account, what started it, what it changed); the
selected run's changes are listed per appointment, field by field, before and
after. A private appointment is named "Private appointment" and shows only
its time. "Undo this sync…" first asks the sync worker for the undo's
preview (what goes back, what is left alone because it changed since: the
words ``calsync undo RUN --dry-run`` prints), shows it and asks; the undo
then runs in the worker too, never in the window's thread. The undo is a run
of its own: it appears at the top of the list and can itself be undone.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from calsync_desktop.gui import formats
from calsync_desktop.gui.conflict_log import value_text
from calsync_desktop.gui.style import ERROR_STYLE, NOTE_STYLE
from calsync_desktop.store.journal import (
    DAYS_RANGE,
    MAX_CHANGES_RANGE,
    Journal,
    Retention,
    RunRecord,
)
from calsync_desktop.sync.history import Change
from calsync_desktop.sync.history_words import (
    GONE,
    change_heading,
    change_rows,
    counts_text,
    field_words,
    preview_lines,
    side_words,
    state_parts,
    trigger_words,
    undone_lines,
)
from calsync_desktop.words import count, noun, sentence

RUN_COLUMN, WHEN_COLUMN, ACCOUNT_COLUMN, TRIGGER_COLUMN, CHANGES_COLUMN = range(5)
RETENTION_TIP = (
    "Older syncs, and the oldest beyond that many changed appointments, leave the history "
    "when you save, when the app starts and whenever a sync starts."
)
SHOWN_CHANGES = 300
"""The details list at most this many appointments of a run (a first sync may
have changed thousands); the command line lists them all."""


class UndoPreview(QDialog):
    """The undo's preview and the question. It opens at once, while the sync
    worker reads the service ("Looking at what changed since this sync…",
    with Cancel, which stops that reading); then it shows what goes back and
    what is left alone and asks "Undo this sync" or Cancel. With nothing to
    put back it only says so. Accepted: undo; rejected: nothing is undone."""

    LOOKING = "Looking at what changed since this sync, on both sides…"

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Undo this sync?")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.ready = False  # the preview is shown
        self.heading = QLabel(self.LOOKING)
        self.heading.setObjectName("undo-heading")
        self.heading.setWordWrap(True)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)  # no figure to show: it reads the account's calendar
        self.busy.setTextVisible(False)
        self.busy.setAccessibleName("Reading the calendar")
        self.busy.setMaximumHeight(self.fontMetrics().height())
        self.text = QPlainTextEdit()
        self.text.setObjectName("undo-preview")
        self.text.setReadOnly(True)
        self.text.setAccessibleName("What the undo does")
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.text.hide()
        self.buttons = QDialogButtonBox()
        self.undo = self.buttons.addButton("Undo this sync", QDialogButtonBox.ButtonRole.AcceptRole)
        self.undo.hide()
        self.cancel = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.cancel.setToolTip("Stop reading and undo nothing")
        self.cancel.setDefault(True)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.busy)
        layout.addWidget(self.text, 1)
        layout.addStretch(0)
        layout.addWidget(self.buttons)
        self.resize(560, self.sizeHint().height())

    def show_plan(self, lines: list[str], can_undo: bool) -> None:
        """The preview is ready: what goes back, what is left alone, and the question."""
        self.ready = True
        self.busy.hide()
        self.heading.setText(
            "Both sides go back to how they were before this sync, for every appointment "
            "that has not changed since. No invitations are sent."
            if can_undo
            else "There is nothing this undo could put back."
        )
        self.text.setPlainText("\n".join(lines))
        self.text.show()
        self.undo.setVisible(can_undo)
        self.undo.setDefault(can_undo)
        self.cancel.setText("Cancel" if can_undo else "Close")
        self.cancel.setToolTip("Undo nothing")
        (self.undo if can_undo else self.cancel).setFocus()
        # as tall as the preview needs, up to a screenful of lines
        line = self.text.fontMetrics().lineSpacing()
        self.resize(max(self.width(), 640), 150 + line * min(max(len(lines), 3), 18))

    def show_problem(self, text: str) -> None:
        """The preview could not be made: why, and only Close."""
        self.ready = True
        self.busy.hide()
        self.heading.setText(text)
        self.heading.setStyleSheet(ERROR_STYLE)
        self.cancel.setText("Close")


def _shown(field: str, text: str) -> str:
    """A value in one line of the list (a title's notes follow it after " · ")."""
    shown = text if text == GONE else value_text(field, text)
    return " · ".join(line for line in shown.splitlines() if line.strip()) or shown


class HistoryPage(QWidget):
    """The History tab. ``scheduler`` runs the undo and its preview (the app's
    :class:`~calsync_desktop.gui.worker.SyncScheduler`); without it the page
    only lists. ``preview`` is the open :class:`UndoPreview`, if any."""

    def __init__(self, services, scheduler=None, parent: QWidget | None = None):
        super().__init__(parent)
        self.services = services
        self.scheduler = scheduler
        self.runs: list[RunRecord] = []
        self.waiting = None  # the worker request this page waits for
        self.preview: UndoPreview | None = None
        intro = QLabel(
            "Every sync that changed something, newest first. Select one to see what it "
            "changed; “Undo this sync…” puts both sides back as they were before it."
        )
        intro.setWordWrap(True)
        self.table = QTableWidget(0, 5)
        self.table.setObjectName("history-runs")
        self.table.setAccessibleName("Sync runs")
        self.table.setHorizontalHeaderLabels(
            ["Run", "When", "Account", "Started by", "What changed"]
        )
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setTabKeyNavigation(False)
        self.table.setWordWrap(False)
        self.table.setStyleSheet("QTableWidget::item { padding: 0 6px; }")
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(CHANGES_COLUMN, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._show_selected)
        self.details = QTreeWidget()
        self.details.setObjectName("history-changes")
        self.details.setAccessibleName("What the sync changed")
        self.details.setHeaderLabels(["Appointment", "Where", "Before", "After"])
        self.details.setAllColumnsShowFocus(True)
        self.details.setTextElideMode(Qt.TextElideMode.ElideRight)
        details_header = self.details.header()
        details_header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        details_header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        details_header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        details_header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        details_header.setStretchLastSection(False)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(self.details)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setSizes([150, 170])
        self.empty = QLabel(
            "No sync has changed anything yet. Each sync that does is listed here, and can "
            "be undone."
        )
        self.empty.setWordWrap(True)
        self.empty.setStyleSheet(NOTE_STYLE)
        self.undo_button = QPushButton("Undo this sync…")
        self.undo_button.clicked.connect(self.undo_selected)
        self.status = QLabel()
        self.status.setObjectName("history-status")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # the retention: the ranges are the ones the core accepts (Retention.problem)
        kept = Retention.of(self.store)
        self.days = QSpinBox()
        self.days.setRange(*DAYS_RANGE)
        self.days.setSuffix(" days")
        self.days.setAccessibleName("Keep the history for")
        self.days.setValue(min(max(kept.days, DAYS_RANGE[0]), DAYS_RANGE[1]))
        self.max_changes = QSpinBox()
        self.max_changes.setRange(*MAX_CHANGES_RANGE)
        self.max_changes.setSingleStep(10_000)
        self.max_changes.setGroupSeparatorShown(True)
        self.max_changes.setSuffix(" changed appointments")
        self.max_changes.setAccessibleName("Keep at most")
        self.max_changes.setValue(
            min(max(kept.max_changes, MAX_CHANGES_RANGE[0]), MAX_CHANGES_RANGE[1])
        )
        self.retention_note = QLabel()
        self.retention_note.setObjectName("history-retention")
        self.retention_note.setWordWrap(True)
        self.retention_note.setStyleSheet(NOTE_STYLE)
        for box in (self.days, self.max_changes):
            box.setToolTip(RETENTION_TIP)
            box.valueChanged.connect(self._retention_changed)
        row = QHBoxLayout()
        row.addWidget(self.undo_button)
        row.addWidget(self.status, 1)
        keep = QHBoxLayout()
        keep.addWidget(QLabel("Keep the history for"))
        keep.addWidget(self.days)
        keep.addWidget(QLabel("and at most"))
        keep.addWidget(self.max_changes)
        keep.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.empty)
        layout.addWidget(self.splitter, 1)
        layout.addLayout(row)
        layout.addLayout(keep)
        layout.addWidget(self.retention_note)
        if scheduler is not None:
            scheduler.syncFinished.connect(self._finished)
        self.refresh()
        self._retention_changed()

    @property
    def store(self):
        return self.services.store

    def retention(self) -> Retention:
        """The retention as the page shows it."""
        return Retention(self.days.value(), self.max_changes.value())

    def _retention_changed(self) -> None:
        """Say what saving would drop, before it does."""
        wanted = self.retention()
        problem = wanted.problem()
        if problem is not None:  # the boxes' ranges keep this from happening
            self.retention_note.show()
            self.retention_note.setText(problem)
            self.retention_note.setStyleSheet(ERROR_STYLE)
            return
        self.retention_note.setStyleSheet(NOTE_STYLE)
        dropped = Journal(self.store).dropped_by(wanted, self.services.clock())
        # only when saving would take something out: the page has little room
        self.retention_note.setVisible(bool(dropped))
        self.retention_note.setText(
            f"Saving takes {count(dropped, 'older sync')} out of the history now; "
            f"{noun(dropped, 'it')} can no longer be undone."
            if dropped
            else ""
        )

    def save(self) -> int:
        """Settings › Save: the retention, applied at once (the same path as
        ``calsync settings history.days N``); how many runs left the history."""
        wanted = self.retention()
        if wanted == Retention.of(self.store):
            return 0
        dropped = Journal(self.store).keep(wanted, self.services.clock())
        if dropped:
            self.refresh()
        return dropped

    # ------------------------------------------------------------------ listing

    def _names(self) -> dict[str, str]:
        return {a.id: a.name for a in self.store.list_accounts()}

    def refresh(self, select: int | None = None) -> None:
        """Read the runs again, keeping the selected one (or selecting ``select``)."""
        current = self.selected_run()
        wanted = select if select is not None else (current.id if current else None)
        self.runs = Journal(self.store).runs()
        names = self._names()
        now = self.services.clock().astimezone()
        self.table.blockSignals(True)
        self.table.setRowCount(len(self.runs))
        chosen = 0
        for row, run in enumerate(self.runs):
            name = names.get(run.account_id, "(removed account)")
            parts = state_parts(run)
            changes = counts_text(run, name) + (f" ({'; '.join(parts)})" if parts else "")
            cells = (
                str(run.id),
                formats.moment_text(run.started.astimezone(), now),
                name,
                trigger_words(run.trigger),
                sentence(changes[:1].upper() + changes[1:]),
            )
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, run.id)
                if column == CHANGES_COLUMN:
                    item.setToolTip(text)  # whole, where the column is too narrow
                if column == RUN_COLUMN:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                self.table.setItem(row, column, item)
            if run.id == wanted:
                chosen = row
        self.table.blockSignals(False)
        has_runs = bool(self.runs)
        self.empty.setVisible(not has_runs)
        self.splitter.setVisible(has_runs)
        if has_runs:
            self.table.selectRow(chosen)
        self._show_selected()

    def selected_run(self) -> RunRecord | None:
        rows = {i.row() for i in self.table.selectedIndexes()}
        if not rows or min(rows) >= len(self.runs):
            return None
        return self.runs[min(rows)]

    def _show_selected(self) -> None:
        run = self.selected_run()
        self.details.clear()
        self._update_undo_button(run)
        if run is None:
            return
        account = self._names().get(run.account_id, "the calendar service")
        entries = Journal(self.store).entries(run.id)
        self.details.setUpdatesEnabled(False)
        for change in (Change.from_entry(e) for e in entries[:SHOWN_CHANGES]):
            item = QTreeWidgetItem([change_heading(change, account)])
            item.setFirstColumnSpanned(True)
            for side, field, before, after in change_rows(change):
                item.addChild(
                    QTreeWidgetItem(
                        [
                            field_words(field),
                            side_words(side, account),
                            _shown(field, before),
                            _shown(field, after),
                        ]
                    )
                )
            self.details.addTopLevelItem(item)
            item.setExpanded(True)
            item.setFirstColumnSpanned(True)
        if len(entries) > SHOWN_CHANGES:
            more = QTreeWidgetItem(
                [
                    f"… and {count(len(entries) - SHOWN_CHANGES, 'more appointment')}: "
                    f"“calsync history show {run.id}” lists them all"
                ]
            )
            self.details.addTopLevelItem(more)
            more.setFirstColumnSpanned(True)
        self.details.setUpdatesEnabled(True)

    def _update_undo_button(self, run: RunRecord | None) -> None:
        why = ""
        if run is None:
            why = "Select a sync to undo it"
        elif self.scheduler is None:
            why = "Undo works in the running app"
        elif self.waiting is not None:
            why = "Working on it…"
        elif run.undone_by is not None:
            why = f"Undone already by run {run.undone_by}: undo that one to have it back"
        elif run.account_id not in self._names():
            why = "The account of this sync was removed"
        self.undo_button.setEnabled(not why)
        self.undo_button.setToolTip(why or "See what goes back, then confirm")

    # ------------------------------------------------------------------ undo

    def undo_selected(self) -> None:
        """Open the undo's preview at once and ask the worker to make it; the
        answer comes back in :meth:`_finished`. The preview's Cancel stops the
        worker's reading (:meth:`SyncScheduler.cancel`)."""
        run = self.selected_run()
        if run is None or self.scheduler is None or self.waiting is not None:
            return
        self._say("Looking at what changed since this sync…")
        self.waiting = self.scheduler.undo(run.id, preview=True)
        preview = self.preview = UndoPreview(self)
        preview.accepted.connect(lambda r=run.id: self._confirmed(preview, r))
        preview.rejected.connect(lambda: self._declined(preview))
        preview.finished.connect(preview.deleteLater)
        preview.open()
        self._update_undo_button(run)

    def _declined(self, preview: UndoPreview) -> None:
        """Cancel (or Close): a preview still being made stops; nothing is undone."""
        if self.preview is preview:
            self.preview = None
        request = self.waiting
        if request is not None and request.job == "undo preview":
            self.scheduler.cancel(request)
            self.waiting = None
        self._say("Nothing was undone.")
        self._update_undo_button(self.selected_run())

    def _confirmed(self, preview: UndoPreview, run_id: int) -> None:
        if self.preview is preview:
            self.preview = None
        self._say("Undoing…")
        self.waiting = self.scheduler.undo(run_id)
        self._update_undo_button(self.selected_run())

    def _say(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet(ERROR_STYLE if error else "")

    def _finished(self, summary) -> None:
        request = summary.request
        mine = request is self.waiting
        if not mine:
            self.refresh()
            return
        self.waiting = None
        outcome = summary.outcomes[0] if summary.outcomes else None
        if request.job == "undo preview":
            self._preview_ready(outcome)
        elif outcome is not None and outcome.state != "ok":
            self._say(sentence(outcome.error), error=True)
            self.refresh()
        else:
            self._undone(request.run_id, outcome)

    def _preview_ready(self, outcome) -> None:
        preview = self.preview
        if outcome is None or outcome.state != "ok":
            problem = sentence(outcome.error if outcome else "The undo could not be prepared")
            self._say(problem, error=True)
            if preview is not None:
                preview.show_problem(problem)
            self.refresh()
            return
        self._say("See what the undo puts back, then confirm.")
        if preview is not None:
            plan = outcome.plan
            preview.show_plan(preview_lines(plan, outcome.account_name), bool(plan.put_back))
        self._update_undo_button(self.selected_run())

    def _undone(self, run_id: int, outcome) -> None:
        result = outcome.result
        if result.stopped:
            self._say(
                "The undo stopped before deleting anything, as you chose at the deletion warning.",
                error=True,
            )
            self.refresh()
            return
        lines = undone_lines(result, run_id, outcome.account_name)
        text = sentence(lines[0])
        if result.left_alone:
            text += f" {count(len(result.left_alone), 'appointment')} left alone."
        if result.errors:
            text += f" {count(len(result.errors), 'error')}: point here for the list."
        if result.run_id is not None:  # else it changed nothing and left no run
            text += " The undo is listed above and can be undone too."
        self._say(text, bool(result.errors))
        self.status.setToolTip("\n".join(lines))
        self.refresh(select=result.run_id)
