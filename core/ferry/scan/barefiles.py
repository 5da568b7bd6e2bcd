"""Files with no extension that hold one value (``VERSION`` holding ``1.4.2``, a ``last_run``
holding a time): read by ``ferry init`` as one-value sources, as a ``*.txt`` one is.

Only a small one-line UTF-8 file qualifies, and only when its line is a value, not a
sentence: one word (``1.4.2``, ``42``, ``a1b2c3d``), or a date and time
(``2024-05-01 10:00:00``). A line of prose is some tool's banner (a Trac environment's
``VERSION``: ``Trac Environment Version 1``), a ``Procfile`` a command; binaries, empty and
multi-line files (``LICENSE``, ``Makefile``) are no value at all. A process id or lock file
(``pid``, ``app.lock`` has an extension anyway, ``LOCK``) is runtime state the app rewrites at
each start, never moved: skipped with that reason. Hidden files have a dot in their name, so
none is extension-less here (``.env`` has its own reader).
"""

from __future__ import annotations

import re
from pathlib import Path

from ..values.logical import looks_like_timestamp

#: an extension-less value file holds at most this many bytes (a value, not a document)
MAX_BYTES = 256
#: names of runtime state: a process id, a lock
_RUNTIME = re.compile(r"(^|[_-])(pid|lock|lck)$", re.I)
RUNTIME_REASON = (
    "a process id or lock file: runtime state the app rewrites when it starts, not moved; "
    'add it under [[sources]] (kind = "text") if the app reads it'
)
PROSE_REASON = (
    "one line of text, not one value (several words: a banner or a command); add it under "
    '[[sources]] (kind = "text") if the app reads it'
)


def bare(path: Path) -> bool:
    """The file's name has no extension (nor a leading dot)."""
    return "." not in path.name


def one_line(path: Path) -> str | None:
    """The one line of a small UTF-8 file of printable text, stripped; None for any other
    file (too big, empty, binary, several lines, control characters)."""
    try:
        if path.stat().st_size > MAX_BYTES:
            return None
        text = path.read_bytes().removeprefix(b"\xef\xbb\xbf").decode("utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return text if text and text.isprintable() else None


def is_value(line: str) -> bool:
    """One word, or a date and time: a value, not a sentence."""
    return len(line.split()) == 1 or looks_like_timestamp(line)


def bare_value_file(path: Path) -> bool:
    """An extension-less file ``ferry init`` reads as one value."""
    if not bare(path) or _RUNTIME.search(path.name):
        return False
    line = one_line(path)
    return line is not None and is_value(line)


def unread_reason(path: Path) -> str | None:
    """Why an extension-less one-line file is not read (None for any other file)."""
    if not bare(path) or one_line(path) is None:
        return None
    return RUNTIME_REASON if _RUNTIME.search(path.name) else PROSE_REASON


__all__ = ["MAX_BYTES", "bare_value_file", "is_value", "one_line", "unread_reason"]
