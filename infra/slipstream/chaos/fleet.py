"""`slipstream worker` processes against a running local stack, ended the ways ECS ends them.

ECS stops a task with SIGTERM to the container's main process (`terminate`); a task that dies
abruptly (OOM, a lost host) takes every process in it at once (`kill`): the worker, the per-try
Supervisors it forked and their Task Runners, each of which leads a process group of its own, so
killing the worker's group alone would leave the runners behind. A slot can be started again, as
the ECS service replaces a task; each incarnation has its own host name (`chaos-<slot>.<n>`), so
what a try reports tells which incarnation ran it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

from slipstream.local.processes import Child, stop_all
from slipstream.local.stack import StackInfo

Process = tuple[int, str]
"""A pid and its start time (`/proc/<pid>/stat` field 22), which tells a reused pid apart."""


class Fleet:
    def __init__(
        self,
        info: StackInfo,
        dags_folder: Path,
        state_dir: Path,
        environment: Mapping[str, str] | None = None,
    ) -> None:
        """`environment` overrides the worker settings, SLIPSTREAM_EXECUTION_API_URL included (a
        proxy in front of the stack)."""
        self._state_dir = state_dir
        self._env = {
            **os.environ,
            "AWS_ENDPOINT_URL": info.aws_endpoint_url,
            "AWS_REGION": info.region,
            "AWS_DEFAULT_REGION": info.region,
            "SLIPSTREAM_EXECUTION_API_URL": info.execution_api_url,
            "SLIPSTREAM_WORKER_QUEUES": info.worker_queues,
            "SLIPSTREAM_DAGS_FOLDER": str(dags_folder),
            "SLIPSTREAM_WORKER_LOG_DIR": str(state_dir / "task-logs"),
            "SLIPSTREAM_WORKER_POLL_SECONDS": "2",
            **(environment or {}),
        }
        self._incarnations: Counter[int] = Counter()
        self.workers: dict[int, Child] = {}
        """The current incarnation of every slot started (it may have exited)."""
        self.killed: set[str] = set()
        """Host names of the incarnations `kill` ended."""

    def __enter__(self) -> Fleet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self, slot: int, environment: Mapping[str, str] | None = None) -> Child:
        """A new incarnation of `slot` (the previous one must have ended)."""
        self._incarnations[slot] += 1
        hostname = f"chaos-{slot}.{self._incarnations[slot]}"
        worker = Child(
            hostname,
            [sys.executable, "-m", "slipstream.cli", "worker"],
            {**self._env, **(environment or {}), "SLIPSTREAM_HOSTNAME": hostname},
            self.log_file(hostname),
        )
        self.workers[slot] = worker
        return worker

    def log_file(self, hostname: str) -> Path:
        return self._state_dir / "logs" / f"{hostname}.log"

    def wait_started(self, slot: int, timeout: float = 30.0) -> None:
        """Return once the slot's current incarnation handles SIGTERM (it said "Worker started").
        Its own line, told by its pid: a fleet sharing the state directory with an earlier one
        appends to the same host's log."""
        worker = self.workers[slot]
        log = self.log_file(worker.name)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if worker.exited() is not None:
                raise RuntimeError(f"{worker.name} exited ({worker.exited()}) before it started")
            lines = log.read_text().splitlines() if log.exists() else []
            if any('"Worker started"' in line and f'"pid": {worker.pid}' in line for line in lines):
                return
            time.sleep(0.1)
        raise TimeoutError(f"{worker.name} did not start within {timeout} s")

    def kill(self, slot: int) -> None:
        """SIGKILL every process of the slot's worker at once: frozen first (SIGSTOP to its group),
        so no try starts while its processes are collected. Returns once they are all gone."""
        worker = self.workers[slot]
        with contextlib.suppress(ProcessLookupError):
            os.killpg(worker.pid, signal.SIGSTOP)
        processes = process_tree(worker.pid)
        for pid, _ in processes:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(worker.pid, signal.SIGKILL)
        worker.popen.wait()
        self.killed.add(worker.name)
        if left := wait_until_gone(processes, 10):
            raise RuntimeError(f"processes of {worker.name} survived SIGKILL: {left}")

    def terminate(self, slot: int) -> None:
        """SIGTERM to the worker alone, as ECS stops a task."""
        self.workers[slot].terminate()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop every worker still running: SIGTERM, then SIGKILL to its group after `timeout`.
        An idle worker first lets its SQS long poll return (`SLIPSTREAM_WORKER_POLL_SECONDS`, short
        here) and hands back what it brought; killed during the poll, the message it would have
        received stays invisible for the queue's visibility timeout (300 s)."""
        stop_all(self.workers.values(), timeout)


def process_tree(pid: int) -> set[Process]:
    """Every process below `pid`, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found: set[Process] = set()
    pending = [pid]
    while pending:
        for child in children.get(pending.pop(), []):
            found.add((child, _start_time(child)))
            pending.append(child)
    return found


def alive(processes: set[Process]) -> set[Process]:
    """Those of `processes` still running (a zombie waiting to be reaped is not)."""
    return {(pid, started) for pid, started in processes if _start_time(pid) == started and not _zombie(pid)}


def wait_until_gone(processes: set[Process], timeout: float) -> set[Process]:
    """Those of `processes` still alive after up to `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while (left := alive(processes)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def _stat(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return []


def _start_time(pid: int) -> str:
    fields = _stat(pid)
    return fields[19] if fields else ""


def _zombie(pid: int) -> bool:
    fields = _stat(pid)
    return bool(fields) and fields[0] == "Z"
