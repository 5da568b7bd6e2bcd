"""The engine (core/ferry) never depends on the GUI: no PySide6, qasync or ferry_gui imports."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import ferry

CORE = Path(ferry.__file__).resolve().parent
FORBIDDEN = ("PySide6", "qasync", "ferry_gui")


def _is_forbidden(module: str) -> bool:
    return any(module == name or module.startswith(name + ".") for name in FORBIDDEN)


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import statement in a file, at any depth (also in functions)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute | ast.Name)
            and getattr(node.func, "attr", getattr(node.func, "id", ""))
            in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append((node.lineno, node.args[0].value))
    return found


def test_core_is_where_the_scan_looks() -> None:
    modules = sorted(p.relative_to(CORE).as_posix() for p in CORE.rglob("*.py"))
    assert "migrate.py" in modules
    assert "targets/sqlite.py" in modules


def test_no_core_module_imports_the_gui() -> None:
    offending = [
        f"{path.relative_to(CORE)}:{line}: {module}"
        for path in sorted(CORE.rglob("*.py"))
        for line, module in _imports(path)
        if _is_forbidden(module)
    ]
    assert offending == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import PySide6.QtCore", True),
        ("from qasync import QEventLoop", True),
        ("def f():\n    import ferry_gui.app", True),
        ("importlib.import_module('PySide6')", True),
        ("import ferry_guide", False),
        ("from . import gui", False),
    ],
)
def test_the_scan_recognises_gui_imports(tmp_path: Path, source: str, expected: bool) -> None:
    path = tmp_path / "m.py"
    path.write_text(source + "\n", encoding="utf-8")
    assert any(_is_forbidden(module) for _, module in _imports(path)) is expected


def test_importing_the_engine_loads_no_gui_module() -> None:
    modules = [
        "ferry",
        "ferry.migrate",
        "ferry.plan",
        "ferry.targets.sqlite",
        "ferry.targets.postgres",
    ]
    if (CORE / "cli/command.py").exists():
        modules.append("ferry.cli.command")
    code = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout)
    assert "ferry.migrate" in loaded
    assert [m for m in loaded if _is_forbidden(m)] == []
