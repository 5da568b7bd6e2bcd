"""``python -m benchmarks run [--size small|medium|full] [--runs N] [--out docs/benchmarks.md]``."""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

from .bench import DEFAULT_PG, render, run

DOC_HEAD = r"""# Benchmarks

Produced by `python -m benchmarks run` (see `benchmarks/`). Each approach runs as its own
process, started by a small launcher (`benchmarks/launcher.py`: a fresh `python -I -S` that
imports only `os`, `sys` and `time`, spawns the command and waits for it). Wall time is
measured by the launcher around the process (interpreter start included); peak RSS is the
process's `ru_maxrss` from `os.wait4`; CPU s (median) is the process's user + system time
from the same call, its own child processes included (Ferry's page scan and JSON workers; a
server's work is not): on a machine shared with other jobs it moves far less than the wall
time, so an A/B of a cost is best read there. Ferry's modules are compiled to bytecode
before the first round, as installing it does (run from a checkout with
`PYTHONDONTWRITEBYTECODE` set, each process compiled them again: 0.2–0.3 CPU s of start-up
an installed Ferry does not pay). The launcher is there because Linux carries the
parent's high-water mark over `exec`: spawned straight from the harness, which had grown
while generating the data, every approach (`psql` included) showed the harness's 184 MiB.
Through the launcher a figure can include at most the launcher's own few MiB (the results'
header says what a `true` shows). Ferry runs through the API (`migrate(plan,
write_reports=False)`, `verify(plan, write_reports=False)`: no backup, no report files) in
such a process too. The PostgreSQL server's memory is not included for any approach.
Rounds interleave references and Ferry so that noise from other load hits both sides of a
ratio; medians are shown.

The SQLite data has the shape of a real app's database (`benchmarks/data.py`): rowid keys
(`INTEGER PRIMARY KEY`), DEFAULTs, a foreign key from `execution_steps` to `content` with
`ON DELETE CASCADE`, and four secondary indexes (UNIQUE over a nullable column, two
columns, and two with a `DESC` column). Every approach loads into a new, empty target and
creates the schema itself, as a first move does:

- Ferry runs the plan `ferry init DB --target URL` drafts for that kind of target (drafted
  once per benchmark run, not timed: a person drafts and reviews a plan once). Its first run
  creates the tables, loads the rows, then builds the indexes, adds the foreign key and moves
  the identities past the loaded ids, all in its one transaction (on a SQLite target the
  foreign key is part of the `CREATE TABLE`). Its `merge` step timing includes that work.
  Its long values are stored with lz4 (the plan's default `[target] compression = "lz4"`,
  for Ferry's own transaction only), the floor's with the server's default (`pglz`);
  `FERRY_BENCH_COMPRESSION=server` runs Ferry with the server's default too, for an A/B
  (and `FERRY_BENCH_LOAD_APART=1/0` sets the plan's `load_apart`).
- The `psql \copy` floor does the same by hand in one transaction (`psql -1`):
  `CREATE TABLE` (identity keys, DEFAULTs), `\copy` of ready CSV, `CREATE INDEX`,
  `ALTER TABLE … ADD FOREIGN KEY`, `setval`; all of it is timed. The Python COPY reference
  does the same; pgloader builds its own tables, indexes and foreign keys.
- SQLite → SQLite: `VACUUM INTO` copies the indexes with the pages; the executemany
  reference creates the tables, inserts, then builds the indexes, in one transaction.
- SQLite → SQLite with transforms: the same drafted plan with text `ops` on three columns
  (`content.kind` upper, `execution_steps.step` upper, `execution_steps.status` trim and
  upper; `benchmarks.bench.TEXT_OPS`), against the same `VACUUM INTO` (limit 4×; the plain
  line's limit is issue 22's 2×).

After each load the harness compares the target's catalog with the source file's (every
index's table, columns, sort order and uniqueness; every foreign key's columns, referenced
table and `ON DELETE` action; `benchmarks/shape.py`), besides the row counts: a run that
skipped one is marked not correct, so no figure can come from it. pgloader is checked
without sort orders and actions: it must build every index and foreign key, but whether it
carries `DESC` and `ON DELETE` from SQLite was not measured here (not installed).
The re-run, the checksum reference and verify read the database of the same round's first
Ferry run. Ferry's first runs read a copy of the data (its file times a minute back), because
the delta lines write to it afterwards (`benchmarks/changes.py`): "source written seconds
before" changes a row and changes it back in two commits just before the re-run, so no row
differs but the file is newer than any re-run may trust unread; "1% changed" then updates 0.8%
of each table's rows (spread over the table, deterministic) and adds 0.2% new ones (for
JSON: edits those records' lines and appends records), and checks the re-run exactly: its
counts say those rows updated and inserted, and exactly those rows differ in the target
afterwards (PostgreSQL: the rows carrying a new `xmin`; SQLite: compared with a copy of the
target taken before). "Re-run right after the first run, 1% changed" is the first `ferry sync`
after a `ferry migrate` (no row prints kept yet): its own copy of the source and its own
database, the first run untimed, then the same 1% change and the same checks.

Run from the repository root with the project's venv (PostgreSQL at `--pg`, default
`postgresql://postgres@127.0.0.1:5432/postgres` or `FERRY_BENCH_PG_URL`; `psql` on PATH):

    pip install sqlite-utils py-spy   # the `bench` extra; pgloader: apt-get install pgloader
    python -m benchmarks run --size full --runs 3 --out docs/benchmarks.md

Data is generated once, deterministically, under `$FERRY_BENCH_CACHE` or
`$TMPDIR/ferry-bench/<size>-v<N>/` (medium: 191 MiB SQLite + 53 MiB JSON in about 15 s;
full is five times that).
`FERRY_BENCH_JSON_WORKERS=on` runs Ferry's JSON lines with the worker processes whatever the
machine's load (their rule, `ferry.load.inworker.idle_cores`, leaves them out when no core is
idle: on a shared machine, most of the time); say so with the figures.
`--size small` (2k + 10k rows, 10k records) is for CI: its times are dominated by interpreter
start-up (importing Ferry ≈ 0.8 s), so only the full size says anything about the targets.
`--size medium` (a fifth of full: 40k + 200k rows, 200k records; a run of every approach takes
about two minutes) is for iterating on the engine; its ratios are close to full's.
`--size huge` (ten times full: 2M + 10M rows in a 9.4 GiB SQLite file, 10M records in a
2.6 GiB JSON file; not in CI) is full's data ten times over: its first tenth is generated exactly
as full's, the other nine are copied inside SQLite (`INSERT … SELECT`, the ids, foreign keys,
unique URLs and titles shifted) and as text (the JSON lines' ids and names shifted): minutes,
not an hour of per-row Python. The `psql \copy` floor's CSV is exported (by the `sqlite3`
command line when there is one) when the floor first needs it; at huge it is removed after the
floor (9 GiB), and the run leaves out the delta lines (they need a copy of the source) and reads
the cached files. The backup and rollback lines (`ferry backup` of the source file and the
PostgreSQL target, then `ferry rollback` to that backup, through the API in a launcher process;
checked: the same rows, indexes and foreign keys after it) run at every size; the backup is
removed after them.
`tests/core/test_benchmark_smoke.py` runs every approach once on `small` and checks results,
never times; `tests/core/test_benchmark_measure.py` checks the launcher's memory figure, the
data's shape and the catalog comparison. Where the PostgreSQL server is on this machine its
CPU competes with the client. The PostgreSQL tables use `TEXT` for the JSON columns
(`analysis`, `metadata`) and `TIMESTAMPTZ` for the ISO timestamps (as `ferry init` drafts
them), so Ferry parses every timestamp and passes JSON through.

"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    sub = parser.add_subparsers(dest="cmd", required=True)
    cmd = sub.add_parser("run", help="generate data (cached) and run the benchmark")
    cmd.add_argument("--size", choices=["small", "medium", "full", "huge"], default="small")
    cmd.add_argument("--runs", type=int, default=3)
    cmd.add_argument(
        "--out",
        default=None,
        help="markdown file to write ('-': print only); default docs/benchmarks.md for the "
        "full size, print only for small (so a CI run never overwrites the real figures)",
    )
    cmd.add_argument("--pg", default=DEFAULT_PG, help="admin URL of the PostgreSQL server")
    cmd.add_argument("--skip", default="", help="comma-separated approach keys to leave out")
    args = parser.parse_args(argv)
    command = "python -m benchmarks " + shlex.join(sys.argv[1:] if argv is None else argv)
    started = time.perf_counter()
    skip = {s for s in args.skip.split(",") if s}
    bench = run(args.size, args.runs, args.pg, skip=skip)
    text = render(bench, command, args.runs, time.perf_counter() - started)
    print()
    print(text)
    target = args.out or ("docs/benchmarks.md" if args.size == "full" else "-")
    if target != "-":
        out = Path(target)
        notes = ""
        if out.exists():
            old = out.read_text(encoding="utf-8")
            marker = "\n## Where the time goes"
            if marker in old:
                notes = old[old.index(marker) :]
        out.write_text(
            DOC_HEAD + f"## Results ({args.size})\n\n" + text + "\n" + notes, encoding="utf-8"
        )
        print(f"\nwritten to {out}")
    bad = [
        ln.key
        for ln in bench.lines.values()
        if not ln.key.startswith("pgloader") and not ln.all_ok()
    ]
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
