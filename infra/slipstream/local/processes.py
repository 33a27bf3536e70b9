"""The stack's child processes, each the leader of a process group of its own.

Ctrl-C in a terminal signals the foreground process group: the children are outside it, so only
the stack receives it and stops them in order. Stopping sends SIGTERM to the leader alone (a worker
then hands its running tasks back, as on ECS), waits, and kills the whole group on timeout; the
group is killed in any case once the leader is gone, so no fork it left behind survives it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

log = logging.getLogger(__name__)


class Child:
    def __init__(self, name: str, argv: list[str], env: Mapping[str, str], log_file: Path) -> None:
        self.name = name
        self.log_file = log_file
        log_file.parent.mkdir(parents=True, exist_ok=True)
        with log_file.open("ab") as output:
            self.popen = subprocess.Popen(
                argv,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                process_group=0,
            )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def exited(self) -> int | None:
        return self.popen.poll()

    def terminate(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()

    def wait_or_kill(self, deadline: float) -> None:
        try:
            self.popen.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            log.warning("%s did not stop in time; killing its process group", self.name)
        self._kill_group()
        self.popen.wait()

    def _kill_group(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)


def stop_all(children: Iterable[Child], timeout: float) -> None:
    """SIGTERM every child at once, then wait for each until a shared deadline."""
    children = list(children)
    for child in children:
        child.terminate()
    deadline = time.monotonic() + timeout
    for child in children:
        child.wait_or_kill(deadline)


def wait_for_port(port: int, child: Child, timeout: float = 30.0) -> None:
    """Return once `child` accepts connections on `port` of 127.0.0.1; raise if it died first."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if child.exited() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{child.name} did not start; see {child.log_file}") from None
            time.sleep(0.05)
