"""The Supervisor: runs one try of one task instance in a Task Runner and speaks for it to the API.

Sequence (the Execution API calls are in capitals):

1. Start the runner (fork of this warm process, or spawn) in its own process group, and build the
   API client: both before the try is known when a spare try process makes the Supervisor ahead
   (see `slipstream.worker.worker`). Once it is known, tell the runner the DAG file to import.
2. `PATCH /run` with the workload token, pid = the runner's. The answer's `Refreshed-API-Token`
   is the execution token used from then on. If `/run` fails the runner is SIGKILLed and nothing
   is reported (the error propagates to the caller).
3. Push `StartupDetails`, then serve the runner's requests (`comms`), turning each into an API
   call, while writing its stdout, stderr and log records to the task log.
4. `PUT /heartbeat` every `heartbeat_interval` until the runner reports an outcome. 404/409/410
   mean the server no longer wants this try: the runner is stopped and nothing more is reported.
   After `max_failed_heartbeats` failures in a row the runner is stopped too.
5. Stopping is SIGTERM to the process group (the runner turns it into `AirflowTaskTerminated`
   inside the task), then SIGKILL after `kill_grace`. Triggers: `execution_timeout`, heartbeat
   verdicts, a runner still alive `success_overtime` after its report, and worker shutdown.
6. After exit: a report whose API call failed is replayed once; a runner that never reported
   (signal, OOM, `sys.exit`) is reported `up_for_retry` if the server said `should_retry`, else
   `failed`. Unlike Airflow, which leaves that case to the scheduler's zombie detection, we
   report it at once. A stop for worker shutdown always ends as `up_for_retry`: the try did not
   fail on its own.

Outcomes go to the API as soon as the runner sends them (Airflow defers failed/skipped until the
runner exits so callbacks can run first; Slipstream runs no callbacks after the report).
"""

from __future__ import annotations

import contextlib
import enum
import getpass
import os
import selectors
import signal
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

from pydantic import BaseModel

from slipstream.worker import runner
from slipstream.worker.client import Client, ServerResponseError
from slipstream.worker.comms import FrameBuffer, _Frame, decode_request, encode_frame
from slipstream.worker.logs import LogShipper, TaskLog, try_log
from slipstream.worker.messages import (
    ConnectionResult,
    DeleteXCom,
    ErrorResponse,
    ErrorType,
    GetConnection,
    GetVariable,
    GetXCom,
    PreloadDagFile,
    PutVariable,
    RetryTask,
    SetExecutionTimeout,
    SetRenderedFields,
    SetXCom,
    SkipDownstreamTasks,
    StartupDetails,
    SucceedTask,
    TaskState,
    ToSupervisor,
    VariableResult,
    XComResult,
)
from slipstream.worker.models import (
    ExecuteTask,
    TerminalStateNonSuccess,
    TIEnterRunningPayload,
    TIHeartbeatInfo,
    TIRetryStatePayload,
    TIStateUpdate,
    TITerminalStatePayload,
    VariablePostBody,
)
from slipstream.worker.runner_process import RunnerProcess, start_runner
from slipstream.worker.settings import WorkerSettings, get_settings

_CHUNK = 65536
_MAX_LINE = 65536
_RUN_ANSWERED = (404, 409)
"""`/run` answers that settle the workload for good: gone, or running/finished elsewhere."""


class StopReason(enum.Enum):
    EXECUTION_TIMEOUT = "execution_timeout exceeded"
    SERVER_TERMINATED = "the server says this try must stop"
    HEARTBEAT_FAILURES = "too many failed heartbeats"
    OVERTIME = "the runner outlived its report by success_overtime"
    SHUTDOWN = "the worker is shutting down"


@dataclass(frozen=True)
class Outcome:
    """How a try ended, as far as this worker knows."""

    state: str | None
    """The state the API took from this try (None if none: the server stopped the try, or refused
    or never received the report)."""
    exit_code: int | None
    """The runner's exit code; negative for a signal."""
    http_calls: dict[str, int]
    """Execution API requests this try cost, by endpoint (retries included)."""
    duration: float
    """Seconds from the start (the message's receipt, when the worker gives it) to the end of
    supervision."""
    reported_after: float | None
    """Seconds from the start until the API took the try's outcome ("success written"); None if
    it never did."""
    http_seconds: float
    """Seconds of `duration` spent waiting on Execution API requests (what is left is the worker's own)."""


@cache
def _hostname(configured: str) -> str:
    return configured or socket.getfqdn()


@cache
def _unixname() -> str:
    return getpass.getuser()


def _now() -> datetime:
    return datetime.now(UTC)


class _Lines:
    """Splits a byte stream into lines; overlong lines are cut so memory stays bounded."""

    def __init__(self, emit: Callable[[bytes], None]) -> None:
        self._emit = emit
        self._buf = b""

    def feed(self, data: bytes) -> None:
        *lines, self._buf = (self._buf + data).split(b"\n")
        for line in lines:
            self._emit(line)
        while len(self._buf) > _MAX_LINE:
            self._emit(self._buf[:_MAX_LINE])
            self._buf = self._buf[_MAX_LINE:]

    def close(self) -> None:
        if self._buf:
            self._emit(self._buf)
            self._buf = b""


def _recv(sock: socket.socket) -> bytes:
    """What is available on `sock`; b"" once the runner's end is gone (closed or reset)."""
    try:
        return sock.recv(_CHUNK)
    except ConnectionResetError:
        return b""


class Supervisor:
    """One try's Supervisor. It is made before its try is known (a spare try process makes it
    while it waits for a message): the runner started, the API client and the channels' selector
    ready. `run()` then supervises the try it is given."""

    _workload: ExecuteTask
    _ti_id: str
    _log: TaskLog

    def __init__(self, settings: WorkerSettings, runner: RunnerProcess | None = None) -> None:
        self._settings = settings
        self._client = Client(settings, token="")
        self._selector = selectors.DefaultSelector()
        self._frames = FrameBuffer()
        self._started = 0.0
        self._reported_after: float | None = None
        self._pidfd: int | None = None
        self._exit_code: int | None = None
        self._exited_at = 0.0
        self._should_retry = False
        self._next_heartbeat = 0.0
        self._failed_heartbeats = 0
        self._timeout_at: float | None = None
        self._reported_at: float | None = None
        self._kill_at: float | None = None
        self._stop_reason: StopReason | None = None
        self._state: str | None = None
        self._pending: TIStateUpdate | None = None
        self._wakeup: int | None = None
        self._runner = runner or start_runner(settings.runner_start)
        self._watch_channels()

    def discard(self) -> None:
        """No try came (the worker is stopping): kill the runner, free the rest."""
        self._runner.discard()
        self._client.close()
        self._selector.close()

    # --- process control --------------------------------------------------------------------

    def _watch_channels(self) -> None:
        """Watch the runner's channels; nothing is read from them before `run()` has its log."""
        process = self._runner
        self._watch(process.requests, self._read_requests)
        for sock, sink in (
            (process.stdout, _Lines(lambda line: self._log.line(line, "task.stdout"))),
            (process.stderr, _Lines(lambda line: self._log.line(line, "task.stderr"))),
            (process.logs, _Lines(lambda line: self._log.record(line))),
        ):
            self._watch(sock, self._reader(sock, sink))
        if hasattr(os, "pidfd_open"):
            self._pidfd = os.pidfd_open(process.pid)
            self._selector.register(self._pidfd, selectors.EVENT_READ, self._reap)

    def _signal(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._runner.pid, sig)

    def _stop(self, reason: StopReason) -> None:
        if self._stop_reason is not None or self._exit_code is not None:
            return
        self._stop_reason = reason
        self._log.event(f"Stopping the Task Runner: {reason.value}", level="warning", pid=self._runner.pid)
        self._signal(signal.SIGTERM)
        self._kill_at = time.monotonic() + self._settings.kill_grace

    def _reap(self) -> None:
        pid, status = os.waitpid(self._runner.pid, 0 if self._pidfd is not None else os.WNOHANG)
        if pid == 0:
            return
        self._exit_code = os.waitstatus_to_exitcode(status)
        self._exited_at = time.monotonic()
        if self._pidfd is not None:
            self._selector.unregister(self._pidfd)
            os.close(self._pidfd)
        self._log.event("Task Runner exited", exit_code=self._exit_code)

    # --- channels ---------------------------------------------------------------------------

    def _watch(self, sock: socket.socket, handler: Callable[[], None]) -> None:
        self._selector.register(sock, selectors.EVENT_READ, handler)

    def _unwatch(self, sock: socket.socket) -> None:
        self._selector.unregister(sock)
        sock.close()

    def _reader(self, sock: socket.socket, lines: _Lines) -> Callable[[], None]:
        def read() -> None:
            data = _recv(sock)
            if data:
                lines.feed(data)
            else:
                lines.close()
                self._unwatch(sock)

        return read

    def _read_requests(self) -> None:
        data = _recv(self._runner.requests)
        if not data:
            self._unwatch(self._runner.requests)
            return
        for frame in self._frames.feed(data):
            self._answer(frame)

    def _send(self, frame_id: int, body: BaseModel | None, error: ErrorResponse | None = None) -> None:
        with contextlib.suppress(OSError):  # the runner is gone: _reap handles its exit
            self._runner.requests.sendall(encode_frame(frame_id, body, error))

    def _answer(self, frame: _Frame) -> None:
        request = decode_request(frame)
        if isinstance(request, ErrorResponse):
            self._send(frame.id, None, request)
            return
        try:
            self._send(frame.id, self._handle(request))
        except ServerResponseError as exc:
            self._send(frame.id, None, _error_for(request, exc))
        except Exception as exc:
            self._log.event(f"{request.type} failed", level="error", error=repr(exc))
            detail = {"status_code": None, "message": str(exc), "exception_type": type(exc).__name__}
            self._send(frame.id, None, ErrorResponse(error=ErrorType.API_SERVER_ERROR, detail=detail))

    def _handle(self, request: ToSupervisor) -> BaseModel | None:
        client, ti_id = self._client, self._ti_id
        match request:
            case SucceedTask() | RetryTask() | TaskState():
                self._report(request)
            case SkipDownstreamTasks():
                client.skip_downstream(ti_id, request)
            case SetRenderedFields():
                try:
                    client.set_rtif(ti_id, request.rendered_fields)
                except ServerResponseError as exc:
                    if exc.status_code != 410:  # the try moved on; display data only
                        raise
            case SetExecutionTimeout():
                self._timeout_at = time.monotonic() + request.seconds
            case GetVariable():
                variable = client.get_variable(request.key)
                self._log.masker.variable(variable.key, variable.value)
                return VariableResult.model_validate(variable.model_dump())
            case PutVariable():
                self._log.masker.variable(request.key, request.value)
                body = VariablePostBody(val=request.value, description=request.description)
                client.put_variable(request.key, body)
            case GetConnection():
                connection = client.get_connection(request.conn_id)
                self._log.masker.connection(connection.password, connection.extra)
                return ConnectionResult.model_validate(connection.model_dump())
            case GetXCom():
                try:
                    xcom = client.get_xcom(
                        request.dag_id,
                        request.run_id,
                        request.task_id,
                        request.key,
                        request.map_index,
                        request.include_prior_dates,
                    )
                except ServerResponseError as exc:
                    if exc.status_code != 404:
                        raise
                    return XComResult(key=request.key, value=None)
                return XComResult(key=xcom.key, value=xcom.value)
            case SetXCom():
                client.set_xcom(
                    request.dag_id,
                    request.run_id,
                    request.task_id,
                    request.key,
                    request.value,
                    request.map_index,
                    request.mapped_length,
                )
            case DeleteXCom():
                client.delete_xcom(
                    request.dag_id, request.run_id, request.task_id, request.key, request.map_index
                )
        return None

    # --- outcome ----------------------------------------------------------------------------

    def _report(self, outcome: SucceedTask | RetryTask | TaskState) -> None:
        self._reported_at = time.monotonic()
        if self._stop_reason is StopReason.SERVER_TERMINATED:
            return
        payload: TIStateUpdate = outcome
        if self._stop_reason is StopReason.SHUTDOWN and not isinstance(outcome, SucceedTask):
            payload = TIRetryStatePayload(end_date=_now(), retry_reason=StopReason.SHUTDOWN.value)
        self._send_state(payload)

    def _send_state(self, payload: TIStateUpdate) -> None:
        """Report `payload`; the try's outcome is that state once the server took it."""
        self._pending = payload
        try:
            self._client.set_state(self._ti_id, payload)
        except ServerResponseError as exc:
            if exc.status_code < 500 and exc.status_code != 429:
                self._pending = None  # the server decided; replaying cannot change its mind
            raise
        self._pending = None
        self._state = payload.state.value
        if self._reported_after is None:
            self._reported_after = time.monotonic() - self._started

    def _finish(self) -> None:
        """Report what the runner could not (§6 of the module docstring)."""
        if self._stop_reason is StopReason.SERVER_TERMINATED:
            self._state = None
            return
        if self._pending is not None:
            payload, self._pending = self._pending, None
            self._log.event("Replaying the state report that failed", state=payload.state.value)
        elif self._reported_at is None:
            reason = f"Task Runner exited with code {self._exit_code} without reporting an outcome"
            if self._stop_reason is not None:
                reason = f"{reason} ({self._stop_reason.value})"
            self._log.event(reason, level="error")
            payload = (
                TIRetryStatePayload(end_date=_now(), retry_reason=reason[:500])
                if self._should_retry or self._stop_reason is StopReason.SHUTDOWN
                else TITerminalStatePayload(state=TerminalStateNonSuccess.FAILED, end_date=_now())
            )
        else:
            return
        try:
            self._send_state(payload)
        except Exception as exc:
            self._log.event("Could not report the state: the TI may be stuck", level="error", error=repr(exc))

    # --- main loop --------------------------------------------------------------------------

    def _heartbeat(self) -> None:
        try:
            self._client.heartbeat(
                self._ti_id,
                TIHeartbeatInfo(hostname=_hostname(self._settings.hostname), pid=self._runner.pid),
            )
        except ServerResponseError as exc:
            if exc.status_code in (404, 409, 410):
                self._log.event(
                    "Heartbeat refused", level="error", status_code=exc.status_code, detail=exc.detail
                )
                self._stop(StopReason.SERVER_TERMINATED)
                return
            self._heartbeat_failed(exc)
        except Exception as exc:
            self._heartbeat_failed(exc)
        else:
            self._failed_heartbeats = 0

    def _heartbeat_failed(self, exc: Exception) -> None:
        self._failed_heartbeats += 1
        self._log.event("Heartbeat failed", level="warning", count=self._failed_heartbeats, error=repr(exc))
        if self._failed_heartbeats >= self._settings.max_failed_heartbeats:
            self._stop(StopReason.HEARTBEAT_FAILURES)

    def _deadlines(self) -> list[float]:
        settings = self._settings
        if self._exit_code is not None:
            return [self._exited_at + settings.kill_grace]
        deadlines = [self._kill_at] if self._kill_at is not None else []
        if self._reported_at is not None:
            deadlines.append(self._reported_at + settings.success_overtime)
        elif self._stop_reason is None:
            deadlines.append(self._next_heartbeat)
            if self._timeout_at is not None:
                deadlines.append(self._timeout_at)
        return deadlines

    def _tick(self, now: float) -> None:
        if self._pidfd is None and self._exit_code is None:
            self._reap()
        if self._exit_code is not None:
            return
        if self._kill_at is not None and now >= self._kill_at:
            self._kill_at = None
            self._log.event("Task Runner ignored SIGTERM; sending SIGKILL", level="warning")
            self._signal(signal.SIGKILL)
        if self._stop_reason is not None:
            return
        if self._reported_at is not None:
            if now >= self._reported_at + self._settings.success_overtime:
                self._stop(StopReason.OVERTIME)
        elif self._timeout_at is not None and now >= self._timeout_at:
            self._stop(StopReason.EXECUTION_TIMEOUT)
        elif now >= self._next_heartbeat:
            self._heartbeat()
            self._next_heartbeat = time.monotonic() + self._settings.heartbeat_interval

    def _channels_open(self) -> bool:
        return any(key.fileobj is not self._wakeup for key in self._selector.get_map().values())

    def _monitor(self) -> None:
        self._next_heartbeat = time.monotonic() + self._settings.heartbeat_interval
        while self._exit_code is None or self._channels_open():
            now = time.monotonic()
            deadlines = self._deadlines()
            timeout = max(0.0, min(deadlines) - now) if deadlines else None
            if self._pidfd is None and self._exit_code is None:
                timeout = min(timeout or 0.05, 0.05)
            for key, _ in self._selector.select(timeout):
                key.data()
            now = time.monotonic()
            if self._exit_code is not None and now >= self._exited_at + self._settings.kill_grace:
                self._log.event("Closing channels still open after the runner exited", level="warning")
                break
            self._tick(now)

    def _on_signal(self) -> None:
        assert self._wakeup is not None
        signals = os.read(self._wakeup, 64)
        if {signal.SIGTERM, signal.SIGINT} & set(signals):
            self._stop(StopReason.SHUTDOWN)

    def handle_signals(self) -> None:
        """Turn SIGTERM/SIGINT into a shutdown stop (the worker's per-try process calls this)."""
        read, write = os.pipe()
        os.set_blocking(read, False)
        os.set_blocking(write, False)
        signal.set_wakeup_fd(write)
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: None)
        self._wakeup = read
        self._selector.register(read, selectors.EVENT_READ, self._on_signal)

    def run(
        self,
        workload: ExecuteTask,
        log: TaskLog,
        *,
        started: float | None = None,
        on_run_answered: Callable[[], None] | None = None,
    ) -> Outcome:
        """Supervise `workload`'s try to its end; its durations start at `started`
        (`time.monotonic()`, the message's receipt when the worker gives it) or now."""
        self._started = time.monotonic() if started is None else started
        self._workload, self._ti_id, self._log = workload, str(workload.ti.id), log
        self._client.token = workload.token
        dag_file = runner.dag_file(workload.bundle_info.name, workload.dag_rel_path)
        self._send(0, PreloadDagFile(path=None if dag_file is None else str(dag_file)))
        payload = TIEnterRunningPayload(
            hostname=_hostname(self._settings.hostname),
            unixname=_unixname(),
            pid=self._runner.pid,
            start_date=_now(),
        )
        try:
            context = self._client.run(self._ti_id, payload)
        except Exception as exc:
            self._log.event("PATCH /run failed; killing the Task Runner", level="error", error=repr(exc))
            self._signal(signal.SIGKILL)
            os.waitpid(self._runner.pid, 0)
            if on_run_answered and isinstance(exc, ServerResponseError) and exc.status_code in _RUN_ANSWERED:
                on_run_answered()
            raise
        if on_run_answered:
            on_run_answered()
        self._should_retry = context.should_retry
        startup = StartupDetails(
            ti=workload.ti,
            dag_rel_path=workload.dag_rel_path,
            bundle_info=workload.bundle_info,
            start_date=context.start_date or payload.start_date,
            ti_context=context,
            sentry_integration=workload.sentry_integration,
        )
        self._send(0, startup)
        try:
            self._monitor()
            self._finish()
        finally:
            self._client.close()
            self._selector.close()
        outcome = Outcome(
            self._state,
            self._exit_code,
            dict(self._client.calls),
            time.monotonic() - self._started,
            self._reported_after,
            self._client.http_seconds,
        )
        self._log.event(
            "Try finished",
            state=outcome.state,
            exit_code=outcome.exit_code,
            http_calls=outcome.http_calls,
            duration=round(outcome.duration, 4),
            reported_after=None if outcome.reported_after is None else round(outcome.reported_after, 4),
            http_seconds=round(outcome.http_seconds, 4),
        )
        return outcome


def _error_for(request: ToSupervisor, exc: ServerResponseError) -> ErrorResponse:
    """The protocol's error for an API error, with Airflow's typed not-found cases."""
    error = ErrorType.API_SERVER_ERROR
    if exc.status_code in (401, 403):
        error = ErrorType.PERMISSION_DENIED
    elif exc.status_code == 404 and isinstance(request, GetVariable):
        error = ErrorType.VARIABLE_NOT_FOUND
    elif exc.status_code == 404 and isinstance(request, GetConnection):
        error = ErrorType.CONNECTION_NOT_FOUND
    detail: dict[str, Any] = {"status_code": exc.status_code, "message": str(exc), "detail": exc.detail}
    return ErrorResponse(error=error, detail=detail)


def prepare(settings: WorkerSettings) -> None:
    """Pay a try's one-time costs (TLS context, httpx's lazy imports: about 40 ms; the host name
    lookup) once in the worker, before it forks, instead of in every forked try."""
    Client(settings, "").close()
    _hostname(settings.hostname)
    _unixname()


def supervise(
    workload: ExecuteTask,
    settings: WorkerSettings | None = None,
    *,
    shipper: LogShipper | None = None,
    on_run_answered: Callable[[], None] | None = None,
    handle_signals: bool = False,
    supervisor: Supervisor | None = None,
    received_at: float | None = None,
) -> Outcome:
    """Run one try of `workload` to the end and report it; returns how it ended.

    `on_run_answered` is called once `/run` has settled the workload (started, or 404/409): the
    worker deletes the queue message then. `/run` failures propagate as exceptions. `supervisor`
    is one made ahead (else one is made now); `received_at` (`time.monotonic()`) is when the
    workload's message arrived, where the try's durations start.
    """
    settings = settings or get_settings()
    if shipper is None and settings.bucket_name:
        shipper = LogShipper(settings.bucket_name)
    supervisor = supervisor or Supervisor(settings)
    with try_log(settings.worker_log_dir, workload.ti, shipper) as log:
        if handle_signals:
            supervisor.handle_signals()
        return supervisor.run(workload, log, started=received_at, on_run_answered=on_run_answered)
