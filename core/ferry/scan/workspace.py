"""A workspace per plan: the folder holding a drafted plan, its backups, its reports and (when
the draft proposes a new file) the SQLite target, so drafting never writes into the app's data
folder it scans unless the operator chooses that folder.

The default workspace of a data folder is ``<root>/<slug>-<hash>``: the slug of the folder's
name (readable) and the first 8 hex digits of the SHA-256 of its absolute path (stable for the
same folder, distinct for two folders of the same name). The root is ``FERRY_WORKSPACE_DIR``
when set (tests, CI, an operator who keeps plans elsewhere), else ``workspaces`` in the user's
data folder (platformdirs: ``~/.local/share/ferry/workspaces`` on Linux,
``~/Library/Application Support/ferry/workspaces`` on macOS,
``%LOCALAPPDATA%\\ferry\\workspaces`` on Windows).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..plan import Plan

WORKSPACE_DIR_ENV = "FERRY_WORKSPACE_DIR"
#: the plan file's name inside a workspace
PLAN_NAME = "ferry.toml"
_SLUG_MAX = 40


def workspaces_root() -> Path:
    """The folder holding the default workspaces (see the module's docstring)."""
    chosen = os.environ.get(WORKSPACE_DIR_ENV)
    if chosen:
        return Path(chosen).expanduser()
    from platformdirs import user_data_dir  # here: `ferry --help` names this module's constant

    return Path(user_data_dir("ferry", appauthor=False)) / "workspaces"


def slug(name: str) -> str:
    """``name`` as a folder name anyone can type: lower case letters, digits and dashes."""
    text = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return text[:_SLUG_MAX].rstrip("-") or "data"


def default_workspace(data: str | Path) -> Path:
    """The default workspace of the app's data folder (or one file, such as an app's
    database, or a database server's URL) ``data``; not created here."""
    if isinstance(data, str) and "://" in data:
        # A PostgreSQL source: named after its database, told apart by the whole URL.
        name = data.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
        digest = hashlib.sha256(data.encode("utf-8")).hexdigest()[:8]
        return workspaces_root() / f"{slug(name)}-{digest}"
    resolved = Path(data).expanduser().resolve()
    digest = hashlib.sha256(str(resolved).encode("utf-8", "surrogateescape")).hexdigest()[:8]
    return workspaces_root() / f"{slug(resolved.name)}-{digest}"


def plan_in(workspace: str | Path) -> Path:
    """The plan file of ``workspace``."""
    return Path(workspace) / PLAN_NAME


def is_within(path: str | Path, folder: str | Path) -> bool:
    """True when ``path`` is ``folder`` or lies below it (both resolved)."""
    inner, outer = Path(path).resolve(), Path(folder).resolve()
    return inner == outer or outer in inner.parents


def rebase_paths(plan: Plan, new_base: Path, *, absolute_outside: bool = False) -> None:
    """Rewrite the plan's relative file paths so they hold from ``new_base``; with
    ``absolute_outside``, a file not below ``new_base`` gets its absolute path instead."""

    def rebased(path: Path) -> str:
        if absolute_outside and not is_within(path, new_base):
            return str(path.resolve())
        return os.path.relpath(path, new_base)

    for spec in plan.sources:
        if spec.path and not Path(spec.path).is_absolute():
            spec.path = rebased(plan.base_dir / spec.path)
    if plan.target.schema_sql:
        # the scan resolved it; the plan keeps it relative, like every path a person reviews
        with contextlib.suppress(ValueError):  # another drive (Windows): stays absolute
            plan.target.schema_sql = rebased(plan.resolve(plan.target.schema_sql))
    plan.base_dir = new_base
