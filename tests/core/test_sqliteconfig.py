"""SQLite's allocation count turned off at a command's start (ferry.sqliteconfig): before
sqlite3 is imported it is, once it is imported nothing changes, and the ferry command does it
first thing. Each case in a Python process of its own (the setting is the process's)."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SQLite is a DLL of its own")

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
        [sys.executable, "-c", code + MEMORY_USED], capture_output=True, text=True, check=True
    )
    return done.stdout.split()


def test_before_sqlite3_is_imported_the_count_is_turned_off() -> None:
    code = "from ferry.sqliteconfig import configure_sqlite\nprint(configure_sqlite())\n"
    assert printed(code) == ["True", "0"]


def test_once_sqlite3_is_imported_nothing_changes() -> None:
    code = "import sqlite3\nfrom ferry.sqliteconfig import configure_sqlite\n"
    code += "print(configure_sqlite())\n"
    said, used = printed(code)
    assert said == "False"
    assert int(used) > 0


def test_the_ferry_command_turns_it_off_before_anything_else() -> None:
    code = (
        "import sys\nsys.argv = ['ferry', '--version']\nfrom ferry.cli.launch import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
    )
    assert printed(code)[-1] == "0"
