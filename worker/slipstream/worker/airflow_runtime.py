"""`slipstream worker --runtime airflow`: one try run by Airflow's own task runtime.

The try is `python -m airflow.sdk.execution_time.execute_workload --json-path <workload>` under
`SLIPSTREAM_AIRFLOW_PYTHON`, a venv of its own, so Airflow's packages never enter Slipstream's.
Airflow's Supervisor then does all of a try's Execution API work itself (`/run`, heartbeats, the
task's requests, the outcome), with the settings below mapped from the worker's `SLIPSTREAM_*`
ones. `AIRFLOW__*` variables already in the worker's environment win over the mapped values.

Slipstream keeps what is the worker's:

- The queue. Airflow's process calls `/run` and tells nobody, so the try settles its message when
  that process exits: by then `/run` has answered (and the outcome is on the server), or it was
  never reached, and then the server's queued-resend timer sends the workload again. The worker
  keeps the message invisible while the process runs (see `slipstream.worker.worker`).
- Shutdown. SIGTERM is forwarded to Airflow's Supervisor, which forwards it to the task
  (`on_kill`); `kill_grace` later the Supervisor is killed. A try that ends that way is left to
  the server's heartbeat timeout, as Airflow leaves it to its scheduler.
- Logs. `execute_workload` logs JSON lines to stdout, its Supervisor's and the task's records
  alike; each becomes a record of the per-try log, shipped to S3 like any other. Airflow's own
  copy (`AIRFLOW__LOGGING__BASE_LOG_FOLDER`) goes to a scratch folder that dies with the try.
"""

from __future__ import annotations

import json
import math
import os
import selectors
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType

from slipstream.worker.logs import LogShipper, TaskLog, try_log
from slipstream.worker.models import ExecuteTask
from slipstream.worker.settings import WorkerSettings
from slipstream.worker.supervisor import _CHUNK, _Lines

ENTRY_POINT = "airflow.sdk.execution_time.execute_workload"
LOCAL_BUNDLE = "airflow.dag_processing.bundles.local.LocalDagBundle"


def airflow_environment(settings: WorkerSettings, home: Path) -> dict[str, str]:
    """The environment of `execute_workload` (spec §9.3): the worker's, plus Airflow's settings
    derived from Slipstream's where Airflow's are not set."""
    bundles = [
        {"name": name, "classpath": LOCAL_BUNDLE, "kwargs": {"path": str(folder.resolve())}}
        for name, folder in settings.bundles.items()
    ]
    derived = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": settings.execution_api_url,
        "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST": json.dumps(bundles),
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT": str(settings.api_timeout),
        "AIRFLOW__WORKERS__EXECUTION_API_RETRIES": str(settings.api_retries),
        "AIRFLOW__WORKERS__EXECUTION_API_RETRY_WAIT_MIN": str(settings.api_retry_wait_min),
        "AIRFLOW__WORKERS__EXECUTION_API_RETRY_WAIT_MAX": str(settings.api_retry_wait_max),
        "AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL": str(max(1, round(settings.heartbeat_interval))),
        "AIRFLOW__WORKERS__MAX_FAILED_HEARTBEATS": str(settings.max_failed_heartbeats),
        "AIRFLOW__CORE__TASK_SUCCESS_OVERTIME": str(settings.success_overtime),
    }
    return derived | dict(os.environ)


def _forward_signals(process: subprocess.Popen[bytes], grace: float) -> None:
    """SIGTERM/SIGINT go on to Airflow's Supervisor; SIGKILL follows `grace` seconds after the
    first one if it is still alive."""

    def kill(signum: int, frame: FrameType | None) -> None:
        if process.poll() is None:
            process.kill()

    def forward(signum: int, frame: FrameType | None) -> None:
        if process.poll() is None:
            process.send_signal(signum)
            if signal.getsignal(signal.SIGALRM) is not kill:
                signal.signal(signal.SIGALRM, kill)
                signal.alarm(max(1, math.ceil(grace)))

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, forward)


def _copy_output(process: subprocess.Popen[bytes], log: TaskLog) -> None:
    """Until both streams end: stdout's JSON records as they are, stderr's lines (what escapes
    Airflow's logging: interpreter errors, a crash's traceback) as `task.stderr` errors."""
    assert process.stdout is not None
    assert process.stderr is not None
    sinks = {
        process.stdout.fileno(): _Lines(log.record),
        process.stderr.fileno(): _Lines(lambda line: log.line(line, "task.stderr")),
    }
    with selectors.DefaultSelector() as selector:
        for fd in sinks:
            selector.register(fd, selectors.EVENT_READ)
        while selector.get_map():
            for key, _ in selector.select():
                data = os.read(key.fd, _CHUNK)
                if data:
                    sinks[key.fd].feed(data)
                else:
                    sinks[key.fd].close()
                    selector.unregister(key.fd)


def run_airflow_try(
    workload: ExecuteTask,
    settings: WorkerSettings,
    *,
    shipper: LogShipper | None = None,
    on_exit: Callable[[], None] | None = None,
    handle_signals: bool = False,
    received_at: float | None = None,
) -> int:
    """Run one try in Airflow's task runtime to the end; returns `execute_workload`'s exit code
    (0 even for a failed task: Airflow has reported it). `on_exit` is called once the process is
    gone, when the worker may delete the message; the try's duration starts at `received_at`
    (`time.monotonic()` of the message's receipt) if given."""
    if settings.airflow_python is None:
        raise RuntimeError("runtime `airflow` needs SLIPSTREAM_AIRFLOW_PYTHON (a venv with the Task SDK)")
    if shipper is None and settings.bucket_name:
        shipper = LogShipper(settings.bucket_name)
    started = time.monotonic() if received_at is None else received_at
    with try_log(settings.worker_log_dir, workload.ti, shipper) as log:
        with tempfile.TemporaryDirectory(prefix="slipstream-airflow-") as scratch:
            home = Path(scratch)
            # A file, not --json-string: the workload token must not show in `ps`.
            workload_file = home / "workload.json"
            workload_file.write_text(workload.model_dump_json())
            process = subprocess.Popen(
                [str(settings.airflow_python), "-m", ENTRY_POINT, "--json-path", str(workload_file)],
                env=airflow_environment(settings, home),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            if handle_signals:
                _forward_signals(process, settings.kill_grace)
            _copy_output(process, log)
            code = process.wait()
        if on_exit:
            on_exit()
        log.event(
            "Try finished",
            runtime="airflow",
            exit_code=code,
            duration=round(time.monotonic() - started, 4),
            level="info" if code == 0 else "error",
        )
        return code
