"""Drives Slipstream's Execution API with Airflow's own client (`airflow.sdk.api.client.Client`).

Runs under the Python of the separate Airflow venv (SLIPSTREAM_AIRFLOW_PYTHON), never in
Slipstream's. Input: one JSON object on stdin (`base_url`, the TIs to drive, `output`); what Airflow's
client saw is written as JSON to `output` (Airflow logs to stdout). The pytest side asserts
on it and on the store.
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from datetime import UTC, datetime


def main() -> None:
    spec = json.load(sys.stdin)
    from airflow.sdk.api.client import Client, ServerResponseError
    from airflow.sdk.exceptions import ErrorType
    from airflow.sdk.execution_time.comms import ErrorResponse

    base_url = spec["base_url"]
    out: dict = {}
    now = lambda: datetime.now(UTC)  # noqa: E731
    pid = os.getpid()

    # -- basic sequence: run, heartbeat, rtif, xcom set/get, variable, connection, success -------
    basic = spec["basic"]
    client = Client(base_url=base_url, token=basic["token"])
    ti_id = uuid.UUID(basic["ti_id"])
    context = client.task_instances.start(ti_id, pid, now())
    out["basic_context"] = json.loads(context.model_dump_json())
    out["basic_token_swapped"] = client.auth.token != basic["token"]
    client.task_instances.heartbeat(ti_id, pid)
    client.task_instances.set_rtif(ti_id, {"op_kwargs": "{'x': 1}", "templates_dict": None})
    d, r, t = basic["dag_id"], basic["run_id"], basic["task_id"]
    client.xcoms.set(d, r, t, "return_value", {"answer": 42, "list": [1, 2.5, "x"]})
    out["xcom_get"] = client.xcoms.get(d, r, t, "return_value").value
    out["xcom_missing"] = client.xcoms.get(d, r, t, "nope").value
    out["xcom_count"] = client.xcoms.head(d, r, t, "return_value").len
    variable = client.variables.get("greeting")
    out["variable"] = variable.value
    missing_variable = client.variables.get("no-such-variable")
    out["variable_missing"] = (
        isinstance(missing_variable, ErrorResponse) and missing_variable.error == ErrorType.VARIABLE_NOT_FOUND
    )
    client.variables.set("written/by/airflow", "yes", "set through Airflow's client")
    out["variable_written"] = client.variables.get("written/by/airflow").value
    out["variable_keys"] = client.variables.keys(prefix="written/").keys
    connection = client.connections.get("warehouse")
    out["connection"] = json.loads(connection.model_dump_json(by_alias=True))
    missing_connection = client.connections.get("nope")
    out["connection_missing"] = (
        isinstance(missing_connection, ErrorResponse)
        and missing_connection.error == ErrorType.CONNECTION_NOT_FOUND
    )
    try:
        Client(base_url=base_url, token=basic["token"]).task_instances.start(ti_id, pid + 1, now())
        out["second_start"] = "accepted"
    except Exception as exc:
        out["second_start"] = type(exc).__name__
    client.task_instances.succeed(ti_id, now(), task_outlets=[], outlet_events=[], rendered_map_index=None)
    try:
        client.task_instances.heartbeat(ti_id, pid)
        out["heartbeat_after_success"] = "accepted"
    except ServerResponseError as exc:
        out["heartbeat_after_success"] = [exc.response.status_code, exc.detail]

    # -- a failure that the server says to retry --------------------------------------------
    retry = spec["retry"]
    client = Client(base_url=base_url, token=retry["token"])
    context = client.task_instances.start(uuid.UUID(retry["ti_id"]), pid, now())
    out["retry_should_retry"] = context.should_retry
    client.task_instances.retry(
        uuid.UUID(retry["ti_id"]), now(), None, retry_delay_seconds=3.0, retry_reason="flaky"
    )

    # -- a failure with no retries left -------------------------------------------------------
    fail = spec["fail"]
    client = Client(base_url=base_url, token=fail["token"])
    context = client.task_instances.start(uuid.UUID(fail["ti_id"]), pid, now())
    out["fail_should_retry"] = context.should_retry
    client.task_instances.finish(uuid.UUID(fail["ti_id"]), "failed", now(), None)

    with open(spec["output"], "w") as handle:
        json.dump(out, handle)


if __name__ == "__main__":
    main()
