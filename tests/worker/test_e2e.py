"""The Supervisor against the real Execution API (uvicorn in a thread, DynamoDB on moto)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from slipstream.worker.client import Client
from slipstream.worker.settings import get_settings
from slipstream.worker.supervisor import supervise
from tests.worker.conftest import queue, register

pytestmark = pytest.mark.e2e


def test_a_noop_task_costs_two_api_calls(live_api: str, dags_folder: Path) -> None:
    run_id = register(dags_folder, "misbehave.py")
    _, workload = queue("misbehave", run_id, "noop")
    outcome = supervise(workload)
    assert outcome.state == "success"
    assert outcome.exit_code == 0
    assert outcome.http_calls == {"run": 1, "state": 1}


def test_taskflow_xcoms_flow_through_the_api(live_api: str, dags_folder: Path) -> None:
    from slipstream.local.seed import execution_token

    run_id = register(dags_folder, "taskflow.py")
    for task_id in ("extract", "split", "load"):
        ti, workload = queue("taskflow", run_id, task_id)
        outcome = supervise(workload)
        assert outcome.state == "success", task_id
    client = Client(get_settings(), execution_token(ti))
    assert client.get_xcom("taskflow", run_id, "load", "return_value").value == {
        "keys": ["a", "b"],
        "scaled": 6,
    }
    client.close()


def test_a_runner_that_dies_is_reported_by_the_supervisor(live_api: str, dags_folder: Path) -> None:
    run_id = register(dags_folder, "misbehave.py")
    _, workload = queue("misbehave", run_id, "killed")
    outcome = supervise(workload)
    assert outcome.exit_code == -9
    assert outcome.state == "failed"  # retries=0: the server said should_retry=false
    assert outcome.http_calls == {"run": 1, "state": 1}


def test_a_second_run_call_is_refused(live_api: str, dags_folder: Path) -> None:
    from slipstream.worker.client import ServerResponseError

    run_id = register(dags_folder, "misbehave.py")
    _, workload = queue("misbehave", run_id, "noop")
    supervise(workload)
    answered: list[bool] = []
    with pytest.raises(ServerResponseError) as refused:
        supervise(workload, on_run_answered=lambda: answered.append(True))
    assert refused.value.status_code == 409
    assert answered == [True]  # the worker may delete the message


def test_the_worker_runs_queued_workloads_and_stops_on_sigterm(
    live_api: str, dags_folder: Path, tmp_path: Path
) -> None:
    import json
    import os
    import signal
    import subprocess
    import sys

    import boto3
    from moto.server import ThreadedMotoServer

    from slipstream.store.dag_runs import DagRuns

    moto = ThreadedMotoServer(port=0, verbose=False)
    moto.start()
    endpoint = f"http://127.0.0.1:{moto.get_host_and_port()[1]}"
    try:
        queue_url = boto3.client("sqs", endpoint_url=endpoint).create_queue(QueueName="tasks")["QueueUrl"]
        run_id = register(dags_folder, "misbehave.py")
        _, workload = queue("misbehave", run_id, "noop")
        boto3.client("sqs", endpoint_url=endpoint).send_message(
            QueueUrl=queue_url, MessageBody=workload.model_dump_json()
        )
        env = os.environ | {"AWS_ENDPOINT_URL": endpoint, "SLIPSTREAM_WORKER_GRACE": "5"}
        worker = subprocess.Popen(
            [sys.executable, "-m", "slipstream.cli", "worker", "--queue", "tasks", "--parallelism", "2"],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 30
        state = None
        while time.monotonic() < deadline and state != "success":
            time.sleep(0.2)
            _, tis = DagRuns().with_task_instances("misbehave", run_id)
            state = next(t for t in tis if t["task_id"] == "noop").get("state")
        worker.send_signal(signal.SIGTERM)
        out, _ = worker.communicate(timeout=30)
        assert state == "success"
        assert worker.returncode == 0
        attributes = boto3.client("sqs", endpoint_url=endpoint).get_queue_attributes(
            QueueUrl=queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        assert attributes == {
            "ApproximateNumberOfMessages": "0",
            "ApproximateNumberOfMessagesNotVisible": "0",
        }
        events = [json.loads(line)["event"] for line in out.splitlines() if line.startswith("{")]
        assert "Try finished" in events
        assert events[-1] == "Worker stopped"
    finally:
        moto.stop()
