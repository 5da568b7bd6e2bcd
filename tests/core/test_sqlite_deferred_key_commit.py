"""A run into a SQLite file's existing tables whose foreign keys are checked at commit (Django
declares every one ``DEFERRABLE INITIALLY DEFERRED``): when a parent row is rejected and its
child goes in, SQLite refuses the commit. Found running a Django project's reverse plan: the
run stopped on a bare ``finishing the transaction failed: FOREIGN KEY constraint failed``,
naming no table or row."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from draftkit import ferry

TARGET = """
CREATE TABLE "shop_product" ("id" integer NOT NULL PRIMARY KEY, "name" text NOT NULL);
CREATE TABLE "shop_line" ("id" integer NOT NULL PRIMARY KEY,
  "product_id" bigint NOT NULL REFERENCES "shop_product" ("id") DEFERRABLE INITIALLY DEFERRED);
"""
SOURCE = """
CREATE TABLE "shop_product" ("id" integer PRIMARY KEY, "name" text);
CREATE TABLE "shop_line" ("id" integer PRIMARY KEY, "product_id" bigint);
INSERT INTO shop_product VALUES (1, 'kettle'), (2, NULL);
INSERT INTO shop_line VALUES (1, 1), (7, 2);
"""
PLAN = """
version = 1
name = "back"
sources = [{ name = "app", kind = "sqlite", path = "source.db" }]
[target]
url = "sqlite:///old.db"
[[tables]]
name = "shop_product"
source = "app.shop_product"
key = ["id"]
[[tables]]
name = "shop_line"
source = "app.shop_line"
key = ["id"]
"""


def _file(path: Path, script: str) -> None:
    with sqlite3.connect(path) as conn:
        conn.executescript(script)
    conn.close()


def test_a_commit_refused_by_a_deferred_key_names_the_rows(tmp_path: Path) -> None:
    _file(tmp_path / "old.db", TARGET)
    _file(tmp_path / "source.db", SOURCE)
    (tmp_path / "plan.toml").write_text(PLAN)
    result = ferry("migrate", tmp_path / "plan.toml")
    assert result.exit_code == 5, result.output
    message = " ".join(result.output.split())
    assert "(first: shop_line rowid 7 -> shop_product)" in message
