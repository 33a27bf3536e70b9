"""Strict isolation (`SLIPSTREAM_STRICT_ISOLATION=true`) against Airflow's default, where any
task's token reaches any XCom, variable or connection: in strict mode a task writes only its own
TI's XComs, reads XComs of its own DAG only, and uses only the variables and connections its DAG
document declares; with one extra GetItem per request at most, and none in the default mode."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from slipstream.core import aws
from slipstream.local.seed import register_dag, start_run
from slipstream.store.xcoms import XComs
from tests.security.conftest import EXECUTION, World
from tests.support import env

DENIED = 403
# (method, path under /execution with {run}/{other_run}/{ti}, body, status in default mode, strict)
CASES: dict[str, tuple[str, str, Any, int, int]] = {
    "read an XCom of its DAG, another run": ("GET", "xcoms/example/{other_run}/hello/k", None, 200, 200),
    "read an XCom of another DAG": ("GET", "xcoms/foreign/{foreign_run}/t/k", None, 200, DENIED),
    "count an XCom of another DAG": ("HEAD", "xcoms/foreign/{foreign_run}/t/k", None, 200, DENIED),
    "slice XComs of another DAG": ("GET", "xcoms/foreign/{foreign_run}/t/k/slice", None, 200, DENIED),
    "write its own XCom": ("POST", "xcoms/example/{run}/hello/mine", 1, 201, 201),
    "write another task's XCom": ("POST", "xcoms/example/{run}/after/k", 1, 201, DENIED),
    "write its task's XCom in another run": ("POST", "xcoms/example/{other_run}/hello/k", 1, 201, DENIED),
    "write another map index": ("POST", "xcoms/example/{run}/hello/k?map_index=3", 1, 201, DENIED),
    "delete another DAG's XCom": ("DELETE", "xcoms/foreign/{foreign_run}/t/k", None, 200, DENIED),
    "delete its own XCom": ("DELETE", "xcoms/example/{run}/hello/k", None, 200, 200),
    "read a declared variable": ("GET", "variables/v", None, 200, 200),
    "read an undeclared variable": ("GET", "variables/u", None, 200, DENIED),
    "set a declared variable": ("PUT", "variables/v", {"val": "new"}, 201, 201),
    "set an undeclared variable": ("PUT", "variables/u", {"val": "new"}, 201, DENIED),
    "delete an undeclared variable": ("DELETE", "variables/u", None, 204, DENIED),
    "read a declared connection": ("GET", "connections/c", None, 200, 200),
    "read an undeclared connection": ("GET", "connections/d", None, 200, DENIED),
}


@pytest.fixture
def isolated(world: World) -> World:
    """`example` declares variable `v` and connection `c`; `foreign` is another DAG with an XCom."""
    from slipstream.store.connections import Connections
    from slipstream.store.variables import Variables

    register_dag(
        tasks=[{"task_id": "hello", "upstream": []}, {"task_id": "after", "upstream": ["hello"]}],
        variables=["v"],
        connections=["c"],
    )
    register_dag("foreign", tasks=[{"task_id": "t", "upstream": []}])
    foreign_run = start_run("foreign", run_id="f1")["run_id"]
    XComs().set("foreign", foreign_run, "t", "k", -1, '"foreign value"')
    XComs().set("example", "other", "hello", "k", -1, '"other run"')
    Variables().put("u", "undeclared", None)
    Connections().put("d", {"conn_type": "http", "password": "undeclared-password"})
    return world


@pytest.fixture(params=[False, True], ids=["default", "strict"])
def strict(request: pytest.FixtureRequest) -> Iterator[bool]:
    with env(SLIPSTREAM_STRICT_ISOLATION=str(request.param).lower()):
        yield request.param


@pytest.mark.parametrize("case", list(CASES))
def test_access(api: TestClient, isolated: World, strict: bool, case: str) -> None:
    method, path, body, lax_status, strict_status = CASES[case]
    url = path.format(run=isolated.ti.item["run_id"], other_run="other", foreign_run="f1")
    kwargs = {"json": body} if body is not None else {}
    response = api.request(method, f"{EXECUTION}/{url}", headers=isolated.ti.headers, **kwargs)
    assert response.status_code == (strict_status if strict else lax_status), response.text
    if response.status_code == DENIED and method != "HEAD":
        detail = response.json()["detail"]
        assert detail["reason"] == "access_denied" and detail["message"]


def test_variable_keys_list_only_declared_ones(api: TestClient, isolated: World, strict: bool) -> None:
    response = api.get(f"{EXECUTION}/variables/keys", headers=isolated.ti.headers)
    assert response.status_code == 200, response.text
    keys = response.json()["keys"]
    assert keys == (["v"] if strict else ["u", "v"])


@pytest.mark.parametrize("path", ["variables/v", "connections/c", "xcoms/example/other/hello/k"])
def test_dynamodb_reads_per_request(api: TestClient, isolated: World, strict: bool, path: str) -> None:
    """Strict mode adds the DAG's GetItem to variable and connection reads, and nothing else."""
    calls: Counter[str] = Counter()

    def count(model: Any, **_: Any) -> None:
        calls[model.name] += 1

    events = aws.dynamodb().meta.events
    events.register("before-call.dynamodb.*", count)
    try:
        assert api.get(f"{EXECUTION}/{path}", headers=isolated.ti.headers).status_code == 200
    finally:
        events.unregister("before-call.dynamodb.*", count)
    extra = 1 if strict and not path.startswith("xcoms") else 0
    assert sum(calls.values()) == 1 + extra, calls
