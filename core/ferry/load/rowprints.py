"""Row prints kept in the target: what the last run wrote, row by row, for delta runs.

A completed run that loaded a table keyed by one integer column, with nothing left out, keeps
for it in Ferry's own tables (beside the journal, in the run's transaction): each source row's
key and print (:mod:`ferry.values.rowprint`), in key order, packed 65,536 to a row of
``row_prints``; and in ``row_print_tables`` the run, plan and source it came from and the
table's *state* as the run left it. The state is what tells that nobody wrote to the table
since:

- PostgreSQL (``row_versions``): the row count and the transaction ids (``xmin``) the rows
  carry: any insert, update or delete by another transaction brings a new one;
- SQLite in rollback-journal mode: the row count and the file's change counter as the run's
  commit leaves it (:mod:`ferry.targets.sqliteheader`): any commit since, to any table of the
  file, moves it on. A counter that moved tells nothing about this table, but no sums are kept
  to tell more (summing every row cost a first run more than the prints themselves): the
  table is then compared in full;
- elsewhere (SQLite in WAL mode): the row count and the sum of the rows' prints over every
  column (two 32-bit halves, so the sums never overflow).

The next run of the same plan (and Ferry version) uses the prints only while the table's
state is still the one kept (:func:`state_matches`): a write by the app, by another plan's
run, an undo or a restore changes it. A run that loads a table without keeping prints for it
forgets the old ones; a run that changed nothing in it (``unchanged``, or a delta that found
no changed row) leaves them as they are (on SQLite with the change counter its own commit
leaves: :func:`restate_prints`). PostgreSQL: ``ferry.row_prints`` and
``ferry.row_print_tables``; SQLite: ``_ferry_row_prints`` and ``_ferry_row_print_tables``.
"""

from __future__ import annotations

import json
import sys
from array import array
from dataclasses import dataclass
from itertools import count
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    delete,
    inspect,
    select,
    text,
)
from sqlalchemy import exc as sa_exc

from .. import __version__
from ..shape.identifiers import quote
from ..targets import Target
from .journal import JOURNAL_SCHEMA
from .printfile import PrintFile
from .printpatch import PrintPatch, apply_patches, keep_patch, read_patches
from .rerun import rows_as_left
from .rerun import table_state as row_versions

#: changed rows up to which a run's new row versions are looked up by key (beyond: a scan)
_LOOKUP_LIMIT = 20_000


@dataclass(frozen=True)
class PrintsEntry:
    """What ``row_print_tables`` keeps of one table."""

    table: str
    run_id: str
    plan_hash: str
    source: str
    key_field: str
    rows: int
    state: dict[str, Any]
    #: what a print is of: the row's ``values``, or its ``lines`` (:mod:`ferry.load.jsonlines`)
    form: str = "values"


def _tables(schema: str | None, prefix: str) -> tuple[Table, Table]:
    metadata = MetaData(schema=schema)
    chunks = Table(
        f"{prefix}row_prints",
        metadata,
        Column("table_name", Text, primary_key=True),
        Column("chunk", Integer, primary_key=True, autoincrement=False),
        Column("keys", LargeBinary, nullable=False),
        Column("prints", LargeBinary, nullable=False),
    )
    entries = Table(
        f"{prefix}row_print_tables",
        metadata,
        Column("table_name", Text, primary_key=True),
        Column("run_id", String(32), nullable=False),
        Column("plan_hash", String(64), nullable=False),
        Column("source", Text, nullable=False),
        Column("key_field", Text, nullable=False),
        Column("rows", BigInteger, nullable=False),
        Column("state", Text, nullable=False),
        Column("form", String(16), nullable=False),
        Column("ferry_version", String(32), nullable=False),
    )
    return chunks, entries


_POSTGRES = _tables(JOURNAL_SCHEMA, "")
_SQLITE = _tables(None, "_ferry_")


def _place(target: Target) -> tuple[Table, Table]:
    return _POSTGRES if target.capabilities.schemas else _SQLITE


def chunk_table(target: Target) -> Table:
    """``row_prints`` of ``target``: chunks from 0 up hold the prints, negative ones what
    else is kept with them (a SQLite source table's page map, :mod:`ferry.load.pagemaps`);
    :func:`forget_prints` drops both."""
    return _place(target)[0]


async def _present(target: Target) -> bool:
    chunks, _ = _place(target)

    def look(sync: Any) -> bool:
        return bool(inspect(sync).has_table(chunks.name, schema=chunks.schema))

    found: bool = await target.conn.run_sync(look)
    return found


async def ensure_print_tables(target: Target) -> None:
    """Create the two tables when missing (in the run's transaction; the journal's schema
    exists by then)."""
    chunks, entries = _place(target)

    def create(sync: Any) -> None:
        new = not inspect(sync).has_table(chunks.name, schema=chunks.schema)
        chunks.create(sync, checkfirst=True)
        entries.create(sync, checkfirst=True)
        if new and chunks.schema:
            # PostgreSQL: stored as they are; compressing them took 0.5 s per 4 MB of keys
            sync.execute(
                text(
                    f'ALTER TABLE "{chunks.schema}"."{chunks.name}" ALTER keys SET STORAGE '
                    "EXTERNAL, ALTER prints SET STORAGE EXTERNAL"
                )
            )

    try:
        await target.conn.run_sync(create)
    except sa_exc.DBAPIError as exc:
        raise target.wrap(exc, f"creating {chunks.name}") from None


async def kept_entries(target: Target, plan_hash: str) -> dict[str, PrintsEntry]:
    """The tables whose prints a run of this plan kept (by table name). Whether each still
    describes its table is for :func:`state_matches` to tell."""
    if not await _present(target):
        return {}
    _, entries = _place(target)
    found = {}
    for row in (await target.conn.execute(select(entries))).mappings():
        # another version may map a value otherwise: its prints say nothing of this mapping
        if row["plan_hash"] == plan_hash and row["ferry_version"] == __version__:
            found[row["table_name"]] = PrintsEntry(
                row["table_name"],
                row["run_id"],
                row["plan_hash"],
                row["source"],
                row["key_field"],
                int(row["rows"]),
                json.loads(row["state"]),
                row["form"],
            )
    return found


async def read_prints(target: Target, table: str) -> PrintFile:
    """The kept keys and prints of ``table``, copied a row of ``row_prints`` at a time into
    a temporary file (:mod:`ferry.load.printfile`), the patches of later delta runs applied
    (:mod:`ferry.load.printpatch`): the run looks them up from a worker thread while the
    load uses the target's connection."""
    chunks, _ = _place(target)
    found = PrintFile()
    try:
        # one row of ``row_prints`` per query: a result holding them all held every print
        for number in count():
            rows = await target.fetch_binary(
                select(chunks.c["keys"], chunks.c.prints).where(
                    chunks.c.table_name == table, chunks.c.chunk == number
                ),
                f"reading the kept row prints of {table}",
            )
            if not rows:
                break
            row = rows[0]
            keys: array[int] = array("q", bytes(row[0]))
            prints: array[int] = array("q", bytes(row[1]))
            if sys.byteorder == "big":  # kept little-endian
                keys.byteswap()
                prints.byteswap()
            found.extend(keys, prints)
        patched = apply_patches(found, await read_patches(target, chunks, table))
    except BaseException:
        found.close()
        raise
    if patched is not found:
        found.close()
    return patched


async def keep_prints(
    target: Target, entry: PrintsEntry, prints: PrintFile, patch: PrintPatch | None = None
) -> None:
    """Replace what is kept of ``entry.table`` (in the run's transaction), a chunk of the
    file at a time: all at once held every print three times over (bytes, the driver's
    parameters, its send buffer), 60 MB at a million rows. ``patch``: what a delta run
    changed of the kept prints, kept instead while the patches stay small."""
    chunks, entries = _place(target)
    try:
        if patch is not None and await keep_patch(target, chunks, entry.table, len(prints), patch):
            await target.conn.execute(delete(entries).where(entries.c.table_name == entry.table))
        else:
            await forget_prints(target, [entry.table])
            await _keep_chunks(target, chunks, entry.table, prints)
        await target.conn.execute(
            entries.insert().values(
                table_name=entry.table,
                run_id=entry.run_id,
                plan_hash=entry.plan_hash,
                source=entry.source,
                key_field=entry.key_field,
                rows=entry.rows,
                state=json.dumps(entry.state, sort_keys=True),
                form=entry.form,
                ferry_version=__version__,
            )
        )
    except sa_exc.DBAPIError as exc:
        raise target.wrap(exc, f"keeping the row prints of {entry.table}") from None


async def _keep_chunks(target: Target, chunks: Table, table: str, prints: PrintFile) -> None:
    for number, (keys, values) in enumerate(prints.chunks()):
        if sys.byteorder == "big":
            keys, values = array("q", keys), array("q", values)
            keys.byteswap()
            values.byteswap()
        await target.conn.execute(
            chunks.insert().values(
                table_name=table, chunk=number, keys=keys.tobytes(), prints=values.tobytes()
            )
        )


async def forget_prints(target: Target, tables: list[str]) -> None:
    """Drop what is kept of ``tables`` (a run that loaded them without keeping prints)."""
    if not tables or not await _present(target):
        return
    chunks, entries = _place(target)
    try:
        await target.conn.execute(delete(chunks).where(chunks.c.table_name.in_(tables)))
        await target.conn.execute(delete(entries).where(entries.c.table_name.in_(tables)))
    except sa_exc.DBAPIError as exc:
        raise target.wrap(exc, "dropping kept row prints") from None


def print_sql(columns: list[str]) -> str:
    """SQLite: the print of a row over ``columns`` (``ferry_row_print``). Text goes as its
    bytes (no decoding, so text that is not UTF-8 prints too), a blob as its ``quote()`` text,
    so the two kinds never print alike."""
    args = ", ".join(
        f"CASE typeof({c}) WHEN 'text' THEN CAST({c} AS BLOB) WHEN 'blob' THEN quote({c}) "
        f"ELSE {c} END"
        for c in map(quote, columns)
    )
    return f"ferry_row_print({args})"


async def table_state(target: Target, table: str, columns: list[str]) -> dict[str, Any]:
    """The state that tells whether anybody wrote to ``table`` since (module docstring), as
    the run's commit leaves it."""
    if target.capabilities.row_versions:
        rows, xmins = await row_versions(target, table)
        return {"rows": rows, "xmins": xmins}
    counter = target.change_counter_after_commit()
    if counter is not None:
        rows = await target.scalar(f"SELECT count(*) FROM {quote(table)}", f"counting {table}")
        return {"rows": int(rows), "counter": counter}
    return await summed_state(target, table, columns)


async def summed_state(target: Target, table: str, columns: list[str]) -> dict[str, Any]:
    """The row count and the sums of the rows' prints (a target without a change counter)."""
    found = await target.fetch_dicts(
        f"WITH p AS MATERIALIZED (SELECT {print_sql(columns)} AS v FROM {quote(table)}) "
        "SELECT count(*) AS n, coalesce(sum(v & 4294967295), 0) AS lo, "
        "coalesce(sum(v >> 32), 0) AS hi FROM p",
        f"summing the rows of {table}",
    )
    row = found[0]
    return {"rows": int(row["n"]), "low": int(row["lo"]), "high": int(row["hi"])}


async def part_state(
    target: Target, table: str, columns: list[str], key: str, keys: list[int]
) -> dict[str, int]:
    """:func:`table_state` (prints summed) of the rows of ``keys`` alone."""
    total = {"rows": 0, "low": 0, "high": 0}
    for start in range(0, len(keys), 500):
        listed = ",".join(str(int(k)) for k in keys[start : start + 500])
        found = await target.fetch_dicts(
            f"WITH p AS MATERIALIZED (SELECT {print_sql(columns)} AS v FROM {quote(table)} "
            f"WHERE {quote(key)} IN ({listed})) SELECT count(*) AS n, "
            "coalesce(sum(v & 4294967295), 0) AS lo, coalesce(sum(v >> 32), 0) AS hi FROM p",
            f"summing rows of {table}",
        )
        total["rows"] += int(found[0]["n"])
        total["low"] += int(found[0]["lo"])
        total["high"] += int(found[0]["hi"])
    return total


async def state_after(
    target: Target,
    table: str,
    columns: list[str],
    before: dict[str, Any],
    key: str,
    written: list[int],
    part_before: dict[str, int] | None = None,
    rows: int | None = None,
) -> dict[str, Any]:
    """The table's state after a delta run that wrote the rows of keys ``written`` to a table
    in state ``before``: on PostgreSQL the row versions of those rows join the kept ones
    (looked up by key when they are few) and the count is ``rows`` (the kept count moved on
    by the run's inserts and deletes: a write by anyone else during the run leaves a row
    version or a count the next run's check does not find, so it compares in full) or, not
    given, counted; elsewhere the sums move by what those rows summed to before the run
    (``part_before``) and after it."""
    if not target.capabilities.row_versions:
        if target.change_counter_after_commit() is not None:
            return await table_state(target, table, columns)
        if part_before is None or "low" not in before or len(written) > _LOOKUP_LIMIT:
            return await summed_state(target, table, columns)
        after = await part_state(target, table, columns, key, written)
        return {n: int(before[n]) - part_before[n] + after[n] for n in ("rows", "low", "high")}
    if len(written) > _LOOKUP_LIMIT:
        return await table_state(target, table, columns)
    xmins = set(before.get("xmins", []))
    if written:
        # one array literal: parsed at once, where a list of 10,000 constants took 40 ms
        listed = ",".join(str(int(k)) for k in written)
        found = await target.fetch_dicts(
            f"SELECT DISTINCT xmin::text AS x FROM {quote(table)} "
            f"WHERE {quote(key)} = ANY('{{{listed}}}'::bigint[])",
            f"reading the row versions of {table}",
        )
        xmins |= {str(r["x"]) for r in found}
    if rows is None:
        rows = await target.scalar(f"SELECT count(*) FROM {quote(table)}", f"counting {table}")
    return {"rows": int(rows), "xmins": sorted(xmins)}


async def state_matches(
    target: Target, table: str, columns: list[str], state: dict[str, Any]
) -> bool:
    """Whether ``table`` is still in ``state`` (nobody wrote to it since)."""
    if target.capabilities.row_versions:
        return await rows_as_left(target, table, state)
    if "counter" in state:
        # unmoved: nobody committed to the file since; moved: no sums to tell more
        counter = target.change_counter()
        return counter is not None and counter == state["counter"]
    return await summed_state(target, table, columns) == state


def sums_kept(target: Target, state: dict[str, Any]) -> bool:
    """Whether a delta run must sum the rows it writes before writing them, to move the
    kept sums on (a target without a change counter whose state holds sums)."""
    return (
        not target.capabilities.row_versions
        and target.change_counter_after_commit() is None
        and "low" in state
    )


async def restate_prints(target: Target, table: str, state: dict[str, Any]) -> None:
    """Replace the kept state of ``table`` whose prints still hold (in the run's
    transaction): a run that wrote nothing to it moved the file's change counter on."""
    _, entries = _place(target)
    try:
        await target.conn.execute(
            entries.update()
            .where(entries.c.table_name == table)
            .values(state=json.dumps(state, sort_keys=True))
        )
    except sa_exc.DBAPIError as exc:
        raise target.wrap(exc, f"keeping the state of {table}") from None


__all__ = [
    "PrintsEntry",
    "chunk_table",
    "ensure_print_tables",
    "forget_prints",
    "keep_prints",
    "kept_entries",
    "part_state",
    "print_sql",
    "read_prints",
    "restate_prints",
    "state_after",
    "state_matches",
    "summed_state",
    "sums_kept",
    "table_state",
]
