"""The rest of the task-instance surface: rtif, skips, map index, lookups, fail_fast, assets, stores."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.testclient import TestClient

from slipstream.auth.tokens import TIKey
from slipstream.local.seed import queue_ti, register_dag, start_run
from slipstream.services.marking import mark_run
from slipstream.services.runs import clear
from slipstream.store.rendered_fields import RenderedFieldsStore
from slipstream.store.task_instances import TaskInstances
from tests.api.conftest import QueuedTI, start

END = "2026-07-01T12:05:00Z"


def _state(dag_id: str, run_id: str, task_id: str) -> str | None:
    item = TaskInstances().get(TIKey(dag_id, run_id, task_id))
    assert item is not None
    return item.get("state")


def test_rtif_put_overwrite_404_410(client: TestClient, queued: QueuedTI) -> None:
    url = f"task-instances/{queued.id}/rtif"
    created = client.put(url, json={"op_kwargs": "{'a': 1}", "templates_dict": None}, headers=queued.headers)
    assert created.status_code == 201
    assert created.json() == {"message": "Rendered task instance fields successfully set"}
    client.put(url, json={"bash_command": "echo " + "x" * 10_000}, headers=queued.headers)
    stored = RenderedFieldsStore().get("example", queued.item["run_id"], "hello", -1)
    assert stored is not None and set(stored) == {"bash_command"}
    assert stored["bash_command"].endswith("... (truncated)")
    clear("example", queued.item["run_id"])
    moved = client.put(url, json={"a": 1}, headers=queued.headers)
    assert moved.status_code == 410


def test_skip_downstream_leaves_running_and_finished_alone(client: TestClient, aws: None) -> None:
    register_dag("branchy", tasks=[{"task_id": t, "upstream": []} for t in ("branch", "a", "b", "c")])
    run_id = start_run("branchy")["run_id"]
    ti, workload = queue_ti("branchy", run_id, "branch")
    queue_ti("branchy", run_id, "c")
    headers = {"Authorization": f"Bearer {workload['token']}"}
    started = client.patch(
        f"task-instances/{ti['id']}/run",
        json={"state": "running", "hostname": "h", "unixname": "u", "pid": 1, "start_date": END},
        headers=headers,
    )
    headers = {"Authorization": f"Bearer {started.headers['Refreshed-API-Token']}"}
    response = client.patch(
        f"task-instances/{ti['id']}/skip-downstream",
        json={"tasks": ["a", ["b", -1], "missing"]},
        headers=headers,
    )
    assert response.status_code == 204
    assert _state("branchy", run_id, "a") == "skipped"
    assert _state("branchy", run_id, "b") == "skipped"
    assert _state("branchy", run_id, "c") == "queued"


def test_rendered_map_index(client: TestClient, queued: QueuedTI) -> None:
    url = f"task-instances/{queued.id}/rendered-map-index"
    assert client.patch(url, json="region=eu", headers=queued.headers).status_code == 204
    empty = client.patch(url, json="", headers=queued.headers)
    assert empty.status_code == 422 and empty.json() == {"detail": "rendered_map_index cannot be empty"}


def test_fail_fast_stops_the_rest_of_the_run(client: TestClient, aws: None) -> None:
    register_dag(
        "ff",
        fail_fast=True,
        tasks=[
            {"task_id": "boom", "upstream": []},
            {"task_id": "busy", "upstream": []},
            {"task_id": "waiting", "upstream": ["boom"]},
            {"task_id": "done", "upstream": []},
        ],
    )
    run_id = start_run("ff")["run_id"]
    tokens = {}
    for task_id in ("boom", "busy", "done"):
        ti, workload = queue_ti("ff", run_id, task_id)
        started = client.patch(
            f"task-instances/{ti['id']}/run",
            json={"state": "running", "hostname": "h", "unixname": "u", "pid": 1, "start_date": END},
            headers={"Authorization": f"Bearer {workload['token']}"},
        )
        tokens[task_id] = (ti["id"], {"Authorization": f"Bearer {started.headers['Refreshed-API-Token']}"})
    done_id, done_headers = tokens["done"]
    client.patch(
        f"task-instances/{done_id}/state", json={"state": "success", "end_date": END}, headers=done_headers
    )
    boom_id, boom_headers = tokens["boom"]
    failed = client.patch(
        f"task-instances/{boom_id}/state", json={"state": "failed", "end_date": END}, headers=boom_headers
    )
    assert failed.status_code == 204
    assert _state("ff", run_id, "boom") == "failed"
    assert _state("ff", run_id, "busy") == "failed"
    assert _state("ff", run_id, "waiting") == "skipped"
    assert _state("ff", run_id, "done") == "success"


def test_no_fail_fast_by_default(client: TestClient, queued: QueuedTI) -> None:
    assert start(client, queued).status_code == 200
    client.patch(
        f"task-instances/{queued.id}/state", json={"state": "failed", "end_date": END}, headers=queued.headers
    )
    # Not stopped by fail_fast (which skips); settled by the trigger rule of its failed upstream.
    assert _state("example", queued.item["run_id"], "after") == "upstream_failed"


def test_lookups_count_states_breadcrumbs_previous(client: TestClient, queued: QueuedTI) -> None:
    h = queued.headers
    run_id = queued.item["run_id"]
    assert start(client, queued).status_code == 200
    client.patch(f"task-instances/{queued.id}/state", json={"state": "success", "end_date": END}, headers=h)

    def count(**params: object) -> object:
        return client.get("task-instances/count", params={"dag_id": "example", **params}, headers=h).json()

    assert count() == 2
    assert count(states=["success"]) == 1
    assert count(states=["null", "queued"]) == 1  # the fast path queued "after"
    assert count(task_ids=["after"]) == 1
    states = client.get(
        "task-instances/states", params={"dag_id": "example", "run_ids": [run_id]}, headers=h
    ).json()
    assert states == {"task_states": {run_id: {"hello": "success", "after": "queued"}}}
    crumbs = client.get(
        "task-instances/breadcrumbs", params={"dag_id": "example", "run_id": run_id}, headers=h
    ).json()
    assert [(c["task_id"], c["state"]) for c in crumbs["breadcrumbs"]] == [("hello", "success")]
    assert crumbs["breadcrumbs"][0]["duration"] == 300.0
    unknown = client.get("task-instances/count", params={"dag_id": "nope"}, headers=h)
    assert unknown.status_code == 404
    later = start_run(run_id="later", logical_date=datetime(2026, 7, 2, tzinfo=UTC))
    previous = client.get(
        "task-instances/previous/example/hello", params={"logical_date": "2026-07-02T00:00:00Z"}, headers=h
    ).json()
    assert previous["run_id"] == run_id and previous["state"] == "success"
    assert (
        client.get(
            "task-instances/previous/example/hello",
            params={"logical_date": "2026-07-01T00:00:00Z"},
            headers=h,
        ).json()
        is None
    )
    assert later["run_id"] == "later"


def test_previous_successful_dagrun(client: TestClient, queued: QueuedTI) -> None:
    url = f"task-instances/{queued.id}/previous-successful-dagrun"
    empty = client.get(url, headers=queued.headers).json()
    assert empty == {
        "data_interval_start": None,
        "data_interval_end": None,
        "start_date": None,
        "end_date": None,
    }
    mark_run("example", queued.item["run_id"], "success")
    start_run(run_id="next", logical_date=datetime(2026, 7, 2, tzinfo=UTC))
    later_ti, workload = queue_ti("example", "next", "hello")
    got = client.get(
        f"task-instances/{later_ti['id']}/previous-successful-dagrun",
        headers={"Authorization": f"Bearer {workload['token']}"},
    )
    assert got.status_code == 403  # workload tokens are for /run only
    from slipstream.local.seed import execution_token

    got = client.get(
        f"task-instances/{later_ti['id']}/previous-successful-dagrun",
        headers={"Authorization": f"Bearer {execution_token(later_ti)}"},
    ).json()
    assert got["data_interval_start"] == "2026-07-01T12:00:00Z"
    assert got["end_date"] is not None


def test_validate_inlets_and_outlets(client: TestClient, queued: QueuedTI) -> None:
    response = client.get(f"task-instances/{queued.id}/validate-inlets-and-outlets", headers=queued.headers)
    assert response.json() == {"inactive_assets": []}


def test_success_with_outlets_records_asset_events(client: TestClient, queued: QueuedTI) -> None:
    assert start(client, queued).status_code == 200
    body = {
        "state": "success",
        "end_date": END,
        "task_outlets": [
            {"name": "orders", "uri": "s3://lake/orders", "type": "Asset"},
            {"name": "report", "uri": "s3://lake/report", "type": "Asset"},
        ],
        "outlet_events": [
            {"dest_asset_key": {"name": "orders", "uri": "s3://lake/orders"}, "extra": {"rows": 10}},
            {
                "dest_asset_key": {"name": "audit", "uri": "s3://lake/audit"},
                "extra": {},
                "source_alias_name": "audit-alias",
            },
        ],
    }
    assert (
        client.patch(f"task-instances/{queued.id}/state", json=body, headers=queued.headers).status_code
        == 204
    )
    h = queued.headers
    asset = client.get("assets/by-name", params={"name": "orders"}, headers=h).json()
    assert asset == {"name": "orders", "uri": "s3://lake/orders", "group": "asset", "extra": {}}
    assert (
        client.get("assets/by-uri", params={"uri": "s3://lake/report"}, headers=h).json()["name"] == "report"
    )
    missing = client.get("assets/by-name", params={"name": "nope"}, headers=h)
    assert (
        missing.status_code == 404 and missing.json()["detail"]["message"] == "Asset with name nope not found"
    )
    by_alias = client.get("assets/by-alias", params={"alias_name": "audit-alias"}, headers=h).json()
    assert [a["name"] for a in by_alias] == ["audit"]
    events = client.get("asset-events/by-asset", params={"name": "orders", "uri": ""}, headers=h).json()
    assert len(events["asset_events"]) == 1
    event = events["asset_events"][0]
    assert (
        event["extra"] == {"rows": 10} and event["source_task_id"] == "hello" and isinstance(event["id"], int)
    )
    alias_events = client.get("asset-events/by-asset-alias", params={"name": "audit-alias"}, headers=h).json()
    assert [e["asset"]["name"] for e in alias_events["asset_events"]] == ["audit"]
    both_empty = client.get("asset-events/by-asset", params={"name": "", "uri": ""}, headers=h)
    assert both_empty.status_code == 400


def test_two_outlet_assets_may_share_a_uri(client: TestClient, queued: QueuedTI) -> None:
    """Airflow's assets are unique by (name, uri): one transaction registers both (writing the
    uri's item once) and records an event for each."""
    assert start(client, queued).status_code == 200
    outlets = [{"name": n, "uri": "s3://lake/same", "type": "Asset"} for n in ("first", "second")]
    body = {"state": "success", "end_date": END, "task_outlets": outlets}
    response = client.patch(f"task-instances/{queued.id}/state", json=body, headers=queued.headers)
    assert response.status_code == 204, response.text
    h = queued.headers
    assert client.get("assets/by-uri", params={"uri": "s3://lake/same"}, headers=h).json()["name"] == "first"
    for name in ("first", "second"):
        events = client.get("asset-events/by-asset", params={"name": name, "uri": ""}, headers=h).json()
        assert len(events["asset_events"]) == 1, name


def test_more_asset_events_than_a_transaction_holds_are_written_once_and_only_by_the_transition(
    client: TestClient, queued: QueuedTI
) -> None:
    """150 events: the writes beyond one transaction go ahead of the transition, each batch
    checking that the TI still runs. A refused /state or a replayed one writes none of them."""
    from slipstream.store.table import Table

    def events() -> int:
        table = Table()
        pages = table.client.get_paginator("scan").paginate(
            TableName=table.name,
            FilterExpression="begins_with(SK, :event)",
            ExpressionAttributeValues={":event": {"S": "EVENT#"}},
        )
        return sum(page["Count"] for page in pages)

    outlets = [{"name": f"a{i}", "uri": f"s3://lake/a{i}", "type": "Asset"} for i in range(150)]
    body = {"state": "success", "end_date": END, "task_outlets": outlets}
    url = f"task-instances/{queued.id}/state"
    refused = client.patch(url, json=body, headers=queued.headers)  # still queued: never ran
    assert refused.status_code == 409, refused.text
    assert events() == 0
    assert start(client, queued).status_code == 200
    assert client.patch(url, json=body, headers=queued.headers).status_code == 204
    assert events() == 150
    assert client.patch(url, json=body, headers=queued.headers).status_code == 200  # a replay
    assert events() == 150


def test_dag_runs_from_a_task(client: TestClient, queued: QueuedTI) -> None:
    h = queued.headers
    run_id = queued.item["run_id"]
    detail = client.get(f"dag-runs/example/{run_id}", headers=h)
    assert detail.status_code == 200 and detail.json()["run_id"] == run_id
    # started at once: the DAG had a free max_active_runs slot
    assert client.get(f"dag-runs/example/{run_id}/state", headers=h).json() == {"state": "running"}
    missing = client.get("dag-runs/example/nope", headers=h)
    assert (
        missing.json()["detail"]["message"] == "Dag run with dag_id 'example' and run_id 'nope' was not found"
    )
    triggered = client.post("dag-runs/example/by-operator", json={"conf": {"x": 1}}, headers=h)
    assert triggered.status_code == 204
    again = client.post("dag-runs/example/by-operator", json={"conf": {}}, headers=h)
    assert again.status_code == 409 and again.json()["detail"]["reason"] == "already_exists"
    unknown_dag = client.post("dag-runs/nope/r", json={}, headers=h)
    assert unknown_dag.status_code == 404
    assert unknown_dag.json()["detail"]["message"] == "Dag with dag_id: 'nope' not found"
    assert client.get("dag-runs/count", params={"dag_id": "example"}, headers=h).json() == 2
    assert (
        client.get("dag-runs/count", params={"dag_id": "example", "run_ids": [run_id]}, headers=h).json() == 1
    )
    assert client.post(f"dag-runs/example/{run_id}/clear", headers=h).status_code == 204
    assert client.get(f"dag-runs/example/{run_id}", headers=h).json()["clear_number"] == 1
    previous = client.get(
        "dag-runs/previous", params={"dag_id": "example", "logical_date": "2026-08-01T00:00:00Z"}, headers=h
    )
    assert previous.json()["run_id"] == run_id
    dag = client.get("dags/example", headers=h).json()
    assert (
        dag["dag_id"] == "example" and dag["is_paused"] is False and dag["relative_fileloc"] == "example.py"
    )
    assert client.get("dags/nope", headers=h).status_code == 404


def test_task_state_store(client: TestClient, queued: QueuedTI) -> None:
    h = queued.headers
    base = f"store/ti/{queued.id}"
    assert client.put(f"{base}/cursor%2Fa", json={"value": {"page": 3}}, headers=h).status_code == 204
    assert client.get(f"{base}/cursor%2Fa", headers=h).json() == {"value": {"page": 3}}
    assert client.put(f"{base}/k", json={"value": None}, headers=h).status_code == 422
    missing = client.get(f"{base}/nope", headers=h)
    assert missing.json()["detail"]["message"] == "Task state store key 'nope' not found"
    assert client.delete(f"{base}/cursor%2Fa", headers=h).status_code == 204
    assert client.get(f"{base}/cursor%2Fa", headers=h).status_code == 404
    client.put(f"{base}/a", json={"value": 1}, headers=h)
    assert client.delete(base, headers=h).status_code == 204
    assert client.get(f"{base}/a", headers=h).status_code == 404


def test_asset_state_store(client: TestClient, queued: QueuedTI) -> None:
    h = queued.headers
    missing_asset = client.get("store/asset/by-name/value", params={"name": "lake", "key": "k"}, headers=h)
    assert missing_asset.status_code == 404
    assert start(client, queued).status_code == 200
    client.patch(
        f"task-instances/{queued.id}/state",
        json={
            "state": "success",
            "end_date": END,
            "task_outlets": [{"name": "lake", "uri": "s3://lake", "type": "Asset"}],
        },
        headers=h,
    )
    params = {"name": "lake", "key": "watermark"}
    assert (
        client.put("store/asset/by-name/value", params=params, json={"value": 5}, headers=h).status_code
        == 204
    )
    assert client.get(
        "store/asset/by-uri/value", params={"uri": "s3://lake", "key": "watermark"}, headers=h
    ).json() == {"value": 5}
    assert client.delete("store/asset/by-name/clear", params={"name": "lake"}, headers=h).status_code == 204
    assert client.get("store/asset/by-name/value", params=params, headers=h).status_code == 404
