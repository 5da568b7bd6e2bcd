"""What a NeDB datafile says beside its documents, drafted into the table made from it.

The file declares the app's indexes (``{"$$indexCreated": {"fieldName": "email", "unique":
true}}``): NeDB refuses a second user with the same email, and a table made without the index
would take one. Each index on a field that became a column is drafted in the table's
``indexes`` (a unique one only when the documents hold no value twice; otherwise a plain
index and a note naming the value), and the table's notes say how the log was read: how many
lines were older versions of a document and how many documents were removed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import SourceError
from ..plan import IndexSpec, SourceSpec, TableSpec
from ..sources.nedb import NedbLog, nedb_documents


def _read(path: Path) -> tuple[list[dict[str, Any]], NedbLog] | None:
    log = NedbLog()

    def fail(what: str, hint: str) -> SourceError:
        return SourceError(what, hint=hint)

    try:
        with path.open("rb") as handle:
            records = (json.loads(line) for line in handle if line.strip())
            documents = list(nedb_documents(records, fail, lambda: path.name, log))
    except (OSError, ValueError, RecursionError, SourceError):
        return None  # the scan's own read says what is wrong with the file
    return documents, log


def _twice(documents: list[dict[str, Any]], name: str) -> Any:
    """A value ``name`` holds in two documents (NULL and missing apart), or None."""
    seen = set()
    for document in documents:
        value = document.get(name)
        if value is None or isinstance(value, dict | list):
            continue
        if value in seen:
            return value
        seen.add(value)
    return None


def _draft(spec: TableSpec, documents: list[dict[str, Any]], log: NedbLog, file: str) -> None:
    spec.notes.append(
        f'read as NeDB\'s datafile {file} (format = "nedb"): the last line of each _id is the '
        f"document; {log.versions} older version(s) and {log.removed} removed document(s) "
        "are no rows (read line by line they would be)"
    )
    for name, unique in log.indexes.items():
        if name == "_id":
            continue  # the key
        if name not in spec.types:
            spec.notes.append(
                f"the app's index on {name!r} is not made: {name!r} is not a column (a field "
                "inside an object is kept in its JSON column)"
            )
            continue
        twice = _twice(documents, name) if unique else None
        spec.indexes.append(IndexSpec(columns=[name], unique=unique and twice is None))
        if twice is not None:
            spec.notes.append(
                f"the app keeps {name!r} unique, but {twice!r} is held by two documents: "
                "a plain index is drafted (a unique one would stop the run)"
            )
    if spec.indexes:
        made = ", ".join(f"{i.columns[0]}{' (unique)' if i.unique else ''}" for i in spec.indexes)
        spec.notes.append(f"the app's indexes are drafted in indexes: {made}")


def draft_log_indexes(tables: list[TableSpec], sources: list[SourceSpec], folder: Path) -> None:
    """Notes and ``indexes`` for each drafted table fed by a ``format = "nedb"`` source."""
    logs = {s.name: s for s in sources if s.format == "nedb" and s.path}
    for spec in tables:
        source = logs.get(spec.source)
        if source is None or source.path is None:
            continue
        path = Path(source.path)
        read = _read(path if path.is_absolute() else folder / path)
        if read is not None:
            _draft(spec, *read, file=source.path)


__all__ = ["draft_log_indexes"]
