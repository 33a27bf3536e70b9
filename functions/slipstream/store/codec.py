"""Conversions between Python values and DynamoDB attribute values, and the time format.

Attribute values follow boto3's `TypeSerializer` and `TypeDeserializer` without importing boto3
(see `slipstream.core.aws`): Powertools' deserializer, which the stream function's records already
go through, reads them, and `to_attr` writes them by boto3's rules. The one difference: binary
values read back as `bytes`, not boto3's `Binary` wrapper (nothing stores any).

Times are stored as fixed-width UTC ISO-8601 strings (`2026-07-01T12:00:00.000000Z`) so that
they sort lexicographically in keys. Free-form JSON (XCom values, conf, kwargs) is stored as a
JSON string: verbatim, no float-to-Decimal detour.
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from aws_lambda_powertools.shared.dynamodb_deserializer import DYNAMODB_CONTEXT, TypeDeserializer

_deserializer = TypeDeserializer()
_BINARY = (bytes, bytearray)

Item = dict[str, Any]


def to_attr(value: Any) -> dict[str, Any]:
    """`value` as an attribute value: ints and Decimals are numbers (floats are refused), bytes are
    binary, a set of numbers, strings or bytes is an NS, SS or BS, mappings and lists nest."""
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if _is_number(value):
        return {"N": _number(value)}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, _BINARY):
        return {"B": value}
    if isinstance(value, AbstractSet):
        if all(map(_is_number, value)):
            return {"NS": [_number(v) for v in value]}
        if all(isinstance(v, str) for v in value):
            return {"SS": list(value)}
        if all(isinstance(v, _BINARY) for v in value):
            return {"BS": list(value)}
    if isinstance(value, Mapping):
        return {"M": {k: to_attr(v) for k, v in value.items()}}
    if isinstance(value, list | tuple):
        return {"L": [to_attr(v) for v in value]}
    raise TypeError(f'Unsupported type "{type(value)}" for value "{value}"')


def _is_number(value: Any) -> bool:
    if isinstance(value, float):
        raise TypeError("Float types are not supported. Use Decimal types instead.")
    return isinstance(value, int | Decimal)


def _number(value: int | Decimal) -> str:
    number = str(DYNAMODB_CONTEXT.create_decimal(value))
    if number in ("Infinity", "NaN"):
        raise TypeError("Infinity and NaN not supported")
    return number


def to_item(values: Item) -> dict[str, Any]:
    return {k: to_attr(v) for k, v in values.items() if v is not None}


def from_item(item: dict[str, Any]) -> Item:
    return {k: _plain(_deserializer.deserialize(v)) for k, v in item.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, set):
        return {_plain(v) for v in value}
    return value


def fmt_time(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("naive datetime")
    value = value.astimezone(UTC)
    # strftime's %Y does not pad years before 1000, which would break the fixed width
    return f"{value.year:04d}-" + value.strftime("%m-%dT%H:%M:%S.%fZ")


def shifted(moment: datetime, delta: timedelta) -> datetime:
    """`moment + delta`, held at the calendar's end instead of overflowing: a payload may ask for
    a retry or a timeout thousands of years away."""
    try:
        return moment + delta
    except OverflowError:
        return (datetime.max if delta > timedelta(0) else datetime.min).replace(tzinfo=UTC)


def parse_time(value: str | None) -> datetime | None:
    if value is None:
        return None
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def escape(part: str) -> str:
    """Make a user-supplied string safe to embed in a `#`-separated key (reversible)."""
    return part.replace("%", "%25").replace("#", "%23")
