"""A plan file as a document: comments, blank lines and key order survive every save.

:func:`ferry.plan.load_plan` keeps the parsed tomlkit document beside the plan, together with
the plan as it was loaded (its canonical data, :meth:`Plan.to_dict`). Saving compares the
plan's canonical data now with that snapshot and applies only the difference to the document:
changed values are set in place (a value's own trailing comment stays), new keys, tables and
``[[...]]`` entries are added, removed ones are deleted. Everything the person wrote around
them is left as it was, so loading and saving an untouched plan gives the same bytes.

A plan built in code (``ferry init``, the wizard's scan) has no document: it gets a fresh one,
written the way :meth:`Plan.to_toml` writes it, with the comments the caller passes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import tomlkit
from tomlkit.container import Container
from tomlkit.items import AoT, Array, Table

#: entries of these lists are matched across saves by this key (a renamed entry is new)
_IDENTITY = ("name", "id")


def parse_document(text: str) -> Any:
    """The tomlkit document of a plan's text (the caller has checked it is valid TOML)."""
    return tomlkit.parse(text)


def fresh_document(text: str, comments: Callable[[str, int], list[str]] | None = None) -> Any:
    """A document for a plan built in code: ``text`` (:meth:`Plan.to_toml`), with the lines
    ``comments(header, n)`` returns written under the n-th ``[[header]]`` (``header`` is
    ``tables``, ``sources``, ``questions``) and ``comments("", 0)`` at the top."""
    if comments is None:
        return tomlkit.parse(text)
    lines: list[str] = [f"# {c}".rstrip() for c in comments("", 0)]
    if lines:
        lines.append("")
    seen: dict[str, int] = {}
    for line in text.splitlines():
        lines.append(line)
        if line.startswith("[[") and line.endswith("]]"):
            header = line[2:-2].strip()
            index = seen.get(header, 0)
            seen[header] = index + 1
            lines.extend(f"# {c}".rstrip() for c in comments(header, index))
    return tomlkit.parse("\n".join(lines) + "\n")


def apply_changes(document: Any, before: dict[str, Any], after: dict[str, Any]) -> None:
    """Change ``document`` (whose data was ``before``) so that it holds ``after``, touching
    only the keys whose values differ."""
    _apply_table(document, before, after)


def _apply_table(node: Any, before: dict[str, Any], after: dict[str, Any]) -> None:
    for key in [k for k in before if k not in after]:
        if key in node:
            del node[key]
    for key, new in after.items():
        old = before.get(key, _MISSING)
        if old == new:  # also a value the plan always writes (version) the file leaves out
            continue
        current = node.get(key) if key in node else None
        if isinstance(new, dict) and isinstance(old, dict) and _is_table(current):
            _apply_table(current, old, new)
        elif isinstance(new, list) and isinstance(old, list) and _is_list(current):
            _apply_list(node, key, current, old, new)
        else:
            node[key] = _item(new, current)


def _apply_list(node: Any, key: str, current: Any, before: list[Any], after: list[Any]) -> None:
    """A list of tables keeps its entries (matched by name/id) and their comments; any other
    list is replaced as a whole value."""
    ident = _identity(before, after)
    if ident is None or len(current) != len(before):
        node[key] = _item(after, current)
        return
    old_ids = [entry[ident] for entry in before]
    new_ids = [entry[ident] for entry in after]
    kept = [i for i in new_ids if i in old_ids]
    if kept != [i for i in old_ids if i in new_ids]:  # reordered: the order is meaningful
        node[key] = _item(after, current)
        return
    for index in reversed(range(len(before))):
        if old_ids[index] not in new_ids:
            _delete_entry(current, index, _body_before(node, key))
    survivors = [i for i in old_ids if i in new_ids]
    for entry in after:
        if entry[ident] in survivors:
            position = survivors.index(entry[ident])
            _apply_table(current[position], before[old_ids.index(entry[ident])], entry)
    # Survivors keep their order, so inserting the new entries in order puts each at its
    # place: everything before it in the new order is already in the list.
    for offset, entry in enumerate(after):
        if entry[ident] in old_ids:
            continue
        if isinstance(current, AoT):
            table = tomlkit.table()
            table.update(entry)
            table.trivia.indent = "\n"  # a blank line before the new [[...]] header
            current.insert(offset, table)
        else:
            current.insert(offset, entry)


def _delete_entry(entries: Any, index: int, before_first: list[Any] | None) -> None:
    """Delete one entry; the comments above it go with it, those above the next one stay.

    tomlkit keeps the comments written above a ``[[header]]`` at the end of what comes before
    it (the previous entry, or for the first one the table before the list): the deleted
    entry's trailing comments move there in place of its own."""
    if isinstance(entries, AoT):
        previous = _tail_body(entries[index - 1]) if index > 0 else before_first
        if previous is not None:
            start = len(previous) - len(_trailing(previous))
            del previous[start:]
            previous.extend(_trailing(_tail_body(entries[index])))
    del entries[index]


def _body_before(node: Any, key: str) -> list[Any] | None:
    """The body ending just above list ``key`` of ``node``, when it is a table's (None when
    the lines above belong to ``node`` itself: they are left as they are)."""
    body: list[Any] = node.body if isinstance(node, Container) else node.value.body
    position = next((i for i, (k, _) in enumerate(body) if k is not None and k.key == key), 0)
    if position == 0:
        return None
    previous = body[position - 1][1]
    if isinstance(previous, Table):
        return _tail_body(previous)
    if isinstance(previous, AoT) and len(previous):
        return _tail_body(previous[-1])
    return None


def _tail_body(table: Any) -> list[Any]:
    """The body list holding the lines at the end of ``table`` (its last sub-table's)."""
    body: list[Any] = table.value.body
    while body and body[-1][0] is not None and isinstance(body[-1][1], Table):
        body = body[-1][1].value.body
    return body


def _trailing(body: list[Any]) -> list[Any]:
    """The comment and blank-line entries after the last key of ``body``."""
    count = 0
    while count < len(body) and body[len(body) - 1 - count][0] is None:
        count += 1
    return body[len(body) - count :]


def _identity(before: list[Any], after: list[Any]) -> str | None:
    entries = before + after
    if not entries or not all(isinstance(e, dict) for e in entries):
        return None
    for ident in _IDENTITY:
        ids = [e.get(ident) for e in entries]
        unique = len(set(ids[: len(before)])) == len(before) and len(
            set(ids[len(before) :])
        ) == len(after)
        if all(isinstance(i, str) for i in ids) and unique:
            return ident
    return None


def _is_table(item: Any) -> bool:
    return isinstance(item, (Table, Container, dict))


def _is_list(item: Any) -> bool:
    return isinstance(item, (AoT, Array))


def _item(value: Any, current: Any) -> Any:
    """``value`` as an item shaped like the one it replaces (an inline table stays inline)."""
    if isinstance(value, dict) and current is not None and not isinstance(current, Table):
        inline = tomlkit.inline_table()
        inline.update(value)
        return inline
    return value


_MISSING = object()
