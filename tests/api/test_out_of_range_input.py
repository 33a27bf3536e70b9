"""Input JSON or Python can carry but storage or a response cannot: each is a 422 naming the
field (or the store's refusal), never a 500, and leaves the task instance as it was."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from starlette.testclient import TestClient

from slipstream.auth.tokens import TIKey
from slipstream.store.task_instances import TaskInstances
from tests.api.conftest import RUN_BODY, QueuedTI, start

END = "2026-07-01T12:05:00Z"
JSON = {"content-type": "application/json"}


def _state(ti: QueuedTI) -> str | None:
    item = TaskInstances().get(TIKey(ti.item["dag_id"], ti.item["run_id"], "hello"))
    assert item is not None
    return item.get("state")


def _field_at_fault(response: Any) -> str:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/json"
    [error] = response.json()["detail"]
    return str(error["loc"][-1])


@pytest.mark.parametrize("pid", [10**40, -(10**40), 2**31])
def test_a_pid_beyond_a_32_bit_integer_is_422(client: TestClient, queued: QueuedTI, pid: int) -> None:
    run = client.patch(
        f"task-instances/{queued.id}/run", json={**RUN_BODY, "pid": pid}, headers=queued.workload_headers
    )
    assert _field_at_fault(run) == "pid"
    assert _state(queued) == "queued"
    assert start(client, queued).status_code == 200
    beat = client.put(
        f"task-instances/{queued.id}/heartbeat",
        json={"hostname": "worker-1", "pid": pid},
        headers=queued.headers,
    )
    assert _field_at_fault(beat) == "pid"


def test_an_xcom_map_index_beyond_what_a_key_sorts_is_422(client: TestClient, queued: QueuedTI) -> None:
    run_id = queued.item["run_id"]
    for map_index in (10**40, 10**8):
        response = client.post(
            f"xcoms/example/{run_id}/hello/k", params={"map_index": map_index}, json=1, headers=queued.headers
        )
        assert _field_at_fault(response) == "map_index"
    ok = client.post(
        f"xcoms/example/{run_id}/hello/k", params={"map_index": 10**8 - 2}, json=1, headers=queued.headers
    )
    assert ok.status_code == 201, ok.text


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:00:00-05:00"])
def test_a_datetime_utc_cannot_hold_is_422(client: TestClient, queued: QueuedTI, moment: str) -> None:
    run = client.patch(
        f"task-instances/{queued.id}/run",
        json={**RUN_BODY, "start_date": moment},
        headers=queued.workload_headers,
    )
    assert _field_at_fault(run) == "start_date"
    previous = client.get(
        "dag-runs/previous", params={"dag_id": "example", "logical_date": moment}, headers=queued.headers
    )
    assert _field_at_fault(previous) == "logical_date"


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("heartbeat", b'{"hostname": "worker-1", "pid": NaN}', "pid"),
        ("state", b'{"state": "up_for_retry", "end_date": "' + END.encode() + b'", "retry_delay_seconds": '
         b"Infinity}", "retry_delay_seconds"),
    ],
)  # fmt: skip
def test_nan_and_infinity_are_422_echoed_as_text(
    client: TestClient, queued: QueuedTI, path: str, body: bytes, field: str
) -> None:
    """Python's JSON parser accepts them; no JSON response could carry them back (FastAPI's own
    422 answer fails to render its input then)."""
    assert start(client, queued).status_code == 200
    method = client.put if path == "heartbeat" else client.patch
    response = method(f"task-instances/{queued.id}/{path}", content=body, headers={**queued.headers, **JSON})
    assert _field_at_fault(response) == field
    assert response.json()["detail"][0]["input"] in ("nan", "inf")
    assert _state(queued) == "running"


def test_nan_in_a_json_value_is_refused_before_it_is_stored(client: TestClient, queued: QueuedTI) -> None:
    put = client.put(
        f"store/ti/{queued.id}/n", content=b'{"value": {"a": [1, NaN]}}', headers={**queued.headers, **JSON}
    )
    assert put.status_code == 422, put.text
    assert client.get(f"store/ti/{queued.id}/n", headers=queued.headers).status_code == 404
    trigger = client.post(
        "dag-runs/example/nan-run", content=b'{"conf": {"a": NaN}}', headers={**queued.headers, **JSON}
    )
    assert trigger.status_code == 422, trigger.text
    assert client.get("dag-runs/example/nan-run", headers=queued.headers).status_code == 404


def test_a_retry_delay_past_what_storage_holds_waits_that_long(client: TestClient, queued: QueuedTI) -> None:
    assert start(client, queued).status_code == 200
    body = {"state": "up_for_retry", "end_date": END, "retry_delay_seconds": 1e300}
    response = client.patch(f"task-instances/{queued.id}/state", json=body, headers=queued.headers)
    assert response.status_code == 204, response.text
    item = TaskInstances().get(TIKey(queued.item["dag_id"], queued.item["run_id"], "hello"))
    assert item is not None and item["state"] == "up_for_retry"
    assert item["retry_delay_override"] == 10**12


def test_a_lone_surrogate_is_refused_by_the_store_and_nothing_is_written(
    client: TestClient, queued: QueuedTI
) -> None:
    """JSON's `\\ud800` escape carries text that is not valid Unicode. (Only a `PutItem` here:
    moto applies an `UpdateItem` before it finds the text it cannot encode, where DynamoDB refuses
    the whole request.)"""
    variable = client.put("variables/k", content=b'{"val": "\\ud800"}', headers={**queued.headers, **JSON})
    assert variable.status_code == 422, variable.text
    assert variable.json()["detail"]["reason"] == "Value rejected by database"
    assert client.get("variables/k", headers=queued.headers).status_code == 404


@pytest.mark.parametrize("run_id", ["a#b", "a" * 251, " "])
def test_a_task_triggers_only_run_ids_airflow_allows(
    client: TestClient, queued: QueuedTI, run_id: str
) -> None:
    response = client.post(f"dag-runs/example/{quote(run_id, safe='')}", json={}, headers=queued.headers)
    assert _field_at_fault(response) == "run_id"
