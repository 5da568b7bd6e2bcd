"""Integrity checks on the target: foreign-key orphans, and the plan's assertions.

:func:`find_orphans` counts rows whose non-NULL foreign key values have no parent row (SQLite's
``PRAGMA foreign_key_check`` too); :func:`run_assertion` runs one ``[[assertions]]`` query
under a savepoint and judges its first value with :func:`holds`. Both only read the target.
"""

from __future__ import annotations

import operator
import sqlite3
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy import text

from ..errors import TargetError
from ..plan import AssertionSpec
from ..shape.ddl import TargetForeignKey
from ..shape.identifiers import quote
from ..shape.schema import TableInfo
from ..targets import Target
from ..targets.base import first_line
from .result import FAIL, PASS, AssertionCheck, _plain

_ORPHAN_EXAMPLES = 3
_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
}

#: reports a warning: (message, table)
Warn = Callable[[str, str], None]
#: a table's orphan count and a few examples
Orphans = tuple[int, list[dict[str, str]]]


async def find_orphans(
    target: Target, info: TableInfo, tables: dict[str, TableInfo], warn: Warn
) -> tuple[int, list[dict[str, str]]]:
    """Rows whose non-NULL foreign key values have no parent row, and a few examples."""
    total, examples = 0, []
    table = quote(info.name)
    for fk in info.foreign_keys:
        parent = tables.get(fk.ref_table)
        refs = fk.ref_columns or (parent.primary_key if parent else ())
        present = " AND ".join(f"c.{quote(c)} IS NOT NULL" for c in fk.columns)
        if parent is None or len(refs) != len(fk.columns):
            warn(
                f"table {info.name}: its foreign key ({', '.join(fk.columns)}) references "
                f"{fk.ref_table}, which the target lacks",
                info.name,
            )
            where = present
        else:
            join = " AND ".join(
                f"p.{quote(r)} = c.{quote(c)}" for c, r in zip(fk.columns, refs, strict=True)
            )
            where = f"{present} AND NOT EXISTS (SELECT 1 FROM {quote(fk.ref_table)} AS p "
            where += f"WHERE {join})"
        what = f"checking the foreign keys of {info.name}"
        count = int(
            await _scalar(target, f"SELECT count(*) FROM {table} AS c WHERE {where}", what) or 0
        )
        total += count
        if count:
            cols = ", ".join(f"c.{quote(c)}" for c in fk.columns)
            rows = await _rows(
                target,
                f"SELECT {cols} FROM {table} AS c WHERE {where} LIMIT {_ORPHAN_EXAMPLES}",
                what,
            )
            for row in rows:
                key = ", ".join(f"{c}={v!r}" for c, v in zip(fk.columns, row, strict=True))
                examples.append(
                    {"key": key, "problem": f"orphan: no row in {fk.ref_table} holds it"}
                )
    if info.foreign_keys:
        try:
            checked = await target.reference_violations(info.name)
        except TargetError as exc:
            warn(f"table {info.name}: PRAGMA foreign_key_check failed: {exc}", info.name)
        else:
            total = max(total, checked or 0)
    return total, examples


class OrphanCounts:
    """Each table's :func:`find_orphans`, counted once: ahead (:meth:`count_ahead`, while the
    fast path still hashes the sources and the target's connection would idle) or when the
    integrity step asks (:meth:`of`). Counted ahead, a table's warnings wait for :meth:`of`,
    so the run reports the same warnings in the same order either way."""

    def __init__(self, target: Target, tables: dict[str, TableInfo]) -> None:
        self.target = target
        self.tables = tables
        self._ahead: dict[str, tuple[Orphans, list[tuple[str, str]]]] = {}

    async def count_ahead(self, infos: list[TableInfo]) -> None:
        """Count ``infos``' orphans now, under a savepoint; on any database error keep none
        (the integrity step counts again, and reports the error as it always did)."""
        found: dict[str, tuple[Orphans, list[tuple[str, str]]]] = {}
        try:
            async with self.target.conn.begin_nested():
                for info in infos:
                    if info.name not in found:
                        said: list[tuple[str, str]] = []
                        counted = await find_orphans(self.target, info, self.tables, _kept(said))
                        found[info.name] = (counted, said)
        except (TargetError, sa_exc.SQLAlchemyError):
            return
        self._ahead = found

    async def of(self, info: TableInfo, warn: Warn) -> Orphans:
        """``info``'s orphans and a few examples (its warnings go to ``warn``)."""
        ahead = self._ahead.pop(info.name, None)
        if ahead is None:
            return await find_orphans(self.target, info, self.tables, warn)
        counted, said = ahead
        for message, table in said:
            warn(message, table)
        return counted


def _kept(said: list[tuple[str, str]]) -> Warn:
    """A :data:`Warn` that keeps the warnings in ``said``."""
    return lambda message, table: said.append((message, table))


async def references_checked_at_commit(
    target: Target, foreign_keys: Sequence[TargetForeignKey]
) -> bool:
    """True unless SQLite checked ``foreign_keys`` (of a table the run created) at every
    statement: foreign keys on, ``PRAGMA defer_foreign_keys`` off (a cycle switches it on),
    none declared ``DEFERRABLE INITIALLY DEFERRED``. Then no statement left a row whose parent
    is missing in the created (empty at first) table, and ``PRAGMA foreign_key_check`` — about
    a third of a SQLite-to-SQLite run's merge step — would find nothing."""
    if any(fk.deferrable and fk.initially_deferred for fk in foreign_keys):
        return True
    enforced = await _scalar(target, "PRAGMA foreign_keys", "reading PRAGMA foreign_keys")
    deferred = await _scalar(target, "PRAGMA defer_foreign_keys", "reading defer_foreign_keys")
    return not enforced or bool(deferred)


async def run_assertion(target: Target, spec: AssertionSpec) -> AssertionCheck:
    """Run one plan assertion on the target; a query the database refuses FAILs."""
    try:
        actual = await target.user_sql_value(spec.sql)
    except Exception as exc:
        if not _is_database_error(exc):
            raise
        message = first_line(getattr(exc, "orig", None) or exc)
        return AssertionCheck(spec.name, spec.sql, spec.op, spec.expect, f"error: {message}", FAIL)
    verdict = PASS if holds(actual, spec.op, spec.expect) else FAIL
    return AssertionCheck(spec.name, spec.sql, spec.op, spec.expect, actual, verdict)


def _text(sql: str) -> Any:
    """A textual statement whose colons are literal (identifiers may hold them)."""
    return text(sql.replace(":", "\\:"))


async def _scalar(target: Target, sql: str, what: str) -> Any:
    try:
        return (await target.conn.execute(_text(sql))).scalar()
    except sa_exc.DBAPIError as exc:
        raise target.wrap(exc, what) from None


async def _rows(target: Target, sql: str, what: str) -> list[tuple[Any, ...]]:
    try:
        return [tuple(r) for r in await target.conn.execute(_text(sql))]
    except sa_exc.DBAPIError as exc:
        raise target.wrap(exc, what) from None


def _is_database_error(exc: BaseException) -> bool:
    return isinstance(exc, sa_exc.DBAPIError | sqlite3.Error) or type(exc).__module__.startswith(
        "psycopg"
    )


def _number(value: Any) -> float | int | None:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return value
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
        return number if number == number and abs(number) != float("inf") else None
    return None


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(_plain(value))


def holds(actual: Any, op: str, expect: Any) -> bool:
    """``actual op expect``: as numbers when both are numbers, else as text; NULL fails."""
    if actual is None:
        return False
    left, right = _number(actual), _number(expect)
    if left is not None and right is not None:
        return _OPS[op](left, right)
    return _OPS[op](_as_text(actual), _as_text(expect))


__all__ = ["OrphanCounts", "Warn", "find_orphans", "holds", "run_assertion"]
