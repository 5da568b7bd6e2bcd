"""A key for a database source table (SQLite, PostgreSQL) without a primary key (``init``).

A table without a key cannot be merged. Its data may still hold a column set that identifies
every row: checked cheaply, in this order, with a bounded number of queries: a UNIQUE index
or constraint whose columns hold no NULL, then single NOT NULL columns with as many distinct
values as rows, then pairs of those. A column of a foreign key is not taken alone: the schema
lets many rows reference one parent (a log's chunks, a change's properties), so a key of it,
made the target's primary key, would refuse the app's next such row; pairs holding it are
tried before the other columns, as a child row is told apart within its parent. When none is
found, the table is loaded once with ``mode = "append"`` (see :mod:`ferry.load.modes`). Rows
identical in every column are counted either way: no key can tell them apart.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..shape.identifiers import quote
from ..sources.base import SourceTable


class Queries(Protocol):
    """A database source reader that answers SQL about its tables (SQLite, PostgreSQL)."""

    def query_one(self, sql: str, params: tuple[Any, ...], table: str) -> tuple[Any, ...]: ...

    def query_all(self, sql: str, params: tuple[Any, ...], table: str) -> list[tuple[Any, ...]]: ...


#: queries spent on candidate column sets per table, at most
MAX_CANDIDATES = 12
#: repeated rows shown as examples
SHOWN = 3


@dataclass
class KeyFinding:
    """What the data says about identifying the rows of one keyless table."""

    #: the columns found to identify every row (empty: none)
    key: list[str] = field(default_factory=list)
    #: why those columns (the evidence), for the table's note
    why: str = ""
    rows: int = 0
    #: rows identical in every column to an earlier row (the copies beyond the first)
    identical: int = 0
    #: the first repeated rows
    examples: list[dict[str, Any]] = field(default_factory=list)

    def identical_note(self) -> str:
        """The note on rows identical in every column ("" when there are none)."""
        if not self.identical:
            return ""
        shown = "; ".join(", ".join(f"{k}={v!r}" for k, v in row.items()) for row in self.examples)
        return (
            f"{self.identical} rows are identical in every column to another row "
            f"(loaded as they are; first: {shown})"
        )

    def notes(self, table: str) -> list[str]:
        """The notes ``ferry init`` writes for the table."""
        notes = []
        if self.key:
            notes.append(f"{table} has no primary key: key = {self.key} ({self.why})")
        else:
            notes.append(
                f"{table} has no primary key and no column set identifies its {self.rows} rows: "
                'mode = "append" loads them once; a second run is refused unless mode = '
                '"replace" (the table\'s rows are replaced) or a key is named'
            )
        if self.identical:
            notes.append(self.identical_note())
        return notes


def find_key(reader: Queries, table: SourceTable) -> KeyFinding:
    """Look for a column set identifying every row of ``table`` (a database source table;
    a PostgreSQL table's UNIQUE and NOT NULL columns come from its reflected shape)."""
    origin = table.origin or table.name.split(".", 1)[-1]
    ref = quote(origin)
    columns = list(table.columns)
    finding = KeyFinding(rows=int(reader.query_one(f"SELECT COUNT(*) FROM {ref}", (), origin)[0]))
    finding.identical, finding.examples = identical_rows(reader, origin, columns)
    if finding.identical or not columns:
        return finding
    if table.shape is not None and table.shape.dialect == "postgresql":
        candidates, not_null = _declared(table)
    else:
        candidates, not_null = _sqlite_declared(reader, table, origin)
    why = f"NOT NULL, {finding.rows} distinct values in {finding.rows} rows"
    pairs = [list(pair) for pair in itertools.combinations(not_null, 2)]
    referencing = [c for c in not_null if c in _referencing(table)]
    if referencing:  # a child table: its rows are told apart within their parent first
        alone = ", ".join(referencing)
        child = f"{why}; not {alone} alone: a foreign key, many rows may reference one parent"
        candidates += [(p, child) for p in pairs if set(p) & set(referencing)]
        pairs = [p for p in pairs if not set(p) & set(referencing)]
    candidates += [([c], why) for c in not_null if c not in referencing]
    candidates += [(p, why) for p in pairs]
    for key, reason in candidates[:MAX_CANDIDATES]:
        if _identifies(reader, origin, key, finding.rows):
            finding.key, finding.why = key, reason
            break
    return finding


def _referencing(table: SourceTable) -> set[str]:
    """The columns of ``table``'s declared foreign keys."""
    if table.shape is None:
        return set()
    return {c for fk in table.shape.foreign_keys for c in fk.columns}


def _declared(table: SourceTable) -> tuple[list[tuple[list[str], str]], list[str]]:
    """UNIQUE column sets (constraints, then plain unique indexes) and NOT NULL columns of
    a table whose shape was reflected (PostgreSQL)."""
    assert table.shape is not None
    candidates = [
        (list(columns), "UNIQUE constraint, no NULL in its columns")
        for columns in table.shape.uniques
    ]
    for index in table.shape.indexes:
        if index.unique and index.where is None and not any(p.expression for p in index.parts):
            columns = [p.text for p in index.parts]
            if all(c in table.columns for c in columns):
                candidates.append((columns, f"unique index {index.name}, no NULL in its columns"))
    not_null = [c for c in table.columns if c in table.shape.not_null]
    return candidates, not_null


def _sqlite_declared(
    reader: Queries, table: SourceTable, origin: str
) -> tuple[list[tuple[list[str], str]], list[str]]:
    """UNIQUE column sets and NOT NULL columns of a SQLite table, from its PRAGMAs."""
    candidates: list[tuple[list[str], str]] = []
    for (name,) in reader.query_all(
        "SELECT name FROM pragma_index_list(?) WHERE \"unique\" = 1 AND origin <> 'pk'",
        (origin,),
        origin,
    ):
        found = [
            str(c)
            for (c,) in reader.query_all(
                "SELECT name FROM pragma_index_info(?) ORDER BY seqno", (name,), origin
            )
        ]
        if found and all(c in table.columns for c in found):
            candidates.append((found, f"unique index {name}, no NULL in its columns"))
    not_null = [
        str(row[0])
        for row in reader.query_all(
            'SELECT name FROM pragma_table_info(?) WHERE "notnull" = 1 ORDER BY cid',
            (origin,),
            origin,
        )
        if str(row[0]) in table.columns
    ]
    return candidates, not_null


def _identifies(reader: Queries, origin: str, key: list[str], rows: int) -> bool:
    """True when no value of ``key`` is NULL and no two rows share one."""
    cols = ", ".join(quote(c) for c in key)
    nulls = " OR ".join(f"{quote(c)} IS NULL" for c in key)
    ref = quote(origin)
    sql = (
        f"SELECT (SELECT COUNT(*) FROM (SELECT DISTINCT {cols} FROM {ref}) AS d), "
        f"(SELECT COUNT(*) FROM {ref} WHERE {nulls})"
    )
    distinct, null_rows = reader.query_one(sql, (), origin)
    return int(distinct) == rows and int(null_rows) == 0


def identical_rows(
    reader: Queries, origin: str, columns: list[str]
) -> tuple[int, list[dict[str, Any]]]:
    """How many rows of database table ``origin`` repeat another in every one of ``columns``
    (the copies beyond the first), and the first few repeated rows."""
    if not columns:
        return 0, []
    cols = ", ".join(quote(c) for c in columns)
    groups = f"FROM {quote(origin)} GROUP BY {cols} HAVING COUNT(*) > 1"
    extra = reader.query_one(
        f"SELECT COALESCE(SUM(n - 1), 0) FROM (SELECT COUNT(*) AS n {groups}) AS g", (), origin
    )[0]
    if not extra:
        return 0, []
    first = reader.query_all(f"SELECT {cols} {groups} LIMIT {SHOWN}", (), origin)
    return int(extra), [dict(zip(columns, row, strict=True)) for row in first]
