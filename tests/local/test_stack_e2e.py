"""`slipstream local up` end to end: real processes, real HTTP on 127.0.0.1, the CLI as a user runs it."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from slipstream.chaos.fleet import alive, process_tree
from slipstream.local.moto import free_port
from slipstream.local.stack import STREAM_HANDLER, TIMER_HANDLER
from tests.local.launch import start_local_stack

pytestmark = pytest.mark.e2e

DAG = """
from slipstream.sdk import dag, task


@dag(schedule=None)
def pipeline():
    @task
    def produce():
        return {"rows": 3}

    @task
    def consume(data):
        print(f"consumed rows={data['rows']}")
        return data["rows"] * 2

    consume(produce())


pipeline()
"""


@dataclass
class Stack:
    process: subprocess.Popen[bytes]
    cwd: Path

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "slipstream.cli", *args],
            cwd=self.cwd,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


def _require_scheduler() -> None:
    for handler in (STREAM_HANDLER, TIMER_HANDLER):
        module = handler.rpartition(".")[0]
        if importlib.util.find_spec(module) is None:
            pytest.fail(f"{module} does not exist yet: the local stack cannot schedule without it")


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    _require_scheduler()
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "pipeline.py").write_text(DAG)
    args = ["--port", str(free_port()), "--workers", "1", "--dags-folder", str(dags)]
    env = {**os.environ, "SLIPSTREAM_LOCAL_TIMER_SECONDS": "1", "SLIPSTREAM_WORKER_GRACE": "2"}
    process = start_local_stack(args, tmp_path, env)
    try:
        yield Stack(process, tmp_path)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_a_dag_runs_end_to_end_and_the_stack_stops_cleanly(stack: Stack) -> None:
    registered = stack.cli("dags", "register", "dags", "--unpause")
    assert registered.returncode == 0, registered.stderr

    run_id = "manual__2026-07-01T12:00:00+00:00"
    triggered = stack.cli("runs", "trigger", "pipeline", "--run-id", run_id, "--wait", "--json")
    assert triggered.returncode == 0, triggered.stdout + triggered.stderr
    run = json.loads(triggered.stdout)
    assert (run["dag_id"], run["run_id"], run["state"]) == ("pipeline", run_id, "success")
    tasks = {ti["task_id"]: ti for ti in run["task_instances"]}
    assert {task: ti["state"] for task, ti in tasks.items()} == {"produce": "success", "consume": "success"}
    assert all(ti["try_number"] == 1 and ti["start_date"] and ti["end_date"] for ti in tasks.values())

    logs = stack.cli("logs", "pipeline", run_id, "consume")
    assert logs.returncode == 0, logs.stderr
    assert logs.stdout.splitlines() == ["consumed rows=3"]  # the XCom produce returned reached consume

    shown = stack.cli("runs", "show", "pipeline", run_id)
    assert "consume" in shown.stdout and "success" in shown.stdout

    processes = process_tree(stack.process.pid)
    assert len(processes) >= 2  # moto and the worker
    stack.process.send_signal(signal.SIGTERM)
    assert stack.process.wait(timeout=60) == 0
    assert not (stack.cwd / ".slipstream" / "local.json").exists()
    left = alive(processes)
    assert not left, f"processes left behind: {left}"
