"""What a PostgreSQL server offers a connection: its databases, a database's schemas, and a
new database — for the wizard's Connect page and ``ferry profiles``.

Connections are made like a run's (:func:`ferry.targets.postgres.connect_args`): the password
comes from the environment, the keyring or libpq's own ``PGPASSWORD`` / ``~/.pgpass``, never
from the URL. Calls are blocking (the wizard runs them in a worker thread).
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql

from ..errors import TargetError
from ..plan import TargetSpec
from ..targets.postgres import connect_args, describe_url, explain_connect_error, pg_url

#: the database a listing falls back to when the URL's own one does not exist (yet)
MAINTENANCE_DB = "postgres"
#: Ferry's own schema (its run journal, :mod:`ferry.load.journal`): never offered for tables
FERRY_SCHEMA = "ferry"


def _connect(spec: TargetSpec, database: str | None = None) -> psycopg.Connection[Any]:
    url = pg_url(spec.url)
    if database is not None:
        url = url.set(database=database)
    args = connect_args(spec, url, spec.password_env)
    args.pop("options", None)  # no search path: the catalogs are read, nothing is created
    try:
        return psycopg.connect(
            host=url.host,
            port=url.port,
            user=url.username,
            dbname=url.database,
            autocommit=True,
            **{**dict(url.query), **args},
        )
    except psycopg.Error as exc:
        raise explain_connect_error(str(exc), describe_url(url)) from None


def _connect_any(spec: TargetSpec) -> psycopg.Connection[Any]:
    """The URL's database, else the server's ``postgres`` database (the URL may name one
    that is still to be created)."""
    try:
        return _connect(spec)
    except TargetError as exc:
        if "does not exist" not in exc.message:
            raise
        return _connect(spec, MAINTENANCE_DB)


def list_databases(spec: TargetSpec) -> list[str]:
    """The databases (not templates) the server at ``spec.url`` has that the user may
    connect to, sorted."""
    with _connect_any(spec) as conn:
        rows = conn.execute(
            "SELECT datname FROM pg_database WHERE NOT datistemplate AND datallowconn "
            "AND has_database_privilege(datname, 'CONNECT') ORDER BY datname"
        ).fetchall()
    return [row[0] for row in rows]


def list_schemas(spec: TargetSpec) -> list[str]:
    """The schemas of the URL's database a plan's tables may go into: not PostgreSQL's own
    (``pg_*``, ``information_schema``) nor Ferry's journal (``ferry``), sorted."""
    with _connect(spec) as conn:
        rows = conn.execute(
            "SELECT nspname FROM pg_namespace WHERE left(nspname, 3) <> 'pg_' "
            "AND nspname <> 'information_schema' AND nspname <> %s ORDER BY nspname",
            (FERRY_SCHEMA,),
        ).fetchall()
    return [row[0] for row in rows]


def create_database(spec: TargetSpec, name: str) -> None:
    """Create database ``name`` (quoted as given) on the server at ``spec.url``; a clear
    :class:`TargetError` when it exists or the user may not create databases."""
    if not name or "\x00" in name or len(name.encode()) > 63:
        raise TargetError(
            f"{name!r} is not a database name PostgreSQL takes",
            hint="Use 1 to 63 bytes, without NUL characters.",
        )
    where = describe_url(pg_url(spec.url))
    with _connect_any(spec) as conn:
        try:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        except psycopg.errors.DuplicateDatabase:
            raise TargetError(
                f"PostgreSQL at {where}: database {name!r} already exists",
                hint="Pick it in the list of databases, or choose another name.",
            ) from None
        except psycopg.errors.InsufficientPrivilege:
            raise TargetError(
                f"PostgreSQL at {where}: the user may not create databases",
                hint="Ask the database administrator to create it (createdb NAME) or to "
                "grant CREATEDB to the user.",
            ) from None
        except psycopg.Error as exc:
            raise TargetError(
                f"PostgreSQL at {where}: cannot create database {name!r}: {exc}"
            ) from None
