"""Names of the sources ``ferry init`` drafts for a folder's files.

A source is named after its file; where several folders hold a file of one name
(``a/data.json``, ``b/data.json``) the folder's name comes first (``a_data``, ``b_data``), not
a number (``data``, ``data_2``), which said nothing of which folder each came from (found on
Node-RED's context store, ``context/<flow id>/flow.json``, now one table:
:mod:`ferry.scan.kvfolders`).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from .found import identifier


def shared_stems(files: list[Path]) -> set[str]:
    """File names (as identifiers, extension off) that more than one folder holds
    (``a/data.json``, ``b/data.json``)."""
    folders: dict[str, set[Path]] = defaultdict(set)
    for path in files:
        folders[identifier(path.name.lstrip(".").rsplit(".", 1)[0])].add(path.parent)
    return {stem for stem, parents in folders.items() if len(parents) > 1}


def source_name(path: Path, stem: str, folder: Path, shared: set[str]) -> str:
    """A source's name from its file's ``stem``; prefixed by the file's folder when several
    folders hold a file of that name (``a_data``, ``b_data``, not ``data``, ``data_2``), the
    scanned folder's own file apart."""
    name = identifier(stem)
    if name in shared and path.parent != folder:
        return identifier(f"{path.parent.name}_{stem}")
    return name


__all__ = ["shared_stems", "source_name"]
