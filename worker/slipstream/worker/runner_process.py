"""Starting a Task Runner process, which may happen before its try is known.

A runner needs nothing of its try to start: it waits on its requests channel for a
`PreloadDagFile` hint and then `StartupDetails` (see `comms`). So the worker can start the next
try's process, and that process its runner, while it waits on the queue; a message then goes
straight to `/run` with no fork on its way.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
import threading
import traceback
from dataclasses import dataclass
from typing import Literal

from slipstream.worker import runner


@dataclass(frozen=True)
class RunnerProcess:
    """A started runner (leader of its own process group) and the Supervisor's ends of its channels."""

    pid: int
    requests: socket.socket
    stdout: socket.socket
    stderr: socket.socket
    logs: socket.socket

    def discard(self) -> None:
        """Kill a runner that will get no try, and reap it."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)
        for sock in (self.requests, self.stdout, self.stderr, self.logs):
            sock.close()
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)


def _use_fork(setting: Literal["auto", "fork", "spawn"]) -> bool:
    if setting != "auto":
        return setting == "fork"
    # Forking a multi-threaded process can copy a lock some other thread holds.
    return sys.platform == "linux" and threading.active_count() == 1


def start_runner(setting: Literal["auto", "fork", "spawn"], close_fds: tuple[int, ...] = ()) -> RunnerProcess:
    """A runner waiting for its try: a fork of this warm process, or a fresh interpreter.
    `close_fds` are this process's own pipes, which a forked runner must not hold open."""
    pairs = [socket.socketpair() for _ in range(4)]
    ours = [pair[0] for pair in pairs]
    theirs = [pair[1] for pair in pairs]
    pid = _fork(ours, theirs, close_fds) if _use_fork(setting) else _spawn(theirs)
    for sock in theirs:
        sock.close()
    return RunnerProcess(pid, *ours)


def _fork(ours: list[socket.socket], theirs: list[socket.socket], close_fds: tuple[int, ...]) -> int:
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid:
        return pid
    code = 126
    try:
        os.setpgid(0, 0)
        signal.set_wakeup_fd(-1)
        for sock in ours:
            sock.close()
        for fd in close_fds:
            os.close(fd)
        for fd, sock in enumerate(theirs[:3]):
            os.dup2(sock.fileno(), fd)
        for sock in theirs[:3]:
            if sock.fileno() > 2:
                sock.close()
        code = runner.run(theirs[3].fileno())
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    except BaseException:
        traceback.print_exc()
        code = 125
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):  # nothing left to report it to
                stream.flush()
        os._exit(code)


def _spawn(theirs: list[socket.socket]) -> int:
    requests, stdout, stderr, logs = theirs
    os.set_inheritable(logs.fileno(), True)
    argv = [sys.executable, "-m", "slipstream.worker.runner", "--log-fd", str(logs.fileno())]
    return os.posix_spawn(
        sys.executable,
        argv,
        os.environ,
        file_actions=[
            (os.POSIX_SPAWN_DUP2, requests.fileno(), 0),
            (os.POSIX_SPAWN_DUP2, stdout.fileno(), 1),
            (os.POSIX_SPAWN_DUP2, stderr.fileno(), 2),
        ],
        setpgroup=0,
    )
