"""``ferry reverse PLAN -o REVERSE.toml``: write the reverse plan of a plan that reads a
SQLite file (:func:`ferry.api.reverse_plan`): the new store back into the old file after the
switch."""

from __future__ import annotations

from pathlib import Path

import click
from rich.markup import escape

from ..errors import FerryError
from .common import err, fail, load_plan_file, out


def register(cli: click.Group) -> None:
    """Add ``reverse`` to ``cli``."""
    cli.add_command(reverse)


@click.command()
@click.argument("plan_file", type=click.Path(dir_okay=False))
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the reverse plan (TOML).",
)
@click.option("--old", help="The SQLite source to go back into (when the plan reads several).")
@click.option("--force", is_flag=True, help="Overwrite OUTPUT if it exists.")
def reverse(plan_file: str, output: Path, old: str | None, force: bool) -> None:
    """Write the reverse plan of PLAN_FILE: its target (the new store) back into the old
    SQLite file, by the same keys, so the old store can be kept current after the switch."""
    from ..api import reverse_plan

    plan = load_plan_file(plan_file)
    if output.exists() and not force:
        fail(
            FerryError(
                f"{output} exists: not overwritten", hint="Pass --force, or choose another -o."
            )
        )
    if not output.parent.is_dir():
        fail(FerryError(f"folder {output.parent} does not exist"))
    try:
        result = reverse_plan(plan, old=old, out_dir=output.parent)
        result.write(output)
    except FerryError as exc:
        fail(exc)
        return
    except OSError as exc:
        fail(FerryError(f"cannot write {output}: {exc.strerror}"))
        return
    for note in result.notes:
        err.print(f"[yellow]note:[/] {escape(note)}", soft_wrap=True)
    tables = len(result.plan.tables)
    asked = len(result.plan.questions)
    out.print(
        f"Wrote {escape(str(output))} ({tables} table(s) back into source {escape(result.old)}'s "
        f"file" + (f", {asked} open question(s)" if asked else "") + "). Review it; run it with: "
        f"ferry migrate {escape(str(output))}",
        soft_wrap=True,
    )
