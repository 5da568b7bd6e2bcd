"""The ``ferry`` command's entry point.

Ctrl-C while Python is still importing Ferry (most of the first second of every run) ends the
command with one line and exit code 130 instead of a traceback: nothing has been done yet.
Once the commands are loaded, ``ferry.cli.command`` handles Ctrl-C itself (a clean cancel).
SQLite's process-wide settings are made first, before anything imports ``sqlite3``
(:mod:`ferry.sqliteconfig`).
"""

from __future__ import annotations

import signal
import sys
from types import FrameType


def interrupted_while_starting(_signum: int, _frame: FrameType | None) -> None:
    """SIGINT before the commands are loaded: say so and stop with 130."""
    sys.stderr.write("ferry: interrupted while starting; nothing was done.\n")
    raise SystemExit(130)


def main() -> None:
    """Run the ``ferry`` command."""
    previous = signal.signal(signal.SIGINT, interrupted_while_starting)
    from ..api import configure_sqlite

    configure_sqlite()  # before anything imports sqlite3
    from ..api import begin_early_reads_for_command, hold_collections

    if begin_early_reads_for_command(sys.argv[1:]):  # a delta's reads begun beside the imports
        hold_collections()  # (until the engine's first step freezes what the imports made)
    from .command import main as cli_main

    signal.signal(signal.SIGINT, previous)
    cli_main()
