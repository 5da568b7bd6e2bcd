"""The benchmark harness on its ``small`` data, once per approach: every result is correct.

Times are never asserted here (they are what ``python -m benchmarks run`` is for); this test
only keeps the harness and each approach's correctness check working. pgloader and
sqlite-utils are optional installs: their lines are left out when absent.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.bench import render, run  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.pg, pytest.mark.timeout(180)]

REQUIRED = {
    "floor",
    "ferry_first",
    "ref_copy",
    "ferry_rerun",
    "checksum",
    "ferry_verify",
    "ferry_racy",
    "ferry_delta",
    "ferry_json_delta",
    "vacuum",
    "ferry_sqlite",
    "ferry_sqlite_ops",
    "executemany",
    "ferry_json",
    "ferry_backup",
    "ferry_rollback",
}


def test_every_approach_gives_a_correct_result_on_small_data(
    pg_server_url: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    if shutil.which("psql") is None:
        pytest.fail("psql is needed for the COPY floor line", pytrace=False)
    skip = set()
    if shutil.which("pgloader") is None:
        skip.add("pgloader")
    if not (Path(sys.executable).parent / "sqlite-utils").exists():
        skip.add("sqlite_utils")
    logged: list[str] = []
    bench = run(
        "small",
        1,
        pg_server_url,
        log=logged.append,
        skip=skip,
        cache=tmp_path_factory.mktemp("bench-cache"),
    )

    assert set(bench.lines) >= REQUIRED
    for line in bench.lines.values():
        if line.key == "pgloader_4g" and not bench.pgloader_default_crashed:
            continue  # only run when pgloader crashed on its default heap
        assert len(line.samples) >= 1, f"{line.key} did not run: {line.note}"
        if line.key == "pgloader" and all(s.crashed for s in line.samples):
            # pgloader may crash on its default heap; the 4 GiB line must then be correct.
            assert bench.lines["pgloader_4g"].all_ok(), "\n".join(logged)
            continue
        assert all(s.ok for s in line.samples), "\n".join(logged)
        assert all(s.rss_mib > 0 for s in line.samples)
    text = render(bench, "python -m benchmarks run --size small --runs 1", 1, 0.0)
    assert "| Ferry first run / COPY floor (time) |" in text
    for key in REQUIRED:
        assert f"| {bench.lines[key].label} |" in text
