"""The store's attribute codec against boto3's `TypeSerializer`/`TypeDeserializer`, whose rules it
follows without importing boto3 (binary values read back as `bytes`, which equal boto3's `Binary`)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from slipstream.store.codec import _plain, fmt_time, from_item, parse_time, to_attr, to_item

VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    -7,
    2**64,
    Decimal("1.5"),
    Decimal("-0.000001"),
    Decimal("1e100"),
    Decimal("12345678901234567890123456789012345678"),
    "",
    "text",
    b"\x00bytes",
    bytearray(b"ba"),
    {1, 2, Decimal("3.25")},
    {"a", "b"},
    {b"x", b"y"},
    set(),
    [],
    [1, "a", None, [True, {"k": Decimal("2")}]],
    ("t", 1),
    {"m": {"n": [1, {"s"}]}, "e": {}},
]
REFUSED: list[Any] = [
    1.5,
    [1, 0.5],
    {"k": 2.0},
    Decimal("Infinity"),
    Decimal("NaN"),
    Decimal("1.23456789012345678901234567890123456789"),
    {1, "a"},
    object(),
    {"k": object()},
]


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_values_serialise_and_read_back_as_with_boto3(value: Any) -> None:
    attribute = to_attr(value)
    assert attribute == TypeSerializer().serialize(value)
    assert from_item({"v": attribute}) == {"v": _plain(TypeDeserializer().deserialize(attribute))}


@pytest.mark.parametrize("value", REFUSED, ids=repr)
def test_values_boto3_refuses_are_refused_alike(value: Any) -> None:
    with pytest.raises(Exception) as ours:
        to_attr(value)
    with pytest.raises(Exception) as boto3s:
        TypeSerializer().serialize(value)
    assert (type(ours.value), str(ours.value)) == (type(boto3s.value), str(boto3s.value))


def test_items_drop_none_values() -> None:
    assert to_item({"a": 1, "b": None}) == {"a": {"N": "1"}}


@pytest.mark.parametrize(
    "moment",
    [
        datetime(999, 1, 1, tzinfo=UTC),
        datetime(1, 1, 1, 0, 0, 0, 1, tzinfo=UTC),
        datetime(2026, 7, 1, 12, 30, 5, 123456, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    ],
)
def test_times_are_fixed_width_and_read_back(moment: datetime) -> None:
    """Keys sort times as strings: every year has four digits (strftime does not pad before 1000)."""
    text = fmt_time(moment)
    assert len(text) == len("2026-07-01T12:00:00.000000Z")
    assert parse_time(text) == moment
