"""A second Ctrl-C during an engine step: the same press delivered twice is one press, a
later one aborts at once with Ferry's own line and exit 130 (not click's "Aborted!").

Real signals to this process, through :func:`ferry.cli.common.run` and its event loop; the
step is a coroutine that rolls back slowly once cancelled.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from ferry.cli import common
from ferry.errors import Cancelled
from ferry.events import CancelToken

Step = Callable[[CancelToken], Coroutine[Any, Any, None]]

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


def step_rolling_back_for(seconds: float, presses: list[float]) -> Step:
    """A step that sends SIGINT to this process at each of ``presses`` (seconds after it
    starts; equal times are sent back to back, as ``timeout -s INT`` does), and once
    cancelled takes ``seconds`` to roll back."""

    async def step(cancel: CancelToken) -> None:
        loop = asyncio.get_running_loop()
        for at in presses:
            loop.call_later(at, os.kill, os.getpid(), signal.SIGINT)
        while not cancel.cancelled:
            await asyncio.sleep(0.01)
        await asyncio.sleep(seconds)
        raise Cancelled()

    return step


def run_exit(step: Step) -> int:
    with pytest.raises(SystemExit) as stopped:
        common.run(step)
    return int(stopped.value.code)


def test_one_press_delivered_twice_still_rolls_back(capsys: pytest.CaptureFixture[str]) -> None:
    code = run_exit(step_rolling_back_for(0.5, [0.1, 0.1]))

    stderr = capsys.readouterr().err
    assert code == 130
    assert "error: Cancelled: the target was rolled back and is unchanged." in stderr
    assert "Aborted" not in stderr


def test_a_later_second_press_aborts_with_ferrys_line(capsys: pytest.CaptureFixture[str]) -> None:
    code = run_exit(step_rolling_back_for(10, [0.1, 0.1 + common.SAME_PRESS_S + 0.3]))

    stderr = capsys.readouterr().err
    assert code == 130
    assert "error: Aborted at once (Ctrl-C pressed again)" in stderr
    assert "Aborted!" not in stderr and "Traceback" not in stderr
