"""Folders of small settings files, one per subfolder, drafted as ONE source of them all.

Node-RED's context store keeps a JSON map per scope: ``context/global/global.json``,
``context/<flow id>/flow.json``, ``context/<flow id>/<node id>.json``. Drafted a file at a
time, each became a table of its own (``tab1_flow``, ``tab2_flow``, one per flow and node, a
new one for every flow the app gains). A folder whose ``*/*.json`` files (two subfolders or
more) are each a small JSON object read as settings (each file alone would be drafted a
``kv`` table: no document of collections, no object of records keyed by id), one file name
found in several of them (a store of scopes, not unrelated settings side by side), is drafted as one
source ``path = "<folder>/*/*.json"`` with ``shape = "kv"``: a table ``(scope, key, value,
value_type)``, ``scope`` the file's path below the folder without its extension
(``tab1/flow``; :mod:`ferry.sources.jsonkvfiles`). Only the number of tables changes: each
file's entries are the rows its own table had, beside their scope.
"""

from __future__ import annotations

import glob
import json
from collections import defaultdict
from collections.abc import Callable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any

from ..plan import SourceSpec
from .envelopes import envelope_layout
from .found import identifier, unique_name

#: a settings file read whole while drafting: larger ones stay a source of their own
_KV_MAX_BYTES = 1 << 20
#: the values ``shape = "auto"`` decides between keyed records and settings by
_DETECT = 20


def _settings(path: Path) -> dict[str, Any] | None:
    """The object a small JSON file holds; None for anything else or a document of
    collections (read as its collections)."""
    try:
        if path.stat().st_size > _KV_MAX_BYTES:
            return None
        value = json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError):
        return None
    if type(value) is not dict or envelope_layout(path) is not None:
        return None
    return value


def _keyed(settings: dict[str, Any]) -> bool:
    """Whether a JSON source reads the object as records keyed by id (``shape = "auto"``:
    its first values all objects), not as settings: such a file keeps a table of its own."""
    first = list(islice(settings.values(), _DETECT))
    return bool(first) and all(type(v) is dict for v in first)


def _store_like(members: list[Path]) -> bool:
    """Whether the files read as one store of scopes, not settings that merely sit in
    sibling folders (``config/app.json`` beside ``cache/state.json``): a file name is found
    in two subfolders or more (each flow's ``flow.json``)."""
    folders: dict[str, set[Path]] = defaultdict(set)
    for path in members:
        folders[path.name.lower()].add(path.parent)
    return any(len(where) > 1 for where in folders.values())


def kv_sources(
    folder: Path, files: list[Path], names: set[str], layout: Callable[[Path], Any]
) -> Iterator[tuple[SourceSpec, list[Path]]]:
    """A source per folder of settings files (see the module docstring), with its files;
    ``files``: those not drafted otherwise yet; ``layout``: the scan's own test of a document
    of collections (:func:`ferry.scan.sourcefiles.json_layout`)."""
    by_folder: dict[Path, list[Path]] = defaultdict(list)
    for path in files:
        if path.name.lower().endswith(".json") and path.parent != folder:
            by_folder[path.parent.parent].append(path)
    for parent, members in sorted(by_folder.items()):
        if len({p.parent for p in members}) < 2 or not parent.is_relative_to(folder):
            continue
        # the source reads what the glob matches: each of those files, no other
        found = {parent / p for p in glob.glob("*/*.json", root_dir=parent)}
        if found != set(members):
            continue
        maps = [_settings(path) for path in members]
        if any(
            m is None or layout(path) is not None for m, path in zip(maps, members, strict=True)
        ):
            continue
        if any(m is not None and _keyed(m) for m in maps):
            continue
        if not _store_like(members):
            continue
        rel = parent.relative_to(folder).as_posix()
        spec = SourceSpec(
            name=unique_name(identifier(parent.name or "settings"), names),
            kind="json",
            path=f"{rel}/*/*.json" if rel != "." else "*/*.json",
            shape="kv",
        )
        yield spec, members


__all__ = ["kv_sources"]
