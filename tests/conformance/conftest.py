"""The conformance suite's stack: `slipstream local up --runtime airflow` with its DAGs registered.

Execution tokens live `TOKEN_TTL` seconds here, so a task longer than that proves heartbeats
refresh them (spec §2.5). All the suite's DAG runs are triggered at once and awaited together.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from slipstream.local.moto import free_port
from tests.airflow.conftest import airflow_python
from tests.local.launch import start_local_stack

DAGS = Path(__file__).with_name("dags")
TOKEN_TTL = 10


@dataclass
class Stack:
    cwd: Path
    env: dict[str, str]

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        completed = subprocess.run(
            [sys.executable, "-m", "slipstream.cli", *args],
            cwd=self.cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if check:
            assert completed.returncode == 0, (
                f"slipstream {' '.join(args)}:\n{completed.stdout}{completed.stderr}"
            )
        return completed

    def shipped_log(self, dag_id: str, run_id: str, task_id: str) -> subprocess.CompletedProcess[str]:
        """`slipstream logs --all`, once shipped: a worker ships a try's log after the try has
        reported its state, so a run can end a moment before its last log reaches S3."""
        deadline = time.monotonic() + 30
        while (logs := self.cli("logs", dag_id, run_id, task_id, "--all", check=False)).returncode:
            assert time.monotonic() < deadline, logs.stderr
            time.sleep(0.5)
        return logs


@pytest.fixture(scope="session")
def airflow_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    cwd = tmp_path_factory.mktemp("conformance")
    env = {
        **os.environ,
        "SLIPSTREAM_AIRFLOW_PYTHON": airflow_python(),
        "SLIPSTREAM_EXECUTION_TOKEN_TTL": str(TOKEN_TTL),
        "SLIPSTREAM_LOCAL_TIMER_SECONDS": "1",
        "SLIPSTREAM_WORKER_GRACE": "2",
    }
    args = ["--runtime", "airflow", "--workers", "2", "--port", str(free_port()), "--dags-folder", str(DAGS)]
    process = start_local_stack(args, cwd, env)
    try:
        stack = Stack(cwd, env)
        stack.cli("variables", "set", "conformance_greeting", "hello")
        stack.cli("variables", "set", "conformance_settings", '{"answer": 42}')
        stack.cli("connections", "set", "conformance_db", "postgres://etl:s3cret@db.internal:5432/analytics")
        stack.cli("dags", "register", "--format", "airflow", str(DAGS), "--unpause")
        yield stack
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(scope="session")
def finished_runs(airflow_stack: Stack) -> dict[str, dict[str, Any]]:
    """Every DAG of `dags/`, triggered at once; each run as `runs trigger --wait --json` ends it."""
    dag_ids = sorted(path.stem for path in DAGS.glob("*.py"))

    def run(dag_id: str) -> dict[str, Any]:
        completed = subprocess.run(
            [sys.executable, "-m", "slipstream.cli", "runs", "trigger", dag_id, "--wait", "--json"],
            cwd=airflow_stack.cwd,
            env=airflow_stack.env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        # exit status 1 is a failed run, which some scenarios expect; no JSON is an error
        assert completed.stdout.strip(), f"{dag_id}: {completed.stderr}"
        finished: dict[str, Any] = json.loads(completed.stdout)
        return finished

    with ThreadPoolExecutor(len(dag_ids)) as pool:
        return dict(zip(dag_ids, pool.map(run, dag_ids), strict=True))
