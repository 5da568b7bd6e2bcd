"""The shape a plan declares for a table Ferry creates from a file: the key the database
numbers (``identity``), the foreign keys (``references``) and the indexes (``indexes``).

A JSON file has no schema to carry, so a table made from it had a primary key and nothing
else: the app's first ``INSERT`` without an id failed (``null value in column "id"``), and
nothing kept a post's ``user_id`` pointing at a user. ``ferry init`` drafts both from the
data's evidence (:mod:`ferry.scan.relations`); here they become the same
:class:`~ferry.shape.ddl.TargetShape` a database source's shape gives, so the identity is
moved past the highest migrated id and the foreign keys are added once the rows are in, as
for a database move.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import PlanError
from .ddl import TargetForeignKey, TargetIndex, TargetShape
from .identifiers import quote

if TYPE_CHECKING:
    from ..planspecs import TableSpec
    from .schema import TableInfo


def _column(info: TableInfo, name: str) -> str | None:
    """``name`` as the created table spells it (folded on PostgreSQL), None when absent."""
    if name in info.columns:
        return name
    folded = [c for c in info.columns if c.casefold() == name.casefold()]
    return folded[0] if len(folded) == 1 else None


def plan_shape(spec: TableSpec, info: TableInfo, tables: dict[str, TableInfo]) -> TargetShape:
    """The shape ``spec`` declares for ``info`` (created from a file); ``tables`` are the
    tables this run creates, to spell a referenced column as its table does."""
    shape = TargetShape()
    if spec.identity is not None:
        column = _column(info, spec.identity)
        if column is None or info.primary_key != (column,):
            raise PlanError(
                f"table {spec.name!r}: identity {spec.identity!r} is not its one key column",
                hint=f'Set key = ["{spec.identity}"] or remove identity.',
            )
        if info.columns[column].type != "integer":
            raise PlanError(
                f"table {spec.name!r}: identity {spec.identity!r} holds "
                f"{info.columns[column].type} values; the database numbers only integers",
                hint="Remove identity, or make the column an integer (types).",
            )
        shape.identity = column
        info.columns[column].has_default = True
    for name, target in spec.references.items():
        column = _column(info, name)
        if column is None:
            raise PlanError(
                f"table {spec.name!r}: references.{name}: the table has no column {name!r}",
                hint=f"Columns of {spec.name}: {', '.join(info.columns)}",
            )
        ref_table, _, ref_column = target.rpartition(".")
        referenced = tables.get(ref_table)
        if referenced is not None:
            ref_column = _column(referenced, ref_column) or ref_column
        shape.foreign_keys.append(TargetForeignKey((column,), ref_table, (ref_column,)))
    for index in spec.indexes:
        columns = [_column(info, name) or "" for name in index.columns]
        if not all(columns):
            missing = next(n for n, c in zip(index.columns, columns, strict=True) if not c)
            raise PlanError(
                f"table {spec.name!r}: an index on {', '.join(index.columns)}: the table has "
                f"no column {missing!r}",
                hint=f"Columns of {spec.name}: {', '.join(info.columns)}",
            )
        name = f"{info.name}_{'_'.join(columns)}_{'key' if index.unique else 'idx'}"
        parts = tuple(quote(c) for c in columns)
        shape.indexes.append(TargetIndex(name, parts, unique=index.unique))
    return shape


__all__ = ["plan_shape"]
