"""Generate py-captions' legacy state: the JSON and text files its SQLite migration replaced.

    python generate.py OUTDIR [--rows N] [--seed S]

Writes OUTDIR/data/ (settings.json, .env, executions.json, state.json, progress.json,
polling_cache.json, heartbeat_*.txt) and copies this example's ferry.toml and schema.sql to
OUTDIR, so `cd OUTDIR && ferry preview ferry.toml` works. Deterministic for a given seed and
row count; stdlib only. Like real legacy data it holds unicode, NULLs, four timestamp styles,
duplicates and a few broken rows (which end up as rejects in the run's report).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
BASE = datetime(2025, 11, 10, 14, 3, 22, tzinfo=UTC)
CET = timezone(timedelta(hours=1))
TITLES = [
    "Tagesschau",
    "Tatort: Schüsse im Präsidium",
    "Ça va? — Le Journal",
    "日本のニュース",
    "🎬 Movie Night: Amélie",
    "The Late Show",
    "Jeopardy!",
    "Nightly News",
    "Doctor Who – “Blink”",
    "Planet Earth III",
    "Noticias Telemundo: Edición Nocturna",
    "Masterpiece: Downton Abbey",
]
STEP_NAMES = ["probe", "whisper", "ffmpeg_mux", "verify"]
VERBOSITY = ["NORMAL", "VERBOSE", "MINIMAL"]


def stamp(moment: datetime, style: int) -> str | float:
    """One of the timestamp styles the app wrote over the years."""
    style %= 5
    if style == 0:
        return moment.isoformat().replace("+00:00", "Z")  # ISO with zone
    if style == 1:
        return moment.replace(tzinfo=None).isoformat()  # ISO without zone (naive = UTC)
    if style == 2:
        return round(moment.timestamp(), 3)  # epoch seconds
    if style == 3:
        return moment.strftime("%Y-%m-%d %H:%M:%S")  # 2025-11-10 14:03:22
    return moment.astimezone(CET).isoformat()  # with an offset (+01:00)


def settings() -> dict[str, object]:
    """settings.json as the web UI saved it."""
    return {
        "discovery_mode": "polling",
        "dry_run": False,
        "keep_original": True,
        "log_verbosity": "NORMAL",
        "whisper_model": "medium",
        "channels_api_url": "http://192.168.3.150:8089",
        "poll_interval_seconds": 120,
        "silence_threshold_db": -35.5,
        "caption_languages": ["en", "de", "ja"],
        "ui": {"theme": "dark", "columns": ["title", "status", "elapsed"]},
        "whitelist": "Tagesschau\nTatort\n日本のニュース\nNightly News",
        "title_suffix": " — captioned ✓",
        "last_cleanup": None,
    }


ENV = """\
# ==== CHANNELS DVR CONFIGURATION ====
CHANNELS_API_URL=http://192.168.3.150:8089
DVR_RECORDINGS_PATH=/tank/AllMedia/Channels

# ==== CAPTION PIPELINE CONFIGURATION ====
WHISPER_MODEL=small
WHISPER_DEVICE=cuda
CAPTION_COMMAND="whisper --model medium --language auto"
DRY_RUN=true
KEEP_ORIGINAL=true
# set twice: dotenv keeps the last one
LOG_VERBOSITY=NORMAL
LOG_VERBOSITY=VERBOSE

# ==== STATE AND LOGGING CONFIGURATION ====
export TZ=Europe/Berlin
STATE_FILE=/app/data/state.json
OPTIONAL_EMPTY=
"""


def executions(rng: random.Random, rows: int) -> list[dict[str, object]]:
    """executions.json's records, each with its steps."""
    records: list[dict[str, object]] = []
    for number in range(rows):
        started = BASE - timedelta(minutes=37 * (rows - number), seconds=rng.randrange(60))
        rec_id = 40000 + number
        kind = "manual_process" if number % 7 == 0 else "polling"
        path = f"/tank/AllMedia/Channels/TV/{rng.choice(TITLES)[:12]}/{rec_id}.mpg"
        status = rng.choice(["completed"] * 6 + ["failed", "running", "cancelled"])
        done = status != "running"
        elapsed = round(rng.uniform(60, 3600), 3)
        finished = started + timedelta(seconds=elapsed)
        steps = []
        moment = started
        for step in STEP_NAMES[: rng.randrange(1, 5) if done else 2]:
            length = timedelta(seconds=rng.randrange(5, 900))
            steps.append(
                {
                    "step_name": step,
                    "status": "completed" if done else "running",
                    "started_at": stamp(moment, number),
                    "completed_at": stamp(moment + length, number) if done else None,
                    "input_path": path,
                    "output_path": None if step == "verify" else f"{path}.{step}",
                    "details": {"attempt": 1, "seconds": length.seconds, "gpu": step == "whisper"},
                }
            )
            moment += length
        if number % 11 == 5 and len(steps) > 1:
            # A retried step: the tracker appended it again; the last attempt wins.
            retry = dict(steps[-1], details={"attempt": 2, "seconds": 3, "gpu": False})
            steps.append(retry)
        records.append(
            {
                "id": f"{kind}::{rec_id}::{int(started.timestamp())}",
                "job_number": number + 1,
                "title": rng.choice(TITLES),
                "path": None if number % 13 == 3 else path,
                "status": status,
                "kind": kind,
                "started_at": stamp(started, number),
                "completed_at": stamp(finished, number + 1) if done else None,
                "success": None if not done else status == "completed",
                "error": "ffmpeg exited with code 1: Invalid data found"
                if status == "failed"
                else None,
                "elapsed_seconds": elapsed if done else None,
                "input_size_bytes": rng.randrange(500_000_000, 9_000_000_000),
                "output_size_bytes": rng.randrange(400_000_000, 8_000_000_000) if done else None,
                "cancel_requested": status == "cancelled",
                "steps": steps,
            }
        )
    # Duplicates: a restarted job was appended again with its final state (the last one wins).
    for index in range(2, rows, max(rows // 3, 1))[:3]:
        again = dict(records[index], status="completed", success=True, error=None)
        records.append(again)
    # Broken rows: the run rejects them (and their steps) with the reason.
    records[1]["started_at"] = "yesterday evening"  # not a timestamp
    records[4]["title"] = None  # title is NOT NULL
    broken_step = records[8]["steps"]
    if isinstance(broken_step, list) and broken_step:
        broken_step[0]["status"] = None  # execution_steps.status is NOT NULL
    return records


def manual_queue(rng: random.Random, rows: int) -> dict[str, object]:
    """state.json: last_timestamp and the manual paths with their per-path settings."""
    paths: dict[str, object] = {}
    for number in range(max(rows // 10, 4)):
        path = f"/tank/AllMedia/Channels/TV/Manual/{rng.choice(TITLES)} ({number}).mpg"
        paths[path] = {
            "skip_caption_generation": number % 5 == 0,
            "log_verbosity": None if number % 6 == 1 else VERBOSITY[number % 3],
        }
    first = next(iter(paths))
    # The UI queued the same recording twice, once with a trailing space: one row after trim.
    paths[first + " "] = {"skip_caption_generation": True, "log_verbosity": "VERBOSE"}
    # A hand edit left a value the app would not read.
    paths["/tank/AllMedia/Channels/TV/Manual/broken.mpg"] = {
        "skip_caption_generation": "maybe",
        "log_verbosity": "NORMAL",
    }
    return {"last_timestamp": BASE.isoformat(), "manual_process_paths": paths}


def progress(rng: random.Random, rows: int) -> dict[str, object]:
    """progress.json: running jobs' progress, keyed by job id."""
    entries: dict[str, object] = {}
    for number in range(max(rows // 20, 3)):
        job = f"polling::{41000 + number}"
        percent = round(rng.uniform(0, 100), 2)
        entries[job] = {
            "process_type": rng.choice(["whisper", "ffmpeg"]),
            "percent": percent,
            "message": f"{int(percent)}% — transcribing ✍" if number % 4 else None,
            "details": {"eta_seconds": rng.randrange(10, 900)} if number % 3 else None,
            "updated_at": stamp(BASE - timedelta(seconds=number * 17), number),
        }
    entries["polling::broken"] = {
        "process_type": "whisper",
        "percent": "n/a",  # not a number
        "message": "stuck",
        "updated_at": BASE.timestamp(),
    }
    return entries


def polling_cache(rng: random.Random, rows: int) -> dict[str, object]:
    """A dump of the polling source's in-memory ``_yielded_cache`` (rec id -> yielded at)."""
    cache: dict[str, object] = {}
    for number in range(rows):
        moment = BASE - timedelta(minutes=5 * number, seconds=rng.randrange(60))
        # json.dump(default=str) wrote datetimes as '2025-11-10 14:03:22.123456+00:00'
        cache[str(40000 + number)] = str(moment) if number % 3 else stamp(moment, number)
    cache["39999"] = None  # evicted while the dump ran
    return cache


def heartbeats(data: Path) -> None:
    (data / "heartbeat_polling.txt").write_text(BASE.isoformat() + "\n", encoding="utf-8")
    (data / "heartbeat_manual.txt").write_text(f"{BASE.timestamp() - 42:.3f}\n", "utf-8")
    (data / "heartbeat_web.txt").write_text("2025-11-10 14:01:05\n", encoding="utf-8")


def write_json(path: Path, value: object) -> None:
    path.write_text(json.dumps(value, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def generate(out: Path, rows: int, seed: int) -> None:
    """Write the legacy state and this example's plan into ``out``."""
    rng = random.Random(seed)
    data = out / "data"
    data.mkdir(parents=True, exist_ok=True)
    write_json(data / "settings.json", settings())
    (data / ".env").write_text(ENV, encoding="utf-8")
    write_json(data / "executions.json", {"version": 2, "executions": executions(rng, rows)})
    write_json(data / "state.json", manual_queue(rng, rows))
    write_json(data / "progress.json", progress(rng, rows))
    write_json(data / "polling_cache.json", polling_cache(rng, rows))
    heartbeats(data)
    for name in ("ferry.toml", "schema.sql"):
        shutil.copyfile(HERE / name, out / name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--rows", type=int, default=300, help="executions (default 300)")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    generate(args.outdir, max(args.rows, 12), args.seed)
    print(f"py-captions legacy state written to {args.outdir / 'data'}")


if __name__ == "__main__":
    main()
