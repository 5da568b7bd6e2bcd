"""Verification's fast path, a second process hashing SQLite source spans
(:class:`ferry.verify.fastsource.SourceSide` lets one in for big tables).

The source side's Python (fetching each row's bytes, MD5, the sum) holds the GIL, so in one
process it uses one core however many threads read (two threads only hand the GIL over once
a row: docs/benchmarks.md, 2026-12-07 04:55). A worker process has its own GIL: it takes
rowid spans from the same list as the run's thread, one at a time, and sends back each span's
row count and digest sum (the sums are order-free, so any split gives the same checksum).
It costs an interpreter importing :mod:`ferry.verify.fastsource` (about 0.1 CPU s) and no
other CPU: the rows are hashed once either way, only on another core.

The process is started with ``spawn`` (a fresh interpreter, never a fork of this threaded
one) without the parent's main script (:mod:`ferry.load.spawnlight`); it ignores SIGINT (the
run ends it), reads the file read-only like the run's thread, and is told to end (then
terminated, then killed) whenever the source side stops. A span it cannot hash, or a worker
that dies with a span, leaves that table to the general path, as any span SQL cannot write.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from ..load.spawnlight import start_light
from .fastsource import hash_span

#: source rows (the fast path's tables' estimates, summed) from which a worker is started:
#: below, the interpreter's start (about 0.1 CPU s) is a good part of the hashing it takes
WORKER_MIN_ROWS = 200_000
#: what the worker sends once it can take spans
READY = "ready"
#: seconds a worker gets to end by itself before it is terminated (then killed)
_GRACE = 2.0


def worker_pays(rows: int) -> bool:
    """Whether a worker process is started for ``rows`` source rows: enough of them, and a
    second core for it (with one, the two processes would only take turns)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return rows >= WORKER_MIN_ROWS and cores >= 2


def serve(conn: Connection) -> None:
    """The worker process: for each ``(path, busy_timeout, sql, params)`` received, the
    span's ``(rows, digest sum)`` (None for the general path); ends on None."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    conn.send(READY)
    rows = 0

    def counted(batch: int) -> bool:
        nonlocal rows
        rows += batch
        return True

    while (job := conn.recv()) is not None:
        path, busy_timeout, sql, params = job
        rows = 0
        part = hash_span(Path(path), busy_timeout, sql, tuple(params), counted)
        conn.send(None if part is None else (rows, part))
    conn.close()


class SpanWorker:
    """The run's handle on one worker process (started at once; :meth:`close` ends it)."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self.pipe, child = context.Pipe(duplex=True)
        self.process: BaseProcess = context.Process(
            target=serve, args=(child,), name="ferry-verify-spans", daemon=True
        )
        #: spans sent and not answered yet
        self.pending = 0
        try:
            start_light([self.process])
        finally:
            child.close()

    def answer(self, wait: float) -> tuple[bool, Any]:
        """``(True, message)`` when the worker sent one within ``wait`` seconds, ``(False,
        None)`` when not yet; raises EOFError (or OSError) once the worker is gone."""
        if self.pipe.poll(wait):
            message = self.pipe.recv()
            if message != READY:
                self.pending -= 1
            return True, message
        if not self.process.is_alive():
            raise EOFError("the verification's span worker ended")
        return False, None

    def send(self, job: tuple[str, float, str, tuple[int, ...]]) -> None:
        """Give the worker a span to hash."""
        self.pipe.send(job)
        self.pending += 1

    def close(self) -> None:
        """End the worker: asked (terminated at once when it still hashes a span: the run
        stops), then terminated, then killed; always waited for."""
        with contextlib.suppress(OSError, ValueError):  # already gone
            self.pipe.send(None)
        self.process.join(0 if self.pending else _GRACE)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(_GRACE)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.pipe.close()


__all__ = ["READY", "WORKER_MIN_ROWS", "SpanWorker", "serve", "worker_pays"]
