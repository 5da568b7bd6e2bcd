"""A date and time without a zone stays without a zone (logical type ``datetime``).

A PostgreSQL ``timestamp without time zone`` column is carried as one; a SQLite DATETIME
column whose values all lack an offset (an ORM's naive ``DateTime()``) becomes one on
PostgreSQL; values keep their wall time whatever the target session's TimeZone says; an
offset arriving in such a column is converted to the plan's zone with a warning naming the
row. Real SQLite files and a real PostgreSQL server (targets set to America/New_York).
"""

from __future__ import annotations

import asyncio
import sqlite3
import tomllib
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner, Result
from pgkit import migrated, pg_exec, pg_rows, settled
from sqlalchemy import DateTime, Integer, String, create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from ferry.cli.command import cli
from ferry.migrate import migrate
from ferry.plan import load_plan, plan_from_dict
from ferry.verify.run import verify

pytestmark = pytest.mark.pg

#: what SQLAlchemy's naive DateTime() writes into SQLite
NAIVE = ["2026-12-07 01:09:52.897958", "2026-12-07 23:30:00.000001", "1999-01-01 00:00:00.000000"]
ZONE = "America/New_York"


class Base(DeclarativeBase):
    pass


class Run(Base):
    """The app's model: SQLAlchemy's DateTime() is naive."""

    __tablename__ = "runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    started: Mapped[datetime] = mapped_column(DateTime())
    name: Mapped[str] = mapped_column(String)


def ferry(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


def in_zone(url: str) -> None:
    """The target database's sessions (the app's) in New York, not UTC."""
    name = psycopg.conninfo.conninfo_to_dict(url)["dbname"]
    pg_exec(url, f"ALTER DATABASE {name} SET timezone = '{ZONE}'")


def sqlite_app(folder: Path, times: list[str]) -> Path:
    """An optuna-like SQLite store: a SQLAlchemy table with a naive DATETIME column."""
    path = folder / "app.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE runs (id INTEGER NOT NULL PRIMARY KEY, started DATETIME, name TEXT)")
    with db:
        db.executemany(
            "INSERT INTO runs VALUES (?, ?, ?)", [(i, t, f"r{i}") for i, t in enumerate(times, 1)]
        )
    db.close()
    return path


def drafted(folder: Path, source: str | Path, url: str) -> Path:
    plan = folder / "ferry.toml"
    result = ferry("init", source, "--target", url, "-o", plan)
    assert result.exit_code == 0, result.output
    return plan


def table_of(plan: Path, name: str) -> dict[str, Any]:
    return next(t for t in tomllib.loads(plan.read_text())["tables"] if t["name"] == name)


def column_type(url: str, table: str, column: str) -> str:
    rows = pg_rows(
        url,
        "SELECT data_type FROM information_schema.columns "
        f"WHERE table_name = '{table}' AND column_name = '{column}'",
    )
    return str(rows[0][0])


def app_rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    """Rows as the app reads them: a session in the database's own TimeZone (New York)."""
    with psycopg.connect(url, autocommit=True) as conn:
        assert conn.execute("SHOW timezone").fetchone() == (ZONE,)
        return conn.execute(sql).fetchall()  # type: ignore[arg-type]


# -- SQLite (naive values) -> PostgreSQL -------------------------------------------------------


def test_init_drafts_datetime_for_naive_sqlite_values(tmp_path: Path, pg_url: str) -> None:
    plan = drafted(tmp_path, sqlite_app(tmp_path, NAIVE), pg_url)
    table = table_of(plan, "runs")
    assert table["types"]["started"] == "datetime"
    assert any("3 values, none with an offset" in note for note in table["notes"])


def test_init_asks_about_an_empty_date_time_column(tmp_path: Path, pg_url: str) -> None:
    """No values to judge by (optuna's trial_heartbeats): the draft keeps an instant and its
    note asks the operator, naming the spelling that keeps the app's naive times."""
    table = table_of(drafted(tmp_path, sqlite_app(tmp_path, []), pg_url), "runs")
    assert table["types"]["started"] == "timestamp"
    assert any(
        "holds no values to tell whether the app writes a zone" in note
        and 'types.started = "datetime"' in note
        for note in table["notes"]
    )


def app_with_an_empty_column(folder: Path, *, zoned: bool = False) -> Path:
    """``runs.started`` holds naive times; ``runs.ended`` (DATETIME too) holds nothing yet;
    with ``zoned``, ``runs.due`` holds times with an offset."""
    path = sqlite_app(folder, NAIVE)
    db = sqlite3.connect(path)
    db.execute("ALTER TABLE runs ADD COLUMN ended DATETIME")
    if zoned:
        db.execute("ALTER TABLE runs ADD COLUMN due DATETIME")
        with db:
            db.execute("UPDATE runs SET due = '2026-12-07T01:09:52+02:00'")
    db.close()
    return path


def test_an_empty_column_follows_the_databases_naive_ones(tmp_path: Path, pg_url: str) -> None:
    """JupyterHub's shape: some DATETIME columns hold naive values, others none yet."""
    table = table_of(drafted(tmp_path, app_with_an_empty_column(tmp_path), pg_url), "runs")
    assert table["types"]["ended"] == "datetime"
    assert any(
        "'ended' holds no values yet; drafted without a zone" in note
        and "runs.started: none with an offset" in note
        for note in table["notes"]
    )


def test_an_empty_column_still_asks_where_another_has_offsets(tmp_path: Path, pg_url: str) -> None:
    source = app_with_an_empty_column(tmp_path, zoned=True)
    table = table_of(drafted(tmp_path, source, pg_url), "runs")
    assert table["types"]["ended"] == "timestamp"
    assert any("'ended' (DATETIME) holds no values to tell" in n for n in table["notes"])


def test_init_into_sqlite_asks_nothing_about_zones(tmp_path: Path) -> None:
    plan = tmp_path / "ferry.toml"
    result = ferry("init", sqlite_app(tmp_path, []), "-o", plan)
    assert result.exit_code == 0, result.output
    assert not any("zone" in note for note in table_of(plan, "runs").get("notes", []))


def test_init_keeps_timestamp_for_values_with_offsets(tmp_path: Path, pg_url: str) -> None:
    source = sqlite_app(tmp_path, ["2026-12-07 01:09:52", "2026-12-07T01:09:52+02:00"])
    plan = drafted(tmp_path, source, pg_url)
    assert table_of(plan, "runs")["types"]["started"] == "timestamp"
    migrated(load_plan(plan))
    assert column_type(pg_url, "runs", "started") == "timestamp with time zone"


def test_naive_values_keep_their_wall_time_in_another_session_zone(
    tmp_path: Path, pg_url: str
) -> None:
    in_zone(pg_url)
    result = migrated(load_plan(drafted(tmp_path, sqlite_app(tmp_path, NAIVE), pg_url)))
    assert result.tables[0].inserted == 3
    assert column_type(pg_url, "runs", "started") == "timestamp without time zone"
    rows = app_rows(pg_url, "SELECT started FROM runs ORDER BY id")
    assert [r[0] for r in rows] == [datetime.fromisoformat(t) for t in NAIVE]


def test_a_sqlalchemy_app_compares_and_inserts_after_the_move(tmp_path: Path, pg_url: str) -> None:
    """The app's naive DateTime() model reads a row, compares it with utcnow() and inserts a
    row without an id (the target's identity fills it)."""
    in_zone(pg_url)
    migrated(load_plan(drafted(tmp_path, sqlite_app(tmp_path, NAIVE), pg_url)))
    engine = create_engine(pg_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with Session(engine) as session:
            first = session.scalars(select(Run).order_by(Run.id)).first()
            assert first is not None
            assert first.started < datetime.utcnow()  # the app's own call
            session.add(Run(started=datetime(2027, 1, 2, 3, 4, 5), name="new"))
            session.commit()
            added = session.scalars(select(Run).where(Run.name == "new")).one()
            assert (added.id, added.started) == (4, datetime(2027, 1, 2, 3, 4, 5))
    finally:
        engine.dispose()


def test_verify_passes_on_naive_values(tmp_path: Path, pg_url: str) -> None:
    in_zone(pg_url)
    plan = load_plan(drafted(tmp_path, sqlite_app(tmp_path, NAIVE), pg_url))
    migrated(plan)
    assert asyncio.run(verify(plan, write_reports=False)).verdict == "PASS"


def test_verify_catches_a_changed_naive_value(tmp_path: Path, pg_url: str) -> None:
    in_zone(pg_url)
    plan = load_plan(drafted(tmp_path, sqlite_app(tmp_path, NAIVE), pg_url))
    migrated(plan)
    pg_exec(pg_url, "UPDATE runs SET started = started + interval '1 microsecond' WHERE id = 2")
    result = asyncio.run(verify(plan, write_reports=False))
    assert result.verdict == "FAIL"
    assert result.tables[0].mismatched == 1


def test_a_rerun_of_unchanged_naive_values_changes_nothing(tmp_path: Path, pg_url: str) -> None:
    in_zone(pg_url)
    plan = load_plan(drafted(tmp_path, sqlite_app(tmp_path, NAIVE), pg_url))
    migrated(plan)
    again = migrated(plan)
    table = again.tables[0]
    assert (table.unchanged, table.inserted, table.updated) == (3, 0, 0)


def test_a_rerun_with_row_prints_finds_naive_rows_unchanged(tmp_path: Path, pg_url: str) -> None:
    """The delta path (row prints of the last run) reads an unchanged naive row as unchanged,
    and a changed one as changed."""
    in_zone(pg_url)
    source = sqlite_app(tmp_path, NAIVE)
    plan_file = drafted(tmp_path, source, pg_url)
    plan_file.write_text(plan_file.read_text() + "\n[options]\nrow_prints = true\n")
    plan = load_plan(plan_file)
    migrated(plan)
    migrated(plan)  # the first run with prints to compare against
    db = sqlite3.connect(source)
    with db:
        db.execute("UPDATE runs SET started = '2026-12-07 01:09:52.897959' WHERE id = 1")
    db.close()
    again = migrated(plan).tables[0]
    assert again.decision is not None and again.decision.mode == "delta"
    assert (again.updated, again.unchanged) == (1, 2)
    assert app_rows(pg_url, "SELECT started FROM runs WHERE id = 1") == [
        (datetime(2026, 12, 7, 1, 9, 52, 897959),)
    ]


def test_cast_datetime_reads_text_as_a_wall_time(tmp_path: Path, pg_url: str) -> None:
    """``cast = "datetime"`` on a JSON field: a created timestamp-without-time-zone column."""
    in_zone(pg_url)
    (tmp_path / "beats.json").write_text(
        '[{"id": 1, "at": "2026-12-07T10:00:00"}, {"id": 2, "at": "2026-12-07 23:59:59.5"}]'
    )
    plan = plan_from_dict(
        {
            "name": "cast",
            "target": {"url": pg_url},
            "sources": [{"name": "beats", "kind": "json", "path": "beats.json"}],
            "tables": [
                {
                    "name": "beats",
                    "source": "beats",
                    "key": ["id"],
                    "columns": {"at": {"from": "at", "cast": "datetime"}},
                }
            ],
            "options": {"timezone": "Asia/Tokyo"},
        },
        tmp_path,
    )
    migrated(plan)
    assert column_type(pg_url, "beats", "at") == "timestamp without time zone"
    assert app_rows(pg_url, "SELECT at FROM beats ORDER BY id") == [
        (datetime(2026, 12, 7, 10),),
        (datetime(2026, 12, 7, 23, 59, 59, 500000),),
    ]


def test_an_offset_in_a_naive_column_is_converted_with_a_warning(
    tmp_path: Path, pg_url: str
) -> None:
    in_zone(pg_url)
    source = sqlite_app(tmp_path, ["2026-12-07 10:00:00", "2026-12-07T10:00:00+02:00"])
    plan = plan_from_dict(
        {
            "name": "wall",
            "target": {"url": pg_url},
            "sources": [{"name": "app", "kind": "sqlite", "path": str(source)}],
            "tables": [{"name": "runs", "source": "app.runs", "types": {"started": "datetime"}}],
            "options": {"timezone": "Europe/Paris"},
        },
        tmp_path,
    )
    result = migrated(plan)
    rows = app_rows(pg_url, "SELECT id, started FROM runs ORDER BY id")
    # the naive value as written; 10:00+02:00 is 09:00 in Paris in December
    assert rows == [(1, datetime(2026, 12, 7, 10)), (2, datetime(2026, 12, 7, 9))]
    assert [w for w in result.warnings if "offset" in w] == [
        "runs: row id=2, column 'started': 2026-12-07T10:00:00+02:00 has an offset, which a "
        "column without a time zone cannot keep: stored as 2026-12-07T09:00:00 (Europe/Paris)"
    ]


def test_rollback_brings_naive_values_back_as_they_were(tmp_path: Path, pg_url: str) -> None:
    """The app's own table (naive column, New York sessions) changed by a run, then rolled
    back from the backup: every wall time as before."""
    from ferry.backup.create import create_backup
    from ferry.rollback import rollback

    in_zone(pg_url)
    pg_exec(
        pg_url,
        "CREATE TABLE runs (id bigint PRIMARY KEY, started timestamp, name text)",
        "INSERT INTO runs VALUES (1, '2020-01-01 08:00:00', 'old'), "
        "(9, '2021-06-01 12:00:00', 'x')",
    )
    before = app_rows(pg_url, "SELECT * FROM runs ORDER BY id")
    plan = load_plan(drafted(tmp_path, sqlite_app(tmp_path, NAIVE), pg_url))
    asyncio.run(create_backup(plan))
    migrated(plan)
    assert app_rows(pg_url, "SELECT started FROM runs WHERE id = 1") == [
        (datetime.fromisoformat(NAIVE[0]),)
    ]
    asyncio.run(rollback(plan))
    assert app_rows(pg_url, "SELECT * FROM runs ORDER BY id") == before


# -- PostgreSQL -> PostgreSQL ------------------------------------------------------------------


@pytest.fixture
def pg_source(two_urls: tuple[str, str]) -> tuple[str, str]:
    source, target = two_urls
    pg_exec(
        source,
        "CREATE TABLE ev (id serial PRIMARY KEY, at timestamp NOT NULL DEFAULT now(), name text)",
        "INSERT INTO ev (at, name) VALUES ('2026-12-07 01:09:52.897958', 'a'), "
        "('1999-12-31 23:59:59', 'b')",
    )
    in_zone(target)
    return source, target


def test_init_drafts_datetime_for_a_postgres_timestamp_column(
    tmp_path: Path, pg_source: tuple[str, str]
) -> None:
    plan = drafted(tmp_path, *pg_source)
    table = table_of(plan, "ev")
    assert table["types"]["at"] == "datetime"
    assert any("declared timestamp without time zone" in note for note in table["notes"])


def test_check_names_the_column_type_carried(tmp_path: Path, pg_source: tuple[str, str]) -> None:
    result = ferry("check", drafted(tmp_path, *pg_source))
    assert "ev.at" not in result.output, result.output  # no longer "translated: … → timestamptz"
    assert result.exit_code == 0, result.output


def test_postgres_timestamp_stays_without_time_zone(
    tmp_path: Path, pg_source: tuple[str, str]
) -> None:
    source, target = pg_source
    settled(source)
    migrated(load_plan(drafted(tmp_path, source, target)))
    assert column_type(target, "ev", "at") == "timestamp without time zone"
    assert app_rows(target, "SELECT id, at FROM ev ORDER BY id") == pg_rows(
        source, "SELECT id, at FROM ev ORDER BY id"
    )


def test_check_warns_that_instants_lose_their_zone_in_an_apps_naive_column(
    tmp_path: Path, two_urls: tuple[str, str]
) -> None:
    source, target = two_urls
    pg_exec(source, "CREATE TABLE ev (id bigint PRIMARY KEY, at timestamp(3) with time zone)")
    pg_exec(target, "CREATE TABLE ev (id bigint PRIMARY KEY, at timestamp)")
    result = ferry("check", drafted(tmp_path, source, target))
    assert result.exit_code == 0, result.output
    assert "ev.at: source field 'at' is timestamp(3) with time zone (instants) but the" in " ".join(
        result.output.split()
    )


def into_sqlite(folder: Path, source: str) -> Any:
    """The drafted plan into a SQLite file, its naive times read in New York (not shifted)."""
    plan = drafted(folder, source, "sqlite:///app.db")
    plan.write_text(plan.read_text() + f'\n[options]\ntimezone = "{ZONE}"\n')
    return load_plan(plan)


def sqlite_times(folder: Path) -> list[tuple[Any, ...]]:
    db = sqlite3.connect(folder / "app.db")
    try:
        return db.execute("SELECT at FROM ev ORDER BY id").fetchall()
    finally:
        db.close()


def test_postgres_timestamp_into_sqlite_is_naive_text(
    tmp_path: Path, pg_source: tuple[str, str]
) -> None:
    asyncio.run(migrate(into_sqlite(tmp_path, pg_source[0]), write_reports=False))
    assert sqlite_times(tmp_path) == [
        ("2026-12-07 01:09:52.897958",),
        ("1999-12-31 23:59:59.000000",),
    ]


def test_a_rerun_into_sqlite_changes_nothing(tmp_path: Path, pg_source: tuple[str, str]) -> None:
    plan = into_sqlite(tmp_path, pg_source[0])
    asyncio.run(migrate(plan, write_reports=False))
    again = asyncio.run(migrate(plan, write_reports=False)).tables[0]
    assert (again.unchanged, again.updated) == (2, 0)
    assert sqlite_times(tmp_path)[0] == ("2026-12-07 01:09:52.897958",)
