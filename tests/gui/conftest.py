"""The wizard under pytest-qt, offscreen, with a qasync loop on pytest-qt's QApplication."""

from __future__ import annotations

import os
import tempfile

# Before anything imports Qt: no display needed; settings and the demo copy go to a scratch place.
os.environ["QT_QPA_PLATFORM"] = "offscreen"
_SCRATCH = tempfile.mkdtemp(prefix="ferry-gui-tests-")
os.environ["XDG_CONFIG_HOME"] = os.path.join(_SCRATCH, "config")
os.environ["XDG_DATA_HOME"] = os.path.join(_SCRATCH, "data")

import asyncio  # noqa: E402
import gc  # noqa: E402
from collections.abc import Iterator  # noqa: E402

import pytest  # noqa: E402

pytest.importorskip("PySide6", reason="the gui extra is not installed")
import qasync  # type: ignore[import-untyped]  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from ferry_gui.wizard import FerryWizard  # noqa: E402


@pytest.fixture
def qloop(qapp: QApplication) -> Iterator[asyncio.AbstractEventLoop]:
    """A qasync loop marked as running, so tasks advance whenever pytest-qt processes events."""
    loop = qasync.QEventLoop(qapp, already_running=True)
    asyncio.set_event_loop(loop)
    try:
        yield loop
    finally:
        asyncio.events._set_running_loop(None)
        asyncio.set_event_loop(None)
        loop._QEventLoop__is_running = False  # marked running above, never really run
        loop.close()  # shuts its worker threads down


@pytest.fixture
def wizard(qtbot, qloop: asyncio.AbstractEventLoop) -> Iterator[FerryWizard]:  # type: ignore[no-untyped-def]
    """A shown wizard; any job still running at the end is cancelled and waited for, then the
    wizard is closed (closing it while busy would ask with a modal box: a hang offscreen)."""
    w = FerryWizard()
    w.runner.show_dialogs = True
    w.show()
    yield w
    if w.runner.busy:
        w.runner.cancel()
        qtbot.waitUntil(lambda: not w.runner.busy, timeout=60_000)
    if w.runner.last_dialog is not None:
        w.runner.last_dialog.close()
    w._close_confirmed = True  # settings left unsaved on a page: no "Close Ferry?" box either
    w.close()
    w.deleteLater()
    qtbot.wait(10)  # let the deferred delete happen while the loop is still set up
    gc.collect()  # finalise the test's Qt and asyncio garbage now, not inside a later import
