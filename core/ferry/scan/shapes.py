"""Shapes of app state ``ferry init`` recognises across sources and drafts as one table.

- **A list joined with a keyed map** in the same JSON document: ``{"queue": ["/a.mp4", ...],
  "settings": {"/a.mp4": {"lang": "en"}}}`` — the list's values are the map's keys. Drafted as
  one ``merge`` source keyed by ``value`` with ``rows_of`` the list: one row per item, the map's
  fields as columns (NULL, or the target's default, for items the map lacks); map entries for
  items not in the list are left out (and counted).
- **A Django fixture** (``manage.py dumpdata``): one source and one table per model
  (:mod:`ferry.scan.fixtures`).
- **A settings map over ``.env`` defaults** in the same folder: a flat JSON map (``shape = kv``)
  and a ``.env`` file sharing keys up to case. Drafted as one ``merge`` source keyed by ``key``
  with ``key_ops = ["lower"]``: per key the JSON file wins, ``.env`` fills in what it lacks.

Each recognised shape says so, with its evidence, in the notes of the table it feeds.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from ..plan import SourceSpec
from ..sources import open_source
from .fixtures import split_fixtures
from .found import FoundSource, unique_name

#: keys read per source to test a shape (the decision needs evidence, not every row)
_SAMPLE = 100_000
_KV_COLUMNS = {"key", "value", "value_type"}


def _values(spec: SourceSpec, folder: Path, column: str) -> list[str]:
    """The text of ``column`` in the source's rows (at most :data:`_SAMPLE`)."""
    reader = open_source(spec, folder)
    found: list[str] = []
    try:
        for batch in reader.batches(5000):
            if batch.table != spec.name:
                continue
            found.extend(str(r[column]) for r in batch.rows if r.get(column) is not None)
            if len(found) >= _SAMPLE:
                break
    finally:
        reader.close()
    return found


def _rename(item: FoundSource, wanted: str, taken: set[str]) -> None:
    """Give ``item`` (and its table of the same name) the first name from ``wanted`` not
    ``taken`` (the way ``ferry init`` names every source)."""
    old = item.spec.name
    name = unique_name(wanted, taken)
    item.spec = item.spec.model_copy(update={"name": name})
    for table in item.tables:
        if table.name == old:
            table.name = name


def _merged(
    found: list[FoundSource],
    folder: Path,
    spec: SourceSpec,
    inputs: Iterable[FoundSource],
    note: str,
) -> None:
    """Scan the merge ``spec`` and add it to ``found``; its inputs keep no table of their own."""
    inputs = list(inputs)
    reader = open_source(spec, folder, [i.spec for i in found])
    try:
        tables = reader.scan()
    finally:
        reader.close()
    for item in inputs:
        item.consumed = True
    files = [f for item in inputs for f in item.files]
    found.append(FoundSource(spec, files, sum(i.size for i in inputs), tables=tables, notes=[note]))


def recognise(found: list[FoundSource], folder: Path) -> None:
    """Replace the sources that form a recognised shape by one merge source each, and a
    Django fixture by one source per model (in place)."""
    taken = {item.spec.name for item in found}
    split_fixtures(found, folder, taken)
    _lists_with_maps(found, folder, taken)
    _settings_over_env(found, folder, taken)


def _lists_with_maps(found: list[FoundSource], folder: Path, taken: set[str]) -> None:
    usable = [i for i in found if not i.problem and not i.consumed and i.spec.kind == "json"]
    for listed in usable:
        columns = {c for t in listed.tables for c in t.columns}
        if listed.spec.root is None or listed.consumed or columns != {"value", "position"}:
            continue
        for keyed in usable:
            if keyed.consumed or keyed.spec.path != listed.spec.path or keyed.spec.shape != "keyed":
                continue
            items = _values(listed.spec, folder, "value")
            keys = set(_values(keyed.spec, folder, keyed.spec.key_column or "id"))
            common = len(set(items) & keys)
            if not common or common * 2 < min(len(set(items)), len(keys)):
                continue
            name = listed.spec.name
            _rename(listed, f"{name}_items", taken)
            keyed.spec = keyed.spec.model_copy(update={"key_column": "value"})
            spec = SourceSpec(
                name=name,
                kind="merge",
                inputs=[keyed.spec.name, listed.spec.name],
                key=["value"],
                rows_of=listed.spec.name,
            )
            note = (
                f"one row per item of the list {listed.spec.root!r} ({len(items)} items), joined "
                f"with the map {keyed.spec.root!r} by value: {common} items have an entry there, "
                f"{len(items) - common} have none (their columns get the default or NULL), "
                f"{len(keys) - common} entries name no item and are left out (rows_of)"
            )
            _merged(found, folder, spec, [keyed, listed], note)
            break


def _settings_over_env(found: list[FoundSource], folder: Path, taken: set[str]) -> None:
    usable = [i for i in found if not i.problem and not i.consumed]
    envs = [i for i in usable if i.spec.kind == "env"]
    maps = [
        i
        for i in usable
        if i.spec.kind == "json"
        and i.spec.root is None
        and len(i.tables) == 1
        and set(i.tables[0].columns) == _KV_COLUMNS
    ]
    for env in envs:
        here = PurePosixPath(env.spec.path or "").parent
        for settings in maps:
            if settings.consumed or PurePosixPath(settings.spec.path or "").parent != here:
                continue
            env_keys = {k.lower() for k in _values(env.spec, folder, "key")}
            json_keys = {k.lower() for k in _values(settings.spec, folder, "key")}
            common = len(env_keys & json_keys)
            if not common:
                continue
            name = settings.spec.name
            _rename(settings, f"{name}_json", taken)
            spec = SourceSpec(
                name=name,
                kind="merge",
                inputs=[settings.spec.name, env.spec.name],
                key=["key"],
                key_ops=["lower"],
            )
            note = (
                f"{settings.spec.path} over the defaults in {env.spec.path}: per key (compared "
                f"in lower case) {settings.spec.path} wins, {env.spec.path} fills in the rest; "
                f"{len(json_keys)} keys in {settings.spec.path}, {len(env_keys)} in "
                f"{env.spec.path}, {common} in both, {len(env_keys - json_keys)} only in "
                f"{env.spec.path}"
            )
            _merged(found, folder, spec, [settings, env], note)
            break
