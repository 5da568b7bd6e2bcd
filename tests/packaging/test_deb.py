"""The packaged installer end to end: build the PyInstaller bundle and the .deb
(``packaging/build.py``), install it with dpkg, run a headless migration and the wizard's
screenshot walk from the installed files, then purge it and check nothing is left behind.

Slow (one build per session, a few minutes); CI runs it as root on Debian-like Linux. Elsewhere
it is skipped with the reason, never in CI (``CI=true``), where a missing tool is a failure.
It installs the package ``ferry`` system-wide and purges it at the end.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import struct
import subprocess
import sys
import tomllib
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

ROOT = Path(__file__).resolve().parents[2]
PREFIX = Path("/opt/ferry")
FERRY = Path("/usr/bin/ferry")
INSTALLED = [
    PREFIX,
    FERRY,
    Path("/usr/bin/ferry-gui"),
    Path("/usr/share/applications/ferry.desktop"),
    Path("/usr/share/icons/hicolor/scalable/apps/ferry.svg"),
    Path("/usr/share/doc/ferry"),
]
# Test sessions sharing a machine take turns installing the one system-wide package.
LOCK = Path("/tmp/ferry-packaging-test.lock")
APT = ["apt-get", "-y", "-q", "--no-install-recommends", "-o", "DPkg::Lock::Timeout=300"]


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


def _cannot_run() -> str | None:
    if not sys.platform.startswith("linux"):
        return "the .deb is built and installed on Debian-like Linux only"
    for tool in ("dpkg", "dpkg-deb", "apt-get"):
        if shutil.which(tool) is None:
            return f"no {tool} here: the .deb test needs a Debian-like system"
    if os.geteuid() != 0:
        return "installing the .deb with dpkg -i needs root"
    return None


def _run(
    command: list[str], env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, capture_output=True, text=True, check=False, env=env, timeout=timeout
    )


def _tail(done: subprocess.CompletedProcess[str]) -> str:
    return f"exit {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"


def _project_version() -> str:
    with (ROOT / "pyproject.toml").open("rb") as handle:
        return str(tomllib.load(handle)["project"]["version"])


@pytest.fixture(scope="module")
def deb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The .deb, built once for this module from the working tree (the ~0.5 GB of build
    output is removed afterwards)."""
    reason = _cannot_run()
    if reason is not None:
        if _in_ci():
            pytest.fail(f"the packaging test cannot run in CI: {reason}", pytrace=False)
        pytest.skip(reason)
    out = tmp_path_factory.mktemp("packaging")
    build = [sys.executable, str(ROOT / "packaging" / "build.py")]
    build += ["--dist", str(out / "dist"), "--work", str(out / "work"), "--xz-level", "1"]
    done = _run(build, timeout=1500)
    assert done.returncode == 0, _tail(done)
    debs = sorted((out / "dist").glob("ferry_*.deb"))
    assert len(debs) == 1, debs
    yield debs[0]
    shutil.rmtree(out, ignore_errors=True)


def _field(deb: Path, name: str) -> str:
    return _run(["dpkg-deb", "--field", str(deb), name]).stdout.strip()


def _missing_dependencies(deb: Path) -> list[str]:
    names = [part.split()[0] for part in _field(deb, "Depends").split(", ")]
    installed = _run(["dpkg-query", "-W", "-f", "${Package} ${db:Status-Status}\\n", *names])
    present = {
        package
        for package, _, status in (line.partition(" ") for line in installed.stdout.splitlines())
        if status == "installed"  # not "not-installed" or "config-files"
    }
    return [name for name in names if name not in present]


def _install_dependencies(packages: list[str]) -> None:
    """Install what the machine lacks from the configured archives (refreshing them once)."""
    done = _run([*APT, "install", *packages])
    if done.returncode != 0:
        _run(["apt-get", "-q", "update"])
        done = _run([*APT, "install", *packages])
    assert done.returncode == 0, f"cannot install the .deb's Depends {packages}: {_tail(done)}"


def _purge() -> subprocess.CompletedProcess[str]:
    return _run(["dpkg", "--purge", "ferry"])


@pytest.fixture(scope="module")
def installed(deb: Path) -> Iterator[Path]:
    """The package installed with ``dpkg -i``; purged afterwards if a test did not."""
    with LOCK.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        missing = _missing_dependencies(deb)
        if missing:
            _install_dependencies(missing)
        done = _run(["dpkg", "-i", str(deb)])
        assert done.returncode == 0, _tail(done)
        try:
            yield deb
        finally:
            if _run(["dpkg-query", "-W", "ferry"]).returncode == 0:
                _purge()


def _loaded_libraries(log_prefix: Path) -> list[str]:
    """Files the dynamic loader opened, from ``LD_DEBUG=files`` logs (one per process)."""
    loaded = []
    for log in log_prefix.parent.glob(log_prefix.name + ".*"):
        loaded += re.findall(r"file=(\S+)", log.read_text(errors="replace"))
    return loaded


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A clean environment: no venv on PATH, settings and caches in the test's folder."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QT_", "VIRTUAL_ENV"))}
    env["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    env["HOME"] = str(tmp_path / "home")
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    env["TMPDIR"] = str(tmp_path)  # the wizard's walk copies the demo to a temporary folder
    return {**env, **extra}


def _png_is_a_picture(path: Path) -> bool:
    """A real, non-blank PNG: valid signature and header, at least a dialog's size (the
    workspace question is one: 640 x 154), varied pixels."""
    data = path.read_bytes()
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        return False
    width, height = struct.unpack(">II", data[16:24])
    chunks, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        if data[pos + 4 : pos + 8] == b"IDAT":
            chunks.append(data[pos + 8 : pos + 8 + length])
        pos += 12 + length
    pixels = zlib.decompress(b"".join(chunks))
    return width >= 400 and height >= 120 and len(set(pixels)) > 16


def test_the_package_is_versioned_from_the_project(installed: Path) -> None:
    version = _project_version()
    assert _field(installed, "Package") == "ferry"
    release = re.match(r"\d+(\.\d+)*", version)
    assert release is not None
    assert _field(installed, "Version").startswith(release.group())  # 1.0rc1 -> 1.0~rc1
    shown = _run([str(FERRY), "--version"])
    assert shown.returncode == 0, _tail(shown)
    assert version in shown.stdout


def test_depends_covers_the_xcb_plugin(installed: Path) -> None:
    depends = {part.split()[0] for part in _field(installed, "Depends").split(", ")}
    assert {"libc6", "libxcb-icccm4", "libxcb-keysyms1", "libfontconfig1"} <= depends


def test_every_library_the_bundle_links_is_found(installed: Path) -> None:
    unresolved = []
    for path in sorted(PREFIX.rglob("*.so*")):
        if path.is_file() and not path.is_symlink():
            listing = _run(["ldd", str(path)]).stdout
            unresolved += [
                f"{path}: {line.strip()}" for line in listing.splitlines() if "not found" in line
            ]
    assert unresolved == []


def test_ferry_links_to_the_bundle_and_offers_the_wizard(installed: Path) -> None:
    assert FERRY.is_symlink()
    assert FERRY.resolve() == PREFIX / "ferry"
    listed = _run([str(FERRY), "--help"])
    assert re.search(r"^\s+gui\s", listed.stdout, re.M), listed.stdout


def test_ferry_gui_is_the_wizard_command(installed: Path) -> None:
    shown = _run(["/usr/bin/ferry-gui", "--help"])
    assert shown.returncode == 0, _tail(shown)
    assert "--screenshots" in shown.stdout


def test_the_menu_entry_opens_the_wizard_with_the_icon(installed: Path) -> None:
    entry = Path("/usr/share/applications/ferry.desktop")
    desktop = entry.read_text()
    assert "Exec=/usr/bin/ferry gui" in desktop
    assert "Icon=ferry" in desktop
    assert Path("/usr/share/icons/hicolor/scalable/apps/ferry.svg").read_text().startswith("<svg")
    if shutil.which("desktop-file-validate"):  # desktop-file-utils, where installed
        checked = _run(["desktop-file-validate", str(entry)])
        assert checked.returncode == 0, _tail(checked)


def test_headless_migration_runs_without_loading_qt(installed: Path, tmp_path: Path) -> None:
    log = tmp_path / "ld"
    env = _env(tmp_path, LD_DEBUG="files", LD_DEBUG_OUTPUT=str(log))
    demo = tmp_path / "demo"
    migrated = _run([str(FERRY), "demo", str(demo)], env=env)
    assert migrated.returncode == 0, _tail(migrated)
    verified = _run([str(FERRY), "verify", str(demo / "ferry.toml")], env=env)
    assert verified.returncode == 0, _tail(verified)
    assert "PASS" in verified.stdout
    loaded = _loaded_libraries(log)
    assert any(path.startswith(f"{PREFIX}/_internal/libpython") for path in loaded), loaded[:20]
    assert [path for path in loaded if "Qt6" in path or "PySide6" in path] == []


def test_headless_migration_into_postgresql(installed: Path, tmp_path: Path, pg_url: str) -> None:
    """The bundled psycopg (and its libpq) from the installed files, on the real server."""
    env = _env(tmp_path)
    demo = tmp_path / "demo"
    assert _run([str(FERRY), "demo", str(demo)], env=env).returncode == 0
    plan = demo / "pg.toml"
    drafted = _run(
        [str(FERRY), "init", str(demo / "data"), "--target", pg_url, "-o", str(plan)], env=env
    )
    assert drafted.returncode == 0, _tail(drafted)
    migrated = _run([str(FERRY), "migrate", str(plan), "-q"], env=env)
    assert migrated.returncode == 0, _tail(migrated)
    verified = _run([str(FERRY), "verify", str(plan)], env=env)
    assert verified.returncode == 0, _tail(verified)
    assert "PASS" in verified.stdout


def test_example_with_a_hook_migrates_into_postgresql(
    installed: Path, tmp_path: Path, pg_url: str
) -> None:
    """examples/ytv2 (two SQLite copies merged, a hooks file beside the plan) from the bundle."""
    folder = tmp_path / "ytv2"
    generated = _run([sys.executable, str(ROOT / "examples" / "ytv2" / "generate.py"), str(folder)])
    assert generated.returncode == 0, _tail(generated)
    plan = folder / "ferry.toml"
    target = re.compile(r'^url = "postgresql://[^"]*"$', re.M)  # [target]'s, the only one
    text, count = target.subn(f'url = "{pg_url}"', plan.read_text(), count=1)
    assert count == 1
    plan.write_text(text)
    env = _env(tmp_path)
    migrated = _run([str(FERRY), "migrate", str(plan), "-q"], env=env)
    assert migrated.returncode == 0, _tail(migrated)
    verified = _run([str(FERRY), "verify", str(plan)], env=env)
    assert verified.returncode == 0, _tail(verified)
    assert "PASS" in verified.stdout


def test_wizard_walks_the_demo_offscreen(installed: Path, tmp_path: Path) -> None:
    log = tmp_path / "ld"
    shots = tmp_path / "shots"
    env = _env(tmp_path, QT_QPA_PLATFORM="offscreen", LD_DEBUG="files", LD_DEBUG_OUTPUT=str(log))
    walked = _run([str(FERRY), "gui", "--demo", "--screenshots", str(shots)], env=env)
    assert walked.returncode == 0, _tail(walked)
    printed = sorted(Path(line) for line in walked.stdout.split() if line.endswith(".png"))
    assert printed == sorted(shots.glob("*.png"))
    assert len(printed) >= 6
    assert [path.name for path in printed if not _png_is_a_picture(path)] == []
    loaded = _loaded_libraries(log)
    assert f"{PREFIX}/_internal/PySide6/Qt/lib/libQt6Gui.so.6" in loaded


def test_purge_leaves_nothing_behind(installed: Path) -> None:
    done = _purge()
    assert done.returncode == 0, _tail(done)
    assert [path for path in INSTALLED if path.exists() or path.is_symlink()] == []
    assert _run(["dpkg-query", "-W", "ferry"]).returncode != 0
