#!/usr/bin/env python3
"""Set-up and the two everyday commands, needing nothing but Python 3.11+.

    python3 dev.py run     # install into .venv if needed, then open the wizard on the bundled demo
    python3 dev.py test    # install into .venv if needed, then lint, type-check and run every test

Extra arguments after ``test`` go to pytest (``python3 dev.py test -k plan``).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
EXTRAS = "gui,test"


#: every folder of Python the project owns (ruff checks them all)
LINTED = ("core", "gui", "tests", "benchmarks", "examples", "packaging", "dev.py")


def _stamp() -> str:
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + EXTRAS.encode())
    return digest.hexdigest()


def ensure_venv() -> None:
    """Create .venv and install the project (editable) when missing or out of date."""
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py itself may run on an older Python
        sys.exit(f"Ferry needs Python 3.11 or newer; this is {sys.version.split()[0]}.")
    marker = VENV / ".ferry-installed"
    if marker.exists() and marker.read_text() == _stamp() and PYTHON.exists():
        return
    if not PYTHON.exists():
        print(f"Creating {VENV} ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("Installing Ferry and its dependencies into .venv ...", flush=True)
    pip = [str(PYTHON), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "-e", f".[{EXTRAS}]"], check=True, cwd=ROOT)
    marker.write_text(_stamp())


def run(*command: str) -> int:
    """Run a command from the venv's bin folder, returning its exit code."""
    print("+", " ".join(command), flush=True)
    return subprocess.run([str(BIN / command[0]), *command[1:]], cwd=ROOT).returncode


def _has_screen() -> bool:
    """A desktop to open the wizard on (Linux needs an X or Wayland display)."""
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("run", "test"):
        print(__doc__)
        return 2
    ensure_venv()
    if argv[0] == "run":
        if _has_screen():
            return run("ferry", "gui", "--demo", *argv[1:])
        print("No screen found: running the bundled demo headless (ferry demo).", flush=True)
        return run("ferry", "demo", "ferry-demo", *argv[1:])
    checks = [
        ("ruff", "format", "--check", *LINTED),
        ("ruff", "check", *LINTED),
        ("mypy",),
    ]
    for check in checks:
        code = run(*check)
        if code:
            return code
    return run("pytest", *argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
