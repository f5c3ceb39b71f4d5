"""Runs as JSON and back, for the durable history (aws/history.py): every field of the domain's
dataclasses by its type, so a field added to `Run` is carried without a change here."""

from __future__ import annotations

import dataclasses
import enum
import functools
import types
import typing
from datetime import datetime
from typing import Any

from polysync_batch.domain.models import Run


def to_json(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    return value


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def from_json(kind: Any, data: Any) -> Any:
    if data is None:
        return None
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        options = [k for k in typing.get_args(kind) if k is not type(None)]
        return from_json(options[0], data)
    if dataclasses.is_dataclass(kind):
        hints = _hints(kind)
        names = {f.name for f in dataclasses.fields(kind)}
        return kind(**{k: from_json(hints[k], v) for k, v in data.items() if k in names})
    if kind is datetime:
        return datetime.fromisoformat(data)
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return kind(data)
    if origin is list:
        return [from_json(typing.get_args(kind)[0], v) for v in data]
    if origin is tuple:
        return tuple(from_json(typing.get_args(kind)[0], v) for v in data)
    if origin is dict:
        return {k: from_json(typing.get_args(kind)[1], v) for k, v in data.items()}
    return data


def run_from_json(data: dict[str, Any]) -> Run:
    return from_json(Run, data)
