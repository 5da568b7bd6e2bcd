"""``ferry undo PLAN [--run ID] [--keep-app-changes] [--preview] [--yes]``: revert exactly
what one run changed (:func:`ferry.api.undo`).

Exit codes: 0 undone (or previewed), 12 refused (the app changed rows the run wrote, later
runs built on it, or it recorded no changeset; the target unchanged), the usual ones
otherwise (3 invalid plan, 5 target, 9 another run holds the target, 130 cancelled).
"""

from __future__ import annotations

import json
from collections import Counter

import click
from rich.markup import escape

from ..api import UndoRefused, UndoResult, undo
from ..events import CancelToken
from .common import fail, load_plan_file, out, run
from .target import target_option


def register(cli: click.Group) -> None:
    """Add ``undo`` to the ``ferry`` command group."""
    cli.add_command(undo_command)


def _show(result: UndoResult, preview: bool) -> None:
    verb = "would undo" if preview else "undid"
    out.print(f"{verb} run {escape(result.undone_run)} on {escape(result.target)}")
    untouched = 0
    for table in result.tables:
        counts = (table.deleted, table.reverted, table.restored, table.kept)
        if not any(counts) and not table.dropped and table.verdict == "PASS":
            untouched += 1  # the run changed nothing there: one line for them all, below
            continue
        dropped = ", table dropped" if table.dropped else ""
        out.print(
            f"  {escape(table.name)}: {table.deleted} inserted row(s) deleted, "
            f"{table.reverted} updated row(s) reverted, {table.restored} deleted row(s) put "
            f"back, {table.kept} kept (changed by the app){dropped}; proof {table.verdict}"
        )
    if untouched:
        out.print(f"  {untouched} other table(s): the run changed nothing there; proof PASS")
    if preview:
        for row in result.rows:
            out.print(f"    {row['action']:6} {escape(row['table'])} {escape(row['key'])}")
        listed = Counter(row["table"] for row in result.rows)
        if any(t.deleted + t.reverted + t.restored > listed[t.name] for t in result.tables):
            out.print("    (a table's first rows are listed; the counts above are whole)")
        out.print("Nothing was changed (preview).")
    for change in result.app_changes:
        out.print(f"  kept: {escape(change['table'])} {escape(change['key'])}")
    for warning in result.warnings:
        out.print(f"warning: {escape(warning)}")
    if result.report_path:
        out.print(f"report: {escape(result.report_path)}")


@click.command(name="undo")
@click.argument("plan_file", metavar="PLAN")
@click.option("--run", "run_id", default=None, help="The run to undo (default: the last one).")
@click.option(
    "--keep-app-changes",
    is_flag=True,
    help="Leave rows the app changed since the run as they are and revert the rest.",
)
@click.option("--preview", is_flag=True, help="Count and list what would change; change nothing.")
@click.option("--yes", is_flag=True, help="Do not ask before undoing.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@target_option
def undo_command(
    plan_file: str,
    run_id: str | None,
    keep_app_changes: bool,
    preview: bool,
    yes: bool,
    as_json: bool,
    target_override: str | None,
) -> None:
    """Revert exactly what one run changed, in one transaction, never overwriting rows the
    app changed since (they are listed; --keep-app-changes leaves them and reverts the rest)."""
    plan = load_plan_file(plan_file, target_override)
    if not preview and not yes:
        which = f"run {run_id}" if run_id else "the last run"
        click.confirm(f"Undo {which} of {plan.name}?", abort=True)

    async def attempt(cancel: CancelToken) -> UndoResult | UndoRefused:
        try:
            return await undo(
                plan,
                run_id=run_id,
                keep_app_changes=keep_app_changes,
                preview=preview,
                cancel=cancel,
            )
        except UndoRefused as exc:  # listed below, then the usual one line and exit code
            return exc

    result = run(attempt)
    if isinstance(result, UndoRefused):
        for change in result.app_changes[:20]:
            out.print(f"  changed by the app: {escape(change['table'])} {escape(change['key'])}")
        fail(result)
        return
    if as_json:
        out.print_json(json.dumps(result.to_dict(), default=str))
        return
    _show(result, preview)


__all__ = ["register", "undo_command"]
