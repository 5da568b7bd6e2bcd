"""The bundled demo: a small app's legacy state (settings, jobs with steps, progress,
heartbeats) and the plan that moves it into an embedded SQLite database."""

from __future__ import annotations

from pathlib import Path


def demo_source() -> Path:
    """The folder holding the demo's files and its ``ferry.toml``."""
    return Path(__file__).parent / "app"
