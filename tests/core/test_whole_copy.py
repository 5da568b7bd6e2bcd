"""A SQLite table copied whole, record for record (ferry.targets.sqlitecopy), gives exactly
what the row-by-row load gives.

Each test migrates a real SQLite source into a new SQLite file twice — once as drafted (the
whole copy may run) and once with ``native = false`` (Python maps every row) — and compares
the target's rows (with their storage classes), counts, rejects and warnings. Rows the whole
copy must not carry as they are (a missing parent, text that is not UTF-8, a value Python maps)
send the table back to the usual load, which rejects or maps them as it always did.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ferry.migrate import migrate
from ferry.plan import plan_from_dict
from ferry.results import RunResult
from ferry.targets import sqlitecheck, sqlitecopy

SCHEMA = """
CREATE TABLE content (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    kind TEXT NOT NULL DEFAULT 'note',
    created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    score REAL
);
CREATE TABLE steps (
    id INTEGER PRIMARY KEY,
    content_id INTEGER NOT NULL REFERENCES content (id) ON DELETE CASCADE,
    step TEXT NOT NULL,
    body BLOB
);
CREATE UNIQUE INDEX content_title ON content (title);
CREATE INDEX content_kind_created ON content (kind, created_at DESC);
CREATE INDEX steps_content_step ON steps (content_id, step);
"""


def source_db(folder: Path, content: list[tuple[Any, ...]], steps: list[tuple[Any, ...]]) -> Path:
    path = folder / "app.db"
    path.unlink(missing_ok=True)
    db = sqlite3.connect(path)
    db.executescript(SCHEMA)
    with db:
        db.executemany("INSERT INTO content VALUES (?, ?, ?, ?, ?)", content)
        db.executemany("INSERT INTO steps VALUES (?, ?, ?, ?)", steps)
    db.close()
    return path


def good_rows(n: int = 30) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    content = [
        (i, f"title {i}", "note", f"2024-05-{1 + i % 28:02d} 10:00:00", i / 3)
        for i in range(1, n + 1)
    ]
    steps = [(i, 1 + i % n, f"step {i % 4}", bytes([i % 256])) for i in range(1, 3 * n + 1)]
    return content, steps


def whole_plan(
    target: Path, source: Path, folder: Path, options: dict[str, Any] | None = None
) -> Any:
    """The plan moving ``content`` and ``steps`` of ``source`` into the new file ``target``."""
    return plan_from_dict(
        {
            "name": "whole",
            "target": {"url": f"sqlite:///{target}"},
            "sources": [{"name": "app", "kind": "sqlite", "path": str(source)}],
            "tables": [
                {"name": "content", "source": "app.content", "key": ["id"]},
                {"name": "steps", "source": "app.steps", "key": ["id"]},
            ],
            **({"options": options} if options is not None else {}),
        },
        folder,
    )


def load(folder: Path, source: Path, native: bool) -> tuple[RunResult, dict[str, Any]]:
    target = folder / f"target-{native}.db"
    for suffix in ("", "-journal"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    plan = whole_plan(target, source, folder, {"native": native})
    result = asyncio.run(migrate(plan, write_reports=False))
    db = sqlite3.connect(target)
    try:
        state = {
            table: db.execute(
                f"SELECT *, {', '.join(f'typeof({c})' for c in cols)} FROM {table} ORDER BY id"
            ).fetchall()
            for table, cols in (
                ("content", ("title", "kind", "created_at", "score")),
                ("steps", ("content_id", "step", "body")),
            )
        }
        state["indexes"] = sorted(
            db.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                "AND sql IS NOT NULL AND name NOT LIKE '%ferry%'"
            )
        )
    finally:
        db.close()
    return result, state


def outcome(result: RunResult) -> tuple[Any, ...]:
    counts = [(t.name, t.counts()) for t in result.tables]
    return (
        counts,
        sorted((r.table, r.key, r.reason) for r in result.rejects),
        sorted(result.warnings),
    )


@pytest.fixture
def copies(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """What each whole copy the run tried gave (table -> Copied or None)."""
    seen: dict[str, Any] = {}
    original = sqlitecopy.copy_whole

    async def spy(driver: Any, conn: Any, copy: sqlitecopy.WholeCopy) -> Any:
        seen[copy.table] = await original(driver, conn, copy)
        return seen[copy.table]

    from ferry.targets import sqlite as sqlite_target

    monkeypatch.setattr(sqlite_target, "copy_whole", spy)
    return seen


def same_as_python(folder: Path, source: Path) -> RunResult:
    whole, whole_state = load(folder, source, True)
    python, python_state = load(folder, source, False)
    assert whole_state == python_state
    assert outcome(whole) == outcome(python)
    return whole


def test_a_clean_table_is_copied_whole_with_its_indexes(
    tmp_path: Path, copies: dict[str, Any]
) -> None:
    source = source_db(tmp_path, *good_rows())
    same_as_python(tmp_path, source)
    assert copies["content"] == sqlitecopy.Copied(30, True)
    assert copies["steps"] == sqlitecopy.Copied(90, True)


def test_a_missing_parent_is_rejected_as_row_by_row(tmp_path: Path, copies: dict[str, Any]) -> None:
    content, steps = good_rows()
    steps[7] = (8, 999, "orphan", None)
    source = source_db(tmp_path, content, steps)
    result = same_as_python(tmp_path, source)
    assert copies["steps"] is None  # the copy was undone: the usual load rejected the row
    assert [(r.table, r.key) for r in result.rejects] == [("steps", "id=8")]


def test_a_text_parent_key_is_checked_row_by_row(tmp_path: Path, copies: dict[str, Any]) -> None:
    content, steps = good_rows()
    steps[3] = (4, "2", "text key", None)  # stored as the integer 2 (INTEGER affinity)
    steps[5] = (6, "two", "text key", None)  # stays text: no parent
    source = source_db(tmp_path, content, steps)
    result = same_as_python(tmp_path, source)
    assert copies["steps"] is None
    assert [r.key for r in result.rejects] == ["id=6"]


def test_text_that_is_not_utf8_is_mapped_as_row_by_row(
    tmp_path: Path, copies: dict[str, Any]
) -> None:
    content, steps = good_rows()
    source = source_db(tmp_path, content, steps)
    db = sqlite3.connect(source)
    with db:
        db.execute("UPDATE content SET title = CAST(X'6869FF' AS TEXT) WHERE id = 3")
    db.close()
    same_as_python(tmp_path, source)
    assert copies["content"] is None


def test_a_value_python_maps_sends_the_table_to_the_usual_load(
    tmp_path: Path, copies: dict[str, Any]
) -> None:
    content, steps = good_rows()
    content[4] = (5, "title 5", "note", "yesterday", 1.5)  # not a timestamp: rejected
    content[6] = (7, "title 7", "note", "2024-05-01T10:00:00+02:00", "2.5")  # text in REAL
    source = source_db(tmp_path, content, steps)
    same_as_python(tmp_path, source)
    assert copies["content"] is None
    assert copies["steps"] is None  # steps of the rejected row 5 lack their parent


def test_foreign_keys_are_enforced_again_after_a_copy(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "t.db", isolation_level=None)
    db.executescript(
        "PRAGMA foreign_keys = ON; CREATE TABLE p (id INTEGER PRIMARY KEY);"
        "CREATE TABLE c (p INTEGER REFERENCES p (id)); BEGIN IMMEDIATE;"
    )
    with sqlitecopy.foreign_keys_off(db) as off:
        assert off
        db.execute("INSERT INTO c VALUES (1)")  # no parent: allowed while off
    with pytest.raises(sqlite3.IntegrityError):
        db.execute("INSERT INTO c VALUES (2)")
    db.execute("ROLLBACK")
    db.close()


def test_a_table_without_its_source_indexes_gets_them_after_the_copy(
    tmp_path: Path, copies: dict[str, Any]
) -> None:
    content, steps = good_rows()
    source = source_db(tmp_path, content, steps)
    db = sqlite3.connect(source)
    db.execute("DROP INDEX steps_content_step")
    db.execute("CREATE INDEX steps_content_step ON steps (content_id DESC, step)")
    db.close()
    same_as_python(tmp_path, source)
    assert copies["steps"] == sqlitecopy.Copied(90, True)


TEXTS = st.one_of(
    st.none(),
    st.text(max_size=6),
    st.integers(-3, 3),
    st.sampled_from([b"\xff", b"ok", 2.5]),
)
TIMES = st.one_of(
    st.sampled_from(
        ["2024-05-01 10:00:00", "2024-05-01T10:00:00Z", "2024-02-30 00:00:00", "x", 17, None]
    ),
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    kinds=st.lists(TEXTS, min_size=1, max_size=6),
    times=st.lists(TIMES, min_size=1, max_size=6),
    parents=st.lists(
        st.one_of(st.integers(0, 8), st.sampled_from(["1", "x", 1.0, None])), max_size=8
    ),
)
def test_any_rows_give_the_row_by_row_result(
    tmp_path: Path, kinds: list[Any], times: list[Any], parents: list[Any]
) -> None:
    content = [
        (i, f"title {i}", kinds[i % len(kinds)] or "k", times[i % len(times)] or "2024-01-01", None)
        for i in range(1, 7)
    ]
    steps = [(i, p, "s", None) for i, p in enumerate(parents, start=1)]
    db_path = tmp_path / "app.db"
    db_path.unlink(missing_ok=True)
    db = sqlite3.connect(db_path)
    db.executescript(SCHEMA.replace("NOT NULL REFERENCES", "REFERENCES"))
    with db:
        for row in content:
            db.execute("INSERT INTO content VALUES (?, ?, ?, ?, ?)", row)
        db.executemany("INSERT INTO steps VALUES (?, ?, ?, ?)", steps)
    db.close()
    same_as_python(tmp_path, db_path)


def test_a_cancel_stops_the_check_between_chunks_and_leaves_no_target(
    tmp_path: Path, copies: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from ferry import Cancelled, CancelToken
    from ferry.native import stream

    monkeypatch.setattr(stream, "CHUNK_BYTES", 1)  # 1000 rows a chunk
    source = source_db(tmp_path, *good_rows(2500))
    cancel = CancelToken()
    checked = sqlitecheck.all_utf8

    def check_then_cancel(joined: Any) -> bool:
        cancel.cancel()  # asked for while the first chunk of content is checked
        return checked(joined)

    monkeypatch.setattr(sqlitecheck, "all_utf8", check_then_cancel)
    target = tmp_path / "target.db"
    plan = whole_plan(target, source, tmp_path)
    with pytest.raises(Cancelled):
        asyncio.run(migrate(plan, cancel=cancel, write_reports=False))
    assert copies == {}  # content's check stopped at its second chunk: nothing copied
    assert not target.exists()


@pytest.fixture
def side_checks(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Each side check the run started (None: the check ran on the target's connection)."""
    started: list[Any] = []
    original = sqlitecheck.start_side_check

    async def spy(driver: Any, copy: sqlitecopy.WholeCopy) -> Any:
        started.append(await original(driver, copy))
        return started[-1]

    monkeypatch.setattr(sqlitecopy, "start_side_check", spy)
    return started


def break_text(source: Path, table: str, column: str, row_id: int) -> None:
    db = sqlite3.connect(source)
    with db:
        db.execute(f"UPDATE {table} SET {column} = CAST(X'6869FF' AS TEXT) WHERE id = ?", (row_id,))
    db.close()


# the parts split content's rowids 1..2500 after 1250, in chunks of 1000 rows
@pytest.mark.parametrize("row_id", [1, 1000, 1001, 1250, 1251, 2250, 2251, 2500])
def test_text_that_is_not_utf8_at_either_end_of_a_part_or_chunk_undoes_the_copy(
    tmp_path: Path,
    copies: dict[str, Any],
    side_checks: list[Any],
    monkeypatch: pytest.MonkeyPatch,
    row_id: int,
) -> None:
    from ferry.native import stream

    monkeypatch.setattr(stream, "CHUNK_BYTES", 1)  # 1000 rows a chunk
    source = source_db(tmp_path, *good_rows(2500))
    break_text(source, "content", "title", row_id)
    same_as_python(tmp_path, source)
    assert copies["content"] is None
    assert side_checks and all(len(side.parts) == 2 for side in side_checks)


def test_a_clean_table_checked_while_it_is_copied_is_kept(
    tmp_path: Path, copies: dict[str, Any], side_checks: list[Any]
) -> None:
    source = source_db(tmp_path, *good_rows(50))
    same_as_python(tmp_path, source)
    assert copies == {"content": sqlitecopy.Copied(50, True), "steps": sqlitecopy.Copied(150, True)}
    assert len(side_checks) == 2 and None not in side_checks


@pytest.mark.parametrize("bad", [False, True])
def test_a_source_in_wal_mode_is_checked_on_the_targets_connection_first(
    tmp_path: Path, copies: dict[str, Any], side_checks: list[Any], bad: bool
) -> None:
    source = source_db(tmp_path, *good_rows())
    db = sqlite3.connect(source)
    assert db.execute("PRAGMA journal_mode = WAL").fetchone() == ("wal",)
    db.close()
    if bad:
        break_text(source, "content", "title", 30)
    same_as_python(tmp_path, source)
    assert side_checks and not any(side_checks)  # a later commit: in a new connection's view
    assert copies["content"] == (None if bad else sqlitecopy.Copied(30, True))


@pytest.mark.parametrize("bad", [False, True])
def test_a_part_that_cannot_read_leaves_the_check_to_the_targets_connection(
    tmp_path: Path, copies: dict[str, Any], monkeypatch: pytest.MonkeyPatch, bad: bool
) -> None:
    monkeypatch.setattr(sqlitecheck, "_check_part", lambda *args: None)  # as if locked out
    source = source_db(tmp_path, *good_rows())
    if bad:
        break_text(source, "content", "title", 2)
    same_as_python(tmp_path, source)
    assert copies["content"] == (None if bad else sqlitecopy.Copied(30, True))


@pytest.mark.parametrize("bad", [False, True])
def test_a_part_that_sees_another_file_leaves_the_check_to_the_targets_connection(
    tmp_path: Path, copies: dict[str, Any], monkeypatch: pytest.MonkeyPatch, bad: bool
) -> None:
    original = sqlitecheck._check_part
    outcomes: list[Any] = []

    def elsewhere(uri: str, queries: tuple[str, str, Any], *rest: Any) -> Any:
        sql, looks_sql, looks = queries  # as if the target saw one more page
        outcomes.append(original(uri, (sql, looks_sql, (looks[0] + 1, *looks[1:])), *rest))
        return outcomes[-1]

    monkeypatch.setattr(sqlitecheck, "_check_part", elsewhere)
    source = source_db(tmp_path, *good_rows())
    if bad:
        break_text(source, "content", "title", 2)
    same_as_python(tmp_path, source)
    assert outcomes and set(outcomes) == {None}
    assert copies["content"] == (None if bad else sqlitecopy.Copied(30, True))


def test_a_timestamp_with_text_past_a_nul_is_rejected_as_row_by_row(
    tmp_path: Path, copies: dict[str, Any]
) -> None:
    content, steps = good_rows()
    content[2] = (3, "title 3", "note", "2024-05-01 10:00:00\x00junk", 1.0)
    source = source_db(tmp_path, content, steps)
    result = same_as_python(tmp_path, source)
    assert copies["content"] is None
    assert ("content", "id=3") in [(r.table, r.key) for r in result.rejects]
