#!/usr/bin/env python3
"""Measure the frozen wizard's start-up: launch → first page shown.

    python3 packaging/coldstart.py                      # the installed /usr/bin/ferry, 5 runs
    python3 packaging/coldstart.py --ferry dist/ferry/ferry --runs 7

Each run starts ``ferry gui --demo --screenshots DIR`` offscreen in a fresh folder and stops
the clock when the walk's first screenshot (the start page, drawn with the demo open, after the
walk's 0.25 s settle) is on disk; the process is then stopped. Cold runs first drop the
bundle's own files from the page cache (``posix_fadvise DONTNEED``: no privileges, nothing else
evicted), so the bundle is read from disk again; warm runs follow. For comparison it also times
the headless ``ferry --version``, cold and warm. Standard library only.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

PNG_END = b"IEND\xaeB`\x82"


def first_page_seconds(ferry: Path, timeout: float = 120.0) -> float:
    """Seconds from launch until the start page's screenshot is completely written."""
    with tempfile.TemporaryDirectory(prefix="ferry-coldstart-") as scratch:
        # TMPDIR too: the walk copies the demo into a temporary folder it does not remove.
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": scratch}
        env["TMPDIR"] = scratch
        shot = Path(scratch) / "shots" / "01-start.png"
        command = [str(ferry), "gui", "--demo", "--screenshots", str(shot.parent)]
        started = time.perf_counter()
        process = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            while not (shot.exists() and shot.read_bytes().endswith(PNG_END)):
                if process.poll() is not None:
                    raise RuntimeError(f"{ferry} gui exited ({process.returncode}) before a page")
                if time.perf_counter() - started > timeout:
                    raise RuntimeError(f"no page after {timeout:.0f} s")
                time.sleep(0.005)
            return time.perf_counter() - started
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def evict(bundle: Path) -> None:
    """Drop the bundle's files from the page cache, so the next start reads them from disk."""
    for path in bundle.rglob("*"):
        if path.is_file() and not path.is_symlink():
            fd = os.open(path, os.O_RDONLY)
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


def version_seconds(ferry: Path) -> float:
    """Seconds for the headless ``ferry --version`` (start-up without Qt)."""
    started = time.perf_counter()
    subprocess.run([str(ferry), "--version"], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ferry", type=Path, default=Path("/usr/bin/ferry"))
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    bundle = args.ferry.resolve().parent

    def cold(measure: Callable[[Path], float]) -> float:
        evict(bundle)
        return measure(args.ferry)

    gui_cold = [cold(first_page_seconds) for _ in range(args.runs)]
    gui_warm = [first_page_seconds(args.ferry) for _ in range(args.runs)]
    cli_cold = [cold(version_seconds) for _ in range(args.runs)]
    cli_warm = [version_seconds(args.ferry) for _ in range(args.runs)]
    for name, cold_runs, warm_runs in [
        ("ferry gui: launch -> first page", gui_cold, gui_warm),
        ("ferry --version", cli_cold, cli_warm),
    ]:
        print(f"{name} (s, {args.runs} runs each)")
        for label, runs in [("cold", cold_runs), ("warm", warm_runs)]:
            shown = ", ".join(f"{t:.2f}" for t in runs)
            print(f"  {label}: median {statistics.median(runs):.2f}  [{shown}]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
