"""Migrate: one progress bar per table and overall, live counts, rows/s, ETA, a log, Cancel."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from ferry import Cancelled
from ferry.api import migrate
from ferry.events import (
    BackupTaken,
    RowRejected,
    RunWarning,
    StepFinished,
    StepStarted,
    TableFinished,
    TableProgress,
)
from ferry.results import RunResult

from ..counts import counts_html
from .base import FerryPage, wrapped_label


@dataclass
class TableLine:
    """The widgets and numbers of one table's row."""

    bar: QProgressBar
    rate: QLabel
    counts: QLabel
    total: int = 0
    banked: int = 0
    last: int = 0
    finished: dict[str, int] = field(default_factory=dict)

    @property
    def done(self) -> int:
        return self.banked + self.last


def eta_text(remaining: int, rate: float) -> str:
    """``ETA 0:12`` or an empty string when it cannot be told."""
    if rate <= 0 or remaining <= 0:
        return ""
    seconds = int(remaining / rate)
    return f"ETA {seconds // 60}:{seconds % 60:02d}"


class MigratePage(FerryPage):
    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Migrate")
        self.setSubTitle(
            "Everything runs in one transaction: Cancel rolls it back and leaves the target as "
            "it was."
        )
        self.setCommitPage(True)
        self.start_button = QPushButton("&Migrate now")
        self.cancel_button.setText("&Cancel migration")
        self.overall = QProgressBar()
        self.overall.setFormat("%p% overall")
        self.overall_label = wrapped_label()
        self.status = wrapped_label()
        self.grid_widget = QWidget()
        grid_box = QVBoxLayout(self.grid_widget)
        self.grid = QGridLayout()
        self.grid.setColumnStretch(1, 1)
        grid_box.addLayout(self.grid)
        grid_box.addStretch(1)
        scroll = QScrollArea()
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # it holds nothing to type into
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.grid_widget)
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setTabChangesFocus(True)
        self.log.setMaximumBlockCount(2000)
        buttons = QHBoxLayout()
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.overall, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.overall_label)
        layout.addWidget(scroll, 3)
        layout.addWidget(QLabel("Log:"))
        layout.addWidget(self.log, 2)
        layout.addWidget(self.status)
        self.start_button.clicked.connect(self.start_migration)
        self.set_tab_order(self.start_button, self.cancel_button, self.log)
        self.lines: dict[str, TableLine] = {}
        self.started_at = 0.0

    def initializePage(self) -> None:
        preview = self.ferry().preview_result
        if preview is not None and not self.lines:
            totals: dict[str, int] = {}
            for table in preview.tables:
                totals[table.name] = totals.get(table.name, 0) + table.rows_read
            for name, total in totals.items():
                self._line(name).total = total
        self._overall()

    def isComplete(self) -> bool:
        return self.ferry().run_result is not None and not self.runner.busy

    def cancelling(self) -> None:
        self.status.setText("Cancelling: rolling back …")

    def _line(self, table: str) -> TableLine:
        line = self.lines.get(table)
        if line is None:
            row = len(self.lines)
            bar = QProgressBar()
            bar.setFormat("%v / %m")
            rate, counts = QLabel(), QLabel()
            counts.setTextFormat(Qt.TextFormat.RichText)
            self.grid.addWidget(QLabel(table), row, 0)
            self.grid.addWidget(bar, row, 1)
            self.grid.addWidget(rate, row, 2)
            self.grid.addWidget(counts, row, 3)
            line = self.lines[table] = TableLine(bar, rate, counts)
            bar.setMaximum(max(line.total, 1))
        return line

    def start_migration(self) -> bool:
        """Run the migration for real, linked to the backup taken on the Backup page (the
        engine takes one first when there is none yet and it was not skipped)."""
        wizard = self.ferry()
        plan = wizard.plan
        assert plan is not None
        skip_backup = wizard.backup_skipped
        for line in self.lines.values():
            line.banked = line.last = 0
            line.finished.clear()
            line.bar.setValue(0)
            line.counts.setText("")
            line.rate.setText("")
        self.start_button.setEnabled(False)
        self.log.clear()
        self.status.setText("Migrating …")
        self.started_at = time.perf_counter()
        self.runner.events.connect(self.on_events)

        async def job(emit: Any, cancel: Any) -> RunResult:
            def seen(event: Any) -> None:
                if isinstance(event, BackupTaken):  # kept for the Finish and Verify pages
                    wizard.backup = event.backup
                emit(event)

            # No backup of this target yet (e.g. it changed on the Connect page): the engine
            # takes one first, unless the operator skipped it on the Backup page.
            backup = wizard.backup if wizard.backup is not None else not skip_backup
            return await migrate(plan, emit=seen, cancel=cancel, backup=backup)

        return self.run_job("migrate", job, self._migrated, self._failed)

    def on_events(self, events: list[Any]) -> None:
        """Show a coalesced batch of engine events."""
        for event in events:
            if isinstance(event, TableProgress):
                line = self._line(event.table)
                if event.rows_done < line.last:
                    line.banked += line.last
                line.last = event.rows_done
                if event.rows_total is not None and not line.total:
                    line.total = event.rows_total
                line.total = max(line.total, line.done)
                line.bar.setMaximum(max(line.total, 1))
                line.bar.setValue(line.done)
                eta = eta_text(line.total - line.done, event.rows_per_second)
                line.rate.setText(f"{event.rows_per_second:,.0f} rows/s  {eta}")
            elif isinstance(event, TableFinished):
                line = self._line(event.table)
                if line.done:  # the total was the source's estimate (an upper bound)
                    line.total = line.done
                    line.bar.setMaximum(line.total)
                    line.bar.setValue(line.done)
                for key, value in event.counts.items():
                    line.finished[key] = line.finished.get(key, 0) + value
                line.counts.setText(counts_html(line.finished))
                shown = ", ".join(f"{v:,} {k}" for k, v in event.counts.items() if v)
                self.log.appendPlainText(
                    f"{event.table}: {shown or 'nothing'} ({event.seconds:.2f} s)"
                )
            elif isinstance(event, StepStarted):
                self.log.appendPlainText(f"▶ {event.step} {event.detail}".rstrip())
            elif isinstance(event, StepFinished):
                self.log.appendPlainText(f"✓ {event.step} ({event.seconds:.2f} s)")
            elif isinstance(event, RunWarning):
                self.log.appendPlainText(f"warning: {event.message}")
            elif isinstance(event, RowRejected):
                self.log.appendPlainText(f"rejected {event.table} {event.key}: {event.reason}")
        self._overall()

    def _overall(self) -> None:
        total = sum(line.total for line in self.lines.values())
        done = sum(min(line.done, line.total) for line in self.lines.values())
        self.overall.setMaximum(max(total, 1))
        self.overall.setValue(done)
        elapsed = time.perf_counter() - self.started_at if self.started_at else 0.0
        rate = done / elapsed if elapsed > 0 else 0.0
        if self.started_at:
            self.overall_label.setText(
                f"{done:,} of {total:,} rows read · {rate:,.0f} rows/s · "
                f"{eta_text(total - done, rate)}"
            )
        else:
            self.overall_label.setText(f"{total:,} rows to read in {len(self.lines)} tables.")

    def _stop(self) -> None:
        self.runner.events.disconnect(self.on_events)

    def _migrated(self, result: Any) -> None:
        assert isinstance(result, RunResult)
        self._stop()
        self.ferry().run_result = result
        for line in self.lines.values():
            line.bar.setValue(line.bar.maximum())
            line.rate.setText(line.rate.text().split("ETA")[0].rstrip())
        self.overall.setValue(self.overall.maximum())
        read = sum(t.rows_read for t in result.tables)
        self.overall_label.setText(
            f"{read:,} rows read in {result.seconds:.1f} s · "
            f"{read / max(result.seconds, 1e-6):,.0f} rows/s"
        )
        changed = sum(t.inserted + t.updated + t.deleted for t in result.tables)
        self.status.setText(
            f"<b>Migrated</b> into {result.target} in {result.seconds:.1f} s: {changed:,} rows "
            f"changed, run {result.run_id} journaled."
        )
        self.log.appendPlainText(f"Report: {result.report_path}")

    def _failed(self, exc: BaseException) -> None:
        self._stop()
        self.start_button.setEnabled(True)
        if isinstance(exc, Cancelled):
            self.status.setText(f"<b>{exc.message}</b>")
            self.log.appendPlainText(exc.message)
        else:
            self.status.setText(f"The migration failed; the target is unchanged: {exc}")
