"""Files a toolchain keeps beside an app's state, which ``ferry init`` leaves out.

A Node-RED user folder holds ``package.json`` (npm's manifest of the nodes installed there)
beside the flows and the context store; it was drafted as a settings table of the app. Such a
file describes how the app is built or installed, not what it holds; skipped with a reason, it
can still be added under ``[[sources]]`` by hand.
"""

from __future__ import annotations

from pathlib import Path

#: manifests and configuration of package managers, compilers and linters (lower case)
TOOL_FILES = frozenset(
    {
        "package.json",
        "package-lock.json",
        "npm-shrinkwrap.json",
        "bower.json",
        "composer.json",
        "tsconfig.json",
        "jsconfig.json",
        "deno.json",
        ".eslintrc.json",
        ".prettierrc.json",
        ".babelrc.json",
        "pyrightconfig.json",
    }
)
TOOL_REASON = (
    "a toolchain's manifest (npm, Composer, TypeScript…), not the app's state: add it under "
    "[[sources]] if the app reads it"
)


def tool_file(path: Path) -> bool:
    """``path`` is a package manager's, compiler's or linter's own file."""
    return path.name.lower() in TOOL_FILES


__all__ = ["TOOL_FILES", "TOOL_REASON", "tool_file"]
