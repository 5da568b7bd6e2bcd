"""Files the wizard ships (the application icon)."""

from __future__ import annotations

from pathlib import Path


def icon_path() -> Path:
    """The application icon (SVG)."""
    return Path(__file__).parent / "ferry.svg"
