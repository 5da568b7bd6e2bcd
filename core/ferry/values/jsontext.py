"""Compact, deterministic JSON text of a value, as every target stores JSON and verify compares
it (:func:`json_text`): the key order kept, unicode kept, NaN refused."""

from __future__ import annotations

import json
import threading
from typing import Any

import orjson

# One encoder for every call: json.dumps builds a new one whenever options are given.
_JSON_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


class _CEncoders(threading.local):
    """The C encoder ``JSONEncoder.encode`` builds on every call (more than the encoding of a
    small object costs), built once per thread: its circular-reference markers are state."""

    def __init__(self) -> None:
        make = getattr(json.encoder, "c_make_encoder", None)
        self.markers: dict[int, Any] = {}
        self.encode = None
        if make is not None:
            sep_key, sep_item = ":", ","
            self.encode = make(
                self.markers,
                _JSON_ENCODER.default,
                json.encoder.encode_basestring,  # ensure_ascii=False
                None,  # indent
                sep_key,
                sep_item,
                False,  # sort_keys
                False,  # skipkeys
                False,  # allow_nan
            )


_C_ENCODERS = _CEncoders()


#: value types of an object orjson writes exactly as :func:`json_text` does (floats differ:
#: orjson writes ``1e16`` where json writes ``1e+16``)
_ORJSON_SAME: frozenset[type] = frozenset({str, int, bool, type(None)})


def json_text(value: Any) -> str:
    """Compact, deterministic JSON text (key order kept, unicode kept, NaN refused)."""
    # A flat object of strings and whole numbers (a common nested value): orjson, 3× faster.
    # It refuses what it would write otherwise (integers past 64 bits, keys that are not
    # strings, lone surrogates), and the stdlib encoder writes those.
    if value.__class__ is dict and _ORJSON_SAME.issuperset(map(type, value.values())):
        try:
            return orjson.dumps(value).decode()
        except TypeError:
            pass
    encoders = _C_ENCODERS
    if encoders.encode is None or isinstance(value, str):
        return _JSON_ENCODER.encode(value)
    try:
        return "".join(encoders.encode(value, 0))
    except BaseException:
        encoders.markers.clear()  # an encoding that fails leaves its containers marked
        raise


__all__ = ["json_text"]
