"""Migrate: one progress bar per table and overall, live counts, rows/s, ETA, a log, Cancel.

With "Keep in sync" the migration runs as the engine's sync loop instead (:func:`ferry.api.sync`):
one journaled migrate run per cycle while the app keeps writing, the cycles in a live table
with the freeze-window estimate, Stop ending the loop between cycles (a stop during a cycle
rolls that cycle back: the engine's doing, the table says so). The page then leads to the
cutover instead of the verification.

The module is a little long because both ways of running share one set of progress lines and
one log: splitting the sync half out would split the event handling they both go through."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from html import escape
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
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
from ferry.api import SyncResult, freeze_line, migrate, sync
from ferry.api import backup as take_backup
from ferry.events import (
    BackupTaken,
    RowRejected,
    RunWarning,
    StepFinished,
    StepStarted,
    SyncCycle,
    TableFinished,
    TableProgress,
)
from ferry.results import RunResult

from ..counts import counts_html
from ..durationbox import DurationBox
from ..models import RowsModel
from ..pageids import PageId
from .base import FerryPage, show_progress, table_view, wrapped_label

#: the cycles table's columns
CYCLE_HEADERS = ["cycle", "started", "duration", "rows changed", "per table", "behind"]
#: seconds between two sync cycles unless the operator says otherwise (``ferry sync``'s default)
DEFAULT_EVERY = 30
#: the intervals offered (0: one cycle after the other)
SYNC_INTERVALS = (0, 1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)


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


def cycle_row(cycle: SyncCycle) -> list[Any]:
    """One row of the cycles table."""
    per_table = " · ".join(f"{name} {count:,}" for name, count in cycle.changed.items() if count)
    return [
        cycle.cycle,
        cycle.started_at.astimezone().strftime("%H:%M:%S"),
        f"{cycle.seconds:.2f} s",
        cycle.changed_total,
        per_table or "no rows changed",
        f"{cycle.behind:.2f} s",
    ]


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
        # "Keep in sync": the engine's sync loop instead of one run, every N seconds.
        self.sync_box = QCheckBox("&Keep in sync while the app keeps writing, every")
        self.sync_box.setToolTip(
            "Run delta syncs in a loop (each cycle one journaled migration) until Stop; then "
            "the cutover, with the application stopped"
        )
        self.every = DurationBox(SYNC_INTERVALS, DEFAULT_EVERY)
        self.every.setEnabled(False)
        self.sync_box.toggled.connect(self._sync_chosen)
        self.cycles = RowsModel(CYCLE_HEADERS)
        self.cycles_view = table_view(self.cycles)
        self.freeze = wrapped_label()
        self.sync_panel = QWidget()
        panel = QVBoxLayout(self.sync_panel)
        panel.setContentsMargins(0, 0, 0, 0)
        panel.addWidget(QLabel("Sync cycles (each one journaled migration):"))
        panel.addWidget(self.cycles_view, 1)
        panel.addWidget(self.freeze)
        self.sync_panel.hide()
        #: the cycles committed by the running (or last) sync loop
        self.seen_cycles: list[SyncCycle] = []
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
        sync_row = QHBoxLayout()
        sync_row.addWidget(self.sync_box)
        sync_row.addWidget(self.every)
        sync_row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(sync_row)
        layout.addLayout(buttons)
        layout.addWidget(self.overall_label)
        layout.addWidget(scroll, 3)
        layout.addWidget(self.sync_panel, 3)
        layout.addWidget(QLabel("Log:"))
        layout.addWidget(self.log, 2)
        layout.addWidget(self.status)
        self.start_button.clicked.connect(self.start_migration)
        self.set_tab_order(
            self.sync_box,
            self.every,
            self.start_button,
            self.cancel_button,
            self.cycles_view,
            self.log,
        )
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
        wizard = self.ferry()
        ran = wizard.run_result is not None or wizard.sync_result is not None
        return ran and not self.runner.busy

    def nextId(self) -> int:
        """After a sync loop the cutover comes next (it verifies); else the verification."""
        wizard = self.ferry()
        if wizard is not None and wizard.sync_result is not None:
            return int(PageId.CUTOVER)
        return int(PageId.VERIFY)

    def cancelling(self) -> None:
        if self.runner.job == "sync":
            self.status.setText(
                "Stopping: between cycles the loop just ends; a cycle under way is rolled back …"
            )
        else:
            self.status.setText("Cancelling: rolling back …")

    def _sync_chosen(self, chosen: bool) -> None:
        self.every.setEnabled(chosen)
        self.sync_panel.setVisible(chosen or bool(self.seen_cycles))
        self.start_button.setText("Start &syncing" if chosen else "&Migrate now")

    def _line(self, table: str) -> TableLine:
        line = self.lines.get(table)
        if line is None:
            row = len(self.lines)
            bar = QProgressBar()
            rate, counts = QLabel(), QLabel()
            counts.setTextFormat(Qt.TextFormat.RichText)
            self.grid.addWidget(QLabel(table), row, 0)
            self.grid.addWidget(bar, row, 1)
            self.grid.addWidget(rate, row, 2)
            self.grid.addWidget(counts, row, 3)
            line = self.lines[table] = TableLine(bar, rate, counts)
            show_progress(bar, 0, line.total)
        return line

    def _reset_lines(self) -> None:
        for line in self.lines.values():
            line.banked = line.last = 0
            line.finished.clear()
            show_progress(line.bar, 0, line.total)
            line.counts.setText("")
            line.rate.setText("")

    def start_migration(self) -> bool:
        """Run the migration for real, linked to the backup taken on the Backup page (the
        engine takes one first when there is none yet and it was not skipped); with "Keep in
        sync" ticked, the sync loop (:meth:`start_sync`)."""
        if self.sync_box.isChecked():
            return self.start_sync()
        wizard = self.ferry()
        plan = wizard.plan
        assert plan is not None
        skip_backup = wizard.backup_skipped
        self._reset_lines()
        self.start_button.setEnabled(False)
        self.sync_box.setEnabled(False)
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

    def start_sync(self) -> bool:
        """Run the engine's sync loop, a cycle every ``every`` seconds until Stop; the backup
        of the Backup page (or one taken now, unless skipped) is journaled with the first."""
        wizard = self.ferry()
        plan = wizard.plan
        assert plan is not None
        skip_backup = wizard.backup_skipped
        every = float(self.every.seconds())
        self._reset_lines()
        self.seen_cycles = []
        self.cycles.set_rows([])
        self.freeze.setText("")
        self.sync_panel.show()
        self.start_button.setEnabled(False)
        self.sync_box.setEnabled(False)
        self.every.setEnabled(False)
        self.cancel_button.setText("S&top syncing")
        self.log.clear()
        self.status.setText(f"Syncing every {every:g} s; Stop ends the loop between cycles.")
        self.started_at = time.perf_counter()
        self.runner.events.connect(self.on_events)

        async def job(emit: Any, cancel: Any) -> SyncResult:
            taken = wizard.backup
            if taken is None and not skip_backup:
                taken = await take_backup(plan, emit=emit, cancel=cancel)
                wizard.backup = taken  # kept for the Finish page and the run history
                emit(BackupTaken(taken))
            info = taken.to_dict() if taken is not None else None
            return await sync(plan, every=every, emit=emit, cancel=cancel, backup=info)

        started = self.run_job("sync", job, self._synced, self._sync_failed)
        if not started:
            self._sync_stopped()
        return started

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
                show_progress(line.bar, line.done, line.total)
                eta = eta_text(line.total - line.done, event.rows_per_second)
                line.rate.setText(f"{event.rows_per_second:,.0f} rows/s  {eta}")
            elif isinstance(event, TableFinished):
                line = self._line(event.table)
                if line.done:  # the total was the source's estimate (an upper bound)
                    line.total = line.done
                    show_progress(line.bar, line.done, line.total)
                for key, value in event.counts.items():
                    line.finished[key] = line.finished.get(key, 0) + value
                line.counts.setText(counts_html(line.finished))
                shown = ", ".join(f"{v:,} {k}" for k, v in event.counts.items() if v)
                self.log.appendPlainText(
                    f"{event.table}: {shown or 'nothing'} ({event.seconds:.2f} s)"
                )
            elif isinstance(event, SyncCycle):
                self._cycle_done(event)
            elif isinstance(event, StepStarted):
                self.log.appendPlainText(f"▶ {event.step} {event.detail}".rstrip())
            elif isinstance(event, StepFinished):
                self.log.appendPlainText(f"✓ {event.step} ({event.seconds:.2f} s)")
            elif isinstance(event, RunWarning):
                self.log.appendPlainText(f"warning: {event.message}")
            elif isinstance(event, RowRejected):
                self.log.appendPlainText(f"rejected {event.table} {event.key}: {event.reason}")
        self._overall()

    def _cycle_done(self, cycle: SyncCycle) -> None:
        """A committed cycle: its row, the freeze-window figure; the bars start again."""
        self.seen_cycles.append(cycle)
        self.cycles.set_rows([cycle_row(c) for c in self.seen_cycles])
        self.cycles_view.scrollToBottom()
        self.freeze.setText(f"<b>Freeze window:</b> {freeze_line(self.seen_cycles)}.")
        self.log.appendPlainText(
            f"cycle {cycle.cycle}: {cycle.changed_total:,} rows changed in "
            f"{cycle.seconds:.2f} s (run {cycle.run_id})"
        )
        self._reset_lines()
        self.started_at = time.perf_counter()

    def _overall(self) -> None:
        total = sum(line.total for line in self.lines.values())
        done = sum(min(line.done, line.total) for line in self.lines.values())
        show_progress(self.overall, done, total, "%p% overall")
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

    def _sync_stopped(self) -> None:
        self.cancel_button.setText("&Cancel migration")
        self.start_button.setEnabled(True)
        self.sync_box.setEnabled(True)
        self.every.setEnabled(self.sync_box.isChecked())

    def _synced(self, result: Any) -> None:
        """The loop stopped between cycles (Stop): every cycle committed."""
        assert isinstance(result, SyncResult)
        self._stop()
        self._sync_stopped()
        self._sync_ended(result)

    def _sync_failed(self, exc: BaseException) -> None:
        """Stopped during a cycle (rolled back by the engine) or a cycle failed: the cycles
        before it stay committed."""
        self._stop()
        self._sync_stopped()
        plan = self.ferry().plan
        assert plan is not None
        number = len(self.seen_cycles) + 1
        verdict = "stopped during the cycle" if isinstance(exc, Cancelled) else "failed"
        self.cycles.set_rows(
            [cycle_row(c) for c in self.seen_cycles]
            + [[number, "", "", "", f"{verdict}: rolled back, nothing of it kept", ""]]
        )
        message = exc.message if isinstance(exc, Cancelled) else str(exc)
        self.log.appendPlainText(message)
        if self.seen_cycles:
            every = float(self.every.seconds())
            self._sync_ended(SyncResult(plan.name, every, list(self.seen_cycles), "cancelled"))
        then = " Next: the cutover, once the application is stopped." if self.seen_cycles else ""
        self.status.setText(f"<b>{escape(message)}</b>{then}")

    def _sync_ended(self, result: SyncResult) -> None:
        wizard = self.ferry()
        wizard.sync_result = result if result.cycles else None
        for line in self.lines.values():  # the bars start each cycle again: none runs now
            line.bar.setValue(line.bar.maximum())
            line.rate.setText("")
        self.overall.setValue(self.overall.maximum())
        last = result.cycles[-1] if result.cycles else None
        self.overall_label.setText(
            f"{len(result.cycles)} cycle(s); the last: {last.changed_total:,} rows changed in "
            f"{last.seconds:.2f} s"
            if last is not None
            else "No cycle committed."
        )
        self.status.setText(
            f"<b>Sync stopped</b> after {len(result.cycles)} cycle(s), each journaled. "
            + (
                "Next: the cutover, once the application is stopped."
                if result.cycles
                else "Nothing ran."
            )
        )

    def _failed(self, exc: BaseException) -> None:
        self._stop()
        self.start_button.setEnabled(True)
        self.sync_box.setEnabled(True)
        if isinstance(exc, Cancelled):
            self.status.setText(f"<b>{exc.message}</b>")
            self.log.appendPlainText(exc.message)
        else:
            self.status.setText(f"The migration failed; the target is unchanged: {exc}")
