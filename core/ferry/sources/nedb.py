"""NeDB's datafile: a JSON Lines log whose last line for a document is the document.

NeDB (``nedb``, ``@seald-io/nedb``: the embedded store of many Node and Electron apps,
Insomnia's among them) keeps a collection in one file, ``users.db``, and writes to it by
appending: an update appends the whole new document under the same ``_id``, a removal appends
``{"$$deleted": true, "_id": …}``, an index appends ``{"$$indexCreated": {"fieldName":
"email", "unique": true}}``, and only a compaction rewrites the file. Dates are stored as
``{"$$date": <milliseconds since 1970, UTC>}``. Read line by line, such a file gives every
version of a document and brings back the ones the app deleted; a source with ``format =
"nedb"`` gives what the app itself loads from it instead: per ``_id`` the last version (in
the place of its first), none for a removed one, no index lines, none for a document line
without an ``_id`` (NeDB skips it as it loads: :func:`unkeyed_notice` names it), and each
date as ISO 8601 text in UTC with its milliseconds (``2024-01-01T00:00:00.000Z``), which a
timestamp column reads exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ..errors import SourceError

#: lines that describe the collection, not a document
INDEX_LINES = ("$$indexCreated", "$$indexRemoved")
DELETED = "$$deleted"
DATE = "$$date"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class NedbLog:
    """What a pass over a datafile saw besides its documents (for the draft's notes)."""

    versions: int = 0  # document lines replaced by a later line of the same _id
    removed: int = 0  # documents a $$deleted line removed
    #: fieldName -> unique, of the indexes the file still declares
    indexes: dict[str, bool] = field(default_factory=dict)
    #: where each document line without an _id is (``line 4``): NeDB skips such a line
    unkeyed: list[str] = field(default_factory=list)


def nedb_date(millis: Any) -> str:
    """``{"$$date": millis}``'s time as ISO 8601 text in UTC, milliseconds kept."""
    moment = _EPOCH + timedelta(milliseconds=millis)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _dates(value: Any) -> Any:
    """``value`` with every ``{"$$date": n}`` in it made ISO text (NeDB's deserialize)."""
    if type(value) is dict:
        if len(value) == 1 and DATE in value and type(value[DATE]) in (int, float):
            return nedb_date(value[DATE])
        return {k: _dates(v) for k, v in value.items()}
    if type(value) is list:
        return [_dates(v) for v in value]
    return value


def unkeyed_notice(file: str, log: NedbLog) -> str | None:
    """What the run says of the document lines of ``file`` without an _id (None: none)."""
    if not log.unkeyed:
        return None
    shown = ", ".join(w.removeprefix("line ") for w in log.unkeyed[:5])
    more = f" and {len(log.unkeyed) - 5} more" if len(log.unkeyed) > 5 else ""
    lines = f"line{'s' if len(log.unkeyed) > 1 else ''} {shown}{more}"
    return (
        f"{file}: {lines}: a document without an _id (or an empty one): not read, as NeDB "
        "itself skips such a line when it loads the file (and drops it at its next "
        "compaction); give it an _id in the file if the app should have it"
    )


def nedb_documents(
    records: Iterable[Any],
    fail: Callable[[str, str], SourceError],
    where: Callable[[], str],
    log: NedbLog | None = None,
) -> Iterator[dict[str, Any]]:
    """The documents the log ``records`` leaves, in NeDB's own order (a document where it was
    first written); the whole file is read first, as NeDB loads it. ``where`` names the line
    being read, for messages; ``log`` receives what else the file said."""
    seen = log if log is not None else NedbLog()
    documents: dict[Any, dict[str, Any]] = {}
    for record in records:
        if type(record) is not dict:
            raise fail(
                f"{where()}: not a JSON object",
                "A NeDB datafile holds one document per line; check it is the right file.",
            )
        if any(name in record for name in INDEX_LINES):
            index = record.get("$$indexCreated")
            if isinstance(index, dict) and isinstance(index.get("fieldName"), str):
                seen.indexes[index["fieldName"]] = bool(index.get("unique"))
            removed = record.get("$$indexRemoved")
            if isinstance(removed, str):
                seen.indexes.pop(removed, None)
            continue
        key = record.get("_id")
        if isinstance(key, dict | list):
            raise fail(
                f"{where()}: an _id that is an object or a list",
                "A NeDB document's _id is a string or a number; check it is the right file.",
            )
        if not key:  # NeDB keeps a line only when its _id is truthy (JavaScript's sense)
            seen.unkeyed.append(where())
            continue
        if record.get(DELETED) is True:
            seen.removed += key in documents
            documents.pop(key, None)
            continue
        if key in documents:
            seen.versions += 1
        documents[key] = _dates(record)
    yield from documents.values()


__all__ = [
    "DATE",
    "DELETED",
    "INDEX_LINES",
    "NedbLog",
    "nedb_date",
    "nedb_documents",
    "unkeyed_notice",
]
