"""Ferry's public engine API: the operations with one shape, and what a front end needs besides.

Every operation takes what it works on first (a :class:`~ferry.plan.Plan`, or a folder for
:func:`scan`), then keyword-only ``emit`` (a callable taking each
:mod:`event <ferry.events>`; default: drop them) and ``cancel`` (a
:class:`~ferry.events.CancelToken`; default: none asked), then the operation's own options, and
returns a typed result::

    import asyncio, ferry

    plan = ferry.load_plan("ferry.toml")
    report = asyncio.run(ferry.check(plan))               # CheckReport
    result = asyncio.run(ferry.migrate(plan))             # RunResult; backs up first
    proof = asyncio.run(ferry.verify(plan))               # VerifyResult

:func:`scan` is a plain (blocking) function: it reads files, and a front end runs it in a
thread; the others are coroutines. "Back up before migrating" is the engine's policy:
:func:`migrate` takes the backup itself unless told ``backup=False`` (or handed one taken
before).

The ``ferry`` package re-exports the operations: ``ferry.migrate(plan)`` calls this module's
:func:`migrate`. ``ferry.scan``, ``ferry.check``, ``ferry.backup``, ``ferry.migrate``,
``ferry.verify``, ``ferry.rollback`` and ``ferry.runs`` are also the engine's modules of
those names (so ``from ferry.verify import verify`` keeps working); the package makes those
modules callable, a call going to the operation here (see ``ferry/__init__.py``);
type-checked code calls them from this module (a type checker sees ``ferry.verify`` as the
module). The command line and the wizard import only this module, ``ferry`` and the data
modules ``ferry.plan``, ``ferry.events``, ``ferry.results`` and ``ferry.errors``
(tests/core/test_public_api.py).

The module is longer than most (~520 lines) because the surface is spelled out three times, as
in every lazily loading package here: imports for type checkers, each name's home for the lazy
load (so ``import ferry.api`` stays light), and ``__all__``; the operations are ~200 lines.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Awaitable, Callable, Collection, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from .errors import Cancelled
from .events import (
    BackupTaken,
    CancelToken,
    Emit,
    StepFinished,
    StepStarted,
    TableProgress,
    ignore_events,
)
from .lazyexports import lazy_exports

if TYPE_CHECKING:
    from .backup.check import BackupCheck, find_backup, list_backups, verify_backup
    from .backup.create import Backup
    from .backup.faults import BackupError
    from .backup.layout import backup_root, source_files
    from .backup.prune import PruneEntry, prune_backups, prune_plan
    from .check import CheckItem, CheckReport
    from .demo import demo_source
    from .earlydelta import begin_early_reads_for_command
    from .gcfreeze import freeze_startup, hold_collections
    from .plan import Plan
    from .profiles import (
        Profile,
        delete_profile,
        load_profiles,
        make_profile,
        override_target,
        profiles_path,
        save_profile,
        target_for,
    )
    from .report.proof import ReportProof, verify_report
    from .results import RunResult
    from .reverseplan import ReversePlan, reverse_plan
    from .rollback import RollbackResult, mark_migrated, outside_plan
    from .runs import RunHistory, RunRecord
    from .safety.logfile import log_exception, log_path, setup_logging
    from .safety.passwords import (
        DEFAULT_PASSWORD_ENV,
        keyring_status,
        password_spellings,
        refuse_password,
        store_password,
    )
    from .safety.quiet import QuietReport, check_quiet
    from .safety.signing import SigningError, config_dir, import_key, own_key
    from .scan.draftdoc import draft_comments
    from .scan.folder import ScanResult, describe_found
    from .scan.pgdraft import SOURCE_PASSWORD_HINT, is_postgres_url, password_refused
    from .scan.questions import (
        EFFECT_COUNTS,
        answer,
        answer_and_save,
        answer_counts,
        describe,
        effects,
        how_to_answer,
        open_questions,
        require_answered,
        takes_value,
    )
    from .scan.workspace import (
        WORKSPACE_DIR_ENV,
        default_workspace,
        is_within,
        plan_in,
        rebase_paths,
        workspaces_root,
    )
    from .shape.carried import grouped
    from .shape.pgserver import create_database, list_databases, list_schemas
    from .sources.peek import (
        PEEK_ROWS,
        SourcePeek,
        SourceSummary,
        Stopped,
        peek_source,
        summarise_sources,
    )
    from .sqliteconfig import configure_sqlite
    from .sync.cutover import EXIT_REFUSED, CutoverRefused, CutoverResult, cutover
    from .sync.durations import duration_text, parse_duration
    from .sync.loop import SyncResult, freeze_line, sync
    from .undo.result import EXIT_UNDO_REFUSED, UndoRefused, UndoResult
    from .units import size_text
    from .values.logical import LOGICAL_TYPES
    from .values.transform import json_default
    from .verify.result import VerifyResult

# What a front end needs besides the operations, each loaded from its home on first use
# (PEP 562): `ferry --help` does not import the whole engine.
_HOMES = {
    **dict.fromkeys(
        ["BackupCheck", "find_backup", "list_backups", "verify_backup"], "ferry.backup.check"
    ),
    "Backup": "ferry.backup.create",
    **dict.fromkeys(["backup_root", "source_files"], "ferry.backup.layout"),
    "BackupError": "ferry.backup.faults",
    **dict.fromkeys(["PruneEntry", "prune_backups", "prune_plan"], "ferry.backup.prune"),
    **dict.fromkeys(["CheckItem", "CheckReport"], "ferry.check"),
    "demo_source": "ferry.demo",
    **dict.fromkeys(
        [
            "Profile",
            "delete_profile",
            "load_profiles",
            "make_profile",
            "override_target",
            "profiles_path",
            "save_profile",
            "target_for",
        ],
        "ferry.profiles",
    ),
    **dict.fromkeys(["ReportProof", "verify_report"], "ferry.report.proof"),
    "RunResult": "ferry.results",
    **dict.fromkeys(["ReversePlan", "reverse_plan"], "ferry.reverseplan"),
    **dict.fromkeys(["RollbackResult", "mark_migrated", "outside_plan"], "ferry.rollback"),
    **dict.fromkeys(["RunHistory", "RunRecord"], "ferry.runs"),
    **dict.fromkeys(["log_exception", "log_path", "setup_logging"], "ferry.safety.logfile"),
    **dict.fromkeys(
        [
            "DEFAULT_PASSWORD_ENV",
            "keyring_status",
            "password_spellings",
            "refuse_password",
            "store_password",
        ],
        "ferry.safety.passwords",
    ),
    **dict.fromkeys(["QuietReport", "check_quiet"], "ferry.safety.quiet"),
    **dict.fromkeys(
        ["SigningError", "config_dir", "import_key", "own_key"], "ferry.safety.signing"
    ),
    "draft_comments": "ferry.scan.draftdoc",
    **dict.fromkeys(["ScanResult", "describe_found"], "ferry.scan.folder"),
    **dict.fromkeys(
        ["SOURCE_PASSWORD_HINT", "is_postgres_url", "password_refused"], "ferry.scan.pgdraft"
    ),
    **dict.fromkeys(
        [
            "EFFECT_COUNTS",
            "answer",
            "answer_and_save",
            "answer_counts",
            "describe",
            "effects",
            "how_to_answer",
            "open_questions",
            "require_answered",
            "takes_value",
        ],
        "ferry.scan.questions",
    ),
    **dict.fromkeys(
        [
            "WORKSPACE_DIR_ENV",
            "default_workspace",
            "is_within",
            "plan_in",
            "rebase_paths",
            "rebase_paths",
            "workspaces_root",
        ],
        "ferry.scan.workspace",
    ),
    "grouped": "ferry.shape.carried",
    **dict.fromkeys(["create_database", "list_databases", "list_schemas"], "ferry.shape.pgserver"),
    **dict.fromkeys(
        [
            "PEEK_ROWS",
            "SourcePeek",
            "SourceSummary",
            "Stopped",
            "peek_source",
            "summarise_sources",
        ],
        "ferry.sources.peek",
    ),
    "size_text": "ferry.units",
    "freeze_startup": "ferry.gcfreeze",
    "hold_collections": "ferry.gcfreeze",
    "configure_sqlite": "ferry.sqliteconfig",
    "begin_early_reads_for_command": "ferry.earlydelta",
    **dict.fromkeys(["EXIT_UNDO_REFUSED", "UndoRefused", "UndoResult"], "ferry.undo.result"),
    **dict.fromkeys(
        ["EXIT_REFUSED", "CutoverRefused", "CutoverResult", "cutover"], "ferry.sync.cutover"
    ),
    **dict.fromkeys(["duration_text", "parse_duration"], "ferry.sync.durations"),
    **dict.fromkeys(["SyncResult", "freeze_line", "sync"], "ferry.sync.loop"),
    "LOGICAL_TYPES": "ferry.values.logical",
    "json_default": "ferry.values.transform",
    "VerifyResult": "ferry.verify.result",
}

__getattr__ = lazy_exports(__name__, _HOMES)

T = TypeVar("T")

# -- the operations -----------------------------------------------------------------------------


def scan(
    folder: str | Path,
    *,
    emit: Emit = ignore_events,
    cancel: CancelToken | None = None,
    target: str | None = None,
    schema: str | Path | None = None,
    plan_dir: str | Path | None = None,
    source_schema: str | None = None,
) -> ScanResult:
    """Find the sources in ``folder`` (a folder, one file, or a PostgreSQL URL) and draft a
    plan for ``target`` (a URL; default a SQLite file beside the plan). Blocking: run it in a
    thread from a front end. ``emit`` gets a :class:`~ferry.events.TableProgress` per batch
    read of each source table (``source.table``; ``rows_total`` the source's estimate, None
    for a JSON file). See :func:`ferry.scan.folder.scan_folder` for the options."""
    from .scan.folder import scan_folder

    started = time.perf_counter()
    emit(StepStarted("scan", str(folder)))
    result = scan_folder(
        folder,
        target,
        schema,
        plan_dir=plan_dir,
        cancel=cancel,
        source_schema=source_schema,
        progress=_scan_progress(emit, started) if emit is not ignore_events else None,
    )
    emit(StepFinished("scan", time.perf_counter() - started))
    return result


def _scan_progress(emit: Emit, started: float) -> Callable[[str, int, int | None], None]:
    """A scan's progress as :class:`~ferry.events.TableProgress` events (a table's rate
    counted from the moment the table before it was last heard of)."""
    last = [started]
    began: dict[str, float] = {}

    def told(table: str, rows: int, total: int | None) -> None:
        now = time.perf_counter()
        since = began.setdefault(table, last[0])
        last[0] = now
        emit(TableProgress(table, rows, total, rows / max(now - since, 1e-3)))

    return told


async def check(
    plan: Plan, *, emit: Emit = ignore_events, cancel: CancelToken | None = None
) -> CheckReport:
    """Preflight: open every source and the target, write nothing. A ``cancel`` stops the
    check at once (its connections closed) with :class:`~ferry.errors.Cancelled`."""
    from .check import check_plan

    started = time.perf_counter()
    emit(StepStarted("check", plan.name))
    work = check_plan(plan)
    report = await (_until_cancelled(work, cancel) if cancel is not None else work)
    emit(StepFinished("check", time.perf_counter() - started))
    return report


async def backup(
    plan: Plan,
    *,
    emit: Emit = ignore_events,
    cancel: CancelToken | None = None,
    pg_method: str = "auto",
) -> Backup:
    """Back up every source file and the target (:func:`ferry.backup.create.create_backup`)."""
    from .backup.create import create_backup

    return await create_backup(plan, emit, cancel, pg_method=pg_method)


async def preview(
    plan: Plan,
    *,
    emit: Emit = ignore_events,
    cancel: CancelToken | None = None,
    diff_tables: Collection[str] = (),
    diff_limit: int = 100,
    sample: int | None = None,
    write_reports: bool = True,
    wait: bool = False,
) -> RunResult:
    """Run the whole migration in a transaction and roll it back: the exact counts, and up to
    ``diff_limit`` row diffs of each table in ``diff_tables`` (``"*"``: all). ``sample`` reads
    only the first rows of each source table. The target is unchanged."""
    from .migrate import migrate as run_plan

    return await run_plan(
        plan,
        emit=emit,
        cancel=cancel,
        preview=True,
        diff_tables=diff_tables,
        diff_limit=diff_limit,
        sample=sample,
        write_reports=write_reports,
        wait=wait,
    )


async def migrate(
    plan: Plan,
    *,
    emit: Emit = ignore_events,
    cancel: CancelToken | None = None,
    backup: bool | Backup = True,
    write_reports: bool = True,
    wait: bool = False,
) -> RunResult:
    """Back up, then run the plan: every table in one transaction, journaled in the target.

    ``backup=True`` (the default) takes a backup of the sources and the target first (its
    steps are emitted, then a :class:`~ferry.events.BackupTaken`); a :class:`Backup` taken
    before (the wizard's Backup page) is linked to the run instead; ``backup=False`` runs
    without one (``ferry migrate --no-backup``). The target's run lock is held across both
    steps, and open questions are refused before anything is written.
    """
    from .backup.create import Backup, create_backup
    from .migrate import migrate as run_plan
    from .safety.runlock import hold_target_async
    from .scan.questions import require_answered

    require_answered(plan)  # before the backup: the operator's open decisions come first
    async with hold_target_async(plan.target, plan.base_dir, wait=wait, emit=emit, cancel=cancel):
        taken: Backup | None = None
        if isinstance(backup, Backup):
            taken = backup
        elif backup:
            taken = await create_backup(plan, emit, cancel)
            emit(BackupTaken(taken))
        return await run_plan(
            plan,
            emit=emit,
            cancel=cancel,
            backup=taken.to_dict() if taken is not None else None,
            write_reports=write_reports,
            wait=wait,
        )


async def verify(
    plan: Plan,
    *,
    emit: Emit = ignore_events,
    cancel: CancelToken | None = None,
    write_reports: bool = True,
) -> VerifyResult:
    """Compare the plan's sources (after transform) with the target; the target is only read."""
    from .verify.run import verify as run_verify

    return await run_verify(plan, emit=emit, cancel=cancel, write_reports=write_reports)


async def rollback(
    plan: Plan,
    *,
    emit: Emit = ignore_events,
    cancel: CancelToken | None = None,
    backup_id: str | None = None,
    restore_sources: bool = False,
    trust_unsigned: bool = False,
) -> RollbackResult:
    """Restore the target (and with ``restore_sources`` the source files) from backup
    ``backup_id`` (default the newest complete one); see :func:`ferry.rollback.rollback`."""
    from .rollback import rollback as run_rollback

    return await run_rollback(
        plan, backup_id, restore_sources, emit, cancel, trust_unsigned=trust_unsigned
    )


async def runs(
    plan: Plan,
    *,
    emit: Emit = ignore_events,
    cancel: CancelToken | None = None,
    reports: bool = True,
) -> RunHistory:
    """The run history of the plan's target, oldest first: migrations and rollbacks from its
    journal and, with ``reports``, verifications, previews and failed runs from their reports.
    The target is only read (:func:`ferry.runs.read_runs`)."""
    from .runs import read_runs

    work = read_runs(plan, reports=reports)
    return await (_until_cancelled(work, cancel) if cancel is not None else work)


async def undo(
    plan: Plan,
    *,
    emit: Emit = ignore_events,
    cancel: CancelToken | None = None,
    run_id: str | None = None,
    keep_app_changes: bool = False,
    preview: bool = False,
    wait: bool = False,
) -> UndoResult:
    """Revert exactly what run ``run_id`` (default: the last migration not undone) changed,
    in one transaction, never overwriting a row the app changed since; ``preview`` changes
    nothing. Raises :class:`~ferry.undo.result.UndoRefused` (the target unchanged) when it
    cannot; see :func:`ferry.undo.engine.undo`."""
    from .undo.engine import undo as run_undo

    return await run_undo(
        plan,
        emit=emit,
        cancel=cancel,
        run_id=run_id,
        keep_app_changes=keep_app_changes,
        preview=preview,
        wait=wait,
    )


async def _until_cancelled(work: Awaitable[T], cancel: CancelToken, poll: float = 0.05) -> T:
    """Await ``work`` (an engine call that takes no cancel token) but stop it as soon as
    ``cancel`` is set: its task is cancelled, so its own clean-up (rollback, close) runs."""
    import asyncio  # here, not at the top: `ferry --help` imports this module

    task = asyncio.ensure_future(work)
    try:
        while not task.done():
            cancel.raise_if_cancelled()
            await asyncio.wait({task}, timeout=poll)
    except (Cancelled, asyncio.CancelledError):
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        raise
    return task.result()


# -- helpers for front ends ---------------------------------------------------------------------


@contextlib.contextmanager
def target_lock(
    plan: Plan, *, wait: bool = False, notify: Callable[[str], None] | None = None
) -> Iterator[None]:
    """Hold the target's run lock (blocking) across several operations: a second run stops at
    once (:class:`~ferry.errors.TargetBusyError`) or, with ``wait``, tells ``notify`` and
    waits. The lock is re-entrant, so the operations inside take it again freely."""
    from .safety.runlock import hold_target

    with hold_target(plan.target, plan.base_dir, wait=wait, notify=notify):
        yield


def warm_up() -> None:
    """Import the modules a run needs (migrate, preview, verify, backup), which ``ferry.api``
    leaves to the first call. A GUI calls this in a thread of its own at start: imported on
    its event loop at the first run, they held the loop for 0.1–0.2 s of CPU. The modules a
    run loads only on some paths come too: the report's page, a schema file's splitter, the
    PostgreSQL dialect (the command line does without them when its run does)."""
    import sqlparse  # noqa: F401
    from sqlalchemy.dialects import postgresql  # noqa: F401

    from . import migrate  # noqa: F401
    from .backup import create, pgdump  # noqa: F401
    from .report import html  # noqa: F401
    from .scan import questions  # noqa: F401
    from .verify import run  # noqa: F401


def journal_label(plan: Plan) -> str:
    """Where a run of ``plan`` is journaled in its target (``ferry.runs``, ``_ferry_runs``)."""
    from .load.journal import journal_place

    return journal_place("sqlite" if plan.target.is_sqlite else "postgresql").label


__all__ = [
    "DEFAULT_PASSWORD_ENV",
    "EFFECT_COUNTS",
    "EXIT_REFUSED",
    "EXIT_UNDO_REFUSED",
    "LOGICAL_TYPES",
    "PEEK_ROWS",
    "SOURCE_PASSWORD_HINT",
    "WORKSPACE_DIR_ENV",
    "Backup",
    "BackupCheck",
    "BackupError",
    "CheckItem",
    "CheckReport",
    "CutoverRefused",
    "CutoverResult",
    "Profile",
    "PruneEntry",
    "QuietReport",
    "ReportProof",
    "ReversePlan",
    "RollbackResult",
    "RunHistory",
    "RunRecord",
    "RunResult",
    "ScanResult",
    "SigningError",
    "SourcePeek",
    "SourceSummary",
    "Stopped",
    "SyncResult",
    "UndoRefused",
    "UndoResult",
    "VerifyResult",
    "answer",
    "answer_and_save",
    "answer_counts",
    "backup",
    "backup_root",
    "begin_early_reads_for_command",
    "check",
    "check_quiet",
    "config_dir",
    "configure_sqlite",
    "create_database",
    "cutover",
    "default_workspace",
    "delete_profile",
    "demo_source",
    "describe",
    "describe_found",
    "draft_comments",
    "duration_text",
    "effects",
    "find_backup",
    "freeze_line",
    "freeze_startup",
    "grouped",
    "hold_collections",
    "how_to_answer",
    "import_key",
    "is_postgres_url",
    "is_within",
    "journal_label",
    "json_default",
    "keyring_status",
    "list_backups",
    "list_databases",
    "list_schemas",
    "load_profiles",
    "log_exception",
    "log_path",
    "make_profile",
    "mark_migrated",
    "migrate",
    "open_questions",
    "outside_plan",
    "override_target",
    "own_key",
    "parse_duration",
    "password_refused",
    "password_spellings",
    "peek_source",
    "plan_in",
    "preview",
    "profiles_path",
    "prune_backups",
    "prune_plan",
    "rebase_paths",
    "refuse_password",
    "require_answered",
    "reverse_plan",
    "rollback",
    "runs",
    "save_profile",
    "scan",
    "setup_logging",
    "size_text",
    "source_files",
    "store_password",
    "summarise_sources",
    "sync",
    "takes_value",
    "target_for",
    "target_lock",
    "undo",
    "verify",
    "verify_backup",
    "verify_report",
    "warm_up",
    "workspaces_root",
]
