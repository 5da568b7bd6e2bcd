"""How much of a user's file Ferry reads at once: each limit is named in the error that
enforces it, so hostile or mistaken input (a 2 GB line without a newline, a 1 GB text file
taken for a value, a plan file that is really a disk image) fails quickly and plainly instead
of exhausting memory. The audit table is in docs/reliability.md ("Bounded resources").
"""

from __future__ import annotations

from pathlib import Path

MIB = 1024 * 1024
#: one JSON Lines record (one line)
MAX_JSONL_LINE_BYTES = 64 * MIB
#: one string (key or value) in a JSON document
MAX_STRING_BYTES = 8 * MIB
#: one text source file (its whole content is one value)
MAX_TEXT_FILE_BYTES = 64 * MIB
#: a plan file (``ferry.toml``)
MAX_PLAN_BYTES = 8 * MIB
#: a SQL schema file (``[target] schema``)
MAX_SCHEMA_BYTES = 64 * MIB
#: a backup's ``manifest.json``
MAX_MANIFEST_BYTES = 256 * MIB


def mib(limit: int) -> str:
    """``64 MiB``: a limit as the errors name it."""
    return f"{limit // MIB} MiB"


def read_up_to(path: Path, limit: int) -> bytes | None:
    """The whole file, or None when it holds more than ``limit`` bytes (only ``limit + 1``
    bytes are read). OSError propagates."""
    with path.open("rb") as handle:
        data = handle.read(limit + 1)
    return data if len(data) <= limit else None
