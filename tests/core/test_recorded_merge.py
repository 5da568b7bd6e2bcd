"""A staged merge that records its changeset as it writes (ferry.load.recordedmerge), against
real SQLite files and the real PostgreSQL server: it records and leaves exactly what the
general path (record before, merge, fingerprint after) does; a trigger of the app's sends the
merge the general way; a merge the server refuses rejects its row the general way; and undo
reverts a run recorded so."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from pgkit import migrated as run
from pgkit import parents_items_plan, pg_exec, pg_rows

from ferry.api import undo
from ferry.load import changeset
from ferry.plan import Plan

PARENTS = "CREATE TABLE parents (id BIGINT PRIMARY KEY, name TEXT NOT NULL, score DOUBLE PRECISION)"
ITEMS = (
    "CREATE TABLE items (id BIGINT PRIMARY KEY, parent_id BIGINT REFERENCES parents (id), "
    "label TEXT, qty BIGINT CHECK (qty >= 0))"
)
CHANGES = [
    "UPDATE parents SET name = name || '!' WHERE id IN (2, 5)",
    "UPDATE parents SET score = NULL WHERE id = 7",
    "INSERT INTO parents VALUES (100, 'new', 1.5)",
    "UPDATE items SET label = 'edited', qty = qty + 1 WHERE id % 7 = 0",
    "INSERT INTO items VALUES (500, 100, 'fresh', 3), (501, 3, NULL, 0)",
]


def source_db(path: Path) -> None:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE parents (id INTEGER PRIMARY KEY, name TEXT NOT NULL, score REAL)")
    db.execute(
        "CREATE TABLE items (id INTEGER PRIMARY KEY, parent_id INTEGER, label TEXT, qty INT)"
    )
    db.executemany(
        "INSERT INTO parents VALUES (?, ?, ?)", [(i, f"p{i}", i / 4) for i in range(1, 21)]
    )
    db.executemany(
        "INSERT INTO items VALUES (?, ?, ?, ?)",
        [(i, i % 20 + 1, f"i{i}", i) for i in range(1, 200)],
    )
    db.commit()
    db.close()


def write(path: Path, statements: list[str]) -> None:
    db = sqlite3.connect(path)
    with db:
        for statement in statements:
            db.execute(statement)
    db.close()


def plan_for(folder: Path, url: str, extra: tuple[str, ...] = ()) -> Plan:
    source_db(folder / "app.db")
    pg_exec(url, PARENTS, ITEMS, *extra)
    return parents_items_plan(folder, url, "recorded")


def recorded(url: str, run_id: str) -> list[tuple[Any, ...]]:
    """The run's image rows, without the run's id and the versions (each database has its
    own transaction ids: the versions are checked apart)."""
    found = []
    for table in ("parents", "items"):
        found += pg_rows(
            url,
            f"SELECT '{table}', (to_jsonb(i) - 'ferry_run' - 'ferry_xmin')::text, "
            f"ferry_xmin IS NULL FROM ferry.img_{table} AS i WHERE ferry_run = '{run_id}' "
            f"ORDER BY 2",
        )
    return found


def app_rows(url: str) -> list[tuple[Any, ...]]:
    return pg_rows(url, "SELECT 'p', id, name, score, NULL FROM parents ORDER BY id") + pg_rows(
        url, "SELECT 'i', id, parent_id, label, qty FROM items ORDER BY id"
    )


@pytest.fixture
def taken(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The tables whose merge recorded its changeset as it wrote."""
    tables: list[str] = []
    real = changeset.merge_recorded

    async def spy(target: Any, stage: Any, image: Any, run_id: str) -> Any:
        counts = await real(target, stage, image, run_id)
        if counts is not None:
            tables.append(stage.table.name)
        return counts

    monkeypatch.setattr(changeset, "merge_recorded", spy)
    return tables


async def _general(target: Any, stage: Any, image: Any, run_id: str) -> None:
    return None


def delta_both_ways(
    tmp_path_factory: pytest.TempPathFactory,
    urls: tuple[str, str],
    monkeypatch: pytest.MonkeyPatch,
    changes: list[str],
) -> list[tuple[Any, ...]]:
    """The same first run and delta into two databases, the second merged the general way:
    per database the delta's counts, rejects, image rows and app rows."""
    found = []
    for url, general in zip(urls, (False, True), strict=True):
        folder = tmp_path_factory.mktemp("general" if general else "recorded")
        plan = plan_for(folder, url)
        run(plan)
        versions = dict(pg_rows(url, "SELECT id, xmin::text FROM items"))
        write(folder / "app.db", changes)
        with monkeypatch.context() as patch:
            if general:
                patch.setattr(changeset, "merge_recorded", _general)
            result = run(plan)
        assert {t.decision.mode for t in result.tables if t.decision} == {"delta"}
        # each before-image carries the version its row had before the run
        for key, version in pg_rows(
            url, "SELECT id, ferry_xmin FROM ferry.img_items WHERE ferry_action = 'update'"
        ):
            assert version == versions[key]
        counts = [t.counts() for t in result.tables]
        rejects = [(r.table, r.key, r.reason) for r in result.rejects]
        found.append((counts, rejects, recorded(url, result.run_id), app_rows(url)))
    return found


def test_it_records_and_writes_what_the_general_path_does(
    tmp_path_factory: pytest.TempPathFactory,
    two_urls: tuple[str, str],
    monkeypatch: pytest.MonkeyPatch,
    taken: list[str],
) -> None:
    recorded_way, general_way = delta_both_ways(tmp_path_factory, two_urls, monkeypatch, CHANGES)

    assert taken == ["parents", "items"]
    assert recorded_way == general_way
    assert len(recorded_way[2]) == 3 + 1 + len(range(7, 200, 7)) + 2  # updates, inserts


def test_a_refused_row_is_rejected_the_general_way(
    tmp_path_factory: pytest.TempPathFactory,
    two_urls: tuple[str, str],
    monkeypatch: pytest.MonkeyPatch,
    taken: list[str],
) -> None:
    changes = [*CHANGES, "UPDATE items SET qty = -1 WHERE id = 3"]  # the target's CHECK

    recorded_way, general_way = delta_both_ways(tmp_path_factory, two_urls, monkeypatch, changes)

    assert taken == ["parents"]  # items: refused, rolled back, merged the general way
    assert recorded_way == general_way
    assert [key for _, key, _ in recorded_way[1]] == ["id=3"]


def test_a_trigger_of_the_app_sends_the_merge_the_general_way(
    tmp_path: Path, pg_url: str, taken: list[str]
) -> None:
    # an AFTER trigger changes the row once written: RETURNING would not see it
    plan = plan_for(
        tmp_path,
        pg_url,
        (
            "CREATE FUNCTION stamp() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "IF pg_trigger_depth() = 1 THEN "
            "UPDATE parents SET name = NEW.name || ' (seen)' WHERE id = NEW.id; END IF; "
            "RETURN NULL; END $$",
            "CREATE TRIGGER stamp AFTER UPDATE ON parents FOR EACH ROW EXECUTE FUNCTION stamp()",
        ),
    )
    run(plan)
    write(tmp_path / "app.db", ["UPDATE parents SET name = 'x' WHERE id = 2"])

    result = run(plan)

    assert "parents" not in taken
    after, now = pg_rows(
        pg_url,
        "SELECT i.ferry_after, md5(CAST(ROW(p.id, p.name, p.score) AS text)) "
        f"FROM ferry.img_parents AS i JOIN parents AS p USING (id) "
        f"WHERE i.ferry_run = '{result.run_id}'",
    )[0]
    assert (
        after == now and "(seen)" in pg_rows(pg_url, "SELECT name FROM parents WHERE id = 2")[0][0]
    )


def test_undo_reverts_a_run_recorded_so(tmp_path: Path, pg_url: str, taken: list[str]) -> None:
    plan = plan_for(tmp_path, pg_url)
    run(plan)
    before = app_rows(pg_url)
    write(tmp_path / "app.db", CHANGES)
    second = run(plan)
    assert taken == ["parents", "items"] and app_rows(pg_url) != before

    done = asyncio.run(undo(plan))

    assert done.undone_run == second.run_id and done.verdict == "PASS"
    assert app_rows(pg_url) == before
