"""Reading a database source, the same for SQLite and PostgreSQL (ferry.sources.sqlite, .postgres).

Each test runs once per dialect (``source_db``: tests/core/contract/conftest.py): the tables a
reader describes (names, keys, parent links, order) and the rows it streams. The values each
dialect hands back, its types, snapshots and connection errors are in test_source_sqlite.py
and test_source_postgres.py.
"""

from __future__ import annotations

import pytest
import test_source_postgres
import test_source_sqlite
from targetkit import SourceDb

from ferry.errors import SourceError
from ferry.sources import Batch, ParentLink

SHOP = {"sqlite": test_source_sqlite.SHOP, "postgresql": test_source_postgres.SHOP}


@pytest.fixture
def shop(source_db: SourceDb) -> SourceDb:
    source_db.exec(SHOP[source_db.dialect])
    return source_db


# ---------------------------------------------------------------- describe


def test_describe_names_tables_after_the_source(shop: SourceDb) -> None:
    tables = shop.reader().describe()
    assert [(t.name, t.origin) for t in tables] == [
        ("app.customers", "customers"),
        ("app.orders", "orders"),
    ]


def test_describe_gives_the_primary_key(shop: SourceDb) -> None:
    assert shop.reader().describe()[0].key == ("id",)


def test_describe_gives_a_composite_key_in_key_order(source_db: SourceDb) -> None:
    source_db.exec("CREATE TABLE t (a INT, b INT, c INT, PRIMARY KEY (c, a));")
    assert source_db.reader().describe()[0].key == ("c", "a")


def test_describe_table_without_key_has_empty_key(source_db: SourceDb) -> None:
    source_db.exec("CREATE TABLE log (line TEXT);")
    assert source_db.reader().describe()[0].key == ()


def test_describe_links_a_child_to_its_parent(shop: SourceDb) -> None:
    orders = shop.reader().describe()[1]
    assert orders.parent == ParentLink("app.customers", ("customer_id",), ("id",))


def test_describe_puts_parents_before_children(source_db: SourceDb) -> None:
    source_db.exec(
        """
        CREATE TABLE zoo (id INTEGER PRIMARY KEY);
        CREATE TABLE animals (id INTEGER PRIMARY KEY, zoo_id INT REFERENCES zoo(id));
        """
    )
    assert [t.origin for t in source_db.reader().describe()] == ["zoo", "animals"]


def test_describe_puts_a_child_after_every_table_it_references(source_db: SourceDb) -> None:
    # MLflow's logged_model_tags: its first key references experiments, its second
    # logged_models, which sorts after it by name
    source_db.exec(
        """
        CREATE TABLE exps (id INTEGER PRIMARY KEY);
        CREATE TABLE models (id INTEGER PRIMARY KEY);
        CREATE TABLE model_tags (
            exp_id INT REFERENCES exps(id), model_id INT REFERENCES models(id)
        );
        """
    )
    origins = [t.origin for t in source_db.reader().describe()]
    assert origins.index("models") < origins.index("model_tags")


def test_tables_option_limits_the_read(shop: SourceDb) -> None:
    assert [t.name for t in shop.reader(["orders"]).describe()] == ["app.orders"]


def test_unknown_table_is_an_error_listing_the_tables(shop: SourceDb) -> None:
    with pytest.raises(SourceError) as caught:
        shop.reader(["invoices"]).describe()
    if shop.is_sqlite:
        assert caught.value.message == (
            f"Table 'invoices' is not in SQLite file {shop.path} (source 'app')"
        )
        assert caught.value.hint == "Tables in it: customers, orders"
    else:
        assert caught.value.message.startswith("Table 'invoices' is not in PostgreSQL ")
        assert caught.value.hint == "Tables there: customers, orders"


# ---------------------------------------------------------------- rows


def test_batches_hold_at_most_batch_size_rows(source_db: SourceDb) -> None:
    source_db.exec("CREATE TABLE n (i INTEGER); INSERT INTO n VALUES (1), (2), (3), (4), (5);")
    batches = source_db.read_all(batch_size=2)
    assert [[row["i"] for row in b.rows] for b in batches] == [[1, 2], [3, 4], [5]]


def test_batches_cover_every_table_parents_first(shop: SourceDb) -> None:
    batches = shop.read_all()
    assert [(b.table, len(b.rows)) for b in batches] == [("app.customers", 2), ("app.orders", 2)]


def test_empty_table_yields_no_batch(source_db: SourceDb) -> None:
    source_db.exec("CREATE TABLE t (x INTEGER);")
    assert source_db.read_all() == []


def test_reserved_word_and_quote_in_names_are_read(source_db: SourceDb) -> None:
    source_db.exec(
        """
        CREATE TABLE "order" ("select" INTEGER, "a""b" TEXT);
        INSERT INTO "order" VALUES (1, 'x');
        CREATE TABLE "we""ird" ("group" TEXT);
        INSERT INTO "we""ird" VALUES ('y');
        """
    )
    assert source_db.read_all() == [
        Batch("app.order", [{"select": 1, 'a"b': "x"}]),
        Batch('app.we"ird', [{"group": "y"}]),
    ]
