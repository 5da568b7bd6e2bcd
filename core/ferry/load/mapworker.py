"""A big JSON file parsed and mapped in worker processes: the workers' side.

Reading JSON holds the GIL all along (parse, shape, map), so in one process the run uses one
core. :mod:`ferry.load.inworker` starts :func:`serve` in a few processes of their own for an
array laid out one record per line (how apps and the benchmark write them). The file is cut
into chunks of about :data:`CHUNK_BYTES` at line starts (every worker finds the same cuts);
worker ``k`` of ``n`` takes chunks ``k``, ``k + n``, ... A chunk's record lines are parsed
as the whole read would parse them (:meth:`~ferry.sources.json.JsonSource.rows_of_records`:
the same decoder and shaper, the lines joined into one array) and mapped by a
:class:`~ferry.values.transform.RowMapper` built
from the route's own arguments and adapters. A chunk goes back ready for the target
(:class:`Mapped`: the values, the refused rows with key and reason, the value warnings in
order) with what the run needs to check the array's layout across chunks (:class:`Layout`).

Anything the line read cannot vouch for (a line that is not one object, a comma out of place,
a duplicate key, NaN, a surrogate escape, a line too long or nested too deep, a record without
the key field or holding child tables) is sent as :class:`Irregular`: the run then starts over
reading the file in process, which gives the exact rows or error it always gave. A chunk
holding a field the table's columns do not know yet goes back as read (:class:`Unmapped`): the
run widens the table and maps it itself. Each worker's pipe bounds what waits: a worker blocks
on a full pipe, so it is at most a chunk ahead.
"""

from __future__ import annotations

import signal
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, cast

from ..errors import FerryError
from ..sources.json import JsonSource, peak_depth
from ..sources.records import MAX_DEPTH
from ..values.transform import RowMapper, RowRefused, refused_key

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    from ..plan import SourceSpec, TableSpec
    from ..shape.schema import TableInfo
    from ..values.logical import LogicalType


#: bytes of the file per chunk (cut at the next line start): small enough that a worker is
#: never far ahead of the writer and holds little (a worker's peak grows by about 2 MiB per
#: 128 KiB), big enough that a chunk's message costs the run little (at 256 KiB its CPU grew
#: by a tenth)
CHUNK_BYTES = 384 * 1024
#: a record line longer than this is left to the whole read (it may hold a string or an
#: element over the limits that read applies; a chunk is never read past it)
LINE_LIMIT = 1024 * 1024
_BLANK = b" \t\r\n"  # JSON's whitespace (bytes.strip() would take \f and \v too)


@dataclass(frozen=True)
class TargetColumn:
    """A target column as a RowMapper reads it: its logical type, its type in the target's
    SQL (a ``uuid`` column takes text in PostgreSQL's spelling) and whether the target
    computes it (never written)."""

    type: LogicalType
    sql_type: str = ""
    generated: bool = False


@dataclass(frozen=True)
class TargetTable:
    """What a RowMapper reads of the target table: a :class:`~ferry.shape.schema.TableInfo`
    without its module, whose SQLAlchemy import would cost each worker half a second."""

    name: str
    dialect: str
    columns: dict[str, TargetColumn]

    @classmethod
    def of(cls, info: TableInfo) -> TargetTable:
        """The part of ``info`` a RowMapper reads."""
        columns = {
            name: TargetColumn(column.type, column.sql_type, column.generated)
            for name, column in info.columns.items()
        }
        return cls(info.name, info.dialect, columns)


@dataclass(frozen=True)
class MapJob:
    """What a worker needs to read and map its chunks of one JSON file (all picklable)."""

    source: SourceSpec
    base_dir: Path
    #: the file's size when the run looked (the cuts are made within it)
    size: int
    #: this worker's number and how many there are: it takes chunks worker, worker + workers…
    worker: int
    workers: int
    #: the field the records are keyed by (the shaper's key column)
    key_field: str
    #: the route's table spec (the source fields a refused row's key is read from)
    spec: TableSpec
    #: the mapper's own spec (its key filled in) and the arguments it was built with
    mapper_spec: TableSpec
    info: TargetTable
    source_columns: dict[str, LogicalType]
    key_fields: tuple[str, ...]
    now: datetime
    timezone: tzinfo | None
    declared_times: frozenset[str]
    #: the target's adapters, one per mapped column (module-level functions: pickled by name)
    adapters: list[Callable[[Any], Any]]
    #: the source fields the table knows when the read starts
    known_fields: frozenset[str]
    batch_size: int
    chunk_bytes: int = CHUNK_BYTES
    #: the field the table's row prints are keyed by (None: no prints are kept): each mapped
    #: chunk sends its rows' keys back, for the run's print book
    print_field: str | None = None


@dataclass
class Layout:
    """How a chunk's lines fit the array (checked across chunks by the run, in order)."""

    #: the chunk holds the array's ``[`` (before any record of the chunk)
    opens: bool = False
    #: records in the chunk
    records: int = 0
    #: the chunk's first record is preceded by its own comma (``,{…}``)
    leads: bool = False
    #: a comma is due before the next record when the chunk ends (its last record has none)
    needs_comma: bool = False
    #: the chunk holds the array's ``]`` (nothing but whitespace after it)
    closes: bool = False


@dataclass
class Mapped:
    """One chunk, mapped: what :func:`ferry.load.route.map_rows` makes of its rows."""

    layout: Layout
    prepared: list[tuple[Any, ...]]
    rejected: list[tuple[str, str, dict[str, Any]]]
    skipped: int
    #: the mapper's value warnings, ``(message, key)``, in the order they were raised
    warnings: list[tuple[str, str]]
    #: where the chunk ends in the file (progress)
    end: int
    seconds: float
    #: every row's print key, in file order (rejected and skipped rows too), when the job
    #: has a ``print_field``
    keys: list[Any] | None = None


@dataclass
class Unmapped:
    """One chunk's rows as read: the run maps them (they hold a field not known yet)."""

    layout: Layout
    rows: list[dict[str, Any]]
    end: int


@dataclass
class Irregular:
    """The chunk holds something the line read cannot vouch for (``why``)."""

    why: str


@dataclass
class Finished:
    """The worker took all its chunks; its peak RSS in bytes."""

    peak_rss: int


@dataclass
class Failed:
    """The worker stopped: the error (``error``), or when it cannot travel its type and text."""

    error: BaseException | None
    text: str = ""


class _NotLines(Exception):
    """The chunk is not laid out one record per line."""


Message = Mapped | Unmapped | Irregular | Finished


def serve(conn: Connection, job: MapJob) -> None:
    """A worker process's whole life: send every message of :func:`messages`, then exit."""
    # Ctrl-C reaches the whole process group: the run cancels and ends this process.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        for message in messages(job):
            conn.send(message)
    except (BrokenPipeError, EOFError):
        pass  # the run stopped listening (cancelled): nothing to tell
    except BaseException as exc:  # told to the run, which raises it
        try:
            conn.send(Failed(exc))
        except Exception:  # the error itself cannot be pickled: its words travel
            conn.send(Failed(None, f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


def chunk_count(size: int, chunk_bytes: int) -> int:
    """How many chunks a file of ``size`` bytes is cut into."""
    return max(1, -(-size // chunk_bytes))


def messages(job: MapJob) -> Iterator[Message]:
    """Read and map this worker's chunks, a message each, then :class:`Finished` (an
    :class:`Irregular` chunk ends the worker's read)."""
    reader = JsonSource(job.source, job.base_dir)
    warnings: list[tuple[str, str]] = []
    mapper = RowMapper(
        job.mapper_spec,
        cast("TableInfo", job.info),  # duck-typed: the columns' types and the dialect
        job.source_columns,
        job.now,
        warn=lambda message, key: warnings.append((message, key)),
        timezone=job.timezone,
        declared_times=job.declared_times,
        key_fields=job.key_fields,
    )
    map_row = mapper.row_function(job.adapters)
    known = job.known_fields
    with reader.path.open("rb") as handle:
        for index in range(job.worker, chunk_count(job.size, job.chunk_bytes), job.workers):
            start = _line_start(handle, index * job.chunk_bytes, job.size)
            end = _line_start(handle, (index + 1) * job.chunk_bytes, job.size)
            if start < 0 or end < 0:
                yield Irregular(f"a line longer than {LINE_LIMIT} bytes")
                return
            handle.seek(start)
            try:
                layout, texts = chunk_records(handle.read(end - start), first=index == 0)
                rows = reader.rows_of_records(texts, job.key_field, max(len(texts), 1))
                del texts  # what a worker holds at once is its peak memory
            except Exception as exc:  # anything the whole read must judge
                yield Irregular(str(exc) or type(exc).__name__)
                return
            if not all(map(known.issuperset, rows)):
                yield Unmapped(layout, rows, end)
                continue
            began = time.perf_counter()
            prepared: list[tuple[Any, ...]] = []
            rejected: list[tuple[str, str, dict[str, Any]]] = []
            skipped = 0
            for row in rows:
                try:
                    values = map_row(row)
                except RowRefused as exc:
                    rejected.append((refused_key(job.spec, mapper.key, row), exc.reason, row))
                    continue
                if values is None:
                    skipped += 1
                    continue
                prepared.append(values)
            said, warnings[:] = list(warnings), []
            seconds = time.perf_counter() - began
            keys = [row.get(job.print_field) for row in rows] if job.print_field else None
            del rows  # not held while the chunk is pickled and sent
            yield Mapped(layout, prepared, rejected, skipped, said, end, seconds, keys)
    yield Finished(peak_rss())


def _line_start(handle: IO[bytes], offset: int, size: int) -> int:
    """The first line start at or after ``offset`` (``size`` past the end): where a chunk
    cut at ``offset`` begins; -1 when no line starts within LINE_LIMIT bytes of it."""
    if offset <= 0:
        return 0
    if offset >= size:
        return size
    handle.seek(offset - 1)
    skipped = handle.readline(LINE_LIMIT + 1)
    if len(skipped) > LINE_LIMIT:
        return -1
    return min(offset - 1 + len(skipped), size)


def chunk_records(data: bytes, first: bool) -> tuple[Layout, list[bytes]]:
    """The record texts of a chunk of whole lines, and its :class:`Layout`; raises
    :class:`_NotLines` for a line that is not one object (with its comma) or a bracket out of
    place within the chunk. The rules are :func:`ferry.load.jsonlines.record_lines`'s."""
    layout = Layout()
    texts: list[bytes] = []
    due: bool | None = None  # a comma is due before the next record (None: not known yet)
    ended = False
    for number, raw in enumerate(data.split(b"\n")):
        text = raw.strip(_BLANK)
        if first and number == 0 and text.startswith(b"\xef\xbb\xbf"):  # a BOM
            text = text[3:].strip(_BLANK)
        if not text:
            continue
        if ended:
            raise _NotLines("text after the array")
        if text.startswith(b"["):
            if texts or layout.opens or not first:
                raise _NotLines("a bracket that does not open the array")
            layout.opens, text, due = True, text[1:].strip(_BLANK), False
        elif first and not layout.opens:
            raise _NotLines("not an array")
        if text.endswith(b"]"):
            ended = layout.closes = True
            text = text[:-1].strip(_BLANK)
        if not text:
            if ended and texts and not due:
                raise _NotLines("a comma before the array's end")
            continue
        leads = text.startswith(b",")
        if leads:
            text = text[1:].strip(_BLANK)
        if due is None:
            layout.leads = leads
        elif leads != due:  # a comma leads a record exactly when the one before has none
            raise _NotLines("a comma out of place between records")
        dangling = text.endswith(b",")
        if dangling:
            text = text[:-1].strip(_BLANK)
        if ended and dangling:
            raise _NotLines("a comma before the array's end")
        due = not dangling
        if not (text.startswith(b"{") and text.endswith(b"}")) or len(text) > LINE_LIMIT:
            raise _NotLines("a line that is not one object")
        if text.count(b"[") + text.count(b"{") > MAX_DEPTH and peak_depth(text) > MAX_DEPTH:
            raise _NotLines("a record nested too deeply")
        texts.append(text)
    layout.records = len(texts)
    layout.needs_comma = bool(due)
    return layout, texts


def peak_rss() -> int:
    """This process's peak resident memory in bytes: Linux's ``VmHWM`` (``ru_maxrss`` would
    include the parent's high-water mark, carried over the ``exec`` that started the worker),
    else ``ru_maxrss`` (macOS counts bytes), 0 where neither is known (Windows)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    try:
        import resource
    except ImportError:
        return 0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def failure(message: Failed, path: str) -> BaseException:
    """The error a :class:`Failed` message stands for, as the run raises it."""
    if message.error is not None:
        return message.error
    return FerryError(
        f"{path}: reading the file in a worker process failed ({message.text})",
        hint="Run again; if it fails the same way, report it with the file's size and shape.",
    )


__all__ = [
    "CHUNK_BYTES",
    "Failed",
    "Finished",
    "Irregular",
    "Layout",
    "MapJob",
    "Mapped",
    "Message",
    "TargetColumn",
    "TargetTable",
    "Unmapped",
    "chunk_count",
    "chunk_records",
    "failure",
    "messages",
    "serve",
]
