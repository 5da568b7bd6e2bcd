"""Which files of a folder ``ferry init`` reads as sources, and how: SQLite files by their
header, JSON documents by their layout (one source per collection), JSON lines, ``.env`` and
one-value text files (``*.txt``, and an extension-less ``VERSION``: :mod:`.barefiles`);
fixtures, runtime state and Ferry's own folders are skipped with a reason.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Collection
from pathlib import Path
from typing import Any, Literal

from ..plan import SourceSpec
from ..sources.json import PARSE_ERRORS
from ..sources.jsoncomments import MAX_BYTES as COMMENTED_MAX_BYTES
from ..sources.jsoncomments import reads_with_comments
from .barefiles import bare_value_file, unread_reason
from .dbbackups import backup_of, backup_reason
from .envelopes import (
    METADATA,
    collection_name,
    envelope_layout,
    looks_like_json,
    object_events,
    valid_json,
)
from .found import identifier, unique_name
from .kvfolders import kv_sources
from .logfiles import nedb_log, object_lines
from .sourcenames import shared_stems, source_name
from .toolfiles import TOOL_REASON, tool_file

SQLITE_MAGIC = b"SQLite format 3\x00"
_ONE_VALUE_MAX_BYTES = 4096
#: an envelope's collection kind -> the shape its source is read in
_ENVELOPED_SHAPES: dict[str, Literal["records", "keyed", "kv"]] = {
    "array": "records",
    "keyed": "keyed",
    "kv": "kv",
}
_DOCUMENT_MAX_KEYS = 50
_SKIPPED_DIRS = {
    ".git",
    "__pycache__",
    "node_modules",
    ".venv",
    "venv",
    "ferry-backups",
    "ferry-reports",
}


def json_layout(path: Path, beside: dict[str, Any] | None = None) -> dict[str, str] | None:
    """For a JSON object whose every value is a collection, each key and its kind
    (``array`` or ``keyed``); None for any other layout. Streams, so any size works.

    A few metadata scalars beside the collections (``{"version": 2, "executions": [...]}``)
    still make a document: they go into ``beside`` (key -> value), not into a table."""
    kinds: dict[str, str] = {}
    scalars: dict[str, Any] = {}
    try:
        with object_events(path) as events:
            if events is None:
                return None
            for prefix, depth, event, value in events:
                if depth == 0 and event == "map_key":
                    continue
                if depth == 1 and prefix not in kinds:
                    if event == "start_array":
                        kinds[prefix] = "array"
                    elif event == "start_map":
                        kinds[prefix] = "keyed"
                    elif event != "map_key" and METADATA.search(prefix):
                        scalars[prefix] = value
                    elif event != "map_key":
                        return None
                    if len(kinds) > _DOCUMENT_MAX_KEYS:
                        return None
                elif (
                    depth == 2
                    and kinds.get(prefix.split(".")[0]) == "keyed"
                    and event not in ("start_map", "map_key", "end_map")
                ):
                    return None
    except (*PARSE_ERRORS, OSError, UnicodeDecodeError):
        return None  # the reader reports the problem with its position
    for key in scalars:
        kinds.pop(key, None)
    if not kinds:
        return None
    if beside is not None:
        beside.update(scalars)
    return kinds


def _classify(path: Path) -> str | None:
    name = path.name.lower()
    try:
        with path.open("rb") as handle:
            head = handle.read(64)
    except OSError:
        return None
    if head[:16] == SQLITE_MAGIC:
        return "sqlite"
    if name == ".env" or name.endswith(".env") or name.startswith(".env."):
        return "env"
    if name.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    if name.endswith(".json"):
        return "json"
    if name.endswith(".txt"):
        return "text"
    if looks_like_json(path, head):
        return "json"
    return "text" if bare_value_file(path) else None  # VERSION holding 1.4.2


#: names a database file usually has: one that is not SQLite is named as such when skipped
_DATABASE_NAMES = (".db", ".sqlite", ".sqlite3", ".db3")


def _unread(path: Path) -> str:
    """Why a file of no kind Ferry reads is skipped."""
    if path.name.lower().endswith(_DATABASE_NAMES):
        return (
            "named like a database but not a SQLite file (its first bytes are not SQLite's "
            "header: another database's file, encrypted, or damaged)"
        )
    return unread_reason(path) or "not a kind of file Ferry reads"


#: the files SQLite keeps beside a database while it is open
_COMPANIONS = {"-wal": "write-ahead log", "-shm": "shared memory index", "-journal": "journal"}


def _companion(path: Path) -> str:
    """Why a SQLite database's own companion file is skipped ("" for any other file)."""
    for suffix, what in _COMPANIONS.items():
        database = path.with_name(path.name.removesuffix(suffix))
        if path.name.endswith(suffix) and database.is_file():
            return f"the {what} of the SQLite file {database.name}, read with it"
    return ""


def _one_value_file(path: Path) -> bool:
    try:
        if path.stat().st_size > _ONE_VALUE_MAX_BYTES:
            return False
        return len(path.read_bytes().strip().splitlines()) <= 1
    except OSError:
        return False


#: files a test or a generator writes beside the state (``expected.json``, ``fixtures.json``)
_FIXTURE = re.compile(r"^(expected|fixtures?)([_.-]|$)|[_.-](expected|fixtures?)$", re.I)
_FIXTURE_REASON = (
    "named like a test fixture (expected results), not the app's state: "
    "add it under [[sources]] if the app reads it"
)

#: a file named by a digest (MD5, SHA-1, SHA-256 in hex): a blob an app stores by its hash and
#: its database refers to (a Trac project's attachments, an upload store), not state with a
#: name of its own; a one-line attachment was drafted as a table ``t_71ddebcf…``
_DIGEST_NAME = re.compile(r"^[0-9a-f]{32,}$", re.I)
_DIGEST_REASON = (
    "named by a hash: a file the app stores by its digest (an attachment or upload), not "
    "state; add it under [[sources]] if the app reads it"
)

#: a folder named by a record's id (32 or more hex digits, a dashed UUID, perhaps after a
#: short prefix): what an app keeps for one of its records. MLflow's run artifacts
#: (``mlruns/1/<run id>/artifacts/notes.txt``) were drafted as tables, one per file.
_ID_FOLDER = re.compile(
    r"^(?:[a-z]{1,8}[-_])?(?:[0-9a-f]{32,}|[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12})$", re.I
)
_ID_FOLDER_REASON = (
    "under a folder named by an id: a file the app keeps for one of its records (a run's "
    "artifacts, an upload), not state; add it under [[sources]] if the app reads it"
)


def find_sources(
    folder: Path,
    exclude: Collection[Path] = (),
    beside: dict[str, dict[str, Any]] | None = None,
    only: Path | None = None,
) -> tuple[list[SourceSpec], list[tuple[Path, str]]]:
    """Source specs for every readable file under ``folder`` (paths relative to it), leaving
    out the files in ``exclude`` (the plan's own SQLite target); with ``only``, that file
    alone. ``beside`` receives, per document path, the metadata scalars it holds beside its
    collections."""
    specs: list[SourceSpec] = []
    skipped: list[tuple[Path, str]] = []
    names: set[str] = set()
    texts: list[Path] = []
    records = _record_folders(folder, files := _files(folder, exclude, only))
    shared = shared_stems(files)
    grouped: set[Path] = set()
    for parent, members in records.items():
        rel_parent = parent.relative_to(folder).as_posix()
        specs.append(
            SourceSpec(
                name=unique_name(identifier(parent.name or "records"), names),
                kind="json",
                path=f"{rel_parent}/*.json" if rel_parent != "." else "*.json",
            )
        )
        grouped.update(members)
    rest = [p for p in files if p not in grouped and not _ID_FOLDER.match(p.parent.name)]
    for spec, members in kv_sources(folder, rest, names, json_layout):  # Node-RED's context
        specs.append(spec)
        grouped.update(members)
    for path in files:
        if path in grouped:
            continue
        rel = path.relative_to(folder).as_posix()
        kind = _classify(path)
        if kind is None:
            skipped.append((path, _companion(path) or _unread(path)))
            continue
        if kind == "sqlite" and (database := backup_of(path)):
            skipped.append((path, backup_reason(database)))
            continue
        if _FIXTURE.search(path.stem):
            skipped.append((path, _FIXTURE_REASON))
            continue
        if tool_file(path):
            skipped.append((path, TOOL_REASON))
            continue
        if kind != "sqlite" and _DIGEST_NAME.match(path.stem):
            skipped.append((path, _DIGEST_REASON))
            continue
        if kind != "sqlite" and any(_ID_FOLDER.match(p) for p in Path(rel).parent.parts):
            skipped.append((path, _ID_FOLDER_REASON))
            continue
        if kind == "text":
            if _one_value_file(path):
                texts.append(path)
            else:
                skipped.append((path, "a text file with more than one value"))
            continue
        # JSON found by its content, not its name (core.entity_registry): keeps its whole name
        sniffed = kind == "json" and not path.name.lower().endswith(".json")
        if kind == "json" and commented_json(path):
            # JSON with comments (VS Code's settings.json, JupyterLab's *.jupyterlab-settings):
            # read as the JSON it means
            stem = path.name if sniffed else path.name.lstrip(".").rsplit(".", 1)[0]
            specs.append(
                SourceSpec(
                    name=unique_name(source_name(path, stem, folder, shared), names),
                    kind="json",
                    path=rel,
                    comments=True,
                )
            )
            continue
        if sniffed and not valid_json(path) and object_lines(path):
            kind = "jsonl"  # JSON Lines under another name (NeDB's users.db)
        elif sniffed and not valid_json(path):
            skipped.append((path, "not a kind of file Ferry reads (not JSON, though it starts so)"))
            continue
        if kind == "json":
            scalars: dict[str, Any] = {}
            layout = json_layout(path, scalars)
            if layout and scalars and beside is not None:
                beside[rel] = scalars
            envelope = None if layout else envelope_layout(path, scalars)
            if envelope and beside is not None:
                beside[rel] = scalars
            for root, collection in (envelope or {}).items():
                whole = identifier(path.name.lstrip(".") if sniffed else path.stem)
                own = identifier(collection_name(root, whole))
                if own in names and own != whole:
                    # another file's collection of that name (HA's auth and
                    # auth_provider.homeassistant both hold ``users``): named by its file too
                    own = identifier(f"{whole}_{own}")
                specs.append(
                    SourceSpec(
                        name=unique_name(own, names),
                        kind="json",
                        path=rel,
                        root=root,
                        shape=_ENVELOPED_SHAPES[collection],
                    )
                )
            if envelope:
                continue
            if layout:
                # {"version": 1, "data": [...]}: one generic collection is named by its file
                alone = identifier(path.name.lstrip(".") if sniffed else path.stem)
                for key, collection in layout.items():
                    shape: Literal["records", "keyed"] = (
                        "records" if collection == "array" else "keyed"
                    )
                    specs.append(
                        SourceSpec(
                            name=unique_name(
                                identifier(
                                    collection_name(key, alone) if len(layout) == 1 else key
                                ),
                                names,
                            ),
                            kind="json",
                            path=rel,
                            root=key,
                            shape=shape,
                        )
                    )
                continue
        whole_name = kind == "env" or (sniffed and kind == "json")
        stem = path.name if whole_name else path.name.lstrip(".").rsplit(".", 1)[0]
        log: Literal["nedb"] | None = "nedb" if kind == "jsonl" and nedb_log(path) else None
        specs.append(
            SourceSpec(
                name=unique_name(source_name(path, stem, folder, shared), names),
                kind=kind,  # type: ignore[arg-type]
                path=rel,
                format=log,
            )
        )
    specs.extend(_text_sources(texts, folder, names))
    return specs, skipped


def commented_json(path: Path) -> bool:
    """A small file that is not JSON but is once comments and trailing commas are allowed."""
    try:
        small = path.stat().st_size <= COMMENTED_MAX_BYTES
    except OSError:
        return False
    return small and not valid_json(path) and reads_with_comments(path)


def _files(folder: Path, exclude: Collection[Path], only: Path | None) -> list[Path]:
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file()
        and not (set(p.relative_to(folder).parts[:-1]) & _SKIPPED_DIRS)
        and p.resolve() not in exclude
        and (only is None or p.resolve() == only)
    )


#: a record file is small; its fields are a record's, not a settings map's hundreds of keys
_RECORD_MAX_BYTES = 1 << 20
_RECORD_MAX_FIELDS = 200


def _record_folders(folder: Path, files: list[Path]) -> dict[Path, list[Path]]:
    """Folders whose every ``*.json`` file (two or more) holds one object with mostly the same
    fields: an app's record per file (``users/1.json``), read as one source with a row per
    file (:mod:`ferry.sources.jsonfiles`), not as a settings table per file."""
    by_folder: dict[Path, list[Path]] = defaultdict(list)
    for path in files:
        if path.name.lower().endswith(".json") and not _FIXTURE.search(path.stem):
            by_folder[path.parent].append(path)
    found: dict[Path, list[Path]] = {}
    for parent, members in by_folder.items():
        if len(members) < 2:
            continue
        fields = [_record_fields(path) for path in members]
        if any(f is None for f in fields):
            continue
        sets = [f for f in fields if f is not None]
        common = set.intersection(*sets)
        if all(len(common) * 2 >= len(f) for f in sets):  # at least half of each one's fields
            found[parent] = members
    return found


def _record_fields(path: Path) -> set[str] | None:
    """The top-level fields of a small JSON file holding one object (None for anything else,
    or a document of collections)."""
    try:
        if path.stat().st_size > _RECORD_MAX_BYTES:
            return None
        value = json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError):
        return None
    if type(value) is not dict or not value or len(value) > _RECORD_MAX_FIELDS:
        return None
    if json_layout(path) is not None:
        return None
    return set(value)


def _text_sources(paths: list[Path], folder: Path, names: set[str]) -> list[SourceSpec]:
    """One-value text files; files sharing a ``prefix_`` become one source keyed by the rest."""
    groups: dict[tuple[str, str], list[Path]] = defaultdict(list)
    for path in paths:
        match = re.match(r"^([A-Za-z0-9]+[_-])(.+)\.txt$", path.name)
        parent = path.parent.relative_to(folder).as_posix()
        groups[(parent, match.group(1) if match else path.name)].append(path)
    specs = []
    for (parent, prefix), members in sorted(groups.items()):
        base = "" if parent == "." else parent + "/"
        if len(members) > 1 and prefix.endswith(("_", "-")):
            specs.append(
                SourceSpec(
                    name=unique_name(identifier(prefix.rstrip("_-")), names),
                    kind="text",
                    path=f"{base}{prefix}*.txt",
                    key_pattern=re.escape(prefix) + r"(?P<key>.+)\.txt",
                )
            )
        else:
            for path in members:
                specs.append(
                    SourceSpec(
                        name=unique_name(identifier(path.stem), names),
                        kind="text",
                        path=base + path.name,
                    )
                )
    return specs
