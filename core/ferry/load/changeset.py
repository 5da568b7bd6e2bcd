"""Recording what a run changed (its changeset), for ``ferry undo`` (:mod:`ferry.undo`).

Inside the run's own transaction, per table the run writes: the keys it inserts, the
before-images of the rows it updates or deletes, and each written row's fingerprint as the run
left it, in the table's image table (the SQL and the layout: :mod:`ferry.load.changesql`). One
``changesets`` row per run and table (``ferry.changesets`` on PostgreSQL, ``_ferry_changesets``
in a SQLite file) says which image table, key and columns, and whether the run created the table.

Cost: a staged table costs one ``INSERT … SELECT`` per kind of change before the merge (the
same joins the merge does) and one ``UPDATE`` of the recorded rows after it: proportional to
the rows it changes. A table loaded from empty (a direct or native load, the first run) needs
no before-image and gets no per-row record: on a target whose rows carry a version
(``capabilities.row_versions``, PostgreSQL ``xmin``) the ``changesets`` row keeps the version
its rows carry (one row read, no scan) and the row count, and undo takes the rows still
carrying it as the run's; on another target (SQLite) such a load is recorded as not undoable,
unless the plan sets ``[options] undo_first_loads = true``, which records each row's key and
fingerprint (one ``INSERT … SELECT``; more than 10% of a first run, hence off by default).
A table loaded without a key (``mode = "append"``/``"replace"``) is journaled as not undoable.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, Integer, MetaData, String, Table, Text, inspect, select
from sqlalchemy import exc as sa_exc

from ..shape.schema import TableInfo
from . import changesql
from .changesql import ImageTable
from .journal import JOURNAL_SCHEMA
from .recordedmerge import merge_recorded

if TYPE_CHECKING:
    from ..plan import ConflictRule
    from ..targets import MergeCounts, Target
    from ..targets.base import Stage


def _changesets(name: str, schema: str | None) -> Table:
    return Table(
        name,
        MetaData(schema=schema),
        Column("run_id", String(32), primary_key=True),
        Column("table_name", Text, primary_key=True),
        #: the image table's bare name (in the schema of the changesets table)
        Column("image_table", Text, nullable=False),
        #: JSON lists: the key columns, and the columns the fingerprints cover in order
        Column("key_json", Text, nullable=False),
        Column("columns_json", Text, nullable=False),
        #: 1 when the run created the table
        Column("created", Integer, nullable=False),
        #: 0 when the run's changes to the table cannot be undone (``note`` says why)
        Column("undoable", Integer, nullable=False),
        Column("note", Text),
        #: a first load recorded by row version: the version its rows carry, and how many
        Column("loaded_version", Text),
        Column("loaded_rows", Integer),
    )


CHANGESETS_POSTGRES = _changesets("changesets", JOURNAL_SCHEMA)
CHANGESETS_SQLITE = _changesets("_ferry_changesets", None)


def changesets_table(dialect: str) -> Table:
    """The ``changesets`` table of a ``dialect`` target."""
    return CHANGESETS_POSTGRES if dialect == "postgresql" else CHANGESETS_SQLITE


def ferry_schema(dialect: str) -> str | None:
    """The schema of Ferry's own tables (None: the default one, SQLite)."""
    return JOURNAL_SCHEMA if dialect == "postgresql" else None


@dataclass(frozen=True)
class TableChanges:
    """One ``changesets`` row: where one run recorded its changes to one table."""

    run_id: str
    table: str
    image: ImageTable
    created: bool
    undoable: bool
    note: str | None
    #: a first load recorded by row version (no image rows): the version its rows carry
    #: (None: recorded row by row in the image table)
    version: str | None = None
    #: the rows that first load wrote
    loaded_rows: int | None = None


async def read_changesets(target: Target, run_id: str) -> list[TableChanges] | None:
    """What ``run_id`` recorded, per table; None when the target has no changesets at all."""
    table = changesets_table(target.dialect_name)
    if not await _has_table(target, table.name, table.schema):
        return None
    rows = await target.conn.execute(select(table).where(table.c.run_id == run_id))
    found = []
    for row in rows:
        entry = dict(row._mapping)
        key, columns = json.loads(entry["key_json"]), json.loads(entry["columns_json"])
        image = changesql.image_table(
            entry["table_name"], key, columns, target.dialect_name, table.schema
        )
        found.append(
            TableChanges(
                run_id,
                entry["table_name"],
                image,
                bool(entry["created"]),
                bool(entry["undoable"]),
                entry["note"],
                entry.get("loaded_version"),
                entry.get("loaded_rows"),
            )
        )
    return found


async def versioned_runs(target: Target, table: str) -> dict[str, str]:
    """``{version: run}`` of the first loads of ``table`` recorded by row version."""
    changes = changesets_table(target.dialect_name)
    rows = await target.conn.execute(
        select(changes.c.run_id, changes.c.loaded_version).where(
            (changes.c.table_name == table) & changes.c.loaded_version.is_not(None)
        )
    )
    return {str(version): str(run) for run, version in rows}


async def _has_table(target: Target, name: str, schema: str | None) -> bool:
    def look(sync: Any) -> bool:
        return bool(inspect(sync).has_table(name, schema=schema))

    found: bool = await target.conn.run_sync(look)
    return found


class ChangeRecorder:
    """Records one run's changes as it merges table after table (inside its transaction)."""

    def __init__(self, target: Target, run_id: str, first_load_rows: bool = False) -> None:
        self.target = target
        self.run_id = run_id
        #: record a first load row by row where rows carry no version (``undo_first_loads``)
        self.first_load_rows = first_load_rows
        self.table = changesets_table(target.dialect_name)
        #: tables recorded so far in this run (a table fed by two specs is recorded once)
        self.recorded: dict[str, ImageTable | None] = {}

    async def prepare(self) -> None:
        """Create the ``changesets`` table when the target lacks it (the journal's schema
        exists already: :func:`ferry.load.journal.ensure_journal`)."""
        table = self.table

        def create(sync: Any) -> None:
            table.create(sync, checkfirst=True)

        try:
            await self.target.conn.run_sync(create)
        except sa_exc.DBAPIError as exc:
            raise self.target.wrap(exc, "creating Ferry's changeset table") from None

    async def _image(self, info: TableInfo, key: list[str]) -> ImageTable:
        """The image table of ``info`` (made, or widened with columns the table gained)."""
        dialect, schema = self.target.dialect_name, ferry_schema(self.target.dialect_name)
        columns = list(info.columns)
        image = changesql.image_table(info.name, key, columns, dialect, schema)
        existing = await self._image_columns(image)
        what = f"recording the changes to {info.name}"
        if existing is None:
            await self.target.execute(changesql.create_image(image, info.name), what)
            await self.target.execute(changesql.index_image(image), what)
        else:
            for name in columns:
                if name not in existing:
                    sql_type = await self.target.column_sql_type(info.name, name)
                    await self.target.execute(
                        changesql.add_image_column(image, name, sql_type), what
                    )
        return image

    async def _image_columns(self, image: ImageTable) -> set[str] | None:
        def look(sync: Any) -> set[str] | None:
            inspector = inspect(sync)
            if not inspector.has_table(image.name, schema=image.schema):
                return None
            return {c["name"] for c in inspector.get_columns(image.name, schema=image.schema)}

        found: set[str] | None = await self.target.conn.run_sync(look)
        return found

    async def _note(
        self,
        info: TableInfo,
        image: ImageTable | None,
        note: str | None,
        version: str | None = None,
        rows: int | None = None,
        undoable: bool = True,
    ) -> None:
        if info.name in self.recorded:
            return
        self.recorded[info.name] = image
        values = {
            "run_id": self.run_id,
            "table_name": info.name,
            "image_table": image.name if image else "",
            "key_json": json.dumps(list(image.key) if image else []),
            "columns_json": json.dumps(list(image.columns) if image else []),
            "created": int(info.created),
            "undoable": int(image is not None and undoable),
            "note": note,
            "loaded_version": version,
            "loaded_rows": rows,
        }
        try:
            await self.target.conn.execute(self.table.insert().values(**values))
        except sa_exc.DBAPIError as exc:
            raise self.target.wrap(exc, f"recording the changes to {info.name}") from None

    async def _table(self, info: TableInfo, key: list[str], mode: str) -> ImageTable | None:
        """The image table for ``info`` (recorded in ``changesets`` the first time), or None
        when its changes cannot be recorded by key."""
        if info.name in self.recorded:
            return self.recorded[info.name]
        if not key:
            await self._note(
                info, None, f'loaded without a key (mode = "{mode}"): rows cannot be told apart'
            )
            return None
        image = await self._image(info, key)
        await self._note(info, image, None)
        return image

    async def unrecorded(self, info: TableInfo, key: list[str], mode: str) -> None:
        """The run changes ``info`` in a way not recorded row by row (a delta load's
        deletions by key): its changes to the table are journaled as not undoable."""
        if info.name in self.recorded or not key:
            await self._table(info, key, mode)
            return
        image = await self._image(info, key)
        await self._note(
            info,
            image,
            "rows deleted by key in a delta load (row_prints) have no before-image",
            undoable=False,
        )

    async def cannot_undo(self, table: str, note: str) -> None:
        """The run changed rows of ``table`` it recorded no image of (a cascade in the
        target): ``ferry undo`` of the run refuses, naming ``note``."""
        if table not in self.recorded:
            await self._note(TableInfo(table), None, note, undoable=False)
            return
        found = self.table.c
        await self.target.conn.execute(
            self.table.update()
            .where((found.run_id == self.run_id) & (found.table_name == table))
            .values(undoable=0, note=note)
        )

    async def deleting_keys(
        self, info: TableInfo, key: list[str], mode: str, keys: list[int]
    ) -> None:
        """Record the before-images of the rows of ``keys`` about to be deleted by key (a
        hashed compare-first load's rows missing from the source)."""
        image = await self._table(info, key, mode)
        if image is not None and keys:
            sql = changesql.record_keyed_deletes(image, keys, self.run_id)
            await self.target.execute(sql, f"recording the changes to {info.name}")

    async def loaded(self, info: TableInfo, stage: Stage, mode: str, rows: int) -> None:
        """A table the run loaded from empty: every row is the run's insert. Recorded by
        row version where rows carry one, else row by row when the plan asks, else as not
        undoable (nothing per row either way unless asked: the first run stays cheap)."""
        if info.name in self.recorded:
            return
        key = list(stage.key)
        if not key:
            await self._table(info, key, mode)
            return
        what = f"recording the rows loaded into {info.name}"
        if self.target.capabilities.row_versions:
            image = await self._image(info, key)
            version = await self.target.scalar(changesql.first_version(image), what)
            found = None if version is None else str(version)
            await self._note(info, image, None, version=found or "", rows=rows)
            return
        if not self.first_load_rows:
            image = await self._image(info, key)
            await self._note(
                info,
                image,
                "loaded from empty without a per-row record (rows in this target carry no "
                "version; [options] undo_first_loads = true records one)",
                rows=rows,
                undoable=False,
            )
            return
        recorded = await self._table(info, key, mode)
        if recorded is not None:
            await self.target.execute(changesql.record_loaded(recorded, self.run_id), what)

    async def before_merge(
        self,
        info: TableInfo,
        stage: Stage,
        rule: ConflictRule,
        newer_by: str | None,
        delete_missing: bool,
        mode: str,
    ) -> None:
        """Record the keys the merge inserts and the before-images of the rows it updates
        or deletes (after classification, before the merge)."""
        image = await self._table(info, list(stage.key), mode)
        if image is None:
            return
        target, ref = self.target, target_stage(self.target, stage)
        what = f"recording the changes to {info.name}"
        await target.execute(changesql.record_inserts(image, ref, self.run_id), what)
        compare = [info.columns[c] for c in stage.compare]
        newer = info.columns[newer_by] if rule == "newer" and newer_by else None
        updates = changesql.record_updates(
            target.merge_dialect, image, ref, compare, self.run_id, rule, newer
        )
        if updates is not None:
            await target.execute(updates, what)
        if delete_missing:
            await target.execute(changesql.record_deletes(image, ref, self.run_id), what)

    async def before_deletes(self, info: TableInfo, stage: Stage, mode: str) -> None:
        """Record the before-images of the rows ``delete_missing`` deletes (the stage lacks
        them) apart from the merge (:meth:`ferry.load.strategy.LoadStrategy.delete_first`)."""
        image = await self._table(info, list(stage.key), mode)
        if image is not None:
            ref = target_stage(self.target, stage)
            await self.target.execute(
                changesql.record_deletes(image, ref, self.run_id),
                f"recording the changes to {info.name}",
            )

    async def merge_recorded(
        self, info: TableInfo, stage: Stage, rule: ConflictRule, delete_missing: bool, mode: str
    ) -> MergeCounts | None:
        """Merge ``stage`` recording the changeset as the merge writes (the same record as
        :meth:`before_merge`, the merge and :meth:`after_merge`, in fewer passes: see
        :mod:`ferry.load.recordedmerge`); None when that path does not apply and nothing was
        written: the caller merges the general way."""
        if rule != "update" or delete_missing:
            return None
        image = await self._table(info, list(stage.key), mode)
        if image is None:
            return None
        counts = await merge_recorded(self.target, stage, image, self.run_id)
        if counts is not None:
            await self.after_merge(info, fingerprinted=True)
        return counts

    async def after_merge(self, info: TableInfo, fingerprinted: bool = False) -> None:
        """Fingerprint the rows the merge wrote and forget the ones it rejected (unless
        ``fingerprinted``: a recording merge did both as it wrote them)."""
        image = self.recorded.get(info.name)
        if image is None:
            return
        what = f"recording the changes to {info.name}"
        if not fingerprinted:
            await self.target.execute(changesql.record_after(image, self.run_id), what)
            await self.target.execute(changesql.drop_unapplied(image, self.run_id), what)
        if info.created:
            return
        changed = await self.target.scalar(
            f"SELECT 1 FROM {image.ref} WHERE {changesql.RUN} = {_literal(self.run_id)} LIMIT 1",
            what,
        )
        if changed is None:  # the merge changed nothing: a re-run leaves no trace
            table = self.table
            try:
                await self.target.conn.execute(
                    table.delete().where(
                        (table.c.run_id == self.run_id) & (table.c.table_name == info.name)
                    )
                )
            except sa_exc.DBAPIError as exc:
                raise self.target.wrap(exc, what) from None


def target_stage(target: Target, stage: Stage) -> str:
    """How SQL refers to the stage."""
    return target.stage_ref(stage)


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


__all__ = [
    "CHANGESETS_POSTGRES",
    "CHANGESETS_SQLITE",
    "ChangeRecorder",
    "TableChanges",
    "changesets_table",
    "ferry_schema",
    "read_changesets",
    "versioned_runs",
]
