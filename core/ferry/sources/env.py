""".env file sources: one row per setting, parsed exactly as python-dotenv parses them.

dotenv's own parser handles comments, ``export``, single and double quotes, ``#`` inside
quotes, empty values and CRLF line ends, so a file an app loads with dotenv reads the same
here. Values are taken as written: ``${VAR}`` references are not expanded.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from dotenv.parser import parse_stream

from ..errors import SourceError
from .base import Batch, Row, SourceReader, SourceTable
from .text import decode, read_file_up_to

if TYPE_CHECKING:
    from ..plan import SourceSpec

#: the largest .env file read: settings files are small, and dotenv parses about 1 MiB/s
MAX_ENV_BYTES = 8 * 1024 * 1024


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
        settings: dict[str, str | None] = {}
        for binding in parse_stream(io.StringIO(text)):
            if binding.error:
                line = binding.original.string.strip()
                raise SourceError(
                    f"{self.path}: line {binding.original.line} is not a KEY=value setting: "
                    f"{line[:60]!r}",
                    hint="Fix or remove the line; quote values that contain spaces or '#'.",
                )
            if binding.key is not None:
                # Re-inserting moves nothing: a repeated name keeps its first place.
                settings[binding.key] = binding.value
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
