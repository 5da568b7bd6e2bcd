"""Plan specs as a JSON worker process reads them, without the plan's models.

Unpickling a :class:`~ferry.plan.TableSpec` imports :mod:`ferry.plan` and pydantic: about
15 MiB more in each worker process (:mod:`ferry.load.mapworker`), which only reads the
specs' values. :func:`view_of` copies a spec's fields, its ``model_fields_set`` and its own
properties into a :class:`SpecView`, which reads as the spec does (attributes) and is
unpickled with no import beyond this module's.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..values.transform import RowMapper


class SpecView(SimpleNamespace):
    """A plan spec's values, read by attribute as the spec's (a snapshot: not validated)."""


def view_of(spec: Any, **replaced: Any) -> SpecView:
    """``spec`` (a plan model) as a :class:`SpecView`, its nested models as views too, with
    ``replaced`` fields given other values (taken as they are)."""
    from pydantic import BaseModel  # the caller holds the model: pydantic is loaded

    values = {name: _viewed(getattr(spec, name)) for name in type(spec).model_fields}
    for model in type(spec).__mro__:
        if model is BaseModel:
            break  # BaseModel's own properties (model_extra...) are not the spec's values
        for name, member in vars(model).items():
            if isinstance(member, property):
                values.setdefault(name, _viewed(getattr(spec, name)))
    values["model_fields_set"] = frozenset(spec.model_fields_set)
    values.update(replaced)
    return SpecView(**values)


def mapper_view(mapper: RowMapper) -> SpecView:
    """``mapper``'s table spec as a view that maps as it does without the plan's models: its
    columns spelled out (the fields ``map_all`` chose, in order) and ``map_all`` off."""
    columns = {column.name: view_of(column.spec) for column in mapper.mapped_columns()}
    return view_of(mapper.spec, columns=columns, map_all=False)


def _viewed(value: Any) -> Any:
    """A field's value with any plan model in it made a view."""
    from pydantic import BaseModel

    if isinstance(value, BaseModel):
        return view_of(value)
    if isinstance(value, dict):
        return {key: _viewed(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_viewed(item) for item in value)
    return value


__all__ = ["SpecView", "mapper_view", "view_of"]
