"""Run history: every run of the plan's target (:func:`ferry.api.runs`), and what can be done
with a past one — open its report, verify the target now, undo exactly that run, roll back to
its backup — at any time, not only right after a verification failed.

The actions on the selected run are a list of :class:`RunAction` (a label, when it applies,
what it does): one more action is one more entry, its button made and enabled with the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QHBoxLayout, QMessageBox, QPushButton, QVBoxLayout

from ferry import Cancelled
from ferry.api import (
    RollbackResult,
    RunHistory,
    RunRecord,
    UndoRefused,
    UndoResult,
    VerifyResult,
    rollback,
    runs,
    undo,
    verify,
)

from ..models import RowsModel
from ..rollbacktext import proof_details, proof_line
from .base import FerryPage, table_view, wrapped_label

HEADERS = ["run", "time", "kind", "counts", "verdict", "backup", "undone"]
_GOOD = {"PASS", "completed", "previewed"}
#: a run undone on purpose is no failure (it was red)
_NEUTRAL = {"rolled back", "undone"}


@dataclass(frozen=True)
class RunAction:
    """One thing to do with the selected run."""

    #: the button's text (with its Alt mnemonic)
    label: str
    #: True when the action applies to this run
    applies: Callable[[RunRecord], bool]
    #: do it (a job may start; the page refreshes the list when it ends)
    run: Callable[[RunRecord], Any]
    tooltip: str = ""


def counts_text(record: RunRecord) -> str:
    """``3 new · 1 changed · 10 same`` (empty for a run that counts no rows)."""
    parts = [
        f"{value:,} {label}"
        for value, label in (
            (record.inserted, "new"),
            (record.updated, "changed"),
            (record.unchanged, "same"),
        )
        if value is not None
    ]
    return " · ".join(parts)


def undone_text(record: RunRecord) -> str:
    """Whether a later step undid the run, and which."""
    if record.undone:
        return "undone"
    if record.rolled_back:
        return f"rolled back by {record.rolled_back_by}" if record.rolled_back_by else "rolled back"
    return ""


def record_row(record: RunRecord) -> list[Any]:
    """One row of the runs table."""
    return [
        record.run_id,
        record.started_at.astimezone().strftime("%Y-%m-%d %H:%M:%S"),
        record.kind,
        counts_text(record),
        record.verdict_text.replace("_", " "),  # "rolled_back": a word, not an identifier
        record.backup_id or "",
        undone_text(record),
    ]


class RunsPage(FerryPage):
    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Run history")
        self.setSubTitle(
            "Every run of this plan's target, oldest first. Select one to open its report, "
            "verify the target now, undo exactly that run, or roll back to the backup it took."
        )
        self.model = RowsModel(HEADERS)
        self.model.colour = self._colour
        self.view = table_view(self.model)
        self.view.selectionModel().selectionChanged.connect(lambda *_: self._enable())
        self.status = wrapped_label()
        self.refresh_button = QPushButton("Re&load")
        self.refresh_button.clicked.connect(self.refresh)
        self.cancel_button.setText("&Cancel")
        #: the actions on the selected run, in button order
        self.actions: list[RunAction] = [
            RunAction(
                "Open &report",
                lambda r: bool(r.report_path),
                self.open_report,
                "The run's HTML report, in the browser",
            ),
            RunAction(
                "&Verify the target now",
                lambda _r: True,
                self.start_verify,
                "Compare the plan's sources with the target (the target is only read)",
            ),
            RunAction(
                "&Undo this run…",
                lambda r: r.kind == "migrate" and not r.undone and not r.rolled_back,
                self.ask_undo,
                "Revert exactly what this run changed, never a row the app changed since",
            ),
            RunAction(
                "R&oll back to its backup…",
                lambda r: bool(r.backup_id),
                self.ask_rollback,
                "Restore the target from the backup this run took; the history is kept",
            ),
        ]
        self.action_buttons: list[QPushButton] = []
        buttons = QHBoxLayout()
        for action in self.actions:
            button = QPushButton(action.label)
            button.setToolTip(action.tooltip)
            button.clicked.connect(lambda _=False, a=action: self._trigger(a))
            self.action_buttons.append(button)
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.refresh_button)
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.view, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        self.set_tab_order(self.view, *self.action_buttons, self.refresh_button, self.cancel_button)
        #: the runs listed, as the table shows them
        self.records: list[RunRecord] = []
        self.history: RunHistory | None = None
        #: opens a report (tests replace it)
        self.open_url = QDesktopServices.openUrl
        self._enable()

    def initializePage(self) -> None:
        self.model.set_rows([])
        self.records = []
        self.status.setText("")
        self.refresh()

    def nextId(self) -> int:
        return -1

    def isComplete(self) -> bool:
        return not self.runner.busy

    def _colour(self, row: int, column: int) -> str | None:
        if column != 4:
            return None
        verdict = self.model.rows[row][4]
        if verdict in _NEUTRAL:
            return None
        return "pass" if verdict in _GOOD else "fail"

    def selected(self) -> RunRecord | None:
        """The run selected in the table (None when none is)."""
        rows = self.view.selectionModel().selectedRows()
        if not rows or rows[0].row() >= len(self.records):
            return None
        return self.records[rows[0].row()]

    def select(self, run_id: str) -> bool:
        """Select the run ``run_id``; False when it is not listed."""
        for row, record in enumerate(self.records):
            if record.run_id == run_id:
                self.view.selectRow(row)
                return True
        return False

    def _enable(self) -> None:
        record = self.selected()
        idle = self.wizard() is None or not self.runner.busy
        for action, button in zip(self.actions, self.action_buttons, strict=True):
            button.setEnabled(idle and record is not None and action.applies(record))
        self.refresh_button.setEnabled(idle)

    def _trigger(self, action: RunAction) -> None:
        record = self.selected()
        if record is not None and action.applies(record):
            action.run(record)

    # -- the list ---------------------------------------------------------------------------
    def refresh(self) -> bool:
        """Read the history again (the target is only read)."""
        plan = self.ferry().plan
        assert plan is not None

        async def job(emit: Any, cancel: Any) -> RunHistory:
            return await runs(plan, emit=emit, cancel=cancel)

        return self._run("runs", job, self._listed)

    def _listed(self, history: Any) -> None:
        assert isinstance(history, RunHistory)
        chosen = self.selected()
        self.history = history
        self.records = list(history.runs)
        self.model.set_rows([record_row(r) for r in self.records])
        if chosen is not None:
            self.select(chosen.run_id)
        elif self.records:
            self.view.selectRow(len(self.records) - 1)  # the newest
        if not self.records:
            self.status.setText(f"No runs yet on {escape(history.target)}.")
        self._enable()

    def _run(
        self,
        name: str,
        factory: Any,
        on_success: Callable[[Any], None],
        then_refresh: bool = False,
    ) -> bool:
        """Run a job with the buttons held; with ``then_refresh``, list the runs again after
        it (whatever its outcome: a failed step may have left a report)."""

        def failed(exc: BaseException) -> None:
            if isinstance(exc, Cancelled):
                self.status.setText(f"<b>{escape(exc.message)}</b>")
            elif isinstance(exc, UndoRefused):
                self.status.setText(
                    f"<b>Not undone</b> (the target is unchanged): {escape(exc.message)}"
                    + (f"<br>{escape(exc.hint)}" if exc.hint else "")
                )
            else:
                self.status.setText(f"The {name} failed: {escape(str(exc))}")

        def ended(job: str) -> None:
            if job == name:
                self.runner.ended.disconnect(ended)
                self._enable()
                if then_refresh:  # once this job's own end is handled
                    QTimer.singleShot(0, self.refresh)

        self.runner.ended.connect(ended)
        started = self.run_job(name, factory, on_success, failed)
        if not started:
            self.runner.ended.disconnect(ended)
        self._enable()
        return started

    # -- the actions ------------------------------------------------------------------------
    def open_report(self, record: RunRecord) -> None:
        """Open the run's report (HTML) in the browser."""
        if record.report_path:
            self.open_url(QUrl.fromLocalFile(str(Path(record.report_path))))

    def start_verify(self, _record: RunRecord | None = None) -> bool:
        """Verify the target against the plan's sources now; the verification is a run too."""
        plan = self.ferry().plan
        assert plan is not None
        self.status.setText("Verifying …")

        async def job(emit: Any, cancel: Any) -> VerifyResult:
            return await verify(plan, emit=emit, cancel=cancel)

        return self._run("verify", job, self._verified, then_refresh=True)

    def _verified(self, result: Any) -> None:
        assert isinstance(result, VerifyResult)
        self.ferry().verify_result = result
        colour = "#2ea043" if result.passed else "#da3633"
        self.status.setText(
            f"Verification: <b style='color:{colour}'>{result.verdict}</b>"
            + (f" — report {escape(result.report_path)}" if result.report_path else "")
        )

    def ask_undo(self, record: RunRecord) -> None:
        """Confirm, then undo exactly the run."""
        answer = QMessageBox.question(
            self,
            "Undo this run?",
            f"Revert exactly what run {record.run_id} changed, in one transaction? Rows the "
            "app changed since are never overwritten: the undo then stops and lists them.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.start_undo(record)

    def start_undo(self, record: RunRecord) -> bool:
        """Undo the run; the undo is a journaled run with a report too."""
        plan = self.ferry().plan
        assert plan is not None
        run_id = record.run_id
        self.status.setText(f"Undoing run {escape(run_id)} …")

        async def job(emit: Any, cancel: Any) -> UndoResult:
            return await undo(plan, emit=emit, cancel=cancel, run_id=run_id)

        return self._run("undo", job, self._undone, then_refresh=True)

    def _undone(self, result: Any) -> None:
        assert isinstance(result, UndoResult)
        self.status.setText(
            f"Undid run <b>{escape(result.undone_run)}</b> (undo {escape(result.run_id)})"
            + (f" — report {escape(result.report_path)}" if result.report_path else "")
        )

    def ask_rollback(self, record: RunRecord) -> None:
        """Confirm, then roll back to the run's backup."""
        answer = QMessageBox.warning(
            self,
            "Roll back?",
            f"Restore the target from backup {record.backup_id} (taken by run "
            f"{record.run_id})? Every run after it is undone; the history is kept.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.start_rollback(record)

    def start_rollback(self, record: RunRecord) -> bool:
        """Restore the target from the run's backup; the rollback is a journaled run too."""
        plan = self.ferry().plan
        assert plan is not None and record.backup_id
        backup_id = record.backup_id
        self.status.setText(f"Rolling back to backup {escape(backup_id)} …")

        async def job(emit: Any, cancel: Any) -> RollbackResult:
            return await rollback(plan, emit=emit, cancel=cancel, backup_id=backup_id)

        return self._run("rollback", job, self._rolled_back, then_refresh=True)

    def _rolled_back(self, result: Any) -> None:
        assert isinstance(result, RollbackResult)
        self.ferry().rollback_result = result
        undone = ", ".join(result.rolled_back_runs) or "none"
        self.status.setText(
            f"Rolled back to backup <b>{escape(result.backup_id)}</b> (run "
            f"{escape(result.run_id)}); runs undone: {escape(undone)}; "
            + escape(proof_line(result))
            + "."
        )
        self.status.setToolTip(proof_details(result))
