"""`/run`, `/state` and heartbeat: every allowed and refused transition of the contract."""

from __future__ import annotations

import threading

import pytest
from starlette.testclient import TestClient

from slipstream.auth.tokens import validate_task_token
from tests.api.conftest import RUN_BODY, QueuedTI, start

END = "2026-07-01T12:05:00Z"


def test_run_returns_context_and_swaps_workload_for_execution_token(
    client: TestClient, queued: QueuedTI
) -> None:
    response = start(client, queued)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["dag_run"]["dag_id"] == "example"
    assert body["dag_run"]["run_id"] == "manual__2026-07-01T12:00:00+00:00"
    assert body["dag_run"]["state"] == "running"
    assert set(body["dag_run"]) == {
        "dag_id", "run_id", "logical_date", "data_interval_start", "data_interval_end", "run_after",
        "start_date", "end_date", "clear_number", "run_type", "state", "conf", "triggering_user_name",
        "consumed_asset_events", "partition_key", "partition_date", "note", "team_name",
    }  # fmt: skip
    assert body["max_tries"] == 2
    assert body["should_retry"] is True
    assert body["xcom_keys_to_clear"] == []
    assert body["variables"] == [] and body["connections"] == []
    assert "next_method" not in body
    refreshed = response.headers["Refreshed-API-Token"]
    claims = validate_task_token(refreshed)
    assert claims.scope == "execution" and claims.ti_id == queued.id


def test_run_replay_from_same_process_is_idempotent(client: TestClient, queued: QueuedTI) -> None:
    assert start(client, queued).status_code == 200
    again = start(client, queued)
    assert again.status_code == 200
    assert again.json()["max_tries"] == 2


@pytest.mark.parametrize("other", [{"pid": 999}, {"hostname": "worker-2"}, {"unixname": "other"}])
def test_run_from_another_process_is_refused(client: TestClient, queued: QueuedTI, other: dict) -> None:
    assert start(client, queued).status_code == 200
    refused = start(client, queued, **other)
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/json"
    assert refused.json() == {
        "detail": {
            "reason": "invalid_state",
            "message": "TI was not in a state where it could be marked as running",
            "previous_state": "running",
        }
    }


def test_run_race_exactly_one_winner(client: TestClient, queued: QueuedTI) -> None:
    statuses: list[int] = []
    barrier = threading.Barrier(8)

    def contender(pid: int) -> None:
        barrier.wait()
        statuses.append(start(client, queued, pid=pid).status_code)

    threads = [threading.Thread(target=contender, args=(pid,)) for pid in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200] + [409] * 7


def test_run_unknown_ti_is_404(client: TestClient, queued: QueuedTI) -> None:
    client.delete  # noqa: B018 - keep fixture order explicit
    from slipstream.store.table import Table

    Table().delete(queued.item["PK"], queued.item["SK"])
    response = start(client, queued)
    assert response.status_code == 404
    assert response.json() == {"detail": {"reason": "not_found", "message": "Task Instance not found"}}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**RUN_BODY, "state": "queued"}, "state"),
        ({**RUN_BODY, "start_date": "2026-07-01T12:00:00"}, "start_date"),
        ({**RUN_BODY, "extra": 1}, "extra"),
        ({k: v for k, v in RUN_BODY.items() if k != "pid"}, "pid"),
    ],
)
def test_run_bad_body_is_422_naming_the_field(
    client: TestClient, queued: QueuedTI, body: dict, field: str
) -> None:
    response = client.patch(f"task-instances/{queued.id}/run", json=body, headers=queued.workload_headers)
    assert response.status_code == 422
    assert any(err["loc"][-1] == field for err in response.json()["detail"]), response.json()


def _run(client: TestClient, ti: QueuedTI) -> None:
    assert start(client, ti).status_code == 200


def test_success_then_replay_then_other_state(client: TestClient, queued: QueuedTI) -> None:
    _run(client, queued)
    body = {
        "state": "success",
        "end_date": END,
        "task_outlets": [],
        "outlet_events": [],
        "rendered_map_index": None,
    }
    first = client.patch(f"task-instances/{queued.id}/state", json=body, headers=queued.headers)
    assert first.status_code == 204
    replay = client.patch(f"task-instances/{queued.id}/state", json=body, headers=queued.headers)
    assert replay.status_code == 200
    assert replay.content == b""
    failed = client.patch(
        f"task-instances/{queued.id}/state",
        json={"state": "failed", "end_date": END, "rendered_map_index": None},
        headers=queued.headers,
    )
    assert failed.status_code == 409
    assert failed.json()["detail"] == {
        "reason": "invalid_state",
        "message": "TI was not in the running state so it cannot be updated",
        "previous_state": "success",
    }


@pytest.mark.parametrize(
    "body",
    [
        {"state": "failed", "end_date": END, "rendered_map_index": None},
        {"state": "skipped", "end_date": END},
        {"state": "removed", "end_date": END},
        {"state": "upstream_failed", "end_date": END},
        {
            "state": "up_for_retry",
            "end_date": END,
            "rendered_map_index": None,
            "retry_delay_seconds": 7.5,
            "retry_reason": "flaky",
        },
        {
            "state": "deferred",
            "classpath": "pkg.Trigger",
            "trigger_kwargs": {"a": 1},
            "trigger_timeout": "PT1M30S",
            "next_method": "resume",
            "next_kwargs": {},
        },
        {"state": "up_for_reschedule", "reschedule_date": "2026-07-01T13:00:00Z", "end_date": END},
        {"state": "awaiting_input", "timeout": "PT10M", "next_method": "resume", "next_kwargs": {"x": 1}},
    ],
    ids=lambda b: b["state"],
)
def test_each_state_from_running(client: TestClient, queued: QueuedTI, body: dict) -> None:
    from slipstream.store.task_instances import TaskInstances

    _run(client, queued)
    response = client.patch(f"task-instances/{queued.id}/state", json=body, headers=queued.headers)
    assert response.status_code == 204, response.text
    claims = validate_task_token(queued.token)
    stored = TaskInstances().get(claims.key)
    assert stored is not None and stored["state"] == body["state"]
    if body["state"] == "up_for_retry":
        assert stored["retry_reason"] == "flaky" and float(stored["retry_delay_override"]) == 7.5
    if body["state"] == "up_for_reschedule":
        assert stored["task_reschedule_count"] == 1
        start_date = client.get(f"task-reschedules/{queued.id}/start_date", headers=queued.headers)
        assert start_date.status_code == 200 and start_date.json() is not None


def test_state_running_is_422(client: TestClient, queued: QueuedTI) -> None:
    _run(client, queued)
    response = client.patch(
        f"task-instances/{queued.id}/state",
        json={"state": "running", "end_date": END},
        headers=queued.headers,
    )
    assert response.status_code == 422


def test_state_target_payload_fails_the_ti_like_airflow(client: TestClient, queued: QueuedTI) -> None:
    _run(client, queued)
    response = client.patch(
        f"task-instances/{queued.id}/state", json={"state": "queued"}, headers=queued.headers
    )
    assert response.status_code == 204
    replay = client.patch(
        f"task-instances/{queued.id}/state", json={"state": "failed", "end_date": END}, headers=queued.headers
    )
    assert replay.status_code == 200


def test_state_on_queued_ti_is_409(client: TestClient, queued: QueuedTI) -> None:
    response = client.patch(
        f"task-instances/{queued.id}/state",
        json={"state": "success", "end_date": END},
        headers=queued.headers,
    )
    assert response.status_code == 409
    assert response.json()["detail"]["previous_state"] == "queued"


def test_state_race_exactly_one_winner(client: TestClient, queued: QueuedTI) -> None:
    _run(client, queued)
    results: list[tuple[str, int]] = []
    barrier = threading.Barrier(2)

    def report(state: str) -> None:
        barrier.wait()
        r = client.patch(
            f"task-instances/{queued.id}/state",
            json={"state": state, "end_date": END},
            headers=queued.headers,
        )
        results.append((state, r.status_code))

    threads = [threading.Thread(target=report, args=(s,)) for s in ("success", "failed")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(code for _, code in results) == [204, 409]


def test_heartbeat_rules(client: TestClient, queued: QueuedTI) -> None:
    url = f"task-instances/{queued.id}/heartbeat"
    _run(client, queued)
    assert (
        client.put(url, json={"hostname": "worker-1", "pid": 1234}, headers=queued.headers).status_code == 204
    )
    elsewhere = client.put(url, json={"hostname": "worker-2", "pid": 1234}, headers=queued.headers)
    assert elsewhere.status_code == 409
    assert elsewhere.json()["detail"] == {
        "reason": "running_elsewhere",
        "message": "TI is already running elsewhere",
        "current_hostname": "worker-1",
        "current_pid": 1234,
    }
    other_pid = client.put(url, json={"hostname": "worker-1", "pid": 1}, headers=queued.headers)
    assert other_pid.status_code == 409 and other_pid.json()["detail"]["reason"] == "running_elsewhere"
    client.patch(
        f"task-instances/{queued.id}/state", json={"state": "failed", "end_date": END}, headers=queued.headers
    )
    finished = client.put(url, json={"hostname": "worker-1", "pid": 1234}, headers=queued.headers)
    assert finished.status_code == 409
    assert finished.json()["detail"] == {
        "reason": "not_running",
        "message": "TI is no longer in the running state and task should terminate",
        "current_state": "failed",
    }
    assert "Refreshed-API-Token" not in finished.headers


def test_heartbeat_with_workload_token_is_403(client: TestClient, queued: QueuedTI) -> None:
    _run(client, queued)
    response = client.put(
        f"task-instances/{queued.id}/heartbeat",
        json={"hostname": "worker-1", "pid": 1234},
        headers=queued.workload_headers,
    )
    assert response.status_code == 403
    assert response.json() == {
        "detail": "Token type 'workload' not allowed for this endpoint. Allowed types: execution"
    }


def test_heartbeat_after_clear_is_410(client: TestClient, queued: QueuedTI) -> None:
    from slipstream.services.runs import clear

    _run(client, queued)
    clear("example", queued.item["run_id"])
    response = client.put(
        f"task-instances/{queued.id}/heartbeat",
        json={"hostname": "worker-1", "pid": 1234},
        headers=queued.headers,
    )
    assert response.status_code == 410
    assert response.json()["detail"]["reason"] == "not_found"
