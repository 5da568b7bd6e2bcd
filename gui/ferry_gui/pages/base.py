"""What every page shares: the wizard's state, the runner, small widget helpers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import pairwise
from typing import TYPE_CHECKING, Any, cast

from PySide6.QtCore import QAbstractItemModel, Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableView,
    QWidget,
    QWizardPage,
)
from shiboken6 import isValid

from ferry.api import size_text

from ..models import RowsModel

if TYPE_CHECKING:
    from ..runner import Runner
    from ..wizard import FerryWizard


class FerryPage(QWizardPage):
    """A page that can reach the wizard's state and run engine jobs.

    ``cancel_button`` is enabled while a job this page started runs; pages that have long jobs
    put it in their layout. ``cancelling()`` says so on the page once it was clicked.
    """

    def __init__(self) -> None:
        super().__init__()
        self.cancel_button = QPushButton("&Cancel")
        self.cancel_button.setObjectName("pageCancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel_job)
        #: the page's inputs in Tab order (set with :meth:`set_tab_order`)
        self.tab_chain: list[QWidget] = []

    def set_tab_order(self, *widgets: QWidget) -> None:
        """Tab visits ``widgets`` in this order (then the wizard's buttons)."""
        self.tab_chain = list(widgets)
        for first, second in pairwise(widgets):
            QWidget.setTabOrder(first, second)

    def cancel_job(self) -> None:
        """Ask the running job to stop; the engine rolls back or removes what it made."""
        if self.runner.busy:
            self.cancel_button.setEnabled(False)
            self.runner.cancel()
            self.cancelling()

    def cancelling(self) -> None:
        """Say on the page that a cancel was asked for (pages override)."""

    def unsaved(self) -> str:
        """What leaving the wizard now would lose on this page ("" when nothing; pages with
        inputs not yet in the plan override)."""
        return ""

    def ferry(self) -> FerryWizard:
        """The wizard this page belongs to."""
        return cast("FerryWizard", self.wizard())

    @property
    def runner(self) -> Runner:
        """The wizard's job runner."""
        return self.ferry().runner

    def run_job(
        self,
        name: str,
        factory: Any,
        on_success: Callable[[Any], None],
        on_failure: Callable[[BaseException], None] | None = None,
    ) -> bool:
        """Start ``factory`` as job ``name``; call back when it ends (this job only)."""
        runner = self.runner

        def succeeded(job: str, result: object) -> None:
            if job == name:
                on_success(result)

        def failed(job: str, exc: object) -> None:
            if job == name and on_failure is not None:
                on_failure(cast(BaseException, exc))

        def ended(job: str) -> None:
            if job == name:
                runner.succeeded.disconnect(succeeded)
                runner.failed.disconnect(failed)
                runner.ended.disconnect(ended)
                self.cancel_button.setEnabled(False)
                self.completeChanged.emit()

        runner.succeeded.connect(succeeded)
        runner.failed.connect(failed)
        runner.ended.connect(ended)
        if not runner.start(name, factory):
            runner.succeeded.disconnect(succeeded)
            runner.failed.disconnect(failed)
            runner.ended.disconnect(ended)
            return False
        self.cancel_button.setEnabled(True)
        self.completeChanged.emit()
        return True


def wrapped_label(text: str = "", parent: QWidget | None = None) -> QLabel:
    """A label that wraps and lets its text be selected."""
    label = QLabel(text, parent)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def table_view(model: RowsModel, parent: QWidget | None = None) -> QTableView:
    """A read-only, sortable-looking table that stretches its last column."""
    view = QTableView(parent)
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.verticalHeader().setVisible(False)
    view.setTabKeyNavigation(False)  # Tab leaves the table instead of walking its cells
    view.setWordWrap(False)
    header = view.horizontalHeader()
    header.setStretchLastSection(True)
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    model.modelReset.connect(view.resizeColumnsToContents)
    return view


def rows_fit_their_text(view: QTableView) -> None:
    """Rows as tall as their wrapped text, measured again when a column's width changes (the
    caller measures after new rows) — not at every layout of the page, as the header's
    ResizeToContents mode does: it read every cell again each time a page's button changed,
    40-130 ms of the event loop for a check of 93 findings."""
    later = QTimer(view)
    later.setSingleShot(True)
    later.setInterval(0)
    later.timeout.connect(view.resizeRowsToContents)
    view.horizontalHeader().sectionResized.connect(lambda *_: later.start())


#: the widest a column of a wrapping table gets before its text wraps (or, one word, elides)
WRAP_WIDTH = 220


def wrapping_table_view(model: RowsModel, stretch: int) -> QTableView:
    """A read-only table whose long texts wrap in their rows instead of running past the
    window's edge, where no one reads them: each column as wide as its text up to
    WRAP_WIDTH, column ``stretch`` takes the rest; rows as tall as their text. The whole
    text of a cell is its tooltip."""
    view = table_view(model)
    view.setWordWrap(True)
    rows_fit_their_text(view)
    header = view.horizontalHeader()
    header.setStretchLastSection(False)
    header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)

    def cap() -> None:  # after table_view's resizeColumnsToContents (connected first)
        if not isValid(view):  # the model outlives a closed page's view
            return
        for column in range(model.columnCount()):
            if column != stretch:
                view.setColumnWidth(column, min(view.columnWidth(column), WRAP_WIDTH))
        # A model reset leaves the stretched column at its text's width until the header is
        # resized: setting its mode again lays the sections out now.
        header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
        view.resizeRowsToContents()

    model.modelReset.connect(cap)
    return view


def editable_table_view(model: QAbstractItemModel) -> QTableView:
    """A table whose cells are edited in place (double-click, F2, or a click on the selected
    cell); its columns keep the widths the operator drags them to."""
    view = QTableView()
    view.setModel(model)
    view.setEditTriggers(
        QAbstractItemView.EditTrigger.DoubleClicked
        | QAbstractItemView.EditTrigger.EditKeyPressed
        | QAbstractItemView.EditTrigger.SelectedClicked
    )
    view.setAlternatingRowColors(True)
    view.verticalHeader().setVisible(False)
    view.setTabKeyNavigation(False)  # Tab leaves the table instead of walking its cells
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    return view


#: the largest value a QProgressBar takes (a C int; a larger one raises OverflowError)
BAR_MAX = 2**31 - 1


def show_progress(bar: QProgressBar, done: int, total: int, text: str | None = None) -> None:
    """Show ``done`` of ``total`` on ``bar``, in words (``text``, default ``1,200 / 5,000``):
    Qt's own ``%v / %m`` would print an empty table's ``1 / 1``, and a total past a C int
    (an estimate) is drawn in proportion instead of raising."""
    scale = -(-total // BAR_MAX) if total > BAR_MAX else 1
    bar.setRange(0, max(total // scale, 1))
    bar.setValue(min(done, total) // scale)
    bar.setFormat(f"{done:,} / {total:,}" if text is None else text)


def human_size(size: int) -> str:
    """``1.2 MiB``: the CLI's style (binary units, named as such)."""
    return size_text(size)


def set_rows(model: RowsModel, rows: Sequence[Sequence[Any]]) -> None:
    """Fill a model."""
    model.set_rows(rows)
