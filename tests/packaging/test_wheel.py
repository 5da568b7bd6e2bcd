"""The wheel carries the package data the code reads at run time: the report page's templates
(``ferry/report/templates/``) as well as the demo. Built with ``pip wheel --no-deps`` from a
copy of the project, so the worktree gets no build/ or egg-info folders."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(600)

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "core" / "ferry" / "report" / "templates"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    work = tmp_path_factory.mktemp("wheel")
    source = work / "project"
    skip = shutil.ignore_patterns("__pycache__", "*.egg-info", "build")
    for folder in ("core", "gui"):
        shutil.copytree(ROOT / folder, source / folder, ignore=skip)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(work), "."]
    done = subprocess.run(command, cwd=source, capture_output=True, text=True, timeout=540)
    assert done.returncode == 0, f"pip wheel failed:\n{done.stdout}\n{done.stderr}"
    (built,) = work.glob("*.whl")
    return zipfile.ZipFile(built)


def test_the_wheel_carries_the_report_templates_byte_for_byte(wheel: zipfile.ZipFile) -> None:
    templates = sorted(path for path in TEMPLATES.iterdir() if path.is_file())
    assert templates, "no report templates in the source tree"
    for path in templates:
        inside = f"ferry/report/templates/{path.name}"
        assert inside in wheel.namelist(), f"{inside} is not in the wheel"
        assert wheel.read(inside) == path.read_bytes()
