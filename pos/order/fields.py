"""Reading stored order documents back: every field checked, and a bad
document reported as InvalidInput naming the field, never a crash."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pos.errors import InvalidInput
from pos.messages import msg
from pos.money import Money, MoneyError


def bad(what: str) -> InvalidInput:
    return InvalidInput(msg("order_rules.bad_data", detail=what))


def mapping(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise bad(f"{what} must be an object")
    return value


def field(data: Mapping[str, Any], key: str) -> Any:
    try:
        return mapping(data, "record")[key]
    except KeyError:
        raise bad(f"missing {key}") from None


def text(data: Mapping[str, Any], key: str) -> str:
    value = field(data, key)
    if not isinstance(value, str):
        raise bad(f"{key} must be text")
    return value


def opt_text(data: Mapping[str, Any], key: str) -> str | None:
    value = mapping(data, "record").get(key)
    if value is not None and not isinstance(value, str):
        raise bad(f"{key} must be text")
    return value


def integer(data: Mapping[str, Any], key: str) -> int:
    value = field(data, key)
    if type(value) is not int:
        raise bad(f"{key} must be an integer")
    return value


def opt_integer(data: Mapping[str, Any], key: str) -> int | None:
    value = mapping(data, "record").get(key)
    if value is not None and type(value) is not int:
        raise bad(f"{key} must be an integer")
    return value


def money(data: Mapping[str, Any], key: str, currency: str) -> Money:
    try:
        return Money(integer(data, key), currency)
    except MoneyError as exc:
        raise bad(f"{key}: {exc}") from None


def opt_money(data: Mapping[str, Any], key: str, currency: str) -> Money | None:
    return None if mapping(data, "record").get(key) is None else money(data, key, currency)


def items(data: Mapping[str, Any], key: str) -> Sequence[Mapping[str, Any]]:
    value = field(data, key)
    if not isinstance(value, list | tuple):
        raise bad(f"{key} must be a list")
    return [mapping(v, f"an entry of {key}") for v in value]


def opt_record(data: Mapping[str, Any], key: str) -> Mapping[str, Any] | None:
    value = mapping(data, "record").get(key)
    return None if value is None else mapping(value, key)
