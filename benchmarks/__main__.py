"""``python -m benchmarks run [--size small|medium|full] [--runs N] [--out docs/benchmarks.md]``."""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

from .bench import DEFAULT_PG, render, run

DOC_HEAD = """# Benchmarks

Produced by `python -m benchmarks run` (see `benchmarks/`). Each approach runs as its own
process; wall time is measured around the process (interpreter start included), peak RSS is
the process's `ru_maxrss` from `os.wait4` (the PostgreSQL server's memory is not included
for any approach). Rounds interleave references and Ferry so that noise from other load hits
both sides of a ratio; medians are shown. Ferry runs through the API (`migrate(plan,
write_reports=False)`, `verify(plan, write_reports=False)`): no backup, no report files.
Each PostgreSQL load goes into a fresh database with the tables pre-created (same DDL for
every approach except pgloader, which creates its own); the re-run, the checksum reference
and verify read the database of the same round's first Ferry run.

Run from the repository root with the project's venv (PostgreSQL at `--pg`, default
`postgresql://postgres@127.0.0.1:5432/postgres` or `FERRY_BENCH_PG_URL`; `psql` on PATH):

    pip install sqlite-utils py-spy   # the `bench` extra; pgloader: apt-get install pgloader
    python -m benchmarks run --size full --runs 3 --out docs/benchmarks.md

Data is generated once, deterministically, under `$FERRY_BENCH_CACHE` or
`$TMPDIR/ferry-bench/<size>-v<N>/` (full: 885 MiB SQLite + 265 MiB JSON, about a minute).
`--size small` (2k + 10k rows, 10k records) is for CI: its times are dominated by interpreter
start-up (importing Ferry ≈ 0.8 s), so only the full size says anything about the targets.
`--size medium` (a fifth of full: 40k + 200k rows, 200k records; a run of every approach takes
about two minutes) is for iterating on the engine; its ratios are close to full's.
`tests/core/test_benchmark_smoke.py` runs every approach once on `small` and checks results,
never times. Where the PostgreSQL server is on this machine its CPU competes with the client.
The PostgreSQL tables use `TEXT` for the JSON columns (`analysis`, `metadata`) and
`TIMESTAMPTZ` for the ISO timestamps, so Ferry parses every timestamp and passes JSON through.

"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    sub = parser.add_subparsers(dest="cmd", required=True)
    cmd = sub.add_parser("run", help="generate data (cached) and run the benchmark")
    cmd.add_argument("--size", choices=["small", "medium", "full"], default="small")
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
