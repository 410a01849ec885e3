"""Canonical JSON: the one byte form that is hashed and signed, on the terminal
and on the server alike."""

from __future__ import annotations

import json
from typing import Any


class CanonicalError(ValueError):
    pass


def _check(value: Any, path: str) -> None:
    # Iterative, and by exact type first: this runs on every journal entry.
    stack: list[tuple[Any, str]] = [(value, path)]
    while stack:
        v, where = stack.pop()
        t = type(v)
        if t is str or t is int or t is bool or v is None:
            continue
        if t is dict:
            for k, item in v.items():
                if type(k) is not str:
                    raise CanonicalError(f"non-string key at {where}")
                stack.append((item, f"{where}.{k}"))
        elif t is list or t is tuple:
            stack.extend((item, f"{where}[{i}]") for i, item in enumerate(v))
        elif isinstance(v, float):
            raise CanonicalError(f"float at {where}: money and quantities are integers")
        elif isinstance(v, dict):
            stack.append((dict(v), where))
        elif isinstance(v, list | tuple):
            stack.append((list(v), where))
        elif not isinstance(v, str | int):
            raise CanonicalError(f"{t.__name__} at {where} is not JSON")


def dumps(value: Any) -> bytes:
    """Sorted keys, no spaces, UTF-8, no floats."""
    _check(value, "$")
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def loads(data: bytes | str) -> Any:
    return json.loads(data)
