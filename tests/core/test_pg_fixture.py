"""The PostgreSQL test fixtures and the helpers behind them (tests/pgcluster.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import psycopg
import pytest

import pgcluster

TESTS_DIR = Path(__file__).resolve().parents[1]


def test_pg_url_answers_select_1(pg_url: str) -> None:
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_pg_url_is_a_fresh_ferry_test_database(pg_url: str) -> None:
    with psycopg.connect(pg_url) as conn:
        row = conn.execute("SELECT current_database()").fetchone()
    assert row is not None
    assert row[0].startswith("ferry_test_")
    assert len(row[0]) == len("ferry_test_") + 8


def test_pg_url_database_has_no_tables(pg_url: str) -> None:
    with psycopg.connect(pg_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone()
    assert row == (0,)


@pytest.mark.parametrize("run", [1, 2])
def test_tables_do_not_leak_between_tests(pg_url: str, run: int) -> None:
    # Both runs create the same table: the second would fail if they shared a database.
    with psycopg.connect(pg_url) as conn:
        conn.execute("CREATE TABLE leak_check (id integer)")
        conn.execute("INSERT INTO leak_check VALUES (%s)", (run,))
        assert conn.execute("SELECT id FROM leak_check").fetchall() == [(run,)]


def test_pg_tests_are_marked_pg(request: pytest.FixtureRequest, pg_server_url: str) -> None:
    assert request.node.get_closest_marker("pg") is not None


def test_drop_database_removes_it(pg_server_url: str) -> None:
    pgcluster.create_database(pg_server_url, "ferry_test_dropme")
    pgcluster.drop_database(pg_server_url, "ferry_test_dropme")
    with psycopg.connect(pg_server_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_database WHERE datname = 'ferry_test_dropme'"
        ).fetchone()
    assert row == (0,)


def test_with_database_replaces_only_the_database() -> None:
    url = pgcluster.with_database("postgresql://u:pw@127.0.0.1:5433/postgres?sslmode=disable", "x")
    assert url == "postgresql://u:pw@127.0.0.1:5433/x?sslmode=disable"


def test_with_database_keeps_a_socket_host() -> None:
    url = pgcluster.with_database("postgresql://postgres@/postgres?host=/tmp/s", "ferry_test_1")
    assert url == "postgresql://postgres@/ferry_test_1?host=/tmp/s"


def test_without_password_splits_it_off() -> None:
    url = "postgresql://app:s3cret@db.example:5432/prod"
    assert pgcluster.without_password(url) == ("postgresql://app@db.example:5432/prod", "s3cret")


def test_without_password_leaves_a_url_without_one() -> None:
    url = "postgresql://postgres@127.0.0.1:5432/postgres"
    assert pgcluster.without_password(url) == (url, None)


def test_unknown_mode_is_refused() -> None:
    with pytest.raises(pgcluster.NoServer, match="is not one of auto, url, cluster, pgserver"):
        pgcluster.provide_server("docker")


def test_url_mode_without_url_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FERRY_TEST_PG_URL", raising=False)
    with pytest.raises(pgcluster.NoServer, match="FERRY_TEST_PG_URL is not set"):
        pgcluster.provide_server("url")


def test_url_mode_uses_the_url_as_is(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FERRY_TEST_PG_URL", "postgresql://a:b@h:1/postgres")
    assert pgcluster.provide_server("auto").url == "postgresql://a:b@h:1/postgres"


# A pg test that cannot get a server: skipped locally, a failure in CI.
_SKIPPING_TEST = """
import pytest

@pytest.mark.pg
def test_needs_pg():
    pytest.skip("no server")
"""


def _run_skipping_pg_test(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, ci: str | None
) -> pytest.RunResult:
    shutil.copy(TESTS_DIR / "conftest.py", pytester.path / "conftest.py")
    shutil.copy(TESTS_DIR / "pgcluster.py", pytester.path / "pgcluster.py")
    pytester.makeini("[pytest]\nmarkers =\n    pg: needs PostgreSQL\n")
    pytester.makepyfile(test_skipping=_SKIPPING_TEST)
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    return pytester.runpytest_subprocess("-p", "no:cacheprovider")


def test_skipped_pg_test_fails_in_ci(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = _run_skipping_pg_test(pytester, monkeypatch, "true")
    result.assert_outcomes(failed=1)


def test_skipped_pg_test_is_a_skip_outside_ci(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = _run_skipping_pg_test(pytester, monkeypatch, None)
    result.assert_outcomes(skipped=1)
