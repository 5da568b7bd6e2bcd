"""The ``ferry`` command: a thin layer over the public engine API.

Exit codes: 0 success; 1 unexpected error; 2 bad command line; 3 invalid plan; 4 a source
cannot be read; 5 the target refused (connection, statement, lock); 6 rows rejected with
``on_reject = "stop"``, or a conflict under rule ``error``; 7 verification FAILED; 8 a backup
is missing, incomplete or tampered with; 130 cancelled (Ctrl-C).
Errors print one line and a hint; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import sys
from collections.abc import Iterator
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import click
from pydantic import ValidationError
from rich.markup import escape
from rich.table import Table

from .. import __version__
from ..errors import Cancelled, FerryError
from ..load.journal import journal_place
from ..plan import Plan, TargetSpec, save_plan
from ..safety.logfile import log_path, setup_logging
from ..scan.workspace import WORKSPACE_DIR_ENV, default_workspace, is_within, plan_in
from ..shape.carried import grouped
from ..units import size_text
from .common import (
    ProgressView,
    State,
    cancel_before_steps,
    err,
    fail,
    load_plan_file,
    out,
    run,
)
from .table import print_table
from .target import target_option

_log = logging.getLogger(__name__)


class _PluginGroup(click.Group):
    """Commands other packages add through the ``ferry.commands`` entry point (the wizard's
    ``ferry gui``), loaded only when that command is asked for: the engine never imports
    them, and ``ferry migrate`` never loads Qt."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        plugins = {ep.name for ep in entry_points(group="ferry.commands")}
        return sorted({*super().list_commands(ctx), *plugins})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None:
            for ep in entry_points(group="ferry.commands", name=cmd_name):
                ep.load()(self)  # its register(cli) adds the command to this group
                command = super().get_command(ctx, cmd_name)
            # A plugin (the wizard) runs no engine step from here: Python's own Ctrl-C.
            signal.signal(signal.SIGINT, signal.default_int_handler)
        return command

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The log file's place, read when the help is shown (``FERRY_LOG_DIR`` may move it)."""
        formatter.write_paragraph()
        # Written as is, not wrapped: the path stays one line to copy at any width.
        formatter.write(f"Log file (FERRY_LOG_DIR moves it):\n  {log_path()}\n")


@click.group(cls=_PluginGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ferry")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
def cli(debug: bool) -> None:
    """Ferry moves legacy app state (JSON, .env, text, SQLite) into SQLite or PostgreSQL.

    Typical use: `ferry init DIR -o ferry.toml`, review the plan, `ferry check ferry.toml`,
    `ferry preview ferry.toml`, then `ferry migrate ferry.toml`.
    """
    State.debug = debug
    setup_logging()
    _log.info("ferry %s: %s", __version__, " ".join(sys.argv[1:]))


def _target_url(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """``--target`` is checked like a plan's url (scheme, no password) before any scan; a
    saved connection profile's name stands for its URL."""
    if value is not None and "://" not in value:
        from ..profiles import target_for

        try:
            target_for(value)
        except FerryError as exc:
            raise click.BadParameter(exc.message) from None
        return value
    if value is not None:
        try:
            TargetSpec(url=value)
        except ValidationError as exc:
            problem = exc.errors()[0]["msg"].removeprefix("Value error, ")
            raise click.BadParameter(problem) from None
    return value


def _in_existing_folder(
    _ctx: click.Context, _param: click.Parameter, value: Path | None
) -> Path | None:
    """A file Ferry will write must be in a folder that exists; known before any work."""
    if value is not None and not value.resolve().parent.is_dir():
        raise click.BadParameter(f"the folder {value.parent} does not exist")
    return value


def _folder_or_database(_ctx: click.Context, _param: click.Parameter, value: str) -> str | Path:
    """``init``'s FOLDER: a folder or file, or a PostgreSQL URL (checked for a password
    before anything connects)."""
    from ..scan.pgdraft import SOURCE_PASSWORD_HINT, is_postgres_url, password_refused

    if not is_postgres_url(value):
        return Path(value)
    problem = password_refused(value)
    if problem:
        raise click.BadParameter(f"{problem}. {SOURCE_PASSWORD_HINT}")
    return value


@cli.command()
@click.argument("folder", callback=_folder_or_database)
@click.option(
    "--target",
    "target_url",
    callback=_target_url,
    help="Target URL or saved connection profile (default: sqlite:///ferry.db beside the plan).",
)
@click.option(
    "--schema",
    "schema",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A schema.sql whose tables the sources are matched to.",
)
@click.option(
    "--source-schema",
    "source_schema",
    help="A PostgreSQL source: the schema whose tables the draft reads (default: the "
    "search path's, usually public).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    callback=_in_existing_folder,
    help="Where to write the plan (its backups, reports and new SQLite target go beside it) "
    "instead of the workspace.",
)
@click.option(
    "-w",
    "--workspace",
    type=click.Path(file_okay=False, path_type=Path),
    help="The folder for the plan, its backups, reports and new SQLite target (made if "
    f"missing; default: one per data folder under {WORKSPACE_DIR_ENV} or the user's data "
    "folder). FOLDER itself is allowed.",
)
@click.option("--force", is_flag=True, help="Overwrite an existing plan file.")
@click.option("--json", "as_json", is_flag=True, help="Print what was found as JSON.")
@click.option(
    "-i",
    "--interactive",
    is_flag=True,
    help="Ask the draft's open questions here and write the answers into the plan.",
)
def init(
    folder: str | Path,
    target_url: str | None,
    schema: Path | None,
    source_schema: str | None,
    output: Path | None,
    workspace: Path | None,
    force: bool,
    as_json: bool,
    interactive: bool,
) -> None:
    """Scan FOLDER (or one file, such as an app's database, or a PostgreSQL database's URL)
    for legacy state and write a draft plan to review.

    The plan goes into a workspace of its own (its backups, reports and new SQLite target
    beside it), never into FOLDER unless -o or --workspace names it."""
    from ..profiles import target_for
    from ..scan.draftdoc import draft_comments
    from ..scan.folder import describe_found, scan_folder

    if source_schema is not None and isinstance(folder, Path):
        raise click.BadParameter(
            "--source-schema is for a PostgreSQL database (ferry init postgresql://host/db)",
            param_hint="'--source-schema'",
        )
    if output is not None and workspace is not None:
        raise click.UsageError("give -o/--output or -w/--workspace, not both")
    in_workspace = output is None
    if output is None:
        workspace = workspace or default_workspace(folder)
        output = plan_in(workspace)
    if output.exists() and not force:
        fail(FerryError(f"{output} exists already", hint="Use --force to overwrite it."))
    plan_dir = output.resolve().parent
    # --target may name a saved connection profile (checked by _target_url already).
    profile_target = (
        target_for(target_url) if target_url is not None and "://" not in target_url else None
    )
    try:
        result = scan_folder(
            folder,
            target_url if profile_target is None else profile_target.url,
            schema,
            plan_dir=plan_dir,
            source_schema=source_schema,
        )
    except Exception as exc:
        fail(exc)
        raise
    plan = result.plan
    if profile_target is not None and target_url is not None:
        # The profile's schema and SSL mode come along with its URL.
        plan.target = target_for(target_url, plan.target)
    # A plan in a workspace names the app's files by their absolute paths: a climb of
    # ../../.. out of the user's data folder would break when either one moves.
    rebase_paths(plan, plan_dir, absolute_outside=in_workspace)
    drafted_from = folder.resolve() if isinstance(folder, Path) else folder
    comments = draft_comments(result, drafted_from)
    if interactive:
        _ask_questions(plan)
    try:
        plan_dir.mkdir(parents=True, exist_ok=True)  # the workspace is made after a good scan only
        save_plan(plan, output, comments)
    except OSError as exc:
        fail(FerryError(f"cannot write the plan {output}: {exc.strerror or exc}"))
    found = describe_found(result)
    if as_json:
        out.print_json(
            json.dumps(
                {
                    "plan": str(output),
                    "workspace": str(plan_dir),
                    "sources": found,
                    "skipped": [[str(p), why] for p, why in result.skipped],
                    "unmatched_tables": result.unmatched_tables,
                }
            )
        )
        return
    table = Table(
        "source", "kind", "file", "size", "rows", "tables", title=f"Found in {escape(str(folder))}"
    )
    for item in found:
        where = item["path"] + (f" ({item['root']})" if item["root"] else "")
        table.add_row(
            escape(item["source"]),
            item["kind"],
            escape(where),
            _size(item["size"]),
            str(item["rows"]),
            escape(item["problem"] or ", ".join(item["tables"])),
        )
    print_table(out, table)
    notes = [f"{s.spec.name}: {r}" for s in result.sources for r in s.remarks]
    notes += [f"{t.name}: {n}" for t in plan.tables for n in t.notes]
    for note in notes:
        out.print(f"[yellow]note:[/] {escape(note)}")
    for name in result.unmatched_tables:
        out.print(f"[yellow]note:[/] table {escape(name)} of the target: no source matched it")
    _print_open_questions(plan)
    out.print(
        f"Wrote [bold]{escape(str(output))}[/] ({len(plan.sources)} sources, "
        f"{len(plan.tables)} tables). Review it, then run: ferry migrate {escape(str(output))}",
        soft_wrap=in_workspace,  # a long workspace path stays one line to copy
    )
    if in_workspace:
        out.print(
            f"Workspace (the plan, backups, reports, new target): {escape(str(plan_dir))}",
            soft_wrap=True,
        )


def _ask_questions(plan: Plan) -> None:
    """``init --interactive``: one prompt per open question, its default the safe choice."""
    from ..scan.questions import answer, open_questions

    for asked in open_questions(plan):
        out.print(f"[bold]question {escape(asked.id)}:[/] {escape(asked.ask)}")
        for line in asked.evidence:
            out.print(f"  {escape(line)}")
        if asked.value_sets:  # a value only the operator knows, or one of the choices
            choice = click.prompt(
                f"Answer ({', '.join(asked.choices)} or a value)",
                default=asked.default,
                err=False,
            )
        else:
            choice = click.prompt(
                "Answer", type=click.Choice(asked.choices), default=asked.default, err=False
            )
        try:
            answer(plan, asked.id, choice)
        except FerryError as exc:
            fail(exc)


def _print_open_questions(plan: Plan) -> None:
    from ..scan.questions import describe, how_to_answer, open_questions

    waiting = open_questions(plan)
    for asked in waiting:
        out.print(f"[yellow]open question:[/] {escape(describe(asked))}", soft_wrap=True)
    if waiting:
        out.print(
            f"{len(waiting)} open question(s): preview and migrate wait for the answers "
            f"({escape(how_to_answer(waiting[0]))}, or ferry init --interactive).",
            soft_wrap=True,
        )


def rebase_paths(plan: Plan, new_base: Path, *, absolute_outside: bool = False) -> None:
    """Rewrite the plan's relative file paths so they hold from ``new_base``; with
    ``absolute_outside``, a file not below ``new_base`` gets its absolute path instead."""

    def rebased(path: Path) -> str:
        if absolute_outside and not is_within(path, new_base):
            return str(path.resolve())
        return os.path.relpath(path, new_base)

    for spec in plan.sources:
        if spec.path and not Path(spec.path).is_absolute():
            spec.path = rebased(plan.base_dir / spec.path)
    if plan.target.schema_sql:
        # the scan resolved it; the plan keeps it relative, like every path a person reviews
        with contextlib.suppress(ValueError):  # another drive (Windows): stays absolute
            plan.target.schema_sql = rebased(plan.resolve(plan.target.schema_sql))
    plan.base_dir = new_base


def _size(size: int) -> str:
    return size_text(size)  # the wizard shows sizes in the same style


@cli.command()
@click.argument("plan_file", metavar="PLAN")
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
@target_option
def check(plan_file: str, as_json: bool, target_override: str | None) -> None:
    """Preflight: open every source and the target, write nothing."""
    from ..check import check_plan

    plan = load_plan_file(plan_file, target_override)
    report = run(lambda cancel: check_plan(plan))
    from ..scan.questions import describe, open_questions

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
                    # "warning" only where set: the items of a clean check read as before
                    "items": [
                        {k: v for k, v in vars(item).items() if k != "warning" or v}
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


def _print_result(result: Any, verb: str) -> None:
    would = verb == "would"
    labels = {
        "read": "read",
        "inserted": "insert" if would else "inserted",
        "updated": "update" if would else "updated",
        "unchanged": "unchanged",
        "conflicts": "conflicts",
        "rejected": "rejected",
        "duplicates": "duplicates",
        "skipped": "skipped",
        "deleted": "delete" if would else "deleted",
    }
    rows = [(t, t.counts()) for t in result.tables]
    # Rarely used counts only get a column when some table has them.
    shown = [
        k
        for k in labels
        if k not in ("duplicates", "skipped", "deleted") or any(c[k] for _, c in rows)
    ]
    table = Table(title=f"{result.mode} of {escape(result.plan_name)}")
    table.add_column("table", no_wrap=True)
    table.add_column("source", no_wrap=True)
    for key in shown:
        table.add_column(labels[key], justify="right")
    for t, counts in rows:
        table.add_row(escape(t.name), escape(t.source), *(str(counts[k]) for k in shown))
    print_table(out, table)
    _print_merges(result.merges)
    # Rows dropped for a repeated key are kept with the rejects but are not rejected rows.
    rejected = [r for r in result.rejects if r.kind != "duplicate"]
    replaced = [r for r in result.rejects if r.kind == "duplicate"]
    if result.rejected_total:
        out.print(f"[yellow]{result.rejected_total} rejected rows[/] (first ones):")
        for reject in rejected[:5]:
            out.print(f"  {escape(reject.table)} {escape(reject.key)}: {escape(reject.reason)}")
    if replaced:
        total = sum(t.duplicates for t in result.tables)
        out.print(
            f"[yellow]{total} rows replaced by a later row with the same key[/] (first ones):"
        )
        for reject in replaced[:5]:
            out.print(f"  {escape(reject.table)} {escape(reject.key)}")
    # What the schema step translated or left out (the report lists every object); alike
    # translations share a line (every INTEGER → bigint column on one).
    changed = [o.to_dict() for o in result.schema_objects if o.status != "carried"]
    for status, kind, names, detail in grouped(changed):
        out.print(
            f"[yellow]{escape(kind)} {escape(', '.join(names))}: {status} ({escape(detail)})[/]"
        )


def _print_merges(merges: list[dict[str, Any]]) -> None:
    """Per merge source: what each input gave, and the rows taken for deletions."""
    for merge in merges:
        table = Table(
            title=f"merge source {escape(merge['source'])} (by {', '.join(merge['key'])})"
        )
        for column in ("input", "rows", "only here", "values won", "repeated keys"):
            table.add_column(column, justify="left" if column == "input" else "right")
        for entry in merge["inputs"]:
            counts = (entry["rows"], entry["only_here"], entry["won"], entry["duplicates"])
            table.add_row(escape(entry["table"]), *(str(c) for c in counts))
        print_table(out, table)
        if merge["deleted"]:
            keys = "; ".join(merge["deleted_keys"][:10])
            out.print(
                f"  [yellow]{merge['deleted']} rows treated as deletions[/] "
                f"({escape(merge['deletion_rule'])}): {escape(keys)}"
            )


def _engine_run(plan: Plan, preview: bool, as_json: bool, quiet: bool, **options: Any) -> Any:
    from ..migrate import migrate

    view = ProgressView(quiet or as_json)
    with view.progress:
        return run(
            lambda cancel: migrate(plan, emit=view, cancel=cancel, preview=preview, **options)
        )


@contextlib.contextmanager
def _target_locked(plan: Plan, wait: bool) -> Iterator[None]:
    """Hold the target's run lock across the command's steps (backup and migration): a second
    run stops at once with who holds it (exit 9), or with ``--wait`` says so and waits."""
    from ..safety.runlock import hold_target

    def notify(message: str) -> None:
        err.print(f"[yellow]waiting:[/] {escape(message)}", soft_wrap=True)

    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(hold_target(plan.target, plan.base_dir, wait=wait, notify=notify))
        except FerryError as exc:
            fail(exc)
        yield


_WAIT_HELP = "When another Ferry run is writing to the target, wait for it (else exit 9 at once)."


@cli.command(name="migrate")
@click.argument("plan_file", metavar="PLAN")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON (for scripts).")
@click.option(
    "--rejects",
    type=click.Path(dir_okay=False, path_type=Path),
    callback=_in_existing_folder,
    help="Write the rejected rows to this file (JSON Lines).",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bars.")
@click.option(
    "--no-backup",
    is_flag=True,
    help="Do not back up the sources and the target first (not recommended).",
)
@click.option("--wait", is_flag=True, help=_WAIT_HELP)
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
    with _target_locked(plan, wait):
        backup = None if no_backup else _backup_first(plan, quiet=quiet or as_json)
        result = _engine_run(plan, preview=False, as_json=as_json, quiet=quiet, backup=backup)
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
    _print_result(result, "did")
    changed = sum(t.inserted + t.updated + t.deleted for t in result.tables)
    out.print(
        f"[green]Migrated[/] into {escape(result.target)} in {result.seconds:.1f} s: "
        f"{changed} rows changed, run {result.run_id} journaled in "
        f"{journal_place('sqlite' if plan.target.is_sqlite else 'postgresql').label}."
    )
    if result.report_path:
        out.print(f"Report: {escape(result.report_path)}")
    out.print(f"Next: ferry verify {escape(plan_file)}")


def _backup_first(plan: Plan, quiet: bool) -> dict[str, Any]:
    """Take the backup a migration starts with; its id, folder and manifest hash."""
    from ..backup.create import create_backup

    backup = run(lambda cancel: create_backup(plan, cancel=cancel))
    if not quiet:
        size = _size(backup.total_bytes)
        err.print(f"Backup {escape(backup.id)} ({size}) in {escape(str(backup.path))}")
    info: dict[str, Any] = backup.to_dict()
    return info


@cli.command()
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
@click.option("--wait", is_flag=True, help=_WAIT_HELP)
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
    with _target_locked(plan, wait):
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
    _print_result(result, "would")
    _print_decisions(result)
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
    _print_diffs(result)
    for statement in result.ddl:
        out.print(f"[dim]{escape(statement.strip().rstrip(';'))};[/]")

    out.print(f"Preview only: {escape(result.target)} is unchanged.")


def _print_decisions(result: Any) -> None:
    """Per table, how the run loads its rows and why (:mod:`ferry.load.decide`)."""
    for table in result.tables:
        if table.decision is not None:
            out.print(f"[dim]load {escape(table.name)}: {escape(str(table.decision))}[/]")


def _require_answered(plan: Plan) -> None:
    """Preview and migrate refuse a plan with open questions (exit 3, with the list)."""
    from ..scan.questions import require_answered

    try:
        require_answered(plan)
    except FerryError as exc:
        if not State.debug:
            for line in exc.details.splitlines():
                err.print(f"[yellow]open question:[/] {escape(line)}", soft_wrap=True)
        fail(exc)


def _answer_effects(plan: Plan, result: Any) -> list[dict[str, Any]]:
    """Per answered question: what it set, and the preview's counts of the tables it set."""
    from ..scan.questions import answer_counts, effects

    return [
        {
            "question": asked.id,
            "answer": asked.answer,
            "sets": effects(plan, asked),
            "tables": answer_counts(asked, result),
        }
        for asked in plan.questions
    ]


def _print_diffs(result: Any) -> None:
    for diff in result.diffs:
        label = "update" if diff.decision == "update" else "conflict (target kept)"
        out.print(f"[bold]{escape(diff.table)}[/] {escape(diff.key)}: {label}")
        for change in diff.changes:
            before, after = escape(repr(change.before)), escape(repr(change.after))
            if diff.decision == "update":
                out.print(f"    {escape(change.column)}: [red]{before}[/] -> [green]{after}[/]")
            else:  # the target keeps its value; the source's is shown apart, not as "after"
                out.print(
                    f"    {escape(change.column)}: {before} kept "
                    f"[yellow](source {after} not applied)[/]"
                )


def _write_rejects(result: Any, path: Path) -> None:
    from ..values.transform import json_default

    with path.open("w", encoding="utf-8") as handle:
        for reject in result.rejects:
            handle.write(json.dumps(vars(reject), default=json_default, ensure_ascii=False) + "\n")


@cli.command()
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
    from ..demo import demo_source

    source = demo_source()
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copytree(source, folder, dirs_exist_ok=True)
    plan_path = folder / "ferry.toml"
    out.print(
        f"Demo state copied to [bold]{escape(str(folder))}[/]; plan: {escape(str(plan_path))}"
    )
    plan = load_plan_file(str(plan_path))
    result = _engine_run(
        plan, preview=False, as_json=False, quiet=quiet, backup=_backup_first(plan, quiet)
    )
    _print_result(result, "did")
    out.print(f"[green]Done.[/] Look inside with: sqlite3 {escape(str(folder / 'app.db'))} .tables")


@cli.group()
def password() -> None:
    """Store a database password in the OS keyring (never in the plan)."""


@password.command(name="set")
@click.argument("url")
def password_set(url: str) -> None:
    """Ask for the password of URL and keep it in the OS keyring."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from ..safety.passwords import store_password

    try:
        parsed = make_url(url)
    except ArgumentError:
        raise click.BadParameter(
            "not a database URL (e.g. postgresql://user@host:5432/db)", param_hint="URL"
        ) from None
    secret = click.prompt("Password", hide_input=True)
    try:
        store_password(parsed, secret)
    except Exception as exc:  # no keyring (RuntimeError), or the keyring's own errors
        fail(
            FerryError(
                f"cannot store the password: {exc}", hint="Use FERRY_PASSWORD or ~/.pgpass instead."
            )
        )
    out.print("Stored in the OS keyring.")


def _register_commands() -> None:
    # Commands living in their own modules (they share ferry.cli.common, not this module).
    from .backup import register as register_backup
    from .profiles import register as register_profiles
    from .proof import register as register_proof
    from .reverse import register as register_reverse
    from .runs import register as register_runs
    from .verify import register as register_verify

    register_backup(cli)
    register_verify(cli)
    register_proof(cli)
    register_profiles(cli)
    register_runs(cli)
    register_reverse(cli)


def main() -> None:
    """Entry point of the ``ferry`` command."""
    # Once an engine step ran, Ctrl-C between steps stops cleanly too (see run; commands
    # that never run one, such as `ferry gui`, keep Python's own Ctrl-C).
    State.clean_ctrl_c = True
    signal.signal(signal.SIGINT, cancel_before_steps)
    try:
        cli.main(standalone_mode=True)
    except Cancelled as exc:  # pragma: no cover - handled in run
        fail(exc)


if __name__ == "__main__":
    # Run the importable module rather than this __main__ copy, so the commands other modules
    # register on `ferry.cli.command.cli` are on the group that runs.
    from ferry.cli.command import main as _main

    _main()
else:
    _register_commands()
