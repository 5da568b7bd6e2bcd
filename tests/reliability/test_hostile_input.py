"""Hostile and broken input, end to end through ``ferry migrate``.

The reader-level cases (each malformation with its exact message) live in
tests/core/test_source_*.py; here the corpus goes through the command a user runs, into an
existing target, and each case must end with its documented exit code, one ``error:`` line
naming the file, no traceback — and a target exactly as it was. Names that come from data
(JSON keys, file names turned into tables) must end up as quoted identifiers, never as SQL.
"""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from faultkit import assert_one_line_error, ferry_run, pg_exec, pg_query, sqlite_query

from ferry.cli.command import cli

INJECTION = 'x"); DROP TABLE keep; --'

PLAN = """name = "hostile"

[target]
url = "{url}"

[[sources]]
name = "data"
kind = "{kind}"
path = "{path}"

[[tables]]
name = "t"
source = "{source}"
{key}
"""

#: name -> (file content, exit code, words the error line must hold)
CORPUS: dict[str, tuple[bytes, int, str]] = {
    "truncated": (b'[{"id": 1, "v": 1}, {"id": 2, "v"', 4, "ends too early"),
    "nan": (b'[{"id": 1, "v": NaN}]', 4, "NaN at line 1"),
    "infinity": (b'[{"id": 1, "v": -Infinity}]', 4, "Infinity"),
    "duplicate-key": (b'[{"id": 1, "v": 1, "v": 2}]', 4, "duplicate key 'v'"),
    "deeply-nested": (b'[{"id": 1, "v": ' + b"[" * 50_000 + b"]" * 50_000 + b"}]", 4, "nested"),
    "empty-file": (b"", 4, "empty"),
    "invalid-utf8": (b'[{"id": 1, "v": "\xff\xfe"}]', 4, "not UTF-8"),
    "utf16": ('[{"id": 1}]'.encode("utf-16"), 4, "UTF-16"),
    "not-json": (b"id,v\n1,2\n", 4, "data.json"),
    "empty-key": (b'[{"id": 1, "": 5}]', 3, "is empty"),
    "only-a-number": (b"42", 4, "data.json"),
}


def json_app(folder: Path, content: bytes, url: str = "sqlite:///app.db") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "data.json").write_bytes(content)
    plan = folder / "ferry.toml"
    plan.write_text(
        PLAN.format(url=url, kind="json", path="data.json", source="data", key='key = ["id"]'),
        encoding="utf-8",
    )
    return plan


def existing_sqlite_target(db: Path) -> bytes:
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE keep (id INTEGER PRIMARY KEY, v TEXT)")
    conn.execute("INSERT INTO keep VALUES (1, 'precious')")
    conn.commit()
    conn.close()
    return db.read_bytes()


@pytest.mark.parametrize("case", list(CORPUS))
def test_broken_input_gives_its_exit_code_and_one_line_and_leaves_the_target(
    case: str, tmp_path: Path
) -> None:
    content, code, words = CORPUS[case]
    plan = json_app(tmp_path, content)
    before = existing_sqlite_target(tmp_path / "app.db")

    result = CliRunner().invoke(cli, ["migrate", str(plan), "--no-backup", "-q"])

    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    line = assert_one_line_error(result.stderr, result.exit_code, code)
    assert words in line
    assert (tmp_path / "app.db").read_bytes() == before


@pytest.mark.slow
@pytest.mark.parametrize("case", ["truncated", "deeply-nested", "invalid-utf8"])
def test_the_real_process_shows_one_line_and_the_exit_code(case: str, tmp_path: Path) -> None:
    content, code, words = CORPUS[case]
    plan = json_app(tmp_path, content)

    done = ferry_run("migrate", plan, "--no-backup", cwd=tmp_path)

    line = assert_one_line_error(done.stderr, done.returncode, code)
    assert words in line and str(tmp_path / "data.json") in line


def test_a_bom_is_read_as_utf8(tmp_path: Path) -> None:
    plan = json_app(tmp_path, '\ufeff[{"id": 1, "v": "é"}]'.encode())
    result = CliRunner().invoke(cli, ["migrate", str(plan), "--no-backup", "-q"])
    assert result.exit_code == 0, result.output
    assert sqlite_query(tmp_path / "app.db", "SELECT id, v FROM t") == [(1, "é")]


def test_an_integer_beyond_64_bits_into_a_bigint_column_rejects_only_that_row(
    tmp_path: Path,
) -> None:
    plan = json_app(tmp_path, b'[{"id": 1, "v": 1180591620717411303424}, {"id": 2, "v": 3}]')
    conn = sqlite3.connect(tmp_path / "app.db")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v BIGINT)")
    conn.close()

    result = CliRunner().invoke(cli, ["migrate", str(plan), "--no-backup", "-q"])

    assert result.exit_code == 0, result.output
    assert "id=1: column 'v': 1180591620717411303424 does not fit in a 64-bit integer" in (
        result.stdout
    )
    assert sqlite_query(tmp_path / "app.db", "SELECT id, v FROM t") == [(2, 3)]


def _invalid_utf8_plan(tmp_path: Path, native: bool, extra: str = "") -> Path:
    conn = sqlite3.connect(tmp_path / "src.db")
    conn.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, v TEXT)")
    conn.execute("INSERT INTO items VALUES (1, CAST(X'FF41FE' AS TEXT)), (2, 'fine')")
    conn.commit()
    conn.close()
    plan = tmp_path / "ferry.toml"
    plan.write_text(
        PLAN.format(
            url="sqlite:///app.db", kind="sqlite", path="src.db", source="data.items", key=extra
        )
        + f"\n[options]\nnative = {str(native).lower()}\n",
        encoding="utf-8",
    )
    return plan


@pytest.mark.parametrize("native", [True, False], ids=["native", "python"])
def test_invalid_utf8_inside_a_sqlite_source_rejects_its_row_by_key(
    tmp_path: Path, native: bool
) -> None:
    # SQLite copying SQLite would move the bytes as they are: the chunk goes to Python, which
    # rejects the row (invalid_text's default) as it does without the native load.
    plan = _invalid_utf8_plan(tmp_path, native)
    result = CliRunner().invoke(cli, ["migrate", str(plan), "--no-backup", "-q"])
    assert result.exit_code == 0, result.stderr
    assert "id=1: column 'v': text is not valid UTF-8 (b'\\xffA\\xfe')" in result.stdout
    assert sqlite_query(tmp_path / "app.db", "SELECT id, v FROM t") == [(2, "fine")]


def test_invalid_utf8_inside_a_sqlite_source_stops_a_stop_run_clearly(tmp_path: Path) -> None:
    plan = _invalid_utf8_plan(tmp_path, native=True, extra='on_reject = "stop"')

    result = CliRunner().invoke(cli, ["migrate", str(plan), "--no-backup", "-q"])

    line = assert_one_line_error(result.stderr, result.exit_code, 6)
    assert "table t: row id=1 was rejected: column 'v': text is not valid UTF-8" in line
    assert not (tmp_path / "app.db").exists()


# ------------------------------------------------------------------------------ identifiers

ODD_KEYS = {
    INJECTION: "boom",
    "a.b": 1,
    "semi;colon": 2,
    "quo'te": 3,
    'dou"ble': 4,
    "ünïcødé ключ": 5,
    "-- comment": 6,
    "n" * 60: 7,
}


def odd_json() -> bytes:
    import json

    return json.dumps([{"id": 1, **ODD_KEYS}]).encode()


def test_keys_from_data_become_sqlite_columns_never_sql(tmp_path: Path) -> None:
    plan = json_app(tmp_path, odd_json())
    existing_sqlite_target(tmp_path / "app.db")

    result = CliRunner().invoke(cli, ["migrate", str(plan), "--no-backup", "-q"])

    assert result.exit_code == 0, result.output
    db = tmp_path / "app.db"
    columns = [r[1] for r in sqlite_query(db, "SELECT * FROM pragma_table_info('t')")]
    assert columns == ["id", *ODD_KEYS]
    assert sqlite_query(db, f'SELECT "{INJECTION.replace(chr(34), chr(34) * 2)}" FROM t') == [
        ("boom",)
    ]
    assert sqlite_query(db, "SELECT v FROM keep") == [("precious",)]


def test_keys_from_data_become_pg_columns_never_sql(tmp_path: Path, pg_url: str) -> None:
    pg_exec(pg_url, "CREATE TABLE keep (id bigint PRIMARY KEY, v text)")
    pg_exec(pg_url, "INSERT INTO keep VALUES (1, 'precious')")
    plan = json_app(tmp_path, odd_json(), url=pg_url)

    result = CliRunner().invoke(cli, ["migrate", str(plan), "--no-backup", "-q"])

    assert result.exit_code == 0, result.output
    columns = pg_query(
        pg_url,
        "SELECT column_name FROM information_schema.columns WHERE table_name = 't' "
        "ORDER BY ordinal_position",
    )
    assert [c[0] for c in columns] == ["id", *ODD_KEYS]
    assert pg_query(pg_url, "SELECT v FROM keep") == [("precious",)]


def test_names_longer_than_pg_allows_are_shortened_not_truncated_into_a_collision(
    tmp_path: Path, pg_url: str
) -> None:
    """PostgreSQL cuts identifiers at 63 bytes: two keys sharing their first 63 bytes would
    silently become one column. Ferry shortens each to its first bytes and a hash of the
    whole name, so they stay two columns."""
    long_a, long_b = "k" * 70 + "A", "k" * 70 + "B"
    import json

    plan = json_app(tmp_path, json.dumps([{"id": 1, long_a: 1, long_b: 2}]).encode(), url=pg_url)

    result = CliRunner().invoke(cli, ["migrate", str(plan), "--no-backup", "-q"])

    assert result.exit_code == 0, result.output
    short_a = "k" * 54 + "_1e065ee1"
    short_b = "k" * 54 + "_d15a434c"
    assert pg_query(pg_url, f"SELECT {short_a}, {short_b} FROM t") == [(1, 2)]


def test_a_300_character_name_is_a_plain_column_in_sqlite(tmp_path: Path) -> None:
    name = "n" * 300
    plan = json_app(tmp_path, f'[{{"id": 1, "{name}": 7}}]'.encode())
    result = CliRunner().invoke(cli, ["migrate", str(plan), "--no-backup", "-q"])
    assert result.exit_code == 0, result.output
    assert sqlite_query(tmp_path / "app.db", f'SELECT "{name}" FROM t') == [(7,)]


def test_a_file_name_turned_into_a_table_name_is_quoted(tmp_path: Path) -> None:
    """`ferry init` names tables after files: a file called like an injection becomes a
    table with a safe name, its path stays quoted in the plan, the other table survives."""
    data = tmp_path / "state"
    data.mkdir()
    (data / f"{INJECTION}.json").write_text('[{"id": 1, "v": "x"}]', encoding="utf-8")
    (data / "keep.json").write_text('[{"id": 1, "v": "precious"}]', encoding="utf-8")
    plan = tmp_path / "ferry.toml"

    made = ferry_run("init", data, "-o", plan, cwd=tmp_path)
    done = ferry_run("migrate", plan, "--no-backup", "-q", cwd=tmp_path)

    assert made.returncode == 0, made.stderr
    assert done.returncode == 0, done.stderr
    db = tmp_path / "ferry.db"
    assert sqlite_query(db, "SELECT v FROM keep") == [("precious",)]
    assert sqlite_query(db, "SELECT v FROM x_drop_table_keep") == [("x",)]


def test_a_two_million_level_document_is_refused_quickly(tmp_path: Path) -> None:
    """A deeply nested document is refused quickly, not by exhausting the stack or time."""
    plan = json_app(tmp_path, b"[" * 2_000_000 + b"]" * 2_000_000)
    done = subprocess.run(
        ["timeout", "60", *ferry_cmd(), "migrate", str(plan), "--no-backup"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert_one_line_error(done.stderr, done.returncode, 4)


def ferry_cmd() -> list[str]:
    import sys

    return [sys.executable, "-m", "ferry"]
