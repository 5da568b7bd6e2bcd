"""Names of the sources ``ferry init`` drafts for a folder's files.

A source is named after its file; where several folders hold a file of one name (Node-RED's
context store keeps a ``flow.json`` per flow: ``context/<flow id>/flow.json``) the folder's
name comes first (``tab1_flow``, ``tab2_flow``), not a number (``flow``, ``flow_2``), which
said nothing of which flow each held.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from .found import identifier


def shared_stems(files: list[Path]) -> set[str]:
    """File names (as identifiers, extension off) that more than one folder holds: Node-RED's
    context store keeps a ``flow.json`` per flow (``context/<flow id>/flow.json``)."""
    folders: dict[str, set[Path]] = defaultdict(set)
    for path in files:
        folders[identifier(path.name.lstrip(".").rsplit(".", 1)[0])].add(path.parent)
    return {stem for stem, parents in folders.items() if len(parents) > 1}


def source_name(path: Path, stem: str, folder: Path, shared: set[str]) -> str:
    """A source's name from its file's ``stem``; prefixed by the file's folder when several
    folders hold a file of that name (``tab1_flow``, ``tab2_flow``, not ``flow``,
    ``flow_2``), the scanned folder's own file apart."""
    name = identifier(stem)
    if name in shared and path.parent != folder:
        return identifier(f"{path.parent.name}_{stem}")
    return name


__all__ = ["shared_stems", "source_name"]
