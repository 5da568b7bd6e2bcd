"""Numbers with more digits than a SQLite NUMERIC column keeps (a JSON integer beyond 64 bits,
a balance in wei, a PostgreSQL ``numeric(30,10)``). Before, ``ferry init`` drafted a JSON big
integer as text and called it "1 text value"; a decimal written into a SQLite NUMERIC column
was stored rounded with no word (verify found it afterwards). Real files, the real CLI."""

from __future__ import annotations

import sqlite3
import tomllib
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from draftkit import ferry

from ferry.values.sqlitenumbers import kept_by_sqlite

WEI = 12345678901234567890123


def _app(tmp_path: Path) -> Path:
    folder = tmp_path / "app"
    folder.mkdir()
    (folder / "wallets.json").write_text(
        f'[{{"id": 1, "balance": {WEI}}}, {{"id": 2, "balance": 5}}]', encoding="utf-8"
    )
    return folder


def _init(tmp_path: Path, *target: str) -> tuple[Path, dict]:
    plan = tmp_path / "plan.toml"
    result = ferry("init", _app(tmp_path), "-o", plan, *target)
    assert result.exit_code == 0, result.output
    (table,) = tomllib.loads(plan.read_text(encoding="utf-8"))["tables"]
    return plan, table


def test_a_sqlite_draft_keeps_a_big_integer_as_text_and_says_why(tmp_path: Path) -> None:
    _, table = _init(tmp_path)

    assert table["types"]["balance"] == "text"
    (note,) = [n for n in table["notes"] if "'balance'" in n]
    assert f"more digits than SQLite keeps in a NUMERIC column: {WEI} at id 1" in note


def test_the_sqlite_draft_carries_every_digit(tmp_path: Path) -> None:
    plan, _ = _init(tmp_path)

    assert ferry("migrate", plan).exit_code == 0
    with sqlite3.connect(tmp_path / "ferry.db") as db:
        stored = db.execute("SELECT balance FROM wallets WHERE id = 1").fetchone()[0]
    assert stored == str(WEI)


@pytest.mark.pg
def test_a_postgresql_draft_makes_a_big_integer_numeric(tmp_path: Path, pg_url: str) -> None:
    plan, table = _init(tmp_path, "--target", pg_url)
    assert table["types"]["balance"] == "decimal"

    assert ferry("migrate", plan).exit_code == 0
    with psycopg.connect(pg_url) as conn:
        stored = conn.execute("SELECT balance FROM wallets ORDER BY id").fetchall()
    assert stored == [(Decimal(WEI),), (Decimal(5),)]


def test_a_decimal_sqlite_rounds_is_named_with_its_key(tmp_path: Path) -> None:
    plan, _ = _init(tmp_path)
    text = plan.read_text(encoding="utf-8").replace('balance = "text"', 'balance = "decimal"')
    plan.write_text(text, encoding="utf-8")

    result = ferry("migrate", plan)

    assert result.exit_code == 0, result.output
    flat = " ".join(result.output.split())
    assert "wallets.balance: 1 number has more digits than SQLite keeps in a NUMERIC" in flat
    assert f"(first: {WEI} at id=1)" in flat


@pytest.mark.parametrize(
    ("value", "kept"),
    [
        ("1.10", True),
        ("0.1", True),
        (str(2**63 - 1), True),
        (str(2**63), False),
        ("1234567890.123456", True),  # 16 digits a double still reads back as
        ("0.12345678901234567890", False),
    ],
)
def test_which_decimals_sqlite_keeps(value: str, kept: bool) -> None:
    assert kept_by_sqlite(Decimal(value)) is kept
