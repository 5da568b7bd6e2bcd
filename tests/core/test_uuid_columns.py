"""Text UUIDs going into an app's PostgreSQL ``uuid`` column (SQLAlchemy's ``Uuid`` keeps 32
hex digits in SQLite, PostgreSQL spells them dashed): written in PostgreSQL's spelling, so
verify passes and a re-run changes nothing (found moving a SQLAlchemy app's SQLite file into
the schema the app made on PostgreSQL: verify failed every row, ``'7b18…bbe'`` against
``'7b18eb45-655d-…'``)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from click.testing import Result
from draftkit import draft, ferry
from pgkit import pg_exec, pg_rows

HEX = "7b18eb45655d492db4aa801fafd23bbe"
DASHED = "7b18eb45-655d-492d-b4aa-801fafd23bbe"


def moved(tmp_path: Path, pg_url: str, ids: list[str]) -> tuple[Path, Result]:
    folder = tmp_path / "app"
    folder.mkdir()
    with sqlite3.connect(folder / "app.db") as conn:
        conn.execute("CREATE TABLE account (id CHAR(32) PRIMARY KEY, email TEXT)")
        conn.executemany("INSERT INTO account VALUES (?, ?)", [(i, f"{i}@x") for i in ids])
    conn.close()
    pg_exec(pg_url, "CREATE TABLE account (id uuid PRIMARY KEY, email text)")
    plan = tmp_path / "plan.toml"
    result = ferry("init", folder, "--target", pg_url, "-o", plan)
    assert result.exit_code == 0, result.output
    return plan, ferry("migrate", plan)


def test_hex_uuids_verify_and_rerun_unchanged(tmp_path: Path, pg_url: str) -> None:
    plan, result = moved(tmp_path, pg_url, [HEX])
    assert result.exit_code == 0, result.output
    assert pg_rows(pg_url, f"SELECT email FROM account WHERE id = '{DASHED}'") == [(f"{HEX}@x",)]
    verified = ferry("verify", plan)
    assert verified.exit_code == 0, verified.output
    (tmp_path / "app" / "app.db").touch()
    again = ferry("migrate", plan)
    assert again.exit_code == 0, again.output
    assert "0 rows changed" in again.output


def test_a_value_that_is_no_uuid_is_rejected_by_its_key(tmp_path: Path, pg_url: str) -> None:
    _, result = moved(tmp_path, pg_url, [HEX, "not-a-uuid"])
    assert "not-a-uuid" in result.output
    assert pg_rows(pg_url, "SELECT id::text FROM account") == [(DASHED,)]


def drafted(tmp_path: Path, target: str, ids: list[str | None]) -> Path:
    values = ", ".join("(NULL, 'x')" if i is None else f"('{i}', 'x')" for i in ids)
    schema = (
        "CREATE TABLE account (key INTEGER PRIMARY KEY, ref CHAR(32), email TEXT);"
        f"INSERT INTO account (ref, email) VALUES {values};"
    )
    return draft(tmp_path, schema, target)


def test_a_sqlite_column_of_uuids_becomes_a_postgres_uuid_column(
    tmp_path: Path, pg_url: str
) -> None:
    plan = drafted(tmp_path, pg_url, [HEX, DASHED.replace("7b18", "8c29"), None])
    assert '[tables.target_types]\nref = "uuid"' in plan.read_text()
    result = ferry("migrate", plan)
    assert result.exit_code == 0, result.output
    assert "ref: translated (CHAR(32) → uuid)" in result.output
    found = pg_rows(pg_url, "SELECT pg_typeof(ref)::text, ref::text FROM account ORDER BY key")
    assert found[0] == ("uuid", DASHED)
    assert ferry("verify", plan).exit_code == 0


def test_a_column_with_one_value_that_is_no_uuid_stays_text(tmp_path: Path, pg_url: str) -> None:
    plan = drafted(tmp_path, pg_url, [HEX, "legacy-7"])
    assert "target_types" not in plan.read_text()


def test_a_sqlite_target_keeps_the_uuids_as_text(tmp_path: Path) -> None:
    plan = drafted(tmp_path, f"sqlite:///{tmp_path / 'out.db'}", [HEX])
    assert "target_types" not in plan.read_text()


def test_the_reverse_plan_writes_uuids_back_as_32_hex_digits(tmp_path: Path, pg_url: str) -> None:
    """Found going back: the reverse plan wrote the new store's UUIDs dashed into the old
    file's CHAR(32) key, so every row came back a second time and the old app's lookups by id
    missed the rows the new app wrote."""
    plan, result = moved(tmp_path, pg_url, [HEX])
    assert result.exit_code == 0, result.output
    added = "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f0"
    pg_exec(pg_url, f"INSERT INTO account VALUES ('{added}', 'new@x')")
    back = tmp_path / "back.toml"
    assert ferry("reverse", plan, "-o", back).exit_code == 0
    result = ferry("migrate", "--no-backup", back)
    assert result.exit_code == 0, result.output
    with sqlite3.connect(tmp_path / "app" / "app.db") as conn:
        rows = conn.execute("SELECT id, email FROM account ORDER BY email").fetchall()
    conn.close()
    assert rows == [(f"{HEX}", f"{HEX}@x"), (added.replace("-", ""), "new@x")]


def test_a_varchar_column_of_uuids_stays_text(tmp_path: Path, pg_url: str) -> None:
    # MLflow keeps run ids (uuid4().hex) in String(32): VARCHAR(32) on SQLite and on
    # PostgreSQL alike, and binds text; as uuid they read back dashed, other ids than the app's
    schema = (
        "CREATE TABLE runs (run_uuid VARCHAR(32) PRIMARY KEY, name TEXT);"
        f"INSERT INTO runs VALUES ('{HEX}', 'x');"
    )
    plan = draft(tmp_path, schema, pg_url)
    assert "target_types" not in plan.read_text()


def test_a_foreign_key_between_columns_of_two_types_names_the_types_not_the_rows(
    tmp_path: Path, pg_url: str
) -> None:
    schema = (
        f"CREATE TABLE runs (run_uuid CHAR(32) PRIMARY KEY); INSERT INTO runs VALUES ('{HEX}');"
        "CREATE TABLE issues (id INTEGER PRIMARY KEY, run_id TEXT REFERENCES runs);"
        "INSERT INTO issues VALUES (1, 'legacy-7');"  # no UUID: run_id stays text
    )
    plan = draft(tmp_path, schema, pg_url)
    assert 'run_uuid = "uuid"' in plan.read_text()

    result = ferry("migrate", plan)

    assert result.exit_code == 5
    assert "incompatible types: text and uuid" in result.output
    assert "Give the foreign key's columns the type of those it references" in result.output


def test_a_text_column_referencing_a_uuid_key_is_drafted_uuid_too(
    tmp_path: Path, pg_url: str
) -> None:
    schema = (
        f"CREATE TABLE runs (run_uuid CHAR(32) PRIMARY KEY); INSERT INTO runs VALUES ('{HEX}');"
        "CREATE TABLE issues (id INTEGER PRIMARY KEY, run_id TEXT REFERENCES runs);"
    )
    plan = draft(tmp_path, schema, pg_url)

    result = ferry("migrate", plan)

    assert result.exit_code == 0, result.output
    found = pg_rows(
        pg_url,
        "SELECT data_type FROM information_schema.columns "
        "WHERE table_name = 'issues' AND column_name = 'run_id'",
    )
    assert found == [("uuid",)]
