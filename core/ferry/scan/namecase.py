"""How a PostgreSQL target spells the columns with capitals that Ferry creates: the evidence
``ferry init`` reads from the sources, and the note it leaves on each table.

PostgreSQL folds an unquoted name to lower case, so only one spelling works for an app: an app
writing ``SELECT TrackId FROM track`` needs ``trackid`` (``identifiers = "lower"``, the
default), while an app whose SQL quotes every name, as ORMs do (Django's ``"InvoiceDate"``),
needs ``InvoiceDate`` kept (``identifiers = "keep"``). The sources can say which: an ORM's own
bookkeeping table in a database source names the ORM, and a name with capitals in a PostgreSQL
source can only have been written quoted. Without such evidence the default stays and the note
says how to change it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..planspecs import TableSpec, TargetSpec
from ..shape.namefold import folded_names, is_plain
from ..sources import SourceTable
from .found import FoundSource

#: bookkeeping tables an ORM or migration tool that quotes every name creates in the app's
#: database -> the tool. Tools that run the app's own SQL files (golang-migrate, dbmate,
#: Flyway: ``schema_migrations``, ``flyway_schema_history``) say nothing and are not listed.
QUOTING_TOOLS: dict[str, str] = {
    "django_migrations": "Django",
    "alembic_version": "Alembic (SQLAlchemy)",
    "ar_internal_metadata": "Ruby on Rails (Active Record)",
    "_prisma_migrations": "Prisma",
    "__efmigrationshistory": "Entity Framework Core",
    "sequelizemeta": "Sequelize",
    "knex_migrations": "Knex",
    "__diesel_schema_migrations": "Diesel",
}


@dataclass
class CaseEvidence:
    """Why the names with capitals keep their spelling: where it was seen and what it means."""

    where: str
    means: str

    def text(self) -> str:
        """The evidence as one phrase for a note."""
        return f"{self.where}: {self.means}"


def quoting_evidence(found: Iterable[FoundSource]) -> CaseEvidence | None:
    """The first sign among the readable database sources that the app quotes its names."""
    for item in found:
        if item.problem or item.spec.kind not in ("sqlite", "postgres"):
            continue
        for table in item.tables:
            origin = _own(table).lower()
            tool = QUOTING_TOOLS.get(origin)
            if tool is None and origin == "migrations" and _typeorm(table):
                tool = "TypeORM"
            if tool is not None:
                return CaseEvidence(
                    f"{item.spec.name} holds {origin}",
                    f"the table {tool} keeps, and {tool} quotes every name in its SQL",
                )
        if item.spec.kind == "postgres" and any(_capitals(list(t.columns)) for t in item.tables):
            return CaseEvidence(
                f"{item.spec.name} is a PostgreSQL database with columns spelled with capitals",
                "there such a name exists only quoted, so the app's SQL quotes it",
            )
    return None


def _typeorm(table: SourceTable) -> bool:
    """TypeORM's ``migrations`` (n8n's): known by its columns, its name being a common one."""
    return {c.lower() for c in table.columns} == {"id", "timestamp", "name"}


def settle_identifiers(target: TargetSpec, found: list[FoundSource]) -> CaseEvidence | None:
    """Set ``target.identifiers`` to ``keep`` where the sources show an app that quotes its
    names and some table has a column with capitals; returns that evidence (else None)."""
    if target.is_sqlite or target.identifiers != "lower":
        return None
    if not any(_capitals([*t.columns, _own(t)]) for item in found for t in item.tables):
        return None
    evidence = quoting_evidence(found)
    if evidence is not None:
        target.identifiers = "keep"
    return evidence


def note_name_case(
    tables: list[TableSpec],
    existing: Iterable[str],
    target: TargetSpec,
    evidence: CaseEvidence | None,
) -> None:
    """On each table Ferry creates on PostgreSQL with columns spelled with capitals, a note
    saying how they are created and why."""
    if target.is_sqlite:
        return
    made = set(existing)
    for spec in tables:
        if spec.name in made:
            continue
        capitals = _capitals([c for c in spec.types if c not in spec.columns])
        if target.identifiers == "keep":
            named = _capitals([spec.name])
            if not capitals and not named:
                continue
            said = [f"the table's name {spec.name}"] if named else []
            said += [_columns(capitals)] if capitals else []
            keeps = "keep their" if len(capitals) + len(named) > 1 else "keeps its"
            why = f": {evidence.text()}" if evidence is not None else ""
            spec.notes.append(
                f'{" and ".join(said)} {keeps} spelling (identifiers = "keep"){why}; an app '
                'that writes them unquoted would need identifiers = "lower"'
            )
            continue
        # names that clash in lower case or are too long keep their own notes (namefold)
        folded = folded_names([c for c in spec.types if c not in spec.columns], True)
        lower = [name for name in capitals if folded[name] == name.lower()]
        if lower:
            spec.notes.append(
                f"{_columns(lower)} {'are' if len(lower) > 1 else 'is'} created in lower case "
                f'({_listed([folded[n] for n in lower])}; identifiers = "lower") so the app\'s '
                "unquoted SQL finds them; if the app quotes its names (an ORM such as Django or "
                'SQLAlchemy), set identifiers = "keep" under [target]'
            )


def _own(table: SourceTable) -> str:
    """A source table's own name (its name inside a database source)."""
    return table.origin or table.name.split(".", 1)[-1]


def _capitals(columns: list[str]) -> list[str]:
    """The plain names (SQL may write them unquoted) with a capital letter."""
    return [name for name in columns if is_plain(name) and name != name.lower()]


def _columns(names: list[str]) -> str:
    """``column X`` or ``columns X, Y``."""
    return ("columns " if len(names) > 1 else "column ") + _listed(names)


def _listed(names: list[str]) -> str:
    """The first five names, and how many more."""
    more = f" (and {len(names) - 5} more)" if len(names) > 5 else ""
    return ", ".join(names[:5]) + more
