"""Generate YTV2's two diverged SQLite copies (seeds 003/004), deterministically.

    python generate.py OUTDIR [--videos N]

writes ``OUTDIR/data/nas/ytv2_content.db`` (the NAS copy: every video it processed, including the
ones deleted on the dashboard and the ones processed since the last sync) and
``OUTDIR/data/dashboard/ytv2_content.db`` (the dashboard copy: the last synced state minus the
deletions, plus hand-enhanced categorisation on 67 rows), ``OUTDIR/data/expected.json``: what
a correct migration ends with (for the README and the tests), and copies the plan beside them.

The data has what the real copies have: unicode titles and summaries, NULLs, three timestamp
styles, a video the NAS indexed twice, analysis text that is not JSON, and a few rows the
PostgreSQL schema's CHECK constraints refuse.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sqlite3
import string
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ENHANCED = 67  # the hand-curated subcategory records the seed's sync disasters kept losing

LEGACY_TABLE = """
CREATE TABLE content (
    id TEXT,
    video_id TEXT,
    title TEXT,
    channel_name TEXT,
    canonical_url TEXT,
    thumbnail_url TEXT,
    duration_seconds INTEGER,
    indexed_at TEXT,
    analysis TEXT,
    language TEXT,
    audio_file TEXT,
    summary TEXT
)
"""

CHANNELS = [
    "Veritasium",
    "Kurzgesagt – In a Nutshell",
    "3Blue1Brown",
    "ARTE.tv Dokus",
    "Numberphile",
    "東京大学 公開講座",
    "Café Científico",
    None,
]
WORDS = [
    "quantum",
    "Übersicht",
    "café",
    "系统",
    "neural",
    "history",
    "climate",
    "music",
    "naïve",
    "physics",
    "ocean",
    "Ελληνικά",
    "data",
    "energy",
    "🚀 launch",
    "piano",
]
CATEGORIES = ["Science", "Technology", "History", "Music", "Education", "Nature"]
SUBCATEGORIES = {
    "Science": ["Physics", "Biology"],
    "Technology": ["AI", "Hardware"],
    "History": ["Ancient", "Modern"],
    "Music": ["Classical", "Jazz"],
    "Education": ["Math", "Languages"],
    "Nature": ["Oceans", "Climate"],
}


def _video_id(rng: random.Random, taken: set[str]) -> str:
    alphabet = string.ascii_letters + string.digits + "_-"
    while True:
        candidate = "".join(rng.choice(alphabet) for _ in range(11))
        if candidate not in taken:
            taken.add(candidate)
            return candidate


def _stamp(moment: datetime, style: int) -> Any:
    """The three ways the legacy code wrote times."""
    if style == 0:
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    if style == 1:
        return moment.strftime("%Y-%m-%d %H:%M:%S")
    return int(moment.timestamp())


def _analysis(rng: random.Random) -> dict[str, Any]:
    category = rng.choice(CATEGORIES)
    return {
        "categories": [category],
        "content_type": rng.choice(["tutorial", "documentary", "lecture", "review"]),
        "complexity_level": rng.choice(["beginner", "intermediate", "advanced"]),
        "key_topics": rng.sample(WORDS, 3),
    }


def _summary(rng: random.Random, title: str) -> str:
    points = [f"• {' '.join(rng.sample(WORDS, 4))}." for _ in range(rng.randint(3, 6))]
    return f"{title}\n\n" + "\n".join(points)


def generate(out: Path, videos: int = 240, seed: int = 3) -> dict[str, Any]:
    """Write both copies under ``out``; return what a correct migration ends with."""
    rng = random.Random(seed)
    start = datetime(2025, 9, 1, 8, 0, tzinfo=UTC)
    taken: set[str] = set()
    rows: list[dict[str, Any]] = []
    for n in range(videos):
        video_id = _video_id(rng, taken)
        title = f"{rng.choice(WORDS).title()} {rng.choice(WORDS)} #{n}"
        analysis = _analysis(rng)
        rows.append(
            {
                "id": f"yt:{video_id}",
                "video_id": video_id,
                "title": title,
                "channel_name": rng.choice(CHANNELS),
                "canonical_url": f"https://www.youtube.com/watch?v={video_id}",
                "thumbnail_url": f"https://i.ytimg.com/vi/{video_id}/hqdefault.jpg",
                "duration_seconds": rng.choice([None, rng.randint(60, 7200)]),
                "indexed_at": _stamp(start + timedelta(hours=7 * n), n % 3),
                "analysis": json.dumps(analysis, ensure_ascii=False),
                "language": rng.choice(["en", "en", "en", "EN", " de ", "fr", None]),
                "audio_file": rng.choice([f"exports/audio/{video_id}.mp3", None]),
                "summary": rng.choice([_summary(rng, title), _summary(rng, title), None]),
            }
        )

    synced = int(videos * 0.85)  # the dashboard's last sync; later videos exist on the NAS only
    broken_json = [5, 17, 29]  # analysis text the legacy code wrote half-way
    bad_id = [synced + 2]  # 10 characters: CHECK valid_video_id refuses it
    bad_language = [40, synced + 5]  # "english", "Deutsch": CHECK valid_language refuses them
    no_title = [55]  # NOT NULL title
    for n in broken_json:
        rows[n]["analysis"] = rows[n]["analysis"][: len(rows[n]["analysis"]) // 2]
    for n in bad_id:
        rows[n]["video_id"] = rows[n]["video_id"][:10]
        rows[n]["id"] = f"yt:{rows[n]['video_id']}"
    rows[bad_language[0]]["language"] = "english"
    rows[bad_language[1]]["language"] = "Deutsch"
    for n in no_title:
        rows[n]["title"] = None
    broken = set(broken_json) | set(bad_id) | set(bad_language) | set(no_title)

    # Deleted on the dashboard before the last sync: never the newest synced row (it marks
    # the sync), never a broken row (to keep the expected figures easy to follow).
    candidates = [n for n in range(synced - 1) if n not in broken]
    deleted = set(rng.sample(candidates, max(1, videos // 12)))
    remaining = [n for n in range(synced) if n not in deleted and n not in broken]
    if len(remaining) < ENHANCED:
        raise SystemExit(
            f"--videos {videos} is too few for {ENHANCED} curated rows (the default is 240)"
        )
    enhanced = set(rng.sample(remaining, ENHANCED))

    nas_rows = list(rows)
    nas_rows.append(dict(rows[10], title=rows[10]["title"] + " (re-processed)"))  # indexed twice
    dashboard_rows = []
    for n in range(synced):
        if n in deleted:
            continue
        row = dict(rows[n])
        if n in enhanced:
            analysis = json.loads(row["analysis"])
            category = analysis["categories"][0]
            analysis["subcategories"] = {category: SUBCATEGORIES[category]}
            row["analysis"] = json.dumps(analysis, ensure_ascii=False)
        dashboard_rows.append(row)

    for name, content in (("nas", nas_rows), ("dashboard", dashboard_rows)):
        folder = out / "data" / name
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "ytv2_content.db"
        path.unlink(missing_ok=True)
        conn = sqlite3.connect(path)
        conn.execute(LEGACY_TABLE)
        conn.executemany(
            "INSERT INTO content VALUES (:id, :video_id, :title, :channel_name, :canonical_url,"
            " :thumbnail_url, :duration_seconds, :indexed_at, :analysis, :language,"
            " :audio_file, :summary)",
            content,
        )
        conn.commit()
        conn.close()

    rejected = {n for n in broken if n not in broken_json}
    loaded = [n for n in range(videos) if n not in deleted and n not in rejected]
    expected = {
        "videos": videos,
        "nas_rows": len(nas_rows),
        "dashboard_rows": len(dashboard_rows),
        "deleted": sorted(rows[n]["video_id"] for n in deleted),
        "new_since_sync": videos - synced,
        "content": len(loaded),
        "content_summaries": sum(1 for n in loaded if rows[n]["summary"] is not None),
        "enhanced": len(enhanced),
        "rejected_content": len(rejected),
        "rejected_summaries": sum(1 for n in rejected if rows[n]["summary"] is not None),
        "malformed_analysis": len(broken_json),
    }
    (out / "data" / "expected.json").write_text(json.dumps(expected, indent=2) + "\n")
    here = Path(__file__).resolve().parent
    for name in ("ferry.toml", "schema.sql", "summary_html.py"):
        if (out / name).resolve() != here / name:
            shutil.copyfile(here / name, out / name)
    return expected


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="folder for the two copies and the plan")
    parser.add_argument("--videos", type=int, default=240, help="videos on the NAS (240)")
    args = parser.parse_args()
    expected = generate(args.out, args.videos)
    print(json.dumps(expected, indent=2))


if __name__ == "__main__":
    main()
