"""Cutover: the freeze window's final sync, with the application stopped.

Two steps, both the engine's. **Check sources** runs the quiet check alone
(:func:`ferry.api.check_quiet`: no writer, nothing changed for the settle time, the app's lock
file gone), with a countdown, one line per source; it writes nothing and may be run as often as
wanted. **Cut over** (enabled once the sources were quiet) runs :func:`ferry.api.cutover`, which
checks again, backs up, runs the final sync, verifies and writes the reverse plan and the
cutover report; the page shows its verdict, what to switch the app to, and a refusal with its
reasons (a source that was not quiet, or changed during the final sync).
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
)

from ferry import Cancelled
from ferry.api import CutoverRefused, CutoverResult, QuietReport, check_quiet, cutover
from ferry.events import SettleCountdown, StepStarted, TableProgress

from ..durationbox import DurationBox
from ..models import RowsModel
from ..pageids import PageId
from .base import FerryPage, table_view, wrapped_label

#: seconds the sources must stay unchanged (``ferry cutover --settle``'s default)
DEFAULT_SETTLE = 5
SETTLE_TIMES = (0, 1, 2, 5, 10, 30, 60, 120, 300)
#: countdown steps per second
_STEPS = 10
_GREEN, _RED, _AMBER = "#2ea043", "#da3633", "#b35c00"


class CutoverPage(FerryPage):
    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Cutover")
        self.setSubTitle(
            "Stop the application first. Ferry checks that its sources stay quiet, runs the "
            "final sync, verifies, and tells what to point the application at."
        )
        self.settle = DurationBox(SETTLE_TIMES, DEFAULT_SETTLE)
        self.settle.setToolTip("How long the sources must stay unchanged")
        settle_label = QLabel("&Settle time:")
        settle_label.setBuddy(self.settle)
        self.rename_box = QCheckBox("&Rename the source files to NAME.migrated after a PASS")
        self.check_button = QPushButton("Chec&k sources")
        self.cutover_button = QPushButton("C&ut over")
        self.cutover_button.setEnabled(False)
        self.cutover_button.setToolTip("Check the sources first: they must be quiet")
        self.cancel_button.setText("&Cancel")
        self.countdown = QProgressBar()
        self.countdown.setRange(0, 1)
        self.countdown.setTextVisible(True)
        self.countdown.setFormat("")
        self.countdown.hide()  # shown while a job runs
        self.verdict = QLabel()
        font = self.verdict.font()
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setBold(True)
        self.verdict.setFont(font)
        self.sources = RowsModel(["source", "kind", "verdict", "what was seen"])
        self.sources.colour = self._quiet_colour
        self.sources_view = table_view(self.sources)
        self.outcome = QTextBrowser()
        self.outcome.setOpenExternalLinks(True)
        self.report_button = QPushButton("Open re&port")
        self.report_button.setEnabled(False)
        self.status = wrapped_label()

        options = QHBoxLayout()
        options.addWidget(settle_label)
        options.addWidget(self.settle)
        options.addSpacing(16)
        options.addWidget(self.rename_box)
        options.addStretch(1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.check_button)
        buttons.addWidget(self.cutover_button)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.countdown, 1)
        buttons.addStretch(0)
        buttons.addWidget(self.report_button)
        layout = QVBoxLayout(self)
        layout.addLayout(options)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        layout.addWidget(self.sources_view, 1)
        layout.addWidget(self.verdict)
        layout.addWidget(self.outcome, 1)
        self.check_button.clicked.connect(self.check_sources)
        self.cutover_button.clicked.connect(self.start_cutover)
        self.report_button.clicked.connect(self.open_report)
        self.set_tab_order(
            self.settle,
            self.rename_box,
            self.check_button,
            self.cutover_button,
            self.cancel_button,
            self.report_button,
            self.sources_view,
            self.outcome,
        )
        #: the last quiet check (None before one ran)
        self.quiet: QuietReport | None = None
        #: the last refusal of a cutover (None when the last one ran to a verdict)
        self.refused: CutoverRefused | None = None
        self.report_path: str | None = None
        #: opens a report (tests replace it)
        self.open_url = QDesktopServices.openUrl

    def initializePage(self) -> None:
        result = self.ferry().cutover_result
        self.status.setText(
            "Stop the application (and anything else writing the sources), then check them."
            if result is None
            else ""
        )

    def nextId(self) -> int:
        return int(PageId.FINISH)

    def isComplete(self) -> bool:
        return not self.runner.busy

    def cancelling(self) -> None:
        self.status.setText("Cancelling: what the cutover wrote is rolled back …")

    def _quiet_colour(self, row: int, column: int) -> str | None:
        if column != 2:
            return None
        return "pass" if self.sources.rows[row][2] == "quiet" else "fail"

    # -- the quiet check ----------------------------------------------------------------------
    def check_sources(self) -> bool:
        """Look at every source, wait the settle time, look again; write nothing."""
        plan = self.ferry().plan
        assert plan is not None
        settle = float(self.settle.seconds())
        self.quiet = None
        self.cutover_button.setEnabled(False)
        self.sources.set_rows([])
        self.status.setText(f"Watching the sources for {settle:g} s …")
        self._busy(settle)

        async def job(emit: Any, cancel: Any) -> QuietReport:
            return await check_quiet(plan, settle=settle, emit=emit, cancel=cancel)

        started = self.run_job("quiet check", job, self._checked, self._check_failed)
        if not started:
            self._idle()
        return started

    def _checked(self, report: Any) -> None:
        assert isinstance(report, QuietReport)
        self._idle()
        self.quiet = report
        self.sources.set_rows(
            [
                [
                    e.name,
                    e.kind,
                    "quiet" if e.quiet else "NOT QUIET",
                    "; ".join(e.reasons + e.notes),
                ]
                for e in report.entries
            ]
        )
        self.cutover_button.setEnabled(report.quiet)
        if report.quiet:
            self.status.setText(
                f"<span style='color:{_GREEN}'><b>Quiet</b></span> for {report.settle:g} s: "
                "ready for the cutover."
            )
        else:
            reasons = escape("; ".join(report.reasons))
            self.status.setText(
                f"<span style='color:{_RED}'><b>Not quiet:</b></span> {reasons}. Stop the "
                "application, then check again."
            )

    def _check_failed(self, exc: BaseException) -> None:
        self._idle()
        if isinstance(exc, Cancelled):
            self.status.setText("Check cancelled; nothing was changed.")
        else:
            self.status.setText(f"The sources could not be checked: {escape(str(exc))}")

    # -- the cutover --------------------------------------------------------------------------
    def start_cutover(self) -> bool:
        """The final sync: checked quiet again, backed up, synced, verified, reported."""
        wizard = self.ferry()
        plan = wizard.plan
        assert plan is not None
        settle = float(self.settle.seconds())
        rename = self.rename_box.isChecked()
        self.refused = None
        self.verdict.setText("Cutting over …")
        self.verdict.setStyleSheet("")
        self.outcome.clear()
        self.report_button.setEnabled(False)
        self.check_button.setEnabled(False)
        self.cutover_button.setEnabled(False)
        self.status.setText(f"Checking the sources stay quiet for {settle:g} s …")
        self._busy(settle)

        async def job(emit: Any, cancel: Any) -> CutoverResult | CutoverRefused:
            try:
                return await cutover(
                    plan, settle=settle, rename_sources=rename, emit=emit, cancel=cancel
                )
            except CutoverRefused as refused:  # an outcome shown on the page, not an error
                return refused

        started = self.run_job("cutover", job, self._cut_over, self._cutover_failed)
        if not started:
            self._idle()
        return started

    def _cut_over(self, outcome: Any) -> None:
        self._idle()
        if isinstance(outcome, CutoverRefused):
            self._show_refused(outcome)
            return
        assert isinstance(outcome, CutoverResult)
        self.ferry().cutover_result = outcome
        self.report_path = outcome.report_path
        self.report_button.setEnabled(bool(outcome.report_path))
        self.verdict.setText("PASS" if outcome.passed else "FAIL")
        self.verdict.setStyleSheet(f"color: {_GREEN if outcome.passed else _RED};")
        self.outcome.setHtml(cutover_html(outcome))
        self.status.setText(
            "Cut over: point the application at the new store now."
            if outcome.passed
            else "The final sync ran but the verification FAILED: do not switch; see the report."
        )

    def _show_refused(self, refused: CutoverRefused) -> None:
        self.refused = refused
        self.report_path = getattr(refused, "report_path", None)
        self.report_button.setEnabled(bool(self.report_path))
        self.verdict.setText("REFUSED")
        self.verdict.setStyleSheet(f"color: {_AMBER};")
        parts = [
            f"<p><b>The cutover was refused:</b> {escape(refused.message)}</p>",
            f"<p>{escape(refused.hint)}</p>" if refused.hint else "",
        ]
        if self.report_path:
            parts.append(_link("Cutover report", self.report_path))
        self.outcome.setHtml("".join(parts))
        self.status.setText("Refused: see why below.")

    def _cutover_failed(self, exc: BaseException) -> None:
        self._idle()
        # a final sync that failed or was cancelled rolled back; its cutover report says why
        self.report_path = getattr(exc, "report_path", None)
        self.report_button.setEnabled(bool(self.report_path))
        self.verdict.setText("Not cut over")
        self.verdict.setStyleSheet("")
        if isinstance(exc, Cancelled):
            self.status.setText(f"<b>{escape(exc.message)}</b>")
        else:
            self.status.setText(f"The cutover failed: {escape(str(exc))}")

    # -- shared ---------------------------------------------------------------------------------
    def _busy(self, settle: float) -> None:
        self.check_button.setEnabled(False)
        self.countdown.setRange(0, max(int(settle * _STEPS), 1))
        self.countdown.setValue(0)
        self.countdown.setFormat("")
        self.countdown.show()
        self.runner.events.connect(self._on_events)

    def _idle(self) -> None:
        self.runner.events.disconnect(self._on_events)
        self.check_button.setEnabled(True)
        self.countdown.setRange(0, 1)
        self.countdown.setValue(0)
        self.countdown.setFormat("")
        self.countdown.hide()

    def _on_events(self, events: list[Any]) -> None:
        for event in events:
            if isinstance(event, SettleCountdown):
                steps = max(int(event.settle * _STEPS), 1)
                self.countdown.setRange(0, steps)
                self.countdown.setValue(steps - int(event.seconds_left * _STEPS))
                self.countdown.setFormat(f"quiet? {event.seconds_left:.0f} s left")
            elif isinstance(event, StepStarted):
                self.countdown.setRange(0, 0)  # busy, no countdown
                self.status.setText(f"{event.step} {event.detail}".strip() + " …")
            elif isinstance(event, TableProgress):
                self.status.setText(f"final sync: {event.table}, {event.rows_done:,} rows")

    def open_report(self) -> None:
        """Open the cutover report in the browser."""
        if self.report_path:
            self.open_url(QUrl.fromLocalFile(str(Path(self.report_path))))


def cutover_html(result: CutoverResult) -> str:
    """The cutover's outcome: the freeze window, the final sync, the verdict, what to switch."""
    changed = ", ".join(f"{name} {n:,}" for name, n in result.final_changed.items() if n)
    parts = [
        f"<p>Freeze window: <b>{result.seconds:.1f} s</b> (from "
        f"{result.started_at.astimezone():%H:%M:%S}; settle time {result.settle:g} s).</p>",
        f"<p>Final sync: run <b>{escape(result.final_run_id or '')}</b> in "
        f"{result.final_seconds or 0:.2f} s; rows changed: {escape(changed or 'none')}.</p>",
        f"<p>Verification: <b>{escape(result.verdict or 'not run')}</b>.</p>",
    ]
    if result.passed:
        parts.append(
            "<h3>What to switch</h3><p>Point the application at "
            f"<code>{escape(result.switch_to)}</code> and start it.</p>"
        )
    if result.reverse_plan:
        parts.append(
            f"<p>Reverse plan: <code>{escape(result.reverse_plan)}</code> — "
            f"<code>ferry sync {escape(result.reverse_plan)}</code> keeps the old store current, "
            "so going back to the old app loses nothing the new one writes.</p>"
        )
    if result.reverse_notes:  # what it does not carry back (tables fed by JSON files…)
        notes = "".join(f"<li>{escape(n)}</li>" for n in result.reverse_notes)
        parts.append(f"<p>The reverse plan's notes:</p><ul>{notes}</ul>")
    if result.renamed:
        parts.append("<p>Renamed: " + escape("; ".join(result.renamed)) + "</p>")
    if result.backup_id:
        parts.append(f"<p>Backup before the final sync: <b>{escape(result.backup_id)}</b>.</p>")
    parts += [f"<p style='color:{_AMBER}'>{escape(w)}</p>" for w in result.warnings]
    if result.report_path:
        parts.append(_link("Cutover report", result.report_path))
    return "".join(parts)


def _link(label: str, path: str) -> str:
    url = QUrl.fromLocalFile(path).toString()
    return f'<p>{label}: <a href="{escape(url)}">{escape(path)}</a></p>'
