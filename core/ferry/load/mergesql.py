"""The set-based merge's SQL, as pure functions from table, column and key names to SQL text.

A target (:class:`ferry.targets.base.Target`) runs these statements; this module only writes
them, so each one can be read and tested as text (dlt's ``sql_jobs`` is the model). What SQLite
and PostgreSQL do differently comes in as data: the target's :class:`MergeDialect`.

The stage is aliased ``s`` and the target table ``t`` throughout. A staged row found unchanged
before staging is only its key with ``_ferry_same`` set: every statement leaves it out of change
detection and of the insert, while deduplication and delete propagation still see its key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..shape.identifiers import quote

if TYPE_CHECKING:
    from ..plan import ConflictRule
    from ..shape.schema import ColumnInfo

#: a condition that is never true (no column to compare, a rule that never updates)
NEVER = "(1 = 0)"


@dataclass(frozen=True)
class MergeDialect:
    """What the merge SQL needs to know of a target's SQL dialect."""

    #: the NULL-safe "not equal" operator (``IS NOT``, ``IS DISTINCT FROM``)
    distinct: str
    #: DELETE takes an alias for its table (``DELETE FROM t AS t``)
    delete_alias: bool
    #: a function making timestamps stored as text in any spelling comparable as points in
    #: time (SQLite's ``ferry_timestamp``); None: timestamps compare as they are
    moment: str | None = None
    #: a function ordering timestamps and dates stored as text, for the ``newer`` rule
    #: (SQLite's ``julianday``); None: ``>`` on the values
    ordinal: str | None = None
    #: how a JSON value is compared, ``{x}`` standing for it; None: as it is
    json_form: str | None = None
    #: the declared type (upper case) a JSON column needs for ``json_form`` to apply
    #: (PostgreSQL's ``json`` has no equality, its ``jsonb`` has); None: every JSON column
    json_form_for: str | None = None


@dataclass(frozen=True)
class MergeTable:
    """The names one merge works with."""

    #: the target table (unquoted)
    table: str
    #: the stage as SQL refers to it (quoted, and qualified where the dialect needs it)
    stage: str
    #: the staged columns, in stage order
    columns: tuple[str, ...]
    #: the key columns (empty: appended rows, mode append/replace)
    key: tuple[str, ...]
    #: columns whose differences count as a change (not the key, not ``now`` columns)
    compare: tuple[ColumnInfo, ...]


# -- expressions -------------------------------------------------------------------------------
def differs(dialect: MergeDialect, column: ColumnInfo, left: str, right: str) -> str:
    """SQL that is true when two values of ``column`` differ (NULL-safe)."""
    op = dialect.distinct
    if column.type == "timestamp" and dialect.moment:
        # The plain comparison first: equal text (the usual case) needs no function call.
        fn = dialect.moment
        return f"({left} {op} {right} AND {fn}({left}) {op} {fn}({right}))"
    if column.type == "json" and dialect.json_form:
        wanted = dialect.json_form_for
        if wanted is None or column.sql_type.upper() == wanted:
            form = dialect.json_form
            return f"{form.format(x=left)} {op} {form.format(x=right)}"
    return f"{left} {op} {right}"


def newer(dialect: MergeDialect, column: ColumnInfo, left: str, right: str) -> str:
    """SQL that is true when ``left`` is newer (greater) than ``right``."""
    if column.type in ("timestamp", "datetime", "date") and dialect.ordinal:
        return f"{dialect.ordinal}({left}) > {dialect.ordinal}({right})"
    return f"{left} > {right}"


def join(key: Sequence[str], s: str = "s", t: str = "t") -> str:
    """The key columns of ``s`` equal to those of ``t``."""
    return " AND ".join(f"{s}.{quote(k)} = {t}.{quote(k)}" for k in key)


def row_differs(dialect: MergeDialect, merge: MergeTable) -> str:
    """True when the staged row ``s`` differs from the target row ``t`` with its key."""
    parts = [differs(dialect, c, f"t.{quote(c.name)}", f"s.{quote(c.name)}") for c in merge.compare]
    if not parts:
        return NEVER
    # A row found unchanged before staging is only its key.
    return "(s._ferry_same IS NULL AND (" + " OR ".join(parts) + "))"


def source_newer(dialect: MergeDialect, newer_by: ColumnInfo | None) -> str:
    """True when the staged row is newer by ``newer_by`` (a target NULL is older than a value)."""
    assert newer_by is not None
    s, t = f"s.{quote(newer_by.name)}", f"t.{quote(newer_by.name)}"
    return f"({newer(dialect, newer_by, s, t)} OR ({t} IS NULL AND {s} IS NOT NULL))"


# -- before the merge ----------------------------------------------------------------------------
def _later_duplicate(merge: MergeTable) -> str:
    return (
        f"EXISTS (SELECT 1 FROM {merge.stage} AS s2 WHERE {join(merge.key, 's2', 's')} "
        f"AND s2._ferry_seq > s._ferry_seq)"
    )


def duplicates(merge: MergeTable, limit: int) -> str:
    """Up to ``limit`` staged rows whose key comes again later in the source."""
    cols = ", ".join(f"s.{quote(c)}" for c in merge.columns)
    return (
        f"SELECT {cols} FROM {merge.stage} AS s WHERE {_later_duplicate(merge)} "
        f"ORDER BY s._ferry_seq LIMIT {int(limit)}"
    )


def drop_duplicates(merge: MergeTable) -> str:
    """Delete the staged rows whose key comes again later (the last one wins)."""
    return (
        f"DELETE FROM {merge.stage} WHERE _ferry_seq IN (SELECT s._ferry_seq FROM {merge.stage} "
        f"AS s WHERE {_later_duplicate(merge)})"
    )


def count_staged(merge: MergeTable) -> str:
    """The number of staged rows."""
    return f"SELECT COUNT(*) FROM {merge.stage}"


def classify(
    dialect: MergeDialect, merge: MergeTable, rule: ConflictRule, newer_by: ColumnInfo | None
) -> str:
    """One row: staged rows, rows missing from the target, changed rows, and changed rows the
    ``newer`` rule would update (none for the other rules). Needs a key."""
    first_key = f"t.{quote(merge.key[0])}"
    diff = row_differs(dialect, merge)
    is_newer = source_newer(dialect, newer_by) if rule == "newer" else NEVER
    return (
        f"SELECT COUNT(*), "
        f"SUM(CASE WHEN {first_key} IS NULL THEN 1 ELSE 0 END), "
        f"SUM(CASE WHEN {first_key} IS NOT NULL AND {diff} THEN 1 ELSE 0 END), "
        f"SUM(CASE WHEN {first_key} IS NOT NULL AND {diff} AND {is_newer} THEN 1 ELSE 0 END) "
        f"FROM {merge.stage} AS s LEFT JOIN {quote(merge.table)} AS t ON {join(merge.key)}"
    )


def conflict_keys(dialect: MergeDialect, merge: MergeTable, limit: int) -> str:
    """Keys of up to ``limit`` staged rows that differ from the target."""
    cols = ", ".join(f"s.{quote(k)}" for k in merge.key)
    return (
        f"SELECT {cols} FROM {merge.stage} AS s JOIN {quote(merge.table)} AS t "
        f"ON {join(merge.key)} WHERE {row_differs(dialect, merge)} "
        f"ORDER BY s._ferry_seq LIMIT {int(limit)}"
    )


def changed_rows(
    dialect: MergeDialect,
    merge: MergeTable,
    rule: ConflictRule,
    newer_by: ColumnInfo | None,
    shown: Sequence[str],
    limit: int,
) -> str:
    """Up to ``limit`` changed rows: the target's ``shown`` columns as ``t0, t1, …``, the
    stage's as ``s0, s1, …`` and ``ferry_applied``, 1 where the rule updates the row."""
    before = ", ".join(f"t.{quote(c)} AS {quote('t' + str(i))}" for i, c in enumerate(shown))
    after = ", ".join(f"s.{quote(c)} AS {quote('s' + str(i))}" for i, c in enumerate(shown))
    if rule == "update":
        applied = "1"
    elif rule == "newer":
        applied = f"CASE WHEN {source_newer(dialect, newer_by)} THEN 1 ELSE 0 END"
    else:
        applied = "0"
    return (
        f"SELECT {before}, {after}, {applied} AS ferry_applied "
        f"FROM {merge.stage} AS s JOIN {quote(merge.table)} AS t "
        f"ON {join(merge.key)} WHERE {row_differs(dialect, merge)} "
        f"ORDER BY s._ferry_seq LIMIT {int(limit)}"
    )


def inserted_rows(merge: MergeTable, shown: Sequence[str], limit: int) -> str:
    """Up to ``limit`` staged rows (their ``shown`` columns) whose key is not in the target."""
    cols = ", ".join(f"s.{quote(c)}" for c in shown)
    return (
        f"SELECT {cols} FROM {merge.stage} AS s WHERE s._ferry_same IS NULL AND "
        f"NOT EXISTS (SELECT 1 FROM {quote(merge.table)} AS t WHERE {join(merge.key)}) "
        f"ORDER BY s._ferry_seq LIMIT {int(limit)}"
    )


# -- the merge -----------------------------------------------------------------------------------
def merge_statements(
    dialect: MergeDialect,
    merge: MergeTable,
    rule: ConflictRule,
    newer_by: ColumnInfo | None,
    seqs: tuple[int, int] | None = None,
) -> list[tuple[str, str]]:
    """The merge as ``(count it sets, SQL)``: an UPDATE of changed rows when the rule updates
    (``newer``: only where the stage is newer by ``newer_by``), then an INSERT of the rows
    whose key the target lacks. ``seqs``: only the staged rows numbered in that range."""
    table = quote(merge.table)
    cols = ", ".join(quote(c) for c in merge.columns)
    picked = f" AND s._ferry_seq BETWEEN {int(seqs[0])} AND {int(seqs[1])}" if seqs else ""
    statements = []
    if rule in ("update", "newer") and merge.key:
        sets = ", ".join(f"{quote(c)} = s.{quote(c)}" for c in merge.columns if c not in merge.key)
        condition = row_differs(dialect, merge)
        if rule == "newer":
            condition += " AND " + source_newer(dialect, newer_by)
        if sets:
            statements.append(
                (
                    "updated",
                    f"UPDATE {table} AS t SET {sets} FROM {merge.stage} AS s "
                    f"WHERE {join(merge.key)} AND {condition}{picked}",
                )
            )
    select_cols = ", ".join(f"s.{quote(c)}" for c in merge.columns)
    # Without a key (mode append/replace) every staged row is new.
    missing = (
        f" AND NOT EXISTS (SELECT 1 FROM {table} AS t WHERE {join(merge.key)})" if merge.key else ""
    )
    statements.append(
        (
            "inserted",
            f"INSERT INTO {table} ({cols}) SELECT {select_cols} FROM {merge.stage} AS s "
            f"WHERE s._ferry_same IS NULL{missing}{picked}",
        )
    )
    return statements


def delete_missing(dialect: MergeDialect, merge: MergeTable) -> str:
    """Delete the target rows whose key the stage lacks (``delete_missing``)."""
    table = quote(merge.table)
    if dialect.delete_alias:
        return (
            f"DELETE FROM {table} AS t WHERE NOT EXISTS "
            f"(SELECT 1 FROM {merge.stage} AS s WHERE {join(merge.key)})"
        )
    # Without an alias the target's columns are named through the table itself.
    return (
        f"DELETE FROM {table} WHERE NOT EXISTS "
        f"(SELECT 1 FROM {merge.stage} AS s WHERE {join(merge.key, 's', table)})"
    )


def count_missing(merge: MergeTable) -> str:
    """How many target rows have a key the stage lacks."""
    return (
        f"SELECT count(*) FROM {quote(merge.table)} AS t WHERE NOT EXISTS "
        f"(SELECT 1 FROM {merge.stage} AS s WHERE {join(merge.key)})"
    )


def stage_bounds(merge: MergeTable) -> str:
    """The lowest and highest order number staged, as ``lo`` and ``hi``."""
    return f"SELECT min(_ferry_seq) AS lo, max(_ferry_seq) AS hi FROM {merge.stage}"


def staged_row(merge: MergeTable, seq: int) -> str:
    """The staged row numbered ``seq`` (a rejected one, for the report)."""
    cols = ", ".join(quote(c) for c in merge.columns)
    return f"SELECT {cols} FROM {merge.stage} WHERE _ferry_seq = {int(seq)}"
