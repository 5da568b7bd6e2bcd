"""SQLite mapping plain columns itself (ferry.native.load) gives exactly the Python mapping.

Every test loads the same real SQLite source twice into an empty target — once with
``native = true`` (SQLite maps what it can, the rest goes to Python) and once with
``native = false`` (Python maps every row) — and compares the target rows, counts, rejects
and warnings. Values include every spelling the SQL must either map exactly or hand over.
"""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pgkit import pg_exec, pg_rows

from ferry.migrate import migrate
from ferry.plan import plan_from_dict
from ferry.results import RunResult

SOURCE_TABLE = (
    "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, n INTEGER, score REAL, "
    "at DATETIME, flag BOOLEAN, data BLOB)"
)
SQLITE_TARGET = (
    "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, n INTEGER, score REAL, "
    "at DATETIME, flag BOOLEAN, data BLOB)"
)
PG_TARGET = (
    "CREATE TABLE items (id BIGINT PRIMARY KEY, name TEXT, n BIGINT, "
    "score DOUBLE PRECISION, at TIMESTAMPTZ, flag BOOLEAN, data BYTEA)"
)
COLUMNS = ("name", "n", "score", "at", "flag", "data")

TIMES = [
    "2024-05-01T10:00:00",
    "2024-05-01 10:00:00",
    "2024-05-01T10:00:00Z",
    "2024-05-01T10:00:00+00:00",
    "2024-05-01T10:00:00-00:00",
    "2024-05-01T23:30:00.123+05:30",
    "2024-12-31T23:59:59.999999-08:00",
    "2024-05-01T10:00:00+15:00",  # past SQLite's offsets (it gives NULL): Python's
    "2024-01-01T00:00:00.5+01:00",  # one fraction digit: Python's
    "2024-01-01T00:00:00.1234567",  # seven: Python's
    "2024-05-01T10:00",  # no seconds: Python's
    "2024-05-01",
    "2024-05-01T10:00:00+0530",  # offset without colon: Python's
    "2024-02-29T12:00:00",  # a leap day
    "2023-02-29T12:00:00",  # not a day: rejected by Python
    "2024-04-31T12:00:00",
    "2024-13-01T00:00:00",
    "2024-00-10T00:00:00",
    "2024-05-00T00:00:00",
    "2024-05-01T24:00:00",
    "2024-05-01T10:60:00",
    "2024-05-01T10:00:60",
    "0999-12-31T23:00:00",
    "1001-01-01T00:30:00+01:00",
    "9998-12-31T23:59:59-01:00",
    "9999-12-31T23:59:59",
    " 2024-05-01T10:00:00",
    "2024-05-01T10:00:00 ",
    "2024-05-01T10:00:00\x00junk",  # SQLite's length and GLOB stop at the NUL: Python's
    "yesterday",
    "",
    1714557600,
    1714557600123,
    1714557600.5,
    None,
]
TEXTS = [
    "plain",
    "",
    'with "quotes", commas',
    "line\nbreak\r\nand\ttab",
    "back\\slash \\N \\.",
    "\\N",
    "naïve ☃ 東京 🚀",
    "=1+1",
    42,
    2.5,
    b"bytes",
    None,
]
NUMBERS: list[Any] = [0, -1, 2**63 - 1, -(2**63), 7.0, 7.5, "12", " 13 ", "1e3", "x", None]
FLOATS: list[Any] = [
    0.1,
    -0.0,
    1e300,
    5e-324,
    1 / 3,
    123456789.123456789,
    float("inf"),
    float("-inf"),
    3,
    2**60 + 1,
    "2.5",
    "nan",
    None,
]
FLAGS: list[Any] = [0, 1, 2, -1, "true", "no", 1.0, None]
BLOBS: list[Any] = [b"", b"\x00\xff\\x", bytes(range(256)), "text", 5, None]


def _rows(count: int) -> list[tuple[Any, ...]]:
    """Rows that walk through every list above, in shifting combinations."""
    lists = [TEXTS, NUMBERS, FLOATS, TIMES, FLAGS, BLOBS]
    return [
        (i, *(values[(i * (k + 1)) % len(values)] for k, values in enumerate(lists)))
        for i in range(1, count + 1)
    ]


def source_db(folder: Path, rows: list[tuple[Any, ...]], table: str = SOURCE_TABLE) -> Path:
    path = folder / "source.db"
    path.unlink(missing_ok=True)
    db = sqlite3.connect(path)
    db.execute(table)
    with db:
        db.executemany("INSERT INTO items VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    db.close()
    return path


def plan_for(
    folder: Path,
    source: Path,
    url: str,
    native: bool,
    columns: dict[str, Any] | None = None,
    **options: Any,
) -> Any:
    table = {"name": "items", "source": "app.items", "key": ["id"], "columns": columns or {}}
    return plan_from_dict(
        {
            "name": "native",
            "target": {"url": url},
            "sources": [{"name": "app", "kind": "sqlite", "path": str(source)}],
            "tables": [table],
            "options": {"native": native, **options},
        },
        folder,
    )


def run(plan: Any) -> RunResult:
    return asyncio.run(migrate(plan, write_reports=False))


def outcome(result: RunResult) -> tuple[Any, ...]:
    """What a run reports, apart from timings and ids."""
    table = result.tables[0]
    rejects = sorted((r.key, r.reason) for r in result.rejects)
    return (table.counts(), rejects, sorted(result.warnings))


def sqlite_load(
    folder: Path,
    source: Path,
    native: bool,
    columns: dict[str, Any] | None = None,
    **options: Any,
) -> Any:
    target = folder / f"target-{native}.db"
    target.unlink(missing_ok=True)
    db = sqlite3.connect(target)
    db.execute(SQLITE_TARGET)
    db.close()
    result = run(plan_for(folder, source, f"sqlite:///{target}", native, columns, **options))
    db = sqlite3.connect(target)
    try:
        rows = db.execute("SELECT *, typeof(at), typeof(score) FROM items ORDER BY id").fetchall()
    finally:
        db.close()
    return result, rows


def pg_load(
    folder: Path, source: Path, url: str, native: bool, columns: dict[str, Any] | None = None
) -> Any:
    pg_exec(url, "DROP TABLE IF EXISTS items", PG_TARGET)
    result = run(plan_for(folder, source, url, native, columns))
    # Floats compared bit for bit (NaN is not equal to itself).
    return result, pg_rows(
        url, "SELECT id, name, n, float8send(score), at, flag, data FROM items ORDER BY id"
    )


# -- SQLite target ---------------------------------------------------------------------------


def test_sqlite_target_rows_equal_pythons(tmp_path: Path) -> None:
    source = source_db(tmp_path, _rows(400))
    native, native_rows = sqlite_load(tmp_path, source, True)
    python, python_rows = sqlite_load(tmp_path, source, False)
    assert native_rows == python_rows
    assert outcome(native) == outcome(python)


def test_sqlite_target_takes_plain_rows_natively(tmp_path: Path) -> None:
    source = source_db(tmp_path, _rows(400))
    native, _ = sqlite_load(tmp_path, source, True)
    table = native.tables[0]
    # Most rows are plain; the odd spellings went through Python (and some were rejected).
    assert 0 < table.mapped_by_sqlite < table.rows_read == 400
    assert table.inserted == 400 - table.rejected


def test_sqlite_target_with_a_zone_gives_naive_times_to_python(tmp_path: Path) -> None:
    source = source_db(tmp_path, _rows(120))
    native, native_rows = sqlite_load(tmp_path, source, True, timezone="Europe/Berlin")
    python, python_rows = sqlite_load(tmp_path, source, False, timezone="Europe/Berlin")
    assert native_rows == python_rows
    assert outcome(native) == outcome(python)


def test_source_file_is_left_byte_for_byte(tmp_path: Path) -> None:
    source = source_db(tmp_path, _rows(50))
    before = hashlib.sha256(source.read_bytes()).hexdigest()
    native, _ = sqlite_load(tmp_path, source, True)
    assert native.tables[0].mapped_by_sqlite > 0
    assert hashlib.sha256(source.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "source.db",
        "target-True.db",
    ]


def test_without_rowid_table_is_mapped_by_python(tmp_path: Path) -> None:
    table = SOURCE_TABLE + " WITHOUT ROWID"
    source = source_db(tmp_path, _rows(60), table)
    native, native_rows = sqlite_load(tmp_path, source, True)
    _, python_rows = sqlite_load(tmp_path, source, False)
    assert native.tables[0].mapped_by_sqlite == 0
    assert native_rows == python_rows


def test_repeated_key_restarts_staged_with_the_same_result(tmp_path: Path) -> None:
    # The source's key column is not its primary key: two rows share id 7.
    path = tmp_path / "source.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE items (id INTEGER, name TEXT)")
    with db:
        db.executemany("INSERT INTO items VALUES (?, ?)", [(i % 50, f"n{i}") for i in range(60)])
    db.close()
    results = []
    for native in (True, False):
        target = tmp_path / f"t{native}.db"
        sqlite3.connect(target).execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)")
        result = run(plan_for(tmp_path, path, f"sqlite:///{target}", native))
        rows = sqlite3.connect(target).execute("SELECT * FROM items ORDER BY id").fetchall()
        results.append((outcome(result), rows))
    assert results[0] == results[1]
    assert results[0][0][0]["duplicates"] == 10


#: text for a column with ``ops``: SQLite maps the ASCII ones, Python the rest
OPS_TEXTS: list[Any] = [
    "  Plain Words  ",
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f MiXeD \x1f\r\n",  # every ASCII space Python strips
    "\x00 nul \x00",
    "\x7f del \x01",
    "\u00a0no-break space\u00a0",  # Python strips it; SQLite would not
    "Straße",  # Python: STRASSE
    "İstanbul",  # Python: i̇stanbul (two characters)
    "ǅ title-case",
    " naïve ☃ 東京 🚀 ",
    "",
    "   ",
    42,
    2.5,
    b"Bytes",
    None,
]


def ops_rows(count: int) -> list[tuple[Any, ...]]:
    """:func:`_rows` with the ``name`` column walking through OPS_TEXTS."""
    return [(row[0], OPS_TEXTS[row[0] % len(OPS_TEXTS)], *row[2:]) for row in _rows(count)]


@pytest.mark.parametrize("ops", [["trim"], ["lower"], ["upper"], ["trim", "upper", "lower"]])
def test_sqlite_target_text_ops_give_pythons_result(tmp_path: Path, ops: list[str]) -> None:
    source = source_db(tmp_path, ops_rows(300))
    columns = {"name": {"from": "name", "ops": ops}}
    native, native_rows = sqlite_load(tmp_path, source, True, columns)
    python, python_rows = sqlite_load(tmp_path, source, False, columns)
    assert native_rows == python_rows
    assert outcome(native) == outcome(python)
    assert native.tables[0].mapped_by_sqlite > 0


def test_sqlite_target_text_ops_leave_invalid_text_to_python(tmp_path: Path) -> None:
    source = source_db(tmp_path, [(1, " ok ", 1, None, None, None, None)])
    db = sqlite3.connect(source)
    with db:  # Latin-1 'é' between ASCII letters: as many characters as bytes to SQLite
        db.execute("INSERT INTO items (id, name) VALUES (2, CAST(X'41E92042' AS TEXT))")
    db.close()
    columns = {"name": {"from": "name", "ops": ["trim", "upper"]}}
    native, native_rows = sqlite_load(tmp_path, source, True, columns)
    python, python_rows = sqlite_load(tmp_path, source, False, columns)
    assert native_rows == python_rows
    assert outcome(native) == outcome(python)
    assert [r.key for r in native.rejects] == ["id=2"]


def test_sqlite_target_maps_ascii_text_ops_itself(tmp_path: Path) -> None:
    rows = [(i, f"  Item {i}\t", i, None, None, None, None) for i in range(1, 101)]
    source = source_db(tmp_path, rows)
    columns = {"name": {"from": "name", "ops": ["trim", "upper"]}}
    native, native_rows = sqlite_load(tmp_path, source, True, columns)
    assert native.tables[0].decision.mode == "native"
    assert native.tables[0].mapped_by_sqlite == 100
    assert native_rows[0][1] == "ITEM 1"


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    st.lists(
        st.tuples(
            st.one_of(st.none(), st.text(max_size=20), st.integers(-5, 5)),
            st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1), st.floats(-1e20, 1e20)),
            st.one_of(st.none(), st.floats(allow_nan=False), st.integers(-(2**62), 2**62)),
            st.one_of(
                st.none(),
                st.datetimes(min_value=datetime(1000, 1, 2), max_value=datetime(9999, 12, 30)).map(
                    lambda d: d.isoformat(sep=" ")
                ),
                st.datetimes(
                    min_value=datetime(1000, 1, 2),
                    max_value=datetime(9999, 12, 30),
                    timezones=st.sampled_from(
                        [UTC, *(timezone(timedelta(minutes=m)) for m in (-480, 330, 840))]
                    ),
                ).map(lambda d: d.isoformat(timespec="milliseconds")),
                st.from_regex(
                    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d{3})?Z?", fullmatch=True
                ),
            ),
            st.sampled_from(FLAGS),
            st.one_of(st.none(), st.binary(max_size=8)),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_any_values_give_pythons_result(tmp_path: Path, values: list[tuple[Any, ...]]) -> None:
    rows = [(i, *row) for i, row in enumerate(values, start=1)]
    source = source_db(tmp_path, rows)
    native, native_rows = sqlite_load(tmp_path, source, True)
    python, python_rows = sqlite_load(tmp_path, source, False)
    assert native_rows == python_rows
    assert outcome(native) == outcome(python)


# -- PostgreSQL target -----------------------------------------------------------------------


@pytest.fixture
def copy_formats(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """(table, format) of every COPY the PostgreSQL target runs."""
    from ferry.targets.postgres import PostgresTarget

    seen: list[tuple[str, str]] = []
    original = PostgresTarget._copy

    async def spy(
        self: Any, table: str, columns: Any, data: Any, *flags: bool, **options: bool
    ) -> None:
        csv, binary = (*flags, False, False)[:2]
        seen.append((table, "binary" if binary else "csv" if csv else "text"))
        await original(self, table, columns, data, *flags, **options)

    monkeypatch.setattr(PostgresTarget, "_copy", spy)
    return seen


def _no_binary(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every column type takes CSV only (the native load's other form)."""
    from ferry.native import load as nativeload

    monkeypatch.setattr(nativeload, "_PG_BINARY", {})


@pytest.fixture(params=["binary", "csv"])
def form(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each PostgreSQL test of this form runs with binary COPY and with CSV."""
    if request.param == "csv":
        _no_binary(monkeypatch)
    return str(request.param)


def test_postgres_target_rows_equal_pythons(
    tmp_path: Path,
    pg_url: str,
    form: str,
    copy_formats: list[tuple[str, str]],
) -> None:
    source = source_db(tmp_path, _rows(400))
    native, native_rows = pg_load(tmp_path, source, pg_url, True)
    assert (("items", form)) in copy_formats
    python, python_rows = pg_load(tmp_path, source, pg_url, False)
    assert native_rows == python_rows
    assert outcome(native) == outcome(python)
    assert 0 < native.tables[0].mapped_by_sqlite < 400


def test_postgres_column_of_another_type_loads_as_csv(
    tmp_path: Path, pg_url: str, copy_formats: list[tuple[str, str]]
) -> None:
    # INTEGER is 4 bytes in binary COPY: the SQL's int64 values go as CSV text instead.
    rows = [(i, f"n{i}", i, 0.5, "2024-05-01T10:00:00Z", 1, b"x") for i in range(1, 30)]
    source = source_db(tmp_path, rows)
    pg_exec(pg_url, "DROP TABLE IF EXISTS items", PG_TARGET.replace("n BIGINT", "n INTEGER"))
    result = run(plan_for(tmp_path, source, pg_url, True))
    assert result.tables[0].mapped_by_sqlite == 29
    assert {form for table, form in copy_formats} == {"csv"}


def test_postgres_tables_load_in_turns(
    tmp_path: Path,
    pg_url: str,
    copy_formats: list[tuple[str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The smallest chunks hold 1000 rows: 3000 rows make three chunks per table, sent in
    # turns so the reader and the server both work all along.
    from ferry.native import stream as engine

    monkeypatch.setattr(engine, "CHUNK_BYTES", 1)
    path = tmp_path / "two.db"
    db = sqlite3.connect(path)
    for table in ("a", "b"):
        db.execute(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, name TEXT)")
        with db:
            db.executemany(
                f"INSERT INTO {table} VALUES (?, ?)", ((i, f"{table}{i}") for i in range(1, 3001))
            )
    db.close()
    pg_exec(pg_url, "DROP TABLE IF EXISTS a", "DROP TABLE IF EXISTS b")
    plan = plan_from_dict(
        {
            "name": "turns",
            "target": {"url": pg_url},
            "sources": [{"name": "app", "kind": "sqlite", "path": str(path)}],
            "tables": [
                {"name": "a", "source": "app.a", "key": ["id"]},
                {"name": "b", "source": "app.b", "key": ["id"]},
            ],
        },
        tmp_path,
    )
    result = run(plan)
    assert [t.mapped_by_sqlite for t in result.tables] == [3000, 3000]
    assert [table for table, _ in copy_formats] == ["a", "b", "a", "b", "a", "b"]
    assert pg_rows(pg_url, "SELECT count(*), count(DISTINCT name) FROM a") == [(3000, 3000)]
    assert pg_rows(pg_url, "SELECT count(*), max(name) FROM b") == [(3000, "b999")]


def test_postgres_refused_value_restarts_staged_with_the_same_result(
    tmp_path: Path, pg_url: str, form: str
) -> None:
    # A NUL in text: PostgreSQL refuses it, so that row alone is rejected either way.
    rows = [(i, "a\x00b" if i == 5 else f"n{i}", i, None, None, None, None) for i in range(1, 40)]
    source = source_db(tmp_path, rows)
    native, native_rows = pg_load(tmp_path, source, pg_url, True)
    python, python_rows = pg_load(tmp_path, source, pg_url, False)
    assert native_rows == python_rows
    assert outcome(native) == outcome(python)
    assert native.tables[0].rejected == 1


def test_postgres_numeric_column_gets_the_shortest_decimal(tmp_path: Path, pg_url: str) -> None:
    # 17 significant digits would store 0.1 as 0.10000000000000001 in a NUMERIC column;
    # SQLite writes its 15-digit text, which reads back as the same double (ferry.native.decimals).
    source = source_db(tmp_path, [(1, "a", 1, 0.1, None, None, None)])
    pg_exec(pg_url, "DROP TABLE IF EXISTS items", PG_TARGET.replace("DOUBLE PRECISION", "NUMERIC"))
    result = run(plan_for(tmp_path, source, pg_url, True))
    assert result.tables[0].mapped_by_sqlite == 1
    assert pg_rows(pg_url, "SELECT score::text FROM items") == [("0.1",)]


@pytest.mark.parametrize("native", [True, False])
def test_postgres_timestamps_land_as_the_same_instants(
    tmp_path: Path, pg_url: str, native: bool
) -> None:
    rows = [(1, "a", 1, None, "2024-05-01T23:30:00.123+05:30", None, None)]
    source = source_db(tmp_path, rows)
    _, loaded = pg_load(tmp_path, source, pg_url, native)
    assert loaded[0][4] == datetime(2024, 5, 1, 18, 0, 0, 123000, tzinfo=UTC)


def test_postgres_rows_with_rowid_gaps_load_once_each_across_chunks(
    tmp_path: Path, pg_url: str, form: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 1000-row chunks over ids with holes (and a last, short chunk): no row lost or repeated.
    from ferry.native import stream as engine

    monkeypatch.setattr(engine, "CHUNK_BYTES", 1)
    ids = [i for i in range(1, 9000) if i % 7 and not 3000 < i < 5200]
    rows = [(i, f"n{i}", i * 2, i / 8, "2024-05-01T10:00:00Z", i % 2, None) for i in ids]
    source = source_db(tmp_path, rows)
    result, loaded = pg_load(tmp_path, source, pg_url, True)
    assert result.tables[0].mapped_by_sqlite == len(ids)
    assert [row[0] for row in loaded] == ids
    assert [row[2] for row in loaded] == [i * 2 for i in ids]


def test_postgres_chunks_of_gapless_rowids_leave_their_odd_rows_to_python(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Gapless rowids are read as spans of 1000 rowids from the first: rows Python maps at each
    # span's ends (and rowids from below zero, across it) are neither lost nor repeated.
    from ferry.native import stream as engine

    monkeypatch.setattr(engine, "CHUNK_BYTES", 1)
    ids = range(-1500, 2000)
    odd = {ids[k] for k in (0, 999, 1000, 1999, 2000, 2001, 3499)}
    rows = [
        (i, 42, i, 0.5, "2024-05-01T10:00:00+15:00", 1, b"x")
        if i in odd
        else (i, f"n{i}", i, 0.5, "2024-05-01T10:00:00Z", 1, b"x")
        for i in ids
    ]
    source = source_db(tmp_path, rows)
    native, native_rows = pg_load(tmp_path, source, pg_url, True)
    python, python_rows = pg_load(tmp_path, source, pg_url, False)
    assert native_rows == python_rows
    assert outcome(native) == outcome(python)
    assert native.tables[0].mapped_by_sqlite == len(ids) - len(odd)


def test_postgres_cancel_between_chunks_leaves_the_tables_empty(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ferry import Cancelled, CancelToken
    from ferry.events import TableProgress
    from ferry.native import stream as engine

    monkeypatch.setattr(engine, "CHUNK_BYTES", 1)
    source = source_db(tmp_path, [(i, f"n{i}", i, None, None, None, None) for i in range(1, 6001)])
    pg_exec(pg_url, "DROP TABLE IF EXISTS items", PG_TARGET)
    cancel = CancelToken()
    seen: list[int] = []

    def emit(event: Any) -> None:
        if isinstance(event, TableProgress):
            seen.append(event.rows_done)
            if len(seen) == 2:
                cancel.cancel()

    plan = plan_for(tmp_path, source, pg_url, True)
    with pytest.raises(Cancelled):
        asyncio.run(migrate(plan, emit=emit, cancel=cancel, write_reports=False))
    assert seen[:2] == [1000, 2000]
    assert pg_rows(pg_url, "SELECT count(*) FROM items") == [(0,)]


def test_postgres_text_ops_give_pythons_result(tmp_path: Path, pg_url: str, form: str) -> None:
    # No NUL (PostgreSQL text holds none) and no invalid text: those restart the table
    # staged, as for plain columns (the tests above).
    rows = [row for row in ops_rows(300) if not (isinstance(row[1], str) and "\x00" in row[1])]
    source = source_db(tmp_path, rows)
    columns = {"name": {"from": "name", "ops": ["trim", "lower"]}}
    native, native_rows = pg_load(tmp_path, source, pg_url, True, columns)
    python, python_rows = pg_load(tmp_path, source, pg_url, False, columns)
    assert native_rows == python_rows
    assert outcome(native) == outcome(python)
    assert 0 < native.tables[0].mapped_by_sqlite < len(rows)


def test_postgres_takes_invalid_utf8_as_the_python_mapping_does(
    tmp_path: Path, pg_url: str, form: str
) -> None:
    # Text goes to the server as the bytes SQLite holds: the server checks them, the refusal
    # restarts the table staged, and the Python mapping rejects the row by invalid_text.
    path = source_db(tmp_path, [(1, "fine", 1, None, None, None, None)])
    db = sqlite3.connect(path)
    with db:
        db.execute("INSERT INTO items (id, name) VALUES (2, CAST(X'FF41FE' AS TEXT))")
    db.close()
    native, native_rows = pg_load(tmp_path, path, pg_url, True)
    python, python_rows = pg_load(tmp_path, path, pg_url, False)
    assert native_rows == python_rows
    assert outcome(native) == outcome(python)
    assert [r.key for r in native.rejects] == ["id=2"]


# -- SQLite target: constraints, odd paths, WAL sources ----------------------------------------

CONSTRAINED_TARGET = (
    "CREATE TABLE parents (id INTEGER PRIMARY KEY);"
    "INSERT INTO parents VALUES (1), (2);"
    "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, "
    "n INTEGER REFERENCES parents (id), score REAL CHECK (score >= 0), at DATETIME, "
    "flag BOOLEAN, data BLOB)"
)


def constrained_load(folder: Path, source: Path, native: bool) -> Any:
    target = folder / f"target-{native}.db"
    target.unlink(missing_ok=True)
    db = sqlite3.connect(target)
    db.executescript(CONSTRAINED_TARGET)
    db.close()
    result = run(plan_for(folder, source, f"sqlite:///{target}", native))
    db = sqlite3.connect(target)
    try:
        return result, db.execute("SELECT * FROM items ORDER BY id").fetchall()
    finally:
        db.close()


def test_sqlite_target_constraint_failures_are_rejects_as_pythons(tmp_path: Path) -> None:
    rows = [(i, f"n{i}", 1 + i % 2, 0.5, None, None, None) for i in range(1, 41)]
    rows[4] = (5, None, 1, 0.5, None, None, None)  # NOT NULL
    rows[9] = (10, "n1", 1, 0.5, None, None, None)  # UNIQUE
    rows[14] = (15, "n15", 3, 0.5, None, None, None)  # FOREIGN KEY
    rows[19] = (20, "n20", 1, -1.0, None, None, None)  # CHECK
    source = source_db(tmp_path, rows)
    native, native_rows = constrained_load(tmp_path, source, True)
    python, python_rows = constrained_load(tmp_path, source, False)
    assert native_rows == python_rows
    assert outcome(native) == outcome(python)
    assert sorted(r.key for r in native.rejects) == ["id=10", "id=15", "id=20", "id=5"]


def test_sqlite_target_attaches_a_source_path_with_odd_characters(tmp_path: Path) -> None:
    folder = tmp_path / "app data ?#%&= é"
    folder.mkdir()
    source = source_db(folder, _rows(50))
    native, native_rows = sqlite_load(tmp_path, source, True)
    _, python_rows = sqlite_load(tmp_path, source, False)
    assert native.tables[0].mapped_by_sqlite > 0
    assert native_rows == python_rows


def test_sqlite_target_reads_a_wal_sources_committed_rows(tmp_path: Path) -> None:
    source = source_db(tmp_path, _rows(20))
    app = sqlite3.connect(source)  # the app keeps its connection: the WAL is not checkpointed
    app.execute("PRAGMA journal_mode = WAL")
    app.execute("PRAGMA wal_autocheckpoint = 0")
    with app:
        app.executemany(
            "INSERT INTO items (id, name) VALUES (?, ?)", [(i, f"wal {i}") for i in range(21, 31)]
        )
    try:
        native, native_rows = sqlite_load(tmp_path, source, True)
        python, python_rows = sqlite_load(tmp_path, source, False)
    finally:
        app.close()
    assert native.tables[0].mapped_by_sqlite > 0
    assert native_rows == python_rows
    assert native.tables[0].inserted == python.tables[0].inserted == 30 - native.tables[0].rejected
