"""A SQLite source's virtual tables in the target: a full-text index over a table the run
creates is made again on a SQLite target and rebuilt from that table once its rows are in;
anything else is named as not carried, with what to do.

A full-text index (``CREATE VIRTUAL TABLE posts_fts USING fts5(title, body,
content=posts)``) repeats its content table's text in the module's own shadow tables, so
``ferry init`` leaves it and them out of a draft (:mod:`ferry.sources.sqlitevirtual`); its
rows come back from the content table (``INSERT INTO posts_fts(posts_fts) VALUES
('rebuild')``), not from the source's pages. PostgreSQL has no virtual tables: its full-text
search is ``to_tsvector`` with a GIN index, which the app's own SQL would have to use.

A full-text index that keeps its own copy of its text (no ``content=`` option: Wagtail's
database search backend feeds ``wagtailsearch_indexentry_fts`` from its entries table through
triggers) cannot be rebuilt from a table, so on a SQLite target it is created and its rows are
copied from the source file with their rowids (the triggers that keep it current then come
along, :mod:`ferry.shape.triggers`). Before, it was left out, and the moved Wagtail site failed
every page delete (``no such table: wagtailsearch_indexentry_fts``) and found nothing.
A contentless index (``content=''``) keeps no text to copy: it is named as not carried.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.exc import DBAPIError

from ..errors import FerryError
from ..sources.readonly import open_read_only
from .carried import SchemaObject
from .identifiers import quote, split_arguments

if TYPE_CHECKING:
    from ..targets import Target
    from .schema import TableInfo

_USING = re.compile(r"\bUSING\s+(\w+)\s*(?:\((.*)\))?\s*;?\s*$", re.I | re.S)
_CONTENT = re.compile(r"\bcontent\s*=\s*(?:'([^']*)'|\"([^\"]*)\"|\[([^\]]*)\]|(\w+))", re.I)
_OPTION = re.compile(r"^\s*\w+\s*=")


@dataclass(frozen=True)
class VirtualTable:
    """One virtual table: its module (``fts5``), its columns and, for an external-content
    full-text index, the table it indexes (``""``: it keeps its own copy, or is no index)."""

    name: str
    module: str
    content: str
    columns: tuple[str, ...]
    sql: str
    contentless: bool = False  # ``content=''``: it keeps no copy of its text either

    def describe(self) -> str:
        """What it is, for a draft's header and ``check``."""
        over = f" over {self.content}" if self.content else ""
        if self.module.lower().startswith("fts"):
            return f"a SQLite full-text index ({self.module.lower()}{over})"
        return f"a SQLite virtual table (module {self.module.lower()})"


def parse_virtual(name: str, sql: str) -> VirtualTable:
    """A ``CREATE VIRTUAL TABLE`` statement read."""
    using = _USING.search(sql)
    module = using.group(1) if using else ""
    args = (using.group(2) or "") if using else ""
    content = _CONTENT.search(args)
    source = next((g for g in content.groups() if g), "") if content else ""
    columns = tuple(
        part.split()[0].strip("\"'`[]")
        for part in split_arguments(args)
        if part.strip() and not _OPTION.match(part)
    )
    return VirtualTable(name, module, source, columns, sql, content is not None and not source)


async def carry_virtual(
    name: str,
    sql: str,
    source: str,
    target: Target,
    names: dict[tuple[str, str], tuple[str, dict[str, str]]],
    tables: dict[str, TableInfo],
    path: Path | None = None,
) -> SchemaObject:
    """Make a source's virtual table again where it can be (see the module docstring);
    ``path`` is the source file, where an index's own copy of its rows is read."""
    table = parse_virtual(name, sql)
    what = table.describe()
    if not target.capabilities.sqlite_virtual_tables:
        why = (
            f"{what}; PostgreSQL's full-text search is to_tsvector with a GIN index: create "
            "one if the app searches"
            if table.module.lower().startswith("fts")
            else f"{what}; the target has no virtual tables"
        )
        if await target.relation_exists(name):
            # The app's own PostgreSQL form of it (Synapse's event_search, a tsvector table):
            # the run puts nothing there, so its search finds none of the moved rows.
            why = (
                f"{what}; the target has a table {name} of its own (the app's PostgreSQL "
                "form of it), which this run leaves as it is, without the moved rows: fill it "
                "as the app does (its rebuild or port command), or its search finds none of them"
            )
        return SchemaObject("virtual table", name, "not carried", why)
    if not table.content and path is not None and _keeps_its_text(table):
        return await _copy_own_index(table, path, target)
    if not table.content:
        return SchemaObject(
            "virtual table",
            name,
            "not carried",
            f"{what} that keeps its own copy of its rows: create it again and fill it",
        )
    found = names.get((source, table.content.casefold()))
    info = tables.get(found[0]) if found is not None else None
    if info is not None and await target.relation_exists(name):  # made by an earlier run
        return SchemaObject("virtual table", name, "carried", "in the target already")
    if found is None or info is None or not info.created or info.shape is None:
        return SchemaObject(
            "virtual table",
            name,
            "not carried",
            f"{what}: {table.content} is not a table this run creates",
        )
    if found[0] != table.content or any(c not in info.columns for c in table.columns):
        return SchemaObject(
            "virtual table",
            name,
            "not carried",
            f"{what}: the plan renames {table.content} or its columns",
        )
    try:
        async with target.conn.begin_nested():
            await target.execute(sql, f"creating {name}")
    except FerryError as exc:
        reason = f"the target refused it: {exc.message.splitlines()[0]}"
        return SchemaObject("virtual table", name, "not carried", reason, sql)
    info.shape.after_load.append(f"INSERT INTO {quote(name)}({quote(name)}) VALUES('rebuild')")
    return SchemaObject(
        "virtual table", name, "carried", f"{what}, rebuilt from {table.content}", sql
    )


def _keeps_its_text(table: VirtualTable) -> bool:
    return table.module.lower().startswith("fts") and not table.contentless and bool(table.columns)


async def _copy_own_index(table: VirtualTable, path: Path, target: Target) -> SchemaObject:
    """Create an index that keeps its own copy of its text and copy its rows in, rowids too
    (they are the ids of the rows it indexes)."""
    name, what = table.name, table.describe()
    if await target.relation_exists(name):  # made and filled by an earlier run
        return SchemaObject("virtual table", name, "carried", "in the target already")
    columns = ", ".join(quote(c) for c in ("rowid", *table.columns))
    insert = (
        f"INSERT INTO {quote(name)} ({columns}) "
        f"VALUES ({', '.join('?' for _ in range(len(table.columns) + 1))})"
    )
    try:
        source = open_read_only(path, timeout=5.0, any_thread=True)
    except sqlite3.Error as exc:
        return SchemaObject("virtual table", name, "not carried", f"{what}: {exc}", table.sql)
    copied = 0
    try:
        async with target.conn.begin_nested():
            await target.execute(table.sql, f"creating {name}")
            rows = source.execute(f"SELECT {columns} FROM {quote(name)}")
            while chunk := await asyncio.to_thread(rows.fetchmany, 1000):
                await target.conn.exec_driver_sql(insert, chunk)
                copied += len(chunk)
    except (FerryError, DBAPIError, sqlite3.Error) as exc:
        why = exc.message if isinstance(exc, FerryError) else str(getattr(exc, "orig", exc))
        why = why.splitlines()[0]
        return SchemaObject("virtual table", name, "not carried", f"{what}: {why}", table.sql)
    finally:
        source.close()
    return SchemaObject(
        "virtual table",
        name,
        "carried",
        f"{what} that keeps its own copy of its text: its {copied:,} rows copied with their rowids",
        table.sql,
    )
