"""``ferry init postgresql://host/db``: the draft's one source when the app's database is
PostgreSQL, and which of its schemas the draft reads.

The source reads the tables on its connection's search path (``public`` unless the URL says
otherwise). Where other schemas hold tables too, the draft says so and ``--source-schema``
picks one (written into the URL as ``options=-csearch_path=…``, so the plan reads the same
tables every run). PostgreSQL's own schemas and Ferry's journal schema ``ferry`` never count.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlencode

from ..errors import FerryError, SourceError
from ..plan import SourceSpec
from ..safety.passwords import password_spellings
from .found import identifier

_POSTGRES_URL = re.compile(r"^postgres(?:ql)?(?:\+\w+)?://", re.I)
_PLAIN = re.compile(r"^[a-z_][a-z0-9_$]*$")


def is_postgres_url(text: str | Path) -> bool:
    """True when ``text`` is a PostgreSQL URL rather than a folder or a file."""
    return isinstance(text, str) and bool(_POSTGRES_URL.match(text))


SOURCE_PASSWORD_HINT = (
    "Set the password in FERRY_SOURCE_PASSWORD or ~/.pgpass (or PGPASSWORD); the plan's url "
    "never holds it. No plan was written."
)


def password_refused(url: str) -> str:
    """Why a source URL ``ferry init`` is given cannot be used ("" when it holds no password):
    plans never store secrets. Names where the password is, never its value."""
    found = password_spellings(url)
    if not found:
        return ""
    return "the source URL holds a password; plans never store secrets. Remove " + " and ".join(
        dict.fromkeys(found)
    )


def with_search_path(url: str, schema: str) -> str:
    """``url`` whose connections read ``schema`` (its ``options`` keep what they held)."""
    base, _, query = url.partition("?")
    params = dict(parse_qsl(query, keep_blank_values=True))
    name = schema if _PLAIN.match(schema) else '"' + schema.replace('"', '""') + '"'
    setting = "-csearch_path=" + name.replace("\\", "\\\\").replace(" ", "\\ ")
    params["options"] = f"{params.get('options', '')} {setting}".strip()
    return f"{base}?{urlencode(params, quote_via=quote)}"


def postgres_source(
    url: str, base_dir: Path, schema: str | None = None
) -> tuple[SourceSpec, list[str]]:
    """The source spec ``ferry init`` drafts for the database at ``url`` (reading ``schema``
    when given), and the remarks for the reviewer (the other schemas that hold tables)."""
    from ..sources.postgres import PostgresSource, _location

    problem = password_refused(url)
    if problem:
        raise FerryError(problem, hint=SOURCE_PASSWORD_HINT)
    database = _location(url).database
    spec = SourceSpec(name=identifier(database), kind="postgres", url=url)
    reader = PostgresSource(spec, base_dir)
    try:
        schemas = reader.schemas()
    finally:
        reader.close()
    remarks = []
    listed = ", ".join(_counted(name, count) for name, count, _ in schemas) or "none"
    if schema is not None:
        if schema not in {name for name, _, _ in schemas}:
            raise SourceError(
                f"PostgreSQL {reader.location} has no schema {schema!r} holding tables",
                hint=f"Schemas with tables there: {listed}.",
            )
        spec.url = with_search_path(url, schema)
        return spec, _views(spec, base_dir)
    read = [name for name, _, visible in schemas if visible]
    others = [(name, count) for name, count, visible in schemas if not visible]
    if not read:
        if not others:
            raise SourceError(
                f"PostgreSQL {reader.location} holds no tables",
                hint="Give the database that holds the app's tables. No plan was written.",
            )
        raise SourceError(
            f"PostgreSQL {reader.location} has no tables on its search path; schemas "
            f"with tables: {listed}",
            hint=f"Choose one: ferry init URL --source-schema {others[0][0]}. No plan was written.",
        )
    if others:
        shown = ", ".join(_counted(name, count) for name, count in others)
        remarks.append(
            f"read schema {', '.join(read)}; other schemas hold tables too: {shown} "
            f"(ferry init URL --source-schema {others[0][0]} drafts one of those)"
        )
    return spec, remarks + _views(spec, base_dir)


def _views(spec: SourceSpec, base_dir: Path) -> list[str]:
    """The remark naming the source's views: Ferry copies tables, not a PostgreSQL
    source's views (their SQL may use anything the server offers)."""
    from ..sources.postgres import PostgresSource

    reader = PostgresSource(spec, base_dir)
    try:
        views = reader.views()
    finally:
        reader.close()
    if not views:
        return []
    return [
        f"views not carried: {', '.join(views)} (a PostgreSQL source's views are not "
        "created in the target: recreate them there after the move if the app reads them)"
    ]


def _counted(schema: str, tables: int) -> str:
    return f"{schema} ({tables} table{'' if tables == 1 else 's'})"
