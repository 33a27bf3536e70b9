"""Triggering, listing, marking, clearing and deleting dag runs."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from slipstream.local.seed import start_run
from slipstream.store.dag_runs import DagRuns
from tests.management.conftest import document, set_run, set_ti, states


def test_trigger_creates_a_manual_run(client: TestClient, pipeline: dict[str, Any]) -> None:
    response = client.post(
        "dags/pipeline/dagRuns",
        json={
            "dag_run_id": "mine",
            "logical_date": "2026-07-02T00:00:00+02:00",
            "conf": {"x": 1},
            "note": "n",
        },
    )
    assert response.status_code == 200, response.text
    run = response.json()
    assert {k: run[k] for k in ("dag_id", "dag_run_id", "run_type", "conf", "note", "clear_number")} == {
        "dag_id": "pipeline",
        "dag_run_id": "mine",
        "run_type": "manual",
        "conf": {"x": 1},
        "note": "n",
        "clear_number": 0,
    }
    assert (
        run["logical_date"]
        == run["data_interval_start"]
        == run["data_interval_end"]
        == "2026-07-01T22:00:00Z"
    )
    assert run["state"] in ("queued", "running")  # running once the scheduler's fast path started it
    assert run["triggering_user_name"] == "ops@example.com"
    assert set(run) >= {"run_after", "start_date", "end_date", "queued_at", "duration"}
    assert client.get("dags/pipeline/dagRuns/mine").json()["dag_run_id"] == "mine"


def test_trigger_without_a_logical_date_or_id(client: TestClient, pipeline: dict[str, Any]) -> None:
    run = client.post("dags/pipeline/dagRuns", json={}).json()
    assert run["logical_date"] is None
    assert run["dag_run_id"].startswith("manual__")


def test_trigger_errors(client: TestClient, pipeline: dict[str, Any]) -> None:
    unknown = client.post("dags/nope/dagRuns", json={})
    assert unknown.status_code == 404 and unknown.json()["detail"]["reason"] == "not_found"
    duplicate = client.post("dags/pipeline/dagRuns", json={"dag_run_id": "run-1"})
    assert duplicate.status_code == 409 and duplicate.json()["detail"]["reason"] == "already_exists"
    bad_id = client.post("dags/pipeline/dagRuns", json={"dag_run_id": "a/b"})
    assert bad_id.status_code == 422 and bad_id.json()["detail"][0]["loc"] == ["body", "dag_run_id"]
    naive = client.post("dags/pipeline/dagRuns", json={"logical_date": "2026-07-01T00:00:00"})
    assert naive.status_code == 422 and naive.json()["detail"][0]["loc"] == ["body", "logical_date"]


def test_a_paused_dag_can_be_triggered_and_its_run_waits(client: TestClient) -> None:
    client.post("dags", json=document(is_paused=True))
    run = client.post("dags/example/dagRuns", json={"dag_run_id": "r"}).json()
    assert run["state"] == "queued"
    assert states(client, "r", "example") == {"hello": None}


def test_list_newest_first_with_filters_and_pages(client: TestClient, pipeline: dict[str, Any]) -> None:
    from datetime import UTC, datetime

    start_run("pipeline", "run-2", logical_date=datetime(2026, 7, 2, tzinfo=UTC))
    start_run("pipeline", "run-0", logical_date=datetime(2026, 6, 30, tzinfo=UTC))
    set_run("run-2", "failed")
    listed = client.get("dags/pipeline/dagRuns").json()
    assert [r["dag_run_id"] for r in listed["dag_runs"]] == ["run-2", "run-1", "run-0"]
    assert listed["total_entries"] == 3
    failed = client.get("dags/pipeline/dagRuns", params={"state": "failed"}).json()
    assert [r["dag_run_id"] for r in failed["dag_runs"]] == ["run-2"]
    page = client.get("dags/pipeline/dagRuns", params={"limit": 1, "offset": 1}).json()
    assert ([r["dag_run_id"] for r in page["dag_runs"]], page["total_entries"]) == (["run-1"], 3)
    assert client.get("dags/pipeline/dagRuns", params={"state": "bogus"}).status_code == 422
    assert client.get("dags/nope/dagRuns").status_code == 404
    assert client.get("dags/pipeline/dagRuns/nope").status_code == 404


def test_mark_failed_fails_running_and_skips_unfinished(client: TestClient, pipeline: dict[str, Any]) -> None:
    set_run("run-1", "running")
    set_ti("run-1", "extract", state="success")
    set_ti("run-1", "transform", state="running")
    set_ti("run-1", "report", state="queued")
    response = client.patch("dags/pipeline/dagRuns/run-1", json={"state": "failed"})
    assert response.status_code == 200, response.text
    assert response.json()["state"] == "failed" and response.json()["end_date"] is not None
    assert states(client, "run-1") == {
        "extract": "success",
        "transform": "failed",
        "load": "skipped",
        "report": "skipped",
    }


def test_mark_success_and_queued(client: TestClient, pipeline: dict[str, Any]) -> None:
    set_ti("run-1", "extract", state="failed")
    done = client.patch("dags/pipeline/dagRuns/run-1", json={"state": "success"}).json()
    assert done["state"] == "success"
    assert set(states(client, "run-1").values()) == {"success"}
    client.patch("dags/pipeline", json={"is_paused": True})  # else the scheduler finishes it at once
    again = client.patch("dags/pipeline/dagRuns/run-1", json={"state": "queued"}).json()
    assert (again["state"], again["end_date"]) == ("queued", None)
    assert set(states(client, "run-1").values()) == {"success"}


def test_mark_releases_the_schedulers_slot(client: TestClient, pipeline: dict[str, Any]) -> None:
    from slipstream.store.dags import Dags
    from slipstream.store.table import Table
    from slipstream.store.table import values as _values

    Table().update("DAG#pipeline", "DAG", "ADD active_runs :r", values=_values(r={"run-1"}))
    client.patch("dags/pipeline/dagRuns/run-1", json={"state": "failed"})
    assert "active_runs" not in Dags().get("pipeline", consistent=True)


def test_mark_errors(client: TestClient, pipeline: dict[str, Any]) -> None:
    running = client.patch("dags/pipeline/dagRuns/run-1", json={"state": "running"})
    assert running.status_code == 422 and running.json()["detail"][0]["loc"] == ["body", "state"]
    assert client.patch("dags/pipeline/dagRuns/nope", json={"state": "failed"}).status_code == 404
    assert client.patch("dags/nope/dagRuns/run-1", json={"state": "failed"}).status_code == 404


def test_delete_a_run(client: TestClient, pipeline: dict[str, Any]) -> None:
    assert client.delete("dags/pipeline/dagRuns/run-1").status_code == 204
    assert client.get("dags/pipeline/dagRuns/run-1").status_code == 404
    assert DagRuns().table.query("RUN#pipeline#run-1") == []
    assert client.delete("dags/pipeline/dagRuns/run-1").status_code == 404


def test_clear_a_run(client: TestClient, pipeline: dict[str, Any]) -> None:
    set_run("run-1", "failed")
    set_ti("run-1", "extract", state="success", try_number=1)
    set_ti("run-1", "transform", state="failed", try_number=1)
    set_ti("run-1", "load", state="upstream_failed")
    set_ti("run-1", "report", state="success", try_number=1)

    dry = client.post("dags/pipeline/dagRuns/run-1/clear", json={"dry_run": True, "only_failed": True}).json()
    assert [ti["task_id"] for ti in dry["task_instances"]] == ["load", "transform"]
    assert states(client, "run-1")["transform"] == "failed"

    cleared = client.post("dags/pipeline/dagRuns/run-1/clear", json={"only_failed": True}).json()
    assert cleared["total_entries"] == 2
    assert states(client, "run-1")["extract"] == "success"
    assert client.get("dags/pipeline/dagRuns/run-1").json()["clear_number"] == 1

    everything = client.post("dags/pipeline/dagRuns/run-1/clear", json={}).json()
    assert everything["total_entries"] == 4
    assert client.post("dags/pipeline/dagRuns/nope/clear", json={}).status_code == 404


def test_clear_only_failed_with_nothing_failed_changes_nothing(
    client: TestClient, pipeline: dict[str, Any]
) -> None:
    set_run("run-1", "success")
    response = client.post("dags/pipeline/dagRuns/run-1/clear", json={"only_failed": True})
    assert response.json() == {"task_instances": [], "total_entries": 0}
    assert client.get("dags/pipeline/dagRuns/run-1").json()["state"] == "success"
