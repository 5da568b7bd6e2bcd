"""A folder (or glob) of JSON files that each hold one record: ``users/1.json``,
``users/2.json`` … as one table, a row per file.

Apps that keep an object per file (a job, a session, a user) make this layout; read one file at
a time it would be a settings table per file. The row is the file's object, its top-level
fields the columns (a nested object or list is kept as one JSON value), keyed by the file's
stem in ``key_column`` (default ``id``), or by the ``key`` group of ``key_pattern`` searched in
the file name (files it does not match are skipped), as text sources do. A record may repeat
its key in that field (``1.json`` holding ``"id": 1``: an integer whose text is the stem keeps
the integer); any other value there stops the read, naming the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import SourceError
from ..safety.inputlimits import MAX_TEXT_FILE_BYTES, mib, read_up_to
from ..values.typeevidence import EvidenceTracker
from .base import Row, SourceTable
from .json import diagnose_json, read_json_text
from .text import TextSource, file_error

if TYPE_CHECKING:
    from ..plan import SourceSpec

_SAMPLE = 100


class JsonFilesSource(TextSource):
    """One row per JSON file of a folder or glob (see the module docstring)."""

    def __init__(self, spec: SourceSpec, base_dir: Path) -> None:
        super().__init__(spec, base_dir)
        self.key_column = spec.key_column or "id"

    def _read(self, path: Path) -> bytes:
        try:
            data = read_up_to(path, MAX_TEXT_FILE_BYTES)
        except OSError as exc:
            raise file_error(path, exc) from None
        if data is None:
            raise SourceError(
                f"{path}: larger than {mib(MAX_TEXT_FILE_BYTES)}, Ferry's limit for one record "
                "file",
                hint="Narrow the source's path or key_pattern to the record files.",
            )
        return data

    def _row(self, key: str, path: Path) -> Row:
        record = self._parse(path, self._read(path))
        own = record.get(self.key_column, key)
        if not (own == key or (type(own) is int and str(own) == key)):
            raise SourceError(
                f"{path}: its own {self.key_column!r} ({own!r}) differs from the "
                f"{self.key_column!r} Ferry gives the row from the file name ({key!r})",
                hint="Set key_column to a name the records do not use.",
            )
        row: Row = {self.key_column: key}
        row.update(record)  # a nested object or list stays one JSON value
        return row

    def _parse(self, path: Path, data: bytes) -> dict[str, Any]:
        try:
            found = read_json_text(data[3:] if data.startswith(b"\xef\xbb\xbf") else data)
        except (ValueError, RecursionError):
            problem = diagnose_json(data) or ("not valid JSON", "Fix the file.")
            raise SourceError(f"{path}: {problem[0]}", hint=problem[1]) from None
        if type(found) is not dict:
            raise SourceError(
                f"{path}: holds {type(found).__name__ if found is not None else 'null'}, not "
                "an object: each file of this source is one record",
                hint="Narrow the source's path to the record files, or read this file alone.",
            )
        return found

    def describe(self) -> list[SourceTable]:
        """The one table, typed from the first files' records."""
        files = self._matched()
        tracker = EvidenceTracker((self.key_column,))
        for key, path in files[:_SAMPLE]:
            tracker.add(self._row(key, path))
        return [self._table(tracker, len(files))]

    def _table(self, tracker: EvidenceTracker, rows: int) -> SourceTable:
        return SourceTable(
            name=self.spec.name,
            columns=tracker.result(),
            key=(self.key_column,),
            row_estimate=rows,
            origin=self.pattern,
        )
