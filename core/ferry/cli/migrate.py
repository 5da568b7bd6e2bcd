"""The commands around a migration: ``check``, ``preview``, ``migrate`` and ``demo``.

Each calls one operation of the public API (:mod:`ferry.api`); ``migrate`` leaves the backup
before the migration to the engine (``--no-backup`` turns it off).
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.markup import escape

from ..errors import FerryError
from .common import (
    WAIT_HELP,
    ProgressView,
    State,
    err,
    fail,
    in_existing_folder,
    load_plan_file,
    out,
    run,
    target_locked,
)
from .printing import print_decisions, print_diffs, print_result
from .target import target_option

if TYPE_CHECKING:  # the plan's models (pydantic) load when a command runs
    from ..plan import Plan


def register(cli: click.Group) -> None:
    """Add the commands that run a plan to the ``ferry`` command group."""
    for command in (check, preview, migrate_command, demo):
        cli.add_command(command)


@click.command()
@click.argument("plan_file", metavar="PLAN")
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
@target_option
def check(plan_file: str, as_json: bool, target_override: str | None) -> None:
    """Preflight: open every source and the target, write nothing."""
    from ..api import check as check_plan
    from ..api import describe, open_questions

    plan = load_plan_file(plan_file, target_override)
    report = run(lambda cancel: check_plan(plan, cancel=cancel))

    waiting = open_questions(plan)
    if as_json:
        out.print_json(
            json.dumps(
                {
                    "ok": report.ok,
                    "server": report.server,
                    "existing_tables": report.existing_tables,
                    "tables_to_create": report.tables_to_create,
                    "open_questions": [q.model_dump() for q in waiting],
                    "objects": [o.to_dict() for o in report.objects],
                    # "warning" and "table" only where set: a clean check's items read as before
                    "items": [
                        {k: v for k, v in vars(item).items() if k not in ("warning", "table") or v}
                        for item in report.items
                    ],
                }
            )
        )
    else:
        for item in report.items:
            mark = (
                "[yellow]warn[/]"
                if item.warning
                else "[green]ok[/]  "
                if item.ok
                else "[red]FAIL[/]"
            )
            out.print(f"{mark} {escape(item.subject)}: {escape(item.detail)}")
            if item.hint and not item.ok:
                out.print(f"      hint: {escape(item.hint)}")
        if report.ddl:
            out.print("A run creates:")
            for statement in report.ddl:
                out.print(f"[dim]{escape(statement.strip().rstrip(';'))};[/]")
        for asked in waiting:
            out.print(f"[yellow]open question:[/] {escape(describe(asked))}", soft_wrap=True)
        if waiting:
            out.print(
                f"[red]FAIL[/] {len(waiting)} open question(s): preview and migrate wait "
                'for the answers (answer = "..." in the plan, or ferry init --interactive)',
                soft_wrap=True,
            )
    sys.exit(0 if report.ok and not waiting else 1)


def _engine_run(plan: Plan, preview: bool, as_json: bool, quiet: bool, **options: Any) -> Any:
    """Preview or migrate (the latter backing up first unless ``backup=False``) with
    progress bars."""
    from .. import api
    from .. import migrate as _engine  # noqa: F401  (the engine loaded before run() freezes)

    operation = api.preview if preview else api.migrate
    view = ProgressView(quiet or as_json)
    with view.progress:
        return run(lambda cancel: operation(plan, emit=view, cancel=cancel, **options))


@click.command(name="migrate")
@click.argument("plan_file", metavar="PLAN")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON (for scripts).")
@click.option(
    "--rejects",
    type=click.Path(dir_okay=False, path_type=Path),
    callback=in_existing_folder,
    help="Write the rejected rows to this file (JSON Lines).",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bars.")
@click.option(
    "--no-backup",
    is_flag=True,
    help="Do not back up the sources and the target first (not recommended).",
)
@click.option("--wait", is_flag=True, help=WAIT_HELP)
@target_option
def migrate_command(
    plan_file: str,
    as_json: bool,
    rejects: Path | None,
    quiet: bool,
    no_backup: bool,
    wait: bool,
    target_override: str | None,
) -> None:
    """Back up, then run the plan: every table in one transaction, journaled in the target."""
    plan = load_plan_file(plan_file, target_override)
    _require_answered(plan)
    with target_locked(plan, wait):  # held across the backup and the migration
        result = _engine_run(
            plan, preview=False, as_json=as_json, quiet=quiet, backup=not no_backup
        )
    if rejects is not None:
        try:
            _write_rejects(result, rejects)
        except OSError as exc:
            fail(
                FerryError(
                    f"the migration is committed (run {result.run_id}), but the rejected rows "
                    f"could not be written to {rejects}: {exc.strerror or exc}",
                    hint="Run `ferry migrate` again with --rejects in a writable folder: "
                    "unchanged rows are not written twice.",
                )
            )
    if as_json:
        out.print_json(json.dumps(result.to_dict(), default=str))
        return
    from ..api import journal_label

    print_result(result, "did")
    changed = sum(t.inserted + t.updated + t.deleted for t in result.tables)
    out.print(
        f"[green]Migrated[/] into {escape(result.target)} in {result.seconds:.1f} s: "
        f"{changed} rows changed, run {result.run_id} journaled in "
        f"{journal_label(plan)}."
    )
    if result.report_path:
        out.print(f"Report: {escape(result.report_path)}")
    out.print(f"Next: ferry verify {escape(plan_file)}")


@click.command()
@click.argument("plan_file", metavar="PLAN")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bars.")
@click.option(
    "--diff",
    "diff_tables",
    multiple=True,
    metavar="TABLE",
    help="Show the row-level diff (before/after of each changed column) of TABLE; "
    "repeat it, or give '*' for every table.",
)
@click.option("--diff-limit", default=20, show_default=True, help="Rows of diff per table.")
@click.option(
    "--sample",
    type=click.IntRange(min=1),
    help="Read only the first N rows of each source table (for sources too large to "
    "preview whole); the counts then describe the sample.",
)
@click.option("--wait", is_flag=True, help=WAIT_HELP)
@target_option
def preview(
    plan_file: str,
    as_json: bool,
    quiet: bool,
    diff_tables: tuple[str, ...],
    diff_limit: int,
    sample: int | None,
    wait: bool,
    target_override: str | None,
) -> None:
    """Run the whole migration inside a transaction and roll it back: exact counts."""
    plan = load_plan_file(plan_file, target_override)
    _require_answered(plan)
    with target_locked(plan, wait):
        result = _engine_run(
            plan,
            preview=True,
            as_json=as_json,
            quiet=quiet,
            diff_tables=diff_tables,
            diff_limit=diff_limit,
            sample=sample,
        )
    if as_json:
        data = result.to_dict()
        data["answers"] = _answer_effects(plan, result)
        out.print_json(json.dumps(data, default=str))
        return
    print_result(result, "would")
    print_decisions(result)
    for effect in _answer_effects(plan, result):
        counts = "; ".join(
            f"{name}: {', '.join(f'{n} {k}' for k, n in c.items())}"
            for name, c in effect["tables"].items()
        )
        out.print(
            f"answer {escape(effect['question'])} = {escape(effect['answer'])}: sets "
            f"{escape(', '.join(effect['sets']))}" + (f" ({escape(counts)})" if counts else ""),
            soft_wrap=True,
        )
    if sample is not None:
        out.print(f"[yellow]Sample:[/] the first {sample} rows of each source table only.")
    print_diffs(result)
    for statement in result.ddl:
        out.print(f"[dim]{escape(statement.strip().rstrip(';'))};[/]")

    out.print(f"Preview only: {escape(result.target)} is unchanged.")


def _require_answered(plan: Plan) -> None:
    """Preview and migrate refuse a plan with open questions (exit 3, with the list)."""
    from ..api import require_answered

    try:
        require_answered(plan)
    except FerryError as exc:
        if not State.debug:
            for line in exc.details.splitlines():
                err.print(f"[yellow]open question:[/] {escape(line)}", soft_wrap=True)
        fail(exc)


def _answer_effects(plan: Plan, result: Any) -> list[dict[str, Any]]:
    """Per answered question: what it set, and the preview's counts of the tables it set."""
    from ..api import answer_counts, effects

    return [
        {
            "question": asked.id,
            "answer": asked.answer,
            "sets": effects(plan, asked),
            "tables": answer_counts(asked, result),
        }
        for asked in plan.questions
    ]


def _write_rejects(result: Any, path: Path) -> None:
    from ..api import json_default

    with path.open("w", encoding="utf-8") as handle:
        for reject in result.rejects:
            handle.write(json.dumps(vars(reject), default=json_default, ensure_ascii=False) + "\n")


@click.command()
@click.argument(
    "folder",
    required=False,
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("ferry-demo"),
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bars.")
def demo(folder: Path, quiet: bool) -> None:
    """Copy the bundled demo (an app's JSON, .env and text state) to FOLDER and migrate it
    into an embedded SQLite file there."""
    from ..api import demo_source

    source = demo_source()
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copytree(source, folder, dirs_exist_ok=True)
    plan_path = folder / "ferry.toml"
    out.print(
        f"Demo state copied to [bold]{escape(str(folder))}[/]; plan: {escape(str(plan_path))}"
    )
    plan = load_plan_file(str(plan_path))
    result = _engine_run(plan, preview=False, as_json=False, quiet=quiet)
    print_result(result, "did")
    out.print(f"[green]Done.[/] Look inside with: sqlite3 {escape(str(folder / 'app.db'))} .tables")
