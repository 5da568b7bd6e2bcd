"""``ferry check``'s warnings where the plan's types disagree with an existing table's columns.

A table that already exists keeps its column types: a source field inferred as text (one
``"n/a"`` among floats) mapped into a REAL column, a ``cast`` wider than the column, or a
``types`` entry for a column whose type is already fixed all change what loads (rows
rejected, or text where numbers were meant). Each is named before the run.
"""

from __future__ import annotations

import re

from ..plan import TableSpec
from ..sources import SourceTable
from ..values.logical import LogicalType, merge_types
from ..values.transform import PLAIN_FIELDS, RowMapper
from .schema import TableInfo

#: (value type, column type) pairs a cast carries without changing any value's meaning
_FITS = {
    ("boolean", "integer"),
    ("integer", "float"),
    ("date", "timestamp"),
    ("date", "datetime"),
    # an offset is converted to the plan's zone and dropped with a warning naming the row;
    # a naive time is read in the plan's zone: neither is rejected
    ("timestamp", "datetime"),
    ("datetime", "timestamp"),
}
#: column types that hold any value (as its text or JSON)
_HOLDS_ANY = {"text", "json"}
#: numbers into time columns are read as epoch times: reported elsewhere
_EPOCH = ({"integer", "float"}, {"timestamp", "datetime", "date"})


def type_warnings(
    spec: TableSpec, info: TableInfo, mapper: RowMapper, source: SourceTable
) -> list[str]:
    """Warnings for an existing target table ``info`` fed by ``spec``."""
    warnings = []
    for name, planned in spec.types.items():
        column = info.columns.get(name)
        if column is not None and column.type != planned:
            warnings.append(
                f"{info.name}.{name}: types.{name} = {planned!r} does not apply: the table "
                f"exists and its column is {column.sql_type or column.type} ({column.type}) "
                "(`types` is for tables Ferry creates)"
            )
    for mapped in mapper.mapped_columns():
        field = mapped.spec.from_
        if field is None or mapped.steps is not None:
            continue
        if not mapped.spec.model_fields_set <= PLAIN_FIELDS:
            continue  # transforms decide the value's type
        column = info.columns[mapped.name]
        found: LogicalType | None = mapped.spec.cast or source.columns.get(field)
        if column.type == "datetime" and not mapped.spec.cast and _zoned(source, field):
            warnings.append(
                f"{info.name}.{mapped.name}: source field {field!r} is "
                f"{source.declared[field]} (instants) but the column is "
                f"{column.sql_type or column.type} (no zone): each value is stored as its wall "
                "time in the plan's [options] timezone (UTC unless set), its offset dropped, "
                "with a warning naming the row"
            )
            continue
        if found is None or not _widens(found, column.type) or _holds_nothing(source, field):
            continue
        how = f"cast = {found!r}" if mapped.spec.cast else f"source field {field!r} holds {found}"
        mixed = source.evidence.get(field)
        if mixed is not None and not mapped.spec.cast:
            # A description reads the first records only (no row count then).
            sampled = "first rows: " if source.row_estimate is None else ""
            how += f" ({sampled}{mixed.summary(column.type)})"
        warnings.append(
            f"{info.name}.{mapped.name}: {how}, but the column is "
            f"{column.sql_type or column.type} ({column.type}): values that are not "
            f"{column.type} are rejected, naming their keys"
            + ("" if mapped.spec.cast else f"; set cast = {column.type!r} to say it is meant")
        )
    return warnings


def _holds_nothing(source: SourceTable, field: str) -> bool:
    """The source declares the column zero characters long: a column the app keeps empty
    (SQLAlchemy's ``CHAR(0)`` for Home Assistant's legacy ``states.last_updated``, NULL in
    every row, ``timestamptz`` on PostgreSQL); no value of it can be rejected."""
    declared = source.declared.get(field, "")
    return bool(re.fullmatch(r"\s*(var)?char\s*\(\s*0\s*\)\s*", declared, re.I))


def _zoned(source: SourceTable, field: str) -> bool:
    """The source declares the field's values instants (PostgreSQL ``timestamptz``)."""
    declared = " ".join(source.declared.get(field, "").lower().split())
    return bool(re.match(r"timestamptz\b|timestamp ?(\(\d+\) ?)?with time zone", declared))


def _widens(found: LogicalType, column: LogicalType) -> bool:
    """True when values of type ``found`` do not all fit a column of type ``column``."""
    if found == column or column in _HOLDS_ANY or (found, column) in _FITS:
        return False
    if found in _EPOCH[0] and column in _EPOCH[1]:
        return False
    return merge_types(found, column) != column


__all__ = ["type_warnings"]
