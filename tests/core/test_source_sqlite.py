"""SqliteSource: schema description, streaming rows, one read transaction, bad input.

What a PostgreSQL source reads the same way is in tests/core/contract/test_source_contract.py,
run against both.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Generator
from pathlib import Path

import pytest

from ferry.errors import SourceError
from ferry.plan import SourceSpec
from ferry.shape.sqlitenames import sqlite_logical_type
from ferry.sources import Batch, ParentLink, open_source
from ferry.sources.sqlite import SqliteSource
from ferry.values.textbytes import BadText


def make_db(path: Path, script: str, *, wal: bool = False) -> Path:
    conn = sqlite3.connect(path)
    if wal:
        conn.execute("PRAGMA journal_mode=WAL")
    conn.executescript(script)
    conn.commit()
    conn.close()
    return path


def reader(path: Path | str, base_dir: Path, tables: list[str] | None = None) -> SqliteSource:
    spec = SourceSpec(name="app", kind="sqlite", path=str(path), tables=tables or [])
    source = open_source(spec, base_dir)
    assert isinstance(source, SqliteSource)
    return source


def read_all(source: SqliteSource, batch_size: int = 100) -> list[Batch]:
    try:
        return list(source.batches(batch_size))
    finally:
        source.close()


SHOP = """
CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, joined DATE);
CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER REFERENCES customers(id),
    total DECIMAL(10,2),
    placed_at DATETIME,
    paid BOOLEAN,
    meta JSON,
    receipt BLOB,
    note
);
INSERT INTO customers VALUES (1, 'Ada', '2024-01-05'), (2, 'Linus', '2023-11-30');
INSERT INTO orders VALUES
    (10, 1, 12.5, '2024-02-01 10:00:00', 1, '{"gift": true}', x'00ff', 'first'),
    (11, 2, 3, '2024-02-02T08:30:00Z', 0, NULL, NULL, 42);
"""


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    return make_db(tmp_path / "shop.db", SHOP)


# ---------------------------------------------------------------- types


@pytest.mark.parametrize(
    ("declared", "expected"),
    [
        ("INTEGER", "integer"),
        ("BIGINT", "integer"),
        ("tinyint(1)", "integer"),
        ("REAL", "float"),
        ("DOUBLE PRECISION", "float"),
        ("FLOAT", "float"),
        ("NUMERIC", "decimal"),
        ("DECIMAL(10,2)", "decimal"),
        ("BOOLEAN", "boolean"),
        ("BOOL", "boolean"),
        ("DATE", "date"),
        ("DATETIME", "timestamp"),
        ("TIMESTAMP", "timestamp"),
        ("TIME", "text"),
        ("JSON", "json"),
        ("BLOB", "bytes"),
        ("", "text"),
        ("TEXT", "text"),
        ("VARCHAR(20)", "text"),
        ("CLOB", "text"),
    ],
)
def test_declared_type_maps_to_logical_type(declared: str, expected: str) -> None:
    assert sqlite_logical_type(declared) == expected


# ---------------------------------------------------------------- describe


def test_describe_maps_declared_column_types(shop: Path, tmp_path: Path) -> None:
    orders = reader(shop, tmp_path).describe()[1]
    assert orders.columns == {
        "id": "integer",
        "customer_id": "integer",
        "total": "decimal",
        "placed_at": "timestamp",
        "paid": "boolean",
        "meta": "json",
        "receipt": "bytes",
        "note": "text",
    }


def test_describe_resolves_a_reference_without_columns_to_the_parent_key(tmp_path: Path) -> None:
    db = make_db(
        tmp_path / "fk.db",
        "CREATE TABLE p (pid INTEGER PRIMARY KEY); CREATE TABLE c (p_ref INT REFERENCES p);",
    )
    child = reader(db, tmp_path).describe()[1]
    assert child.parent == ParentLink("app.p", ("p_ref",), ("pid",))


def test_describe_takes_the_first_declared_foreign_key(tmp_path: Path) -> None:
    db = make_db(
        tmp_path / "fk.db",
        """
        CREATE TABLE a (id INTEGER PRIMARY KEY);
        CREATE TABLE b (id INTEGER PRIMARY KEY);
        CREATE TABLE c (a_id INT REFERENCES a(id), b_id INT REFERENCES b(id));
        """,
    )
    child = reader(db, tmp_path).describe()[2]
    assert child.parent == ParentLink("app.a", ("a_id",), ("id",))


def test_quick_counts_give_the_rowid_span_which_no_count_exceeds(tmp_path: Path) -> None:
    path = make_db(
        tmp_path / "gaps.db",
        """
        CREATE TABLE gaps (id INTEGER PRIMARY KEY, v TEXT);
        INSERT INTO gaps VALUES (3, 'a'), (4, 'b'), (10, 'c');
        CREATE TABLE empty (id INTEGER PRIMARY KEY);
        CREATE TABLE keyed (k TEXT PRIMARY KEY, v TEXT) WITHOUT ROWID;
        INSERT INTO keyed VALUES ('x', '1'), ('y', '2');
        """,
    )
    source = reader(path, tmp_path)
    source.quick_counts = True
    try:
        estimates = {t.name: t.row_estimate for t in source.describe()}
    finally:
        source.close()
    # rowids 3..10 span 8 (3 rows); a WITHOUT ROWID table has no span: it is counted
    assert estimates == {"app.gaps": 8, "app.empty": 0, "app.keyed": 2}


def test_describe_counts_rows(shop: Path, tmp_path: Path) -> None:
    tables = reader(shop, tmp_path).describe()
    assert [t.row_estimate for t in tables] == [2, 2]


def test_describe_leaves_out_internal_and_ferry_tables(tmp_path: Path) -> None:
    db = make_db(
        tmp_path / "i.db",
        """
        CREATE TABLE jobs (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT);
        INSERT INTO jobs (name) VALUES ('x');
        CREATE TABLE ferry_runs (id INTEGER);
        """,
    )
    assert [t.name for t in reader(db, tmp_path).describe()] == ["app.jobs"]


def test_describe_leaves_out_the_row_prints_and_changesets_ferry_keeps(tmp_path: Path) -> None:
    # a SQLite target Ferry wrote, read back (a reverse plan): its own tables are not the app's
    db = make_db(
        tmp_path / "t.db",
        """
        CREATE TABLE jobs (id INTEGER PRIMARY KEY, name TEXT);
        CREATE TABLE _ferry_runs (run_id TEXT);
        CREATE TABLE _ferry_row_prints (id INTEGER);
        CREATE TABLE _ferry_changesets (run_id TEXT);
        CREATE TABLE _ferry_img_jobs (run_id TEXT);
        """,
    )
    assert [t.name for t in reader(db, tmp_path).describe()] == ["app.jobs"]


def test_empty_database_has_no_tables(tmp_path: Path) -> None:
    db = make_db(tmp_path / "e.db", "CREATE TABLE t (x); DROP TABLE t;")
    assert reader(db, tmp_path).describe() == []


# ---------------------------------------------------------------- rows


def test_batches_give_rows_as_stored_with_json_parsed(shop: Path, tmp_path: Path) -> None:
    batches = read_all(reader(shop, tmp_path, tables=["orders"]))
    assert batches == [
        Batch(
            "app.orders",
            [
                {
                    "id": 10,
                    "customer_id": 1,
                    "total": 12.5,
                    "placed_at": "2024-02-01 10:00:00",
                    "paid": 1,
                    "meta": {"gift": True},
                    "receipt": b"\x00\xff",
                    "note": "first",
                },
                {
                    "id": 11,
                    "customer_id": 2,
                    "total": 3,
                    "placed_at": "2024-02-02T08:30:00Z",
                    "paid": 0,
                    "meta": None,
                    "receipt": None,
                    "note": 42,
                },
            ],
        )
    ]


def test_file_name_with_uri_characters_is_read(tmp_path: Path) -> None:
    db = make_db(tmp_path / "my db #1?%.sqlite", "CREATE TABLE t (x); INSERT INTO t VALUES (7);")
    assert read_all(reader(db, tmp_path)) == [Batch("app.t", [{"x": 7}])]


def test_relative_path_starts_at_the_plan_folder(shop: Path, tmp_path: Path) -> None:
    assert reader("shop.db", tmp_path).files() == [tmp_path / "shop.db"]


def test_rows_can_be_read_from_another_thread(shop: Path, tmp_path: Path) -> None:
    source = reader(shop, tmp_path)
    source.describe()  # connection made on this thread
    result: list[int] = []
    worker = threading.Thread(target=lambda: result.extend(len(b.rows) for b in source.batches(10)))
    worker.start()
    worker.join()
    source.close()
    assert result == [2, 2]


def test_generated_columns_are_read(tmp_path: Path) -> None:
    db = make_db(
        tmp_path / "g.db",
        "CREATE TABLE t (a INT, b INT GENERATED ALWAYS AS (a * 2)); INSERT INTO t (a) VALUES (3);",
    )
    assert read_all(reader(db, tmp_path)) == [Batch("app.t", [{"a": 3, "b": 6}])]


# ---------------------------------------------------------------- consistency


TWO_TABLES = """
CREATE TABLE a (id INTEGER PRIMARY KEY);
CREATE TABLE b (id INTEGER PRIMARY KEY);
INSERT INTO a VALUES (1), (2);
INSERT INTO b VALUES (1);
"""


def test_wal_reader_sees_one_snapshot_while_the_app_writes(tmp_path: Path) -> None:
    db = make_db(tmp_path / "wal.db", TWO_TABLES, wal=True)
    batches = reader(db, tmp_path).batches(1)
    first = next(batches)  # table a, first row: the read transaction is open
    app = sqlite3.connect(db)
    app.execute("INSERT INTO b VALUES (2)")
    app.commit()  # WAL lets the app write meanwhile...
    app.close()
    rest = list(batches)
    # ...but the copy still shows the database as it was when the read began.
    assert [first, *rest] == [
        Batch("app.a", [{"id": 1}]),
        Batch("app.a", [{"id": 2}]),
        Batch("app.b", [{"id": 1}]),
    ]


def test_rollback_journal_reader_keeps_writers_out_until_done(tmp_path: Path) -> None:
    db = make_db(tmp_path / "journal.db", TWO_TABLES)
    source = reader(db, tmp_path)
    batches = source.batches(1)
    next(batches)
    app = sqlite3.connect(db, timeout=0.1)
    app.execute("INSERT INTO b VALUES (2)")
    with pytest.raises(sqlite3.OperationalError, match="database is locked"):
        app.commit()
    app.rollback()
    app.close()
    assert isinstance(batches, Generator)
    batches.close()
    source.close()


def test_closing_the_reader_in_the_middle_of_a_read_is_harmless(tmp_path: Path) -> None:
    db = make_db(tmp_path / "journal.db", TWO_TABLES)
    source = reader(db, tmp_path)
    batches = source.batches(1)
    next(batches)
    source.close()
    assert isinstance(batches, Generator)
    batches.close()  # its cleanup finds the connection closed already
    assert read_all(reader(db, tmp_path, tables=["b"])) == [Batch("app.b", [{"id": 1}])]


def test_reader_releases_its_lock_when_done(tmp_path: Path) -> None:
    db = make_db(tmp_path / "journal.db", TWO_TABLES)
    source = reader(db, tmp_path)
    list(source.batches(1))
    app = sqlite3.connect(db, timeout=0.1)
    app.execute("INSERT INTO b VALUES (2)")
    app.commit()
    app.close()
    source.close()
    assert read_all(reader(db, tmp_path, tables=["b"])) == [Batch("app.b", [{"id": 1}, {"id": 2}])]


# ---------------------------------------------------------------- bad input


def test_missing_file_is_a_source_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError) as caught:
        reader("nope.db", tmp_path).describe()
    assert caught.value.message == f"SQLite file {tmp_path / 'nope.db'} not found (source 'app')"


def test_file_that_is_not_sqlite_is_a_source_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("these are my notes, not a database\n" * 40)
    with pytest.raises(SourceError) as caught:
        reader(path, tmp_path).describe()
    assert caught.value.message == f"{path} is not a SQLite database"


def test_empty_file_is_reported_as_empty(tmp_path: Path) -> None:
    path = tmp_path / "zero.db"
    path.touch()
    with pytest.raises(SourceError) as caught:
        reader(path, tmp_path).describe()
    assert caught.value.message == (
        f"{path} is empty (0 bytes): there is no SQLite database to read"
    )


def test_locked_database_is_a_source_error(
    shop: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(SqliteSource, "busy_timeout", 0.1)
    app = sqlite3.connect(shop, isolation_level=None)
    app.execute("BEGIN EXCLUSIVE")
    app.execute("INSERT INTO customers VALUES (3, 'Grace', NULL)")
    try:
        with pytest.raises(SourceError) as caught:
            reader(shop, tmp_path).describe()
    finally:
        app.execute("ROLLBACK")
        app.close()
    assert caught.value.message == f"SQLite file {shop} is locked: another program is writing to it"
    assert caught.value.hint.startswith("Stop the application that uses it")


def test_invalid_utf8_text_comes_as_its_bytes_in_order_and_is_counted(tmp_path: Path) -> None:
    # The bad value is met in the second fetch: the read starts over, passing the rows given.
    db = make_db(
        tmp_path / "u.db",
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); "
        "INSERT INTO notes VALUES (1, 'a'), (2, 'b'), (3, 'c'), (4, CAST(x'ff' AS TEXT)), "
        "(5, 'é');",
    )
    source = reader(db, tmp_path)
    rows = [row for batch in source.batches(2) for row in batch.rows]
    census = source.invalid_text["notes"]["body"]
    source.close()
    assert [(r["id"], r["body"]) for r in rows] == [
        (1, "a"),
        (2, "b"),
        (3, "c"),
        (4, BadText(b"\xff")),
        (5, "é"),
    ]
    assert type(rows[3]["body"]) is BadText
    assert (census.count, census.keys) == (1, ["id=4"])


def test_declared_json_column_is_parsed(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, meta JSON)")
        conn.execute("""INSERT INTO t VALUES (1, '{"a": [1, 2]}'), (2, 'not json')""")
    reader = SqliteSource(SourceSpec(name="s", kind="sqlite", path=str(path)), tmp_path)
    rows = [row for batch in reader.batches(10) for row in batch.rows]
    reader.close()
    assert rows == [{"id": 1, "meta": {"a": [1, 2]}}, {"id": 2, "meta": "not json"}]


def test_quick_counts_count_a_table_whose_rowid_span_the_file_could_not_hold(
    tmp_path: Path,
) -> None:
    # Anki's ids are times in ms: two decks, ids 1 and 1796657849799.
    path = make_db(
        tmp_path / "sparse.db",
        """
        CREATE TABLE decks (id INTEGER PRIMARY KEY, name TEXT);
        INSERT INTO decks VALUES (1, 'Default'), (1796657849799, 'Français');
        """,
    )
    source = reader(path, tmp_path)
    source.quick_counts = True
    try:
        estimates = {t.name: t.row_estimate for t in source.describe()}
    finally:
        source.close()
    assert estimates == {"app.decks": 2}
