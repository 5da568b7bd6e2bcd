"""Django's ``…_like`` indexes, for a Django app's SQLite database moved to PostgreSQL.

On PostgreSQL Django gives every indexed or unique ``CharField``/``TextField`` (a primary key
too) a second index with a pattern operator class, ``auth_user_username_6821ab7c_like``: outside
the C locale a plain btree cannot serve ``LIKE 'abc%'``, so ``startswith`` lookups (treebeard's
page tree, the admin's searches) read the whole table without it. SQLite has no such index, so
a database moved from SQLite lacked them all. They are made for a table Ferry creates from a
Django SQLite database (it has ``django_migrations``) on PostgreSQL, named as Django names them
(its later migrations drop them by that name), for a column declared ``varchar``/``text`` there
that becomes ``text`` (``text_pattern_ops``; ``varchar_pattern_ops`` for one made ``varchar(n)``,
:mod:`.djangowidths`) and is the table's one-column primary key, a
one-column UNIQUE, or has the one-column index Django names for ``db_index``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from .ddl import TargetIndex
from .identifiers import quote

if TYPE_CHECKING:
    from ..sources import SourceTable

#: PostgreSQL's longest identifier, as Django's index names keep to it
_MAX_NAME = 63


def django_index_name(table: str, columns: Sequence[str], suffix: str = "") -> str:
    """The name Django's schema editor gives an index (``_create_index_name``)."""
    digest = hashlib.md5(usedforsecurity=False)
    for part in (table, *columns):
        digest.update(part.encode())
    tail = digest.hexdigest()[:8] + suffix
    name = f"{table}_{'_'.join(columns)}_{tail}"
    if len(name) <= _MAX_NAME:
        return name
    other = (_MAX_NAME - len(tail)) // 2 - 1
    name = f"{table[:other]}_{'_'.join(columns)[:other]}_{tail}"
    return f"D{name[:-1]}" if name[0] == "_" or name[0].isdigit() else name


def like_indexes(
    source: SourceTable,
    siblings: Iterable[SourceTable],
    dialect: str,
    table: str,
    columns: Mapping[str, str],
    types: Mapping[str, str],
    varchar: Collection[str] = (),
) -> list[TargetIndex]:
    """The ``…_like`` indexes of the target table ``table`` made from ``source`` (none unless
    it is a SQLite table going to PostgreSQL and ``siblings``, the tables of its database,
    hold ``django_migrations``): ``columns`` maps source to target column names, ``types``
    target columns to their types; ``varchar``: the target columns created ``varchar(n)``
    (``varchar_pattern_ops``, as Django makes theirs)."""
    shape = source.shape
    if shape is None or dialect != "postgresql" or shape.dialect != "sqlite":
        return []
    if not any(t.origin == "django_migrations" for t in siblings):
        return []
    origin, key, declared = source.origin, source.key, source.declared
    wanted = [key[0]] if len(key) == 1 else []
    wanted += [unique[0] for unique in shape.uniques if len(unique) == 1]
    for index in shape.indexes:
        (part, *more) = index.parts
        plain = not more and not part.expression and not part.desc and index.where is None
        if plain and index.name == django_index_name(origin, [part.text]):
            wanted.append(part.text)
    made = []
    for column in dict.fromkeys(wanted):
        declared_type = declared.get(column, "").strip().lower()
        name = columns.get(column)
        if not (declared_type.startswith("varchar") or declared_type == "text"):
            continue
        if name is None or types.get(name) != "text":
            continue
        like = django_index_name(table, [name], "_like")
        ops = "varchar_pattern_ops" if name in varchar else "text_pattern_ops"
        made.append(TargetIndex(like, (f"{quote(name)} {ops}",)))
    return made


__all__ = ["django_index_name", "like_indexes"]
