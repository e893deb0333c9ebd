"""Prefect's flow, with the parameters of a new flow run written as JSON by our own encoder.

Prefect records a flow run's parameters through FastAPI's `jsonable_encoder`, and imports
FastAPI to get it: 0.23-0.27 s of a command's start (its web framework and its OpenAPI models),
paid by every `run`, `demo` and `reclassify` for nothing else. The flows' parameters are
strings, paths, lists and our option dataclasses of plain values, which `plain` writes as that
encoder would (a test compares them); anything else falls back to Prefect's own way.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from enum import Enum
from pathlib import PurePath
from typing import Any

from prefect import Flow


class _NotPlain(TypeError):
    pass


def plain(value: Any) -> Any:
    """`value` as JSON values; _NotPlain for a type it does not know."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Enum):
        return plain(value.value)
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: plain(v) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    raise _NotPlain(type(value).__name__)


class JsonFlow(Flow):
    def serialize_parameters(self, parameters: dict[str, Any]) -> dict[str, Any]:
        try:
            return {key: plain(value) for key, value in parameters.items()}
        except _NotPlain:  # a future, a state, a type of someone else's: as Prefect does it
            return super().serialize_parameters(parameters)

    def with_options(self, **options: Any) -> JsonFlow:
        copy = super().with_options(**options)  # Prefect builds a plain Flow
        copy.__class__ = type(self)
        return copy


def json_flow(**options: Any) -> Callable[[Callable], JsonFlow]:
    """`@prefect.flow(**options)`, as a JsonFlow."""
    return lambda fn: JsonFlow(fn=fn, **options)
