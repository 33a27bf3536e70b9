"""The Task Runner: the process that runs one try of user code.

It starts as a fork of the warm Supervisor (or as `python -m slipstream.worker.runner --log-fd N`)
with the requests channel on fd 0, its stdout/stderr captured into the task log and the log
channel on fd N (see `comms`). It has no API token and makes no HTTP call: everything goes
through the Supervisor.

One try: import the DAG file (while the Supervisor's `/run` is in flight: `PreloadDagFile` names
it), read `StartupDetails`, clear the XComs the server lists, render templated fields (sent as
`SetRenderedFields` when something rendered), run the task and push its return value as the
`return_value` XCom, then report exactly one outcome: `SucceedTask`, `RetryTask` (if the server
said `should_retry`), or `TaskState` failed / skipped. A runner that dies before reporting is
reported by the Supervisor instead.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from pydantic import BaseModel, JsonValue

from slipstream.sdk import _runtime
from slipstream.sdk._baseoperator import BaseOperator
from slipstream.sdk._context import activate, build_context
from slipstream.sdk._dag import DAG
from slipstream.sdk._exceptions import AirflowFailException, AirflowSkipException, AirflowTaskTerminated
from slipstream.sdk._loader import load_dags
from slipstream.worker.comms import RunnerChannel
from slipstream.worker.logs import RunnerLogHandler
from slipstream.worker.messages import (
    DeleteXCom,
    PreloadDagFile,
    RetryTask,
    SetExecutionTimeout,
    SetRenderedFields,
    StartupDetails,
    SucceedTask,
    TaskState,
)
from slipstream.worker.models import AssetProfile, TerminalStateNonSuccess
from slipstream.worker.settings import get_settings

log = logging.getLogger("slipstream.runner")


class _ShieldedChannel:
    """Defers SIGTERM while a request is in flight, so the exception it raises in task code can
    never leave a half-sent frame or an unread answer on the channel."""

    def __init__(self, channel: RunnerChannel) -> None:
        self._channel = channel

    def request(self, message: BaseModel) -> Any:
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
        try:
            return self._channel.request(message)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _terminate(signum: int, frame: FrameType | None) -> None:
    # Once: the try's report must not be interrupted by a second SIGTERM (SIGKILL follows anyway).
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise AirflowTaskTerminated("the task was stopped by its Supervisor (SIGTERM)")


def _setup_process(log_fd: int) -> None:
    """Fresh stdio and logging: a forked runner must not reuse the Supervisor's buffers/handlers."""
    sys.stdin = open(os.devnull, encoding="utf-8")  # noqa: SIM115 - fd 0 is the requests channel
    sys.stdout = open(1, "w", buffering=1, encoding="utf-8", errors="backslashreplace", closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", buffering=1, encoding="utf-8", errors="backslashreplace", closefd=False)  # noqa: SIM115
    logging.root.handlers = [RunnerLogHandler(log_fd)]
    logging.root.setLevel(logging.INFO)
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, signal.default_int_handler)


def dag_file(bundle_name: str, dag_rel_path: str) -> Path | None:
    """Where a workload's DAG file is; None if its bundle is not configured (reported later)."""
    try:
        return get_settings().bundle_path(bundle_name) / dag_rel_path
    except LookupError:
        return None


class _Preloaded:
    """The DAG file imported before `StartupDetails` arrives; an import error is kept and raised
    when the task is looked up, so it is reported as the try's failure."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._dags: dict[str, DAG] | None = None
        self._error: Exception | None = None
        if path is not None:
            try:
                self._dags = load_dags(path)
            except Exception as exc:
                self._error = exc

    def dags(self, path: Path) -> dict[str, DAG]:
        if path != self.path:
            return load_dags(path)
        if self._error is not None:
            raise self._error
        assert self._dags is not None
        return self._dags


def _load_task(startup: StartupDetails, preloaded: _Preloaded) -> BaseOperator:
    path = get_settings().bundle_path(startup.bundle_info.name) / startup.dag_rel_path
    dags = preloaded.dags(path)
    dag_id, task_id = startup.ti.dag_id, startup.ti.task_id
    if dag_id not in dags:
        raise LookupError(f"DAG {dag_id!r} not found in {startup.dag_rel_path}")
    if task_id not in dags[dag_id].task_dict:
        raise LookupError(f"task {task_id!r} not found in DAG {dag_id!r}")
    return dags[dag_id].task_dict[task_id]


def _display(value: Any) -> JsonValue:
    """Rendered fields are for display only: anything that is not JSON is shown as its str()."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list | tuple | set):
        return [_display(item) for item in value]
    if isinstance(value, dict):
        return {str(k): _display(v) for k, v in value.items()}
    return str(value)


def _now() -> datetime:
    return datetime.now(UTC)


def _execute(startup: StartupDetails, preloaded: _Preloaded) -> BaseModel:
    """Run the task; returns its success report (failures raise)."""
    ti, run_context = startup.ti, startup.ti_context
    for key in run_context.xcom_keys_to_clear:
        _runtime.request(
            DeleteXCom(
                key=key, dag_id=ti.dag_id, run_id=ti.run_id, task_id=ti.task_id, map_index=ti.map_index
            )
        )
    task = _load_task(startup, preloaded)
    context = build_context(ti, task, run_context)
    activate(context)
    rendered = {name: _display(value) for name, value in task.render_template_fields(context).items()}
    if any(value not in (None, "", [], {}) for value in rendered.values()):
        _runtime.request(SetRenderedFields(rendered_fields=rendered))
    if task.execution_timeout is not None:
        _runtime.request(SetExecutionTimeout(seconds=task.execution_timeout.total_seconds()))
    result = task.execute(context)
    if result is not None:
        context["ti"].xcom_push("return_value", result)
    return SucceedTask(
        end_date=_now(),
        task_outlets=[AssetProfile(name=a.name, uri=a.uri, type="Asset") for a in task.outlets],
    )


def _failure(exc: Exception, should_retry: bool) -> BaseModel:
    if isinstance(exc, AirflowSkipException):
        log.info("Task skipped: %s", exc)
        return TaskState(state=TerminalStateNonSuccess.SKIPPED, end_date=_now())
    log.error("Task failed", exc_info=exc)
    if should_retry and not isinstance(exc, AirflowFailException):
        return RetryTask(end_date=_now(), retry_reason=f"{type(exc).__name__}: {exc}"[:500])
    return TaskState(state=TerminalStateNonSuccess.FAILED, end_date=_now())


def run(log_fd: int) -> int:
    """One try, start to report; returns the exit code. `SystemExit` and `KeyboardInterrupt`
    from task code propagate: the process then ends unreported and the Supervisor reports it."""
    _setup_process(log_fd)
    raw = RunnerChannel(socket.socket(fileno=0))
    preloaded = _Preloaded(None)
    startup = raw.read_pushed()
    if isinstance(startup, PreloadDagFile):
        preloaded = _Preloaded(None if startup.path is None else Path(startup.path))
        startup = raw.read_pushed()
    if not isinstance(startup, StartupDetails):
        raise RuntimeError(f"expected StartupDetails, got {startup.type}")
    channel = _ShieldedChannel(raw)
    _runtime.install(channel)
    try:
        outcome = _execute(startup, preloaded)
    except Exception as exc:
        outcome = _failure(exc, startup.ti_context.should_retry)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    channel.request(outcome)
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description="Slipstream Task Runner (started by the Supervisor)")
    parser.add_argument("--log-fd", type=int, required=True)
    args = parser.parse_args()
    sys.exit(run(args.log_fd))


if __name__ == "__main__":
    main()
