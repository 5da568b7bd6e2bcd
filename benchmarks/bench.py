"""Interleaved benchmark of Ferry against minimal references; see docs/benchmarks.md.

Every approach runs as a child process (``benchmarks.runner`` or an external CLI) started by
a small launcher (:mod:`benchmarks.launcher`); its wall time is measured around the process
and its peak RSS comes from ``os.wait4``. After each run the target's indexes and foreign
keys are compared with the source file's (:mod:`benchmarks.shape`). Rounds run the
approaches interleaved (reference, Ferry, reference, Ferry, ...) so that noise from other
load on the machine hits both sides of each ratio alike; the table shows medians.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from .changes import (
    change_records,
    change_sqlite,
    pg_matches,
    pg_touched,
    pg_versions,
    sqlite_differing,
    touch_source,
)
from .data import (
    PG_AFTER_LOAD,
    PG_TABLES,
    SQLITE_INDEXES,
    SQLITE_TABLES,
    TABLES,
    Dataset,
    ensure,
)
from .launcher import Measured, launcher_floor_mib, run_process
from .shape import compare, loose, pg_shape, sqlite_shape

DEFAULT_PG = os.environ.get("FERRY_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
RSS_LIMIT_MIB = 150.0


# -- processes ------------------------------------------------------------------------------


@dataclass
class Sample:
    seconds: float
    rss_mib: float
    ok: bool
    detail: str = ""
    crashed: bool = False
    #: Ferry's own step timings (``read``, ``merge``, ``table:<name>`` ...), seconds
    steps: dict[str, float] = field(default_factory=dict)
    #: CPU seconds of the process and its children (servers not counted)
    cpu: float = 0.0

    @classmethod
    def of(cls, done: Measured, ok: bool, detail: str, crashed: bool = False) -> Sample:
        return cls(done.seconds, done.rss_mib, ok, detail, crashed, cpu=done.cpu_seconds)


def run_runner(approach: str, args: dict[str, Any]) -> tuple[Measured, dict[str, Any]]:
    done = run_process([sys.executable, "-m", "benchmarks.runner", approach, json.dumps(args)])
    report: dict[str, Any] = {}
    if done.code == 0 and done.stdout.strip():
        report = json.loads(done.stdout.strip().splitlines()[-1])
    return done, report


# -- PostgreSQL -----------------------------------------------------------------------------


def with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


def _admin(url: str):
    import psycopg

    return psycopg.connect(url, autocommit=True)


def create_db(server: str) -> str:
    """A new empty database: every approach creates its tables itself, as a first move does."""
    name = f"ferrybench_{uuid.uuid4().hex[:8]}"
    with _admin(server) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return with_database(server, name)


def drop_db(server: str, url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    with _admin(server) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def pg_counts(url: str, tables: tuple[str, ...] = TABLES) -> dict[str, int]:
    import psycopg

    out = {}
    with psycopg.connect(url) as conn:
        for table in tables:
            row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
            out[table] = int(row[0]) if row else -1
    return out


def sqlite_counts(path: Path, tables: tuple[str, ...]) -> dict[str, int]:
    db = sqlite3.connect(path)
    try:
        return {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}
    finally:
        db.close()


def _counts_ok(got: dict[str, int], data: Dataset) -> tuple[bool, str]:
    want = {t: data.rows(t) for t in TABLES}
    return got == want, "" if got == want else f"rows {got} != source {want}"


# -- plans ----------------------------------------------------------------------------------


def ferry_plan(
    draft: dict[str, Any], data: Dataset, target_url: str, source: Path | None = None
) -> dict[str, Any]:
    """The drafted plan (``ferry init``'s, see :meth:`Bench.draft`) aimed at ``target_url``,
    its source path absolute (``source``: a copy of the data's file instead)."""
    plan = json.loads(json.dumps(draft))
    plan["target"] = {**plan.get("target", {}), "url": target_url}
    for spec in plan["sources"]:
        if spec.get("path"):
            spec["path"] = str(source or data.sqlite.parent / spec["path"])
    # FERRY_BENCH_ROW_PRINTS=1/0: row prints on/off whatever the default (A/B of their cost)
    prints = os.environ.get("FERRY_BENCH_ROW_PRINTS")
    if prints in ("0", "1"):
        plan.setdefault("options", {})["row_prints"] = prints == "1"
    # FERRY_BENCH_LOAD_APART=1/0 and FERRY_BENCH_COMPRESSION=lz4/server: A/B of those choices
    apart = os.environ.get("FERRY_BENCH_LOAD_APART")
    if apart in ("0", "1"):
        plan.setdefault("options", {})["load_apart"] = apart == "1"
    compression = os.environ.get("FERRY_BENCH_COMPRESSION")
    if compression in ("lz4", "server") and not target_url.startswith("sqlite"):
        plan["target"]["compression"] = compression
    return plan


#: the transforms of the "with transforms" line: a plan normalising a few text columns
TEXT_OPS = {
    "content": {"kind": ["upper"]},
    "execution_steps": {"step": ["upper"], "status": ["trim", "upper"]},
}


def with_text_ops(plan: dict[str, Any]) -> dict[str, Any]:
    """``plan`` with :data:`TEXT_OPS` on its tables' columns (``columns.NAME.ops``)."""
    for table in plan["tables"]:
        for column, ops in TEXT_OPS.get(table["name"], {}).items():
            table.setdefault("columns", {})[column] = {"from": column, "ops": ops}
    return plan


def ferry_json_plan(data: Dataset, target_url: str, records: Path | None = None) -> dict[str, Any]:
    path = str(records or data.records)
    return {
        "name": "bench-json",
        "target": {"url": target_url},
        "sources": [{"name": "rec", "kind": "json", "path": path, "shape": "records"}],
        "tables": [{"name": "records", "source": "rec"}],
    }


# -- the approaches -------------------------------------------------------------------------


@dataclass
class Line:
    key: str
    label: str
    rows: int
    bytes: int
    samples: list[Sample] = field(default_factory=list)
    note: str = ""
    ferry: bool = False

    def all_ok(self) -> bool:
        return all(s.ok for s in self.samples)

    def good(self) -> list[Sample]:
        return [s for s in self.samples if s.ok]

    def median(self) -> float | None:
        good = self.good()
        return statistics.median(s.seconds for s in good) if good else None

    def cpu(self) -> float | None:
        """Median CPU seconds of the good runs (the process and its children)."""
        good = [s.cpu for s in self.good() if s.cpu]
        return statistics.median(good) if good else None

    def peak(self) -> float | None:
        good = self.samples
        return max(s.rss_mib for s in good) if good else None


class Bench:
    def __init__(
        self,
        data: Dataset,
        server: str,
        work: Path,
        log: Callable[[str], None] = print,
        skip: set[str] | None = None,
    ) -> None:
        self.data, self.server, self.work, self.log = data, server, work, log
        self.skip = skip or set()
        src_bytes = data.sqlite.stat().st_size
        json_bytes = data.records.stat().st_size
        n = data.sqlite_rows
        r = data.size.records
        self.lines: dict[str, Line] = {}
        for key, label, rows, size, ferry in [
            (
                "floor",
                "psql: tables, \\copy of ready CSV, indexes + FK (floor)",
                n,
                src_bytes,
                False,
            ),
            ("ferry_first", "Ferry migrate SQLite→PostgreSQL, empty database", n, src_bytes, True),
            (
                "ref_copy",
                "Python reference: fetchmany → COPY write_row, indexes",
                n,
                src_bytes,
                False,
            ),
            ("ferry_rerun", "Ferry migrate re-run, unchanged data", n, src_bytes, True),
            ("checksum", "Minimal streaming checksum (PG ∥ Python)", n, src_bytes, False),
            ("ferry_verify", "Ferry verify SQLite↔PostgreSQL", n, src_bytes, True),
            (
                "ferry_racy",
                "Ferry re-run, source written seconds before, no row changed",
                n,
                src_bytes,
                True,
            ),
            ("ferry_delta", "Ferry re-run, 1% changed (SQLite→PostgreSQL)", n, src_bytes, True),
            (
                "ferry_first_sync",
                "Ferry re-run right after the first run, 1% changed (no row prints kept)",
                n,
                src_bytes,
                True,
            ),
            ("ferry_backup", "Ferry backup (source file + PostgreSQL target)", n, src_bytes, True),
            ("ferry_rollback", "Ferry rollback (PostgreSQL target restored)", n, src_bytes, True),
            ("pgloader", "pgloader SQLite→PostgreSQL, default heap", n, src_bytes, False),
            ("pgloader_4g", "pgloader --dynamic-space-size 4096", n, src_bytes, False),
            ("vacuum", "SQLite VACUUM INTO", n, src_bytes, False),
            ("ferry_sqlite", "Ferry migrate SQLite→SQLite", n, src_bytes, True),
            (
                "ferry_sqlite_ops",
                "Ferry migrate SQLite→SQLite, text ops on 3 columns",
                n,
                src_bytes,
                True,
            ),
            ("executemany", "Python reference: executemany, then indexes", n, src_bytes, False),
            ("sqlite_utils", "sqlite-utils insert (JSON→SQLite)", r, json_bytes, False),
            ("ferry_json", "Ferry migrate JSON→SQLite", r, json_bytes, True),
            ("ferry_json_delta", "Ferry re-run, 1% changed (JSON→SQLite)", r, json_bytes, True),
        ]:
            if key not in self.skip:
                self.lines[key] = Line(key, label, rows, size, ferry=ferry)
        self.pgloader: str | None = None
        #: pgloader on its default heap crashed once: later rounds run only the 4 GiB line
        self.pgloader_default_crashed = False
        if "pgloader" in self.lines:
            self.pgloader = shutil.which("pgloader")
            if self.pgloader is None:
                self.lines["pgloader"].note = "not installed"
        if self.pgloader is None:
            self.lines.pop("pgloader_4g", None)
        #: the source file's indexes and foreign keys: every loaded target must have them
        self.shape = sqlite_shape(data.sqlite, TABLES)
        #: ``ferry init``'s plan per target kind, drafted once (untimed: a person drafts
        #: and reviews a plan once, then runs it)
        self.drafts: dict[str, dict[str, Any]] = {}
        #: what a trivial command shows as peak RSS through the launcher
        self.rss_floor = launcher_floor_mib()

    def draft(self, kind: str) -> dict[str, Any]:
        """The plan ``ferry init`` drafts from the SQLite file for a ``kind`` target
        (``postgresql``: an empty database; ``sqlite``: a file that does not exist yet)."""
        if kind not in self.drafts:
            scanned = self.data.sqlite
            if self.data.size.copies > 1:
                # huge: `ferry init` reads the whole file, several times (over 15 minutes
                # at 10 GiB); a sample with the same schema drafts the same plan
                scanned = draft_sample(self.data, self.work / "draft-sample.db")
            args: dict[str, Any] = {"sqlite": str(scanned), "base_dir": str(self.work)}
            url = create_db(self.server) if kind == "postgresql" else None
            args["target_url"] = url or f"sqlite:///{self.work / 'draft.db'}"
            try:
                done, report = run_runner("ferry_draft", args)
                rc, stderr = done.code, done.stderr
            finally:
                if url:
                    drop_db(self.server, url)
                (self.work / "draft.db").unlink(missing_ok=True)
            if rc != 0:
                raise RuntimeError(f"ferry init's draft for a {kind} target failed:\n{stderr}")
            self.drafts[kind] = report["plan"]
        return self.drafts[kind]

    def pg_shape_ok(self, url: str, exact: bool = True) -> tuple[bool, str]:
        """Rows as in the source, and the source's indexes and foreign keys (``exact``:
        with sort orders and ON DELETE actions)."""
        ok, detail = _counts_ok(pg_counts(url), self.data)
        if not ok:
            return ok, detail
        got, want = pg_shape(url, TABLES), self.shape
        return compare(got, want) if exact else compare(loose(got), loose(want))

    def sqlite_shape_ok(self, path: Path) -> tuple[bool, str]:
        ok, detail = _counts_ok(sqlite_counts(path, TABLES), self.data)
        return compare(sqlite_shape(path, TABLES), self.shape) if ok else (ok, detail)

    def _add(self, key: str, sample: Sample) -> None:
        self.lines[key].samples.append(sample)
        state = "ok" if sample.ok else ("CRASH" if sample.crashed else "WRONG")
        self.log(
            f"  {key:13s} {sample.seconds:8.2f} s  {sample.cpu:7.2f} CPU s  "
            f"{sample.rss_mib:7.1f} MiB  {state} {sample.detail}"
        )

    def _runner_sample(
        self,
        key: str,
        approach: str,
        args: dict[str, Any],
        check: Callable[[dict[str, Any]], tuple[bool, str]],
    ) -> dict[str, Any]:
        done, report = run_runner(approach, args)
        if done.code != 0:
            why = f"exit {done.code}: {done.stderr.strip()[-400:]}"
            self._add(key, Sample.of(done, False, why, True))
            return {}
        ok, detail = check(report)
        sample = Sample.of(done, ok, detail)
        sample.rss_mib = max(done.rss_mib, report.get("whole_rss_mib") or 0.0)  # + JSON workers
        sample.steps = report.get("steps") or {}
        self._add(key, sample)
        return report

    def round(self, i: int) -> None:
        data, server = self.data, self.server
        base = self.work / f"round{i}"
        base.mkdir(parents=True, exist_ok=True)
        has = self.lines.__contains__

        if has("floor"):
            data.ensure_csv(self.log)  # untimed
            url = create_db(server)
            script = base / "copy.sql"
            # what Ferry's first run does, by hand: the tables, the rows, then the indexes,
            # the foreign key and the identities past the loaded ids, in one transaction
            script.write_text(
                PG_TABLES
                + "".join(f"\\copy {t} FROM '{data.csv(t)}' WITH (FORMAT csv)\n" for t in TABLES)
                + PG_AFTER_LOAD
            )
            done = run_process(
                ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-1", "-f", str(script), url]
            )
            ok, detail = self.pg_shape_ok(url) if done.code == 0 else (False, done.stderr[-400:])
            self._add("floor", Sample.of(done, ok, detail, done.code != 0))
            drop_db(server, url)
            if data.size.copies > 1:
                data.drop_csv()  # huge: 9 GiB of disk the rest of the round needs

        ferry_url = create_db(server) if has("ferry_first") else None
        # A copy of the source when the delta lines write to it (untimed; the plan names it)
        source = data.sqlite
        if has("ferry_racy") or has("ferry_delta"):
            source = base / "app.db"
            aged_copy(data.sqlite, source)
        # (the other approaches read the data's own file: the copy changes after verify)
        args = {"base_dir": str(base), "sqlite": str(data.sqlite), "tables": list(TABLES)}
        if ferry_url:
            args["plan"] = ferry_plan(self.draft("postgresql"), data, ferry_url, source)

            def first_ok(rep: dict[str, Any]) -> tuple[bool, str]:
                inserted = {t: c["inserted"] for t, c in rep["tables"].items()}
                if inserted != {t: data.rows(t) for t in TABLES}:
                    return False, f"inserted {inserted}"
                return self.pg_shape_ok(ferry_url)

            self._runner_sample("ferry_first", "ferry_migrate", args, first_ok)

        if has("ref_copy"):
            url = create_db(server)
            self._runner_sample(
                "ref_copy",
                "ref_copy",
                {**args, "pg_url": url},
                lambda rep: self.pg_shape_ok(url),
            )
            drop_db(server, url)

        if ferry_url and has("ferry_rerun"):

            def rerun_ok(rep: dict[str, Any]) -> tuple[bool, str]:
                unchanged = {t: c["unchanged"] for t, c in rep["tables"].items()}
                if unchanged != {t: data.rows(t) for t in TABLES}:
                    return False, f"unchanged {unchanged}"
                return _counts_ok(pg_counts(ferry_url), data)

            self._runner_sample("ferry_rerun", "ferry_migrate", args, rerun_ok)

        if ferry_url and has("checksum"):
            self._runner_sample(
                "checksum",
                "checksum_ref",
                {**args, "pg_url": ferry_url},
                lambda rep: (
                    bool(rep.get("match")),
                    "" if rep.get("match") else str(rep["tables"]),
                ),
            )

        if ferry_url and has("ferry_verify"):
            self._runner_sample(
                "ferry_verify",
                "ferry_verify",
                args,
                lambda rep: (rep.get("verdict") == "PASS", str(rep.get("verdict"))),
            )
        if ferry_url and has("ferry_racy"):
            self._racy(ferry_url, source, args)
        if ferry_url and has("ferry_delta"):
            self._pg_delta(ferry_url, source, args)
        if ferry_url and has("ferry_backup"):
            self._backup_rollback(ferry_url, base, args)
        if ferry_url:
            drop_db(server, ferry_url)
        if source != data.sqlite:
            source.unlink(missing_ok=True)
        if has("ferry_first_sync"):
            self._first_sync(base)

        if has("pgloader") and self.pgloader:
            if not self.pgloader_default_crashed:
                self._pgloader("pgloader", [])
            if self.pgloader_default_crashed and has("pgloader_4g"):
                self._pgloader("pgloader_4g", ["--dynamic-space-size", "4096"])

        if has("vacuum"):
            target = base / "vacuum.db"
            self._runner_sample(
                "vacuum",
                "vacuum_into",
                {**args, "target": str(target)},
                lambda rep: self.sqlite_shape_ok(target),
            )
            target.unlink(missing_ok=True)

        if has("ferry_sqlite"):
            target = base / "ferry.db"  # not there yet: Ferry creates it as drafted
            plan = ferry_plan(self.draft("sqlite"), data, f"sqlite:///{target}", data.sqlite)
            self._runner_sample(
                "ferry_sqlite",
                "ferry_migrate",
                {**args, "plan": plan},
                lambda rep: self.sqlite_shape_ok(target),
            )
            target.unlink(missing_ok=True)

        if has("ferry_sqlite_ops"):
            target = base / "ferry-ops.db"
            plan = with_text_ops(ferry_plan(self.draft("sqlite"), data, f"sqlite:///{target}"))
            self._runner_sample(
                "ferry_sqlite_ops",
                "ferry_migrate",
                {**args, "plan": plan},
                lambda rep: self.sqlite_shape_ok(target),
            )
            target.unlink(missing_ok=True)

        if has("executemany"):
            target = base / "executemany.db"
            self._runner_sample(
                "executemany",
                "ref_executemany",
                {**args, "target": str(target)},
                lambda rep: self.sqlite_shape_ok(target),
            )
            target.unlink(missing_ok=True)

        if has("sqlite_utils"):
            self._sqlite_utils(base)

        if has("ferry_json"):
            target = base / "ferry_json.db"
            records = data.records
            if has("ferry_json_delta"):
                records = base / "records.json"  # a copy: the delta line changes it
                aged_copy(data.records, records)
            plan = ferry_json_plan(data, f"sqlite:///{target}", records)
            want = data.size.records
            self._runner_sample(
                "ferry_json",
                "ferry_migrate",
                {**args, "plan": plan},
                lambda rep: _one_count(sqlite_counts(target, ("records",))["records"], want),
            )
            if has("ferry_json_delta"):
                self._json_delta(target, records, {**args, "plan": plan})
            target.unlink(missing_ok=True)
        shutil.rmtree(base, ignore_errors=True)

    def _backup_rollback(self, url: str, base: Path, args: dict[str, Any]) -> None:
        """``ferry backup`` of the loaded target (and the source file), then ``ferry rollback``
        to that backup: the target holds the same rows, indexes and foreign keys after it.
        The backup (as large as the source and the target together) is removed after."""
        before = pg_counts(url)
        report = self._runner_sample(
            "ferry_backup",
            "ferry_backup",
            args,
            lambda rep: (rep.get("bytes", 0) > 0, f"{rep.get('bytes')} bytes"),
        )
        if report and "ferry_rollback" in self.lines:

            def ok(rep: dict[str, Any]) -> tuple[bool, str]:
                after = pg_counts(url)
                if after != before:
                    return False, f"rows {after} != before the backup {before}"
                return compare(pg_shape(url, TABLES), self.shape)

            self._runner_sample(
                "ferry_rollback", "ferry_rollback", {**args, "backup_id": report["id"]}, ok
            )
        for folder in ("ferry-backups", "ferry-reports"):
            shutil.rmtree(base / folder, ignore_errors=True)

    def _racy(self, url: str, source: Path, args: dict[str, Any]) -> None:
        """A re-run right after the app wrote to the source file without changing a row (a
        write the unchanged-file shortcut must not trust): every row counts unchanged."""
        touch_source(source)

        def ok(rep: dict[str, Any]) -> tuple[bool, str]:
            unchanged = {t: c["unchanged"] for t, c in rep["tables"].items()}
            if unchanged != {t: self.data.rows(t) for t in TABLES}:
                return False, f"unchanged {unchanged}"
            return _counts_ok(pg_counts(url), self.data)

        self._runner_sample("ferry_racy", "ferry_migrate", args, ok)

    def _first_sync(self, base: Path) -> None:
        """The first sync after a first run (``ferry migrate``, then the app writes, then
        ``ferry sync``): no row prints kept yet, 1% of the rows changed. Its own source copy
        and database, the first run untimed."""
        source = base / "app_sync.db"
        aged_copy(self.data.sqlite, source)
        url = create_db(self.server)
        try:
            plan = ferry_plan(self.draft("postgresql"), self.data, url, source)
            args = {"base_dir": str(base), "plan": plan}
            done, _ = run_runner("ferry_migrate", args)
            if done.code != 0:
                why = f"the first run failed: {done.stderr.strip()[-400:]}"
                self._add("ferry_first_sync", Sample.of(done, False, why, True))
                return
            self._pg_delta(url, source, args, "ferry_first_sync")
        finally:
            drop_db(self.server, url)
            source.unlink(missing_ok=True)

    def _pg_delta(
        self, url: str, source: Path, args: dict[str, Any], key: str = "ferry_delta"
    ) -> None:
        """1% of the rows changed (updates and inserts) since the last run: the counts say
        exactly those, and exactly those rows carry a new row version afterwards."""
        before = pg_versions(url)
        changes = change_sqlite(source, self.data)

        def ok(rep: dict[str, Any]) -> tuple[bool, str]:
            for table, (updated, inserted) in changes.items():
                got = rep["tables"][table]
                want = {"updated": len(updated), "inserted": len(inserted)}
                if {k: got[k] for k in want} != want:
                    return False, f"{table}: {got} != {want}"
                touched = pg_touched(url, table, before[table])
                if touched != set(updated) | set(inserted):
                    return False, f"{table}: {len(touched)} rows written, not the changed ones"
            if not pg_matches(url, source, changes):
                return False, "changed rows differ from the source"
            return True, ""

        self._runner_sample(key, "ferry_migrate", args, ok)

    def _json_delta(self, target: Path, records: Path, args: dict[str, Any]) -> None:
        """1% of the records changed (updates and appended records) since the first run:
        the counts say exactly those, and exactly those rows differ in the target."""
        snapshot = target.with_name("before_delta.db")
        shutil.copyfile(target, snapshot)
        updated, inserted = change_records(records, self.data)

        def ok(rep: dict[str, Any]) -> tuple[bool, str]:
            got = rep["tables"]["records"]
            want = {"updated": len(updated), "inserted": len(inserted)}
            if {k: got[k] for k in want} != want:
                return False, f"{got} != {want}"
            differ = sqlite_differing(target, snapshot, "records")
            if differ != set(updated) | set(inserted):
                return False, f"{len(differ)} rows differ, not the changed ones"
            return True, ""

        self._runner_sample("ferry_json_delta", "ferry_migrate", args, ok)
        snapshot.unlink(missing_ok=True)

    def _pgloader(self, key: str, options: list[str]) -> None:
        """pgloader into an empty database (it creates its own tables, indexes and foreign
        keys; checked without sort orders and ON DELETE actions, see :func:`loose`). A crash
        (SBCL heap exhausted on the default 1 GiB heap) is recorded as such, then the 4 GiB
        line runs."""
        assert self.pgloader is not None
        url = create_db(self.server)
        argv = [self.pgloader, *options, f"sqlite://{self.data.sqlite}", url]
        done = run_process(argv)
        rc, out, err = done.code, done.stdout, done.stderr
        text = (out + err).lower()
        crashed = rc != 0 or "heap exhausted" in text or "fatal error" in text
        if crashed:
            why = "heap exhausted" if "heap exhausted" in text else f"exit {rc}"
            ok, detail = False, f"{why}: " + (err or out).strip()[-200:].replace("\n", " ")
        else:
            ok, detail = self.pg_shape_ok(url, exact=False)
        self._add(key, Sample.of(done, ok, detail, crashed))
        drop_db(self.server, url)
        if crashed and key == "pgloader":
            self.pgloader_default_crashed = True
            self.lines[key].note = "crashed: " + detail.split(":", 1)[0]

    def _sqlite_utils(self, base: Path) -> None:
        exe = Path(sys.executable).parent / "sqlite-utils"
        if not exe.exists():
            self.lines["sqlite_utils"].note = "not installed (pip install sqlite-utils)"
            return
        target = base / "sqlite_utils.db"
        done = run_process(
            [str(exe), "insert", str(target), "records", str(self.data.records), "--pk", "id"]
        )
        if done.code != 0:
            self._add("sqlite_utils", Sample.of(done, False, done.stderr[-300:], True))
            return
        ok, detail = _one_count(
            sqlite_counts(target, ("records",))["records"], self.data.size.records
        )
        self._add("sqlite_utils", Sample.of(done, ok, detail))
        target.unlink(missing_ok=True)


def draft_sample(data: Dataset, path: Path, rows: int = 50_000) -> Path:
    """A small file with the data's schema and its first ``rows`` rows of each table."""
    if path.exists():
        return path
    db = sqlite3.connect(path)
    try:
        db.executescript(SQLITE_TABLES)
        db.execute("ATTACH DATABASE ? AS data", (f"file:{data.sqlite}?mode=ro",))
        with db:
            for table in TABLES:
                db.execute(f"INSERT INTO main.{table} SELECT * FROM data.{table} LIMIT {rows}")
        db.execute("DETACH DATABASE data")
        db.executescript(SQLITE_INDEXES)
    finally:
        db.close()
    return path


def aged_copy(source: Path, copy: Path) -> None:
    """Copy a data file, its times a minute back: as old as the cached file, so the first
    run's source is not one written seconds before (which no re-run may trust unread)."""
    shutil.copyfile(source, copy)
    old = time.time() - 60
    os.utime(copy, (old, old))


def _one_count(got: int, want: int) -> tuple[bool, str]:
    return got == want, "" if got == want else f"rows {got} != source {want}"


# -- the report -----------------------------------------------------------------------------


def _fmt(value: float | None, spec: str = ".2f") -> str:
    return "—" if value is None else format(value, spec)


def ratios(bench: Bench) -> list[tuple[str, float | None, str, float, bool | None]]:
    """(target, measured, comparison, limit, passed) for each target (issue 22's round three:
    first run ≤ 0.8× the floor, verify ≤ 0.5× the checksum, JSON ≥ 2× sqlite-utils; issue 20's
    deltas ≤ 0.2×)."""
    m = {k: line.median() for k, line in bench.lines.items()}

    def div(a: str, b: str) -> float | None:
        return m[a] / m[b] if m.get(a) and m.get(b) else None

    out = [
        ("Ferry first run / COPY floor (time)", div("ferry_first", "floor"), "≤", 0.8),
        ("Ferry re-run / Ferry first run (time)", div("ferry_rerun", "ferry_first"), "≤", 0.5),
        ("Ferry verify / minimal checksum (time)", div("ferry_verify", "checksum"), "≤", 0.5),
        (
            "Ferry re-run 1% changed / first run, SQLite→PostgreSQL (time)",
            div("ferry_delta", "ferry_first"),
            "≤",
            0.2,
        ),
        (
            "Ferry re-run 1% changed / first run, JSON→SQLite (time)",
            div("ferry_json_delta", "ferry_json"),
            "≤",
            0.2,
        ),
        (
            "Ferry re-run after a write seconds before / first run (time)",
            div("ferry_racy", "ferry_first"),
            "≤",
            0.2,
        ),
        ("Ferry SQLite→SQLite / VACUUM INTO (time)", div("ferry_sqlite", "vacuum"), "≤", 2.0),
        (
            "Ferry SQLite→SQLite with text ops / VACUUM INTO (time)",
            div("ferry_sqlite_ops", "vacuum"),
            "≤",
            4.0,
        ),
        (
            "Ferry JSON→SQLite / sqlite-utils (throughput)",
            div("sqlite_utils", "ferry_json"),
            "≥",
            2.0,
        ),
    ]
    peaks = [line.peak() for line in bench.lines.values() if line.ferry and line.peak() is not None]
    out.append(
        ("Ferry peak RSS, MiB (worst approach)", max(peaks) if peaks else None, "≤", RSS_LIMIT_MIB)
    )
    out.append(
        (
            "(info) Ferry re-run right after the first run, 1% changed / first run (time)",
            div("ferry_first_sync", "ferry_first"),
            "≤",
            float("nan"),
        )
    )
    out.append(
        (
            "(info) Ferry first run / Python COPY reference",
            div("ferry_first", "ref_copy"),
            "≤",
            float("nan"),
        )
    )
    out.append(
        (
            "(info) Ferry SQLite→SQLite / executemany",
            div("ferry_sqlite", "executemany"),
            "≤",
            float("nan"),
        )
    )
    result = []
    for name, value, op, limit in out:
        if value is None or limit != limit:
            passed = None
        else:
            passed = value <= limit if op == "≤" else value >= limit
        result.append((name, value, op, limit, passed))
    return result


def render(bench: Bench, command: str, runs: int, seconds_total: float) -> str:
    data = bench.data
    lines = [
        "| Approach | Median s | Runs (s) | CPU s | Rows/s | MB/s | Peak RSS MiB | Correct |",
        "|---|---:|---|---:|---:|---:|---:|---|",
    ]
    for line in bench.lines.values():
        if not line.samples and not line.note:
            continue  # e.g. the 4 GiB pgloader line when the default heap sufficed
        med = line.median()
        runs_txt = ", ".join(
            f"{s.seconds:.2f}" + ("" if s.ok else ("✗crash" if s.crashed else "✗"))
            for s in line.samples
        )
        rows_s = _fmt(line.rows / med, ",.0f") if med else "—"
        mb_s = _fmt(line.bytes / 1e6 / med, ".1f") if med else "—"
        if not line.samples:
            correct = "not run"
        elif all(s.ok for s in line.samples):
            correct = "yes"
        elif all(s.crashed for s in line.samples):
            correct = "crashed"
        else:
            correct = "no"
        note = f" ({line.note})" if line.note else ""
        lines.append(
            f"| {line.label}{note} | {_fmt(med)} | {runs_txt or '—'} | {_fmt(line.cpu())} | "
            f"{rows_s} | {mb_s} | "
            f"{_fmt(line.peak(), '.0f')} | {correct} |"
        )
    lines += ["", "| Target | Measured | Limit | Result |", "|---|---:|---:|---|"]
    for name, value, op, limit, passed in ratios(bench):
        if limit != limit:
            lines.append(f"| {name} | {_fmt(value)} | — | info |")
            continue
        if passed is None:
            verdict = "not measured"
        elif passed:
            verdict = "PASS"
        else:
            factor = value / limit if op == "≤" else limit / value
            verdict = f"MISS ({factor:.2f}× {'over' if op == '≤' else 'under'} the limit)"
        lines.append(f"| {name} | {_fmt(value)} | {op} {limit:g} | {verdict} |")
    steps_rows = []
    for line in bench.lines.values():
        names: list[str] = []
        for sample in line.samples:
            names += [n for n in sample.steps if n not in names]
        if not names:
            continue
        parts = []
        for name in names:
            values = [s.steps[name] for s in line.samples if name in s.steps]
            parts.append(f"{name} {statistics.median(values):.2f}")
        steps_rows.append(f"| {line.label} | {', '.join(parts)} |")
    if steps_rows:
        lines += [
            "",
            "Ferry's own step timings (its `StepFinished`/`TableFinished` events; medians, s):",
            "",
            "| Run | Steps |",
            "|---|---|",
            *steps_rows,
        ]
    table = "\n".join(lines)
    failures = [
        f"- {ln.key}: {s.detail}" for ln in bench.lines.values() for s in ln.samples if not s.ok
    ]
    header = [
        f"Size `{data.size.name}`: `content` {data.size.content:,} rows + `execution_steps` "
        f"{data.size.steps:,} rows (SQLite file {data.sqlite.stat().st_size / 2**20:,.0f} MiB); "
        f"JSON {data.size.records:,} records ({data.records.stat().st_size / 2**20:,.0f} MiB). "
        f"Every target is checked for the source's {len(bench.shape.indexes)} secondary "
        f"indexes and {len(bench.shape.foreign_keys)} foreign key(s).",
        f"Machine: {machine()}. Runs: {runs} per approach, interleaved; "
        f"total {seconds_total:.0f} s. Peak RSS through the launcher: a `true` shows "
        f"{bench.rss_floor:.0f} MiB.",
        f"Command: `{command}`",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
    ]
    body = "\n\n".join(["\n".join(header), table])
    if failures:
        body += "\n\nFailures:\n\n" + "\n".join(failures)
    return body


def machine() -> str:
    mem = "?"
    try:
        for row in Path("/proc/meminfo").read_text().splitlines():
            if row.startswith("MemTotal:"):
                mem = f"{int(row.split()[1]) / 2**20:.1f} GiB RAM"
    except OSError:
        pass
    cpu = platform.processor() or platform.machine()
    try:
        for row in Path("/proc/cpuinfo").read_text().splitlines():
            if row.startswith("model name"):
                cpu = row.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        pg = subprocess.run(["psql", "--version"], capture_output=True, text=True).stdout.strip()
    except OSError:
        pg = "psql ?"
    return (
        f"{os.cpu_count()} cores ({cpu}), {mem}, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, {pg}"
    )


def compile_ferry() -> None:
    """Compile Ferry's modules to bytecode first, as installing it does (pip, the packaged
    app): run from a source checkout under ``PYTHONDONTWRITEBYTECODE``, every process would
    compile its 200 modules again, 0.2-0.3 CPU s of start-up an installed Ferry never pays.
    Explicit compiles are written whatever that setting says; the ``__pycache__`` folders
    are ignored by git."""
    import compileall

    import ferry

    compileall.compile_dir(Path(ferry.__file__).parent, quiet=1)


def run(
    size: str,
    runs: int,
    server: str = DEFAULT_PG,
    log: Callable[[str], None] = print,
    skip: set[str] | None = None,
    cache: Path | None = None,
) -> Bench:
    data = ensure(size, log=log, root=cache)
    compile_ferry()
    with tempfile.TemporaryDirectory(prefix="ferry-bench-run-") as work:
        bench = Bench(data, server, Path(work), log=log, skip=skip)
        for i in range(runs):
            log(f"round {i + 1}/{runs}")
            bench.round(i)
    return bench
