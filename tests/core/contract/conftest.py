"""The contract suites: one test, run against a SQLite file and a fresh PostgreSQL database.

``target`` is parametrised ``sqlite`` / ``postgresql``. The PostgreSQL case is marked ``pg``
(so ``-m 'not pg'`` deselects it and, in CI, a skip fails the run: tests/conftest.py) and
takes its database from the shared ``pg_url`` fixture. Behaviour only one dialect has stays in
the per-dialect files (tests/core/test_*_sqlite.py, test_*_postgres.py, ...).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# The shared test helpers (fakesource, pgkit, ...) live one folder up.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from targetkit import SourceDb, Target

import pgcluster

DIALECTS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.pg),
]


@pytest.fixture(params=DIALECTS)
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Target:
    """An empty target of each dialect; the plan's folder is ``tmp_path``."""
    if request.param == "sqlite":
        path = tmp_path / "app.db"
        return Target("sqlite", f"sqlite:///{path}", tmp_path, path)
    url: str = request.getfixturevalue("pg_url")
    return Target("postgresql", url, tmp_path, None)


@pytest.fixture(params=DIALECTS)
def source_db(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> SourceDb:
    """An empty source database of each dialect, read as source ``app``."""
    if request.param == "sqlite":
        path = tmp_path / "src.db"
        return SourceDb("sqlite", f"sqlite:///{path}", f"sqlite:///{path}", tmp_path, path)
    admin_url: str = request.getfixturevalue("pg_url")
    # As a plan holds it: any password moves to the environment.
    url, password = pgcluster.without_password(admin_url)
    if password is None:
        monkeypatch.delenv("FERRY_SOURCE_PASSWORD", raising=False)
    else:
        monkeypatch.setenv("FERRY_SOURCE_PASSWORD", password)
    return SourceDb("postgresql", url, admin_url, tmp_path, None)
