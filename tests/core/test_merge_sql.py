"""The set-based merge's SQL as text (:mod:`ferry.load.mergesql`), for SQLite and PostgreSQL.

The dialect facts are the targets' own (``SqliteTarget.merge_dialect``,
``PostgresTarget.merge_dialect``); the merge tests in contract/test_migrate_contract.py,
test_migrate_sqlite.py and test_migrate_postgres.py run these statements against real databases.
"""

from __future__ import annotations

from ferry.load import mergesql
from ferry.load.mergesql import MergeTable
from ferry.shape.schema import ColumnInfo
from ferry.targets.postgres import PostgresTarget
from ferry.targets.sqlite import SqliteTarget

SQLITE = SqliteTarget.merge_dialect
PG = PostgresTarget.merge_dialect

NAME = ColumnInfo("name", "text")
AT = ColumnInfo("at", "timestamp")

#: the stages as each target refers to them (SQLite's live in its temp schema)
SQLITE_ITEMS = MergeTable(
    "items", 'temp."ferry_stage_1"', ("id", "name", "at"), ("id",), (NAME, AT)
)
PG_ITEMS = MergeTable("items", '"ferry_stage_1"', ("id", "name", "at"), ("id",), (NAME, AT))

SQLITE_INSERT = (
    'INSERT INTO "items" ("id", "name", "at") SELECT s."id", s."name", s."at" '
    'FROM temp."ferry_stage_1" AS s WHERE s._ferry_same IS NULL '
    'AND NOT EXISTS (SELECT 1 FROM "items" AS t WHERE s."id" = t."id")'
)
PG_INSERT = SQLITE_INSERT.replace('temp."ferry_stage_1"', '"ferry_stage_1"')
SQLITE_CHANGED = (
    '(s._ferry_same IS NULL AND (t."name" IS NOT s."name" OR '
    '(t."at" IS NOT s."at" AND ferry_timestamp(t."at") IS NOT ferry_timestamp(s."at"))))'
)
PG_CHANGED = (
    '(s._ferry_same IS NULL AND (t."name" IS DISTINCT FROM s."name" '
    'OR t."at" IS DISTINCT FROM s."at"))'
)


def test_rule_insert_only_inserts_missing_keys_on_sqlite() -> None:
    assert mergesql.merge_statements(SQLITE, SQLITE_ITEMS, "insert", None) == [
        ("inserted", SQLITE_INSERT)
    ]


def test_rule_insert_only_inserts_missing_keys_on_postgres() -> None:
    assert mergesql.merge_statements(PG, PG_ITEMS, "insert", None) == [("inserted", PG_INSERT)]


def test_rule_error_writes_like_insert_and_keeps_changed_rows() -> None:
    assert mergesql.merge_statements(SQLITE, SQLITE_ITEMS, "error", None) == [
        ("inserted", SQLITE_INSERT)
    ]


def test_rule_update_updates_changed_rows_then_inserts_on_sqlite() -> None:
    assert mergesql.merge_statements(SQLITE, SQLITE_ITEMS, "update", None) == [
        (
            "updated",
            'UPDATE "items" AS t SET "name" = s."name", "at" = s."at" '
            'FROM temp."ferry_stage_1" AS s WHERE s."id" = t."id" AND ' + SQLITE_CHANGED,
        ),
        ("inserted", SQLITE_INSERT),
    ]


def test_rule_update_updates_changed_rows_then_inserts_on_postgres() -> None:
    assert mergesql.merge_statements(PG, PG_ITEMS, "update", None) == [
        (
            "updated",
            'UPDATE "items" AS t SET "name" = s."name", "at" = s."at" '
            'FROM "ferry_stage_1" AS s WHERE s."id" = t."id" AND ' + PG_CHANGED,
        ),
        ("inserted", PG_INSERT),
    ]


def test_rule_newer_by_a_timestamp_compares_julian_days_on_sqlite() -> None:
    statements = mergesql.merge_statements(SQLITE, SQLITE_ITEMS, "newer", AT)
    assert statements[0] == (
        "updated",
        'UPDATE "items" AS t SET "name" = s."name", "at" = s."at" '
        'FROM temp."ferry_stage_1" AS s WHERE s."id" = t."id" AND ' + SQLITE_CHANGED + " AND "
        '(julianday(s."at") > julianday(t."at") OR (t."at" IS NULL AND s."at" IS NOT NULL))',
    )


def test_rule_newer_by_a_timestamp_compares_values_on_postgres() -> None:
    statements = mergesql.merge_statements(PG, PG_ITEMS, "newer", AT)
    assert statements[0] == (
        "updated",
        'UPDATE "items" AS t SET "name" = s."name", "at" = s."at" '
        'FROM "ferry_stage_1" AS s WHERE s."id" = t."id" AND ' + PG_CHANGED + " AND "
        '(s."at" > t."at" OR (t."at" IS NULL AND s."at" IS NOT NULL))',
    )


def test_rule_newer_by_a_number_compares_values_on_sqlite() -> None:
    version = ColumnInfo("version", "integer")
    assert mergesql.source_newer(SQLITE, version) == (
        '(s."version" > t."version" OR (t."version" IS NULL AND s."version" IS NOT NULL))'
    )


def test_a_composite_key_joins_on_every_key_column_and_sets_none() -> None:
    merge = MergeTable(
        "lines",
        '"ferry_stage_2"',
        ("tenant", "id", "qty"),
        ("tenant", "id"),
        (ColumnInfo("qty", "integer"),),
    )
    assert mergesql.merge_statements(PG, merge, "update", None) == [
        (
            "updated",
            'UPDATE "lines" AS t SET "qty" = s."qty" FROM "ferry_stage_2" AS s '
            'WHERE s."tenant" = t."tenant" AND s."id" = t."id" AND '
            '(s._ferry_same IS NULL AND (t."qty" IS DISTINCT FROM s."qty"))',
        ),
        (
            "inserted",
            'INSERT INTO "lines" ("tenant", "id", "qty") SELECT s."tenant", s."id", s."qty" '
            'FROM "ferry_stage_2" AS s WHERE s._ferry_same IS NULL AND NOT EXISTS '
            '(SELECT 1 FROM "lines" AS t WHERE s."tenant" = t."tenant" AND s."id" = t."id")',
        ),
    ]


def test_names_are_quoted_with_their_quotes_doubled() -> None:
    odd = ColumnInfo('say "hi"', "text")
    merge = MergeTable(
        "Order Lines", 'temp."ferry_stage_3"', ("Line Id", 'say "hi"'), ("Line Id",), (odd,)
    )
    assert mergesql.merge_statements(SQLITE, merge, "update", None)[0] == (
        "updated",
        'UPDATE "Order Lines" AS t SET "say ""hi""" = s."say ""hi""" '
        'FROM temp."ferry_stage_3" AS s WHERE s."Line Id" = t."Line Id" AND '
        '(s._ferry_same IS NULL AND (t."say ""hi""" IS NOT s."say ""hi"""))',
    )


def test_a_stage_without_key_is_appended_whatever_the_rule() -> None:
    merge = MergeTable("log", '"ferry_stage_4"', ("at", "line"), (), ())
    assert mergesql.merge_statements(PG, merge, "update", None) == [
        (
            "inserted",
            'INSERT INTO "log" ("at", "line") SELECT s."at", s."line" FROM "ferry_stage_4" AS s '
            "WHERE s._ferry_same IS NULL",
        )
    ]


def test_a_stage_of_key_columns_only_has_nothing_to_update() -> None:
    merge = MergeTable("tags", '"ferry_stage_5"', ("tag",), ("tag",), ())
    assert [kind for kind, _ in mergesql.merge_statements(PG, merge, "update", None)] == [
        "inserted"
    ]


def test_a_range_of_staged_rows_is_picked_by_order_number() -> None:
    statements = mergesql.merge_statements(SQLITE, SQLITE_ITEMS, "insert", None, seqs=(4, 9))
    assert statements == [("inserted", SQLITE_INSERT + " AND s._ferry_seq BETWEEN 4 AND 9")]


def test_delete_propagation_names_the_table_on_sqlite() -> None:
    assert mergesql.delete_missing(SQLITE, SQLITE_ITEMS) == (
        'DELETE FROM "items" WHERE NOT EXISTS '
        '(SELECT 1 FROM temp."ferry_stage_1" AS s WHERE s."id" = "items"."id")'
    )


def test_delete_propagation_aliases_the_table_on_postgres() -> None:
    assert mergesql.delete_missing(PG, PG_ITEMS) == (
        'DELETE FROM "items" AS t WHERE NOT EXISTS '
        '(SELECT 1 FROM "ferry_stage_1" AS s WHERE s."id" = t."id")'
    )


def test_classify_counts_staged_missing_changed_and_newer_rows() -> None:
    newer = '(s."at" > t."at" OR (t."at" IS NULL AND s."at" IS NOT NULL))'
    assert mergesql.classify(PG, PG_ITEMS, "newer", AT) == (
        'SELECT COUNT(*), SUM(CASE WHEN t."id" IS NULL THEN 1 ELSE 0 END), '
        f'SUM(CASE WHEN t."id" IS NOT NULL AND {PG_CHANGED} THEN 1 ELSE 0 END), '
        f'SUM(CASE WHEN t."id" IS NOT NULL AND {PG_CHANGED} AND {newer} THEN 1 ELSE 0 END) '
        'FROM "ferry_stage_1" AS s LEFT JOIN "items" AS t ON s."id" = t."id"'
    )


def test_classify_counts_no_newer_rows_for_other_rules() -> None:
    assert mergesql.classify(SQLITE, SQLITE_ITEMS, "update", None).endswith(
        f'SUM(CASE WHEN t."id" IS NOT NULL AND {SQLITE_CHANGED} AND (1 = 0) THEN 1 ELSE 0 END) '
        'FROM temp."ferry_stage_1" AS s LEFT JOIN "items" AS t ON s."id" = t."id"'
    )


def test_nothing_to_compare_means_no_row_changed() -> None:
    merge = MergeTable("tags", '"ferry_stage_5"', ("tag",), ("tag",), ())
    assert mergesql.row_differs(PG, merge) == "(1 = 0)"


def test_json_is_compared_minified_on_sqlite() -> None:
    doc = ColumnInfo("doc", "json", sql_type="JSON")
    assert mergesql.differs(SQLITE, doc, "a", "b") == (
        "(CASE WHEN json_valid(a) THEN json(a) ELSE a END) IS NOT "
        "(CASE WHEN json_valid(b) THEN json(b) ELSE b END)"
    )


def test_postgres_json_is_compared_as_jsonb_and_jsonb_as_it_is() -> None:
    doc = ColumnInfo("doc", "json", sql_type="json")
    docb = ColumnInfo("docb", "json", sql_type="JSONB")
    assert mergesql.differs(PG, doc, "a", "b") == "a::jsonb IS DISTINCT FROM b::jsonb"
    assert mergesql.differs(PG, docb, "a", "b") == "a IS DISTINCT FROM b"


def test_conflicting_keys_are_the_changed_rows_keys_in_source_order() -> None:
    assert mergesql.conflict_keys(PG, PG_ITEMS, 5) == (
        'SELECT s."id" FROM "ferry_stage_1" AS s JOIN "items" AS t ON s."id" = t."id" '
        f"WHERE {PG_CHANGED} ORDER BY s._ferry_seq LIMIT 5"
    )


def test_changed_rows_tell_whether_the_newer_rule_applies_them() -> None:
    newer = '(s."at" > t."at" OR (t."at" IS NULL AND s."at" IS NOT NULL))'
    assert mergesql.changed_rows(PG, PG_ITEMS, "newer", AT, ["id", "at"], 10) == (
        'SELECT t."id" AS "t0", t."at" AS "t1", s."id" AS "s0", s."at" AS "s1", '
        f"CASE WHEN {newer} THEN 1 ELSE 0 END AS ferry_applied "
        'FROM "ferry_stage_1" AS s JOIN "items" AS t ON s."id" = t."id" '
        f"WHERE {PG_CHANGED} ORDER BY s._ferry_seq LIMIT 10"
    )


def test_changed_rows_are_kept_under_rule_insert() -> None:
    sql = mergesql.changed_rows(SQLITE, SQLITE_ITEMS, "insert", None, ["id"], 10)
    assert sql.startswith('SELECT t."id" AS "t0", s."id" AS "s0", 0 AS ferry_applied FROM ')


def test_inserted_rows_are_the_staged_rows_whose_key_is_missing() -> None:
    assert mergesql.inserted_rows(SQLITE_ITEMS, ["id", "name"], 3) == (
        'SELECT s."id", s."name" FROM temp."ferry_stage_1" AS s WHERE s._ferry_same IS NULL AND '
        'NOT EXISTS (SELECT 1 FROM "items" AS t WHERE s."id" = t."id") '
        "ORDER BY s._ferry_seq LIMIT 3"
    )


def test_duplicate_keys_are_the_staged_rows_whose_key_comes_again_later() -> None:
    later = (
        'EXISTS (SELECT 1 FROM "ferry_stage_1" AS s2 WHERE s2."id" = s."id" '
        "AND s2._ferry_seq > s._ferry_seq)"
    )
    assert mergesql.duplicates(PG_ITEMS, 5) == (
        f'SELECT s."id", s."name", s."at" FROM "ferry_stage_1" AS s WHERE {later} '
        "ORDER BY s._ferry_seq LIMIT 5"
    )
    assert mergesql.drop_duplicates(PG_ITEMS) == (
        'DELETE FROM "ferry_stage_1" WHERE _ferry_seq IN (SELECT s._ferry_seq FROM '
        f'"ferry_stage_1" AS s WHERE {later})'
    )
