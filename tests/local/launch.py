"""Starting `slipstream local up` for end-to-end tests: one place for the launch and the wait."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from slipstream.local.moto import free_port
from slipstream.local.stack import StackInfo


def start_local_stack(
    args: list[str], cwd: Path, env: dict[str, str], timeout: float = 60
) -> subprocess.Popen[bytes]:
    """`slipstream local up ARGS` in its own session, its output in `cwd/stack.out`; returns once
    the stack printed its ready line (fails with that output if it died or never got ready)."""
    output = cwd / "stack.out"
    with output.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "slipstream.cli", "local", "up", *args],
            cwd=cwd,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + timeout
    while "ready:" not in output.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            if process.poll() is None:
                process.kill()
                process.wait()
            raise AssertionError(f"no ready line from the local stack:\n{output.read_text()}")
        time.sleep(0.1)
    return process


@contextmanager
def running_stack(cwd: Path, env: dict[str, str], workers: int = 0) -> Iterator[StackInfo]:
    """A local stack with `workers` workers of its own (tests usually run theirs), what it wrote in
    `.slipstream/local.json`; stopped (SIGTERM, then SIGKILL) when the block ends."""
    args = ["--port", str(free_port()), "--workers", str(workers), "--dags-folder", str(cwd)]
    process = start_local_stack(args, cwd, env)
    try:
        yield StackInfo(**json.loads((cwd / ".slipstream" / "local.json").read_text()))
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
