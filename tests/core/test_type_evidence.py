"""A column of mixed kinds (one ``"n/a"`` among floats) never becomes TEXT without a word.

``ferry init`` writes the evidence into the table's notes (counts per kind, the first values
of the rarer kinds with their keys), and ``ferry check`` warns where the plan's type for an
existing table disagrees with the table's column.
"""

from __future__ import annotations

import json
import sqlite3
import tomllib
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result
from pgkit import pg_exec

from ferry.cli.command import cli


def ferry(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


def prices(folder: Path) -> None:
    rows: list[dict[str, Any]] = [{"id": i, "price": i + 0.5} for i in range(1, 1205)]
    rows.insert(12, {"id": 1205, "price": "n/a"})
    (folder / "prices.json").write_text(json.dumps(rows), encoding="utf-8")


def notes_of(plan: Path) -> dict[str, list[str]]:
    data = tomllib.loads(plan.read_text(encoding="utf-8"))
    return {t["name"]: t.get("notes", []) for t in data["tables"]}


def test_init_notes_the_mixed_values_of_a_json_column_with_counts_and_keys(
    tmp_path: Path,
) -> None:
    prices(tmp_path)

    result = ferry("init", tmp_path, "-o", tmp_path / "ferry.toml")

    assert result.exit_code == 0, result.output
    assert notes_of(tmp_path / "ferry.toml")["prices"][0] == (
        "column 'price' holds mixed values, so it is text: 1,204 floats and 1 text value: "
        "'n/a' at id 1205 (every value loads as text; types.price = 'float' loads them "
        "as float and rejects the others, naming their keys)"
    )


def test_init_notes_the_mixed_values_of_a_sqlite_column(tmp_path: Path, pg_url: str) -> None:
    """Into PostgreSQL, whose column holds one type (a SQLite target keeps them as stored:
    test_as_stored.py)."""
    with sqlite3.connect(tmp_path / "legacy.db") as conn:
        conn.execute("CREATE TABLE readings (id INTEGER PRIMARY KEY, value REAL)")
        conn.executemany(
            "INSERT INTO readings VALUES (?, ?)",
            # a few placeholders: most text would make it text (test_rejected_kinds.py)
            [(1, 1.5), (2, "n/a"), (3, 2.5), (4, "-"), (5, 3.5)],
        )
    conn.close()

    result = ferry("init", tmp_path, "--target", pg_url, "-o", tmp_path / "ferry.toml")

    assert result.exit_code == 0, result.output
    assert notes_of(tmp_path / "ferry.toml") == {
        "readings": [
            "column 'value' holds mixed values, so it is float: 3 floats and 2 text values: "
            "'n/a' at id 2, '-' at id 4 (values that are not float are rejected, naming their "
            "keys)"
        ]
    }


PRICES_PLAN = """
[target]
url = "{url}"

[[sources]]
name = "prices"
kind = "json"
path = "prices.json"

[[tables]]
name = "prices"
source = "prices"
key = ["id"]
"""

REAL_WARNING = (
    "prices.price: source field 'price' holds text (first rows: 99 floats and 1 text value: "
    "'n/a' at id 1205), but the column is {sql} (float): values that are not float are rejected, "
    "naming their keys; set cast = 'float' to say it is meant"
)


def warnings_of(result: Result) -> list[str]:
    return [i["detail"] for i in json.loads(result.stdout)["items"] if i.get("warning")]


def test_check_warns_when_a_text_field_feeds_an_existing_real_column(tmp_path: Path) -> None:
    prices(tmp_path)
    with sqlite3.connect(tmp_path / "app.db") as conn:
        conn.execute("CREATE TABLE prices (id INTEGER PRIMARY KEY, price REAL)")
    conn.close()
    plan = tmp_path / "ferry.toml"
    plan.write_text(PRICES_PLAN.format(url="sqlite:///app.db"), encoding="utf-8")

    result = ferry("check", plan, "--json")

    assert result.exit_code == 0, result.output
    assert warnings_of(result) == [REAL_WARNING.format(sql="REAL")]


def test_check_warns_when_a_text_field_feeds_an_existing_postgres_column(
    tmp_path: Path, pg_url: str
) -> None:
    prices(tmp_path)
    pg_exec(pg_url, "CREATE TABLE prices (id bigint PRIMARY KEY, price double precision)")
    plan = tmp_path / "ferry.toml"
    plan.write_text(PRICES_PLAN.format(url=pg_url), encoding="utf-8")

    result = ferry("check", plan, "--json")

    assert result.exit_code == 0, result.output
    assert warnings_of(result) == [REAL_WARNING.format(sql="DOUBLE PRECISION")]


def test_check_warns_when_the_plans_types_disagree_with_an_existing_column(
    tmp_path: Path,
) -> None:
    (tmp_path / "prices.json").write_text(json.dumps([{"id": 1, "price": 2}]), encoding="utf-8")
    with sqlite3.connect(tmp_path / "app.db") as conn:
        conn.execute("CREATE TABLE prices (id INTEGER PRIMARY KEY, price INTEGER)")
    conn.close()
    plan = tmp_path / "ferry.toml"
    plan.write_text(
        PRICES_PLAN.format(url="sqlite:///app.db")
        + 'columns.price = { from = "price", cast = "float" }\n'
        + 'types = { price = "float" }\n',
        encoding="utf-8",
    )

    result = ferry("check", plan, "--json")

    assert result.exit_code == 0, result.output
    assert warnings_of(result) == [
        "prices.price: types.price = 'float' does not apply: the table exists and its column "
        "is INTEGER (integer) (`types` is for tables Ferry creates)",
        "prices.price: cast = 'float', but the column is INTEGER (integer): values that are "
        "not integer are rejected, naming their keys",
    ]


def test_check_names_no_disagreement_for_a_column_declared_zero_characters_long(
    tmp_path: Path,
) -> None:
    # Home Assistant's recorder: states.last_updated is CHAR(0) in SQLite, always NULL, and
    # timestamptz where HA made its schema on PostgreSQL
    with sqlite3.connect(tmp_path / "source.db") as conn:
        conn.execute("CREATE TABLE states (state_id INTEGER PRIMARY KEY, last_updated CHAR(0))")
        conn.execute("INSERT INTO states VALUES (1, NULL)")
    conn.close()
    with sqlite3.connect(tmp_path / "target.db") as conn:
        conn.execute("CREATE TABLE states (state_id INTEGER PRIMARY KEY, last_updated TIMESTAMP)")
    conn.close()
    (tmp_path / "ferry.toml").write_text(
        '[target]\nurl = "sqlite:///target.db"\n[[sources]]\nname = "ha"\nkind = "sqlite"\n'
        'path = "source.db"\n[[tables]]\nname = "states"\nsource = "ha.states"\n',
        encoding="utf-8",
    )

    result = ferry("check", tmp_path / "ferry.toml")

    assert result.exit_code == 0, result.output
    assert "last_updated" not in result.output
