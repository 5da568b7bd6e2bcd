"""A target database of either dialect, as the contract suites (tests/core/contract/) see it.

The same few looks at the database (run SQL, read rows, list tables, take a before/after
snapshot) for a SQLite file and a PostgreSQL database, so one test can assert the same
behaviour on both.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fakesource import sha256, sqlite_exec, sqlite_rows
from pgkit import pg_exec, pg_rows, pg_tables

from ferry.load.journal import journal_tables


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

    def content(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of every table except Ferry's journal, sorted (for before/after checks)."""
        result = {}
        for name in self.tables():
            if name != self.runs_table:
                quoted = '"' + name.replace('"', '""') + '"'
                result[name] = sorted(self.rows(f"SELECT * FROM {quoted}"), key=repr)
        return result

    def snapshot(self) -> object:
        """What "unchanged" means: the file's bytes for SQLite, tables and rows for PostgreSQL."""
        if self.is_sqlite:
            return sha256(self.file()) if self.file().exists() else None
        return (self.tables(), self.content())
