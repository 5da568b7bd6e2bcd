"""The changeset's SQL (what a run changed, for ``ferry undo``), as pure functions to SQL text.

Every run records, per table it wrote, the rows it changed in an *image table* of Ferry's own
(``ferry."img_<table>"`` on PostgreSQL, ``"_ferry_img_<table>"`` in a SQLite file): one row per
changed row, with the run's id (``ferry_run``), what the run did (``ferry_action``: ``insert``,
``update`` or ``delete``), the row's fingerprint as the run left it (``ferry_after``), and the
table's columns: the key alone for an insert, the whole row before the run (its before-image)
for an update or a delete. :mod:`ferry.load.changeset` runs these statements inside the run's
transaction; :mod:`ferry.undo` reads them back. Like :mod:`ferry.load.mergesql`, this module only
writes SQL text, so each statement can be read and tested as text.

A fingerprint is a hash of a row's values in a fixed column order: ``md5`` of the row's text
form on PostgreSQL, the ``ferry_fingerprint`` function a SQLite target registers
(:func:`row_fingerprint`) in a SQLite file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..shape.identifiers import quote
from .mergesql import NEVER, MergeDialect, MergeTable, join, row_differs, source_newer

if TYPE_CHECKING:
    from ..plan import ConflictRule
    from ..shape.schema import ColumnInfo

#: the image table's own columns, before the app table's (``ferry_xmin``: the row version a
#: before-image had, on a target whose rows carry one)
RUN, ACTION, AFTER, VERSION = "ferry_run", "ferry_action", "ferry_after", "ferry_xmin"
#: what a run did to a row; ``restored``: an undo put back a row of run ``ferry_run`` (a first
#: load recorded by row version), which now carries the version ``ferry_after``
INSERT, UPDATE, DELETE, RESTORED = "insert", "update", "delete", "restored"
#: the actions of a run's own changes
CHANGES = f"('{INSERT}', '{UPDATE}', '{DELETE}')"
#: the SQLite function computing a fingerprint (registered by the SQLite target)
SQLITE_FUNCTION = "ferry_fingerprint"
#: PostgreSQL's identifiers are at most 63 bytes
_MAX_NAME = 63


@dataclass(frozen=True)
class ImageTable:
    """Where one app table's changes are recorded, and the names SQL needs."""

    #: the app table (unquoted)
    table: str
    #: the image table as SQL refers to it (quoted, qualified on PostgreSQL)
    ref: str
    #: the image table's bare name (unquoted)
    name: str
    #: the schema holding it (None: the default one)
    schema: str | None
    #: the key columns
    key: tuple[str, ...]
    #: the app table's columns the images hold (the fingerprint's column order)
    columns: tuple[str, ...]
    #: ``postgresql`` or ``sqlite``
    dialect: str


def image_name(table: str, dialect: str) -> str:
    """The bare name of ``table``'s image table (shortened with a hash when too long)."""
    prefix = "img_" if dialect == "postgresql" else "_ferry_img_"
    name = prefix + table
    if len(name.encode("utf-8")) <= _MAX_NAME:
        return name
    digest = hashlib.sha256(table.encode("utf-8")).hexdigest()[:10]
    return f"{prefix}{table[:40]}_{digest}"


def image_table(
    table: str, key: Sequence[str], columns: Sequence[str], dialect: str, schema: str | None
) -> ImageTable:
    """The :class:`ImageTable` of ``table`` (``schema``: Ferry's schema on PostgreSQL)."""
    name = image_name(table, dialect)
    ref = f"{quote(schema)}.{quote(name)}" if schema else quote(name)
    return ImageTable(table, ref, name, schema, tuple(key), tuple(columns), dialect)


def fingerprint(dialect: str, alias: str, columns: Sequence[str]) -> str:
    """SQL for the fingerprint of the row ``alias`` (its ``columns``, in this order)."""
    cols = ", ".join(f"{alias}.{quote(c)}" for c in columns)
    if dialect == "postgresql":
        return f"md5(CAST(ROW({cols}) AS text))"
    return f"{SQLITE_FUNCTION}({cols})"


def row_fingerprint(*values: Any) -> str:
    """The SQLite fingerprint function: a hash of the values with their storage classes, so
    ``1``, ``1.0`` and ``'1'`` differ (registered on every SQLite target connection). The
    values' parts are joined and hashed at once (the same digest as one update per part:
    undo compares fingerprints recorded by earlier runs)."""
    parts: list[bytes] = []
    add = parts.append
    for value in values:
        kind = type(value)
        if value is None:
            add(b"n;")
        elif kind is str:
            data = value.encode("utf-8", "surrogatepass")
            add(b"t%d:%b" % (len(data), data))
        elif kind is int:
            add(b"i%d;" % value)
        elif kind is float:
            add(b"f%b;" % repr(value).encode())
        else:
            add(_fingerprint_part(value))
    return hashlib.md5(b"".join(parts), usedforsecurity=False).hexdigest()


def _fingerprint_part(value: Any) -> bytes:
    """One value's part of :func:`row_fingerprint` (any type: a subclass as its base)."""
    if isinstance(value, bytes):
        return b"b" + str(len(value)).encode() + b":" + value
    if isinstance(value, str):
        data = value.encode("utf-8", "surrogatepass")
        return b"t" + str(len(data)).encode() + b":" + data
    return type(value).__name__[0].encode() + repr(value).encode() + b";"  # int, float


# -- the image table ------------------------------------------------------------------------
def create_image(image: ImageTable, source: str) -> str:
    """Create the image table shaped like ``source``'s ``columns`` plus Ferry's own columns.

    The columns take the app table's types (PostgreSQL) or type affinities (SQLite, where
    ``CREATE TABLE … AS`` keeps each column's affinity): a before-image's text form is the
    row's, and a key compares with the app table's key through the image table's index
    (without the affinity, SQLite would not use the index for that join)."""
    cols = ", ".join(f"t.{quote(c)}" for c in image.columns)
    return (
        f"CREATE TABLE {image.ref} AS SELECT CAST(NULL AS text) AS {RUN}, "
        f"CAST(NULL AS text) AS {ACTION}, CAST(NULL AS text) AS {AFTER}, "
        f"CAST(NULL AS text) AS {VERSION}, {cols} "
        f"FROM {quote(source)} AS t WHERE 1 = 0"
    )


def index_image(image: ImageTable) -> str:
    """Index the image table by run and key (undo and the later-run check look rows up so)."""
    name = quote(image.name + "_key")
    cols = ", ".join([RUN, *(quote(k) for k in image.key)])
    return f"CREATE INDEX {name} ON {image.ref} ({cols})"


def add_image_column(image: ImageTable, column: str, sql_type: str) -> str:
    """Widen the image table with a column the app table gained since it was made."""
    typed = f" {sql_type}" if image.dialect == "postgresql" else ""
    return f"ALTER TABLE {image.ref} ADD COLUMN {quote(column)}{typed}"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def row_version(image: ImageTable, alias: str) -> str:
    """SQL for the version of row ``alias`` (PostgreSQL: the id of the transaction that last
    wrote it, as text); NULL on a target whose rows carry none."""
    return f"{alias}.xmin::text" if image.dialect == "postgresql" else "NULL"


# -- recording a staged merge (after classification, before the merge) -----------------------
def record_inserts(image: ImageTable, stage: str, run_id: str) -> str:
    """The keys of the staged rows the merge inserts (the target lacks them)."""
    keys = ", ".join(quote(k) for k in image.key)
    skeys = ", ".join(f"s.{quote(k)}" for k in image.key)
    return (
        f"INSERT INTO {image.ref} ({RUN}, {ACTION}, {keys}) "
        f"SELECT {_literal(run_id)}, '{INSERT}', {skeys} FROM {stage} AS s "
        f"WHERE s._ferry_same IS NULL AND NOT EXISTS "
        f"(SELECT 1 FROM {quote(image.table)} AS t WHERE {join(image.key)})"
    )


def record_updates(
    dialect: MergeDialect,
    image: ImageTable,
    stage: str,
    compare: Sequence[ColumnInfo],
    run_id: str,
    rule: ConflictRule,
    newer_by: ColumnInfo | None,
) -> str | None:
    """The before-images of the rows the merge updates (same condition as its UPDATE);
    None when the rule updates nothing."""
    if rule not in ("update", "newer") or not compare:
        return None
    cols = ", ".join(quote(c) for c in image.columns)
    tcols = ", ".join(f"t.{quote(c)}" for c in image.columns)
    merge = _merge_view(image, stage, compare)
    condition = row_differs(dialect, merge)
    if rule == "newer":
        condition += " AND " + source_newer(dialect, newer_by)
    if condition == NEVER:
        return None
    return (
        f"INSERT INTO {image.ref} ({RUN}, {ACTION}, {VERSION}, {cols}) "
        f"SELECT {_literal(run_id)}, '{UPDATE}', {row_version(image, 't')}, {tcols} "
        f"FROM {stage} AS s "
        f"JOIN {quote(image.table)} AS t ON {join(image.key)} WHERE {condition}"
    )


def record_deletes(image: ImageTable, stage: str, run_id: str) -> str:
    """The before-images of the target rows ``delete_missing`` deletes (the stage lacks them)."""
    cols = ", ".join(quote(c) for c in image.columns)
    tcols = ", ".join(f"t.{quote(c)}" for c in image.columns)
    return (
        f"INSERT INTO {image.ref} ({RUN}, {ACTION}, {VERSION}, {cols}) "
        f"SELECT {_literal(run_id)}, '{DELETE}', {row_version(image, 't')}, {tcols} "
        f"FROM {quote(image.table)} AS t "
        f"WHERE NOT EXISTS (SELECT 1 FROM {stage} AS s WHERE {join(image.key)})"
    )


def record_keyed_deletes(image: ImageTable, keys: Sequence[int], run_id: str) -> str:
    """The before-images of the target rows of ``keys`` (integers of a one-column key),
    deleted by key as missing from the source (:mod:`ferry.load.hashload`)."""
    cols = ", ".join(quote(c) for c in image.columns)
    tcols = ", ".join(f"t.{quote(c)}" for c in image.columns)
    listed = ",".join(str(int(k)) for k in keys)
    return (
        f"INSERT INTO {image.ref} ({RUN}, {ACTION}, {VERSION}, {cols}) "
        f"SELECT {_literal(run_id)}, '{DELETE}', {row_version(image, 't')}, {tcols} "
        f"FROM {quote(image.table)} AS t WHERE t.{quote(image.key[0])} IN ({listed})"
    )


def _merge_view(image: ImageTable, stage: str, compare: Sequence[ColumnInfo]) -> MergeTable:
    return MergeTable(image.table, stage, image.columns, image.key, tuple(compare))


# -- after the merge ----------------------------------------------------------------------------
def record_after(image: ImageTable, run_id: str) -> str:
    """Set the fingerprint of each inserted or updated row as the merge left it."""
    fp = fingerprint(image.dialect, "t", image.columns)
    on = join(image.key, "t", image.ref)
    return (
        f"UPDATE {image.ref} SET {AFTER} = (SELECT {fp} FROM {quote(image.table)} AS t "
        f"WHERE {on}) WHERE {RUN} = {_literal(run_id)} AND {ACTION} IN ('{INSERT}', '{UPDATE}')"
    )


def drop_unapplied(image: ImageTable, run_id: str) -> str:
    """Forget rows the merge did not change after all: an insert it rejected (no row has the
    key) and an update it rejected (the row is still its before-image)."""
    before = fingerprint(image.dialect, image.ref, image.columns)
    return (
        f"DELETE FROM {image.ref} WHERE {RUN} = {_literal(run_id)} AND "
        f"(({ACTION} = '{INSERT}' AND {AFTER} IS NULL) OR "
        f"({ACTION} = '{UPDATE}' AND ({AFTER} IS NULL OR {AFTER} = {before})))"
    )


# -- recording a direct load (the table was empty) --------------------------------------------
def first_version(image: ImageTable) -> str:
    """The version of one row of a table a first load filled: a direct load writes all its
    rows in one (sub)transaction, so one row's version is every row's (no scan)."""
    return f"SELECT xmin::text FROM {quote(image.table)} LIMIT 1"


def record_loaded(image: ImageTable, run_id: str) -> str:
    """Every row of a table the run loaded from empty is an insert of the run: its key and
    its fingerprint, in one statement."""
    keys = ", ".join(quote(k) for k in image.key)
    tkeys = ", ".join(f"t.{quote(k)}" for k in image.key)
    fp = fingerprint(image.dialect, "t", image.columns)
    return (
        f"INSERT INTO {image.ref} ({RUN}, {ACTION}, {AFTER}, {keys}) "
        f"SELECT {_literal(run_id)}, '{INSERT}', {fp}, {tkeys} FROM {quote(image.table)} AS t"
    )


__all__ = [
    "ACTION",
    "AFTER",
    "CHANGES",
    "DELETE",
    "INSERT",
    "RESTORED",
    "RUN",
    "SQLITE_FUNCTION",
    "UPDATE",
    "VERSION",
    "ImageTable",
    "add_image_column",
    "create_image",
    "drop_unapplied",
    "fingerprint",
    "first_version",
    "image_name",
    "image_table",
    "index_image",
    "record_after",
    "record_deletes",
    "record_inserts",
    "record_keyed_deletes",
    "record_loaded",
    "record_updates",
    "row_fingerprint",
    "row_version",
]
