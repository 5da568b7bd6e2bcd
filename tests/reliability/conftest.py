"""Fixtures of the fault tests: a large-ish app state to migrate, and a small disk (tmpfs)."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

# The backup helpers of tests/core (backupkit) are reused here, not copied.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core"))

from faultkit import tmpfs

#: rows of the big source table; large enough that reading, staging and merging take a while
ITEMS = 60_000
JOBS = 10_000
#: rows the target's ``items`` table holds before the run (they are updated by it)
OLD_ITEMS = 1_000

BIG_PLAN = """name = "big"

[target]
url = "{url}"

[[sources]]
name = "state"
kind = "sqlite"
path = "{folder}/src.db"

[[sources]]
name = "jobs"
kind = "json"
path = "{folder}/jobs.json"

[[tables]]
name = "items"
source = "state.items"

[[tables]]
name = "jobs"
source = "jobs"
key = ["id"]
"""

#: order-independent digests of the two tables, computed by the database itself
DIGESTS = {
    "items": "SELECT count(*), count(DISTINCT id), sum(id), sum(qty), "
    "sum(length(name)), sum(CAST(round(price * 2) AS INTEGER)) FROM items",
    "jobs": "SELECT count(*), count(DISTINCT id), sum(id), sum(length(label)), "
    "sum(CASE WHEN done THEN 1 ELSE 0 END) FROM jobs",
}


def expected_digests() -> dict[str, tuple[int, ...]]:
    """What the target must hold after a complete run, computed from the source data."""
    ids = range(ITEMS)
    items = (
        ITEMS,
        ITEMS,
        sum(ids),
        sum(i % 97 for i in ids),
        sum(len(f"item-{i}") for i in ids),
        sum(i for i in ids),  # price = i * 0.5, so round(price * 2) = i
    )
    jobs = (
        JOBS,
        JOBS,
        sum(range(JOBS)),
        sum(len(f"job {i}") for i in range(JOBS)),
        len(range(0, JOBS, 2)),
    )
    return {"items": items, "jobs": jobs}


def old_items() -> list[tuple[int, str, int, float]]:
    return [(i, f"old-{i}", 0, 0.0) for i in range(OLD_ITEMS)]


@pytest.fixture(scope="session")
def big_sources(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite source (``items``) and a JSON source (``jobs``), shared read-only."""
    folder = tmp_path_factory.mktemp("big-sources")
    conn = sqlite3.connect(folder / "src.db")
    conn.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, qty INTEGER, price REAL)")
    conn.executemany(
        "INSERT INTO items VALUES (?, ?, ?, ?)",
        ((i, f"item-{i}", i % 97, i * 0.5) for i in range(ITEMS)),
    )
    conn.commit()
    conn.close()
    jobs = [{"id": i, "label": f"job {i}", "done": i % 2 == 0} for i in range(JOBS)]
    (folder / "jobs.json").write_text(json.dumps(jobs), encoding="utf-8")
    return folder


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Callable[[str, str], Path]]:
    """Mounts tmpfs folders: ``small_disk("name", "size=2m")`` (we run as root in CI).
    Outside CI, a machine where mounting is impossible skips with the reason; in CI that is
    a failure."""
    with contextlib.ExitStack() as stack:

        def mount(name: str, options: str) -> Path:
            try:
                return stack.enter_context(tmpfs(tmp_path / name, options))
            except OSError as exc:
                if os.environ.get("CI", "").lower() == "true":
                    pytest.fail(f"the full-disk tests need a tmpfs: {exc}", pytrace=False)
                pytest.skip(f"the full-disk tests need a tmpfs (run as root): {exc}")

        yield mount


@pytest.fixture(scope="session")
def sync_stores(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The app's stores of the sync and cutover fault tests (``syncfaultkit``), made once;
    each test works on a copy."""
    from syncfaultkit import make_pristine

    return make_pristine(tmp_path_factory.mktemp("sync-stores"))
