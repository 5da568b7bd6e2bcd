"""Data for the wizard tests: generated JSON sources and plans."""

from __future__ import annotations

import json
from pathlib import Path


def write_records(path: Path, rows: int) -> None:
    """A JSON array of ``rows`` records, written in pieces (flat memory)."""
    with path.open("w", encoding="utf-8") as handle:
        handle.write("[")
        for i in range(rows):
            if i:
                handle.write(",")
            handle.write(
                json.dumps({"id": i, "name": f"item-{i}", "size": i * 3, "ok": i % 2 == 0})
            )
        handle.write("]")


def write_big_plan(folder: Path, rows: int, batch_size: int = 2000) -> Path:
    """A plan moving ``rows`` generated records into ``app.db`` beside it."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "data").mkdir(exist_ok=True)
    write_records(folder / "data" / "items.json", rows)
    plan = folder / "ferry.toml"
    plan.write_text(
        'version = 1\nname = "big"\n\n[target]\nurl = "sqlite:///app.db"\n\n'
        f"[options]\nbatch_size = {batch_size}\n\n"
        '[[sources]]\nname = "items"\nkind = "json"\npath = "data/items.json"\n'
        'shape = "records"\n\n[[tables]]\nname = "items"\nsource = "items"\nkey = ["id"]\n',
        encoding="utf-8",
    )
    return plan
