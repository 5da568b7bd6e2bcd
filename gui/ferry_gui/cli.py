"""The ``ferry gui`` command. Imports nothing from Qt until it runs, so ``ferry`` stays light
and works without the gui extra (the command then says how to get it)."""

from __future__ import annotations

from pathlib import Path

import click


@click.command(name="gui")
@click.argument("plan", required=False, metavar="[PLAN]")
@click.option("--demo", is_flag=True, help="Open the bundled demo (copied to a writable folder).")
@click.option(
    "--screenshots",
    type=click.Path(file_okay=False, path_type=Path),
    metavar="DIR",
    help="With --demo: walk every page by itself and save one PNG per page into DIR.",
)
def gui_command(plan: str | None, demo: bool, screenshots: Path | None) -> None:
    """Open the migration wizard (needs the gui extra: pip install 'ferry-migrate[gui]')."""
    if screenshots is not None and not demo:
        raise click.UsageError("--screenshots needs --demo")
    try:
        from .app import run
    except ImportError as exc:
        raise click.ClickException(
            f"the wizard cannot start: {exc}. Install it with: pip install 'ferry-migrate[gui]'"
        ) from None
    raise SystemExit(run(plan, demo, screenshots))


def register(cli: click.Group) -> None:
    """Add ``gui`` to the ``ferry`` command group."""
    cli.add_command(gui_command)
