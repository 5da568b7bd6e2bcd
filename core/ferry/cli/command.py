"""The ``ferry`` command: a thin layer over the public engine API (:mod:`ferry.api`).

This module holds the command group, its entry point and ``ferry password``; the commands
live by concern in :mod:`ferry.cli.init`, :mod:`~ferry.cli.migrate` (check, preview, migrate,
demo), :mod:`~ferry.cli.backup`, :mod:`~ferry.cli.verify`, :mod:`~ferry.cli.proof` and
:mod:`~ferry.cli.profiles`, each adding its commands through ``register(cli)``.

Exit codes: 0 success; 1 unexpected error; 2 bad command line; 3 invalid plan; 4 a source
cannot be read; 5 the target refused (connection, statement, lock); 6 rows rejected with
``on_reject = "stop"``, or a conflict under rule ``error``; 7 verification FAILED; 8 a backup
is missing, incomplete or tampered with; 130 cancelled (Ctrl-C).
Errors print one line and a hint; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import logging
import signal
import sys
from importlib.metadata import entry_points

import click

from .. import __version__
from ..api import log_path, setup_logging
from ..errors import Cancelled, FerryError
from .common import State, cancel_before_steps, fail, out

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


@cli.group()
def password() -> None:
    """Store a database password in the OS keyring (never in the plan)."""


@password.command(name="set")
@click.argument("url")
def password_set(url: str) -> None:
    """Ask for the password of URL and keep it in the OS keyring."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from ..api import store_password

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
    from .init import register as register_init
    from .migrate import register as register_migrate
    from .profiles import register as register_profiles
    from .proof import register as register_proof
    from .reverse import register as register_reverse
    from .runs import register as register_runs
    from .sync import register as register_sync
    from .verify import register as register_verify

    register_init(cli)
    register_migrate(cli)
    register_backup(cli)
    register_verify(cli)
    register_proof(cli)
    register_profiles(cli)
    register_runs(cli)
    register_reverse(cli)
    register_sync(cli)


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
