"""The ``ferry-gui`` command's (and ``python -m ferry_gui``'s) entry point.

SQLite's process-wide settings are made first, before anything imports ``sqlite3``
(:func:`ferry.api.configure_sqlite`: the wizard's imports start SQLite, after which its
allocation count, which slows two threads reading SQLite at once, can no longer be turned
off). Only then is the wizard imported. ``ferry gui`` gets the same from the ``ferry``
command's own entry point (:mod:`ferry.cli.launch`).
"""

from __future__ import annotations


def main(argv: list[str] | None = None) -> int:
    """Run the wizard (``ferry-gui [PLAN] [--demo] [--screenshots DIR]``)."""
    from ferry.api import configure_sqlite

    configure_sqlite()  # before anything imports sqlite3
    from .app import main as app_main

    return app_main(argv)
