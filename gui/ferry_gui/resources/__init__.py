"""Files the wizard ships: the application icon and a font (Qt wheels ship none)."""

from __future__ import annotations

from pathlib import Path


def icon_path() -> Path:
    """The application icon (SVG)."""
    return Path(__file__).parent / "ferry.svg"


def font_paths() -> list[Path]:
    """DejaVu Sans (regular, bold): text renders even where the system has no fonts."""
    return sorted((Path(__file__).parent / "fonts").glob("*.ttf"))
