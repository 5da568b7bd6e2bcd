"""Which spelling new values take in an existing SQLite table (see :mod:`ferry.values.textstyles`).

When a run (or ``ferry check``) opens a target table, the mapped timestamp, boolean and JSON
columns are sampled (the first and last :data:`SAMPLE_ROWS` rows): a column whose rows show
one style gets new values in that style; the plan's ``styles`` wins over it. A column Ferry
would leave holding two styles — already mixed, or the plan's style unlike its rows — is a
warning, never silent.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..errors import FerryError, PlanError
from ..plan import TableSpec
from ..shape.identifiers import quote
from ..shape.schema import TableInfo
from ..targets import Target
from .textstyles import (
    DEFAULT_STYLES,
    STYLED_TYPES,
    Style,
    parse_style,
    sample_styles,
    style_type,
    styled_adapter,
    summarize,
)

#: rows sampled at each end of a table (bounds the time a huge table takes)
SAMPLE_ROWS = 100


@dataclass
class TableStyles:
    """The styles new values of one target table take, and what to warn about."""

    #: column -> the style to write (columns missing here take the target's default)
    chosen: dict[str, Style] = field(default_factory=dict)
    #: column -> the styles its sampled rows show (with counts)
    found: dict[str, Counter[Style]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def adapters(
        self, target: Target, info: TableInfo, columns: Iterable[str]
    ) -> list[Callable[[Any], Any]]:
        """The adapter of each of ``columns`` of ``info``, in order."""
        return [
            self.adapter(target, c, info.columns[c].type, info.columns[c].sql_type) for c in columns
        ]

    def adapter(
        self, target: Target, column: str, type_: Any, sql_type: str = ""
    ) -> Callable[[Any], Any]:
        """The adapter of ``column``: its chosen style's, else the target's own."""
        style = self.chosen.get(column)
        if style is None or style == DEFAULT_STYLES.get(type_):
            return target.adapt(type_, sql_type)
        return styled_adapter(style)


async def table_styles(
    target: Target, spec: TableSpec, info: TableInfo, columns: Collection[str]
) -> TableStyles:
    """Sample ``columns`` of the (existing) target table and decide their styles."""
    result = TableStyles()
    if not target.capabilities.stores_value_text:
        for column in spec.styles:
            result.warnings.append(
                f"{info.name}.{column}: styles apply to SQLite targets only; "
                f"{target.dialect_name} stores typed values, the style is not used"
            )
        return result
    planned = {c: parse_style(text) for c, text in spec.styles.items()}
    for column, style in planned.items():
        known = info.columns.get(column)
        if known is None or known.type != style_type(style):
            what = f"is a {known.type} column" if known else "is not a column of the table"
            raise PlanError(
                f"table {spec.name!r}: styles.{column} = {spec.styles[column]!r} is a "
                f"{style_type(style)} style, but {column!r} {what}",
                hint="Name a timestamp, boolean or JSON column with a style of its type.",
            )
    # Every styled column is sampled (a field first seen later may map into any of them);
    # only the mapped ``columns`` are warned about.
    styled = [c for c, known in info.columns.items() if known.type in STYLED_TYPES]
    if not info.created and styled:
        result.found = await _sample(target, info, styled)
    for column in styled:
        found = result.found.get(column, Counter())
        where = f"{info.name}.{column}"
        warn = result.warnings.append if column in columns else (lambda _message: None)
        if column in planned:
            style = planned[column]
            if set(found) - {style}:
                warn(
                    f"{where}: the plan's style {style.describe()!r} is not the style of the "
                    f"rows already there ({summarize(found)} of those sampled): the column "
                    "will hold both"
                )
            result.chosen[column] = style
        elif found:
            style = found.most_common(1)[0][0]
            if len(found) > 1:
                warn(
                    f"{where} already holds values in several styles ({summarize(found)} of "
                    f"those sampled): new values are written as {style.describe()!r}; name "
                    f"one in the plan (styles.{column} of table {spec.name})"
                )
            result.chosen[column] = style
    return result


async def existing_styles(target: Target, info: TableInfo) -> dict[str, Counter[Style]]:
    """The styles the sampled rows of each timestamp, boolean and JSON column of an existing
    SQLite table show ({} for other targets)."""
    styled = [c for c, known in info.columns.items() if known.type in STYLED_TYPES]
    if not target.capabilities.stores_value_text or not styled:
        return {}
    return await _sample(target, info, styled)


def draft_styles(found: dict[str, Counter[Style]], columns: Collection[str]) -> dict[str, str]:
    """``styles`` for a draft plan (``ferry init``): the most common style of each of
    ``columns`` whose sampled rows show several."""
    return {
        c: found[c].most_common(1)[0][0].describe()
        for c in columns
        if c in found and len(found[c]) > 1
    }


async def _sample(target: Target, info: TableInfo, columns: list[str]) -> dict[str, Counter[Style]]:
    """The styles the first and last :data:`SAMPLE_ROWS` rows show, column by column."""
    names = ", ".join(quote(c) for c in columns)
    table = quote(info.name)
    ends = (
        f"SELECT {names} FROM {table} WHERE rowid IN (SELECT rowid FROM {table} ORDER BY "
        f"rowid LIMIT {SAMPLE_ROWS}) OR rowid IN (SELECT rowid FROM {table} ORDER BY rowid "
        f"DESC LIMIT {SAMPLE_ROWS})"
    )
    what = f"sampling the rows of {info.name}"
    try:
        async with target.conn.begin_nested():
            rows = await target.fetch_dicts(ends, what)
    except FerryError:  # a WITHOUT ROWID table: any rows will do
        rows = await target.fetch_dicts(
            f"SELECT {names} FROM {table} LIMIT {2 * SAMPLE_ROWS}", what
        )
    return {
        c: found
        for c in columns
        if (found := sample_styles(info.columns[c].type, (row[c] for row in rows)))
    }


async def overflow_warnings(
    target: Target, info: TableInfo, key: list[str], columns: list[str], adapters: list[Any]
) -> list[str]:
    """Warnings for timestamps written with more fraction digits than their style has, and for
    decimals SQLite stores rounded (:mod:`ferry.values.sqlitenumbers`), each naming the first
    such value and the key of its row (looked up once the rows are in)."""
    warnings = []
    for column, adapt in zip(columns, adapters, strict=False):
        if not getattr(adapt, "overflow", 0) or not hasattr(adapt, "overflow_warning"):
            continue  # only StyledTimestamps and SqliteDecimals count what they cannot keep
        where = ""
        if key:
            literal = adapt.first.replace("'", "''")
            found = await target.fetch_dicts(
                f"SELECT {', '.join(quote(k) for k in key)} FROM {quote(info.name)} "
                f"WHERE {quote(column)} = '{literal}' LIMIT 1",
                f"reading a row of {info.name}",
            )
            if found:
                where = " at " + ", ".join(f"{k}={v!r}" for k, v in found[0].items())
        warnings.append(adapt.overflow_warning(f"{info.name}.{column}", where))
    return warnings


__all__ = [
    "SAMPLE_ROWS",
    "TableStyles",
    "draft_styles",
    "existing_styles",
    "overflow_warnings",
    "table_styles",
]
