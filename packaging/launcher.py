"""Entry script of the frozen bundle: the ``ferry`` command.

The wizard (``ferry gui``) is found like in a pip install, through the ``ferry.commands`` entry
point: the spec ships the project's metadata (entry_points.txt) and collects ``ferry_gui``
without importing it, so the headless commands never load Qt.
"""

import multiprocessing
import sys
from pathlib import Path

# A big JSON file is parsed in worker processes started with 'spawn' (ferry.load.inworker): in
# the frozen app each worker is this executable again, which this call turns into the worker
# (and returns at once in the app itself). It must come before anything else runs.
multiprocessing.freeze_support()

from ferry.cli.launch import main  # noqa: E402 - after freeze_support, on purpose


def _opens_the_wizard() -> bool:
    """Started without arguments as the windowed ``ferry-gui`` (Windows) or as Ferry.app
    (macOS): a double-click means the wizard, not the command-line help."""
    executable = Path(sys.executable)
    return executable.stem == "ferry-gui" or ".app/Contents/MacOS" in executable.as_posix()


if len(sys.argv) == 1 and _opens_the_wizard():
    sys.argv.append("gui")
main()
