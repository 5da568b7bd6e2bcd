"""``ferry init``: scan a folder (or one file, or a PostgreSQL database) and write a draft plan
into its workspace; ``--interactive`` asks the draft's open questions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.markup import escape
from rich.table import Table

from ..api import WORKSPACE_DIR_ENV, size_text
from ..errors import FerryError
from .common import ProgressView, fail, in_existing_folder, out
from .table import print_table

if TYPE_CHECKING:  # the plan's models (pydantic) load when the command runs
    from ..plan import Plan


def register(cli: click.Group) -> None:
    """Add ``init`` to the ``ferry`` command group."""
    cli.add_command(init)


def _target_url(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """``--target`` is checked like a plan's url (scheme, no password) before any scan; a
    saved connection profile's name stands for its URL."""
    if value is not None and "://" not in value:
        from ..api import target_for

        try:
            target_for(value)
        except FerryError as exc:
            raise click.BadParameter(exc.message) from None
        return value
    if value is not None:
        from pydantic import ValidationError

        from ..plan import TargetSpec

        try:
            TargetSpec(url=value)
        except ValidationError as exc:
            problem = exc.errors()[0]["msg"].removeprefix("Value error, ")
            raise click.BadParameter(problem) from None
    return value


def _folder_or_database(_ctx: click.Context, _param: click.Parameter, value: str) -> str | Path:
    """``init``'s FOLDER: a folder or file, or a PostgreSQL URL (checked for a password
    before anything connects)."""
    from ..api import SOURCE_PASSWORD_HINT, is_postgres_url, password_refused

    if not is_postgres_url(value):
        return Path(value)
    problem = password_refused(value)
    if problem:
        raise click.BadParameter(f"{problem}. {SOURCE_PASSWORD_HINT}")
    return value


@click.command()
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
    callback=in_existing_folder,
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
    from ..api import (
        default_workspace,
        describe_found,
        draft_comments,
        plan_in,
        rebase_paths,
        scan,
        target_for,
    )
    from ..plan import save_plan

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
    view = ProgressView(as_json)  # rows read per table: a big database takes a while
    try:
        with view.progress:
            result = scan(
                folder,
                emit=view,
                target=target_url if profile_target is None else profile_target.url,
                schema=schema,
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
            size_text(item["size"]),
            str(item["rows"]),
            escape(
                f"not read: {item['problem']}" if item["problem"] else ", ".join(item["tables"])
            ),
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
    from ..api import answer, open_questions

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
    from ..api import describe, how_to_answer, open_questions

    waiting = open_questions(plan)
    for asked in waiting:
        out.print(f"[yellow]open question:[/] {escape(describe(asked))}", soft_wrap=True)
    if waiting:
        out.print(
            f"{len(waiting)} open question(s): preview and migrate wait for the answers "
            f"({escape(how_to_answer(waiting[0]))}, or ferry init --interactive).",
            soft_wrap=True,
        )
