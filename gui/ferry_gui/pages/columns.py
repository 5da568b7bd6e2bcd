"""The column mapping editor of one table: its columns (editable) and its source's first rows."""

from __future__ import annotations

import asyncio
import threading

from PySide6.QtCore import Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ferry import Plan
from ferry.api import PEEK_ROWS, SourcePeek, peek_source

from ..columnmap import (
    DEFAULT,
    SOURCE,
    TARGET,
    TRANSFORM,
    TYPE,
    TYPE_CHOICES,
    TYPE_TIPS,
    ColumnMappingModel,
)
from ..models import DataModel
from .base import editable_table_view, table_view, wrapped_label


class ColumnsDialog(QDialog):
    """Edit how table ``plan.tables[table]`` is fed, column by column; see its source's rows.

    Shown without blocking the wizard. The source is read in a worker thread (``loading``);
    every accepted edit is announced with ``edited(table, what)`` for the caller to save.
    """

    edited = Signal(str, str)

    def __init__(self, plan: Plan, table: int, parent: QWidget | None = None) -> None:
        from .preview import ChoiceDelegate  # the preview page imports this module

        super().__init__(parent)
        spec = plan.tables[table]
        self.setObjectName("columnsDialog")
        self.setWindowTitle(f"Columns of {spec.name}")
        self.resize(860, 520)
        self.model = ColumnMappingModel(plan, table, self)
        self.view = editable_table_view(self.model)
        self.view.horizontalHeader().setSectionResizeMode(TRANSFORM, QHeaderView.ResizeMode.Stretch)
        self.model.modelReset.connect(self._fit_columns)
        self.type_delegate = ChoiceDelegate(TYPE_CHOICES, self.view, TYPE_TIPS)
        self.view.setItemDelegateForColumn(TYPE, self.type_delegate)
        self._fit_columns()
        self.peek = DataModel([])
        self.peek_view = table_view(self.peek)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.view, "&Columns")
        self.tabs.addTab(self.peek_view, "&Source rows")
        self.heading = wrapped_label(
            f"Table <b>{spec.name}</b> is fed from source table <b>{spec.source}</b>. "
            "Double-click a cell to change it; a transform is text ops and a cast "
            "(<code>trim, lower, cast integer</code>). The plan file is saved at once."
        )
        self.note = wrapped_label()
        self.close_button = QPushButton("C&lose")
        self.close_button.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.note)
        layout.addLayout(buttons)
        self.model.edited.connect(self._edited)
        self.model.refused.connect(self._refused)
        #: the worker reading the source's first rows (tests wait for it)
        self.loading: asyncio.Future[SourcePeek] | None = None
        #: the source's rows are shown (or why they could not be read)
        self.loaded = False
        self._stop = threading.Event()
        self._load(plan, spec.source)

    def _fit_columns(self) -> None:
        """Columns wide enough for their text, and room to type a type or a default."""
        self.view.resizeColumnsToContents()
        for column in (SOURCE, TARGET, TYPE, DEFAULT):
            width = max(self.view.columnWidth(column), 120)
            self.view.setColumnWidth(column, width)

    def _load(self, plan: Plan, source: str) -> None:
        self.note.setText(f"Reading the first {PEEK_ROWS} rows of {source} …")
        try:
            future = asyncio.ensure_future(
                asyncio.to_thread(peek_source, plan, source, PEEK_ROWS, self._stop)
            )
        except RuntimeError:  # no event loop (never in the app)
            return
        self.loading = future
        future.add_done_callback(self._loaded)

    def _loaded(self, done: asyncio.Future[SourcePeek]) -> None:
        if done.cancelled():
            return
        exc = done.exception()  # always fetched: an unfetched one is logged at garbage time
        if self._stop.is_set():
            return
        self.loaded = True
        if exc is not None:
            message = getattr(exc, "message", None) or str(exc)
            self.note.setText(f"The source could not be read: {message}")
            return
        peek = done.result()
        self.model.set_fields(peek.fields)
        self.peek.headers = list(peek.fields)
        self.peek.set_rows([[row.get(name) for name in peek.fields] for row in peek.rows])
        self.tabs.setTabText(1, f"&Source rows ({len(peek.rows)})")
        self.note.setText(
            f"{len(peek.fields)} fields in {peek.table}; the first {len(peek.rows)} rows "
            "are under Source rows."
        )

    def _edited(self, table: str, what: str) -> None:
        self.note.setText(f"Saved the {what} of table {table}.")
        self.edited.emit(table, what)

    def _refused(self, message: str) -> None:
        self.note.setText(f"<span style='color:#c0392b'>Not changed: {message}</span>")

    def closeEvent(self, event: QCloseEvent) -> None:
        self._stop.set()
        super().closeEvent(event)
