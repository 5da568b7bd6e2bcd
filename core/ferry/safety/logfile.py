"""Ferry's log file: the standard library's logging into a rotating file in the user's log
folder, for a support request. Every run's steps (plan loaded, backup, each table's counts,
the verdict) are logged at INFO, errors at ERROR with their traceback at DEBUG.

The folder: ``FERRY_LOG_DIR`` when set, else ``$XDG_STATE_HOME/ferry/log`` (default
``~/.local/state/ferry/log``) on Linux, ``~/Library/Logs/ferry`` on macOS and
``%LOCALAPPDATA%\\ferry\\Logs`` on Windows. The file is ``ferry.log`` (owner-only), rotated at
5 MiB with 5 older files kept. Passwords never reach it: :class:`SecretFilter` masks them in
every record, its arguments and its traceback.
"""

from __future__ import annotations

import logging
import os
import sys
from io import TextIOWrapper
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import Any

LOG_DIR_ENV = "FERRY_LOG_DIR"
LOG_NAME = "ferry.log"
MAX_BYTES = 5 * 1024 * 1024
BACKUP_COUNT = 5
FORMAT = "%(asctime)s %(levelname)-7s %(process)d %(name)s: %(message)s"

#: the engine's loggers are all below this one (``ferry.migrate``, ``ferry.backup.create`` ...)
logger = logging.getLogger("ferry")


def log_dir() -> Path:
    """The folder of Ferry's log file (see the module's docstring)."""
    chosen = os.environ.get(LOG_DIR_ENV)
    if chosen:
        return Path(chosen).expanduser()
    if os.name == "nt":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / "ferry" / "Logs"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Logs" / "ferry"
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "ferry" / "log"


def log_path() -> Path:
    """Ferry's log file (it may not exist yet)."""
    return log_dir() / LOG_NAME


class SecretFilter(logging.Filter):
    """Masks passwords (``user:pw@host``, ``password=``, any password Ferry resolved) in a
    record's message, arguments and traceback before any handler writes it."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = mask(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask(record.exc_text)
        record.exc_info = None  # the masked text stands in for it
        if record.stack_info:
            record.stack_info = mask(record.stack_info)
        return True


def mask(text: str) -> str:
    """``text`` with passwords masked (:func:`ferry.safety.passwords.scrub_text` for URLs,
    then :func:`ferry.safety.passwords.mask_passwords`)."""
    from .passwords import mask_passwords, scrub_text

    return mask_passwords(scrub_text(text))


class _PrivateRotatingFileHandler(RotatingFileHandler):
    """A RotatingFileHandler whose files are created owner-only (0600) whatever the umask."""

    def _open(self) -> TextIOWrapper:
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        return open(fd, "a", encoding=self.encoding, errors=self.errors)


_handler: _PrivateRotatingFileHandler | None = None


def active_log_path() -> Path | None:
    """The file this process logs into, None when :func:`setup_logging` did not run or failed
    (reports name it as ``log_file``)."""
    return Path(_handler.baseFilename) if _handler is not None else None


def setup_logging() -> Path | None:
    """Log the ``ferry`` loggers into :func:`log_path` (once per process; again after
    ``FERRY_LOG_DIR`` changed); the path, or None when the folder cannot be made (logging
    never stops a run)."""
    global _handler
    path = log_path()
    if _handler is not None:
        if Path(_handler.baseFilename) == path.absolute():
            return path
        logger.removeHandler(_handler)
        _handler.close()
        _handler = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        handler = _PrivateRotatingFileHandler(
            path, maxBytes=MAX_BYTES, backupCount=BACKUP_COUNT, encoding="utf-8"
        )
    except OSError:
        return None
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(SecretFilter())
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    _handler = handler
    return path


def log_exception(log: logging.Logger, what: str, exc: BaseException) -> None:
    """``what`` stopped: the error's message at ERROR, its traceback at DEBUG."""
    log.error("%s stopped: %s: %s", what, type(exc).__name__, exc)
    log.debug("%s: traceback", what, exc_info=exc)


def logged(emit: Any, log: logging.Logger) -> Any:
    """``emit`` that also logs each engine event: steps, each table's counts, warnings, and the
    key (never the row or its values) of each rejected row."""
    from ..events import RowRejected, RunWarning, StepFinished, StepStarted, TableFinished

    def emit_and_log(event: Any) -> None:
        if isinstance(event, StepStarted):
            log.debug("step %s started%s", event.step, f": {event.detail}" if event.detail else "")
        elif isinstance(event, StepFinished):
            detail = f": {event.detail}" if event.detail else ""
            log.info("step %s done in %.2fs%s", event.step, event.seconds, detail)
        elif isinstance(event, TableFinished):
            counts = ", ".join(f"{k} {v}" for k, v in event.counts.items())
            log.info("table %s: %s (%.2fs)", event.table, counts, event.seconds)
        elif isinstance(event, RunWarning):
            log.warning("%s%s", f"table {event.table}: " if event.table else "", event.message)
        elif isinstance(event, RowRejected):
            log.debug("table %s: row %s rejected", event.table, event.key)
        emit(event)

    return emit_and_log
