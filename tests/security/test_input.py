"""Hostile input: strings that look like DynamoDB expression syntax, key separators, unicode, NUL
and keys beyond DynamoDB's key size limit, in every id and key that reaches a key or an
expression; bodies of several megabytes and JSON thousands of levels deep. Each is stored and
read back equal, or refused with a clear 4xx; never a 500, and no other item is touched."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from starlette.testclient import TestClient

from slipstream.core.settings import get_settings
from tests.security.conftest import EXECUTION, MANAGEMENT, World, call, protected, segment
from tests.security.tokens import bearer

NASTY = {
    "expression placeholder": ":x",
    "attribute-name placeholder": "#y",
    "condition injection": ") OR attribute_exists(PK) --",
    "dollar": "$",
    "percent": "%",
    "escaped hash": "%23",
    "slash": "a/b",
    "unicode": "ünï☃𝄞",
    "NUL": "a\x00b",
    "sort key too long": "k" * 1100,
    "partition key too long": "k" * 2100,
}
Snapshot = dict[tuple[str, str], dict[str, Any]]


def snapshot() -> Snapshot:
    """Every item of the table, by key."""
    pages = boto3.client("dynamodb").get_paginator("scan").paginate(TableName=get_settings().table_name)
    return {(i["PK"]["S"], i["SK"]["S"]): i for page in pages for i in page["Items"]}


def changed(before: Snapshot, after: Snapshot) -> set[tuple[str, str]]:
    return {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}


def _headers(world: World, api: str) -> dict[str, str]:
    return bearer(world.ti.token if api == EXECUTION else world.admin_token)


@pytest.mark.parametrize("nasty", list(NASTY))
def test_hostile_path_ids_never_500(api: TestClient, world: World, nasty: str) -> None:
    """Each path parameter of each operation in turn, with a valid token: a 4xx or an answer."""
    base = {name: segment(value) for name, value in world.path_values().items()}
    failures = []
    for op in protected():
        for name in base.keys() - {"task_instance_id"}:
            if f"{{{name}" in op.template:
                values = base | {name: segment(NASTY[nasty])}
                response = call(api, op, values, headers=_headers(world, op.api), json={"value": 1})
                if response.status_code >= 500:
                    failures.append((str(op), name, response.status_code))
    assert failures == []


@dataclass(frozen=True)
class KeyedStore:
    """A keyed resource as its API writes, reads and deletes it."""

    api: str
    write: Callable[[World, str, str], tuple[str, str, dict[str, Any]]]
    read_url: Callable[[World, str], str]
    read_back: Callable[[dict[str, Any]], Any]
    delete_url: Callable[[World, str], str]


STORES = {
    "xcom key": KeyedStore(
        EXECUTION,
        lambda w, k, v: ("POST", f"xcoms/example/{w.ti.item['run_id']}/hello/{segment(k)}", {"json": v}),
        lambda w, k: f"xcoms/example/{w.ti.item['run_id']}/hello/{segment(k)}",
        lambda body: (body["key"], body["value"]),
        lambda w, k: f"xcoms/example/{w.ti.item['run_id']}/hello/{segment(k)}",
    ),
    "variable key (task)": KeyedStore(
        EXECUTION,
        lambda w, k, v: ("PUT", f"variables/{segment(k)}", {"json": {"val": v}}),
        lambda w, k: f"variables/{segment(k)}",
        lambda body: (body["key"], body["value"]),
        lambda w, k: f"variables/{segment(k)}",
    ),
    "task state store key": KeyedStore(
        EXECUTION,
        lambda w, k, v: ("PUT", f"store/ti/{w.ti.id}/{segment(k)}", {"json": {"value": v}}),
        lambda w, k: f"store/ti/{w.ti.id}/{segment(k)}",
        lambda body: (None, body["value"]),
        lambda w, k: f"store/ti/{w.ti.id}/{segment(k)}",
    ),
    "variable key (admin)": KeyedStore(
        MANAGEMENT,
        lambda w, k, v: ("POST", "variables", {"json": {"key": k, "value": v}}),
        lambda w, k: f"variables/{segment(k)}",
        lambda body: (body["key"], body["value"]),
        lambda w, k: f"variables/{segment(k)}",
    ),
    "connection id (admin)": KeyedStore(
        MANAGEMENT,
        lambda w, k, v: (
            "POST",
            "connections",
            {"json": {"connection_id": k, "conn_type": "http", "host": v}},
        ),
        lambda w, k: f"connections/{segment(k)}",
        lambda body: (body["connection_id"], body["host"]),
        lambda w, k: f"connections/{segment(k)}",
    ),
}


def _round_trip(api: TestClient, world: World, spec: KeyedStore, key: str) -> None:
    prefix, headers = spec.api + "/", _headers(world, spec.api)
    before = snapshot()
    method, path, body = spec.write(world, key, key)
    written = api.request(method, prefix + path, headers=headers, **body)
    assert written.status_code < 500, written.text
    if written.status_code >= 400:
        assert changed(before, snapshot()) == set()
        return
    assert len(changed(before, snapshot())) == 1, "one write, one item"
    read = api.get(prefix + spec.read_url(world, key), headers=headers)
    assert read.status_code == 200, read.text
    assert spec.read_back(read.json()) in {(key, key), (None, key)}
    assert api.delete(prefix + spec.delete_url(world, key), headers=headers).status_code < 300
    assert changed(before, snapshot()) == set()


@pytest.mark.parametrize("store", list(STORES))
def test_hostile_keys_round_trip_or_are_refused(api: TestClient, world: World, store: str) -> None:
    for nasty, key in NASTY.items():
        try:
            _round_trip(api, world, STORES[store], key)
        except AssertionError as failure:
            raise AssertionError(f"{nasty}: {failure}") from None


MEGABYTES = 5 * 1024 * 1024
BODIES = {
    "several MB of JSON": json.dumps({"value": "x" * MEGABYTES, "val": "x", "key": "k"}),
    "a JSON string of several MB": json.dumps("x" * MEGABYTES),
    "arrays 5000 levels deep": "[" * 5000 + "]" * 5000,
    "objects 5000 levels deep": '{"a":' * 5000 + "1" + "}" * 5000,
    "a deep value in a valid body": '{"value":' + "[" * 5000 + "]" * 5000 + ',"val":"x","key":"k"}',
}


@pytest.mark.parametrize("body", list(BODIES))
def test_huge_and_deep_bodies_never_500(api: TestClient, world: World, body: str) -> None:
    """Every operation that takes a body. What is accepted must be what was sent (read back in
    the XCom case, the one store meant for large values: offloaded to S3)."""
    failures = []
    for op in protected():
        if op.method in {"GET", "HEAD", "DELETE"}:
            continue
        headers = _headers(world, op.api) | {"content-type": "application/json"}
        response = call(api, op, world.path_values(), headers=headers, content=BODIES[body])
        if response.status_code >= 500:
            failures.append((str(op), response.status_code))
    assert failures == []


def test_a_several_megabyte_xcom_reads_back_equal(api: TestClient, world: World) -> None:
    url = f"{EXECUTION}/xcoms/example/{world.ti.item['run_id']}/hello/big"
    value = {"rows": ["x" * 1024] * 5 * 1024}
    assert api.post(url, json=value, headers=world.ti.headers).status_code == 201
    assert api.get(url, headers=world.ti.headers).json() == {"key": "big", "value": value}
