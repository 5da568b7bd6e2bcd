"""Migrating into a target, the same on SQLite and PostgreSQL (ferry.migrate, ferry.targets).

Each test runs once per dialect (``target``: tests/core/contract/conftest.py). Sources are
in-memory fakes (tests/core/fakesource.py). What only one dialect does (its types, its error
texts, files beside a SQLite target, connection errors) is in test_migrate_sqlite.py and
test_migrate_postgres.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from fakesource import TYPED_ROWS, FakeTable, counts, install, make_plan, run
from targetkit import Target

from ferry.errors import Cancelled, ConflictError
from ferry.events import CancelToken, Event, StepStarted, TableProgress
from ferry.migrate import Reject
from ferry.plan import Plan


def simple_plan(target: Target, **table: Any) -> Plan:
    return make_plan(target.url, [{"name": "t", "source": "src", **table}], target.folder)


# -- idempotence --------------------------------------------------------------------------


def test_second_identical_run_changes_nothing(
    monkeypatch: pytest.MonkeyPatch, target: Target
) -> None:
    install(monkeypatch, {"src": FakeTable(TYPED_ROWS, key=("id",))})
    plan = simple_plan(target, columns={"seen": {"now": True}})
    run(plan)
    before = target.content(prints=False)
    result = run(plan)
    assert result.table("t").counts() == counts(read=4, unchanged=4)
    # (a table's second run may keep its row prints, Ferry's own, for the next run's delta)
    assert target.content(prints=False) == before


# -- conflict rules -----------------------------------------------------------------------

NOTES_SCHEMA = {
    "sqlite": """
CREATE TABLE notes (id TEXT PRIMARY KEY, body TEXT, updated_at DATETIME);
INSERT INTO notes VALUES ('a', 'target a', '2024-06-01 00:00:00');
INSERT INTO notes VALUES ('b', 'target b', '2024-01-01 00:00:00');
INSERT INTO notes VALUES ('z', 'target z', '2024-01-01 00:00:00');
""",
    "postgresql": """
CREATE TABLE notes (id text PRIMARY KEY, body text, updated_at timestamptz);
INSERT INTO notes VALUES ('a', 'target a', '2024-06-01 00:00:00+00'),
                         ('b', 'target b', '2024-01-01 00:00:00+00'),
                         ('z', 'target z', '2024-01-01 00:00:00+00');
""",
}

#: The PostgreSQL side also spells one time with an offset (the same instant in UTC).
NOTES_SOURCE = {
    "sqlite": [
        {"id": "a", "body": "source a", "updated_at": "2024-03-01T00:00:00Z"},
        {"id": "b", "body": "source b", "updated_at": "2024-03-01T00:00:00Z"},
        {"id": "c", "body": "source c", "updated_at": "2024-03-01T00:00:00Z"},
    ],
    "postgresql": [
        {"id": "a", "body": "source a", "updated_at": "2024-03-01T02:00:00+02:00"},
        {"id": "b", "body": "source b", "updated_at": "2024-03-01T00:00:00Z"},
        {"id": "c", "body": "source c", "updated_at": "2024-03-01T00:00:00Z"},
    ],
}


def notes_plan(target: Target, **table: Any) -> Plan:
    return make_plan(target.url, [{"name": "notes", "source": "notes", **table}], target.folder)


@pytest.fixture
def notes(monkeypatch: pytest.MonkeyPatch, target: Target) -> Target:
    target.exec(NOTES_SCHEMA[target.dialect])
    install(monkeypatch, {"notes": FakeTable(NOTES_SOURCE[target.dialect])})
    return target


def bodies(target: Target) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in target.rows("SELECT id, body FROM notes ORDER BY id")]


def test_conflict_insert_keeps_existing_rows(notes: Target) -> None:
    result = run(notes_plan(notes, conflict="insert"))
    assert bodies(notes) == [
        ("a", "target a"),
        ("b", "target b"),
        ("c", "source c"),
        ("z", "target z"),
    ]
    assert result.table("notes").counts() == counts(read=3, inserted=1, conflicts=2)
    assert result.warnings == [
        "notes: 2 conflicting rows kept as they are in the target (existing rows win)"
    ]


def test_conflict_update_overwrites_changed_rows(notes: Target) -> None:
    result = run(notes_plan(notes, conflict="update"))
    assert bodies(notes) == [
        ("a", "source a"),
        ("b", "source b"),
        ("c", "source c"),
        ("z", "target z"),
    ]
    assert result.table("notes").counts() == counts(read=3, inserted=1, updated=2)


def test_conflict_newer_keeps_a_newer_target_row(notes: Target) -> None:
    result = run(notes_plan(notes, conflict="newer", newer_by="updated_at"))
    assert bodies(notes) == [
        ("a", "target a"),
        ("b", "source b"),
        ("c", "source c"),
        ("z", "target z"),
    ]
    assert result.table("notes").counts() == counts(read=3, inserted=1, updated=1, conflicts=1)
    assert result.warnings == [
        "notes: 1 conflicting rows kept as they are in the target (newer rows in the target win)"
    ]


def test_conflict_error_raises_and_leaves_the_target_unchanged(notes: Target) -> None:
    before = notes.snapshot()
    with pytest.raises(ConflictError) as caught:
        run(notes_plan(notes, conflict="error"))
    assert caught.value.message == (
        "table notes: 2 rows already exist in the target with other values (first: id='a'; id='b')"
    )
    assert notes.snapshot() == before
    assert notes.tables() == ["notes"]


# -- delete_missing -----------------------------------------------------------------------


def test_rows_missing_from_the_source_stay_by_default(notes: Target) -> None:
    result = run(notes_plan(notes))
    assert [r[0] for r in bodies(notes)] == ["a", "b", "c", "z"]
    assert result.table("notes").deleted == 0


def test_delete_missing_deletes_rows_missing_from_the_source(notes: Target) -> None:
    result = run(notes_plan(notes, delete_missing=True))
    assert [r[0] for r in bodies(notes)] == ["a", "b", "c"]
    assert result.table("notes").counts() == counts(read=3, inserted=1, updated=2, deleted=1)


def test_delete_missing_after_a_run_without_it(notes: Target) -> None:
    kept = run(notes_plan(notes))
    assert [r[0] for r in bodies(notes)] == ["a", "b", "c", "z"]
    deleted = run(notes_plan(notes, delete_missing=True))
    assert [r[0] for r in bodies(notes)] == ["a", "b", "c"]
    assert (kept.table("notes").deleted, deleted.table("notes").deleted) == (0, 1)


def test_delete_missing_spares_rows_whose_source_row_was_rejected(
    monkeypatch: pytest.MonkeyPatch, target: Target
) -> None:
    target.exec(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER);"
        "INSERT INTO t VALUES (1, 1), (2, 2), (3, 3);",
    )
    install(monkeypatch, {"src": FakeTable([{"id": 1, "n": 1}, {"id": 2, "n": "bad"}])})
    result = run(simple_plan(target, key=["id"], delete_missing=True))
    assert target.rows("SELECT id, n FROM t ORDER BY id") == [(1, 1), (2, 2), (3, 3)]
    assert result.table("t").counts() == counts(read=2, unchanged=1, rejected=1)
    assert result.warnings == [
        "t: rows missing from the source were not deleted because 1 source rows were rejected"
    ]


def test_delete_missing_spares_rows_when_a_time_is_rejected(
    notes: Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = {"id": "b", "body": "x", "updated_at": "not a time"}
    install(monkeypatch, {"notes": FakeTable([NOTES_SOURCE[notes.dialect][0], bad])})
    result = run(notes_plan(notes, delete_missing=True))
    assert [r[0] for r in bodies(notes)] == ["a", "b", "z"]
    assert result.table("notes").counts() == counts(read=2, updated=1, rejected=1)


# -- duplicates ---------------------------------------------------------------------------


@pytest.mark.parametrize("batch_size", [1, None], ids=["batch-1", "default-batch"])
def test_duplicate_keys_last_one_wins(
    monkeypatch: pytest.MonkeyPatch, target: Target, batch_size: int | None
) -> None:
    rows = [{"id": 1, "v": "first"}, {"id": 2, "v": "other"}, {"id": 1, "v": "last"}]
    install(monkeypatch, {"src": FakeTable(rows, key=("id",))})
    options = {} if batch_size is None else {"batch_size": batch_size}
    plan = make_plan(target.url, [{"name": "t", "source": "src"}], target.folder, options=options)
    result = run(plan)
    assert target.rows("SELECT id, v FROM t ORDER BY id") == [(1, "last"), (2, "other")]
    assert result.table("t").counts() == counts(read=3, inserted=2, duplicates=1)
    assert result.warnings == [
        "src: 1 rows repeat a key of a later row in t; the last one of each key is used "
        "(first: id=1)"
    ]
    assert result.rejects == [
        Reject(
            "t",
            "id=1",
            "duplicate key: a later row with the same key replaces it",
            {"id": 1, "v": "first"},
            kind="duplicate",
            key_values={"id": 1},
        )
    ]
    assert result.rejected_total == 0


# -- preview ------------------------------------------------------------------------------


def test_preview_counts_deletes_without_deleting(notes: Target) -> None:
    before = notes.snapshot()
    result = run(notes_plan(notes, delete_missing=True), preview=True)
    assert result.table("notes").counts() == counts(read=3, inserted=1, updated=2, deleted=1)
    assert notes.snapshot() == before
    assert notes.tables() == ["notes"]


def test_preview_that_would_create_a_table_creates_none(
    monkeypatch: pytest.MonkeyPatch, target: Target
) -> None:
    target.exec("CREATE TABLE other (x INTEGER);")
    before = target.snapshot()
    install(monkeypatch, {"src": FakeTable(TYPED_ROWS, key=("id",))})
    result = run(simple_plan(target), preview=True)
    assert result.ddl[0].startswith('CREATE TABLE "t" (')
    assert result.table("t").inserted == 4
    assert target.snapshot() == before
    assert target.tables() == ["other"]


# -- cancel -------------------------------------------------------------------------------

MANY_ROWS = [{"id": i, "v": f"row {i}"} for i in range(6)]


def cancel_on(kind: type, token: CancelToken, step: str = "") -> Any:
    def emit(event: Event) -> None:
        if isinstance(event, kind) and (not step or getattr(event, "step", "") == step):
            token.cancel()

    return emit


def batched_plan(target: Target, batch_size: int = 2, source: str = "src") -> Plan:
    name = "notes" if source == "notes" else "t"
    return make_plan(
        target.url,
        [{"name": name, "source": source}],
        target.folder,
        options={"batch_size": batch_size},
    )


def test_cancel_after_the_first_progress_leaves_the_target_unchanged(
    monkeypatch: pytest.MonkeyPatch, target: Target
) -> None:
    target.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t VALUES (0, 'x');")
    before = target.snapshot()
    install(monkeypatch, {"src": FakeTable(MANY_ROWS, key=("id",))})
    token = CancelToken()
    events: list[Event] = []

    def emit(event: Event) -> None:
        events.append(event)
        if isinstance(event, TableProgress):
            token.cancel()

    with pytest.raises(Cancelled) as caught:
        run(batched_plan(target), emit=emit, cancel=token)
    assert caught.value.message == "Cancelled: the target was rolled back and is unchanged."
    assert sum(isinstance(e, TableProgress) for e in events) == 1
    assert target.snapshot() == before
    assert target.tables() == ["t"]


def test_cancel_in_the_first_batch_of_rows_that_change_the_target(notes: Target) -> None:
    before = notes.snapshot()
    token = CancelToken()
    with pytest.raises(Cancelled):
        run(batched_plan(notes, 1, "notes"), emit=cancel_on(TableProgress, token), cancel=token)
    assert notes.snapshot() == before
    assert notes.tables() == ["notes"]


@pytest.mark.parametrize("step", ["merge", "journal"])
def test_cancel_in_a_late_step_leaves_the_target_unchanged(
    monkeypatch: pytest.MonkeyPatch, target: Target, step: str
) -> None:
    target.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);")
    before = target.snapshot()
    install(monkeypatch, {"src": FakeTable(MANY_ROWS, key=("id",))})
    token = CancelToken()
    with pytest.raises(Cancelled):
        run(batched_plan(target), emit=cancel_on(StepStarted, token, step), cancel=token)
    assert target.snapshot() == before


def test_cancel_before_commit_leaves_the_notes_unchanged(notes: Target) -> None:
    before = notes.snapshot()
    token = CancelToken()
    with pytest.raises(Cancelled):
        run(notes_plan(notes), emit=cancel_on(StepStarted, token, "journal"), cancel=token)
    assert notes.snapshot() == before
