"""The wizard and the command line use only the public engine API (issue 19): ``ferry`` and
``ferry.api``, plus the data modules ``ferry.plan``, ``ferry.events``, ``ferry.results`` and
``ferry.errors``; the command line also its own package ``ferry.cli``. The operations have one
shape, and ``ferry.<operation>`` is callable whichever module of that name was imported."""

from __future__ import annotations

import ast
import asyncio
import importlib
import inspect
import subprocess
import sys
from pathlib import Path

import pytest

import ferry
import ferry.api

ROOT = Path(__file__).resolve().parents[2]
CORE = Path(ferry.__file__).resolve().parent
GUI = ROOT / "gui" / "ferry_gui"
PUBLIC = ("ferry", "ferry.api", "ferry.plan", "ferry.events", "ferry.results", "ferry.errors")
#: how a package of the command line loads its names lazily (every package's __init__ uses it)
PLUMBING = ("ferry.lazyexports",)
OPERATIONS = ("scan", "check", "backup", "preview", "migrate", "verify", "rollback", "runs")


def _engine_imports(path: Path, package: str) -> list[tuple[int, str]]:
    """(line, module) of every import of a ``ferry`` module in ``path`` (module ``package.x``),
    at any depth, relative imports resolved; ``from ferry import api`` counts as ferry.api."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join([*parts[: len(parts) - node.level + 1], node.module or ""])
            else:
                base = node.module or ""
            base = base.strip(".")
            submodules = [f"{base}.{a.name}" for a in node.names if base == "ferry"]
            found.extend((node.lineno, name) for name in submodules if name in PUBLIC)
            found.append((node.lineno, base))
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            found.append((node.lineno, str(node.args[0].value)))
    return [(line, name) for line, name in found if name == "ferry" or name.startswith("ferry.")]


def _offending(folder: Path, package: str, own: str) -> list[str]:
    bad = []
    for path in sorted(folder.rglob("*.py")):
        parts = path.relative_to(folder).with_suffix("").parts
        module = ".".join([package, *parts]).removesuffix(".__init__")
        anchor = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for line, name in _engine_imports(path, anchor):
            if name not in PUBLIC and not (name == own or name.startswith(own + ".")):
                bad.append(f"{path.relative_to(folder.parent)}:{line}: {name}")
    return bad


def test_the_wizard_imports_only_the_public_api() -> None:
    assert (GUI / "wizard.py").exists()
    assert _offending(GUI, "ferry_gui", "ferry_gui") == []


def test_the_command_line_imports_only_the_public_api() -> None:
    assert (CORE / "cli" / "command.py").exists()
    offending = _offending(CORE / "cli", "ferry.cli", "ferry.cli")
    assert [line for line in offending if not line.endswith(PLUMBING)] == []


@pytest.mark.parametrize(
    ("source", "bad"),
    [
        ("from ferry.migrate import migrate", True),
        ("def f():\n    import ferry.scan.folder", True),
        ("from ..backup.create import Backup", True),
        ("from .. import api", False),
        ("from ..api import migrate", False),
        ("from ferry import Plan, api", False),
        ("from ferry.events import TableProgress", False),
        ("from .common import out", False),
    ],
)
def test_the_scan_tells_public_from_internal(tmp_path: Path, source: str, bad: bool) -> None:
    folder = tmp_path / "cli"
    folder.mkdir()
    (folder / "m.py").write_text(source + "\n", encoding="utf-8")
    assert bool(_offending(folder, "ferry.cli", "ferry.cli")) is bad


@pytest.mark.parametrize("name", OPERATIONS)
def test_an_operation_has_the_one_shape(name: str) -> None:
    parameters = list(inspect.signature(getattr(ferry.api, name)).parameters.values())
    assert parameters[0].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
    assert parameters[0].name == ("folder" if name == "scan" else "plan")
    rest = {p.name: p for p in parameters[1:]}
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in rest.values())
    assert rest["emit"].default is not inspect.Parameter.empty
    assert rest["cancel"].default is None
    # scan reads files (a front end runs it in a thread); the rest are coroutines
    assert inspect.iscoroutinefunction(getattr(ferry.api, name)) is (name != "scan")


def test_every_public_name_loads() -> None:
    for name in ferry.api.__all__:
        assert getattr(ferry.api, name) is not None, name
    for name in ferry.__all__:
        assert getattr(ferry, name) is not None, name


@pytest.mark.parametrize("name", OPERATIONS)
def test_ferry_dot_operation_is_callable_whichever_was_imported_first(name: str) -> None:
    # In a fresh interpreter: the module of that name imported first, then the package's name.
    code = (
        "import importlib, sys\n"
        f"name = {name!r}\n"
        "if name != 'preview':\n"
        "    module = importlib.import_module('ferry.' + name)\n"
        "import ferry\n"
        "assert callable(getattr(ferry, name)), name\n"
        "from ferry import api\n"
        "print(getattr(ferry, name) is getattr(ferry, name))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert callable(getattr(ferry, name))


def test_the_old_entry_points_stay() -> None:
    from ferry.migrate import migrate
    from ferry.verify import verify

    assert importlib.import_module("ferry.verify").verify is verify
    assert "preview" in inspect.signature(migrate).parameters
    assert ferry.verify.verify is verify  # the package, callable, keeps its names


def test_a_call_goes_to_the_operation(tmp_path: Path) -> None:
    (tmp_path / "settings.json").write_text('{"theme": "dark"}', encoding="utf-8")
    result = ferry.scan(tmp_path, plan_dir=tmp_path)
    assert [s.name for s in result.plan.sources]
    report = asyncio.run(ferry.check(result.plan))
    assert type(report).__name__ == "CheckReport"


def _demo_plan(tmp_path: Path) -> ferry.Plan:
    import shutil

    folder = tmp_path / "demo"
    shutil.copytree(ferry.api.demo_source(), folder)
    return ferry.load_plan(folder / "ferry.toml")


def test_migrate_backs_up_first_and_says_so(tmp_path: Path) -> None:
    from ferry.events import BackupTaken, StepStarted

    plan = _demo_plan(tmp_path)
    events: list[object] = []
    result = asyncio.run(ferry.migrate(plan, emit=events.append))
    taken = [e.backup for e in events if isinstance(e, BackupTaken)]
    assert len(taken) == 1
    assert result.backup_id == taken[0].id
    assert [b.id for b in ferry.api.list_backups(plan)] == [taken[0].id]
    # the backup's steps come before the run's
    steps = [e.step for e in events if isinstance(e, StepStarted)]
    assert steps[0] == "backup" and "schema" in steps


def test_migrate_links_a_backup_taken_before_or_runs_without_one(tmp_path: Path) -> None:
    from ferry.events import BackupTaken

    plan = _demo_plan(tmp_path)
    earlier = asyncio.run(ferry.backup(plan))
    events: list[object] = []
    linked = asyncio.run(ferry.migrate(plan, backup=earlier, emit=events.append))
    assert linked.backup_id == earlier.id
    assert not [e for e in events if isinstance(e, BackupTaken)]
    bare = asyncio.run(ferry.migrate(plan, backup=False))
    assert bare.backup_id is None
    assert [b.id for b in ferry.api.list_backups(plan)] == [earlier.id]


def test_migrate_refuses_open_questions_before_backing_up(tmp_path: Path) -> None:
    from ferry.plan import QuestionSpec

    plan = _demo_plan(tmp_path)
    plan.questions.append(
        QuestionSpec(
            id="t.conflict", ask="Which wins?", choices=["newer", "target"], default="target"
        )
    )
    with pytest.raises(ferry.PlanError):
        asyncio.run(ferry.migrate(plan))
    assert ferry.api.list_backups(plan) == []
