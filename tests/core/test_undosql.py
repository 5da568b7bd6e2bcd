"""The SQL of undoing a first load recorded by row version (:mod:`ferry.undo.undosql`), as
text: what each statement takes for the load's rows and what it leaves alone."""

from __future__ import annotations

from ferry.load.changesql import image_table, record_deletes, record_updates
from ferry.load.mergesql import MergeDialect
from ferry.shape.schema import ColumnInfo
from ferry.undo import undosql

PG = image_table("items", ["id"], ["id", "name"], "postgresql", "ferry")
LITE = image_table("items", ["id"], ["id", "name"], "sqlite", None)


def test_the_loads_rows_carry_its_version_or_one_an_undo_gave_back() -> None:
    owned = undosql.owned(PG, "r1", "777")

    assert "t.xmin::text = '777'" in owned
    assert "r.ferry_run = 'r1' AND r.ferry_action = 'restored'" in owned
    assert "r.ferry_after = t.xmin::text" in owned


def test_app_rows_leave_out_the_rows_later_runs_wrote() -> None:
    sql = undosql.app_rows(PG, "r1", "777", ["r2"], 20)

    assert sql.startswith('SELECT t."id" FROM "items" AS t WHERE NOT (')
    assert "l.ferry_run IN ('r2') AND l.ferry_action IN ('insert', 'update')" in sql
    assert sql.endswith("LIMIT 20")
    assert "NOT EXISTS" not in undosql.app_rows(PG, "r1", "777", [], 20)


def test_a_later_run_built_on_a_first_load_when_its_before_image_carries_the_version() -> None:
    sql = undosql.later_runs_versioned(PG, "r1", "777", ["r2", "r3"])

    assert sql is not None
    assert "l.ferry_run IN ('r2', 'r3')" in sql
    assert "l.ferry_action IN ('update', 'delete') AND (l.ferry_xmin = '777'" in sql
    assert undosql.later_runs_versioned(PG, "r1", "777", []) is None


def test_rows_put_back_stay_the_first_loads_only_on_a_target_with_row_versions() -> None:
    sql = undosql.record_restored(PG, "r2", {"777": "r1"})

    assert sql is not None
    assert "CASE i.ferry_xmin WHEN '777' THEN 'r1' ELSE" in sql
    assert "'restored', version" in sql and "t.xmin::text AS version" in sql
    assert "i.ferry_action IN ('update', 'delete')" in sql
    assert undosql.record_restored(LITE, "r2", {"777": "r1"}) is None


def test_before_images_keep_their_row_version_on_postgresql() -> None:
    dialect = MergeDialect(distinct="IS DISTINCT FROM", delete_alias=True)
    name = ColumnInfo("name", "text")
    update = record_updates(dialect, PG, "stage", [name], "r2", "update", None)

    assert update is not None and "'update', t.xmin::text, t.\"id\"" in update
    assert "'delete', t.xmin::text" in record_deletes(PG, "stage", "r2")
    assert "'delete', NULL" in record_deletes(LITE, "stage", "r2")
