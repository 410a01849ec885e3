"""Canonical JSON: the one byte form that is hashed and signed, on the terminal
and on the server alike."""

from __future__ import annotations

import json
from typing import Any


class CanonicalError(ValueError):
    pass


def _check(value: Any, path: str) -> None:
    if isinstance(value, float):
        raise CanonicalError(f"float at {path}: money and quantities are integers")
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                raise CanonicalError(f"non-string key at {path}")
            _check(v, f"{path}.{k}")
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            _check(v, f"{path}[{i}]")
    elif not (value is None or isinstance(value, str | int | bool)):
        raise CanonicalError(f"{type(value).__name__} at {path} is not JSON")


def dumps(value: Any) -> bytes:
    """Sorted keys, no spaces, UTF-8, no floats."""
    _check(value, "$")
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def loads(data: bytes | str) -> Any:
    return json.loads(data)
