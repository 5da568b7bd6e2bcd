"""The ``ferry`` command's entry point: Ctrl-C before the commands are loaded is one line and
exit code 130, never a traceback; importing ``ferry`` is light enough for that to hold. Start-up:
``ferry --help`` (and every command's) loads no engine, ``import ferry.migrate`` leaves out what
only some runs need, and ``ferry.api.warm_up`` loads all of it for the wizard."""

from __future__ import annotations

import subprocess
import sys


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)


def test_importing_the_entry_point_loads_no_heavy_library() -> None:
    done = _python(
        "import sys, ferry.cli.launch\n"
        "heavy = [m for m in ('pydantic', 'sqlalchemy', 'rich', 'click') if m in sys.modules]\n"
        "print(heavy)"
    )
    assert done.stdout.strip() == "[]", done.stderr


def test_ctrl_c_while_starting_exits_130_with_one_line() -> None:
    # The handler launch.main installs before it imports the commands, hit as Ctrl-C would.
    done = _python(
        "import os, signal, time\n"
        "from ferry.cli import launch\n"
        "signal.signal(signal.SIGINT, launch.interrupted_while_starting)\n"
        "os.kill(os.getpid(), signal.SIGINT)\n"
        "time.sleep(10)"
    )
    assert done.returncode == 130
    assert done.stderr == "ferry: interrupted while starting; nothing was done.\n"


def test_the_exports_still_load_on_first_use() -> None:
    done = _python("import ferry; print(ferry.Plan.__name__, ferry.FerryError.__name__)")
    assert done.stdout.split() == ["Plan", "FerryError"], done.stderr


#: what parsing the command line must not load: the engine's libraries and its plan models
_ENGINE = ("sqlalchemy", "pydantic", "ferry.plan", "ferry.migrate", "PySide6")

_HELP = (
    "import contextlib, io, sys\n"
    "from ferry.cli.command import cli\n"
    "def show(args):\n"
    "    with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
    "        cli.main([*args, '--help'], prog_name='ferry')\n"
    "{calls}\n"
    f"print([m for m in {_ENGINE!r} if m in sys.modules])\n"
)


def test_ferry_help_imports_no_engine_module() -> None:
    done = _python(_HELP.format(calls="show([])"))
    assert done.stdout.strip() == "[]", done.stderr


def test_every_commands_help_imports_no_engine_module() -> None:
    # Every command and subcommand (the groups' too), one after the other in one process.
    calls = (
        "import click\n"
        "def walk(group, path):\n"
        "    for name in group.list_commands(None):\n"
        "        command = group.get_command(None, name)\n"
        "        show([*path, name])\n"
        "        if isinstance(command, click.Group):\n"
        "            walk(command, [*path, name])\n"
        "walk(cli, [])"
    )
    done = _python(_HELP.format(calls=calls))
    assert done.stdout.strip() == "[]", done.stderr


#: modules only some runs need (a PostgreSQL target, a schema file, a report written)
_ON_SOME_PATHS = (
    "sqlalchemy.dialects.postgresql",
    "psycopg",
    "sqlparse",
    "ferry.report.html",
    "ferry.backup.pgdump",
)


def test_importing_the_engine_leaves_out_what_only_some_runs_need() -> None:
    done = _python(
        "import sys, ferry.migrate, ferry.backup.create\n"
        f"print([m for m in {_ON_SOME_PATHS!r} if m in sys.modules])"
    )
    assert done.stdout.strip() == "[]", done.stderr


def test_warm_up_imports_what_any_run_needs() -> None:
    # The wizard calls it in a thread, so that its first run imports nothing on the event loop.
    done = _python(
        "import sys, ferry.api\n"
        "ferry.api.warm_up()\n"
        f"print([m for m in ('ferry.migrate', *{_ON_SOME_PATHS!r}) if m not in sys.modules])"
    )
    assert done.stdout.strip() == "[]", done.stderr
