"""``ferry init`` on a target that already holds rows under the draft's keys.

Run as drafted, the default conflict rule ``update`` would overwrite the target's rows, also
those changed after the source was written. Where a table the draft feeds holds some of the
source's keys and has a column that looks like a modification time (``updated_at``,
``modified``, ``mtime``, ``last_*``; a timestamp), the overlap is measured and an open
question asks which rows win, with the counts of target rows newer and older than the source.
The draft keeps the safe default meanwhile: ``conflict = "insert"`` (the target's rows stay).
A table without such a column whose target holds some of the source's keys is named in a note
(an app's own rows from its first start in the new database: Home Assistant's recorder), or
asked about when those rows are other rows than the source's (:mod:`.otherrows`). The target's
sequences no column owns are asked about too (:mod:`ferry.scan.sequencequestions`).
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import FerryError
from ..plan import QuestionSpec, SourceSpec, TableSpec, TargetSpec
from ..shape.schema import TableInfo
from ..sources import open_source
from ..targets import open_target, quote
from ..values.logical import CastError, parse_timestamp
from .otherrows import count_referencing, differing, natural_columns, other_rows_question
from .sequencequestions import ask_about_free_sequences

# ``last_`` only before a change word: ``last_login`` and ``last_published_at`` stamp one kind
# of event, not every change (a reverse plan comparing a Wagtail page by ``last_published_at``
# kept the old file's tree counts when the new store had added a child); a job's
# ``last_heartbeat`` is written with each of its updates (seed 001's jobs are newer by it)
_MODIFIED = re.compile(
    r"^(updated|modified|changed|edited)(_?(at|on|time|ts|date))?$|mtime"
    r"|^last_?(update|modif|change|edit|heartbeat)",
    re.I,
)
_SHOWN_KEYS = 5


@dataclass
class Overlap:
    """What one table's source and target rows share, by key, and which side is newer."""

    source_rows: int
    target_rows: int
    shared: int
    target_newer: int
    target_older: int
    same_time: int
    #: shared keys whose time is missing or unreadable on either side
    unknown: int
    newer_keys: list[str]
    #: shared keys whose row holds another value of a unique column in each database
    #: (another user under id 1): key -> "name 'user05' in the target, 'user00' in the source"
    others: dict[tuple[str, ...], str] = field(default_factory=dict)


def modification_column(info: TableInfo, feeds: dict[str, str]) -> str | None:
    """The target column that looks like a modification time and a source field feeds."""
    for column in info.columns.values():
        if (
            column.name in feeds
            and column.type in ("timestamp", "datetime")
            and _MODIFIED.search(column.name)
        ):
            return column.name
    return None


def ask_about_existing_rows(
    target: TargetSpec,
    target_base: Path,
    folder: Path,
    sources: list[SourceSpec],
    tables: list[TableSpec],
    existing: dict[str, TableInfo],
) -> list[QuestionSpec]:
    """One question per drafted table whose target already holds some of its keys and has a
    modification-time column; the table's draft then keeps the target's rows (``insert``)."""
    asked: list[QuestionSpec] = []
    for spec in tables:
        info = existing.get(spec.name)
        if info is None:
            continue
        feeds: dict[str, str] = {}
        for column in info.columns:
            origin = spec.columns[column].from_ if column in spec.columns else column
            if origin and (column in spec.columns or spec.map_all):
                feeds[column] = origin
        key = spec.key or list(info.primary_key)
        by = modification_column(info, feeds)
        if not key or any(k not in feeds for k in key):
            continue
        source_name = spec.source.split(".", 1)[0]
        source = next((s for s in sources if s.name == source_name), None)
        if source is None:
            continue
        try:
            overlap = asyncio.run(
                _measure(target, target_base, folder, source, spec, info, key, feeds, by)
            )
        except FerryError:
            continue  # the draft stays as it was; `ferry check` reports what cannot be read
        if by is None or overlap.shared == overlap.unknown:  # no time to compare
            if overlap.others and spec.conflict == "update":
                held = _referencing(target, target_base, existing, info.name, key, overlap)
                asked.append(other_rows_question(spec, key, overlap.others, held))
                spec.conflict = "insert"
                spec.notes.append(
                    f"the target holds other rows under {len(overlap.others)} of the source's "
                    f'keys: conflict stays "insert" (target rows kept) until question '
                    f"{spec.name}.conflict is answered"
                )
            elif overlap.shared and spec.conflict == "update":
                spec.notes.append(_held_note(overlap))
            continue
        asked.append(_question(spec, by, overlap))
        spec.conflict = "insert"
        spec.notes.append(
            f"the target already holds {overlap.shared} of the source's {overlap.source_rows} "
            f'keys, {overlap.target_newer} of them newer by {by}: conflict stays "insert" '
            f"(target rows kept) until question {spec.name}.conflict is answered"
        )
    # the app's own sequences there, which no column owns, are the operator's to name too
    return asked + ask_about_free_sequences(target, target_base, tables, set(existing))


def _held_note(overlap: Overlap) -> str:
    """A table without a modification time whose target already holds rows: conflict
    ``update`` overwrites those under the source's keys, and rows under other keys stay (a
    database the app filled at its first start: Home Assistant's recorder)."""
    return (
        f"the target already holds {overlap.target_rows} rows, {overlap.shared} of them under "
        f"the source's {overlap.source_rows} keys (conflict update overwrites them) and "
        f"{overlap.target_rows - overlap.shared} under other keys (kept; where they hold a "
        "unique value the source has too, the source's row is rejected): if the app wrote "
        "them itself into a new database (its first start), empty the table before the run"
    )


def _question(spec: TableSpec, by: str, overlap: Overlap) -> QuestionSpec:
    table = spec.name
    evidence = [
        f"{overlap.shared} of the {overlap.source_rows} source keys are already in {table} "
        f"({overlap.target_rows} target rows)",
        f"by {by}: {overlap.target_newer} target rows newer than the source, "
        f"{overlap.target_older} older, {overlap.same_time} the same"
        + (f", {overlap.unknown} without a readable time" if overlap.unknown else ""),
    ]
    if overlap.newer_keys:
        evidence.append(f"first keys newer in the target: {', '.join(overlap.newer_keys)}")
    return QuestionSpec(
        id=f"{table}.conflict",
        ask=(
            f"{table} already holds {overlap.shared} of these rows: keep the target's rows "
            f"(keep), let the row with the newer {by} win (newer), or overwrite them with "
            "the source (update)?"
        ),
        evidence=evidence,
        choices=["keep", "newer", "update"],
        default="keep",
        sets={
            "keep": {f"tables.{table}.conflict": "insert"},
            "newer": {f"tables.{table}.conflict": "newer", f"tables.{table}.newer_by": by},
            "update": {f"tables.{table}.conflict": "update"},
        },
    )


async def _measure(
    target: TargetSpec,
    target_base: Path,
    folder: Path,
    source: SourceSpec,
    spec: TableSpec,
    info: TableInfo,
    key: list[str],
    feeds: dict[str, str],
    by: str | None,
) -> Overlap:
    """The overlap of source and target keys; without ``by``, keys alone (no times)."""
    natural = natural_columns(info, key, feeds)
    handle = open_target(target, target_base)
    await handle.open(read_only=True)
    try:
        names = ", ".join(quote(c) for c in [*key, *([by] if by else []), *natural])
        rows = await handle.fetch_dicts(
            f"SELECT {names} FROM {quote(info.name)}", f"read {info.name}"
        )
    finally:
        await handle.finish(commit=False)
    in_target = {_key(row, key): row for row in rows}
    wanted = [*([by] if by else []), *natural]
    in_source = await asyncio.to_thread(_source_times, folder, source, spec, key, feeds, wanted)
    newer = older = same = unknown = shared = 0
    newer_keys: list[str] = []
    others: dict[tuple[str, ...], str] = {}
    for row_key, values in in_source.items():
        if row_key not in in_target:
            continue
        shared += 1
        source_row = dict(zip(wanted, values, strict=True))
        if said := differing(natural, in_target[row_key], source_row):
            others[row_key] = said
        side = _compare(in_target[row_key].get(by), source_row.get(by)) if by is not None else None
        if side is None:
            unknown += 1
        elif side > 0:
            newer += 1
            if len(newer_keys) < _SHOWN_KEYS:
                newer_keys.append("/".join(row_key))
        elif side < 0:
            older += 1
        else:
            same += 1
    overlap = Overlap(len(in_source), len(rows), shared, newer, older, same, unknown, newer_keys)
    overlap.others = others
    return overlap


def _referencing(
    target: TargetSpec,
    target_base: Path,
    existing: dict[str, TableInfo],
    table: str,
    key: list[str],
    overlap: Overlap,
) -> list[str]:
    try:
        return asyncio.run(
            count_referencing(target, target_base, existing, table, key, list(overlap.others))
        )
    except FerryError:
        return []


def _source_times(
    folder: Path,
    source: SourceSpec,
    spec: TableSpec,
    key: list[str],
    feeds: dict[str, str],
    columns: list[str],
) -> dict[tuple[str, ...], tuple[Any, ...]]:
    """Per source key, the values of the target's ``columns`` (a tuple: a big table's keys
    are all held at once)."""
    reader = open_source(source, folder)
    found: dict[tuple[str, ...], tuple[Any, ...]] = {}
    fields = [feeds[k] for k in key]
    try:
        for batch in reader.batches(5000):
            if batch.table != spec.source:
                continue
            for row in batch.rows:
                found[_key(row, fields)] = tuple([row.get(feeds[c]) for c in columns])
    finally:
        reader.close()
    return found


def _key(row: dict[str, Any], columns: list[str]) -> tuple[str, ...]:
    return tuple(str(row.get(c)) for c in columns)


def _compare(target_value: Any, source_value: Any) -> int | None:
    """1 when the target's time is newer, -1 when older, 0 when equal, None when unknown."""
    left, right = _time(target_value), _time(source_value)
    if left is None or right is None:
        return None
    return (left > right) - (left < right)


def _time(value: Any) -> datetime | None:
    if value is None:
        return None
    try:
        moment = parse_timestamp(value)
    except CastError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
