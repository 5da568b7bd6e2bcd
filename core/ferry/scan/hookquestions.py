"""``ferry init``: a table of the app's schema no source feeds, whose rows a source's field
and a hook could make.

An existing table ``T`` that no drafted table feeds is asked about (``T.feed``) when the
evidence points at a source: ``T`` has a foreign key to a table a drafted source feeds (the
parent link), and that source carries a field no column takes whose name is a word of ``T``'s
name (``summary`` → ``content_summaries``). The rows would be one per source row holding the
field; the one NOT NULL column without a default besides the link takes it — through a hook
(``FILE.py:function``, see the plan's ``hook``) that derives it. Ferry reads (never runs) the
``.py`` files beside the plan and in the scanned folder: a function of one argument (the row)
that adds a key naming both the field and the column (``summary_html`` for field ``summary``
and column ``html``) is offered as a choice, with that evidence. The answer adds the whole
``[[tables]]`` entry (``sets`` with ``tables.T``): the link, the column from the hook's key,
``skip_when_null`` that column (a row without the field has nothing to store), and as ``key``
the first UNIQUE constraint whose other columns have a plain DEFAULT, which they take as
``const`` so the key is complete. ``leave`` (the default) adds nothing: the table stays empty.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..plan import QuestionSpec, SourceSpec, TableSpec
from ..plansets import VALUE
from .checkfold import existing_tables_fed, fed_columns
from .draftfill import sample_rows
from .matching import literal_default

if TYPE_CHECKING:
    from ..shape.schema import ColumnInfo, TableInfo

_SAMPLE = 100_000
_MAX_HOOK_FILE = 200_000  # bytes: a hook module is small; a bigger .py is not read


def _singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word


def _words(name: str) -> list[str]:
    return [_singular(w) for w in name.lower().split("_") if w]


def added_keys(path: Path) -> dict[str, set[str]]:
    """Per top-level function of one argument in the file at ``path``, the keys it adds to
    that argument (``{**row, "k": …}`` returned, ``row["k"] = …``); read, never run."""
    try:
        if path.stat().st_size > _MAX_HOOK_FILE:
            return {}
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
        return {}
    found: dict[str, set[str]] = {}
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef):
            continue
        arguments = node.args
        if len(arguments.args) != 1 or arguments.posonlyargs or arguments.kwonlyargs:
            continue
        row = arguments.args[0].arg
        keys: set[str] = set()
        for inner in ast.walk(node):
            if isinstance(inner, ast.Return) and isinstance(inner.value, ast.Dict):
                keys |= {
                    k.value
                    for k in inner.value.keys
                    if isinstance(k, ast.Constant) and isinstance(k.value, str)
                }
            elif isinstance(inner, ast.Assign):
                for target in inner.targets:
                    if (
                        isinstance(target, ast.Subscript)
                        and isinstance(target.value, ast.Name)
                        and target.value.id == row
                        and isinstance(target.slice, ast.Constant)
                        and isinstance(target.slice.value, str)
                    ):
                        keys.add(target.slice.value)
        if keys:
            found[node.name] = keys
    return found


def _hook_files(folders: list[Path]) -> list[Path]:
    files: dict[Path, None] = {}
    for folder in folders:
        if folder.is_dir():
            files.update((p.resolve(), None) for p in sorted(folder.glob("*.py")) if p.is_file())
    return list(files)


def _reference(path: Path, plan_dir: Path, function: str) -> str:
    """``FILE.py:function``, relative to the plan when the file is beside it or under it."""
    try:
        where = path.relative_to(plan_dir).as_posix()
    except ValueError:
        where = str(path)
    return f"{where}:{function}"


def _hooks_for(
    files: list[Path], plan_dir: Path, field: str, column: str
) -> list[tuple[str, str, Path]]:
    """(reference, added key, file) of each function adding a key that names both."""
    wanted = set(_words(field)) | set(_words(column))
    found = []
    for path in files:
        for function, keys in added_keys(path).items():
            for key in sorted(keys):
                if (
                    key != field
                    and wanted <= set(_words(key))
                    and _words(key)[-1:] == _words(column)[-1:]
                ):
                    found.append((_reference(path, plan_dir, function), key, path))
    return found


def _key(info: TableInfo, link: str, column: str) -> tuple[list[str], dict[str, Any]] | None:
    """The first UNIQUE whose columns are the link, the column, or plain DEFAULTs (then
    their ``const``), and those constants; None without one."""
    for unique in info.unique:
        constants: dict[str, Any] = {}
        for name in unique:
            if name in (link, column):
                continue
            value = (
                literal_default(info.columns[name].default_sql) if name in info.columns else None
            )
            if value is None:
                break
            constants[name] = {"const": value}
        else:
            return list(unique), constants
    return None


def ask_about_unfed_tables(
    tables: list[TableSpec],
    sources: list[SourceSpec],
    existing: dict[str, TableInfo],
    folder: Path,
    plan_dir: Path,
    skip: set[str],
) -> list[QuestionSpec]:
    """``T.feed`` per existing table no drafted table feeds whose rows a source's field could
    make (see the module's docstring); ``skip``: tables not to ask about (Ferry's own)."""
    fed = {t.name for t in tables}
    files = _hook_files([plan_dir, folder])
    questions = []
    for name, info in existing.items():
        if name in fed or name in skip:
            continue
        for spec, parent, source in existing_tables_fed(tables, sources, existing):
            asked = _ask_one(name, info, spec, parent, (source, sources, folder), files, plan_dir)
            if asked is not None:
                questions.append(asked)
                break
    return questions


def _required(info: TableInfo, link: str) -> list[ColumnInfo]:
    return [
        c
        for c in info.columns.values()
        if not c.nullable
        and not c.has_default
        and c.name != link
        and c.name not in info.primary_key
    ]


def _ask_one(
    name: str,
    info: TableInfo,
    spec: TableSpec,
    parent: TableInfo,
    reading: tuple[SourceSpec, list[SourceSpec], Path],
    files: list[Path],
    plan_dir: Path,
) -> QuestionSpec | None:
    given = fed_columns(spec, parent)
    links = [
        (fk.columns[0], given[fk.ref_columns[0]].from_)
        for fk in info.foreign_keys
        if fk.ref_table == spec.name
        and len(fk.columns) == 1
        and fk.ref_columns[0] in given
        and given[fk.ref_columns[0]].from_
    ]
    if not links:
        return None
    link, parent_field = links[0]
    required = _required(info, link)
    if len(required) != 1:
        return None
    column = required[0]
    source, sources, folder = reading
    rows = sample_rows(source, sources, folder, spec.source, _SAMPLE)
    taken = {c.from_ for c in given.values() if c.from_} | set(spec.ignore)
    table_words = set(_words(name))
    present = {f for row in rows for f in row} - taken - {parent_field}
    fields = sorted(f for f in present if set(_words(f)) <= table_words)
    if len(fields) != 1:
        return None
    field = fields[0]
    holding = sum(1 for row in rows if row.get(field) not in (None, ""))
    key = _key(info, link, column.name)
    if not holding or key is None:
        return None
    key_columns, constants = key
    hooks = _hooks_for(files, plan_dir, field, column.name)
    own_key = f"{field}_{column.name}"

    def entry(hook: str, added: str) -> dict[str, Any]:
        return {
            "name": name,
            "source": spec.source,
            "key": key_columns,
            "map_all": False,
            "skip_when_null": [column.name],
            "hook": hook,
            "columns": {link: parent_field, column.name: added, **constants},
        }

    defaults = ", ".join(f"{c} = {v['const']!r}" for c, v in constants.items())
    evidence = [
        f"no drafted table feeds {name}; its {link} references {spec.name}, which {spec.source} "
        f"feeds ({parent_field})",
        f"{spec.source}'s field {field!r} matches no column and names the table: {holding} of "
        f"{len(rows)} rows hold it (one {name} row each; the others are skipped)",
        f"{name}.{column.name} ({column.sql_type or column.type}) is its one NOT NULL column "
        "without a default besides the link",
        f"key ({', '.join(key_columns)}): a UNIQUE of {name}"
        + (f"; {defaults} from their DEFAULTs" if defaults else ""),
    ]
    evidence += [
        f"{reference}: a function of one argument adding {added!r} (read, not run)"
        for reference, added, _ in hooks
    ]
    choices = [reference for reference, _, _ in hooks] + ["leave"]
    sets: dict[str, dict[str, Any]] = {
        reference: {f"tables.{name}": entry(reference, added)} for reference, added, _ in hooks
    }
    sets["leave"] = {}
    return QuestionSpec(
        id=f"{name}.feed",
        ask=(
            f"{name} is in the app's schema but no source feeds it; {spec.source}'s field "
            f"{field!r} could make its rows ({column.name} derived by a hook). Answer with "
            + ("one of the hooks found or " if hooks else "")
            + f"a hook of your own (FILE.py:function, relative to the plan, adding "
            f"{own_key!r} to each row), or leave (the table stays empty)."
        ),
        evidence=evidence,
        choices=choices,
        default="leave",
        sets=sets,
        value_sets={f"tables.{name}": entry(VALUE, own_key)},
    )


__all__ = ["added_keys", "ask_about_unfed_tables"]
