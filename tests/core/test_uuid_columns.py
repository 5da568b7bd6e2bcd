"""Text UUIDs going into an app's PostgreSQL ``uuid`` column (SQLAlchemy's ``Uuid`` keeps 32
hex digits in SQLite, PostgreSQL spells them dashed): written in PostgreSQL's spelling, so
verify passes and a re-run changes nothing (found moving a SQLAlchemy app's SQLite file into
the schema the app made on PostgreSQL: verify failed every row, ``'7b18…bbe'`` against
``'7b18eb45-655d-…'``)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from click.testing import CliRunner, Result
from pgkit import pg_exec, pg_rows

from ferry.cli.command import cli

HEX = "7b18eb45655d492db4aa801fafd23bbe"
DASHED = "7b18eb45-655d-492d-b4aa-801fafd23bbe"


def ferry(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


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
