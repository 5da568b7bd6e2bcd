"""How a PostgreSQL backup and its rollback reach the target and what they ask its catalog.

The connection parameters (password resolved, never in a URL), the catalog queries (tables,
columns, sequences, functions, foreign keys, user triggers) and the order-independent checksum
of a table's rows that proves a backup and a restore alike (:mod:`ferry.backup.pgdump`,
:mod:`ferry.backup.pgrestore`).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from ..load.journal import JOURNAL_SCHEMA, LEGACY_TABLES, POSTGRES_TABLES
from ..plan import TargetSpec
from ..shape.identifiers import quote
from ..targets.pglogin import KeyringLater, connect_sync, keyring_later
from ..targets.postgres import connect_args, describe_url, explain_connect_error, pg_url

#: Ferry's own tables, backed up with the plan's: an older version's journal (in the default
#: schema) and this version's (``ferry.runs``), as the manifest names them -> their regclass
JOURNAL_REGCLASS = {
    **{name: quote(name) for name in LEGACY_TABLES},
    **{
        f"{JOURNAL_SCHEMA}.{name}": f"{quote(JOURNAL_SCHEMA)}.{quote(name)}"
        for name in POSTGRES_TABLES
    },
}


def regclass(name: str) -> str:
    """The text ``to_regclass`` takes for a backed-up table's name."""
    return JOURNAL_REGCLASS.get(name) or quote(name)


RELATION_SQL = """
SELECT c.oid, n.nspname, c.relname, c.relkind, pg_total_relation_size(c.oid)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.oid = to_regclass(%s)
"""


#: functions and procedures of the schemas on the search path (not those of extensions):
#: a schema.sql creates them along with the tables, so a rollback drops the new ones too
ROUTINES_SQL = """
SELECT p.oid::regprocedure::text
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = ANY (current_schemas(false))
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
ORDER BY 1
"""


COLUMNS_SQL = """
SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attgenerated <> ''
FROM pg_attribute a
WHERE a.attrelid = %s AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum
"""


SEQUENCES_SQL = """
SELECT a.attname, pg_get_serial_sequence(%s, a.attname)
FROM pg_attribute a
WHERE a.attrelid = %s AND a.attnum > 0 AND NOT a.attisdropped
  AND pg_get_serial_sequence(%s, a.attname) IS NOT NULL
ORDER BY a.attnum
"""


# Foreign keys touching a set of tables: (name, referencing oid, referenced oid, on delete).
FOREIGN_KEYS_SQL = """
SELECT c.conname, c.conrelid, c.conrelid::regclass::text, c.confrelid, c.confdeltype
FROM pg_constraint c
WHERE c.contype = 'f' AND (c.confrelid = ANY(%s) OR c.conrelid = ANY(%s))
"""


USER_TRIGGERS_SQL = """
SELECT t.tgname FROM pg_trigger t
WHERE t.tgrelid = %s AND NOT t.tgisinternal AND t.tgenabled <> 'D'
ORDER BY t.tgname
"""


@dataclass(frozen=True)
class PgParams:
    """How to reach the target: a libpq URL without password, driver arguments, a label."""

    conninfo: str
    kwargs: dict[str, Any]
    where: str
    #: the keyring's password, read when the server asks for one (``pg_params(…, later=True)``)
    later: KeyringLater | None = None

    def connect(self) -> psycopg.Connection[Any]:
        """A connection (not autocommit); a refused one is a TargetError with a hint."""
        try:
            return connect_sync(psycopg.connect, self.later, self.conninfo, **self.kwargs)
        except psycopg.Error as exc:
            raise explain_connect_error(str(exc), self.where) from None

    def environment(self) -> dict[str, str]:
        """The environment for ``pg_dump``: password and TLS through libpq's variables."""
        env = dict(os.environ)
        if self.later is not None:  # pg_dump cannot ask us: the keyring's password, as before
            self.kwargs.update(self.later.then(self.kwargs))
        names = {
            "password": "PGPASSWORD",
            "sslmode": "PGSSLMODE",
            "sslrootcert": "PGSSLROOTCERT",
            "connect_timeout": "PGCONNECT_TIMEOUT",
        }
        for key, variable in names.items():
            if self.kwargs.get(key) is not None:
                env[variable] = str(self.kwargs[key])
        env["PGAPPNAME"] = "ferry"
        return env


def pg_params(spec: TargetSpec, base_dir: Path | None = None, later: bool = False) -> PgParams:
    """Connection parameters for a plan's PostgreSQL target (password resolved, not in a URL;
    a relative ``sslrootcert`` taken from ``base_dir``, the plan's folder). ``later``: the
    keyring is read only if the server asks for a password (:mod:`ferry.targets.pglogin`)."""
    url = pg_url(spec.url)
    kwargs = connect_args(spec, url, spec.password_env, base_dir, keyring=not later)
    kwargs["client_encoding"] = "UTF8"
    conninfo = re.sub(r"^postgres(?:ql)?(?:\+\w+)?://", "postgresql://", spec.url)
    return PgParams(
        conninfo, kwargs, describe_url(url), keyring_later(url, kwargs) if later else None
    )


def checksum_sql(qualified: str, columns: list[str]) -> str:
    """Row count and an order-independent checksum of ``columns`` over all rows, as text."""
    row = f"ROW({', '.join(map(quote, columns))})::text"
    return (
        "SELECT count(*), coalesce(sum(('x' || substr(md5("
        f"{row}), 1, 16))::bit(64)::bigint::numeric), 0)::text FROM {qualified}"
    )
