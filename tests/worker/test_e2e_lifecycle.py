"""The worker against the real API through a try's hard cases: megabytes of output, a clear while
running, a task outliving its token several times over, SIGTERM mid-task, logs shipped to S3."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from slipstream.auth.tokens import TIKey
from slipstream.local.moto import moto_server
from slipstream.store import keys
from slipstream.store.table import Table
from slipstream.store.task_instances import TaskInstances
from slipstream.store.xcoms import XComs
from slipstream.worker.settings import get_settings
from slipstream.worker.supervisor import supervise
from tests.support import env
from tests.worker.conftest import queue, register

pytestmark = pytest.mark.e2e


def _state(run_id: str, task_id: str) -> str | None:
    item = TaskInstances().get(TIKey("misbehave", run_id, task_id))
    assert item is not None
    return item.get("state")


def test_megabytes_of_output_keep_the_xcom_intact(live_api: str, dags_folder: Path) -> None:
    run_id = register(dags_folder, "misbehave.py")
    _, workload = queue("misbehave", run_id, "chatty")
    outcome = supervise(workload)
    assert outcome.state == "success"
    stored = XComs().get("misbehave", run_id, "chatty", "return_value", -1)
    assert stored is not None and XComs.encoded_value(stored) == '"still talking"'
    log = next(Path(get_settings().worker_log_dir).rglob("*.log")).read_text()
    assert log.count("x" * 1023) >= 2 * 4 * 1024  # every stdout and stderr line, in the task log


def test_a_ti_cleared_while_running_is_stopped_within_two_heartbeats(
    live_api: str, dags_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from slipstream.services.runs import clear

    monkeypatch.setenv("SLIPSTREAM_HEARTBEAT_INTERVAL", "1")
    monkeypatch.setenv("SLIPSTREAM_KILL_GRACE", "1")
    get_settings.cache_clear()
    run_id = register(dags_folder, "misbehave.py")
    _, workload = queue("misbehave", run_id, "sleepy")
    result: list[object] = []
    worker = threading.Thread(target=lambda: result.append(supervise(workload)))
    worker.start()
    while _state(run_id, "sleepy") != "running":
        time.sleep(0.05)
    cleared_at = time.monotonic()
    clear("misbehave", run_id, task_ids={"sleepy"})
    worker.join(timeout=30)
    stopped_after = time.monotonic() - cleared_at
    [outcome] = result
    assert outcome.state is None  # the server stopped the try: nothing is reported for it
    assert stopped_after < 2 * 1 + 1 + 1  # two heartbeats, the kill grace, and slack


def test_a_task_outliving_its_token_three_times_succeeds(
    live_api: str, dags_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLIPSTREAM_HEARTBEAT_INTERVAL", "1")
    get_settings.cache_clear()
    with env(SLIPSTREAM_EXECUTION_TOKEN_TTL="3", SLIPSTREAM_JWT_LEEWAY="0"):
        run_id = register(dags_folder, "misbehave.py")
        _, workload = queue("misbehave", run_id, "nap")
        outcome = supervise(workload)
    assert outcome.state == "success"
    assert outcome.duration >= 9
    assert outcome.http_calls["heartbeat"] >= 6


@pytest.fixture
def worker_env(live_api: str, tmp_path: Path) -> Iterator[tuple[dict[str, str], str]]:
    """A moto server for the worker's SQS and S3 (the API keeps its own in-process moto)."""
    saved = {k: os.environ.get(k) for k in ("AWS_ENDPOINT_URL",)}
    with moto_server() as endpoint:
        os.environ.pop("AWS_ENDPOINT_URL", None)
        sqs = boto3.client("sqs", endpoint_url=endpoint)
        url = sqs.create_queue(QueueName="tasks")["QueueUrl"]
        boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket="worker-logs")
        yield (
            {
                **os.environ,
                "AWS_ENDPOINT_URL": endpoint,
                "SLIPSTREAM_BUCKET_NAME": "worker-logs",
                "SLIPSTREAM_WORKER_GRACE": "2",
                "SLIPSTREAM_HEARTBEAT_INTERVAL": "1",
            },
            url,
        )
    for name, value in saved.items():
        if value is not None:
            os.environ[name] = value


def test_sigterm_mid_task_hands_it_back_and_ships_its_log(
    worker_env: tuple[dict[str, str], str], dags_folder: Path
) -> None:
    environment, url = worker_env
    run_id = register(dags_folder, "misbehave.py")
    _, workload = queue("misbehave", run_id, "sleepy")
    boto3.client("sqs", endpoint_url=environment["AWS_ENDPOINT_URL"]).send_message(
        QueueUrl=url, MessageBody=workload.model_dump_json()
    )
    worker = subprocess.Popen(
        [sys.executable, "-m", "slipstream.cli", "worker", "--queue", url],
        env=environment,
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while _state(run_id, "sleepy") != "running" and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _state(run_id, "sleepy") == "running"
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
    # Handed back, not left running: try 1 ended up_for_retry, try 2 already waits in the queue.
    assert _state(run_id, "sleepy") == "queued"
    [first_try] = Table().query(keys.run_pk("misbehave", run_id), prefix=keys.TRY_PREFIX)
    assert (first_try["id"], first_try["state"]) == (str(workload.ti.id), "up_for_retry")
    s3 = boto3.client("s3", endpoint_url=environment["AWS_ENDPOINT_URL"])
    [log] = s3.list_objects_v2(Bucket="worker-logs")["Contents"]
    assert log["Key"] == f"logs/dag_id=misbehave/run_id={run_id}/task_id=sleepy/map_index=-1/attempt=1.log"
