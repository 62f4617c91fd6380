"""The last three pages: the options (which calendar, all private), the summary
of what the first sync will do (nothing saved before it is confirmed) and the
first sync with its progress."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QProgressBar,
    QVBoxLayout,
    QWizard,
    QWizardPage,
)

from calsync_desktop.gui.background import Task, run_in_background
from calsync_desktop.gui.style import ERROR_STYLE, NOTE_STYLE
from calsync_desktop.gui.wizard.common import failure_message, note_label
from calsync_desktop.sync.preview import Preview, draft_account, preview_first_sync

if TYPE_CHECKING:
    from calsync_desktop.gui.wizard.shell import AccountWizard


class OptionsPage(QWizardPage):
    """Which calendar, and "Sync all appointments as private"."""

    def __init__(self, wizard: AccountWizard):
        super().__init__()
        self.w = wizard
        self.task: Task | None = None
        self.loaded = False
        self.setTitle("Options")
        self.setSubTitle("Choose what to sync.")
        self.calendar = QComboBox()
        self.calendar.setAccessibleName("Calendar")
        self.calendar.setMinimumWidth(280)
        self.private = QCheckBox("Sync all appointments as private")
        self.private.setObjectName("sync-all-private")
        explain = note_label(
            "Private appointments still show in your Sales Calendar, but as a dark grey box "
            "with an eye icon: colleagues cannot see their contents.",
            NOTE_STYLE,
        )
        self.status = note_label()
        form = QFormLayout()
        form.addRow("Calendar", self.calendar)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.status)
        layout.addSpacing(8)
        layout.addWidget(self.private)
        layout.addWidget(explain)
        layout.addStretch(1)

    def initializePage(self) -> None:
        self.loaded = False
        self.calendar.clear()
        self.status.setText("Loading the calendars of the account…")
        pending = self.w.pending
        if self.w.edit_account is not None:
            self.private.setChecked(self.w.edit_account.sync_all_private)

        def call():
            provider = pending.provider()
            try:
                return provider.list_calendars()
            finally:
                provider.close()

        self.task = run_in_background(call, self._loaded, self._failed, parent=self)

    def _loaded(self, calendars) -> None:
        self.calendar.clear()
        chosen = 0
        for i, info in enumerate(calendars):
            label = info.name + ("  (main calendar)" if info.primary else "")
            self.calendar.addItem(label, info.id)
            if info.primary:
                chosen = i
            if self.w.edit_account is not None and info.id == self.w.edit_account.calendar_id:
                chosen = i
        self.calendar.setCurrentIndex(chosen)
        self.status.clear()
        self.loaded = True
        self.completeChanged.emit()

    def _failed(self, error: BaseException) -> None:
        self.status.setStyleSheet(ERROR_STYLE)
        self.status.setText(f"The calendars could not be listed: {failure_message(error)}")

    def calendar_id(self) -> str:
        return self.calendar.currentData() or ""

    def isComplete(self) -> bool:
        return self.loaded and self.calendar.count() > 0


class SummaryPage(QWizardPage):
    """What the first sync will do, before anything is saved."""

    def __init__(self, wizard: AccountWizard):
        super().__init__()
        self.w = wizard
        self.task: Task | None = None
        self.plan: dict[str, int] | None = None
        self.setTitle("Ready to sync")
        self.setSubTitle("This is what the first sync will do. Nothing is deleted.")
        self.setCommitPage(True)
        self.setButtonText(QWizard.WizardButton.CommitButton, "Save and start syncing")
        self.summary = note_label()
        self.summary.setObjectName("plan-summary")
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setMaximumHeight(8)
        self.busy.setTextVisible(False)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.busy)
        layout.addWidget(
            note_label(
                "Appointments older than 30 days and all-day appointments are not synced.",
                NOTE_STYLE,
            )
        )
        layout.addStretch(1)

    def initializePage(self) -> None:
        self.plan = None
        self.busy.show()
        self.summary.setStyleSheet("")
        self.summary.setText("Looking at both calendars…")
        pending = self.w.pending
        account = draft_account(
            pending, self.w.options.calendar_id(), self.w.options.private.isChecked()
        )
        services = self.w.task_services()
        self.task = run_in_background(
            lambda: preview_first_sync(services.store, account, pending.provider, services.clock),
            self._planned,
            self._failed,
            parent=self,
        )

    def _planned(self, preview: Preview) -> None:
        if preview.error is not None:
            self._failed(preview.error)
            return
        self.busy.hide()
        self.plan = preview.summary
        lines = preview.sentences(self.w.pending.email)
        self.summary.setText("The first sync will:\n\n• " + "\n• ".join(lines))
        self.completeChanged.emit()

    def _failed(self, error: BaseException) -> None:
        self._show_problem(failure_message(error))

    def _show_problem(self, problem: str) -> None:
        self.busy.hide()
        self.plan = {}
        self.summary.setStyleSheet(ERROR_STYLE)
        self.summary.setText(
            f"The preview could not be made: {problem} "
            "You can still save the account; the sync will try again."
        )
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        return self.plan is not None

    def validatePage(self) -> bool:
        return self.w.save()


class SyncPage(QWizardPage):
    """The first sync, with a progress bar."""

    def __init__(self, wizard: AccountWizard):
        super().__init__()
        self.w = wizard
        self.done = False
        self.task: Task | None = None
        self.setTitle("First sync")
        self.setSubTitle("Copying appointments between your calendars. Nothing is deleted.")
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.message = note_label()
        self.message.setObjectName("first-sync-message")
        layout = QVBoxLayout(self)
        layout.addWidget(self.progress)
        layout.addWidget(self.message)
        layout.addStretch(1)

    def initializePage(self) -> None:
        self.done = False
        self.message.setStyleSheet("")
        if self.w.scheduler is not None:
            self.message.setText(
                "Syncing… You can click Finish at any time: the sync goes on, and your "
                "Sales Calendar opens with its progress."
            )
        else:
            self.message.setText("Syncing…")
        self.w.start_first_sync()

    def on_progress(self, done: int, total: int, message: str) -> None:
        self.progress.setRange(0, max(total, 0))
        self.progress.setValue(min(done, total) if total else 0)
        if message:
            self.message.setText(message)

    def on_finished(self, text: str, ok: bool) -> None:
        self.done = True
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        self.message.setStyleSheet("" if ok else ERROR_STYLE)
        self.message.setText(text)
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        # in the app the sync goes on in the Sales Calendar window: no need to wait
        return self.done or self.w.scheduler is not None
