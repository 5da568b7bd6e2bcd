"""JSON with comments: a JSON source whose plan says ``comments = true``.

Many apps keep their settings as JSON with ``//`` and ``/* */`` comments and trailing commas
(VS Code's ``settings.json``, JSONC; JSON5 allows a little more: single quotes, unquoted
keys). Strict JSON readers refuse such a file at its first comment, so ``ferry init`` left it
unread. json5 reads it; the document is handed on as the JSON text it means, so every later
step (shapes, keys, types, prints) reads it as any JSON file. The comments themselves are not
data and are not carried. ``NaN`` and ``Infinity`` (JSON5 constants no database column holds)
and a key given twice are refused, as in a strict JSON file.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import json5

#: the largest file read this way: json5 parses in Python, about 1 MiB/s (settings are small)
MAX_BYTES = 4 * 1024 * 1024


class CommentedJsonError(ValueError):
    """The file is not JSON even with comments allowed; the message says where and why."""


def _no_constant(name: str) -> Any:
    raise CommentedJsonError(f"{name} is not a number a database column holds")


def without_comments(path: Path) -> bytes:
    """The JSON text (ASCII, escapes kept) of the commented JSON file at ``path``; raises
    :class:`CommentedJsonError` naming what is wrong, OSError when it cannot be read."""
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise CommentedJsonError(
            f"{size:,} bytes: JSON with comments is read up to {MAX_BYTES:,} bytes"
        )
    text = path.read_bytes().decode("utf-8-sig", errors="strict")
    try:
        document = json5.loads(text, allow_duplicate_keys=False, parse_constant=_no_constant)
    except CommentedJsonError:
        raise
    except ValueError as exc:  # json5's messages give the line and column
        found = re.match(r"<string>:(\d+) (.*)", str(exc), re.DOTALL)
        raise CommentedJsonError(
            f"line {found.group(1)}: {found.group(2)}" if found else str(exc)
        ) from None
    # ensure_ascii: a lone surrogate escape stays an escape, as the JSON reader expects it
    return json.dumps(document, ensure_ascii=True, allow_nan=False).encode("ascii")


def reads_with_comments(path: Path) -> bool:
    """True when the file is JSON once its comments (and trailing commas) are allowed."""
    try:
        without_comments(path)
    except (CommentedJsonError, OSError, UnicodeDecodeError, RecursionError):
        return False
    return True


__all__ = ["MAX_BYTES", "CommentedJsonError", "reads_with_comments", "without_comments"]
