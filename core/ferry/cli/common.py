"""What every ``ferry`` command shares: the consoles, failing with one line and an exit code,
running an engine step with a clean Ctrl-C, loading the plan, and the progress bars.

The command modules (:mod:`ferry.cli.init`, :mod:`~ferry.cli.migrate`, :mod:`~ferry.cli.backup`,
:mod:`~ferry.cli.verify`, :mod:`~ferry.cli.proof`, :mod:`~ferry.cli.profiles`) import these
and the public engine API (:mod:`ferry.api`); none imports another, and
:mod:`ferry.cli.command` only registers them on the ``ferry`` group.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
from rich.console import Console
from rich.markup import escape

from ..api import log_exception, size_text
from ..errors import Cancelled, FerryError
from ..events import (
    BackupTaken,
    CancelToken,
    Event,
    RowRejected,
    RunWarning,
    StepStarted,
    TableFinished,
    TableProgress,
)

if TYPE_CHECKING:
    import asyncio

    # The plan's models (pydantic) and rich's progress bars load when a command needs them,
    # not for `ferry --help`.
    from rich.progress import Progress, TaskID

    from ..plan import Plan

T = TypeVar("T")
# Pipes and CI logs get 120 columns instead of rich's 80, so tables are not cut.
_log = logging.getLogger("ferry.cli.command")
err = Console(stderr=True, highlight=False, width=None if sys.stderr.isatty() else 120)
out = Console(highlight=False, width=None if sys.stdout.isatty() else 120)


class State:
    """How this command runs: --debug, and Ctrl-C between engine steps."""

    debug = False
    #: the real command (main) also cancels cleanly on a Ctrl-C after an engine step
    clean_ctrl_c = False
    #: a Ctrl-C came between steps (its exception may have been swallowed by a library
    #: importing optional modules: the next engine step then refuses to start)
    interrupted = False
    #: the event loop's clock at the first Ctrl-C of the running engine step
    first_press = 0.0


def fail(exc: BaseException) -> None:
    """Print ``exc`` as one line and a hint, log it, and exit with its code."""
    log_exception(_log, "the command", exc)
    if State.debug:
        raise exc
    # soft_wrap: an error stays one line (for grep and logs) however long its path is;
    # the message is data, so rich markup in it (``[x]``) is printed as it is.
    if isinstance(exc, FerryError):
        err.print(f"[bold red]error:[/] {escape(exc.message)}", soft_wrap=True)
        if exc.hint:
            err.print(f"[bold]hint:[/] {escape(exc.hint)}", soft_wrap=True)
        if exc.report_path:
            err.print(f"report: {escape(exc.report_path)}", soft_wrap=True)
        sys.exit(exc.exit_code)
    err.print(
        f"[bold red]unexpected error:[/] {type(exc).__name__}: {escape(str(exc))}", soft_wrap=True
    )
    err.print("[bold]hint:[/] run again with --debug for details, and report it.")
    sys.exit(1)


def run(coro_factory: Callable[[CancelToken], Coroutine[Any, Any, T]]) -> T:
    """Run an engine coroutine; the first Ctrl-C cancels cleanly, a second one aborts."""
    import asyncio  # loaded by the engine's modules anyway; not for `ferry --help`

    from ..api import freeze_startup

    if State.interrupted:
        fail(_between_steps())
    freeze_startup()  # what the imports made, out of the collector's way (once a process)
    cancel = CancelToken()

    async def main() -> T:
        loop = asyncio.get_running_loop()
        # Windows has no add_signal_handler: Ctrl-C then interrupts the default way.
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal.SIGINT, _interrupt, cancel, loop)
        return await coro_factory(cancel)

    try:
        return asyncio.run(main())
    except KeyboardInterrupt:  # the second Ctrl-C (see _interrupt): not click's "Aborted!"
        fail(_aborted())
        raise  # unreachable: fail exits
    except (FerryError, Exception) as exc:
        fail(exc)
        raise  # unreachable: fail exits
    finally:
        if State.clean_ctrl_c:  # asyncio put Python's KeyboardInterrupt handler back
            signal.signal(signal.SIGINT, cancel_between_steps)


def cancel_before_steps(_signum: int, _frame: object) -> None:
    """Ctrl-C before any engine step ran (loading the plan, scanning, a prompt): nothing was
    started, so the command stops with the usual one line and exit 130 (not click's
    "Aborted!")."""
    State.interrupted = True
    raise Cancelled("Cancelled before anything started: nothing was changed.")


def cancel_between_steps(_signum: int, _frame: object) -> None:
    """Ctrl-C after an engine step, while none runs (between the backup and the migration,
    printing a result): nothing is half-done, so the command stops cleanly."""
    State.interrupted = True
    raise _between_steps()


def _between_steps() -> Cancelled:
    return Cancelled(
        "Cancelled between steps: a finished step (a backup, a committed migration) stays "
        "done; nothing else was started."
    )


#: a second SIGINT this soon after the first is the same press: ``timeout -s INT`` sends its
#: signal to the command and to its process group, and some terminals and process managers
#: forward one Ctrl-C twice; a person pressing again to abort does so later
SAME_PRESS_S = 1.0


def _interrupt(cancel: CancelToken, loop: asyncio.AbstractEventLoop) -> None:
    if cancel.cancelled:
        since = loop.time() - State.first_press
        if since < SAME_PRESS_S:
            _log.info("a second SIGINT %.3f s after the first: taken as the same press", since)
            return
        loop.remove_signal_handler(signal.SIGINT)
        os.kill(os.getpid(), signal.SIGINT)
        return
    State.first_press = loop.time()
    err.print("\n[yellow]Cancelling: rolling back ... (Ctrl-C again to abort at once)[/]")
    cancel.cancel()


def _aborted() -> Cancelled:
    return Cancelled(
        "Aborted at once (Ctrl-C pressed again): Ferry did not wait for the rollback. As "
        "after a kill, the target keeps nothing this step left unfinished: its database "
        "discards the open transaction, and the next run cleans up what is left."
    )


WAIT_HELP = "When another Ferry run is writing to the target, wait for it (else exit 9 at once)."


def in_existing_folder(
    _ctx: click.Context, _param: click.Parameter, value: Path | None
) -> Path | None:
    """A file Ferry will write must be in a folder that exists; known before any work."""
    if value is not None and not value.resolve().parent.is_dir():
        raise click.BadParameter(f"the folder {value.parent} does not exist")
    return value


@contextlib.contextmanager
def target_locked(plan: Plan, wait: bool) -> Iterator[None]:
    """Hold the target's run lock across the command's steps (backup and migration): a second
    run stops at once with who holds it (exit 9), or with ``--wait`` says so and waits."""
    from ..api import target_lock

    def notify(message: str) -> None:
        err.print(f"[yellow]waiting:[/] {escape(message)}", soft_wrap=True)

    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(target_lock(plan, wait=wait, notify=notify))
        except FerryError as exc:
            fail(exc)
        yield


def load_plan_file(path: str, target: str | None = None) -> Plan:
    """The plan at ``path``; with ``target`` (``--target URL|PROFILE``) its target replaced
    for this run only (the file is not changed)."""
    from ..api import override_target
    from ..plan import load_plan

    try:
        plan = load_plan(path)
        if target is not None:
            override_target(plan, target)
            _log.info("--target: this run uses %s instead of the plan's target", plan.target.url)
        return plan
    except FerryError as exc:
        fail(exc)
        raise


class ProgressView:
    """Renders engine events as one progress bar per table (rows, rows/s, ETA)."""

    def __init__(self, quiet: bool) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.quiet = quiet
        self.progress: Progress = Progress(
            TextColumn("{task.description:<24}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]:>10}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=err,
            disable=quiet,
            transient=False,
        )
        self.tasks: dict[str, TaskID] = {}
        #: the warnings printed as they came (a summary after the run leaves them out)
        self.warned: set[str] = set()

    def __call__(self, event: Event) -> None:
        if self.quiet:
            return
        if isinstance(event, TableProgress):
            task = self.tasks.get(event.table)
            if task is None:
                task = self.progress.add_task(escape(event.table), total=event.rows_total, rate="")
                self.tasks[event.table] = task
            total = (
                event.rows_total
                if event.rows_total and event.rows_total >= event.rows_done
                else None
            )
            self.progress.update(
                task,
                completed=event.rows_done,
                total=total,
                rate=f"{event.rows_per_second:,.0f} rows/s",
            )
        elif isinstance(event, TableFinished) and event.table in self.tasks:
            # The source's row estimate may have been high (merged copies, repeated keys):
            # a finished table's bar ends full.
            task = self.tasks[event.table]
            done = next(t.completed for t in self.progress.tasks if t.id == task)
            self.progress.update(task, total=max(done, 1), completed=max(done, 1))
        elif isinstance(event, StepStarted) and event.step in ("schema", "merge", "journal"):
            self.progress.console.print(f"[dim]- {event.step}[/]")
        elif isinstance(event, StepStarted) and event.step == "read" and event.detail:
            # A restarted read (a table is staged after all) says why the schema step repeats.
            self.progress.console.print(f"[dim]- read {escape(event.detail)}[/]")
        elif isinstance(event, RunWarning):
            self.warned.add(event.message)
            self.progress.console.print(f"[yellow]warning:[/] {escape(event.message)}")
        elif isinstance(event, RowRejected):
            pass  # summarised after the run
        elif isinstance(event, BackupTaken):  # the backup ferry migrate takes first
            made = event.backup
            self.progress.console.print(
                f"Backup {escape(made.id)} ({size_text(made.total_bytes)}) in "
                f"{escape(str(made.path))}"
            )
