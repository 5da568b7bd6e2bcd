"""``ferry sync``: delta syncs in a loop while the application keeps writing.

Each cycle is a normal migrate run (:func:`ferry.migrate.migrate`): read, merge by key, journal
and commit in one transaction, so a cycle is all or nothing, and a re-run on an unchanged
source is recognised and skipped. Between cycles the loop waits ``every`` seconds. A cancel
between cycles (or during the wait) stops the loop cleanly with what was done; a cancel during
a cycle lets that run roll itself back and raises :class:`~ferry.errors.Cancelled`: the cycles
before it stay committed, never half of one.

Every cycle emits a :class:`~ferry.events.SyncCycle` (rows changed per table, duration, how far
behind the source the target is) and is journaled in the target. A long-running loop must not
fill the report folder (``--every 30s`` is ~120 cycles an hour), so a cycle writes its own
migrate report only when it changed, rejected or warned of something, or failed; one **sync
report** (``sync-<id>.html``/``.json``) holds every cycle and is rewritten after each. The
cycles are kept in the :class:`SyncResult`, whose
:attr:`~SyncResult.freeze_estimate` is the figure the operator plans the freeze window with:
the final sync of ``ferry cutover`` is one more such cycle.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import Cancelled, FerryError
from ..events import CancelToken, Emit, SyncCycle, ignore_events
from ..plan import Plan
from ..results import RunResult
from ..safety.runlock import hold_target_async
from .durations import duration_text

_log = logging.getLogger(__name__)

#: seconds between two looks at the cancel token while waiting for the next cycle
TICK = 0.1
#: cycles the freeze-window estimate looks back on
ESTIMATE_CYCLES = 3
#: files beside a SQLite database that a write touches
_SQLITE_SIDECARS = ("-wal", "-journal")


@dataclass
class SyncResult:
    """What a sync loop did: its cycles, oldest first, and why it stopped."""

    plan_name: str
    every: float
    cycles: list[SyncCycle] = field(default_factory=list)
    #: ``cycles`` (the asked number ran) or ``cancelled`` (stopped between cycles)
    stopped: str = "cycles"
    #: the sync report's id (``sync-<id>.html``), its status and path
    sync_id: str = field(default_factory=lambda: uuid.uuid4().hex[:16])
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    finished_at: datetime | None = None
    #: ``running``, ``stopped``, ``failed`` or ``cancelled`` (a cycle rolled back)
    status: str = "running"
    error: str | None = None
    report_path: str | None = None

    @property
    def freeze_estimate(self) -> float | None:
        """The longest of the last :data:`ESTIMATE_CYCLES` cycles (seconds): about what the
        final sync of a cutover will take; None before the first cycle."""
        recent = [c.seconds for c in self.cycles[-ESTIMATE_CYCLES:]]
        return max(recent) if recent else None

    def freeze_line(self) -> str:
        """``the freeze window will need about 0.42 s (the last 3 cycles: 0.38, 0.42, 0.40 s)
        plus the settle time``; empty before the first cycle."""
        return freeze_line(self.cycles)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for ``--json`` output."""
        return {
            "plan_name": self.plan_name,
            "every": self.every,
            "stopped": self.stopped,
            "freeze_estimate": self.freeze_estimate,
            "cycles": [cycle_dict(c) for c in self.cycles],
            "run_id": self.sync_id,
            "status": self.status,
            "error": self.error,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "freeze_line": self.freeze_line(),
            "report_path": self.report_path,
        }


def freeze_line(cycles: list[SyncCycle]) -> str:
    """The freeze-window figure from the last cycles (see :meth:`SyncResult.freeze_line`)."""
    recent = [c.seconds for c in cycles[-ESTIMATE_CYCLES:]]
    if not recent:
        return ""
    listed = ", ".join(f"{s:.2f}" for s in recent)
    which = "the last cycle" if len(recent) == 1 else f"the last {len(recent)} cycles"
    return (
        f"the freeze window will need about {duration_text(max(recent))} ({which}: {listed} s) "
        "plus the settle time"
    )


def cycle_dict(cycle: SyncCycle) -> dict[str, Any]:
    """One cycle as plain data."""
    return {
        "cycle": cycle.cycle,
        "run_id": cycle.run_id,
        "started_at": cycle.started_at.isoformat(),
        "seconds": round(cycle.seconds, 3),
        "changed": dict(cycle.changed),
        "behind": round(cycle.behind, 3),
        "report": cycle.report_path,
    }


async def sync(
    plan: Plan,
    *,
    every: float,
    cycles: int | None = None,
    emit: Emit = ignore_events,
    cancel: CancelToken | None = None,
    backup: Mapping[str, Any] | None = None,
    write_reports: bool = True,
) -> SyncResult:
    """Run delta syncs of ``plan`` in a loop, ``every`` seconds apart, ``cycles`` times (None:
    until cancelled); see the module's docstring. ``backup`` (taken before) is journaled with
    the first cycle. The target's run lock is held across the whole loop, so no other Ferry run
    slips in between two cycles. Raises :class:`~ferry.errors.Cancelled` for a cancel during a
    cycle (that cycle rolled back) and any error a migrate run raises (that cycle rolled back,
    the earlier ones committed)."""
    if every < 0:
        raise ValueError("every is a number of seconds, 0 or more")
    if cycles is not None and cycles < 1:
        raise ValueError("cycles is 1 or more (None: until cancelled)")
    cancel = cancel or CancelToken()
    result = SyncResult(plan.name, every)
    async with hold_target_async(plan.target, plan.base_dir, emit=emit, cancel=cancel):
        while True:
            if cancel.cancelled:
                result.stopped = "cancelled"
                break
            number = len(result.cycles) + 1
            try:
                cycle = await run_cycle(
                    plan,
                    number,
                    emit=emit,
                    cancel=cancel,
                    backup=backup if number == 1 else None,
                    write_reports=write_reports,
                )
            except FerryError as exc:
                cancelled = isinstance(exc, Cancelled)
                result.status = "cancelled" if cancelled else "failed"
                result.error = exc.message
                _write_summary(plan, result, write_reports)
                if not cancelled:
                    raise
                done = len(result.cycles)
                raise Cancelled(
                    f"Cancelled during sync cycle {number}: that cycle was rolled back; "
                    f"the {done} cycle(s) before it stay committed."
                ) from None
            result.cycles.append(cycle)
            _write_summary(plan, result, write_reports)
            if cycles is not None and number >= cycles:
                break
            if not await _pause(every, cancel):
                result.stopped = "cancelled"
                break
    result.status = "stopped"
    _write_summary(plan, result, write_reports)
    _log.info(
        "sync of plan %s stopped (%s) after %d cycle(s)",
        plan.name,
        result.stopped,
        len(result.cycles),
    )
    return result


async def run_cycle(
    plan: Plan,
    number: int,
    *,
    emit: Emit = ignore_events,
    cancel: CancelToken | None = None,
    backup: Mapping[str, Any] | None = None,
    write_reports: bool = True,
) -> SyncCycle:
    """One delta sync: a migrate run, measured; emits and returns its :class:`SyncCycle`."""
    from ..migrate import migrate

    started_at = datetime.now(UTC)
    began = time.perf_counter()
    newest = await asyncio.to_thread(newest_source_write, plan)
    run = await migrate(
        plan,
        emit=emit,
        cancel=cancel,
        backup=backup,
        write_reports=write_reports,
        report_unchanged=False,  # a quiet cycle is in the journal and the sync report
        syncing=True,  # the next cycle is a delta, even after a first load
    )
    seconds = time.perf_counter() - began
    cycle = SyncCycle(
        cycle=number,
        started_at=started_at,
        seconds=seconds,
        changed=changed_rows(run),
        behind=_behind(run, started_at, newest),
        run_id=run.run_id,
        report_path=run.report_path,
    )
    emit(cycle)
    return cycle


def _write_summary(plan: Plan, result: SyncResult, write_reports: bool) -> None:
    """(Re)write the sync report; one that cannot be written is a warning in the log, never a
    failure of the loop."""
    if not write_reports:
        return
    from ..report.write import write_report

    result.finished_at = datetime.now(UTC)
    folder = plan.resolve(plan.report.dir)
    try:
        written = write_report("sync", result.to_dict(), plan, folder)
    except OSError as exc:
        _log.warning("the sync report could not be written to %s: %s", folder, exc)
        return
    result.report_path = str(written.html)


def changed_rows(run: RunResult) -> dict[str, int]:
    """Rows inserted, updated and deleted, per target table (a table fed twice adds up)."""
    changed: dict[str, int] = {}
    for table in run.tables:
        changed[table.name] = (
            changed.get(table.name, 0) + table.inserted + table.updated + table.deleted
        )
    return changed


def _behind(run: RunResult, started_at: datetime, newest: float | None) -> float:
    """How old the newest source write the run picked up was at its commit; without one (no
    row changed, a PostgreSQL source, a write during the read) the time since it started."""
    finished = run.finished_at.timestamp()
    picked_up = any(changed_rows(run).values())
    if picked_up and newest is not None and newest <= started_at.timestamp():
        return max(finished - newest, 0.0)
    return max(finished - started_at.timestamp(), 0.0)


def newest_source_write(plan: Plan) -> float | None:
    """The latest modification time (epoch seconds) of the plan's source files, a SQLite
    database's ``-wal`` and ``-journal`` included; None when the sources have no files."""
    from ..backup.layout import source_files

    try:
        found = source_files(plan)
    except Exception:  # a missing file is the run's to report, not the clock's
        return None
    newest: float | None = None
    for item in found:
        paths = [item.path]
        if item.kind == "sqlite":
            paths += [Path(str(item.path) + suffix) for suffix in _SQLITE_SIDECARS]
        for path in paths:
            try:
                mtime = os.stat(path).st_mtime
            except OSError:
                continue
            newest = mtime if newest is None else max(newest, mtime)
    return newest


async def _pause(seconds: float, cancel: CancelToken) -> bool:
    """Wait ``seconds``; False as soon as ``cancel`` fires."""
    end = time.monotonic() + seconds
    while not cancel.cancelled:
        left = end - time.monotonic()
        if left <= 0:
            return True
        await asyncio.sleep(min(TICK, left))
    return False
