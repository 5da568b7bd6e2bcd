"""``ferry init``: scanning a folder of legacy state and drafting a plan a person can edit.

The public names of the former ``ferry.scan`` module load from here on
first use (PEP 562), so ``import ferry.scan`` stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazyexports import lazy_exports

if TYPE_CHECKING:
    from .folder import (
        ScanResult,
        describe_found,
        scan_folder,
    )
    from .found import (
        FoundSource,
        identifier,
    )
    from .sourcefiles import find_sources, json_layout

_HOMES = {
    "FoundSource": ".found",
    "ScanResult": ".folder",
    "describe_found": ".folder",
    "find_sources": ".sourcefiles",
    "identifier": ".found",
    "json_layout": ".sourcefiles",
    "scan_folder": ".folder",
}


__getattr__ = lazy_exports(__name__, _HOMES)


__all__ = [
    "FoundSource",
    "ScanResult",
    "describe_found",
    "find_sources",
    "identifier",
    "json_layout",
    "scan_folder",
]
