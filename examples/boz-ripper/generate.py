"""Generate a dump of the Boz Ripper server's in-memory state before its SQLite migration.

    python generate.py OUTDIR [--rows N] [--seed S]

Writes ``OUTDIR/data/server_state.json`` — one JSON document holding what the in-memory
services kept (jobs, agents, workers, discs with their titles, TV seasons with their
episodes) as the server's debug dump wrote it — and copies ferry.toml and schema.sql beside
it. Deterministic for a given seed and row count; stdlib only. Unicode, NULLs, several
timestamp styles, duplicates (an agent that re-registered, a title MakeMKV listed twice) and a
few broken rows are included; the broken ones end up as rejects in the run's report.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
BASE = datetime(2026, 1, 23, 20, 15, 0, tzinfo=UTC)
CET = timezone(timedelta(hours=1))
SHOWS = [
    ("Breaking Bad", 81189, ["Pilot", "Cat's in the Bag...", "...And the Bag's in the River",
                             "Cancer Man", "Gray Matter", "Crazy Handful of Nothin'",
                             "A No-Rough-Stuff-Type Deal"]),
    ("Dark", 334824, ["Geheimnisse", "Lügen", "Vergangenheit und Gegenwart", "Doppelleben",
                      "Wahrheiten", "Sic Mundus Creatus Est", "Kreuzwege", "Alpha und Omega"]),
    ("Le Bureau des Légendes", 295855, ["Épisode 1", "Épisode 2", "Épisode 3", "Épisode 4",
                                        "Épisode 5"]),
    ("進撃の巨人", 267440, ["二千年後の君へ", "その日", "絶望の中で鈍く光る", "解散式の夜",
                        "初陣", "少女が見た世界"]),
    ("Borgen", 252019, ["Dekorum", "Det muliges kunst", "Fyrre procent",
                        "Første tirsdag i oktober"]),
]  # fmt: skip
MOVIES = [
    "Amélie",
    "Der Untergang",
    "千と千尋の神隠し",
    "The Matrix",
    "La Haine",
    "Blade Runner 2049",
]


def stamp(moment: datetime | None, style: int) -> str | float | None:
    """The styles the dump holds: Pydantic's ISO, naive ISO, epoch seconds, a space."""
    if moment is None:
        return None
    style %= 5
    if style == 0:
        return moment.isoformat().replace("+00:00", "Z")
    if style == 1:
        return moment.replace(tzinfo=None).isoformat()
    if style == 2:
        return round(moment.timestamp(), 3)
    if style == 3:
        return moment.strftime("%Y-%m-%d %H:%M:%S")
    return moment.astimezone(CET).isoformat()


def slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-") or "show"


def agents_and_workers() -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    agents = [
        {"agent_id": f"agent-{name}", "name": label, "hostname": f"{name}.lan",
         "status": status, "capabilities": {"drives": drives, "can_rip": True,
                                            "makemkv": "1.17.7"},
         "current_job_id": None, "last_heartbeat": stamp(BASE - timedelta(seconds=age), age),
         "registered_at": stamp(BASE - timedelta(days=9 + age % 5), age + 1)}
        for name, label, status, drives, age in [
            ("basement", "Keller-PC (Blu-ray)", "online", ["/dev/sr0", "/dev/sr1"], 12),
            ("office", "Office Mac", "offline", ["disk4"], 7200),
            ("htpc", "HTPC — living room", "online", ["/dev/sr0"], 31),
        ]
    ]  # fmt: skip
    # The basement agent re-registered after a reboot: the dump lists it twice, the later wins.
    agents.append(dict(agents[0], status="online", last_heartbeat=stamp(BASE, 0)))
    workers = [
        {"worker_id": f"worker-{name}", "worker_type": kind, "hostname": f"{name}.lan",
         "status": status, "capabilities": {"nvenc": kind == "remote", "qsv": False,
                                            "handbrake": "1.8.2"},
         "priority": priority, "max_concurrent_jobs": slots,
         "current_jobs": current, "total_jobs_completed": done,
         "avg_transcode_time_seconds": avg,
         "last_heartbeat": stamp(BASE - timedelta(seconds=priority), priority),
         "registered_at": stamp(BASE - timedelta(days=30), 3)}
        for name, kind, status, priority, slots, current, done, avg in [
            ("local", "local", "busy", 50, 1, ["job-0003"], 412, 1834.5),
            ("gpu-box", "remote", "available", 90, 2, [], 1290, 611.25),
            ("nas", "remote", "offline", 10, 1, [], 17, None),
            ("laptop", "remote", "available", 30, 1, [], 0, None),
        ]
    ]  # fmt: skip
    return agents, workers


def seasons_and_discs(
    rng: random.Random, count: int
) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    seasons: list[dict[str, object]] = []
    discs: list[dict[str, object]] = []
    season_of: dict[str, dict[str, object]] = {}
    for show, tvdb, names in SHOWS:
        season_id = f"{slug(show)}_s01"
        episodes = [
            {"episode_number": n, "title": title,
             "air_date": None if n % 5 == 0 else str(date(2008 + n % 9, 1 + n % 12, 10 + n)),
             "runtime_minutes": rng.choice([45, 47, 58, None])}
            for n, title in enumerate(names, 1)
        ]  # fmt: skip
        season = {"season_id": season_id, "show_name": show, "season_number": 1,
                  "thetvdb_series_id": tvdb, "last_episode_assigned": 0, "last_disc_id": None,
                  "created_at": stamp(BASE - timedelta(days=20), len(seasons)),
                  "updated_at": None, "episodes": episodes}  # fmt: skip
        seasons.append(season)
        season_of[season_id] = season
    for number in range(count):
        disc_id = f"disc-{number:04d}"
        detected = BASE - timedelta(hours=6 * (count - number), minutes=rng.randrange(60))
        tv = number % 3 != 2
        titles: list[dict[str, object]] = []
        disc: dict[str, object] = {
            "disc_id": disc_id,
            "agent_id": rng.choice(["agent-basement", "agent-htpc", "agent-office"]),
            "drive": rng.choice(["/dev/sr0", "/dev/sr1", "disk4"]),
            "disc_type": rng.choice(["bluray", "dvd"]),
            "status": rng.choice(["ripping", "completed", "completed", "ejected"]),
            "detected_at": stamp(detected, number),
            "preview_status": rng.choice(["pending", "approved", "approved", "rejected"]),
        }
        if tv:
            season = season_of[f"{slug(SHOWS[number % len(SHOWS)][0])}_s01"]
            start = int(season["last_episode_assigned"]) + 1
            per_disc = rng.randrange(2, 4)
            disc.update(disc_name=f"{str(season['show_name']).upper()} S1 D{start // 3 + 1}",
                        media_type="tv", tv_show_name=season["show_name"],
                        tv_season_number=1, tv_season_id=season["season_id"],
                        starting_episode_number=start,
                        thetvdb_series_id=season["thetvdb_series_id"])  # fmt: skip
            for index in range(per_disc):
                episode = start + index
                titles.append(
                    {"title_index": index, "name": f"Title {index + 1}",
                     "duration_seconds": rng.randrange(2500, 3600),
                     "size_bytes": rng.randrange(4_000_000_000, 9_000_000_000),
                     "chapters": rng.randrange(5, 12), "selected": True, "is_extra": False,
                     "proposed_filename": f"{season['show_name']} - S01E{episode:02d}.mkv",
                     "episode_number": episode, "episode_title": None}
                )  # fmt: skip
            # the multi-disc state the phase-4 migration must keep (seed 002, test 1)
            season["last_episode_assigned"] = start + per_disc - 1
            season["last_disc_id"] = disc_id
            season["updated_at"] = stamp(detected, number + 2)
        else:
            movie = MOVIES[number % len(MOVIES)]
            disc.update(disc_name=movie, media_type="movie", tv_show_name=None,
                        tv_season_number=None, tv_season_id=None,
                        starting_episode_number=None, thetvdb_series_id=None)  # fmt: skip
            for index in range(rng.randrange(1, 4)):
                titles.append(
                    {"title_index": index, "name": movie if index == 0 else f"Bonus {index}",
                     "duration_seconds": rng.randrange(5400, 9000) if index == 0
                     else rng.randrange(60, 900),
                     "size_bytes": None if index else rng.randrange(20_000_000_000, 45_000_000_000),
                     "chapters": None, "selected": index == 0, "is_extra": index > 0,
                     "proposed_filename": f"{movie}.mkv" if index == 0 else None,
                     "episode_number": None, "episode_title": None}
                )  # fmt: skip
        disc["titles"] = titles
        discs.append(disc)
    # MakeMKV listed a title twice after a rescan: one row per (disc, title index), last wins.
    first_titles = discs[0]["titles"]
    assert isinstance(first_titles, list)
    first_titles.append(dict(first_titles[0], name="Title 1 (rescan)"))
    return seasons, discs


def jobs(rng: random.Random, count: int, discs: list[dict[str, object]]) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for number in range(count):
        disc = discs[number % len(discs)]
        kind = ["rip", "transcode", "organize"][number % 3]
        created = BASE - timedelta(hours=count - number, minutes=rng.randrange(60))
        status = rng.choice(["pending", "assigned", "running", "completed", "completed", "failed"])
        started = created + timedelta(minutes=2) if status != "pending" else None
        done = created + timedelta(minutes=rng.randrange(10, 90)) if status in (
            "completed", "failed") else None  # fmt: skip
        name = str(disc["disc_name"])
        rows.append(
            {"job_id": f"job-{number:04d}", "job_type": kind, "status": status,
             "priority": rng.choice([0, 0, 5, 10]), "disc_id": disc["disc_id"],
             "title_index": 0, "input_file": f"/rips/{name}/title_t00.mkv" if kind != "rip"
             else None, "output_file": f"/media/{name}.mkv" if kind == "organize" else None,
             "output_name": name, "preset": "H.265 NVENC 1080p" if kind == "transcode" else None,
             "assigned_agent_id": disc["agent_id"] if kind == "rip" else None,
             "assigned_worker_id": "worker-gpu-box" if kind == "transcode" else None,
             "progress": 100.0 if status == "completed" else round(rng.uniform(0, 99), 1),
             "error": "HandBrake: Encode failed – “no space left on device”"
             if status == "failed" else None,
             "requires_approval": kind == "organize",
             "approved_at": stamp(done, number) if kind == "organize" and done else None,
             "created_at": stamp(created, number), "started_at": stamp(started, number + 1),
             "completed_at": stamp(done, number + 2)}
        )  # fmt: skip
    return rows


def generate(out: Path, rows: int, seed: int) -> None:
    """Write the server's state dump and this example's plan into ``out``."""
    rng = random.Random(seed)
    agents, workers = agents_and_workers()
    seasons, discs = seasons_and_discs(rng, max(rows // 4, 8))
    job_rows = jobs(rng, rows, discs)
    # Broken rows: the run rejects them (and what hangs off them) with the reason.
    job_rows[2]["job_type"] = None  # jobs.job_type is NOT NULL
    discs[5]["detected_at"] = "unknown"  # not a timestamp: the disc and its titles are rejected
    titles = discs[3]["titles"]
    assert isinstance(titles, list)
    titles[-1]["duration_seconds"] = "1:02:33"  # MakeMKV's h:mm:ss, not seconds
    episodes = seasons[1]["episodes"]
    assert isinstance(episodes, list)
    episodes.append({"episode_number": None, "title": "Special — Making of", "air_date": None})
    state = {
        "dumped_at": BASE.isoformat(),
        "server_version": "0.3.2",
        "jobs": job_rows,
        "agents": agents,
        "workers": workers,
        "discs": discs,
        "tv_seasons": seasons,
    }
    data = out / "data"
    data.mkdir(parents=True, exist_ok=True)
    text = json.dumps(state, indent=2, ensure_ascii=False) + "\n"
    (data / "server_state.json").write_text(text, encoding="utf-8")
    (out / "database").mkdir(exist_ok=True)  # where the server keeps boz_ripper.db
    for name in ("ferry.toml", "schema.sql"):
        shutil.copyfile(HERE / name, out / name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--rows", type=int, default=200, help="jobs (default 200; discs: rows/4)")
    parser.add_argument("--seed", type=int, default=2)
    args = parser.parse_args()
    generate(args.outdir, max(args.rows, 12), args.seed)
    print(f"Boz Ripper server state written to {args.outdir / 'data'}")


if __name__ == "__main__":
    main()
