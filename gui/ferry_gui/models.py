"""Table models for the wizard's views: plain rows in, Qt roles out. No SQL here."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

Index = QModelIndex | QPersistentModelIndex
#: (row, column) -> a background colour name, or None
Colour = Callable[[int, int], str | None]

_COLOURS = {
    "pass": QColor(46, 160, 67, 90),
    "fail": QColor(218, 54, 51, 110),
    "before": QColor(218, 54, 51, 70),
    "after": QColor(46, 160, 67, 70),
    "warn": QColor(210, 153, 34, 90),
}


def show(value: Any) -> str:
    """A value as a cell shows it."""
    if value is None:
        return "NULL"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.1f}"
    return str(value)


class RowsModel(QAbstractTableModel):
    """Rows of values under headers; numbers right-aligned; optional per-cell colour."""

    def __init__(self, headers: Sequence[str], parent: Any = None) -> None:
        super().__init__(parent)
        self.headers = list(headers)
        self.rows: list[list[Any]] = []
        self.colour: Colour | None = None

    def set_rows(self, rows: Sequence[Sequence[Any]]) -> None:
        """Replace every row."""
        self.beginResetModel()
        self.rows = [list(r) for r in rows]
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.headers)

    def value(self, row: int, column: int) -> Any:
        """The raw value of a cell."""
        return self.rows[row][column]

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        value = self.rows[index.row()][index.column()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return show(value)
        if role == Qt.ItemDataRole.TextAlignmentRole and isinstance(value, int | float):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.BackgroundRole and self.colour is not None:
            name = self.colour(index.row(), index.column())
            if name:
                return QBrush(_COLOURS[name])
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.headers[section]
        return None


COUNT_HEADERS = ["table", "source", "read", "insert", "update", "unchanged", "conflict", "reject"]


class CountsModel(RowsModel):
    """Per-table counts of a preview or a run."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(COUNT_HEADERS, parent)
        self.colour = self._colour

    def set_result(self, result: Any) -> None:
        """Rows from a RunResult's tables."""
        rows = []
        for table in result.tables:
            c = table.counts()
            rows.append(
                [
                    table.name,
                    table.source,
                    c["read"],
                    c["inserted"],
                    c["updated"],
                    c["unchanged"],
                    c["conflicts"],
                    c["rejected"],
                ]
            )
        self.set_rows(rows)

    def _colour(self, row: int, column: int) -> str | None:
        value = self.rows[row][column]
        if column == 6 and value:
            return "warn"
        if column == 7 and value:
            return "fail"
        return None


class DiffModel(RowsModel):
    """One row per changed cell: before (red) and after (green)."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(["table", "key", "decision", "column", "before", "after"], parent)
        self.colour = lambda _row, column: {4: "before", 5: "after"}.get(column)

    def set_diffs(self, diffs: Sequence[Any]) -> None:
        """Rows from RunResult.diffs."""
        rows = [
            [d.table, d.key, d.decision, c.column, c.before, c.after]
            for d in diffs
            for c in d.changes
        ]
        self.set_rows(rows)


def verdict_colour(model: RowsModel, column: int) -> Colour:
    """Colour a PASS/FAIL column."""

    def colour(row: int, col: int) -> str | None:
        if col != column:
            return None
        return "pass" if model.rows[row][col] == "PASS" else "fail"

    return colour
