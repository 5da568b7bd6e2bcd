"""``ferry sync PLAN`` (delta syncs in a loop while the app keeps writing) and ``ferry cutover
PLAN`` (the final sync of the freeze window): :mod:`ferry.sync`.

``sync`` prints one line per cycle (time, duration, rows changed per table, how far behind the
source the target is) and the freeze-window figure after each; Ctrl-C between cycles stops it
with a summary (exit 0), during a cycle rolls that cycle back (exit 130, as a cancelled
migrate). ``cutover`` exits 0 when the final sync verified PASS, 7 on FAIL, 11 when refused (a
source not quiet: nothing ran; a source changed during the final sync: that run committed).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.markup import escape

from ..errors import Cancelled
from .common import ProgressView, err, fail, load_plan_file, out, run, target_locked
from .target import target_option

if TYPE_CHECKING:
    from ..events import Event, SyncCycle
    from ..plan import Plan

#: exit code of a verification that FAILED (as ``ferry verify``)
_EXIT_FAIL = 7


def register(cli: click.Group) -> None:
    """Add ``sync`` and ``cutover`` to the ``ferry`` command group."""
    cli.add_command(sync_command)
    cli.add_command(cutover_command)


def _duration(_ctx: click.Context, param: click.Parameter, value: str) -> float:
    from ..api import parse_duration

    try:
        return parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def cycle_line(cycle: SyncCycle) -> str:
    """``10:00:03  cycle 2  0.41 s  changed jobs 3, steps 12  behind 2.10 s`` (tables with
    changed rows only; ``no rows changed`` when none)."""
    from ..api import duration_text

    when = cycle.started_at.astimezone().strftime("%H:%M:%S")
    changed = ", ".join(f"{name} {count}" for name, count in cycle.changed.items() if count)
    return (
        f"{when}  cycle {cycle.cycle}  {duration_text(cycle.seconds)}  "
        f"{'changed ' + changed if changed else 'no rows changed'}  "
        f"behind {duration_text(cycle.behind)}"
    )


@click.command(name="sync")
@click.argument("plan_file", metavar="PLAN")
@click.option(
    "--every",
    default="30s",
    show_default=True,
    callback=_duration,
    help="Wait this long between cycles (30s, 2m, 1h, 500ms).",
)
@click.option(
    "--cycles", type=click.IntRange(min=1), help="Stop after N cycles (default: until Ctrl-C)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON at the end.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bars.")
@click.option("--no-backup", is_flag=True, help="Do not back up before the first cycle.")
@click.option("--wait", is_flag=True, help="Wait for another Ferry run on the target to end.")
@target_option
def sync_command(
    plan_file: str,
    every: float,
    cycles: int | None,
    as_json: bool,
    quiet: bool,
    no_backup: bool,
    wait: bool,
    target_override: str | None,
) -> None:
    """Run delta syncs in a loop while the application keeps writing: each cycle a journaled
    migration (all or nothing). Ctrl-C between cycles stops cleanly."""
    from ..api import freeze_line, sync
    from ..events import SyncCycle

    plan = load_plan_file(plan_file, target_override)
    seen: list[SyncCycle] = []

    class _View(ProgressView):
        """Progress bars, and one line per cycle with the freeze-window figure."""

        def __call__(self, event: Event) -> None:
            if isinstance(event, SyncCycle):
                seen.append(event)
                if not as_json:
                    out.print(escape(cycle_line(event)), soft_wrap=True)
                    out.print(f"[dim]  {escape(freeze_line(seen))}[/]", soft_wrap=True)
                return
            super().__call__(event)

    view = _View(quiet or as_json)
    with target_locked(plan, wait):
        backup = None if no_backup else _backup(plan, quiet or as_json)
        try:
            with view.progress:
                result = run(
                    lambda cancel: sync(
                        plan, every=every, cycles=cycles, emit=view, cancel=cancel, backup=backup
                    )
                )
        except SystemExit:
            if seen and not as_json:  # a cancelled or failed cycle: what did commit
                err.print(f"{len(seen)} cycle(s) committed before it; {freeze_line(seen)}.")
            raise
    if as_json:
        out.print_json(json.dumps(result.to_dict(), default=str))
        return
    how = "stopped between cycles" if result.stopped == "cancelled" else "done"
    out.print(f"Sync {how}: {len(result.cycles)} cycle(s), each journaled.")
    if result.cycles:
        out.print(f"Freeze window: {escape(result.freeze_line())}.")
    if result.report_path:
        out.print(f"Sync report (every cycle): {escape(result.report_path)}", soft_wrap=True)
    out.print(f"Next, with the application stopped: ferry cutover {escape(plan_file)}")


def _backup(plan: Plan, quiet: bool) -> dict[str, Any]:
    """The backup taken before the first cycle (or the cutover's final sync)."""
    from ..api import backup as take_backup

    backup = run(lambda cancel: take_backup(plan, cancel=cancel))
    if not quiet:
        err.print(f"Backup {escape(backup.id)} in {escape(str(backup.path))}")
    info: dict[str, Any] = backup.to_dict()
    return info


@click.command(name="cutover")
@click.argument("plan_file", metavar="PLAN")
@click.option(
    "--settle",
    default="5s",
    show_default=True,
    callback=_duration,
    help="How long the sources must stay unchanged before the final sync.",
)
@click.option(
    "--rename-sources",
    is_flag=True,
    help="After a PASS, rename the source files to NAME.migrated (rollback renames back).",
)
@click.option(
    "--reverse-out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where the reverse plan goes (SQLite sources; default: PLAN's name + .reverse.toml).",
)
@click.option("--yes", is_flag=True, help="Do not ask whether the application is stopped.")
@click.option("--no-backup", is_flag=True, help="Do not back up before the final sync.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bars.")
@target_option
def cutover_command(
    plan_file: str,
    settle: float,
    rename_sources: bool,
    reverse_out: Path | None,
    yes: bool,
    no_backup: bool,
    as_json: bool,
    quiet: bool,
    target_override: str | None,
) -> None:
    """The final sync of the freeze window: check the sources are quiet, sync, check nothing
    changed, verify, write the reverse plan and the cutover report.

    Exit code 0 on PASS, 7 when verification FAILED, 11 when refused.
    """
    from ..api import cutover

    plan = load_plan_file(plan_file, target_override)
    if not yes and not click.confirm(
        "Is the application stopped (the freeze window starts now)?", default=False, err=True
    ):
        fail(Cancelled("Cutover not started: nothing was changed."))
    if reverse_out is None:
        reverse_out = Path(plan_file).with_suffix(".reverse.toml")
    view = ProgressView(quiet or as_json)
    with view.progress:
        result = run(
            lambda cancel: cutover(
                plan,
                settle=settle,
                rename_sources=rename_sources,
                reverse_out=reverse_out,
                take_backup=not no_backup,
                emit=view,
                cancel=cancel,
            )
        )
    if as_json:
        out.print_json(json.dumps(result.to_dict(), default=str))
        sys.exit(0 if result.passed else _EXIT_FAIL)
    for line in result.quiet:
        out.print(escape(line), soft_wrap=True)
    changed = ", ".join(f"{name} {n}" for name, n in result.final_changed.items() if n)
    out.print(
        f"Final sync (run {escape(str(result.final_run_id))}): "
        f"{result.final_seconds or 0:.2f} s, changed {escape(changed or 'nothing')}"
    )
    for warning in result.warnings:
        if warning not in view.warned:  # (the final sync's were printed as it ran)
            out.print(f"[yellow]warning:[/] {escape(warning)}", soft_wrap=True)
    if result.passed:
        out.print(f"[bold white on green] PASS [/] freeze window {result.seconds:.1f} s so far.")
        out.print(f"Switch the application to: {escape(result.switch_to)}", soft_wrap=True)
        if result.reverse_plan:
            out.print(f"Reverse plan: {escape(result.reverse_plan)}", soft_wrap=True)
        for note in result.reverse_notes:
            out.print(f"  note: {escape(note)}", soft_wrap=True)
        for line in result.renamed:
            out.print(f"renamed {escape(line)}", soft_wrap=True)
    else:
        out.print("[bold white on red] FAIL [/] verification failed: do not switch.")
        if result.verify_report:
            out.print(f"Verification report: {escape(result.verify_report)}")
    if result.report_path:
        out.print(f"Report: {escape(result.report_path)}", soft_wrap=True)
    sys.exit(0 if result.passed else _EXIT_FAIL)


__all__ = ["cutover_command", "cycle_line", "register", "sync_command"]
