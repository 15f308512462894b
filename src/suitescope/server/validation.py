"""Validate records against schema v1 with pydantic, from the schema's own TypedDicts.

The schema package is stdlib only (the collector lands in every test environment), so its TypedDicts are
`typing.TypedDict`; pydantic wants `typing_extensions.TypedDict` on Python < 3.12. `adapter()` rebuilds each
record type field for field as one, so the server validates exactly the types the collector writes, with no
second copy of the schema to drift. Strict: a string where a number belongs is an error, not a conversion.
Fields whose type admits None may be missing (an older minor version, or a converter such as JUnit's, that
does not know them); keys the schema does not know are ignored (a newer minor version).
"""

from __future__ import annotations

import functools
import types
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

import typing_extensions
from pydantic import ConfigDict, TypeAdapter, ValidationError

from suitescope.schema.records import RunRecord, TestRecord

# Characters in any one string of a record (the collector truncates messages and SQL far below). Not a pydantic
# constraint: checking every string's length measured as more than half of validation's time, while a record
# on a line shorter than this cannot hold such a string; reports.py walks only the longer ones.
MAX_STRING = 64 * 1024
MAX_ERRORS = 20  # validation errors reported per request: enough to fix a generator, not a megabyte of them

_CONFIG = ConfigDict(strict=True, extra="ignore")


def _convert(tp: Any, cache: dict[Any, Any]) -> Any:
    if typing_extensions.is_typeddict(tp):
        return _typed_dict(tp, cache)
    origin = get_origin(tp)
    if origin is None or origin is Literal:
        return tp
    args = tuple(_convert(arg, cache) for arg in get_args(tp))
    if origin in (Union, types.UnionType):
        return Union[args]  # noqa: UP007  (built from a tuple of types)
    return origin[args if len(args) > 1 else args[0]]


def _typed_dict(td: Any, cache: dict[Any, Any]) -> Any:
    if td not in cache:
        fields: dict[str, Any] = {}
        for name, tp in get_type_hints(td).items():
            converted = _convert(tp, cache)
            fields[name] = typing_extensions.NotRequired[converted] if type(None) in get_args(tp) else converted
        make: Any = typing_extensions.TypedDict  # called as a function: the fields are only known at run time
        rebuilt = make(td.__name__, fields)
        rebuilt.__pydantic_config__ = _CONFIG
        cache[td] = rebuilt
    return cache[td]


@functools.cache
def adapter(kind: Literal["test", "run"]) -> TypeAdapter[Any]:
    """A validator for one record kind (built once: pydantic compiles it to a Rust validator)."""
    return TypeAdapter(_typed_dict(TestRecord if kind == "test" else RunRecord, {}))


def errors_of(exc: ValidationError, prefix: tuple[str | int, ...]) -> list[dict[str, Any]]:
    """pydantic's errors as the API's `detail`: where (`loc`, from the body down) and what (`msg`)."""
    return [{"loc": [*prefix, *error["loc"]], "msg": error["msg"]} for error in exc.errors()[:MAX_ERRORS]]


__all__ = ["MAX_ERRORS", "MAX_STRING", "ValidationError", "adapter", "errors_of"]
