"""Runs engine coroutines on the Qt event loop (through qasync) and reports on them as signals.

One job at a time. Engine events arrive through ``emit`` (from the loop or from a worker
thread), are queued, and leave as one ``events`` signal at most every ``interval_ms`` (~10 Hz),
with only the newest :class:`~ferry.events.TableProgress` of each table kept. The runner owns the
job's :class:`~ferry.CancelToken`. A :class:`~ferry.FerryError` becomes an error dialog (message,
hint, details), anything else an "unexpected" dialog with the traceback; no exception escapes.
"""

from __future__ import annotations

import asyncio
import gc
import sys
import threading
import traceback
from collections.abc import Callable, Coroutine
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from ferry import Cancelled, CancelToken, FerryError
from ferry.events import Event, TableProgress

JobFactory = Callable[[Callable[[Event], None], CancelToken], Coroutine[Any, Any, Any]]
#: seconds a thread may hold the GIL while another waits (Python's default: 0.005)
GUI_SWITCH_INTERVAL = 0.001


def coalesce(events: list[Event]) -> list[Event]:
    """Drop every TableProgress that a later one of the same table supersedes."""
    last: dict[str, int] = {}
    for index, event in enumerate(events):
        if isinstance(event, TableProgress):
            last[event.table] = index
    return [
        e
        for i, e in enumerate(events)
        if not isinstance(e, TableProgress) or last.get(e.table) == i
    ]


class ErrorDialog(QMessageBox):
    """Message, hint and expandable details; shown non-modally so nothing blocks."""

    def __init__(self, parent: QWidget | None, title: str, message: str, hint: str, details: str):
        super().__init__(parent)
        self.setObjectName("ferryErrorDialog")
        self.setIcon(QMessageBox.Icon.Critical)
        self.setWindowTitle(title)
        self.setText(message)
        if hint:
            self.setInformativeText(hint)
        if details:
            self.setDetailedText(details)
        self.setStandardButtons(QMessageBox.StandardButton.Close)


class Runner(QObject):
    """Starts, watches and cancels one engine job at a time."""

    #: a job started: its name
    started = Signal(str)
    #: coalesced engine events (a list), at most every ``interval_ms``
    events = Signal(object)
    #: a job succeeded: name, result
    succeeded = Signal(str, object)
    #: a job failed: name, exception (Cancelled included)
    failed = Signal(str, object)
    #: a job ended, whatever the outcome: name
    ended = Signal(str)

    def __init__(self, parent: QWidget | None = None, interval_ms: int = 100) -> None:
        super().__init__(parent)
        # Engine jobs run Python in worker threads. Every Qt call a slot makes lets go of the
        # GIL and must win it back; at the default 5 ms switch interval a busy worker made a
        # slot of a dozen calls take 50-300 ms. 1 ms keeps the GUI thread's waits short.
        sys.setswitchinterval(min(sys.getswitchinterval(), GUI_SWITCH_INTERVAL))
        self._parent_widget = parent
        self._lock = threading.Lock()
        self._pending: list[Event] = []
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.flush)
        self._task: asyncio.Task[Any] | None = None
        self._cancel: CancelToken | None = None
        self._running = False
        self.job = ""
        self.cancel_requested = False
        #: the last error dialog shown (tests look at it)
        self.last_dialog: ErrorDialog | None = None
        #: show dialogs for errors (off for callers that show their own)
        self.show_dialogs = True

    @property
    def busy(self) -> bool:
        """True while a job runs."""
        return self._running

    def start(self, name: str, factory: JobFactory) -> bool:
        """Run ``factory(emit, cancel)`` as job ``name``; False (and nothing done) when busy."""
        if self.busy:
            return False
        self.job = name
        self.cancel_requested = False
        self._cancel = CancelToken()
        with self._lock:
            self._pending.clear()
        self._timer.start()
        self._running = True
        # A full garbage collection walks every object, and the window's thousands of Qt
        # wrappers and modules made each one a 40-70 ms freeze during a long run; objects
        # alive now are left out of collections until the job ends.
        gc.freeze()
        self.started.emit(name)
        self._task = asyncio.ensure_future(self._run(name, factory, self._cancel))
        return True

    def cancel(self) -> None:
        """Ask the running job to stop (the engine rolls back between batches)."""
        if self._cancel is not None and self.busy:
            self.cancel_requested = True
            self._cancel.cancel()

    def _emit(self, event: Event) -> None:
        with self._lock:
            self._pending.append(event)

    def flush(self) -> None:
        """Send the queued events now (coalesced)."""
        with self._lock:
            batch, self._pending = self._pending, []
        if batch:
            self.events.emit(coalesce(batch))

    async def _run(self, name: str, factory: JobFactory, cancel: CancelToken) -> None:
        try:
            result = await factory(self._emit, cancel)
        except asyncio.CancelledError:  # the task itself was cancelled (app closing)
            self._finish()
            self.failed.emit(name, Cancelled())
        except Cancelled as exc:
            self._finish()
            self.failed.emit(name, exc)
        except FerryError as exc:
            self._finish()
            self.show_error(exc)
            self.failed.emit(name, exc)
        except Exception as exc:
            self._finish()
            self.show_unexpected(exc)
            self.failed.emit(name, exc)
        else:
            self._finish()
            self.succeeded.emit(name, result)
        finally:
            self.ended.emit(name)

    def _finish(self) -> None:
        # Not busy any more before anyone hears of the outcome (pages re-check isComplete).
        self._running = False
        gc.unfreeze()
        self._timer.stop()
        self.flush()

    def show_error(self, exc: FerryError) -> None:
        """Show a FerryError: message, hint, details."""
        if self.show_dialogs:
            self._show(
                ErrorDialog(self._parent_widget, "Ferry", exc.message, exc.hint, exc.details)
            )

    def show_unexpected(self, exc: BaseException) -> None:
        """Show any other exception, with the traceback in the details."""
        details = "".join(traceback.format_exception(exc))
        text = f"Unexpected error: {type(exc).__name__}: {exc}"
        hint = "This is a bug in Ferry; please report it with the details below."
        if self.show_dialogs:
            self._show(
                ErrorDialog(self._parent_widget, "Ferry: unexpected error", text, hint, details)
            )

    def _show(self, dialog: ErrorDialog) -> None:
        if self.last_dialog is not None:
            self.last_dialog.close()
        self.last_dialog = dialog
        dialog.setModal(False)
        dialog.show()
