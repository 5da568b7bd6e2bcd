"""Preview: the real migration, rolled back — exact counts, the cell-by-cell diff, the DDL."""

from __future__ import annotations

from html import escape
from typing import Any

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ferry import Cancelled
from ferry.api import preview as run_preview
from ferry.events import TableProgress
from ferry.results import RunResult

from ..models import MAPPING_CHOICES, CountsModel, DataModel, DiffModel, MappingModel, RowsModel
from ..questionstate import answer_effects
from .base import FerryPage, editable_table_view, show_progress, table_view, wrapped_label
from .columns import ColumnsDialog
from .merges import MergesTab

#: the tab of the merge sources (hidden for plans without them)
MERGES_TAB = 6
#: the tabs whose titles carry counts
CHANGES_TAB, INSERTS_TAB, REJECTED_TAB, DDL_TAB = 2, 3, 4, 5

Index = QModelIndex | QPersistentModelIndex


class ChoiceDelegate(QStyledItemDelegate):
    """Edit a cell with a combo box of fixed choices (``tips``: a tooltip per choice)."""

    def __init__(
        self,
        choices: list[str],
        parent: QWidget | None = None,
        tips: dict[str, str] | None = None,
    ) -> None:
        super().__init__(parent)
        self.choices = choices
        self.tips = tips or {}

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem, index: Index) -> QWidget:
        combo = QComboBox(parent)
        combo.addItems(self.choices)
        for i, choice in enumerate(self.choices):
            if choice in self.tips:
                combo.setItemData(i, self.tips[choice], Qt.ItemDataRole.ToolTipRole)
        return combo

    def setEditorData(self, editor: QWidget, index: Index) -> None:
        assert isinstance(editor, QComboBox)
        editor.setCurrentText(str(index.data()))

    def setModelData(self, editor: QWidget, model: QAbstractItemModel, index: Index) -> None:
        assert isinstance(editor, QComboBox)
        model.setData(index, editor.currentText())


class PreviewPage(FerryPage):
    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Preview")
        self.setSubTitle(
            "The whole migration runs inside a transaction that is rolled back: these are the "
            "exact counts. Nothing has been written."
        )
        self.summary = wrapped_label()
        self.stale = wrapped_label()
        self.stale.hide()
        #: what each answered question of the plan set, with its tables' counts
        self.answers = wrapped_label()
        self.answers.hide()
        self.mapping = MappingModel()
        self.mapping_view = editable_table_view(self.mapping)
        self.mapping_view.horizontalHeader().setStretchLastSection(True)
        self.mapping.modelReset.connect(self.mapping_view.resizeColumnsToContents)
        self.delegates = {
            column: ChoiceDelegate(choices, self.mapping_view)
            for column, choices in MAPPING_CHOICES.items()
        }
        for column, delegate in self.delegates.items():
            self.mapping_view.setItemDelegateForColumn(column, delegate)
        self.mapping_note = wrapped_label(
            "Double-click a cell to change how a table is fed; untick a target table to leave "
            "it out of the plan. The plan file is saved at once."
        )
        self.columns_button = QPushButton("Edit co&lumns…")
        self.columns_button.setToolTip(
            "The selected table's columns: source field, target column, type, transform, "
            "default, ignore; and its source's first rows"
        )
        self.columns_button.clicked.connect(lambda: self.open_columns())
        #: the open column mapping editor, if any
        self.columns_dialog: ColumnsDialog | None = None
        mapping_tab = QWidget()
        mapping_layout = QVBoxLayout(mapping_tab)
        mapping_layout.setContentsMargins(0, 0, 0, 0)
        mapping_layout.addWidget(self.mapping_view, 1)
        mapping_row = QHBoxLayout()
        mapping_row.addWidget(self.mapping_note, 1)
        mapping_row.addWidget(self.columns_button)
        mapping_layout.addLayout(mapping_row)
        self.mapping.edited.connect(self._mapping_edited)
        self.mapping.refused.connect(self._mapping_refused)
        self.counts = CountsModel()
        self.diffs = DiffModel()
        self.rejects = RowsModel(["table", "key", "kind", "reason"])
        self.ddl = QPlainTextEdit()
        self.ddl.setReadOnly(True)
        self.ddl.setTabChangesFocus(True)
        self.ddl.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.tabs = QTabWidget()
        self.counts_view = table_view(self.counts)
        self.diffs_view = table_view(self.diffs)
        self.rejects_view = table_view(self.rejects)
        self.tabs.addTab(mapping_tab, "&Mapping")
        self.tabs.addTab(self.counts_view, "C&ounts")
        self.tabs.addTab(self.diffs_view, "C&hanges")
        # The first rows each table would get inserted: one table at a time, as a grid.
        self.inserts: dict[str, list[Any]] = {}
        #: target table -> how many rows the preview inserts into it (the sample is capped)
        self.inserted: dict[str, int] = {}
        self.insert_table = QComboBox()
        self.insert_table.currentTextChanged.connect(self.show_inserts)
        self.insert_rows = DataModel([])
        self.inserts_view = table_view(self.insert_rows)
        inserts_tab = QWidget()
        inserts_layout = QVBoxLayout(inserts_tab)
        inserts_layout.setContentsMargins(0, 0, 0, 0)
        inserts_row = QHBoxLayout()
        insert_label = QLabel("Table:")
        insert_label.setBuddy(self.insert_table)
        inserts_row.addWidget(insert_label)
        inserts_row.addWidget(self.insert_table)
        self.inserts_note = wrapped_label()
        inserts_row.addWidget(self.inserts_note, 1)
        inserts_layout.addLayout(inserts_row)
        inserts_layout.addWidget(self.inserts_view, 1)
        self.tabs.addTab(inserts_tab, "Inser&ts")
        self.tabs.addTab(self.rejects_view, "&Rejected")
        self.tabs.addTab(self.ddl, "&DDL")
        # Shown only for plans with merge sources: what each input gave, and the deletions.
        self.merges = MergesTab()
        self.tabs.addTab(self.merges, "Merged so&urces")
        self.tabs.setTabVisible(MERGES_TAB, False)
        self.again = QPushButton("Preview &again")
        self.cancel_button.setText("&Cancel preview")
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setTextVisible(False)
        self.progress.hide()  # shown while the job runs
        #: per table started: rows read, its total (the source's count or estimate)
        self.progress_rows: dict[str, tuple[int, int]] = {}
        buttons = QHBoxLayout()
        buttons.addWidget(self.again)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.progress, 1)
        buttons.addStretch(0)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.stale)
        layout.addWidget(self.answers)
        layout.addWidget(self.tabs, 1)
        layout.addLayout(buttons)
        self.again.clicked.connect(self.start_preview)
        self.set_tab_order(
            self.tabs, self.mapping_view, self.columns_button, self.again, self.cancel_button
        )

    def initializePage(self) -> None:
        self.show_mapping()
        if self.ferry().preview_result is None and not self.runner.busy:
            self.start_preview()

    def isComplete(self) -> bool:
        return self.ferry().preview_result is not None and not self.runner.busy

    def show_mapping(self) -> None:
        """Show the plan's table mappings."""
        self.mapping.set_plan(self.ferry().plan, self.ferry().plan_path)

    def _mapping_edited(self, row: int, attribute: str) -> None:
        """Save the changed plan; the preview shown no longer matches it."""
        wizard = self.ferry()
        wizard.save_plan()  # also forgets the preview result
        table = self.mapping.text(row, 1)
        if attribute == "included":
            done = "Excluded" if row in self.mapping.excluded else "Included"
            self.mapping_note.setText(f"{done} table {table}: saved to {wizard.plan_path}.")
        else:
            self.mapping_note.setText(f"Saved {attribute} of table {table} to {wizard.plan_path}.")
        self.stale.setText("<b>Mapping changed: preview again.</b>")
        self.stale.show()
        self.again.setEnabled(not self.runner.busy)
        self.completeChanged.emit()

    def open_columns(self, row: int | None = None) -> ColumnsDialog | None:
        """Open the column mapping editor of table ``row`` (default: the selected one)."""
        plan = self.ferry().plan
        if row is None:
            current = self.mapping_view.currentIndex()
            row = current.row() if current.isValid() else 0
        if plan is None or not 0 <= row < self.mapping.rowCount():
            return None
        table = self.mapping.plan_index(row)
        if table is None:
            self.mapping_note.setText("Tick the table to include it before editing its columns.")
            return None
        if self.columns_dialog is not None:
            self.columns_dialog.close()
        dialog = ColumnsDialog(plan, table, self)
        dialog.model.editable = not self.runner.busy
        dialog.edited.connect(self._columns_edited)
        self.columns_dialog = dialog
        dialog.show()
        return dialog

    def _columns_edited(self, table: str, what: str) -> None:
        """Save the plan after a column edit; the preview shown no longer matches it."""
        wizard = self.ferry()
        wizard.save_plan()  # also forgets the preview result
        self.mapping.set_plan(wizard.plan, wizard.plan_path)
        self.mapping_note.setText(f"Saved the {what} of table {table} to {wizard.plan_path}.")
        self.stale.setText("<b>Mapping changed: preview again.</b>")
        self.stale.show()
        self.again.setEnabled(not self.runner.busy)
        self.completeChanged.emit()

    def _mapping_refused(self, message: str) -> None:
        self.mapping_note.setText(f"<span style='color:#c0392b'>Not changed: {message}</span>")

    def start_preview(self) -> bool:
        """Run the preview (rolled back) with diffs of every table."""
        wizard = self.ferry()
        plan = wizard.plan
        assert plan is not None
        wizard.preview_result = None
        self.summary.setText("Previewing …")
        self.again.setEnabled(False)
        self.mapping.editable = False
        if self.columns_dialog is not None:
            self.columns_dialog.model.editable = False
        self.stale.hide()
        self.progress.setRange(0, 0)  # busy until the first table's rows (and total) come
        self.progress_rows: dict[str, tuple[int, int]] = {}
        self.progress.show()
        self.runner.events.connect(self._on_events)

        async def job(emit: Any, cancel: Any) -> RunResult:
            return await run_preview(plan, emit=emit, cancel=cancel, diff_tables=["*"])

        started = self.run_job("preview", job, self._previewed, self._failed)
        if not started:
            self._stopped()
        return started

    def _on_events(self, events: list[Any]) -> None:
        for event in events:
            if isinstance(event, TableProgress) and not self.runner.cancel_requested:
                self.summary.setText(f"Previewing … {event.table}: {event.rows_done:,} rows read")
                # The bar: rows read of the tables started so far over their (estimated) totals.
                total = max(event.rows_total or 0, event.rows_done)
                self.progress_rows[event.table] = (event.rows_done, total)
                done = sum(d for d, _ in self.progress_rows.values())
                total = sum(t for _, t in self.progress_rows.values())
                show_progress(self.progress, done, total, f"{done:,} / {total:,} rows")
                self.progress.setTextVisible(True)

    def _stopped(self) -> None:
        self.runner.events.disconnect(self._on_events)
        self.progress.setRange(0, 1)
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.again.setEnabled(True)
        self.mapping.editable = True
        if self.columns_dialog is not None:
            self.columns_dialog.model.editable = True

    def cancelling(self) -> None:
        self.summary.setText("Cancelling the preview …")

    def _previewed(self, result: Any) -> None:
        assert isinstance(result, RunResult)
        self.ferry().preview_result = result
        self._stopped()
        self.counts.set_result(result)
        self.diffs.set_diffs(result.diffs)
        self.rejects.set_rows([[r.table, r.key, r.kind, r.reason] for r in result.rejects])
        self.ddl.setPlainText(
            "\n\n".join(s.strip().rstrip(";").rstrip() + ";" for s in result.ddl)
            or "-- no tables to create"
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
        self.tabs.setTabText(CHANGES_TAB, f"C&hanges ({self.diffs.rowCount()})")
        self.set_inserts(result)
        self.tabs.setTabText(REJECTED_TAB, f"&Rejected ({len(result.rejects)})")
        self.tabs.setTabText(DDL_TAB, f"&DDL ({len(result.ddl)})")
        plan = self.ferry().plan
        effects = answer_effects(plan, result) if plan is not None else []
        self.answers.setText("<br>".join(escape(line) for line in effects))
        self.answers.setVisible(bool(effects))
        self.merges.set_merges(result.merges)
        self.tabs.setTabVisible(MERGES_TAB, bool(result.merges))

    def set_inserts(self, result: RunResult) -> None:
        """The preview's sample of rows to insert (``RunResult.inserts``), by table."""
        self.inserts, self.inserted = {}, {}
        for insert in result.inserts:
            self.inserts.setdefault(insert.table, []).append(insert)
        for table in result.tables:
            self.inserted[table.name] = self.inserted.get(table.name, 0) + table.inserted
        self.insert_table.blockSignals(True)
        self.insert_table.clear()
        self.insert_table.addItems(list(self.inserts))
        self.insert_table.blockSignals(False)
        self.tabs.setTabText(INSERTS_TAB, f"Inser&ts ({sum(self.inserted.values()):,})")
        self.show_inserts(self.insert_table.currentText())

    def show_inserts(self, table: str) -> None:
        """Show the rows table ``table`` would get inserted."""
        rows = self.inserts.get(table, [])
        total = self.inserted.get(table, len(rows))
        if not rows:
            self.inserts_note.setText("No rows would be inserted.")
        elif len(rows) >= total:
            noun = "row" if total == 1 else "rows"
            self.inserts_note.setText(f"{total:,} {noun} to insert into {table}, all shown.")
        else:
            self.inserts_note.setText(
                f"The first {len(rows):,} of the {total:,} rows to insert into {table}."
            )
        headers = list(dict.fromkeys(name for r in rows for name in r.values))
        self.insert_rows.headers = headers
        self.insert_rows.set_rows([[r.values.get(name) for name in headers] for r in rows])

    def _failed(self, exc: BaseException) -> None:
        self._stopped()
        if isinstance(exc, Cancelled):
            self.summary.setText("<b>Preview cancelled; nothing was written.</b>")
        else:
            self.summary.setText(f"The preview failed: {exc}")
