"""Verification's fast path (ferry.verify.fast) against SQLite and PostgreSQL targets.

Each test migrates a SQLite source file for real, changes the target (or not), then verifies
twice: as Ferry does (the fast path first) and with the fast path switched off (the general
path alone). The two results must be identical, field by field — counts, checksums, listed
problems, verdict — and the ``fast`` step says whether the table was proven equal there
(``items: equal``) or handed to the general path (``items: to compare``).
"""

from __future__ import annotations

import asyncio
import math
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from ferry.errors import Cancelled
from ferry.events import CancelToken, Event, StepFinished, TableProgress
from ferry.migrate import migrate
from ferry.plan import Plan, load_plan
from ferry.verify.fast import FastPath
from ferry.verify.run import VerifyResult, verify

LEGACY_SCHEMA = (
    "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, qty INTEGER, "
    "price REAL, done BOOLEAN, at DATETIME, note TEXT, data BLOB)"
)
ROWS: list[tuple[Any, ...]] = [
    (1, "Nightly News", 3, 9.5, 1, "2024-05-01T10:00:00.123456+00:00", "", b"\x00\xff"),
    (2, "Café Société ✓ 🚀", None, 0.1, 0, "2024-05-01T12:00:00+02:00", None, None),
    (3, "Mañana", 0, -2.5, None, "2024-05-03T00:00:00Z", "n", b""),
    (4, "plain", -7, 1e300, 1, "2024-05-04 08:30:00.000001", "x", None),
    (5, "noon", 2**62, -0.0, 0, None, "it's", b"abc"),
]

TARGETS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)]


@pytest.fixture(params=TARGETS)
def url(request: pytest.FixtureRequest) -> str:
    if request.param == "sqlite":
        return "sqlite:///app.db"
    return str(request.getfixturevalue("pg_url"))


def write_source(folder: Path, rows: list[tuple[Any, ...]] = ROWS) -> None:
    conn = sqlite3.connect(folder / "legacy.db")
    try:
        conn.execute(LEGACY_SCHEMA)
        conn.executemany("INSERT INTO items VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
        conn.commit()
    finally:
        conn.close()


def legacy_plan(folder: Path, url: str, table_extra: str = "", more: str = "") -> Plan:
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / "legacy.db").exists():
        write_source(folder)
    (folder / "ferry.toml").write_text(
        f"""name = "fast"
[target]
url = "{url}"

[[sources]]
name = "legacy"
kind = "sqlite"
path = "legacy.db"

[[tables]]
name = "items"
source = "legacy.items"
{table_extra}
{more}
""",
        encoding="utf-8",
    )
    return load_plan(folder / "ferry.toml")


async def migrated(plan: Plan) -> Plan:
    result = await migrate(plan, write_reports=False)
    assert result.status == "completed"
    return plan


def change_target(plan: Plan, sql: str, params: tuple[Any, ...] = ()) -> None:
    url = plan.target.url
    if url.startswith("sqlite"):
        conn = sqlite3.connect(plan.base_dir / "app.db")
        try:
            conn.execute(sql.replace("%s", "?"), params)
            conn.commit()
        finally:
            conn.close()
    else:
        with psycopg.connect(url, autocommit=True) as pg:
            pg.execute(sql, params)  # type: ignore[arg-type]


def plain(result: VerifyResult) -> dict[str, Any]:
    """The result without what differs between two runs (ids and times)."""
    data = result.to_dict()
    for name in ("run_id", "started_at", "finished_at"):
        data.pop(name)
    return data


async def both_ways(plan: Plan, monkeypatch: pytest.MonkeyPatch) -> tuple[VerifyResult, str]:
    """Verify with the fast path and without; assert the results are identical; return the
    result and what the fast step said ("" when there was none)."""
    events: list[Event] = []
    fast = await verify(plan, emit=events.append, write_reports=False)
    with monkeypatch.context() as patch:

        async def nothing(*args: Any, **kwargs: Any) -> list[Any]:
            return []

        patch.setattr(FastPath, "prepare", nothing)
        general = await verify(plan, write_reports=False)
    assert plain(fast) == plain(general)
    steps = [e for e in events if isinstance(e, StepFinished) and e.step == "fast"]
    return fast, steps[0].detail if steps else ""


# -- equal tables: proven by the fast path -------------------------------------------------


async def test_an_equal_table_is_proven_by_the_fast_path(
    tmp_path: Path, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = await migrated(legacy_plan(tmp_path, url))
    events: list[Event] = []
    result = await verify(plan, emit=events.append, write_reports=False)
    steps = [e.step for e in events if isinstance(e, StepFinished)]
    assert steps == ["connect", "fast", "integrity"]  # nothing left to read or compare
    result, detail = await both_ways(plan, monkeypatch)
    assert detail == "items: equal"
    assert result.verdict == "PASS", result.to_dict()
    table = result.tables[0]
    assert (table.expected_rows, table.target_rows, table.matched) == (5, 5, 5)
    assert table.source_checksum == table.target_checksum != "0" * 32
    progress = {(e.table, e.rows_done) for e in events if isinstance(e, TableProgress)}
    assert progress == {("items", 5), ("items (target)", 5)}


async def test_another_spelling_of_the_same_time_in_a_sqlite_target_is_still_equal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = await migrated(legacy_plan(tmp_path, "sqlite:///app.db"))
    change_target(plan, "UPDATE items SET at = '2024-05-01T11:00:00+01:00' WHERE id = 2")
    result, detail = await both_ways(plan, monkeypatch)
    assert detail == "items: equal"
    assert result.verdict == "PASS"


async def test_an_empty_table_is_equal(
    tmp_path: Path, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    tmp_path.mkdir(exist_ok=True)
    write_source(tmp_path, [])
    plan = await migrated(legacy_plan(tmp_path, url))
    result, detail = await both_ways(plan, monkeypatch)
    assert detail == "items: equal"
    assert result.tables[0].source_checksum == "0" * 32


async def test_naive_times_are_utc_by_default_and_proven(
    tmp_path: Path, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    tmp_path.mkdir(exist_ok=True)
    write_source(tmp_path, [*ROWS, (6, "naive", 1, 1.0, 1, "2024-05-04T08:30:00", None, None)])
    plan = await migrated(legacy_plan(tmp_path, url))
    result, detail = await both_ways(plan, monkeypatch)
    assert detail == "items: equal"
    assert result.verdict == "PASS"


async def test_naive_times_in_another_zone_are_compared_generally(
    tmp_path: Path, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = await migrated(legacy_plan(tmp_path, url, more='[options]\ntimezone = "Europe/Berlin"'))
    result, detail = await both_ways(plan, monkeypatch)
    assert detail == "items: to compare"  # row 4 is naive: Python puts it in the zone
    assert result.verdict == "PASS"


async def test_a_wide_table_is_proven(
    tmp_path: Path, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """More columns than one SQL function call takes arguments."""
    tmp_path.mkdir(exist_ok=True)
    names = [f"c{i}" for i in range(130)]
    conn = sqlite3.connect(tmp_path / "legacy.db")
    try:
        conn.execute(f"CREATE TABLE items (id INTEGER PRIMARY KEY, {', '.join(names)})")
        for key in range(3):
            values = [None if (i + key) % 7 == 0 else f"v{i}-{key}" for i in range(130)]
            conn.execute(f"INSERT INTO items VALUES ({', '.join('?' * 131)})", [key, *values])
        conn.commit()
    finally:
        conn.close()
    plan = await migrated(legacy_plan(tmp_path, url))
    result, detail = await both_ways(plan, monkeypatch)
    assert detail == "items: equal"
    change_target(plan, "UPDATE items SET c129 = 'x' WHERE id = 1")
    result, detail = await both_ways(plan, monkeypatch)
    assert detail == "items: to compare"
    assert result.verdict == "FAIL"


# -- real differences: the general path decides, with its own result -----------------------

NEXT_AFTER = math.nextafter(9.5, math.inf)

CHANGES = [
    pytest.param("UPDATE items SET name = 'Nightly Newt' WHERE id = 1", (), "FAIL", id="changed"),
    pytest.param("DELETE FROM items WHERE id = 3", (), "FAIL", id="missing"),
    pytest.param(
        "INSERT INTO items (id, name) VALUES (99, 'the app''s own')", (), "PASS", id="extra"
    ),
    pytest.param("UPDATE items SET price = %s WHERE id = 1", (NEXT_AFTER,), "FAIL", id="float"),
    pytest.param(
        "UPDATE items SET at = '2024-05-01T12:00:00+01:00' WHERE id = 2", (), "FAIL", id="offset"
    ),
    pytest.param("UPDATE items SET note = NULL WHERE id = 1", (), "FAIL", id="empty-to-null"),
    pytest.param("UPDATE items SET note = '' WHERE id = 2", (), "FAIL", id="null-to-empty"),
    pytest.param("UPDATE items SET qty = 4 WHERE id = 1", (), "FAIL", id="integer"),
    pytest.param("UPDATE items SET done = NULL WHERE id = 1", (), "FAIL", id="boolean"),
]


@pytest.mark.parametrize(("sql", "params", "verdict"), CHANGES)
async def test_a_difference_goes_to_the_general_path(
    tmp_path: Path,
    url: str,
    monkeypatch: pytest.MonkeyPatch,
    sql: str,
    params: tuple[Any, ...],
    verdict: str,
) -> None:
    plan = await migrated(legacy_plan(tmp_path, url))
    change_target(plan, sql, params)
    result, detail = await both_ways(plan, monkeypatch)
    assert detail == "items: to compare"
    assert result.verdict == verdict, result.to_dict()


async def test_a_changed_blob_goes_to_the_general_path(
    tmp_path: Path, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = await migrated(legacy_plan(tmp_path, url))
    change_target(plan, "UPDATE items SET data = %s WHERE id = 3", (b"\x00",))
    result, detail = await both_ways(plan, monkeypatch)
    assert detail == "items: to compare"
    assert result.verdict == "FAIL"


# -- one difference among many rows: found, with its key --------------------------------------

LARGE_ROWS = 3000


def large_rows() -> list[tuple[Any, ...]]:
    """Rows whose times are all in the commonest UTC spelling (the one SQLite writes by one
    GLOB); row 1500's note is empty and row 1600's NULL."""
    rows: list[tuple[Any, ...]] = []
    for key in range(1, LARGE_ROWS + 1):
        at = f"2024-05-01T10:00:00.{key:06d}+00:00"
        note = "" if key == 1500 else None if key == 1600 else f"note {key}"
        rows.append((key, f"row {key}", key % 7, key / 8, key % 2, at, note, None))
    return rows


LARGE_CHANGES = [
    pytest.param(
        "UPDATE items SET name = 'row 1234!' WHERE id = 1234",
        "id=1234",
        "differs: name: source 'row 1234', target 'row 1234!'",
        id="one-value",
    ),
    pytest.param(
        "UPDATE items SET note = NULL WHERE id = 1500",
        "id=1500",
        "differs: note: source '', target NULL",
        id="empty-to-null",
    ),
    pytest.param(
        "UPDATE items SET note = '' WHERE id = 1600",
        "id=1600",
        "differs: note: source NULL, target ''",
        id="null-to-empty",
    ),
    pytest.param(
        "UPDATE items SET at = '2024-05-01T10:00:00.002501+00:00' WHERE id = 2500",
        "id=2500",
        "differs: at: source '2024-05-01T10:00:00.002500",
        id="one-microsecond",
    ),
    pytest.param(
        "DELETE FROM items WHERE id = 2999", "id=2999", "missing from the target", id="missing"
    ),
]


@pytest.mark.parametrize(("sql", "key", "problem"), LARGE_CHANGES)
async def test_one_difference_among_many_rows_is_found_with_its_key(
    tmp_path: Path,
    url: str,
    monkeypatch: pytest.MonkeyPatch,
    sql: str,
    key: str,
    problem: str,
) -> None:
    tmp_path.mkdir(exist_ok=True)
    write_source(tmp_path, large_rows())
    plan = await migrated(legacy_plan(tmp_path, url))
    result, detail = await both_ways(plan, monkeypatch)
    assert detail == "items: equal"
    change_target(plan, sql)
    result, detail = await both_ways(plan, monkeypatch)
    assert detail == "items: to compare"
    table = result.tables[0]
    assert result.verdict == "FAIL"
    assert table.matched == LARGE_ROWS - 1
    assert [m["key"] for m in table.mismatches] == [key]
    assert table.mismatches[0]["problem"].startswith(problem), table.mismatches


async def test_an_extra_row_among_many_is_counted_and_not_a_failure(
    tmp_path: Path, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The general path's rule: rows only the target holds are counted, never a failure."""
    tmp_path.mkdir(exist_ok=True)
    write_source(tmp_path, large_rows())
    plan = await migrated(legacy_plan(tmp_path, url))
    change_target(plan, "INSERT INTO items (id, name) VALUES (5000, 'the app''s own')")
    result, detail = await both_ways(plan, monkeypatch)
    assert detail == "items: to compare"
    table = result.tables[0]
    assert (table.matched, table.extra, table.missing, table.mismatched) == (LARGE_ROWS, 1, 0, 0)
    assert result.verdict == "PASS"


# -- rows SQL does not write as Python does ------------------------------------------------


async def test_a_row_the_mapping_rejects_goes_to_the_general_path(
    tmp_path: Path, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    tmp_path.mkdir(exist_ok=True)
    write_source(tmp_path, [*ROWS, (6, "bad time", 1, 1.0, 1, "not a time", None, None)])
    plan = await migrated(legacy_plan(tmp_path, url))
    result, detail = await both_ways(plan, monkeypatch)
    assert detail == "items: to compare"
    assert result.tables[0].rejected == 1


async def test_python_spellings_sql_leaves_to_python_are_compared_generally(
    tmp_path: Path, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An integer in a REAL column, a number in a timestamp column: Python maps them."""
    tmp_path.mkdir(exist_ok=True)
    write_source(tmp_path, [*ROWS, (6, "epoch", 1, 3, 1, 1714557600, None, None)])
    plan = await migrated(legacy_plan(tmp_path, url))
    result, detail = await both_ways(plan, monkeypatch)
    assert detail == "items: to compare"
    assert result.verdict == "PASS"


async def test_a_blob_of_utf8_in_a_text_column_is_its_text(
    tmp_path: Path, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    tmp_path.mkdir(exist_ok=True)
    write_source(tmp_path, [*ROWS, (6, "blob", 1, 1.0, 1, None, "café".encode(), None)])
    plan = await migrated(legacy_plan(tmp_path, url))
    result, detail = await both_ways(plan, monkeypatch)
    assert detail == "items: equal"
    assert result.verdict == "PASS"


async def test_a_blob_that_is_not_utf8_in_a_text_column_is_compared_generally(
    tmp_path: Path, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    tmp_path.mkdir(exist_ok=True)
    write_source(tmp_path, [*ROWS, (6, "blob", 1, 1.0, 1, None, b"\xff\xfe", None)])
    plan = await migrated(legacy_plan(tmp_path, url))
    result, detail = await both_ways(plan, monkeypatch)
    assert detail == "items: to compare"
    assert result.tables[0].rejected == 1


async def test_a_nul_character_in_text_is_part_of_the_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQL writes the whole text, NUL and what follows it, as Python reads it."""
    tmp_path.mkdir(exist_ok=True)
    write_source(tmp_path, [*ROWS, (6, "a\x00b", 1, 1.0, 1, None, "c\x00", None)])
    plan = await migrated(legacy_plan(tmp_path, "sqlite:///app.db"))
    result, detail = await both_ways(plan, monkeypatch)
    assert detail == "items: equal"
    assert result.verdict == "PASS"
    change_target(plan, "UPDATE items SET name = %s WHERE id = 6", ("a\x00c",))
    result, detail = await both_ways(plan, monkeypatch)
    assert detail == "items: to compare"
    assert result.verdict == "FAIL"


async def test_a_target_value_of_another_storage_class_goes_to_the_general_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = await migrated(legacy_plan(tmp_path, "sqlite:///app.db"))
    change_target(plan, "UPDATE items SET price = 3 WHERE id = 1")  # an integer, not 3.0
    result, detail = await both_ways(plan, monkeypatch)
    assert detail == "items: to compare"
    assert result.verdict == "FAIL"


# -- columns of several storage classes (types.v = "any", SQLite to SQLite) ------------------

MIXED_VALUES: list[Any] = [
    5, "five", 2.5, b"\x00\xff", None, "it's", "back\\slash", "Café ✓", "a\x00b", "\n", 0.1, -0.0,
    2**62, "", 1e300,
]  # fmt: skip


def mixed_plan(folder: Path) -> Plan:
    """A column with no declared type holding every storage class, copied as stored."""
    folder.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(folder / "legacy.db")
    try:
        conn.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, v)")
        conn.executemany("INSERT INTO items VALUES (?, ?)", enumerate(MIXED_VALUES, 1))
        conn.commit()
    finally:
        conn.close()
    return legacy_plan(folder, "sqlite:///app.db", 'types.v = "any"')


async def test_values_of_several_storage_classes_are_proven_by_the_fast_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = await migrated(mixed_plan(tmp_path))
    result, detail = await both_ways(plan, monkeypatch)
    assert detail == "items: equal"
    assert result.verdict == "PASS"
    assert result.tables[0].matched == len(MIXED_VALUES)


@pytest.mark.parametrize(
    ("sql", "key", "problem"),
    [
        ("UPDATE items SET v = '5' WHERE id = 1", "id=1", "differs: v: source 5 (integer), "
            "target '5' (text)"),
        ("UPDATE items SET v = 5.0 WHERE id = 1", "id=1", "differs: v: source 5 (integer), "
            "target 5.0 (real)"),
        ("UPDATE items SET v = CAST('five' AS BLOB) WHERE id = 2", "id=2",
            "differs: v: source 'five' (text), target x'66697665' (blob)"),
        ("UPDATE items SET v = 'it''s!' WHERE id = 6", "id=6", "differs: v: source \"it's\""),
    ],
)  # fmt: skip
async def test_a_value_of_another_class_is_found_by_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sql: str, key: str, problem: str
) -> None:
    plan = await migrated(mixed_plan(tmp_path))
    change_target(plan, sql)
    result, detail = await both_ways(plan, monkeypatch)
    assert detail == "items: to compare"
    assert result.verdict == "FAIL"
    assert [m["key"] for m in result.tables[0].mismatches] == [key]
    assert result.tables[0].mismatches[0]["problem"].startswith(problem)


# -- tables the fast path leaves alone -----------------------------------------------------


async def test_a_transformed_column_is_not_tried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = await migrated(
        legacy_plan(
            tmp_path, "sqlite:///app.db", 'columns.name = { from = "name", ops = ["upper"] }'
        )
    )
    result, detail = await both_ways(plan, monkeypatch)
    assert detail == ""
    assert result.verdict == "PASS"


async def test_two_specs_feeding_one_table_are_not_tried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = await migrated(
        legacy_plan(
            tmp_path,
            "sqlite:///app.db",
            more='[[tables]]\nname = "items"\nsource = "legacy.items"\nconflict = "insert"',
        )
    )
    result, detail = await both_ways(plan, monkeypatch)
    assert detail == ""
    assert result.verdict == "PASS"


async def test_a_key_that_is_not_the_primary_key_is_not_tried(
    tmp_path: Path, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a primary key on the plan's key, target keys could repeat."""
    (tmp_path / "schema.sql").write_text(
        "CREATE TABLE items (id BIGINT PRIMARY KEY, name TEXT NOT NULL, qty BIGINT, "
        "price DOUBLE PRECISION, done BOOLEAN, at TIMESTAMP, note TEXT, data BYTEA);\n"
        if "postgresql" in url
        else LEGACY_SCHEMA.replace("INTEGER PRIMARY KEY", "BIGINT PRIMARY KEY") + ";\n",
        encoding="utf-8",
    )
    plan = legacy_plan(tmp_path, url, 'key = ["name"]')
    text = (tmp_path / "ferry.toml").read_text(encoding="utf-8")
    text = text.replace("[target]\n", '[target]\nschema = "schema.sql"\n')
    (tmp_path / "ferry.toml").write_text(text, encoding="utf-8")
    plan = await migrated(load_plan(tmp_path / "ferry.toml"))
    result, detail = await both_ways(plan, monkeypatch)
    assert detail == ""
    assert result.verdict == "PASS", result.to_dict()


async def test_a_key_holding_the_primary_key_is_tried(
    tmp_path: Path, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = await migrated(legacy_plan(tmp_path, url, 'key = ["id", "name"]'))
    result, detail = await both_ways(plan, monkeypatch)
    assert detail == "items: equal"
    assert result.verdict == "PASS"


PG_SCHEMA = (
    "CREATE TABLE items (id INTEGER PRIMARY KEY, name VARCHAR(100) NOT NULL, qty BIGINT, "
    "price {price}, done BOOLEAN, at TIMESTAMP, note TEXT, data BYTEA);\n"
)


def with_schema(folder: Path, url: str, schema: str) -> Plan:
    (folder / "schema.sql").write_text(schema, encoding="utf-8")
    legacy_plan(folder, url)
    text = (folder / "ferry.toml").read_text(encoding="utf-8")
    text = text.replace("[target]\n", '[target]\nschema = "schema.sql"\n')
    (folder / "ferry.toml").write_text(text, encoding="utf-8")
    return load_plan(folder / "ferry.toml")


@pytest.mark.pg
async def test_postgres_column_types_of_the_app_schema_are_proven(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """varchar, int4, timestamp without time zone, as an app's own schema has them."""
    plan = await migrated(with_schema(tmp_path, pg_url, PG_SCHEMA.format(price="DOUBLE PRECISION")))
    result, detail = await both_ways(plan, monkeypatch)
    assert detail == "items: equal"
    assert result.verdict == "PASS", result.to_dict()


@pytest.mark.pg
async def test_a_row_the_database_rejected_goes_to_the_general_path(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """2**62 does not fit PostgreSQL's integer: the run journaled the row as rejected."""
    schema = PG_SCHEMA.format(price="DOUBLE PRECISION").replace("qty BIGINT", "qty INTEGER")
    plan = await migrated(with_schema(tmp_path, pg_url, schema))
    result, detail = await both_ways(plan, monkeypatch)
    assert detail == "items: to compare"
    assert (result.verdict, result.tables[0].rejected) == ("PASS", 1), result.to_dict()


@pytest.mark.pg
async def test_a_postgres_real_column_is_not_tried(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Single precision is rounded on both sides by Python only."""
    plan = await migrated(with_schema(tmp_path, pg_url, PG_SCHEMA.format(price="REAL")))
    result, detail = await both_ways(plan, monkeypatch)
    assert detail == ""
    assert result.verdict == "PASS", result.to_dict()


# -- cancel ----------------------------------------------------------------------------------


@pytest.fixture
def temp_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    yield folder


async def test_cancel_during_the_fast_path_stops_the_run(tmp_path: Path, temp_folder: Path) -> None:
    plan = await migrated(legacy_plan(tmp_path / "run", "sqlite:///app.db"))
    cancel = CancelToken()

    def emit(event: Event) -> None:
        if isinstance(event, TableProgress):
            cancel.cancel()

    with pytest.raises(Cancelled):
        await verify(plan, emit=emit, cancel=cancel, write_reports=False)
    await asyncio.sleep(0)
    assert list(temp_folder.iterdir()) == []
