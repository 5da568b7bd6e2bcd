"""``ferry gui`` checks the libraries Qt's xcb plugin needs before it creates the application:
a missing one is named with its package and install command, and the exit code is 10 instead
of Qt's SIGABRT. The library is hidden through the check's test hook (FERRY_QT_CHECK_EXTRA_LIBS
adds a name that exists nowhere), through the real command in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ferry_gui.platformcheck import (
    EXIT_MISSING_LIBRARIES,
    Missing,
    distro_family,
    missing_libraries,
)

FAKE = "libxcb-ferrytest.so.7"


def _ferry_gui(**env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    environ.pop("WAYLAND_DISPLAY", None)
    environ.update(env)
    return subprocess.run(
        [sys.executable, "-m", "ferry.cli.command", "gui", "--demo"],
        capture_output=True,
        text=True,
        env=environ,
        timeout=120,
    )


def _really_missing() -> list[str]:
    """What this machine itself lacks (a fresh CI machine may lack real xcb libraries too):
    the hidden name is reported in addition to those."""
    found = missing_libraries({"DISPLAY": ":97", "QT_QPA_PLATFORM": "xcb"})
    return [] if found is None else list(found.sonames)


def test_a_missing_xcb_library_is_named_with_its_package_and_exit_code_10() -> None:
    expected = Missing([*_really_missing(), FAKE])

    done = _ferry_gui(DISPLAY=":97", FERRY_QT_CHECK_EXTRA_LIBS=FAKE)

    assert done.returncode == EXIT_MISSING_LIBRARIES == 10, done.stderr
    assert f"needs {', '.join(expected.sonames)}, missing on this system" in done.stderr
    family = distro_family()
    if family == "debian":
        assert "libxcb-ferrytest7" in expected.debian_packages()
        packages = " ".join(expected.debian_packages())
        assert f"Install them with: sudo apt install {packages}\n" in done.stderr
    elif family == "fedora":
        assert f"'{FAKE}()(64bit)'" in done.stderr
    assert "Traceback" not in done.stderr


def test_offscreen_and_wayland_are_not_checked() -> None:
    hidden = {"DISPLAY": ":97", "FERRY_QT_CHECK_EXTRA_LIBS": FAKE}
    assert missing_libraries({**hidden, "QT_QPA_PLATFORM": "offscreen"}) is None
    assert missing_libraries({**hidden, "QT_QPA_PLATFORM": "wayland"}) is None
    assert (
        missing_libraries({"WAYLAND_DISPLAY": "wayland-0", "FERRY_QT_CHECK_EXTRA_LIBS": FAKE})
        is None
    )
    assert missing_libraries({**hidden, "WAYLAND_DISPLAY": "wayland-0"}) is None
    expected = Missing([*_really_missing(), FAKE])
    assert missing_libraries({**hidden, "QT_QPA_PLATFORM": "xcb"}) == expected
    assert missing_libraries(hidden) == expected


def test_the_message_gives_the_apt_and_dnf_packages_of_the_real_libraries() -> None:
    missing = Missing(["libxcb-icccm.so.4", "libxcb-keysyms.so.1", "libxcb-cursor.so.0"])
    assert missing.message("debian").splitlines()[1] == (
        "Install them with: sudo apt install libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1"
    )
    assert missing.message("fedora").splitlines()[1] == (
        "Install them with: sudo dnf install xcb-util-cursor xcb-util-keysyms xcb-util-wm"
    )


def test_an_unknown_system_gets_both_commands(tmp_path: Path) -> None:
    release = tmp_path / "os-release"
    release.write_text("ID=arch\n")
    assert distro_family(release) is None
    lines = Missing(["libxcb-icccm.so.4"]).message(None).splitlines()
    assert lines[1:3] == [
        "Debian/Ubuntu: sudo apt install libxcb-icccm4",
        "Fedora: sudo dnf install xcb-util-wm",
    ]
