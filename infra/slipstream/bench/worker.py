"""One `slipstream worker` running no-op tasks on the local stack: overhead, cost and throughput per task.

How the figures are measured: `LocalStack` runs moto's server as a child process, the API Gateway
stand-in and the stream poller in threads of this process (the timer does not tick), and ONE
worker child with parallelism 4. A one-task DAG whose task does nothing is written to a temporary
dags folder, serialised by the SDK and registered. First SOLO_RUNS runs are triggered one at a
time (each once the previous try has finished), then RUNS runs back to back, through the
management API handler.

- `worker.overhead_ms`: median over the solo tries of the worker's "Try finished" record,
  `reported_after` (the message's receipt to the API's answer to the success report) less
  `http_seconds` (time waiting on Execution API requests). One try at a time, so that the figure
  is the worker's own cost and not the wait for one of this machine's two cores, which four tries,
  the stack's API handlers and moto would share.
- `task.http_calls`: median Execution API requests per try (`http_calls` of the same record).
- `task.ddb_round_trips`: DynamoDB requests per task, counted on the functions' client in this
  process from the first trigger until the stream is quiet: run creation with its fast path
  (`.trigger`, the management API), `/run` and `/state` with its fast path (`.execution_api`), and
  every stream handler evaluation (`.stream`). DAG registration and the timer are left out.
- `worker.tasks_per_second`: RUNS over the wall clock from the first back-to-back try's start (a
  record's timestamp less its duration) to the last one's end (a record's timestamp).
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

SOLO_RUNS = 20
RUNS = 40
PARALLELISM = 4
TIMEOUT = 120.0
QUIET_SECONDS = 1.0
"""No DynamoDB request for this long: the stream has delivered every record."""
DAG_ID = "bench_noop"
DAG_FILE = f"""
from slipstream.sdk import dag, task


@dag(schedule=None, max_active_runs={RUNS + SOLO_RUNS})
def {DAG_ID}():
    @task
    def noop():
        pass

    noop()


{DAG_ID}()
"""


def noop_tasks() -> dict[str, float]:
    from slipstream.bench.environment import scoped_environment
    from slipstream.local.moto import free_port
    from slipstream.local.stack import LocalStack

    environment = {
        "SLIPSTREAM_WORKER_PARALLELISM": str(PARALLELISM),
        "SLIPSTREAM_LOCAL_TIMER_SECONDS": "3600",
    }
    with tempfile.TemporaryDirectory() as tmp, scoped_environment(environment):
        dags = Path(tmp, "dags")
        dags.mkdir()
        (dags / f"{DAG_ID}.py").write_text(DAG_FILE)
        stack = LocalStack(free_port(), 1, dags, state_dir=Path(tmp, "stack"))
        worker_log = stack.state_dir / "logs" / "worker-1.log"
        with stack as info:
            trips = _run_tasks(dags, info.admin_token, worker_log)
        solo, tries = _tries(worker_log)
    return {
        "worker.overhead_ms": round(
            statistics.median((t["reported_after"] - t["http_seconds"]) * 1000 for t in solo), 1
        ),
        "worker.tasks_per_second": round(RUNS / _wall_clock(tries), 2),
        "task.http_calls": statistics.median(sum(t["http_calls"].values()) for t in tries),
        **{name: round(count / RUNS, 2) for name, count in trips.items()},
    }


def _run_tasks(dags: Path, admin_token: str, worker_log: Path) -> dict[str, int]:
    """Register the DAG, trigger RUNS runs, wait for their tries: DynamoDB requests by figure name."""
    from slipstream.bench.counting import CallCounter
    from slipstream.core import aws
    from slipstream.sdk.serialize import serialize_file

    api = _ManagementApi(admin_token)
    [document] = serialize_file(dags / f"{DAG_ID}.py", dags)
    api.call("POST", "/dags", document)
    api.call("PATCH", f"/dags/{DAG_ID}", {"is_paused": False})
    for done in range(1, SOLO_RUNS + 1):
        api.call("POST", f"/dags/{DAG_ID}/dagRuns", {"conf": {}})
        _wait_for_tries(worker_log, done)
    time.sleep(QUIET_SECONDS)  # the last solo run's records through the stream before counting
    counter = CallCounter()
    counter.attach(aws.dynamodb())
    for _ in range(RUNS):
        api.call("POST", f"/dags/{DAG_ID}/dagRuns", {"conf": {}})
    _wait_for_tries(worker_log, SOLO_RUNS + RUNS)
    calls = -1
    while calls != counter.calls:
        calls = counter.calls
        time.sleep(QUIET_SECONDS)
    return {
        "task.ddb_round_trips": counter.calls,
        "task.ddb_round_trips.trigger": counter.threads["MainThread"],
        "task.ddb_round_trips.execution_api": counter.threads["lambda-api"],
        "task.ddb_round_trips.stream": counter.threads["stream-poller"],
    }


class _ManagementApi:
    """The management API through the API function's handler, on this thread."""

    def __init__(self, token: str) -> None:
        from slipstream.handlers.api import handler
        from slipstream.local.events import LocalContext

        self._handler = handler
        self._context: Any = LocalContext()
        self._headers = {"Authorization": f"Bearer {token}"}

    def call(self, method: str, path: str, body: Any) -> None:
        from slipstream.local.events import http_api_v2

        event = http_api_v2(method, f"/api/v2{path}", body=body, headers=self._headers)
        response = self._handler(event, self._context)
        assert response["statusCode"] < 300, response


def _wait_for_tries(worker_log: Path, count: int) -> None:
    """Until the worker has logged `count` finished tries (read from its log: the API's DynamoDB
    requests would be counted)."""
    deadline = time.monotonic() + TIMEOUT
    while (done := worker_log.read_text().count('"Try finished"')) < count:
        assert time.monotonic() < deadline, f"{done} of {count} tries finished after {TIMEOUT} s"
        time.sleep(0.01)


def _tries(worker_log: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The worker's "Try finished" records (its stdout echoes every task log record): the solo
    tries, then the back-to-back ones."""
    tries = []
    for line in worker_log.read_text().splitlines():
        if '"Try finished"' in line:
            record = json.loads(line)
            assert record["state"] == "success", record
            tries.append(record)
    assert len(tries) == SOLO_RUNS + RUNS, f"{len(tries)} tries finished, {SOLO_RUNS + RUNS} expected"
    return tries[:SOLO_RUNS], tries[SOLO_RUNS:]


def _wall_clock(tries: list[dict[str, Any]]) -> float:
    ends = [datetime.fromisoformat(t["timestamp"]).timestamp() for t in tries]
    return max(ends) - min(end - float(t["duration"]) for end, t in zip(ends, tries, strict=True))
