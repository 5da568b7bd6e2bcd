#!/usr/bin/env python3
"""Build Ferry without Python for the user: a PyInstaller folder, then (on Debian-like Linux)
a .deb.

    python3 packaging/build.py                 # dist/ferry/ and dist/ferry_<version>_<arch>.deb
    python3 packaging/build.py --no-deb        # only the folder (Windows, macOS, other Linux)
    python3 packaging/build.py --dist D --work W
    python3 packaging/build.py --freeze-constraints   # rewrite packaging/constraints.txt

It runs PyInstaller from the project's .venv (created like ``python3 dev.py`` does when missing)
after installing Ferry with the ``gui`` and ``packaging`` extras into it under
``packaging/constraints.txt`` (``pip install -c``: every package at the version pinned there),
and writes an SBOM (CycloneDX JSON, by ``cyclonedx-bom``) of that environment beside the bundle
and the .deb: ``ferry_<version>.cdx.json``.
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
#: the exact versions the bundle is built from (``--freeze-constraints`` rewrites it)
CONSTRAINTS = HERE / "constraints.txt"
#: the project itself, never pinned in the constraints (it is installed from this checkout)
PROJECT_NAME = "ferry-migrate"


def project() -> dict[str, object]:
    """The ``[project]`` table of pyproject.toml."""
    with (ROOT / "pyproject.toml").open("rb") as handle:
        table: dict[str, object] = tomllib.load(handle)["project"]
    return table


def project_python(constrained: bool = True) -> Path:
    """The project venv's interpreter, with the gui extra (dev.py) and the packaging extra,
    installed under packaging/constraints.txt unless ``constrained`` is False (the newest
    versions pyproject.toml allows, to freeze new constraints from)."""
    sys.path.insert(0, str(ROOT))
    import dev  # the same venv as `python3 dev.py run|test`

    dev.ensure_venv()
    python = dev.PYTHON
    # A no-op (and offline) when the pinned versions are already there.
    pip = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    constraints = ["-c", str(CONSTRAINTS)] if constrained else []
    subprocess.run([*pip, *constraints, "-e", ".[gui,packaging]"], check=True, cwd=ROOT)
    return python


def freeze_constraints(python: Path, path: Path = CONSTRAINTS) -> Path:
    """Write ``pip freeze`` of ``python``'s environment (without Ferry itself) to ``path``."""
    frozen = subprocess.run(
        [str(python), "-m", "pip", "freeze", "--exclude-editable", "--disable-pip-version-check"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    pins = sorted(
        (line for line in frozen if line and not line.lower().startswith(PROJECT_NAME + "=")),
        key=str.lower,
    )
    header = (
        "# The versions the bundle is built from: python3 packaging/build.py installs with\n"
        "# `pip install -c packaging/constraints.txt`. Regenerate after changing pyproject.toml's\n"
        "# pins: python3 packaging/build.py --freeze-constraints (pip freeze of .venv).\n"
    )
    path.write_text(header + "\n".join(pins) + "\n", encoding="utf-8")
    return path


def write_sbom(python: Path, out: Path) -> Path:
    """An SBOM of ``python``'s environment (every installed distribution, Ferry as the root
    component from pyproject.toml) as CycloneDX JSON at ``out``, made by ``cyclonedx-bom``
    (the packaging extra) run from that same interpreter."""
    command = [str(python), "-m", "cyclonedx_py", "environment", str(python)]
    command += ["--pyproject", str(ROOT / "pyproject.toml"), "--mc-type", "application"]
    command += ["--of", "JSON", "--output-reproducible", "-o", str(out)]
    subprocess.run(command, check=True, cwd=ROOT, capture_output=True, text=True)
    return out


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
    parser.add_argument(
        "--freeze-constraints",
        action="store_true",
        help="only rewrite packaging/constraints.txt from the .venv (pip freeze)",
    )
    args = parser.parse_args(argv)
    if args.freeze_constraints:
        print(f"constraints: {freeze_constraints(project_python(constrained=False))}")
        return 0
    version = str(project()["version"])
    python = project_python()
    bundle = freeze(python, args.dist.resolve(), args.work.resolve(), version)
    sbom = write_sbom(python, args.dist.resolve() / f"ferry_{version}.cdx.json")
    print(f"sbom: {sbom}")
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
