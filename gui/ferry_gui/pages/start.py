"""Start: open a plan, create one from a folder (the scan), or open the demo.

The module is long because the page is the wizard's front door: opening a plan (with its
problems, questions and plan file), the folder scan with its workspace choice, the detours to
the cutover and the run history, and the live summary of the plan's sources all start here;
the parts it shows are in their own modules (questions, plan lines, workspace choice)."""

from __future__ import annotations

import asyncio
import shutil
import threading
from collections.abc import Sequence
from html import escape
from pathlib import Path
from typing import Any

from PySide6.QtGui import QColor, QFontDatabase, QTextCursor, QTextFormat
from PySide6.QtWidgets import (
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QTabWidget,
    QTextEdit,
    QVBoxLayout,
)

from ferry import FerryError, Plan, load_plan, save_plan
from ferry.api import (
    ScanResult,
    SourceSummary,
    Stopped,
    default_workspace,
    demo_source,
    describe_found,
    draft_comments,
    plan_in,
    rebase_paths,
    scan,
    summarise_sources,
    workspaces_root,
)
from ferry.events import TableProgress

from ..models import RowsModel
from ..pageids import PageId
from ..planlines import PlanProblem, plan_problems
from ..questionstate import blocked_reason, tab_title
from ..workspacechoice import WorkspaceDialog, workspace_html
from .base import FerryPage, human_size, wrapped_label, wrapping_table_view
from .questions import QuestionsTab

MAX_RECENT = 8
#: the tab of the plan's questions (hidden for plans that ask nothing)
QUESTIONS_TAB = 3


def counted(number: int, noun: str) -> str:
    """``1 source``, ``5 sources``."""
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def default_demo_folder() -> Path:
    """Where the wizard copies the demo: a workspace of its own (``demo`` beside the plans'
    workspaces), never the package."""
    return workspaces_root() / "demo"


def copy_demo(folder: Path) -> Path:
    """Copy the bundled demo to ``folder``; the plan file's path."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copytree(demo_source(), folder, dirs_exist_ok=True)
    return folder / "ferry.toml"


class StartPage(FerryPage):
    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Start")
        self.setSubTitle("Open a migration plan, or let Ferry draft one from an app's data folder.")
        self.plan_edit = QLineEdit()
        self.plan_edit.setPlaceholderText("path/to/ferry.toml")
        self.browse_button = QPushButton("Bro&wse…")
        self.open_button = QPushButton("&Open plan")
        self.folder_button = QPushButton("Create from a &folder…")
        self.demo_button = QPushButton("Open the &demo")
        # Off the usual path, for the opened plan: what ran on its target, and the cutover.
        self.runs_button = QPushButton("Run &history…")
        self.runs_button.setToolTip(
            "Every run of this plan's target: open its report, verify, roll back to its backup"
        )
        self.cutover_button = QPushButton("Cut o&ver…")
        self.cutover_button.setToolTip(
            "The final sync of the freeze window, once the application is stopped"
        )
        self.recent = QListWidget()
        self.recent.setMaximumHeight(self.recent.fontMetrics().height() * 5)
        self.status = wrapped_label()
        #: the opened plan's workspace: its folder, its backups' and reports' folders
        self.workspace_label = wrapped_label()
        self.workspace_label.hide()
        #: the dialog "Create from a folder" opens before the scan (None until then)
        self.workspace_dialog: WorkspaceDialog | None = None
        self.sources = RowsModel(["source", "kind", "path", "size", "rows", "tables", "problem"])
        self.sources_view = wrapping_table_view(self.sources, stretch=6)  # the problem
        # The opened plan as a file: its text (a plan that fails validation shows its
        # problems at their lines) and the notes its tables carry for the reviewer.
        self.plan_view = QPlainTextEdit()
        self.plan_view.setReadOnly(True)
        self.plan_view.setTabChangesFocus(True)
        self.plan_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.plan_view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.notes = RowsModel(["table", "source table", "note"])
        self.notes_view = wrapping_table_view(self.notes, stretch=2)  # the note
        self.plan_tabs = QTabWidget()
        self.plan_tabs.addTab(self.sources_view, "Sour&ces")
        self.plan_tabs.addTab(self.plan_view, "Plan f&ile")
        self.plan_tabs.addTab(self.notes_view, "No&tes")
        # The draft's open questions: the wizard goes past Start once each is answered.
        self.questions = QuestionsTab()
        self.questions.saved.connect(self._answered)
        self.plan_tabs.addTab(self.questions, "&Questions (0)")
        self.plan_tabs.setTabVisible(QUESTIONS_TAB, False)
        self.blocked = wrapped_label()
        self.blocked.hide()
        #: the problems of the plan file that failed to open, each at its line
        self.plan_problems: list[PlanProblem] = []

        grid = QGridLayout()
        plan_label = QLabel("&Plan file:")
        plan_label.setBuddy(self.plan_edit)
        grid.addWidget(plan_label, 0, 0)
        grid.addWidget(self.plan_edit, 0, 1)
        grid.addWidget(self.browse_button, 0, 2)
        grid.addWidget(self.open_button, 0, 3)
        recent_label = QLabel("&Recent plans:")
        recent_label.setBuddy(self.recent)
        grid.addWidget(recent_label, 1, 0)
        grid.addWidget(self.recent, 1, 1, 1, 3)
        self.cancel_button.setText("Cancel &scan")
        buttons = QHBoxLayout()
        buttons.addWidget(self.folder_button)
        buttons.addWidget(self.demo_button)
        buttons.addWidget(self.cancel_button)
        buttons.addStretch(1)
        buttons.addWidget(self.runs_button)
        buttons.addWidget(self.cutover_button)
        layout = QVBoxLayout(self)
        layout.addLayout(grid)
        layout.addLayout(buttons)
        layout.addWidget(self.workspace_label)
        layout.addWidget(self.blocked)
        layout.addWidget(self.plan_tabs, 1)
        layout.addWidget(self.status)

        self.browse_button.clicked.connect(self._browse)
        self.open_button.clicked.connect(lambda: self.open_plan(self.plan_edit.text()))
        self.plan_edit.returnPressed.connect(lambda: self.open_plan(self.plan_edit.text()))
        self.folder_button.clicked.connect(self._choose_folder)
        self.demo_button.clicked.connect(lambda: self.open_demo())
        self.recent.itemActivated.connect(lambda item: self.open_plan(item.text()))
        self.runs_button.clicked.connect(lambda: self.ferry().go_to(PageId.RUNS))
        self.cutover_button.clicked.connect(lambda: self.ferry().go_to(PageId.CUTOVER))
        self.completeChanged.connect(self._enable_detours)
        self.set_tab_order(
            self.plan_edit,
            self.browse_button,
            self.open_button,
            self.recent,
            self.folder_button,
            self.demo_button,
            self.cancel_button,
            self.runs_button,
            self.cutover_button,
            self.plan_tabs,
            self.sources_view,
            self.questions.checklist,
            self.questions.save_button,
        )
        #: the worker describing the opened plan's sources (tests wait for it)
        self.describing: asyncio.Future[list[SourceSummary]] | None = None
        self._stop_describing = threading.Event()

    def initializePage(self) -> None:
        self.recent.clear()
        for path in self.ferry().recent_plans():
            self.recent.addItem(QListWidgetItem(path))
        if not self.plan_edit.text() and self.recent.count():
            self.plan_edit.setText(self.recent.item(0).text())

        self._enable_detours()

    def isComplete(self) -> bool:
        plan = self.ferry().plan
        return plan is not None and not self.runner.busy and not blocked_reason(plan)

    def nextId(self) -> int:
        detour = self.ferry().detour
        return int(detour) if detour is not None else int(PageId.BACKUP)

    def _enable_detours(self) -> None:
        """The run history needs an opened plan; the cutover one the engine would run."""
        wizard = self.ferry()
        if wizard is None:
            return
        idle = wizard.plan is not None and not self.runner.busy
        self.runs_button.setEnabled(idle)
        self.cutover_button.setEnabled(self.isComplete())

    def validatePage(self) -> bool:
        """Not past Start while a question is open (the engine would refuse the preview);
        the run history only reads, so it opens all the same."""
        if self.ferry().detour == PageId.RUNS:
            return True
        reason = blocked_reason(self.ferry().plan)
        if reason:
            self.plan_tabs.setCurrentIndex(QUESTIONS_TAB)
            self.status.setText(f"Not yet: {reason}")
        return not reason

    # -- actions ----------------------------------------------------------------------------
    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open a plan", self.plan_edit.text(), "Ferry plans (*.toml);;All files (*)"
        )
        if path:
            self.open_plan(path)

    def _choose_folder(self) -> None:
        """Pick the app's data folder, then its workspace (a dialog, default the folder's own
        workspace); the scan starts once the workspace is accepted."""
        folder = QFileDialog.getExistingDirectory(self, "The app's data folder")
        if not folder:
            return
        dialog = self.workspace_dialog = WorkspaceDialog(Path(folder), self)
        dialog.accepted.connect(lambda: self.create_from_folder(dialog.data, dialog.workspace()))
        dialog.open()

    def open_plan(self, path: str | Path, sources: Sequence[Sequence[Any]] | None = None) -> bool:
        """Load a plan file; errors go to the error dialog. Its sources are described in a
        worker thread, unless ``sources`` (the scan's rows) are given."""
        text = str(path).strip()
        if not text:
            self.status.setText("Give a plan file first.")
            return False
        try:
            plan = load_plan(text)
        except FerryError as exc:
            self.runner.show_error(exc)
            self.plan_edit.setText(text)  # kept, to fix the file and open it again
            if not self.show_problems(Path(text)):
                self.status.setText(f"Not opened: {exc.message}")
            return False
        plan_path = Path(text).resolve()
        self.ferry().set_plan(plan, plan_path)
        self.plan_edit.setText(str(plan_path))
        self.workspace_label.setText(workspace_html(plan, plan_path))
        self.workspace_label.show()
        self.show_plan_file(plan, plan_path)
        if sources is None:
            self._describe_sources(plan)
        else:
            self._stop_describing.set()
            self.sources.set_rows(sources)
        self.status.setText(
            f"Plan “{plan.name}”: {counted(len(plan.sources), 'source')}, "
            f"{counted(len(plan.tables), 'table mapping')}, target {plan.target.url}."
        )
        self.completeChanged.emit()
        return True

    def show_plan_file(self, plan: Plan, path: Path) -> None:
        """Show the opened plan's file text and its tables' notes."""
        self.plan_problems = []
        self.plan_view.setExtraSelections([])
        try:
            self.plan_view.setPlainText(path.read_text(encoding="utf-8-sig"))
        except (OSError, UnicodeDecodeError):
            self.plan_view.setPlainText(plan.to_toml())
        rows = [[t.name, t.source, note] for t in plan.tables for note in t.notes]
        self.notes.set_rows(rows)
        self.plan_tabs.setTabText(2, f"No&tes ({len(rows)})")
        self.show_questions(plan, path)

    def show_questions(self, plan: Plan, path: Path) -> None:
        """The plan's questions as a checklist; while any is open, say why Next waits."""
        self.questions.set_plan(plan, path)
        if not plan.questions and self.plan_tabs.currentIndex() == QUESTIONS_TAB:
            # Hidden while shown, Qt would show its neighbour: the notes, often none.
            self.plan_tabs.setCurrentWidget(self.sources_view)
        self.plan_tabs.setTabVisible(QUESTIONS_TAB, bool(plan.questions))
        if self._show_blocked(plan):
            self.plan_tabs.setCurrentIndex(QUESTIONS_TAB)

    def _answered(self, plan: Plan) -> None:
        """An answer was saved into the plan file: the wizard works on the saved plan."""
        wizard = self.ferry()
        path = wizard.plan_path
        assert path is not None
        wizard.set_plan(plan, path)  # also forgets an earlier preview
        self.plan_view.setPlainText(path.read_text(encoding="utf-8-sig"))
        self._show_blocked(plan)
        self.completeChanged.emit()

    def _show_blocked(self, plan: Plan) -> bool:
        """Title the Questions tab; say above the tabs why Next waits. True while it waits."""
        self.plan_tabs.setTabText(QUESTIONS_TAB, tab_title(plan))
        reason = blocked_reason(plan)
        self.blocked.setText(
            f"<span style='color:#c0392b'><b>Next waits:</b> {escape(reason)}</span>"
        )
        self.blocked.setVisible(bool(reason))
        return bool(reason)

    def show_problems(self, path: Path) -> bool:
        """Show a plan file that failed to open with its problems marked at their lines;
        False when the file cannot be read at all."""
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError):
            return False
        self.plan_problems = plan_problems(text)
        self.plan_view.setPlainText(text)
        marks = []
        for problem in self.plan_problems:
            mark = QTextEdit.ExtraSelection()
            mark.format.setBackground(QColor(218, 54, 51, 90))
            mark.format.setProperty(QTextFormat.Property.FullWidthSelection, True)
            block = self.plan_view.document().findBlockByLineNumber(problem.line - 1)
            mark.cursor = QTextCursor(block)
            marks.append(mark)
        self.plan_view.setExtraSelections(marks)
        self.notes.set_rows([])
        self.plan_tabs.setTabText(2, "No&tes")
        self.plan_tabs.setTabVisible(QUESTIONS_TAB, False)
        self.blocked.hide()
        self.sources.set_rows([])
        self.plan_tabs.setCurrentWidget(self.plan_view)
        lines = "; ".join(f"line {p.line}: {p.message}" for p in self.plan_problems)
        self.status.setText(f"Not opened: {path} has problems, marked in the plan file: {lines}")
        return True

    def open_demo(self, folder: Path | None = None) -> bool:
        """Copy the bundled demo to ``folder`` (default: the user's data folder) and open it."""
        target = folder or default_demo_folder()
        try:
            plan_path = copy_demo(target)
        except OSError as exc:
            self.runner.show_error(
                FerryError(f"cannot copy the demo to {target}: {exc.strerror or exc}")
            )
            return False
        return self.open_plan(plan_path)

    def create_from_folder(self, folder: Path, workspace: Path | None = None) -> bool:
        """Scan ``folder`` (in a worker thread) and write a draft plan into ``workspace``
        (default: the folder's own workspace under the user's data folder), where its backups,
        reports and new SQLite target go too; the folder itself is left as it was."""
        workspace = (workspace or default_workspace(folder)).absolute()
        plan_path = plan_in(workspace)
        if plan_path.exists():
            answer = QMessageBox.question(
                self, "Ferry", f"{plan_path} exists. Replace it with a new draft?"
            )
            if answer != QMessageBox.StandardButton.Yes:
                return False
        self.status.setText(f"Scanning {folder} …")

        def on_events(events: list[Any]) -> None:  # a big database takes a while: how far
            for event in events:
                if isinstance(event, TableProgress):
                    of = f" of {event.rows_total:,}" if event.rows_total else ""
                    self.status.setText(
                        f"Scanning {folder} … {event.table}: {event.rows_done:,}{of} rows read"
                    )

        self.runner.events.connect(on_events)

        async def job(emit: Any, cancel: Any) -> ScanResult:
            try:
                return await asyncio.to_thread(
                    scan, folder, emit=emit, plan_dir=workspace, cancel=cancel
                )
            finally:
                self.runner.events.disconnect(on_events)

        def done_scan(result: Any) -> None:
            assert isinstance(result, ScanResult)
            self.sources.set_rows(
                [
                    [
                        row["source"],
                        row["kind"],
                        row["path"] + (f" ({row['root']})" if row["root"] else ""),
                        human_size(row["size"]),
                        row["rows"],
                        ", ".join(row["tables"]),
                        row["problem"],
                    ]
                    for row in describe_found(result)
                ]
            )
            # the app's files by their absolute paths, unless the workspace holds them
            rebase_paths(result.plan, workspace, absolute_outside=True)
            try:
                workspace.mkdir(parents=True, exist_ok=True)
                save_plan(result.plan, plan_path, draft_comments(result, folder))
            except OSError as exc:
                self.runner.show_error(
                    FerryError(f"cannot write the plan {plan_path}: {exc.strerror or exc}")
                )
                return
            found = self.sources.rowCount()
            unread = sum(bool(row[6]) for row in self.sources.rows)
            if self.open_plan(plan_path, list(self.sources.rows)):
                self.status.setText(
                    f"Found {counted(found, 'source')}"
                    + (f" ({unread} not read: see its problem)" if unread else "")
                    + (
                        # a database's -wal file is read with it; a README is not read
                        f"; {counted(len(result.skipped), 'other file')} not read as a "
                        "source of its own (each named, with why, at the top of the plan file)"
                        if result.skipped
                        else ""
                    )
                    + f". Draft plan written to {plan_path} (its backups, reports and new "
                    "database go beside it). Review it (names, keys, types, notes) before "
                    "migrating."
                )

        def failed(exc: BaseException) -> None:
            if self.runner.cancel_requested:
                self.status.setText("Scan cancelled: no plan was written.")
            else:
                self.status.setText("The scan failed.")

        return self.run_job("scan", job, done_scan, failed)

    def cancelling(self) -> None:
        self.status.setText("Cancelling the scan …")

    def _describe_sources(self, plan: Plan) -> None:
        """List the plan's sources now; fill in sizes and row counts from a worker thread."""
        self._stop_describing.set()  # the previous plan's worker, if any
        stop = self._stop_describing = threading.Event()
        self.sources.set_rows(
            [
                [spec.name, spec.kind, spec.path or spec.url or "", "…", "…", "", ""]
                for spec in plan.sources
            ]
        )
        try:
            future = asyncio.ensure_future(asyncio.to_thread(_summaries, plan, stop))
        except RuntimeError:  # no event loop (never in the app): leave the list as it is
            return
        self.describing = future

        def described(done: asyncio.Future[list[SourceSummary] | None]) -> None:
            if done.cancelled():
                return
            exc = done.exception()  # always fetched: an unfetched one is logged at garbage time
            if stop.is_set() or (exc is None and done.result() is None):
                return
            if exc is not None:
                self.status.setText(f"The sources could not be described: {exc}")
                return
            self.sources.set_rows([self._source_row(s) for s in done.result() or []])

        future.add_done_callback(described)

    def stop_describing(self) -> None:
        """End the worker describing the sources early (an engine job starts, or the wizard
        closes): it would compete with the job for the CPU. Counts it did not get to show "—"."""
        if self._stop_describing.is_set():
            return
        self._stop_describing.set()
        self.sources.set_rows(
            [["—" if cell == "…" else cell for cell in row] for row in self.sources.rows]
        )

    @staticmethod
    def _source_row(summary: SourceSummary) -> list[Any]:
        return [
            summary.name,
            summary.kind,
            summary.where,
            human_size(summary.size) if summary.size is not None else "—",
            summary.rows if summary.rows is not None else "—",
            ", ".join(summary.tables),
            summary.problem,
        ]


def _summaries(plan: Plan, stop: threading.Event) -> list[SourceSummary] | None:
    """The sources' summaries, or None once they are no longer wanted. A stop is not an error:
    raised, it would sit in a future the closing wizard never reads, and be logged while
    Python collects garbage (in 3.11, in the middle of another module's ``ast.parse``)."""
    try:
        return summarise_sources(plan, stop)
    except Stopped:
        return None
