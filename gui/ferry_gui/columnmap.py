"""The column mapping editor's model: one table spec's columns, editable, checked by the plan.

A row is one source field and the target column it feeds. Rows come from the spec itself
(``columns``, ``types``, ``ignore``) and from the source table's fields once they are known
(:meth:`ColumnMappingModel.set_fields`): a field the plan does not name is carried by
``map_all`` into the column of the same name. An edit is tried on a copy of the spec and
validated by the plan model; a refused edit is shown at its cell (red, with the message as
the tooltip) and leaves the plan as it was. Saving is the caller's job (``edited``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QPalette

from ferry.api import LOGICAL_TYPES
from ferry.plan import ColumnSpec, Plan, TableSpec

from .models import Index, validation_message

#: the editor's columns: (header, what it edits)
COLUMN_HEADERS = [
    ("source field", "source"),
    ("target column", "target"),
    ("type", "type"),
    ("transform", "transform"),
    ("default", "default"),
    ("ignore", "ignore"),
]
SOURCE, TARGET, TYPE, TRANSFORM, DEFAULT, IGNORE = range(len(COLUMN_HEADERS))
#: the type drop-down: no type (the target's or the source's), then the plan's logical types
TYPE_CHOICES = ["", *LOGICAL_TYPES]
#: the two date-time types read alike; each says which it is (docs/plan.md)
TYPE_TIPS = {
    "timestamp": "an instant: values with no zone are read in the plan's timezone "
    "(PostgreSQL timestamptz)",
    "datetime": "a date and time of day without a zone, kept as written "
    "(PostgreSQL timestamp without time zone)",
}
_REFUSED = QColor(218, 54, 51, 110)


class EditRefused(ValueError):
    """An edit that makes no sense before validation (no target column to type...)."""


@dataclass
class ColumnRow:
    """One line of the editor: a source field and the target column it feeds ("" for none)."""

    source: str
    target: str


def column_rows(spec: TableSpec, fields: list[str]) -> list[ColumnRow]:
    """The editor's rows: the plan's columns first, then every other field it knows of."""
    rows = [ColumnRow(column.from_ or "", target) for target, column in spec.columns.items()]
    used = {row.source for row in rows} | set(spec.columns)
    for name in [*fields, *spec.types, *spec.ignore]:
        if name and name not in used:
            carried = spec.map_all and name not in spec.ignore
            rows.append(ColumnRow(name, name if carried else ""))
            used.add(name)
    return rows


def transform_text(column: ColumnSpec | None) -> str:
    """``trim, lower, cast integer``: a column's text ops, then its cast."""
    if column is None:
        return ""
    parts = list(column.ops)
    if column.cast:
        parts.append(f"cast {column.cast}")
    return ", ".join(parts)


def parse_transform(text: str) -> tuple[list[str], str | None]:
    """The ops and the cast of a transform as :func:`transform_text` writes it."""
    ops: list[str] = []
    cast: str | None = None
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        if part.split()[0].lower() == "cast":
            cast = part[4:].strip() or None
        else:
            ops.append(part.lower())
    return ops, cast


def parse_default(text: str) -> Any:
    """A default as typed: a JSON number, true/false or quoted text; any other text as is."""
    text = text.strip()
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return value if isinstance(value, str | int | float | bool) else text


def default_text(value: Any) -> str:
    """A default as the editor shows it (text that reads back as a number is quoted)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return json.dumps(value) if parse_default(value) != value else value
    return json.dumps(value)


class ColumnMappingModel(QAbstractTableModel):
    """The columns of table ``plan.tables[index]``; every edit is validated by the plan."""

    #: an accepted edit: the table's name and what changed (``type of status``)
    edited = Signal(str, str)
    #: a refused edit: the message (also shown at the cell)
    refused = Signal(str)

    def __init__(self, plan: Plan, table: int, parent: Any = None) -> None:
        super().__init__(parent)
        self.plan = plan
        self.table = table
        self.fields: list[str] = []
        self.rows = column_rows(self.spec, [])
        #: (row, column) -> why the last edit of that cell was refused
        self.errors: dict[tuple[int, int], str] = {}
        #: off while a job reads the plan (the preview runs)
        self.editable = True

    @property
    def spec(self) -> TableSpec:
        """The table spec being edited (the plan's current one)."""
        return self.plan.tables[self.table]

    def set_fields(self, fields: list[str]) -> None:
        """The source table's fields are known: show those the plan does not name too."""
        self.beginResetModel()
        self.fields = list(fields)
        self.rows = column_rows(self.spec, self.fields)
        self.errors.clear()
        self.endResetModel()

    def row_of(self, source: str) -> int:
        """The row of a source field (for tests and callers); -1 when there is none."""
        return next((i for i, r in enumerate(self.rows) if r.source == source), -1)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMN_HEADERS)

    def text(self, row: int, column: int) -> str:
        """A cell as it is edited."""
        line = self.rows[row]
        spec = self.spec
        explicit = spec.columns.get(line.target) if line.target else None
        if column == SOURCE:
            return line.source
        if column == TARGET:
            return line.target
        if column == TYPE:
            return spec.types.get(line.target, "") if line.target else ""
        if column == TRANSFORM:
            return transform_text(explicit)
        if column == DEFAULT:
            return default_text(explicit.default) if explicit else ""
        return ""

    def _shown(self, row: int, column: int) -> tuple[str, bool]:
        """A cell as it is shown, and whether that is a placeholder (greyed)."""
        line = self.rows[row]
        explicit = self.spec.columns.get(line.target) if line.target else None
        if column == SOURCE and not line.source and explicit is not None:
            if explicit.now:
                return "(the run's time)", True
            if explicit.has_const:
                return f"(constant {explicit.const!r})", True
        if column == TARGET and not line.target:
            return "(not carried)", True
        return self.text(row, column), False

    def ignored(self, row: int) -> bool:
        """Whether the row's source field is in the table's ``ignore`` list."""
        source = self.rows[row].source
        return bool(source) and source in self.spec.ignore

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row, column = index.row(), index.column()
        error = self.errors.get((row, column))
        if role == Qt.ItemDataRole.CheckStateRole and column == IGNORE:
            return Qt.CheckState.Checked if self.ignored(row) else Qt.CheckState.Unchecked
        if column == IGNORE:
            return error if role == Qt.ItemDataRole.ToolTipRole else None
        shown, placeholder = self._shown(row, column)
        if role == Qt.ItemDataRole.DisplayRole:
            return shown
        if role == Qt.ItemDataRole.EditRole:
            return self.text(row, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return error or shown
        if role == Qt.ItemDataRole.BackgroundRole and error:
            return QBrush(_REFUSED)
        if role == Qt.ItemDataRole.ForegroundRole and (placeholder or self.ignored(row)):
            return QBrush(QPalette().color(QPalette.ColorRole.PlaceholderText))
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        flags = super().flags(index)
        if not index.isValid() or not self.editable:
            return flags
        if index.column() == IGNORE:
            return flags | Qt.ItemFlag.ItemIsUserCheckable
        return flags | Qt.ItemFlag.ItemIsEditable

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMN_HEADERS[section][0]
        return None

    # -- editing ------------------------------------------------------------------------------
    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if not index.isValid() or not self.editable:
            return False
        row, column = index.row(), index.column()
        if column == IGNORE:
            if role != Qt.ItemDataRole.CheckStateRole:
                return False
            checked = value in (Qt.CheckState.Checked, Qt.CheckState.Checked.value, True, 2)
            if checked == self.ignored(row):
                return False
            new_text = "1" if checked else ""
        elif role != Qt.ItemDataRole.EditRole:
            return False
        else:
            new_text = str(value if value is not None else "").strip()
            if new_text == self.text(row, column):
                return False
        line = self.rows[row]
        what = f"{COLUMN_HEADERS[column][0]} of {line.target or line.source}"
        try:
            data, new_line = self._changed(row, column, new_text)
            spec = TableSpec.model_validate(data)
            tables = list(self.plan.tables)
            tables[self.table] = spec
            trial = self.plan.model_copy()
            trial.tables = tables  # the plan's own checks (validate_assignment)
        except (ValidationError, EditRefused) as exc:
            message = validation_message(exc) if isinstance(exc, ValidationError) else str(exc)
            self.errors[(row, column)] = message
            self.dataChanged.emit(index, index)
            self.refused.emit(f"{self.spec.name}: {what}: {message}")
            return False
        self.plan.tables[self.table] = spec
        self.errors.pop((row, column), None)
        self.rows[row] = new_line
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMN_HEADERS) - 1))
        self.edited.emit(spec.name, what)
        return True

    def _changed(self, row: int, column: int, text: str) -> tuple[dict[str, Any], ColumnRow]:
        """The table spec (as plain data) with one cell changed, and the row's new line."""
        line = ColumnRow(self.rows[row].source, self.rows[row].target)
        data = self.spec.model_dump(by_alias=True, exclude_defaults=True)
        columns: dict[str, Any] = data.setdefault("columns", {})
        types: dict[str, Any] = data.setdefault("types", {})

        def explicit() -> dict[str, Any]:
            """The row's own column spec, written out when the row was carried by name."""
            if not line.target:
                raise EditRefused("give the target column first")
            if line.target not in columns:
                columns[line.target] = {"from": line.source} if line.source else {}
            entry: dict[str, Any] = columns[line.target]
            return entry

        if column == TARGET:
            if not text:
                raise EditRefused("a field is carried into a column: tick ignore to leave it")
            if line.target in columns:
                columns[text] = columns.pop(line.target)
            elif text != line.source:
                columns[text] = {"from": line.source}
            if line.target in types:
                types[text] = types.pop(line.target)
            line.target = text
        elif column == SOURCE:
            if not text and line.target not in columns:
                raise EditRefused("a carried column is fed by its field")
            entry = explicit()
            if text:
                entry["from"] = text
            else:
                entry.pop("from", None)
            line.source = text
        elif column == TYPE:
            if not line.target:
                raise EditRefused("give the target column first")
            if text:
                types[line.target] = text
            else:
                types.pop(line.target, None)
        elif column == TRANSFORM:
            entry = explicit()
            ops, cast = parse_transform(text)
            entry["ops"] = ops
            if cast is None:
                entry.pop("cast", None)
            else:
                entry["cast"] = cast
        elif column == DEFAULT:
            entry = explicit()
            entry["default"] = parse_default(text)
        elif column == IGNORE:
            if not line.source:
                raise EditRefused("only a source field can be ignored")
            ignore: list[str] = data.setdefault("ignore", [])
            if text:
                ignore.append(line.source)
            else:
                ignore.remove(line.source)
            if line.target not in columns:  # carried by name: ignoring it stops that
                line.target = "" if text or not self.spec.map_all else line.source
        return data, line
