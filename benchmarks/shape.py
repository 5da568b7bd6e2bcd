"""The indexes and foreign keys a loaded target really has, compared with the source file's.

Read after each run (untimed, from the catalogs), so that no figure can come from a run
that skipped building them. Names are not compared (each tool names its indexes its own
way): an index is its table, whether it is unique, and its columns with their order; a
foreign key is its table, columns, referenced table and columns, and ON DELETE action.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import NamedTuple


class Index(NamedTuple):
    table: str
    unique: bool
    #: (column, descending) in index order
    parts: tuple[tuple[str, bool], ...]


class ForeignKey(NamedTuple):
    table: str
    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]
    on_delete: str


class Shape(NamedTuple):
    indexes: frozenset[Index]
    foreign_keys: frozenset[ForeignKey]


_PG_ACTIONS = {
    "a": "NO ACTION",
    "r": "RESTRICT",
    "c": "CASCADE",
    "n": "SET NULL",
    "d": "SET DEFAULT",
}


def sqlite_shape(path: Path, tables: tuple[str, ...]) -> Shape:
    """The secondary indexes (UNIQUE constraints' included) and foreign keys of ``tables``."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        indexes, fks = set(), set()
        for table in tables:
            for _seq, name, unique, origin, _partial in db.execute(
                "SELECT * FROM pragma_index_list(?)", (table,)
            ):
                if origin == "pk":
                    continue
                parts = tuple(
                    (column, bool(desc))
                    for column, desc in db.execute(
                        "SELECT name, desc FROM pragma_index_xinfo(?) WHERE key ORDER BY seqno",
                        (name,),
                    )
                )
                indexes.add(Index(table, bool(unique), parts))
            keys: dict[int, list[tuple[str, str, str, str]]] = {}
            for fk_id, _seq, ref, col, ref_col, _upd, on_delete, _match in db.execute(
                "SELECT * FROM pragma_foreign_key_list(?) ORDER BY id, seq", (table,)
            ):
                keys.setdefault(fk_id, []).append((ref, col, ref_col, on_delete))
            for parts_fk in keys.values():
                if parts_fk[0][2] is None:  # REFERENCES t: the referenced table's key
                    pk = _sqlite_key(db, parts_fk[0][0])
                    parts_fk = [(r, c, k, d) for (r, c, _, d), k in zip(parts_fk, pk, strict=True)]
                fks.add(
                    ForeignKey(
                        table,
                        tuple(p[1] for p in parts_fk),
                        parts_fk[0][0],
                        tuple(p[2] for p in parts_fk),
                        parts_fk[0][3].upper(),
                    )
                )
        return Shape(frozenset(indexes), frozenset(fks))
    finally:
        db.close()


def _sqlite_key(db: sqlite3.Connection, table: str) -> list[str]:
    rows = db.execute("SELECT name, pk FROM pragma_table_info(?) WHERE pk ORDER BY pk", (table,))
    return [name for name, _pk in rows]


_PG_INDEXES = """
SELECT t.relname, i.indisunique, i.indexrelid,
       pg_get_indexdef(i.indexrelid, k.n, true), (i.indoption[k.n - 1] & 1) = 1
FROM pg_index i
JOIN pg_class t ON t.oid = i.indrelid
CROSS JOIN LATERAL generate_series(1, i.indnkeyatts) AS k(n)
WHERE t.relname = ANY(%s) AND pg_table_is_visible(t.oid) AND NOT i.indisprimary
ORDER BY i.indexrelid, k.n
"""

_PG_FKS = """
SELECT t.relname, r.relname, c.confdeltype,
       array(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY AS k(num, i)
             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.num ORDER BY k.i),
       array(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY AS k(num, i)
             JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.num ORDER BY k.i)
FROM pg_constraint c
JOIN pg_class t ON t.oid = c.conrelid
JOIN pg_class r ON r.oid = c.confrelid
WHERE c.contype = 'f' AND t.relname = ANY(%s) AND pg_table_is_visible(t.oid)
"""


def pg_shape(url: str, tables: tuple[str, ...]) -> Shape:
    """The same for the tables of a PostgreSQL database (those on its search path)."""
    import psycopg

    with psycopg.connect(url) as conn:
        found: dict[int, tuple[str, bool, list[tuple[str, bool]]]] = {}
        for table, unique, oid, column, desc in conn.execute(_PG_INDEXES, (list(tables),)):
            found.setdefault(oid, (table, unique, []))[2].append((column.strip('"'), desc))
        indexes = frozenset(Index(t, u, tuple(parts)) for t, u, parts in found.values())
        fks = frozenset(
            ForeignKey(table, tuple(cols), ref, tuple(ref_cols), _PG_ACTIONS[action])
            for table, ref, action, cols, ref_cols in conn.execute(_PG_FKS, (list(tables),))
        )
    return Shape(indexes, fks)


def loose(shape: Shape) -> Shape:
    """``shape`` without sort orders and ON DELETE actions: for a tool judged on building
    every index and foreign key, not on carrying those details (pgloader)."""
    return Shape(
        frozenset(
            Index(i.table, i.unique, tuple((c, False) for c, _ in i.parts)) for i in shape.indexes
        ),
        frozenset(fk._replace(on_delete="") for fk in shape.foreign_keys),
    )


def compare(got: Shape, want: Shape) -> tuple[bool, str]:
    """(equal, what differs: the objects missing from and extra in ``got``)."""
    problems: list[str] = []
    for what, have, need in (
        ("index", set(got.indexes), set(want.indexes)),
        ("foreign key", set(got.foreign_keys), set(want.foreign_keys)),
    ):
        problems += [f"missing {what} {_describe(x)}" for x in sorted(need - have, key=str)]
        problems += [f"extra {what} {_describe(x)}" for x in sorted(have - need, key=str)]
    return not problems, "; ".join(problems)


def _describe(item: object) -> str:
    if isinstance(item, Index):
        cols = ", ".join(c + (" DESC" if d else "") for c, d in item.parts)
        return f"{'UNIQUE ' if item.unique else ''}{item.table} ({cols})"
    assert isinstance(item, ForeignKey)
    action = f" ON DELETE {item.on_delete}" if item.on_delete else ""
    return (
        f"{item.table} ({', '.join(item.columns)}) → "
        f"{item.ref_table} ({', '.join(item.ref_columns)}){action}"
    )
