"""A staged merge that records its own changeset as it writes (PostgreSQL).

The general path (:mod:`ferry.load.staged` with :mod:`ferry.load.changeset`) joins the stage
with the target table five times for a merge that updates and inserts: the keys it will
insert, the before-images of the rows it will update, the counts, the merge itself, then
each written row's fingerprint looked up again. Where the target can write inside ``WITH``
and return what it wrote (``capabilities.returning_writes``), each merge statement records
its own rows instead: the UPDATE's before-images come from a ``WITH`` part of the same
statement (one snapshot: the rows as they were, with their versions), the fingerprints as
written from its ``RETURNING``, and the INSERT's keys and fingerprints likewise. The image
rows are the general path's, value for value; an update that changed nothing after all (the
general path's :func:`ferry.load.changesql.drop_unapplied` forgets it afterwards) is not
recorded by the same statement, and an INSERT's rows are all written: no clean-up follows.

It is taken only where that holds by construction: conflict rule ``update`` without
``delete_missing``, a key the target holds unique, a plain table with no trigger or rule of
the app's and no foreign key that updates rows in turn (any of these could change a row
after ``RETURNING`` saw it). Anything else goes the general way, and so does a merge the
server refuses (a constraint: its savepoint is rolled back, and the general path rejects
the offending rows one by one).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import exc as sa_exc

from ..shape.identifiers import quote
from ..targets import MergeCounts
from .changesql import ACTION, AFTER, INSERT, RUN, UPDATE, VERSION, ImageTable, fingerprint
from .mergesql import MergeDialect, MergeTable, count_staged, join, row_differs

if TYPE_CHECKING:
    from ..targets import Stage, Target

#: the before-image's version as the ``WITH`` part names it
_OLD_VERSION = "_ferry_old_version"
#: the version a written row carries as ``RETURNING`` gives it
_NEW_VERSION = "_ferry_new_version"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _written(image_rows: str) -> str:
    """The rest of a recording merge statement: its image rows are written by a ``WITH``
    part, and it returns one row: how many rows it wrote and the versions they carry (the
    delta's state moves on by those, :func:`ferry.load.rowprints.state_after`, without
    looking the rows up again)."""
    return (
        f"ferry_recorded AS ({image_rows}) "
        f"SELECT count(*), array_agg(DISTINCT {_NEW_VERSION}) FROM ferry_written"
    )


def recorded_update(
    dialect: MergeDialect, merge: MergeTable, image: ImageTable, run_id: str
) -> str:
    """The merge's UPDATE of the changed rows (rule ``update``), recording each row's
    before-image and version and its fingerprint as written; it returns the rows updated
    (every one is recorded) and their new versions."""
    table = quote(merge.table)
    sets = ", ".join(f"{quote(c)} = s.{quote(c)}" for c in merge.columns if c not in merge.key)
    condition = row_differs(dialect, merge)
    cols = ", ".join(quote(c) for c in image.columns)
    tcols = ", ".join(f"t.{quote(c)}" for c in image.columns)
    bcols = ", ".join(f"b.{quote(c)}" for c in image.columns)
    tkeys = ", ".join(f"t.{quote(k)}" for k in image.key)
    return (
        f"WITH ferry_before AS (SELECT t.xmin::text AS {_OLD_VERSION}, {tcols} "
        f"FROM {merge.stage} AS s JOIN {table} AS t ON {join(merge.key)} WHERE {condition}), "
        f"ferry_written AS (UPDATE {table} AS t SET {sets} FROM {merge.stage} AS s "
        f"WHERE {join(merge.key)} AND {condition} "
        f"RETURNING {tkeys}, {fingerprint('postgresql', 't', image.columns)} AS {AFTER}, "
        f"t.xmin::text AS {_NEW_VERSION}), "
        + _written(
            f"INSERT INTO {image.ref} ({RUN}, {ACTION}, {VERSION}, {cols}, {AFTER}) "
            f"SELECT {_literal(run_id)}, '{UPDATE}', b.{_OLD_VERSION}, {bcols}, w.{AFTER} "
            f"FROM ferry_before AS b JOIN ferry_written AS w ON {join(image.key, 'b', 'w')} "
            # an update that left the row as it was (values distinct, the same text) is none
            f"WHERE w.{AFTER} IS DISTINCT FROM {fingerprint('postgresql', 'b', image.columns)}"
        )
    )


def recorded_insert(merge: MergeTable, image: ImageTable, run_id: str) -> str:
    """The merge's INSERT of the rows whose key the target lacks, recording each one's key
    and fingerprint as written; it returns the rows inserted and their versions."""
    table = quote(merge.table)
    cols = ", ".join(quote(c) for c in merge.columns)
    select_cols = ", ".join(f"s.{quote(c)}" for c in merge.columns)
    keys = ", ".join(quote(k) for k in image.key)
    tkeys = ", ".join(f"t.{quote(k)}" for k in image.key)
    return (
        f"WITH ferry_written AS (INSERT INTO {table} AS t ({cols}) SELECT {select_cols} "
        f"FROM {merge.stage} AS s WHERE s._ferry_same IS NULL AND NOT EXISTS "
        f"(SELECT 1 FROM {table} AS t WHERE {join(merge.key)}) "
        f"RETURNING {tkeys}, {fingerprint('postgresql', 't', image.columns)} AS {AFTER}, "
        f"t.xmin::text AS {_NEW_VERSION}), "
        + _written(
            f"INSERT INTO {image.ref} ({RUN}, {ACTION}, {keys}, {AFTER}) "
            f"SELECT {_literal(run_id)}, '{INSERT}', {keys}, {AFTER} FROM ferry_written"
        )
    )


def blockers(table: str, key: tuple[str, ...]) -> str:
    """One row, one column: true when ``table`` is not a plain table (partitioned, with
    children), has a trigger or rule of the app's, is referenced by a foreign key with an
    ON UPDATE action, or has no unique index on exactly ``key``: then the general path."""
    rel = f"CAST({_literal(quote(table))} AS regclass)"
    wanted = "ARRAY[" + ", ".join(_literal(k) for k in sorted(key)) + "]::text[]"
    return (
        f"SELECT (SELECT c.relkind <> 'r' OR c.relhassubclass OR c.relhasrules "
        f"FROM pg_class AS c WHERE c.oid = {rel}) "
        f"OR EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = {rel} AND NOT tgisinternal) "
        f"OR EXISTS (SELECT 1 FROM pg_constraint WHERE contype = 'f' AND confrelid = {rel} "
        f"AND confupdtype NOT IN ('a', 'r')) "
        f"OR NOT EXISTS (SELECT 1 FROM pg_index AS i WHERE i.indrelid = {rel} "
        f"AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL "
        f"AND (SELECT array_agg(a.attname::text ORDER BY a.attname::text) "
        f"FROM unnest(i.indkey) AS k JOIN pg_attribute AS a "
        f"ON a.attrelid = i.indrelid AND a.attnum = k) = {wanted})"
    )


async def merge_recorded(
    target: Target, stage: Stage, image: ImageTable, run_id: str
) -> MergeCounts | None:
    """Merge ``stage`` (rule ``update``, nothing deleted) recording the changeset in
    ``image`` as the merge writes; None when this path does not apply or the server refused
    the merge (nothing of it is left: the caller takes the general path)."""
    name = stage.table.name
    if (
        not target.capabilities.returning_writes
        or not stage.key
        or not stage.compare
        or all(c in stage.key for c in stage.columns)
    ):
        return None
    what = f"merging rows into {name}"
    if await target.scalar(blockers(name, tuple(stage.key)), what):
        return None
    merge = target.merge_table(stage)
    statements = [
        recorded_update(target.merge_dialect, merge, image, run_id),
        recorded_insert(merge, image, run_id),
    ]
    done: list[int] = []
    versions: set[str] = set()
    try:
        async with target.conn.begin_nested():
            for sql in statements:
                result = await target.conn.exec_driver_sql(target.driver_sql(sql))
                row: Any = result.one()  # (written, their versions)
                done.append(int(row[0]))
                versions.update(row[1] or ())
    except (sa_exc.IntegrityError, sa_exc.DataError, sa_exc.InternalError):
        return None  # rolled back to before the merge: rows are rejected the general way
    except sa_exc.DBAPIError as exc:
        raise target.wrap(exc, what) from None
    updated, inserted = done
    total = int(await target.scalar(count_staged(merge), what) or 0)
    return MergeCounts(
        inserted=inserted,
        updated=updated,
        unchanged=total - inserted - updated,
        versions=sorted(versions),
    )


__all__ = ["blockers", "merge_recorded", "recorded_insert", "recorded_update"]
