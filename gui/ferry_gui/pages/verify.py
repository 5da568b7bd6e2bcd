"""Verify: per-table checks and assertions with PASS/FAIL, the verdict, the report, rollback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
)

from ferry import Cancelled
from ferry.api import RollbackResult, VerifyResult, rollback, verify
from ferry.events import StepStarted, TableProgress

from ..models import RowsModel, verdict_colour
from ..rollbacktext import proof_details, proof_line
from .base import FerryPage, table_view, wrapped_label

TABLE_HEADERS = [
    "table",
    "source",
    "verdict",
    "expected",
    "in target",
    "matched",
    "mismatched",
    "missing",
    "extra",
    "rejected",
    "orphans",
    "checksum",
]


class VerifyPage(FerryPage):
    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Verify")
        self.setSubTitle(
            "The sources (after transforms) are compared with the target: counts, checksums, "
            "foreign keys and the plan's assertions."
        )
        self.verdict = QLabel()
        font = self.verdict.font()
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setBold(True)
        self.verdict.setFont(font)
        self.tables = RowsModel(TABLE_HEADERS)
        self.tables.colour = verdict_colour(self.tables, 2)
        self.assertions = RowsModel(["assertion", "expected", "actual", "verdict"])
        self.assertions.colour = verdict_colour(self.assertions, 3)
        self.status = wrapped_label()
        self.report_button = QPushButton("Open &report")
        self.report_button.setEnabled(False)
        self.again_button = QPushButton("Verify &again")
        self.rollback_button = QPushButton("R&oll back to the backup…")
        self.rollback_button.setVisible(False)
        self.cancel_button.setText("&Cancel verification")
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setTextVisible(False)
        self.progress.hide()  # shown while the job runs
        self.tables_view = table_view(self.tables)
        self.assertions_view = table_view(self.assertions)
        buttons = QHBoxLayout()
        buttons.addWidget(self.report_button)
        buttons.addWidget(self.again_button)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.progress, 1)
        buttons.addStretch(0)
        buttons.addWidget(self.rollback_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.verdict)
        layout.addWidget(self.tables_view, 2)
        assertions_label = QLabel("A&ssertions:")
        assertions_label.setBuddy(self.assertions_view)
        layout.addWidget(assertions_label)
        layout.addWidget(self.assertions_view, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        self.report_button.clicked.connect(self.open_report)
        self.again_button.clicked.connect(self.start_verify)
        self.rollback_button.clicked.connect(self.ask_rollback)
        self.set_tab_order(
            self.tables_view,
            self.assertions_view,
            self.report_button,
            self.again_button,
            self.cancel_button,
            self.rollback_button,
        )

    def initializePage(self) -> None:
        if self.ferry().verify_result is None and not self.runner.busy:
            self.start_verify()

    def isComplete(self) -> bool:
        return self.ferry().verify_result is not None and not self.runner.busy

    def start_verify(self) -> bool:
        """Run the verification."""
        plan = self.ferry().plan
        assert plan is not None
        self.verdict.setText("Verifying …")
        self.verdict.setStyleSheet("")
        self.status.setText("")
        self.again_button.setEnabled(False)
        self.progress.setRange(0, 0)
        self.progress.show()
        self.runner.events.connect(self._on_events)

        async def job(emit: Any, cancel: Any) -> VerifyResult:
            return await verify(plan, emit=emit, cancel=cancel)

        started = self.run_job("verify", job, self._verified, self._failed)
        if not started:
            self._stopped()
        return started

    def _on_events(self, events: list[Any]) -> None:
        if self.runner.cancel_requested:
            return
        for event in events:
            if isinstance(event, TableProgress):
                self.status.setText(f"Reading {event.table}: {event.rows_done:,} rows")
            elif isinstance(event, StepStarted):
                self.status.setText(f"{event.step} {event.detail}".strip() + " …")

    def _stopped(self) -> None:
        self.runner.events.disconnect(self._on_events)
        self.progress.setRange(0, 1)
        self.progress.hide()
        self.again_button.setEnabled(True)

    def cancelling(self) -> None:
        self.status.setText("Cancelling the verification …")

    def _verified(self, result: Any) -> None:
        assert isinstance(result, VerifyResult)
        self.ferry().verify_result = result
        self._stopped()
        self.verdict.setText(result.verdict)
        colour = "#2ea043" if result.passed else "#da3633"
        self.verdict.setStyleSheet(f"color: {colour};")
        self.tables.set_rows(
            [
                [
                    t.name,
                    t.source,
                    t.verdict,
                    t.expected_rows,
                    t.target_rows,
                    t.matched,
                    t.mismatched,
                    t.missing,
                    t.extra,
                    t.rejected,
                    t.orphans,
                    t.checksum,
                ]
                for t in result.tables
            ]
        )
        self.assertions.set_rows(
            [[a.name, f"{a.op} {a.expect}", a.actual, a.verdict] for a in result.assertions]
        )
        self.report_button.setEnabled(bool(result.report_path))
        self.rollback_button.setVisible(not result.passed)
        self.status.setText(f"Report: {result.report_path}" if result.report_path else "")

    def _failed(self, exc: BaseException) -> None:
        self._stopped()
        self.verdict.setText("Not verified")
        if isinstance(exc, Cancelled):
            self.status.setText(
                "<b>Verification cancelled; the target was only read. Verify again to get "
                "a verdict.</b>"
            )
            return
        self.status.setText(f"The verification could not run: {exc}")
        self.rollback_button.setVisible(True)

    def open_report(self) -> None:
        """Open the HTML report in the browser."""
        result = self.ferry().verify_result
        if result is not None and result.report_path:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(Path(result.report_path))))

    def ask_rollback(self) -> None:
        answer = QMessageBox.warning(
            self,
            "Roll back?",
            "Restore the target from the newest backup? Everything the migration wrote is undone.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.start_rollback()

    def start_rollback(self) -> bool:
        """Restore the target from the backup taken by this session (or the newest)."""
        wizard = self.ferry()
        plan = wizard.plan
        assert plan is not None
        backup_id = wizard.backup.id if wizard.backup is not None else None
        self.status.setText("Rolling back …")

        async def job(emit: Any, cancel: Any) -> RollbackResult:
            return await rollback(plan, emit=emit, cancel=cancel, backup_id=backup_id)

        return self.run_job("rollback", job, self._rolled_back)

    def _rolled_back(self, result: Any) -> None:
        assert isinstance(result, RollbackResult)
        self.ferry().rollback_result = result
        self.rollback_button.setEnabled(False)
        self.status.setText(f"Rolled back to backup {result.backup_id}: {proof_line(result)}.")
        self.status.setToolTip(proof_details(result))
