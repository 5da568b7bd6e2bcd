"""Bounded resources on hostile input (issue 16 item 7): a file that would take gigabytes to
read whole is refused after reading at most its limit, with the limit named, in a child
process capped at 1 GiB of address space (a regression fails there instead of taking the
machine down). The files are sparse: gigabytes long, nothing on disk."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(os.name == "nt", reason="RLIMIT_AS and sparse files (POSIX)")

_CAPPED = """
import resource, sys
limit = 1 << 30
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
from ferry.cli.command import main
sys.argv = ["ferry", *sys.argv[1:]]
main()
"""

PLAN = """name = "hostile"

[target]
url = "sqlite:///out.db"

[[sources]]
name = "items"
kind = "{kind}"
path = "{path}"

[[tables]]
name = "items"
source = "items"
key = ["{key}"]
"""


def sparse(path: Path, size: int, head: bytes = b"") -> Path:
    """A file of ``size`` bytes: ``head``, then zeros that take no disk."""
    with path.open("wb") as handle:
        handle.write(head)
        handle.truncate(size)
    return path


def capped_ferry(*args: str | Path) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", _CAPPED, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "200"},
    )
    return done, time.monotonic() - started


def plan(folder: Path, kind: str, path: str, key: str = "id") -> Path:
    file = folder / "ferry.toml"
    file.write_text(PLAN.format(kind=kind, path=path, key=key), encoding="utf-8")
    return file


def test_a_2_gb_json_lines_line_without_a_newline_is_refused_naming_the_limit(
    tmp_path: Path,
) -> None:
    sparse(tmp_path / "items.jsonl", 2 << 30, b'{"id": 1, "blob": "')

    done, seconds = capped_ferry("preview", plan(tmp_path, "jsonl", "items.jsonl"))

    assert done.returncode == 4, done.stderr
    assert done.stderr.splitlines()[0] == (
        f"error: {tmp_path / 'items.jsonl'}: line 1: longer than 64 MiB, Ferry's limit for "
        "one JSON Lines record"
    )
    assert seconds < 10  # about 3 s alone (imports included); room for a busy machine


def test_a_1_gb_text_source_file_is_refused_naming_the_limit(tmp_path: Path) -> None:
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "a.txt").write_text("small\n", encoding="utf-8")
    sparse(tmp_path / "notes" / "b.txt", 1 << 30, b"huge")

    done, seconds = capped_ferry("preview", plan(tmp_path, "text", "notes", key="key"))

    assert done.returncode == 4, done.stderr
    assert (
        f"{tmp_path / 'notes' / 'b.txt'}: larger than 64 MiB, Ferry's limit for one text file "
        "(its whole content becomes one value)" in done.stderr
    ), done.stderr
    assert seconds < 10  # about 3 s alone (imports included); room for a busy machine


def test_a_1_gb_plan_file_is_refused_naming_the_limit(tmp_path: Path) -> None:
    plan_file = sparse(tmp_path / "ferry.toml", 1 << 30, b'name = "x"\n#')

    done, seconds = capped_ferry("check", plan_file)

    assert done.returncode == 3, done.stderr
    assert done.stderr.splitlines()[0] == (
        f"error: plan file {plan_file} is larger than 8 MiB, Ferry's limit for a plan"
    )
    assert seconds < 10  # about 3 s alone (imports included); room for a busy machine


def test_a_1_gb_schema_file_is_refused_naming_the_limit(tmp_path: Path) -> None:
    (tmp_path / "items.jsonl").write_text('{"id": 1}\n', encoding="utf-8")
    sparse(tmp_path / "schema.sql", 1 << 30, b"CREATE TABLE items (id INTEGER);\n--")
    plan_file = plan(tmp_path, "jsonl", "items.jsonl")
    text = plan_file.read_text(encoding="utf-8")
    plan_file.write_text(
        text.replace('url = "sqlite:///out.db"', 'url = "sqlite:///out.db"\nschema = "schema.sql"'),
        encoding="utf-8",
    )

    done, seconds = capped_ferry("preview", plan_file)

    assert done.returncode == 3, done.stderr
    assert (
        f"schema file {tmp_path / 'schema.sql'} is larger than 64 MiB, Ferry's limit for a "
        "schema file" in done.stderr
    ), done.stderr
    assert seconds < 10  # about 3 s alone (imports included); room for a busy machine


def test_a_1_gb_backup_manifest_is_refused_naming_the_limit(tmp_path: Path) -> None:
    folder = tmp_path / "20261121T070102Z-3f9a1c"
    folder.mkdir()
    sparse(folder / "manifest.json", 1 << 30, json.dumps({"format": 1})[:-1].encode())

    done, seconds = capped_ferry("backup", "verify", folder)

    assert done.returncode == 8, done.stderr
    assert "  manifest.json is larger than 256 MiB, Ferry's limit" in done.stderr.splitlines()
    assert seconds < 10  # about 3 s alone (imports included); room for a busy machine


def test_a_100_mb_json_key_is_refused_naming_the_limit(tmp_path: Path) -> None:
    # Today's main spends minutes on it (the parser re-reads a long string at every chunk).
    with (tmp_path / "items.json").open("wb") as handle:
        handle.write(b'[{"id": 1, "')
        for _ in range(100):
            handle.write(b"k" * (1 << 20))
        handle.write(b'": 1}]')

    done, seconds = capped_ferry("preview", plan(tmp_path, "json", "items.json"))

    assert done.returncode == 4, done.stderr
    assert done.stderr.splitlines()[0] == (
        f"error: {tmp_path / 'items.json'}: a string longer than 8 MiB (Ferry's limit for one "
        "key or value) at byte 8388608"
    )
    assert seconds < 10
