"""How each table's rows go in: one frozen, printable decision per table spec, made before
any row is read.

The run gathers a few facts per table spec (:class:`LoadFacts`: is the target table empty,
does the plan's key match its primary key, does another spec feed it, can SQLite map it
itself, is it as the last run left it) and :func:`decide` turns them into a
:class:`LoadDecision`, one of

- ``unchanged``: the source files and the table are as the last run journaled them
  (:mod:`ferry.load.rerun`): nothing is read, every row counts unchanged;
- ``native``: an empty table fed by one SQLite source table of plain columns (or text
  columns with ``ops``): SQLite maps the rows itself (:mod:`ferry.native.load`), by
  ``INSERT … SELECT`` or a COPY;
- ``parallel``: a native load into a table this run created, on a connection of its own into
  a private table with its indexes, swapped into place in the run's commit
  (:mod:`ferry.native.apart`), so tables load in parallel;
- ``direct``: an empty table fed by this spec alone: rows go straight in, no stage, no merge;
- ``delta``: a table holding rows, keyed by one column, as the last run left it, which kept
  its rows' prints: only the source rows whose print changed are mapped and staged
  (:mod:`ferry.load.delta`);
- ``compare-first``: a table holding rows, keyed by one column: each batch's unchanged rows
  are staged as their key alone;
- ``staged``: the general path: stage, classify, merge by key.

:func:`decide` is a pure function of the facts, so the choice is testable as data; the mode
objects that carry a decision out are in :mod:`ferry.load.strategy`. A direct load the
database refuses during the run becomes a new ``staged`` decision with the reason
(:func:`refused`), and the run starts over with it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

LoadModeName = Literal[
    "unchanged", "native", "parallel", "direct", "delta", "compare-first", "staged"
]


@dataclass(frozen=True)
class LoadFacts:
    """What a decision is made from; ``None`` where the planner did not need to look."""

    #: the plan's ``mode`` for the table: ``merge``, ``append`` or ``replace``
    plan_mode: str = "merge"
    #: the plan's key is the target table's primary key (a merge by key can skip the stage)
    key_is_primary_key: bool = False
    #: the key is one column (its rows can be looked up by key in batches)
    one_column_key: bool = False
    #: no other table spec of the plan feeds the same target table
    fed_alone: bool = True
    #: the target table holds no row
    table_empty: bool | None = None
    #: why a direct load of the table was refused earlier in this run (it is staged now)
    refused: str | None = None
    #: a parent table (by a key the target checks as rows go in) this run merges after the
    #: load: rows straight in would come before its new rows (:mod:`ferry.load.loadorder`)
    parent_merged: str | None = None
    #: why SQLite cannot map the rows itself ("" when it can)
    native_blocker: str | None = None
    #: how the native rows go in: ``INSERT … SELECT`` (attached file), binary COPY or COPY CSV
    native_form: str | None = None
    #: why the table cannot be loaded apart, on a connection of its own ("" when it can;
    #: None where the target loads every table in its one transaction)
    apart_blocker: str | None = None
    #: the journaled fingerprint of the last run still matches source files and table
    unchanged: bool | None = None
    #: the last run's row prints are kept and the table is as that run left it
    #: (:mod:`ferry.load.delta`)
    delta: bool | None = None
    #: why row prints kept by the last run cannot be used (the table changed since)
    delta_blocker: str | None = None
    #: how a SQLite source table's rows are printed: from the file's pages, or in SQL and why
    printed: str | None = None


@dataclass(frozen=True)
class LoadDecision:
    """How one table spec's rows go in, and why (``str()`` gives ``mode: why``)."""

    table: str
    mode: LoadModeName
    why: str
    facts: LoadFacts
    #: a big JSON file's rows are parsed and mapped in a worker process (:mod:`ferry.load.inworker`)
    in_worker: bool = False

    @property
    def direct(self) -> bool:
        """Rows go straight into the (empty) table: no stage, no merge."""
        return self.mode in ("direct", "native", "parallel")

    def __str__(self) -> str:
        worker = (
            "; parsed and mapped in worker processes (a big JSON file, one record a line)"
            if self.in_worker
            else ""
        )
        return f"{self.mode}: {self.why}{worker}"


def straight_in(facts: LoadFacts) -> bool:
    """Whether the facts allow rows straight into the table (direct or native)."""
    if facts.plan_mode == "merge" and not facts.key_is_primary_key:
        return False
    return (
        bool(facts.table_empty)
        and facts.fed_alone
        and facts.refused is None
        and facts.parent_merged is None
    )


def decide(table: str, facts: LoadFacts) -> LoadDecision:
    """The load decision for ``table`` from ``facts`` (a pure function)."""
    if straight_in(facts):
        if facts.native_blocker == "" and facts.native_form and facts.apart_blocker == "":
            return LoadDecision(
                table,
                "parallel",
                "a table this run created, fed by this table spec alone, every column a plain "
                f"copy: SQLite maps the rows ({facts.native_form}) on a connection of its own, "
                "into a private table with its indexes, put in place at the run's commit",
                facts,
            )
        if facts.native_blocker == "" and facts.native_form:
            why = f"SQLite maps the rows itself ({facts.native_form})"
            if facts.apart_blocker:
                why += f"; not loaded apart: {facts.apart_blocker}"
            return LoadDecision(
                table,
                "native",
                "empty table fed by this table spec alone, every column a plain copy "
                f"(or text ops): {why}",
                facts,
            )
        why = "empty table fed by this table spec alone: rows go straight in"
        if facts.native_blocker:
            why += f" (not mapped by SQLite: {facts.native_blocker})"
        return LoadDecision(table, "direct", why, facts)
    if facts.unchanged:
        return LoadDecision(
            table,
            "unchanged",
            "the source files and the table are as the last run left them: nothing is read",
            facts,
        )
    compared = (
        facts.plan_mode == "merge"
        and facts.key_is_primary_key
        and facts.table_empty is False
        and facts.one_column_key
    )
    if compared and facts.delta and facts.fed_alone and facts.refused is None:
        why = (
            "the last run's row prints are kept and the table is as it left it: only "
            "source rows whose print changed are mapped and staged"
        )
        if facts.printed:
            why += f" (rows printed {facts.printed})"
        return LoadDecision(table, "delta", why, facts)
    if compared:
        why = (
            "the table holds rows and is keyed by one column: rows it holds unchanged "
            "are staged as their key alone"
        )
        if facts.refused is not None:
            why += f" (no delta: {facts.refused})"
        elif facts.delta_blocker:
            why += f" (no delta: {facts.delta_blocker})"
        return LoadDecision(table, "compare-first", why, facts)
    return LoadDecision(table, "staged", _staged_why(facts), facts)


def _staged_why(facts: LoadFacts) -> str:
    if facts.refused is not None:
        return f"a direct load was refused ({facts.refused}): staged and merged"
    if facts.parent_merged is not None and facts.table_empty:
        return (
            f"empty, but its parent table {facts.parent_merged} is merged after the load: "
            "staged and merged after it, so its rows find their parents"
        )
    if facts.plan_mode == "merge" and not facts.key_is_primary_key:
        return "the plan's key is not the table's primary key: staged and merged by key"
    if not facts.fed_alone and facts.table_empty:
        return "several table specs feed the table: staged and merged"
    if facts.plan_mode != "merge":
        return f"mode = {facts.plan_mode} into a table that holds rows: staged"
    return "the table holds rows keyed by several columns: staged and merged by key"


def refused(decision: LoadDecision, reason: str) -> LoadDecision:
    """The decision after the database refused a row loaded straight into the table."""
    return decide(decision.table, replace(decision.facts, refused=reason))


__all__ = ["LoadDecision", "LoadFacts", "LoadModeName", "decide", "refused", "straight_in"]
