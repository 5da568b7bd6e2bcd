"""Sizes as people read them, one style everywhere (the CLI and the wizard): ``62.4 KiB``."""

from __future__ import annotations


def size_text(size: int) -> str:
    """``230 B``, ``62.4 KiB``, ``1.2 MiB``, ``3.0 GiB`` (binary units, as ``ls -h`` counts)."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return str(size)


__all__ = ["size_text"]
