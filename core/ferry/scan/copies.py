"""Several copies of one table that drifted apart, drafted as one ``merge`` source.

Two SQLite files each holding a ``videos`` table (a NAS copy and a dashboard copy), or two JSON
exports of the same records: the same columns, keys that overlap, in different files. Drafted
as two plain table entries into one target table, the second would overwrite the first's newer
curation and bring back rows deleted on one copy. ``ferry init`` drafts them as ONE merge source
instead (inputs ordered by row count, the fuller copy first) and asks what only the operator
can decide, as open questions with the evidence that makes them answerable:

- ``<source>.prefer.<column>``, for each column whose value differs between copies on shared
  keys: which copy wins (how many rows differ; where a modification-time column exists, in how
  many of them each copy's row is the newer). Default: the copy holding the newer row in most
  of them (its edits are not overwritten), else the first input, as the merge does.
- ``<source>.deletions``, when the copies hold a time column: was a row found in one copy only
  deleted on the other (counts of rows only in each copy, the newest time per copy; a row older
  than the other copy's newest time counts as deleted, a younger one as new). Default ``keep``:
  keep rows present in either copy, no deletion rule.

The defaults delete nothing; every answer sets the merge source's ``prefer``/``deletions``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

from ..plan import QuestionSpec, SourceSpec
from ..sources import SourceTable, open_source
from ..values.logical import CastError, parse_timestamp, to_utc_naive
from .found import FoundSource, identifier, unique_name

_KINDS = ("sqlite", "json", "jsonl")
_ID_LIKE = re.compile(r"(^|_)(id|uuid|guid|key|slug)$", re.I)
_MODIFIED = re.compile(
    r"^(updated|modified|changed|edited)(_?(at|on|time|ts|date))?$|mtime|^last_", re.I
)
_TIME_LIKE = re.compile(r"(_at|_on|_time|_ts|date|timestamp|mtime)$|^(created|updated)", re.I)
_SHOWN_KEYS = 3


@dataclass
class _Copy:
    """One copy: the source it is in, its table, and its rows by key."""

    item: FoundSource
    table: SourceTable
    rows: dict[str, dict[str, Any]]
    #: every row as read (once), for choosing the key
    read: list[dict[str, Any]] | None = None

    @property
    def entry(self) -> str:
        """The merge input naming this copy (``nas.videos``, or ``export`` for a JSON file)."""
        return self.table.name


def draft_copies(found: list[FoundSource], folder: Path) -> list[QuestionSpec]:
    """Replace each group of copies of one table by one merge source (in place, as
    :func:`ferry.scan.shapes.recognise` does) and return the questions the merge leaves open."""
    questions: list[QuestionSpec] = []
    taken = {item.spec.name for item in found}
    for group in _groups(found):
        copies = [_Copy(item, table, {}) for item, table in group]
        key = _key(copies, folder)
        if key is None:
            continue
        for copy in copies:
            copy.rows = _rows(copy, folder, key)
        shared = set.intersection(*(set(c.rows) for c in copies))
        if not shared:
            continue
        copies.sort(key=lambda c: -len(c.rows))
        _name_inputs(copies, taken)
        questions += _merge(found, folder, copies, key, shared, taken)
    return questions


def _groups(found: list[FoundSource]) -> list[list[tuple[FoundSource, SourceTable]]]:
    """Tables with the same columns (two at least) and related names (the same table name,
    or file names sharing a stem: ``contacts_phone``, ``contacts_cloud``) in different files;
    two unrelated tables that happen to have the same columns are not copies."""
    by_columns: dict[frozenset[str], list[tuple[FoundSource, SourceTable]]] = {}
    for item in found:
        if item.problem or item.consumed or item.spec.kind not in _KINDS:
            continue
        for table in item.tables:
            if table.parent is None and len(table.columns) >= 2:
                by_columns.setdefault(frozenset(table.columns), []).append((item, table))
    groups = []
    for every in by_columns.values():
        first = _bare(every[0][1])
        members = [m for m in every if _related(first, _bare(m[1]))]
        members = [m for m in members if _alike(every[0][0], m[0])]
        files = {tuple(item.files) for item, _ in members}
        if len(members) >= 2 and len(files) == len(members):
            groups.append(members)
    return groups


def _alike(one: FoundSource, other: FoundSource) -> bool:
    """Two databases are copies of one app's database only when most of their tables are the
    same: fourteen of a Chromium profile's databases each keep a ``meta`` table (its schema
    version), and were drafted as fourteen copies of one table, merged. A file holding one
    table (a JSON export) is alike by that table."""
    names = [{_bare(t) for t in item.tables if t.parent is None} for item in (one, other)]
    if one is other or min(len(n) for n in names) <= 1:
        return True
    return 2 * len(names[0] & names[1]) > min(len(n) for n in names)


def _bare(table: SourceTable) -> str:
    return table.name.split(".", 1)[-1].lower()


def _related(one: str, other: str) -> bool:
    """The same name, or one stem (four characters at least) the names start with, each
    followed by ``_``/``-`` or nothing (``videos``, ``videos_backup``), or end with, each
    preceded by ``_``/``-`` (``phone_contacts``, ``cloud_contacts``)."""
    if one == other:
        return True
    stem = _common(one, other).rstrip("_-")
    if len(stem) >= 4 and all(n[len(stem) : len(stem) + 1] in ("", "_", "-") for n in (one, other)):
        return True
    stem = _common(one[::-1], other[::-1]).rstrip("_-")[::-1]
    return len(stem) >= 4 and all(
        len(n) > len(stem) and n[-len(stem) - 1] in "_-" for n in (one, other)
    )


def _common(one: str, other: str) -> str:
    size = 0
    while size < min(len(one), len(other)) and one[size] == other[size]:
        size += 1
    return one[:size]


def _key(copies: list[_Copy], folder: Path) -> list[str] | None:
    """The key the copies share: their declared key, else an id-like column whose values are
    (nearly) unique in every copy (a copy may repeat a key: the merge takes the last)."""
    declared = {c.table.key for c in copies}
    if len(declared) == 1 and next(iter(declared)):
        return list(next(iter(declared)))
    candidates = sorted(
        (c for c in copies[0].table.columns if _ID_LIKE.search(c)),
        key=lambda c: (c.lower() == "id", c),
    )
    for column in candidates:
        if all(_mostly_unique(copy, folder, column) for copy in copies):
            return [column]
    return None


def _mostly_unique(copy: _Copy, folder: Path, column: str) -> bool:
    if copy.read is None:
        copy.read = list(_read(copy, folder))
    values = [row.get(column) for row in copy.read]
    present = [v for v in values if v is not None]
    return (
        bool(present)
        and len(present) == len(values)
        and len(set(present)) * 100 >= 95 * len(values)
    )


def _read(copy: _Copy, folder: Path) -> Iterable[dict[str, Any]]:
    reader = open_source(copy.item.spec, folder)
    try:
        for batch in reader.batches(5000):
            if batch.table == copy.table.name:
                yield from batch.rows
    finally:
        reader.close()


def _rows(copy: _Copy, folder: Path, key: list[str]) -> dict[str, dict[str, Any]]:
    """The copy's rows by key text (a repeated key: the last row, as the merge takes it)."""
    return {
        "/".join(str(row.get(k)) for k in key): row
        for row in (copy.read if copy.read is not None else _read(copy, folder))
        if all(row.get(k) is not None for k in key)
    }


def _name_inputs(copies: list[_Copy], taken: set[str]) -> None:
    """Sources named alike (``ytv2_content``, ``ytv2_content_2``) get the part of their path
    that tells them apart (``nas``, ``dashboard``), where that name is free."""
    paths = [PurePosixPath(c.item.spec.path or "").parts for c in copies]
    at = next(
        (i for i in range(min(map(len, paths))) if len({p[i] for p in paths}) > 1),
        None,
    )
    if at is None:
        return
    for copy, parts in zip(copies, paths, strict=True):
        name = identifier(parts[at].split(".", 1)[0] if at == len(parts) - 1 else parts[at])
        old = copy.item.spec.name
        if name == old or name in taken or copy.item.spec.kind != "sqlite":
            continue
        taken.discard(old)
        taken.add(name)
        copy.item.spec = copy.item.spec.model_copy(update={"name": name})
        for table in copy.item.tables:
            if table.name.startswith(old + "."):
                table.name = name + table.name[len(old) :]


def _merge(
    found: list[FoundSource],
    folder: Path,
    copies: list[_Copy],
    key: list[str],
    shared: set[str],
    taken: set[str],
) -> list[QuestionSpec]:
    bare = [c.table.name.split(".", 1)[-1] for c in copies]
    start, end = bare[0], bare[0][::-1]
    for other in bare[1:]:
        start, end = _common(start, other), _common(end, other[::-1])
    # contacts_phone + contacts_cloud -> contacts; phone_contacts + cloud_contacts -> contacts
    stem = max(start.strip("_-"), end[::-1].strip("_-"), key=len)
    table_name = identifier(stem or bare[0])
    name = unique_name(table_name, taken)  # (a source's name: the table's is drafted apart)
    inputs = [c.entry for c in copies]
    spec = SourceSpec(name=name, kind="merge", inputs=inputs, key=key)
    for copy in copies:
        if copy.item.spec.kind == "sqlite":
            copy.item.tables = [t for t in copy.item.tables if t is not copy.table]
        else:
            copy.item.tables = []
        copy.item.consumed = not copy.item.tables
    reader = open_source(spec, folder, [i.spec for i in found])
    try:
        tables = reader.scan()
    finally:
        reader.close()
    only = [len(set(c.rows) - set().union(*(d.rows for d in copies if d is not c))) for c in copies]
    columns = [c for c in copies[0].table.columns if c not in key]
    modified = next((c for c in columns if _MODIFIED.search(c) and _timed(copies, c)), None)
    asked = [
        q
        for column in columns
        if (q := _prefer_question(name, column, copies, shared, modified)) is not None
    ]
    timed = next(
        (c for c in [modified, *columns] if c and _TIME_LIKE.search(c) and _timed(copies, c)),
        None,
    )
    note = (
        f"{len(copies)} copies of one table ({', '.join(inputs)}: "
        + ", ".join(f"{len(c.rows)} keys" for c in copies)
        + f") merged by {', '.join(key)}: {len(shared)} keys in every copy, "
        + ", ".join(f"{n} only in {c.entry}" for n, c in zip(only, copies, strict=True))
        + "; a NULL in one copy takes the other's value"
    )
    if asked:
        note += f"; where values differ, the questions {name}.prefer.<column> name the winning copy"
    if timed is not None and any(only):
        asked.append(_deletions_question(name, copies, only, timed))
        note += (
            f"; rows in one copy only are all kept unless question {name}.deletions "
            "says they were deleted"
        )
    elif any(only):
        note += "; rows in one copy only are all kept (no time column tells a deletion)"
    files = [f for c in copies for f in c.item.files]
    found.append(
        FoundSource(
            spec,
            files,
            sum(c.item.size for c in copies),
            tables=tables,
            notes=[note],
            table_name=table_name,
        )
    )
    return asked


def _prefer_question(
    name: str, column: str, copies: list[_Copy], shared: set[str], modified: str | None
) -> QuestionSpec | None:
    differ = sorted(
        k
        for k in shared
        if len({_same(c.rows[k].get(column)) for c in copies if c.rows[k].get(column) is not None})
        > 1
    )
    if not differ:
        return None
    evidence = [
        f"{len(differ)} of the {len(shared)} keys in every copy differ in {column!r} "
        f"(first: {', '.join(differ[:_SHOWN_KEYS])})"
    ]
    newest = [0] * len(copies)
    if modified is not None:
        for k in differ:
            times = [_time(c.rows[k].get(modified)) for c in copies]
            known = [t for t in times if t is not None]
            if known and known.count(max(known)) == 1:
                newest[times.index(max(known))] += 1
        evidence.append(
            f"by {modified}, the newer row of those is in "
            + ", ".join(f"{c.entry}: {n}" for c, n in zip(copies, newest, strict=True))
        )
    choices = [c.item.spec.name if c.item.spec.kind == "sqlite" else c.entry for c in copies]
    inputs = [c.entry for c in copies]
    default = choices[0]
    if modified is not None and newest.count(max(newest)) == 1:
        # the copy whose row is the newer one in most differing rows: its edits are kept
        default = choices[newest.index(max(newest))]
    return QuestionSpec(
        id=f"{name}.prefer.{column}",
        ask=(
            f"{column!r} differs between the copies of {name}: which copy's value wins "
            f"({' or '.join(choices)})?"
        ),
        evidence=evidence,
        choices=choices,
        default=default,
        sets={
            choice: {f"sources.{name}.prefer.{column}": [entry, *(e for e in inputs if e != entry)]}
            for choice, entry in zip(choices, inputs, strict=True)
        },
    )


def _deletions_question(name: str, copies: list[_Copy], only: list[int], by: str) -> QuestionSpec:
    newest = [
        max((t for r in c.rows.values() if (t := _time(r.get(by)))), default=None) for c in copies
    ]
    evidence = [
        ", ".join(f"{n} rows only in {c.entry}" for n, c in zip(only, copies, strict=True)),
        f"newest {by}: "
        + ", ".join(
            f"{c.entry} {t.isoformat(sep=' ') if t else 'none'}"
            for c, t in zip(copies, newest, strict=True)
        ),
    ]
    choices = ["keep"]
    sets: dict[str, dict[str, Any]] = {"keep": {}}
    for copy, alone in zip(copies, only, strict=True):
        others = sum(only) - alone  # rows this copy lacks
        if not others:
            continue
        choice = (
            f"deleted_on_{copy.item.spec.name if copy.item.spec.kind == 'sqlite' else copy.entry}"
        )
        choices.append(choice)
        sets[choice] = {
            f"sources.{name}.deletions": {
                "missing_from": copy.entry,
                "by": by,
                "before": "newest",
            }
        }
        evidence.append(
            f"{choice}: a row {copy.entry} lacks whose {by} is older than the newest {by} it "
            f"holds (its last sync) was deleted there; a younger one is new"
        )
    return QuestionSpec(
        id=f"{name}.deletions",
        ask=(
            f"Rows of {name} are in one copy only: keep them all (keep), or was a row missing "
            "from a copy deleted there (deleted_on_<copy>)?"
        ),
        evidence=evidence,
        choices=choices,
        default="keep",
        sets={c: s for c, s in sets.items() if s},
    )


def _timed(copies: list[_Copy], column: str) -> bool:
    """Most of the column's values in every copy read as timestamps."""
    for copy in copies:
        values = [r.get(column) for r in copy.rows.values() if r.get(column) is not None]
        if not values or sum(_time(v) is not None for v in values) * 2 < len(values):
            return False
    return True


def _time(value: Any) -> datetime | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return to_utc_naive(parse_timestamp(value))
    except (CastError, ValueError, TypeError, OverflowError):
        return None


def _same(value: Any) -> Any:
    """Values compared as the merge compares them; an object or a list by its JSON (a
    setting's value in Home Assistant's ``.storage`` files: set members must be hashable)."""
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, default=str)
    return value
