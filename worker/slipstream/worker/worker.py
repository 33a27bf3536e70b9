"""`slipstream worker`: take `ExecuteTask` workloads from SQS and supervise them, N at a time.

The worker process stays single-threaded and warm (SDK, Supervisor and Runner code imported once)
and forks one process per try that runs `supervise()`; that process forks the Task Runner in turn.
Two cheap forks per try instead of a fresh interpreter, and a try that brings its Supervisor down
cannot take the worker or the other tries with it. No threads: forking a threaded process risks
copying a lock another thread holds.

Both forks happen before the message they serve arrives: the worker keeps one spare try process,
its Supervisor made (runner started, API client built), waiting for a message on a pipe. A message
goes to the spare (the message's receipt time with it: the try's durations start there) and the
worker forks the next spare, so a try starts with no fork on its way to `/run`. Messages beyond
the spare (a batch) get a fresh one each.

A message is deleted once `/run` has answered for it (started; or 404/409: the TI is gone, already
finished, or running elsewhere). Until then the worker keeps it invisible, renewing a `_LEASE`
while the try's process lives; it comes back `_RETRY_AFTER` seconds after a try that ended without
an answer (the API unreachable beyond the client's retries), or after the queue's visibility
timeout if this worker dies. So a queue needs a redrive policy for workloads that can never start.
With `--runtime airflow`, Airflow's process makes the `/run` call, and its exit stands for the
answer (see `slipstream.worker.airflow_runtime`).

SIGTERM (ECS stopping the task) or SIGINT: stop receiving, give running tries
`SLIPSTREAM_WORKER_GRACE` seconds, then SIGTERM their Supervisors, which stop their runners and
report `up_for_retry`.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import selectors
import signal
import struct
import sys
import time
import traceback
from dataclasses import dataclass
from types import FrameType
from typing import TYPE_CHECKING

from pydantic import ValidationError

from slipstream.worker.airflow_runtime import run_airflow_try
from slipstream.worker.logs import LogShipper
from slipstream.worker.models import ExecuteTask
from slipstream.worker.runner_process import start_runner
from slipstream.worker.settings import WorkerSettings
from slipstream.worker.supervisor import Supervisor, prepare, supervise

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef

"""SQS's longest wait; split between the queues when the worker is idle."""
_LEASE = 120
"""Seconds of invisibility a renewal gives a message whose try has not settled it yet; renewed at
half-time, so the queue's own visibility timeout must be at least half of it."""
_RETRY_AFTER = 10
"""Seconds until a message whose `/run` got no answer is delivered again; without this it would wait
out the queue's visibility timeout (300 s), long after the API is back."""


_RECEIVED_AT = struct.Struct("d")
"""Prefix of what a spare reads: the message's `time.monotonic()` receipt, then its body."""


@dataclass
class _Spare:
    """A try process waiting for its message."""

    pid: int
    message: int
    """Write end of the pipe the spare reads its message from (to EOF)."""
    answered: int
    """Read end of the pipe the try's process writes to once `/run` has answered."""


@dataclass
class _Try:
    queue_url: str
    receipt: str
    answered: int
    """Read end of the pipe the try's process writes to once `/run` has answered."""
    renew_at: float


def _say(event: str, **fields: object) -> None:
    print(json.dumps({"event": event, "logger": "slipstream.worker", **fields}, default=str), flush=True)


class Worker:
    def __init__(self, settings: WorkerSettings, queues: list[str], parallelism: int) -> None:
        import boto3

        self._settings = settings
        self._parallelism = parallelism
        self._sqs: SQSClient = boto3.session.Session().client("sqs")
        self._queue_urls = [
            q if "://" in q else self._sqs.get_queue_url(QueueName=q)["QueueUrl"] for q in queues
        ]
        self._shipper = LogShipper(settings.bucket_name) if settings.bucket_name else None
        self._selector = selectors.DefaultSelector()
        self._tries: dict[int, _Try] = {}
        self._spare: _Spare | None = None
        self._stop_requested_at: float | None = None
        self._tries_stopped = False
        self._next_queue = 0
        prepare(settings)

    def _stopping(self) -> bool:
        return self._stop_requested_at is not None

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self._stop_requested_at is None:
            self._stop_requested_at = time.monotonic()

    def run(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._on_signal)
        # Everything imported so far is permanent: keep the collector from dirtying (and so
        # copying) those pages in every forked try.
        gc.freeze()
        _say("Worker started", queues=self._queue_urls, parallelism=self._parallelism, pid=os.getpid())
        while self._stop_requested_at is None or self._tries:
            if self._stop_requested_at is None and self._spare is None:
                self._spare = self._fork_try_process()
            if self._stop_requested_at is None and len(self._tries) < self._parallelism:
                received = self._receive()
                if self._stopping():  # during the poll: what it brought is another worker's at once
                    for queue_url, message in received:
                        self._hand_back(queue_url, message["ReceiptHandle"], after=0)
                else:
                    for item in received:
                        self._start(item)
            else:
                self._wait(0.5)
            self._collect()
            if self._stop_requested_at is not None:
                self._retire_spare()
                self._enforce_grace()
        _say("Worker stopped")

    # --- queue ------------------------------------------------------------------------------

    def _receive(self) -> list[tuple[str, MessageTypeDef]]:
        """Messages from the next queue in turn: a short wait while tries run (their `/run`
        answers must not wait for a long poll), a long one when idle."""
        queue_url = self._queue_urls[self._next_queue]
        self._next_queue = (self._next_queue + 1) % len(self._queue_urls)
        wait = 1 if self._tries else max(1, self._settings.worker_poll_seconds // len(self._queue_urls))
        try:
            response = self._sqs.receive_message(
                QueueUrl=queue_url,
                MaxNumberOfMessages=min(10, self._parallelism - len(self._tries)),
                WaitTimeSeconds=wait,
            )
        except Exception as exc:
            _say("Could not receive from SQS", level="error", queue_url=queue_url, error=repr(exc))
            time.sleep(1)
            return []
        return [(queue_url, message) for message in response.get("Messages", [])]

    def _start(self, item: tuple[str, MessageTypeDef]) -> None:
        received_at = time.monotonic()
        queue_url, message = item
        try:
            ExecuteTask.model_validate_json(message["Body"])
        except (ValidationError, KeyError):
            # Left in the queue: the redrive policy moves it aside after maxReceiveCount.
            _say("Not an ExecuteTask workload", level="error", message_id=message.get("MessageId"))
            return
        data = _RECEIVED_AT.pack(received_at) + message["Body"].encode()
        spare, self._spare = self._spare, None
        if spare is None or not _hand_over(spare, data):
            spare = self._fork_try_process()  # a batch beyond the spare, or the spare died idle
            if not _hand_over(spare, data):  # it died at once (its runner could not start)
                self._hand_back(queue_url, message["ReceiptHandle"])
                return
        self._tries[spare.pid] = _Try(
            queue_url, message["ReceiptHandle"], spare.answered, received_at + _LEASE / 2
        )
        self._selector.register(spare.answered, selectors.EVENT_READ, spare.pid)

    def _fork_try_process(self) -> _Spare:
        message_read, message_write = os.pipe()
        answered_read, answered_write = os.pipe()
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:
            os.close(message_write)
            os.close(answered_read)
            self._serve_one_try(message_read, answered_write)
        os.close(message_read)
        os.close(answered_write)
        return _Spare(pid, message_write, answered_read)

    def _retire_spare(self) -> None:
        """Close the spare's message pipe: it reads EOF, stops its runner and exits."""
        if self._spare is not None:
            os.close(self._spare.message)
            os.close(self._spare.answered)
            self._spare = None

    def _serve_one_try(self, message: int, answered: int) -> None:
        """The forked try process: make its Supervisor, wait for the message, run its try; never
        returns into the worker's loop."""
        code = 0
        supervisor: Supervisor | None = None
        try:
            if self._settings.worker_runtime == "slipstream":
                runner = start_runner(self._settings.runner_start, close_fds=(message, answered))
                supervisor = Supervisor(self._settings, runner)
            with open(message, "rb") as pipe:
                data = pipe.read()
            if not data:  # retired: the worker is stopping
                if supervisor is not None:
                    supervisor.discard()
                return
            (received_at,) = _RECEIVED_AT.unpack_from(data)
            workload = ExecuteTask.model_validate_json(data[_RECEIVED_AT.size :])
            code = self._supervise(workload, answered, supervisor, received_at)
        except BaseException:
            traceback.print_exc()
            code = 1
        finally:
            os._exit(code)

    def _supervise(
        self, workload: ExecuteTask, answered: int, supervisor: Supervisor | None, received_at: float
    ) -> int:
        """Run the try; the try process's exit code."""

        def on_run_answered() -> None:
            os.write(answered, b"1")

        if self._settings.worker_runtime == "airflow":
            exit_code = run_airflow_try(
                workload,
                self._settings,
                shipper=self._shipper,
                on_exit=on_run_answered,
                handle_signals=True,
                received_at=received_at,
            )
            return 1 if exit_code else 0
        supervise(
            workload,
            self._settings,
            shipper=self._shipper,
            on_run_answered=on_run_answered,
            handle_signals=True,
            supervisor=supervisor,
            received_at=received_at,
        )
        return 0

    def _delete(self, attempt: _Try) -> None:
        try:
            self._sqs.delete_message(QueueUrl=attempt.queue_url, ReceiptHandle=attempt.receipt)
        except Exception as exc:
            _say("Could not delete a started workload's message", level="error", error=repr(exc))

    def _hand_back(self, queue_url: str, receipt: str, *, after: int = _RETRY_AFTER) -> None:
        """Make a message visible again `after` seconds from now."""
        try:
            self._sqs.change_message_visibility(
                QueueUrl=queue_url, ReceiptHandle=receipt, VisibilityTimeout=after
            )
        except Exception as exc:
            _say("Could not hand back an unstarted workload's message", level="error", error=repr(exc))

    # --- tries ------------------------------------------------------------------------------

    def _wait(self, timeout: float) -> None:
        if self._selector.get_map():
            self._selector.select(timeout)
        else:
            time.sleep(timeout)

    def _settle(self, attempt: _Try) -> None:
        """Delete the message if `/run` answered, else hand it back. Only called when the pipe has
        something to say (a byte, or EOF because the try's process exited), so the read never blocks."""
        if os.read(attempt.answered, 1):
            self._delete(attempt)
        else:
            self._hand_back(attempt.queue_url, attempt.receipt)
        self._selector.unregister(attempt.answered)
        os.close(attempt.answered)

    def _renew(self) -> None:
        """Keep the messages of unsettled tries invisible (a try's `/run` may take long to answer:
        API retries, or Airflow's runtime, which settles a message only when the try ends)."""
        now = time.monotonic()
        for attempt in self._tries.values():
            if attempt.renew_at > now or attempt.answered not in self._selector.get_map():
                continue
            attempt.renew_at = now + _LEASE / 2
            try:
                self._sqs.change_message_visibility(
                    QueueUrl=attempt.queue_url, ReceiptHandle=attempt.receipt, VisibilityTimeout=_LEASE
                )
            except Exception as exc:
                _say("Could not renew a message's invisibility", level="error", error=repr(exc))

    def _collect(self) -> None:
        for key, _ in self._selector.select(0):
            self._settle(self._tries[key.data])
        self._renew()
        while self._tries:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if self._spare is not None and pid == self._spare.pid:  # died idle
                _say("The spare try process died", level="error", pid=pid, status=status)
                self._retire_spare()
                continue
            attempt = self._tries.pop(pid, None)
            if attempt is None:  # a retired spare
                continue
            if attempt.answered in self._selector.get_map():
                self._settle(attempt)
            if os.waitstatus_to_exitcode(status):
                _say("A try's Supervisor failed", level="error", pid=pid, status=status)

    def _enforce_grace(self) -> None:
        assert self._stop_requested_at is not None
        if self._tries_stopped or time.monotonic() < self._stop_requested_at + self._settings.worker_grace:
            return
        self._tries_stopped = True
        _say("Grace period over: stopping running tries", tries=len(self._tries))
        for pid in self._tries:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)


def _hand_over(spare: _Spare, data: bytes) -> bool:
    """Write a message to `spare` and close the pipe; False if the spare is gone."""
    try:
        with open(spare.message, "wb") as pipe:
            pipe.write(data)
    except BrokenPipeError:
        os.close(spare.answered)
        return False
    return True
