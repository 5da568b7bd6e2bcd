"""Text that is not valid UTF-8 in a SQLite source, and what a plan does with it.

SQLite stores whatever bytes a program hands it as TEXT (C code, another encoding such as
Latin-1). Python's ``sqlite3`` refuses to read such a value; Ferry's SQLite reader then reads
the source's text through :func:`decode_text`, which gives a :class:`BadText` (the exact bytes)
for a value that does not decode. The plan's ``invalid_text`` (per table, per column) says what
happens to it (:func:`resolve`):

- ``reject`` (the default): the row is rejected, naming its key and the column;
- ``replace``: invalid bytes become U+FFFD, with a warning naming the key;
- ``bytes``: the exact bytes are kept, where the target can hold them (any SQLite column, as a
  BLOB; a ``bytea`` column on PostgreSQL); :func:`check_bytes_mode` refuses any other column.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from ..errors import PlanError
from ..shape.identifiers import quote

if TYPE_CHECKING:
    from ..plan import TableSpec
    from ..shape.schema import TableInfo

InvalidText = Literal["reject", "replace", "bytes"]
#: first keys an ``init`` note names per column
NOTE_KEYS = 5

_UTF8_ERROR = "Could not decode to UTF-8"

#: bytes :func:`is_utf8` decodes at a time
UTF8_SLICE = 64 * 1024


class BadText(bytes):
    """A SQLite TEXT value that is not valid UTF-8: its exact bytes."""

    def __repr__(self) -> str:
        return f"text that is not valid UTF-8 ({bytes(self)!r})"


def decode_text(raw: bytes) -> str | BadText:
    """A ``sqlite3`` text factory: the text, or :class:`BadText` when it is not UTF-8."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return BadText(raw)


def is_decode_error(exc: BaseException) -> bool:
    """True for the error ``sqlite3`` raises on a TEXT value that is not valid UTF-8."""
    return isinstance(exc, sqlite3.OperationalError) and _UTF8_ERROR in str(exc)


def tolerate(conn: sqlite3.Connection) -> bool:
    """Read ``conn``'s text through :func:`decode_text` from now on; False when it already
    does (the error then had another cause). Only a connection that met such a value pays
    for the Python call per text value."""
    if conn.text_factory is decode_text:
        return False
    conn.text_factory = decode_text
    return True


def shown(value: bytes) -> str:
    """The bytes as a message shows them (at most 40)."""
    raw = bytes(value)
    return repr(raw[:40]) + ("..." if len(raw) > 40 else "")


def resolve(value: BadText, mode: InvalidText | None, column: str) -> tuple[Any, str]:
    """``(value, warning)`` for a bad text value under ``mode`` (None: reject). Raises
    ValueError with the reason when the row is rejected."""
    if mode == "replace":
        text = bytes(value).decode("utf-8", "replace")
        return text, (
            f"column {column!r}: text is not valid UTF-8 ({shown(value)}); "
            f"invalid bytes replaced with U+FFFD: {text!r}"
        )
    if mode == "bytes":
        return bytes(value), ""
    raise ValueError(
        f"column {column!r}: text is not valid UTF-8 ({shown(value)}); set invalid_text = "
        '"replace" or "bytes" to load it'
    )


def check_bytes_mode(
    spec: TableSpec, info: TableInfo, utf8_only: bool, modes: dict[str, Any]
) -> None:
    """Refuse ``invalid_text = "bytes"`` for a text column whose target cannot hold bytes:
    where text columns hold UTF-8 only (``utf8_only``, PostgreSQL) only a ``bytea`` column can
    (``modes``: column -> its mode). In a column of another type (a number) such a value fails
    its cast and is rejected, as in any mode."""
    if not utf8_only:
        return
    for name, mode in modes.items():
        column = info.columns.get(name)
        if mode == "bytes" and column is not None and column.type == "text":
            raise PlanError(
                f'table {spec.name!r}, column {name!r}: invalid_text = "bytes" keeps the '
                f"bytes of text that is not UTF-8, but the PostgreSQL column is "
                f"{column.sql_type or column.type}, which holds UTF-8 text only",
                hint='Use invalid_text = "reject" or "replace" for it, or make it a bytea '
                'column (types.<column> = "bytes" for a table Ferry creates).',
            )


def chunk_sql(origin: str, columns: list[str]) -> str:
    """Per column of ``columns``, its values of rowids ``(?, ?]`` joined by a newline as one
    BLOB: every text value is valid UTF-8 when the join is (the newline breaks any sequence),
    so one C decode checks a whole chunk of a native load. (A BLOB in a text column that is
    not UTF-8 fails it too: its chunk then goes to Python, which maps it as always.)"""
    parts = [f"CAST(group_concat({quote(c)}, char(10)) AS BLOB)" for c in columns]
    return (
        f"SELECT {', '.join(parts) or 'NULL'} FROM {quote(origin)} WHERE rowid > ? AND rowid <= ?"
    )


def all_utf8(joined: tuple[Any, ...]) -> bool:
    """True when every BLOB :func:`chunk_sql` gave decodes as UTF-8."""
    return all(is_utf8(value) for value in joined if isinstance(value, bytes))


def is_utf8(data: bytes, slice_bytes: int = UTF8_SLICE) -> bool:
    """True when ``data`` decodes as UTF-8, decoded ``slice_bytes`` at a time (at least 4).

    Each slice ends before a byte that starts a character (not ``10xxxxxx``: at most three
    of those follow one), so valid UTF-8 is cut only between characters; invalid UTF-8 leaves
    some slice invalid (a sequence cut short fails at the end of its slice). The text each
    decode builds then stays small: twice as fast on text with characters beyond Latin-1
    (four bytes each in Python) as one decode of a join of a few MiB, and a few MiB less."""
    size = max(slice_bytes, 4)
    view = memoryview(data)
    start, total = 0, len(data)
    while start < total:
        end = start + size
        if end < total:
            back = 0
            while data[end] & 0xC0 == 0x80:
                if back == 3:
                    return False  # four continuation bytes in a row: not UTF-8
                end -= 1
                back += 1
        try:
            str(view[start:end], "utf-8")
        except UnicodeDecodeError:
            return False
        start = end
    return True


def rows_sql(origin: str, columns: list[str]) -> str:
    """Every row of rowids ``(?, ?]`` (a chunk that holds text that is not UTF-8: Python
    maps all of it)."""
    names = ", ".join(quote(c) for c in columns)
    return f"SELECT {names} FROM {quote(origin)} WHERE rowid > ? AND rowid <= ? ORDER BY rowid"


@dataclass
class Census:
    """Text values that are not UTF-8 in one source column: how many, and the first keys."""

    count: int = 0
    keys: list[str] = field(default_factory=list)

    def add(self, key: str) -> None:
        """Count one more, keeping the first keys."""
        self.count += 1
        if len(self.keys) < NOTE_KEYS:
            self.keys.append(key)


def census_note(table: str, column: str, census: Census) -> str:
    """The ``init`` note for a column holding text that is not UTF-8."""
    more = ", ..." if census.count > len(census.keys) else ""
    values = "value is" if census.count == 1 else "values are"
    return (
        f"{table}.{column}: {census.count} {values} text that is not valid UTF-8 (first: "
        f"{'; '.join(census.keys)}{more}); invalid_text decides: reject the row (the "
        'default, written here), "replace" bytes with U+FFFD, or keep the "bytes" (SQLite '
        "target, or a bytea column)"
    )


def note_invalid_text(spec: TableSpec, columns: dict[str, Census]) -> None:
    """``ferry init``: write ``invalid_text = "reject"`` into a table whose source column(s)
    hold text that is not UTF-8, with a note per column saying why."""
    if not columns:
        return
    spec.invalid_text = "reject"
    for column, census in columns.items():
        spec.notes.append(census_note(spec.source, column, census))


__all__ = [
    "BadText",
    "Census",
    "InvalidText",
    "all_utf8",
    "census_note",
    "check_bytes_mode",
    "chunk_sql",
    "decode_text",
    "is_decode_error",
    "is_utf8",
    "note_invalid_text",
    "resolve",
    "rows_sql",
    "shown",
    "tolerate",
]
