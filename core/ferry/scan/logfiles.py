"""JSON Lines found by content, and the ones an embedded store writes as a log (NeDB).

NeDB names its datafiles ``users.db``: not ``.jsonl``, and not one JSON value, so init skipped
them ("not JSON, though it starts so"). Read line by line (the draft before), such a log gave
a row per version of each document keyed by line, the deleted documents back, and its index
lines as rows. A file whose lines are JSON objects is now JSON Lines whatever its name, and one
that shows NeDB's own lines is drafted ``format = "nedb"`` (:mod:`ferry.sources.nedb`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import IO, Any

from ..sources.nedb import DATE, DELETED, INDEX_LINES

#: the lines looked at to tell a file's kind (a log's first lines are its oldest)
_PROBE_LINES = 2000
#: the longest line a probe parses
_LINE_BYTES = 1 << 20


def _lines(handle: IO[bytes]) -> Iterator[bytes]:
    """The non-blank lines, each read up to :data:`_LINE_BYTES` (a longer one ends them with
    a ValueError: not a line a probe reads whole)."""
    while line := handle.readline(_LINE_BYTES + 1):
        if len(line) > _LINE_BYTES:
            raise ValueError("a line too long to probe")
        if line.strip():
            yield line


def _objects(path: Path, limit: int) -> list[Any] | None:
    """The first ``limit`` non-blank lines parsed, or None when one is not JSON (or too long,
    or nested too deep to parse: the source's own read names it)."""
    try:
        with path.open("rb") as handle:
            return [json.loads(line) for line in islice(_lines(handle), limit)]
    except (OSError, ValueError, RecursionError):
        return None


def object_lines(path: Path) -> bool:
    """The file's first lines (two at least) are each one JSON object: JSON Lines."""
    parsed = _objects(path, 20)
    return parsed is not None and len(parsed) >= 2 and all(type(p) is dict for p in parsed)


def _has_date(value: Any) -> bool:
    if type(value) is dict:
        if len(value) == 1 and DATE in value:
            return True
        return any(_has_date(v) for v in value.values())
    return type(value) is list and any(_has_date(v) for v in value)


def nedb_log(path: Path) -> bool:
    """The file reads as NeDB's datafile: it shows one of NeDB's own marks (an index line, a
    ``$$deleted`` line, a ``$$date`` value) or gives an ``_id`` twice (an update appended),
    and no ``_id`` is an object or a list. A document line without an ``_id`` (NeDB skips
    it when it loads the file; the run names it) leaves it NeDB's when another has one."""
    parsed = _objects(path, _PROBE_LINES)
    if not parsed:
        return False
    marked, ids, unkeyed = False, set(), False
    for line in parsed:
        if type(line) is not dict:
            return False
        if any(name in line for name in INDEX_LINES) or line.get(DELETED) is True:
            marked = True
            continue
        key = line.get("_id")
        if isinstance(key, dict | list):
            return False
        if not key:
            unkeyed = True
            continue
        marked = marked or key in ids or _has_date(line)
        ids.add(key)
    return marked and (bool(ids) or not unkeyed)


__all__ = ["nedb_log", "object_lines"]
