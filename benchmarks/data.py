"""Deterministic benchmark data shaped like app state, cached per size.

``app.db`` (SQLite): ``content`` (ids, unicode titles, ISO timestamps, a ~400-byte JSON
``analysis``, a ~1.5 KB ``summary``, nullable columns) and ``execution_steps`` (small JSON
metadata); ``records.json``: an array of flat records with one nested object; ``csv/``: the
two tables as CSV for the ``psql \\copy`` floor (exported once, never timed).
"""

from __future__ import annotations

import csv
import json
import os
import random
import sqlite3
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

VERSION = 1  # bump when the shape changes: the cache key includes it


@dataclass(frozen=True)
class Size:
    name: str
    content: int
    steps: int
    records: int


SIZES = {
    "small": Size("small", 2_000, 10_000, 10_000),
    # a fifth of full: long enough that start-up does not dominate, quick to iterate with
    "medium": Size("medium", 40_000, 200_000, 200_000),
    "full": Size("full", 200_000, 1_000_000, 1_000_000),
}

SQLITE_SCHEMA = """
CREATE TABLE content (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    kind TEXT NOT NULL,
    created_at DATETIME NOT NULL,
    updated_at DATETIME,
    score REAL,
    analysis TEXT,
    summary TEXT,
    source_url TEXT
);
CREATE TABLE execution_steps (
    id INTEGER PRIMARY KEY,
    content_id INTEGER NOT NULL,
    step TEXT NOT NULL,
    status TEXT NOT NULL,
    started_at DATETIME NOT NULL,
    duration_ms INTEGER,
    metadata TEXT
);
"""

PG_SCHEMA = """
CREATE TABLE content (
    id BIGINT PRIMARY KEY,
    title TEXT NOT NULL,
    kind TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ,
    score DOUBLE PRECISION,
    analysis TEXT,
    summary TEXT,
    source_url TEXT
);
CREATE TABLE execution_steps (
    id BIGINT PRIMARY KEY,
    content_id BIGINT NOT NULL,
    step TEXT NOT NULL,
    status TEXT NOT NULL,
    started_at TIMESTAMPTZ NOT NULL,
    duration_ms BIGINT,
    metadata TEXT
);
"""

TABLES = ("content", "execution_steps")

_WORDS = [
    "alpha",
    "beta",
    "gamma",
    "delta",
    "Straße",
    "café",
    "naïve",
    "東京",
    "データ",
    "обзор",
    "résumé",
    "pipeline",
    "render",
    "encode",
    "upload",
    "archive",
    "review",
    "draft",
    "final",
    "✓",
    "🚀",
    "señal",
]
_KINDS = ("video", "article", "podcast", "image", "note")
_STEPS = ("fetch", "transcode", "analyse", "summarise", "publish", "notify")
_STATUS = ("ok", "ok", "ok", "failed", "skipped")
_EPOCH = datetime(2023, 1, 1, tzinfo=UTC)


def cache_root() -> Path:
    """Where generated data lives (``FERRY_BENCH_CACHE`` or the temp dir)."""
    env = os.environ.get("FERRY_BENCH_CACHE")
    return Path(env) if env else Path(tempfile.gettempdir()) / "ferry-bench"


@dataclass(frozen=True)
class Dataset:
    size: Size
    folder: Path

    @property
    def sqlite(self) -> Path:
        return self.folder / "app.db"

    @property
    def records(self) -> Path:
        return self.folder / "records.json"

    def csv(self, table: str) -> Path:
        return self.folder / "csv" / f"{table}.csv"

    def rows(self, table: str) -> int:
        return {"content": self.size.content, "execution_steps": self.size.steps}[table]

    @property
    def sqlite_rows(self) -> int:
        return self.size.content + self.size.steps


def _iso(rng: random.Random, base_s: int = 0) -> str:
    moment = _EPOCH + timedelta(
        seconds=base_s + rng.randrange(0, 60 * 86400), microseconds=rng.randrange(1_000_000)
    )
    return moment.isoformat()


def _text(rng: random.Random, length: int) -> str:
    parts: list[str] = []
    size = 0
    while size < length:
        word = rng.choice(_WORDS)
        parts.append(word)
        size += len(word) + 1
    return " ".join(parts)


def _content_rows(rng: random.Random, n: int):
    for i in range(1, n + 1):
        analysis = {
            "language": rng.choice(["en", "de", "fr", "ja"]),
            "sentiment": round(rng.uniform(-1, 1), 4),
            "topics": [rng.choice(_WORDS) for _ in range(6)],
            "entities": [
                {"name": _text(rng, 12), "score": round(rng.random(), 3)} for _ in range(4)
            ],
            "model": "analyser-2.3",
            "notes": _text(rng, 90),
        }
        yield (
            i,
            f"{_text(rng, 30)} #{i}",
            rng.choice(_KINDS),
            _iso(rng),
            _iso(rng, 60 * 86400) if rng.random() < 0.7 else None,
            round(rng.uniform(0, 100), 3) if rng.random() < 0.8 else None,
            json.dumps(analysis, ensure_ascii=False),
            _text(rng, 1500),
            f"https://example.org/c/{i}" if rng.random() < 0.5 else None,
        )


def _step_rows(rng: random.Random, n: int, parents: int):
    for i in range(1, n + 1):
        meta = {
            "attempt": rng.randrange(1, 4),
            "worker": f"w{rng.randrange(16)}",
            "ok": rng.random() < 0.9,
        }
        yield (
            i,
            rng.randrange(1, parents + 1),
            rng.choice(_STEPS),
            rng.choice(_STATUS),
            _iso(rng),
            rng.randrange(0, 600_000) if rng.random() < 0.9 else None,
            json.dumps(meta),
        )


def _records(rng: random.Random, n: int):
    for i in range(1, n + 1):
        yield {
            "id": i,
            "name": f"{_text(rng, 20)} {i}",
            "kind": rng.choice(_KINDS),
            "created_at": _iso(rng),
            "size": rng.randrange(0, 10**9),
            "ratio": round(rng.random(), 5),
            "done": rng.random() < 0.5,
            "note": _text(rng, 60) if rng.random() < 0.6 else None,
            "meta": {"owner": f"user{rng.randrange(1000)}", "rev": rng.randrange(100)},
        }


def ensure(size_name: str, log=print, root: Path | None = None) -> Dataset:
    """Generate (once) and return the dataset for ``size_name``."""
    size = SIZES[size_name]
    folder = (root or cache_root()) / f"{size.name}-v{VERSION}"
    data = Dataset(size, folder)
    if (folder / "READY").exists():
        return data
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "csv").mkdir(exist_ok=True)
    log(f"generating {size.name} data in {folder} ...")
    rng = random.Random(20260601)
    if data.sqlite.exists():
        data.sqlite.unlink()
    db = sqlite3.connect(data.sqlite)
    db.executescript(SQLITE_SCHEMA)
    db.execute("PRAGMA journal_mode=OFF")
    db.execute("PRAGMA synchronous=OFF")
    with db:
        db.executemany(
            "INSERT INTO content VALUES (?,?,?,?,?,?,?,?,?)", _content_rows(rng, size.content)
        )
        db.executemany(
            "INSERT INTO execution_steps VALUES (?,?,?,?,?,?,?)",
            _step_rows(rng, size.steps, size.content),
        )
    db.execute("PRAGMA journal_mode=DELETE")
    for table in TABLES:
        with open(data.csv(table), "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            cur = db.execute(f"SELECT * FROM {table} ORDER BY id")
            while batch := cur.fetchmany(10_000):
                # NULL -> unquoted empty field (COPY CSV's NULL); '' never occurs in the data
                writer.writerows(batch)
    db.close()
    with open(data.records, "w", encoding="utf-8") as fh:
        fh.write("[\n")
        for i, record in enumerate(_records(rng, size.records)):
            fh.write(("," if i else "") + json.dumps(record, ensure_ascii=False) + "\n")
        fh.write("]\n")
    (folder / "READY").write_text("ok\n")
    log(
        f"generated: app.db {data.sqlite.stat().st_size / 2**20:.0f} MiB, "
        f"records.json {data.records.stat().st_size / 2**20:.0f} MiB"
    )
    return data


if __name__ == "__main__":
    import sys

    ensure(sys.argv[1] if len(sys.argv) > 1 else "small")
