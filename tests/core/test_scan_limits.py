"""Every parse of a user's file is bounded in time and memory, the folder scan's included: a
file nested 100,000 levels deep, an endless number or an oversized .env file is named with the
limit it broke, quickly, and the files beside it still make a plan."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

DEPTH = 100_000

# Runs `ferry init` in a child under a 1 GiB address-space limit (so a regression cannot take
# the machine down) and prints its exit status, seconds and peak memory (MiB) as JSON.
_MEASURE = """
import json, resource, subprocess, sys, time
limit = 1 << 30
def cap():
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
started = time.monotonic()
done = subprocess.run(sys.argv[1:], capture_output=True, text=True, preexec_fn=cap)
print(json.dumps({
    "status": done.returncode,
    "seconds": time.monotonic() - started,
    "peak_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    "stdout": done.stdout,
    "stderr": done.stderr,
}))
"""


def init_measured(folder: Path, plan: Path) -> dict[str, Any]:
    command = [
        sys.executable,
        "-m",
        "ferry.cli.command",
        "init",
        str(folder),
        "-o",
        str(plan),
        "--json",
    ]
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, *command],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "200"},
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def problems(measured: dict[str, Any]) -> dict[str, str]:
    assert measured["status"] == 0, measured["stderr"]
    found = json.loads(measured["stdout"])["sources"]
    return {Path(s["path"]).name: s["problem"] for s in found}


def test_init_on_a_json_file_nested_100000_deep_is_quick_small_and_names_the_limit(
    tmp_path: Path,
) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (state / "deep.json").write_text("[" * DEPTH + "]" * DEPTH, encoding="utf-8")
    (state / "good.json").write_text('[{"id": 1}]', encoding="utf-8")

    measured = init_measured(state, tmp_path / "ferry.toml")

    assert problems(measured) == {
        "deep.json": f"{state / 'deep.json'}: nested deeper than 512 levels at byte 512",
        "good.json": "",
    }
    assert measured["seconds"] < 5
    assert measured["peak_mib"] < 256


def test_init_on_a_json_lines_record_nested_100000_deep_names_the_line_and_the_limit(
    tmp_path: Path,
) -> None:
    state = tmp_path / "state"
    state.mkdir()
    deep = '{"id": 1, "x": ' + "[" * DEPTH + "]" * DEPTH + "}\n"
    (state / "deep.jsonl").write_text(deep, encoding="utf-8")
    (state / "good.jsonl").write_text('{"id": 1}\n', encoding="utf-8")

    measured = init_measured(state, tmp_path / "ferry.toml")

    assert problems(measured) == {
        "deep.jsonl": f"{state / 'deep.jsonl'}: line 1: nested deeper than 512 levels",
        "good.jsonl": "",
    }
    assert measured["seconds"] < 5


def test_init_on_a_json_number_of_5000_digits_names_the_limit_instead_of_crashing(
    tmp_path: Path,
) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (state / "big.json").write_text('[{"id": 1, "n": ' + "9" * 5000 + "}]", encoding="utf-8")
    (state / "big.jsonl").write_text('{"id": 1, "n": ' + "9" * 5000 + "}\n", encoding="utf-8")
    (state / "good.json").write_text('[{"id": 1}]', encoding="utf-8")

    measured = init_measured(state, tmp_path / "ferry.toml")

    assert problems(measured) == {
        "big.json": f"{state / 'big.json'}: more than 4300 digits in a row at byte 16",
        "big.jsonl": f"{state / 'big.jsonl'}: line 1: a number with more than 4300 digits",
        "good.json": "",
    }


def test_init_names_a_env_file_over_the_size_limit(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (state / "app.env").write_bytes(b"A=" + b"x" * (8 * 1024 * 1024) + b"\n")
    (state / "good.json").write_text('[{"id": 1}]', encoding="utf-8")

    measured = init_measured(state, tmp_path / "ferry.toml")

    assert problems(measured) == {
        "app.env": f"{state / 'app.env'}: larger than the 8 MiB Ferry reads from a .env file",
        "good.json": "",
    }
