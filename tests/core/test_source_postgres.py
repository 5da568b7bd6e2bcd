"""PostgresSource against a real server: schema, streaming rows, one snapshot, bad input.

What a SQLite source reads the same way is in tests/core/contract/test_source_contract.py,
run against both.
"""

from __future__ import annotations

import socket
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

import pgcluster
from ferry.errors import SourceError
from ferry.plan import SourceSpec
from ferry.sources import Batch, ParentLink, open_source
from ferry.sources.postgres import PostgresSource, postgres_logical_type


def make_reader(url: str, tables: list[str] | None = None) -> PostgresSource:
    spec = SourceSpec(name="nas", kind="postgres", url=url, tables=tables or [])
    source = open_source(spec, Path("."))
    assert isinstance(source, PostgresSource)
    return source


def read_all(source: PostgresSource, batch_size: int = 100) -> list[Batch]:
    try:
        return list(source.batches(batch_size))
    finally:
        source.close()


def run_sql(url: str, script: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(script)


@pytest.fixture
def source_url(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The test database's URL as a plan holds it: any password moves to the environment."""
    url, password = pgcluster.without_password(pg_url)
    if password is None:
        monkeypatch.delenv("FERRY_SOURCE_PASSWORD", raising=False)
    else:
        monkeypatch.setenv("FERRY_SOURCE_PASSWORD", password)
    return url


SHOP = """
CREATE TABLE customers (id integer PRIMARY KEY, name text NOT NULL, joined date);
CREATE TABLE orders (
    id bigint PRIMARY KEY,
    customer_id integer REFERENCES customers(id),
    total numeric(10, 2),
    placed_at timestamptz,
    paid boolean,
    meta jsonb,
    receipt bytea
);
INSERT INTO customers VALUES (1, 'Ada', '2024-01-05'), (2, 'Linus', '2023-11-30');
INSERT INTO orders VALUES
    (10, 1, 12.50, '2024-02-01 10:00:00+00', true, '{"gift": true}', '\\x00ff'),
    (11, 2, 3, NULL, false, NULL, NULL);
"""


@pytest.fixture
def shop(source_url: str, pg_url: str) -> str:
    run_sql(pg_url, SHOP)
    return source_url


# ---------------------------------------------------------------- types


@pytest.mark.parametrize(
    ("type_name", "category", "expected"),
    [
        ("int2", "N", "integer"),
        ("int4", "N", "integer"),
        ("int8", "N", "integer"),
        ("float4", "N", "float"),
        ("float8", "N", "float"),
        ("numeric", "N", "decimal"),
        ("bool", "B", "boolean"),
        ("timestamp", "D", "datetime"),
        ("timestamptz", "D", "timestamp"),
        ("date", "D", "date"),
        ("json", "U", "json"),
        ("jsonb", "U", "json"),
        ("bytea", "U", "bytes"),
        ("_int4", "A", "json"),
        ("uuid", "U", "text"),
        ("time", "D", "text"),
        ("varchar", "S", "text"),
    ],
)
def test_type_maps_to_logical_type(type_name: str, category: str, expected: str) -> None:
    assert postgres_logical_type(type_name, category) == expected


# ---------------------------------------------------------------- describe


@pytest.mark.pg
def test_describe_maps_column_types(source_url: str, pg_url: str) -> None:
    run_sql(
        pg_url,
        """
        CREATE DOMAIN positive AS integer CHECK (VALUE > 0);
        CREATE TABLE kinds (
            a smallint, b bigint, c real, d numeric, e boolean, f timestamp, g date,
            h json, i bytea, j integer[], k uuid, l positive, m varchar(5)
        );
        """,
    )
    assert make_reader(source_url).describe()[0].columns == {
        "a": "integer",
        "b": "integer",
        "c": "float",
        "d": "decimal",
        "e": "boolean",
        "f": "datetime",
        "g": "date",
        "h": "json",
        "i": "bytes",
        "j": "json",
        "k": "text",
        "l": "integer",
        "m": "text",
    }


@pytest.mark.pg
def test_describe_takes_the_first_foreign_key(source_url: str, pg_url: str) -> None:
    run_sql(
        pg_url,
        """
        CREATE TABLE a (id int PRIMARY KEY);
        CREATE TABLE b (x int, y int, PRIMARY KEY (x, y));
        CREATE TABLE c (b_x int, b_y int, a_id int REFERENCES a(id));
        ALTER TABLE c ADD FOREIGN KEY (b_y, b_x) REFERENCES b (y, x);
        """,
    )
    child = make_reader(source_url).describe()[2]
    assert child.parent == ParentLink("nas.a", ("a_id",), ("id",))


@pytest.mark.pg
def test_describe_gives_a_multi_column_foreign_key_in_order(source_url: str, pg_url: str) -> None:
    run_sql(
        pg_url,
        """
        CREATE TABLE b (x int, y int, PRIMARY KEY (x, y));
        CREATE TABLE c (b_x int, b_y int, FOREIGN KEY (b_y, b_x) REFERENCES b (y, x));
        """,
    )
    child = make_reader(source_url).describe()[1]
    assert child.parent == ParentLink("nas.b", ("b_y", "b_x"), ("y", "x"))


@pytest.mark.pg
def test_describe_estimates_rows_from_statistics(shop: str, pg_url: str) -> None:
    run_sql(pg_url, "ANALYZE")
    assert [t.row_estimate for t in make_reader(shop).describe()] == [2, 2]


@pytest.mark.pg
def test_describe_has_no_estimate_before_statistics(source_url: str, pg_url: str) -> None:
    run_sql(pg_url, "CREATE TABLE t (x int)")
    assert make_reader(source_url).describe()[0].row_estimate is None


@pytest.mark.pg
def test_describe_leaves_out_ferry_tables_views_and_other_schemas(
    source_url: str, pg_url: str
) -> None:
    run_sql(
        pg_url,
        """
        CREATE TABLE jobs (id int);
        CREATE TABLE ferry_runs (id int);
        CREATE VIEW job_view AS SELECT * FROM jobs;
        CREATE SCHEMA other;
        CREATE TABLE other.hidden (id int);
        """,
    )
    assert [t.name for t in make_reader(source_url).describe()] == ["nas.jobs"]


EVENTS = """
CREATE TABLE events (at date, n int) PARTITION BY RANGE (at);
CREATE TABLE events_2023 PARTITION OF events FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
"""


@pytest.mark.pg
def test_describe_lists_a_partitioned_table_once(source_url: str, pg_url: str) -> None:
    run_sql(pg_url, EVENTS)
    assert [t.name for t in make_reader(source_url).describe()] == ["nas.events"]


# ---------------------------------------------------------------- rows


@pytest.mark.pg
def test_batches_give_values_as_psycopg_returns_them(shop: str) -> None:
    batches = read_all(make_reader(shop, ["orders"]))
    assert batches == [
        Batch(
            "nas.orders",
            [
                {
                    "id": 10,
                    "customer_id": 1,
                    "total": Decimal("12.50"),
                    "placed_at": datetime(2024, 2, 1, 10, 0, tzinfo=UTC),
                    "paid": True,
                    "meta": {"gift": True},
                    "receipt": b"\x00\xff",
                },
                {
                    "id": 11,
                    "customer_id": 2,
                    "total": Decimal("3.00"),
                    "placed_at": None,
                    "paid": False,
                    "meta": None,
                    "receipt": None,
                },
            ],
        )
    ]


@pytest.mark.pg
def test_batches_give_dates_as_dates(shop: str) -> None:
    rows = read_all(make_reader(shop, ["customers"]))[0].rows
    assert [row["joined"] for row in rows] == [date(2024, 1, 5), date(2023, 11, 30)]


@pytest.mark.pg
def test_partitioned_table_rows_come_from_all_partitions(source_url: str, pg_url: str) -> None:
    run_sql(pg_url, EVENTS + "INSERT INTO events VALUES ('2023-06-01', 1), ('2024-06-01', 2);")
    rows = read_all(make_reader(source_url))[0].rows
    assert sorted(row["n"] for row in rows) == [1, 2]


@pytest.mark.pg
def test_reader_sees_one_snapshot_while_the_app_writes(source_url: str, pg_url: str) -> None:
    run_sql(
        pg_url,
        """
        CREATE TABLE a (id int PRIMARY KEY);
        CREATE TABLE b (id int PRIMARY KEY);
        INSERT INTO a VALUES (1), (2);
        INSERT INTO b VALUES (1);
        """,
    )
    source = make_reader(source_url)
    batches = source.batches(1)
    first = next(batches)  # table a, first row: the snapshot is taken
    run_sql(pg_url, "INSERT INTO b VALUES (2)")  # the app commits meanwhile
    rest = list(batches)
    source.close()
    assert [first, *rest] == [
        Batch("nas.a", [{"id": 1}]),
        Batch("nas.a", [{"id": 2}]),
        Batch("nas.b", [{"id": 1}]),
    ]


@pytest.mark.pg
def test_a_second_read_sees_new_rows(source_url: str, pg_url: str) -> None:
    run_sql(pg_url, "CREATE TABLE b (id int PRIMARY KEY); INSERT INTO b VALUES (1)")
    source = make_reader(source_url)
    list(source.batches(10))
    run_sql(pg_url, "INSERT INTO b VALUES (2)")
    assert read_all(source) == [Batch("nas.b", [{"id": 1}, {"id": 2}])]


# ---------------------------------------------------------------- bad input


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # nothing listens there once the socket is closed


def test_unreachable_server_is_a_source_error() -> None:
    port = _closed_port()
    with pytest.raises(SourceError) as caught:
        make_reader(f"postgresql://app@127.0.0.1:{port}/shop").describe()
    assert caught.value.message == (
        f"Cannot reach PostgreSQL at 127.0.0.1:{port}/shop (source 'nas'): Connection refused"
    )


@pytest.mark.pg
def test_missing_database_is_a_source_error(pg_server_url: str) -> None:
    url, _ = pgcluster.without_password(pgcluster.with_database(pg_server_url, "no_such_db"))
    info = conninfo_to_dict(pg_server_url)
    where = f"{info.get('host') or 'localhost'}:{info.get('port') or 5432}"
    with pytest.raises(SourceError) as caught:
        make_reader(url).describe()
    assert caught.value.message == (
        f"PostgreSQL at {where} has no database 'no_such_db' (source 'nas')"
    )


def _refuse_password(*args: Any, **kwargs: Any) -> psycopg.Connection[Any]:
    raise psycopg.OperationalError(
        'connection failed: connection to server at "127.0.0.1", port 5432 failed: '
        'FATAL:  password authentication failed for user "app"'
    )


def test_wrong_password_is_a_source_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FERRY_SOURCE_PASSWORD", "s3cret")
    monkeypatch.setattr(psycopg, "connect", _refuse_password)
    with pytest.raises(SourceError) as caught:
        make_reader("postgresql://app@127.0.0.1:5432/shop").describe()
    assert caught.value.message == (
        "PostgreSQL at 127.0.0.1:5432/shop refused the login of user 'app': wrong or missing "
        "password (source 'nas')"
    )


def test_wrong_password_error_does_not_show_the_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FERRY_SOURCE_PASSWORD", "s3cret")
    monkeypatch.setattr(psycopg, "connect", _refuse_password)
    with pytest.raises(SourceError) as caught:
        make_reader("postgresql://app@127.0.0.1:5432/shop").describe()
    shown = " ".join([caught.value.message, caught.value.hint, caught.value.details])
    assert "s3cret" not in shown


def test_password_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}

    def connect(*args: Any, **kwargs: Any) -> psycopg.Connection[Any]:
        seen.update(kwargs)
        return _refuse_password()

    monkeypatch.setenv("FERRY_SOURCE_PASSWORD", "s3cret")
    monkeypatch.setattr(psycopg, "connect", connect)
    with pytest.raises(SourceError):
        make_reader("postgresql://app@127.0.0.1:5432/shop").describe()
    assert seen["password"] == "s3cret"
