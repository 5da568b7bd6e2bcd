"""ferry init: a Django fixture (``manage.py dumpdata``) drafts one source and one table per
model, and the draft migrates as it is (real files, real SQLite and PostgreSQL targets)."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path
from typing import Any

import psycopg
from click.testing import CliRunner

from ferry.cli.command import cli
from ferry.migrate import migrate
from ferry.plan import Plan, load_plan

FIXTURE: list[dict[str, Any]] = [
    {"model": "shop.author", "pk": 1, "fields": {"name": "Ada"}},
    {"model": "shop.author", "pk": 2, "fields": {"name": "Übel"}},
    {"model": "shop.book", "pk": 1, "fields": {"author": 1, "title": "Notes", "tags": [1, 2]}},
    {"model": "shop.book", "pk": 2, "fields": {"author": 2, "title": "Zeit", "tags": []}},
    {"model": "shop.book", "pk": 3, "fields": {"author": 1, "title": "Maps", "tags": [2]}},
]


def _write(data: Path, records: list[dict[str, Any]]) -> None:
    # one record per line, as dumpdata --indent writes it apart: the layout the line paths read
    text = "[\n" + ",\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n]\n"
    (data / "initial_data.json").write_text(text, encoding="utf-8")


def _draft(tmp_path: Path, records: list[dict[str, Any]], *options: str) -> Path:
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    _write(data, records)
    plan = tmp_path / "p.toml"
    result = CliRunner().invoke(cli, ["init", str(data), "-o", str(plan), *options])
    assert result.exit_code == 0, result.output
    return plan


def _migrate(plan: Plan) -> dict[str, Any]:
    return {t.name: t for t in asyncio.run(migrate(plan)).tables}


def test_a_fixture_drafts_one_keyed_source_and_table_per_model(tmp_path: Path) -> None:
    plan = load_plan(_draft(tmp_path, FIXTURE))

    picked = [(s.name, s.select, s.unwrap, s.key_column) for s in plan.sources]
    assert picked == [
        ("shop_author", {"model": "shop.author"}, "fields", "pk"),
        ("shop_book", {"model": "shop.book"}, "fields", "pk"),
    ]
    book = next(t for t in plan.tables if t.name == "shop_book")
    assert (book.source, book.key, book.columns["id"].from_) == ("shop_book", ["id"], "pk")
    assert book.types == {"author": "integer", "title": "text", "tags": "json", "id": "integer"}
    assert book.notes[0] == (
        "initial_data.json is a Django fixture: 5 records of 2 models, each {model, pk, "
        "fields}: one table per model; this one is 'shop.book' (3 records), keyed by its pk "
        "(column 'id'); foreign keys are not inferred (a fixture gives the related pk, not its "
        "model): add them in the schema if the app needs them"
    )


def test_a_model_with_text_pks_keeps_column_pk(tmp_path: Path) -> None:
    records = [
        *FIXTURE[:2],
        {"model": "shop.code", "pk": "EUR", "fields": {"name": "Euro"}},
    ]
    plan = load_plan(_draft(tmp_path, records))

    code = next(t for t in plan.tables if t.name == "shop_code")
    assert (code.key, code.columns, code.types) == (["pk"], {}, {"pk": "text", "name": "text"})


def test_records_not_all_of_the_fixture_shape_keep_the_single_table_draft(
    tmp_path: Path,
) -> None:
    records = [*FIXTURE, {"model": "shop.book", "pk": 4, "fields": "not an object"}]
    plan = load_plan(_draft(tmp_path, records))

    assert [(s.name, s.select, s.unwrap) for s in plan.sources] == [("initial_data", {}, None)]
    assert [(t.name, t.key) for t in plan.tables] == [("initial_data", ["position"])]


def test_the_draft_migrates_each_model_into_its_own_table(tmp_path: Path, pg_url: str) -> None:
    plan = load_plan(_draft(tmp_path, FIXTURE, "--target", pg_url))

    results = _migrate(plan)

    assert {n: r.inserted for n, r in results.items()} == {"shop_author": 2, "shop_book": 3}
    with psycopg.connect(pg_url) as conn:
        books = conn.execute("SELECT id, author, title, tags FROM shop_book ORDER BY id")
        assert books.fetchall() == [
            (1, 1, "Notes", [1, 2]),
            (2, 2, "Zeit", []),
            (3, 1, "Maps", [2]),
        ]
        authors = conn.execute("SELECT id, name FROM shop_author ORDER BY id").fetchall()
        assert authors == [(1, "Ada"), (2, "Übel")]


def test_a_rerun_after_one_record_changed_updates_that_row_alone(tmp_path: Path) -> None:
    plan_path = _draft(tmp_path, FIXTURE)
    _migrate(load_plan(plan_path))
    changed = json.loads(json.dumps(FIXTURE))
    changed[3]["fields"]["title"] = "Zeitgeist"
    _write(tmp_path / "data", changed)

    results = _migrate(load_plan(plan_path))

    counts = {n: (r.inserted, r.updated, r.unchanged) for n, r in results.items()}
    assert counts == {"shop_author": (0, 0, 2), "shop_book": (0, 1, 2)}
    with sqlite3.connect(tmp_path / "ferry.db") as conn:
        rows = conn.execute("SELECT id, title FROM shop_book ORDER BY id").fetchall()
    conn.close()
    assert rows == [(1, "Notes"), (2, "Zeitgeist"), (3, "Maps")]
