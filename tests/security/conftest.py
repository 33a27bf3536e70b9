"""A small world to attack: one DAG, two runs with a queued TI each, a variable, a connection and
an XCom; clients for both APIs; and every operation of both OpenAPI documents, so that a new route
is attacked without anyone listing it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import quote

import pytest
from starlette.testclient import TestClient

from slipstream.auth.tokens import mint_admin_token
from slipstream.local.seed import queue_ti, register_dag, start_run
from slipstream.store.connections import Connections
from slipstream.store.variables import Variables
from slipstream.store.xcoms import XComs
from tests.api.conftest import QueuedTI

EXECUTION = "/execution"
MANAGEMENT = "/api/v2"
API_VERSION = "2026-06-30"
OPENAPI = {
    EXECUTION: f"{EXECUTION}/openapi.json?version={API_VERSION}",
    MANAGEMENT: f"{MANAGEMENT}/openapi.json",
}
OPEN_PATHS = {(EXECUTION, "GET", "/health")}
"""The only operations that need no token."""


@dataclass(frozen=True)
class Operation:
    api: str
    method: str
    template: str

    @property
    def ti_self(self) -> bool:
        return "{task_instance_id}" in self.template

    def url(self, values: dict[str, str]) -> str:
        return self.api + self.template.format(**values)

    def __str__(self) -> str:
        return f"{self.method} {self.api}{self.template}"


@cache
def operations() -> tuple[Operation, ...]:
    """Every operation both apps document (building the apps needs no AWS)."""
    from slipstream.api.app import create_app

    client = TestClient(create_app())
    found = []
    for api, url in OPENAPI.items():
        for template, methods in client.get(url).json()["paths"].items():
            found.extend(Operation(api, method.upper(), template) for method in methods)
    return tuple(found)


def protected(api: str | None = None) -> list[Operation]:
    return [
        op
        for op in operations()
        if (op.api, op.method, op.template) not in OPEN_PATHS and (api is None or op.api == api)
    ]


@dataclass
class World:
    ti: QueuedTI
    other: QueuedTI
    """The same task in another run: a different TI of the same DAG."""
    admin_token: str

    def path_values(self) -> dict[str, str]:
        item = self.ti.item
        return {
            "task_instance_id": self.ti.id,
            "dag_id": item["dag_id"],
            "run_id": item["run_id"],
            "dag_run_id": item["run_id"],
            "task_id": item["task_id"],
            "key": "k",
            "offset": "0",
            "variable_key": "v",
            "connection_id": "c",
            "by": "by-name",
            "try_number": "1",
        }


@pytest.fixture
def world(aws: None) -> World:
    register_dag(tasks=[{"task_id": "hello", "upstream": []}, {"task_id": "after", "upstream": ["hello"]}])
    run_id = start_run()["run_id"]
    start_run(run_id="other")
    Variables().put("v", "variable value", None)
    Connections().put("c", {"conn_type": "http", "password": "connection-password"})
    XComs().set("example", run_id, "hello", "k", -1, '"xcom value"')
    return World(
        ti=QueuedTI(*queue_ti("example", run_id, "hello")),
        other=QueuedTI(*queue_ti("example", "other", "hello")),
        admin_token=mint_admin_token("ops"),
    )


@pytest.fixture
def api(aws: None) -> Iterator[TestClient]:
    """Both APIs, with server errors answered as a client sees them (500) rather than raised."""
    from slipstream.api.app import create_app

    with TestClient(create_app(), raise_server_exceptions=False) as client:
        yield client


def segment(value: str) -> str:
    """`value` as one URL path segment. Starlette's TestClient unquotes the path httpx already
    decoded (testclient.py, `unquote(request.url.path)`), so it is encoded twice here to reach the
    app decoded once, as uvicorn and Mangum deliver it: `%23` stays `%23`, not `#`."""
    return quote(quote(value, safe=""), safe="")


def call(client: TestClient, op: Operation, values: dict[str, str], **kwargs: Any) -> Any:
    """One request to `op`; a JSON body goes only where the operation takes one."""
    return client.request(op.method, op.url(values), **kwargs)
