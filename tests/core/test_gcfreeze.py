"""``ferry.gcfreeze``: the command line freezes its start-up objects once, when its first engine
step starts, and the collector keeps collecting what runs make. Fresh interpreters: freezing is
per process."""

from __future__ import annotations

import subprocess
import sys

_RUN = (
    "import gc\n"
    "from ferry.cli.common import run\n"
    "async def step(cancel):\n"
    "    return gc.get_freeze_count()\n"
)


def _python(code: str) -> list[str]:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_the_first_engine_step_freezes_what_is_imported() -> None:
    out = _python(_RUN + "before = gc.get_freeze_count()\nprint(before, run(step) > before)")
    assert out == ["0", "True"]


def test_later_steps_freeze_nothing_more() -> None:
    out = _python(
        _RUN + "first = run(step)\n"
        "made = [[] for _ in range(1000)]\n"
        "print(run(step) <= first)"  # frozen objects may still be freed by refcount
    )
    assert out == ["True"]


def test_what_a_run_makes_is_still_collected() -> None:
    out = _python(
        _RUN + "run(step)\n"
        "class Cycle:\n"
        "    pass\n"
        "a = Cycle(); a.me = a; del a\n"
        "print(gc.isenabled(), gc.collect() > 0)"
    )
    assert out == ["True", "True"]


def test_a_held_collector_runs_again_once_the_startup_is_frozen() -> None:
    out = _python(
        "import gc\n"
        "from ferry.gcfreeze import freeze_startup, hold_collections\n"
        "hold_collections(); held = gc.isenabled()\n"
        "freeze_startup(); print(held, gc.isenabled())"
    )
    assert out == ["False", "True"]


def test_a_host_that_turned_the_collector_off_keeps_it_off() -> None:
    out = _python(
        "import gc\n"
        "from ferry.gcfreeze import freeze_startup, hold_collections\n"
        "gc.disable(); hold_collections(); freeze_startup(); print(gc.isenabled())"
    )
    assert out == ["False"]
