"""Small immutable events the engine emits while it works, and the cancel token it honours.

A caller passes ``emit`` (any callable taking one event) and a :class:`CancelToken` to long
operations. The CLI renders the events as progress bars, the wizard as live tables. Events are
plain frozen dataclasses so they can cross threads and be compared in tests.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .errors import Cancelled

if TYPE_CHECKING:
    from .backup.create import Backup


@dataclass(frozen=True)
class StepStarted:
    """A step of the run (``schema``, ``read``, ``merge``, ``journal`` ...) started."""

    step: str
    detail: str = ""


@dataclass(frozen=True)
class StepFinished:
    """A step finished after ``seconds``."""

    step: str
    seconds: float
    detail: str = ""


@dataclass(frozen=True)
class TableProgress:
    """Rows of one target table processed so far; ``rows_total`` is None when unknown."""

    table: str
    rows_done: int
    rows_total: int | None
    rows_per_second: float


@dataclass(frozen=True)
class TableFinished:
    """A target table's final counts (``inserted``, ``updated``, ``unchanged`` ...)."""

    table: str
    counts: dict[str, int]
    seconds: float


@dataclass(frozen=True)
class RunWarning:
    """Something worth a person's attention that did not stop the run (not the builtin
    ``Warning``, which this name used to shadow)."""

    message: str
    table: str = ""
    key: str = ""


@dataclass(frozen=True)
class RowRejected:
    """A row that was not loaded, with the reason (cast failure, constraint violation ...)."""

    table: str
    key: str
    reason: str
    row: dict[str, Any]


@dataclass(frozen=True)
class BackupTaken:
    """The backup :func:`ferry.migrate` took before migrating (its id, folder, size)."""

    backup: Backup


@dataclass(frozen=True)
class SettleCountdown:
    """Waiting for the sources to stay quiet (:mod:`ferry.safety.quiet`): ``seconds_left`` of
    ``settle`` seconds, for a countdown."""

    seconds_left: float
    settle: float


@dataclass(frozen=True)
class SyncCycle:
    """One committed cycle of ``ferry sync`` (:mod:`ferry.sync.loop`): a journaled migrate run.

    ``changed`` holds rows inserted, updated and deleted per table; ``behind`` is how old the
    newest source write the cycle picked up was when it committed (seconds), or the time since
    the cycle started when it picked up none or the source's write times are unknown."""

    cycle: int
    started_at: datetime
    seconds: float
    changed: dict[str, int]
    behind: float
    run_id: str = ""
    report_path: str | None = None

    @property
    def changed_total(self) -> int:
        """Rows changed over every table."""
        return sum(self.changed.values())


Event = (
    StepStarted
    | StepFinished
    | TableProgress
    | TableFinished
    | RunWarning
    | RowRejected
    | BackupTaken
    | SettleCountdown
    | SyncCycle
)
Emit = Callable[[Event], None]


def ignore_events(event: Event) -> None:
    """The default ``emit``: drop every event."""


class CancelToken:
    """Cooperative cancellation: the engine checks it between batches and rolls back."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        """Ask the running operation to stop; safe to call from any thread."""
        self._event.set()

    @property
    def cancelled(self) -> bool:
        """True once :meth:`cancel` was called."""
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        """Raise :class:`~ferry.errors.Cancelled` when cancellation was asked for."""
        if self._event.is_set():
            raise Cancelled()
