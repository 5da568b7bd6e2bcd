"""One run context: the chores every operation does alike, done one way.

Migrate (and its preview), verify, check, backup and rollback each make a :class:`RunContext`
from ``(plan, emit, cancel, kind)``. It owns what used to be re-done by each of them:

- **warnings** with their caps: at most :data:`MAX_WARNINGS_PER_KIND` messages of one kind
  are kept and emitted as :class:`~ferry.events.RunWarning`; the next one is kept once more,
  folded ("further warnings of this kind not shown"), and the rest are only counted;
- **steps** as typed events: ``with ctx.step("backup", detail):`` emits
  :class:`~ferry.events.StepStarted`, then :class:`~ferry.events.StepFinished` with the
  seconds when the block ends normally (a failed step has no finish: the error says it), or
  the split :meth:`RunContext.step_started` / :meth:`RunContext.step_done` for a step that
  does not fit one block;
- **rejected rows** with their cap: every one is counted, the first :data:`MAX_KEPT_REJECTS`
  are kept whole (and emitted as :class:`~ferry.events.RowRejected`);
- **the plan's sources**: opened and described, with a
  :class:`~ferry.safety.sourcewatch.SourceWatch` fingerprinting their files, and closed;
- **the report**: written into the plan's report folder; a report that cannot be written is
  a warning, never a failure of the run.

Warnings and rejects go to the operation's own result (its ``record``: anything with a
``warnings`` list, and ``rejects`` / ``rejected_total`` for rejects), so the result a caller
gets holds them without copying; an operation whose result has no such list keeps them in a
:class:`NoticeRecord`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Protocol, cast, get_args, runtime_checkable

from .arenas import cap_arenas
from .events import (
    CancelToken,
    Emit,
    RowRejected,
    RunWarning,
    StepFinished,
    StepStarted,
    ignore_events,
)
from .load.mapping import open_plan_sources
from .load.unread import unread_tables, unread_warning
from .plan import Plan, SourceSpec
from .report.write import ReportKind, ReportPaths, write_report
from .results import Reject
from .safety.sourcewatch import SourceWatch
from .sources import SourceReader, SourceTable, open_source

#: messages of one kind kept (and emitted) in full; the next one is folded, later ones counted
MAX_WARNINGS_PER_KIND = 20
#: rejected rows kept whole for the report; beyond this only the count grows
MAX_KEPT_REJECTS = 1000

RunKind = Literal["migrate", "preview", "verify", "check", "backup", "rollback"]


@runtime_checkable
class WarningRecord(Protocol):
    """Where a run keeps its warnings (a run's result)."""

    warnings: list[str]


@runtime_checkable
class RejectRecord(WarningRecord, Protocol):
    """Where a run keeps its rejected rows too (a migrate or preview result)."""

    rejects: list[Reject]
    rejected_total: int


@dataclass
class NoticeRecord:
    """The warnings and rejects of an operation whose result has no place for them."""

    warnings: list[str] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    rejected_total: int = 0


class Step:
    """One running step: a context manager that emits its finish when the block ends well.

    ``started`` is the :func:`time.perf_counter` reading of its start; set ``done_detail``
    inside the block to say how it ended (e.g. which tables a checksum proved equal).
    """

    def __init__(self, emit: Emit, name: str, detail: str = "") -> None:
        self.name = name
        self.detail = detail
        self.done_detail = ""
        self._emit = emit
        emit(StepStarted(name, detail))
        self.started = time.perf_counter()

    @property
    def seconds(self) -> float:
        """Seconds since the step started."""
        return time.perf_counter() - self.started

    def __enter__(self) -> Step:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self._emit(StepFinished(self.name, self.seconds, self.done_detail))


class RunContext:
    """The shared chores of one operation on one plan (see the module docstring).

    ``kind`` names the operation (and its report); ``record`` is where warnings (and, for
    migrate and preview, rejects) are kept: the operation's result, or a fresh
    :class:`NoticeRecord`.
    """

    def __init__(
        self,
        plan: Plan,
        emit: Emit = ignore_events,
        cancel: CancelToken | None = None,
        kind: RunKind = "migrate",
        *,
        record: WarningRecord | None = None,
    ) -> None:
        cap_arenas()  # before the run's worker threads allocate (ferry.arenas)
        self.plan = plan
        self.emit = emit
        self.cancel = cancel or CancelToken()
        self.kind: RunKind = kind
        #: when the run started: the ``now`` of its row mappers
        self.started_at = datetime.now(UTC)
        self.record: WarningRecord = NoticeRecord()
        self._rejects: RejectRecord | None = None
        #: warnings seen so far by kind (the message itself when none was given)
        self.warning_counts: dict[str, int] = {}
        self.bind(record if record is not None else NoticeRecord())
        #: the opened sources' readers by source name, and their tables by name
        self.readers: dict[str, SourceReader] = {}
        self.source_tables: dict[str, SourceTable] = {}
        #: fingerprints of the opened sources' files (None until they are opened)
        self.watch: SourceWatch | None = None

    # -- warnings ----------------------------------------------------------------------------
    @property
    def warnings(self) -> list[str]:
        """The warnings kept so far (the record's list)."""
        return self.record.warnings

    def bind(self, record: WarningRecord, counts: dict[str, int] | None = None) -> None:
        """Keep warnings (and rejects) in ``record`` from now on, counting kinds in
        ``counts`` (a run that starts over from a copy of its result: the copy's warnings,
        the counts as they were then)."""
        self.record = record
        # (checked once here: a run may reject many rows)
        self._rejects = record if isinstance(record, RejectRecord) else None
        self.warning_counts = counts if counts is not None else {}

    def warn(self, message: str, table: str = "", kind: str = "", key: str = "") -> None:
        """Keep and emit ``message`` unless :data:`MAX_WARNINGS_PER_KIND` of its ``kind`` (the
        message itself when empty) came before; the first one over is kept folded."""
        counts = self.warning_counts
        seen = counts.get(kind or message, 0)
        counts[kind or message] = seen + 1
        if seen < MAX_WARNINGS_PER_KIND:
            self.record.warnings.append(message)
            self.emit(RunWarning(message, table, key))
        elif seen == MAX_WARNINGS_PER_KIND:
            self.record.warnings.append(f"{message} (further warnings of this kind not shown)")

    def value_warner(self, table: str) -> Callable[[str, str], None]:
        """A row mapper's ``warn`` for ``table``: its value warnings share one cap."""

        def warn(message: str, key: str) -> None:
            self.warn(message, table, kind=f"{table}:value", key=key)

        return warn

    # -- rejected rows -----------------------------------------------------------------------
    def reject(
        self,
        table: str,
        key: str,
        reason: str,
        row: dict[str, Any],
        kind: str = "transform",
        key_values: Callable[[], dict[str, Any]] | None = None,
    ) -> bool:
        """Count a rejected row; keep it whole and emit it while fewer than
        :data:`MAX_KEPT_REJECTS` are kept. ``key_values`` is called only for a kept row.
        True when the row was kept."""
        record = self._rejects
        if record is None:
            raise TypeError(f"a {self.kind} run keeps no rejected rows")
        record.rejected_total += 1
        if len(record.rejects) >= MAX_KEPT_REJECTS:
            return False
        values = key_values() if key_values is not None else {}
        record.rejects.append(Reject(table, key, reason, row, kind=kind, key_values=values))
        self.emit(RowRejected(table, key, reason, row))
        return True

    # -- steps -------------------------------------------------------------------------------
    def step(self, name: str, detail: str = "") -> Step:
        """Start step ``name``: ``with ctx.step(name, detail) as step:`` finishes it when the
        block ends without an error."""
        return Step(self.emit, name, detail)

    def step_started(self, name: str, detail: str = "") -> float:
        """Emit the start of ``name`` and return when it started (for :meth:`step_done`)."""
        return self.step(name, detail).started

    def step_done(self, name: str, started: float, detail: str = "") -> None:
        """Emit the finish of ``name``, begun at ``started`` (a :func:`time.perf_counter`)."""
        self.emit(StepFinished(name, time.perf_counter() - started, detail))

    def step_detail(self, name: str, detail: str) -> None:
        """Say what a running step does now (another start of it: the CLI and the wizard
        show the detail as the step's current part)."""
        self.emit(StepStarted(name, detail))

    # -- sources -----------------------------------------------------------------------------
    async def open_sources(self) -> None:
        """Open and describe the sources the plan's tables read (closing any this context
        had open), then fingerprint their files; on any failure every reader is closed."""
        self.close_sources()
        self.readers, self.source_tables = await open_plan_sources(self.plan)
        try:
            # Fingerprints of the source files, compared once every row is read.
            self.watch = await asyncio.to_thread(SourceWatch, self.readers)
        except BaseException:
            self.close_sources()
            raise

    def warn_unread_tables(self) -> None:
        """Warn of each table of an open database source that no ``[[tables]]`` entry reads
        (:mod:`ferry.load.unread`)."""
        databases = {n for n, r in self.readers.items() if r.capabilities.answers_sql}
        for name in unread_tables(self.plan, self.source_tables.values(), databases):
            self.warn(unread_warning(name), kind=f"unread:{name}")

    def close_sources(self) -> None:
        """Close every reader :meth:`open_sources` opened (safe to call twice)."""
        readers, self.readers = self.readers, {}
        for reader in readers.values():
            reader.close()

    @contextlib.contextmanager
    def source(self, spec: SourceSpec) -> Iterator[SourceReader]:
        """One source's reader, closed when the block ends (a preflight that reports each
        source on its own)."""
        reader = open_source(spec, self.plan.base_dir, self.plan.sources)
        try:
            yield reader
        finally:
            reader.close()

    # -- the report --------------------------------------------------------------------------
    def report_folder(self) -> Path:
        """The plan's report folder."""
        return self.plan.resolve(self.plan.report.dir)

    def write_report(
        self,
        data: Mapping[str, Any],
        *,
        kind: ReportKind | None = None,
        folder: Path | None = None,
        backup: Mapping[str, Any] | None = None,
    ) -> ReportPaths | None:
        """Write the run's report (``kind`` defaults to the run's) into ``folder`` (the
        plan's report folder); a report that cannot be written is a warning: None then."""
        chosen = kind or self.kind
        if chosen not in get_args(ReportKind):
            raise ValueError(f"a {chosen} run writes no report")
        where = folder if folder is not None else self.report_folder()
        try:
            return write_report(cast(ReportKind, chosen), data, self.plan, where, backup=backup)
        except OSError as exc:
            self.warn(f"the report could not be written to {where}: {exc.strerror or exc}")
            return None


__all__ = [
    "MAX_KEPT_REJECTS",
    "MAX_WARNINGS_PER_KIND",
    "NoticeRecord",
    "RejectRecord",
    "RunContext",
    "RunKind",
    "Step",
    "WarningRecord",
]
