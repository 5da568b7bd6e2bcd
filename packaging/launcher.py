"""Entry script of the frozen bundle: the ``ferry`` command.

The wizard (``ferry gui``) is found like in a pip install, through the ``ferry.commands`` entry
point: the spec ships the project's metadata (entry_points.txt) and collects ``ferry_gui``
without importing it, so the headless commands never load Qt.
"""

import sys
from pathlib import Path

from ferry.cli.launch import main


def _opens_the_wizard() -> bool:
    """Started without arguments as the windowed ``ferry-gui`` (Windows) or as Ferry.app
    (macOS): a double-click means the wizard, not the command-line help."""
    executable = Path(sys.executable)
    return executable.stem == "ferry-gui" or ".app/Contents/MacOS" in executable.as_posix()


if len(sys.argv) == 1 and _opens_the_wizard():
    sys.argv.append("gui")
main()
