"""Task instances of a run: listing, tries, clearing with relatives, and logs from S3."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from starlette.testclient import TestClient

from slipstream.core.settings import get_settings
from slipstream.management_api import task_logs
from slipstream.store import keys
from slipstream.store.dag_runs import DagRuns
from slipstream.store.table import Table
from tests.management.conftest import set_ti, states

TIS = "dags/pipeline/dagRuns/run-1/taskInstances"


def test_list_and_get(client: TestClient, pipeline: dict[str, Any]) -> None:
    set_ti(
        "run-1",
        "extract",
        state="success",
        try_number=1,
        hostname="w1",
        pid=7,
        start_date="2026-07-01T12:00:00.000000Z",
        end_date="2026-07-01T12:00:02.500000Z",
    )
    listed = client.get(TIS).json()
    assert [ti["task_id"] for ti in listed["task_instances"]] == ["extract", "load", "report", "transform"]
    assert listed["total_entries"] == 4
    ti = client.get(f"{TIS}/extract").json()
    assert {
        k: ti[k] for k in ("state", "try_number", "max_tries", "hostname", "pid", "duration", "map_index")
    } == {
        "state": "success",
        "try_number": 1,
        "max_tries": 0,
        "hostname": "w1",
        "pid": 7,
        "duration": 2.5,
        "map_index": -1,
    }
    assert (ti["queue"], ti["operator"], ti["dag_run_id"]) == ("default", "BaseOperator", "run-1")
    assert client.get(f"{TIS}/transform").json()["max_tries"] == 2
    page = client.get(TIS, params={"limit": 2, "offset": 2}).json()
    assert [t["task_id"] for t in page["task_instances"]] == ["report", "transform"]


def test_unknown_task_instance_or_run_is_404(client: TestClient, pipeline: dict[str, Any]) -> None:
    assert client.get(f"{TIS}/ghost").status_code == 404
    assert client.get(f"{TIS}/extract", params={"map_index": 3}).status_code == 404
    assert client.get(f"{TIS}/ghost/tries").status_code == 404
    assert client.get("dags/pipeline/dagRuns/nope/taskInstances").status_code == 404


def test_tries_list_archived_and_live_tries(client: TestClient, pipeline: dict[str, Any]) -> None:
    _, tis = DagRuns().with_task_instances("pipeline", "run-1")
    live = next(ti for ti in tis if ti["task_id"] == "transform")
    archived = {**live, "SK": keys.try_sk("transform", -1, 1), "id": "0197c39f-0000-7000-8000-000000000001"}
    Table().put({**archived, "try_number": 1, "state": "failed"})
    set_ti("run-1", "transform", state="running", try_number=2)
    tries = client.get(f"{TIS}/transform/tries").json()
    assert [(t["try_number"], t["state"]) for t in tries["task_instances"]] == [(1, "failed"), (2, "running")]
    assert tries["total_entries"] == 2


def test_clear_task_instances_with_downstream(client: TestClient, pipeline: dict[str, Any]) -> None:
    for task_id in ("extract", "transform", "load", "report"):
        set_ti("run-1", task_id, state="success", try_number=1)
    body = {"dag_run_id": "run-1", "task_ids": ["transform"], "include_downstream": True}
    dry = client.post("dags/pipeline/clearTaskInstances", json={**body, "dry_run": True}).json()
    assert [ti["task_id"] for ti in dry["task_instances"]] == ["load", "transform"]
    assert set(states(client, "run-1").values()) == {"success"}

    cleared = client.post("dags/pipeline/clearTaskInstances", json=body)
    assert cleared.status_code == 200, cleared.text
    assert [ti["task_id"] for ti in cleared.json()["task_instances"]] == ["load", "transform"]
    after = states(client, "run-1")
    assert (after["extract"], after["report"]) == ("success", "success")
    assert after["load"] is None and after["transform"] in (None, "queued")


def test_clear_task_instances_upstream_and_errors(client: TestClient, pipeline: dict[str, Any]) -> None:
    body = {"dag_run_id": "run-1", "task_ids": ["load"], "include_upstream": True, "dry_run": True}
    dry = client.post("dags/pipeline/clearTaskInstances", json=body).json()
    assert [ti["task_id"] for ti in dry["task_instances"]] == ["extract", "load", "transform"]

    unknown = client.post(
        "dags/pipeline/clearTaskInstances", json={"dag_run_id": "run-1", "task_ids": ["ghost"]}
    )
    assert unknown.status_code == 422
    assert unknown.json()["detail"][0]["loc"] == ["body", "task_ids"]
    assert "ghost" in unknown.json()["detail"][0]["msg"]
    empty = client.post("dags/pipeline/clearTaskInstances", json={"dag_run_id": "run-1", "task_ids": []})
    assert empty.status_code == 422 and empty.json()["detail"][0]["loc"] == ["body", "task_ids"]
    no_run = client.post(
        "dags/pipeline/clearTaskInstances", json={"dag_run_id": "nope", "task_ids": ["load"]}
    )
    assert no_run.status_code == 404
    no_dag = client.post("dags/nope/clearTaskInstances", json={"dag_run_id": "run-1", "task_ids": ["load"]})
    assert no_dag.status_code == 404


def _put_log(key: str, text: str) -> None:
    boto3.client("s3").put_object(Bucket=get_settings().bucket_name, Key=key, Body=text.encode())


def test_logs_are_read_from_s3(client: TestClient, pipeline: dict[str, Any]) -> None:
    base = "logs/dag_id=pipeline/run_id=run-1/task_id=extract"
    _put_log(f"{base}/map_index=-1/attempt=2.log", '{"event": "hello"}\n')
    _put_log(f"{base}/map_index=3/attempt=1.log", "mapped\n")
    assert client.get(f"{TIS}/extract/logs/2").json() == {
        "content": '{"event": "hello"}\n',
        "try_number": 2,
        "truncated": False,
    }
    assert client.get(f"{TIS}/extract/logs/1", params={"map_index": 3}).json()["content"] == "mapped\n"
    missing = client.get(f"{TIS}/extract/logs/1")
    assert missing.status_code == 404 and missing.json()["detail"]["reason"] == "not_found"
    assert client.get(f"{TIS}/extract/logs/0").status_code == 422


def test_a_large_log_is_sent_from_its_end(
    client: TestClient, pipeline: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(task_logs, "MAX_BYTES", 10)
    _put_log(
        "logs/dag_id=pipeline/run_id=run-1/task_id=extract/map_index=-1/attempt=1.log", "0123456789abcdef"
    )
    assert client.get(f"{TIS}/extract/logs/1").json() == {
        "content": "6789abcdef",
        "try_number": 1,
        "truncated": True,
    }
    _put_log("logs/dag_id=pipeline/run_id=run-1/task_id=extract/map_index=-1/attempt=2.log", "")
    assert client.get(f"{TIS}/extract/logs/2").json()["content"] == ""
