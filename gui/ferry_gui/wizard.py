"""The wizard: start → backup → connect → preview → migrate → verify → finish; after "Keep in
sync" the Migrate page leads to the cutover instead, and Start opens the run history or the
cutover of a plan that has run."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings, QSize
from PySide6.QtGui import QCloseEvent, QIcon
from PySide6.QtWidgets import QMessageBox, QWidget, QWizard

from ferry import FerryError, Plan, api

from .pageids import PageId
from .pages.backup import BackupPage
from .pages.base import FerryPage
from .pages.connect import ConnectPage
from .pages.cutover import CutoverPage
from .pages.finish import FinishPage
from .pages.migrate import MigratePage
from .pages.preview import PreviewPage
from .pages.runs import RunsPage
from .pages.start import MAX_RECENT, StartPage
from .pages.verify import VerifyPage
from .resources import icon_path
from .runner import Runner
from .state import InState, WizardState


def settings() -> QSettings:
    """The wizard's settings (recent plans, window geometry)."""
    return QSettings("Ferry", "Ferry wizard")


class FerryWizard(QWizard):
    """Holds the session's state (:class:`~ferry_gui.state.WizardState`, Qt-free); the pages
    read and fill it through the attributes below. (No attribute may be named ``done`` or
    ``result``: they would shadow QDialog's methods.)"""

    plan = InState()
    plan_path = InState()
    backup = InState()
    backup_skipped = InState()
    check_report = InState()
    preview_result = InState()
    run_result = InState()
    verify_result = InState()
    rollback_result = InState()
    sync_result = InState()
    cutover_result = InState()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # the run's modules are imported now, off the event loop, not by the first run on it
        threading.Thread(target=api.warm_up, name="ferry-warm-up", daemon=True).start()
        self.setObjectName("ferryWizard")
        self.setWindowTitle("Ferry — migration assistant")
        self.setWindowIcon(QIcon(str(icon_path())))
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage, True)
        self.setOption(QWizard.WizardOption.HaveHelpButton, False)
        self.setMinimumSize(QSize(760, 560))
        # The commit page (Migrate) keeps Alt+N for moving on.
        self.setButtonText(QWizard.WizardButton.CommitButton, "&Next >")
        self.runner = Runner(self)
        self.runner.ended.connect(self._job_ended)
        self.runner.started.connect(lambda _job: self.start_page.stop_describing())
        self.state = WizardState()
        self._close_when_idle = False
        self.start_page = StartPage()
        self.backup_page = BackupPage()
        self.connect_page = ConnectPage()
        self.preview_page = PreviewPage()
        self.migrate_page = MigratePage()
        self.verify_page = VerifyPage()
        self.finish_page = FinishPage()
        self.cutover_page = CutoverPage()
        self.runs_page = RunsPage()
        #: the page Start's Next leads to instead of the Backup page (Runs, Cutover), if any
        self.detour: PageId | None = None
        for page_id, page in zip(
            PageId,
            (
                self.start_page,
                self.backup_page,
                self.connect_page,
                self.preview_page,
                self.migrate_page,
                self.verify_page,
                self.finish_page,
                self.cutover_page,
                self.runs_page,
            ),
            strict=True,
        ):
            self.setPage(page_id, page)
            # After the wizard's own handler (connected by setPage), which re-enables Back.
            page.completeChanged.connect(self._hold_back)
        self.currentIdChanged.connect(self._hold_back)
        self.currentIdChanged.connect(self._page_changed)
        self.runner.started.connect(self._hold_back)
        self._close_confirmed = False
        geometry = settings().value("geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(980, 700)

    # -- state --------------------------------------------------------------------------------
    def set_plan(self, plan: Plan, path: Path) -> None:
        """A new plan: forget everything done with the previous one; remember it as recent."""
        self.state.open_plan(plan, path)
        self.connect_page.report = None
        recent = [str(path)] + [p for p in self.recent_plans() if p != str(path)]
        store = settings()
        store.setValue("recent_plans", recent[:MAX_RECENT])
        store.setValue("last_plan", str(path))

    def recent_plans(self) -> list[str]:
        """Recently opened plans, newest first (those that still exist)."""
        value: Any = settings().value("recent_plans", [])
        if isinstance(value, str):
            value = [value]
        return [str(p) for p in (value or []) if Path(str(p)).is_file()]

    def save_plan(self) -> None:
        """Write the plan back to its file (after the Connect page changed the target)."""
        try:
            self.state.save_plan()
        except FerryError as exc:
            self.runner.show_error(exc)

    def go_to(self, page_id: PageId) -> bool:
        """From Start, open a page off the usual path (the run history, the cutover); Back
        returns to Start. False when Start could not be left."""
        self.detour = page_id
        self.next()
        if self.currentId() != page_id:
            self.detour = None
        return self.currentId() == page_id

    def _page_changed(self, page_id: int) -> None:
        if page_id == PageId.START:
            self.detour = None  # back on Start: Next takes the usual path again
        # The run history is a last page that Back must leave (to Start), not a dead end.
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage, page_id != PageId.RUNS)

    def _hold_back(self, *_args: object) -> None:
        """No going Back while a job runs (its page would be left with the job half done)."""
        if self.runner.busy:
            self.button(QWizard.WizardButton.BackButton).setEnabled(False)

    # -- closing --------------------------------------------------------------------------------
    def unsaved(self) -> str:
        """What closing now would lose, besides a running job ("" when nothing)."""
        page = self.currentPage()
        return page.unsaved() if isinstance(page, FerryPage) else ""

    def confirm_discard(self, what: str) -> bool:
        """Ask whether to close and lose ``what``; True when the user agrees."""
        answer = QMessageBox.question(
            self,
            "Close Ferry?",
            f"{what[:1].upper()}{what[1:]} would be lost. Close anyway?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    def _may_close(self) -> bool:
        """True when closing may proceed now: no job runs (else cancel, if agreed, and close
        later) and nothing unsaved, or the user agreed to lose it (asked once per close)."""
        if not self._stop_then_close():
            return False
        if self._close_confirmed:
            return True
        what = self.unsaved()
        if what and not self.confirm_discard(what):
            return False
        self._close_confirmed = True
        return True

    def confirm_stop(self) -> bool:
        """Ask whether to cancel the running job; True when the user agrees."""
        answer = QMessageBox.question(
            self,
            "Stop Ferry?",
            f"A {self.runner.job} is running. Cancel it (everything it wrote is rolled back) "
            "and close?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    def _stop_then_close(self) -> bool:
        """True when closing may proceed now; otherwise cancel (if agreed) and close later."""
        if not self.runner.busy:
            return True
        if self._close_when_idle or self.confirm_stop():
            self._close_when_idle = True
            self.runner.cancel()
        return False

    def _job_ended(self, _job: str) -> None:
        if self._close_when_idle:
            self._close_when_idle = False
            self.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._may_close():
            event.ignore()
            return
        self.start_page.stop_describing()
        settings().setValue("geometry", self.saveGeometry())
        super().closeEvent(event)  # calls reject(): asked already, not again
        self._close_confirmed = False

    def reject(self) -> None:
        """Esc or Cancel: close, asking first when a job runs or something is unsaved."""
        if self._may_close():
            settings().setValue("geometry", self.saveGeometry())
            super().reject()
        self._close_confirmed = False
