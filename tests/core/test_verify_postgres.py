"""Verification (ferry.verify.run) against a real PostgreSQL target, after real migrations.

Every test gets a fresh empty database (``pg_url``). PostgreSQL hands back typed values
(bool, jsonb as Python objects, aware datetimes, Decimal, float4) where SQLite hands back text
and numbers; both must verify the same way (tests/core/contract/test_verify_contract.py runs
the shared cases on both).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pgkit import pg_exec, pg_rows
from test_verify import ROWS, items_plan, migrated, only, write_jsonl

from ferry.plan import Plan
from ferry.verify.run import verify

pytestmark = pytest.mark.pg


APP_SCHEMA = """
CREATE TABLE items (
    id bigint PRIMARY KEY,
    name varchar(100) NOT NULL,
    qty smallint CHECK (qty >= 0),
    price real,
    done boolean,
    at timestamp without time zone,
    meta json,
    note text,
    updated_at timestamptz
);
"""


async def test_a_migrated_postgres_target_has_typed_columns_and_passes(
    tmp_path: Path, pg_url: str
) -> None:
    plan = await migrated(items_plan(tmp_path, url=pg_url))
    types = dict(
        pg_rows(
            pg_url,
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = 'items'",
        )
    )
    assert types["meta"] == "jsonb" and types["at"] == "timestamp with time zone"
    result = await verify(plan)
    assert result.verdict == "PASS", result.to_dict()
    table = only(result)
    assert (table.expected_rows, table.target_rows, table.matched) == (3, 3, 3)
    assert table.source_checksum == table.target_checksum
    assert result.target.endswith(pg_url.rsplit("/", 1)[1])


@pytest.mark.parametrize(
    ("change", "key", "problem"),
    [
        (
            "UPDATE items SET name = 'Mañanb' WHERE id = 3",
            "id=3",
            "name: source 'Mañana', target 'Mañanb'",
        ),
        (
            "UPDATE items SET at = at + interval '1 microsecond' WHERE id = 3",
            "id=3",
            "at: source '2024-05-03T00:00:00.123456', target '2024-05-03T00:00:00.123457'",
        ),
        (
            """UPDATE items SET meta = '{"x": 0}' WHERE id = 2""",
            "id=2",
            """meta: source '{"x":null}', target '{"x":0}'""",
        ),
    ],
)
async def test_real_differences_fail_on_postgres(
    tmp_path: Path, pg_url: str, change: str, key: str, problem: str
) -> None:
    plan = await migrated(items_plan(tmp_path, url=pg_url))
    pg_exec(pg_url, change)
    result = await verify(plan)
    table = only(result)
    assert (result.verdict, table.verdict) == ("FAIL", "FAIL")
    assert table.mismatches[0]["key"] == key
    assert problem in table.mismatches[0]["problem"]


async def test_app_schema_types_and_spellings_verify(tmp_path: Path, pg_url: str) -> None:
    rows = [dict(row) for row in ROWS]
    rows[0]["price"] = 0.1
    rows[1]["price"] = 0.123456789  # real keeps 0.12345679: both sides are rounded alike
    rows[2]["price"] = "3.10"
    plan = await migrated(items_plan(tmp_path, rows, url=pg_url, schema=APP_SCHEMA))
    # json (unlike jsonb) keeps text as written: another order and spacing is the same value
    pg_exec(pg_url, """UPDATE items SET meta = '{ "a" : [1, 2],  "b" : 1.0 }' WHERE id = 1""")
    result = await verify(plan)
    assert result.verdict == "PASS", result.to_dict()
    assert only(result).matched == 3

    pg_exec(pg_url, "UPDATE items SET price = 0.2 WHERE id = 1")
    assert (await verify(plan)).verdict == "FAIL"


async def test_rejected_and_kept_rows_on_postgres(tmp_path: Path, pg_url: str) -> None:
    rows = [dict(row) for row in ROWS]
    rows.append({"id": 4, "name": "negative", "qty": -1})  # CHECK refuses it
    plan = items_plan(tmp_path, rows, url=pg_url, schema=APP_SCHEMA, table='conflict = "insert"')
    pg_exec(pg_url, APP_SCHEMA, "INSERT INTO items (id, name) VALUES (1, 'the app''s own')")
    await migrated(plan)
    result = await verify(plan)
    assert result.verdict == "PASS", result.to_dict()
    table = only(result)
    assert (table.kept, table.rejected, table.matched, table.missing) == (1, 1, 2, 0)
    assert "check constraint" in table.mismatches[0]["problem"]


async def test_orphans_on_postgres(tmp_path: Path, pg_url: str) -> None:
    write_jsonl(tmp_path / "jobs.jsonl", [{"id": "j1", "title": "one"}])
    write_jsonl(tmp_path / "steps.jsonl", [{"id": 1, "job_id": "j1", "name": "probe"}])
    pg_exec(
        pg_url,
        "CREATE TABLE jobs (id text PRIMARY KEY, title text)",
        "CREATE TABLE steps (id int PRIMARY KEY, job_id text REFERENCES jobs (id), name text)",
    )
    (tmp_path / "ferry.toml").write_text(
        f"""name = "jobs"
[target]
url = "{pg_url}"
[[sources]]
name = "jobs"
kind = "jsonl"
path = "jobs.jsonl"
[[sources]]
name = "steps"
kind = "jsonl"
path = "steps.jsonl"
[[tables]]
name = "jobs"
source = "jobs"
[[tables]]
name = "steps"
source = "steps"
""",
        encoding="utf-8",
    )
    from ferry.plan import load_plan

    plan: Plan = await migrated(load_plan(tmp_path / "ferry.toml"))
    assert (await verify(plan)).verdict == "PASS"
    pg_exec(
        pg_url,
        "ALTER TABLE steps DISABLE TRIGGER ALL",
        "INSERT INTO steps VALUES (2, 'ghost', 'orphan')",
        "ALTER TABLE steps ENABLE TRIGGER ALL",
    )
    result = await verify(plan)
    jobs, steps = result.tables
    assert (jobs.verdict, steps.verdict, steps.orphans) == ("PASS", "FAIL", 1)
    assert steps.mismatches[0]["key"] == "job_id='ghost'"


ASSERTIONS = """
[[assertions]]
name = "a LIKE with a percent sign"
sql = "SELECT count(*) FROM items WHERE name LIKE 'Caf%'"
expect = 1

[[assertions]]
name = "a broken query"
sql = "SELECT nope FROM items"
expect = 0

[[assertions]]
name = "the transaction still works after an error"
sql = "SELECT avg(qty) FROM items"
op = ">="
expect = 1.3

[[assertions]]
name = "a boolean"
sql = "SELECT bool_and(done) FROM items WHERE id <> 2"
expect = true

[[assertions]]
name = "never writes"
sql = "DELETE FROM items"
expect = 0
"""


async def test_assertions_on_postgres(tmp_path: Path, pg_url: str) -> None:
    plan = await migrated(items_plan(tmp_path, url=pg_url, extra=ASSERTIONS))
    result = await verify(plan)
    verdicts = {a.name: (a.verdict, a.actual) for a in result.assertions}
    assert verdicts["a LIKE with a percent sign"] == ("PASS", 1)
    assert verdicts["a broken query"][0] == "FAIL"
    assert 'column "nope" does not exist' in verdicts["a broken query"][1]
    assert verdicts["the transaction still works after an error"][0] == "PASS"
    assert verdicts["a boolean"] == ("PASS", True)
    assert verdicts["never writes"][0] == "FAIL"
    assert "read-only transaction" in verdicts["never writes"][1]
    assert pg_rows(pg_url, "SELECT count(*) FROM items") == [(3,)]
    data = result.to_dict()
    assert json.loads(json.dumps(data)) == data
