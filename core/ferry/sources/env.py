""".env file sources: one row per setting, read with python-dotenv's public API
(``dotenv_values``), exactly as an app loading it with dotenv reads it.

dotenv handles comments, ``export``, single and double quotes, ``#`` inside quotes, empty
values and CRLF line ends. Values are taken as written: ``${VAR}`` references are not expanded
(``interpolate=False``). dotenv skips a line it cannot parse, with a warning on its logger
(``dotenv.main``, "could not parse statement starting at line N"); Ferry catches that warning
and refuses the file naming the line, so no setting is dropped silently.
"""

from __future__ import annotations

import io
import logging
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from dotenv import dotenv_values

from ..errors import SourceError
from .base import Batch, Row, SourceReader, SourceTable
from .text import decode, read_file_up_to

if TYPE_CHECKING:
    from ..plan import SourceSpec

#: the largest .env file read: settings files are small, and dotenv parses about 1 MiB/s
MAX_ENV_BYTES = 8 * 1024 * 1024
#: the logger dotenv_values warns on when it skips a line it cannot parse
_DOTENV_LOGGER = logging.getLogger("dotenv.main")
_UNPARSED = re.compile(r"could not parse statement starting at line (\d+)")


class _SkippedLines(logging.Handler):
    """Collects the line numbers dotenv reports skipping, on the calling thread only."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.thread = threading.get_ident()
        self.lines: list[int] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            found = _UNPARSED.search(record.getMessage())
            if found:
                self.lines.append(int(found.group(1)))


def parse_env(text: str) -> tuple[dict[str, str | None], list[int]]:
    """``text`` read by ``dotenv_values`` (no interpolation): the settings, and the numbers
    of the lines dotenv skipped because it could not parse them."""
    skipped = _SkippedLines()
    level = _DOTENV_LOGGER.level
    _DOTENV_LOGGER.addHandler(skipped)
    # The warning must reach the handler even where an app raised the logging level.
    _DOTENV_LOGGER.setLevel(logging.WARNING)
    try:
        settings = dotenv_values(stream=io.StringIO(text), interpolate=False)
    finally:
        _DOTENV_LOGGER.setLevel(level)
        _DOTENV_LOGGER.removeHandler(skipped)
    return dict(settings), skipped.lines


class EnvSource(SourceReader):
    """A ``.env`` file as rows ``{key, value}``; a name without ``=`` has the value None.

    The key column is ``key_column`` (default ``key``). A name set twice keeps its last value,
    as dotenv does.
    """

    def __init__(self, spec: SourceSpec, base_dir: Path) -> None:
        super().__init__(spec, base_dir)
        self.path = base_dir / (spec.path or "")
        self.key_column = spec.key_column or "key"
        self._settings: dict[str, str | None] | None = None

    def _read(self) -> dict[str, str | None]:
        # .env files are small: parse once and keep the result for describe() and batches().
        if self._settings is not None:
            return self._settings
        data = read_file_up_to(self.path, MAX_ENV_BYTES)
        if data is None:
            raise SourceError(
                f"{self.path}: larger than the {MAX_ENV_BYTES // 1024 // 1024} MiB Ferry reads "
                "from a .env file",
                hint="A .env file holds a few settings: check it is the right file.",
            )
        text = decode(self.path, data, self.spec.encoding)
        # A repeated name keeps its last value in its first place (dict assignment).
        settings, skipped = parse_env(text)
        if skipped:
            number = skipped[0]
            lines = text.split("\n")
            line = lines[number - 1].strip() if number <= len(lines) else ""
            raise SourceError(
                f"{self.path}: line {number} is not a KEY=value setting: {line[:60]!r}",
                hint="Fix or remove the line; quote values that contain spaces or '#'.",
            )
        self._settings = settings
        return settings

    def _rows(self) -> list[Row]:
        return [{self.key_column: k, "value": v} for k, v in self._read().items()]

    def describe(self) -> list[SourceTable]:
        """The one table of settings (reading the file: .env files are small)."""
        count = len(self._read())
        return [
            SourceTable(
                name=self.spec.name,
                columns={self.key_column: "text", "value": "text"},
                key=(self.key_column,),
                row_estimate=count,
                origin=self.spec.path or "",
            )
        ]

    def batches(self, batch_size: int) -> Iterator[Batch]:
        """Every setting, in the order of first appearance."""
        rows = self._rows()
        for start in range(0, len(rows), batch_size):
            yield Batch(self.spec.name, rows[start : start + batch_size])

    def files(self) -> list[Path]:
        """The .env file."""
        return [self.path]
