"""Tables a run creates in PostgreSQL are loaded apart, each on a connection of its own into a
private schema, and swapped into place in the run's commit (:mod:`ferry.native.apart`).

Real SQLite files and the real server: the decision as data, values identical to a native
load in the run's own transaction, refusals and failures that leave no trace, and the private
schemas of a killed run dropped by the next one.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from pgkit import pg_exec, pg_rows

from ferry.check import check_plan
from ferry.errors import Cancelled, FerryError
from ferry.events import CancelToken, TableProgress
from ferry.load.decide import LoadFacts, decide
from ferry.migrate import migrate
from ferry.plan import plan_from_dict
from ferry.results import RunResult

PARENTS = 300
CHILDREN = 1500

SAME_TIME = {3: "2024-03-01 12:00:00", 4: "2024-03-01T12:00:00Z"}
PRIVATE = "SELECT nspname FROM pg_namespace WHERE nspname LIKE '\\_ferry\\_load\\_%'"


def source_db(folder: Path, nul: bool = False, duplicate: bool = False) -> Path:
    """An app's file: a parent and a child table (foreign key, indexes, a unique index), every
    kind of value a native load maps. ``nul``: one step's text holds a NUL; ``duplicate``: two rows
    break a unique index in PostgreSQL only (one instant spelled two ways)."""
    path = folder / "app.db"
    db = sqlite3.connect(path)
    db.executescript(
        """
        CREATE TABLE docs (
            id INTEGER PRIMARY KEY, title TEXT NOT NULL, body BLOB, price NUMERIC(12, 2),
            score REAL, ok BOOLEAN, created_at DATETIME, url TEXT
        );
        CREATE UNIQUE INDEX docs_url ON docs (url);
        CREATE TABLE steps (
            id INTEGER PRIMARY KEY,
            doc_id INTEGER NOT NULL REFERENCES docs (id) ON DELETE CASCADE,
            step TEXT NOT NULL, started_at DATETIME
        );
        CREATE INDEX steps_doc ON steps (doc_id, step);
        """
    )
    with db:
        db.executemany(
            "INSERT INTO docs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    i,
                    f"doc {i} café 東京",
                    bytes([i % 256, 0, 255]) if i % 5 else None,
                    f"{i}.{i % 100:02d}",
                    i / 3 if i % 7 else None,
                    i % 2,
                    SAME_TIME[i]
                    if duplicate and i in SAME_TIME
                    else f"2024-0{1 + i % 9}-1{i % 10} 12:3{i % 10}:00.{i:06d}",
                    f"https://x/{i}",
                )
                for i in range(1, PARENTS + 1)
            ],
        )
        db.executemany(
            "INSERT INTO steps VALUES (?, ?, ?, ?)",
            [
                (
                    i,
                    1 + i % PARENTS,
                    f"step {i % 4}" + ("\x00" if nul and i == 7 else ""),
                    f"2024-05-0{1 + i % 9}T08:00:0{i % 10}Z",
                )
                for i in range(1, CHILDREN + 1)
            ],
        )
    if duplicate:  # distinct text to SQLite, one instant to PostgreSQL
        db.execute("CREATE UNIQUE INDEX docs_created ON docs (created_at)")
    db.close()
    old = time.time() - 60
    os.utime(path, (old, old))
    return path


def plan_for(folder: Path, url: str, pg_schema: str | None = None, apart: bool = True) -> Any:
    target: dict[str, Any] = {"url": url}
    if pg_schema:
        target["pg_schema"] = pg_schema
    return plan_from_dict(
        {
            "name": "apart",
            "target": target,
            "options": {"load_apart": True} if apart else {},
            "sources": [{"name": "app", "kind": "sqlite", "path": str(folder / "app.db")}],
            "tables": [
                {"name": "docs", "source": "app.docs", "key": ["id"]},
                {"name": "steps", "source": "app.steps", "key": ["id"]},
            ],
        },
        folder,
    )


def run(plan: Any, preview: bool = False) -> RunResult:
    return asyncio.run(migrate(plan, preview=preview, write_reports=False))


def rows(url: str, schema: str = "public") -> dict[str, list[tuple[Any, ...]]]:
    return {t: pg_rows(url, f"SELECT * FROM {schema}.{t} ORDER BY id") for t in ("docs", "steps")}


def private_schemas(url: str) -> list[str]:
    return [r[0] for r in pg_rows(url, PRIVATE)]


def app_tables(url: str) -> set[str]:
    found = pg_rows(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    return {r[0] for r in found}


# -- the decision, as data -------------------------------------------------------------------

NATIVE = LoadFacts(
    key_is_primary_key=True,
    one_column_key=True,
    table_empty=True,
    native_blocker="",
    native_form="binary COPY",
)


def test_a_native_load_the_target_can_take_apart_is_parallel() -> None:
    found = decide("docs", LoadFacts(**{**NATIVE.__dict__, "apart_blocker": ""}))
    assert found.mode == "parallel" and found.direct
    assert "on a connection of its own" in found.why and "binary COPY" in found.why


def test_a_table_that_cannot_go_apart_stays_native_and_says_why() -> None:
    facts = LoadFacts(**{**NATIVE.__dict__, "apart_blocker": "the table existed before the run"})
    found = decide("docs", facts)
    assert found.mode == "native"
    assert found.why.endswith("; not loaded apart: the table existed before the run")


def test_a_target_without_loads_apart_gives_the_native_decision_as_before() -> None:
    found = decide("docs", NATIVE)
    assert str(found) == (
        "native: empty table fed by this table spec alone, every column a plain copy "
        "(or text ops): SQLite maps the rows itself (binary COPY)"
    )


# -- on the server ---------------------------------------------------------------------------


def test_created_tables_are_loaded_apart_with_the_values_of_a_load_in_one_transaction(
    tmp_path: Path, pg_url: str
) -> None:
    source_db(tmp_path)
    apart = run(plan_for(tmp_path, pg_url))
    # A schema the run creates is unseen by other connections: the same load, native, in
    # the run's one transaction.
    native = run(plan_for(tmp_path, pg_url, pg_schema="together"))

    assert [apart.table(t).decision.mode for t in ("docs", "steps")] == ["parallel"] * 2  # type: ignore[union-attr]
    assert [native.table(t).decision.mode for t in ("docs", "steps")] == ["native"] * 2  # type: ignore[union-attr]
    assert "not loaded apart: the run creates schema together" in str(native.table("docs").decision)
    assert rows(pg_url) == rows(pg_url, "together")
    assert apart.table("steps").inserted == CHILDREN
    assert private_schemas(pg_url) == []
    # Indexes, the foreign key and the identity came along, named as a load in place names them.
    indexes = {
        r[0]
        for r in pg_rows(pg_url, "SELECT indexname FROM pg_indexes WHERE schemaname = 'public'")
    }
    assert {"docs_pkey", "steps_pkey", "docs_url", "steps_doc"} <= indexes
    (fk,) = pg_rows(
        pg_url,
        "SELECT confrelid::regclass::text, convalidated FROM pg_constraint "
        "WHERE contype = 'f' AND conrelid = 'public.steps'::regclass",
    )
    assert fk == ("docs", True)
    pg_exec(pg_url, "INSERT INTO docs (title) VALUES ('next')")
    assert pg_rows(pg_url, "SELECT max(id) FROM docs") == [(PARENTS + 1,)]


def test_a_rerun_after_a_load_apart_finds_the_tables_unchanged(tmp_path: Path, pg_url: str) -> None:
    source_db(tmp_path)
    run(plan_for(tmp_path, pg_url))
    again = run(plan_for(tmp_path, pg_url))
    assert again.table("docs").decision.mode == "unchanged"  # type: ignore[union-attr]
    assert again.table("steps").unchanged == CHILDREN


def test_a_preview_loads_apart_and_leaves_nothing(tmp_path: Path, pg_url: str) -> None:
    source_db(tmp_path)
    result = run(plan_for(tmp_path, pg_url), preview=True)
    assert result.table("docs").decision.mode == "parallel"  # type: ignore[union-attr]
    assert result.table("docs").inserted == PARENTS
    assert app_tables(pg_url) == set() and private_schemas(pg_url) == []


def test_text_with_a_nul_is_rejected_as_before_and_no_private_table_stays(
    tmp_path: Path, pg_url: str
) -> None:
    source_db(tmp_path, nul=True)
    result = run(plan_for(tmp_path, pg_url))
    steps = result.table("steps")
    assert steps.decision.mode == "staged" and steps.decision.facts.refused  # type: ignore[union-attr]
    assert steps.rejected == 1 and [r.key for r in result.rejects] == ["id=7"]
    assert result.table("docs").decision.mode == "parallel"  # type: ignore[union-attr]
    assert private_schemas(pg_url) == []
    assert pg_rows(pg_url, "SELECT count(*) FROM steps") == [(CHILDREN - 1,)]


def test_a_unique_index_the_rows_break_fails_the_run_and_leaves_the_target_untouched(
    tmp_path: Path, pg_url: str
) -> None:
    source_db(tmp_path, duplicate=True)
    with pytest.raises(FerryError) as failed:
        run(plan_for(tmp_path, pg_url))
    assert 'table docs: CREATE UNIQUE INDEX "docs_created"' in failed.value.message
    assert "failed after the load" in failed.value.message
    assert app_tables(pg_url) == set() and private_schemas(pg_url) == []


def test_the_private_schemas_a_killed_run_left_are_dropped_by_the_next_run(
    tmp_path: Path, pg_url: str
) -> None:
    pg_exec(
        pg_url,
        "CREATE SCHEMA _ferry_load_0123456789abcdef_0",
        "CREATE TABLE _ferry_load_0123456789abcdef_0.docs (id bigint PRIMARY KEY)",
        "INSERT INTO _ferry_load_0123456789abcdef_0.docs VALUES (1)",
        "CREATE SCHEMA app_own",  # not Ferry's: kept
    )
    source_db(tmp_path)
    run(plan_for(tmp_path, pg_url))
    assert private_schemas(pg_url) == []
    assert pg_rows(pg_url, "SELECT count(*) FROM pg_namespace WHERE nspname = 'app_own'") == [(1,)]
    assert pg_rows(pg_url, "SELECT count(*) FROM docs") == [(PARENTS,)]


def test_a_table_that_existed_before_the_run_is_loaded_native_in_the_run(
    tmp_path: Path, pg_url: str
) -> None:
    pg_exec(
        pg_url,
        "CREATE TABLE docs (id bigint PRIMARY KEY, title text NOT NULL, body bytea, "
        "price numeric(12, 2), score double precision, ok boolean, created_at timestamptz, "
        "url text)",
    )
    source_db(tmp_path)
    result = run(plan_for(tmp_path, pg_url))
    found = result.table("docs").decision
    assert found is not None and found.mode == "native"
    assert found.facts.apart_blocker == "the table existed before the run"
    assert result.table("steps").decision.mode == "parallel"  # type: ignore[union-attr]
    assert pg_rows(pg_url, "SELECT count(*) FROM docs") == [(PARENTS,)]


def test_load_apart_off_keeps_every_table_in_the_run(tmp_path: Path, pg_url: str) -> None:
    source_db(tmp_path)
    found = run(plan_for(tmp_path, pg_url, apart=False)).table("docs").decision
    assert found is not None and found.mode == "native"
    assert found.facts.apart_blocker == "load_apart is off in the plan's options (the default)"


def test_check_lists_the_private_schemas_a_killed_run_left(tmp_path: Path, pg_url: str) -> None:
    pg_exec(pg_url, "CREATE SCHEMA _ferry_load_0123456789abcdef_0")
    source_db(tmp_path)
    report = asyncio.run(check_plan(plan_for(tmp_path, pg_url)))
    (item,) = [i for i in report.items if i.subject == "private tables of a killed run"]
    assert item.ok
    assert item.detail == (
        "_ferry_load_0123456789abcdef_0: invisible to the app; the next run drops them"
    )
    assert private_schemas(pg_url) == ["_ferry_load_0123456789abcdef_0"]  # check drops nothing


def test_a_run_cancelled_while_loading_apart_leaves_nothing(tmp_path: Path, pg_url: str) -> None:
    source_db(tmp_path)
    cancel = CancelToken()

    def emit(event: object) -> None:
        if isinstance(event, TableProgress) and event.table == "steps":
            cancel.cancel()  # the first chunk of a table loaded apart is in

    with pytest.raises(Cancelled):
        asyncio.run(migrate(plan_for(tmp_path, pg_url), emit=emit, cancel=cancel))
    assert app_tables(pg_url) == set() and private_schemas(pg_url) == []
