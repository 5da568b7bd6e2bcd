"""A merge source: several copies of the same data become one table, row by row, by key.

Two stores that drifted apart (a NAS copy and a dashboard copy of the same SQLite database; a
``settings.json`` over ``.env`` defaults) are read whole, matched by key and merged column by
column: each column takes its value from the first input, in precedence order, that holds the
row with a non-NULL value. A deletion rule tells a row deleted in one copy from a row added in
another, so deleted rows do not come back.

The inputs are spooled into a private temporary SQLite file and read back ordered by key, so a
merge of any size runs in bounded memory. What each input contributed, and which rows were
taken for deletions, is kept in :class:`MergeSummary` for the preview and the report.
"""

from __future__ import annotations

import pickle
import sqlite3
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import PlanError
from ..values.logical import CastError, LogicalType, merge_types, parse_timestamp, to_utc_naive
from .base import Batch, Row, SourceReader, SourceTable

#: opens a source: spec, base folder, the plan's sources
OpenSource = Callable[["SourceSpec", Path, Sequence["SourceSpec"]], SourceReader]

if TYPE_CHECKING:
    from ..plan import SourceSpec

#: keys of deleted rows kept for the preview and the report; beyond this only the count grows
MAX_LISTED_DELETIONS = 50


@dataclass
class InputSummary:
    """What one input of a merge holds and gives."""

    table: str
    #: rows read (repeated keys included)
    rows: int = 0
    #: keys no other input holds
    only_here: int = 0
    #: cells where this input's value won over a different value another input held
    won: int = 0
    #: later rows repeating a key within this input (the last one is used)
    duplicates: int = 0


@dataclass
class MergeSummary:
    """The outcome of one merge: per input what it gave, and the rows taken for deletions."""

    source: str
    key: list[str]
    inputs: list[InputSummary] = field(default_factory=list)
    #: merged rows handed on to the tables (deletions excluded)
    rows: int = 0
    #: keys every input holds
    in_all: int = 0
    deleted: int = 0
    deleted_keys: list[str] = field(default_factory=list)
    #: keys the ``rows_of`` input lacks, left out
    left_out: int = 0
    #: how the deletion rule decided, in words (empty without a rule)
    deletion_rule: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Plain data for reports and ``--json``."""
        return asdict(self)


class MergeSource(SourceReader):
    """Reads the inputs of a ``kind = "merge"`` source and yields the merged table."""

    def __init__(
        self,
        spec: SourceSpec,
        base_dir: Path,
        sources: Sequence[SourceSpec],
        open_source: OpenSource,
    ) -> None:
        """``open_source`` opens each input (:func:`ferry.sources.open_source`, passed in so
        this module does not import the package that imports it)."""
        super().__init__(spec, base_dir)
        by_name = {s.name: s for s in sources}
        self._readers: dict[str, SourceReader] = {}
        try:
            for entry in spec.inputs:
                root = entry.split(".", 1)[0]
                if root in self._readers:
                    continue
                if root not in by_name:
                    raise PlanError(
                        f"merge source {spec.name!r} reads {entry!r}, but no source is named "
                        f"{root!r}",
                        hint="Add that source to the plan or fix `inputs`.",
                    )
                self._readers[root] = open_source(by_name[root], base_dir, sources)
        except BaseException:
            self.close()
            raise
        self._described: dict[str, SourceTable] | None = None
        self._newest: datetime | None = None
        self.summary = MergeSummary(spec.name, list(spec.key))

    # -- description ---------------------------------------------------------------------------
    def _inputs(self) -> dict[str, SourceTable]:
        if self._described is None:
            described: dict[str, SourceTable] = {}
            for reader in self._readers.values():
                for table in reader.describe():
                    described[table.name] = table
            missing = [entry for entry in self.spec.inputs if entry not in described]
            if missing:
                known = ", ".join(sorted(described)) or "none"
                raise PlanError(
                    f"merge source {self.spec.name!r}: input {missing[0]!r} is not a table "
                    f"its source provides (they provide: {known})",
                    hint="Fix `inputs` of that source in the plan.",
                )
            self._described = {entry: described[entry] for entry in self.spec.inputs}
            for entry, table in self._described.items():
                # Only where the columns are known up front (a database table, a declared
                # key column): a key no row of an input can hold would merge nothing.
                lacking = [k for k in self.spec.key if table.columns and k not in table.columns]
                if lacking:
                    raise PlanError(
                        f"merge source {self.spec.name!r}: input {entry!r} has no column "
                        f"{lacking[0]!r} (its columns: {', '.join(table.columns)})",
                        hint="Fix `key` of that source: every input must hold the key columns.",
                    )
        return self._described

    def describe(self) -> list[SourceTable]:
        """One table named after the source: the union of the inputs' columns."""
        columns: dict[str, LogicalType] = {}
        for table in self._inputs().values():
            for name, type_ in table.columns.items():
                merged = merge_types(columns.get(name), type_)
                columns[name] = merged or type_
        estimates = [t.row_estimate for t in self._inputs().values()]
        known = [e for e in estimates if e is not None]
        return [
            SourceTable(
                name=self.spec.name,
                columns=columns,
                key=tuple(self.spec.key),
                row_estimate=max(known) if known else None,
                origin=" + ".join(self.spec.inputs),
            )
        ]

    def files(self) -> list[Path]:
        """The files of every input (for backups and change detection)."""
        return [path for reader in self._readers.values() for path in reader.files()]

    def files_now(self) -> list[Path]:
        """The files every input would read now."""
        return [path for reader in self._readers.values() for path in reader.files_now()]

    def close(self) -> None:
        """Close every input reader."""
        for reader in getattr(self, "_readers", {}).values():
            reader.close()

    # -- the merge -----------------------------------------------------------------------------
    def batches(self, batch_size: int) -> Iterator[Batch]:
        """Spool every input, then yield merged rows in key order."""
        self._inputs()
        self.summary = MergeSummary(self.spec.name, list(self.spec.key))
        self.summary.inputs = [InputSummary(entry) for entry in self.spec.inputs]
        with tempfile.TemporaryDirectory(prefix="ferry-merge-") as folder:
            # The engine advances this generator from whichever worker thread is free (one
            # call at a time), so the connection must not be tied to the thread that made it.
            spool = sqlite3.connect(
                Path(folder) / "merge.db", isolation_level=None, check_same_thread=False
            )
            try:
                spool.execute("PRAGMA journal_mode = OFF")
                spool.execute("PRAGMA synchronous = OFF")
                spool.execute("CREATE TABLE rows (k TEXT NOT NULL, input INTEGER, row BLOB)")
                # Spooling yields an empty batch of no table after each input batch, so the
                # engine can cancel between them (nothing reads a table of that name).
                yield from self._spool(spool, batch_size)
                spool.execute("CREATE INDEX rows_k ON rows (k, input)")
                yield from self._merged(spool, batch_size, self._cutoff())
            finally:
                spool.close()

    def _spool(self, spool: sqlite3.Connection, batch_size: int) -> Iterator[Batch]:
        """Write every input row to the spool, noting the newest deletion-rule time."""
        index = {entry: i for i, entry in enumerate(self.spec.inputs)}
        rule = self.spec.deletions
        newest: Any = None
        unkeyed = 0
        pending = Batch(f"{self.spec.name}\x00spooling", [])
        spool.execute("BEGIN")
        for reader in self._readers.values():
            for batch in reader.batches(batch_size):
                position = index.get(batch.table)
                if position is None:
                    continue  # another table of the same database
                self.summary.inputs[position].rows += len(batch.rows)
                records = []
                for row in batch.rows:
                    if self.spec.key_ops:
                        row = _normalised(row, self.spec.key, self.spec.key_ops)
                    key = _key_text(row, self.spec.key)
                    if key is None:  # a row without a key cannot meet another: keep it apart
                        unkeyed += 1
                        key = f"\x00unkeyed:{unkeyed}"
                    records.append((key, position, pickle.dumps(row, protocol=5)))
                    if rule and batch.table == rule.missing_from and rule.before == "newest":
                        moment = _comparable(row.get(rule.by))
                        if moment is not None and (newest is None or moment > newest):
                            newest = moment
                spool.executemany("INSERT INTO rows VALUES (?, ?, ?)", records)
                yield pending
        spool.execute("COMMIT")
        self._newest = newest

    def _cutoff(self) -> Any:
        """The time before which a row missing from ``missing_from`` counts as deleted."""
        rule = self.spec.deletions
        if rule is None:
            return None
        newest = self._newest
        if rule.before == "newest":
            self.summary.deletion_rule = (
                f"a row missing from {rule.missing_from} whose {rule.by} is older than the "
                f"newest {rule.by} it holds ({_shown(newest)}) was deleted there"
            )
            return newest
        cutoff = _comparable(rule.before)
        if cutoff is None:
            raise PlanError(
                f"merge source {self.spec.name!r}: deletions.before {rule.before!r} is neither "
                "'newest' nor a time",
                hint="Give an ISO time such as 2026-01-31T00:00:00Z, or 'newest'.",
            )
        self.summary.deletion_rule = (
            f"a row missing from {rule.missing_from} whose {rule.by} is older than "
            f"{rule.before} was deleted there"
        )
        return cutoff

    def _merged(self, spool: sqlite3.Connection, batch_size: int, cutoff: Any) -> Iterator[Batch]:
        inputs = self.spec.inputs
        order = list(range(len(inputs)))
        # Inputs a column's ``prefer`` leaves out follow, in the order of ``inputs``.
        prefer = {}
        for column, names in self.spec.prefer.items():
            first = [inputs.index(name) for name in names]
            prefer[column] = first + [p for p in order if p not in first]
        rule = self.spec.deletions
        missing_from = inputs.index(rule.missing_from) if rule else -1
        rows_of = inputs.index(self.spec.rows_of) if self.spec.rows_of else -1
        rows: list[Row] = []
        group: dict[int, Row] = {}
        current: str | None = None
        cursor = spool.execute("SELECT k, input, row FROM rows ORDER BY k, input, rowid")
        for key, position, blob in _chain(cursor, (None, None, None)):
            if key != current and current is not None:
                merged = None
                if rows_of >= 0 and rows_of not in group:
                    self.summary.left_out += 1  # a key only the other inputs hold
                else:
                    merged = self._merge_group(current, group, order, prefer, missing_from, cutoff)
                if merged is not None:
                    rows.append(merged)
                    if len(rows) >= batch_size:
                        yield Batch(self.spec.name, rows)
                        rows = []
                group = {}
            if key is None:
                break
            current = key
            if position in group:
                self.summary.inputs[position].duplicates += 1
            group[position] = pickle.loads(blob)
        if rows:
            yield Batch(self.spec.name, rows)

    def _merge_group(
        self,
        key: str,
        group: dict[int, Row],
        order: list[int],
        prefer: dict[str, list[int]],
        missing_from: int,
        cutoff: Any,
    ) -> Row | None:
        summary = self.summary
        if len(group) == 1:
            summary.inputs[next(iter(group))].only_here += 1
        if len(group) == len(order):
            summary.in_all += 1
        merged: Row = {}
        columns: dict[str, None] = {}
        for position in order:
            if position in group:
                columns.update(dict.fromkeys(group[position]))
        for column in columns:
            value = None
            winner = -1
            for position in prefer.get(column, order):
                row = group.get(position)
                if row is not None and row.get(column) is not None:
                    value, winner = row[column], position
                    break
            merged[column] = value
            if winner >= 0 and any(
                p != winner and row.get(column) is not None and row.get(column) != value
                for p, row in group.items()
            ):
                summary.inputs[winner].won += 1
        if missing_from >= 0 and missing_from not in group and cutoff is not None:
            rule = self.spec.deletions
            assert rule is not None
            moment = _comparable(merged.get(rule.by))
            if moment is not None and moment < cutoff:
                summary.deleted += 1
                if len(summary.deleted_keys) < MAX_LISTED_DELETIONS:
                    summary.deleted_keys.append(_shown_key(merged, self.spec.key))
                return None
        summary.rows += 1
        return merged


_TEXT_OPS: dict[str, Callable[[str], str]] = {
    "trim": str.strip,
    "lower": str.lower,
    "upper": str.upper,
}


def _normalised(row: Row, key: Sequence[str], ops: Sequence[str]) -> Row:
    """The row with ``key_ops`` applied to its text key values (``WHISPER_MODEL`` ->
    ``whisper_model``), so keys written differently in different inputs meet."""
    changed = dict(row)
    for column in key:
        value = changed.get(column)
        if isinstance(value, str):
            for op in ops:
                value = _TEXT_OPS[op](value)
            changed[column] = value
    return changed


def _key_text(row: Row, key: list[str]) -> str | None:
    """The row's key as text, so ``5`` from JSON meets ``"5"`` from a .env file."""
    parts = []
    for column in key:
        value = row.get(column)
        if value is None:
            return None
        parts.append(str(value).replace("\x1f", "\x1f\x1f"))
    return "\x1f".join(parts)


def _comparable(value: Any) -> datetime | None:
    """A timestamp as naive UTC for comparisons; None when it is not one."""
    if value is None:
        return None
    try:
        return to_utc_naive(parse_timestamp(value))
    except CastError:
        return None


def _shown(moment: Any) -> str:
    return moment.isoformat(sep=" ") if isinstance(moment, datetime) else "none"


def _shown_key(row: Row, key: list[str]) -> str:
    return ", ".join(f"{column}={row.get(column)!r}" for column in key)


def _chain(cursor: sqlite3.Cursor, end: tuple[Any, Any, Any]) -> Iterator[tuple[Any, Any, Any]]:
    """The cursor's rows, then ``end`` (so the last group is flushed like the others)."""
    yield from cursor
    yield end
