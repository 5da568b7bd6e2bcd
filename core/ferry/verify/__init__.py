"""Verification: does the target hold what the sources say, after the plan's transforms?

The public names of the former ``ferry.verify`` module load from here on
first use (PEP 562), so ``import ferry.verify`` stays light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .integrity import (
        holds,
    )
    from .result import (
        VerifyResult,
    )
    from .run import (
        verify,
    )

_HOMES = {
    "VerifyResult": ".result",
    "holds": ".integrity",
    "verify": ".run",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home, __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "VerifyResult",
    "holds",
    "verify",
]
