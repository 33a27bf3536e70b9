"""Conversions between Python values and DynamoDB attribute values, and the time format.

Times are stored as fixed-width UTC ISO-8601 strings (`2026-07-01T12:00:00.000000Z`) so that
they sort lexicographically in keys. Free-form JSON (XCom values, conf, kwargs) is stored as a
JSON string: verbatim, no float-to-Decimal detour.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

Item = dict[str, Any]


def to_attr(value: Any) -> Any:
    return _serializer.serialize(value)


def to_item(values: Item) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in values.items() if v is not None}


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
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(value: str | None) -> datetime | None:
    if value is None:
        return None
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def escape(part: str) -> str:
    """Make a user-supplied string safe to embed in a `#`-separated key (reversible)."""
    return part.replace("%", "%25").replace("#", "%23")
