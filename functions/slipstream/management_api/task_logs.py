"""Reading a try's log from S3, where the worker ships it when the try ends.

The key scheme is the worker's (`slipstream.worker.logs.log_key`, the one place that writes
logs). A Lambda response is capped at 6 MB, so a larger log is sent from its end: the last lines
are the ones that say why a task failed.
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from slipstream.core import aws
from slipstream.core.settings import get_settings
from slipstream.store.errors import NotFound

MAX_BYTES = 4 * 1024 * 1024


class LogNotFound(NotFound):
    def __init__(self, task_id: str, try_number: int) -> None:
        super().__init__(f"No log of try {try_number} of task '{task_id}' (not run, or not shipped yet)")


def log_key(dag_id: str, run_id: str, task_id: str, map_index: int, try_number: int) -> str:
    return (
        f"logs/dag_id={dag_id}/run_id={run_id}/task_id={task_id}"
        f"/map_index={map_index}/attempt={try_number}.log"
    )


def read_log(dag_id: str, run_id: str, task_id: str, map_index: int, try_number: int) -> tuple[str, bool]:
    """The log text (at most its last MAX_BYTES) and whether it was cut."""
    client = aws.s3()
    try:
        response = client.get_object(
            Bucket=get_settings().bucket_name,
            Key=log_key(dag_id, run_id, task_id, map_index, try_number),
            Range=f"bytes=-{MAX_BYTES}",
        )
    except client.exceptions.NoSuchKey:
        raise LogNotFound(task_id, try_number) from None
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        if code == "InvalidRange":  # an empty log
            return "", False
        if code == "404":  # S3 answers some keys (a NUL in an id) with a bare 404, no NoSuchKey
            raise LogNotFound(task_id, try_number) from None
        raise
    body = response["Body"].read()
    total = int(response.get("ContentRange", "").rpartition("/")[2] or len(body))
    return body.decode("utf-8", errors="replace"), total > len(body)
