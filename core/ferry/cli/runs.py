"""``ferry runs PLAN [--json]``: the run history of the plan's target
(:func:`ferry.api.runs`).

The target is only read. A target without a journal yet (no migration committed, or a SQLite
file not made) prints so and exits 0, like an empty ``ferry backups``; with ``--json`` it
prints ``{"journal": false, "runs": [...]}``. The usual exit codes otherwise (3 invalid plan,
5 the target cannot be reached, 130 cancelled).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click
from rich.markup import escape
from rich.table import Table

from ..api import runs as read_runs
from .common import load_plan_file, out, run
from .table import print_table
from .target import target_option

if TYPE_CHECKING:  # the run history's reader loads the engine: on use only
    from ..api import RunRecord


def register(cli: click.Group) -> None:
    """Add ``runs`` to the ``ferry`` command group."""
    cli.add_command(runs_command)


def _count(value: int | None) -> str:
    return "" if value is None else str(value)


def _when(record: RunRecord) -> str:
    return record.started_at.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def _rolled_back(record: RunRecord) -> str:
    if not record.rolled_back:
        return "no"
    return f"yes ({record.rolled_back_by})" if record.rolled_back_by else "yes"


@click.command(name="runs")
@click.argument("plan_file", metavar="PLAN")
@click.option("--json", "as_json", is_flag=True, help="Print the runs as JSON (for scripts).")
@target_option
def runs_command(plan_file: str, as_json: bool, target_override: str | None) -> None:
    """List the runs of the plan's target, oldest first: migrations and rollbacks from its
    journal, verifications, previews and failed runs from their reports (read only)."""
    plan = load_plan_file(plan_file, target_override)
    history = run(lambda cancel: read_runs(plan))
    if as_json:
        out.print_json(
            json.dumps(
                {
                    "target": history.target,
                    "journal": history.has_journal,
                    "runs": [record.to_dict() for record in history.runs],
                }
            )
        )
        return
    if not history.runs:
        what = "no run journal yet" if not history.has_journal else "an empty run journal"
        out.print(
            f"No runs: {escape(history.target)} has {what}. "
            f"`ferry migrate {escape(plan_file)}` records the first.",
            soft_wrap=True,
        )
        return
    table = Table(title=f"runs of {escape(plan.name)} on {escape(history.target)}")
    headers = ("id", "time", "kind", "inserted", "updated", "unchanged", "rejected", "verdict")
    for name in (*headers, "backup", "report", "rolled back", "undone"):
        numeric = name in ("inserted", "updated", "unchanged", "rejected")
        table.add_column(name, justify="right" if numeric else "left", no_wrap=name != "report")
    for record in history.runs:
        table.add_row(
            escape(record.run_id),
            _when(record),
            escape(record.kind),
            _count(record.inserted),
            _count(record.updated),
            _count(record.unchanged),
            _count(record.rejected),
            escape(record.verdict_text),
            escape(record.backup_id or ""),
            escape(record.report_path or ""),
            _rolled_back(record),
            "yes" if record.undone else "no",
        )
    print_table(out, table)
    if not history.has_journal:
        out.print(
            f"{escape(history.target)} has no run journal yet: these runs are known from "
            "their reports only.",
            soft_wrap=True,
        )


__all__ = ["register", "runs_command"]
