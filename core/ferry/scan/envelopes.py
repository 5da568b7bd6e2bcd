"""JSON documents whose collections sit one level down, inside an envelope: a few metadata
scalars beside one object or array that holds the app's data.

Home Assistant keeps its state this way (``.storage/core.entity_registry``: ``{"version": 1,
"minor_version": 15, "key": "core.entity_registry", "data": {"entities": [...],
"deleted_entities": [...]}}``), as do many exports (``{"version": 2, "data": [...]}``).
Read as a record per file, such a folder became one table of six rows with the whole
registry in a JSON column; each collection inside is a table of its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import ijson

from ..sources.json import CHUNK, PARSE_ERRORS, guarded

#: scalars a document may hold beside its collections: its metadata, not a table (``key``:
#: Home Assistant's name of the store, the file's own name)
METADATA = re.compile(
    r"^_?(version|schema(_?version)?|format|generator|service|app|host|source|count|total|key)$"
    r"|(_at|_on|_by|_version|timestamp)$",
    re.I,
)
#: a collection named like this is named after its file instead (``person``'s ``data.items``)
_GENERIC = frozenset(
    {"data", "items", "entries", "records", "rows", "results", "objects", "values", "list"}
)


@contextmanager
def json_events(path: Path) -> Iterator[Iterator[tuple[str, str, Any]]]:
    """ijson's events of a JSON file (after a BOM), through the reader's depth guard (ijson's
    memory grows with depth squared)."""
    with path.open("rb") as handle:
        if handle.read(3) != b"\xef\xbb\xbf":
            handle.seek(0)
        yield ijson.parse(guarded(handle, handle.tell()), use_float=True, buf_size=CHUNK)


@contextmanager
def object_events(path: Path) -> Iterator[Iterator[tuple[str, int, str, Any]] | None]:
    """A JSON object's events as ``(prefix, depth, event, value)`` (depth 1: its own keys'
    values); None when the file holds no object."""
    with json_events(path) as events:
        first = next(events, None)
        if first is None or first[1] != "start_map":
            yield None
            return
        yield ((p, p.count(".") + 1 if p else 0, e, v) for p, e, v in events)


def envelope_layout(path: Path, beside: dict[str, Any] | None = None) -> dict[str, str] | None:
    """For a document of metadata scalars and one container, the container's collections,
    each as its dotted root and kind (``{"data.entities": "array"}``; ``{"data": "array"}``
    when the container is itself the list of records; ``{"data": "kv"}`` when it is a settings
    object, scalars among its values); None for any other layout. The metadata scalars go into
    ``beside`` (key -> value)."""
    scalars: dict[str, Any] = {}
    container = ""
    kinds: dict[str, str] = {}
    settings = False
    try:
        with object_events(path) as events:
            if events is None:
                return None
            for prefix, depth, event, value in events:
                if depth == 0 or event in ("map_key", "end_map", "end_array"):
                    continue
                top = prefix.split(".", 1)[0]
                if depth == 1 and prefix != container:
                    if event in ("start_map", "start_array"):
                        if container:
                            return None  # two containers: the plain layout's case
                        container = prefix
                        if event == "start_array":
                            kinds[prefix] = "array"
                    elif METADATA.search(prefix):
                        scalars[prefix] = value
                    else:
                        return None
                elif depth == 2 and top == container and container not in kinds:
                    if prefix in kinds:
                        continue
                    if event == "start_array":
                        kinds[prefix] = "array"
                    elif event == "start_map":
                        kinds[prefix] = "keyed"
                    elif not METADATA.search(prefix.rsplit(".", 1)[1]):
                        settings = True  # a scalar in the data: a settings object
                elif (
                    depth == 3
                    and kinds.get(prefix.rsplit(".", 1)[0]) == "keyed"
                    and event != "start_map"
                ):
                    return None  # a keyed collection's entries are records
    except (*PARSE_ERRORS, OSError, UnicodeDecodeError):
        return None  # the reader reports the problem with its position
    if settings:
        kinds = {container: "kv"}  # HA's ``.storage/http``: one row per setting, not the envelope
    if not scalars or not kinds:
        return None
    if beside is not None:
        beside.update(scalars)
    return kinds


def collection_name(root: str, file_name: str) -> str:
    """The name a collection's source is drafted under: the last part of its root, or the
    file's name for a generic one (``data``, ``items``)."""
    last = root.rsplit(".", 1)[-1]
    return file_name if last.casefold() in _GENERIC else last


def valid_json(path: Path) -> bool:
    """The file is one JSON value (streamed: any size)."""
    try:
        with json_events(path) as events:
            for _event in events:
                pass
    except (*PARSE_ERRORS, OSError, UnicodeDecodeError):
        return False
    return True


#: files that may hold JSON but are no app's state (source maps, lock files, notebooks, code)
_NOT_STATE = frozenset(
    {
        ".map",
        ".lock",
        ".ipynb",
        ".js",
        ".mjs",
        ".cjs",
        ".ts",
        ".py",
        ".css",
        ".html",
        ".yaml",
        ".yml",
        ".toml",
        ".md",
    }
)


def looks_like_json(path: Path, head: bytes) -> bool:
    """A file without the ``.json`` name whose first bytes open a JSON object or array (after a
    BOM and white space): Home Assistant's ``.storage/core.entity_registry``, an app's
    ``state`` file."""
    if path.suffix.lower() in _NOT_STATE:
        return False
    stripped = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    return stripped[:1] in (b"{", b"[")


__all__ = [
    "METADATA",
    "collection_name",
    "envelope_layout",
    "json_events",
    "looks_like_json",
    "object_events",
    "valid_json",
]
