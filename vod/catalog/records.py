"""The catalog's frozen dataclasses as JSON, and back, without running any code.

The catalog cache (cache.py) kept pickles in the index folder: whoever could write there could
run code in every process that loaded the catalog (issue 10, item 4). JSON is only ever read as
data. A dataclass is written as the list of its field values, and read back by converters made
once per class from its type hints (tuples, dates, nested records): nothing in a file names a
class or a function to call.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from vod.catalog import model

Decoder = Callable[[Any], Any]


def encode(value: Any) -> Any:
    """Return `value` (model records, tuples, dates, dicts and plain values) as JSON data."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [encode(getattr(value, f.name)) for f in dataclasses.fields(value)]
    if isinstance(value, tuple | list | frozenset | set):
        return [encode(v) for v in value]
    if isinstance(value, date):  # datetime too
        return value.isoformat()
    if isinstance(value, dict):
        return {k: encode(v) for k, v in value.items()}
    return value


@functools.cache
def decoder(cls: type) -> Decoder:
    """Return the function that rebuilds a `cls` record from what `encode` wrote."""
    # Recording.media is merged from the media manifest at run time (issue #14), never read
    # from catalog files: the cache always holds None there, so its type reads as None.
    hints = typing.get_type_hints(cls, vars(model), {"MediaEntry": type(None)})
    every = dataclasses.fields(cls)
    fields = [(f.name, _decoder(hints[f.name])) for f in every]
    steps = [(i, convert) for i, (_, convert) in enumerate(fields) if convert is not None]
    names = [name for name, _ in fields]
    width = len(fields)
    # The model's records have no __post_init__ and every field is an init field: filling
    # __dict__ directly, as pickle did, is what their __init__ would do, at half the cost.
    direct = all(f.init for f in every) and not hasattr(cls, "__post_init__")
    new = object.__new__

    def decode(raw: Any) -> Any:
        if not isinstance(raw, list) or len(raw) != width:
            raise ValueError(f"not a {cls.__name__} record")
        values = list(raw)
        for i, convert in steps:
            values[i] = convert(values[i])
        if not direct:
            return cls(*values)
        record: Any = new(cls)
        record.__dict__.update(zip(names, values, strict=True))
        return record

    return decode


def _decoder(hint: Any) -> Decoder | None:
    """The converter for a value of type `hint`; None when JSON gives it as it is."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint in (str, int, float, bool, type(None)):
        return None
    if hint is datetime:
        return datetime.fromisoformat
    if hint is date:
        return date.fromisoformat
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return decoder(hint)
    if origin is tuple:
        item = _decoder(args[0])
        if item is None:
            return tuple
        convert = item
        return lambda raw: tuple(convert(v) for v in raw)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        if len(options) == 1:
            inner = _decoder(options[0])
            if inner is None:
                return None
            convert = inner
            return lambda raw: None if raw is None else convert(raw)
    raise TypeError(f"no JSON form for {hint!r}")
