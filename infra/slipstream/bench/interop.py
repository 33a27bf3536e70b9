"""Interop overhead: the same no-op DAG run by Slipstream's runtime and by Airflow's, one stack.

One local stack without workers of its own; a `slipstream worker` of each runtime is started in
turn against it, and each runs `RUNS` runs of a chain of `TASKS` no-op tasks (after one unmeasured
warm-up run). Airflow's runtime starts a fresh interpreter (and imports Airflow) per try, where
ours hands the try to a warm fork.

- `interop.ours_ms`, `interop.airflow_ms`: the per-task time of each runtime, "launch to success":
  from the message's receipt by the worker (the "Try finished" record's timestamp less its
  `duration`) to the task's end as the runtime reported it (the TI's `end_date`), median over the
  measured tries. This is the runtime's own cost: start-up, `/run`, the task. Both runtimes make
  the success call after that end (one HTTP call each); Airflow's process then lives on for up to
  a heartbeat interval, which is left out. `interop.overhead_ratio` is Airflow's over ours.
- `interop.ours_e2e_ms`, `interop.airflow_e2e_ms`: a run's wall time (trigger to final state, the
  CLI's polling included) over its task count, so scheduling and the queue are in it too: what
  the runtime's cost amounts to end to end.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from slipstream.cli._api import ManagementApi, segment
from slipstream.local.moto import free_port
from slipstream.local.processes import Child, stop_all
from slipstream.local.stack import LocalStack

TASKS = 4
RUNS = 2
AIRFLOW_PYTHON = Path(".airflow-venv/bin/python")

_DAG = """
from {module} import dag, task


@dag(schedule=None)
def {dag_id}():
    @task
    def noop():
        return None

    tasks = [noop.override(task_id=f"noop_{{n}}")() for n in range({tasks})]
    for upstream, downstream in zip(tasks, tasks[1:]):
        upstream >> downstream


{dag_id}()
"""


def _cli(cwd: Path, *args: str) -> str:
    completed = subprocess.run(
        [sys.executable, "-m", "slipstream.cli", *args], cwd=cwd, capture_output=True, text=True, check=False
    )
    if completed.returncode:
        raise RuntimeError(f"slipstream {' '.join(args)} failed:\n{completed.stderr}")
    return completed.stdout


def _per_task_ms(cwd: Path, api: ManagementApi, dag_id: str, worker_log: Path) -> tuple[float, float]:
    """(median ms from a try's receipt to its task's end, mean wall ms per task) over RUNS runs
    of `dag_id`, after one unmeasured warm-up run."""
    _cli(cwd, "runs", "trigger", dag_id, "--wait")
    started = time.monotonic()
    ends: dict[str, datetime] = {}
    for _ in range(RUNS):
        run = json.loads(_cli(cwd, "runs", "trigger", dag_id, "--wait", "--json"))
        if run["state"] != "success":
            raise RuntimeError(f"{dag_id} ended {run['state']}")
        path = f"/dags/{dag_id}/dagRuns/{segment(run['run_id'])}/taskInstances"
        for ti in api.get(path)["task_instances"]:
            ends[ti["id"]] = datetime.fromisoformat(ti["end_date"])
    e2e = (time.monotonic() - started) * 1000 / (RUNS * TASKS)
    tries = [t for t in _finished_tries(worker_log, TASKS + RUNS * TASKS) if t["ti_id"] in ends]
    assert len(tries) == RUNS * TASKS, f"{len(tries)} measured tries in {worker_log}"
    to_end = [
        (ends[t["ti_id"]] - datetime.fromisoformat(t["timestamp"])).total_seconds() + float(t["duration"])
        for t in tries
    ]
    return statistics.median(to_end) * 1000, e2e


def _finished_tries(worker_log: Path, count: int, timeout: float = 30.0) -> list[dict[str, Any]]:
    """The worker's "Try finished" records, once it has logged `count`: a try's process logs it
    after its outcome, which the run's state may show first."""
    deadline = time.monotonic() + timeout
    while True:
        records = [
            json.loads(line) for line in worker_log.read_text().splitlines() if '"Try finished"' in line
        ]
        if len(records) >= count:
            return records
        if time.monotonic() > deadline:
            raise RuntimeError(f"{len(records)} finished tries in {worker_log}, {count} expected")
        time.sleep(0.1)


def _worker(runtime: str, execution_api_url: str, dags: Path, state: Path, log: Path) -> Child:
    queues = json.loads(os.environ["SLIPSTREAM_QUEUE_URLS"]).values()
    env = {
        **os.environ,
        "SLIPSTREAM_EXECUTION_API_URL": execution_api_url,
        "SLIPSTREAM_WORKER_QUEUES": ",".join(queues),
        "SLIPSTREAM_DAGS_FOLDER": str(dags),
        "SLIPSTREAM_WORKER_LOG_DIR": str(state / "task-logs"),
    }
    argv = [sys.executable, "-m", "slipstream.cli", "worker", "--runtime", runtime]
    return Child(f"{runtime}-worker", argv, env, log)


def overhead() -> dict[str, float]:
    from slipstream.bench.environment import scoped_environment

    airflow_python = os.environ.get("SLIPSTREAM_AIRFLOW_PYTHON") or str(
        AIRFLOW_PYTHON.absolute()
    )  # not resolve(): a venv's python is a symlink
    # The timer does not tick: every task is queued by its upstream's /state, and a sweep would
    # only add work to the stack while it is measured.
    environment = {"SLIPSTREAM_AIRFLOW_PYTHON": airflow_python, "SLIPSTREAM_LOCAL_TIMER_SECONDS": "3600"}
    with (
        scoped_environment(environment),
        tempfile.TemporaryDirectory(prefix="slipstream-interop-") as scratch,
    ):
        root = Path(scratch)
        dags = {"slipstream": root / "dags-slipstream", "airflow": root / "dags-airflow"}
        for runtime, module in (("slipstream", "slipstream.sdk"), ("airflow", "airflow.sdk")):
            dags[runtime].mkdir()
            source = _DAG.format(module=module, dag_id=f"noop_{runtime}", tasks=TASKS)
            (dags[runtime] / f"noop_{runtime}.py").write_text(source)
        state = root / ".slipstream"
        figures: dict[str, tuple[float, float]] = {}
        with LocalStack(free_port(), 0, root, state_dir=state) as info:
            api = ManagementApi(info.api_url, info.admin_token)
            for runtime, folder in dags.items():
                _cli(root, "dags", "register", "--format", runtime, str(folder), "--unpause")
                log = state / "logs" / f"{runtime}-worker.log"
                worker = _worker(runtime, info.execution_api_url, folder, state, log)
                try:
                    figures[runtime] = _per_task_ms(root, api, f"noop_{runtime}", log)
                finally:
                    stop_all([worker], 10.0)
    (ours, ours_e2e), (airflow, airflow_e2e) = figures["slipstream"], figures["airflow"]
    return {
        "interop.ours_ms": round(ours, 1),
        "interop.airflow_ms": round(airflow, 1),
        "interop.overhead_ratio": round(airflow / ours, 2),
        "interop.ours_e2e_ms": round(ours_e2e, 1),
        "interop.airflow_e2e_ms": round(airflow_e2e, 1),
    }
