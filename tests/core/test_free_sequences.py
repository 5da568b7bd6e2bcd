"""Sequences no column owns, which an app numbers rows with itself (a Synapse homeserver's
``events_stream_seq``: ``nextval`` in its code, no default), in a PostgreSQL schema the app
made before the move. Named in ``[target] sequences``, each is moved past the highest value
of its columns in the run's transaction; otherwise the run names it (before, nothing was
said, the sequence stayed at 1 and Synapse refused to start: ``Postgres sequence
'events_stream_seq' is inconsistent with associated stream position``). Real SQLite, real
PostgreSQL."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import psycopg
from pgkit import pg_rows

from ferry.migrate import migrate
from ferry.plan import Plan
from ferry.results import RunResult
from ferry.scan.folder import scan_folder
from ferry.scan.questions import answer


def homeserver(folder: Path, url: str) -> Path:
    """Synapse's shape: ``events`` numbered by ``events_stream_seq`` in PostgreSQL (made by
    the app, at 1), its SQLite file holding events up to stream ordering 57."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE events (stream_ordering bigint NOT NULL UNIQUE, event_id text"
            " NOT NULL UNIQUE); CREATE SEQUENCE events_stream_seq;"
            "SELECT nextval('events_stream_seq')"
        )
    path = folder / "homeserver.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(
            "CREATE TABLE events (stream_ordering BIGINT NOT NULL UNIQUE,"
            " event_id TEXT NOT NULL UNIQUE);"
            "INSERT INTO events VALUES (2, '$a'), (57, '$b');"
        )
    conn.close()
    return path


def drafted(folder: Path, url: str, reply: str) -> Plan:
    """The draft ``ferry init`` writes, its question about the sequences answered ``reply``."""
    plan = scan_folder(homeserver(folder, url), url).plan
    answer(plan, "target.sequences", reply)
    return plan


def run(plan: Plan, preview: bool = False) -> RunResult:
    result = asyncio.run(migrate(plan, preview=preview, write_reports=False))
    assert result.status == ("previewed" if preview else "completed"), result.error
    return result


def test_a_sequence_the_plan_names_moves_past_its_columns(tmp_path: Path, pg_url: str) -> None:
    plan = drafted(tmp_path, pg_url, "events_stream_seq=events.stream_ordering")
    result = run(plan)
    assert pg_rows(pg_url, "SELECT nextval('events_stream_seq')") == [(58,)]
    assert [w for w in result.warnings if "sequence" in w] == [
        "sequence events_stream_seq moved from 1 to 57 (the highest of events.stream_ordering,"
        " as [target] sequences names): the app's next number from it is 58"
    ]


def test_the_preview_leaves_it_where_it_was(tmp_path: Path, pg_url: str) -> None:
    plan = drafted(tmp_path, pg_url, "events_stream_seq=events.stream_ordering")
    run(plan, preview=True)
    assert pg_rows(pg_url, "SELECT nextval('events_stream_seq')") == [(2,)]


def test_a_sequence_the_plan_does_not_name_is_named_by_the_run(tmp_path: Path, pg_url: str) -> None:
    result = run(drafted(tmp_path, pg_url, "leave"))
    (line,) = [w for w in result.warnings if "sequence" in w]
    assert line.startswith("sequences events_stream_seq (at 1): not moved (no column owns them")
    assert pg_rows(pg_url, "SELECT nextval('events_stream_seq')") == [(2,)]


def test_init_asks_which_columns_each_free_sequence_numbers(tmp_path: Path, pg_url: str) -> None:
    plan = scan_folder(homeserver(tmp_path, pg_url), pg_url).plan
    (asked,) = [q for q in plan.questions if q.id == "target.sequences"]
    assert (asked.evidence, asked.default) == (["events_stream_seq: at 1"], "leave")
    answer(plan, "target.sequences", "events_stream_seq=events.stream_ordering")
    run(plan)
    assert pg_rows(pg_url, "SELECT nextval('events_stream_seq')") == [(58,)]
