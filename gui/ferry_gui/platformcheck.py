"""Before the wizard creates its QApplication: are the system libraries Qt's platform plugin
needs there? Qt itself aborts (SIGABRT) on a missing one, often naming the wrong library; this
check names every missing one, the packages that provide them and the install command.

Imports nothing from Qt. Only the xcb platform (Linux with an X display) is checked: offscreen,
minimal and wayland do not load the xcb plugin.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

#: exit code of ``ferry gui`` / ``ferry-gui`` when a library the window needs is missing
EXIT_MISSING_LIBRARIES = 10

#: test hook: extra sonames (comma-separated) to check, e.g. a name that exists nowhere, so a
#: test sees the message without uninstalling anything
EXTRA_LIBS_ENV = "FERRY_QT_CHECK_EXTRA_LIBS"

#: soname → (Debian/Ubuntu package, Fedora package): what Qt 6's xcb plugin
#: (plugins/platforms/libqxcb.so and libQt6XcbQpa) links against, as the .deb's Depends lists
XCB_LIBRARIES: dict[str, tuple[str, str]] = {
    "libxcb.so.1": ("libxcb1", "libxcb"),
    "libX11-xcb.so.1": ("libx11-xcb1", "libX11-xcb"),
    "libxcb-cursor.so.0": ("libxcb-cursor0", "xcb-util-cursor"),
    "libxcb-icccm.so.4": ("libxcb-icccm4", "xcb-util-wm"),
    "libxcb-image.so.0": ("libxcb-image0", "xcb-util-image"),
    "libxcb-keysyms.so.1": ("libxcb-keysyms1", "xcb-util-keysyms"),
    "libxcb-render-util.so.0": ("libxcb-render-util0", "xcb-util-renderutil"),
    "libxcb-util.so.1": ("libxcb-util1", "xcb-util"),
    "libxcb-randr.so.0": ("libxcb-randr0", "libxcb"),
    "libxcb-render.so.0": ("libxcb-render0", "libxcb"),
    "libxcb-shape.so.0": ("libxcb-shape0", "libxcb"),
    "libxcb-shm.so.0": ("libxcb-shm0", "libxcb"),
    "libxcb-sync.so.1": ("libxcb-sync1", "libxcb"),
    "libxcb-xfixes.so.0": ("libxcb-xfixes0", "libxcb"),
    "libxcb-xkb.so.1": ("libxcb-xkb1", "libxcb"),
    "libxkbcommon.so.0": ("libxkbcommon0", "libxkbcommon"),
    "libxkbcommon-x11.so.0": ("libxkbcommon-x11-0", "libxkbcommon-x11"),
}

# Debian policy 8.1: libfoo.so.1 ships in libfoo1, libfoo2.so.0 in libfoo2-0.
_SONAME = re.compile(r"^lib(?P<name>.+)\.so\.(?P<major>\d+)")


@dataclass(frozen=True)
class Missing:
    """Libraries the xcb plugin needs that this system lacks."""

    sonames: list[str]

    def debian_packages(self) -> list[str]:
        return sorted({_debian_package(s) for s in self.sonames})

    def fedora_packages(self) -> list[str]:
        return sorted({_fedora_package(s) for s in self.sonames})

    def message(self, family: str | None) -> str:
        """What is missing and the command that installs it, for ``family`` (``debian``,
        ``fedora``; both commands when None)."""
        lines = [
            "ferry gui: the wizard cannot open a window: Qt's xcb platform plugin needs "
            f"{', '.join(self.sonames)}, missing on this system.",
        ]
        debian = "sudo apt install " + " ".join(self.debian_packages())
        fedora = "sudo dnf install " + " ".join(self.fedora_packages())
        if family == "debian":
            lines.append(f"Install them with: {debian}")
        elif family == "fedora":
            lines.append(f"Install them with: {fedora}")
        else:
            lines.append(f"Debian/Ubuntu: {debian}")
            lines.append(f"Fedora: {fedora}")
        lines.append("Then run the command again (ferry demo works without a window).")
        return "\n".join(lines)


def _debian_package(soname: str) -> str:
    known = XCB_LIBRARIES.get(soname)
    if known is not None:
        return known[0]
    match = _SONAME.match(soname)
    if match is None:
        return soname
    name, major = match.group("name").lower().replace("_", "-"), match.group("major")
    return f"lib{name}-{major}" if name[-1].isdigit() else f"lib{name}{major}"


def _fedora_package(soname: str) -> str:
    known = XCB_LIBRARIES.get(soname)
    # dnf installs by what a package provides: 'libfoo.so.1()(64bit)'.
    return known[1] if known is not None else f"'{soname}()(64bit)'"


def distro_family(os_release: Path = Path("/etc/os-release")) -> str | None:
    """``debian`` or ``fedora`` from /etc/os-release's ID and ID_LIKE, else None."""
    try:
        text = os_release.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    ids: set[str] = set()
    for line in text.splitlines():
        key, _, value = line.partition("=")
        if key in ("ID", "ID_LIKE"):
            ids.update(value.strip().strip("\"'").split())
    if ids & {"debian", "ubuntu"}:
        return "debian"
    if ids & {"fedora", "rhel", "centos"}:
        return "fedora"
    return None


def uses_xcb(environ: dict[str, str] | os._Environ[str] = os.environ) -> bool:
    """Whether Qt will load the xcb plugin: Linux, QT_QPA_PLATFORM xcb, or unset with an X
    display and no Wayland session (there Qt prefers its wayland plugin; offscreen, minimal and
    wayland need none of these libraries)."""
    if not sys.platform.startswith("linux"):
        return False
    platform = environ.get("QT_QPA_PLATFORM", "").split(":")[0].strip()
    if platform:
        return platform == "xcb"
    return bool(environ.get("DISPLAY")) and not environ.get("WAYLAND_DISPLAY")


def _loadable(soname: str) -> bool:
    try:
        ctypes.CDLL(soname)
    except OSError:
        return False
    return True


def _ldd_not_found() -> list[str]:
    """Libraries the installed xcb plugin links against that ``ldd`` cannot find (beyond the
    known list), or none when ldd or the plugin is not there."""
    spec = importlib.util.find_spec("PySide6")
    ldd = shutil.which("ldd")
    if spec is None or spec.origin is None or ldd is None:
        return []
    plugin = Path(spec.origin).parent / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    if not plugin.is_file():
        return []
    try:
        done = subprocess.run([ldd, str(plugin)], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.split("=>")[0].strip() for line in done.stdout.splitlines() if "not found" in line]


def missing_libraries(environ: dict[str, str] | os._Environ[str] = os.environ) -> Missing | None:
    """The libraries the xcb plugin needs and cannot load here; None when all load (or xcb
    is not the platform Qt will use)."""
    if not uses_xcb(environ):
        return None
    extra = [s.strip() for s in environ.get(EXTRA_LIBS_ENV, "").split(",") if s.strip()]
    missing = [s for s in [*XCB_LIBRARIES, *extra] if not _loadable(s)]
    missing += [s for s in _ldd_not_found() if s not in missing]
    return Missing(missing) if missing else None


def check_or_exit() -> None:
    """Print what to install and exit with EXIT_MISSING_LIBRARIES when a library is missing."""
    missing = missing_libraries()
    if missing is not None:
        print(missing.message(distro_family()), file=sys.stderr)
        raise SystemExit(EXIT_MISSING_LIBRARIES)
