"""The wizard's own entry points (``ferry-gui``, ``python -m ferry_gui``) turn SQLite's
allocation count off before anything imports sqlite3 (ferry.sqliteconfig), as the ``ferry``
command does (tests/core/test_sqliteconfig.py). Each in a Python process of its own (the
setting is the process's), stopped before the window opens: ``--screenshots`` without
``--demo`` is refused once the wizard is imported."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SQLite is a DLL of its own")

ROOT = Path(__file__).resolve().parents[2]

#: prints the bytes SQLite counts as in use once a connection has made a table (0: not counted)
MEMORY_USED = """
import ctypes, sqlite3, _sqlite3
conn = sqlite3.connect(":memory:")
conn.execute("CREATE TABLE t (x)")
used = ctypes.CDLL(_sqlite3.__file__).sqlite3_memory_used
used.restype = ctypes.c_int64
print(used())
"""


def printed(code: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", code + MEMORY_USED],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert "--screenshots needs --demo" in done.stderr  # the wizard was imported, no window
    return done.stdout.split()


def test_the_ferry_gui_script_turns_it_off_before_anything_else() -> None:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["scripts"]
    module, function = scripts["ferry-gui"].split(":")
    code = (
        f"import sys\nsys.argv = ['ferry-gui', '--screenshots', 'shots']\n"
        f"from {module} import {function}\nprint({function}())\n"
    )
    assert printed(code) == ["2", "0"]


def test_python_m_ferry_gui_turns_it_off_before_anything_else() -> None:
    code = (
        "import runpy, sys\nsys.argv = ['ferry_gui', '--screenshots', 'shots']\n"
        "try:\n    runpy.run_module('ferry_gui', run_name='__main__')\n"
        "except SystemExit as stop:\n    print(stop.code)\n"
    )
    assert printed(code) == ["2", "0"]
