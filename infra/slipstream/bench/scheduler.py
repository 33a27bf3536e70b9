"""Scheduling latency of `a >> b`: from `a`'s success being written to `b`'s ExecuteTask on the queue.

How the figures are measured: moto's server runs in a child process (as in the local stack) with
the template's resources, and the local stack's stream poller feeds the stream handler from the
table's stream (four polls a second, as Lambda's event source mapping). Each sample is a fresh
run: `a` is queued by `schedule_run`, its message received and `/run` called through the API
handler; once the poller has had time to deliver those records, the clock starts as the `/state`
success request is handed to the handler and stops when ReceiveMessage returns `b`'s message. The
fast path (`scheduler.latency_ms`) queues `b` inside that request, so the receive follows its
response; for the stream path (`scheduler.stream_latency_ms`) SLIPSTREAM_SCHEDULER_FAST_PATH is
false and the receive long-polls until the stream handler has queued `b`. Medians of SAMPLES runs
each; `scheduler.latency_ddb_ms` is the part of the fast path spent in DynamoDB calls (moto's
time).
"""

from __future__ import annotations

import json
import statistics
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from slipstream.bench.counting import CallCounter

if TYPE_CHECKING:
    from mypy_boto3_sqs.type_defs import MessageTypeDef

SAMPLES = 30
SETTLE_SECONDS = 0.3
"""Pause before each sample: the poller (every 0.25 s) delivers the setup's records first."""
DAG_ID = "bench_scheduler"
REGION = "us-east-1"
START = "2026-07-01T12:00:00Z"
RUNNING = {"state": "running", "hostname": "h", "unixname": "u", "pid": 1, "start_date": START}
SUCCESS = {"state": "success", "end_date": START}


def latency() -> dict[str, float]:
    from slipstream.bench.environment import empty_moto_server, scoped_environment
    from slipstream.local.resources import create_resources
    from slipstream.local.seed import register_dag

    with empty_moto_server():
        resources = create_resources(REGION)
        with scoped_environment(resources.environment()), _stream_poller(resources.stream_arn):
            from slipstream.core import aws

            counter = CallCounter()
            counter.attach(aws.dynamodb())
            tasks = [{"task_id": "a", "upstream": []}, {"task_id": "b", "upstream": ["a"]}]
            register_dag(DAG_ID, tasks=tasks, max_active_runs=2 * SAMPLES)
            sampler = _Sampler(resources.queue_urls["default"], counter)
            fast = [sampler.sample(f"fast-{i}") for i in range(SAMPLES)]
            with scoped_environment({"SLIPSTREAM_SCHEDULER_FAST_PATH": "false"}):
                stream = [sampler.sample(f"stream-{i}") for i in range(SAMPLES)]
    return {
        "scheduler.latency_ms": round(statistics.median(ms for ms, _ in fast), 1),
        "scheduler.latency_ddb_ms": round(statistics.median(ddb for _, ddb in fast), 1),
        "scheduler.stream_latency_ms": round(statistics.median(ms for ms, _ in stream), 1),
    }


@contextmanager
def _stream_poller(stream_arn: str) -> Iterator[None]:
    """The stream handler behind the local stack's event source mapping, in a thread."""
    import boto3

    from slipstream.handlers.stream import handler
    from slipstream.local.stack import STREAM_HANDLER
    from slipstream.local.streams import EventSourceMapping, StreamPoller
    from slipstream.local.template import load_template

    poller = StreamPoller(
        boto3.client("dynamodbstreams", region_name=REGION),
        stream_arn,
        handler,
        function_name="slipstream-stream",
        region=REGION,
        mapping=EventSourceMapping.from_template(load_template(), STREAM_HANDLER),
    )
    poller.start_at_latest()
    stop = threading.Event()
    thread = threading.Thread(target=poller.run, args=(stop,), name="stream-poller")
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


class _Sampler:
    def __init__(self, queue_url: str, counter: CallCounter) -> None:
        from slipstream.core import aws
        from slipstream.handlers.api import handler
        from slipstream.local.events import LocalContext

        self._queue_url = queue_url
        self._counter = counter
        self._sqs = aws.sqs()
        self._handler = handler
        self._context: Any = LocalContext()

    def sample(self, run_id: str) -> tuple[float, float]:
        """(ms from the `/state` request to `b`'s message received, ms of it in DynamoDB calls)."""
        from slipstream.local.seed import execution_token, start_run
        from slipstream.services.scheduling import schedule_run

        start_run(DAG_ID, run_id=run_id)
        schedule_run(DAG_ID, run_id)
        workload = self._receive("a")
        path = f"/execution/task-instances/{workload['ti']['id']}"
        self._call("PATCH", f"{path}/run", workload["token"], RUNNING)
        time.sleep(SETTLE_SECONDS)
        token = execution_token(workload["ti"])
        self._counter.reset()
        started = time.perf_counter()
        self._call("PATCH", f"{path}/state", token, SUCCESS)
        message = self._next_message()
        elapsed = time.perf_counter() - started
        self._take(message, "b")
        return elapsed * 1000, self._counter.seconds * 1000

    def _call(self, method: str, path: str, token: str, body: dict[str, Any]) -> None:
        from slipstream.local.events import http_api_v2

        event = http_api_v2(method, path, body=body, headers={"Authorization": f"Bearer {token}"})
        response = self._handler(event, self._context)
        assert response["statusCode"] < 300, response

    def _receive(self, task_id: str) -> dict[str, Any]:
        return self._take(self._next_message(), task_id)

    def _next_message(self) -> MessageTypeDef:
        messages = self._sqs.receive_message(
            QueueUrl=self._queue_url, MaxNumberOfMessages=1, WaitTimeSeconds=10
        ).get("Messages", [])
        assert messages, "no message within 10 s"
        [message] = messages
        return message

    def _take(self, message: MessageTypeDef, task_id: str) -> dict[str, Any]:
        """`message`'s workload, which must be `task_id`'s; the message is deleted."""
        self._sqs.delete_message(QueueUrl=self._queue_url, ReceiptHandle=message["ReceiptHandle"])
        workload: dict[str, Any] = json.loads(message["Body"])
        assert workload["ti"]["task_id"] == task_id, workload["ti"]
        return workload
