"""A glob (or folder) of JSON files that each hold a settings map, read as one table of
``(scope, key, value, value_type)``: ``shape = "kv"`` on a JSON source whose path matches
several files.

Node-RED's context store keeps one such map per scope (``context/global/global.json``,
``context/<flow id>/flow.json``, ``context/<flow id>/<node id>.json``): read one file at a
time it made a table per flow and node, named by ids that said nothing, and a table more for
every flow the app gains. Here each entry is a row, ``scope`` the file's path below the
pattern's fixed folder without its extension (``global/global``, ``f1a2/flow``), ``key`` the
entry's name (``key_column``), ``value`` its value (an object or a list kept as one JSON
value) and ``value_type`` its JSON kind, as a single file's ``kv`` read gives them. With
``key_pattern``, the scope is its ``key`` group searched in that path (files it does not match
are skipped).
"""

from __future__ import annotations

import glob
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from ..errors import SourceError
from ..values.typeevidence import EvidenceTracker
from .base import Batch, Row, SourceTable
from .jsonfiles import JsonFilesSource
from .records import json_kind

if TYPE_CHECKING:
    from ..events import CancelToken
    from ..plan import SourceSpec
    from .base import ScanProgress

#: the column naming the file an entry came from
SCOPE = "scope"
_SAMPLE = 100


class JsonKvFilesSource(JsonFilesSource):
    """One row per entry of every settings file matched (see the module docstring)."""

    def __init__(self, spec: SourceSpec, base_dir: Path) -> None:
        super().__init__(spec, base_dir)
        self.key_column = spec.key_column or "key"
        if self.key_column == SCOPE:
            raise SourceError(
                f"source {spec.name!r}: key_column {SCOPE!r} is the column naming each file",
                hint="Choose another key_column (the default is key).",
            )
        # the scope is a file's path below the pattern's parts that hold no wildcard
        parts = PurePosixPath(self.pattern).parts
        magic = [i for i, part in enumerate(parts) if glob.has_magic(part)]
        self._root = base_dir.joinpath(*parts[: magic[0] if magic else len(parts)])

    def _file_key(self, path: Path) -> str | None:
        try:
            inner = path.relative_to(self._root)
        except ValueError:
            inner = Path(path.name)
        scope = inner.with_suffix("").as_posix()
        if self._key_re is None:
            return scope
        match = self._key_re.search(inner.as_posix())
        return match.group("key") if match else None

    def _entries(self, scope: str, path: Path) -> list[Row]:
        record = self._parse(path, self._read(path))
        return [
            {SCOPE: scope, self.key_column: key, "value": value, "value_type": json_kind(value)}
            for key, value in record.items()
        ]

    def describe(self) -> list[SourceTable]:
        """The one table, typed from the first files' entries."""
        files = self._matched()
        tracker = EvidenceTracker((SCOPE, self.key_column))
        entries = 0
        for scope, path in files[:_SAMPLE]:
            rows = self._entries(scope, path)
            tracker.add_rows(rows)
            entries += len(rows)
        table = SourceTable(
            name=self.spec.name,
            columns=tracker.result(),
            key=(SCOPE, self.key_column),
            # the files not sampled counted as the sampled ones' mean
            row_estimate=round(entries * len(files) / min(len(files), _SAMPLE)),
            origin=self.pattern,
        )
        table.evidence = tracker.mixed()
        table.evidence.pop("value", None)  # settings: the kind of each is in value_type
        return [table]

    def scan(
        self,
        batch_size: int = 5000,
        cancel: CancelToken | None = None,
        progress: ScanProgress | None = None,
    ) -> list[SourceTable]:
        """Every entry read once (see :meth:`SourceReader.scan`); mixed values are no news."""
        tables = super().scan(batch_size, cancel, progress)
        for table in tables:
            table.evidence.pop("value", None)  # settings: the kind of each is in value_type
        return tables

    def batches(self, batch_size: int) -> Iterator[Batch]:
        """The entries of each file, in file order."""
        rows: list[Row] = []
        for scope, path in self._matched():
            rows.extend(self._entries(scope, path))
            if len(rows) >= batch_size:
                yield Batch(self.spec.name, rows)
                rows = []
        if rows:
            yield Batch(self.spec.name, rows)


__all__ = ["SCOPE", "JsonKvFilesSource"]
