"""Apache Airflow's date-time columns, for its SQLite metadata database moved to PostgreSQL.

Airflow declares its own times ``UtcDateTime``, a SQLAlchemy ``TIMESTAMP(timezone=True)``: in
SQLite the column is ``TIMESTAMP`` and holds UTC as text without an offset, on PostgreSQL
``airflow db migrate`` makes it ``timestamp with time zone``. Its login tables (Flask-AppBuilder's
``ab_user``) and a few columns (``task_instance.trigger_timeout``, ``session.expiry``) use a naive
``DateTime``: ``DATETIME`` in SQLite, ``timestamp without time zone`` on PostgreSQL. Drafted
from their values alone, every one became ``timestamp without time zone``, and Airflow's writes
on PostgreSQL (aware datetimes) were stored in the session's TimeZone: on a server not in UTC a
new run's ``execution_date`` came back hours off. So in an Airflow database a ``TIMESTAMP``
column keeps ``timestamp`` (an instant; its text is read as UTC), as Airflow makes it there.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..sources import SourceTable
    from .typefindings import TypeFinding

#: tables every Airflow metadata database holds (2.x and 3.x)
_AIRFLOW_TABLES = frozenset({"alembic_version", "dag", "dag_run", "task_instance"})


def is_airflow_database(tables: Iterable[SourceTable]) -> bool:
    """Whether ``tables`` (one SQLite file's) are Apache Airflow's metadata database."""
    return {t.origin.lower() for t in tables} >= _AIRFLOW_TABLES


def airflow_instants(tables: list[SourceTable], found: list[TypeFinding]) -> list[TypeFinding]:
    """``found`` without the zone findings of an Airflow database's ``TIMESTAMP`` columns
    (its ``UtcDateTime``: timestamptz on PostgreSQL, the draft's default for the type); the
    ``DATETIME`` ones keep theirs. Any other database's findings are returned as they are."""
    if not is_airflow_database(tables):
        return found
    instants = {
        (t.name, column)
        for t in tables
        for column, declared in t.declared.items()
        if declared.strip().upper() == "TIMESTAMP"
    }
    return [f for f in found if not (f.zone and (f.table, f.column) in instants)]
