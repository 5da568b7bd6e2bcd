"""Build ``ferry_<version>_<arch>.deb`` from the PyInstaller folder (``dist/ferry``).

What it installs: the bundle under /opt/ferry, /usr/bin/ferry (a link to it), /usr/bin/ferry-gui
(``ferry gui``), a .desktop entry, the SVG icon, and /usr/share/doc/ferry/copyright. ``Depends:``
lists the Debian packages of every library the bundle links against but does not carry
(debdeps.py). No maintainer scripts: dpkg alone installs and removes every file, and the icon
and menu caches are refreshed by their packages' own triggers. Standard library only.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from debdeps import depends

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
PACKAGE = "ferry"
PREFIX = Path("opt") / PACKAGE
DESCRIPTION = """\
guided, verifiable migration of legacy app state into SQLite or PostgreSQL
 Ferry moves an application's state out of JSON files, JSON Lines, .env files,
 one-value text files, SQLite and PostgreSQL into SQLite or PostgreSQL: merged
 by key under a chosen conflict rule, in one transaction, backed up first and
 verified after. The `ferry` command runs headless; `ferry gui` (or the menu
 entry) opens the wizard. Self-contained: Python, Qt and the libraries Ferry
 uses are bundled under /opt/ferry."""


def debian_version(version: str) -> str:
    """A PEP 440 version in Debian's order: pre-releases sort before the release (``~``)."""
    return re.sub(r"\.?(a|b|rc|dev)(\d*)$", r"~\1\2", version)


def architecture() -> str:
    """This machine's Debian architecture (``amd64``, ``arm64``...)."""
    done = subprocess.run(
        ["dpkg", "--print-architecture"], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def _normalise_modes(root: Path) -> None:
    """Folders 0755, executables 0755, other files 0644, whatever the builder's umask."""
    for path in [root, *root.rglob("*")]:
        if path.is_symlink():
            continue
        if path.is_dir():
            path.chmod(0o755)
        else:
            executable = path.stat().st_mode & (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
            path.chmod(0o755 if executable else 0o644)


def _write(path: Path, text: str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)


def _installed_size_kib(root: Path) -> int:
    total = sum(p.lstat().st_size for p in root.rglob("*") if not p.is_dir())
    return (total + 1023) // 1024


def _md5sums(root: Path) -> str:
    lines = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink() and "DEBIAN" not in path.parts:
            digest = hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()
            lines.append(f"{digest}  {path.relative_to(root).as_posix()}\n")
    return "".join(lines)


def stage(bundle: Path, staging: Path, version: str) -> dict[str, str]:
    """Lay the package's files out under ``staging``; the control fields."""
    if staging.exists():
        shutil.rmtree(staging)
    shutil.copytree(bundle, staging / PREFIX, symlinks=True)
    bin_dir = staging / "usr" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "ferry").symlink_to(Path("/") / PREFIX / "ferry")
    _write(bin_dir / "ferry-gui", f'#!/bin/sh\nexec /{PREFIX}/ferry gui "$@"\n', 0o755)
    share = staging / "usr" / "share"
    _write(share / "applications" / "ferry.desktop", (HERE / "ferry.desktop").read_text())
    icon = share / "icons" / "hicolor" / "scalable" / "apps" / "ferry.svg"
    icon.parent.mkdir(parents=True)
    shutil.copyfile(ROOT / "resources" / "ferry.svg", icon)
    _write(share / "doc" / PACKAGE / "copyright", (HERE / "copyright").read_text())
    _normalise_modes(staging)
    return {
        "Package": PACKAGE,
        "Version": debian_version(version),
        "Architecture": architecture(),
        "Maintainer": os.environ.get("FERRY_DEB_MAINTAINER", "Ferry maintainers <ferry@localhost>"),
        "Installed-Size": str(_installed_size_kib(staging)),
        "Depends": ", ".join(depends(staging / PREFIX)),
        "Section": "utils",
        "Priority": "optional",
        "Description": DESCRIPTION,
    }


def build_deb(bundle: Path, out_dir: Path, version: str, xz_level: int = 6) -> Path:
    """Build the .deb from the PyInstaller folder ``bundle`` into ``out_dir``, compressed with
    xz at ``xz_level`` (6, dpkg's default, for releases; the test uses 1: 4x faster)."""
    if not (bundle / "ferry").is_file():
        raise FileNotFoundError(f"{bundle}/ferry: no bundle here; build it first")
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = out_dir / "deb-root"
    fields = stage(bundle, staging, version)
    control = "".join(f"{key}: {value}\n" for key, value in fields.items())
    _write(staging / "DEBIAN" / "control", control)
    _write(staging / "DEBIAN" / "md5sums", _md5sums(staging))
    (staging / "DEBIAN").chmod(0o755)
    deb = out_dir / f"{PACKAGE}_{fields['Version']}_{fields['Architecture']}.deb"
    subprocess.run(
        [
            "dpkg-deb",
            "--root-owner-group",
            "-Zxz",
            f"-z{xz_level}",
            "--build",
            str(staging),
            str(deb),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    shutil.rmtree(staging)
    return deb


if __name__ == "__main__":  # python3 deb.py BUNDLE OUT_DIR VERSION
    print(build_deb(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]))
