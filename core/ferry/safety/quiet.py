"""Are the sources quiet? The checks a cutover's freeze window starts with (issue 20, first part).

:func:`check_quiet` looks at every source of a plan, waits ``settle`` seconds and looks
again; a source is quiet when nothing wrote to it in between and no one is in the middle of
writing it:

* a SQLite source: no other process holds a write transaction or a commit's lock on it
  (asked without taking any lock, :mod:`ferry.safety.sqlitelocks`), no crashed writer left its
  journal behind, and the file, its ``-wal`` and its ``-journal`` did not change;
* a file source (JSON, JSON Lines, .env, text files, a folder or glob of them): no file's size,
  modification time, inode or (up to :data:`HASH_LIMIT`) content changed, and no file appeared
  in or vanished from a folder or pattern;
* a PostgreSQL source: no other session of the database holds a write transaction or sits
  idle inside a transaction (``pg_stat_activity``), at the start or the end of the wait;
* the application's lock or pid file, when the plan names one (``[cutover] app_lock``): it
  is absent, or its pid is no live process (a stale pid file is quiet, with a note).

The result, a :class:`QuietReport`, prints one line per source with its verdict and evidence.
:func:`sources_changed_since` asks again later whether anything changed after the check (the
cutover refuses when a source changes during its final sync).

The wait honours a :class:`~ferry.events.CancelToken` and emits
:class:`~ferry.events.SettleCountdown` events. Nothing here writes to a source.

The module is longer than most: every kind of source has its first and last look here, beside
the report they fill and the re-check that reads it; asking SQLite's locks
(:mod:`ferry.safety.sqlitelocks`) and reading the app's pid file (:mod:`ferry.safety.applock`)
are modules of their own.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import Cancelled, SourceError
from ..events import (
    CancelToken,
    Emit,
    SettleCountdown,
    StepFinished,
    StepStarted,
    ignore_events,
)
from ..sources import open_source
from .applock import app_lock_verdict, who
from .sourcewatch import FileState
from .sqlitelocks import probe

if TYPE_CHECKING:
    from ..plan import Plan, SourceSpec

#: files up to this size are compared by content too (a rewrite within one clock tick shows)
HASH_LIMIT = 4 * 1024 * 1024
#: seconds between two countdown events (and two looks at the cancel token)
TICK = 0.1

#: other sessions of the source's database inside a write transaction or idle inside any
#: transaction (the application stopped half-way); Ferry's own session left out
_SESSIONS_SQL = """
SELECT pid, coalesce(nullif(application_name, ''), 'a session without a name'), state,
       backend_xid IS NOT NULL, coalesce(extract(epoch FROM now() - xact_start), 0)
FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid()
  AND backend_type = 'client backend'
  AND (backend_xid IS NOT NULL OR state LIKE 'idle in transaction%')
ORDER BY pid
"""


@dataclass(frozen=True)
class SourceQuiet:
    """One source's verdict: ``reasons`` say why it is not quiet, ``notes`` what was seen."""

    name: str
    kind: str
    quiet: bool
    reasons: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def line(self) -> str:
        """``quiet      settings (json): data/settings.json unchanged for 5 s (812 bytes)``."""
        verdict = "quiet" if self.quiet else "NOT QUIET"
        return f"{verdict:<10} {self.name} ({self.kind}): {'; '.join(self.reasons + self.notes)}"


@dataclass(frozen=True)
class _Watched:
    """What one source looked like at the end of the check, for :func:`sources_changed_since`."""

    name: str
    #: (file, its state, missing and empty count the same: a -wal or -journal)
    files: tuple[tuple[Path, FileState, bool], ...] = ()
    #: the files a folder or pattern matched (None: the source names one file)
    listing: tuple[Path, ...] | None = None
    #: the source, to list a folder or pattern again or to ask a PostgreSQL server again
    spec: SourceSpec | None = None
    sqlite: Path | None = None
    postgres: bool = False


@dataclass(frozen=True)
class QuietReport:
    """The quiet check's result; ``str()`` gives one line per source (and the app's lock)."""

    settle: float
    started_at: str
    finished_at: str
    sources: tuple[SourceQuiet, ...]
    #: the verdict on ``[cutover] app_lock`` (None: the plan names no lock file)
    app_lock: SourceQuiet | None = None
    base_dir: Path = Path(".")
    _watched: tuple[_Watched, ...] = field(default=(), repr=False, compare=False)
    _lock_path: Path | None = field(default=None, repr=False, compare=False)

    @property
    def quiet(self) -> bool:
        """True when every source (and the app's lock file) is quiet."""
        return all(entry.quiet for entry in self.entries)

    @property
    def entries(self) -> tuple[SourceQuiet, ...]:
        """The sources' verdicts, then the app lock's."""
        return self.sources + ((self.app_lock,) if self.app_lock else ())

    @property
    def reasons(self) -> list[str]:
        """Every reason a source is not quiet, prefixed with its name."""
        return [f"{e.name}: {reason}" for e in self.entries for reason in e.reasons]

    def __str__(self) -> str:
        verdict = "quiet" if self.quiet else "NOT quiet"
        head = f"Sources {verdict} (settle time {self.settle:g} s, {self.started_at})"
        return "\n".join([head, *(f"  {e.line()}" for e in self.entries)])


async def check_quiet(
    plan: Plan,
    *,
    settle: float,
    emit: Emit = ignore_events,
    cancel: CancelToken | None = None,
) -> QuietReport:
    """Look at every source of ``plan``, wait ``settle`` seconds, look again (see the
    module's docstring). Raises :class:`~ferry.errors.Cancelled` when ``cancel`` fires during
    the wait. Call it while Ferry itself has no source open (a closing file handle would drop
    this process's own SQLite locks)."""
    if settle < 0:
        raise ValueError("settle is a number of seconds, 0 or more")
    cancel = cancel or CancelToken()
    _raise_if_cancelled(cancel)
    emit(StepStarted("quiet", f"settle {settle:g} s"))
    began, started_at = time.monotonic(), _now()
    checks = [_check_for(spec, plan) for spec in plan.sources]
    lock_path = plan.resolve(plan.cutover.app_lock) if plan.cutover.app_lock else None
    try:
        first_lock = await asyncio.to_thread(_begin_all, checks, lock_path, plan.base_dir)
        await _wait(settle, emit, cancel)
        verdicts = await asyncio.to_thread(lambda: [c.end(settle) for c in checks])
        last_lock = (
            await asyncio.to_thread(_app_lock, lock_path, plan.base_dir) if lock_path else None
        )
    finally:
        for check in checks:
            check.close()
    report = QuietReport(
        settle=settle,
        started_at=started_at,
        finished_at=_now(),
        sources=tuple(verdicts),
        app_lock=_worse(first_lock, last_lock),
        base_dir=plan.base_dir,
        _watched=tuple(c.watched() for c in checks),
        _lock_path=lock_path,
    )
    detail = "quiet" if report.quiet else "not quiet: " + "; ".join(report.reasons)
    emit(StepFinished("quiet", time.monotonic() - began, detail))
    return report


def sources_changed_since(report: QuietReport) -> list[str]:
    """What changed in the sources since ``report`` was made (empty: nothing did): a file
    written, added or removed, a SQLite writer at work now, a PostgreSQL write transaction
    open now, the application running again. (Writes a PostgreSQL session committed and
    finished in between are not seen here: the final sync reads one snapshot.)"""
    changes: list[str] = []
    for watched in report._watched:
        changes += [f"{watched.name}: {c}" for c in _file_changes(watched, report.base_dir)]
        if watched.sqlite is not None:
            reasons, _ = _lock_verdict(watched.sqlite, report.base_dir)
            changes += [f"{watched.name}: {reason}" for reason in reasons]
        if watched.postgres and watched.spec is not None:
            reasons = _session_reasons(_sessions(watched.spec, report.base_dir))
            changes += [f"{watched.name}: {reason}" for reason in reasons]
    if report._lock_path is not None:
        lock = _app_lock(report._lock_path, report.base_dir)
        changes += [f"{lock.name}: {reason}" for reason in lock.reasons]
    return changes


# -- the wait -------------------------------------------------------------------------------


def _raise_if_cancelled(cancel: CancelToken) -> None:
    if cancel.cancelled:
        raise Cancelled("Cancelled while waiting for the sources to stay quiet; nothing changed.")


async def _wait(settle: float, emit: Emit, cancel: CancelToken) -> None:
    end = time.monotonic() + settle
    while True:
        _raise_if_cancelled(cancel)
        left = end - time.monotonic()
        emit(SettleCountdown(max(left, 0.0), settle))
        if left <= 0:
            return
        await asyncio.sleep(min(TICK, left))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _begin_all(checks: list[_Check], lock_path: Path | None, base: Path) -> SourceQuiet | None:
    for check in checks:
        check.begin()
    return _app_lock(lock_path, base) if lock_path else None


# -- one source -----------------------------------------------------------------------------


def _shown(path: Path, base: Path) -> str:
    """``path`` relative to the plan's folder when it lies inside it."""
    try:
        return str(path.resolve().relative_to(base.resolve()))
    except ValueError:
        return str(path)


class _Check:
    """A source's first and last look; the base class is a source with nothing to watch."""

    def __init__(self, spec: SourceSpec, plan: Plan) -> None:
        self.spec, self.base = spec, plan.base_dir

    def begin(self) -> None:
        """The first look, before the wait."""

    def end(self, settle: float) -> SourceQuiet:
        """The last look and the verdict."""
        inputs = ", ".join(self.spec.inputs)
        return self._verdict([], [f"merges {inputs}: checked as sources of their own"])

    def watched(self) -> _Watched:
        """What :func:`sources_changed_since` compares with."""
        return _Watched(self.spec.name)

    def close(self) -> None:
        """Release what the look opened."""

    def _verdict(self, reasons: list[str], notes: list[str]) -> SourceQuiet:
        return SourceQuiet(
            self.spec.name, self.spec.kind, not reasons, tuple(reasons), tuple(notes)
        )


class _FilesCheck(_Check):
    """JSON, JSON Lines, .env and text sources, and the files of a SQLite source."""

    def __init__(self, spec: SourceSpec, plan: Plan) -> None:
        super().__init__(spec, plan)
        self.reader = open_source(spec, plan.base_dir, plan.sources)
        self.problem = ""
        self.before: dict[Path, FileState] = {}
        self.after: dict[Path, FileState] = {}
        self.listing: tuple[Path, ...] | None = None

    def paths(self) -> tuple[Path, ...]:
        """The source's files now; a problem finding them (no file matches) is noted."""
        try:
            return tuple(self.reader.files_now())
        except SourceError as exc:
            self.problem = exc.message
            return ()

    def optional(self, path: Path) -> bool:
        """True for a file whose absence and emptiness mean the same (a SQLite -wal)."""
        return False

    def begin(self) -> None:
        found = self.paths()
        self.listing = found if self.spec.kind == "text" else None
        self.before = {p: FileState.of(p, HASH_LIMIT) for p in found}

    def end(self, settle: float) -> SourceQuiet:
        reasons, notes = self.compare(settle)
        return self._verdict(reasons, notes)

    def compare(self, settle: float) -> tuple[list[str], list[str]]:
        """(reasons, notes) from the files' first and last look."""
        now = self.paths()
        self.after = {p: FileState.of(p, HASH_LIMIT) for p in now}
        reasons = _differences(self.before, self.after, self.optional, self.base, settle)
        if self.listing is not None:
            self.listing = now
        notes = [self.problem] if self.problem else []
        if not reasons:
            shown = [p for p in now if self.after[p].size is not None and not self.optional(p)]
            if len(shown) == 1:
                state = self.after[shown[0]]
                notes.append(
                    f"{_shown(shown[0], self.base)} unchanged for {settle:g} s ({state.describe()})"
                )
            elif shown:
                notes.append(f"{len(shown)} files unchanged for {settle:g} s")
            elif not self.problem:
                notes.append("no file found to watch")
        return reasons, notes

    def watched(self) -> _Watched:
        files = tuple((p, s, self.optional(p)) for p, s in self.after.items())
        return _Watched(self.spec.name, files, self.listing, self.spec)

    def close(self) -> None:
        self.reader.close()


def _differences(
    before: dict[Path, FileState],
    after: dict[Path, FileState],
    optional: Callable[[Path], bool],
    base: Path,
    settle: float,
) -> list[str]:
    """What differs between two looks at a source's files, one reason per file."""
    reasons = []
    for path in sorted(set(before) | set(after)):
        old, new = before.get(path, FileState(None)), after.get(path, FileState(None))
        if _same(old, new, optional(path)):
            continue
        shown = _shown(path, base)
        if old.size is None:
            reasons.append(f"{shown} appeared during the {settle:g} s settle time")
        elif new.size is None:
            reasons.append(f"{shown} was removed during the {settle:g} s settle time")
        elif old.size != new.size:
            reasons.append(
                f"{shown} changed during the {settle:g} s settle time "
                f"({old.size} -> {new.size} bytes)"
            )
        else:
            reasons.append(f"{shown} was written during the {settle:g} s settle time")
    return reasons


def _same(old: FileState, new: FileState, optional: bool) -> bool:
    """Unchanged: size, modification time, inode and content; a rewrite with the same bytes
    is still a write (the application is not stopped), a read is not."""
    if optional and not old.size and not new.size:
        return True  # a reader may create an empty -wal; missing and empty are the same
    return (old.size, old.mtime_ns, old.inode, old.sha256) == (
        new.size,
        new.mtime_ns,
        new.inode,
        new.sha256,
    )


class _SqliteCheck(_FilesCheck):
    """A SQLite source: its locks (asked, not taken) and its files."""

    def __init__(self, spec: SourceSpec, plan: Plan) -> None:
        super().__init__(spec, plan)
        self.path = plan.resolve(spec.path or "")
        self.first: tuple[list[str], list[str]] = ([], [])

    def paths(self) -> tuple[Path, ...]:
        return (self.path, Path(f"{self.path}-wal"), Path(f"{self.path}-journal"))

    def optional(self, path: Path) -> bool:
        return path != self.path

    def begin(self) -> None:
        self.first = _lock_verdict(self.path, self.base)
        super().begin()

    def end(self, settle: float) -> SourceQuiet:
        reasons, notes = self.compare(settle)
        last = _lock_verdict(self.path, self.base)
        reasons = _unique([*self.first[0], *last[0], *reasons])
        return self._verdict(reasons, _unique([*last[1], *notes]))

    def watched(self) -> _Watched:
        return replace(super().watched(), sqlite=self.path)


def _lock_verdict(path: Path, base: Path) -> tuple[list[str], list[str]]:
    """(reasons, notes) from the locks other processes hold on a SQLite file now."""
    locks = probe(path)
    shown = _shown(path, base)
    if locks is None:
        return [], ["locks not probed on this system: the settle watch alone applies"]
    reasons = []
    if locks.writer is not None:
        reasons.append(f"{shown}: a write transaction is open ({who(locks.writer)})")
    if locks.committing is not None:
        reasons.append(f"{shown}: a commit or checkpoint is writing it ({who(locks.committing)})")
    if locks.hot_journal:
        reasons.append(
            f"{shown}-journal holds a transaction no process is running (a writer was "
            "stopped half-way): open the database once with the application or sqlite3 to "
            "roll it back"
        )
    notes = []
    if locks.reader is not None and not reasons:
        notes.append(f"open for reading by {who(locks.reader)} (no writer)")
    return reasons, notes


class _PostgresCheck(_Check):
    """A PostgreSQL source: other sessions' open transactions at the first and last look."""

    def __init__(self, spec: SourceSpec, plan: Plan) -> None:
        super().__init__(spec, plan)
        self.first: list[tuple[Any, ...]] = []

    def begin(self) -> None:
        self.first = _sessions(self.spec, self.base)

    def end(self, settle: float) -> SourceQuiet:
        last = _sessions(self.spec, self.base)
        reasons = _unique([*_session_reasons(self.first), *_session_reasons(last)])
        notes = [] if reasons else ["no other session holds an open transaction"]
        return self._verdict(reasons, notes)

    def watched(self) -> _Watched:
        return _Watched(self.spec.name, spec=self.spec, postgres=True)


def _sessions(spec: SourceSpec, base: Path) -> list[tuple[Any, ...]]:
    """The database's other sessions inside a transaction (see ``_SESSIONS_SQL``)."""
    reader = open_source(spec, base)
    try:
        assert reader.capabilities.answers_sql
        return reader.query_all(_SESSIONS_SQL, (), "pg_stat_activity")
    finally:
        reader.close()


def _session_reasons(rows: list[tuple[Any, ...]]) -> list[str]:
    reasons = []
    for pid, name, state, writes, seconds in rows:
        since = f", for {float(seconds):.0f} s" if seconds else ""
        if writes:
            reasons.append(f"session {name} pid {pid} holds an open write transaction{since}")
        else:
            reasons.append(f"session {name} pid {pid} is {state}{since}")
    return reasons


def _check_for(spec: SourceSpec, plan: Plan) -> _Check:
    if spec.kind == "sqlite":
        return _SqliteCheck(spec, plan)
    if spec.kind == "postgres":
        return _PostgresCheck(spec, plan)
    if spec.kind == "merge":
        return _Check(spec, plan)
    return _FilesCheck(spec, plan)


def _file_changes(watched: _Watched, base: Path) -> list[str]:
    before = {path: state for path, state, _ in watched.files}
    optional = {path for path, _, opt in watched.files if opt}
    paths = set(before) | (set(watched.listing) if watched.listing is not None else set())
    after = {p: FileState.of(p, HASH_LIMIT) for p in paths}
    if watched.listing is not None and watched.spec is not None:
        for path in _listing_now(watched.spec, base):
            after.setdefault(path, FileState.of(path, HASH_LIMIT))
    reasons = _differences(before, after, lambda p: p in optional, base, 0)
    return [r.replace(" during the 0 s settle time", " after the quiet check") for r in reasons]


def _listing_now(spec: SourceSpec, base: Path) -> list[Path]:
    """The files a folder or pattern source matches now (none: no file matches)."""
    reader = open_source(spec, base)
    try:
        return reader.files_now()
    except SourceError:
        return []
    finally:
        reader.close()


# -- the application's lock file ------------------------------------------------------------


def _app_lock(path: Path | None, base: Path) -> SourceQuiet:
    """The verdict on the app's lock or pid file (missing: the app is stopped)."""
    assert path is not None
    shown = _shown(path, base)
    reasons, notes = app_lock_verdict(path, shown)
    return SourceQuiet("app lock", shown, not reasons, tuple(reasons), tuple(notes))


def _worse(first: SourceQuiet | None, last: SourceQuiet | None) -> SourceQuiet | None:
    """The app lock's verdict over both looks: not quiet if either was not."""
    if first is None or last is None:
        return last or first
    if first.quiet:
        return last
    return first if last.quiet else last


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))
