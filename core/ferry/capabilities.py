"""What a target or a source can do, declared as data.

The orchestrators (the run, check, verify, the scan) read these instead of testing a dialect's
name or a reader's class: a new target or source says what it can do here, and every path that
depends on it follows. Each field names one capability and why the engine cares; the dialect
classes (:mod:`ferry.targets`, :mod:`ferry.sources`) set them as a class attribute
``capabilities``. Work that needs dialect-specific SQL (a catalog query, a raw cursor) is a
method of the target instead, so the caller never branches on the dialect.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TargetCapabilities:
    """What a target database can do (see the module docstring)."""

    #: a server-side binary COPY takes native rows (PostgreSQL); else rows go in as parameters
    binary_copy: bool = False
    #: the target can ATTACH a SQLite source file and copy inside its own engine: native loads
    #: then run in the target's thread, with no reader/writer pipeline (SQLite)
    attaches_sqlite: bool = False
    #: rows inserted with explicit ids leave the table's sequences behind: the run moves them
    #: forward after the load (:mod:`ferry.load.sequences`); SQLite's follow by themselves
    sequences_lag_ids: bool = False
    #: foreign keys in a reference cycle are deferred to commit, where a violation fails the
    #: commit without naming a row: the run checks them itself before committing (SQLite)
    defers_cyclic_references: bool = False
    #: the run's journal keeps per-table fingerprints, so a re-run of an unchanged source can
    #: skip a table (:mod:`ferry.load.rerun`; PostgreSQL)
    table_fingerprints: bool = False
    #: each row carries the id of the transaction that last wrote it (``xmin``): a run tells a
    #: table is as the last run left it without reading its values (PostgreSQL); elsewhere the
    #: rows' prints are summed (:func:`ferry.load.rowprints.table_state`); and a first load
    #: records that id instead of a per-row image, so ``ferry undo`` tells the run's rows from
    #: rows written since (:mod:`ferry.load.changeset`)
    row_versions: bool = False
    #: values are stored as the text they were sent as (timestamps, booleans, JSON spacing),
    #: so an existing table's spelling is kept (:mod:`ferry.values.targetstyles`; SQLite)
    stores_value_text: bool = False
    #: ``COLLATE NOCASE``/``RTRIM``/``BINARY`` are carried as they are (SQLite)
    sqlite_collations: bool = False
    #: tables live in a named schema (``[target] pg_schema``; PostgreSQL)
    schemas: bool = False
    #: the longest identifier in bytes, or 0 for no limit that matters (PostgreSQL: 63)
    max_identifier_bytes: int = 0
    #: a missing database file would be created by opening it (SQLite): verify refuses instead
    created_by_opening: bool = False
    #: JSON columns Ferry creates are ``jsonb``: stored parsed and compared by value
    #: (PostgreSQL); else plain ``JSON`` text
    binary_json: bool = False
    #: a ``NOCASE`` column can become ``citext`` when the database has that extension
    #: (PostgreSQL): :func:`ferry.shape.typemap.settle_collations` asks the target
    citext: bool = False
    #: names are compared ignoring (ASCII) case, so folding them changes nothing the target
    #: compares (SQLite): :mod:`ferry.shape.indexnames` keys taken names that way
    case_blind_names: bool = False
    #: ``REAL``/``FLOAT4`` columns hold 32-bit floats (PostgreSQL; SQLite's REAL is 64-bit):
    #: verify rounds both sides of such a column to 32 bits before comparing
    single_precision_real: bool = False
    #: the server sums rows' MD5s itself, so verify's fast path fingerprints a target table in
    #: one statement (PostgreSQL); else Python sums the row bytes the target writes
    #: (:mod:`ferry.verify.fast`)
    sums_row_hashes: bool = False
    #: ``ALTER TABLE … ADD`` takes a foreign key on a table that holds rows, so a created
    #: table gets its foreign keys once its rows are in (PostgreSQL); SQLite declares them in
    #: ``CREATE TABLE``
    alters_foreign_keys: bool = False
    #: a primary key's or UNIQUE constraint's name is also its index's, taken in the schema's
    #: namespace (PostgreSQL): :mod:`ferry.shape.constraintnames` keeps the source's names
    #: only where free; SQLite's constraint names take no place there
    constraint_names_in_schema: bool = False
    #: takes SQLite's virtual tables: a source's full-text index over a created table is made
    #: again and rebuilt after the load (:mod:`ferry.shape.virtualtables`)
    sqlite_virtual_tables: bool = False
    #: keeps a SQLite file's header numbers an app reads (``user_version``, ``application_id``):
    #: a new target made from one SQLite file gets the source's (:mod:`ferry.shape.headerpragmas`)
    sqlite_header: bool = False
    #: takes a SQLite source's triggers as written and drops and creates them again inside a
    #: transaction: the app's triggers come along and are set aside while Ferry writes
    #: (:mod:`ferry.shape.apptriggers`, :mod:`ferry.shape.triggersaside`)
    sqlite_triggers: bool = False
    #: a text column holds valid UTF-8 only (PostgreSQL): ``invalid_text = "bytes"`` needs a
    #: bytes column; SQLite keeps any bytes in a text column
    text_is_utf8_only: bool = False
    #: a table the run created can be loaded on a connection of its own, in parallel, into a
    #: private table that the run's transaction swaps into place at its commit
    #: (:mod:`ferry.native.apart`; PostgreSQL: transactional DDL)
    loads_apart: bool = False
    #: a statement can write inside ``WITH`` and return what it wrote (PostgreSQL): a staged
    #: merge records its undo changeset in its own statements (:mod:`ferry.load.recordedmerge`)
    returning_writes: bool = False
    #: an ascending ORDER BY puts NULL first (SQLite); else last (PostgreSQL): a created
    #: column whose source put it at the other end is named (:mod:`ferry.shape.nullorder`)
    nulls_sort_first: bool = False


@dataclass(frozen=True)
class SourceCapabilities:
    """What a source reader can do (see the module docstring)."""

    #: the source is one SQLite file whose tables can be copied natively (attached by a SQLite
    #: target, read as raw rows for a binary COPY) and checksummed inside SQLite by verify
    #: (which then reopens it for only the tables its fast path left to compare)
    sqlite_file: bool = False
    #: rows are parsed in Python (JSON, text): the read holds the GIL, so reading ahead in a
    #: thread gains nothing
    parses_in_python: bool = False
    #: the reader can leave some of its tables out of a read (``skip_tables``) because another
    #: path (native copy, unchanged) already handles them
    skips_tables: bool = False
    #: the reader keeps a key per row that can split a read into ranges (SQLite ``rowid``)
    rowid_chunks: bool = False
    #: opening the source never writes to it (SQLite ``mode=ro``, files read as bytes)
    read_only_open: bool = True
    #: value readings (epoch numbers, mixed kinds) can be sampled per column with SQLite's SQL
    #: (``typeof``): ``check`` and ``ferry init`` ask about them (:mod:`ferry.values.epochs`)
    samples_columns: bool = False
    #: records may be laid out one per line (a JSON array): a delta run then parses only the
    #: lines that changed (:mod:`ferry.load.jsonlines`)
    record_lines: bool = False
    #: a big file's root table can be parsed and mapped in a worker process, the rows sent
    #: back ready for the target (JSON documents: :mod:`ferry.load.inworker`)
    maps_in_worker: bool = False
    #: the reader answers SQL about its tables (:meth:`~ferry.sources.base.SourceReader.query_all`):
    #: ``ferry init`` looks for a key of a keyless table in the data (SQLite, PostgreSQL)
    answers_sql: bool = False
