"""``ferry init``: records keyed by their own id field, not by their position.

A JSON array of records is keyed by ``id`` when its records hold one; records that carry
their identity under another name (``disc_id``, ``job_id``) were keyed by position, so their
nested lists' rows pointed at a position instead of the parent's id and a child table's
foreign key (``titles.disc_id``) got no value. Here an id-like field whose values are present
and unique in the records (a record dumped twice aside) becomes the source's ``key_column``
(the collection's own ``<singular>_id`` first), with a note giving the evidence.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..sources import open_source

if TYPE_CHECKING:
    from ..shape.schema import TableInfo
    from ..targets.base import Target
    from .found import FoundSource

_ID_LIKE = re.compile(r"(^|_)(id|uuid|guid|key|slug)$", re.I)


def _singular(name: str) -> str:
    word = name.rsplit(".", 1)[-1].lower()
    if word.endswith("ies"):
        return word[:-3] + "y"
    return word[:-1] if word.endswith("s") and not word.endswith("ss") else word


def _root_rows(item: FoundSource, folder: Path, table: str) -> list[dict[str, Any]]:
    reader = open_source(item.spec, folder)
    try:
        return [row for batch in reader.batches(5000) if batch.table == table for row in batch.rows]
    finally:
        reader.close()


def key_records_by_id(item: FoundSource, folder: Path) -> str | None:
    """Set ``item.spec.key_column`` to an id-like field unique in every record of a JSON
    array keyed by position; the note saying so (None: nothing changed). The caller
    scans the source again, so nested lists link to the parent by that field."""
    spec = item.spec
    if (
        spec.kind not in ("json", "jsonl")
        or spec.key_column
        or spec.shape not in ("auto", "records")
    ):
        return None
    roots = [t for t in item.tables if t.parent is None and t.key == ("position",)]
    if len(roots) != 1:
        return None
    root = roots[0]
    own = f"_{_singular(spec.root or spec.name)}_id"

    def rank(column: str) -> tuple[bool, bool, str]:
        # the collection's own id (``tv_seasons``: ``tv_season_id`` or ``season_id``) first
        return (not own.endswith(f"_{column.lower()}"), column.lower() != "id", column)

    candidates = sorted(
        (c for c in root.columns if _ID_LIKE.search(c) and c != "position"), key=rank
    )
    if not candidates:
        return None
    rows = _root_rows(item, folder, root.name)
    for column in candidates:
        values = [row.get(column) for row in rows]
        if not values or any(v is None or isinstance(v, (dict, list)) for v in values):
            continue
        distinct = len({str(v) for v in values})
        if distinct < 2 or len(values) - distinct > max(1, len(values) // 20):
            continue  # a record dumped twice is a repeat; more repeats: not an id
        spec.key_column = column
        repeated = len(values) - distinct
        return (
            f"records keyed by their field {column!r} (key_column): present in all "
            f"{len(values)} records, {distinct} distinct"
            + (f" ({repeated} repeated: the later record wins)" if repeated else "")
        )
    return None


async def read_unique_keys(handle: Target, tables: dict[str, TableInfo]) -> None:
    """Fill each table's ``unique`` column sets (UNIQUE constraints and unique indexes)."""
    from sqlalchemy import inspect

    def read(sync: Any) -> dict[str, list[tuple[str, ...]]]:
        inspector = inspect(sync)
        found: dict[str, list[tuple[str, ...]]] = {}
        for name in tables:
            sets = [tuple(u["column_names"]) for u in inspector.get_unique_constraints(name)]
            if sync.dialect.name == "sqlite":  # a column's own UNIQUE is an automatic index
                sets += _sqlite_unique_indexes(sync, name)
            sets += [
                tuple(i["column_names"])
                for i in inspector.get_indexes(name)
                if i.get("unique") and all(i["column_names"])
            ]
            found[name] = list(dict.fromkeys(s for s in sets if s))
        return found

    for name, sets in (await handle.conn.run_sync(read)).items():
        tables[name].unique = sets


def _sqlite_unique_indexes(sync: Any, table: str) -> list[tuple[str, ...]]:
    quoted = '"' + table.replace('"', '""') + '"'
    found = []
    for row in sync.exec_driver_sql(f"PRAGMA index_list({quoted})").fetchall():
        if row[2] and row[3] != "pk":  # unique, and not the primary key's own index
            index = '"' + str(row[1]).replace('"', '""') + '"'
            info = sync.exec_driver_sql(f"PRAGMA index_info({index})").fetchall()
            columns = tuple(str(r[2]) for r in info)
            if columns and all(columns):
                found.append(columns)
    return found


def unique_key(info: TableInfo, mapped: set[str], notes: list[str]) -> list[str]:
    """The first of the target's unique column sets the source fills entirely: the key of a
    table whose primary key the database generates (a note says so); [] when none is."""
    for columns in info.unique:
        if all(c in mapped for c in columns):
            notes.append(
                f"key ({', '.join(columns)}): the target's unique constraint on them, every "
                "column filled by the source (its primary key is generated by the database)"
            )
            return list(columns)
    return []


__all__ = ["key_records_by_id", "read_unique_keys", "unique_key"]
