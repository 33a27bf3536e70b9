"""A tiny in-process "worker" for scheduler tests: take queued workloads off SQS and report
states through the same services the Execution API routes call."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from pydantic import TypeAdapter

from slipstream.auth.tokens import TIKey
from slipstream.core.settings import get_settings
from slipstream.execution_api.datamodels.task_instances import TIStateUpdate
from slipstream.services import lifecycle
from slipstream.store.codec import utcnow
from slipstream.store.dag_runs import DagRuns
from slipstream.store.task_instances import TaskInstances
from tests.support import table_stream

STATE = TypeAdapter(TIStateUpdate)


class Queue:
    def __init__(self) -> None:
        self.sqs = boto3.client("sqs")
        self.url = get_settings().queue_urls["default"]

    def take(self) -> list[dict[str, Any]]:
        """Every workload visible now, deleted from the queue."""
        out = []
        while True:
            got = self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
            messages = got.get("Messages", [])
            if not messages:
                return out
            for message in messages:
                out.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])


def run_task(workload: dict[str, Any], state: str = "success", *, start: bool = True, **fields: Any) -> None:
    """Start the workload's TI (unless it runs already) and report `state`, as a worker would
    through the API."""
    ti = workload["ti"]
    key = TIKey(ti["dag_id"], ti["run_id"], ti["task_id"], ti["map_index"])
    if start:
        TaskInstances().start(key, ti["id"], hostname="worker", unixname="u", pid=1, start_date=utcnow())
    if state == "running":
        return
    payload = STATE.validate_python({"state": state, "end_date": utcnow(), **fields})
    lifecycle.finish(TaskInstances(), key, ti["id"], payload)


def states(dag_id: str, run_id: str) -> dict[str, str | None]:
    return {ti["task_id"]: ti.get("state") for ti in TaskInstances().list_run(dag_id, run_id)}


def run_state(dag_id: str, run_id: str) -> str:
    return str(DagRuns().get(dag_id, run_id)["state"])


@pytest.fixture
def queue(aws: None) -> Queue:
    return Queue()


class Stream:
    """The table's stream, from the moment the fixture is made, delivered to the stream handler."""

    def __init__(self) -> None:
        from slipstream.handlers.stream import handler

        self.poller = table_stream(handler)

    def deliver(self) -> None:
        """Hand every record written so far to the handler."""
        while self.poller.poll_once():
            pass


@pytest.fixture
def stream(aws: None) -> Stream:
    return Stream()
