"""``ferry init`` reads from the sources whether the app quotes its names, and a PostgreSQL
target spells the names with capitals it creates accordingly (:mod:`ferry.scan.namecase`):
an ORM's bookkeeping table (Django's ``django_migrations``, EF Core's
``__EFMigrationsHistory``) or a PostgreSQL source keeps the spelling; otherwise names are
folded to lower case, with a note. Real SQLite files, the real PostgreSQL server."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from pathlib import Path

import psycopg

import pgcluster
from ferry.check import check_plan
from ferry.migrate import migrate
from ferry.plan import Plan, load_plan
from ferry.scan.folder import scan_folder
from ferry.scan.questions import answer


def django_db(folder: Path) -> None:
    """A Django app's SQLite file: ``db_column='InvoiceDate'`` and Django's own table."""
    db = sqlite3.connect(folder / "db.sqlite3")
    db.executescript(
        """
        CREATE TABLE django_migrations (id INTEGER PRIMARY KEY AUTOINCREMENT,
            app varchar(255) NOT NULL, name varchar(255) NOT NULL, applied datetime NOT NULL);
        INSERT INTO django_migrations (app, name, applied)
            VALUES ('shop', '0001_initial', '2024-05-01 10:00:00');
        CREATE TABLE shop_invoice (id INTEGER PRIMARY KEY AUTOINCREMENT,
            "InvoiceDate" datetime NOT NULL, "Total" decimal NOT NULL);
        INSERT INTO shop_invoice ("InvoiceDate", "Total")
            VALUES ('2024-05-01 10:00:00', 1.98), ('2024-05-02 11:00:00', 3.96);
        """
    )
    db.close()


def drafted(folder: Path, url: str, file: str) -> Plan:
    """``ferry init`` of one file, the plan as written and read back."""
    plan = scan_folder(folder / file, url).plan
    (folder / "ferry.toml").write_text(plan.to_toml())
    return load_plan(folder / "ferry.toml")


def test_a_django_database_keeps_the_spelling_django_quotes(tmp_path: Path, pg_url: str) -> None:
    django_db(tmp_path)
    plan = drafted(tmp_path, pg_url, "db.sqlite3")
    assert plan.target.identifiers == "keep"
    answer(plan, "shop_invoice.Total.digits", "leave")  # a DecimalField's digits: asked
    asyncio.run(migrate(plan, write_reports=False))
    with psycopg.connect(pg_url) as conn:  # Django's own SQL: quoted names, no id
        conn.execute('INSERT INTO "shop_invoice" ("InvoiceDate", "Total") VALUES (now(), 5.94)')
        found = conn.execute('SELECT "id", "Total" FROM "shop_invoice" ORDER BY "id"')
        assert [row[0] for row in found.fetchall()] == [1, 2, 3]


def test_the_draft_names_its_evidence_for_keeping_the_spelling(tmp_path: Path, pg_url: str) -> None:
    django_db(tmp_path)
    plan = drafted(tmp_path, pg_url, "db.sqlite3")
    invoice = next(t for t in plan.tables if t.name == "shop_invoice")
    assert invoice.notes[0] == (
        'columns InvoiceDate, Total keep their spelling (identifiers = "keep"): db holds '
        "django_migrations: the table Django keeps, and Django quotes every name in its SQL; "
        'an app that writes them unquoted would need identifiers = "lower"'
    )


def test_an_ef_core_database_keeps_its_table_names(tmp_path: Path, pg_url: str) -> None:
    db = sqlite3.connect(tmp_path / "app.db")
    db.executescript(
        """
        CREATE TABLE "__EFMigrationsHistory" ("MigrationId" TEXT NOT NULL PRIMARY KEY,
            "ProductVersion" TEXT NOT NULL);
        INSERT INTO "__EFMigrationsHistory" VALUES ('20240501_Initial', '8.0.0');
        CREATE TABLE "Blogs" ("BlogId" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
            "Url" TEXT NULL);
        INSERT INTO "Blogs" ("Url") VALUES ('https://a.example'), ('https://b.example');
        """
    )
    db.close()
    plan = drafted(tmp_path, pg_url, "app.db")
    asyncio.run(migrate(plan, write_reports=False))
    with psycopg.connect(pg_url) as conn:  # EF Core's SQL: every name quoted
        conn.execute('INSERT INTO "Blogs" ("Url") VALUES (%s)', ("https://c.example",))
        found = conn.execute('SELECT "BlogId" FROM "Blogs" ORDER BY "BlogId"').fetchall()
    assert [row[0] for row in found] == [1, 2, 3]


def test_a_postgresql_source_keeps_names_it_could_only_hold_quoted(
    tmp_path: Path, pg_url: str, pg_server_url: str
) -> None:
    name = f"ferry_case_{uuid.uuid4().hex[:8]}"
    source = pgcluster.create_database(pg_server_url, name)
    try:
        with psycopg.connect(source, autocommit=True) as conn:
            conn.execute('CREATE TABLE orders ("OrderId" int PRIMARY KEY)')
        result = scan_folder(source, pg_url, plan_dir=tmp_path)
    finally:
        pgcluster.drop_database(pg_server_url, name)
    assert result.plan.target.identifiers == "keep"


def test_without_evidence_capitals_are_lowered_with_a_note(tmp_path: Path, pg_url: str) -> None:
    db = sqlite3.connect(tmp_path / "music.db")
    db.executescript(
        "CREATE TABLE Track (TrackId INTEGER PRIMARY KEY, Name TEXT);"
        "INSERT INTO Track VALUES (1, 'Go Down');"
    )
    db.close()
    plan = drafted(tmp_path, pg_url, "music.db")
    assert plan.target.identifiers == "lower"
    assert plan.tables[0].notes == [
        'columns TrackId, Name are created in lower case (trackid, name; identifiers = "lower") '
        "so the app's unquoted SQL finds them; if the app quotes its names (an ORM such as "
        'Django or SQLAlchemy), set identifiers = "keep" under [target]'
    ]


def test_a_sqlite_target_keeps_the_default(tmp_path: Path) -> None:
    django_db(tmp_path)
    plan = drafted(tmp_path, "sqlite:///ferry.db", "db.sqlite3")
    assert plan.target.identifiers == "lower"
    assert all(not t.notes for t in plan.tables)


def test_check_names_the_fields_created_in_lower_case(tmp_path: Path, pg_url: str) -> None:
    django_db(tmp_path)
    plan = drafted(tmp_path, pg_url, "db.sqlite3")
    plan.target.identifiers = "lower"
    report = asyncio.run(check_plan(plan))
    assert [i.detail for i in report.items if i.warning and i.subject == "table shop_invoice"] == [
        "fields created in lower case for the app's unquoted SQL: InvoiceDate → invoicedate, "
        'Total → total; an app that quotes its names (an ORM) needs identifiers = "keep"'
    ]
