"""Which Debian packages a frozen bundle needs, read from its ELF files.

Used twice: the spec leaves out of the bundle the libraries a Debian package already provides
(they then become ``Depends:``), and the .deb build turns every library the bundle's files link
against but do not carry into package names with ``dpkg -S``. Standard library only.
"""

from __future__ import annotations

import mmap
import re
import shutil
import struct
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

ELF_MAGIC = b"\x7fELF"
SHT_DYNAMIC = 6
DT_NULL, DT_NEEDED = 0, 1
GLIBC_VERSION = re.compile(rb"GLIBC_2\.(\d+)\x00")
# Debian policy 8.1: libfoo.so.1 ships in libfoo1, libfoo2.so.0 in libfoo2-0.
SONAME = re.compile(r"^lib(?P<name>.+)\.so\.(?P<major>\d+)(?:\..*)?$")


def is_elf(path: Path) -> bool:
    """A regular file starting with the ELF magic."""
    try:
        with path.open("rb") as handle:
            return handle.read(4) == ELF_MAGIC
    except OSError:
        return False


def elf_files(root: Path) -> list[Path]:
    """Every ELF file under ``root`` (symbolic links skipped: their targets are listed)."""
    return sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink() and is_elf(p))


def needed(path: Path) -> list[str]:
    """The DT_NEEDED entries (sonames) of an ELF file, read from its dynamic section."""
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as m:
        is64 = m[4] == 2
        endian = "<" if m[5] == 1 else ">"
        if is64:
            shoff, shentsize, shnum = (
                struct.unpack_from(endian + "Q", m, 0x28)[0],
                *struct.unpack_from(endian + "HH", m, 0x3A),
            )
            section = endian + "IIQQQQIIQQ"
            dyn, dynsize = endian + "qQ", 16
        else:
            shoff, shentsize, shnum = (
                struct.unpack_from(endian + "I", m, 0x20)[0],
                *struct.unpack_from(endian + "HH", m, 0x2E),
            )
            section = endian + "IIIIIIIIII"
            dyn, dynsize = endian + "iI", 8
        headers = [struct.unpack_from(section, m, shoff + i * shentsize) for i in range(shnum)]
        names: list[str] = []
        for header in headers:
            if header[1] != SHT_DYNAMIC:
                continue
            offset, size, link = header[4], header[5], header[6]
            strtab = headers[link][4]
            for pos in range(offset, offset + size, dynsize):
                tag, value = struct.unpack_from(dyn, m, pos)
                if tag == DT_NULL:
                    break
                if tag == DT_NEEDED:
                    end = m.find(b"\x00", strtab + value)
                    names.append(m[strtab + value : end].decode())
        return names


def glibc_minor(paths: Iterable[Path]) -> int:
    """The newest ``GLIBC_2.N`` symbol version any of the files asks for (N), 0 if none."""
    newest = 0
    for path in paths:
        with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as m:
            for match in GLIBC_VERSION.finditer(m):
                newest = max(newest, int(match.group(1)))
    return newest


def system_libraries() -> dict[str, Path]:
    """soname → path of the shared libraries the dynamic loader knows (``ldconfig -p``),
    preferring this machine's own architecture folder."""
    multiarch = getattr(sys.implementation, "_multiarch", "")
    # /sbin is not on a normal user's PATH on Debian.
    ldconfig = shutil.which("ldconfig") or "/sbin/ldconfig"
    listing = subprocess.run(
        [ldconfig, "-p"], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    found: dict[str, Path] = {}
    for line in listing[1:]:
        name, _, path = line.strip().partition(" => ")
        soname = name.split(" (")[0]
        own_arch = bool(multiarch) and f"/{multiarch}/" in path
        if soname not in found or (own_arch and f"/{multiarch}/" not in str(found[soname])):
            found[soname] = Path(path)
    return found


def _usrmerge_variants(path: Path) -> list[str]:
    """dpkg records a library under /lib or /usr/lib, whichever its package used."""
    text = str(path)
    variants = [text]
    if text.startswith("/usr/lib/"):
        variants.append(text.removeprefix("/usr"))
    elif text.startswith("/lib/"):
        variants.append("/usr" + text)
    return variants


def owning_packages(paths: Iterable[Path]) -> dict[Path, str]:
    """path → the Debian package that installed it (``dpkg -S``), for the paths dpkg knows."""
    asked: dict[str, Path] = {}
    for path in paths:
        for candidate in {*_usrmerge_variants(path), *_usrmerge_variants(path.resolve())}:
            asked[candidate] = path
    if not asked:
        return {}
    # dpkg -S exits 1 when some path is unknown; the known ones are still printed.
    done = subprocess.run(["dpkg", "-S", *asked], capture_output=True, text=True, check=False)
    owners: dict[Path, str] = {}
    for line in done.stdout.splitlines():
        package, sep, owned = line.partition(": ")
        if sep and owned in asked and ", " not in package:
            owners[asked[owned]] = package.split(":")[0]  # drop the :amd64 qualifier
    return owners


def package_for_soname(soname: str) -> str | None:
    """The package name Debian's naming policy gives a library (for one not installed here)."""
    match = SONAME.match(soname)
    if match is None:
        return None
    name, major = match.group("name"), match.group("major")
    name = name.lower().replace("_", "-")
    return f"lib{name}-{major}" if name[-1].isdigit() else f"lib{name}{major}"


def package_exists(package: str) -> bool:
    """Whether the configured archives know the package (``apt-cache show``)."""
    if shutil.which("apt-cache") is None:
        return False
    done = subprocess.run(
        ["apt-cache", "show", "--no-all-versions", package],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.returncode == 0 and bool(done.stdout.strip())


class MissingLibrary(RuntimeError):
    """A library the bundle links against that no known Debian package provides."""


def external_needs(bundle: Path) -> dict[str, list[str]]:
    """soname → files (relative to ``bundle``) needing it, for every library the bundle's ELF
    files link against but do not carry themselves."""
    files = elf_files(bundle)
    carried = {p.name for p in bundle.rglob("*")}
    needs: dict[str, list[str]] = {}
    for path in files:
        for soname in needed(path):
            if soname not in carried:
                needs.setdefault(soname, []).append(str(path.relative_to(bundle)))
    return needs


def depends(bundle: Path) -> list[str]:
    """The ``Depends:`` entries for the bundle: one package per library it needs from the
    system, plus ``libc6 (>= 2.N)`` for the newest glibc symbol its files use."""
    needs = external_needs(bundle)
    known = system_libraries()
    owners = owning_packages(known[s] for s in needs if s in known)
    packages: set[str] = set()
    for soname, users in sorted(needs.items()):
        path = known.get(soname)
        package = owners.get(path) if path is not None else None
        if package is None:
            guess = package_for_soname(soname)
            if guess is None or not package_exists(guess):
                raise MissingLibrary(
                    f"{users[0]} needs {soname}, which no installed or known Debian package "
                    f"provides; install the library here and rebuild"
                )
            package = guess
        packages.add(package)
    packages.discard("libc6")
    minor = glibc_minor(elf_files(bundle))
    libc = f"libc6 (>= 2.{minor})" if minor else "libc6"
    return [libc, *sorted(packages)]


if __name__ == "__main__":  # python3 debdeps.py BUNDLE: print the Depends line
    print(", ".join(depends(Path(sys.argv[1]))))
