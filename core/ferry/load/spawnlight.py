"""Worker processes started without running the parent's main script again.

``spawn`` runs the parent's main module again in each new process (as ``__mp_main__``) before
it unpickles the process's target, so that functions defined there can be found. Ferry's
workers take their target and arguments from Ferry's own modules, and a main script can be
heavy: the ``ferry-gui`` console script imports the wizard, PySide6 and all (130 MiB and a
second of CPU more in each JSON worker, measured), the benchmark's runner its data generator.
:func:`start_light` starts processes whose new interpreter is told nothing of the main module,
so each imports only what unpickling its target needs.
"""

from __future__ import annotations

import multiprocessing.spawn
import threading
from collections.abc import Iterable
from multiprocessing.process import BaseProcess
from typing import Any

#: what spawn's preparation data says of the parent's main module
_MAIN_KEYS = ("init_main_from_name", "init_main_from_path")
#: one start at a time changes spawn's function (a run's workers start in a worker thread)
_LOCK = threading.Lock()


def start_light(processes: Iterable[BaseProcess]) -> None:
    """Start ``processes`` (of the ``spawn`` context) without the parent's main module."""
    with _LOCK:
        prepare = multiprocessing.spawn.get_preparation_data

        def light(name: str) -> dict[str, Any]:
            data: dict[str, Any] = prepare(name)
            for key in _MAIN_KEYS:
                data.pop(key, None)
            return data

        # spawn's Popen looks the function up on each start: changed only while these start
        multiprocessing.spawn.get_preparation_data = light
        try:
            for process in processes:
                process.start()
        finally:
            multiprocessing.spawn.get_preparation_data = prepare


__all__ = ["start_light"]
