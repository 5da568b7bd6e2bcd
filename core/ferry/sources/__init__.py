"""Source readers, one module per kind; :func:`open_source` picks the reader for a spec."""

from __future__ import annotations

import glob
import importlib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .base import Batch, ParentLink, Row, SourceReader, SourceTable

if TYPE_CHECKING:
    from ..plan import SourceSpec

__all__ = ["Batch", "ParentLink", "Row", "SourceReader", "SourceTable", "open_source"]

# kind -> (module, class); imported on demand so a plan only loads the drivers it uses.
_READERS = {
    "json": ("json", "JsonSource"),
    "jsonl": ("json", "JsonLinesSource"),
    "env": ("env", "EnvSource"),
    "text": ("text", "TextSource"),
    "sqlite": ("sqlite", "SqliteSource"),
    "postgres": ("postgres", "PostgresSource"),
}


def open_source(
    spec: SourceSpec, base_dir: Path, sources: Sequence[SourceSpec] = ()
) -> SourceReader:
    """The reader for ``spec``; relative paths are taken from ``base_dir`` (the plan's folder).

    ``sources`` (the plan's sources) is needed by a merge source, which opens its inputs.
    """
    if spec.kind == "merge":
        from .merge import MergeSource

        return MergeSource(spec, base_dir, sources, open_source)
    if spec.kind == "json" and _many_files(spec, base_dir):
        if spec.shape == "kv":  # settings maps, one per file: one table of them all
            from .jsonkvfiles import JsonKvFilesSource

            return JsonKvFilesSource(spec, base_dir)
        from .jsonfiles import JsonFilesSource

        return JsonFilesSource(spec, base_dir)
    module_name, class_name = _READERS[spec.kind]
    module = importlib.import_module(f"{__name__}.{module_name}")
    reader: SourceReader = getattr(module, class_name)(spec, base_dir)
    return reader


def _many_files(spec: SourceSpec, base_dir: Path) -> bool:
    """A JSON source whose path is a glob or a folder: a record per file."""
    path = spec.path or ""
    return glob.has_magic(path) or (base_dir / Path(path).expanduser()).is_dir()
