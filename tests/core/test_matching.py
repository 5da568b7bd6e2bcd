"""ferry.scan.matching: how init matches sources to an existing schema, as functions."""

from __future__ import annotations

from ferry.scan.matching import (
    canonical,
    choose_child_table,
    choose_table,
    literal_default,
    match_fields,
    type_disagreement,
)
from ferry.shape.schema import ColumnInfo, ForeignKey, TableInfo


def table(name: str, *columns: str, pk: tuple[str, ...] = (), generated: str = "") -> TableInfo:
    info = TableInfo(name=name, primary_key=pk)
    for column in columns:
        info.columns[column] = ColumnInfo(column, "text", has_default=column == generated)
    return info


ORDERS = table(
    "customer_orders",
    "order_id",
    "customer_email",
    "created_at",
    "quantity",
    "description",
    pk=("order_id",),
)


def test_fields_meet_columns_by_case_camel_case_and_synonyms() -> None:
    found = match_fields(["orderId", "qty", "desc", "Created_At", "ts"], ORDERS.columns)
    assert {f: (m.column, m.how) for f, m in found.items()} == {
        "orderId": ("order_id", "case/underscores"),
        "qty": ("quantity", "synonym"),
        "desc": ("description", "synonym"),
        "Created_At": ("created_at", "case/underscores"),
    }


def test_canonical_spells_each_word_the_standard_way() -> None:
    assert canonical("itemQty") == "item_quantity"
    assert canonical("created_ts") == "created_timestamp"


def test_a_source_filling_the_columns_of_a_table_is_that_table_whatever_its_name() -> None:
    fields = ["orderId", "customerEmail", "createdAt", "qty", "desc", "position"]
    other = table("orders", "id", "total", pk=("id",))

    match = choose_table("orders_export", fields, {"orders": other, "customer_orders": ORDERS})

    assert match is not None
    assert (match.table, match.by, match.matched, match.of) == ("customer_orders", "columns", 5, 5)
    assert match.evidence == (
        "matched to customer_orders by columns: 5 of 5 columns (the name orders_export differs)"
    )


def test_a_table_of_the_same_name_is_taken_however_few_columns_match() -> None:
    match = choose_table("Orders", ["id", "note"], {"orders": table("orders", "id", "a", "b")})
    assert match is not None
    assert match.evidence == "matched to orders by name: 1 of 3 columns match"


def test_no_table_for_a_source_that_matches_neither_by_name_nor_by_columns() -> None:
    assert choose_table("misc", ["a", "b"], {"customer_orders": ORDERS}) is None


def test_a_one_field_key_feeds_a_primary_key_of_another_name() -> None:
    queue = table("manual_queue", "path", "lang", pk=("path",))
    match = choose_table("queue", ["value", "position", "lang"], {"manual_queue": queue}, ["value"])
    assert match is not None
    assert (match.fields["value"].column, match.fields["value"].how) == ("path", "key")
    assert (match.by, match.matched, match.of) == ("columns", 2, 2)


def test_a_key_alone_feeding_a_tables_unique_column_is_no_match_by_columns() -> None:
    # Home Assistant: .storage/auth's users into the recorder's states_meta
    states_meta = table("states_meta", "metadata_id", "entity_id", pk=("metadata_id",))
    states_meta.columns["metadata_id"] = ColumnInfo("metadata_id", "integer", has_default=True)
    states_meta.unique.append(("entity_id",))

    match = choose_table(
        "users", ["id", "name", "is_owner"], {"states_meta": states_meta}, key=["id"]
    )

    assert match is None


def test_a_source_whose_fields_mostly_find_no_column_is_not_a_small_table() -> None:
    # Home Assistant: .storage/auth's refresh_tokens (fifteen fields) into migration_changes
    migrations = table("migration_changes", "migration_id", "version", pk=("migration_id",))
    fields = ["id", "user_id", "client_id", "token", "jwt_key", "created_at", "version"]

    match = choose_table("refresh_tokens", fields, {"migration_changes": migrations}, key=["id"])

    assert match is None


def test_a_nested_list_goes_into_the_table_with_a_foreign_key_to_its_parent() -> None:
    tracks = table(
        "album_tracks", "id", "album_id", "position", "title", pk=("id",), generated="id"
    )
    tracks.foreign_keys.append(ForeignKey(("album_id",), "albums", ("id",)))
    albums_tracks = table("albums_tracks", "x")
    existing = {"albums": table("albums", "id", "title"), "album_tracks": tracks}
    existing["albums_tracks"] = albums_tracks

    match = choose_child_table(
        "albums.tracks",
        ["albums_id", "position", "title"],
        (("albums_id",), ("id",)),
        "albums",
        {"id": "id", "title": "title"},
        existing,
    )

    assert match is not None
    assert (match.table, match.link, match.fields["albums_id"].column) == (
        "album_tracks",
        {"albums_id": "album_id"},
        "album_id",
    )
    assert match.evidence == (
        "matched to album_tracks through its foreign key album_id -> albums(id): "
        "2 of 2 other columns (source albums.tracks)"
    )


def test_a_child_table_of_the_same_name_wins_over_a_twin_with_the_same_columns() -> None:
    # Home Assistant's recorder: statistics and statistics_short_term, one shape, one parent
    existing = {"statistics_meta": table("statistics_meta", "id", "statistic_id")}
    for name in ("statistics", "statistics_short_term"):
        twin = table(name, "id", "metadata_id", "start_ts", "mean", pk=("id",), generated="id")
        twin.foreign_keys.append(ForeignKey(("metadata_id",), "statistics_meta", ("id",)))
        existing[name] = twin

    match = choose_child_table(
        "home_assistant_v2.statistics_short_term",
        ["id", "metadata_id", "start_ts", "mean"],
        (("metadata_id",), ("id",)),
        "statistics_meta",
        {"id": "id", "statistic_id": "statistic_id"},
        existing,
    )

    assert match is not None
    assert match.table == "statistics_short_term"


def test_a_type_disagreement_is_named_and_a_widening_is_not() -> None:
    quantity = ColumnInfo("quantity", "integer", sql_type="INTEGER")
    assert type_disagreement("qty", "text", quantity) == (
        "type disagreement: field 'qty' holds text, column 'quantity' is integer (INTEGER): "
        "values that do not convert are rejected by key"
    )
    assert type_disagreement("qty", "integer", ColumnInfo("price", "float")) is None
    assert type_disagreement("qty", "integer", ColumnInfo("note", "text")) is None


def test_literal_defaults_are_read_and_expressions_are_not() -> None:
    assert literal_default("'NORMAL'") == "NORMAL"
    assert literal_default("'en'::text") == "en"
    assert literal_default("0") == 0
    assert literal_default("(-1.5)") == -1.5
    assert literal_default("CURRENT_TIMESTAMP") is None
    assert literal_default("now()") is None


def _run_child(name: str, *columns: str) -> TableInfo:
    info = table(name, "run_uuid", *columns)
    info.foreign_keys.append(ForeignKey(("run_uuid",), "runs", ("run_uuid",)))
    return info


def test_a_child_table_goes_into_its_own_table_when_another_has_a_subset_of_its_columns() -> None:
    # MLflow: tags (key, value) has a subset of the columns of metrics and of params, all three
    # with a foreign key to runs; each source table is its own table, not tags.
    existing = {
        "runs": table("runs", "run_uuid", pk=("run_uuid",)),
        "tags": _run_child("tags", "key", "value"),
        "params": _run_child("params", "key", "value"),
        "metrics": _run_child("metrics", "key", "value", "timestamp", "step"),
    }
    link = (("run_uuid",), ("run_uuid",))

    chosen = [
        choose_child_table(
            f"mlflow.{name}",
            ["run_uuid", *columns],
            link,
            "runs",
            {"run_uuid": "run_uuid"},
            existing,
        )
        for name, columns in (
            ("params", ("key", "value")),
            ("metrics", ("key", "value", "timestamp", "step")),
        )
    ]

    assert [match.table if match else None for match in chosen] == ["params", "metrics"]
