"""Airflow's own client class is the judge: a task's basic sequence, a retry and a failure."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from slipstream.auth.tokens import TIKey
from slipstream.local.seed import queue_ti, register_dag, start_run
from slipstream.store import keys
from slipstream.store.connections import Connections
from slipstream.store.table import Table
from slipstream.store.task_instances import TaskInstances
from slipstream.store.variables import Variables
from slipstream.store.xcoms import XComs
from tests.airflow.conftest import airflow_python

pytestmark = pytest.mark.airflow
SCENARIOS = Path(__file__).with_name("client_scenarios.py")


def _queued(dag_id: str, retries: int) -> dict[str, str]:
    register_dag(dag_id, tasks=[{"task_id": "work", "upstream": [], "retries": retries}])
    run = start_run(dag_id)
    ti, workload = queue_ti(dag_id, run["run_id"], "work")
    return {
        "ti_id": ti["id"],
        "token": workload["token"],
        "dag_id": dag_id,
        "run_id": run["run_id"],
        "task_id": "work",
    }


def test_airflow_client_drives_a_task_through_slipstream(live_api: str, tmp_path: Path) -> None:
    Variables().put("greeting", "hello", None)
    Connections().put(
        "warehouse",
        {
            "conn_type": "postgres",
            "host": "db.internal",
            "schema": "analytics",
            "login": "etl",
            "password": "s3cret",
            "port": 5432,
            "extra": {"sslmode": "require"},
        },
    )
    spec = {
        "base_url": live_api,
        "basic": _queued("basic", 0),
        "retry": _queued("retried", 2),
        "fail": _queued("failing", 0),
        "output": str(tmp_path / "seen.json"),
    }
    completed = subprocess.run(
        [airflow_python(), str(SCENARIOS)],
        input=json.dumps(spec),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    seen = json.loads((tmp_path / "seen.json").read_text())

    basic = spec["basic"]
    assert seen["basic_context"]["dag_run"]["run_id"] == basic["run_id"]
    assert seen["basic_context"]["should_retry"] is False
    assert seen["basic_token_swapped"] is True
    assert seen["xcom_get"] == {"answer": 42, "list": [1, 2.5, "x"]}
    assert seen["xcom_missing"] is None
    assert seen["xcom_count"] == 1
    assert seen["variable"] == "hello"
    assert seen["variable_missing"] is True
    assert seen["variable_written"] == "yes"
    assert seen["variable_keys"] == ["written/by/airflow"]
    assert seen["connection"] == {
        "conn_id": "warehouse",
        "conn_type": "postgres",
        "host": "db.internal",
        "schema": "analytics",
        "login": "etl",
        "password": "s3cret",
        "port": 5432,
        "extra": '{"sslmode": "require"}',
    }
    assert seen["connection_missing"] is True
    assert seen["second_start"] == "TaskAlreadyRunningError"
    assert seen["heartbeat_after_success"][0] == 409
    assert seen["heartbeat_after_success"][1]["reason"] == "not_running"

    def state(ti: dict[str, str]) -> str | None:
        item = TaskInstances().get(TIKey(ti["dag_id"], ti["run_id"], ti["task_id"]))
        assert item is not None
        return item.get("state")

    assert state(basic) == "success"
    assert XComs().get(basic["dag_id"], basic["run_id"], "work", "return_value", -1) is not None
    assert seen["retry_should_retry"] is True
    # The retried try is archived under its id; the live TI already waits, queued, for try 2.
    assert state(spec["retry"]) == "queued"
    retry = spec["retry"]
    history = Table().query(keys.run_pk(retry["dag_id"], retry["run_id"]), prefix=keys.TRY_PREFIX)
    assert [(h["id"], h["state"], h["retry_reason"]) for h in history] == [
        (retry["ti_id"], "up_for_retry", "flaky")
    ]
    assert seen["fail_should_retry"] is False
    assert state(spec["fail"]) == "failed"
