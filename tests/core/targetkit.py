"""A target or source database of either dialect, as the contract suites (tests/core/contract/)
see it.

The same few looks at the database (run SQL, read rows, list tables, take a before/after
snapshot; open a source reader) for a SQLite file and a PostgreSQL database, so one test can
assert the same behaviour on both.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fakesource import sha256, sqlite_exec, sqlite_rows
from pgkit import pg_exec, pg_rows, pg_tables

from ferry.load.journal import journal_tables
from ferry.plan import SourceSpec
from ferry.sources import Batch, SourceReader, open_source


@dataclass(frozen=True)
class Target:
    """One empty target: ``dialect`` is ``sqlite`` or ``postgresql``; ``path`` the SQLite file."""

    dialect: str
    url: str
    folder: Path
    path: Path | None

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @property
    def runs_table(self) -> str:
        """Ferry's journal of runs in this target (ferry.load.journal)."""
        return journal_tables(self.dialect)[0]

    def file(self) -> Path:
        assert self.path is not None, "only a SQLite target is a file"
        return self.path

    def exec(self, *scripts: str) -> None:
        """Run SQL scripts (several statements each for SQLite; one or more for PostgreSQL)."""
        for script in scripts:
            if self.is_sqlite:
                sqlite_exec(self.file(), script)
            else:
                pg_exec(self.url, script)

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        if self.is_sqlite:
            return sqlite_rows(self.file(), sql)
        return [tuple(row) for row in pg_rows(self.url, sql)]

    def tables(self) -> list[str]:
        """User tables, sorted (Ferry's journal included once it exists)."""
        if self.is_sqlite:
            if not self.file().exists():
                return []
            sql = "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            return [r[0] for r in sqlite_rows(self.file(), sql)]
        return pg_tables(self.url)

    def content(self, prints: bool = True) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of every table except Ferry's journal, sorted (for before/after checks);
        ``prints=False``: nor the row prints Ferry keeps for the next run's delta."""
        result = {}
        for name in self.tables():
            if name != self.runs_table and (prints or "row_print" not in name):
                quoted = '"' + name.replace('"', '""') + '"'
                result[name] = sorted(self.rows(f"SELECT * FROM {quoted}"), key=repr)
        return result

    def snapshot(self) -> object:
        """What "unchanged" means: the file's bytes for SQLite, tables and rows for PostgreSQL."""
        if self.is_sqlite:
            return sha256(self.file()) if self.file().exists() else None
        return (self.tables(), self.content())


@dataclass(frozen=True)
class SourceDb:
    """A database Ferry reads from: a SQLite file or a PostgreSQL database, its source named
    ``app``. ``url`` is what a plan holds (for PostgreSQL without the password, which the
    environment gives); ``admin_url`` is what the test writes through."""

    dialect: str
    url: str
    admin_url: str
    folder: Path
    path: Path | None

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    def exec(self, script: str) -> None:
        if self.path is not None:
            sqlite_exec(self.path, script)
        else:
            pg_exec(self.admin_url, script)

    def reader(self, tables: list[str] | None = None) -> SourceReader:
        if self.path is not None:
            spec = SourceSpec(name="app", kind="sqlite", path=str(self.path), tables=tables or [])
        else:
            spec = SourceSpec(name="app", kind="postgres", url=self.url, tables=tables or [])
        return open_source(spec, self.folder)

    def read_all(self, tables: list[str] | None = None, batch_size: int = 100) -> list[Batch]:
        source = self.reader(tables)
        try:
            return list(source.batches(batch_size))
        finally:
            source.close()
