"""What every source reader provides: a description of its tables and a stream of row batches.

Readers are synchronous on purpose: parsing is CPU or file work, and the engine drives each
reader from a worker thread (``asyncio.to_thread``) so no event loop ever blocks on it.
A reader yields batches for all of its tables in one pass, so a JSON file whose records hold
nested lists (``executions`` with their ``steps``) is read once and feeds parent and child
tables together.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from ..capabilities import SourceCapabilities
from ..values.logical import LogicalType

if TYPE_CHECKING:
    from ..errors import FerryError
    from ..events import CancelToken
    from ..plan import SourceSpec
    from ..shape.source import TableShape
    from ..shape.textorder import TextOrder
    from ..values.textbytes import Census
    from ..values.typeevidence import LongNumbers, Mixed

Row = dict[str, Any]


#: told after each batch a scan reads: (table, rows read so far, its row estimate or None)
ScanProgress = Callable[[str, int, int | None], None]


@dataclass(frozen=True)
class ParentLink:
    """How a child table refers to its parent: ``columns`` in the child hold ``parent_columns``."""

    parent: str
    columns: tuple[str, ...]
    parent_columns: tuple[str, ...]


@dataclass
class SourceTable:
    """One table a source provides.

    ``name`` is how a plan refers to it: the source's name for a single-table file source
    (``settings``), ``source.field`` for a child table made from a nested list
    (``executions.steps``) and ``source.table`` for a table of a database source
    (``nas.content``).
    """

    name: str
    columns: dict[str, LogicalType] = field(default_factory=dict)
    key: tuple[str, ...] = ()
    parent: ParentLink | None = None
    row_estimate: int | None = None
    #: the table's own name inside a database source, or the file it comes from
    origin: str = ""
    #: column -> the kinds of its values, where they are mixed (``ferry init`` notes them)
    evidence: dict[str, Mixed] = field(default_factory=dict)
    #: column -> its numbers a SQLite NUMERIC column would round (a draft into SQLite: text)
    long_numbers: dict[str, LongNumbers] = field(default_factory=dict)
    #: column -> the kinds of its values, every column's (read by :meth:`SourceReader.scan`;
    #: ``ferry init`` reads a SQLite column's storage classes only where they differ)
    kinds: dict[str, frozenset[LogicalType]] = field(default_factory=dict)
    #: a database source's declared column types (``DECIMAL(10,2)``), for precision and scale
    declared: dict[str, str] = field(default_factory=dict)
    #: a SQLite source's column collations (``NOCASE``), from its CREATE TABLE
    collations: dict[str, str] = field(default_factory=dict)
    #: how a database source sorts text where a column names no collation (SQLite: byte by
    #: byte; PostgreSQL: its database's collation); None where not known
    #: (:mod:`ferry.shape.textorder`)
    text_order: TextOrder | None = None
    #: whether a database source's ascending ORDER BY puts NULL first (SQLite) or last
    #: (PostgreSQL); None where not known (:mod:`ferry.shape.nullorder`)
    nulls_first: bool | None = None
    #: a PostgreSQL source's text columns with a collation of their own, not the database's
    collated: frozenset[str] = frozenset()
    #: a database source's defaults, constraints and indexes (:mod:`ferry.shape.source`)
    shape: TableShape | None = None
    #: what it is when it holds no data of the app's own: a SQLite virtual table (a full-text
    #: index) or one of its shadow tables (:mod:`ferry.sources.sqlitevirtual`); ``ferry init``
    #: leaves it out
    not_data: str = ""
    #: the one-column key of a source without declared types whose every value is a whole
    #: number written as text (a JSON object's keys: TinyDB's document ids); ``ferry init``
    #: drafts it as an integer
    whole_number_key: str = ""
    #: a one-column key's lowest and highest value when every one is a whole number (read by
    #: ``scan``; ``ferry init`` drafts an identity for ids that run like a sequence)
    key_span: tuple[int, int] | None = None
    #: every table a database source table's foreign keys reference (``parent`` is the
    #: first): it is read after each of them
    references: tuple[str, ...] = ()


@dataclass(frozen=True)
class Batch:
    """Rows for one source table. Rows are plain dicts; a missing key means NULL."""

    table: str
    rows: list[Row]


class SourceReader(ABC):
    """Reads one plan source. Construct with its spec and the plan's folder."""

    #: what this reader can do; the orchestrators read this, never the reader's class
    capabilities: ClassVar[SourceCapabilities] = SourceCapabilities()

    def __init__(self, spec: SourceSpec, base_dir: Path) -> None:
        self.spec = spec
        self.base_dir = base_dir
        #: :meth:`describe` may give ``row_estimate`` as a cheap upper bound instead of an
        #: exact count (a run shows it as progress only)
        self.quick_counts = False
        #: what a read met that a run names as a warning and ``ferry init`` as a note, read
        #: or not (a JSON Lines file's last line still being written)
        self.notices: list[str] = []
        #: text that is not valid UTF-8 a :meth:`scan` met, by table origin and column (the
        #: readers that can meet it fill it: SQLite); ``ferry init`` notes it
        self.invalid_text: dict[str, dict[str, Census]] = {}
        #: source tables in the order the run loads them (parents first, by the target's
        #: keys: :mod:`ferry.load.loadorder`): a database reader reads them first, in that order
        self.read_order: list[str] = []

    def in_read_order(self, tables: list[SourceTable]) -> list[SourceTable]:
        """``tables`` with those of :attr:`read_order` first, in that order."""
        rank = {name: place for place, name in enumerate(self.read_order)}
        return sorted(tables, key=lambda table: rank.get(table.name, len(rank)))

    @abstractmethod
    def describe(self) -> list[SourceTable]:
        """The tables this source provides, with the columns and types known without a full
        read (``ferry init`` calls :meth:`scan` for exact columns and counts)."""

    @abstractmethod
    def batches(self, batch_size: int) -> Iterator[Batch]:
        """Yield every row of every table, ``batch_size`` rows a batch at most."""

    def files(self) -> list[Path]:
        """Files this source reads (for backups and change detection)."""
        return []

    def files_now(self) -> list[Path]:
        """The files the source would read if it were opened now: :meth:`files` again, or
        for a pattern, the files it matches now (a file that appeared during a run)."""
        return self.files()

    def read_share(self) -> float | None:
        """The share (0 to 1) of its input the running read has got through, when the source
        can tell (a file's bytes): with no ``row_estimate`` a run estimates its total from it."""
        return None

    def query_one(self, sql: str, params: tuple[Any, ...], table: str) -> tuple[Any, ...]:
        """One row of a query about ``table``'s data, for readers whose capabilities say
        ``answers_sql`` (in the reader's own SQL dialect)."""
        raise NotImplementedError(f"a {self.spec.kind} source answers no SQL")

    def query_all(self, sql: str, params: tuple[Any, ...], table: str) -> list[tuple[Any, ...]]:
        """Every row of a query about ``table``'s data (``answers_sql`` readers)."""
        raise NotImplementedError(f"a {self.spec.kind} source answers no SQL")

    def translate_error(self, exc: BaseException) -> FerryError | None:
        """The error this reader would give for a driver error met reading its source by
        other means (a backup copying the file), or None when it has no such translation."""
        return None

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release files and connections; called once the engine is done with the reader."""

    def scan(
        self,
        batch_size: int = 5000,
        cancel: CancelToken | None = None,
        progress: ScanProgress | None = None,
    ) -> list[SourceTable]:
        """Read everything once and return exact columns, types and row counts; ``cancel``
        is checked between batches (:class:`~ferry.errors.Cancelled`), ``progress`` told
        after each one."""
        from ..values.typeevidence import EvidenceTracker

        tables = {t.name: t for t in self.describe()}
        trackers: dict[str, EvidenceTracker] = {}
        counts: dict[str, int] = {}
        for batch in self.batches(batch_size):
            if cancel is not None:
                cancel.raise_if_cancelled()
            tracker = trackers.get(batch.table)
            if tracker is None:
                known = tables.get(batch.table)
                tracker = trackers[batch.table] = EvidenceTracker(known.key if known else ())
            tracker.add_rows(batch.rows)
            counts[batch.table] = counts.get(batch.table, 0) + len(batch.rows)
            if progress is not None:
                known = tables.get(batch.table)
                progress(batch.table, counts[batch.table], known.row_estimate if known else None)
        for name, table in tables.items():
            inferred = trackers[name].result() if name in trackers else {}
            declared = dict(table.columns)
            # Declared types (a database's own) win over what the values suggest.
            table.columns = {**inferred, **declared} if declared else inferred
            table.row_estimate = counts.get(name, 0)
            if name in trackers:
                table.evidence = trackers[name].mixed()
                table.long_numbers = trackers[name].long
                table.kinds = trackers[name].kinds()
                span = trackers[name].key_span
                table.key_span = span if span is not None and span[0] <= span[1] else None
                whole = trackers[name].whole
                if len(table.key) == 1 and whole.get(table.key[0]) and not declared:
                    table.whole_number_key = table.key[0]
        return list(tables.values())


def order_parents_first(tables: list[SourceTable]) -> list[SourceTable]:
    """``tables`` reordered so a table comes after every table its foreign keys point to
    (kept in their given order otherwise; a cycle leaves the rest as they are). Its first
    key's alone was not enough: MLflow's ``logged_model_tags`` (experiments first, then
    logged_models) was read before ``logged_models``, and its rows refused."""
    names = {table.name for table in tables}
    placed: set[str] = set()
    ordered: list[SourceTable] = []
    remaining = list(tables)
    while remaining:
        for table in remaining:
            parents = {*table.references, *([table.parent.parent] if table.parent else [])}
            if all(p == table.name or p not in names or p in placed for p in parents):
                break
        else:  # a cycle: take the first one as it is
            table = remaining[0]
        remaining.remove(table)
        placed.add(table.name)
        ordered.append(table)
    return ordered


def next_batch(batches: Iterator[Batch]) -> Batch | None:
    """The next batch of a reader, None at the end (called from a worker thread: a generator
    can be advanced from any thread, one call at a time)."""
    from ..errors import FerryError

    try:
        return next(batches)
    except StopIteration:
        return None
    except RecursionError:
        raise FerryError(
            "a source is nested too deeply to read",
            hint="Flatten the data or keep nested parts as JSON.",
        ) from None
