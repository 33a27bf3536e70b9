"""Registering, listing, pausing and deleting DAGs; the document's checks answer 422 naming the field."""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.testclient import TestClient

from slipstream.local.seed import start_run
from slipstream.store.dag_runs import DagRuns
from slipstream.store.dags import Dags
from tests.management.conftest import PIPELINE, document, set_run, set_ti


def test_register_fills_in_defaults_and_returns_the_dag(client: TestClient) -> None:
    response = client.post(
        "dags", json=document(tags=["etl"], schedule={"cron": "0 * * * *"}, start_date="2026-07-01T00:00:00Z")
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["dag_id"] == "example"
    assert body["is_paused"] is False
    assert body["tags"] == [{"name": "etl", "dag_id": "example"}]
    assert body["timetable_summary"] == "0 * * * *"
    assert (body["max_active_runs"], body["max_active_tasks"], body["catchup"]) == (16, 16, False)
    stored = Dags().get_document("example")
    assert stored["schema_version"] == 1 and stored["bundle_name"] == "dags-folder"
    assert stored["tasks"] == [
        {
            "task_id": "hello",
            "upstream": [],
            "trigger_rule": "all_success",
            "retries": 0,
            "retry_delay": 300.0,
            "retry_exponential_backoff": False,
            "max_retry_delay": None,
            "execution_timeout": None,
            "queue": "default",
            "operator": "BaseOperator",
            "outlets": [],
        }
    ]


def test_reregistering_replaces_the_document_and_keeps_pause_state(client: TestClient) -> None:
    first = client.post("dags", json=document(is_paused=True)).json()
    same = client.post("dags", json=document()).json()
    assert same["is_paused"] is True
    assert same["dag_version_id"] == first["dag_version_id"]
    changed = client.post("dags", json=document(tasks=[{"task_id": "bye"}])).json()
    assert changed["dag_version_id"] != first["dag_version_id"]
    assert changed["is_paused"] is True
    assert [t["task_id"] for t in Dags().get_document("example")["tasks"]] == ["bye"]


def test_list_get_pause_and_filter(client: TestClient) -> None:
    for dag_id in ("b", "a", "c"):
        client.post("dags", json=document(dag_id))
    listed = client.get("dags").json()
    assert [d["dag_id"] for d in listed["dags"]] == ["a", "b", "c"]
    assert listed["total_entries"] == 3
    paused = client.patch("dags/b", json={"is_paused": True})
    assert paused.status_code == 200 and paused.json()["is_paused"] is True
    assert client.get("dags/b").json()["is_paused"] is True
    assert [d["dag_id"] for d in client.get("dags", params={"paused": "true"}).json()["dags"]] == ["b"]
    page = client.get("dags", params={"limit": 1, "offset": 1}).json()
    assert ([d["dag_id"] for d in page["dags"]], page["total_entries"]) == (["b"], 3)


def test_unknown_dag_is_404(client: TestClient) -> None:
    for response in (
        client.get("dags/nope"),
        client.patch("dags/nope", json={"is_paused": True}),
        client.delete("dags/nope"),
    ):
        assert response.status_code == 404
        assert response.json()["detail"]["reason"] == "not_found"


def test_delete_removes_the_dag_and_its_runs(client: TestClient) -> None:
    client.post("dags", json=document("pipeline", PIPELINE))
    start_run("pipeline", "r1")
    assert client.delete("dags/pipeline").status_code == 204
    assert client.get("dags/pipeline").status_code == 404
    assert DagRuns().with_task_instances("pipeline", "r1") == (None, [])


def test_delete_is_refused_while_a_task_runs(client: TestClient) -> None:
    client.post("dags", json=document("pipeline", PIPELINE))
    start_run("pipeline", "r1")
    set_ti("r1", "extract", state="running")
    set_run("r1", "running")
    response = client.delete("dags/pipeline")
    assert response.status_code == 409
    assert response.json()["detail"] == {
        "reason": "conflict",
        "message": "Task instances of dag with id: 'pipeline' are still running",
    }
    assert client.get("dags/pipeline").status_code == 200


def _error(response: Any) -> tuple[list[Any], str]:
    assert response.status_code == 422, response.text
    (error,) = response.json()["detail"]
    return error["loc"], error["msg"]


@pytest.mark.parametrize(
    ("overrides", "loc", "message"),
    [
        ({"dag_id": "bad id!"}, ["body", "dag_id"], "String should match pattern"),
        ({"dag_id": "x" * 251}, ["body", "dag_id"], "at most 250 characters"),
        (
            {"tasks": [{"task_id": "a"}, {"task_id": "a"}]},
            ["body", "tasks"],
            "duplicate task_id 'a'",
        ),
        (
            {"tasks": [{"task_id": "a", "upstream": ["ghost"]}]},
            ["body", "tasks"],
            "task 'a' has unknown upstream tasks ['ghost']",
        ),
        (
            {"tasks": [{"task_id": "a", "upstream": ["b"]}, {"task_id": "b", "upstream": ["a"]}]},
            ["body", "tasks"],
            "tasks form a cycle",
        ),
        ({"tasks": [{"task_id": "a", "upstream": ["a"]}]}, ["body", "tasks"], "tasks form a cycle: a -> a"),
        ({"tasks": [{"task_id": "a/b"}]}, ["body", "tasks", 0, "task_id"], "String should match pattern"),
        ({"schedule": {"cron": "every day"}}, ["body", "schedule", "cron", "cron"], "not a cron"),
        ({"owner": "me"}, ["body", "owner"], "Extra inputs are not permitted"),
    ],
)
def test_invalid_documents_are_422_naming_the_field(
    client: TestClient, overrides: dict[str, Any], loc: list[Any], message: str
) -> None:
    got_loc, got_message = _error(client.post("dags", json={**document(), **overrides}))
    assert got_loc == loc
    assert message in got_message


def test_missing_required_fields_are_named(client: TestClient) -> None:
    response = client.post("dags", json={"dag_id": "x"})
    assert response.status_code == 422
    assert sorted(tuple(e["loc"]) for e in response.json()["detail"]) == [
        ("body", "fileloc"),
        ("body", "tasks"),
    ]


def test_a_serialized_document_registers_unchanged(client: TestClient) -> None:
    full = {
        "schema_version": 1,
        "dag_id": "full",
        "fileloc": "full.py",
        "bundle_name": "dags-folder",
        "fail_fast": True,
        "max_active_runs": 1,
        "max_active_tasks": 4,
        "schedule": {"interval_seconds": 3600},
        "start_date": "2026-07-01T00:00:00Z",
        "catchup": False,
        "params": {"n": 1},
        "tags": [],
        "tasks": [
            {
                "task_id": "t",
                "upstream": [],
                "trigger_rule": "all_done",
                "retries": 1,
                "retry_delay": 10.0,
                "retry_exponential_backoff": True,
                "max_retry_delay": 60.0,
                "execution_timeout": 30.0,
                "queue": "gpu",
                "operator": "@task",
                "outlets": [{"name": "a", "uri": "s3://b/a"}],
            }
        ],
    }
    response = client.post("dags", json=full)
    assert response.status_code == 201, response.text
    assert response.json()["timetable_summary"] == "1:00:00"
    assert Dags().get_document("full") == full
    assert json.loads(Dags().get("full")["document"]) == full
