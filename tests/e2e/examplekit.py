"""Run one of ``examples/`` end to end: generate its data, then back up, preview, migrate,
migrate again, verify and roll back, checking what each step promises.

The flow, in this order (a re-run comes before verify because a verified run may rename the
legacy files to ``NAME.migrated``, as the py-captions seed did, after which there is nothing
left to re-read):

1. ``generate.py OUTDIR --rows N`` writes the legacy state and copies the plan beside it;
2. backup — its id is the one rolled back to at the end;
3. preview — the target (file or tables) is unchanged, and its counts are the migration's;
4. migrate — every table's counts; its JSON report lists the rejected rows with reasons;
5. migrate again — nothing inserted, updated or deleted: every row the first run wrote or found
   is unchanged, conflicts stay conflicts, and the target's rows are the same;
6. verify — verdict PASS (the CLI then renames the sources when the plan says so);
7. rollback to the backup of step 2, with the sources — the source files are byte for byte as
   they were; the target holds exactly the schema and rows it held (a SQLite file: every byte
   but the header's write counters; a file that did not exist is gone again).

Two drivers run it: ``"cli"`` (the installed ``ferry`` command, ``--json`` output) and
``"api"`` (``ferry.backup.create``, ``ferry.migrate``, ``ferry.verify.run``, ``ferry.rollback``).
Both yield the same plain dicts (``RunResult.to_dict()`` / ``VerifyResult.to_dict()``).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Container
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ferry.plan import Plan, load_plan, save_plan
from ferry.shape.schema import is_ferry_table

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
Driver = Literal["cli", "api"]


#: Ferry's own bookkeeping tables: they grow with every run by design (in a SQLite file; a
#: PostgreSQL target keeps them in the schema ``ferry``, which pg_tables does not list)
class _FerryOwned:
    """Every table Ferry keeps for itself in a SQLite target: its journal, row prints and
    undo changesets (``ferry.shape.schema.is_ferry_table``)."""

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and is_ferry_table(name)


JOURNAL_TABLES: Container[str] = _FerryOwned()


def generate(name: str, folder: Path, rows: int, *args: str) -> Path:
    """Run ``examples/<name>/generate.py`` into ``folder``; the plan it copied there."""
    script = EXAMPLES / name / "generate.py"
    command = [sys.executable, str(script), str(folder), "--rows", str(rows), *args]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    plan = folder / "ferry.toml"
    assert plan.is_file(), f"{script} did not copy ferry.toml to {folder}"
    return plan


def set_target(plan_path: Path, url: str) -> None:
    """Point a generated plan at another target (e.g. the test's PostgreSQL database)."""
    plan = load_plan(plan_path)
    plan.target.url = url
    save_plan(plan, plan_path)


def ferry_command() -> list[str]:
    """The ``ferry`` script installed beside this Python, else the module."""
    script = Path(sys.executable).parent / ("ferry.exe" if sys.platform == "win32" else "ferry")
    if script.exists():
        return [str(script)]
    found = shutil.which("ferry")
    return [found] if found else [sys.executable, "-m", "ferry.cli.command"]


def ferry(cwd: Path, *args: str, ok: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess[str]:
    """Run the ``ferry`` CLI; it never shows a traceback and exits with one of ``ok``."""
    proc = subprocess.run(
        [*ferry_command(), *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode in ok, f"ferry {' '.join(args)} exited {proc.returncode}:\n" + (
        proc.stdout + proc.stderr
    )
    return proc


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


#: header fields SQLite bumps whenever a file is written (change counter, schema cookie,
#: version-valid-for): a restored file matches the original in every other byte
_SQLITE_COUNTERS = (slice(24, 28), slice(40, 44), slice(92, 96))


def sqlite_content_sha256(path: Path) -> str:
    """SHA-256 of a SQLite file with its header's write counters zeroed."""
    data = bytearray(path.read_bytes())
    for field_ in _SQLITE_COUNTERS:
        data[field_] = bytes(field_.stop - field_.start)
    return hashlib.sha256(data).hexdigest()


# -- what the target and the sources hold ----------------------------------------------------


def sqlite_tables(db: Path, *, skip: Container[str] = frozenset()) -> dict[str, list[str]]:
    """Every table's rows (sorted, as text) plus the schema, of a SQLite file; the tables in
    ``skip`` are left out of both."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        names = [
            row[0]
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        dump = {
            "(schema)": sorted(
                repr(row[:3])
                for row in conn.execute("SELECT type, name, sql, tbl_name FROM sqlite_master")
                if row[3] not in skip
            )
        }
        for name in names:
            if name not in skip:
                rows = conn.execute(f'SELECT * FROM "{name}"').fetchall()
                dump[name] = sorted(repr(row) for row in rows)
        return dump
    finally:
        conn.close()


def pg_tables(url: str, *, skip: Container[str] = frozenset()) -> dict[str, list[str]]:
    """Every table's rows (sorted, as text) of a PostgreSQL database's public schema."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        names = [
            row[0]
            for row in conn.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1"
            )
        ]
        dump: dict[str, list[str]] = {}
        for name in names:
            if name not in skip:
                rows = conn.execute(f'SELECT * FROM "{name}"').fetchall()  # type: ignore[arg-type]
                dump[name] = sorted(repr(row) for row in rows)
        return dump


def target_state(plan: Plan, *, skip: Container[str] = frozenset()) -> dict[str, Any]:
    """What the target holds: for SQLite the file's SHA-256 (None: no file), the SHA-256 of
    its bytes but the header's write counters, and its rows."""
    if plan.target.is_sqlite:
        from ferry.targets.sqlite import sqlite_path

        db = sqlite_path(plan.target, plan.base_dir)
        if not db.exists():
            return {"file": None}
        return {
            "file": sha256(db),
            "content": sqlite_content_sha256(db),
            "tables": sqlite_tables(db, skip=skip),
        }
    return {"tables": pg_tables(plan.target.url, skip=skip)}


def target_rows(plan: Plan) -> dict[str, list[str]]:
    """The target's rows without Ferry's journal (what the application sees)."""
    state = target_state(plan, skip=JOURNAL_TABLES)
    tables: dict[str, list[str]] = state.get("tables", {})
    return tables


def source_state(plan: Plan) -> dict[str, str]:
    """SHA-256 of every file the plan's sources read, by path."""
    from ferry.backup.create import source_files

    return {str(item.path): sha256(item.path) for item in source_files(plan)}


def counts(run: dict[str, Any]) -> dict[str, dict[str, int]]:
    """Per ``table <- source``: the row counts of a run."""
    keys = ("rows_read", "inserted", "updated", "unchanged", "conflicts", "rejected", "duplicates")
    return {f"{t['name']} <- {t['source']}": {k: t[k] for k in keys} for t in run["tables"]}


def changed(run: dict[str, Any]) -> int:
    """Rows a run inserted, updated or deleted."""
    return sum(t["inserted"] + t["updated"] + t["deleted"] for t in run["tables"])


# -- the two drivers ---------------------------------------------------------------------------


class CliDriver:
    """Each step through the installed ``ferry`` command."""

    def __init__(self, plan_path: Path) -> None:
        self.plan_path = plan_path
        self.cwd = plan_path.parent

    def _json(self, *args: str, ok: tuple[int, ...] = (0,)) -> dict[str, Any]:
        proc = ferry(self.cwd, *args, self.plan_path.name, "--json", ok=ok)
        data: dict[str, Any] = json.loads(proc.stdout)
        return data

    def backup(self) -> str:
        proc = ferry(self.cwd, "backup", self.plan_path.name, "-q")
        found = re.search(r"Backup (\S+)", proc.stdout)
        assert found, proc.stdout
        return found.group(1)

    def preview(self) -> dict[str, Any]:
        return self._json("preview", "-q", "--diff", "*")

    def migrate(self) -> dict[str, Any]:
        return self._json("migrate", "-q")

    def verify(self) -> dict[str, Any]:
        return self._json("verify", ok=(0, 7))

    def rollback(self, backup_id: str) -> str:
        name = self.plan_path.name
        proc = ferry(self.cwd, "rollback", name, "--backup", backup_id, "--sources", "--yes")
        return proc.stdout


class ApiDriver:
    """Each step through the public Python API, as the wizard uses it."""

    def __init__(self, plan_path: Path) -> None:
        self.plan_path = plan_path
        self.plan = load_plan(plan_path)

    def backup(self) -> str:
        from ferry.backup.create import create_backup

        return asyncio.run(create_backup(self.plan)).id

    def preview(self) -> dict[str, Any]:
        from ferry.migrate import migrate

        result = asyncio.run(migrate(self.plan, preview=True, diff_tables=("*",)))
        return result.to_dict()

    def migrate(self) -> dict[str, Any]:
        from ferry.migrate import migrate

        return asyncio.run(migrate(self.plan)).to_dict()

    def verify(self) -> dict[str, Any]:
        from ferry.rollback import mark_migrated
        from ferry.verify.run import verify

        result = asyncio.run(verify(self.plan))
        if result.passed:  # what `ferry verify` does after a PASS
            mark_migrated(self.plan)
        return result.to_dict()

    def rollback(self, backup_id: str) -> str:
        from ferry.rollback import rollback

        result = asyncio.run(rollback(self.plan, backup_id=backup_id, restore_sources=True))
        return "\n".join(result.restored + result.renamed + result.proof)


# -- the flow ----------------------------------------------------------------------------------


@dataclass
class Flow:
    """What each step of :func:`run_flow` returned."""

    plan: Plan
    backup_id: str = ""
    preview: dict[str, Any] = field(default_factory=dict)
    first: dict[str, Any] = field(default_factory=dict)
    second: dict[str, Any] = field(default_factory=dict)
    verify: dict[str, Any] = field(default_factory=dict)
    rollback: str = ""
    #: the target's rows (journal excluded) after the first migration
    loaded: dict[str, list[str]] = field(default_factory=dict)
    #: the first migration's JSON report (``ferry-reports/migrate-<run>.json``)
    report: dict[str, Any] = field(default_factory=dict)

    def rejects(self, table: str) -> list[dict[str, Any]]:
        """The rejected rows of ``table`` the first run's report lists (not duplicates)."""
        rows: list[dict[str, Any]] = self.report["result"]["rejects"]
        return [r for r in rows if r["table"] == table and r["kind"] != "duplicate"]

    def table(self, run: dict[str, Any], name: str, source: str | None = None) -> dict[str, Any]:
        """One table's result in ``run`` (``source`` picks one of several feeding entries)."""
        found = [t for t in run["tables"] if t["name"] == name and source in (None, t["source"])]
        assert len(found) == 1, f"{name} <- {source}: {[t['source'] for t in found]}"
        return found[0]


def run_flow(
    plan_path: Path,
    driver: Driver,
    *,
    while_loaded: Callable[[Flow], None] | None = None,
) -> Flow:
    """Back up, preview, migrate, migrate again, verify and roll back ``plan_path``.

    ``while_loaded`` runs after verify and before the rollback, with the target holding the
    migrated data (example-specific checks: cascades, foreign keys, counts).
    """
    steps = CliDriver(plan_path) if driver == "cli" else ApiDriver(plan_path)
    plan = load_plan(plan_path)
    flow = Flow(plan)
    sources_before = source_state(plan)
    target_before = target_state(plan)

    flow.backup_id = steps.backup()

    flow.preview = steps.preview()
    assert flow.preview["status"] == "previewed", flow.preview.get("error")
    assert target_state(plan) == target_before, "the preview changed the target"

    flow.first = steps.migrate()
    assert flow.first["status"] == "completed", flow.first.get("error")
    assert counts(flow.preview) == counts(flow.first), "the preview's counts were not the run's"
    assert changed(flow.first) > 0
    report = Path(flow.first["report_path"]).with_suffix(".json")
    flow.report = json.loads(report.read_text(encoding="utf-8"))
    assert flow.report["result"]["rejects"] == flow.first["rejects"]
    flow.loaded = target_rows(plan)

    flow.second = steps.migrate()
    assert flow.second["status"] == "completed", flow.second.get("error")
    assert changed(flow.second) == 0, counts(flow.second)
    for before, again in zip(flow.first["tables"], flow.second["tables"], strict=True):
        # every row the first run wrote or found is now unchanged; conflicts stay conflicts
        loaded = before["inserted"] + before["updated"] + before["unchanged"]
        assert (again["unchanged"], again["conflicts"]) == (loaded, before["conflicts"]), again
    assert target_rows(plan) == flow.loaded, "the second run changed the target"

    flow.verify = steps.verify()
    assert flow.verify["verdict"] == "PASS", json.dumps(flow.verify, indent=1, default=str)

    if while_loaded is not None:
        while_loaded(flow)

    flow.rollback = steps.rollback(flow.backup_id)
    assert source_state(plan) == sources_before, "the sources were not restored"
    assert not [p for p in sources_before if Path(p + ".migrated").exists()]
    if not target_before.get("tables"):
        # nothing to keep history in: the target is back to nothing at all
        restored = settled(target_state(plan))
        assert restored == settled(target_before), "the rollback did not restore the target"
    else:
        # the app's tables are back byte for byte; Ferry's journal keeps the run history
        # (the runs since the backup marked rolled back, the rollback a run of its own)
        after = target_rows(plan)
        expected = {n: r for n, r in target_before["tables"].items() if n not in JOURNAL_TABLES}
        assert after == expected, (sorted(after), sorted(expected))
    return flow


def settled(state: dict[str, Any]) -> dict[str, Any]:
    """A target state as a rollback restores it: a SQLite file is written anew, so every byte
    but the header's write counters matches (the raw hash is left out)."""
    return {key: value for key, value in state.items() if key != "file" or value is None}


def reasons(flow: Flow, table: str) -> list[str]:
    """The reasons the first run's report gives for rejecting rows of ``table``."""
    return [r["reason"] for r in flow.rejects(table)]


__all__ = [
    "EXAMPLES",
    "ApiDriver",
    "CliDriver",
    "Flow",
    "changed",
    "counts",
    "ferry",
    "generate",
    "pg_tables",
    "reasons",
    "run_flow",
    "set_target",
    "sha256",
    "source_state",
    "sqlite_tables",
    "target_rows",
    "target_state",
]
