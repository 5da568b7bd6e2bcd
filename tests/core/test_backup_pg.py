"""Backups of a PostgreSQL target (ferry.backup.pgdump through ferry.backup.create), on a real
server.

Every test gets a fresh empty database from the ``pg_url`` fixture (tests/conftest.py) and the
file sources of tests/core/backupkit.py.

What a backup does the same for a SQLite target is in
tests/core/contract/test_backup_contract.py, run against both.
"""

from __future__ import annotations

import asyncio
import shutil
from collections import namedtuple
from pathlib import Path

import pytest
from backupkit import backup, ferry, load, pg_plan
from pgkit import pg_exec, pg_rows

import ferry.backup.pgdump as pgdump
from ferry.backup.check import verify_backup
from ferry.backup.create import BackupError, create_backup
from ferry.errors import Cancelled, TargetError
from ferry.events import CancelToken, Event, StepStarted

pytestmark = pytest.mark.pg

STEPS = '\n[[tables]]\nname = "steps"\nsource = "jobs"\n'

SCHEMA = [
    "CREATE TABLE jobs (id bigint PRIMARY KEY, name text NOT NULL)",
    "CREATE TABLE steps (id serial PRIMARY KEY, job_id bigint REFERENCES jobs (id), "
    "step text, at timestamptz, meta jsonb, data bytea)",
    "INSERT INTO jobs VALUES (1, 'probe'), (2, 'mux')",
    "INSERT INTO steps (job_id, step, at, meta, data) VALUES "
    "(1, 'a,b \"quoted\"', '2026-11-21 07:00:00+00', '{\"k\": [1, 2]}', '\\x00ff'), "
    "(1, E'two\\nlines', NULL, 'null', NULL), "
    "(2, '', '2026-01-01 00:00:00+00', NULL, '')",
]


def server_major(url: str) -> int:
    return int(pg_rows(url, "SHOW server_version_num")[0][0]) // 10000


def need_pg_dump(url: str) -> None:
    program = shutil.which("pg_dump")
    major = pgdump.pg_dump_major(program) if program else None
    if major is None or major < server_major(url):
        pytest.skip("no pg_dump as new as the server on PATH")


@pytest.fixture
def app(tmp_path: Path, pg_url: str) -> Path:
    pg_exec(pg_url, *SCHEMA)
    return pg_plan(tmp_path, pg_url, extra=STEPS)


def target_items(manifest: dict[str, object]) -> list[dict[str, object]]:
    items = manifest["items"]
    assert isinstance(items, list)
    return [i for i in items if i["role"] == "target"]


def test_pg_dump_is_used_when_it_is_as_new_as_the_server(app: Path, pg_url: str) -> None:
    need_pg_dump(pg_url)

    made = backup(load(app))

    assert made.manifest["target"]["method"] == "pg_dump"
    jobs = target_items(made.manifest)[0]
    assert (jobs["table"], jobs["stored"], jobs["format"]) == (
        "jobs",
        "target/000-jobs.sql",
        "pg_dump",
    )
    text = (made.path / "target/000-jobs.sql").read_text(encoding="utf-8")
    assert "CREATE TABLE public.jobs (" in text
    assert "COPY public.jobs (id, name) FROM stdin;\n1\tprobe\n2\tmux\n\\.\n" in text
    assert "OWNER TO" not in text


def test_without_pg_dump_ferry_dumps_the_rows_as_csv(
    app: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pgdump, "PG_DUMP", "ferry-test-no-such-pg_dump")

    made = backup(load(app))

    target = made.manifest["target"]
    assert (target["method"], target["method_note"]) == ("copy", "pg_dump is not on PATH")
    jobs = target_items(made.manifest)[0]
    assert (jobs["stored"], jobs["format"]) == ("target/000-jobs.csv", "csv")
    lines = (made.path / "target/000-jobs.csv").read_text(encoding="utf-8").splitlines()
    assert sorted(lines) == ["1,probe", "2,mux"]


def test_a_pg_dump_older_than_the_server_is_not_used(
    app: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pgdump, "pg_dump_major", lambda _program: 9)

    made = backup(load(app))

    target = made.manifest["target"]
    assert (target["method"], target["method_note"]) == (
        "copy",
        f"pg_dump 9 is older than the server ({server_major(pg_url)})",
    )


def test_asking_for_pg_dump_without_one_is_refused(
    app: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(pgdump, "PG_DUMP", "ferry-test-no-such-pg_dump")

    with pytest.raises(BackupError) as caught:
        backup(load(app), pg_method="pg_dump")

    assert caught.value.message.endswith("with pg_dump: pg_dump is not on PATH")
    assert not (tmp_path / "ferry-backups").exists()


@pytest.mark.parametrize("method", ["pg_dump", "copy"])
def test_the_manifest_records_rows_checksum_columns_and_sequences(
    app: Path, pg_url: str, method: str
) -> None:
    if method == "pg_dump":
        need_pg_dump(pg_url)

    made = backup(load(app), pg_method=method)

    jobs, steps = target_items(made.manifest)[:2]
    assert (jobs["rows"], steps["rows"]) == (2, 3)
    assert jobs["columns"] == [
        {"name": "id", "type": "bigint", "generated": False},
        {"name": "name", "type": "text", "generated": False},
    ]
    assert jobs["sequences"] == []
    assert steps["sequences"] == [
        {"column": "id", "sequence": "public.steps_id_seq", "last_value": 3, "is_called": True}
    ]
    assert (jobs["schema"], jobs["relname"]) == ("public", "jobs")
    assert isinstance(jobs["checksum"], str) and jobs["checksum"] != "0"


def test_the_checksum_ignores_row_order_but_not_values(app: Path, pg_url: str) -> None:
    plan = load(app)
    first = target_items(backup(plan, pg_method="copy").manifest)[0]["checksum"]
    pg_exec(pg_url, "DELETE FROM steps", "DELETE FROM jobs",
            "INSERT INTO jobs VALUES (2, 'mux'), (1, 'probe')")  # fmt: skip
    reordered = target_items(backup(plan, pg_method="copy").manifest)[0]["checksum"]
    pg_exec(pg_url, "UPDATE jobs SET name = 'Probe' WHERE id = 1")
    changed = target_items(backup(plan, pg_method="copy").manifest)[0]["checksum"]

    assert reordered == first
    assert changed != first


def test_tables_that_do_not_exist_yet_are_recorded_absent(tmp_path: Path, pg_url: str) -> None:
    plan = load(pg_plan(tmp_path, pg_url))

    made = backup(plan)

    assert target_items(made.manifest) == [
        {"role": "target", "table": "jobs", "state": "absent"},
        {"role": "target", "table": "ferry_runs", "state": "absent"},
        {"role": "target", "table": "ferry_rejects", "state": "absent"},
        {"role": "target", "table": "ferry.runs", "state": "absent"},
        {"role": "target", "table": "ferry.rejects", "state": "absent"},
    ]
    assert verify_backup(made.path).ok


def test_the_space_estimate_counts_the_tables_size_on_the_server(
    app: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    tables = pg_rows(
        pg_url,
        "SELECT sum(pg_total_relation_size(c)) FROM unnest(ARRAY['jobs', 'steps']::regclass[]) c",
    )[0][0]
    files = sum((tmp_path / n).stat().st_size for n in (
        "jobs.json", "state.db", "heartbeat_a.txt", "heartbeat_b.txt"))  # fmt: skip
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda _path: usage(100, 99, 1))

    with pytest.raises(BackupError) as caught:
        backup(load(app))

    assert caught.value.message == (
        f"not enough disk space for the backup in {tmp_path / 'ferry-backups'}: it needs "
        f"about {files + int(tables):,} bytes, only 1 bytes are free"
    )


def test_an_unreachable_pg_target_is_reported_and_nothing_is_left(tmp_path: Path) -> None:
    plan = load(pg_plan(tmp_path, "postgresql://postgres@127.0.0.1:1/nowhere"))

    with pytest.raises(TargetError) as caught:
        backup(plan)

    assert caught.value.message == (
        "cannot connect to PostgreSQL at postgres@127.0.0.1:1/nowhere (connection refused)"
    )
    assert not (tmp_path / "ferry-backups").exists()


def test_a_cancel_between_tables_removes_the_backup_folder(app: Path, tmp_path: Path) -> None:
    cancel = CancelToken()

    def emit(event: Event) -> None:
        if isinstance(event, StepStarted) and event.detail == "table steps":
            cancel.cancel()

    with pytest.raises(Cancelled):
        asyncio.run(create_backup(load(app), emit=emit, cancel=cancel))

    assert not (tmp_path / "ferry-backups").exists()


def test_ferry_backup_of_a_pg_target_prints_the_method(app: Path, pg_url: str) -> None:
    result = ferry("backup", app)

    assert result.exit_code == 0, result.output
    method = [line for line in result.stdout.splitlines() if line.startswith("method: ")]
    assert len(method) == 1
    assert method[0].split()[1] in ("pg_dump", "copy")
    assert "target table steps -> target/001-steps." in result.stdout
