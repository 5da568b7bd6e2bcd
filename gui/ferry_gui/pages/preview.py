"""Preview: the real migration, rolled back — exact counts, the cell-by-cell diff, the DDL."""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QPlainTextEdit, QPushButton, QTabWidget, QVBoxLayout

from ferry.migrate import migrate
from ferry.results import RunResult

from ..models import CountsModel, DiffModel, RowsModel
from .base import FerryPage, table_view, wrapped_label


class PreviewPage(FerryPage):
    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Preview")
        self.setSubTitle(
            "The whole migration runs inside a transaction that is rolled back: these are the "
            "exact counts. Nothing has been written."
        )
        self.summary = wrapped_label()
        self.counts = CountsModel()
        self.diffs = DiffModel()
        self.rejects = RowsModel(["table", "key", "kind", "reason"])
        self.ddl = QPlainTextEdit()
        self.ddl.setReadOnly(True)
        self.ddl.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.tabs = QTabWidget()
        self.tabs.addTab(table_view(self.counts), "&Counts")
        self.tabs.addTab(table_view(self.diffs), "C&hanges")
        self.tabs.addTab(table_view(self.rejects), "&Rejected")
        self.tabs.addTab(self.ddl, "&DDL")
        self.again = QPushButton("Preview &again")
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.again)
        self.again.clicked.connect(self.start_preview)

    def initializePage(self) -> None:
        if self.ferry().preview_result is None and not self.runner.busy:
            self.start_preview()

    def isComplete(self) -> bool:
        return self.ferry().preview_result is not None and not self.runner.busy

    def start_preview(self) -> bool:
        """Run the preview (rolled back) with diffs of every table."""
        wizard = self.ferry()
        plan = wizard.plan
        assert plan is not None
        wizard.preview_result = None
        self.summary.setText("Previewing …")
        self.again.setEnabled(False)

        async def job(emit: Any, cancel: Any) -> RunResult:
            return await migrate(plan, emit=emit, cancel=cancel, preview=True, diff_tables=["*"])

        return self.run_job("preview", job, self._previewed, self._failed)

    def _previewed(self, result: Any) -> None:
        assert isinstance(result, RunResult)
        self.ferry().preview_result = result
        self.again.setEnabled(True)
        self.counts.set_result(result)
        self.diffs.set_diffs(result.diffs)
        self.rejects.set_rows([[r.table, r.key, r.kind, r.reason] for r in result.rejects])
        self.ddl.setPlainText(
            "\n\n".join(s.strip() + ";" for s in result.ddl) or "-- no tables to create"
        )
        totals = {"inserted": 0, "updated": 0, "unchanged": 0, "conflicts": 0, "rejected": 0}
        for table in result.tables:
            for key in totals:
                totals[key] += table.counts()[key]
        self.summary.setText(
            f"Would insert <b>{totals['inserted']:,}</b>, update <b>{totals['updated']:,}</b>, "
            f"leave <b>{totals['unchanged']:,}</b> unchanged, keep "
            f"<b>{totals['conflicts']:,}</b> conflicts, reject <b>{totals['rejected']:,}</b> "
            f"rows in {len(result.tables)} table mappings. {result.target} is unchanged."
        )
        self.tabs.setTabText(1, f"C&hanges ({self.diffs.rowCount()})")
        self.tabs.setTabText(2, f"&Rejected ({len(result.rejects)})")
        self.tabs.setTabText(3, f"&DDL ({len(result.ddl)})")

    def _failed(self, exc: BaseException) -> None:
        self.again.setEnabled(True)
        self.summary.setText(f"The preview failed: {exc}")
