"""Table models for the wizard's views: plain rows in, Qt roles out. No SQL here."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from pydantic import ValidationError
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QPalette

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


#: C0 control characters as their Unicode pictures (U+2400…): "\x1f" shows as "␟", not blank
_CONTROL_PICTURES = {code: 0x2400 + code for code in range(0x20)} | {0x7F: 0x2421}


def stored_text(value: Any) -> str:
    """A value of the app's data as a cell shows it: as stored (``1796657849808``, not
    ``1,796,657,849,808``; ``2.567``, not ``2.6``), control characters made visible."""
    if value is None:
        return "NULL"
    if isinstance(value, float):
        return repr(value)
    return str(value).translate(_CONTROL_PICTURES)


class RowsModel(QAbstractTableModel):
    """Rows of values under headers; numbers right-aligned; optional per-cell colour."""

    #: how a cell's value is written: counts and sizes read as quantities (``1,200``)
    cell_text = staticmethod(show)

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
            return self.cell_text(value)
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


class DataModel(RowsModel):
    """Rows of the app's own data (source rows, rows to insert, changed cells): each value
    as stored, since an id or a time in ms is no quantity and a rounded float is not the
    value the run writes."""

    cell_text = staticmethod(stored_text)


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


#: the Changes tab's column of a conflict's source value, which the run does not write
NOT_APPLIED = 6


class DiffModel(DataModel):
    """One row per changed cell: what the target holds before and after the run.

    An update's cell goes from before (red) to after (green). A conflict keeps the target's
    value, so before and after are that same value (uncoloured), and the source's value stands
    apart under "source (not applied)".
    """

    def __init__(self, parent: Any = None) -> None:
        headers = ["table", "key", "decision", "column", "before", "after", "source (not applied)"]
        super().__init__(headers, parent)
        self.colour = self._colour

    def set_diffs(self, diffs: Sequence[Any]) -> None:
        """Rows from RunResult.diffs."""
        rows = []
        for d in diffs:
            for c in d.changes:
                if d.decision == "update":
                    rows.append([d.table, d.key, d.decision, c.column, c.before, c.after, None])
                else:  # the target keeps its row
                    rows.append([d.table, d.key, d.decision, c.column, c.before, c.before, c.after])
        self.set_rows(rows)

    def applied(self, row: int) -> bool:
        """Whether the run writes the source's value of this row's cell."""
        return bool(self.rows[row][2] == "update")

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if index.isValid() and index.column() == NOT_APPLIED:
            if self.applied(index.row()):
                return None  # an update applies the source's value: nothing stands apart
            if role == Qt.ItemDataRole.ToolTipRole:
                value = self.cell_text(self.rows[index.row()][NOT_APPLIED])
                return f"{value}: the source's value, not applied (the target keeps its own)"
        return super().data(index, role)

    def _colour(self, row: int, column: int) -> str | None:
        if self.applied(row):
            return {4: "before", 5: "after"}.get(column)
        return "warn" if column == NOT_APPLIED else None


def verdict_colour(model: RowsModel, column: int) -> Colour:
    """Colour a PASS/FAIL column."""

    def colour(row: int, col: int) -> str | None:
        if col != column:
            return None
        return "pass" if model.rows[row][col] == "PASS" else "fail"

    return colour


#: the editable columns of a plan's table spec, in view order: (header, attribute)
MAPPING_COLUMNS = [
    ("source table", "source"),
    ("target table", "name"),
    ("key", "key"),
    ("conflict", "conflict"),
    ("newer_by", "newer_by"),
    ("on_reject", "on_reject"),
]
#: columns edited with a combo box: column -> its choices
MAPPING_CHOICES = {3: ["insert", "update", "newer", "error"], 5: ["skip", "stop"]}


def validation_message(exc: ValidationError) -> str:
    """A pydantic error as one readable line."""
    messages = []
    for error in exc.errors():
        message = str(error.get("msg", ""))
        messages.append(message.removeprefix("Value error, "))
    return "; ".join(messages) or str(exc)


class MappingModel(QAbstractTableModel):
    """The plan's table specs, one row each, editable; the plan validates every edit.

    The target table's cell has a check box: unticking it takes the table out of the plan's
    ``[[tables]]`` (its spec is kept here, greyed, in its place) and ticking it puts the spec
    back. Excluded specs are remembered per plan file for the session.

    An accepted edit changes the plan in place and emits ``edited(row, attribute)`` (attribute
    ``included`` for the check box); a refused one leaves the plan as it was and emits
    ``refused(message)``. Saving is the page's job.
    """

    edited = Signal(int, str)
    refused = Signal(str)

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.plan: Any = None
        self.editable = True
        #: row -> the spec of a table taken out of the plan (rows count them too)
        self.excluded: dict[int, Any] = {}
        self._excluded_by_file: dict[str, dict[int, Any]] = {}

    def set_plan(self, plan: Any, path: Any = None) -> None:
        """Show ``plan``'s table specs (a ``ferry.Plan``; None for none); ``path`` (its file)
        brings back the tables excluded from it earlier in the session."""
        self.beginResetModel()
        if plan is not self.plan:
            self.excluded = {}
        if path is not None:
            self.excluded = self._excluded_by_file.setdefault(str(path), self.excluded)
        if plan is not None and self.excluded:
            # The file may have lost tables since: every excluded row stays within the rows.
            last = len(plan.tables)
            kept = sorted(self.excluded.items())
            self.excluded.clear()
            for i, (row, spec) in enumerate(kept):
                self.excluded[min(row, last + i)] = spec
        self.plan = plan
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        if parent.isValid() or self.plan is None:
            return 0
        return len(self.plan.tables) + len(self.excluded)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(MAPPING_COLUMNS)

    def plan_index(self, row: int) -> int | None:
        """The index in ``plan.tables`` of a row's spec; None for an excluded table."""
        if row in self.excluded:
            return None
        return row - sum(1 for r in self.excluded if r < row)

    def spec(self, row: int) -> Any:
        """The table spec a row shows (included or not)."""
        index = self.plan_index(row)
        return self.excluded[row] if index is None else self.plan.tables[index]

    def text(self, row: int, column: int) -> str:
        """A cell as it is shown and edited."""
        value = getattr(self.spec(row), MAPPING_COLUMNS[column][1])
        if isinstance(value, list):
            return ", ".join(value)
        return "" if value is None else str(value)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or self.plan is None:
            return None
        row = index.row()
        if role == Qt.ItemDataRole.CheckStateRole and MAPPING_COLUMNS[index.column()][1] == "name":
            return Qt.CheckState.Unchecked if row in self.excluded else Qt.CheckState.Checked
        text = self.text(row, index.column())
        empty_key = MAPPING_COLUMNS[index.column()][1] == "key" and not text
        if role == Qt.ItemDataRole.DisplayRole and empty_key:
            return "(primary key)"  # the plan names no key: the target's primary key is used
        if role == Qt.ItemDataRole.ForegroundRole and (empty_key or row in self.excluded):
            return QBrush(QPalette().color(QPalette.ColorRole.PlaceholderText))
        if role == Qt.ItemDataRole.ToolTipRole and row in self.excluded:
            return f"{text} (not in the plan: tick the target table to include it)"
        if role in (
            Qt.ItemDataRole.DisplayRole,
            Qt.ItemDataRole.EditRole,
            Qt.ItemDataRole.ToolTipRole,
        ):
            return text
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        flags = super().flags(index)
        if not index.isValid() or not self.editable:
            return flags
        if MAPPING_COLUMNS[index.column()][1] == "name":
            flags |= Qt.ItemFlag.ItemIsUserCheckable
        if index.row() not in self.excluded:
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if not index.isValid() or self.plan is None:
            return False
        if role == Qt.ItemDataRole.CheckStateRole:
            checked = value in (Qt.CheckState.Checked, Qt.CheckState.Checked.value, True, 2)
            return self.set_included(index.row(), checked)
        row, column = index.row(), index.column()
        position = self.plan_index(row)
        if role != Qt.ItemDataRole.EditRole or position is None:
            return False
        attribute = MAPPING_COLUMNS[column][1]
        text = str(value if value is not None else "").strip()
        new: Any = text
        if attribute == "key":
            new = [part.strip() for part in text.split(",") if part.strip()]
        elif attribute == "newer_by":
            new = text or None
        spec = self.plan.tables[position]
        if getattr(spec, attribute) == new:
            return False
        try:
            # Try on copies first: a failed assignment may leave the value set.
            trial = spec.model_copy(deep=True)
            setattr(trial, attribute, new)
            tables = list(self.plan.tables)
            tables[position] = trial
            trial_plan = self.plan.model_copy()
            trial_plan.tables = tables  # the plan's own checks (e.g. the source exists)
            setattr(spec, attribute, new)
        except ValidationError as exc:
            self.refused.emit(f"{spec.name}.{attribute}: {validation_message(exc)}")
            return False
        self.dataChanged.emit(index, index)
        self.edited.emit(row, attribute)
        return True

    def set_included(self, row: int, included: bool) -> bool:
        """Put a table into the plan's ``[[tables]]`` or take it out; False: nothing changed."""
        if not self.editable or self.plan is None or included == (row not in self.excluded):
            return False
        tables = list(self.plan.tables)
        if included:
            spec = self.excluded[row]
            tables.insert(row - sum(1 for r in self.excluded if r < row), spec)
        else:
            position = self.plan_index(row)
            assert position is not None
            spec = tables.pop(position)
        try:
            self.plan.tables = tables  # validated on assignment
        except ValidationError as exc:
            self.refused.emit(f"{spec.name}: {validation_message(exc)}")
            return False
        if included:
            del self.excluded[row]
        else:
            self.excluded[row] = spec
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(MAPPING_COLUMNS) - 1))
        self.edited.emit(row, "included")
        return True

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return MAPPING_COLUMNS[section][0]
        return None
