#!/usr/bin/env python3
"""Build Ferry without Python for the user: a PyInstaller folder, then (on Debian-like Linux)
a .deb.

    python3 packaging/build.py                 # dist/ferry/ and dist/ferry_<version>_<arch>.deb
    python3 packaging/build.py --no-deb        # only the folder (Windows, macOS, other Linux)
    python3 packaging/build.py --dist D --work W

It runs PyInstaller from the project's .venv (created like ``python3 dev.py`` does when missing)
after installing the ``packaging`` extra's pins from pyproject.toml into it when absent.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def project() -> dict[str, object]:
    """The ``[project]`` table of pyproject.toml."""
    with (ROOT / "pyproject.toml").open("rb") as handle:
        table: dict[str, object] = tomllib.load(handle)["project"]
    return table


def project_python() -> Path:
    """The project venv's interpreter, with the gui extra (dev.py) and the packaging extra."""
    sys.path.insert(0, str(ROOT))
    import dev  # the same venv as `python3 dev.py run|test`

    dev.ensure_venv()
    python = dev.PYTHON
    extras = project()["optional-dependencies"]
    assert isinstance(extras, dict)
    requirements = list(extras["packaging"])
    # A no-op (and offline) when they are already there.
    pip = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, *requirements], check=True)
    return python


def folder_size(path: Path) -> int:
    """Bytes of the files under ``path`` (links not followed)."""
    return sum(p.lstat().st_size for p in path.rglob("*") if not p.is_dir())


def mib(size: int) -> str:
    return f"{size / 2**20:.1f} MiB"


def freeze(python: Path, dist: Path, work: Path, version: str) -> Path:
    """Run PyInstaller on packaging/ferry.spec; the bundle folder."""
    started = time.monotonic()
    env = {**os.environ, "FERRY_VERSION": version}
    command = [str(python), "-m", "PyInstaller", str(HERE / "ferry.spec"), "--noconfirm"]
    command += ["--distpath", str(dist), "--workpath", str(work), "--log-level", "WARN"]
    subprocess.run(command, check=True, cwd=ROOT, env=env)
    bundle = dist / "ferry"
    executable = bundle / ("ferry.exe" if os.name == "nt" else "ferry")
    shown = subprocess.run(
        [str(executable), "--version"], capture_output=True, text=True, check=True
    ).stdout
    if version not in shown:
        raise SystemExit(f"{executable} --version printed {shown!r}, expected {version}")
    print(f"bundle: {bundle} ({mib(folder_size(bundle))}, {time.monotonic() - started:.0f} s)")
    return bundle


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="output folder")
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "pyinstaller")
    parser.add_argument("--no-deb", action="store_true", help="build only the bundle folder")
    parser.add_argument(
        "--xz-level", type=int, default=6, choices=range(10), help="the .deb's xz level"
    )
    args = parser.parse_args(argv)
    version = str(project()["version"])
    bundle = freeze(project_python(), args.dist.resolve(), args.work.resolve(), version)
    if args.no_deb:
        return 0
    if not (sys.platform.startswith("linux") and shutil.which("dpkg-deb")):
        print("no dpkg-deb here: the .deb is built on Debian-like Linux only (--no-deb)")
        return 0
    sys.path.insert(0, str(HERE / "linux"))
    from deb import build_deb

    started = time.monotonic()
    deb = build_deb(bundle, args.dist.resolve(), version, args.xz_level)
    took = time.monotonic() - started
    print(f"deb: {deb} ({mib(deb.stat().st_size)}, {took:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
