"""What every page shares: the wizard's state, the runner, small widget helpers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, cast

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableView,
    QWidget,
    QWizardPage,
)

from ..models import RowsModel

if TYPE_CHECKING:
    from ..runner import Runner
    from ..wizard import FerryWizard


class FerryPage(QWizardPage):
    """A page that can reach the wizard's state and run engine jobs."""

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
                self.completeChanged.emit()

        runner.succeeded.connect(succeeded)
        runner.failed.connect(failed)
        runner.ended.connect(ended)
        if not runner.start(name, factory):
            runner.succeeded.disconnect(succeeded)
            runner.failed.disconnect(failed)
            runner.ended.disconnect(ended)
            return False
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
    header = view.horizontalHeader()
    header.setStretchLastSection(True)
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    model.modelReset.connect(view.resizeColumnsToContents)
    return view


def human_size(size: int) -> str:
    """``1.2 MB``."""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"


def set_rows(model: RowsModel, rows: Sequence[Sequence[Any]]) -> None:
    """Fill a model."""
    model.set_rows(rows)
