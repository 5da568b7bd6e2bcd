"""Values on their way: Ferry's logical types, casts, per-column cell functions,
transforms and how a column spells its values.

The public names of the former ``ferry.values`` module load from here on
first use (PEP 562), so ``import ferry.values`` stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazyexports import lazy_exports

if TYPE_CHECKING:
    from .jsontext import json_text
    from .logical import (
        INT64_MAX,
        INT64_MIN,
        LOGICAL_TYPES,
        CastError,
        LogicalType,
        TypeTracker,
        cast,
        decimal_text,
        identity,
        infer_type,
        looks_like_timestamp,
        merge_types,
        parse_timestamp,
        to_decimal,
        to_utc_naive,
        value_type,
    )

_HOMES = {
    "CastError": ".logical",
    "INT64_MAX": ".logical",
    "INT64_MIN": ".logical",
    "LOGICAL_TYPES": ".logical",
    "LogicalType": ".logical",
    "TypeTracker": ".logical",
    "cast": ".logical",
    "decimal_text": ".logical",
    "identity": ".logical",
    "infer_type": ".logical",
    "json_text": ".jsontext",
    "looks_like_timestamp": ".logical",
    "merge_types": ".logical",
    "parse_timestamp": ".logical",
    "to_decimal": ".logical",
    "to_utc_naive": ".logical",
    "value_type": ".logical",
}


__getattr__ = lazy_exports(__name__, _HOMES)


__all__ = [
    "INT64_MAX",
    "INT64_MIN",
    "LOGICAL_TYPES",
    "CastError",
    "LogicalType",
    "TypeTracker",
    "cast",
    "decimal_text",
    "identity",
    "infer_type",
    "json_text",
    "looks_like_timestamp",
    "merge_types",
    "parse_timestamp",
    "to_decimal",
    "to_utc_naive",
    "value_type",
]
