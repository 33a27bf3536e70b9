"""Execution API figures: warm handler time through Mangum, DynamoDB round trips, cold start.

How the figures are measured: the warm numbers run the Lambda handler in this process on moto
(in-process, patched as the local stack's), so "less DynamoDB time" (`own_ms`) is the handler's
own cost: FastAPI, Cadwyn, auth, models and Mangum. `warm_ms` includes moto's time. The cold
start runs a fresh interpreter per sample that imports the handler module and serves one heartbeat
against moto's server, as a new Lambda execution environment would: the runtime's Python (3.13,
from `.sam-venv`) without `site`, on the ApiFunction that `make sam-build` builds and compiles,
alone on the path, writing no bytecode (Lambda's package is read-only). The development venv would
add what Lambda never has: pyjwt, for one, imports `cryptography` (about 60 ms) when it finds it.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

COLD_SAMPLES = 10
WARM_SAMPLES = 50
START = "2026-07-01T12:00:00Z"


def _event(method: str, path: str, token: str, body: Any = None) -> dict[str, Any]:
    from slipstream.local.events import http_api_v2

    return http_api_v2(method, path, body=body, headers={"Authorization": f"Bearer {token}"})


@contextmanager
def _setting(name: str, value: Any) -> Iterator[None]:
    """One of this process's settings changed for the block."""
    from slipstream.core.settings import get_settings

    settings = get_settings()
    saved = getattr(settings, name)
    setattr(settings, name, value)
    try:
        yield
    finally:
        setattr(settings, name, saved)


def warm() -> dict[str, float]:
    """Per endpoint: median handler ms, median ms less DynamoDB time, and round trips per call."""
    from moto import mock_aws

    from slipstream.bench.counting import CallCounter
    from slipstream.bench.environment import scoped_environment
    from slipstream.local.moto import prepare_moto
    from slipstream.local.seed import execution_token, queue_ti, register_dag, start_run

    results: dict[str, float] = {}
    prepare_moto()
    with mock_aws(), scoped_environment():
        from slipstream.core import aws
        from slipstream.core.settings import get_settings
        from slipstream.handlers.api import handler
        from slipstream.local.events import LocalContext
        from slipstream.local.resources import create_resources
        from slipstream.services.run_snapshots import snapshots

        resources = create_resources()
        os.environ.update(resources.environment())
        get_settings.cache_clear()
        assert get_settings().run_snapshots >= 3 * WARM_SAMPLES  # every run stays remembered
        counter = CallCounter()
        counter.attach(aws.dynamodb())
        context: Any = LocalContext()
        # every run starts at its trigger: /state then ends its own run and starts no waiting one
        register_dag("bench", tasks=[{"task_id": "t", "upstream": []}], max_active_runs=3 * WARM_SAMPLES)

        def measure(name: str, make: Any, samples: int = WARM_SAMPLES) -> None:
            total, own, trips = [], [], []
            for i in range(samples):
                event = make(i)
                counter.reset()
                started = time.perf_counter()
                response = handler(event, context)
                elapsed = time.perf_counter() - started
                assert response["statusCode"] < 300, response
                total.append(elapsed * 1000)
                own.append((elapsed - counter.seconds) * 1000)
                trips.append(counter.calls)
            results[f"api.{name}.warm_ms"] = round(statistics.median(total), 3)
            results[f"api.{name}.own_ms"] = round(statistics.median(own), 3)
            results[f"api.{name}.ddb_round_trips"] = statistics.median(trips)

        tis: list[tuple[str, str, str]] = []
        elsewhere: list[tuple[str, str, str]] = []
        unscheduled: list[tuple[str, str, str]] = []
        for i in range(WARM_SAMPLES):
            for prefix, batch in (("r", tis), ("e", elsewhere), ("u", unscheduled)):
                run = start_run("bench", run_id=f"{prefix}{i}")
                ti, workload = queue_ti("bench", run["run_id"], "t")
                path = f"/execution/task-instances/{ti['id']}"
                batch.append((path, workload["token"], execution_token(ti)))
        running = {"state": "running", "hostname": "h", "unixname": "u", "pid": 1, "start_date": START}
        beat = {"hostname": "h", "pid": 1}
        done = {"state": "success", "end_date": START}
        xcom = "/execution/xcoms/bench/r0/t/return_value"
        measure("run", lambda i: _event("PATCH", f"{tis[i][0]}/run", tis[i][1], running))
        # A token's first heartbeat verifies its signature; the worker's next ones (the same token
        # until it is refreshed) find it remembered: that steady state is `heartbeat`.
        measure("heartbeat_new_token", lambda i: _event("PUT", f"{tis[i][0]}/heartbeat", tis[i][2], beat))
        measure("heartbeat", lambda i: _event("PUT", f"{tis[i][0]}/heartbeat", tis[i][2], beat))
        measure("xcom_set", lambda i: _event("POST", xcom, tis[0][2], {"n": i}))
        measure("xcom_get", lambda i: _event("GET", xcom, tis[0][2]))
        # This instance triggered the runs, so it plans each run's end from its snapshot of the run.
        measure("state", lambda i: _event("PATCH", f"{tis[i][0]}/state", tis[i][2], done))
        for path, workload_token, _ in elsewhere + unscheduled:
            handler(_event("PATCH", f"{path}/run", workload_token, running), context)
        # The same on an instance that does not remember the run: it reads the run first.
        snapshots.clear()
        with _setting("run_snapshots", 0):
            measure(
                "state_on_another_instance",
                lambda i: _event("PATCH", f"{elsewhere[i][0]}/state", elsewhere[i][2], done),
            )
        # The same with the scheduler's fast path off: the transition alone; the stream handler
        # queues what it made ready (and ends the run) a stream delay later.
        with _setting("scheduler_fast_path", False):
            measure(
                "state_without_fast_path",
                lambda i: _event("PATCH", f"{unscheduled[i][0]}/state", unscheduled[i][2], done),
            )
        measure("health", lambda i: _event("GET", "/execution/health", tis[0][2]))
    return results


ROOT = Path(__file__).resolve().parents[3]
RUNTIME_PYTHON = ROOT / ".sam-venv" / "bin" / "python"
BUILD = ROOT / ".aws-sam" / "build"
COLD_SCRIPT = textwrap.dedent(
    """
    import json, sys, time, types
    event, context = json.loads(sys.argv[1]), types.SimpleNamespace(**json.loads(sys.argv[2]))
    context.get_remaining_time_in_millis = lambda: 29_000
    started = time.perf_counter()
    from slipstream.handlers.api import handler
    imported = time.perf_counter()
    response = handler(event, context)
    done = time.perf_counter()
    assert response["statusCode"] == 204, response
    print(json.dumps({"import_ms": (imported - started) * 1000, "total_ms": (done - started) * 1000}))
    """
)


def cold(build: Path = BUILD) -> dict[str, float]:
    """Fresh interpreter: import the handler and serve a first heartbeat (moto server as AWS)."""
    from dataclasses import asdict

    from slipstream.bench.environment import empty_moto_server, scoped_environment
    from slipstream.core.settings import get_settings
    from slipstream.local.events import LocalContext
    from slipstream.local.resources import create_resources
    from slipstream.local.seed import execution_token, queue_ti, register_dag, start_run

    function = build / "ApiFunction"
    if not RUNTIME_PYTHON.exists() or not (function / "slipstream").is_dir():
        raise SystemExit(f"{function} is missing: `make sam-build` makes it (`make bench` does)")
    context = json.dumps(asdict(LocalContext()))
    with empty_moto_server() as endpoint, scoped_environment():
        os.environ.update(create_resources().environment())
        get_settings.cache_clear()
        register_dag("cold", tasks=[{"task_id": "t", "upstream": []}])
        samples_import, samples_total = [], []
        for i in range(COLD_SAMPLES):
            run = start_run("cold", run_id=f"c{i}")
            ti, _ = queue_ti("cold", run["run_id"], "t")
            _start(ti)
            path = f"/execution/task-instances/{ti['id']}/heartbeat"
            event = _event("PUT", path, execution_token(ti), {"hostname": "h", "pid": 1})
            env = {
                **os.environ,
                "AWS_ENDPOINT_URL": endpoint,
                "PYTHONPATH": str(function),
                "PYTHONDONTWRITEBYTECODE": "1",
            }
            out = subprocess.run(
                [str(RUNTIME_PYTHON), "-S", "-c", COLD_SCRIPT, json.dumps(event), context],
                capture_output=True,
                text=True,
                env=env,
                check=True,
            )
            figures = json.loads(out.stdout.strip().splitlines()[-1])
            samples_import.append(figures["import_ms"])
            samples_total.append(figures["total_ms"])
    return {
        "api.cold_start_ms": round(statistics.median(samples_total), 1),
        "api.cold_import_ms": round(statistics.median(samples_import), 1),
    }


def _start(ti: dict[str, Any]) -> None:
    from slipstream.auth.tokens import TIKey
    from slipstream.store.codec import utcnow
    from slipstream.store.task_instances import TaskInstances

    key = TIKey(ti["dag_id"], ti["run_id"], ti["task_id"])
    TaskInstances().start(key, ti["id"], hostname="h", unixname="u", pid=1, start_date=utcnow())
