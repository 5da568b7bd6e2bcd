"""Reading both sides of a verification into the hash store.

:class:`SideReader` streams each source through the table spec's
:class:`~ferry.values.transform.RowMapper` (rows it rejects or skips are counted, not expected) and
each target table with a plain ``SELECT``, normalises both sides the same way and hashes every
row into a :class:`~ferry.verify.checksum.HashStore`, batch by batch, so memory stays flat.
:class:`SpecCheck` is the state of one table spec under verification.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import exc as sa_exc

from ..capabilities import TargetCapabilities
from ..events import CancelToken, Emit, TableProgress
from ..load.batching import SIZING_ROWS, Prefetch, rows_per_batch
from ..load.progress import estimated_total
from ..plan import ColumnSpec, TableSpec
from ..shape.identifiers import quote
from ..shape.schema import TableInfo
from ..sources import SourceReader
from ..targets import Target
from ..values.logical import LogicalType, identity
from ..values.transform import RowMapper, RowRefused
from .checksum import (
    HashStore,
    Normalized,
    Normalizer,
    RowCodec,
    hash_form,
    key_bytes,
    newer_value,
    normalizer,
    row_digest,
)
from .integrity import _text
from .result import TableCheck


@dataclass
class SpecCheck:
    """One table spec under verification."""

    number: int
    spec: TableSpec
    info: TableInfo
    mapper: RowMapper
    label: str
    exists: bool
    known_fields: set[str]
    total: int | None
    result: TableCheck
    source_norms: dict[str, Normalizer]
    target_norms: dict[str, Normalizer]
    transform_rejected: int = 0
    skipped: int = 0
    rows_read: int = 0
    seq: int = 0
    started: float = field(default_factory=time.perf_counter)
    #: the mapper's compiled row function (rebuilt when a column is added)
    row_fn: Callable[[dict[str, Any]], tuple[Any, ...] | None] | None = None
    row_fn_columns: int = 0

    @property
    def compared(self) -> list[str]:
        """Columns whose values are compared: not the key, not ``now`` columns."""
        skip = set(self.mapper.key) | self.mapper.now_columns
        return [c for c in self.mapper.columns if c not in skip]

    def type_of(self, column: str) -> LogicalType:
        return self.info.columns[column].type


class SideReader:
    """Hashes the source and target rows of checks into a store (``capabilities``: the
    target's)."""

    def __init__(
        self, capabilities: TargetCapabilities, batch_size: int, cancel: CancelToken, emit: Emit
    ) -> None:
        self.capabilities = capabilities
        self.batch_size = batch_size
        self.cancel = cancel
        self.emit = emit

    async def read_sources(
        self, readers: dict[str, SourceReader], checks: list[SpecCheck], store: HashStore
    ) -> None:
        """Map, normalise and hash every source row its checks expect in the target."""
        by_source: dict[str, list[SpecCheck]] = {}
        for check in checks:
            by_source.setdefault(check.spec.source, []).append(check)
        batch_size = self.batch_size
        for reader in readers.values():
            ahead = not reader.capabilities.parses_in_python
            async with Prefetch(reader.batches(batch_size), ahead) as batches:
                await self._read_source(batches, by_source, store, reader)

    async def _read_source(
        self,
        batches: Prefetch,
        by_source: dict[str, list[SpecCheck]],
        store: HashStore,
        reader: SourceReader,
    ) -> None:
        while True:
            self.cancel.raise_if_cancelled()
            batch = await batches.next()
            if batch is None:
                break
            for check in by_source.get(batch.table, []):
                _widen(check, batch.rows)
                await asyncio.to_thread(self._digest_source, check, batch.rows, store)
                check.rows_read += len(batch.rows)
                elapsed = max(time.perf_counter() - check.started, 1e-6)
                total = check.total  # a JSON file counts nothing ahead: estimate from bytes
                if total is None:
                    total = estimated_total(check.rows_read, reader.read_share())
                self.emit(
                    TableProgress(check.label, check.rows_read, total, check.rows_read / elapsed)
                )

    def _digest_source(
        self, check: SpecCheck, rows: list[dict[str, Any]], store: HashStore
    ) -> None:
        """Map, normalise and hash one batch (in a worker thread)."""
        mapper = check.mapper
        columns = list(mapper.columns)
        if check.row_fn is None or len(columns) != check.row_fn_columns:
            check.row_fn = mapper.row_function([identity] * len(columns))
            check.row_fn_columns = len(columns)
        map_row = check.row_fn
        norms = self.norms(check, "source")
        keys = [(columns.index(k), norms[k]) for k in mapper.key]
        compared = [(columns.index(c), norms[c]) for c in check.compared]
        codec = RowCodec(check.compared)
        hashed = _hashed(check)
        newer = self._newer_getter(check, columns, norms)
        out: list[tuple[bytes, bytes, Any, bytes, int]] = []
        for row in rows:
            try:
                values = map_row(row)
            except RowRefused:
                check.transform_rejected += 1
                continue
            if values is None:
                check.skipped += 1
                continue
            normalized = [norm(values[i]) for i, norm in compared]
            key_values = [norm(values[i]) for i, norm in keys]
            forms = normalized if hashed is None else hashed(normalized)
            check.seq += 1
            out.append(
                (
                    key_bytes(key_values),
                    row_digest([*key_values, *forms]),
                    newer(values),
                    codec.encode(normalized),
                    check.seq,
                )
            )
        store.put_source(check.number, out)

    def norms(self, check: SpecCheck, side: str) -> dict[str, Normalizer]:
        """Normalisers by column: JSON stored as its text on a target that stores values as
        sent (SQLite); 32-bit ``real`` columns (PostgreSQL) round both sides to 32 bits."""
        caps = self.capabilities
        norms = check.source_norms if side == "source" else check.target_norms
        for column in check.mapper.columns:
            if column not in norms:
                info = check.info.columns[column]
                norms[column] = normalizer(
                    info.type,
                    json_as_text=side == "target" and caps.stores_value_text,
                    single_precision=caps.single_precision_real
                    and info.sql_type.upper() in ("REAL", "FLOAT4"),
                )
        return norms

    def _newer_getter(
        self, check: SpecCheck, columns: list[str], norms: dict[str, Normalizer]
    ) -> Callable[[tuple[Any, ...]], Any]:
        newer_by = check.spec.newer_by
        if not newer_by or newer_by not in columns:
            return lambda values: None
        index, norm, type_ = columns.index(newer_by), norms[newer_by], check.type_of(newer_by)
        return lambda values: newer_value(type_, norm(values[index]))

    async def read_target(self, target: Target, check: SpecCheck, store: HashStore) -> None:
        """Normalise and hash the target table of one check."""
        mapper = check.mapper
        columns = list(dict.fromkeys([*mapper.key, *check.compared, *_newer_column(check)]))
        sql = f"SELECT {', '.join(map(quote, columns))} FROM {quote(check.info.name)}"
        label = f"{check.label} (target)"
        batch_size = self.batch_size
        started, done = time.perf_counter(), 0
        try:
            result = await target.conn.stream(_text(sql).execution_options(yield_per=batch_size))
            fetch = min(batch_size, SIZING_ROWS)
            try:
                while rows := await result.fetchmany(fetch):
                    if fetch == SIZING_ROWS:  # the first rows size the batches (wide rows)
                        fetch = rows_per_batch(rows, batch_size)
                    self.cancel.raise_if_cancelled()
                    await asyncio.to_thread(self._digest_target, check, columns, rows, store)
                    done += len(rows)
                    elapsed = max(time.perf_counter() - started, 1e-6)
                    self.emit(TableProgress(label, done, None, done / elapsed))
            finally:
                await result.close()
        except sa_exc.DBAPIError as exc:
            raise target.wrap(exc, f"reading table {check.info.name}") from None
        await asyncio.to_thread(store.index_target, check.number)

    def _digest_target(
        self, check: SpecCheck, columns: list[str], rows: Any, store: HashStore
    ) -> None:
        norms = self.norms(check, "target")
        keys = [(columns.index(k), norms[k]) for k in check.mapper.key]
        compared = [(columns.index(c), norms[c]) for c in check.compared]
        codec = RowCodec(check.compared)
        hashed = _hashed(check)
        newer = self._newer_getter(check, columns, norms)
        out: list[tuple[bytes, bytes, Any, bytes]] = []
        for row in rows:
            normalized = [norm(row[i]) for i, norm in compared]
            key_values = [norm(row[i]) for i, norm in keys]
            forms = normalized if hashed is None else hashed(normalized)
            out.append(
                (
                    key_bytes(key_values),
                    row_digest([*key_values, *forms]),
                    newer(row),
                    codec.encode(normalized),
                )
            )
        store.put_target(check.number, out)

    def rejected_keys(
        self, check: SpecCheck, rejects: list[dict[str, Any]]
    ) -> list[tuple[bytes, str]]:
        """The keys (as the target side hashes them) and reasons of journaled rejected rows."""
        norms = self.norms(check, "target")
        keys = []
        for reject in rejects:
            values = reject.get("key_values") or {}
            if all(k in values for k in check.mapper.key):
                key = key_bytes([norms[k](values[k]) for k in check.mapper.key])
                keys.append((key, str(reject.get("reason") or "")))
        return keys


def _hashed(check: SpecCheck) -> Callable[[list[Normalized]], list[Normalized]] | None:
    """The compared values in hash form (:func:`~ferry.verify.checksum.hash_form`), or None when
    that is the values themselves (no compared column has another form)."""
    forms = [hash_form(check.type_of(c)) for c in check.compared]
    if not any(forms):
        return None
    pairs = list(enumerate(forms))

    def to_forms(values: list[Normalized]) -> list[Normalized]:
        return [values[i] if f is None else f(values[i]) for i, f in pairs]

    return to_forms


def _widen(check: SpecCheck, rows: list[dict[str, Any]]) -> None:
    """Fields the first records did not show map to target columns as in a migration."""
    known, mapper, spec = check.known_fields, check.mapper, check.spec
    for row in rows:
        if known.issuperset(row):
            continue
        for name in row:
            if name in known:
                continue
            known.add(name)
            if (
                spec.map_all
                and name not in spec.ignore
                and name in check.info.columns
                and name not in mapper.source_fields
                and name not in mapper.columns
            ):
                mapper.add_column(
                    name, ColumnSpec.model_validate({"from": name}), check.type_of(name)
                )


def _newer_column(check: SpecCheck) -> list[str]:
    newer_by = check.spec.newer_by
    return [newer_by] if newer_by and newer_by in check.mapper.columns else []


__all__ = ["SideReader", "SpecCheck"]
