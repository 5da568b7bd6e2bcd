"""The wizard's application: a QApplication driven by a qasync event loop.

``ferry-gui [PLAN] [--demo] [--screenshots DIR]`` (also ``ferry gui``), started through
:mod:`.launch`, which makes SQLite's settings before this module's imports start SQLite.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shutil
import sys
import tempfile
from pathlib import Path
from types import TracebackType

import qasync  # type: ignore[import-untyped]
from PySide6.QtGui import QFont, QFontDatabase, QIcon
from PySide6.QtWidgets import QApplication

from ferry.api import log_exception, setup_logging

from .platformcheck import check_or_exit
from .resources import font_paths, icon_path
from .walk import walk_demo
from .wizard import FerryWizard


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="ferry-gui", description="Ferry's migration wizard.")
    parser.add_argument("plan", nargs="?", help="a plan file (ferry.toml) to open")
    parser.add_argument("--demo", action="store_true", help="open the bundled demo")
    parser.add_argument(
        "--screenshots",
        type=Path,
        metavar="DIR",
        help="with --demo: walk every page by itself and save one PNG per page into DIR",
    )
    return parser.parse_args(argv)


def make_app() -> QApplication:
    """The QApplication (the existing one, if any)."""
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    app.setApplicationName("Ferry")
    app.setOrganizationName("Ferry")
    app.setWindowIcon(QIcon(str(icon_path())))
    app.setQuitOnLastWindowClosed(False)
    _ensure_fonts()
    return app


def _ensure_fonts() -> None:
    """Register the bundled DejaVu Sans; it becomes the default only where the system offers
    no font family of its own (a bare container or server), so native fonts win elsewhere."""
    system_families = set(QFontDatabase.families())
    loaded: list[str] = []
    for path in font_paths():
        font_id = QFontDatabase.addApplicationFont(str(path))
        if font_id >= 0:
            loaded.extend(QFontDatabase.applicationFontFamilies(font_id))
    if loaded and not system_families:
        QApplication.setFont(QFont(loaded[0]))


def run(plan: str | None = None, demo: bool = False, screenshots: Path | None = None) -> int:
    """Open the wizard and run until it is closed; the exit code."""
    if screenshots is not None and sys.platform.startswith("linux"):
        if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
            os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    # Qt aborts (SIGABRT) on a missing platform library: name them first, and exit 10.
    check_or_exit()
    setup_logging()
    app = make_app()
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    wizard = FerryWizard()

    def excepthook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        # An exception in a slot must never take the app down: show it (and log it) instead.
        log_exception(logging.getLogger("ferry.gui"), "the wizard", exc.with_traceback(tb))
        wizard.runner.show_unexpected(exc.with_traceback(tb))

    previous_hook = sys.excepthook
    sys.excepthook = excepthook

    async def main() -> int:
        closed = asyncio.Event()
        wizard.finished.connect(lambda _code: closed.set())
        wizard.show()
        if screenshots is not None:
            # The demo's plan, target and backups live in a folder of their own, removed again
            # once the walk is over (the screenshots go to `screenshots`).
            folder = Path(tempfile.mkdtemp(prefix="ferry-demo-"))
            try:
                saved = await walk_demo(wizard, folder, screenshots)
            except Exception as exc:
                print(f"ferry gui: the walk stopped: {exc}", file=sys.stderr)
                return 1
            finally:
                wizard.close()
                shutil.rmtree(folder, ignore_errors=True)
            for path in saved:
                print(path)
            return 0
        if demo:
            wizard.start_page.open_demo()
        elif plan:
            wizard.start_page.open_plan(plan)
        await closed.wait()
        return 0

    try:
        with loop:
            return int(loop.run_until_complete(main()))
    finally:
        sys.excepthook = previous_hook


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``ferry-gui``."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.screenshots is not None and not args.demo:
        print("ferry-gui: --screenshots needs --demo", file=sys.stderr)
        return 2
    return run(args.plan, args.demo, args.screenshots)


if __name__ == "__main__":
    sys.exit(main())
