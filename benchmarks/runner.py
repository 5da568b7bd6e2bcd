"""One approach, run in its own process so the parent can read its peak RSS (``os.wait4``).

``python -m benchmarks.runner <approach> '<json args>'``; the last stdout line is a JSON
object with what the approach reports (row counts, checksums, verdict).
"""

from __future__ import annotations

import sys

if __name__ == "__main__" and sys.argv[1:2] and sys.argv[1].startswith("ferry_"):
    # As the ferry command does first thing (ferry.cli.launch), before sqlite3 is imported.
    from ferry.sqliteconfig import configure_sqlite

    configure_sqlite()

import asyncio
import hashlib
import json
import os
import sqlite3
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .data import PG_AFTER_LOAD, PG_TABLES, SQLITE_INDEXES, SQLITE_TABLES

BATCH = 5000


def _plan(args: dict[str, Any]):
    from ferry.plan import plan_from_dict

    return plan_from_dict(args["plan"], Path(args["base_dir"]))


def _step_recorder() -> tuple[dict[str, float], Any]:
    """An ``emit`` that keeps Ferry's own step and per-table timings (seconds)."""
    from ferry.events import StepFinished, TableFinished

    steps: dict[str, float] = {}

    def emit(event: Any) -> None:
        if isinstance(event, StepFinished):
            steps[event.step] = steps.get(event.step, 0.0) + event.seconds
        elif isinstance(event, TableFinished):
            steps[f"table:{event.table}"] = event.seconds

    return steps, emit


#: set to ``on``: the JSON workers run whatever the machine's load (their policy,
#: ``ferry.load.inworker.idle_cores``, refuses them on a busy shared machine)
FORCE_WORKERS_ENV = "FERRY_BENCH_JSON_WORKERS"


def ferry_migrate(args: dict[str, Any]) -> dict[str, Any]:
    from ferry.earlydelta import begin_early_reads
    from ferry.gcfreeze import freeze_startup, hold_collections

    # as `ferry migrate` does before its imports: a delta's reads begun, the collector held
    if begin_early_reads(args["plan"], Path(args["base_dir"])):
        hold_collections()
    from ferry.migrate import migrate

    if os.environ.get(FORCE_WORKERS_ENV) == "on":
        import ferry.load.inworker

        ferry.load.inworker.idle_cores = lambda: float(os.cpu_count() or 1)
    steps, emit = _step_recorder()
    plan = _plan(args)
    freeze_startup()  # as `ferry migrate` does once the engine is imported
    result = asyncio.run(migrate(plan, emit=emit, write_reports=False))
    return {
        "status": result.status,
        "tables": {t.name: t.counts() for t in result.tables},
        "steps": steps,
        "whole_rss_mib": _whole_rss_mib(),
        "json_workers": _json_workers(),
    }


def _json_workers() -> list[str]:
    """The tables this run read through JSON worker processes."""
    from ferry.load.inworker import WORKER_PEAKS

    return sorted(WORKER_PEAKS)


def _whole_rss_mib() -> float:
    """This process's peak RSS plus the JSON worker processes' (each measured by itself: the
    launcher's ``wait4`` sees only the largest process of the tree, and a worker's own
    ``ru_maxrss`` starts from this process's, carried over its ``exec``). An upper bound: the
    peaks need not coincide, and pages the processes share count once each."""
    import resource

    from ferry.load.inworker import WORKER_PEAKS

    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return (own + sum(WORKER_PEAKS.values())) / 2**20


def ferry_draft(args: dict[str, Any]) -> dict[str, Any]:
    """The plan ``ferry init DB --target URL`` drafts (its tables as Ferry creates them)."""
    from ferry.scan.folder import scan_folder

    result = scan_folder(args["sqlite"], args["target_url"], plan_dir=args["base_dir"])
    plan = result.plan.to_dict()
    for table in plan["tables"]:
        table.pop("notes", None)  # the draft's notes to the reader change nothing
    return {"plan": plan}


def ferry_verify(args: dict[str, Any]) -> dict[str, Any]:
    from ferry.gcfreeze import freeze_startup
    from ferry.verify.run import verify

    steps, emit = _step_recorder()
    plan = _plan(args)
    freeze_startup()  # as `ferry verify` does once the engine is imported
    result = asyncio.run(verify(plan, emit=emit, write_reports=False))
    return {"verdict": result.verdict, "steps": steps}


def ferry_backup(args: dict[str, Any]) -> dict[str, Any]:
    """``ferry backup``: the source files and the target, through the API."""
    from ferry.api import backup

    steps, emit = _step_recorder()
    taken = asyncio.run(backup(_plan(args), emit=emit))
    return {"id": taken.id, "bytes": taken.total_bytes, "steps": steps}


def ferry_rollback(args: dict[str, Any]) -> dict[str, Any]:
    """``ferry rollback``: the target restored from backup ``args["backup_id"]``."""
    from ferry.api import rollback

    steps, emit = _step_recorder()
    done = asyncio.run(rollback(_plan(args), emit=emit, backup_id=args["backup_id"]))
    return {"restored": done.restored, "steps": steps}


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


def ref_copy(args: dict[str, Any]) -> dict[str, Any]:
    """Minimal Python reference: create the tables, sqlite3 fetchmany -> psycopg
    cursor.copy() write_row, then the indexes and foreign key; one transaction."""
    import psycopg

    src = sqlite3.connect(args["sqlite"])
    counts = {}
    with psycopg.connect(args["pg_url"]) as conn, conn.cursor() as cur:  # one transaction
        cur.execute(PG_TABLES)
        for table in args["tables"]:
            rows = src.execute(f"SELECT * FROM {table}")
            n = 0
            with cur.copy(f"COPY {table} FROM STDIN") as copy:
                while batch := rows.fetchmany(BATCH):
                    for row in batch:
                        copy.write_row(row)
                    n += len(batch)
            counts[table] = n
        cur.execute(PG_AFTER_LOAD)
    return {"tables": counts}


def ref_executemany(args: dict[str, Any]) -> dict[str, Any]:
    """Minimal SQLite -> SQLite: create the tables, fetchmany + executemany, then the
    indexes; one transaction."""
    src = sqlite3.connect(args["sqlite"])
    dst = sqlite3.connect(args["target"])
    counts = {}
    dst.execute("BEGIN")  # the tables' creation too
    with dst:
        for statement in _statements(SQLITE_TABLES):
            dst.execute(statement)
        for table in args["tables"]:
            rows = src.execute(f"SELECT * FROM {table}")
            width = len(rows.description)
            insert = f"INSERT INTO {table} VALUES ({','.join('?' * width)})"
            n = 0
            while batch := rows.fetchmany(BATCH):
                dst.executemany(insert, batch)
                n += len(batch)
            counts[table] = n
        for statement in _statements(SQLITE_INDEXES):
            dst.execute(statement)
    return {"tables": counts}


def vacuum_into(args: dict[str, Any]) -> dict[str, Any]:
    src = sqlite3.connect(args["sqlite"])
    src.execute("VACUUM INTO ?", (args["target"],))
    return {}


# -- the minimal streaming checksum (verify's reference) ------------------------------------

# Per column: a canonical text both sides agree on. Timestamps as epoch microseconds,
# floats as round(x * 1e6), the rest as text; NULL as \N. Row hash = first 8 bytes of md5
# (signed), summed mod 2**64: order-independent, so neither side sorts.
CHECK_COLUMNS = {
    "content": [
        ("id", "int"),
        ("title", "text"),
        ("kind", "text"),
        ("created_at", "ts"),
        ("updated_at", "ts"),
        ("score", "float"),
        ("analysis", "text"),
        ("summary", "text"),
        ("source_url", "text"),
    ],
    "execution_steps": [
        ("id", "int"),
        ("content_id", "int"),
        ("step", "text"),
        ("status", "text"),
        ("started_at", "ts"),
        ("duration_ms", "int"),
        ("metadata", "text"),
    ],
}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MASK = 2**64


def _pg_expr(name: str, kind: str) -> str:
    if kind == "ts":
        value = f"(extract(epoch from {name}) * 1000000)::bigint::text"
    elif kind == "float":
        value = f"round({name} * 1000000)::bigint::text"
    else:
        value = f"{name}::text"
    return f"coalesce({value}, '\\N')"


def _py_value(value: Any, kind: str) -> str:
    if value is None:
        return "\\N"
    if kind == "ts":
        delta = datetime.fromisoformat(value) - _EPOCH
        return str((delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds)
    if kind == "float":
        return str(round(value * 1_000_000))
    return str(value)


def _pg_checksums(url: str, tables: list[str], out: dict[str, Any]) -> None:
    import psycopg

    with psycopg.connect(url) as conn:
        for table in tables:
            row = " || '|' || ".join(_pg_expr(n, k) for n, k in CHECK_COLUMNS[table])
            total = conn.execute(
                f"SELECT count(*), coalesce(sum(('x' || substr(md5({row}), 1, 16))::bit(64)"
                f"::bigint::numeric), 0) FROM {table}"
            ).fetchone()
            assert total is not None
            out[table] = (int(total[0]), int(total[1]) % _MASK)


def _sqlite_checksums(path: str, tables: list[str], out: dict[str, Any]) -> None:
    src = sqlite3.connect(path)
    for table in tables:
        cols = CHECK_COLUMNS[table]
        kinds = [k for _, k in cols]
        rows = src.execute(f"SELECT {', '.join(n for n, _ in cols)} FROM {table}")
        count = total = 0
        md5, frombytes = hashlib.md5, int.from_bytes
        while batch := rows.fetchmany(BATCH):
            for row in batch:
                text = "|".join(_py_value(v, k) for v, k in zip(row, kinds, strict=True))
                total += frombytes(md5(text.encode()).digest()[:8], "big", signed=True)
            count += len(batch)
        out[table] = (count, total % _MASK)


def checksum_ref(args: dict[str, Any]) -> dict[str, Any]:
    pg: dict[str, Any] = {}
    side = threading.Thread(target=_pg_checksums, args=(args["pg_url"], args["tables"], pg))
    side.start()
    lite: dict[str, Any] = {}
    _sqlite_checksums(args["sqlite"], args["tables"], lite)
    side.join()
    return {
        "match": all(pg.get(t) == lite.get(t) for t in args["tables"]),
        "tables": {t: {"sqlite": lite.get(t), "pg": pg.get(t)} for t in args["tables"]},
    }


APPROACHES = {
    f.__name__: f
    for f in (
        ferry_migrate,
        ferry_draft,
        ferry_verify,
        ferry_backup,
        ferry_rollback,
        ref_copy,
        ref_executemany,
        vacuum_into,
        checksum_ref,
    )
}


def main() -> None:
    name, raw = sys.argv[1], sys.argv[2]
    started = time.perf_counter()
    out = APPROACHES[name](json.loads(raw))
    out["inner_seconds"] = time.perf_counter() - started
    print(json.dumps(out, default=str))


if __name__ == "__main__":
    main()
