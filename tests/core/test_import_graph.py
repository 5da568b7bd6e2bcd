"""No import cycle between the engine's modules, function-level imports included.

Every ``import`` and ``from ... import`` in every module under core/ferry counts, wherever it
stands (module level, inside a function or a method), and so does
``importlib.import_module("ferry.x")`` with a literal name. Imports under
``if TYPE_CHECKING:`` do not: they never run, and type-only references may go both ways.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import ferry

CORE = Path(ferry.__file__).resolve().parent


def _module_name(path: Path, root: Path) -> tuple[str, bool]:
    """(dotted name, is a package) of ``path`` under the folder holding package ``root``."""
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


def _type_checking_only(tree: ast.Module) -> set[int]:
    """ids of the nodes under ``if TYPE_CHECKING:``."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            test = node.test
            name = test.id if isinstance(test, ast.Name) else getattr(test, "attr", "")
            if name == "TYPE_CHECKING":
                for child in node.body:
                    skipped.update(id(n) for n in ast.walk(child))
    return skipped


def import_graph(root: Path) -> dict[str, dict[str, int]]:
    """module -> {module it imports: first line}, for every module of package ``root``."""
    modules = {
        _module_name(path, root)[0]: path
        for path in sorted(root.rglob("*.py"))
        if "demo" not in path.relative_to(root).parts
    }
    graph: dict[str, dict[str, int]] = {}
    for name, path in modules.items():
        package = name if _module_name(path, root)[1] else name.rpartition(".")[0]
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skipped = _type_checking_only(tree)
        edges: dict[str, int] = {}
        for node in ast.walk(tree):
            if id(node) in skipped:
                continue
            for imported in _imported(node, package, modules):
                if imported != name:
                    edges.setdefault(imported, node.lineno)  # type: ignore[attr-defined]
        graph[name] = edges
    return graph


def _imported(node: ast.AST, package: str, modules: dict[str, Path]) -> list[str]:
    """The modules of ``modules`` that ``node`` imports."""
    found: list[str] = []
    if isinstance(node, ast.Import):
        found = [a.name for a in node.names if a.name in modules]
    elif isinstance(node, ast.ImportFrom):
        if node.level:
            parts = package.split(".")
            base = ".".join([*parts[: len(parts) - node.level + 1], node.module or ""]).strip(".")
        else:
            base = node.module or ""
        for alias in node.names:
            if f"{base}.{alias.name}" in modules:  # from package import submodule
                found.append(f"{base}.{alias.name}")
            elif base in modules:
                found.append(base)
    elif (
        isinstance(node, ast.Call)
        and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module"
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and node.args[0].value in modules
    ):
        found = [node.args[0].value]
    return found


def cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """The groups of modules that import each other (strongly connected, two or more)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for other in graph.get(module, {}):
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            group = []
            while True:
                top = stack.pop()
                group.append(top)
                if top == module:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return found


def _describe(group: list[str], graph: dict[str, dict[str, int]]) -> str:
    edges = [f"{a} imports {b} (line {graph[a][b]})" for a in group for b in group if b in graph[a]]
    return " <-> ".join(group) + ": " + "; ".join(edges)


def test_the_engine_has_no_import_cycle() -> None:
    graph = import_graph(CORE)
    assert "ferry.migrate" in graph and "ferry.verify.run" in graph  # the scan sees the packages
    found = [_describe(group, graph) for group in cycles(graph)]
    assert found == [], "import cycles (move the shared part into a module both can import):\n" + (
        "\n".join(found)
    )


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("from .b import f\n", "def g():\n    from .a import h\n", [["pkg.a", "pkg.b"]]),
        (
            "import pkg.b\n",
            "class C:\n    def m(self):\n        import pkg.a\n",
            [["pkg.a", "pkg.b"]],
        ),
        (
            "from . import b\n",
            "import importlib\nimportlib.import_module('pkg.a')\n",
            [["pkg.a", "pkg.b"]],
        ),
        (
            "from .b import f\n",
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .a import h\n",
            [],
        ),
        ("from .b import f\n", "import json\n", []),
    ],
)
def test_the_scan_finds_cycles_through_any_import(
    tmp_path: Path, a: str, b: str, expected: list[list[str]]
) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "a.py").write_text(a, encoding="utf-8")
    (package / "b.py").write_text(b, encoding="utf-8")
    assert cycles(import_graph(package)) == expected
