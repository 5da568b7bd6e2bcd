"""The Connect page's "Test connection": the preflight check (:func:`ferry.check`, which
writes nothing) on the target the fields describe, cancellable, and its result shown."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QHeaderView, QTableView

from ferry import Cancelled, FerryError
from ferry.api import CheckReport
from ferry.api import check as check_plan
from ferry.plan import TargetSpec

from ..models import RowsModel
from .base import rows_fit_their_text, table_view
from .columns import ColumnsDialog
from .serverlists import fetch_lists

if TYPE_CHECKING:
    from .connect import ConnectPage

#: the widest the check's name column gets (it wraps beyond)
MAX_COLUMN_WIDTH = 280


def report_summary(report: CheckReport) -> str:
    """The server, the verdict and the tables (rich text) above the check's items."""
    existing = ", ".join(report.existing_tables) or "none"
    to_create = ", ".join(report.tables_to_create) or "none"
    failed = sum(not item.ok for item in report.items)
    problems = f"{failed} problem{'s' if failed != 1 else ''}"
    verdict = "OK" if report.ok else f"{problems} found, listed first below"
    return (
        f"<b>{report.server or 'not connected'}</b> — {verdict}<br>"
        f"Existing tables: {existing}<br>To create: {to_create}"
    )


def report_rows(report: CheckReport) -> list[list[str]]:
    """The check's items as the table's rows: check, ok, detail, hint; the problems first
    (behind dozens of passed column checks, a real database's one failure was out of sight)."""
    items = sorted(report.items, key=lambda item: item.ok)
    return [[i.subject, "yes" if i.ok else "NO", i.detail, i.hint] for i in items]


def fix_table(report: CheckReport) -> str:
    """The plan's table whose column settings the first problem's fix is in ("" for none)."""
    return next((item.table for item in report.items if not item.ok and item.table), "")


def check_items_view(items: RowsModel) -> QTableView:
    """The check's items (``items``: check, ok, detail, hint), passes and failures coloured;
    a hint is the fix: it wraps in its row instead of being cut at the window's edge."""
    view = table_view(items)
    view.setWordWrap(True)
    # Room for a few findings: the server's fields above scroll rather than squeeze it shut.
    view.setMinimumHeight(8 * view.fontMetrics().height())
    header = view.horizontalHeader()
    header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(False)
    for column in (2, 3):  # detail and hint share the width and wrap
        header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)
    rows_fit_their_text(view)
    items.modelReset.connect(lambda: fit_columns(view, items))
    items.colour = lambda row, col: (
        ("pass" if items.rows[row][1] == "yes" else "fail") if col == 1 else None
    )
    return view


def fit_columns(view: QTableView, items: RowsModel) -> None:
    """The check's name fits up to a width; detail and hint share the rest and wrap."""
    view.setColumnWidth(0, min(view.columnWidth(0), MAX_COLUMN_WIDTH))
    # No hint: the detail takes the width (its rows stay one line where they fit).
    hints = any(row[3] for row in items.rows)
    header = view.horizontalHeader()
    if hints:
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
    else:
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Interactive)
        view.setColumnWidth(3, header.sectionSizeHint(3))
    view.resizeRowsToContents()


class ConnectionTest:
    """Tests the target the Connect page's fields describe; the target goes into the plan
    only when the test connects (else the page offers "Save anyway")."""

    def __init__(self, page: ConnectPage) -> None:
        self.page = page

    def start(self) -> bool:
        """Start the check (False: a job runs, or the fields describe no valid target)."""
        page = self.page
        if page.runner.busy:
            return False
        spec = page.candidate_target()
        if spec is None:
            return False
        page.use_password(spec)
        plan = page.ferry().plan
        assert plan is not None
        trial = plan.model_copy(update={"target": spec})
        page.server.setText("Connecting …")
        page.items.set_rows([])
        page.target_box.setEnabled(False)  # the test is of these settings: no edits meanwhile

        async def job(emit: Any, cancel: Any) -> tuple[CheckReport, TargetSpec, Any]:
            # The check writes nothing (its transaction is rolled back): it may simply be dropped.
            stopped = "Test cancelled; nothing was changed."
            try:
                report = await check_plan(trial, cancel=cancel)
            except Cancelled:
                raise Cancelled(stopped) from None
            lists = None
            if report.server and not spec.is_sqlite:
                try:
                    lists = await fetch_lists(spec)
                except FerryError:
                    lists = None  # listing is a convenience: the test's verdict stands
            return report, spec, lists

        return page.run_job("check", job, self._checked, self._failed)

    def _checked(self, outcome: Any) -> None:
        page = self.page
        report, spec, lists = outcome
        assert isinstance(report, CheckReport)
        page.target_box.setEnabled(True)
        if lists is not None:
            page.lists.offer(*lists)
        page.last_report = report
        if not report.server:  # never connected: the plan keeps its target
            page.save_anyway_button.setVisible(True)
            self._show(report)
            page.server.setText(
                "<b>Not connected</b> — the plan keeps its target. Fix the settings and test "
                "again, or “Save anyway”."
            )
            page.completeChanged.emit()
            return
        page.write_target(spec)
        page.report = report
        page.ferry().check_report = report
        self._show(report)
        page.completeChanged.emit()

    def _show(self, report: CheckReport) -> None:
        page = self.page
        page.server.setText(report_summary(report))
        page.items.set_rows(report_rows(report))
        page.items_view.scrollToTop()
        table = fix_table(report)
        page.columns_button.setText(f"Edit colu&mns of {table}…")
        page.columns_button.setVisible(bool(table))

    def open_columns(self) -> ColumnsDialog | None:
        """The column editor of the table the failed check names (its fix is a column
        setting, such as a type): edits are saved at once, and the test runs again once the
        editor is closed."""
        page = self.page
        wizard = page.ferry()
        plan = wizard.plan
        table = fix_table(page.last_report) if page.last_report is not None else ""
        names = [spec.name for spec in plan.tables] if plan is not None else []
        if plan is None or table not in names or page.runner.busy:
            return None
        dialog = ColumnsDialog(plan, names.index(table), page)
        edits: list[str] = []

        def edited(name: str, what: str) -> None:
            wizard.save_plan()
            edits.append(what)
            page.server.setText(
                f"Saved the {what} of table {name} to {wizard.plan_path}; the test runs again "
                "when the column editor is closed."
            )

        def closed() -> None:
            if edits:
                self.start()

        dialog.edited.connect(edited)
        dialog.finished.connect(closed)
        dialog.show()
        page.columns_dialog = dialog
        return dialog

    def _failed(self, exc: BaseException) -> None:
        page = self.page
        page.target_box.setEnabled(True)
        if isinstance(exc, Cancelled):
            page.server.setText(f"<b>{exc.message}</b>")
        else:
            page.server.setText(f"Not connected: {exc}")
            page.save_anyway_button.setVisible(True)
