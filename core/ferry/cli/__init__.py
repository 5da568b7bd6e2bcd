"""The ``ferry`` command: a thin layer over the public engine API.

The public names of the former ``ferry.cli`` module load from here on
first use (PEP 562), so ``import ferry.cli`` stays light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .command import (
        cli,
        main,
        rebase_paths,
    )
    from .common import (
        out,
    )

_HOMES = {
    "cli": ".command",
    "main": ".command",
    "out": ".common",
    "rebase_paths": ".command",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home, __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "cli",
    "main",
    "out",
    "rebase_paths",
]
