"""Interop overhead: the same no-op DAG run by Slipstream's runtime and by Airflow's, one stack.

One local stack without workers of its own; a `slipstream worker` of each runtime is started in
turn against it, and each runs `RUNS` runs of a chain of `TASKS` no-op tasks. The per-task time
is a run's wall time (trigger to final state) over its task count, so it holds what a task costs
end to end: scheduling, the queue, the runtime's start-up and its API calls. Airflow's runtime
starts a fresh interpreter (and imports Airflow) per try, where ours forks a warm one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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


def _per_task_ms(cwd: Path, dag_id: str) -> float:
    """Mean per-task time over RUNS runs of `dag_id`, after one unmeasured warm-up run."""
    _cli(cwd, "runs", "trigger", dag_id, "--wait")
    started = time.monotonic()
    for _ in range(RUNS):
        run = json.loads(_cli(cwd, "runs", "trigger", dag_id, "--wait", "--json"))
        if run["state"] != "success":
            raise RuntimeError(f"{dag_id} ended {run['state']}")
    return (time.monotonic() - started) * 1000 / (RUNS * TASKS)


def _worker(runtime: str, execution_api_url: str, dags: Path, state: Path) -> Child:
    queues = json.loads(os.environ["SLIPSTREAM_QUEUE_URLS"]).values()
    env = {
        **os.environ,
        "SLIPSTREAM_EXECUTION_API_URL": execution_api_url,
        "SLIPSTREAM_WORKER_QUEUES": ",".join(queues),
        "SLIPSTREAM_DAGS_FOLDER": str(dags),
        "SLIPSTREAM_WORKER_LOG_DIR": str(state / "task-logs"),
    }
    argv = [sys.executable, "-m", "slipstream.cli", "worker", "--runtime", runtime]
    return Child(f"{runtime}-worker", argv, env, state / "logs" / f"{runtime}-worker.log")


def overhead() -> dict[str, float]:
    airflow_python = os.environ.get("SLIPSTREAM_AIRFLOW_PYTHON") or str(
        AIRFLOW_PYTHON.absolute()
    )  # not resolve(): a venv's python is a symlink
    os.environ.update({"SLIPSTREAM_AIRFLOW_PYTHON": airflow_python, "SLIPSTREAM_LOCAL_TIMER_SECONDS": "1"})
    with tempfile.TemporaryDirectory(prefix="slipstream-interop-") as scratch:
        root = Path(scratch)
        dags = {"slipstream": root / "dags-slipstream", "airflow": root / "dags-airflow"}
        for runtime, module in (("slipstream", "slipstream.sdk"), ("airflow", "airflow.sdk")):
            dags[runtime].mkdir()
            source = _DAG.format(module=module, dag_id=f"noop_{runtime}", tasks=TASKS)
            (dags[runtime] / f"noop_{runtime}.py").write_text(source)
        state = root / ".slipstream"
        figures: dict[str, float] = {}
        with LocalStack(free_port(), 0, root, state_dir=state) as info:
            for runtime, folder in dags.items():
                _cli(root, "dags", "register", "--format", runtime, str(folder), "--unpause")
                worker = _worker(runtime, info.execution_api_url, folder, state)
                try:
                    figures[runtime] = _per_task_ms(root, f"noop_{runtime}")
                finally:
                    stop_all([worker], 10.0)
    return {
        "interop.ours_ms": round(figures["slipstream"], 1),
        "interop.airflow_ms": round(figures["airflow"], 1),
        "interop.overhead_ratio": round(figures["airflow"] / figures["slipstream"], 2),
    }
