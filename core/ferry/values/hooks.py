"""A table's row hook: the plan's ``hook = "file.py:function"`` (or ``module:function``) loaded as
a function that sees each source row before its columns are mapped, and may rewrite it, drop it
(None) or reject it (by raising ValueError, TypeError, KeyError or IndexError)."""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import PlanError

RowHook = Callable[[dict[str, Any]], dict[str, Any] | None]


def load_hook(reference: str, base_dir: Path) -> RowHook:
    """Import a ``file.py:function`` (relative to the plan) or ``module:function`` hook."""
    target, _, function = reference.partition(":")
    if not function:
        raise PlanError(
            f"hook {reference!r} must look like 'hooks.py:function' or 'package.module:function'"
        )
    try:
        if target.endswith(".py"):
            path = (base_dir / target).resolve()
            spec = importlib.util.spec_from_file_location(f"ferry_hook_{path.stem}", path)
            if spec is None or spec.loader is None:
                raise FileNotFoundError(path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
        else:
            module = importlib.import_module(target)
        hook: RowHook = getattr(module, function)
    except FileNotFoundError:
        raise PlanError(f"hook file {target} was not found next to the plan") from None
    except (ImportError, AttributeError, SyntaxError) as exc:
        raise PlanError(f"cannot load hook {reference!r}: {exc}") from None
    return hook
