"""The ``ferry`` command: a thin layer over the public engine API.

The public names of the former ``ferry.cli`` module load from here on
first use (PEP 562), so ``import ferry.cli`` stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazyexports import lazy_exports

if TYPE_CHECKING:
    from ..api import rebase_paths
    from .command import (
        cli,
        main,
    )
    from .common import (
        out,
    )

_HOMES = {
    "cli": ".command",
    "main": ".command",
    "out": ".common",
    "rebase_paths": "..api",  # moved into the engine (the wizard uses it too)
}


__getattr__ = lazy_exports(__name__, _HOMES)


__all__ = [
    "cli",
    "main",
    "out",
    "rebase_paths",
]
