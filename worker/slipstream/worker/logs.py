"""Task logs: both ends of the runner's log channel, the per-try log file, and its trip to S3.

Each try gets one file of JSON lines under `SLIPSTREAM_WORKER_LOG_DIR`, at the same relative path
as its S3 key, `logs/dag_id=<d>/run_id=<r>/task_id=<t>/map_index=<m>/attempt=<n>.log`. Every
record is also echoed to the container's stdout with the try's identity attached, so CloudWatch
and `docker logs` can be searched without opening the file. The file is shipped when the try
ends (log shipping never decides a task's state, so its failure is only logged).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from slipstream.worker.masking import Masker
from slipstream.worker.models import TaskInstance

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


def log_key(ti: TaskInstance) -> str:
    return (
        f"logs/dag_id={ti.dag_id}/run_id={ti.run_id}/task_id={ti.task_id}"
        f"/map_index={ti.map_index}/attempt={ti.try_number}.log"
    )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


RAW_LOGGER = "task.raw"
"""Logger of a line that reached the log channel without being a JSON record."""


class TaskLog:
    """One try's log file; records are dicts with at least `event`, `level` and `logger`."""

    def __init__(self, directory: Path, ti: TaskInstance, echo_fd: int | None = 1) -> None:
        self.key = log_key(ti)
        self.path = directory / self.key.removeprefix("logs/")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("a", encoding="utf-8")
        self._echo_fd = echo_fd
        self.masker = Masker()
        """Secrets the try's task may print: masked in every record written."""
        self._identity = {
            "ti_id": str(ti.id),
            "dag_id": ti.dag_id,
            "run_id": ti.run_id,
            "task_id": ti.task_id,
            "map_index": ti.map_index,
            "try_number": ti.try_number,
        }

    def write(self, record: dict[str, Any]) -> None:
        record = self.masker.redact(record)
        record.setdefault("timestamp", _now())
        self._file.write(json.dumps(record, default=str) + "\n")
        if self._echo_fd is not None:
            # One write(2) per line keeps lines from concurrent tries whole (up to PIPE_BUF).
            line = json.dumps(record | self._identity, default=str) + "\n"
            os.write(self._echo_fd, line.encode())

    def event(self, event: str, level: str = "info", **fields: Any) -> None:
        """A record from the Supervisor itself."""
        self.write({"event": event, "level": level, "logger": "slipstream.supervisor", **fields})

    def line(self, raw: bytes, logger: str) -> None:
        """A line the task printed (`task.stdout` / `task.stderr`)."""
        self.write(
            {
                "event": raw.decode("utf-8", "replace").rstrip("\r\n"),
                "level": "error" if logger == "task.stderr" else "info",
                "logger": logger,
            }
        )

    def record(self, raw: bytes) -> None:
        """A JSON record from the runner's log channel (kept as sent; wrapped if it is not JSON)."""
        try:
            record = json.loads(raw)
        except ValueError:
            record = None
        if not isinstance(record, dict):
            self.line(raw, RAW_LOGGER)
            return
        self.write(record)

    def close(self) -> None:
        self._file.close()


class LogShipper:
    """Uploads finished log files to S3.

    Built once in the worker before it forks a Supervisor per try: the client and its resolved
    credentials are inherited, and since the parent never sends a request with it, every fork
    starts with an empty connection pool of its own.
    """

    def __init__(self, bucket: str) -> None:
        import boto3

        session = boto3.session.Session()
        session.get_credentials()
        self.bucket = bucket
        self._s3: S3Client = session.client("s3")

    def ship(self, log: TaskLog) -> None:
        self._s3.put_object(
            Bucket=self.bucket,
            Key=log.key,
            Body=log.path.read_bytes(),
            ContentType="application/x-ndjson",
        )


@contextmanager
def try_log(directory: Path, ti: TaskInstance, shipper: LogShipper | None) -> Iterator[TaskLog]:
    """The try's log, closed and shipped to S3 (when a shipper is given) however the try ends.
    A failed upload is reported on stderr, never raised: the try's outcome is already settled."""
    log = TaskLog(directory, ti)
    try:
        yield log
    finally:
        log.close()
        if shipper is not None:
            try:
                shipper.ship(log)
            except Exception as exc:
                print(f"could not ship {log.key}: {exc!r}", file=sys.stderr)


class RunnerLogHandler(logging.Handler):
    """The runner's end of the log channel: one JSON record per line on the log fd."""

    def __init__(self, fd: int) -> None:
        super().__init__()
        self._fd = fd

    def emit(self, record: logging.LogRecord) -> None:
        try:
            out: dict[str, Any] = {
                "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat().replace("+00:00", "Z"),
                "level": record.levelname.lower(),
                "logger": record.name,
                "event": record.getMessage(),
            }
            if record.exc_info:
                out["error_detail"] = "".join(traceback.format_exception(*record.exc_info))
            data = (json.dumps(out, default=str) + "\n").encode()
            view = memoryview(data)
            while view:
                view = view[os.write(self._fd, view) :]
        except Exception:
            self.handleError(record)
