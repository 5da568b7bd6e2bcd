"""Generate the presentation service's state in the middle of its dual-write phase (seed 001).

    python generate.py OUTDIR [--rows N] [--seed S]

Writes two things, as the service left them:

* ``OUTDIR/data/jobs_dump.json`` — the in-memory ``self.jobs`` dict dumped to JSON at
  shutdown (``{"dumped_at": ..., "jobs": [asdict(job), ...]}``), and
* ``OUTDIR/presentation_jobs.db`` — the SQLite file the dual-write phase already writes:
  some jobs as in the dump, some older than the dump, some newer (updated after it, by
  ``last_heartbeat``), and a few created after the dump.

and copies ferry.toml and schema.sql beside them. Deterministic for a given seed and row
count; stdlib only. Unicode, NULLs, several timestamp styles, a job dumped twice and a few
broken jobs are included; the broken ones end up as rejects in the run's report.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sqlite3
import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
BASE = datetime(2025, 11, 10, 14, 3, 22, tzinfo=UTC)
PST = timezone(timedelta(hours=-8))
TOPICS = ["Quarterly Review", "Onboarding — Willkommen", "Product Roadmap 🚀", "Übersicht",
          "販売戦略", "Café Expansion Plan", "Post-mortem: Outage #42", "Board Update"]  # fmt: skip
STATUSES = ["queued", "processing", "rendering", "completed", "completed", "completed", "failed"]


def stamp(moment: datetime | None, style: int) -> str | float | None:
    """The dump's timestamps: json.dump(default=str) and a few hand-written styles."""
    if moment is None:
        return None
    style %= 5
    if style == 0:
        return str(moment.replace(tzinfo=None))  # str(datetime.now()): '2025-11-10 14:03:22.123'
    if style == 1:
        return moment.isoformat()  # ISO with zone
    if style == 2:
        return moment.replace(tzinfo=None).isoformat()  # ISO without zone
    if style == 3:
        return round(moment.timestamp(), 3)  # epoch seconds (time.time())
    return moment.astimezone(PST).isoformat()  # an offset


def db_time(moment: datetime | None) -> str | None:
    """How SQLAlchemy stores a DateTime in SQLite."""
    return None if moment is None else moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def make_job(rng: random.Random, number: int) -> dict[str, object]:
    job_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    status = rng.choice(STATUSES)
    created = BASE - timedelta(hours=rng.randrange(1, 72), seconds=rng.randrange(3600))
    done = status in ("completed", "failed")
    heartbeat = created + timedelta(seconds=rng.randrange(30, 1800)) if status != "queued" else None
    topic = rng.choice(TOPICS)
    slug = f"{job_id[:8]}"
    return {
        "job_id": job_id,
        "status": status,
        "progress": 100 if status == "completed" else rng.randrange(0, 95),
        "error": "ffmpeg: Conversion failed! — Übergang fehlgeschlagen"
        if status == "failed"
        else None,
        "video_url": f"/media/{slug}/presentation.mp4" if status == "completed" else None,
        "thumbnail_url": f"/media/{slug}/thumb.jpg" if status == "completed" else None,
        "slide_image_path": f"/tmp/slides/{slug}/{topic}.png" if number % 4 else None,
        "created_at": created,
        "completed_at": heartbeat if done else None,
        "last_heartbeat": heartbeat,
        "created_files": [f"/tmp/slides/{slug}/slide_{i}.png" for i in range(rng.randrange(0, 4))],
    }


def dumped(job: dict[str, object], style: int) -> dict[str, object]:
    out = dict(job)
    for name in ("created_at", "completed_at", "last_heartbeat"):
        value = job[name]
        out[name] = stamp(value, style) if isinstance(value, datetime) else value
    return out


def create_target(path: Path, rows: list[dict[str, object]]) -> None:
    """The dual-write database: the app's schema and the jobs it wrote."""
    path.unlink(missing_ok=True)
    with sqlite3.connect(path) as conn:
        conn.executescript((HERE / "schema.sql").read_text(encoding="utf-8"))
        for job in rows:
            conn.execute(
                "INSERT INTO presentation_jobs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    job["job_id"], job["status"], job["progress"], job["error"],
                    job["video_url"], job["thumbnail_url"], job["slide_image_path"],
                    db_time(job["created_at"]), db_time(job["completed_at"]),
                    db_time(job["last_heartbeat"]),
                    json.dumps(job["created_files"]),
                ),
            )  # fmt: skip
    conn.close()


def generate(out: Path, rows: int, seed: int) -> None:
    """Write the dump, the dual-write database and this example's plan into ``out``."""
    rng = random.Random(seed)
    jobs = [make_job(rng, number) for number in range(rows)]
    in_db: list[dict[str, object]] = []
    for number, job in enumerate(jobs):
        share = number % 10
        if share in (0, 1):  # dual-write kept up: the same state in both
            in_db.append(dict(job))
        elif share == 2:  # the database is older: the dump has the later state
            older = dict(job, status="processing", progress=10, video_url=None,
                         thumbnail_url=None, completed_at=None)  # fmt: skip
            if isinstance(job["last_heartbeat"], datetime):
                older["last_heartbeat"] = job["last_heartbeat"] - timedelta(minutes=5)
            in_db.append(older)
        elif share == 3 and job["last_heartbeat"] is not None:
            # Written after the dump: newer by last_heartbeat. It must not be overwritten.
            heartbeat = job["last_heartbeat"] + timedelta(minutes=7)
            later = {"status": "completed", "progress": 100, "last_heartbeat": heartbeat,
                     "completed_at": heartbeat, "video_url": "/media/re-rendered.mp4"}  # fmt: skip
            in_db.append({**job, **later})
    # Jobs created after the dump exist only in the database.
    for number in range(max(rows // 20, 1)):
        in_db.append(make_job(rng, rows + number))
    records = [dumped(job, number) for number, job in enumerate(jobs)]
    # The shutdown hook dumped a job again after its last update: the later entry wins.
    records.append(dict(records[5], status="failed", error="worker restarted ↻"))
    # Broken jobs: the run rejects them with the reason.
    records[6]["status"] = None  # status is NOT NULL
    records[7]["created_at"] = "gestern"  # not a timestamp
    records[9]["progress"] = "45%"  # not an integer
    data = out / "data"
    data.mkdir(parents=True, exist_ok=True)
    dump = {"dumped_at": BASE.isoformat(), "service": "presentation-api", "jobs": records}
    text = json.dumps(dump, indent=2, ensure_ascii=False) + "\n"
    (data / "jobs_dump.json").write_text(text, encoding="utf-8")
    create_target(out / "presentation_jobs.db", in_db)
    for name in ("ferry.toml", "schema.sql"):
        shutil.copyfile(HERE / name, out / name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--rows", type=int, default=200, help="jobs in the dump (default 200)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    generate(args.outdir, max(args.rows, 12), args.seed)
    print(f"presentation jobs written to {args.outdir}")


if __name__ == "__main__":
    main()
