"""Capabilities instead of dialect checks (:mod:`ferry.capabilities`).

Outside ``ferry/sources/`` and ``ferry/targets/`` no module tests a dialect's name or a
reader's or target's class: the orchestrators read ``capabilities`` and dialect SQL is a
method of the target. And each concrete target and source declares what it can do as it
really does it: on real SQLite files and the real PostgreSQL server.
"""

from __future__ import annotations

import ast
import asyncio
import json
import sqlite3
from pathlib import Path

import pytest

from ferry.capabilities import SourceCapabilities, TargetCapabilities
from ferry.plan import SourceSpec, TargetSpec
from ferry.sources import SourceReader, open_source
from ferry.sources.postgres import PostgresSource
from ferry.sources.sqlite import SqliteSource
from ferry.targets import Target, open_target
from ferry.targets.postgres import PostgresTarget
from ferry.targets.sqlite import SqliteTarget
from ferry.values.epochs import find_numbers

ROOT = Path(__file__).resolve().parents[2]
SCANNED = [ROOT / "core" / "ferry", ROOT / "gui" / "ferry_gui"]
#: where dialect checks belong: the dialects themselves
DIALECT_PACKAGES = ("core/ferry/sources/", "core/ferry/targets/")
#: modules allowed to test a dialect anyway (none: the run reads capabilities too since its
#: rewrite onto load decisions)
ALLOWED: set[str] = set()
DIALECT_CLASSES = {"SqliteSource", "PostgresSource", "SqliteTarget", "PostgresTarget"}


def _names(node: ast.AST) -> set[str]:
    """Every class name a node spells (``SqliteSource``, ``sqlite.SqliteSource``)."""
    found = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            found.add(sub.id)
        elif isinstance(sub, ast.Attribute):
            found.add(sub.attr)
    return found


def _is_dialect_name(node: ast.AST) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == "dialect_name") or (
        isinstance(node, ast.Name) and node.id == "dialect_name"
    )


def dialect_checks(source: str) -> list[tuple[int, str]]:
    """``(line, what)`` of each test of a dialect's name or class in ``source``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            compares = (ast.Eq, ast.NotEq, ast.In, ast.NotIn)
            if any(_is_dialect_name(s) for s in sides) and any(
                isinstance(op, compares) for op in node.ops
            ):
                found.append((node.lineno, "compares dialect_name"))
            typed = any(
                isinstance(s, ast.Call) and isinstance(s.func, ast.Name) and s.func.id == "type"
                for s in sides
            )
            identity = any(isinstance(op, ast.Is | ast.IsNot | ast.Eq) for op in node.ops)
            if typed and identity and _names(node) & DIALECT_CLASSES:
                found.append((node.lineno, "type(...) is a dialect class"))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("isinstance", "issubclass")
            and len(node.args) == 2
            and _names(node.args[1]) & DIALECT_CLASSES
        ):
            found.append((node.lineno, "isinstance against a dialect class"))
    return sorted(found)


def test_the_scan_finds_each_kind_of_dialect_check() -> None:
    source = (
        "if target.dialect_name == 'sqlite': pass\n"
        "if dialect_name != 'postgresql': pass\n"
        "if t.dialect_name in ('sqlite',): pass\n"
        "if isinstance(reader, (SqliteSource, int)): pass\n"
        "if type(reader) is not sqlite.SqliteSource: pass\n"
        "if target.capabilities.attaches_sqlite: pass\n"
        "message = f'{target.dialect_name} stores typed values'\n"
    )
    assert [line for line, _ in dialect_checks(source)] == [1, 2, 3, 4, 5]


def test_no_orchestrator_tests_a_dialect_name_or_class() -> None:
    problems = []
    for folder in SCANNED:
        for path in sorted(folder.rglob("*.py")):
            where = path.relative_to(ROOT).as_posix()
            if where.startswith(DIALECT_PACKAGES) or where in ALLOWED:
                continue
            for line, what in dialect_checks(path.read_text(encoding="utf-8")):
                problems.append(f"{where}:{line}: {what}")
    assert problems == [], (
        "read target.capabilities / reader.capabilities, or make the dialect SQL a method of "
        "the target:\n" + "\n".join(problems)
    )


def test_each_concrete_dialect_declares_its_own_capabilities() -> None:
    for cls in (SqliteTarget, PostgresTarget):
        assert isinstance(cls.__dict__.get("capabilities"), TargetCapabilities), cls
    for reader in (SqliteSource, PostgresSource):
        assert isinstance(reader.__dict__.get("capabilities"), SourceCapabilities), reader


# -- targets, on the real databases -----------------------------------------------------------


def _run(coro_fn, target: Target):  # type: ignore[no-untyped-def]
    """Open ``target``, run ``coro_fn(target)``, roll back and close."""

    async def go():  # type: ignore[no-untyped-def]
        await target.open()
        try:
            return await coro_fn(target)
        finally:
            await target.finish(commit=False)

    return asyncio.run(go())


def _source_file(path: Path) -> Path:
    with sqlite3.connect(path) as conn:
        conn.executescript(
            "CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT, at TIMESTAMP);"
            "INSERT INTO item VALUES (1, 'one', 1700000000), (2, 'two', '2024-05-01');"
        )
    conn.close()
    return path


def test_sqlite_target_does_what_its_capabilities_say(tmp_path: Path) -> None:
    target = open_target(TargetSpec(url="sqlite:///target.db"), tmp_path)
    caps = target.capabilities
    assert caps == SqliteTarget.capabilities
    source = _source_file(tmp_path / "source.db")
    assert caps.created_by_opening and target.file_missing()

    async def probe(t: Target) -> None:
        # created_by_opening: the file the target is did not exist, opening made it
        assert t.database_file() == tmp_path / "target.db"
        assert (tmp_path / "target.db").exists() and not t.file_missing()
        assert "SQLite " in await t.server_version()
        # attaches_sqlite: a real source file is attached and read in the target's engine
        assert caps.attaches_sqlite
        schema = await t.attach(source)
        assert await t.scalar(f"SELECT count(*) FROM {schema}.item", "counting") == 2
        # binary_copy off: no binary encoder
        assert not caps.binary_copy and await t.binary_encoder(["int8"]) is None
        await t.execute("CREATE TABLE Parent (id INTEGER PRIMARY KEY)", "parent")
        await t.execute(
            "CREATE TABLE child (id INTEGER PRIMARY KEY, p INTEGER REFERENCES Parent(id))",
            "child",
        )
        # case_blind_names: a name is found whatever its case
        assert caps.case_blind_names
        assert await t.relation_exists("PARENT") and not await t.relation_exists("nothing")
        assert ("Parent", "table") in await t.names_taken()
        # defers_cyclic_references: the target defers its checks to commit, and has its own
        assert caps.defers_cyclic_references
        await t.defer_references()
        assert await t.scalar("PRAGMA defer_foreign_keys", "reading") == 1
        await t.execute("INSERT INTO child VALUES (1, 9)", "an orphan")
        assert await t.reference_violations("child") == 1
        # sqlite_collations: a created text column keeps COLLATE NOCASE
        privileges = await t.privileges([])
        assert [p.ok for p in privileges] == [True]
        assert await t.user_sql_value("SELECT count(*) FROM child") == 1
        assert not caps.citext and not await t.has_extension("citext")
        # sqlite_triggers: a trigger dropped and created again inside the run's transaction
        assert caps.sqlite_triggers
        await t.execute("CREATE TRIGGER stamp AFTER INSERT ON Parent BEGIN SELECT 1; END", "t")
        await t.execute("DROP TRIGGER main.stamp", "setting it aside")
        await t.execute("INSERT INTO Parent VALUES (1)", "a write that fires nothing")
        await t.execute("CREATE TRIGGER stamp AFTER INSERT ON Parent BEGIN SELECT 1; END", "t")
        assert await t.scalar("SELECT count(*) FROM sqlite_master WHERE type = 'trigger'", "") == 1
        # nulls_sort_first: an ascending ORDER BY puts NULL first
        first = "SELECT v FROM (SELECT 1 AS v UNION ALL SELECT NULL) ORDER BY v LIMIT 1"
        assert caps.nulls_sort_first and await t.scalar(first, "NULL's place") is None

    _run(probe, target)
    assert not caps.binary_json and not caps.sums_row_hashes and not caps.table_fingerprints
    assert not caps.returning_writes
    assert caps.stores_value_text and caps.sqlite_collations and caps.max_identifier_bytes == 0


def test_postgres_target_does_what_its_capabilities_say(tmp_path: Path, pg_url: str) -> None:
    target = open_target(TargetSpec(url=pg_url), tmp_path)
    caps = target.capabilities
    assert caps == PostgresTarget.capabilities

    async def probe(t: Target) -> None:
        assert t.database_file() is None and not caps.created_by_opening
        assert not t.file_missing()
        assert (await t.server_version()).startswith("PostgreSQL ")
        # binary_copy: an encoder whose bytes the server takes as a binary COPY
        assert caps.binary_copy
        encode = await t.binary_encoder(["int8", "text"])
        assert encode is not None
        await t.execute("CREATE TABLE item (id bigint PRIMARY KEY, name text)", "item")
        raw = await t.conn.get_raw_connection()
        driver = raw.driver_connection
        assert driver is not None
        async with (
            driver.cursor() as cursor,
            cursor.copy("COPY item FROM STDIN (FORMAT BINARY)") as copy,
        ):
            await copy.write(bytes(encode([(1, "one"), (2, "two")])))
        assert await t.scalar("SELECT string_agg(name, ',' ORDER BY id) FROM item", "x") == (
            "one,two"
        )
        # attaches no SQLite file
        assert not caps.attaches_sqlite
        with pytest.raises(NotImplementedError):
            await t.attach(tmp_path / "none.db")
        # max_identifier_bytes: the server cuts a longer name to exactly that many bytes
        cut = await t.scalar("SELECT octet_length(repeat('é', 40)::name)", "a long name")
        assert caps.max_identifier_bytes == 63 and cut in (62, 63)
        # names are compared as spelled (not case_blind_names)
        assert not caps.case_blind_names
        assert await t.relation_exists("item") and not await t.relation_exists("ITEM")
        assert ("item", "table") in await t.names_taken()
        assert ("item_pkey", "index") in await t.names_taken()
        # citext: the target can look the extension up (plpgsql is always there)
        assert caps.citext and await t.has_extension("plpgsql")
        # sums_row_hashes: the server sums row MD5s itself
        assert caps.sums_row_hashes
        assert await t.scalar("SELECT md5('x')", "md5") == "9dd4e461268c8034f5c8564e155c67a6"
        # user SQL reaches the server as written (a % is not a parameter marker)
        assert await t.user_sql_value("SELECT count(*) FROM item WHERE name LIKE 'o%'") == 1
        assert await t.reference_violations("item") is None
        assert all(p.ok for p in await t.privileges(["item"]))
        with pytest.raises(NotImplementedError):
            await t.defer_references()
        # returning_writes: a statement writes inside WITH and reads what it wrote
        assert caps.returning_writes
        written = (
            "WITH w AS (INSERT INTO item VALUES (3, 'three') RETURNING id) SELECT sum(id) FROM w"
        )
        assert await t.scalar(written, "a write in WITH") == 3
        # not nulls_sort_first: an ascending ORDER BY puts NULL last
        first = "SELECT v FROM (VALUES (1), (NULL)) AS p(v) ORDER BY v LIMIT 1"
        assert not caps.nulls_sort_first and await t.scalar(first, "NULL's place") == 1

    _run(probe, target)
    assert caps.binary_json and caps.schemas and caps.sequences_lag_ids
    assert caps.table_fingerprints and not caps.stores_value_text and not caps.sqlite_collations
    assert not caps.sqlite_triggers  # PL/pgSQL, not SQLite trigger bodies


# -- sources ------------------------------------------------------------------------------------


def _read_only(reader: SourceReader, path: Path) -> None:
    before = path.read_bytes()
    reader.describe()
    list(reader.batches(100))
    reader.close()
    assert path.read_bytes() == before


def test_sqlite_source_does_what_its_capabilities_say(tmp_path: Path) -> None:
    path = _source_file(tmp_path / "app.db")
    reader = open_source(SourceSpec(name="app", kind="sqlite", path="app.db"), tmp_path)
    caps = reader.capabilities
    assert caps.sqlite_file and caps.skips_tables and caps.rowid_chunks and caps.read_only_open
    assert caps.answers_sql and caps.samples_columns and not caps.parses_in_python
    try:
        (table,) = reader.describe()
        assert reader.query_one("SELECT count(*) FROM item", (), "item") == (2,)
        # rowid_chunks: rows carry SQLite's rowid
        rowids = reader.query_all("SELECT rowid FROM item ORDER BY rowid", (), "item")
        assert rowids == [(1,), (2,)]
        # samples_columns: the date/time column holding a number is found by SQL
        assert [f.column for f in find_numbers(reader, table)] == ["at"]
    finally:
        reader.close()
    _read_only(open_source(SourceSpec(name="app", kind="sqlite", path="app.db"), tmp_path), path)


def test_postgres_source_does_what_its_capabilities_say(tmp_path: Path, pg_url: str) -> None:
    import psycopg

    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE item (id bigint PRIMARY KEY, name text)")
        conn.execute("INSERT INTO item VALUES (1, 'one')")
    reader = open_source(SourceSpec(name="db", kind="postgres", url=pg_url), tmp_path)
    caps = reader.capabilities
    assert caps.answers_sql and caps.read_only_open
    assert not (caps.sqlite_file or caps.rowid_chunks or caps.samples_columns)
    try:
        assert [t.name for t in reader.describe()] == ["db.item"]
        assert reader.query_one("SELECT count(*) FROM item", (), "item") == (1,)
    finally:
        reader.close()


def test_a_file_source_parses_in_python_and_answers_no_sql(tmp_path: Path) -> None:
    path = tmp_path / "items.json"
    path.write_text(json.dumps([{"id": 1, "name": "one"}]), encoding="utf-8")
    reader = open_source(SourceSpec(name="items", kind="json", path="items.json"), tmp_path)
    caps = reader.capabilities
    assert caps.parses_in_python and caps.read_only_open
    assert not (caps.answers_sql or caps.sqlite_file or caps.samples_columns)
    with pytest.raises(NotImplementedError):
        reader.query_all("SELECT 1", (), "items")
    _read_only(reader, path)
