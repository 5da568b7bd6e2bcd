"""Shared fixtures: a real PostgreSQL server for the tests that need one.

``pg_server_url`` (session) comes from ``FERRY_TEST_PG_URL``, a throwaway cluster or the
``pgserver`` wheel; see ``tests/pgcluster.py`` for the order and ``FERRY_TEST_PG_MODE``.
``pg_url`` gives each test its own empty database on it. Tests using either are marked ``pg``
automatically. Without a server they are skipped with a message saying how to get one, except
in CI (``CI=true``), where a skipped ``pg`` test fails the run.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

import pgcluster

pytest_plugins = ["pytester"]

_PG_FIXTURES = {"pg_url", "pg_server_url"}
_servers: list[pgcluster.PgServer] = []


@pytest.fixture(autouse=True)
def ferry_config_dir(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> str:
    """Each test's own Ferry config folder (``FERRY_CONFIG_DIR``): the signing key of backups
    and reports is made there, never in the user's home or OS keyring."""
    folder = str(tmp_path_factory.mktemp("ferry-config"))
    monkeypatch.setenv("FERRY_CONFIG_DIR", folder)
    return folder


@pytest.fixture(autouse=True)
def ferry_log_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each test's own folder for Ferry's log file (``FERRY_LOG_DIR``), never the user's."""
    folder = str(tmp_path_factory.mktemp("ferry-log"))
    monkeypatch.setenv("FERRY_LOG_DIR", folder)
    return folder


@pytest.fixture(autouse=True)
def ferry_workspace_dir(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Each test's own root of plan workspaces (``FERRY_WORKSPACE_DIR``), never the user's."""
    folder = tmp_path_factory.mktemp("ferry-workspaces")
    monkeypatch.setenv("FERRY_WORKSPACE_DIR", str(folder))
    return folder


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    """Admin URL (database ``postgres``) of the PostgreSQL server the tests use."""
    problem: pgcluster.NoServer | None = None
    try:
        server = pgcluster.provide_server()
    except pgcluster.NoServer as exc:
        problem = exc
    if problem is not None:  # outside the except block: no chained traceback in the report
        if problem.required or _in_ci():
            pytest.fail(f"PostgreSQL tests cannot run: {problem}", pytrace=False)
        pytest.skip(str(problem))
    _servers.append(server)
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def pg_url(pg_server_url: str) -> Iterator[str]:
    """URL of a new, empty database (``ferry_test_<hex>``), dropped after the test."""
    name = f"ferry_test_{uuid.uuid4().hex[:8]}"
    url = pgcluster.create_database(pg_server_url, name)
    try:
        yield url
    finally:
        pgcluster.drop_database(pg_server_url, name)


@pytest.fixture
def pg_source(pg_server_url: str) -> Iterator[str]:
    """URL of a second new, empty database (``ferry_src_<hex>``) to move an app's data from,
    dropped after the test."""
    name = f"ferry_src_{uuid.uuid4().hex[:8]}"
    url = pgcluster.create_database(pg_server_url, name)
    try:
        yield url
    finally:
        pgcluster.drop_database(pg_server_url, name)


@pytest.fixture
def two_urls(pg_server_url: str) -> Iterator[tuple[str, str]]:
    """URLs of two new, empty databases (an A/B of two code paths on the same rows)."""
    names = [f"ferry_test_{uuid.uuid4().hex[:8]}" for _ in range(2)]
    urls = [pgcluster.create_database(pg_server_url, name) for name in names]
    try:
        yield urls[0], urls[1]
    finally:
        for name in names:
            pgcluster.drop_database(pg_server_url, name)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def target_url(request: pytest.FixtureRequest) -> str:
    """Each kind of target in turn: a SQLite file in the test's folder (relative: the tests
    that take it run in their ``tmp_path``), then a new PostgreSQL database."""
    if request.param == "sqlite":
        return "sqlite:///target.db"
    url: str = request.getfixturevalue("pg_url")
    return url


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that uses a PostgreSQL fixture ``pg`` (for ``-m pg`` / ``-m 'not pg'``)."""
    for item in items:
        if _PG_FIXTURES & set(getattr(item, "fixturenames", ())) and not item.get_closest_marker(
            "pg"
        ):
            item.add_marker(pytest.mark.pg)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """In CI a skipped ``pg`` test is a failure: PostgreSQL coverage must never vanish."""
    report = yield
    if (
        report.skipped
        and not hasattr(report, "wasxfail")
        and item.get_closest_marker("pg") is not None
        and _in_ci()
    ):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"pg test skipped in CI (CI=true), which is not allowed: {reason}"
    return report


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say which PostgreSQL the run used and how long it took to start."""
    for server in _servers:
        terminalreporter.write_line(
            f"PostgreSQL for tests: {server.how} ({server.description}); "
            f"ready in {server.start_seconds:.2f} s"
        )
