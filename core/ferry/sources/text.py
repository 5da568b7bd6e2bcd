"""Text file sources: a file, folder or glob of small files that each hold one value.

Legacy apps often keep a heartbeat or a "last run" time in a file of its own
(``heartbeat_polling.txt`` holding ``2024-05-01T10:00:00Z``). Each file becomes one row:
its key (from the file name), its stripped text, the file name and its modification time.

This module also holds the small file helpers the other file readers share.
"""

from __future__ import annotations

import codecs
import glob
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import SourceError
from ..safety.inputlimits import MAX_TEXT_FILE_BYTES, mib, read_up_to
from ..values.logical import TypeTracker
from .base import Batch, Row, SourceReader, SourceTable

if TYPE_CHECKING:
    from ..plan import SourceSpec

BOM = b"\xef\xbb\xbf"
_SAMPLE = 100


def file_error(path: Path, exc: OSError) -> SourceError:
    """A readable SourceError for a file that cannot be opened or read."""
    if isinstance(exc, FileNotFoundError):
        return SourceError(
            f"{path}: file not found",
            hint="Check the source's path; a relative path starts at the plan's folder.",
        )
    if isinstance(exc, IsADirectoryError):
        return SourceError(f"{path} is a folder, not a file", hint="Point the path at a file.")
    if isinstance(exc, PermissionError):
        return SourceError(
            f"{path}: permission denied", hint="Give the user running Ferry read access."
        )
    return SourceError(f"{path}: cannot read the file ({exc.strerror or exc})")


def decode(path: Path, data: bytes, encoding: str) -> str:
    """``data`` as text; a UTF-8 BOM is dropped, an undecodable byte is reported by offset."""
    try:
        codec = codecs.lookup(encoding).name
    except LookupError:
        raise SourceError(
            f"{path}: unknown encoding {encoding!r}",
            hint="Set encoding to a Python codec name such as utf-8, cp1252 or latin-1.",
        ) from None
    skip = 0
    if codec in ("utf-8", "utf-8-sig"):
        codec = "utf-8"
        skip = 3 if data.startswith(BOM) else 0
    try:
        return data[skip:].decode(codec)
    except UnicodeDecodeError as exc:
        raise SourceError(
            f"{path}: not {encoding} text (byte {exc.start + skip} cannot be decoded)",
            hint='Set the source\'s encoding (e.g. encoding = "cp1252") or convert the file '
            "to UTF-8.",
        ) from None


def read_file(path: Path) -> bytes:
    """The whole file's bytes, with OS errors turned into SourceErrors."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise file_error(path, exc) from None


def read_file_up_to(path: Path, limit: int) -> bytes | None:
    """The whole file's bytes, or None when it holds more than ``limit`` bytes (only that
    much is read); OS errors become SourceErrors."""
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise file_error(path, exc) from None
    return data if len(data) <= limit else None


class TextSource(SourceReader):
    """One row per file: ``key``, ``value`` (stripped text), ``file`` and ``modified_at``.

    ``path`` is a file, a folder (its visible files) or a glob such as ``heartbeat_*.txt``.
    The key is the ``key`` group of ``key_pattern`` searched in the file name (files it does
    not match are skipped), else the file's stem.
    """

    def __init__(self, spec: SourceSpec, base_dir: Path) -> None:
        super().__init__(spec, base_dir)
        self.pattern = spec.path or ""
        self._key_re: re.Pattern[str] | None = None
        if spec.key_pattern:
            try:
                self._key_re = re.compile(spec.key_pattern)
            except re.error as exc:
                raise SourceError(
                    f"source {spec.name!r}: key_pattern {spec.key_pattern!r} is not a valid "
                    f"regular expression ({exc})",
                    hint=r"Example: key_pattern = 'heartbeat_(?P<key>.+)\.txt'",
                ) from None
            if "key" not in self._key_re.groupindex:
                raise SourceError(
                    f"source {spec.name!r}: key_pattern {spec.key_pattern!r} has no 'key' group",
                    hint=r"Name the part that is the key: 'heartbeat_(?P<key>.+)\.txt'",
                )
        self._files: list[tuple[str, Path]] | None = None

    def files_now(self) -> list[Path]:
        """The files the path or pattern matches now (the reader keeps its first match)."""
        try:
            return [path for _, path in self._match()]
        except SourceError:
            return self.files()  # two files give one key now: the read itself was whole

    def _matched(self) -> list[tuple[str, Path]]:
        """(key, file) for every file this source reads, sorted by file name."""
        if self._files is None:
            self._files = self._match()
        return self._files

    def _match(self) -> list[tuple[str, Path]]:
        """(key, file) for every file the path matches now, sorted by file name."""
        target = self.base_dir / self.pattern
        if glob.has_magic(self.pattern):
            # root_dir keeps brackets in the plan's folder name from being read as a pattern.
            found = [Path(p) for p in glob.glob(self.pattern, root_dir=self.base_dir)]
            candidates = [p if p.is_absolute() else self.base_dir / p for p in found]
        elif target.is_dir():
            # Hidden files (.DS_Store, editor swap files) are never values.
            candidates = [p for p in target.iterdir() if not p.name.startswith(".")]
        else:
            candidates = [target] if target.exists() else []
        files: list[tuple[str, Path]] = []
        owners: dict[str, Path] = {}
        for path in sorted(p for p in candidates if p.is_file()):
            key = self._file_key(path)
            if key is None:
                continue
            if key in owners:
                raise SourceError(
                    f"{owners[key]} and {path} both give the key {key!r}",
                    hint="Narrow the path or key_pattern so each key comes from one file.",
                )
            owners[key] = path
            files.append((key, path))
        if not files:
            raise SourceError(
                f"no files match {target}"
                + (f" and key_pattern {self.spec.key_pattern!r}" if self._key_re else ""),
                hint="Check the source's path (a file, folder or glob such as "
                "'heartbeat_*.txt', relative to the plan's folder).",
            )
        return files

    def _file_key(self, path: Path) -> str | None:
        """The key a file gives (None: skipped), from its name."""
        return self._key(path.name)

    def _key(self, name: str) -> str | None:
        if self._key_re is None:
            return Path(name).stem
        match = self._key_re.search(name)
        return match.group("key") if match else None

    def _row(self, key: str, path: Path) -> Row:
        try:
            data = read_up_to(path, MAX_TEXT_FILE_BYTES)
            mtime = path.stat().st_mtime
        except OSError as exc:
            raise file_error(path, exc) from None
        if data is None:
            raise SourceError(
                f"{path}: larger than {mib(MAX_TEXT_FILE_BYTES)}, Ferry's limit for one text "
                "file (its whole content becomes one value)",
                hint="Narrow the source's path or key_pattern to the small files it should read.",
            )
        return {
            "key": key,
            "value": decode(path, data, self.spec.encoding).strip(),
            "file": path.name,
            "modified_at": datetime.fromtimestamp(mtime, tz=UTC),
        }

    def describe(self) -> list[SourceTable]:
        """The one table, typed from the first files' values."""
        files = self._matched()
        tracker = TypeTracker()
        for key, path in files[:_SAMPLE]:
            tracker.add(self._row(key, path))
        return [
            SourceTable(
                name=self.spec.name,
                columns=tracker.result(),
                key=("key",),
                row_estimate=len(files),
                origin=self.pattern,
            )
        ]

    def batches(self, batch_size: int) -> Iterator[Batch]:
        """One row per file, in file name order."""
        rows: list[Row] = []
        for key, path in self._matched():
            rows.append(self._row(key, path))
            if len(rows) >= batch_size:
                yield Batch(self.spec.name, rows)
                rows = []
        if rows:
            yield Batch(self.spec.name, rows)

    def files(self) -> list[Path]:
        """Every file matched (and not skipped by key_pattern)."""
        return [path for _, path in self._matched()]
