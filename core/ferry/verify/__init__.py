"""Verification: does the target hold what the sources say, after the plan's transforms?

The public names of the former ``ferry.verify`` module load from here on
first use (PEP 562), so ``import ferry.verify`` stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazyexports import lazy_exports

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


__getattr__ = lazy_exports(__name__, _HOMES)


__all__ = [
    "VerifyResult",
    "holds",
    "verify",
]
