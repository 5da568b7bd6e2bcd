"""SQLite columns whose values are of several storage classes: kept as stored on a SQLite
target, and named where a text column turns their numbers into text.

SQLite types values, not columns: a column declared with no type (or ``ANY`` in a STRICT
table), or an ``INTEGER`` column the app also wrote ``'n/a'`` into, holds integers, reals,
text and blobs side by side. Any one logical type changes some of them (as ``text`` the
integer 5 became ``'5'``: the app read a string back, and ``'10'`` sorted before ``'9'``; as
``integer`` the text was rejected). A SQLite target types values the same way, so ``ferry
init`` drafts such a column ``types.col = "any"``: every value is copied in its own storage
class, into a column created with the source's declared type (the same affinity, so SQLite
stores each value as the source holds it). A PostgreSQL column has one type: there ``any``
is refused, and the draft keeps the widening its notes name; check, the preview and the
report name it too (:func:`widened_columns`: the rows holding numbers a ``text`` column
stores as their text).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import PlanError
from .carried import SchemaObject
from .identifiers import quote
from .namefold import target_column
from .typefindings import TypeFinding

if TYPE_CHECKING:
    from ..plan import Plan
    from ..sources import SourceTable
    from ..sources.base import SourceReader
    from .schema import TableInfo

#: the storage classes a SQLite target stores for a value of each drafted type (a decimal as
#: its text, which NUMERIC affinity stores as the integer or real the source holds); a
#: boolean column keeps its own rule (``'t'``/``'f'`` are booleans: ferry.shape.typemap)
_WRITES: dict[str, tuple[str, ...]] = {
    "integer": ("integer",),
    "float": ("real",),
    "decimal": ("integer", "real"),
    "text": ("text",),
    "bytes": ("blob",),
}
_CLASSES = ("integer", "real", "text", "blob")
#: the storage class of a SQLite value of each kind the scan tells apart (any other kind:
#: the column's classes are read in SQL)
_CLASS_OF = {
    "integer": "integer",
    "float": "real",
    "text": "text",
    "timestamp": "text",
    "datetime": "text",
    "date": "text",
    "bytes": "blob",
}
#: a target dialect as its database calls itself
_NAMES = {"postgresql": "PostgreSQL"}
#: examples a note shows per storage class
_EXAMPLES = 2


def stored_choices(
    reader: SourceReader, table: SourceTable, drafted: dict[str, str]
) -> list[TypeFinding]:
    """``types.col = "any"`` for each column of ``table`` holding values of a storage class
    its drafted type (``drafted``: column -> type, the draft's choice where it made one,
    else the table's) would not store as they are, with a note counting them by class and
    naming the first rows. Date, time and JSON columns keep their own rules."""
    generated = table.shape.generated if table.shape is not None else {}
    columns = [
        c
        for c, t in drafted.items()
        if t in _WRITES and c in table.columns and c not in generated and _may_change(table, c, t)
    ]
    if not columns or not table.origin:
        return []
    sums = [f"sum(typeof({quote(c)}) = '{kind}')" for c in columns for kind in _CLASSES]
    row = reader.query_one(f"SELECT {', '.join(sums)} FROM {quote(table.origin)}", (), table.origin)
    found = []
    for at, column in enumerate(columns):
        counts = {k: int(n or 0) for k, n in zip(_CLASSES, row[at * 4 : at * 4 + 4], strict=True)}
        held = [k for k, n in counts.items() if n]
        wanted = _WRITES[drafted[column]]
        if set(held) <= set(wanted):
            continue
        shown = _shown(reader, table, column, counts, wanted)
        declared = table.declared.get(column, "")
        found.append(
            TypeFinding(
                table.name,
                column,
                "any",
                f"column {column!r} ({declared or 'no declared type'}) holds values of "
                f"several storage classes ({shown}): kept as stored (types.{column} = "
                f'"any": each value keeps its class, the column its declared type; '
                f'"{drafted[column]}" would change or reject the others)',
            )
        )
    return found


def _may_change(table: SourceTable, column: str, drafted: str) -> bool:
    """Whether the kinds the scan saw in ``column`` (:attr:`SourceTable.kinds`) include a
    storage class its drafted type does not store as it is (so SQL counts them)."""
    classes = {_CLASS_OF.get(kind, "?") for kind in table.kinds.get(column, ())}
    return not classes <= set(_WRITES[drafted])


def _shown(
    reader: SourceReader,
    table: SourceTable,
    column: str,
    counts: dict[str, int],
    wanted: tuple[str, ...],
) -> str:
    """``3 text, 1 integer: 5 at id 1``: each class's count, with the first rows of those
    the drafted type would change."""
    c, keys = quote(column), list(table.key) or ["rowid"]
    parts = []
    for kind, count in counts.items():
        if not count:
            continue
        if kind in wanted:
            parts.append(f"{count:,} {kind}")
            continue
        rows = reader.query_all(
            f"SELECT {', '.join(quote(k) for k in keys)}, {c} FROM {quote(table.origin)} "
            f"WHERE typeof({c}) = ? LIMIT {_EXAMPLES}",
            (kind,),
            table.origin,
        )
        where = "; ".join(
            f"{r[-1]!r} at " + ", ".join(f"{k} {v!r}" for k, v in zip(keys, r, strict=False))
            for r in rows
        )
        more = ", …" if count > len(rows) else ""
        parts.append(f"{count:,} {kind}: {where}{more}")
    return ", ".join(parts)


def stored_declared(source: SourceTable, field: str) -> str:
    """The declared type an ``any`` column is created with: the source's own, except a
    STRICT table's ``ANY``, which a table without STRICT reads as NUMERIC (``'007'`` would
    become 7): no declared type, which stores every value as it is. Its collation stays."""
    declared = source.declared.get(field, "")
    strict = source.shape is not None and "STRICT" in source.shape.options
    declared = "" if strict and declared.strip().upper() == "ANY" else declared
    collation = source.collations.get(field, "")
    return f"{declared} COLLATE {collation}".strip() if collation else declared


def refuse_off_sqlite(table: str, column: str, dialect: str) -> None:
    """A PlanError for ``types.col = "any"`` in a table created on another target than
    SQLite: its columns have one type each."""
    if dialect and dialect != "sqlite":
        error = PlanError(
            f'table {table!r}, column {column!r}: types.{column} = "any" keeps each value as '
            f"SQLite stored it, but a {_NAMES.get(dialect, dialect)} column holds one type",
            hint=f'Choose its type (types.{column} = "text" holds every value as its text; '
            "the draft's notes name the values that change).",
        )
        error.table = table
        raise error


#: declared types with TEXT affinity: SQLite stores a number written to them as its text
_TEXT_AFFINITY = ("CHAR", "CLOB", "TEXT")


def numbers_in_text(reader: SourceReader, table: SourceTable) -> dict[str, str]:
    """Column -> ``2 integers and 1 real (first: 5 at id 1; …)`` for each text column of
    ``table`` holding numbers, which a ``text`` column stores as their text. Only columns
    whose declared type lets SQLite keep a number are read (none, ``ANY``, ``NUMERIC``…): a
    TEXT column holds none."""
    columns = [
        c
        for c, t in table.columns.items()
        if t == "text"
        and not any(w in table.declared.get(c, "").upper() for w in _TEXT_AFFINITY)
        and c in table.declared
    ]
    if not columns or not table.origin:
        return {}
    sums = [f"sum(typeof({quote(c)}) = '{kind}')" for c in columns for kind in _CLASSES[:2]]
    row = reader.query_one(f"SELECT {', '.join(sums)} FROM {quote(table.origin)}", (), table.origin)
    found = {}
    for at, column in enumerate(columns):
        integers, reals = int(row[2 * at] or 0), int(row[2 * at + 1] or 0)
        if integers or reals:
            counts = {"integer": integers, "real": reals, "text": 0, "blob": 0}
            found[column] = _shown(reader, table, column, counts, ())
    return found


def widened_objects(
    plan: Plan, created: dict[str, TableInfo], found: dict[str, dict[str, str]]
) -> list[SchemaObject]:
    """A ``translated`` entry per created text column fed by a field :func:`numbers_in_text`
    found numbers in (``found``: by source table), so check, the preview and the report name
    the rows whose values become text."""
    objects = []
    for spec in plan.tables:
        info = created.get(spec.name)
        if info is None:
            continue
        renamed = {c.from_: n for n, c in spec.columns.items() if c.from_ is not None}
        for field, held in found.get(spec.source, {}).items():
            named = renamed.get(field, field)
            column = named if named in info.columns else target_column(named, info.columns)
            if column is None or info.columns[column].type != "text":
                continue
            objects.append(
                SchemaObject(
                    "column type",
                    f"{spec.name}.{column}",
                    "translated",
                    f"numbers stored as their text ({held}): the app reads them back as "
                    "text, and they sort as text ('10' before '9')",
                )
            )
    return objects


def widened_columns(
    plan: Plan,
    readers: dict[str, SourceReader],
    source_tables: dict[str, SourceTable],
    created: dict[str, TableInfo],
) -> list[SchemaObject]:
    """:func:`widened_objects` of the tables a run created, their SQLite sources read for
    numbers in text columns (in a worker thread: it reads the source)."""
    found: dict[str, dict[str, str]] = {}
    for spec in plan.tables:
        reader = readers.get(spec.source.split(".", 1)[0])
        table = source_tables.get(spec.source)
        if spec.name not in created or reader is None or table is None:
            continue
        if reader.capabilities.samples_columns and spec.source not in found:
            found[spec.source] = numbers_in_text(reader, table)
    return widened_objects(plan, created, found)


__all__ = [
    "numbers_in_text",
    "refuse_off_sqlite",
    "stored_choices",
    "stored_declared",
    "widened_columns",
    "widened_objects",
]
