"""NUMERIC/DECIMAL columns arrive as exact decimals, with their precision and scale.

Real SQLite source files and the real PostgreSQL server, as source and as target.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fakesource import run, sqlite_exec, sqlite_rows
from pgkit import pg_exec, pg_rows

from ferry.plan import Plan, plan_from_dict
from ferry.verify.run import verify

TOTALS = ["0.1", "0.2", "1199.99", "1128.31"]  # sum: 2328.60 (2328.6000000000004 as floats)


def sqlite_source(folder: Path, *extra: str) -> None:
    path = folder / "app.db"
    sqlite_exec(path, "CREATE TABLE orders (id INTEGER PRIMARY KEY, total DECIMAL(10,2))")
    for number, total in enumerate([*TOTALS, *extra], start=1):
        sqlite_exec(path, f"INSERT INTO orders VALUES ({number}, '{total}')")


def plan(folder: Path, url: str, source: dict[str, Any], table: str) -> Plan:
    return plan_from_dict(
        {
            "target": {"url": url},
            "sources": [source],
            "tables": [{"name": "orders_copy", "source": table}],
        },
        folder,
    )


def from_sqlite(folder: Path, url: str) -> Plan:
    return plan(folder, url, {"name": "app", "kind": "sqlite", "path": "app.db"}, "app.orders")


def test_sqlite_decimals_sum_exactly_in_postgres(tmp_path: Path, pg_url: str) -> None:
    sqlite_source(tmp_path)
    migrated = from_sqlite(tmp_path, pg_url)
    run(migrated)
    assert pg_rows(pg_url, "SELECT sum(total) FROM orders_copy") == [(Decimal("2328.60"),)]
    assert asyncio.run(verify(migrated)).verdict == "PASS"


def test_verify_finds_a_decimal_changed_by_one_cent(tmp_path: Path, pg_url: str) -> None:
    sqlite_source(tmp_path)
    migrated = from_sqlite(tmp_path, pg_url)
    run(migrated)
    pg_exec(pg_url, "UPDATE orders_copy SET total = 1199.98 WHERE id = 3")
    assert asyncio.run(verify(migrated)).verdict == "FAIL"


def test_a_created_postgres_column_keeps_precision_and_scale(tmp_path: Path, pg_url: str) -> None:
    sqlite_source(tmp_path)
    run(from_sqlite(tmp_path, pg_url))
    assert pg_rows(
        pg_url,
        "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = 'orders_copy'::regclass AND attname = 'total'",
    ) == [("numeric(10,2)",)]


def test_a_created_sqlite_column_keeps_the_declared_decimal_type(tmp_path: Path) -> None:
    sqlite_source(tmp_path)
    migrated = from_sqlite(tmp_path, "sqlite:///target.db")
    run(migrated)
    target = tmp_path / "target.db"
    assert sqlite_rows(target, "SELECT type FROM pragma_table_info('orders_copy')") == [
        ("INTEGER",),  # the source's rowid key stays a rowid alias
        ("DECIMAL(10, 2)",),
    ]
    # The values SQLite's NUMERIC affinity stores for the source's text: the source's own.
    assert sqlite_rows(target, "SELECT total FROM orders_copy ORDER BY id") == sqlite_rows(
        tmp_path / "app.db", "SELECT total FROM orders ORDER BY id"
    )
    assert asyncio.run(verify(migrated)).verdict == "PASS"


@pytest.mark.parametrize("target", ["sqlite", "postgres"])
def test_text_in_a_numeric_column_is_rejected_naming_its_key(
    tmp_path: Path, request: pytest.FixtureRequest, target: str
) -> None:
    url = "sqlite:///target.db" if target == "sqlite" else request.getfixturevalue("pg_url")
    sqlite_source(tmp_path, "n/a")
    result = run(from_sqlite(tmp_path, url))
    assert [(r.key, r.reason) for r in result.rejects] == [
        ("id=5", "column 'total': 'n/a' is not a number")
    ]


def postgres_source(url: str) -> None:
    pg_exec(
        url,
        "CREATE TABLE prices (id bigint PRIMARY KEY, amount numeric(30,10))",
        "INSERT INTO prices VALUES (1, 12345678901234567890.0123456789), (2, 0.1), (3, 0.2)",
    )


def test_postgres_numeric_stays_exact_into_postgres(tmp_path: Path, pg_url: str) -> None:
    postgres_source(pg_url)
    source = {"name": "shop", "kind": "postgres", "url": pg_url, "tables": ["prices"]}
    migrated = plan(tmp_path, pg_url, source, "shop.prices")
    run(migrated)
    assert pg_rows(pg_url, "SELECT id, amount FROM orders_copy ORDER BY id") == [
        (1, Decimal("12345678901234567890.0123456789")),
        (2, Decimal("0.1000000000")),
        (3, Decimal("0.2000000000")),
    ]
    assert pg_rows(
        pg_url,
        "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = 'orders_copy'::regclass AND attname = 'amount'",
    ) == [("numeric(30,10)",)]
    assert asyncio.run(verify(migrated)).verdict == "PASS"


def test_postgres_numeric_into_sqlite_is_numeric_without_float_error(
    tmp_path: Path, pg_url: str
) -> None:
    postgres_source(pg_url)
    source = {"name": "shop", "kind": "postgres", "url": pg_url, "tables": ["prices"]}
    run(plan(tmp_path, "sqlite:///target.db", source, "shop.prices"))
    target = tmp_path / "target.db"
    assert sqlite_rows(target, "SELECT type FROM pragma_table_info('orders_copy')") == [
        ("BIGINT",),
        ("NUMERIC(30, 10)",),
    ]
    assert sqlite_rows(target, "SELECT id, amount, typeof(amount) FROM orders_copy") == [
        (1, 1.2345678901234567e19, "real"),
        (2, 0.1, "real"),
        (3, 0.2, "real"),
    ]


# -- SQLite maps decimals itself (the native path) exactly as Python does ----------------------


def numeric_source(folder: Path) -> None:
    sqlite_exec(
        folder / "app.db",
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, total NUMERIC);"
        "INSERT INTO orders VALUES (1, 0.1), (2, 2.675), (3, 0.1 + 0.2), (4, 7), (5, 1e20);",
    )


def native_plan(folder: Path, url: str, native: bool) -> Plan:
    return plan_from_dict(
        {
            "target": {"url": url},
            "sources": [{"name": "app", "kind": "sqlite", "path": "app.db"}],
            "tables": [{"name": "orders_copy", "source": "app.orders"}],
            "options": {"native": native},
        },
        folder,
    )


@pytest.mark.parametrize("native", [True, False])
def test_decimals_into_postgres_native_or_not(tmp_path: Path, pg_url: str, native: bool) -> None:
    numeric_source(tmp_path)
    result = run(native_plan(tmp_path, pg_url, native))
    assert pg_rows(pg_url, "SELECT id, total FROM orders_copy ORDER BY id") == [
        (1, Decimal("0.1")),
        (2, Decimal("2.675")),
        (3, Decimal("0.30000000000000004")),  # 17 digits: Python writes it
        (4, Decimal("7")),
        (5, Decimal("1.0E+20")),
    ]
    assert result.table("orders_copy").mapped_by_sqlite == (4 if native else 0)


@pytest.mark.parametrize("native", [True, False])
def test_decimals_into_sqlite_native_or_not(tmp_path: Path, native: bool) -> None:
    numeric_source(tmp_path)
    result = run(native_plan(tmp_path, "sqlite:///target.db", native))
    query = "SELECT id, total, typeof(total) FROM {} ORDER BY id"
    assert sqlite_rows(tmp_path / "target.db", query.format("orders_copy")) == sqlite_rows(
        tmp_path / "app.db", query.format("orders")
    )
    assert result.table("orders_copy").mapped_by_sqlite == (4 if native else 0)
