"""The JSON and JSON Lines readers' common base: the file, the table registry and the describe,
scan and batches passes over the rows :class:`ferry.sources.records.Shaper` makes of records.

A subclass reads its file in ``_run`` (:mod:`ferry.sources.json`); the passes here sample the
first records for ``describe``, tally every row for ``scan`` and stream ``batches``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..capabilities import SourceCapabilities
from ..errors import SourceError
from ..values.typeevidence import EvidenceTracker
from .base import Batch, ScanProgress, SourceReader, SourceTable
from .records import HINT_DUP, MAX_DEPTH, parse_flags

if TYPE_CHECKING:
    from ..events import CancelToken
    from ..plan import SourceSpec

_SAMPLE = 100  # records describe() looks at


class RecordSource(SourceReader):
    """What JSON and JSON Lines readers share: the file, the table registry and the passes."""

    capabilities = SourceCapabilities(parses_in_python=True)

    def __init__(self, spec: SourceSpec, base_dir: Path) -> None:
        super().__init__(spec, base_dir)
        self.path = base_dir / (spec.path or "")
        self.origin = spec.path or ""
        #: every table seen so far, children included (describe samples; batches may add)
        self.tables: dict[str, SourceTable] = {}
        #: bytes of the file the running read has got through (for :meth:`read_share`)
        self.bytes_read = 0

    def fail(self, what: str, hint: str) -> SourceError:
        """A SourceError about this file."""
        return SourceError(f"{self.path}: {what}", hint)

    def where(self, unit: Any) -> str:
        """Where a record is, for messages (``$[3]``, ``$.jobs["job-1"]``, ``line 7``)."""
        raise NotImplementedError

    def duplicate(self) -> SourceError:
        """The error for a key StrictDict noted twice (JSON Lines never notes one)."""
        key, parse_flags.duplicate = parse_flags.duplicate, None
        return self.fail(f"duplicate key {key!r}", HINT_DUP)

    def _run(self, batch_size: int, limit: int | None) -> Iterator[Batch]:
        raise NotImplementedError

    def _tally(
        self,
        limit: int | None,
        batch_size: int,
        cancel: CancelToken | None = None,
        progress: ScanProgress | None = None,
    ) -> list[SourceTable]:
        trackers: dict[str, EvidenceTracker] = {}
        counts: dict[str, int] = {}
        try:
            for batch in self._run(batch_size, limit):
                if cancel is not None:
                    cancel.raise_if_cancelled()
                tracker = trackers.get(batch.table)
                if tracker is None:
                    known = self.tables.get(batch.table)
                    tracker = EvidenceTracker(known.key if known else ())
                    trackers[batch.table] = tracker
                tracker.add_rows(batch.rows)
                counts[batch.table] = counts.get(batch.table, 0) + len(batch.rows)
                if progress is not None:  # no row estimate: records are counted as read
                    progress(batch.table, counts[batch.table], None)
        except RecursionError:
            raise self._too_deep() from None
        tables = [
            SourceTable(t.name, trackers[t.name].result() if t.name in trackers else {}, t.key,
                        t.parent, None if limit else counts.get(t.name, 0), t.origin)
            for t in self.tables.values()
        ]  # fmt: skip
        for table in tables:
            if table.name in trackers:
                table.evidence = trackers[table.name].mixed()
                table.long_numbers = trackers[table.name].long
                if "value_type" in table.columns:  # settings (kv): the kind of each is there
                    table.evidence.pop("value", None)
                span = trackers[table.name].key_span
                complete = span is not None and span[0] <= span[1] and not limit  # all read
                table.key_span = span if complete else None
                whole = trackers[table.name].whole
                if len(table.key) == 1 and whole.get(table.key[0]):
                    table.whole_number_key = table.key[0]
        return tables

    def _too_deep(self) -> SourceError:
        return self.fail(f"nested deeper than Python can follow (over {MAX_DEPTH} levels)",
                         "Ferry does not read such documents; flatten the data first.")  # fmt: skip

    def describe(self) -> list[SourceTable]:
        """Tables and column types from the first records (child tables included)."""
        return self._tally(_SAMPLE, 1 << 30)

    def scan(
        self,
        batch_size: int = 5000,
        cancel: CancelToken | None = None,
        progress: ScanProgress | None = None,
    ) -> list[SourceTable]:
        """Exact columns and counts, including child tables first seen past the sample;
        ``cancel`` is checked between batches, ``progress`` told after each one."""
        return self._tally(None, batch_size, cancel, progress)

    def batches(self, batch_size: int) -> Iterator[Batch]:
        """Rows of the source table and its child tables, interleaved, parents first."""
        try:
            yield from self._run(batch_size, None)
        except RecursionError:
            raise self._too_deep() from None

    def read_share(self) -> float | None:
        """Bytes read over the file's size (read ahead of the rows handed out: a little high)."""
        try:
            size = self.path.stat().st_size
        except OSError:
            return None
        return min(self.bytes_read / size, 1.0) if size and self.bytes_read else None

    def files(self) -> list[Path]:
        """The one file read."""
        return [self.path]
