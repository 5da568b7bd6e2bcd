"""Comparing rows by content: value normalisation, row hashes, and the temporary store in which
verification compares a source with its target without holding either in memory.

Both sides of a comparison go through :func:`normalizer` for the target column's logical type,
so what only differs in spelling compares equal (``1`` and ``1.0`` in a float column, a
timestamp written with ``T`` or a space, ``Z`` or an offset, JSON with another key order or
whitespace, SQLite's ``0``/``1`` and PostgreSQL's booleans), while every real difference —
one character, NULL against an empty string, ``1`` against ``2`` — gives another text.

Encodings (every length is a count of UTF-8 bytes, as SQL's ``octet_length`` gives it):

- a key (:func:`key_bytes`): each normalised value as ``<length>:<value>``, NULL as ``-``;
- a row's compared values (:class:`RowCodec`): each non-NULL one as
  ``<length>:<column><length>:<value>``, so ``("ab", "c")`` and ``("a", "bc")`` differ and a
  NULL is told apart from every value by being absent. Leaving NULLs out (rather than writing
  a marker) keeps a row's hash unchanged when a column only appears in later records of a
  source (the migration stages it as NULL for the earlier ones).

A row's digest in verification (:func:`row_digest`) is the MD5 of :func:`digest_bytes` of
its normalised key values and then its compared values in *hash form* (:func:`hash_form`: the
normalised text, except that a float is its IEEE 754 bits as 16 hex digits): the lengths, comma
separated, empty for NULL (NULLs at the end left out, for the same reason as above: the
columns of a check keep their order and later ones are only ever appended), a semicolon, then
the non-NULL values one after the other. A table's checksum is the sum of its rows' digests
modulo 2**128 (:func:`combine`). That is exactly what :mod:`ferry.verify.fast` computes with SQL
inside SQLite and PostgreSQL, so its checksums are this module's. (MD5 is a checksum here, not
a defence against someone forging rows.)
"""

from __future__ import annotations

import hashlib
import sqlite3
import struct
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..values.logical import LogicalType
from .normalize import UNREADABLE, Normalized, Normalizer, canonical_json, normalizer

HASH_BYTES = 16
_MOD = 1 << (8 * HASH_BYTES)


def _encoded(text: str) -> bytes:
    # surrogatepass: a lone surrogate from a JSON escape is still one distinct value
    return text.encode("utf-8", "surrogatepass")


def byte_length(text: str) -> int:
    """The length of ``text`` in UTF-8 (lone surrogates as three bytes each)."""
    return len(text) if text.isascii() else len(_encoded(text))


class RowCodec:
    """Encodes a row's normalised values (in ``names`` order) as bytes that name each column
    and length-prefix each part; NULLs are left out. The row hash is a digest of these bytes,
    and :func:`decode_row` reads them back for describing a mismatch."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names = list(names)
        self._prefixes = [f"{byte_length(name)}:{name}" for name in self.names]

    def encode(self, values: Iterable[Normalized]) -> bytes:
        """The row's bytes."""
        return _encoded(
            "".join(
                [
                    f"{prefix}{len(value) if value.isascii() else byte_length(value)}:{value}"
                    for prefix, value in zip(self._prefixes, values, strict=True)
                    if value is not None
                ]
            )
        )


def digest(data: bytes) -> bytes:
    """The 16 bytes of MD5."""
    return hashlib.md5(data).digest()


def digest_bytes(values: Sequence[Normalized]) -> bytes:
    """What a row digest hashes: the values' lengths in bytes, comma-separated, empty for a
    NULL (trailing NULLs left out), ``;``, then the non-NULL values one after the other."""
    sizes = ["" if v is None else str(len(v) if v.isascii() else byte_length(v)) for v in values]
    while sizes and not sizes[-1]:
        sizes.pop()
    return _encoded(",".join(sizes) + ";" + "".join([v for v in values if v is not None]))


def row_digest(values: Sequence[Normalized]) -> bytes:
    """A row's digest in verification: the MD5 of :func:`digest_bytes` of its normalised key
    values followed by its compared values in hash form (:func:`hash_form`)."""
    return hashlib.md5(digest_bytes(values)).digest()


def row_hash(names: Iterable[str], values: Iterable[Normalized]) -> bytes:
    """The hash of one row: a digest of :meth:`RowCodec.encode`."""
    return digest(RowCodec(names).encode(values))


def _parts(data: bytes) -> Iterator[str | None]:
    position = 0
    while position < len(data):
        if data[position : position + 1] == b"-":
            position += 1
            yield None
            continue
        colon = data.index(b":", position)
        size = int(data[position:colon])
        yield data[colon + 1 : colon + 1 + size].decode("utf-8", "surrogatepass")
        position = colon + 1 + size


def decode_row(data: bytes) -> dict[str, str]:
    """The values of an encoded row by column name (NULL columns absent)."""
    parts = list(_parts(data))
    return {str(name): str(value) for name, value in zip(parts[::2], parts[1::2], strict=True)}


def key_bytes(values: Iterable[Normalized]) -> bytes:
    """A row's key as bytes: each normalised value length-prefixed, NULL as ``-``."""
    return _encoded(
        "".join(
            [
                "-" if v is None else f"{len(v) if v.isascii() else byte_length(v)}:{v}"
                for v in values
            ]
        )
    )


def decode_key(data: bytes) -> list[Normalized]:
    """The normalised key values of :func:`key_bytes`."""
    return list(_parts(data))


def _float_bits(value: Normalized) -> Normalized:
    if value is None or value.startswith(UNREADABLE):
        return value
    return struct.pack(">d", float(value)).hex()


def hash_form(type_: LogicalType) -> Callable[[Normalized], Normalized] | None:
    """How a normalised value of ``type_`` enters a row digest, when not as it is (None):
    a float as the 16 hex digits of its IEEE 754 bits, which SQL can write exactly (the
    shortest decimal spelling Python prints is not something SQLite or PostgreSQL print)."""
    return _float_bits if type_ == "float" else None


def newer_value(type_: LogicalType, value: Normalized) -> Any:
    """A normalised ``newer_by`` value as SQLite compares it: numbers as numbers, timestamps
    and dates as ISO text (which sorts in time order), anything else as text."""
    if value is None or value.startswith(UNREADABLE):
        return value
    if type_ == "integer":
        return int(value)
    if type_ == "float":
        return float(value)
    if type_ == "boolean":
        return 1 if value == "true" else 0
    return value


def combine(total: int, digest: bytes) -> int:
    """Add one row hash to an order-independent checksum (a sum modulo 2**128)."""
    return (total + int.from_bytes(digest, "big")) % _MOD


def checksum_hex(total: int) -> str:
    """A checksum as 32 hex digits."""
    return f"{total:032x}"


# -- the temporary store -----------------------------------------------------------------------

#: how each source key of a check ended up (``superseded`` counts as kept)
STATUSES = ("matched", "mismatched", "missing", "rejected", "kept", "superseded")


@dataclass
class Problem:
    """One key that did not match: its encoded key, status and both sides' values."""

    key: bytes
    status: str
    source: dict[str, str]
    target: dict[str, str] | None
    reason: str = ""


@dataclass
class Comparison:
    """What the store found for one check."""

    expected_rows: int = 0
    target_rows: int = 0
    extra: int = 0
    duplicate_target_keys: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    source_checksum: int = 0
    target_checksum: int = 0


class HashStore:
    """A temporary SQLite file holding, per check, the source's ``(key, hash)`` rows, the
    target's, and the keys the last run rejected; the comparison is a few SQL joins, so memory
    stays flat whatever the size. Rows may be put from two threads at once (the source and
    the target side): a lock orders the writes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._lock = threading.Lock()
        for pragma in ("journal_mode = OFF", "synchronous = OFF", "temp_store = FILE"):
            self.db.execute(f"PRAGMA {pragma}")

    def close(self) -> None:
        """Close the file (the caller removes it). Under the lock: a worker thread still
        hashing a batch of a side that was cancelled (the other side failed) must not be
        inside an insert when the connection goes, or the process crashes; its next insert
        then fails cleanly on the closed connection."""
        with self._lock:
            self.db.close()

    def add_check(self, check: int) -> None:
        """Create the tables of one check."""
        self.db.executescript(
            f"""
            CREATE TABLE src_{check} (key BLOB PRIMARY KEY, hash BLOB NOT NULL, newer,
                                      vals BLOB NOT NULL, seq INTEGER NOT NULL);
            CREATE TABLE tgt_{check} (key BLOB NOT NULL, hash BLOB NOT NULL, newer,
                                      vals BLOB NOT NULL);
            CREATE TABLE rej_{check} (key BLOB PRIMARY KEY, reason TEXT NOT NULL);
            """
        )

    def _insert(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        with self._lock:
            self.db.execute("BEGIN")
            try:
                self.db.executemany(sql, rows)
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")

    def put_source(self, check: int, rows: list[tuple[bytes, bytes, Any, bytes, int]]) -> None:
        """``(key, hash, newer, vals, seq)`` rows; a repeated key replaces the earlier row, as
        the migration keeps the last row of a key."""
        self._insert(f"INSERT OR REPLACE INTO src_{check} VALUES (?, ?, ?, ?, ?)", rows)

    def put_target(self, check: int, rows: list[tuple[bytes, bytes, Any, bytes]]) -> None:
        """``(key, hash, newer, vals)`` rows of the target table."""
        self._insert(f"INSERT INTO tgt_{check} VALUES (?, ?, ?, ?)", rows)

    def put_rejected(self, check: int, rows: list[tuple[bytes, str]]) -> None:
        """``(key, reason)`` of rows the last run journaled as rejected."""
        self._insert(f"INSERT OR IGNORE INTO rej_{check} VALUES (?, ?)", rows)

    def index_target(self, check: int) -> None:
        """Index the target rows by key (once they are all in)."""
        with self._lock:
            self.db.execute(f"CREATE INDEX tgt_{check}_key ON tgt_{check} (key)")

    def compare(
        self, check: int, rule: str, later: list[int], limit: int, *, newer: bool = False
    ) -> Comparison:
        """Classify every source key of ``check`` against the target.

        ``rule`` is the table's conflict rule; ``newer`` says ``newer_by`` values were stored.
        ``later`` are the checks of later table specs feeding the same table with the same
        key: a row that a later spec replaced (the target matches that spec) is ``superseded``.
        """
        src, tgt, rej = f"src_{check}", f"tgt_{check}", f"rej_{check}"
        differing = f"EXISTS (SELECT 1 FROM {tgt} t WHERE t.key = x.key AND t.hash <> x.hash"
        kept_by_rule = "0"
        if rule == "insert":
            kept_by_rule = "1"
        elif rule == "newer" and newer:
            # the migration updates when the source is newer, or the target has no value
            kept_by_rule = (
                f"NOT {differing} AND (COALESCE(x.newer > t.newer, 0) "
                "OR (t.newer IS NULL AND x.newer IS NOT NULL)))"
            )
        superseded = " OR ".join(
            f"EXISTS (SELECT 1 FROM src_{j} sj WHERE sj.key = x.key "
            f"AND EXISTS (SELECT 1 FROM tgt_{j} tj WHERE tj.key = sj.key) "
            f"AND NOT EXISTS (SELECT 1 FROM tgt_{j} tj WHERE tj.key = sj.key "
            "AND tj.hash <> sj.hash))"
            for j in later
        )
        journaled = f"EXISTS (SELECT 1 FROM {rej} r WHERE r.key = x.key)"
        status = (
            "CASE "
            f"WHEN x.thash IS NULL THEN CASE WHEN {journaled} THEN 'rejected' ELSE 'missing' END "
            "WHEN x.thash = x.hash THEN 'matched' "
            f"WHEN {journaled} THEN 'rejected' "
            f"WHEN {kept_by_rule} THEN 'kept' "
            + (f"WHEN {superseded} THEN 'superseded' " if superseded else "")
            + "ELSE 'mismatched' END"
        )
        # The target's hash of a key: one that differs from the source if any does.
        self.db.executescript(
            f"""
            DROP TABLE IF EXISTS res_{check};
            CREATE TABLE res_{check} AS
            SELECT x.key AS key, x.seq AS seq, x.hash AS hash, x.thash AS thash,
                   {status} AS status
            FROM (SELECT s.key, s.seq, s.hash, s.newer,
                         COALESCE(
                           (SELECT t.hash FROM {tgt} t WHERE t.key = s.key AND t.hash <> s.hash
                            LIMIT 1),
                           (SELECT t.hash FROM {tgt} t WHERE t.key = s.key LIMIT 1)) AS thash
                  FROM {src} s) AS x;
            """
        )
        result = Comparison()
        result.counts = dict.fromkeys(STATUSES, 0)
        for name, count in self.db.execute(
            f"SELECT status, count(*) FROM res_{check} GROUP BY status"
        ):
            result.counts[name] = count
        result.expected_rows = sum(result.counts.values())
        result.target_rows, distinct = self.db.execute(
            f"SELECT count(*), count(DISTINCT key) FROM {tgt}"
        ).fetchone()
        result.duplicate_target_keys = result.target_rows - distinct
        result.extra = self.db.execute(
            f"SELECT count(*) FROM {tgt} t WHERE NOT EXISTS "
            f"(SELECT 1 FROM {src} s WHERE s.key = t.key)"
        ).fetchone()[0]
        result.problems = list(self._problems(check, limit))
        for digest, target_digest in self.db.execute(
            f"SELECT hash, thash FROM res_{check} WHERE status IN ('matched', 'mismatched')"
        ):
            result.source_checksum = combine(result.source_checksum, digest)
            result.target_checksum = combine(result.target_checksum, target_digest)
        return result

    def _problems(self, check: int, limit: int) -> Iterator[Problem]:
        """The first failing keys in source order, then (room permitting) the rejected ones."""
        select = (
            f"SELECT r.key, r.status, s.vals, "
            f"(SELECT t.vals FROM tgt_{check} t WHERE t.key = r.key AND t.hash = r.thash "
            "LIMIT 1), "
            f"(SELECT j.reason FROM rej_{check} j WHERE j.key = r.key) "
            f"FROM res_{check} r JOIN src_{check} s ON s.key = r.key "
        )
        failing = self.db.execute(
            select + "WHERE r.status IN ('mismatched', 'missing') ORDER BY r.seq LIMIT ?",
            (limit,),
        ).fetchall()
        rejected = self.db.execute(
            select + "WHERE r.status = 'rejected' ORDER BY r.seq LIMIT ?",
            (max(limit - len(failing), 0),),
        ).fetchall()
        for key, status, source_vals, target_vals, reason in failing + rejected:
            yield Problem(
                key,
                status,
                decode_row(source_vals),
                decode_row(target_vals) if target_vals is not None else None,
                reason or "",
            )


__all__ = [
    "HASH_BYTES",
    "UNREADABLE",
    "Comparison",
    "HashStore",
    "Normalized",
    "Normalizer",
    "Problem",
    "RowCodec",
    "byte_length",
    "canonical_json",
    "checksum_hex",
    "combine",
    "decode_key",
    "decode_row",
    "digest",
    "digest_bytes",
    "hash_form",
    "key_bytes",
    "newer_value",
    "normalizer",
    "row_digest",
    "row_hash",
]
