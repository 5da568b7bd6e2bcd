"""A JSON worker process stays light: what it is sent and runs imports neither the plan's
models (pydantic) nor the engine (SQLAlchemy). Each such import costs every worker its
memory (about 15 MiB for pydantic and the plan), against the run's 150 MiB budget."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from test_json_workers import migrate_in, records, use_workers, write_lines

import ferry.load.inworker
from ferry.load.mapworker import MapJob

#: what a worker must not load
HEAVY = ("pydantic", "sqlalchemy", "ferry.plan", "ferry.migrate", "PySide6")

#: a fresh interpreter, as a spawned worker is: unpickle the job, read and map its chunks
WORKER = (
    "import pickle, sys\n"
    "job = pickle.loads(open(sys.argv[1], 'rb').read())\n"
    "from ferry.load.mapworker import Mapped, messages\n"
    "sent = list(messages(job))\n"
    "print(sum(isinstance(m, Mapped) for m in sent))\n"
    f"print([m for m in {HEAVY!r} if m in sys.modules])\n"
)


def a_job(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MapJob:
    """The first worker's job of a real run (columns with options, map_all's fields)."""
    use_workers(monkeypatch)
    jobs: list[MapJob] = []
    made = ferry.load.inworker.map_job

    def keep(*args: Any) -> MapJob:
        jobs.append(made(*args))
        return jobs[-1]

    monkeypatch.setattr(ferry.load.inworker, "map_job", keep)
    source = write_lines(tmp_path / "items.json", records(200))
    migrate_in(tmp_path / "run", source)
    assert jobs
    return jobs[0]


def test_a_worker_imports_neither_pydantic_nor_the_engine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = a_job(tmp_path, monkeypatch)
    sent = tmp_path / "job.pickle"
    sent.write_bytes(pickle.dumps(job))
    done = subprocess.run(
        [sys.executable, "-c", WORKER, str(sent)], capture_output=True, text=True, timeout=60
    )
    mapped, heavy = done.stdout.splitlines()
    assert int(mapped) > 0, done.stderr  # the chunks were mapped there, not sent back as read
    assert heavy == "[]", done.stderr


#: a main script that notes each process running it (spawn runs it again in a worker unless
#: told not to), then migrates a file through the workers
SCRIPT = """\
import os, sys
with open(sys.argv[2], "a") as ran:
    ran.write(f"{os.getpid()}\\n")
if __name__ == "__main__":
    sys.path.insert(0, sys.argv[3])
    import pytest
    from test_json_workers import migrate_in, use_workers
    from pathlib import Path
    with pytest.MonkeyPatch.context() as patch:
        use_workers(patch)
        result = migrate_in(Path(sys.argv[1]) / "run", Path(sys.argv[1]) / "items.json")
    print(result.tables[0].decision.in_worker)
"""


def test_a_worker_does_not_run_the_parents_main_script(tmp_path: Path) -> None:
    # The ferry-gui console script imports the wizard and PySide6 at its top.
    write_lines(tmp_path / "items.json", records(200))
    script, ran = tmp_path / "main.py", tmp_path / "ran.txt"
    script.write_text(SCRIPT, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script), str(tmp_path), str(ran), str(Path(__file__).parent)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.stdout.strip() == "True", done.stderr  # the workers read the file
    assert len(ran.read_text().split()) == 1  # the parent alone ran the script
