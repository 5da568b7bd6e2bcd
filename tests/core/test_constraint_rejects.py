"""A few rows breaking a constraint among many: only they are rejected, on both targets.

The merge falls back to applying the stage range by range and halving a failing range, so the
bad rows are found wherever they sit (first, last, side by side) and every good row loads.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fakesource import FakeTable, install, make_plan, run, sqlite_exec, sqlite_rows
from pgkit import pg_exec, pg_rows

ROWS = 3000
BAD = {0, 1, 1500, 2998, 2999}  # first, side by side, middle, last


def _rows() -> list[dict[str, Any]]:
    return [{"id": n, "qty": -1 if n in BAD else n} for n in range(ROWS)]


def _check(result: Any) -> None:
    assert sorted(r.key_values["id"] for r in result.rejects) == sorted(BAD)
    assert all("qty" in r.reason for r in result.rejects)
    assert result.table("items").counts()["inserted"] == ROWS - len(BAD)


def test_scattered_bad_rows_are_rejected_alone_in_sqlite(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    db = tmp_path / "app.db"
    sqlite_exec(db, "CREATE TABLE items (id INTEGER PRIMARY KEY, qty INTEGER CHECK (qty >= 0));")
    install(monkeypatch, {"items": FakeTable(_rows())})
    result = run(make_plan(f"sqlite:///{db}", [{"name": "items", "source": "items"}], tmp_path))
    _check(result)
    assert sqlite_rows(db, "SELECT count(*), min(qty) FROM items") == [(ROWS - len(BAD), 2)]


@pytest.mark.pg
def test_scattered_bad_rows_are_rejected_alone_in_postgres(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, pg_url: str
) -> None:
    pg_exec(pg_url, "CREATE TABLE items (id bigint PRIMARY KEY, qty int CHECK (qty >= 0))")
    install(monkeypatch, {"items": FakeTable(_rows())})
    result = run(make_plan(pg_url, [{"name": "items", "source": "items"}], tmp_path))
    _check(result)
    assert pg_rows(pg_url, "SELECT count(*), min(qty) FROM items") == [(ROWS - len(BAD), 2)]
